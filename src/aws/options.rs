//! The AWS settings of a resource (or fence device): the parameters every
//! agent that talks to AWS declares, and their validated form.

pub use super::assume::AssumeRole;
use super::env::AwsEnv;
use super::imds;
use crate::core::params::{shorten, Kind, Param, Params};
use crate::core::state::StateFile;
use crate::core::{Deadline, Invalid};

/// The parameters every agent that talks to AWS declares.
pub mod params {
    use super::{with_aws_settings, Kind, Param};

    pub const REGION: Param = Param::string("region", "AWS region").long(
        "AWS region of the API endpoint, e.g. eu-central-1. Default: AWS_REGION or \
         AWS_DEFAULT_REGION (from /etc/default/pacemaker), then the profile's region, \
         then this instance's region from the instance metadata.",
    );
    pub const ENDPOINT_URL: Param = Param::string("endpoint_url", "API endpoint URL").long(
        "Send API requests to this URL instead of the public regional endpoint, e.g. a \
         VPC interface endpoint https://vpce-0123-abcd.ec2.eu-central-1.vpce.amazonaws.com \
         for clusters without Internet access. AWS_ENDPOINT_URL_EC2, \
         AWS_ENDPOINT_URL_ROUTE_53 and AWS_ENDPOINT_URL are honoured when this is unset.",
    );
    pub const PROFILE: Param = Param::string("profile", "AWS CLI profile").long(
        "Named profile in ~/.aws/config and ~/.aws/credentials (/root/.aws when HOME is \
         unset, as under Pacemaker). Default: AWS_PROFILE, else 'default', and when no \
         profile supplies credentials, the instance role.",
    );
    pub const ROLE_ARN: Param = Param::string("role_arn", "IAM role to assume for every AWS call")
        .long(
            "Make every AWS call of this resource with the credentials of this IAM role, \
             e.g. arn:aws:iam::111122223333:role/ha-network for route tables or a hosted \
             zone of another account. The node's own credentials (instance role or \
             profile) assume it with STS AssumeRole at each action that calls AWS (nothing \
             is stored): they need sts:AssumeRole on it, and the role's trust policy must \
             trust them. The session name is ocf-aws-<node name>.",
        );
    pub const EXTERNAL_ID: Param = Param::string("external_id", "ExternalId for AssumeRole").long(
        "The ExternalId the trust policy of the role to assume requires (condition \
             sts:ExternalId), sent with every AssumeRole of role_arn (and of vip's \
             routing_table_role).",
    );
    pub const PROXY: Param = Param::string("proxy", "HTTPS proxy for API requests").long(
        "Proxy URL for AWS API requests, e.g. http://proxy.example.com:3128. Default: \
         HTTPS_PROXY / HTTP_PROXY with NO_PROXY from the environment (set them in \
         /etc/default/pacemaker or /etc/sysconfig/pacemaker). Instance metadata \
         (169.254.169.254, fd00:ec2::254) never goes through a proxy.",
    );
    pub const IMDS_VERSION: Param = Param::new(
        "imds_version",
        Kind::Select(&["2", "1"]),
        "Instance metadata version",
    )
    .default("2")
    .long(
        "IMDSv2 (session tokens) is used by default, as every instance offers it. Set 1 \
         only where token requests cannot work, e.g. a container whose metadata hop \
         limit is 1 on an instance that does not require tokens.",
    );

    /// The settings above, in the order agents list them.
    pub const ALL: &[Param] = with_aws_settings![];
}

/// An agent's parameter table: its own parameters, then the AWS settings
/// every agent shares ([`params::ALL`]), as meta-data lists them.
macro_rules! with_aws_settings {
    ($($p:expr),* $(,)?) => {
        &[
            $($p,)*
            $crate::aws::options::params::REGION,
            $crate::aws::options::params::ENDPOINT_URL,
            $crate::aws::options::params::PROFILE,
            $crate::aws::options::params::ROLE_ARN,
            $crate::aws::options::params::EXTERNAL_ID,
            $crate::aws::options::params::PROXY,
            $crate::aws::options::params::IMDS_VERSION,
        ]
    };
}
pub(crate) use with_aws_settings;

