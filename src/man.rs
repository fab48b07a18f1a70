//! Manual pages, generated: `ocf_aws_<agent>(7)` from each agent's
//! [`AgentSpec`] (the same parameter and action tables the meta-data XML is
//! written from) and `ocf-aws(8)` from the clap command of the human CLI.
//! Nothing here is written by hand per agent, so a page cannot drift from
//! what the agent really accepts.
//!
//! The agent pages follow the sections resource-agents' generated
//! `ocf_heartbeat_*(7)` pages have (NAME, SYNOPSIS, DESCRIPTION, SUPPORTED
//! PARAMETERS, SUPPORTED ACTIONS, EXAMPLE CRM SHELL, EXAMPLE PCS, SEE ALSO),
//! so they read like every other OCF agent's page.

use crate::agents;
use crate::ocf::{AgentSpec, Param};
use std::fmt::Write as _;
use std::path::Path;

/// The page name `ocf-aws man` accepts besides the agent names.
pub const CLI_PAGE: &str = "ocf-aws";

/// Where the packages install the agents and the examples; the pages name
/// these paths (ocf/install.sh and packaging/build.sh make them).
const AGENT_DIR: &str = "/usr/lib/ocf/resource.d/aws";
const EXAMPLES_DIR: &str = "/usr/share/doc/ocf-aws/crm-examples";

/// The clap definition of `ocf-aws man`, for `cli::command()`.
pub fn command() -> clap::Command {
    use clap::{Arg, ArgAction, Command};
    let mut pages: Vec<&'static str> = agents::ALL.iter().map(|a| a.name).collect();
    pages.push(CLI_PAGE);
    Command::new("man")
        .about("Print a manual page (roff), or write them all into a directory")
        .long_about(
            "Print the manual page of an agent (ocf-aws man vip prints ocf_aws_vip(7)) \
             or of this command (ocf-aws man ocf-aws prints ocf-aws(8)) as roff, \
             generated from the agent's parameter table; view it with \
             `ocf-aws man vip | man -l -`. With --all DIR, write every page into \
             DIR as <name>.<section>.",
        )
        .arg(
            Arg::new("page")
                .value_parser(clap::builder::PossibleValuesParser::new(pages))
                .required_unless_present_any(["all", "list"])
                .help("An agent (its page ocf_aws_<agent>(7)), or ocf-aws for ocf-aws(8)"),
        )
        .arg(
            Arg::new("all")
                .long("all")
                .value_name("DIR")
                .conflicts_with_all(["page", "list"])
                .help("Write every page into DIR (created if missing)"),
        )
        .arg(
            Arg::new("list")
                .long("list")
                .action(ArgAction::SetTrue)
                .conflicts_with("page")
                .help("Print the file name of every page, one per line"),
        )
}

/// `ocf-aws man ...` after clap parsed it; returns the exit code.
pub fn run(m: &clap::ArgMatches) -> i32 {
    if m.get_flag("list") {
        for (file, _) in all_pages() {
            println!("{file}");
        }
        return 0;
    }
    if let Some(dir) = m.get_one::<String>("all") {
        return match write_all(Path::new(dir)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("ocf-aws man: {dir}: {e}");
                1
            }
        };
    }
    let page = m
        .get_one::<String>("page")
        .map(String::as_str)
        .unwrap_or("");
    match render_page(page) {
        Some(roff) => {
            print!("{roff}");
            0
        }
        // clap already restricted the names; this is unreachable in practice.
        None => {
            eprintln!("ocf-aws man: no page '{page}'");
            crate::ocf::Rc::Args.code()
        }
    }
}

/// The page of an agent name (or `ocf_aws_<agent>`), or of `ocf-aws`.
pub fn render_page(page: &str) -> Option<String> {
    if page == CLI_PAGE {
        return Some(cli_page());
    }
    let agent = page.strip_prefix("ocf_aws_").unwrap_or(page);
    agents::find(agent).map(agent_page)
}

