//! The doctor's checks of this node, common to every agent: instance
//! metadata, credentials and role, proxy, the endpoints, and each IAM
//! permission the agent declares.

use super::Report;
use crate::agents::Spec;
use crate::aws::imds::{self, Imds, Instance};
use crate::aws::options::AssumeRole;
use crate::aws::probes::{self, ProbeArgs, Verdict};
use crate::aws::{AwsEnv, AwsOptions, Service, Session};
use crate::core::Deadline;
use std::collections::BTreeMap;
use std::time::Duration;

pub(super) fn check_imds(opts: &AwsOptions, imds: &Imds, r: &mut Report) {
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
        Err(e @ imds::Error::TokenRefused { .. }) => {
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
                    e.to_string(),
                    "make sure this is an EC2 instance with its metadata service enabled",
                ),
            }
            r.fail(
                "IMDSv2",
                e.to_string(),
                "raise the metadata hop limit or enable the metadata service (aws ec2 \
                 modify-instance-metadata-options --http-endpoint enabled \
                 --http-put-response-hop-limit 2), or set imds_version=1 on the resource",
            );
        }
        Err(e) => {
            r.fail(
                "instance metadata",
                e.to_string(),
                "make sure this is an EC2 instance with its metadata service enabled \
                 (aws ec2 modify-instance-metadata-options --http-endpoint enabled) and that \
                 no firewall rule blocks 169.254.169.254",
            );
            r.skip("IMDSv2", "not checked: the metadata service did not answer");
        }
    }
}

/// An attached role matters only when nothing else supplies credentials.
pub(super) fn check_role(imds: &Imds, source: Option<&str>, r: &mut Report) -> Option<String> {
    match imds.instance_role() {
        Ok(Some(role)) => {
            r.pass("instance role", format!("{role} is attached"));
            Some(role)
        }
        Ok(None) | Err(_) => {
            match source {
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
            }
            None
        }
    }
}

pub(super) fn check_proxy(opts: &AwsOptions, env: &AwsEnv, r: &mut Report) {
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

pub(super) fn check_endpoint(s: &Session, service: Service, r: &mut Report) {
    let route = s.route(service);
    let reach = probes::reach(s, service);
    let name = format!("{} endpoint", service.name());
    if reach.answered {
        r.pass(
            &name,
            format!(
                "{} answered in {} ms",
                route.describe(),
                reach.latency.as_millis()
            ),
        );
    } else {
        r.fail(
            &name,
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

/// Can this node assume `role`? The session of the role when it can.
pub(super) fn check_assume(
    spec: &Spec,
    own: &Session,
    role: &AssumeRole,
    r: &mut Report,
) -> Option<Session> {
    let name = format!("assume {}", role.param);
    let (verdict, session) = probes::assume(own, role);
    let fix = format!(
        "allow sts:AssumeRole on {arn} in this node's policy and trust this node's role in \
         the trust policy of {arn}{}: ocf-aws iam-policy {} {}={arn} prints both",
        if role.external_id.is_some() {
            " (condition sts:ExternalId equal to external_id)"
        } else {
            ""
        },
        spec.name,
        role.param,
        arn = role.arn,
    );
    match verdict {
        Verdict::Allowed(how) => r.pass(&name, how),
        Verdict::Denied(why) => r.fail(&name, why, fix),
        Verdict::Untestable(why) => r.skip(&name, why),
        Verdict::Failed(why) => r.fail(
            &name,
            format!("could not be checked: {why}"),
            "see the STS endpoint and credentials checks above",
        ),
    }
    session
}

/// Each IAM action the agent declares, asked as the identity the agent
/// makes it as: role_arn, the permission's own role (vip's
/// routing_table_role), or this node's own credentials.
pub(super) fn check_permissions(
    spec: &Spec,
    own: &Session,
    roles: &BTreeMap<String, Session>,
    reskeys: &BTreeMap<String, String>,
    probe: &ProbeArgs,
    r: &mut Report,
) {
    for p in spec.iam {
        let name = format!("permission {}", p.action);
        let role = p.role(reskeys);
        let s = match role {
            None => own,
            Some(arn) => match roles.get(arn) {
                Some(s) => s,
                None => {
                    r.skip(&name, format!("not checked: {arn} could not be assumed"));
                    continue;
                }
            },
        };
        let whose = match role {
            Some(arn) => format!("the policy of role {arn}"),
            None => "the instance role's policy".to_string(),
        };
        let print = match role {
            Some(arn) => {
                let k = match p.role_param {
                    Some(k) if !reskeys.contains_key("role_arn") => k,
                    _ => "role_arn",
                };
                format!("ocf-aws iam-policy {} {k}={arn}", spec.name)
            }
            None => format!("ocf-aws iam-policy {}", spec.name),
        };
        match probes::permission(s, p.action, probe) {
            Verdict::Allowed(how) => r.pass(
                &name,
                format!("{how} as {}; used for {}", s.identity(), p.when),
            ),
            Verdict::Denied(why) => r.fail(
                &name,
                format!("{why} (as {})", s.identity()),
                format!("add {} to {whose}: {print} prints one", p.action),
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
