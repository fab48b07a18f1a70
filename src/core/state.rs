//! Per-resource state under the run directory (tmpfs): what start learned
//! (device, ENI, …) so that monitors and stop need no metadata lookups.
//! A `key=value` file, mode 0600, written atomically.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// One file per agent and resource instance under `run_dir` (the
    /// instance name is unique in a cluster; manual runs without one pass
    /// a key of the resource instead).
    pub fn new(run_dir: &std::path::Path, agent: &str, instance: &str) -> StateFile {
        let safe: String = instance
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.:".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        StateFile {
            path: run_dir.join(format!("{agent}-{safe}.state")),
        }
    }

    /// A file shared by every resource on this node (caches of facts that
    /// do not depend on the resource, such as a hosted zone's name).
    pub fn shared(run_dir: &std::path::Path, name: &str) -> StateFile {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        StateFile {
            path: run_dir.join(format!("{safe}.cache")),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub fn read(&self) -> Option<BTreeMap<String, String>> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        Some(
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    pub fn write(&self, values: &[(&str, &str)]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            // The shared base (/run/resource-agents) keeps the usual mode;
            // only our own directory is private.
            if let Some(base) = dir.parent() {
                std::fs::DirBuilder::new().recursive(true).create(base)?;
            }
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        for (k, v) in values {
            writeln!(f, "{k}={}", v.replace('\n', " "))?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }

    /// [`write`](Self::write), warning instead of failing: a lost state file
    /// only costs later monitors a metadata lookup, never worth an action.
    pub fn record(&self, values: &[(&str, &str)]) {
        if let Err(e) = self.write(values) {
            log::warn!("cannot record state in {}: {e}", self.path.display());
        }
    }

    /// [`remove`](Self::remove), warning instead of failing (stop must not
    /// fail over a leftover file in tmpfs).
    pub fn forget(&self) {
        if let Err(e) = self.remove() {
            log::warn!("cannot remove {}: {e}", self.path.display());
        }
    }

    pub fn remove(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
