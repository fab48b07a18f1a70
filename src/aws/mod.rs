//! AWS plumbing: SDK configuration, credentials, region, endpoints, proxy,
//! retries, IMDS and error classification. The only code that names
//! `aws_sdk_*` / `aws_config` types; agents call the domain functions in
//! [`ec2`] with plain Rust values.

pub mod checks;
pub mod ec2;
pub mod error;
pub mod iam;
pub mod imds;
pub mod route53;

use crate::ocf::{Deadline, OcfEnv, OcfError, OcfResult, Param, Params};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use error::Route;
use std::future::Future;
use std::time::Duration;

/// The parameters every agent that talks to AWS declares.
pub mod params {
    use super::Param;
    use crate::ocf::params::Kind;

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
        "IMDSv2 (session tokens) is used by default. Set 1 only for an instance \
                 whose metadata service offers IMDSv1 alone.",
    );
    pub const API_FAILURE: Param = Param::new(
        "api_failure",
        Kind::Select(&["fail", "warn", "ignore"]),
        "What a monitor does when the AWS API cannot be reached",
    )
    .default("warn")
    .long(
        "When a monitor that asks the AWS API cannot get an answer (network, \
         throttling, AWS outage): fail returns an error (Pacemaker recovers the \
         resource, possibly moving it to a node that cannot reach AWS either); warn \
         logs a warning and reports the resource as running, judged by its local \
         state; ignore does the same without the warning.",
    );
}

/// The common AWS settings of a resource, validated.
#[derive(Clone, Debug)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub proxy: Option<String>,
    pub imds_version: imds::Version,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiFailure {
    Fail,
    Warn,
    Ignore,
}

impl ApiFailure {
    /// A monitor could not ask AWS (`e` is transient): fail, or warn and
    /// report running (judged by local state), or stay silent.
    pub fn tolerate(self, e: OcfError, what: &str) -> OcfResult<()> {
        match self {
            ApiFailure::Fail => Err(e),
            ApiFailure::Warn => {
                log::warn!("{what} (api_failure=warn): {}", e.reason);
                Ok(())
            }
            ApiFailure::Ignore => Ok(()),
        }
    }

    pub fn from_params(p: &Params) -> ApiFailure {
        match p.str("api_failure") {
            Some("fail") => ApiFailure::Fail,
            Some("ignore") => ApiFailure::Ignore,
            _ => ApiFailure::Warn,
        }
    }
}

fn check_url(name: &str, v: &str) -> OcfResult<()> {
    let ok = (v.starts_with("http://") || v.starts_with("https://"))
        && v.split("://").nth(1).is_some_and(|rest| {
            let host = rest.split(['/', '?']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        });
    if ok {
        Ok(())
    } else {
        Err(OcfError::configured(format!(
            "parameter {name}='{}' is not an http(s) URL: set it like https://host[:port]",
            crate::ocf::params::shorten(v)
        )))
    }
}

fn check_region(v: &str) -> OcfResult<()> {
    let ok = v.len() <= 32
        && v.contains('-')
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(OcfError::configured(format!(
            "region '{}' is not an AWS region name: set region like eu-central-1",
            crate::ocf::params::shorten(v)
        )))
    }
}

impl AwsOptions {
    pub fn from_params(p: &Params) -> OcfResult<AwsOptions> {
        if let Some(r) = p.str("region") {
            check_region(r)?;
        }
        for name in ["endpoint_url", "proxy"] {
            if let Some(v) = p.str(name) {
                check_url(name, v)?;
            }
        }
        Ok(AwsOptions {
            region: p.str("region").map(str::to_string),
            endpoint_url: p.str("endpoint_url").map(str::to_string),
            profile: p.str("profile").map(str::to_string),
            proxy: p.str("proxy").map(str::to_string),
            imds_version: match p.str("imds_version") {
                Some("1") => imds::Version::V1,
                _ => imds::Version::V2,
            },
        })
    }

    /// The metadata client, with the node's identity cache (see
    /// [`imds::Imds::with_cache`]) under the run directory.
    pub fn imds(&self, env: &OcfEnv, deadline: Deadline) -> imds::Imds {
        imds::Imds::new(
            env.aws.imds_endpoint.as_deref(),
            self.imds_version,
            deadline,
        )
        .with_cache(crate::ocf::state::StateFile::shared(env, "identity"))
    }
}

