//! AWS-side questions `ocf-aws doctor` asks that no agent action needs:
//! which credential source answered, whether an IAM action is allowed
//! (EC2 `DryRun`), how long the endpoint takes to answer, which VPCs a
//! private hosted zone is associated with. Nothing here changes anything
//! in AWS.

use super::{imds, profile_files, AwsOptions, Service, Session};
use crate::ocf::{OcfEnv, OcfResult};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::{Duration, Instant};

/// Where the credentials of a working session came from, in the order the
/// SDK's default chain (and so every agent action) tries them.
pub fn credential_source(opts: &AwsOptions, env: &OcfEnv, imds: &imds::Imds) -> String {
    if env.aws.access_key_set {
        return "environment (AWS_ACCESS_KEY_ID)".into();
    }
    let profile = opts
        .profile
        .clone()
        .or_else(|| env.aws.profile.clone())
        .unwrap_or_else(|| "default".into());
    let mut b =
        aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(&profile);
    if let Some(files) = profile_files(env) {
        b = b.profile_files(files);
    }
    let from_profile = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| {
            rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), b.build().provide_credentials())
                    .await
                    .map(|r| r.is_ok())
                    .unwrap_or(false)
            })
        })
        .unwrap_or(false);
    if from_profile {
        return format!("profile '{profile}'");
    }
    match instance_role(imds) {
        Ok(Some(role)) => format!("instance role {role} (instance metadata)"),
        _ => "web identity or container credentials".into(),
    }
}

/// The role the instance metadata hands out credentials for, if any.
pub fn instance_role(imds: &imds::Imds) -> OcfResult<Option<String>> {
    Ok(imds
        .get("meta-data/iam/security-credentials/")?
        .and_then(|r| {
            r.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string)
        }))
}

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
                "" => Verdict::Failed(super::error::chain(&e)),
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

fn first_sentence(msg: &str) -> String {
    let s = msg.split(". ").next().unwrap_or(msg);
    crate::ocf::params::shorten(s)
}

/// What a permission probe may use to build a realistic request.
#[derive(Clone, Debug, Default)]
pub struct ProbeArgs {
    pub route_table: Option<String>,
    pub cidr: Option<String>,
    pub eni: Option<String>,
    pub allocation_id: Option<String>,
    pub association_id: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub record_name: Option<String>,
}

/// Is `action` (e.g. `ec2:ReplaceRoute`) allowed for these credentials?
/// EC2 actions are asked with `DryRun`; Route 53 has no DryRun, so its
/// read-only actions are really called and its change action is not.
pub fn permission(s: &Session, action: &str, a: &ProbeArgs) -> Verdict {
    let ec2 = aws_sdk_ec2::Client::new(s.sdk_config());
    let r53 = aws_sdk_route53::Client::new(s.sdk_config());
    let left = s.deadline().slice(Duration::from_secs(10));
    let missing = |what: &str| Verdict::Untestable(format!("needs {what}, which is not known"));
    let eni = a.eni.clone().unwrap_or_default();
    s.block_on(async {
        macro_rules! ask {
            ($fut:expr, $dry:expr) => {
                match tokio::time::timeout(left, $fut).await {
                    Ok(r) => verdict_of(r, $dry),
                    Err(_) => Verdict::Failed("no answer before the deadline".into()),
                }
            };
        }
        match action {
            "ec2:DescribeRouteTables" => {
                ask!(ec2.describe_route_tables().dry_run(true).send(), true)
            }
            "ec2:DescribeNetworkInterfaces" => {
                ask!(ec2.describe_network_interfaces().dry_run(true).send(), true)
            }
            "ec2:DescribeVpcs" => ask!(ec2.describe_vpcs().dry_run(true).send(), true),
            "ec2:DescribeAddresses" => ask!(ec2.describe_addresses().dry_run(true).send(), true),
            "ec2:DescribeAvailabilityZones" => {
                ask!(ec2.describe_availability_zones().dry_run(true).send(), true)
            }
            "ec2:ReplaceRoute" | "ec2:CreateRoute" => {
                let (Some(t), Some(c)) = (&a.route_table, &a.cidr) else {
                    return missing("a route table holding the route");
                };
                if eni.is_empty() {
                    return missing("this node's ENI");
                }
                if action == "ec2:ReplaceRoute" {
                    ask!(
                        ec2.replace_route()
                            .route_table_id(t)
                            .destination_cidr_block(c)
                            .network_interface_id(&eni)
                            .dry_run(true)
                            .send(),
                        true
                    )
                } else {
                    ask!(
                        ec2.create_route()
                            .route_table_id(t)
                            .destination_cidr_block(c)
                            .network_interface_id(&eni)
                            .dry_run(true)
                            .send(),
                        true
                    )
                }
            }
            "ec2:ModifyNetworkInterfaceAttribute" => {
                if eni.is_empty() {
                    return missing("this node's ENI");
                }
                ask!(
                    ec2.modify_network_interface_attribute()
                        .network_interface_id(&eni)
                        .source_dest_check(
                            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                                .value(false)
                                .build()
                        )
                        .dry_run(true)
                        .send(),
                    true
                )
            }
            "ec2:AssociateAddress" => {
                let Some(alloc) = &a.allocation_id else {
                    return missing("the Elastic IP's allocation id");
                };
                if eni.is_empty() {
                    return missing("this node's ENI");
                }
                ask!(
                    ec2.associate_address()
                        .allocation_id(alloc)
                        .network_interface_id(&eni)
                        .allow_reassociation(true)
                        .dry_run(true)
                        .send(),
                    true
                )
            }
            "ec2:DisassociateAddress" => {
                let Some(assoc) = &a.association_id else {
                    return Verdict::Untestable(
                        "the Elastic IP is not associated now, so there is nothing to ask \
                         DisassociateAddress about"
                            .into(),
                    );
                };
                ask!(
                    ec2.disassociate_address()
                        .association_id(assoc)
                        .dry_run(true)
                        .send(),
                    true
                )
            }
            "route53:GetHostedZone" => {
                let Some(z) = &a.hosted_zone_id else {
                    return missing("hosted_zone_id");
                };
                ask!(r53.get_hosted_zone().id(z).send(), false)
            }
            "route53:ListResourceRecordSets" => {
                let Some(z) = &a.hosted_zone_id else {
                    return missing("hosted_zone_id");
                };
                ask!(
                    r53.list_resource_record_sets()
                        .hosted_zone_id(z)
                        .max_items(1)
                        .send(),
                    false
                )
            }
            "route53:GetChange" => ask!(r53.get_change().id("C0000000000000DOCTOR").send(), false),
            "route53:ChangeResourceRecordSets" => Verdict::Untestable(
                "Route 53 has no DryRun and doctor changes nothing; ask IAM instead: aws iam \
                 simulate-principal-policy --action-names route53:ChangeResourceRecordSets"
                    .into(),
            ),
            other => Verdict::Untestable(format!("doctor has no probe for {other}")),
        }
    })
}