/// Every page as (file name, roff): `ocf_aws_<agent>.7` per agent and
/// `ocf-aws.8`.
pub fn all_pages() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = agents::ALL
        .iter()
        .map(|a| (format!("{}.7", page_name(a)), agent_page(a)))
        .collect();
    v.push((format!("{CLI_PAGE}.8"), cli_page()));
    v
}

fn write_all(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (file, roff) in all_pages() {
        std::fs::write(dir.join(&file), roff)?;
    }
    Ok(())
}

/// `ocf_aws_vip`: provider and agent, as resource-agents names its pages
/// (`ocf_heartbeat_IPaddr2`).
pub fn page_name(spec: &AgentSpec) -> String {
    format!("ocf_aws_{}", spec.name)
}

/// Text for roff: one input line per paragraph (whitespace collapsed, so a
/// description's own line breaks cannot start a roff request), backslashes
/// and hyphens escaped, a leading `.` or `'` neutralised, and characters
/// outside ASCII written as groff escapes so that the page renders the same
/// in any locale (`man` in the C locale uses the ASCII device).
pub fn esc(s: &str) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(flat.len() + 8);
    for c in flat.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            // Spaces are the only whitespace left after the collapse.
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c if c.is_control() => {}
            // Named glyphs the ASCII device has fallbacks for.
            '\u{2026}' => out.push_str("\\&..."),
            '\u{2192}' => out.push_str("\\(->"),
            '\u{2013}' => out.push_str("\\(en"),
            '\u{2014}' => out.push_str("\\(em"),
            '\u{2018}' => out.push_str("\\(oq"),
            '\u{2019}' => out.push_str("\\(cq"),
            '\u{201c}' => out.push_str("\\(lq"),
            '\u{201d}' => out.push_str("\\(rq"),
            c => {
                let _ = write!(out, "\\[u{:04X}]", c as u32);
            }
        }
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// `(unique, required, string, no default)` as resource-agents' pages say it.
pub fn param_summary(
    unique: bool,
    required: bool,
    content_type: &str,
    default: Option<&str>,
) -> String {
    let mut words = Vec::new();
    if unique {
        words.push("unique".to_string());
    }
    words.push(if required { "required" } else { "optional" }.to_string());
    words.push(content_type.to_string());
    words.push(match default {
        Some(d) => format!("default \"{d}\""),
        None => "no default".to_string(),
    });
    format!("({})", words.join(", "))
}

fn action_text(name: &str) -> &'static str {
    match name {
        "start" => "Starts the resource.",
        "stop" => "Stops the resource.",
        "monitor" => "Checks whether the resource runs on this node.",
        "validate-all" => "Checks the parameters.",
        "meta-data" => "Prints the agent's meta-data (XML).",
        "usage" => "Prints a usage line.",
        _ => "",
    }
}

/// The distinct action names in table order, then `usage`, which every
/// agent has but meta-data does not list.
fn action_names(spec: &AgentSpec) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for a in spec.actions {
        if !names.contains(&a.name) {
            names.push(a.name);
        }
    }
    if !names.contains(&"usage") {
        names.push("usage");
    }
    names
}

fn th(out: &mut String, title: &str, section: u8, manual: &str) {
    let _ = writeln!(
        out,
        ".TH \"{}\" \"{section}\" \"\" \"ocf\\-aws {}\" \"{manual}\"",
        esc(&title.to_uppercase()),
        esc(env!("CARGO_PKG_VERSION")),
    );
    // Ragged right, no hyphenation: parameter names and ids must stay whole.
    out.push_str(".nh\n.ad l\n");
}

/// A verbatim block (shell or crm commands).
fn example(out: &mut String, lines: &[String]) {
    out.push_str(".PP\n.RS 4\n.nf\n");
    for l in lines {
        // Leading spaces stay (no-fill mode keeps them); only escaping here.
        let indent = l.len() - l.trim_start().len();
        let _ = writeln!(out, "\\&{}{}", " ".repeat(indent), esc(l));
    }
    out.push_str(".fi\n.RE\n");
}

