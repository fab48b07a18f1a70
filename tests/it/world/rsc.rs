//! One agent's resource in a world: its parameters (from the agent table),
//! how its AWS state reads back, and the one way tests run its actions.

use super::emulators::{repo, Helper};
use super::run::Run;
use super::seeded::{Seed, World};

/// The address a secondary-ip resource moves: free in the shared subnet
/// (10.0.1.0/24; the nodes have .10 and .20).
pub const SECONDARY_IP: &str = "10.0.1.50";
use crate::agents::{known, Kind};
use std::path::PathBuf;
use std::process::Command;

/// What a resource is about in AWS.
pub enum Target {
    Routes,
    Eip {
        alloc: String,
        public: String,
    },
    Record {
        zone: String,
        name: String,
    },
    /// A secondary private address of the nodes' shared subnet.
    Address {
        ip: String,
    },
    Attribute,
}

pub struct Rsc {
    pub w: World,
    pub agent: &'static str,
    pub params: Vec<(&'static str, String)>,
    pub target: Target,
    proxy: Option<Helper>,
    env: Vec<(&'static str, String)>,
    aws_monitor: bool,
}

impl Rsc {
    /// A resource of `agent` in `w`: what it needs is created there (an
    /// Elastic IP, a private hosted zone), the parameters point at it.
    pub fn new(w: World, agent: &str) -> Rsc {
        let k = known(agent);
        let (params, target) = match k.kind {
            Kind::Routes => (vec![("ip", w.vip.clone())], Target::Routes),
            Kind::Eip => {
                let (alloc, public) = w.allocate_eip();
                (
                    vec![("allocation_id", alloc.clone())],
                    Target::Eip { alloc, public },
                )
            }
            Kind::Record => {
                let (zone, zname) = w.create_zone(true);
                let name = format!("db.{zname}");
                (
                    vec![("hosted_zone_id", zone.clone()), ("name", name.clone())],
                    Target::Record { zone, name },
                )
            }
            Kind::Address => {
                let ip = SECONDARY_IP.to_string();
                (vec![("ip", ip.clone())], Target::Address { ip })
            }
            Kind::Health => (vec![], Target::Attribute),
        };
        Rsc {
            w,
            agent: k.name,
            params,
            target,
            proxy: None,
            env: vec![],
            aws_monitor: false,
        }
    }

    /// A resource of `agent` in a world seeded the way it needs (the
    /// table's `seed`: secondary-ip needs both nodes in one subnet).
    pub fn for_agent(agent: &str) -> Rsc {
        Self::seeded(agent, &[])
    }

    /// [`for_agent`](Self::for_agent) with more seed arguments.
    pub fn seeded(agent: &str, more: &[&str]) -> Rsc {
        let mut args: Vec<&str> = known(agent).seed.to_vec();
        args.extend_from_slice(more);
        Rsc::new(
            World::with(Seed {
                args,
                ..Seed::default()
            }),
            agent,
        )
    }

    /// Also these parameters, in every action.
    pub fn with(mut self, extra: &[(&'static str, &str)]) -> Rsc {
        for (k, v) in extra {
            self.params.retain(|(pk, _)| pk != k);
            self.params.push((k, v.to_string()));
        }
        self
    }

    /// The table's parameters under which every action calls AWS.
    pub fn full(self) -> Rsc {
        let full = known(self.agent).full;
        self.with(full)
    }

    /// Every AWS request through a fault proxy of its own (`proxy()`).
    pub fn proxied(mut self) -> Rsc {
        let proxy = Helper::proxy(&self.w.endpoint);
        self.env.push(("AWS_ENDPOINT_URL", proxy.url()));
        self.proxy = Some(proxy);
        self
    }

    /// tests/world first on PATH: the attrd_updater stand-in, logging to
    /// `attrd_log()`.
    pub fn attrd(mut self) -> Rsc {
        let path = format!(
            "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            repo().join("tests/world").display()
        );
        self.env.push(("PATH", path));
        let log = self.attrd_log().display().to_string();
        self.env.push(("ATTRD_LOG", log));
        self
    }

    /// Monitors that ask AWS (the table's `aws_monitor` environment).
    pub fn aws_monitors(mut self) -> Rsc {
        self.aws_monitor = true;
        self
    }

    pub fn proxy(&self) -> &Helper {
        self.proxy.as_ref().expect("Rsc::proxied() first")
    }

    pub fn attrd_log(&self) -> PathBuf {
        self.w.dir.join("attrd.log")
    }

    /// The parameters with `extra` (which replace same-named ones).
    pub fn params<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut p: Vec<(&str, &str)> = self.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for (k, v) in extra {
            p.retain(|(pk, _)| pk != k);
            p.push((k, v));
        }
        p
    }

    fn env<'a>(&'a self, action: &str, env: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut e: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if self.aws_monitor && action == "monitor" {
            e.extend_from_slice(known(self.agent).aws_monitor);
        }
        e.extend_from_slice(env);
        e
    }

    pub fn run(&self, node: &str, action: &str, extra: &[(&str, &str)]) -> Run {
        self.run_env(node, action, extra, &[])
    }

    /// `action` on `node` with `extra` parameters and `env` on top of the
    /// resource's own (an empty value removes a variable).
    pub fn run_env(
        &self,
        node: &str,
        action: &str,
        extra: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Run {
        let e = self.env(action, env);
        self.w
            .agent_env(node, self.agent, action, &self.params(extra), &e)
    }

    /// The command `run_env` would run, to spawn it.
    pub fn command(&self, node: &str, action: &str, env: &[(&str, &str)]) -> Command {
        let e = self.env(action, env);
        self.w
            .command(node, self.agent, action, &self.params(&[]), &e)
    }

    /// The AWS-side state this resource is about, to prove nothing changed.
    pub fn state(&self) -> String {
        let w = &self.w;
        match &self.target {
            Target::Routes => format!("{:?}", w.routes()),
            Target::Eip { alloc, .. } => format!("{:?}", w.eip_assoc(alloc)),
            Target::Record { zone, name } => format!("{:?}", w.a_record(zone, name)),
            Target::Address { ip } => format!("{:?}", w.enis_holding(ip)),
            Target::Attribute => std::fs::read_to_string(self.attrd_log()).unwrap_or_default(),
        }
    }

    /// Who holds it now: "node1", "node2", "" or "split [...]".
    pub fn holder(&self) -> String {
        let owner = |v: &str| {
            ["node1", "node2"]
                .into_iter()
                .find(|n| {
                    let node = self.w.node(n);
                    v == node.eni || v == node.private_ip
                })
                .unwrap_or("")
                .to_string()
        };
        match &self.target {
            Target::Routes => {
                let m = self.w.managed();
                if m.iter().all(|e| *e == m[0]) {
                    owner(&m[0])
                } else {
                    format!("split {m:?}")
                }
            }
            Target::Eip { alloc, .. } => owner(&self.w.eip_assoc(alloc).0),
            Target::Record { .. } => self.record().map(|v| owner(&v[0])).unwrap_or_default(),
            Target::Address { ip } => match self.w.enis_holding(ip).as_slice() {
                [one] => owner(one),
                [] => String::new(),
                many => format!("split {many:?}"),
            },
            Target::Attribute => String::new(),
        }
    }

    /// The Elastic IP: (allocation id, public address).
    pub fn eip(&self) -> (&str, &str) {
        match &self.target {
            Target::Eip { alloc, public } => (alloc, public),
            _ => panic!("{} has no Elastic IP", self.agent),
        }
    }

    /// The record: (hosted zone id, name).
    pub fn zone_name(&self) -> (&str, &str) {
        match &self.target {
            Target::Record { zone, name } => (zone, name),
            _ => panic!("{} has no record", self.agent),
        }
    }

    /// The record's values (None: no record).
    pub fn record(&self) -> Option<Vec<String>> {
        let (zone, name) = self.zone_name();
        self.w.a_record(zone, name).map(|r| r.0)
    }
}
