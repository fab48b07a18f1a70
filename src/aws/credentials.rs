//! Where an action's AWS credentials come from, and how they are renewed
//! when AWS says they expired.
//!
//! Credentials are resolved once per action and handed to the SDK through
//! [`Renewable`], with the SDK's own identity cache off: every request asks
//! it, it answers from memory, and only an `ExpiredToken` answer makes the
//! session fetch new ones (see `Session::call`).

use super::env::AwsEnv;
use super::error::{chain, Kind, Result};
use super::imds::{self, Imds};
use super::options::AwsOptions;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use std::sync::{Arc, Mutex};

/// Which source answered, in the order the SDK's default chain (and so
/// every agent action) tries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// access_key/secret_key parameters.
    Parameters,
    Environment,
    Profile(String),
    /// The role's name, when this program fetched the credentials itself.
    InstanceRole(Option<String>),
    /// Web identity, container credentials, SSO, a process…
    Other(String),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Parameters => "parameters access_key and secret_key".into(),
            Source::Environment => "environment (AWS_ACCESS_KEY_ID)".into(),
            Source::Profile(p) => format!("profile '{p}'"),
            Source::InstanceRole(Some(r)) => format!("instance role {r} (instance metadata)"),
            Source::InstanceRole(None) => "instance role (instance metadata)".into(),
            Source::Other(p) => format!("{p} (web identity or container credentials)"),
        }
    }

    fn of(creds: &Credentials, profile: &str) -> Source {
        use aws_credential_types::credential_feature::AwsCredentialFeature as F;
        // The features aws-config's chain stamps on what it returns (for
        // its user-agent metrics) say which provider answered.
        let features = creds.get_property::<Vec<F>>().cloned().unwrap_or_default();
        let has = |f: F| features.contains(&f);
        if has(F::CredentialsEnvVars) {
            Source::Environment
        } else if has(F::CredentialsImds) {
            Source::InstanceRole(None)
        } else if has(F::CredentialsProfile) {
            Source::Profile(profile.to_string())
        } else {
            Source::Other(
                features
                    .iter()
                    .map(|f| format!("{f:?}"))
                    .collect::<Vec<_>>()
                    .join("+"),
            )
        }
    }
}

/// What the session falls back on to renew credentials.
#[derive(Debug)]
enum Origin {
    /// The instance role, fetched by this program (a fresh, uncached
    /// metadata client each time: the identity cache holds no secrets).
    Role {
        endpoint: Option<String>,
        version: imds::Version,
        deadline: crate::core::Deadline,
    },
    /// aws-config's default chain (environment, profiles, web identity…).
    Chain(SharedCredentialsProvider),
    /// Keys from the configuration: nothing to renew them from.
    Fixed,
}

/// The credentials the SDK signs with: resolved once, renewed on demand.
#[derive(Debug, Clone)]
pub(crate) struct Renewable {
    current: Arc<Mutex<Credentials>>,
    origin: Arc<Origin>,
}

impl ProvideCredentials for Renewable {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let creds = self.current.lock().map(|c| c.clone());
        future::ProvideCredentials::ready(
            creds.map_err(|_| CredentialsError::unhandled("credentials lock poisoned")),
        )
    }
}

impl Renewable {
    /// `creds`, renewed by asking `provider` again (an assumed role's).
    pub(crate) fn renewing_with(creds: Credentials, provider: SharedCredentialsProvider) -> Self {
        Renewable {
            current: Arc::new(Mutex::new(creds)),
            origin: Arc::new(Origin::Chain(provider)),
        }
    }

    /// Fetch the credentials again (after AWS answered ExpiredToken).
    pub(crate) async fn renew(&self) -> Result<()> {
        let fresh = match &*self.origin {
            Origin::Role {
                endpoint,
                version,
                deadline,
            } => instance_role(&Imds::new(endpoint.as_deref(), *version, *deadline))?.0,
            Origin::Chain(p) => p.provide_credentials().await.map_err(|e| {
                Kind::Local(format!(
                    "renewing the AWS credentials failed: {}",
                    chain(&e)
                ))
            })?,
            Origin::Fixed => return Ok(()),
        };
        if let Ok(mut c) = self.current.lock() {
            *c = fresh;
        }
        Ok(())
    }
}

/// Everything the credential chain tries, for the exit reason.
pub(crate) fn tried(opts: &AwsOptions, env: &AwsEnv, imds: &Imds) -> String {
    let (config, creds) = env.profile_paths();
    format!(
        "tried environment (AWS_ACCESS_KEY_ID {}), profile '{}' in {config} and {creds}, \
         web identity and container credentials, and the instance role via {}",
        if env.access_key_set { "set" } else { "not set" },
        profile_name(opts, env),
        imds.endpoint()
    )
}

pub(crate) fn profile_name(opts: &AwsOptions, env: &AwsEnv) -> String {
    opts.profile
        .clone()
        .or_else(|| env.profile.clone())
        .unwrap_or_else(|| "default".into())
}

/// Whether nothing but the instance role could supply credentials: no keys
/// in the environment, no profile named, no config or credentials file, no
/// web identity or container credentials; and no FIPS or dual-stack endpoint
/// asked for, which only the SDK's full loader honours.
pub(crate) fn instance_role_only(opts: &AwsOptions, env: &AwsEnv) -> bool {
    let (config, creds) = env.profile_paths();
    !env.access_key_set
        && !env.other_credential_source
        && !env.endpoint_variant
        && opts.profile.is_none()
        && env.profile.is_none()
        && !std::path::Path::new(&config).exists()
        && !std::path::Path::new(&creds).exists()
}