/// Which AWS service a call goes to (for its endpoint in exit reasons).
#[derive(Clone, Copy, Debug)]
pub enum Service {
    Ec2,
    Route53,
}

/// A connected AWS session for one action: a single-threaded runtime, the
/// SDK configuration with credentials already resolved, and the deadline.
/// Built only by actions that need the API, so probes and depth-0 monitors
/// never pay for it.
pub struct Session {
    rt: tokio::runtime::Runtime,
    conf: SdkConfig,
    deadline: Deadline,
    region: String,
    endpoint_override: Option<String>,
    env_endpoints: (Option<String>, Option<String>, Option<String>),
    proxy: Option<String>,
    ec2: std::cell::OnceCell<aws_sdk_ec2::Client>,
    route53: std::cell::OnceCell<aws_sdk_route53::Client>,
}

impl Session {
    pub fn connect(
        opts: &AwsOptions,
        env: &OcfEnv,
        imds: &imds::Imds,
        deadline: Deadline,
    ) -> OcfResult<Session> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| OcfError::generic(format!("cannot start the async runtime: {e}")))?;
        let proxy = opts.proxy.clone().or_else(|| env.proxy.clone());
        let env_endpoints = (
            env.aws.endpoint_url.clone(),
            env.aws.endpoint_url_ec2.clone(),
            env.aws.endpoint_url_route53.clone(),
        );
        let endpoint = opts
            .endpoint_url
            .clone()
            .or_else(|| env.aws.endpoint_url.clone());
        if instance_role_only(opts, env) && env_endpoints.1.is_none() && env_endpoints.2.is_none() {
            // What a node under Pacemaker has: no keys, no profile, only the
            // instance role. The SDK's configuration loader and credential
            // chain would probe every other source and fetch the role's
            // credentials with an IMDS client of its own (a second token);
            // ours shares the token and the identity cache.
            let region = match region_without_profile(opts, env)? {
                Some(r) => r,
                None => region_from_imds(imds)?,
            };
            let creds = instance_role_credentials(imds).map_err(|e| {
                if e.rc == crate::ocf::Rc::Perm {
                    OcfError::perm(format!(
                        "no AWS credentials found: {}; attach an instance role (IAM \
                         instance profile) to this instance, or configure a profile",
                        tried(opts, env, imds)
                    ))
                } else {
                    e
                }
            })?;
            let mut b = SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region.clone()))
                .credentials_provider(SharedCredentialsProvider::new(creds))
                .retry_config(RetryConfig::disabled())
                .timeout_config(timeouts(deadline))
                .http_client(http_client(
                    proxy.as_deref(),
                    endpoint.as_deref(),
                    env,
                    imds,
                )?);
            if let Some(u) = &endpoint {
                b = b.endpoint_url(u);
            }
            return Ok(Session {
                rt,
                conf: b.build(),
                deadline,
                region,
                endpoint_override: opts.endpoint_url.clone(),
                env_endpoints,
                proxy,
                ec2: Default::default(),
                route53: Default::default(),
            });
        }
        let profile_files = profile_files(env);
        let region = rt.block_on(resolve_region(opts, env, imds, &profile_files))?;

        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .retry_config(
                // `Session::call` retries, bounded by the deadline.
                RetryConfig::disabled(),
            )
            .timeout_config(timeouts(deadline));
        if let Some(files) = profile_files {
            loader = loader.profile_files(files);
        }
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(u) = &opts.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        loader = loader.http_client(http_client(
            proxy.as_deref(),
            endpoint.as_deref(),
            env,
            imds,
        )?);
        let conf = rt.block_on(async {
            match tokio::time::timeout(deadline.remaining(), loader.load()).await {
                Ok(c) => Ok(c),
                Err(_) => Err(OcfError::generic(
                    "loading the AWS configuration did not finish before the deadline",
                )),
            }
        })?;
        let conf = rt.block_on(resolve_credentials(conf, opts, env, imds, deadline))?;
        Ok(Session {
            rt,
            conf,
            deadline,
            region,
            endpoint_override: opts.endpoint_url.clone(),
            env_endpoints,
            proxy,
            ec2: Default::default(),
            route53: Default::default(),
        })
    }

    /// The EC2 client of this session (built once).
    pub(crate) fn ec2(&self) -> aws_sdk_ec2::Client {
        self.ec2
            .get_or_init(|| aws_sdk_ec2::Client::new(&self.conf))
            .clone()
    }

    /// The Route 53 client of this session (built once).
    pub(crate) fn route53(&self) -> aws_sdk_route53::Client {
        self.route53
            .get_or_init(|| aws_sdk_route53::Client::new(&self.conf))
            .clone()
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn deadline(&self) -> Deadline {
        self.deadline
    }

    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub(crate) fn route(&self, service: Service) -> Route {
        let (all, ec2, r53) = &self.env_endpoints;
        let specific = match service {
            Service::Ec2 => ec2,
            Service::Route53 => r53,
        };
        let endpoint = self
            .endpoint_override
            .clone()
            .or_else(|| specific.clone())
            .or_else(|| all.clone())
            .unwrap_or_else(|| match service {
                Service::Ec2 => format!("https://ec2.{}.amazonaws.com", self.region),
                Service::Route53 => "https://route53.amazonaws.com".to_string(),
            });
        Route {
            endpoint,
            proxy: self.proxy.clone(),
        }
    }

    pub(crate) fn sdk_config(&self) -> &SdkConfig {
        &self.conf
    }

    /// Run one API call of IAM action `action` (`make` builds and sends the
    /// request), retrying throttling, 5xx, timeouts and connection errors
    /// with exponential backoff and full jitter for as long as the deadline
    /// allows; anything else fails at once. The retries are ours rather than
    /// the SDK's so that the deadline bounds them and the exit reason can
    /// say what the last attempt got.
    pub(crate) async fn call<T, E, F, Fut>(
        &self,
        service: Service,
        action: &str,
        make: F,
    ) -> OcfResult<T>
    where
        F: Fn() -> Fut,
        Fut: Future<
            Output = Result<
                T,
                aws_smithy_runtime_api::client::result::SdkError<
                    E,
                    aws_smithy_runtime_api::client::orchestrator::HttpResponse,
                >,
            >,
        >,
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        let started = std::time::Instant::now();
        let mut backoff = Duration::from_millis(100);
        let mut attempts = 0u32;
        let last = loop {
            attempts += 1;
            let left = self.deadline.remaining();
            log::debug!("{action} attempt {attempts} ({left:?} left)");
            let failure = match tokio::time::timeout(left, make()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => {
                    let transient = error::is_transient(&e);
                    let err = error::classify(e, action, &self.route(service));
                    if !transient {
                        return Err(err);
                    }
                    err
                }
                Err(_) => OcfError::generic(format!(
                    "{action}: no answer from {} before the operation's deadline; check \
                     the network path to the endpoint (NAT, proxy, VPC endpoint) and \
                     security groups",
                    self.route(service).describe()
                )),
            };
            // Full jitter, so that nodes retrying at once do not hit the API in lockstep.
            let pause = crate::ocf::deadline::jitter(Duration::from_millis(10), backoff);
            // Another attempt only if it has a fair chance to finish in time.
            if self.deadline.remaining() <= pause + Duration::from_millis(250) {
                break failure;
            }
            log::debug!("{action}: {} — retrying in {pause:?}", failure.reason);
            tokio::time::sleep(pause).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        };
        Err(OcfError::new(
            last.rc,
            format!(
                "{} (gave up after {attempts} attempt(s) in {:.1}s, at the operation's deadline)",
                last.reason,
                started.elapsed().as_secs_f64()
            ),
        ))
    }
}