/// Operation lines from the action table: start, stop and every monitor
/// (deeper monitors with their OCF_CHECK_LEVEL, as Pacemaker takes it).
fn op_lines(spec: &AgentSpec) -> Vec<String> {
    let mut ops = Vec::new();
    for a in spec.actions {
        match a.name {
            "start" | "stop" => ops.push(format!("{} timeout={}s", a.name, a.timeout_s)),
            "monitor" => {
                let mut s = format!("monitor interval={}s", a.interval_s.unwrap_or(10));
                let _ = write!(s, " timeout={}s", a.timeout_s);
                if let Some(d) = a.depth.filter(|d| *d > 0) {
                    let _ = write!(s, " OCF_CHECK_LEVEL={d}");
                }
                ops.push(s);
            }
            _ => {}
        }
    }
    ops
}

/// `ocf_aws_<agent>(7)`.
pub fn agent_page(spec: &AgentSpec) -> String {
    let name = page_name(spec);
    let mut out = String::new();
    let _ = writeln!(
        out,
        ".\\\" Generated by `ocf-aws man {}` from the agent's parameter table; do not edit.",
        spec.name
    );
    th(&mut out, &name, 7, "OCF resource agents");

    out.push_str(".SH NAME\n");
    let _ = writeln!(out, "{} \\- {}", esc(&name), esc(spec.shortdesc));

    out.push_str(".SH SYNOPSIS\n");
    let actions: Vec<String> = action_names(spec).iter().map(|a| esc(a)).collect();
    let _ = writeln!(
        out,
        "\\fB{}/{}\\fR [{}]",
        esc(AGENT_DIR),
        esc(spec.name),
        actions.join(" | ")
    );
    out.push_str(".br\n");
    let _ = writeln!(
        out,
        "\\fBocf\\-aws {}\\fR [{}]",
        esc(spec.name),
        actions.join(" | ")
    );

    out.push_str(".SH DESCRIPTION\n.PP\n");
    let _ = writeln!(out, "{}", esc(spec.longdesc));
    out.push_str(".PP\n");
    let _ = writeln!(
        out,
        "{}",
        esc(&format!(
            "Pacemaker runs this agent as ocf:aws:{n}. It takes its parameters from \
             OCF_RESKEY_<name> environment variables and the action as its first argument; \
             the meta-data action prints the parameters below as OCF meta-data XML.",
            n = spec.name
        ))
    );

    out.push_str(".SH SUPPORTED PARAMETERS\n");
    for p in spec.params {
        let _ = writeln!(out, ".PP\n\\fB{}\\fR \\- {}", esc(p.name), esc(p.shortdesc));
        let _ = writeln!(out, ".RS 4\n{}", esc(&p.description()));
        let _ = writeln!(
            out,
            ".sp\n{}\n.RE",
            esc(&param_summary(
                p.unique,
                p.required,
                p.content_type(),
                p.default
            ))
        );
    }

    out.push_str(".SH SUPPORTED ACTIONS\n.PP\n");
    out.push_str("This resource agent supports the following actions (operations):\n");
    for name in action_names(spec) {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR", esc(name));
        let _ = writeln!(out, "{}", esc(action_text(name)));
        let specs: Vec<_> = spec.actions.iter().filter(|a| a.name == name).collect();
        for a in &specs {
            let mut text = format!("Suggested minimum timeout: {}s", a.timeout_s);
            if let Some(i) = a.interval_s {
                let _ = write!(text, ", interval: {i}s");
            }
            if let Some(d) = a.depth {
                let _ = write!(text, ", depth (OCF_CHECK_LEVEL): {d}");
            }
            text.push('.');
            // A monitor per depth: one line each.
            if specs.len() > 1 {
                out.push_str(".br\n");
            }
            let _ = writeln!(out, "{}", esc(&text));
        }
    }

    // Required parameters with their type as the value to fill in, as
    // resource-agents' pages do; the crm-examples have complete set-ups.
    let required: Vec<&Param> = spec.params.iter().filter(|p| p.required).collect();
    let rsc = format!("p_{}", spec.name);
    let agent = format!("ocf:aws:{}", spec.name);
    let ops = op_lines(spec);

    out.push_str(".SH EXAMPLE CRM SHELL\n.PP\n");
    let _ = writeln!(
        out,
        "{}",
        esc(&format!(
            "An ocf:aws:{} resource for the crm(8) shell{}:",
            spec.name,
            if required.is_empty() {
                ""
            } else {
                " (replace the values in capitals)"
            }
        ))
    );
    let mut lines = vec![format!("primitive {rsc} {agent}")];
    if !required.is_empty() {
        lines.push("  params".into());
        for p in &required {
            lines.push(format!(
                "    {}={}",
                p.name,
                p.content_type().to_uppercase()
            ));
        }
    }
    for o in &ops {
        lines.push(format!("  op {o}"));
    }
    example(&mut out, &continued(lines));

    out.push_str(".SH EXAMPLE PCS\n.PP\n");
    let _ = writeln!(out, "{}", esc("The same resource with pcs(8):"));
    let mut lines = vec![format!("pcs resource create {rsc} {agent}")];
    for p in &required {
        lines.push(format!("  {}={}", p.name, p.content_type().to_uppercase()));
    }
    for (i, o) in ops.iter().enumerate() {
        lines.push(format!("  {}{o}", if i == 0 { "op " } else { "   " }));
    }
    example(&mut out, &continued(lines));
    out.push_str(".PP\n");
    let _ = writeln!(
        out,
        "{}",
        esc(&format!(
            "Complete, commented configurations: {EXAMPLES_DIR}/{n}.crm and {EXAMPLES_DIR}/{n}.pcs.",
            n = spec.name
        ))
    );

    out.push_str(".SH FILES\n");
    let _ = writeln!(out, ".TP\n\\fB{}/{}\\fR", esc(AGENT_DIR), esc(spec.name));
    let _ = writeln!(
        out,
        "{}",
        esc("The agent: a symlink to /usr/lib/ocf/lib/aws/ocf-aws, which acts as the agent it is called as.")
    );
    let _ = writeln!(out, ".TP\n\\fB{}\\fR", esc("/run/resource-agents/ocf-aws/"));
    let _ = writeln!(
        out,
        "{}",
        esc("State recorded at start (HA_RSCTMP/ocf-aws when HA_RSCTMP is set).")
    );

    out.push_str(".SH SEE ALSO\n");
    let mut refs: Vec<String> = vec![format!("\\fB{}\\fR(8)", esc(CLI_PAGE))];
    refs.extend(
        agents::ALL
            .iter()
            .filter(|a| a.name != spec.name)
            .map(|a| format!("\\fB{}\\fR(7)", esc(&page_name(a)))),
    );
    refs.extend(
        ["crm", "pcs", "crm_resource"]
            .iter()
            .map(|c| format!("\\fB{}\\fR(8)", esc(c))),
    );
    let _ = writeln!(out, "{}", refs.join(",\n"));
    out
}

