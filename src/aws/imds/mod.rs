//! Instance metadata (IMDS) client.
//!
//! Hand-rolled on `ureq` (blocking, no async runtime, no TLS: IMDS is plain
//! HTTP on a link-local address) rather than aws-config's IMDS client,
//! because: aws-config's client is IMDSv2-only and `imds_version=1` must
//! work where token requests cannot (a container behind a hop limit of 1 on
//! an instance whose HttpTokens is optional); and the cheap paths (probes,
//! depth-0 monitors) must not build an async runtime at all. The identity
//! cache is in [`cache`], the agents' questions in [`Instance`].
//!
//! IMDS never goes through a proxy: it is link-local, and a proxy would
//! answer for the proxy's own instance.

mod cache;
mod instance;

pub use instance::Instance;

use crate::core::Deadline;
use cache::{Cache, ROLE_KEY};
use std::cell::RefCell;
use std::time::Duration;

pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
/// The endpoint on IPv6 (Nitro instances; the only one on IPv6-only subnets).
pub const IPV6_ENDPOINT: &str = "http://[fd00:ec2::254]";

/// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE, as the AWS SDKs read it
/// (case-insensitive): `Some(true)` IPv6, `Some(false)` IPv4, `None` neither.
fn ipv6_mode(mode: &str) -> Option<bool> {
    if mode.eq_ignore_ascii_case("ipv6") {
        Some(true)
    } else if mode.eq_ignore_ascii_case("ipv4") {
        Some(false)
    } else {
        None
    }
}

/// The endpoint by the SDKs' rule: an explicit endpoint wins, else the
/// mode picks the address (`None`: the IPv4 default). Resolved once, for
/// this client and for aws-config's (which reads the same variables).
pub fn endpoint_of(explicit: Option<String>, mode: Option<&str>) -> Option<String> {
    explicit.or_else(|| {
        mode.and_then(ipv6_mode)
            .filter(|v6| *v6)
            .map(|_| IPV6_ENDPOINT.to_string())
    })
}
const TOKEN_TTL_S: &str = "300";
/// IMDS answers in well under a millisecond when healthy; a slow one is a
/// broken one, and the deadline must keep room for the AWS API calls.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: u32 = 3;

/// What the metadata service did wrong. None of these is a configuration
/// error: the same resource works on a node whose metadata service works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// No answer at all (connection refused, timeouts, 5xx to the end).
    Unreachable { endpoint: String, detail: String },
    /// The IMDSv2 session-token request was refused. Every instance offers
    /// IMDSv2 (HttpTokens is optional or required, never off), so this is
    /// the metadata service disabled, a hop limit too low for a container or
    /// network namespace, or something answering for 169.254.169.254.
    TokenRefused { endpoint: String, status: u16 },
    /// The token request got an answer that is neither a token nor a refusal.
    TokenStatus { endpoint: String, status: u16 },
    /// imds_version=1 on an instance that requires tokens.
    TokenRequired { endpoint: String },
    Status {
        endpoint: String,
        path: String,
        status: u16,
    },
    /// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is neither IPv4 nor IPv6 (the
    /// SDKs refuse it too).
    EndpointMode { value: String },
    /// A path every instance has is absent.
    Missing { endpoint: String, path: String },
    Read {
        endpoint: String,
        url: String,
        detail: String,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unreachable { endpoint, detail } => write!(
                f,
                "instance metadata service at {endpoint} is unreachable ({detail}): check that \
                 this is an EC2 instance, that the metadata service is enabled (on IPv6-only \
                 subnets: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6) and that nothing blocks \
                 it; or set the parameters that would otherwise be looked up there"
            ),
            Error::EndpointMode { value } => write!(
                f,
                "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE='{}' is neither IPv4 nor IPv6: set it \
                 to IPv6 for the metadata service at {IPV6_ENDPOINT} (IPv6-only subnets), or \
                 unset it (/etc/default/pacemaker)",
                crate::core::params::shorten(value)
            ),
            Error::TokenRefused { endpoint, status } => write!(
                f,
                "instance metadata at {endpoint} refused an IMDSv2 token (HTTP {status}): the \
                 metadata service is disabled, its hop limit is too low for this container \
                 or namespace, or something intercepts 169.254.169.254; fix that (aws ec2 \
                 modify-instance-metadata-options --http-endpoint enabled \
                 --http-put-response-hop-limit 2), or set imds_version=1 where token \
                 requests cannot work"
            ),
            Error::TokenStatus { endpoint, status } => write!(
                f,
                "instance metadata at {endpoint} answered HTTP {status} to the IMDSv2 token request"
            ),
            Error::TokenRequired { endpoint } => write!(
                f,
                "instance metadata at {endpoint} refused a request without a token (IMDSv2 \
                 is required on this instance): remove imds_version=1"
            ),
            Error::Status {
                endpoint,
                path,
                status,
            } => write!(
                f,
                "instance metadata at {endpoint} answered HTTP {status} for {path}"
            ),
            Error::Missing { endpoint, path } => write!(
                f,
                "instance metadata at {endpoint} has no {path}: is this an EC2 instance?"
            ),
            Error::Read {
                endpoint,
                url,
                detail,
            } => write!(
                f,
                "instance metadata at {endpoint}: reading {url}: {detail}"
            ),
        }
    }
}

