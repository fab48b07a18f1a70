//! The agents and their registry. Each agent is one module whose [`Spec`]
//! is the single place for everything about it: its parameters, actions,
//! the IAM actions it calls, the AWS services it talks to, its example
//! configurations, and (through its implementation) its doctor checks.
//! Dispatch, meta-data, man pages, `iam-policy`, `doctor`, packaging and
//! the tests all read [`ALL`]; nothing outside the agents' own modules and
//! this registry chooses behaviour by an agent's name.

pub mod az;
pub mod dns;
pub mod eip;
pub mod local;
pub mod vip;

use crate::aws::iam::Permission;
use crate::aws::Service;
use crate::core::params::{shorten, Kind, Param};
use crate::ocf::{ActionSpec, OcfError, OcfResult};

/// Everything static about an agent.
pub struct Spec {
    pub name: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
    pub params: &'static [Param],
    /// Every AWS API action the agent calls (`ocf-aws iam-policy` and the
    /// doctor's permission checks are made from it).
    pub iam: &'static [Permission],
    /// The AWS services it talks to (the doctor times each endpoint).
    pub services: &'static [Service],
    /// Its example configurations, as files in crm-examples/.
    pub examples: &'static [&'static str],
    pub personality: Personality,
}

/// How the agent is driven.
pub enum Personality {
    /// An OCF resource agent (`/usr/lib/ocf/resource.d/aws/<name>`).
    Resource {
        actions: &'static [ActionSpec],
        /// The agent, configured from the action's parameters.
        new: fn(&crate::ocf::Ctx) -> OcfResult<Box<dyn ResourceAgent>>,
    },
}

/// A resource agent: the OCF actions and the doctor's checks, both
/// working from the one configuration `configure` validates.
pub trait ResourceAgent: crate::ocf::Agent + crate::doctor::Checks {}
impl<T: crate::ocf::Agent + crate::doctor::Checks> ResourceAgent for T {}

impl Spec {
    /// The OCF meta-data of a resource agent.
    pub fn ocf(&self) -> Option<crate::ocf::Meta> {
        match self.personality {
            Personality::Resource { actions, .. } => Some(self.meta(actions)),
        }
    }

    fn meta(&self, actions: &'static [ActionSpec]) -> crate::ocf::Meta {
        crate::ocf::Meta {
            name: self.name,
            shortdesc: self.shortdesc,
            longdesc: self.longdesc,
            params: self.params,
            actions,
        }
    }

    /// A resource agent configured from `ctx` (doctor's way in).
    pub fn configure(&self, ctx: &crate::ocf::Ctx) -> OcfResult<Box<dyn ResourceAgent>> {
        match self.personality {
            Personality::Resource { new, .. } => new(ctx),
        }
    }

    /// Run as the process's personality (argv[1] is the action).
    pub fn run(&self, action: Option<&str>) -> i32 {
        match self.personality {
            Personality::Resource { actions, new } => crate::ocf::run(
                &self.meta(actions),
                &|ctx| new(ctx).map(|a| -> Box<dyn crate::ocf::Agent> { a }),
                action,
            ),
        }
    }
}

/// Every agent of the binary.
pub const ALL: &[&Spec] = &[&vip::SPEC, &eip::SPEC, &dns::SPEC, &az::SPEC];

pub fn find(name: &str) -> Option<&'static Spec> {
    ALL.iter().copied().find(|a| a.name == name)
}

/// The monitor's policy when the AWS API cannot be asked.
pub const API_FAILURE: Param = Param::new(
    "api_failure",
    Kind::Select(&["fail", "warn", "ignore"]),
    "What a monitor does when the AWS API cannot be reached",
)
.default("warn")
.long(
    "When a monitor that asks the AWS API cannot get an answer (network, \
     throttling, AWS outage): fail returns an error (Pacemaker recovers the \
     resource, possibly moving it to a node that cannot reach AWS either); warn \
     logs a warning and reports the resource as running, judged by its local \
     state; ignore does the same without the warning.",
);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiFailure {
    Fail,
    Warn,
    Ignore,
}

impl ApiFailure {
    /// A monitor could not ask AWS (`e` is transient): fail, or warn and
    /// report running (judged by local state), or stay silent.
    pub fn tolerate(self, e: OcfError, what: &str) -> OcfResult<()> {
        match self {
            ApiFailure::Fail => Err(e),
            ApiFailure::Warn => {
                log::warn!("{what} (api_failure=warn): {}", e.reason);
                Ok(())
            }
            ApiFailure::Ignore => Ok(()),
        }
    }

    pub fn from_params(p: &crate::core::Params) -> ApiFailure {
        match p.str("api_failure") {
            Some("fail") => ApiFailure::Fail,
            Some("ignore") => ApiFailure::Ignore,
            _ => ApiFailure::Warn,
        }
    }
}

/// AWS resource ids as their parameters take them.
pub mod ids {
    use super::*;

    /// `prefix-` followed by 8 or 17 lowercase hex digits, as AWS issues them.
    pub fn check(param: &str, value: &str, prefix: &str) -> OcfResult<()> {
        let ok = value
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|hex| {
                (hex.len() == 8 || hex.len() == 17)
                    && hex
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            });
        if ok {
            Ok(())
        } else {
            Err(OcfError::configured(format!(
                "{param}='{}' is not a {prefix} id: set it like {prefix}-0123456789abcdef0",
                shorten(value)
            )))
        }
    }
}

#[cfg(test)]
mod tests;
