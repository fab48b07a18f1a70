//! The multi-call entry point: `vip start` through a symlink named after the
//! agent (how Pacemaker runs us: the registry entry's personality decides
//! the protocol), or `ocf-aws <agent> <action>` and the subcommands for
//! humans (one clap definition drives parsing, help and `ocf-aws(8)`).

use crate::agents;
use crate::ocf;
use std::path::Path;

/// [`main`], with a last line of defence: a bug that panics must still end
/// as an OCF failure with a reason, never as exit code 101 (which
/// Pacemaker treats as an unknown status) or a stack trace.
pub fn main_guarded(args: Vec<String>) -> i32 {
    std::panic::set_hook(Box::new(|info| {
        let prefix = std::env::var("OCF_EXIT_REASON_PREFIX")
            .unwrap_or_else(|_| "ocf-exit-reason:".to_string());
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("{prefix}internal error in ocf-aws{at}: {what}; please report this bug");
    }));
    std::panic::catch_unwind(|| main(args)).unwrap_or(ocf::Rc::Generic.code())
}

pub fn main(args: Vec<String>) -> i32 {
    let argv0 = args.first().map(String::as_str).unwrap_or("ocf-aws");
    let base = Path::new(argv0)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("ocf-aws");
    // Called through /usr/lib/ocf/resource.d/aws/<agent>: pure OCF, where
    // argv[1] is the action and anything after it is ignored.
    if let Some(spec) = agents::find(base) {
        return spec.run(&args);
    }
    human(args)
}