fn timeouts(deadline: Deadline) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(deadline.slice(Duration::from_secs(3)))
        .operation_attempt_timeout(deadline.slice(Duration::from_secs(10)))
        .build()
}

/// Whether nothing but the instance role could supply credentials: no keys
/// in the environment, no profile named, no config or credentials file, no
/// web identity or container credentials; and no FIPS or dual-stack endpoint
/// asked for, which only the SDK's full loader honours.
fn instance_role_only(opts: &AwsOptions, env: &OcfEnv) -> bool {
    let home = env.home.clone().unwrap_or_else(|| "/root".into());
    let config = env
        .aws
        .config_file
        .clone()
        .unwrap_or(format!("{home}/.aws/config"));
    let creds = env
        .aws
        .credentials_file
        .clone()
        .unwrap_or(format!("{home}/.aws/credentials"));
    !env.aws.access_key_set
        && !env.aws.other_credential_source
        && !env.aws.endpoint_variant
        && opts.profile.is_none()
        && env.aws.profile.is_none()
        && !std::path::Path::new(&config).exists()
        && !std::path::Path::new(&creds).exists()
}

/// The region from the parameter or the environment, if set there.
fn region_without_profile(opts: &AwsOptions, env: &OcfEnv) -> OcfResult<Option<String>> {
    if let Some(r) = &opts.region {
        return Ok(Some(r.clone()));
    }
    if let Some(r) = env.aws.region.as_ref().or(env.aws.default_region.as_ref()) {
        check_region(r).map_err(|e| e.context("AWS_REGION/AWS_DEFAULT_REGION"))?;
        return Ok(Some(r.clone()));
    }
    Ok(None)
}

