//! One seeded world: a private VPC in the shared moto, two nodes with their
//! metadata emulators, and a veth pair carrying the nodes' ENI MACs.

use super::emulators::{http_json, moto, Emulators};
use super::ns::run_ok;
use super::run::{ocf_command, Run};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct Node {
    pub instance_id: String,
    pub eni: String,
    pub private_ip: String,
    /// The ENI's seeded IPv6 address and its subnet's /64.
    pub ipv6: String,
    pub subnet_ipv6: String,
    pub az: String,
    pub device: String,
    pub imds: String,
    pub rsctmp: PathBuf,
}

/// How to seed a world: seed.py's options, and imds.py's for every node.
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
    /// The IPv6 overlay address the seeded tables route too.
    pub vip6: String,
    pub tables: Vec<String>,
    pub other_tables: Vec<String>,
    pub nodes: BTreeMap<String, Node>,
    pub dir: PathBuf,
    devices: Vec<String>,
    // Last: its Drop ends the imds.py processes and removes `dir`.
    _emulators: Emulators,
}

static DEV: AtomicUsize = AtomicUsize::new(0);

impl World {
    pub fn new() -> World {
        Self::with(Seed::default())
    }

    pub fn with(seed: Seed) -> World {
        let endpoint = moto().to_string();
        let mut args = vec!["--endpoint".to_string(), endpoint.clone()];
        args.extend(seed.args.iter().map(|a| format!("--seed-arg={a}")));
        args.extend(seed.imds_args.iter().map(|a| format!("--imds-arg={a}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let emulators = Emulators::up("world", &args);
        let json = emulators.desc.clone();
        let dir = emulators.dir.clone();
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
        let mut nodes = BTreeMap::new();
        for (name, dev) in [("node1", &da), ("node2", &db)] {
            let j = &json["nodes"][name];
            let mac = j["mac"].as_str().unwrap().to_string();
            run_ok("ip", &["link", "set", dev, "address", &mac]);
            run_ok("ip", &["link", "set", dev, "up"]);
            let rsctmp = dir.join(format!("run-{name}"));
            std::fs::create_dir_all(&rsctmp).unwrap();
            let s = |k: &str| j[k].as_str().unwrap().to_string();
            nodes.insert(
                name.to_string(),
                Node {
                    instance_id: s("instance_id"),
                    eni: s("eni_id"),
                    private_ip: s("private_ip"),
                    ipv6: s("ipv6"),
                    subnet_ipv6: s("subnet_ipv6_cidr"),
                    az: s("az"),
                    device: dev.clone(),
                    imds: json["emulators"]["imds"][name]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    rsctmp,
                },
            );
        }
        World {
            endpoint,
            vpc: json["vpc_id"].as_str().unwrap().to_string(),
            vip: json["vip"].as_str().unwrap().to_string(),
            vip6: json["vip6"].as_str().unwrap().to_string(),
            tables: strs(&json["route_tables"]),
            other_tables: strs(&json["other_tables"]),
            nodes,
            dir,
            devices: vec![da, db],
            json,
            _emulators: emulators,
        }
    }

    pub fn node(&self, name: &str) -> &Node {
        &self.nodes[name]
    }

    /// The ARN of a role the seed created (`--assume-role LABEL`).
    pub fn role(&self, label: &str) -> String {
        self.json["roles"][label]
            .as_str()
            .unwrap_or_else(|| panic!("no role {label} in the seed: --assume-role {label}"))
            .to_string()
    }

    /// The access key id of `node`'s instance-role credentials, as its
    /// metadata emulator hands them out.
    pub fn node_key(&self, node: &str) -> String {
        let url = format!(
            "{}/latest/meta-data/iam/security-credentials/ha-cluster-node",
            self.node(node).imds
        );
        http_json("GET", &url)["AccessKeyId"]
            .as_str()
            .unwrap_or_else(|| panic!("{node}: no instance-role credentials at {url}"))
            .to_string()
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
        let mut cmd = ocf_command(agent, action);
        cmd.env(
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

    /// IPv4 addresses on a node's device, as `ip` shows them.
    pub fn addrs(&self, node: &str) -> Vec<String> {
        self.addrs_of(node, "-4", "inet")
    }

    /// Global IPv6 addresses on a node's device (no fe80::), as `ip` shows them.
    pub fn addrs6(&self, node: &str) -> Vec<String> {
        self.addrs_of(node, "-6", "inet6")
            .into_iter()
            .filter(|a| !a.starts_with("fe80:"))
            .collect()
    }

    fn addrs_of(&self, node: &str, family: &str, word: &str) -> Vec<String> {
        let out = Command::new("ip")
            .args(["-o", family, "addr", "show", "dev", &self.node(node).device])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                it.find(|w| *w == word).and(it.next()).map(String::from)
            })
            .collect()
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
        // Deleting one end of a veth pair deletes both.
        if let Some(d) = self.devices.first() {
            let _ = Command::new("ip").args(["link", "del", d]).status();
        }
        // Then `_emulators` drops: the imds.py processes end, `dir` goes.
    }
}