/// The clap definition of `ocf-aws man`.
fn man_command() -> clap::Command {
    use clap::{Arg, ArgAction, Command};
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
                .value_parser(clap::builder::PossibleValuesParser::new(
                    crate::man::page_names(),
                ))
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

pub fn command() -> clap::Command {
    use clap::{Arg, ArgAction, Command};
    let names: Vec<&str> = agents::ALL.iter().map(|a| a.name).collect();
    let fence: Vec<&str> = agents::fence_agents().map(|a| a.name).collect();
    Command::new("ocf-aws")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Pacemaker/OCF resource agents for high availability on AWS")
        .after_help(format!(
            "Resource agents: {}.\nInstalled as /usr/lib/ocf/resource.d/aws/<agent> \
             symlinks, Pacemaker runs them as ocf:aws:<agent>. Parameters are \
             OCF_RESKEY_<name> environment variables; `ocf-aws <agent> meta-data` lists \
             them.\nFence agents: {}.\nInstalled as /usr/sbin/<agent> symlinks, \
             pacemaker-fenced runs them with key=value parameters on stdin; `ocf-aws \
             <agent> <action> --plug=… [options]` runs one from the command line.",
            agents::resource_agents()
                .map(|a| a.name)
                .collect::<Vec<_>>()
                .join(", "),
            fence.join(", ")
        ))
        .args_conflicts_with_subcommands(true)
        .subcommand_negates_reqs(true)
        .subcommand(man_command())
        .subcommand(crate::migrate::command())
        .subcommand(
            Command::new("doctor")
                .about("Check what an agent needs on this node; ✓/✗ per check, exit 1 on any ✗")
                .long_about(
                    "Run on a cluster node: checks the parameters, the instance metadata \
                     (IMDSv2, role), credentials and region, proxy, endpoint reachability \
                     and latency, each role to assume (role_arn, routing_table_role), each IAM action the agent needs (EC2 DryRun), and the \
                     agent's AWS resources (route tables and source/dest check for vip, \
                     the allocation for eip, the hosted zone, record and resolver for dns, \
                     the zone state for az). Changes nothing. Examples: ocf-aws doctor vip \
                     ip=192.168.100.10; ocf-aws doctor --resource vip1 --json",
                )
                .arg(
                    Arg::new("json")
                        .long("json")
                        .action(ArgAction::SetTrue)
                        .help("Print the checks as JSON"),
                )
                .arg(
                    Arg::new("resource")
                        .long("resource")
                        .short('r')
                        .value_name("ID")
                        .help("Take agent and parameters from this CIB resource (crm_resource)"),
                )
                .arg(
                    Arg::new("spec")
                        .num_args(0..)
                        .value_name("AGENT [NAME=VALUE]...")
                        .help("The agent and its parameters (with --resource: overrides)"),
                ),
        )
        .subcommand(
            Command::new("api-reachable")
                .about("Exit 0 if this node can reach and use the AWS API (a quorum-device heuristic)")
                .long_about(
                    "Sends one signed, read-only request (EC2 DescribeAvailabilityZones with \
                     DryRun; with --route53 also ListResourceRecordSets on that hosted zone) \
                     through the endpoint, proxy and credentials the agents use, and exits 0 \
                     when AWS answers it as allowed, 1 when it does not or not within \
                     --timeout, 2 on bad arguments; one line of evidence on stdout. For \
                     corosync-qdevice: quorum { device { heuristics { mode: sync \
                     exec_aws: /usr/sbin/ocf-aws api-reachable } } }, so that in a tie qnetd \
                     gives the vote to the partition that can still move the addresses. \
                     Settings as NAME=VALUE, the same as the agents' parameters: region, \
                     endpoint_url, profile, proxy, imds_version, role_arn, external_id. \
                     Complete set-ups: /usr/share/doc/ocf-aws/crm-examples/qdevice.corosync.conf \
                     and qdevice.pcs (README: Split brain on AWS).",
                )
                .arg(
                    Arg::new("timeout")
                        .long("timeout")
                        .value_name("SECONDS")
                        .value_parser(clap::value_parser!(f64))
                        .default_value("3")
                        .help("Answer within this many seconds (corosync-qdevice's heuristics timeout is 5 s by default)"),
                )
                .arg(
                    Arg::new("route53")
                        .long("route53")
                        .value_name("HOSTED_ZONE_ID")
                        .help("Also ask Route 53 about this hosted zone (for a dns resource)"),
                )
                .arg(
                    Arg::new("settings")
                        .num_args(0..)
                        .value_name("NAME=VALUE")
                        .help("AWS settings as the agents take them, e.g. region=eu-central-1 proxy=http://proxy:3128"),
                ),
        )
        .subcommand(
            Command::new("iam-policy")
                .about("Print a least-privilege IAM policy (JSON) for the agents")
                .long_about(
                    "Print a least-privilege IAM policy for every agent, or for the agents \
                     named, each followed by the parameters of its resource, which narrow \
                     the resources: ocf-aws iam-policy vip ip=192.168.100.10 \
                     routing_table=rtb-0123abcd eip allocation_id=eipalloc-0123abcd. \
                     When a resource names a role to assume (role_arn, vip's \
                     routing_table_role), it prints both halves as {\"NodeRole\": \
                     {\"Policy\"}, \"AssumedRoles\": {ARN: {\"Policy\", \"TrustPolicy\"}}}: \
                     what the nodes' own role needs (its own calls, sts:AssumeRole on the \
                     role) and what the role needs.",
                )
                .arg(
                    Arg::new("spec")
                        .num_args(0..)
                        .value_name("AGENT [NAME=VALUE]...")
                        .help("Agents, each followed by its parameters"),
                ),
        )
        .arg(
            Arg::new("list")
                .long("list")
                .action(ArgAction::SetTrue)
                .help("Print the resource agent names, one per line"),
        )
        .arg(
            Arg::new("list-fence")
                .long("list-fence")
                .action(ArgAction::SetTrue)
                .help("Print the fence agent names, one per line"),
        )
        .arg(
            Arg::new("agent")
                .value_parser(names)
                .required_unless_present_any(["list", "list-fence"])
                .help("The agent"),
        )
        .arg(
            Arg::new("action")
                .required_unless_present_any(["list", "list-fence"])
                .help(
                    "start, stop, monitor, validate-all, meta-data or usage; for a fence \
                     agent on, off, reboot, status, list, list-status, monitor, metadata or \
                     validate-all",
                ),
        )
        .arg(
            Arg::new("options")
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .value_name("OPTION")
                .help("A fence agent's options, e.g. --plug=i-0123456789abcdef0 --region=eu-central-1"),
        )
}

fn human(args: Vec<String>) -> i32 {
    let m = match command().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => ocf::Rc::Args.code(),
            };
        }
    };
    if let Some(sub) = m.subcommand_matches("doctor") {
        let words: Vec<String> = sub
            .get_many::<String>("spec")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        return crate::doctor::main(
            &words,
            sub.get_one::<String>("resource").map(String::as_str),
            sub.get_flag("json"),
        );
    }
    if let Some(sub) = m.subcommand_matches("api-reachable") {
        let seconds = sub.get_one::<f64>("timeout").copied().unwrap_or(3.0);
        if !(seconds.is_finite() && (0.1..=600.0).contains(&seconds)) {
            eprintln!(
                "ocf-aws api-reachable: --timeout {seconds} is out of range (0.1 to 600 seconds)"
            );
            return 2;
        }
        return crate::reachable::main(&crate::reachable::Request {
            timeout: std::time::Duration::from_secs_f64(seconds),
            route53_zone: sub.get_one::<String>("route53").cloned(),
            settings: sub
                .get_many::<String>("settings")
                .map(|v| v.cloned().collect())
                .unwrap_or_default(),
        });
    }
    if let Some(sub) = m.subcommand_matches("migrate") {
        return crate::migrate::main(sub);
    }
    if let Some(sub) = m.subcommand_matches("man") {
        return crate::man::run(sub, command());
    }
    if let Some(sub) = m.subcommand_matches("iam-policy") {
        let words: Vec<String> = sub
            .get_many::<String>("spec")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        return match iam_policy(&words) {
            Ok(json) => {
                println!("{json}");
                0
            }
            Err(e) => {
                eprintln!("ocf-aws iam-policy: {e}");
                ocf::Rc::Args.code()
            }
        };
    }
    if m.get_flag("list") {
        for a in agents::resource_agents() {
            println!("{}", a.name);
        }
        return 0;
    }
    if m.get_flag("list-fence") {
        for a in agents::fence_agents() {
            println!("{}", a.name);
        }
        return 0;
    }
    let agent = m
        .get_one::<String>("agent")
        .map(String::as_str)
        .unwrap_or("");
    let spec = agents::find(agent).expect("clap checked the agent name");
    let action = m.get_one::<String>("action").cloned().unwrap_or_default();
    let options: Vec<String> = m
        .get_many::<String>("options")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    // As if called through its own symlink: a resource agent takes the
    // action as argv[1]; a fence agent its options, the action as -o.
    let argv: Vec<String> = if spec.is_fence() {
        [spec.name.to_string(), "--action".into(), action]
            .into_iter()
            .chain(options)
            .collect()
    } else {
        vec![spec.name.to_string(), action]
    };
    spec.run(&argv)
}

