//! Instance metadata (IMDS) client.
//!
//! Hand-rolled on `ureq` (blocking, no async runtime, no TLS: IMDS is plain
//! HTTP on a link-local address) rather than aws-config's IMDS client,
//! because: aws-config's client is IMDSv2-only and we must support
//! `imds_version=1` for legacy instances; and the cheap paths (probes,
//! depth-0 monitors) must not build an async runtime at all.
//!
//! IMDS never goes through a proxy: it is link-local, and a proxy would
//! answer for the proxy's own instance.

use crate::ocf::{Deadline, OcfError, OcfResult};
use std::cell::RefCell;
use std::time::Duration;

pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const TOKEN_TTL_S: &str = "300";
/// IMDS answers in well under a millisecond when healthy; a slow one is a
/// broken one, and the deadline must keep room for the AWS API calls.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: u32 = 3;

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
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.base
    }

    /// GET a metadata path (relative to /latest/). `Ok(None)` for 404, which
    /// IMDS uses for "this instance has no such thing" (e.g. no public IPv4).
    pub fn get(&self, path: &str) -> OcfResult<Option<String>> {
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
                    return Err(OcfError::generic(format!(
                        "instance metadata at {} refused a request without a token \
                         (IMDSv2 is required on this instance): remove imds_version=1",
                        self.base
                    )))
                }
                Fetch::Status(s) => {
                    return Err(OcfError::generic(format!(
                        "instance metadata at {} answered HTTP {s} for {path}",
                        self.base
                    )))
                }
            }
        }
    }

    /// Like [`get`], for paths every instance has.
    pub fn require(&self, path: &str) -> OcfResult<String> {
        self.get(path)?.ok_or_else(|| {
            OcfError::generic(format!(
                "instance metadata at {} has no {path}: is this an EC2 instance?",
                self.base
            ))
        })
    }

    fn token(&self) -> OcfResult<String> {
        if let Some(t) = self.token.borrow().as_ref() {
            return Ok(t.clone());
        }
        let url = format!("{}/latest/api/token", self.base);
        match self.request("PUT", &url, None)? {
            Fetch::Ok(t) => {
                self.token.replace(Some(t.clone()));
                Ok(t)
            }
            // 403 is what an instance answers whose IMDSv2 is disabled; 404/405
            // come from very old metadata services that predate tokens.
            Fetch::Status(s @ 403..=405) => Err(OcfError::generic(format!(
                "instance metadata at {} refused an IMDSv2 token (HTTP {s}): set \
                 imds_version=1, or better enable IMDSv2 (this instance offers only IMDSv1)",
                self.base
            ))),
            Fetch::Status(s) => Err(OcfError::generic(format!(
                "instance metadata at {} answered HTTP {s} to the IMDSv2 token request",
                self.base
            ))),
        }
    }

    fn request(&self, method: &str, url: &str, token: Option<&str>) -> OcfResult<Fetch> {
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
                            .map_err(|e| {
                                OcfError::generic(format!(
                                    "instance metadata at {}: reading {url}: {e}",
                                    self.base
                                ))
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
        Err(OcfError::generic(format!(
            "instance metadata service at {} is unreachable ({}): check that this is \
             an EC2 instance, that the metadata service is enabled and that \
             nothing blocks 169.254.169.254; or set the parameters that would \
             otherwise be looked up there",
            self.base,
            if last.is_empty() {
                "no answer before the operation's deadline".to_string()
            } else {
                last
            }
        )))
    }
}

/// What the agents need to know about this instance, looked up lazily.
pub struct Instance<'a> {
    imds: &'a Imds,
}

impl<'a> Instance<'a> {
    pub fn new(imds: &'a Imds) -> Self {
        Instance { imds }
    }
    pub fn region(&self) -> OcfResult<String> {
        self.imds.require("meta-data/placement/region")
    }
    pub fn availability_zone(&self) -> OcfResult<String> {
        self.imds.require("meta-data/placement/availability-zone")
    }
    pub fn instance_id(&self) -> OcfResult<String> {
        self.imds.require("meta-data/instance-id")
    }
    pub fn primary_mac(&self) -> OcfResult<String> {
        Ok(self.imds.require("meta-data/mac")?.to_ascii_lowercase())
    }
    fn mac_attr(&self, mac: &str, attr: &str) -> OcfResult<Option<String>> {
        self.imds
            .get(&format!("meta-data/network/interfaces/macs/{mac}/{attr}"))
    }
    /// MACs of every ENI attached to this instance.
    pub fn macs(&self) -> OcfResult<Vec<String>> {
        Ok(self
            .imds
            .get("meta-data/network/interfaces/macs/")?
            .map(|s| {
                s.lines()
                    .map(|l| l.trim().trim_end_matches('/').to_ascii_lowercase())
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }
    /// The ENI behind a local MAC address; `None` when this instance has no
    /// interface with that MAC (a local device that is not an ENI).
    pub fn eni_of_mac(&self, mac: &str) -> OcfResult<Option<String>> {
        self.mac_attr(mac, "interface-id")
    }
    pub fn vpc_of_mac(&self, mac: &str) -> OcfResult<Option<String>> {
        self.mac_attr(mac, "vpc-id")
    }
    pub fn vpc_cidrs_of_mac(&self, mac: &str) -> OcfResult<Vec<String>> {
        Ok(self
            .mac_attr(mac, "vpc-ipv4-cidr-blocks")?
            .map(|s| s.lines().map(|l| l.trim().to_string()).collect())
            .unwrap_or_default())
    }
    pub fn local_ipv4s_of_mac(&self, mac: &str) -> OcfResult<Vec<String>> {
        Ok(self
            .mac_attr(mac, "local-ipv4s")?
            .map(|s| s.lines().map(|l| l.trim().to_string()).collect())
            .unwrap_or_default())
    }
    pub fn local_ipv4(&self) -> OcfResult<String> {
        self.imds.require("meta-data/local-ipv4")
    }
    pub fn public_ipv4(&self) -> OcfResult<Option<String>> {
        self.imds.get("meta-data/public-ipv4")
    }
}
