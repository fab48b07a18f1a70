//! `ocf-aws doctor`: run on a cluster node, it checks everything a failed
//! AWS resource usually comes down to (the troubleshooting lists of the
//! vendors' HA guides for AWS) and prints one ✓/✗ line per check with the
//! evidence and, for a failure, the fix. It changes nothing: EC2
//! permissions are asked with `DryRun`, everything else is read-only.
//!
//! Doctor configures the agent exactly as an action would and works from
//! its validated configuration: the common checks of this node are in
//! [`node`], each agent's own checks are its [`Checks`] implementation
//! (next to the agent's code, using the agent's decision functions), so a
//! check and the action it predicts cannot disagree.

pub mod cib;
mod node;
mod report;

pub use report::{Check, Report, Status};

use crate::agents::{self, Spec};
use crate::aws::credentials::Source;
use crate::aws::error::Kind;
use crate::aws::imds::Imds;
use crate::aws::probes::ProbeArgs;
use crate::aws::{AwsOptions, Service, Session};
use crate::core::{Deadline, Params};
use crate::ocf::OcfEnv;
use std::collections::BTreeMap;
use std::time::Duration;

/// What an agent's own checks get to work with, besides its configuration.
pub struct Env<'a> {
    pub imds: &'a Imds,
    /// The session the agent's calls use: this node's own, or role_arn's.
    pub session: &'a Session,
    /// The other roles the agent's calls are made as (vip's
    /// routing_table_role), by ARN, those that could be assumed.
    pub roles: &'a BTreeMap<String, Session>,
}

impl Env<'_> {
    /// The session of calls made as `role` (None: [`Env::session`]);
    /// `None` when that role could not be assumed.
    pub fn as_role(&self, role: Option<&crate::aws::options::AssumeRole>) -> Option<&Session> {
        match role {
            Some(r) => self.roles.get(&r.arn),
            None => Some(self.session),
        }
    }
}

/// An agent's own doctor checks, run on a configured agent. Returns what
/// the permission probes may use (the route table, the ENI, …).
pub trait Checks {
    fn doctor(&self, env: &Env, r: &mut Report) -> ProbeArgs;
}

/// How long the whole doctor may take: every check is bounded by it.
const BUDGET: Duration = Duration::from_secs(60);

