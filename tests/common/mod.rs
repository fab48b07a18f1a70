//! The emulated-AWS test world for integration tests.
//!
//! `isolate()` runs first, in `main`, while the process is single-threaded:
//! it moves the whole test process into a private network and mount
//! namespace, so every interface and address a test makes lives and dies
//! with the test process and nothing touches the host. moto (EC2 API) and
//! one IMDS emulator per node listen on that namespace's loopback.
//!
//! Each test seeds its own VPC in the shared moto server, so tests run in
//! parallel without seeing each other.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ocf-aws");

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_ok(cmd: &str, args: &[&str]) {
    let st = Command::new(cmd)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(st.success(), "{cmd} {args:?} failed");
}

/// Private network + mount namespace for the whole test process. Needs
/// root (CI runs as root); fails loudly otherwise.
pub fn isolate() {
    // SAFETY: plain syscalls with constant arguments, made before any other
    // thread exists.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWNS) != 0 {
            panic!(
                "unshare(CLONE_NEWNET|CLONE_NEWNS) failed ({}): these tests need root to \
                 create their own network namespace",
                std::io::Error::last_os_error()
            );
        }
        let none = c"none";
        let root = c"/";
        if libc::mount(
            none.as_ptr(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            panic!(
                "making / private failed: {}",
                std::io::Error::last_os_error()
            );
        }
        // /sys/class/net shows the devices of the namespace that mounted
        // sysfs: remount it so the agents see this namespace's devices.
        let sys = c"/sys";
        let sysfs = c"sysfs";
        if libc::mount(
            sysfs.as_ptr(),
            sys.as_ptr(),
            sysfs.as_ptr(),
            0,
            std::ptr::null(),
        ) != 0
        {
            panic!("mounting sysfs failed: {}", std::io::Error::last_os_error());
        }
    }
    run_ok("ip", &["link", "set", "lo", "up"]);
}

pub struct Moto {
    pub endpoint: String,
    _child: Child,
}

static VENV: OnceLock<PathBuf> = OnceLock::new();
static MOTO: OnceLock<Moto> = OnceLock::new();

pub fn venv() -> &'static Path {
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

fn wait_file(p: &Path, what: &str, limit: Duration) -> String {
    let t = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(p) {
            if !s.trim().is_empty() {
                return s.trim().to_string();
            }
        }
        assert!(t.elapsed() < limit, "{what} did not start within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Start moto once, from the main thread (its parent-death signal is tied
/// to the thread that spawned it).
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| {
        let dir = tmpdir("moto");
        let pf = dir.join("port");
        let child = Command::new(venv().join("bin/python"))
            .arg(repo().join("tests/world/moto_server.py"))
            .arg("--port-file")
            .arg(&pf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let port = wait_file(&pf, "moto", Duration::from_secs(60));
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: child,
        }
    })
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub instance_id: String,
    pub eni: String,
    pub mac: String,
    pub private_ip: String,
    pub az: String,
    pub device: String,
    pub imds: String,
    pub rsctmp: PathBuf,
}

pub struct Seed<'a> {
    pub args: Vec<&'a str>,
    pub imds_args: Vec<&'a str>,
}

impl Default for Seed<'_> {
    fn default() -> Self {
        Seed {
            args: vec![],
            imds_args: vec!["--role", "ha-cluster-node"],
        }
    }
}

pub struct World {
    pub json: Value,
    pub endpoint: String,
    pub vpc: String,
    pub vip: String,
    pub tables: Vec<String>,
    pub other_tables: Vec<String>,
    pub nodes: BTreeMap<String, Node>,
    pub dir: PathBuf,
    imds_children: Vec<Child>,
    devices: Vec<String>,
}

static DEV: AtomicUsize = AtomicUsize::new(0);

impl World {
    pub fn new() -> World {
        Self::with(Seed::default())
    }

