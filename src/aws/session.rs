//! A connected AWS session for one action: the SDK configuration (built by
//! one function, [`sdk_config`]), the credentials and where they came from,
//! and [`Session::call`] (in `call.rs`), which bounds and retries every
//! request.

use super::credentials::{self, Renewable, Source};
use super::env::AwsEnv;
use super::error::{Kind, Result, Route};
use super::imds::Imds;
use super::options::AwsOptions;
pub use super::region::RegionSource;
use super::region::{region_from_imds, region_from_profile, region_without_profile};
use crate::core::Deadline;
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use std::future::Future;
use std::time::Duration;

/// Which AWS service a call goes to (for its endpoint in exit reasons and
/// the doctor's reachability check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Ec2,
    Route53,
    /// Only for assuming a role (`role_arn`, vip's `routing_table_role`).
    Sts,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Ec2 => "EC2",
            Service::Route53 => "Route 53",
            Service::Sts => "STS",
        }
    }
}

/// A single-threaded runtime, the SDK configuration with credentials
/// already resolved, and the deadline. Built only by actions that need the
/// API, so probes and depth-0 monitors never pay for it.
pub struct Session {
    /// Shared with the sessions of roles assumed from this one: the HTTP
    /// client's connections belong to the runtime that opened them.
    pub(super) rt: std::sync::Arc<tokio::runtime::Runtime>,
    pub(super) conf: SdkConfig,
    pub(super) creds: Renewable,
    pub(super) deadline: Deadline,
    pub(super) region: String,
    pub(super) region_source: RegionSource,
    /// Where this node's own credentials came from (also for an assumed
    /// role: they are what assumed it).
    pub(super) credential_source: Source,
    /// The role whose credentials this session signs with, if any.
    pub(super) role: Option<Assumed>,
    pub(super) endpoint_override: Option<String>,
    pub(super) env_endpoints: EnvEndpoints,
    pub(super) proxy: Option<String>,
    pub(super) node_name: Option<String>,
    pub(super) ec2: std::cell::OnceCell<aws_sdk_ec2::Client>,
    pub(super) route53: std::cell::OnceCell<aws_sdk_route53::Client>,
}

/// AWS_ENDPOINT_URL and the per-service ones.
#[derive(Clone, Debug, Default)]
pub(super) struct EnvEndpoints {
    all: Option<String>,
    ec2: Option<String>,
    route53: Option<String>,
    sts: Option<String>,
}

/// A role this session assumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assumed {
    pub arn: String,
    pub session_name: String,
    /// The parameter that named it (role_arn, routing_table_role).
    pub param: &'static str,
}

fn timeouts(deadline: Deadline) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(deadline.slice(Duration::from_secs(3)))
        .operation_attempt_timeout(deadline.slice(Duration::from_secs(10)))
        .build()
}

/// The one place the SDK configuration of an action is made: from a bare
/// builder (instance role only) or from what aws-config's loader found
/// (profiles, FIPS/dual-stack settings), with our region, our renewable
/// credentials and no SDK identity cache, no SDK retries (`Session::call`
/// retries, bounded by the deadline), per-attempt timeouts from the
/// deadline, our HTTP client and the endpoint override.
fn sdk_config(
    base: aws_types::sdk_config::Builder,
    region: &str,
    creds: &Renewable,
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
    endpoint: Option<&str>,
    deadline: Deadline,
) -> SdkConfig {
    let mut b = base
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(SharedCredentialsProvider::new(creds.clone()))
        .identity_cache(IdentityCache::no_cache())
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts(deadline))
        .http_client(http);
    // aws-config's AssumeRoleProvider insists on one; the loader sets the
    // same, a bare builder none.
    b.set_time_source(Some(aws_types::sdk_config::SharedTimeSource::default()));
    if let Some(u) = endpoint {
        b = b.endpoint_url(u);
    }
    b.build()
}

impl Session {
    /// The session of an action: this node's own credentials, or those of
    /// `role_arn` assumed with them.
    pub fn connect(
        opts: &AwsOptions,
        env: &AwsEnv,
        imds: &Imds,
        deadline: Deadline,
    ) -> Result<Session> {
        let own = Self::connect_own(opts, env, imds, deadline)?;
        match &opts.role {
            Some(role) => own.assume(role),
            None => Ok(own),
        }
    }

