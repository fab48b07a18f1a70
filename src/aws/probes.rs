//! AWS-side questions `ocf-aws doctor` asks that no agent action needs:
//! whether an IAM action is allowed (EC2 `DryRun`, Route 53 read-only
//! calls) and how long the endpoint takes to answer. Nothing here changes
//! anything in AWS.
//!
//! [`PROBES`] has one entry per IAM action any agent may declare; a unit
//! test of the registry proves that every declared action has one.

use super::error::chain;
use super::session::{Service, Session};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;
use std::time::{Duration, Instant};

/// How a permission probe came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed(String),
    Denied(String),
    /// AWS offers no way to ask without doing it, or the probe needs a
    /// resource that does not exist (yet).
    Untestable(String),
    /// No answer, or an answer that says nothing about the permission.
    Failed(String),
}

/// An endpoint answered (any HTTP answer, an error included) or not.
pub struct Reach {
    pub answered: bool,
    pub latency: Duration,
    pub detail: String,
}

/// What a permission probe may use to build a realistic request; each
/// agent's doctor checks fill in what they found.
#[derive(Clone, Debug, Default)]
pub struct ProbeArgs {
    pub route_table: Option<String>,
    pub cidr: Option<String>,
    pub eni: Option<String>,
    pub allocation_id: Option<String>,
    pub association_id: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub record_name: Option<String>,
    /// An instance fencing would stop or start.
    pub instance: Option<String>,
}

fn first_sentence(msg: &str) -> String {
    let s = msg.split(". ").next().unwrap_or(msg);
    crate::core::params::shorten(s)
}

fn verdict_of<T, E>(r: Result<T, SdkError<E, HttpResponse>>, dry_run: bool) -> Verdict
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(_) if dry_run => Verdict::Failed(
            "the endpoint ignored DryRun and carried the request out (not AWS?)".into(),
        ),
        Ok(_) => Verdict::Allowed("allowed (read-only call answered)".into()),
        Err(e) => {
            let code = e.code().unwrap_or_default().to_string();
            let msg = e.message().unwrap_or_default().to_string();
            match code.as_str() {
                "DryRunOperation" => Verdict::Allowed("allowed (DryRun)".into()),
                "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" => {
                    Verdict::Denied(format!("{code}: {}", first_sentence(&msg)))
                }
                "" => Verdict::Failed(chain(&e)),
                // Route 53 checks the permission before the id: an unknown
                // change id answered means the call itself was allowed.
                "NoSuchChange" => Verdict::Allowed("allowed (read-only call answered)".into()),
                _ if code.contains("NotFound") || code.starts_with("InvalidParameter") => {
                    Verdict::Untestable(format!(
                        "EC2 checked the request before the permission: {code}"
                    ))
                }
                _ => Verdict::Failed(format!("{code}: {}", first_sentence(&msg))),
            }
        }
    }
}

/// Send one probe request, bounded by the deadline.
fn ask<T, E, Fut>(s: &Session, request: Fut, dry_run: bool) -> Verdict
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let left = s.deadline().slice(Duration::from_secs(10));
    s.block_on(async {
        match tokio::time::timeout(left, request).await {
            Ok(r) => verdict_of(r, dry_run),
            Err(_) => Verdict::Failed("no answer before the deadline".into()),
        }
    })
}

fn no_dry_run(action: &str) -> Verdict {
    Verdict::Untestable(format!(
        "EC2 has no DryRun for {action} and doctor changes nothing; ask IAM instead: aws \
         iam simulate-principal-policy --action-names {action}"
    ))
}

fn missing(what: &str) -> Verdict {
    Verdict::Untestable(format!("needs {what}, which is not known"))
}

type Probe = fn(&Session, &ProbeArgs) -> Verdict;

/// What a route probe needs: a table holding the route, its destination
/// and this node's ENI.
fn route_args(a: &ProbeArgs) -> Result<(&str, &str, &str), Verdict> {
    let (Some(t), Some(c)) = (&a.route_table, &a.cidr) else {
        return Err(missing("a route table holding the route"));
    };
    let Some(eni) = &a.eni else {
        return Err(missing("this node's ENI"));
    };
    Ok((t, c, eni))
}

