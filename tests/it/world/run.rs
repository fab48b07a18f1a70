//! Running an agent and reading its answer: exit code, exit reason, time.

use super::emulators::{repo, tmpdir};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_ocf-aws");

/// The agents as Pacemaker finds them: the binary installed with the
/// project's own `ocf/install.sh` into a private root, run through
/// `<root>/usr/lib/ocf/resource.d/aws/<agent>`.
pub fn agent_link(agent: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let root = tmpdir("root");
        let st = Command::new("bash")
            .arg(repo().join("ocf/install.sh"))
            .arg("--root")
            .arg(&root)
            .arg(BIN)
            .stdout(Stdio::null())
            .status()
            .expect("ocf/install.sh");
        assert!(st.success(), "ocf/install.sh failed");
        root.join("usr/lib/ocf/resource.d/aws")
    });
    dir.join(agent)
}

/// `<agent> <action>` through its symlink, with an empty environment.
pub fn ocf_command(agent: &str, action: &str) -> Command {
    let mut cmd = Command::new(agent_link(agent));
    cmd.arg(action).env_clear();
    cmd
}

#[derive(Debug)]
pub struct Run {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn new(out: std::process::Output, elapsed: Duration) -> Run {
        Run {
            rc: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed,
        }
    }

    /// Every `ocf-exit-reason:` line; failures must print exactly one.
    pub fn reasons(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("ocf-exit-reason:"))
            .collect()
    }

    pub fn reason(&self) -> &str {
        let r = self.reasons();
        assert_eq!(
            r.len(),
            1,
            "expected exactly one exit reason, got: {}",
            self.stderr
        );
        r[0]
    }

    #[track_caller]
    pub fn expect(&self, rc: i32) -> &Self {
        assert_eq!(
            self.rc, rc,
            "expected rc {rc}, got {}\nstdout: {}\nstderr: {}",
            self.rc, self.stdout, self.stderr
        );
        if rc == 0 {
            assert!(
                self.reasons().is_empty(),
                "success with a reason: {}",
                self.stderr
            );
        }
        self
    }

    #[track_caller]
    pub fn reason_has(&self, needles: &[&str]) -> &Self {
        let r = self.reason();
        for n in needles {
            assert!(r.contains(n), "exit reason lacks {n:?}: {r}");
        }
        self
    }
}

/// The agent's meta-data, produced as an unprivileged user with an empty
/// environment (Pacemaker runs meta-data as hacluster), validates against
/// resource-agents' ra-api-1.dtd and metadata.rng.
pub fn xml_valid(agent: &str) -> String {
    let dir = tmpdir(agent);
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(agent_link(agent))
        .arg("meta-data")
        .env_clear()
        .current_dir("/")
        .output()
        .expect("setpriv");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = dir.join(format!("{agent}.xml"));
    std::fs::write(&xml, &out.stdout).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r#"<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">"#));
    assert!(text.contains("<version>1.1</version>"));
    for (schema, args) in [
        (
            "DTD",
            &["--valid", "--path", "/usr/share/resource-agents"][..],
        ),
        (
            "RNG",
            &["--relaxng", "/usr/share/resource-agents/metadata.rng"][..],
        ),
    ] {
        let check = Command::new("xmllint")
            .arg("--noout")
            .args(args)
            .arg(&xml)
            .output()
            .expect("xmllint (libxml2-utils)");
        assert!(
            check.status.success(),
            "{schema}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(dir);
    text.into_owned()
}
