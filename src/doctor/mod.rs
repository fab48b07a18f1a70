//! `ocf-aws doctor`: run on a cluster node, it checks everything a failed
//! AWS resource usually comes down to (the troubleshooting lists of the
//! vendors' HA guides for AWS) and prints one ✓/✗ line per check with the
//! evidence and, for a failure, the fix. It changes nothing: EC2
//! permissions are asked with `DryRun`, everything else is read-only.
//!
//! The checks use the same code paths as the agents (parameter table,
//! `Session::connect`, the IMDS client, the domain functions), so a green
//! doctor means the agent sees the same world.

mod az;
pub mod cib;
mod dns;
mod eip;
mod vip;

use crate::agents;
use crate::aws::checks::{self, ProbeArgs, Verdict};
use crate::aws::imds::{self, Imds, Instance};
use crate::aws::{AwsOptions, Service, Session};
use crate::ocf::{AgentSpec, Ctx, Deadline, OcfEnv, Param, Params};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Could not be checked (AWS offers no way, or an earlier failure
    /// leaves nothing to check with); does not fail the doctor.
    Skip,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Skip => "–",
        }
    }
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub evidence: String,
    pub fix: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub agent: String,
    pub resource: Option<String>,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn pass(&mut self, name: &str, evidence: impl Into<String>) {
        self.push(name, Status::Pass, evidence, None::<String>);
    }
    pub fn fail(&mut self, name: &str, evidence: impl Into<String>, fix: impl Into<String>) {
        self.push(name, Status::Fail, evidence, Some(fix));
    }
    pub fn skip(&mut self, name: &str, evidence: impl Into<String>) {
        self.push(name, Status::Skip, evidence, None::<String>);
    }
    fn push(
        &mut self,
        name: &str,
        status: Status,
        evidence: impl Into<String>,
        fix: Option<impl Into<String>>,
    ) {
        self.checks.push(Check {
            name: name.to_string(),
            status,
            evidence: evidence.into(),
            fix: fix.map(Into::into),
        });
    }

    pub fn ok(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Fail)
    }

    fn count(&self, s: Status) -> usize {
        self.checks.iter().filter(|c| c.status == s).count()
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "ocf-aws doctor: {}{}\n",
            self.agent,
            self.resource
                .as_ref()
                .map(|r| format!(" (resource {r})"))
                .unwrap_or_default()
        );
        for c in &self.checks {
            out.push_str(&format!("{} {}: {}\n", c.status.mark(), c.name, c.evidence));
            if let Some(f) = &c.fix {
                out.push_str(&format!("    fix: {f}\n"));
            }
        }
        out.push_str(&format!(
            "{} checks: {} passed, {} failed, {} not checked\n",
            self.checks.len(),
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skip)
        ));
        out
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "agent": self.agent,
            "resource": self.resource,
            "ok": self.ok(),
            "passed": self.count(Status::Pass),
            "failed": self.count(Status::Fail),
            "skipped": self.count(Status::Skip),
            "checks": self.checks.iter().map(|c| json!({
                "check": c.name,
                "status": c.status.word(),
                "evidence": c.evidence,
                "fix": c.fix,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Everything an agent's own checks get to work with.
pub(crate) struct Env<'a> {
    pub params: &'a Params,
    pub imds: &'a Imds,
    pub session: &'a Session,
}

/// The parameters every AWS agent shares; they are read on their own so
/// that a resource with a bad agent-specific value still gets its
/// credentials, metadata and endpoint checked.
const AWS_PARAMS: &[Param] = &[
    crate::aws::params::REGION,
    crate::aws::params::ENDPOINT_URL,
    crate::aws::params::PROFILE,
    crate::aws::params::PROXY,
    crate::aws::params::IMDS_VERSION,
];

/// How long the whole doctor may take: every check is bounded by it.
const BUDGET: Duration = Duration::from_secs(60);

pub fn run(
    spec: &AgentSpec,
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

    let params = check_params(spec, &env, deadline, &mut r);
    let opts = aws_options(&env, &mut r);
    // Live metadata only, never the agents' identity cache: doctor must see
    // what the metadata service answers now, not what it answered at boot.
    let imds = Imds::new(
        env.aws.imds_endpoint.as_deref(),
        opts.imds_version,
        deadline,
    );
    check_imds(&opts, &imds, &mut r);

    let session = match Session::connect(&opts, &env, &imds, deadline) {
        Ok(s) => s,
        Err(e) if e.reason.starts_with("no region set") => {
            r.fail(
                "region",
                e.reason,
                "set region on the resource, or AWS_REGION in /etc/default/pacemaker",
            );
            r.skip("AWS checks", "skipped: no AWS session without a region");
            return r;
        }
        Err(e) => {
            r.fail(
                "credentials",
                e.reason,
                "attach an IAM instance profile to this instance, or configure a profile \
                 in /root/.aws (Pacemaker runs agents without HOME)",
            );
            check_role(&imds, None, &mut r);
            r.skip(
                "AWS checks",
                "skipped: no AWS session without credentials and a region",
            );
            return r;
        }
    };
    let source = checks::credential_source(&opts, &env, &imds);
    r.pass("credentials", format!("resolved from {source}"));
    check_role(&imds, Some(&source), &mut r);
    r.pass(
        "region",
        format!(
            "{} (from {})",
            session.region(),
            checks::region_source(&opts, &env)
        ),
    );
    check_proxy(&opts, &env, &mut r);
    let service = if spec.name == "dns" {
        Service::Route53
    } else {
        Service::Ec2
    };
    check_endpoint(&session, service, &mut r);

    let probe = match &params {
        Some(p) => {
            let e = Env {
                params: p,
                imds: &imds,
                session: &session,
            };
            match spec.name {
                "vip" => vip::checks(&e, &mut r),
                "eip" => eip::checks(&e, &mut r),
                "dns" => dns::checks(&e, &mut r),
                "az" => az::checks(&e, &mut r),
                _ => ProbeArgs::default(),
            }
        }
        None => {
            r.skip(
                &format!("{} checks", spec.name),
                "skipped until the parameters are valid",
            );
            ProbeArgs::default()
        }
    };
    check_permissions(spec, &session, &probe, &mut r);
    r
}

fn check_params(
    spec: &AgentSpec,
    env: &OcfEnv,
    deadline: Deadline,
    r: &mut Report,
) -> Option<Params> {
    let params = match Params::parse(spec.params, &env.reskeys) {
        Ok(p) => p,
        Err(e) => {
            r.fail(
                "parameters",
                e.reason,
                "correct the parameter on the resource",
            );
            return None;
        }
    };
    let ctx = Ctx {
        env: env.clone(),
        params: params.clone(),
        deadline,
        depth: 0,
        probe: false,
    };
    if let Err(e) = (spec.new)().configure(&ctx) {
        r.fail(
            "parameters",
            e.reason,
            "correct the parameter on the resource",
        );
        return None;
    }
    if !params.unknown.is_empty() {
        r.fail(
            "parameters",
            format!(
                "unknown parameter(s) {} (not in {}'s meta-data)",
                params.unknown.join(", "),
                spec.name
            ),
            format!(
                "remove or rename them: ocf-aws {} meta-data lists the parameters",
                spec.name
            ),
        );
        return Some(params);
    }
    let set: Vec<String> = env
        .reskeys
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::ocf::params::shorten(v)))
        .collect();
    r.pass(
        "parameters",
        if set.is_empty() {
            "valid (all defaults)".to_string()
        } else {
            format!("valid: {}", set.join(" "))
        },
    );
    Some(params)
}