    pub fn with(seed: Seed) -> World {
        let moto = moto();
        let dir = tmpdir("world");
        let out = Command::new(venv().join("bin/python"))
            .arg(repo().join("tests/world/seed.py"))
            .args(["--endpoint", &moto.endpoint])
            .args(&seed.args)
            .output()
            .expect("run seed.py");
        assert!(
            out.status.success(),
            "seed.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let wf = dir.join("world.json");
        std::fs::write(&wf, &out.stdout).unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).expect("seed JSON");
        let strs = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        // One veth pair per world: end a is node1's "eth0", end b node2's.
        let n = DEV.fetch_add(1, Ordering::SeqCst);
        let (da, db) = (format!("vt{n}a"), format!("vt{n}b"));
        run_ok(
            "ip",
            &["link", "add", &da, "type", "veth", "peer", "name", &db],
        );
        let mut w = World {
            endpoint: moto.endpoint.clone(),
            vpc: json["vpc_id"].as_str().unwrap().to_string(),
            vip: json["vip"].as_str().unwrap().to_string(),
            tables: strs(&json["route_tables"]),
            other_tables: strs(&json["other_tables"]),
            nodes: BTreeMap::new(),
            dir: dir.clone(),
            imds_children: vec![],
            devices: vec![da.clone(), db.clone()],
            json: json.clone(),
        };
        for (name, dev) in [("node1", &da), ("node2", &db)] {
            let j = &json["nodes"][name];
            let mac = j["mac"].as_str().unwrap().to_string();
            run_ok("ip", &["link", "set", dev, "address", &mac]);
            run_ok("ip", &["link", "set", dev, "up"]);
            let pf = dir.join(format!("imds-{name}.port"));
            let child = Command::new("python3")
                .env("PATH", "/usr/bin:/bin")
                .arg(repo().join("tests/world/imds.py"))
                .args(["--world", wf.to_str().unwrap(), "--node", name])
                .args(["--port-file", pf.to_str().unwrap()])
                .args(&seed.imds_args)
                .stdout(Stdio::null())
                .spawn()
                .expect("start imds.py");
            w.imds_children.push(child);
            let port = wait_file(&pf, "imds.py", Duration::from_secs(20));
            let rsctmp = dir.join(format!("run-{name}"));
            std::fs::create_dir_all(&rsctmp).unwrap();
            w.nodes.insert(
                name.to_string(),
                Node {
                    name: name.to_string(),
                    instance_id: j["instance_id"].as_str().unwrap().to_string(),
                    eni: j["eni_id"].as_str().unwrap().to_string(),
                    mac,
                    private_ip: j["private_ip"].as_str().unwrap().to_string(),
                    az: j["az"].as_str().unwrap().to_string(),
                    device: dev.clone(),
                    imds: format!("http://127.0.0.1:{port}"),
                    rsctmp,
                },
            );
        }
        w
    }

    pub fn node(&self, name: &str) -> &Node {
        &self.nodes[name]
    }

    /// Run an agent as Pacemaker would on `node`: through the agent-named
    /// symlink, a clean environment without HOME, the action as argv[1].
    pub fn agent(&self, node: &str, agent: &str, action: &str, params: &[(&str, &str)]) -> Run {
        self.agent_env(node, agent, action, params, &[])
    }

    pub fn agent_env(
        &self,
        node: &str,
        agent: &str,
        action: &str,
        params: &[(&str, &str)],
        extra_env: &[(&str, &str)],
    ) -> Run {
        let mut cmd = self.command(node, agent, action, params, extra_env);
        let t = Instant::now();
        let out = cmd.output().expect("run agent");
        Run::new(out, t.elapsed())
    }

    /// The agent's command line and environment as Pacemaker would set them
    /// on `node` (an empty value in `extra_env` removes that variable).
    pub fn command(
        &self,
        node: &str,
        agent: &str,
        action: &str,
        params: &[(&str, &str)],
        extra_env: &[(&str, &str)],
    ) -> Command {
        let n = self.node(node);
        let mut cmd = Command::new(agent_link(agent));
        cmd.arg(action)
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("LC_ALL", "C")
            .env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RA_VERSION_MAJOR", "1")
            .env("OCF_RA_VERSION_MINOR", "1")
            .env("OCF_RESOURCE_INSTANCE", format!("rsc_{agent}"))
            .env("OCF_RESOURCE_TYPE", agent)
            .env("OCF_RESOURCE_PROVIDER", "aws")
            .env("OCF_EXIT_REASON_PREFIX", "ocf-exit-reason:")
            .env("OCF_RESKEY_CRM_meta_timeout", "20000")
            .env("OCF_RESKEY_CRM_meta_on_node", node)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &n.imds)
            .env("HA_RSCTMP", &n.rsctmp)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if action == "monitor" {
            cmd.env("OCF_RESKEY_CRM_meta_interval", "10000");
        }
        for (k, v) in params {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        for (k, v) in extra_env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        cmd
    }

    /// Where each managed table sends the VIP: table → ENI id (or "" if the
    /// route is missing or not to an ENI).
    pub fn routes(&self) -> BTreeMap<String, String> {
        self.routes_of(&self.vip)
    }