/// Time one cheap request to the service's endpoint. Any answer counts,
/// an error included: it proves the network path, TLS and the proxy work.
pub fn reach(s: &Session, service: Service) -> Reach {
    let left = s.deadline().slice(Duration::from_secs(10));
    let started = Instant::now();
    let (answered, detail) = s.block_on(async {
        match service {
            Service::Ec2 => {
                let c = aws_sdk_ec2::Client::new(s.sdk_config());
                answer_of(
                    tokio::time::timeout(
                        left,
                        c.describe_availability_zones().dry_run(true).send(),
                    )
                    .await,
                )
            }
            Service::Route53 => {
                let c = aws_sdk_route53::Client::new(s.sdk_config());
                answer_of(
                    tokio::time::timeout(left, c.get_change().id("C0000000000000DOCTOR").send())
                        .await,
                )
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
        Ok(Err(e @ SdkError::ResponseError(_))) => (true, super::error::chain(&e)),
        Ok(Err(e)) => (false, super::error::chain(&e)),
    }
}

/// A hosted zone as doctor shows it.
pub struct ZoneInfo {
    pub name: String,
    pub private: bool,
    /// (VPC id, region) of every VPC a private zone is associated with.
    pub vpcs: Vec<(String, String)>,
}

/// GetHostedZone with the VPC associations; `Ok(None)`: no such zone.
pub fn zone_info(s: &Session, zone_id: &str) -> OcfResult<Option<ZoneInfo>> {
    let c = aws_sdk_route53::Client::new(s.sdk_config());
    s.block_on(async {
        match s
            .call(Service::Route53, "route53:GetHostedZone", || {
                c.get_hosted_zone().id(zone_id).send()
            })
            .await
        {
            Ok(r) => Ok(r.hosted_zone().map(|z| ZoneInfo {
                name: z.name().trim_end_matches('.').to_ascii_lowercase(),
                private: z.config().map(|c| c.private_zone()).unwrap_or(false),
                vpcs: r
                    .vpcs()
                    .iter()
                    .map(|v| {
                        (
                            v.vpc_id().unwrap_or_default().to_string(),
                            v.vpc_region()
                                .map(|r| r.as_str().to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect(),
            })),
            Err(e)
                if e.rc == crate::ocf::Rc::Configured && e.reason.contains("NoSuchHostedZone") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    })
}

/// Where the region came from, in the order `Session::connect` uses.
pub fn region_source(opts: &AwsOptions, env: &OcfEnv) -> String {
    if opts.region.is_some() {
        return "parameter region".into();
    }
    if env.aws.region.is_some() {
        return "AWS_REGION".into();
    }
    if env.aws.default_region.is_some() {
        return "AWS_DEFAULT_REGION".into();
    }
    let mut b = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(f) = profile_files(env) {
        b = b.profile_files(f);
    }
    if let Some(p) = &opts.profile {
        b = b.profile_name(p);
    }
    use aws_config::meta::region::ProvideRegion;
    let from_profile = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(async { b.build().region().await.is_some() }))
        .unwrap_or(false);
    if from_profile {
        "the profile".into()
    } else {
        "instance metadata placement/region".into()
    }
}
