//! `ocf_aws_<agent>(7)`, from the agent's registry entry: the same
//! parameter and action tables the meta-data XML is written from, and its
//! example files.

use super::roff::{agent_head, continued, esc, example, param_summary, see_also};
use super::{page_name, AGENT_DIR, CLI_PAGE, EXAMPLES_DIR};
use crate::agents::{self, Spec};
use crate::core::Param;
use crate::ocf::Meta;
use std::fmt::Write as _;

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
fn action_names(spec: &Meta) -> Vec<&'static str> {
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

/// Operation lines from the action table: start, stop and every monitor
/// (deeper monitors with their OCF_CHECK_LEVEL, as Pacemaker takes it).
fn op_lines(spec: &Meta) -> Vec<String> {
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
pub fn agent_page(spec: &Spec, meta: &Meta) -> String {
    let mut out = String::new();
    agent_head(&mut out, spec, "OCF resource agents");

    out.push_str(".SH SYNOPSIS\n");
    let actions: Vec<String> = action_names(meta).iter().map(|a| esc(a)).collect();
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

    out.push_str(&super::replaced_section(spec));

    out.push_str(".SH SUPPORTED ACTIONS\n.PP\n");
    out.push_str("This resource agent supports the following actions (operations):\n");
    for name in action_names(meta) {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR", esc(name));
        let _ = writeln!(out, "{}", esc(action_text(name)));
        let specs: Vec<_> = meta.actions.iter().filter(|a| a.name == name).collect();
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
    let ops = op_lines(meta);

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
    let files: Vec<String> = spec
        .examples
        .iter()
        .map(|f| format!("{EXAMPLES_DIR}/{f}"))
        .collect();
    let _ = writeln!(
        out,
        "{}",
        esc(&format!(
            "Complete, commented configurations: {}.",
            files.join(", ")
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

    let mut refs = vec![(CLI_PAGE.to_string(), 8)];
    refs.extend(
        agents::ALL
            .iter()
            .filter(|a| a.name != spec.name)
            .map(|a| (page_name(a), super::section(a))),
    );
    see_also(&mut out, &refs);
    out
}
