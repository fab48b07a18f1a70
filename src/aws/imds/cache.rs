//! The node's identity cache: facts about this instance that cannot
//! change while it runs, kept so that later actions skip the metadata
//! round trips.

use super::{Imds, Result};
use crate::core::state::StateFile;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Facts that cannot change while the instance runs (its id, region and
/// zone, the ENI and VPC behind a MAC address, the primary private
/// addresses), kept in a 0600 file under the run directory (tmpfs) so that
/// later actions skip the metadata round trips. Never credentials. The file
/// is bound to the boot (`/proc/sys/kernel/random/boot_id`) and to the
/// metadata endpoint; [`Imds::check_identity`] compares the cached instance
/// id with the live one, and callers drop it with [`Imds::forget_cache`]
/// when AWS contradicts it.
pub(super) struct Cache {
    file: StateFile,
    values: RefCell<Option<BTreeMap<String, String>>>,
    /// Probes read the cache but never write it (they change nothing).
    read_only: bool,
}

pub(super) const CACHE_BOOT: &str = "_boot_id";
pub(super) const CACHE_ENDPOINT: &str = "_endpoint";
pub(super) const ROLE_KEY: &str = "meta-data/iam/security-credentials/";

pub(super) fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

impl Imds {
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
    pub(super) fn cached_values(&self) -> Option<std::cell::RefMut<'_, BTreeMap<String, String>>> {
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

    pub(super) fn cache_lookup(&self, key: &str) -> Option<String> {
        let hit = self.cached_values()?.get(key).cloned();
        if hit.is_some() {
            log::debug!("IMDS {key}: cached");
        }
        hit
    }

    pub(super) fn cache_store(&self, key: &str, value: &str) {
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
    pub fn check_identity(&self) -> Result<()> {
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
    pub fn require_cached(&self, path: &str) -> Result<String> {
        if let Some(v) = self.cache_lookup(path) {
            return Ok(v);
        }
        let v = self.require_live(path)?;
        self.cache_store(path, &v);
        Ok(v)
    }

    /// [`get`](Self::get) through the cache; "no such thing" is not cached.
    pub fn get_cached(&self, path: &str) -> Result<Option<String>> {
        if let Some(v) = self.cache_lookup(path) {
            return Ok(Some(v));
        }
        let v = self.get(path)?;
        if let Some(v) = &v {
            self.cache_store(path, v);
        }
        Ok(v)
    }
}