fn aws_options(env: &OcfEnv, r: &mut Report) -> AwsOptions {
    let own: BTreeMap<String, String> = env
        .reskeys
        .iter()
        .filter(|(k, _)| AWS_PARAMS.iter().any(|p| p.name == k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match Params::parse(AWS_PARAMS, &own).and_then(|p| AwsOptions::from_params(&p)) {
        Ok(o) => o,
        Err(e) => {
            r.fail(
                "AWS parameters",
                format!("{}; checking with the defaults instead", e.reason),
                "correct the parameter on the resource",
            );
            AwsOptions {
                region: None,
                endpoint_url: None,
                profile: None,
                proxy: None,
                imds_version: imds::Version::V2,
            }
        }
    }
}

fn check_imds(opts: &AwsOptions, imds: &Imds, r: &mut Report) {
    let inst = Instance::new(imds);
    match inst.instance_id() {
        Ok(id) => {
            let az = inst.availability_zone().unwrap_or_else(|_| "?".into());
            r.pass(
                "instance metadata",
                format!("{} answers: instance {id} in {az}", imds.endpoint()),
            );
            r.pass(
                "IMDSv2",
                match opts.imds_version {
                    imds::Version::V2 => "session token accepted".to_string(),
                    imds::Version::V1 => {
                        "not used (imds_version=1); IMDSv1 answered instead".to_string()
                    }
                },
            );
        }
        Err(e) if e.reason.contains("refused an IMDSv2 token") => {
            let v1 = Imds::new(
                Some(imds.endpoint()),
                imds::Version::V1,
                Deadline::from_timeout(Duration::from_secs(5)),
            );
            match Instance::new(&v1).instance_id() {
                Ok(id) => r.pass(
                    "instance metadata",
                    format!("{} answers over IMDSv1: instance {id}", imds.endpoint()),
                ),
                Err(e) => r.fail(
                    "instance metadata",
                    e.reason,
                    "make sure this is an EC2 instance with its metadata service enabled",
                ),
            }
            r.fail(
                "IMDSv2",
                e.reason,
                "set imds_version=1 on the resource, or better enable IMDSv2 (aws ec2 \
                 modify-instance-metadata-options --http-tokens required)",
            );
        }
        Err(e) => {
            r.fail(
                "instance metadata",
                e.reason,
                "make sure this is an EC2 instance with its metadata service enabled \
                 (aws ec2 modify-instance-metadata-options --http-endpoint enabled) and that \
                 no firewall rule blocks 169.254.169.254",
            );
            r.skip("IMDSv2", "not checked: the metadata service did not answer");
        }
    }
}

/// An attached role matters only when nothing else supplies credentials.
fn check_role(imds: &Imds, source: Option<&str>, r: &mut Report) {
    match checks::instance_role(imds) {
        Ok(Some(role)) => r.pass("instance role", format!("{role} is attached")),
        Ok(None) | Err(_) => match source {
            Some(s) if !s.starts_with("instance role") => r.pass(
                "instance role",
                format!("none attached; not needed, credentials come from {s}"),
            ),
            _ => r.fail(
                "instance role",
                "the instance metadata lists no role under iam/security-credentials",
                "attach an IAM instance profile with the policy of `ocf-aws iam-policy` \
                 (aws ec2 associate-iam-instance-profile)",
            ),
        },
    }
}

fn check_proxy(opts: &AwsOptions, env: &OcfEnv, r: &mut Report) {
    let (proxy, from) = match (&opts.proxy, &env.proxy) {
        (Some(p), _) => (p, "parameter proxy"),
        (None, Some(p)) => (p, "HTTPS_PROXY/HTTP_PROXY"),
        (None, None) => {
            r.pass(
                "proxy",
                "none: API requests go directly (or via NAT / VPC endpoints)",
            );
            return;
        }
    };
    let shown = crate::aws::error::redact_userinfo(proxy);
    r.pass("proxy", format!("{shown} (from {from})"));
    if env.proxy.is_none() {
        return;
    }
    let covered = env.no_proxy.as_deref().is_some_and(|n| {
        n.split(',')
            .map(str::trim)
            .any(|h| h == "169.254.169.254" || h == "*")
    });
    if covered {
        r.pass("NO_PROXY covers IMDS", "169.254.169.254 is in NO_PROXY");
    } else {
        r.fail(
            "NO_PROXY covers IMDS",
            format!(
                "NO_PROXY is {}: other tools on this node (AWS CLI, curl, other agents) \
                 would ask the proxy for instance metadata and get the proxy's own \
                 (ocf-aws itself always bypasses the proxy for it)",
                env.no_proxy
                    .as_deref()
                    .map(|n| format!("'{n}'"))
                    .unwrap_or_else(|| "not set".into())
            ),
            "add 169.254.169.254 to NO_PROXY where HTTPS_PROXY is set (/etc/default/pacemaker \
             or /etc/sysconfig/pacemaker)",
        );
    }
}

fn check_endpoint(s: &Session, service: Service, r: &mut Report) {
    let route = s.route(service);
    let reach = checks::reach(s, service);
    let name = match service {
        Service::Ec2 => "EC2 endpoint",
        Service::Route53 => "Route 53 endpoint",
    };
    if reach.answered {
        r.pass(
            name,
            format!(
                "{} answered in {} ms",
                route.describe(),
                reach.latency.as_millis()
            ),
        );
    } else {
        r.fail(
            name,
            format!(
                "{} did not answer after {} ms: {}",
                route.describe(),
                reach.latency.as_millis(),
                reach.detail
            ),
            "check the path to the endpoint: NAT gateway or proxy, a VPC interface endpoint \
             (set endpoint_url) and its security group, DNS resolution of the endpoint",
        );
    }
}

fn check_permissions(spec: &AgentSpec, s: &Session, probe: &ProbeArgs, r: &mut Report) {
    for p in agents::iam(spec.name) {
        let name = format!("permission {}", p.action);
        match checks::permission(s, p.action, probe) {
            Verdict::Allowed(how) => r.pass(&name, format!("{how}; used for {}", p.when)),
            Verdict::Denied(why) => r.fail(
                &name,
                why,
                format!(
                    "add {} to the instance role's policy: ocf-aws iam-policy {} prints one",
                    p.action, spec.name
                ),
            ),
            Verdict::Untestable(why) => r.skip(&name, why),
            Verdict::Failed(why) => r.fail(
                &name,
                format!("could not be checked: {why}"),
                "see the endpoint and credentials checks above",
            ),
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
    let mut agent: Option<&'static AgentSpec> = None;
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
        let Some(name) = res.agent.strip_prefix("ocf:aws:") else {
            return usage(format!(
                "resource '{id}' is {}, not an ocf:aws agent",
                res.agent
            ));
        };
        let Some(spec) = agents::find(name) else {
            return usage(format!("resource '{id}' uses unknown agent ocf:aws:{name}"));
        };
        if agent.is_some_and(|a| a.name != spec.name) {
            return usage(format!(
                "resource '{id}' is ocf:aws:{name}, not {}",
                words[0]
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