/// How to ask whether each IAM action is allowed. EC2 actions are asked
/// with `DryRun`; Route 53 has no DryRun, so its read-only actions are
/// really called and its change action is not.
pub const PROBES: &[(&str, Probe)] = &[
    ("ec2:DescribeRouteTables", |s, _| {
        ask(
            s,
            s.ec2().describe_route_tables().dry_run(true).send(),
            true,
        )
    }),
    ("ec2:DescribeNetworkInterfaces", |s, _| {
        ask(
            s,
            s.ec2().describe_network_interfaces().dry_run(true).send(),
            true,
        )
    }),
    ("ec2:DescribeVpcs", |s, _| {
        ask(s, s.ec2().describe_vpcs().dry_run(true).send(), true)
    }),
    ("ec2:DescribeAddresses", |s, _| {
        ask(s, s.ec2().describe_addresses().dry_run(true).send(), true)
    }),
    ("ec2:DescribeAvailabilityZones", |s, _| {
        ask(
            s,
            s.ec2().describe_availability_zones().dry_run(true).send(),
            true,
        )
    }),
    ("ec2:ReplaceRoute", |s, a| match route_args(a) {
        Ok((t, c, eni)) => {
            let req = s
                .ec2()
                .replace_route()
                .route_table_id(t)
                .network_interface_id(eni);
            let req = super::ec2::with_destination!(req, c);
            ask(s, req.dry_run(true).send(), true)
        }
        Err(v) => v,
    }),
    ("ec2:CreateRoute", |s, a| match route_args(a) {
        Ok((t, c, eni)) => {
            let req = s
                .ec2()
                .create_route()
                .route_table_id(t)
                .network_interface_id(eni);
            let req = super::ec2::with_destination!(req, c);
            ask(s, req.dry_run(true).send(), true)
        }
        Err(v) => v,
    }),
    ("ec2:ModifyNetworkInterfaceAttribute", |s, a| {
        let Some(eni) = &a.eni else {
            return missing("this node's ENI");
        };
        let req = s
            .ec2()
            .modify_network_interface_attribute()
            .network_interface_id(eni)
            .source_dest_check(
                aws_sdk_ec2::types::AttributeBooleanValue::builder()
                    .value(false)
                    .build(),
            )
            .dry_run(true);
        ask(s, req.send(), true)
    }),
    ("ec2:AssociateAddress", |s, a| {
        let Some(alloc) = &a.allocation_id else {
            return missing("the Elastic IP's allocation id");
        };
        let Some(eni) = &a.eni else {
            return missing("this node's ENI");
        };
        let req = s
            .ec2()
            .associate_address()
            .allocation_id(alloc)
            .network_interface_id(eni)
            .allow_reassociation(true)
            .dry_run(true);
        ask(s, req.send(), true)
    }),
    ("ec2:DisassociateAddress", |s, a| {
        let Some(assoc) = &a.association_id else {
            return Verdict::Untestable(
                "the Elastic IP is not associated now, so there is nothing to ask \
                 DisassociateAddress about"
                    .into(),
            );
        };
        let req = s
            .ec2()
            .disassociate_address()
            .association_id(assoc)
            .dry_run(true);
        ask(s, req.send(), true)
    }),
    // EC2 has no DryRun for these four.
    ("ec2:AssignPrivateIpAddresses", |_, _| {
        no_dry_run("ec2:AssignPrivateIpAddresses")
    }),
    ("ec2:UnassignPrivateIpAddresses", |_, _| {
        no_dry_run("ec2:UnassignPrivateIpAddresses")
    }),
    ("ec2:AssignIpv6Addresses", |_, _| {
        no_dry_run("ec2:AssignIpv6Addresses")
    }),
    ("ec2:UnassignIpv6Addresses", |_, _| {
        no_dry_run("ec2:UnassignIpv6Addresses")
    }),
    ("ec2:DescribeInstances", |s, _| {
        ask(s, s.ec2().describe_instances().dry_run(true).send(), true)
    }),
    ("ec2:StopInstances", |s, a| {
        let Some(i) = &a.instance else {
            return missing("an instance to fence");
        };
        let req = s.ec2().stop_instances().instance_ids(i).force(true);
        ask(s, req.dry_run(true).send(), true)
    }),
    ("ec2:StartInstances", |s, a| {
        let Some(i) = &a.instance else {
            return missing("an instance to fence");
        };
        let req = s.ec2().start_instances().instance_ids(i);
        ask(s, req.dry_run(true).send(), true)
    }),
    ("route53:GetHostedZone", |s, a| {
        let Some(z) = &a.hosted_zone_id else {
            return missing("hosted_zone_id");
        };
        ask(s, s.route53().get_hosted_zone().id(z).send(), false)
    }),
    ("route53:ListResourceRecordSets", |s, a| {
        let Some(z) = &a.hosted_zone_id else {
            return missing("hosted_zone_id");
        };
        let req = s
            .route53()
            .list_resource_record_sets()
            .hosted_zone_id(z)
            .max_items(1);
        ask(s, req.send(), false)
    }),
    ("route53:GetChange", |s, _| {
        ask(
            s,
            s.route53().get_change().id("C0000000000000DOCTOR").send(),
            false,
        )
    }),
    ("route53:ChangeResourceRecordSets", |_, _| {
        Verdict::Untestable(
            "Route 53 has no DryRun and doctor changes nothing; ask IAM instead: aws iam \
             simulate-principal-policy --action-names route53:ChangeResourceRecordSets"
                .into(),
        )
    }),
];