pub fn run(
    spec: &Spec,
    reskeys: BTreeMap<String, String>,
    mut env: OcfEnv,
    resource: Option<String>,
) -> Report {
    env.reskeys = reskeys;
    let deadline = Deadline::from_timeout(BUDGET);
    let mut r = Report {
        agent: spec.name.to_string(),
        resource,
        ..Report::default()
    };

    let agent = configure(spec, &env, deadline, &mut r);
    let opts = aws_options(spec, &env, &mut r);
    // Live metadata only, never the agents' identity cache: doctor must see
    // what the metadata service answers now, not what it answered at boot.
    let imds = opts.live_imds(&env.aws, deadline);
    node::check_imds(&opts, &imds, &mut r);

    let own = match Session::connect_own(&opts, &env.aws, &imds, deadline) {
        Ok(s) => s,
        Err(e) if matches!(*e.kind, Kind::NoRegion(_)) => {
            r.fail(
                "region",
                e.to_string(),
                "set region on the resource, or AWS_REGION in /etc/default/pacemaker",
            );
            r.skip("AWS checks", "skipped: no AWS session without a region");
            return r;
        }
        Err(e) => {
            r.fail(
                "credentials",
                e.to_string(),
                "attach an IAM instance profile to this instance, or configure a profile \
                 in /root/.aws (Pacemaker runs agents without HOME)",
            );
            node::check_role(&imds, None, &mut r);
            r.skip(
                "AWS checks",
                "skipped: no AWS session without credentials and a region",
            );
            return r;
        }
    };
    // The session knows which source answered; only the role's name may
    // be missing when aws-config's chain fetched it.
    let source = match own.credential_source() {
        Source::InstanceRole(None) => Source::InstanceRole(imds.instance_role().ok().flatten()),
        s => s.clone(),
    }
    .describe();
    r.pass("credentials", format!("resolved from {source}"));
    node::check_role(&imds, Some(&source), &mut r);
    r.pass(
        "region",
        format!("{} (from {})", own.region(), own.region_source().describe()),
    );
    node::check_proxy(&opts, &env.aws, &mut r);
    let wanted = roles(spec, &env.reskeys, &opts);
    if !wanted.is_empty() {
        node::check_endpoint(&own, Service::Sts, &mut r);
    }
    let mut roles = BTreeMap::new();
    for role in &wanted {
        if let Some(s) = node::check_assume(spec, &own, role, &mut r) {
            roles.insert(role.arn.clone(), s);
        }
    }
    let session = match &opts.role {
        None => &own,
        Some(role) => match roles.get(&role.arn) {
            Some(s) => s,
            None => {
                r.skip(
                    "AWS checks",
                    format!(
                        "skipped: every call is made as {}, which could not be assumed",
                        role.arn
                    ),
                );
                return r;
            }
        },
    };
    for service in spec.services {
        node::check_endpoint(session, *service, &mut r);
    }

    let probe = match &agent {
        Some(a) => a.doctor(
            &Env {
                imds: &imds,
                session,
                roles: &roles,
            },
            &mut r,
        ),
        None => {
            r.skip(
                &format!("{} checks", spec.name),
                "skipped until the parameters are valid",
            );
            ProbeArgs::default()
        }
    };
    node::check_permissions(spec, &own, &roles, &env.reskeys, &probe, &mut r);
    r
}

/// The roles the agent's calls are made as under these parameters:
/// role_arn, and the roles its permissions name (vip's routing_table_role);
/// the ones whose ARN is not valid are left to the parameters check.
fn roles(
    spec: &Spec,
    reskeys: &BTreeMap<String, String>,
    opts: &AwsOptions,
) -> Vec<crate::aws::options::AssumeRole> {
    let mut out: Vec<crate::aws::options::AssumeRole> = opts.role.iter().cloned().collect();
    for p in spec.iam {
        let (Some(param), Some(arn)) = (p.role_param, p.role(reskeys)) else {
            continue;
        };
        if out.iter().any(|r| r.arn == arn) {
            continue;
        }
        if let Ok(r) = crate::aws::options::AssumeRole::new(param, arn, opts.external_id.as_deref())
        {
            out.push(r);
        }
    }
    out
}

/// The agent, configured from the parameters as an action would be; `None`
/// (with a failed check) when they are not valid.
fn configure(
    spec: &Spec,
    env: &OcfEnv,
    deadline: Deadline,
    r: &mut Report,
) -> Option<Box<dyn Checks>> {
    let params = match Params::parse_replacing(spec.params, spec.replaces, &env.reskeys) {
        Ok(p) => p,
        Err(e) => {
            r.fail("parameters", e.0, "correct the parameter on the resource");
            return None;
        }
    };
    let unknown = params.unknown.clone();
    let agent = match spec.configure(env, params, deadline) {
        Ok(a) => a,
        Err(reason) => {
            r.fail(
                "parameters",
                reason,
                "correct the parameter on the resource",
            );
            return None;
        }
    };
    if !unknown.is_empty() {
        r.fail(
            "parameters",
            format!(
                "unknown parameter(s) {} (not in {}'s meta-data)",
                unknown.join(", "),
                spec.name
            ),
            format!(
                "remove or rename them: ocf-aws {} meta-data lists the parameters",
                spec.name
            ),
        );
        return Some(agent);
    }
    // Secrets are shown as set, never by value.
    let set: Vec<String> = env
        .reskeys
        .iter()
        .map(
            |(k, v)| match spec.params.iter().find(|p| p.answers_to(k)) {
                Some(p) if p.secret => format!("{k}=(secret)"),
                _ => format!("{k}={}", crate::core::params::shorten(v)),
            },
        )
        .collect();
    r.pass(
        "parameters",
        if set.is_empty() {
            "valid (all defaults)".to_string()
        } else {
            format!("valid: {}", set.join(" "))
        },
    );
    Some(agent)
}

