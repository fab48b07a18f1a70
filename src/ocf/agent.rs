//! The contract between the OCF protocol layer and a resource agent.

use super::env::OcfEnv;
use super::exit::OcfResult;
use crate::aws::imds::Imds;
use crate::aws::{AwsOptions, Session};
use crate::core::state::StateFile;
use crate::core::{Deadline, Param, Params};

/// One `<action>` line of the meta-data.
#[derive(Clone, Copy, Debug)]
pub struct ActionSpec {
    pub name: &'static str,
    pub timeout_s: u32,
    pub interval_s: Option<u32>,
    pub depth: Option<u32>,
}

impl ActionSpec {
    pub const fn new(name: &'static str, timeout_s: u32) -> Self {
        ActionSpec {
            name,
            timeout_s,
            interval_s: None,
            depth: None,
        }
    }
    pub const fn monitor(timeout_s: u32, interval_s: u32, depth: u32) -> Self {
        ActionSpec {
            name: "monitor",
            timeout_s,
            interval_s: Some(interval_s),
            depth: Some(depth),
        }
    }
}

/// What the OCF protocol needs to know about a resource agent: its
/// meta-data. The registry (`agents::ALL`) holds the rest.
#[derive(Clone, Copy)]
pub struct Meta {
    pub name: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
    pub params: &'static [Param],
    pub replaces: &'static [crate::core::legacy::Replaces],
    pub actions: &'static [ActionSpec],
}

impl Meta {
    /// Default timeout of an action, used as the deadline when Pacemaker did
    /// not pass one (manual runs, ocf-tester).
    pub fn default_timeout_s(&self, action: &str) -> u32 {
        self.actions
            .iter()
            .find(|a| a.name == action)
            .map(|a| a.timeout_s)
            .unwrap_or(20)
    }

    /// The monitor depths this agent implements, ascending.
    pub fn depths(&self) -> Vec<u32> {
        let mut d: Vec<u32> = self
            .actions
            .iter()
            .filter(|a| a.name == "monitor")
            .map(|a| a.depth.unwrap_or(0))
            .collect();
        d.sort_unstable();
        d.dedup();
        if d.is_empty() {
            d.push(0);
        }
        d
    }
}

/// What an action gets to work with.
pub struct Ctx {
    /// The agent's name, as Pacemaker knows it (ocf:aws:<agent>).
    pub agent: &'static str,
    pub env: OcfEnv,
    pub params: Params,
    pub deadline: Deadline,
    /// `OCF_CHECK_LEVEL`, mapped to the deepest level the agent implements
    /// that is not deeper than the one asked for.
    pub depth: u32,
    pub probe: bool,
}

impl Ctx {
    /// The state file of this resource: one per agent and resource
    /// instance; manual runs without an instance name use `key`.
    pub fn state(&self, key: &str) -> StateFile {
        let instance = self.env.resource_instance.as_deref().unwrap_or(key);
        StateFile::new(&self.env.run_dir(), self.agent, instance)
    }

    /// Whether a probe takes over what AWS shows at this node although no
    /// start ran here: only when its operation carries the marker of
    /// `ocf-aws migrate`'s switch (the resource is held in maintenance, so
    /// Pacemaker acts on nothing else), so that a resource the replaced
    /// ClusterLabs agent started, reprobed with ours, is found running where
    /// it runs, not stopped and started again. Any other probe never adopts:
    /// after a reboot, an address still pointing at this node is a
    /// leftover, not a running resource.
    pub fn adopting(&self) -> bool {
        self.probe && self.env.adopt
    }

    /// The metadata client with the node's identity cache; a probe only
    /// reads the cache (probes change nothing).
    pub fn imds(&self, aws: &AwsOptions) -> Imds {
        let imds = aws.imds(&self.env.aws, &self.env.run_dir(), self.deadline);
        if self.probe {
            imds.read_only_cache()
        } else {
            imds
        }
    }

    /// An AWS session for this action.
    pub fn connect(&self, aws: &AwsOptions, imds: &Imds) -> OcfResult<Session> {
        Ok(Session::connect(aws, &self.env.aws, imds, self.deadline)?)
    }
}

/// The operations every resource agent implements, on an agent built from
/// its validated configuration (the registry's `new` turns the raw
/// parameters into it, checking everything that can be checked without
/// touching the host or AWS). `monitor` returns `Ok(())` when running and
/// `Err` with rc 7 when cleanly stopped.
pub trait Agent {
    fn validate(&self, ctx: &Ctx) -> OcfResult<()>;
    fn start(&self, ctx: &Ctx) -> OcfResult<()>;
    fn stop(&self, ctx: &Ctx) -> OcfResult<()>;
    fn monitor(&self, ctx: &Ctx) -> OcfResult<()>;
}

/// How the OCF layer gets a configured agent (or the configuration error).
pub type Configure<'a> = &'a dyn Fn(&Ctx) -> OcfResult<Box<dyn Agent>>;
