//! `ocf-aws migrate`: converts a cluster configured with the agents ours
//! replace (ClusterLabs' aws-vpc-move-ip, awseip, awsvip, aws-vpc-route53,
//! fence-agents' fence_aws, SUSE's external/ec2) to ours, resource by
//! resource, keeping every id. What it converts and how comes only from
//! the registry's `replaces` tables (`core::legacy`).

pub mod apply;
pub mod cib;
mod managed;
pub mod plan;
mod review;

use crate::agents;
use crate::core::legacy::Fate;
use std::time::Duration;

/// The clap definition of `ocf-aws migrate`.
pub fn command() -> clap::Command {
    use clap::{Arg, ArgAction, Command};
    let replaced: Vec<&str> = agents::ALL
        .iter()
        .flat_map(|a| a.replaces.iter().map(|r| r.agent))
        .collect();
    Command::new("migrate")
        .about("Convert resources of the ClusterLabs AWS agents (and fence_aws, external/ec2) to ours")
        .long_about(format!(
            "Reads the CIB (cibadmin --query; a saved file when CIB_file is set), finds every \
             primitive of {} wherever it sits, and prints the plan: per resource the new agent, \
             what becomes of each parameter (kept, renamed, removed and why), the replaced \
             agent's defaults it writes out and how the operations change (a monapi=true \
             resource's recurring monitors get OCF_CHECK_LEVEL=10). Every id, meta attribute, \
             operation, group, clone and constraint stays; no other resource is touched. \
             Refuses, naming the resource and parameter, when a value's meaning cannot be kept, \
             unless --force. --apply converts in one CIB transaction; on a live cluster the \
             converted resources are held in maintenance for the switch, reprobed with our \
             agents (crm_resource --refresh; their probe finds what the old agent started), \
             and released once the cluster settles, so that they keep running: no stop with \
             the old agent, no start with ours. --crm and --pcs print the commands doing the \
             same, for review.",
            replaced.join(", ")
        ))
        .arg(
            Arg::new("apply")
                .long("apply")
                .action(ArgAction::SetTrue)
                .help("Convert: change the CIB (one transaction; see above for a live cluster)"),
        )
        .arg(
            Arg::new("crm")
                .long("crm")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["apply", "pcs"])
                .help("Print crmsh commands doing the conversion, instead of applying it"),
        )
        .arg(
            Arg::new("pcs")
                .long("pcs")
                .action(ArgAction::SetTrue)
                .conflicts_with("apply")
                .help("Print pcs commands doing the conversion, instead of applying it"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Convert even resources with a parameter whose meaning is lost"),
        )
        .arg(
            Arg::new("hold")
                .long("hold")
                .action(ArgAction::SetTrue)
                .requires("apply")
                .help("With --apply on a CIB_file: hold the resources for a live switch, as --apply does on the cluster (--pcs uses it)"),
        )
        .arg(
            Arg::new("finish")
                .long("finish")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["apply", "crm", "pcs", "force", "hold"])
                .help("Release the resources a switch holds: their maintenance as it was, the probe's marker gone (the last step of --apply, --crm and --pcs)"),
        )
        .arg(
            Arg::new("wait")
                .long("wait")
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64).range(1..=3600))
                .default_value("120")
                .help("With --apply on a live cluster: how long to wait for it to settle after the reprobe"),
        )
        .arg(
            Arg::new("table")
                .long("table")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["apply", "crm", "pcs", "force"])
                .help("Print the migration table (Markdown): every parameter of every replaced agent and what ours does with it"),
        )
}

pub fn main(m: &clap::ArgMatches) -> i32 {
    if m.get_flag("table") {
        print!("{}", table());
        return 0;
    }
    let result = if m.get_flag("finish") {
        apply::finish().map(|ids| {
            if ids.is_empty() {
                println!("Nothing is held for a switch.");
            } else {
                println!("Released {}: maintenance as it was before.", ids.join(", "));
            }
        })
    } else {
        run(m)
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ocf-aws migrate: {e}");
            1
        }
    }
}

