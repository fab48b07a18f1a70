//! Another role's credentials (STS AssumeRole), for resources that belong
//! to another account: a shared VPC's route tables (owned by the network
//! account), a central account's private hosted zones.
//!
//! The role is assumed with the session's own credentials through
//! aws-config's `AssumeRoleProvider`, over the same HTTP client, proxy and
//! endpoint rule as every other call, retried and bounded by the action's
//! deadline like one ([`Session::retrying`]). The credentials live in
//! memory for the action and are renewed by assuming again; nothing is
//! written anywhere.

use super::call::NO_GRACE;
use super::classify::{self, Retry};
use super::credentials::Renewable;
use super::error::{chain, Error, Kind, Result};
use super::session::{Assumed, Service, Session};
use crate::core::params::shorten;
use crate::core::Invalid;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// A role to assume, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRole {
    pub arn: String,
    pub external_id: Option<String>,
    /// The parameter that names it, for exit reasons.
    pub param: &'static str,
}

/// The characters IAM allows in role names and path segments.
fn iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

impl AssumeRole {
    /// `arn` from parameter `param`, checked before any AWS call: an ARN
    /// that cannot be a role's is a configuration error on every node.
    pub fn new(
        param: &'static str,
        arn: &str,
        external_id: Option<&str>,
    ) -> std::result::Result<AssumeRole, Invalid> {
        check_arn(param, arn)?;
        Ok(AssumeRole {
            arn: arn.to_string(),
            external_id: external_id.map(str::to_string),
            param,
        })
    }
}

/// Parameter `param`'s value `arn` must be an IAM role's ARN.
pub fn check_arn(param: &str, arn: &str) -> std::result::Result<(), Invalid> {
    if valid_role_arn(arn) {
        return Ok(());
    }
    Err(Invalid(format!(
        "{param}='{}' is not an IAM role ARN: set it like \
         arn:aws:iam::<account>:role/<name> (aws iam get-role --role-name <name> shows it)",
        shorten(arn)
    )))
}

/// `arn:<partition>:iam::<12 digits>:role/[<path>/]<name>`, as IAM issues
/// them (names up to 64 characters of `[\w+=,.@-]`).
fn valid_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let Some(path) = resource.strip_prefix("role/") else {
        return false;
    };
    let name = path.rsplit('/').next().unwrap_or_default();
    prefix == "arn"
        && partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && (1..=64).contains(&name.len())
        && path.len() <= 512 + 64
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg.chars().all(iam_name_char))
}

/// An ExternalId as STS takes it: 2 to 1224 of `[\w+=,.@:/-]`.
pub(crate) fn check_external_id(v: &str) -> std::result::Result<String, Invalid> {
    let ok = (2..=1224).contains(&v.len())
        && v.chars().all(|c| iam_name_char(c) || c == ':' || c == '/');
    if ok {
        Ok(v.to_string())
    } else {
        Err(Invalid(format!(
            "external_id='{}' is not an ExternalId STS accepts: 2 to 1224 letters, digits \
             and _+=,.@:/- (as in the role's trust policy)",
            shorten(v)
        )))
    }
}

/// `ocf-aws-<node>`, fitted to STS's RoleSessionName (`[\w+=,.@-]{2,64}`):
/// CloudTrail then shows which node made each call.
pub(crate) fn session_name(node: Option<&str>) -> String {
    let node: String = node
        .unwrap_or("node")
        .chars()
        .map(|c| if iam_name_char(c) { c } else { '-' })
        .collect();
    let mut name = format!("ocf-aws-{node}");
    // ASCII only by now, so any byte index is a character boundary.
    name.truncate(64);
    name
}