/// `iam-policy [AGENT [NAME=VALUE]...]...`: the policy as pretty JSON.
fn iam_policy(words: &[String]) -> Result<String, String> {
    use std::collections::BTreeMap;
    let mut chosen: Vec<(&'static agents::Spec, BTreeMap<String, String>)> = Vec::new();
    for w in words {
        match w.split_once('=') {
            Some((k, v)) => {
                let Some((spec, params)) = chosen.last_mut() else {
                    return Err(format!("'{w}' comes before any agent name"));
                };
                if !spec.params.iter().any(|p| p.name == k) {
                    return Err(format!("{} has no parameter '{k}'", spec.name));
                }
                params.insert(k.to_string(), v.to_string());
            }
            None => match agents::find(w) {
                Some(spec) => chosen.push((spec, BTreeMap::new())),
                None => return Err(format!("unknown agent '{w}' (ocf-aws --list)")),
            },
        }
    }
    if chosen.is_empty() {
        chosen = agents::ALL.iter().map(|a| (*a, BTreeMap::new())).collect();
    }
    // A role ARN that cannot be one would make a policy that grants nothing.
    for (spec, params) in &chosen {
        for (k, v) in params {
            if k == "role_arn" || spec.iam.iter().any(|p| p.role_param == Some(k.as_str())) {
                crate::aws::assume::check_arn(k, v)
                    .map_err(|e| format!("{}: {}", spec.name, e.0))?;
            }
        }
    }
    let input: Vec<_> = chosen
        .into_iter()
        .map(|(spec, params)| (spec.name, spec.iam, params))
        .collect();
    serde_json::to_string_pretty(&crate::aws::iam::policies(&input)).map_err(|e| e.to_string())
}