    /// A session with this node's own credentials (instance role, profile,
    /// keys), whatever `role_arn` says: what assumes the roles (doctor
    /// checks each AssumeRole with it).
    pub fn connect_own(
        opts: &AwsOptions,
        env: &AwsEnv,
        imds: &Imds,
        deadline: Deadline,
    ) -> Result<Session> {
        let rt = crate::core::runtime::new().map_err(Kind::Local)?;
        let proxy = opts.proxy(env).map(str::to_string);
        let env_endpoints = EnvEndpoints {
            all: env.endpoint_url.clone(),
            ec2: env.endpoint_url_ec2.clone(),
            route53: env.endpoint_url_route53.clone(),
            sts: env.endpoint_url_sts.clone(),
        };
        let endpoint = opts
            .endpoint_url
            .clone()
            .or_else(|| env.endpoint_url.clone());
        let http = super::http::client(proxy.as_deref(), endpoint.as_deref(), env, imds)?;
        let fast = credentials::instance_role_only(opts, env)
            && env_endpoints.ec2.is_none()
            && env_endpoints.route53.is_none();
        let (base, (region, region_source), (creds, credential_source)) = if let Some(keys) =
            &opts.keys
        {
            // Keys in the configuration win over every other source, as
            // fence_aws's access_key/secret_key do.
            let region = match region_without_profile(opts, env)? {
                Some(r) => r,
                None => region_from_imds(imds)?,
            };
            (SdkConfig::builder(), region, credentials::from_keys(keys))
        } else if fast {
            // What a node under Pacemaker has: no keys, no profile, only the
            // instance role. The SDK's configuration loader and credential
            // chain would probe every other source and fetch the role's
            // credentials with an IMDS client of its own (a second token);
            // ours shares the token and the identity cache.
            let region = match region_without_profile(opts, env)? {
                Some(r) => r,
                None => region_from_imds(imds)?,
            };
            let creds = credentials::from_instance_role(opts, env, imds, deadline)?;
            (SdkConfig::builder(), region, creds)
        } else {
            let files = credentials::profile_files(env);
            let region = match region_without_profile(opts, env)? {
                Some(r) => r,
                None => match rt.block_on(region_from_profile(opts, &files)) {
                    Some(r) => (r, RegionSource::Profile),
                    None => region_from_imds(imds)?,
                },
            };
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(region.0.clone()))
                .retry_config(RetryConfig::disabled())
                .timeout_config(timeouts(deadline))
                .http_client(http.clone());
            if let Some(files) = files {
                loader = loader.profile_files(files);
            }
            if let Some(p) = &opts.profile {
                loader = loader.profile_name(p);
            }
            let loaded = rt
                .block_on(async { tokio::time::timeout(deadline.remaining(), loader.load()).await })
                .map_err(|_| {
                    Kind::Local(
                        "loading the AWS configuration did not finish before the deadline".into(),
                    )
                })?;
            let Some(chain) = loaded.credentials_provider() else {
                return Err(Kind::Local("no credentials provider configured".into()).into());
            };
            let creds = rt.block_on(credentials::from_chain(chain, opts, env, imds, deadline))?;
            (loaded.into_builder(), region, creds)
        };
        let conf = sdk_config(base, &region, &creds, http, endpoint.as_deref(), deadline);
        Ok(Session {
            rt: std::sync::Arc::new(rt),
            conf,
            creds,
            deadline,
            region,
            region_source,
            credential_source,
            role: None,
            endpoint_override: opts.endpoint_url.clone(),
            env_endpoints,
            proxy,
            node_name: env.node_name.clone(),
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

    /// An STS client of this session, on the STS endpoint (doctor's
    /// reachability check; AssumeRole goes through aws-config's provider).
    pub(crate) fn sts(&self) -> aws_sdk_sts::Client {
        let mut b = aws_sdk_sts::config::Builder::from(&self.conf);
        if let Some(e) = self.endpoint_for(Service::Sts) {
            b = b.endpoint_url(e);
        }
        aws_sdk_sts::Client::from_conf(b.build())
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn region_source(&self) -> RegionSource {
        self.region_source
    }

    pub fn credential_source(&self) -> &Source {
        &self.credential_source
    }

    /// The role this session signs with; `None`: this node's own
    /// credentials.
    pub fn role(&self) -> Option<&Assumed> {
        self.role.as_ref()
    }

    pub fn deadline(&self) -> Deadline {
        self.deadline
    }

    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The endpoint configured for `service`, if any: the parameter, else
    /// the service's AWS_ENDPOINT_URL_*, else AWS_ENDPOINT_URL.
    pub(super) fn endpoint_for(&self, service: Service) -> Option<String> {
        let e = &self.env_endpoints;
        let specific = match service {
            Service::Ec2 => &e.ec2,
            Service::Route53 => &e.route53,
            Service::Sts => &e.sts,
        };
        self.endpoint_override
            .clone()
            .or_else(|| specific.clone())
            .or_else(|| e.all.clone())
    }

    pub fn route(&self, service: Service) -> Route {
        let endpoint = self.endpoint_for(service).unwrap_or_else(|| match service {
            Service::Ec2 => format!("https://ec2.{}.amazonaws.com", self.region),
            Service::Route53 => "https://route53.amazonaws.com".to_string(),
            Service::Sts => format!("https://sts.{}.amazonaws.com", self.region),
        });
        Route {
            endpoint,
            proxy: self.proxy.clone(),
            role: self.role.as_ref().map(|r| r.arn.clone()),
        }
    }
}
