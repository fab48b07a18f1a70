//! Manual pages, generated: `ocf_aws_<agent>(7)` from each agent's
//! registry entry ([`agent`]) and `ocf-aws(8)` from the clap command of
//! the human CLI ([`cli`]). Nothing here is written by hand per agent, so a
//! page cannot drift from what the agent really accepts.
//!
//! The agent pages follow the sections resource-agents' generated
//! `ocf_heartbeat_*(7)` pages have (NAME, SYNOPSIS, DESCRIPTION, SUPPORTED
//! PARAMETERS, SUPPORTED ACTIONS, EXAMPLE CRM SHELL, EXAMPLE PCS, SEE ALSO),
//! so they read like every other OCF agent's page.

pub mod agent;
pub mod cli;
pub mod fence;
pub mod roff;

use crate::agents::{self, Spec};
use std::path::Path;

pub use roff::{esc, param_summary};

/// The page name `ocf-aws man` accepts besides the agent names.
pub const CLI_PAGE: &str = "ocf-aws";

/// Where the packages install the agents and the examples; the pages name
/// these paths (ocf/install.sh and packaging/build.sh make them).
const AGENT_DIR: &str = "/usr/lib/ocf/resource.d/aws";
const EXAMPLES_DIR: &str = "/usr/share/doc/ocf-aws/crm-examples";

/// Every page name `ocf-aws man` accepts.
pub fn page_names() -> Vec<&'static str> {
    let mut pages: Vec<&'static str> = agents::ALL.iter().map(|a| a.name).collect();
    pages.push(CLI_PAGE);
    pages
}

/// `ocf-aws man ...` after clap parsed it; returns the exit code.
pub fn run(m: &clap::ArgMatches, cli: clap::Command) -> i32 {
    if m.get_flag("list") {
        for (file, _) in all_pages(cli) {
            println!("{file}");
        }
        return 0;
    }
    if let Some(dir) = m.get_one::<String>("all") {
        return match write_all(Path::new(dir), cli) {
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
    match render_page(page, cli) {
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
pub fn render_page(page: &str, cli: clap::Command) -> Option<String> {
    if page == CLI_PAGE {
        return Some(cli::cli_page(cli));
    }
    let agent = page.strip_prefix("ocf_aws_").unwrap_or(page);
    agents::find(agent).map(agent_page)
}

/// The page of one agent: ocf_aws_<agent>(7) for a resource agent,
/// <agent>(8) for a fence agent.
pub fn agent_page(spec: &Spec) -> String {
    match (spec.ocf(), spec.fence()) {
        (Some(meta), _) => agent::agent_page(spec, &meta),
        (None, Some(meta)) => fence::page(spec, &meta),
        (None, None) => String::new(),
    }
}

/// The page section on the agents this one replaces: each of their
/// parameters and what becomes of it (the same table parsing uses).
pub(crate) fn replaced_section(spec: &Spec) -> String {
    use std::fmt::Write;
    if spec.replaces.is_empty() {
        return String::new();
    }
    let mut out = String::from(".SH REPLACED AGENTS\n.PP\n");
    let _ = writeln!(
        out,
        "{}",
        roff::esc(&format!(
            "A resource configured for {} keeps working with the agent name changed: \
             every parameter of it is accepted, with the same meaning where one exists; \
             ocf-aws migrate converts a running cluster.",
            spec.replaces
                .iter()
                .map(|r| r.agent)
                .collect::<Vec<_>>()
                .join(" or ")
        ))
    );
    for r in spec.replaces {
        let _ = writeln!(out, ".SS {}", roff::esc(r.agent));
        for f in r.params {
            let _ = writeln!(
                out,
                ".TP\n\\fB{}\\fR\n{}",
                roff::esc(f.name),
                roff::esc(&f.what())
            );
        }
        for (name, value) in r.defaults {
            let _ = writeln!(
                out,
                ".PP\n{}",
                roff::esc(&format!(
                    "Its default {name}={value} is not ours: ocf-aws migrate writes it out."
                ))
            );
        }
    }
    out
}

/// The section of an agent's page.
pub fn section(spec: &Spec) -> u8 {
    if spec.is_fence() {
        8
    } else {
        7
    }
}

/// Every page as (file name, roff): `ocf_aws_<agent>.7` per agent and
/// `ocf-aws.8`.
pub fn all_pages(cli: clap::Command) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = agents::ALL
        .iter()
        .map(|a| (format!("{}.{}", page_name(a), section(a)), agent_page(a)))
        .collect();
    v.push((format!("{CLI_PAGE}.8"), cli::cli_page(cli)));
    v
}

fn write_all(dir: &Path, cli: clap::Command) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (file, roff) in all_pages(cli) {
        std::fs::write(dir.join(&file), roff)?;
    }
    Ok(())
}

/// `ocf_aws_vip`: provider and agent, as resource-agents names its pages
/// (`ocf_heartbeat_IPaddr2`); a fence agent's page has its own name, as
/// fence-agents' do (`fence_aws`).
pub fn page_name(spec: &Spec) -> String {
    if spec.is_fence() {
        return spec.name.to_string();
    }
    format!("ocf_aws_{}", spec.name)
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
    fn from_metadata(spec: &Spec) -> (Vec<XmlParam>, Vec<(String, String)>) {
        let xml = crate::ocf::metadata::render(&spec.ocf().unwrap());
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
        for spec in agents::resource_agents() {
            let page = agent_page(spec);
            let (params, actions) = from_metadata(spec);
            // The replaced agents' parameters have their own section.
            let (old, params): (Vec<_>, Vec<_>) = params
                .into_iter()
                .partition(|p| p.shortdesc.starts_with("Deprecated:"));
            assert_eq!(params.len(), spec.params.len(), "{}", spec.name);
            for p in &old {
                let entry = format!(".TP\n\\fB{}\\fR\n", esc(&p.name));
                assert!(
                    page.contains(&entry),
                    "{}: {} not in REPLACED AGENTS",
                    spec.name,
                    p.name
                );
            }
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
            // Example lines are escaped like any text (a hyphen is \-).
            assert!(page.contains(&esc(&format!("primitive p_{n} ocf:aws:{n}", n = spec.name))));
            assert!(page.contains(&esc(&format!(
                "pcs resource create p_{n} ocf:aws:{n}",
                n = spec.name
            ))));
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
        for (file, page) in all_pages(crate::cli::command()) {
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
        let page = cli::cli_page(crate::cli::command());
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
            assert!(page.contains(&format!("\\fB{}\\fR({})", esc(&page_name(a)), section(a))));
        }
        assert!(page.starts_with(".\\\" "));
        assert!(page.contains(".TH \"OCF\\-AWS\" \"8\""));
    }

    #[test]
    fn page_names() {
        let first = agents::ALL[0];
        assert_eq!(
            render_page(first.name, crate::cli::command()),
            render_page(&page_name(first), crate::cli::command())
        );
        assert!(render_page(first.name, crate::cli::command())
            .unwrap()
            .contains(&format!(
                ".TH \"OCF_AWS_{}\" \"7\"",
                first.name.to_uppercase()
            )));
        assert!(render_page("nope", crate::cli::command()).is_none());
        let files: Vec<String> = all_pages(crate::cli::command())
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(files.len(), agents::ALL.len() + 1);
        assert!(files.contains(&"ocf-aws.8".to_string()));
    }
}