fn region_from_imds(imds: &imds::Imds) -> OcfResult<String> {
    imds::Instance::new(imds).region().map_err(|e| {
        e.context(
            "no region set (parameter region, AWS_REGION, profile) and the instance \
             metadata could not tell it",
        )
    })
}

/// Everything the credential chain tries, for the exit reason.
fn tried(opts: &AwsOptions, env: &OcfEnv, imds: &imds::Imds) -> String {
    let home = env.home.clone().unwrap_or_else(|| "/root".into());
    format!(
        "tried environment (AWS_ACCESS_KEY_ID {}), profile '{}' in {} and {}, \
         web identity and container credentials, and the instance role via {}",
        if env.aws.access_key_set {
            "set"
        } else {
            "not set"
        },
        opts.profile
            .clone()
            .or_else(|| env.aws.profile.clone())
            .unwrap_or_else(|| "default".into()),
        env.aws
            .config_file
            .clone()
            .unwrap_or(format!("{home}/.aws/config")),
        env.aws
            .credentials_file
            .clone()
            .unwrap_or(format!("{home}/.aws/credentials")),
        imds.endpoint()
    )
}

/// Pacemaker runs agents without HOME; the AWS CLI users of these clusters
/// keep their profile in /root/.aws, so look there.
pub(crate) fn profile_files(env: &OcfEnv) -> Option<EnvConfigFiles> {
    if env.home.is_some() {
        return None;
    }
    // Explicitly named files must exist (the SDK fails on a missing one);
    // only the ones that do are handed over.
    let config = env
        .aws
        .config_file
        .clone()
        .unwrap_or("/root/.aws/config".into());
    let creds = env
        .aws
        .credentials_file
        .clone()
        .unwrap_or("/root/.aws/credentials".into());
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

async fn resolve_region(
    opts: &AwsOptions,
    env: &OcfEnv,
    imds: &imds::Imds,
    files: &Option<EnvConfigFiles>,
) -> OcfResult<String> {
    if let Some(r) = &opts.region {
        return Ok(r.clone());
    }
    if let Some(r) = region_without_profile(opts, env)? {
        return Ok(r);
    }
    let mut b = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(f) = files {
        b = b.profile_files(f.clone());
    }
    if let Some(p) = &opts.profile {
        b = b.profile_name(p);
    }
    use aws_config::meta::region::ProvideRegion;
    if let Some(r) = b.build().region().await {
        return Ok(r.to_string());
    }
    region_from_imds(imds)
}

async fn resolve_credentials(
    conf: SdkConfig,
    opts: &AwsOptions,
    env: &OcfEnv,
    imds: &imds::Imds,
    deadline: Deadline,
) -> OcfResult<SdkConfig> {
    let Some(provider) = conf.credentials_provider() else {
        return Err(OcfError::generic("no credentials provider configured"));
    };
    let tried = || tried(opts, env, imds);
    let found = tokio::time::timeout(deadline.remaining(), provider.provide_credentials()).await;
    let creds = match found {
        Ok(Ok(c)) => c,
        // aws-config reads instance-role credentials over IMDSv2 only; on an
        // IMDSv1-only instance (imds_version=1) fetch them ourselves.
        Ok(Err(_)) if opts.imds_version == imds::Version::V1 => instance_role_credentials(imds)
            .map_err(|e| e.context(&format!("no AWS credentials ({})", tried())))?,
        Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
            return Err(OcfError::perm(format!(
                "no AWS credentials found: {}; attach an instance role (IAM instance \
                 profile) to this instance, or configure a profile",
                tried()
            )))
        }
        Ok(Err(e @ CredentialsError::InvalidConfiguration(_))) => {
            return Err(OcfError::configured(format!(
                "AWS credentials configuration is invalid: {}",
                error::chain(&e)
            )))
        }
        Ok(Err(e)) => {
            return Err(OcfError::generic(format!(
                "could not load AWS credentials ({}): {}",
                error::chain(&e),
                tried()
            )))
        }
        Err(_) => {
            return Err(OcfError::generic(format!(
                "loading AWS credentials did not finish before the deadline: {}",
                tried()
            )))
        }
    };
    // Resolved once, used for every call of this short-lived action: no
    // second trip to IMDS for the same role credentials.
    Ok(conf
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build())
}