/// The common AWS settings of a resource, validated.
#[derive(Clone, Debug)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub proxy: Option<String>,
    pub imds_version: imds::Version,
    /// role_arn: the role every call is made as.
    pub role: Option<AssumeRole>,
    /// external_id, for role_arn and for an agent's own roles.
    pub external_id: Option<String>,
    /// Keys given as parameters (fence_aws's access_key/secret_key): they
    /// win over every other credential source.
    pub keys: Option<Keys>,
}

/// An access key pair from the configuration. Its Debug never shows the
/// secret.
#[derive(Clone)]
pub struct Keys {
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({}, ***)", self.access_key)
    }
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            region: None,
            endpoint_url: None,
            profile: None,
            proxy: None,
            imds_version: imds::Version::V2,
            role: None,
            external_id: None,
            keys: None,
        }
    }
}

fn check_url(name: &str, v: &str) -> Result<(), Invalid> {
    let ok = (v.starts_with("http://") || v.starts_with("https://"))
        && v.split("://").nth(1).is_some_and(|rest| {
            let host = rest.split(['/', '?']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        });
    if ok {
        Ok(())
    } else {
        Err(Invalid(format!(
            "parameter {name}='{}' is not an http(s) URL: set it like https://host[:port]",
            shorten(v)
        )))
    }
}

pub(crate) fn check_region(v: &str) -> Result<(), Invalid> {
    let ok = v.len() <= 32
        && v.contains('-')
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Invalid(format!(
            "region '{}' is not an AWS region name: set region like eu-central-1",
            shorten(v)
        )))
    }
}

impl AwsOptions {
    pub fn from_params(p: &Params) -> Result<AwsOptions, Invalid> {
        if let Some(r) = p.str("region") {
            check_region(r)?;
        }
        for name in ["endpoint_url", "proxy"] {
            if let Some(v) = p.str(name) {
                check_url(name, v)?;
            }
        }
        let external_id = match p.str("external_id") {
            Some(x) => Some(super::assume::check_external_id(x)?),
            None => None,
        };
        let role = match p.str("role_arn") {
            Some(arn) => Some(AssumeRole::new("role_arn", arn, external_id.as_deref())?),
            None => None,
        };
        if external_id.is_some() && role.is_none() && p.str("routing_table_role").is_none() {
            return Err(Invalid(
                "external_id is set, but no role to assume: set role_arn (or remove \
                 external_id)"
                    .into(),
            ));
        }
        let keys = match (p.str("access_key"), p.str("secret_key")) {
            (Some(a), Some(s)) => Some(Keys {
                access_key: a.to_string(),
                secret_key: s.to_string(),
            }),
            (None, None) => None,
            _ => {
                return Err(Invalid(
                    "only one of access_key and secret_key is set: set both, or neither to \
                     use the instance role or a profile"
                        .into(),
                ))
            }
        };
        // The ClusterLabs agents' auth_type: "role" means the instance role
        // whatever profile says (their default profile is "default").
        let profile = match p
            .legacy("auth_type")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("key") => p.str("profile").map(str::to_string),
            Some("role") => None,
            Some(other) => {
                return Err(Invalid(format!(
                    "auth_type='{}' is neither key nor role: remove auth_type (the \
                     instance role, or profile when set, is used)",
                    shorten(other)
                )))
            }
        };
        Ok(AwsOptions {
            keys,
            role,
            external_id,
            region: p.str("region").map(str::to_string),
            endpoint_url: p.str("endpoint_url").map(str::to_string),
            profile,
            proxy: p.str("proxy").map(str::to_string),
            imds_version: match p.str("imds_version") {
                Some("1") => imds::Version::V1,
                _ => imds::Version::V2,
            },
        })
    }

    /// The metadata client, with the node's identity cache (see
    /// [`imds::Imds::with_cache`]) under `run_dir`.
    pub fn imds(&self, env: &AwsEnv, run_dir: &std::path::Path, deadline: Deadline) -> imds::Imds {
        self.live_imds(env, deadline)
            .with_cache(StateFile::shared(run_dir, "identity"))
    }

    /// The metadata client without any cache: what the service answers now.
    pub fn live_imds(&self, env: &AwsEnv, deadline: Deadline) -> imds::Imds {
        imds::Imds::from_env(env, self.imds_version, deadline)
    }

    /// The proxy API requests use: the parameter, else the environment's.
    pub fn proxy<'a>(&'a self, env: &'a AwsEnv) -> Option<&'a str> {
        self.proxy.as_deref().or(env.proxy.as_deref())
    }
}