    pub fn routes_of(&self, vip: &str) -> BTreeMap<String, String> {
        let cidr = format!("{vip}/32");
        let c = self.ec2();
        rt().block_on(async {
            let out = c
                .describe_route_tables()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("vpc-id")
                        .values(&self.vpc)
                        .build(),
                )
                .send()
                .await
                .expect("DescribeRouteTables");
            out.route_tables()
                .iter()
                .map(|t| {
                    let eni = t
                        .routes()
                        .iter()
                        .find(|r| r.destination_cidr_block() == Some(cidr.as_str()))
                        .and_then(|r| r.network_interface_id())
                        .unwrap_or("");
                    (t.route_table_id().unwrap().to_string(), eni.to_string())
                })
                .collect()
        })
    }

    /// The managed tables (seeded with the VIP route) and their targets.
    pub fn managed(&self) -> Vec<String> {
        let r = self.routes();
        self.tables.iter().map(|t| r[t].clone()).collect()
    }

    /// SDK configuration of the test's own view of the emulator.
    fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "testing", "testing", None, None, "test",
                    ),
                ),
            )
            .build()
    }

    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk())
    }

    pub fn replace_route(&self, table: &str, eni: &str) {
        let c = self.ec2();
        rt().block_on(async {
            c.replace_route()
                .route_table_id(table)
                .destination_cidr_block(format!("{}/32", self.vip))
                .network_interface_id(eni)
                .send()
                .await
                .expect("ReplaceRoute");
        });
    }

    pub fn r53(&self) -> aws_sdk_route53::Client {
        aws_sdk_route53::Client::new(&self.sdk())
    }

    /// A fresh Elastic IP: (allocation id, public address).
    pub fn allocate_eip(&self) -> (String, String) {
        let c = self.ec2();
        rt().block_on(async {
            let a = c
                .allocate_address()
                .domain(aws_sdk_ec2::types::DomainType::Vpc)
                .send()
                .await
                .expect("AllocateAddress");
            (
                a.allocation_id().unwrap().to_string(),
                a.public_ip().unwrap().to_string(),
            )
        })
    }

    /// Where an Elastic IP is associated: (ENI, private IP), empty if not.
    pub fn eip_assoc(&self, alloc: &str) -> (String, String) {
        let c = self.ec2();
        rt().block_on(async {
            let r = c
                .describe_addresses()
                .allocation_ids(alloc)
                .send()
                .await
                .expect("DescribeAddresses");
            let a = &r.addresses()[0];
            (
                a.network_interface_id().unwrap_or("").to_string(),
                a.private_ip_address().unwrap_or("").to_string(),
            )
        })
    }

    pub fn add_private_ip(&self, eni: &str, ip: &str) {
        let c = self.ec2();
        rt().block_on(async {
            c.assign_private_ip_addresses()
                .network_interface_id(eni)
                .private_ip_addresses(ip)
                .send()
                .await
                .expect("AssignPrivateIpAddresses");
        });
    }

    /// A fresh hosted zone named `<unique>.example.internal`: (id, name).
    pub fn create_zone(&self, private: bool) -> (String, String) {
        static Z: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}x{}.example.internal",
            std::process::id(),
            Z.fetch_add(1, Ordering::SeqCst)
        );
        let c = self.r53();
        rt().block_on(async {
            let mut req = c
                .create_hosted_zone()
                .name(&name)
                .caller_reference(&name)
                .hosted_zone_config(
                    aws_sdk_route53::types::HostedZoneConfig::builder()
                        .private_zone(private)
                        .build(),
                );
            if private {
                req = req.vpc(
                    aws_sdk_route53::types::Vpc::builder()
                        .vpc_id(&self.vpc)
                        .vpc_region(aws_sdk_route53::types::VpcRegion::UsEast1)
                        .build(),
                );
            }
            let z = req.send().await.expect("CreateHostedZone");
            let id = z
                .hosted_zone()
                .unwrap()
                .id()
                .trim_start_matches("/hostedzone/")
                .to_string();
            (id, name)
        })
    }

    /// The A record values of `name` in `zone` (None: no such record).
    pub fn a_record(&self, zone: &str, name: &str) -> Option<(Vec<String>, i64)> {
        let c = self.r53();
        let fqdn = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
        rt().block_on(async {
            let r = c
                .list_resource_record_sets()
                .hosted_zone_id(zone)
                .send()
                .await
                .expect("ListResourceRecordSets");
            r.resource_record_sets()
                .iter()
                .find(|rr| rr.name() == fqdn && rr.r#type().as_str() == "A")
                .map(|rr| {
                    (
                        rr.resource_records()
                            .iter()
                            .map(|v| v.value().to_string())
                            .collect(),
                        rr.ttl().unwrap_or(-1),
                    )
                })
        })
    }

    pub fn set_a_record(&self, zone: &str, name: &str, ip: &str) {
        use aws_sdk_route53::types::*;
        let c = self.r53();
        rt().block_on(async {
            let set = ResourceRecordSet::builder()
                .name(format!("{name}."))
                .r#type(RrType::A)
                .ttl(10)
                .resource_records(ResourceRecord::builder().value(ip).build().unwrap())
                .build()
                .unwrap();
            let change = Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(set)
                .build()
                .unwrap();
            c.change_resource_record_sets()
                .hosted_zone_id(zone)
                .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
                .send()
                .await
                .expect("ChangeResourceRecordSets");
        });
    }

    pub fn source_dest_check(&self, eni: &str) -> bool {
        let c = self.ec2();
        rt().block_on(async {
            c.describe_network_interfaces()
                .network_interface_ids(eni)
                .send()
                .await
                .expect("DescribeNetworkInterfaces")
                .network_interfaces()[0]
                .source_dest_check()
                .unwrap()
        })
    }

    /// IPv4 addresses on a device, as `ip` shows them.
    pub fn addrs(&self, node: &str) -> Vec<String> {
        addrs_of(&self.node(node).device)
    }

    pub fn imds_stats(&self, node: &str) -> Value {
        http_json("GET", &format!("{}/_emulator/stats", self.node(node).imds))
    }

    pub fn imds_post(&self, node: &str, path: &str) {
        http_json("POST", &format!("{}{path}", self.node(node).imds));
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for c in &mut self.imds_children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Deleting one end of a veth pair deletes both.
        if let Some(d) = self.devices.first() {
            let _ = Command::new("ip").args(["link", "del", d]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A helper server of the test world (fault proxy, DNS responder), killed
/// when dropped.
pub struct Helper {
    pub port: String,
    child: Child,
    _dir: PathBuf,
}

impl Helper {
    /// Run `tests/world/<script>` with the venv's python and wait for the
    /// port it writes to `--port-file`.
    pub fn start(script: &str, args: &[&str]) -> Helper {
        let dir = tmpdir(script);
        let pf = dir.join("port");
        let child = Command::new(venv().join("bin/python"))
            .arg(repo().join("tests/world").join(script))
            .args(args)
            .arg("--port-file")
            .arg(&pf)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {script}: {e}"));
        let port = wait_file(&pf, script, Duration::from_secs(30));
        Helper {
            port,
            child,
            _dir: dir,
        }
    }

    /// The fault-injecting proxy in front of `upstream`.
    pub fn proxy(upstream: &str) -> Helper {
        Self::start("fault_proxy.py", &["--upstream", upstream])
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// POST a control request to the proxy, e.g. `zone-state?zone=…`.
    pub fn ctl(&self, path: &str) -> Value {
        http_json("POST", &format!("{}/_proxy/{path}", self.url()))
    }

    pub fn stats(&self) -> Value {
        http_json("GET", &format!("{}/_proxy/stats", self.url()))
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn addrs_of(dev: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-o", "-4", "addr", "show", "dev", dev])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            it.find(|w| *w == "inet").and(it.next()).map(String::from)
        })
        .collect()
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

/// A fresh single-threaded runtime per verification call: cheap, and no
/// runtime is shared across the parallel test threads.
fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

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

/// Run the tests given as (name, fn) with libtest's command line and output.
pub fn run_tests(tests: Vec<(&'static str, fn())>) -> ! {
    let mut args = libtest_mimic::Arguments::from_args();
    // The tests mostly wait on emulators and deadlines, not on the CPU.
    if args.test_threads.is_none() {
        args.test_threads = Some(4);
    }
    isolate();
    if !args.list {
        moto();
    }
    let trials = tests
        .into_iter()
        .map(|(name, f)| {
            libtest_mimic::Trial::test(name, move || {
                std::panic::catch_unwind(f).map_err(|e| {
                    e.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panicked".into())
                        .into()
                })
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// The agent's meta-data, produced as an unprivileged user with an empty
/// environment (Pacemaker runs meta-data as hacluster), validates against
/// resource-agents' ra-api-1.dtd and metadata.rng.
pub fn xml_valid(agent: &str) -> String {
    let dir = tmpdir(agent);
    // As an unprivileged user (Pacemaker runs meta-data as hacluster), with
    // no environment at all.
    let out = std::process::Command::new("setpriv")
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
    let dtd = std::process::Command::new("xmllint")
        .args(["--noout", "--valid", "--path", "/usr/share/resource-agents"])
        .arg(&xml)
        .output()
        .expect("xmllint (libxml2-utils)");
    assert!(
        dtd.status.success(),
        "DTD: {}",
        String::from_utf8_lossy(&dtd.stderr)
    );
    let rng = std::process::Command::new("xmllint")
        .args([
            "--noout",
            "--relaxng",
            "/usr/share/resource-agents/metadata.rng",
        ])
        .arg(&xml)
        .output()
        .unwrap();
    assert!(
        rng.status.success(),
        "RNG: {}",
        String::from_utf8_lossy(&rng.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
    text.into_owned()
}