/// Join example lines with ` \` continuations.
fn continued(lines: Vec<String>) -> Vec<String> {
    let n = lines.len();
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| if i + 1 < n { format!("{l} \\") } else { l })
        .collect()
}

/// `ocf-aws(8)`: clap_mangen renders the command line itself (synopsis,
/// options, subcommands), so a new subcommand or option shows up without a
/// change here; the sections about agents and files come from the agent
/// list.
pub fn cli_page() -> String {
    let mut cmd = crate::cli::command();
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf: Vec<u8> = Vec::new();
    // Rendering into memory cannot fail; the expects document that.
    man.render_synopsis_section(&mut buf)
        .expect("roff into memory");
    man.render_options_section(&mut buf)
        .expect("roff into memory");

    let mut out = String::from(
        ".\\\" Generated by `ocf-aws man ocf-aws` from the CLI definition; do not edit.\n",
    );
    th(&mut out, CLI_PAGE, 8, "System Administration");
    out.push_str(".SH NAME\n");
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let _ = writeln!(out, "{} \\- {}", esc(CLI_PAGE), esc(&about));
    out.push_str(&String::from_utf8(buf).expect("roff is UTF-8"));
    out.push_str(".SH DESCRIPTION\n.PP\n");
    let _ = writeln!(out, "{}", esc(&about));
    if let Some(more) = cmd.get_after_help() {
        for para in more.to_string().lines() {
            let _ = writeln!(out, ".PP\n{}", esc(para));
        }
    }

    // Each subcommand on this page with its usage, description and
    // arguments (clap_mangen would point at one page per subcommand).
    out.push_str(".SH SUBCOMMANDS\n");
    for sub in cmd.get_subcommands_mut() {
        if sub.get_name() == "help" {
            continue;
        }
        let usage = sub.render_usage().to_string();
        let usage = usage.trim().trim_start_matches("Usage:").trim();
        let _ = writeln!(out, ".TP\n\\fB{}\\fR", esc(usage));
        let text = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        let _ = writeln!(out, "{}", esc(&text));
        for arg in sub.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let name = match arg.get_long() {
                Some(l) => match arg.get_value_names() {
                    Some(v) if !v.is_empty() => format!("--{l} {}", v[0]),
                    _ => format!("--{l}"),
                },
                None => id.to_uppercase(),
            };
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let mut line = format!("{name}: {help}");
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect();
            if !values.is_empty() {
                line.push_str(&format!(" ({})", values.join(", ")));
            }
            out.push_str(".br\n");
            let _ = writeln!(out, "{}", esc(&line));
        }
    }

    out.push_str(".SH AGENTS\n");
    for a in agents::ALL {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR", esc(a.name));
        let _ = writeln!(
            out,
            "{} (\\fBocf:aws:{}\\fR; \\fB{}\\fR(7))",
            esc(a.shortdesc),
            esc(a.name),
            esc(&page_name(a))
        );
    }
    out.push_str(".SH EXAMPLES\n");
    let examples: [(&str, &str); 4] = [
        ("ocf-aws --list", "Print the agent names."),
        (
            "ocf-aws vip meta-data",
            "Print the parameters of vip as OCF meta-data XML.",
        ),
        (
            "OCF_RESKEY_ip=192.168.100.10 OCF_CHECK_LEVEL=10 ocf-aws vip validate-all",
            "Check a configuration on a node, including the AWS side.",
        ),
        (
            "ocf-aws iam-policy vip routing_table=rtb-0123456789abcdef0",
            "Print the least-privilege IAM policy for vip on those route tables.",
        ),
    ];
    for (cmd, what) in examples {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", esc(cmd), esc(what));
    }
    out.push_str(".SH EXIT STATUS\n.PP\n");
    let _ = writeln!(
        out,
        "{}",
        esc(
            "Agent actions exit with OCF return codes: 0 success, 1 generic error, \
             2 invalid argument (a problem of this host), 3 unimplemented action, \
             4 insufficient privileges, 5 not installed, 6 not configured, \
             7 not running (monitor only). Each failure prints one ocf-exit-reason: line. \
             Subcommands exit 0 on success and 2 on a usage error."
        )
    );
    out.push_str(".SH FILES\n");
    let files: [(&str, &str); 4] = [
        (
            "/usr/lib/ocf/lib/aws/ocf-aws",
            "The binary (outside resource.d, where Pacemaker would list it as an agent).",
        ),
        (
            "/usr/lib/ocf/resource.d/aws/",
            "One symlink per agent; Pacemaker runs them as ocf:aws:<agent>.",
        ),
        (
            "/usr/sbin/ocf-aws",
            "A symlink to the binary, for this command.",
        ),
        (
            "/usr/share/doc/ocf-aws/crm-examples/",
            "crm and pcs configurations for every agent.",
        ),
    ];
    for (path, what) in files {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", esc(path), esc(what));
    }
    out.push_str(".SH SEE ALSO\n");
    let mut refs: Vec<String> = agents::ALL
        .iter()
        .map(|a| format!("\\fB{}\\fR(7)", esc(&page_name(a))))
        .collect();
    refs.extend(
        ["crm", "pcs", "crm_resource"]
            .iter()
            .map(|c| format!("\\fB{}\\fR(8)", esc(c))),
    );
    let _ = writeln!(out, "{}", refs.join(",\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;

    /// What meta-data says about one parameter, read back from the XML.
    #[derive(Default, Debug)]
    struct XmlParam {
        name: String,
        unique: bool,
        required: bool,
        content_type: String,
        default: Option<String>,
        longdesc: String,
        shortdesc: String,
    }

    fn attr(e: &quick_xml::events::BytesStart, key: &str) -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == key.as_bytes())
            .map(|a| a.unescape_value().unwrap().into_owned())
    }

    /// Parameters and (action, timeout) pairs of an agent's meta-data XML.
    fn from_metadata(spec: &AgentSpec) -> (Vec<XmlParam>, Vec<(String, String)>) {
        let xml = crate::ocf::metadata::render(spec);
        let mut r = quick_xml::Reader::from_str(&xml);
        let (mut params, mut actions) = (Vec::new(), Vec::new());
        let mut cur: Option<XmlParam> = None;
        let mut in_text: Option<String> = None;
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) if e.name().as_ref() == b"parameter" => {
                    cur = Some(XmlParam {
                        name: attr(&e, "name").unwrap(),
                        unique: attr(&e, "unique").as_deref() == Some("1"),
                        required: attr(&e, "required").as_deref() == Some("1"),
                        ..Default::default()
                    });
                }
                Event::Start(e) if cur.is_some() => {
                    in_text = Some(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                }
                Event::Text(t) => {
                    if let (Some(p), Some(which)) = (cur.as_mut(), in_text.as_deref()) {
                        let text = t.decode().unwrap().into_owned();
                        match which {
                            "longdesc" => p.longdesc.push_str(&text),
                            "shortdesc" => p.shortdesc.push_str(&text),
                            _ => {}
                        }
                    }
                }
                // quick-xml reports `&apos;` and friends as events of their own.
                Event::GeneralRef(g) => {
                    if let (Some(p), Some(which)) = (cur.as_mut(), in_text.as_deref()) {
                        let name = g.decode().unwrap().into_owned();
                        let text = quick_xml::escape::unescape(&format!("&{name};"))
                            .unwrap()
                            .into_owned();
                        match which {
                            "longdesc" => p.longdesc.push_str(&text),
                            "shortdesc" => p.shortdesc.push_str(&text),
                            _ => {}
                        }
                    }
                }
                Event::End(e) if e.name().as_ref() == b"parameter" => {
                    params.push(cur.take().unwrap());
                }
                Event::End(_) => in_text = None,
                Event::Empty(e) if e.name().as_ref() == b"content" => {
                    let p = cur.as_mut().unwrap();
                    p.content_type = attr(&e, "type").unwrap();
                    p.default = attr(&e, "default");
                }
                Event::Empty(e) if e.name().as_ref() == b"action" => {
                    actions.push((attr(&e, "name").unwrap(), attr(&e, "timeout").unwrap()));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        (params, actions)
    }

    #[test]
    fn agent_pages_say_what_meta_data_says() {
        for spec in agents::ALL {
            let page = agent_page(spec);
            let (params, actions) = from_metadata(spec);
            assert_eq!(params.len(), spec.params.len(), "{}", spec.name);
            for p in &params {
                let head = format!("\\fB{}\\fR \\- {}\n", esc(&p.name), esc(&p.shortdesc));
                assert!(page.contains(&head), "{}: no entry {head:?}", spec.name);
                // The entry's own lines: description, then the summary.
                let entry = &page[page.find(&head).unwrap()..];
                let entry = &entry[..entry.find(".RE").unwrap()];
                assert!(
                    entry.contains(&format!("\n{}\n", esc(&p.longdesc))),
                    "{} {}: description differs from meta-data",
                    spec.name,
                    p.name
                );
                let summary =
                    param_summary(p.unique, p.required, &p.content_type, p.default.as_deref());
                assert!(
                    entry.contains(&esc(&summary)),
                    "{} {}: expected {summary} in {entry}",
                    spec.name,
                    p.name
                );
            }
            for (name, timeout) in &actions {
                let at = page
                    .find(&format!(".TP\n\\fB{}\\fR\n", esc(name)))
                    .unwrap_or_else(|| panic!("{}: action {name} missing", spec.name));
                let rest = &page[at..];
                let entry = &rest[..rest[4..].find(".TP").map_or(rest.len(), |i| i + 4)];
                assert!(
                    entry.contains(&format!("timeout: {timeout}")),
                    "{} {name}: timeout {timeout} not in {entry}",
                    spec.name
                );
            }
            assert!(page.contains(&format!("primitive p_{n} ocf:aws:{n}", n = spec.name)));
            assert!(page.contains(&format!(
                "pcs resource create p_{n} ocf:aws:{n}",
                n = spec.name
            )));
        }
    }

    /// Every line starting with a control character is one of the requests
    /// the generator means to write: text can never turn into a request.
    #[test]
    fn only_intended_requests() {
        const OK: &[&str] = &[
            "TH", "SH", "SS", "PP", "RS", "RE", "TP", "IP", "br", "sp", "nf", "fi", "nh", "ad",
            "ie", "el", "\\\"",
        ];
        for (file, page) in all_pages() {
            for line in page.lines() {
                if let Some(rest) = line.strip_prefix('.').or_else(|| line.strip_prefix('\'')) {
                    let req = rest.split_whitespace().next().unwrap_or("");
                    assert!(
                        OK.contains(&req),
                        "{file}: unexpected request line {line:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(esc(".start"), "\\&.start");
        assert_eq!(esc("'quoted"), "\\&'quoted");
        assert_eq!(esc("a\\b"), "a\\eb");
        assert_eq!(esc("eni-\u{2026} x"), "eni\\-\\&... x");
        assert_eq!(esc("caf\u{e9}"), "caf\\[u00E9]");
        // A line break in a description cannot start a request.
        assert_eq!(esc("one\n.two"), "one .two");
        assert_eq!(esc("  spaced\tout  "), "spaced out");
    }

    #[test]
    fn cli_page_covers_subcommands_and_agents() {
        let page = cli_page();
        let mut cmd = crate::cli::command();
        cmd.build();
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            assert!(
                page.contains(&format!("\\fBocf\\-aws {}", esc(sub.get_name()))),
                "subcommand {} missing",
                sub.get_name()
            );
        }
        for a in agents::ALL {
            assert!(page.contains(&format!("\\fB{}\\fR(7)", esc(&page_name(a)))));
        }
        assert!(page.starts_with(".\\\" "));
        assert!(page.contains(".TH \"OCF\\-AWS\" \"8\""));
    }

    #[test]
    fn page_names() {
        assert_eq!(render_page("vip"), render_page("ocf_aws_vip"));
        assert!(render_page("vip")
            .unwrap()
            .contains(".TH \"OCF_AWS_VIP\" \"7\""));
        assert!(render_page("nope").is_none());
        let files: Vec<String> = all_pages().into_iter().map(|(f, _)| f).collect();
        assert_eq!(files.len(), agents::ALL.len() + 1);
        assert!(files.contains(&"ocf-aws.8".to_string()));
    }
}
