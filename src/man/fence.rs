//! `<agent>(8)` of a fence agent (fence_ec2(8)), from the same parameter
//! table as its metadata and its option parsing, in the sections
//! fence-agents' pages have.

use super::roff::{agent_head, continued, esc, example, see_also};
use super::{page_name, CLI_PAGE, EXAMPLES_DIR};
use crate::agents::{self, Spec};
use crate::fence::input::getopt;
use crate::fence::{Action, Meta};
use std::fmt::Write as _;

fn action_text(a: Action) -> &'static str {
    match a {
        Action::On => "Start the target's instance; done once EC2 reports it running.",
        Action::Off => {
            "Stop the target's instance (after the race check); done once EC2 reports it \
             stopped. An instance already stopped or terminated is success."
        }
        Action::Reboot => "off, then on; success once off is verified.",
        Action::Status => {
            "Exit 0 (Status: ON) while the instance is pending, running, stopping or \
             shutting down; 2 (Status: OFF) once it is stopped or terminated."
        }
        Action::List => {
            "Print plug,instance-id for every instance (with tag, plug is the node name)."
        }
        Action::ListStatus => "list with ON or OFF added to each line.",
        Action::Monitor => "Check credentials, endpoint and permission with one DryRun request.",
        Action::Metadata => "Print the metadata (XML) pacemaker-fenced reads.",
        Action::ValidateAll => {
            "Check the parameters, the credentials and that each plug is one instance."
        }
    }
}

pub fn page(spec: &Spec, meta: &Meta) -> String {
    let mut out = String::new();
    agent_head(&mut out, spec, "System Administration");

    out.push_str(".SH SYNOPSIS\n");
    let _ = writeln!(
        out,
        "\\fB{}\\fR [\\fIOPTIONS\\fR]",
        esc(&format!("/usr/sbin/{}", spec.name))
    );
    out.push_str(".br\n");
    let _ = writeln!(
        out,
        "\\fBocf\\-aws {}\\fR \\fIACTION\\fR [\\fIOPTIONS\\fR]",
        esc(spec.name)
    );
    out.push_str(".SH DESCRIPTION\n.PP\n");
    let _ = writeln!(out, "{}", esc(meta.longdesc));
    out.push_str(".PP\n");
    let _ = writeln!(
        out,
        "{}",
        esc(&format!(
            "pacemaker-fenced runs it with no arguments and the parameters below as \
             key=value lines on standard input (blank lines and # comments skipped, \
             surrounding quotes removed, - and _ in names equal, unknown names ignored \
             with a warning). With options on the command line it reads no input. Exit \
             status 0 is success, 1 failure (one line on standard error says why; a \
             timeout says timed out), and 2 from status when the target is off. Stonith \
             resources use it as stonith:{}.",
            spec.name
        ))
    );

    out.push_str(".SH OPTIONS\n");
    for p in meta.params {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR", esc(&getopt(p)));
        let _ = writeln!(out, "{}", esc(&p.description()));
        let mut facts = vec![format!("stdin: {}=", p.name)];
        facts.extend(p.aliases.iter().map(|a| format!("{a}= (deprecated)")));
        if let Some(d) = p.default {
            facts.push(format!("default {d}"));
        }
        if p.secret {
            facts.push("secret: never logged".into());
        }
        let _ = writeln!(out, ".br\n{}", esc(&format!("({})", facts.join(", "))));
    }

    out.push_str(&super::replaced_section(spec));
    out.push_str(".SH ACTIONS\n");
    for a in Action::ALL {
        let _ = writeln!(
            out,
            ".TP\n\\fB{}\\fR\n{}",
            esc(a.name()),
            esc(action_text(*a))
        );
    }

    out.push_str(".SH EXAMPLES\n.PP\n");
    let _ = writeln!(
        out,
        "{}",
        esc("The state of one instance, from the command line:")
    );
    example(
        &mut out,
        &[format!("{} -o status -n i-0123456789abcdef0", spec.name)],
    );
    out.push_str(".PP\n");
    let _ = writeln!(out, "{}", esc("As pacemaker-fenced calls it:"));
    example(
        &mut out,
        &continued(vec![
            format!("printf 'action=off\\nplug=node2\\ntag=Name\\n' |"),
            format!("  /usr/sbin/{}", spec.name),
        ]),
    );
    let files: Vec<String> = spec
        .examples
        .iter()
        .map(|f| format!("{EXAMPLES_DIR}/{f}"))
        .collect();
    out.push_str(".PP\n");
    let _ = writeln!(
        out,
        "{}",
        esc(&format!(
            "Complete, commented cluster configurations with fencing: {}.",
            files.join(", ")
        ))
    );
    let mut refs = vec![(CLI_PAGE.to_string(), 8)];
    refs.extend(agents::resource_agents().map(|a| (page_name(a), 7)));
    refs.push(("stonith_admin".into(), 8));
    see_also(&mut out, &refs);
    out
}