fn run(m: &clap::ArgMatches) -> Result<(), String> {
    let live = !apply::file_mode();
    let (do_apply, crm, pcs) = (m.get_flag("apply"), m.get_flag("crm"), m.get_flag("pcs"));
    let opt = plan::Options {
        force: m.get_flag("force"),
        // The printed crmsh commands hold the resources in the XML they
        // load, as --apply's first transaction does.
        hold: (do_apply && (live || m.get_flag("hold"))) || crm,
    };
    let xml = apply::query()?;
    let mut doc = cib::parse(&xml)?;
    let done = match plan::convert(&mut doc, opt) {
        Ok(d) => d,
        Err(refused) => {
            let lines: Vec<String> = refused.iter().map(|r| r.to_string()).collect();
            return Err(format!("nothing was changed:\n  {}", lines.join("\n  ")));
        }
    };
    if done.is_empty() {
        println!(
            "Nothing to convert: no resource of {}.",
            agents::ALL
                .iter()
                .flat_map(|a| a.replaces.iter().map(|r| r.agent))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(());
    }
    let out: String = done.iter().map(|c| c.to_string()).collect();
    if crm || pcs {
        // The plan as comments above the commands, so the output is a
        // script to review and run.
        for l in out.lines() {
            println!("# {l}");
        }
        print!(
            "{}",
            if crm {
                review::crm(&doc, &done)
            } else {
                review::pcs(&done, opt.force)
            }
        );
        return Ok(());
    }
    print!("{out}");
    if !do_apply {
        println!("Nothing changed: --apply converts, --crm or --pcs print the commands.");
        return Ok(());
    }
    let settle = Duration::from_secs(m.get_one::<u64>("wait").copied().unwrap_or(120));
    apply::apply(&doc, &done, settle)
}

fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The README's migration table, from the registry's `replaces` tables.
pub fn table() -> String {
    let mut out = String::new();
    for a in agents::ALL {
        for r in a.replaces {
            out.push_str(&format!(
                "\n**`{}` → `{}`**\n\n| Parameter | What ours does with it | `ocf-aws migrate` |\n| --- | --- | --- |\n",
                r.agent,
                plan::agent_of(a)
            ));
            for f in r.params {
                let migrate = if r.deep_monitor == Some(f.name) {
                    format!(
                        "removed; when true, the recurring monitors get `OCF_CHECK_LEVEL={}`",
                        plan::DEEP
                    )
                } else {
                    match f.fate {
                        Fate::Same | Fate::Kept(_) => "kept".to_string(),
                        Fate::Renamed(to) => format!("renamed to `{to}` (same id)"),
                        Fate::Ignored(_) => "removed".to_string(),
                        Fate::Lost { harmless, .. } => format!(
                            "removed if {}, else refused without `--force`",
                            harmless
                                .iter()
                                .map(|h| if h.is_empty() {
                                    "empty".to_string()
                                } else {
                                    format!("`{h}`")
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }
                };
                out.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    f.name,
                    cell(&f.what()),
                    cell(&migrate)
                ));
            }
            for (name, value) in r.defaults {
                out.push_str(&format!(
                    "| (unset `{name}`) | its default `{value}` is not ours | `{name}={value}` added |\n"
                ));
            }
        }
    }
    out.trim_start().to_string()
}

/// The plan of one resource.
impl std::fmt::Display for plan::Conversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let within = if self.within.is_empty() {
            String::new()
        } else {
            format!(" (in {})", self.within.join(", in "))
        };
        writeln!(f, "{}{within}: {} -> {}", self.id, self.from, self.to)?;
        for l in &self.lines {
            let text = match l {
                plan::Line::Kept { name, why } => format!("{name}: kept ({why})"),
                plan::Line::Renamed { name, to } => {
                    format!("{name}: renamed to {to} (same meaning, same nvpair id)")
                }
                plan::Line::Removed { name, value, why } => {
                    format!(
                        "{name}={}: removed ({why})",
                        crate::core::params::shorten(value)
                    )
                }
                plan::Line::Added { name, value, why } => format!("{name}={value}: added ({why})"),
                plan::Line::Deepened { op, interval } => format!(
                    "monitor {op} (interval {interval}): OCF_CHECK_LEVEL={} added, so it \
                     checks AWS as well as the node",
                    plan::DEEP
                ),
                plan::Line::Note(n) => n.clone(),
            };
            writeln!(f, "    {text}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