/// The common AWS parameters, read on their own so that a resource with a
/// bad agent-specific value still gets its credentials, metadata and
/// endpoint checked (with the agent's own role parameters, which
/// external_id may be for).
fn aws_options(spec: &Spec, env: &OcfEnv, r: &mut Report) -> AwsOptions {
    let roles = spec.iam.iter().filter_map(|p| p.role_param);
    let table: Vec<crate::core::Param> = crate::aws::params::ALL
        .iter()
        .copied()
        .chain(
            spec.params
                .iter()
                .copied()
                .filter(|p| roles.clone().any(|r| r == p.name)),
        )
        .collect();
    let table = table.as_slice();
    let own: BTreeMap<String, String> = env
        .reskeys
        .iter()
        .filter(|(k, _)| table.iter().any(|p| p.name == k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match Params::parse(table, &own).and_then(|p| AwsOptions::from_params(&p)) {
        Ok(o) => o,
        Err(e) => {
            r.fail(
                "AWS parameters",
                format!("{}; checking with the defaults instead", e.0),
                "correct the parameter on the resource",
            );
            AwsOptions::default()
        }
    }
}

/// `ocf-aws doctor` from the command line: the agent and its parameters
/// as words, or a resource of the CIB. Returns the exit code.
pub fn main(words: &[String], resource: Option<&str>, as_json: bool) -> i32 {
    let usage = |msg: String| {
        eprintln!("ocf-aws doctor: {msg}");
        crate::ocf::Rc::Args.code()
    };
    let mut reskeys = BTreeMap::new();
    let mut agent: Option<&'static Spec> = None;
    let mut rest = words;
    if let Some(first) = words.first().filter(|w| !w.contains('=')) {
        match agents::find(first) {
            Some(s) => agent = Some(s),
            None => return usage(format!("unknown agent '{first}' (ocf-aws --list)")),
        }
        rest = &words[1..];
    }
    if let Some(id) = resource {
        let res = match cib::read(id) {
            Ok(r) => r,
            Err(e) => return usage(e),
        };
        // ocf:aws:<agent> for a resource agent, stonith:<agent> for ours.
        let Some(name) = res
            .agent
            .strip_prefix("ocf:aws:")
            .or_else(|| res.agent.strip_prefix("stonith:"))
        else {
            return usage(format!(
                "resource '{id}' is {}, not an ocf:aws agent or an ocf-aws fence agent",
                res.agent
            ));
        };
        let Some(spec) =
            agents::find(name).filter(|s| s.is_fence() == res.agent.starts_with("stonith:"))
        else {
            return usage(format!(
                "resource '{id}' uses {}, which ocf-aws does not have",
                res.agent
            ));
        };
        if agent.is_some_and(|a| a.name != spec.name) {
            return usage(format!(
                "resource '{id}' is {}, not {}",
                res.agent, words[0]
            ));
        }
        agent = Some(spec);
        reskeys = res.params;
    }
    let Some(spec) = agent else {
        return usage(
            "name an agent (ocf-aws doctor vip ip=…) or a resource (--resource ID)".into(),
        );
    };
    for w in rest {
        let Some((k, v)) = w.split_once('=') else {
            return usage(format!("'{w}' is not NAME=VALUE"));
        };
        reskeys.insert(k.to_string(), v.to_string());
    }
    let report = run(
        spec,
        reskeys,
        OcfEnv::from_process(),
        resource.map(str::to_string),
    );
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.json()).unwrap_or_default()
        );
    } else {
        print!("{}", report.text());
    }
    if report.ok() {
        0
    } else {
        1
    }
}