/// The HTTP client for the API: through `proxy` if set (instance metadata,
/// used by the SDK for instance-role credentials, is always exempt); without
/// TLS when the endpoint is plain http (a test world, an HTTP proxy's own
/// endpoint), which spares loading and parsing the system's root
/// certificates on every action.
fn http_client(
    proxy: Option<&str>,
    endpoint: Option<&str>,
    env: &OcfEnv,
    imds: &imds::Imds,
) -> OcfResult<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{Builder, Connector};
    let plain = endpoint.is_some_and(|e| e.starts_with("http://"))
        && proxy.is_none_or(|p| p.starts_with("http://"));
    let cfg = match proxy {
        None => ProxyConfig::disabled(),
        Some(proxy) => proxy_config(proxy, env, imds)?,
    };
    Ok(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut b = Connector::builder().proxy_config(cfg.clone());
            b.set_connector_settings(settings.cloned());
            if let Some(c) = components {
                b.set_sleep_impl(c.sleep_impl());
            }
            if plain {
                b.build_http()
            } else {
                b.tls_provider(Provider::Rustls(CryptoMode::AwsLc)).build()
            }
        }),
    )
}

/// All requests through `proxy`, except instance metadata (its well-known
/// addresses and the configured endpoint's host) and `NO_PROXY`.
fn proxy_config(
    proxy: &str,
    env: &OcfEnv,
    imds: &imds::Imds,
) -> OcfResult<aws_smithy_http_client::proxy::ProxyConfig> {
    let imds_host = imds
        .endpoint()
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|hp| {
            hp.rsplit_once(':')
                .map(|(h, _)| h.to_string())
                .or(Some(hp.to_string()))
        })
        .unwrap_or_default();
    let mut no_proxy = vec![
        "169.254.169.254".to_string(),
        "fd00:ec2::254".to_string(),
        imds_host,
    ];
    if let Some(n) = &env.no_proxy {
        no_proxy.push(n.clone());
    }
    Ok(aws_smithy_http_client::proxy::ProxyConfig::all(proxy)
        .map_err(|e| {
            OcfError::configured(format!(
                "proxy '{}' is not usable: {e}",
                error::redact_userinfo(proxy)
            ))
        })?
        .no_proxy(no_proxy.join(",")))
}

/// Instance-role credentials from the instance metadata, over the same
/// client (and IMDSv2 token) as every other metadata lookup; the role's name
/// comes from the identity cache when known. `Rc::Perm` when the instance
/// has no role.
fn instance_role_credentials(imds: &imds::Imds) -> OcfResult<aws_credential_types::Credentials> {
    let Some((role, body)) = imds.role_credentials()? else {
        return Err(OcfError::perm(format!(
            "this instance has no instance role (nothing under iam/security-credentials at {}): \
             attach an IAM instance profile, or configure a profile",
            imds.endpoint()
        )));
    };
    let bad = |what: &str| {
        OcfError::generic(format!(
            "instance metadata returned unusable credentials for role {role}: {what}"
        ))
    };
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|_| bad("not JSON"))?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    if let Some(code) = field("Code").filter(|c| c != "Success") {
        return Err(bad(&format!("Code {code}")));
    }
    let expiry = field("Expiration").and_then(|e| {
        aws_smithy_types::DateTime::from_str(&e, aws_smithy_types::date_time::Format::DateTime)
            .ok()
            .and_then(|d| std::time::SystemTime::try_from(d).ok())
    });
    Ok(aws_credential_types::Credentials::new(
        field("AccessKeyId").ok_or_else(|| bad("no AccessKeyId"))?,
        field("SecretAccessKey").ok_or_else(|| bad("no SecretAccessKey"))?,
        field("Token"),
        expiry,
        "instance-role",
    ))
}
