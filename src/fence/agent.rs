//! The contract between the fence-agents protocol layer and a fence agent.

use crate::aws::imds::Imds;
use crate::aws::{AwsEnv, AwsOptions, Session};
use crate::core::{Deadline, Invalid, Params};
use std::path::PathBuf;

/// What an action gets to work with.
pub struct Ctx {
    pub agent: &'static str,
    pub params: Params,
    /// `power_timeout` from now: every request, retry and poll of the
    /// action ends before it.
    pub deadline: Deadline,
    pub aws: AwsEnv,
    /// Where the node's identity cache lives.
    pub run_dir: PathBuf,
}

impl Ctx {
    pub fn imds(&self, aws: &AwsOptions) -> Imds {
        aws.imds(&self.aws, &self.run_dir, self.deadline)
    }

    pub fn connect(&self, aws: &AwsOptions, imds: &Imds) -> Result<Session, Failure> {
        Ok(Session::connect(aws, &self.aws, imds, self.deadline)?)
    }
}

/// Whether a target is powered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    On,
    Off,
}

/// One line of `list`: the plug to fence it by, its id, and its power.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outlet {
    pub plug: String,
    pub id: String,
    pub power: Option<Power>,
}

/// A failed action: the one line the fencer logs, whether the cause was
/// the clock (the fencer reads "timed out" as a timeout), and whether
/// another attempt could help (retry_on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub timed_out: bool,
    pub retryable: bool,
}

impl Failure {
    /// A configuration that cannot work: no retry helps.
    pub fn config(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            timed_out: false,
            retryable: false,
        }
    }

    /// A refusal on principle (the race check): no retry either.
    pub fn refuse(reason: impl Into<String>) -> Failure {
        Self::config(reason)
    }

    pub fn timed_out(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            timed_out: true,
            retryable: false,
        }
    }

    pub fn context(mut self, what: &str) -> Failure {
        self.reason = format!("{what}: {}", self.reason);
        self
    }
}

impl From<crate::aws::Error> for Failure {
    fn from(e: crate::aws::Error) -> Failure {
        Failure {
            timed_out: e.is_timeout(),
            retryable: e.is_transient(),
            reason: e.to_string(),
        }
    }
}

impl From<crate::aws::imds::Error> for Failure {
    fn from(e: crate::aws::imds::Error) -> Failure {
        crate::aws::Error::from(e).into()
    }
}

impl From<Invalid> for Failure {
    fn from(e: Invalid) -> Failure {
        Failure::config(e.0)
    }
}

/// The actions of a fence agent, on an agent built from its validated
/// configuration. `off` and `on` return once the target is verified in
/// that state (or fail); `reboot` is the protocol layer's (off, then on).
pub trait FenceAgent {
    fn status(&self, ctx: &Ctx) -> Result<Power, Failure>;
    fn off(&self, ctx: &Ctx) -> Result<(), Failure>;
    fn on(&self, ctx: &Ctx) -> Result<(), Failure>;
    /// Every target, with its power state.
    fn list(&self, ctx: &Ctx) -> Result<Vec<Outlet>, Failure>;
    /// The device works: credentials, endpoint, permission (one cheap call).
    fn monitor(&self, ctx: &Ctx) -> Result<(), Failure>;
    /// Everything that can be checked without changing anything.
    fn validate(&self, ctx: &Ctx) -> Result<(), Failure>;
}

/// How the fence layer gets a configured agent (or the configuration error).
pub type Configure<'a> = &'a dyn Fn(&Ctx) -> Result<Box<dyn FenceAgent>, Failure>;