impl std::error::Error for Error {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

pub struct Imds {
    base: String,
    version: Version,
    deadline: Deadline,
    token: RefCell<Option<String>>,
    agent: ureq::Agent,
    cache: Option<Cache>,
    /// An endpoint mode the SDKs would refuse: every request fails with it.
    bad_mode: Option<String>,
}

enum Fetch {
    Ok(String),
    Status(u16),
}

impl Imds {
    pub fn new(endpoint: Option<&str>, version: Version, deadline: Deadline) -> Imds {
        let base = endpoint
            .unwrap_or(DEFAULT_ENDPOINT)
            .trim_end_matches('/')
            .to_string();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Imds {
            base,
            version,
            deadline,
            token: RefCell::new(None),
            agent,
            cache: None,
            bad_mode: None,
        }
    }

    /// The client for the process environment's endpoint (see
    /// [`endpoint_of`]); an endpoint mode the SDKs would refuse makes
    /// every request fail with a reason naming it.
    pub fn from_env(env: &crate::aws::AwsEnv, version: Version, deadline: Deadline) -> Imds {
        let mut imds = Imds::new(env.imds_endpoint.as_deref(), version, deadline);
        imds.bad_mode = env
            .imds_endpoint_mode
            .clone()
            .filter(|m| ipv6_mode(m).is_none() && env.imds_endpoint.is_none());
        imds
    }

    fn require_live(&self, path: &str) -> Result<String> {
        self.get(path)?.ok_or_else(|| Error::Missing {
            endpoint: self.base.clone(),
            path: path.to_string(),
        })
    }

    /// The instance role's name (cached: it is not a secret) and its
    /// current credentials' JSON (never cached). A role replaced while the
    /// instance runs answers 404 for the old name: then ask again.
    pub fn role_credentials(&self) -> Result<Option<(String, String)>> {
        for fresh in [false, true] {
            let role = if fresh {
                None
            } else {
                self.cache_lookup(ROLE_KEY)
            };
            let role = match role {
                Some(r) => r,
                None => {
                    let Some(r) = self
                        .get(ROLE_KEY)?
                        .as_deref()
                        .and_then(|r| r.lines().map(str::trim).find(|l| !l.is_empty()))
                        .map(str::to_string)
                    else {
                        return Ok(None);
                    };
                    self.cache_store(ROLE_KEY, &r);
                    r
                }
            };
            if let Some(body) = self.get(&format!("{ROLE_KEY}{role}"))? {
                return Ok(Some((role, body)));
            }
            if fresh {
                break;
            }
        }
        Ok(None)
    }

    /// The role the instance metadata hands out credentials for, if any
    /// (asked live: doctor wants today's answer).
    pub fn instance_role(&self) -> Result<Option<String>> {
        Ok(self.get(ROLE_KEY)?.and_then(|r| {
            r.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string)
        }))
    }

    pub fn endpoint(&self) -> &str {
        &self.base
    }

