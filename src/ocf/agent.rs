//! The contract between the OCF protocol layer and an agent.

use super::deadline::Deadline;
use super::env::OcfEnv;
use super::exit::OcfResult;
use super::params::{Param, Params};

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

/// Everything static about an agent: the declarative tables plus the entry
/// point. Adding an agent to the binary is one line in `agents::ALL`.
pub struct AgentSpec {
    pub name: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
    pub params: &'static [Param],
    pub actions: &'static [ActionSpec],
    pub new: fn() -> Box<dyn Agent>,
}

impl AgentSpec {
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
    pub env: OcfEnv,
    pub params: Params,
    pub deadline: Deadline,
    /// `OCF_CHECK_LEVEL`, mapped to the deepest level the agent implements
    /// that is not deeper than the one asked for.
    pub depth: u32,
    pub probe: bool,
}

/// The operations every agent implements. `monitor` returns `Ok(())` when
/// running and `Err` with rc 7 when cleanly stopped.
pub trait Agent {
    /// Turn the raw parameters into the agent's configuration, checking
    /// everything that can be checked without touching the host or AWS.
    /// Called before every action except meta-data.
    fn configure(&mut self, ctx: &Ctx) -> OcfResult<()>;
    fn validate(&mut self, ctx: &Ctx) -> OcfResult<()>;
    fn start(&mut self, ctx: &Ctx) -> OcfResult<()>;
    fn stop(&mut self, ctx: &Ctx) -> OcfResult<()>;
    fn monitor(&mut self, ctx: &Ctx) -> OcfResult<()>;
}
