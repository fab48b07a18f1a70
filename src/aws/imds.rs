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

use crate::ocf::state::StateFile;
use crate::ocf::{Deadline, OcfError, OcfResult};
use std::cell::RefCell;
use std::collections::BTreeMap;
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
    cache: Option<Cache>,
}

/// Facts that cannot change while the instance runs (its id, region and
/// zone, the ENI and VPC behind a MAC address, the primary private
/// addresses), kept in a 0600 file under the run directory (tmpfs) so that
/// later actions skip the metadata round trips. Never credentials. The file
/// is bound to the boot (`/proc/sys/kernel/random/boot_id`) and to the
/// metadata endpoint; [`Imds::check_identity`] compares the cached instance
/// id with the live one, and callers drop it with [`Imds::forget_cache`]
/// when AWS contradicts it.
struct Cache {
    file: StateFile,
    values: RefCell<Option<BTreeMap<String, String>>>,
    /// Probes read the cache but never write it (they change nothing).
    read_only: bool,
}

const CACHE_BOOT: &str = "_boot_id";
const CACHE_ENDPOINT: &str = "_endpoint";
const ROLE_KEY: &str = "meta-data/iam/security-credentials/";

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
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
        }
    }

    /// Keep what cannot change in `file` (see [`Cache`]).
    pub fn with_cache(mut self, file: StateFile) -> Imds {
        self.cache = Some(Cache {
            file,
            values: RefCell::new(None),
            read_only: false,
        });
        self
    }

    /// Use the cache without writing it (probes must change nothing).
    pub fn read_only_cache(mut self) -> Imds {
        if let Some(c) = self.cache.as_mut() {
            c.read_only = true;
        }
        self
    }

    /// The cached facts, loaded on first use; a file from another boot or
    /// another metadata endpoint counts as empty.
    fn cached_values(&self) -> Option<std::cell::RefMut<'_, BTreeMap<String, String>>> {
        let c = self.cache.as_ref()?;
        let mut v = c.values.borrow_mut();
        if v.is_none() {
            let loaded = c
                .file
                .read()
                .filter(|m| {
                    m.get(CACHE_BOOT) == Some(&boot_id())
                        && m.get(CACHE_ENDPOINT) == Some(&self.base)
                })
                .unwrap_or_default();
            *v = Some(loaded);
        }
        Some(std::cell::RefMut::map(v, |o| {
            o.get_or_insert_with(BTreeMap::new)
        }))
    }

    fn cache_lookup(&self, key: &str) -> Option<String> {
        let hit = self.cached_values()?.get(key).cloned();
        if hit.is_some() {
            log::debug!("IMDS {key}: cached");
        }
        hit
    }

    fn cache_store(&self, key: &str, value: &str) {
        let Some(c) = self.cache.as_ref() else {
            return;
        };
        let snapshot: Vec<(String, String)> = {
            let Some(mut m) = self.cached_values() else {
                return;
            };
            if m.get(key).map(String::as_str) == Some(value) {
                return;
            }
            m.insert(key.to_string(), value.to_string());
            m.insert(CACHE_BOOT.into(), boot_id());
            m.insert(CACHE_ENDPOINT.into(), self.base.clone());
            m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        if c.read_only {
            return;
        }
        let pairs: Vec<(&str, &str)> = snapshot
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Err(e) = c.file.write(&pairs) {
            log::debug!(
                "cannot cache instance metadata in {}: {e}",
                c.file.path().display()
            );
        }
    }

    /// Remember a fact about this instance learnt elsewhere (e.g. from the
    /// EC2 API), valid for as long as the identity cache is.
    pub fn note(&self, key: &str, value: &str) {
        self.cache_store(key, value);
    }

    /// A fact remembered with [`note`](Self::note).
    pub fn noted(&self, key: &str) -> Option<String> {
        self.cache_lookup(key)
    }

    /// Drop every cached fact (AWS or the metadata contradicted one).
    pub fn forget_cache(&self) {
        if let Some(c) = self.cache.as_ref() {
            log::info!(
                "instance identity cache {} is stale: dropped",
                c.file.path().display()
            );
            c.values.replace(Some(BTreeMap::new()));
            if c.read_only {
                return;
            }
            if let Err(e) = c.file.remove() {
                log::debug!("cannot remove {}: {e}", c.file.path().display());
            }
        }
    }

    /// Whether any fact is cached (an action that used the cache may retry
    /// without it when AWS disagrees).
    pub fn has_cache(&self) -> bool {
        self.cached_values()
            .is_some_and(|m| m.keys().any(|k| !k.starts_with('_')))
    }

    /// One live GET of the instance id, compared with the cached one: a
    /// different instance (a copied run directory, a re-pointed metadata
    /// service) drops the cache. Starts call this; monitors trust the boot id.
    pub fn check_identity(&self) -> OcfResult<()> {
        if self.cache.is_none() {
            return Ok(());
        }
        let live = self.require_live("meta-data/instance-id")?;
        match self.cache_lookup("meta-data/instance-id") {
            Some(c) if c == live => {}
            Some(c) => {
                log::info!("cached instance id {c} is not this instance ({live})");
                self.forget_cache();
                self.cache_store("meta-data/instance-id", &live);
            }
            None => self.cache_store("meta-data/instance-id", &live),
        }
        Ok(())
    }

    /// [`require`](Self::require) through the cache, for paths whose value
    /// cannot change while the instance runs.
    pub fn require_cached(&self, path: &str) -> OcfResult<String> {
        if let Some(v) = self.cache_lookup(path) {
            return Ok(v);
        }
        let v = self.require_live(path)?;
        self.cache_store(path, &v);
        Ok(v)
    }

    /// [`get`](Self::get) through the cache; "no such thing" is not cached.
    pub fn get_cached(&self, path: &str) -> OcfResult<Option<String>> {
        if let Some(v) = self.cache_lookup(path) {
            return Ok(Some(v));
        }
        let v = self.get(path)?;
        if let Some(v) = &v {
            self.cache_store(path, v);
        }
        Ok(v)
    }

    fn require_live(&self, path: &str) -> OcfResult<String> {
        self.get(path)?.ok_or_else(|| {
            OcfError::generic(format!(
                "instance metadata at {} has no {path}: is this an EC2 instance?",
                self.base
            ))
        })
    }

    /// The instance role's name (cached: it is not a secret) and its
    /// current credentials' JSON (never cached). A role replaced while the
    /// instance runs answers 404 for the old name: then ask again.
    pub fn role_credentials(&self) -> OcfResult<Option<(String, String)>> {
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
        self.require_live(path)
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
        self.imds.require_cached("meta-data/placement/region")
    }
    pub fn availability_zone(&self) -> OcfResult<String> {
        self.imds
            .require_cached("meta-data/placement/availability-zone")
    }
    pub fn instance_id(&self) -> OcfResult<String> {
        self.imds.require_cached("meta-data/instance-id")
    }
    pub fn primary_mac(&self) -> OcfResult<String> {
        Ok(self
            .imds
            .require_cached("meta-data/mac")?
            .to_ascii_lowercase())
    }
    /// An attribute of an ENI that cannot change while it exists.
    fn fixed_mac_attr(&self, mac: &str, attr: &str) -> OcfResult<Option<String>> {
        self.imds
            .get_cached(&format!("meta-data/network/interfaces/macs/{mac}/{attr}"))
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
        self.fixed_mac_attr(mac, "interface-id")
    }
    pub fn vpc_of_mac(&self, mac: &str) -> OcfResult<Option<String>> {
        self.fixed_mac_attr(mac, "vpc-id")
    }
    /// The ENI's primary private IPv4 (the first of local-ipv4s), which
    /// stays for the ENI's life; secondary addresses come and go.
    pub fn primary_ipv4_of_mac(&self, mac: &str) -> OcfResult<Option<String>> {
        let key = format!("meta-data/network/interfaces/macs/{mac}/local-ipv4s#primary");
        if let Some(v) = self.imds.cache_lookup(&key) {
            return Ok(Some(v));
        }
        let first = self
            .local_ipv4s_of_mac(mac)?
            .into_iter()
            .find(|s| !s.is_empty());
        if let Some(ip) = &first {
            self.imds.cache_store(&key, ip);
        }
        Ok(first)
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
        self.imds.require_cached("meta-data/local-ipv4")
    }
    pub fn public_ipv4(&self) -> OcfResult<Option<String>> {
        self.imds.get("meta-data/public-ipv4")
    }
}
