//! A fence device in a world: a fence agent run as pacemaker-fenced runs
//! it (its `/usr/sbin/<agent>` symlink from `ocf/install.sh`, no arguments,
//! `key=value` lines on stdin) or as a human does (command-line options),
//! with a clean environment, every AWS request through a fault proxy of
//! its own; and the world's instances as moto has them.

use super::emulators::Helper;
use super::run::{agent_link, Run};
use super::seeded::{Seed, World};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// `<root>/usr/sbin/<agent>`, the fence agent's link in the private root
/// `agent_link` installed with `ocf/install.sh`.
pub fn fence_link(agent: &str) -> PathBuf {
    // <root>/usr/lib/ocf/resource.d/aws/<x>: five levels below <root>/usr.
    let any = agent_link("vip");
    let usr = any.ancestors().nth(5).expect("install root").to_path_buf();
    let link = usr.join("sbin").join(agent);
    assert!(
        link.symlink_metadata().is_ok(),
        "ocf/install.sh made no {}",
        link.display()
    );
    link
}

/// A world, its fault proxy, and a tag key no other world uses.
pub struct Fenced {
    pub w: World,
    pub proxy: Helper,
    pub agent: &'static str,
    /// A tag key of this world only (every seeded world tags its instances
    /// Name=node1/node2, in one shared moto).
    pub tag: String,
}

impl Fenced {
    pub fn new() -> Fenced {
        Self::with(Seed::default())
    }

    pub fn with(seed: Seed) -> Fenced {
        static N: AtomicUsize = AtomicUsize::new(0);
        let w = World::with(seed);
        let proxy = Helper::proxy(&w.endpoint);
        let tag = format!(
            "fence-node-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        Fenced {
            w,
            proxy,
            agent: "fence_ec2",
            tag,
        }
    }

    pub fn id(&self, node: &str) -> String {
        self.w.node(node).instance_id.clone()
    }

    /// The agent as `node`'s fencer runs it, with `env` on top (an empty
    /// value removes a variable); `args` empty: parameters from stdin.
    pub fn command(&self, node: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
        let n = self.w.node(node);
        let mut cmd = Command::new(fence_link(self.agent));
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LC_ALL", "C")
            .env("AWS_ENDPOINT_URL", self.proxy.url())
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &n.imds)
            .env("HA_RSCTMP", &n.rsctmp)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        cmd
    }

    fn run(&self, mut cmd: Command, stdin: &str) -> Run {
        let t = Instant::now();
        let mut child = cmd.spawn().expect("run the fence agent");
        {
            let mut i = child.stdin.take().unwrap();
            // The agent may exit without reading (command-line mode).
            let _ = i.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().expect("fence agent output");
        Run::new(out, t.elapsed())
    }

    /// Stdin mode, as pacemaker-fenced: no arguments, `lines` on stdin.
    pub fn stdin(&self, node: &str, lines: &str) -> Run {
        self.stdin_env(node, lines, &[])
    }

    pub fn stdin_env(&self, node: &str, lines: &str, env: &[(&str, &str)]) -> Run {
        self.run(self.command(node, &[], env), lines)
    }

    /// Command-line mode: `args` (nothing on stdin).
    pub fn args(&self, node: &str, args: &[&str]) -> Run {
        self.args_env(node, args, &[])
    }

    pub fn args_env(&self, node: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run(self.command(node, args, env), "")
    }

    /// Fresh proxy counters, rules and rewrites.
    pub fn reset(&self) {
        self.proxy.ctl("reset");
    }

    /// API actions sent since the last reset: action → count.
    pub fn sent(&self) -> BTreeMap<String, u64> {
        self.proxy.stats()["by_action"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The proxy's request log: (action, HTTP status or None) in order.
    pub fn log(&self) -> Vec<(String, Option<u64>)> {
        let v = super::emulators::http_json("GET", &format!("{}/_proxy/log", self.proxy.url()));
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["action"].as_str().unwrap_or_default().to_string(),
                            e["status"].as_u64(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// DescribeInstances through the proxy reports `state` for `node`'s
    /// instance (for `seconds`, or until reset).
    pub fn hold(&self, node: &str, state: &str, seconds: Option<f64>) -> Value {
        let mut q = format!("instance-state?id={}&state={state}", self.id(node));
        if let Some(s) = seconds {
            q.push_str(&format!("&seconds={s}"));
        }
        let v = self.proxy.ctl(&q);
        assert!(v.get("instance_states").is_some(), "instance-state: {v}");
        v
    }

    /// The state moto has for `node`'s instance (not through the proxy).
    pub fn state(&self, node: &str) -> String {
        self.w.instance_state(&self.id(node))
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

impl World {
    /// An instance's state name as moto reports it.
    pub fn instance_state(&self, id: &str) -> String {
        let c = self.ec2();
        rt().block_on(async {
            let r = c
                .describe_instances()
                .instance_ids(id)
                .send()
                .await
                .expect("DescribeInstances");
            r.reservations()[0].instances()[0]
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_string())
                .unwrap_or_default()
        })
    }

    /// Tag each (instance, value) with `key`.
    pub fn tag_instances(&self, key: &str, pairs: &[(&str, &str)]) {
        let c = self.ec2();
        rt().block_on(async {
            for (id, value) in pairs {
                c.create_tags()
                    .resources(*id)
                    .tags(
                        aws_sdk_ec2::types::Tag::builder()
                            .key(key)
                            .value(*value)
                            .build(),
                    )
                    .send()
                    .await
                    .expect("CreateTags");
            }
        });
    }

    /// Start or stop an instance behind the agents' back.
    pub fn set_running(&self, id: &str, running: bool) {
        let c = self.ec2();
        rt().block_on(async {
            if running {
                c.start_instances()
                    .instance_ids(id)
                    .send()
                    .await
                    .expect("StartInstances");
            } else {
                c.stop_instances()
                    .instance_ids(id)
                    .send()
                    .await
                    .expect("StopInstances");
            }
        });
    }
}
