//! The emulators, started through `tests/world/world.py up` (the one
//! module that starts, seeds and waits for them), and their control
//! endpoints.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The moto venv (tests/world/setup-venv.sh creates or reuses it).
fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo().join("tests/world/setup-venv.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run setup-venv.sh");
        assert!(out.status.success(), "setup-venv.sh failed");
        let s = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(s.lines().last().expect("venv path").trim())
    })
}

/// A fresh directory for one fixture, removed by its owner.
pub fn tmpdir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ocf-aws-test-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Remove every directory `tmpdir` made in this process that is still there:
/// those of the fixtures every test shares, which live in statics and are
/// never dropped (the one moto, the installed layout, ...), and any a failed
/// test left. Each name carries this process's id, and no test mounts
/// anything inside one.
pub fn remove_tmpdirs() {
    let ours = format!("ocf-aws-test-{}-", std::process::id());
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(&ours) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// One `world.py up`: its emulators live until it is dropped (or, through
/// their parent-death signal, until the thread that started it ends).
pub(super) struct Emulators {
    /// The world description world.py wrote (tests/world/world.py).
    pub desc: Value,
    pub dir: PathBuf,
    child: Child,
}

impl Emulators {
    /// `world.py up ARGS`, waiting until its description is written.
    pub fn up(tag: &str, args: &[&str]) -> Emulators {
        let dir = tmpdir(tag);
        let out = dir.join("world.json");
        let log = std::fs::File::create(dir.join("world.log")).unwrap();
        let mut child = Command::new("python3")
            .env("PATH", "/usr/bin:/bin")
            .arg(repo().join("tests/world/world.py"))
            .arg("up")
            .arg("--venv")
            .arg(venv())
            .arg("--dir")
            .arg(dir.join("emulators"))
            .arg("--json-out")
            .arg(&out)
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start tests/world/world.py");
        let t = Instant::now();
        let text = loop {
            if let Ok(s) = std::fs::read_to_string(&out) {
                break s;
            }
            let failed = child.try_wait().unwrap().is_some();
            if failed || t.elapsed() > Duration::from_secs(90) {
                let _ = child.kill();
                panic!(
                    "world.py up {args:?} did not come up: {}",
                    std::fs::read_to_string(dir.join("world.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let desc = serde_json::from_str(&text).expect("world.py JSON");
        Emulators { desc, dir, child }
    }

    /// An emulator's address from the description, e.g. `proxy`.
    pub fn url(&self, what: &str) -> String {
        self.desc["emulators"][what]
            .as_str()
            .unwrap_or_else(|| panic!("no emulators.{what} in {}", self.desc))
            .to_string()
    }
}

impl Drop for Emulators {
    fn drop(&mut self) {
        // SIGTERM: world.py stops what it started, then exits.
        // SAFETY: kill(2) of our own child, which has not been reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The one moto of this test process, started from the main thread (the
/// parent-death signal is tied to the thread that spawned it).
pub(super) fn moto() -> &'static str {
    static MOTO: OnceLock<Emulators> = OnceLock::new();
    MOTO.get_or_init(|| Emulators::up("moto", &["--no-world"]))
        .desc["emulators"]["moto"]
        .as_str()
        .unwrap()
}

/// A helper server of the test world (fault proxy, DNS responder), killed
/// when dropped.
pub struct Helper {
    url: String,
    _emulators: Emulators,
}

impl Helper {
    /// The fault-injecting proxy in front of `upstream` (moto or imds.py).
    pub fn proxy(upstream: &str) -> Helper {
        let e = Emulators::up("proxy", &["--no-world", "--endpoint", upstream, "--proxy"]);
        Helper {
            url: e.url("proxy"),
            _emulators: e,
        }
    }

    /// A DNS responder answering from moto's Route 53 at `endpoint`
    /// (`zone`: that hosted zone only).
    pub fn dns(endpoint: &str, zone: Option<&str>) -> Helper {
        let mut args = vec!["--no-world", "--endpoint", endpoint, "--dns"];
        if let Some(z) = zone {
            args.extend(["--dns-zone-id", z]);
        }
        let e = Emulators::up("dns", &args);
        Helper {
            url: e.url("dns"),
            _emulators: e,
        }
    }

    /// A second metadata emulator for `node` of a seeded world (`world`:
    /// seed.py's JSON), listening on `host:port`, e.g. the IPv6 metadata
    /// address on port 80.
    pub fn imds(world: &Value, endpoint: &str, node: &str, host: &str, port: &str) -> Helper {
        let dir = tmpdir("imds-world");
        let file = dir.join("world.json");
        std::fs::write(&file, world.to_string()).unwrap();
        let f = file.display().to_string();
        let e = Emulators::up(
            "imds",
            &[
                "--endpoint",
                endpoint,
                "--world",
                &f,
                "--nodes",
                node,
                "--imds-host",
                host,
                "--imds-port",
                port,
                "--imds-arg=--role",
                "--imds-arg=ha-cluster-node",
            ],
        );
        let _ = std::fs::remove_dir_all(&dir);
        Helper {
            url: e.desc["emulators"]["imds"][node]
                .as_str()
                .unwrap()
                .to_string(),
            _emulators: e,
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn port(&self) -> String {
        self.url.rsplit(':').next().unwrap().to_string()
    }

    /// POST a control request to the proxy, e.g. `zone-state?zone=…`.
    pub fn ctl(&self, path: &str) -> Value {
        http_json("POST", &format!("{}/_proxy/{path}", self.url))
    }

    pub fn stats(&self) -> Value {
        http_json("GET", &format!("{}/_proxy/stats", self.url))
    }

    /// The proxy's request log: one object per request (`action`,
    /// `service`, `status`, `key`: the signing access key id; AssumeRole's
    /// also `role_arn`, `external_id`, `session_name`, `issued_key`).
    pub fn log(&self) -> Vec<Value> {
        match http_json("GET", &format!("{}/_proxy/log", self.url)) {
            Value::Array(a) => a,
            other => panic!("proxy log is not a list: {other}"),
        }
    }
}

/// A tiny HTTP/1.0 client for the emulators' control endpoints (the test
/// process has no HTTP client of its own to spare).
pub fn http_json(method: &str, url: &str) -> Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (hostport, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut s = std::net::TcpStream::connect(hostport).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {hostport}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let body = buf.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}