    /// GET a metadata path (relative to /latest/). `Ok(None)` for 404, which
    /// IMDS uses for "this instance has no such thing" (e.g. no public IPv4).
    pub fn get(&self, path: &str) -> Result<Option<String>> {
        let url = format!("{}/latest/{}", self.base, path.trim_start_matches('/'));
        let mut refreshed = false;
        loop {
            let token = match self.version {
                Version::V2 => Some(self.token()?),
                Version::V1 => None,
            };
            match self.request("GET", &url, token.as_deref())? {
                Fetch::Ok(body) => return Ok(Some(body)),
                Fetch::Status(404) => return Ok(None),
                // An expired or revoked token: fetch a new one, once.
                Fetch::Status(401) if self.version == Version::V2 && !refreshed => {
                    refreshed = true;
                    self.token.replace(None);
                }
                Fetch::Status(401) if self.version == Version::V1 => {
                    return Err(Error::TokenRequired {
                        endpoint: self.base.clone(),
                    })
                }
                Fetch::Status(s) => {
                    return Err(Error::Status {
                        endpoint: self.base.clone(),
                        path: path.to_string(),
                        status: s,
                    })
                }
            }
        }
    }

    /// Like [`get`], for paths every instance has.
    pub fn require(&self, path: &str) -> Result<String> {
        self.require_live(path)
    }

    fn token(&self) -> Result<String> {
        if let Some(t) = self.token.borrow().as_ref() {
            return Ok(t.clone());
        }
        let url = format!("{}/latest/api/token", self.base);
        match self.request("PUT", &url, None)? {
            Fetch::Ok(t) => {
                self.token.replace(Some(t.clone()));
                Ok(t)
            }
            // 403 is a disabled metadata service; 404/405 are something
            // else answering for the address (a proxy, an emulator).
            Fetch::Status(s @ 403..=405) => Err(Error::TokenRefused {
                endpoint: self.base.clone(),
                status: s,
            }),
            Fetch::Status(s) => Err(Error::TokenStatus {
                endpoint: self.base.clone(),
                status: s,
            }),
        }
    }

    fn request(&self, method: &str, url: &str, token: Option<&str>) -> Result<Fetch> {
        if let Some(value) = &self.bad_mode {
            return Err(Error::EndpointMode {
                value: value.clone(),
            });
        }
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            let slice = self.deadline.slice(ATTEMPT_TIMEOUT);
            if slice.is_zero() {
                break;
            }
            let result = if method == "PUT" {
                self.agent
                    .put(url)
                    .config()
                    .timeout_global(Some(slice))
                    .build()
                    .header("X-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_S)
                    .send_empty()
            } else {
                let mut req = self
                    .agent
                    .get(url)
                    .config()
                    .timeout_global(Some(slice))
                    .build();
                if let Some(t) = token {
                    req = req.header("X-aws-ec2-metadata-token", t);
                }
                req.call()
            };
            match result {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    if status == 200 {
                        let body = resp
                            .body_mut()
                            .with_config()
                            .limit(64 * 1024)
                            .read_to_string()
                            .map_err(|e| Error::Read {
                                endpoint: self.base.clone(),
                                url: url.to_string(),
                                detail: e.to_string(),
                            })?;
                        return Ok(Fetch::Ok(body.trim().to_string()));
                    }
                    if status >= 500 {
                        last = format!("HTTP {status}");
                    } else {
                        return Ok(Fetch::Status(status));
                    }
                }
                Err(e) => last = e.to_string(),
            }
            log::debug!("IMDS {method} {url} attempt {} failed: {last}", attempt + 1);
            std::thread::sleep(self.deadline.slice(Duration::from_millis(50 << attempt)));
        }
        Err(Error::Unreachable {
            endpoint: self.base.clone(),
            detail: if last.is_empty() {
                "no answer before the operation's deadline".to_string()
            } else {
                last
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_rule_is_the_sdks() {
        let e = |x: Option<&str>, m: Option<&str>| endpoint_of(x.map(String::from), m);
        assert_eq!(e(None, None), None);
        assert_eq!(e(None, Some("IPv6")).as_deref(), Some(IPV6_ENDPOINT));
        assert_eq!(e(None, Some("ipv6")).as_deref(), Some(IPV6_ENDPOINT));
        assert_eq!(e(None, Some("IPv4")), None);
        assert_eq!(e(None, Some("IPv5")), None);
        assert_eq!(
            e(Some("http://127.0.0.1:1"), Some("IPv6")).as_deref(),
            Some("http://127.0.0.1:1")
        );
    }
}