impl Session {
    /// A session signing as `role`, assumed with this session's
    /// credentials (STS AssumeRole, retried within the deadline). It
    /// shares this session's runtime, HTTP client and settings.
    pub fn assume(&self, role: &AssumeRole) -> Result<Session> {
        let name = session_name(self.node_name.as_deref());
        let mut sts = self.conf.clone().into_builder();
        if let Some(e) = self.endpoint_for(Service::Sts) {
            sts = sts.endpoint_url(e);
        }
        let sts = sts.build();
        let provider = self.block_on(async {
            let mut b = AssumeRoleProvider::builder(&role.arn)
                .session_name(&name)
                .configure(&sts);
            if let Some(x) = &role.external_id {
                b = b.external_id(x);
            }
            b.build_from_provider(self.creds.clone()).await
        });
        let route = self.route(Service::Sts);
        let creds = self
            .block_on(
                self.retrying(Service::Sts, "sts:AssumeRole", NO_GRACE, || async {
                    provider
                        .provide_credentials()
                        .await
                        .map_err(|e| failure(&e, &route))
                }),
            )
            .map_err(|e| denied_or_context(e, role))?;
        log::debug!("assumed {} as session {name} ({})", role.arn, role.param);
        let creds = Renewable::renewing_with(creds, SharedCredentialsProvider::new(provider));
        let conf = self
            .conf
            .clone()
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(creds.clone()))
            .build();
        Ok(Session {
            rt: self.rt.clone(),
            conf,
            creds,
            deadline: self.deadline,
            region: self.region.clone(),
            region_source: self.region_source,
            credential_source: self.credential_source.clone(),
            role: Some(Assumed {
                arn: role.arn.clone(),
                session_name: name,
                param: role.param,
            }),
            endpoint_override: self.endpoint_override.clone(),
            env_endpoints: self.env_endpoints.clone(),
            proxy: self.proxy.clone(),
            node_name: self.node_name.clone(),
            ec2: Default::default(),
            route53: Default::default(),
        })
    }

    /// Who this session's calls are signed as, for humans.
    pub fn identity(&self) -> String {
        match &self.role {
            Some(r) => format!("role {} ({}, session {})", r.arn, r.param, r.session_name),
            None => format!(
                "this node's own credentials ({})",
                self.credential_source.describe()
            ),
        }
    }
}

/// What AssumeRole's failure was: STS's answer (found in the provider's
/// error chain, by type) classified like any other call's.
fn failure(e: &CredentialsError, route: &super::error::Route) -> (Error, Retry) {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(sdk) = err.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            return classify::classify(sdk, "sts:AssumeRole", route);
        }
        cur = err.source();
    }
    let kind = Kind::Failed {
        action: "sts:AssumeRole",
        route: route.clone(),
        detail: chain(e),
    };
    (kind.into(), Retry::No)
}

/// A denial names the role and both policies that decide it; any other
/// failure says which role was being assumed.
fn denied_or_context(e: Error, role: &AssumeRole) -> Error {
    match *e.kind {
        Kind::Denied { answer, .. } => Kind::RoleDenied {
            role: role.arn.clone(),
            param: role.param,
            external_id: role.external_id.is_some(),
            answer,
        }
        .into(),
        _ => e.context(format!("assuming {} ({})", role.arn, role.param)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_as_iam_issues_them() {
        for ok in [
            "arn:aws:iam::123456789012:role/ha-network",
            "arn:aws:iam::123456789012:role/path/to/Net_Role+=,.@-",
            "arn:aws-cn:iam::123456789012:role/x",
            "arn:aws-us-gov:iam::123456789012:role/x",
        ] {
            assert!(AssumeRole::new("role_arn", ok, None).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ha-network",
            "arn:aws:iam::123456789012:user/ha",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam:eu-west-1:123456789012:role/x",
            "arn:aws:sts::123456789012:assumed-role/x/y",
            "arn:aws:iam::123456789012:role/a b",
            "arn:aws:iam::123456789012:role//x",
            &format!("arn:aws:iam::123456789012:role/{}", "n".repeat(65)),
        ] {
            let e = AssumeRole::new("role_arn", bad, None).unwrap_err();
            assert!(e.0.contains("arn:aws:iam::<account>:role/<name>"), "{e:?}");
            assert!(e.0.starts_with("role_arn='"), "{e:?}");
        }
    }

    #[test]
    fn external_ids_and_session_names_fit_sts() {
        assert!(check_external_id("tenant-42:prod/ha").is_ok());
        assert!(check_external_id("x").is_err());
        assert!(check_external_id("no spaces").is_err());
        let re_ok = |s: &str| (2..=64).contains(&s.len()) && s.chars().all(iam_name_char);
        for node in [
            Some("node1"),
            Some("ip-10-0-1-10.eu-west-1.compute.internal"),
            Some("wëird node/name"),
            Some(&*"n".repeat(100)),
            None,
        ] {
            let s = session_name(node);
            assert!(re_ok(&s), "{s}");
            assert!(s.starts_with("ocf-aws-"), "{s}");
        }
        assert_eq!(session_name(Some("node1")), "ocf-aws-node1");
    }
}