/// Pacemaker runs agents without HOME; the AWS CLI users of these clusters
/// keep their profile in /root/.aws, so look there.
pub(crate) fn profile_files(env: &AwsEnv) -> Option<EnvConfigFiles> {
    if env.home.is_some() {
        return None;
    }
    // Explicitly named files must exist (the SDK fails on a missing one);
    // only the ones that do are handed over.
    let (config, creds) = env.profile_paths();
    let existing: Vec<_> = [
        (EnvConfigFileKind::Config, config),
        (EnvConfigFileKind::Credentials, creds),
    ]
    .into_iter()
    .filter(|(_, path)| std::path::Path::new(path).is_file())
    .collect();
    if existing.is_empty() {
        // No profile files at all: the SDK's defaults (relative to the
        // missing HOME) find nothing either, which is the truth.
        return None;
    }
    let mut b = EnvConfigFiles::builder()
        .include_default_config_file(false)
        .include_default_credentials_file(false);
    for (kind, path) in existing {
        b = b.with_file(kind, path);
    }
    Some(b.build())
}

/// Keys given as parameters.
pub(crate) fn from_keys(keys: &super::options::Keys) -> (Renewable, Source) {
    let creds = Credentials::new(
        keys.access_key.clone(),
        keys.secret_key.clone(),
        None,
        None,
        "parameters",
    );
    (
        Renewable {
            current: Arc::new(Mutex::new(creds)),
            origin: Arc::new(Origin::Fixed),
        },
        Source::Parameters,
    )
}

/// The instance role's credentials, fetched by this program over the
/// action's metadata client (one IMDSv2 token for everything).
pub(crate) fn from_instance_role(
    opts: &AwsOptions,
    env: &AwsEnv,
    imds: &Imds,
    deadline: crate::core::Deadline,
) -> Result<(Renewable, Source)> {
    let (creds, role) = instance_role(imds).map_err(|e| match *e.kind {
        Kind::NoInstanceRole { .. } => Kind::NoCredentials {
            tried: tried(opts, env, imds),
        }
        .into(),
        _ => e,
    })?;
    Ok((
        Renewable {
            current: Arc::new(Mutex::new(creds)),
            origin: Arc::new(Origin::Role {
                endpoint: env.imds_endpoint.clone(),
                version: opts.imds_version,
                deadline,
            }),
        },
        Source::InstanceRole(Some(role)),
    ))
}

/// The credentials of aws-config's default chain, resolved now.
pub(crate) async fn from_chain(
    provider: SharedCredentialsProvider,
    opts: &AwsOptions,
    env: &AwsEnv,
    imds: &Imds,
    deadline: crate::core::Deadline,
) -> Result<(Renewable, Source)> {
    let found = tokio::time::timeout(deadline.remaining(), provider.provide_credentials()).await;
    let creds = match found {
        Ok(Ok(c)) => c,
        // aws-config reads instance-role credentials over IMDSv2 only; with
        // imds_version=1 fetch them ourselves.
        Ok(Err(_)) if opts.imds_version == imds::Version::V1 => {
            return from_instance_role(opts, env, imds, deadline)
        }
        Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
            return Err(Kind::NoCredentials {
                tried: tried(opts, env, imds),
            }
            .into())
        }
        Ok(Err(e @ CredentialsError::InvalidConfiguration(_))) => {
            return Err(Kind::CredentialsConfig { detail: chain(&e) }.into())
        }
        Ok(Err(e)) => {
            return Err(Kind::CredentialsUnavailable {
                detail: chain(&e),
                tried: tried(opts, env, imds),
            }
            .into())
        }
        Err(_) => {
            return Err(Kind::CredentialsUnavailable {
                detail: "loading them did not finish before the deadline".into(),
                tried: tried(opts, env, imds),
            }
            .into())
        }
    };
    let source = Source::of(&creds, &profile_name(opts, env));
    Ok((
        Renewable {
            current: Arc::new(Mutex::new(creds)),
            origin: Arc::new(Origin::Chain(provider)),
        },
        source,
    ))
}

/// Instance-role credentials from the instance metadata, over the same
/// client (and IMDSv2 token) as every other metadata lookup; the role's name
/// comes from the identity cache when known.
fn instance_role(imds: &Imds) -> Result<(Credentials, String)> {
    let Some((role, body)) = imds.role_credentials()? else {
        return Err(Kind::NoInstanceRole {
            endpoint: imds.endpoint().to_string(),
        }
        .into());
    };
    let bad = |what: &str| Kind::BadRoleCredentials {
        role: role.clone(),
        what: what.to_string(),
    };
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|_| bad("not JSON"))?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    if let Some(code) = field("Code").filter(|c| c != "Success") {
        return Err(bad(&format!("Code {code}")).into());
    }
    let expiry = field("Expiration").and_then(|e| {
        aws_smithy_types::DateTime::from_str(&e, aws_smithy_types::date_time::Format::DateTime)
            .ok()
            .and_then(|d| std::time::SystemTime::try_from(d).ok())
    });
    let creds = Credentials::new(
        field("AccessKeyId").ok_or_else(|| bad("no AccessKeyId"))?,
        field("SecretAccessKey").ok_or_else(|| bad("no SecretAccessKey"))?,
        field("Token"),
        expiry,
        "instance-role",
    );
    Ok((creds, role))
}