/// Whether doctor knows how to ask about `action`.
pub fn has_probe(action: &str) -> bool {
    PROBES.iter().any(|(a, _)| *a == action)
}

/// Is `action` (e.g. `ec2:ReplaceRoute`) allowed for these credentials?
pub fn permission(s: &Session, action: &str, a: &ProbeArgs) -> Verdict {
    match PROBES.iter().find(|(name, _)| *name == action) {
        Some((_, probe)) => probe(s, a),
        None => Verdict::Untestable(format!("doctor has no probe for {action}")),
    }
}

/// May this session assume `role`? STS has no DryRun, but AssumeRole
/// changes nothing in AWS (it only issues short-lived credentials), so
/// the probe really assumes it; the session comes back for the checks
/// and probes that run as the role.
pub fn assume(s: &Session, role: &super::assume::AssumeRole) -> (Verdict, Option<Session>) {
    match s.assume(role) {
        Ok(assumed) => {
            let how = format!(
                "allowed: {} assumed as session {} with {}",
                role.arn,
                assumed
                    .role()
                    .map(|r| r.session_name.as_str())
                    .unwrap_or(""),
                s.identity()
            );
            (Verdict::Allowed(how), Some(assumed))
        }
        Err(e) if e.class() == super::Class::Permission => (Verdict::Denied(e.to_string()), None),
        Err(e) => (Verdict::Failed(e.to_string()), None),
    }
}

/// Time one cheap request to the service's endpoint. Any answer counts,
/// an error included: it proves the network path, TLS and the proxy work.
pub fn reach(s: &Session, service: Service) -> Reach {
    let left = s.deadline().slice(Duration::from_secs(10));
    let started = Instant::now();
    let (answered, detail) = s.block_on(async {
        match service {
            Service::Ec2 => answer_of(
                tokio::time::timeout(
                    left,
                    s.ec2().describe_availability_zones().dry_run(true).send(),
                )
                .await,
            ),
            Service::Route53 => answer_of(
                tokio::time::timeout(
                    left,
                    s.route53().get_change().id("C0000000000000DOCTOR").send(),
                )
                .await,
            ),
            Service::Sts => {
                answer_of(tokio::time::timeout(left, s.sts().get_caller_identity().send()).await)
            }
        }
    });
    Reach {
        answered,
        latency: started.elapsed(),
        detail,
    }
}

fn answer_of<T, E>(
    r: Result<Result<T, SdkError<E, HttpResponse>>, tokio::time::error::Elapsed>,
) -> (bool, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Err(_) => (false, "no answer before the deadline".into()),
        Ok(Ok(_)) => (true, "answered".into()),
        Ok(Err(SdkError::ServiceError(e))) => (
            true,
            format!("answered ({})", e.err().code().unwrap_or("an error")),
        ),
        Ok(Err(e @ SdkError::ResponseError(_))) => (true, chain(&e)),
        Ok(Err(e)) => (false, chain(&e)),
    }
}
