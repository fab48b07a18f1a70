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
pub mod fence_ec2;
pub(crate) mod legacy;
pub mod local;
pub mod secondary_ip;
mod settle;
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
    /// The agents it replaces, with what it does with each of their
    /// parameters (parsing, meta-data, man page, `ocf-aws migrate`).
    pub replaces: &'static [crate::core::legacy::Replaces],
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
    /// A fence agent (`/usr/sbin/<name>`), spoken to by pacemaker-fenced.
    Fence {
        vendor_url: &'static str,
        new: fn(&crate::fence::Ctx) -> Result<Box<dyn FenceDevice>, crate::fence::Failure>,
    },
}

/// A fence agent: the fence actions and the doctor's checks.
pub trait FenceDevice: crate::fence::FenceAgent + crate::doctor::Checks {}
impl<T: crate::fence::FenceAgent + crate::doctor::Checks> FenceDevice for T {}

/// A resource agent: the OCF actions and the doctor's checks, both
/// working from the one configuration `configure` validates.
pub trait ResourceAgent: crate::ocf::Agent + crate::doctor::Checks {}
impl<T: crate::ocf::Agent + crate::doctor::Checks> ResourceAgent for T {}

impl Spec {
    /// The OCF meta-data of a resource agent.
    pub fn ocf(&self) -> Option<crate::ocf::Meta> {
        match self.personality {
            Personality::Resource { actions, .. } => Some(self.meta(actions)),
            Personality::Fence { .. } => None,
        }
    }

    /// The fence-agents metadata of a fence agent.
    pub fn fence(&self) -> Option<crate::fence::Meta> {
        match self.personality {
            Personality::Fence { vendor_url, .. } => Some(crate::fence::Meta {
                name: self.name,
                shortdesc: self.shortdesc,
                longdesc: self.longdesc,
                vendor_url,
                host_argument: "plug",
                params: self.params,
                replaces: self.replaces,
            }),
            Personality::Resource { .. } => None,
        }
    }

    pub fn is_fence(&self) -> bool {
        matches!(self.personality, Personality::Fence { .. })
    }

    fn meta(&self, actions: &'static [ActionSpec]) -> crate::ocf::Meta {
        crate::ocf::Meta {
            name: self.name,
            shortdesc: self.shortdesc,
            longdesc: self.longdesc,
            params: self.params,
            replaces: self.replaces,
            actions,
        }
    }

    /// The agent configured from `params` as its protocol would, for the
    /// doctor; the reason when they cannot work.
    pub fn configure(
        &self,
        env: &crate::ocf::OcfEnv,
        params: crate::core::Params,
        deadline: crate::core::Deadline,
    ) -> Result<Box<dyn crate::doctor::Checks>, String> {
        match self.personality {
            Personality::Resource { new, .. } => {
                let ctx = crate::ocf::Ctx {
                    agent: self.name,
                    env: env.clone(),
                    params,
                    deadline,
                    depth: 0,
                    probe: false,
                };
                new(&ctx)
                    .map(|a| -> Box<dyn crate::doctor::Checks> { a })
                    .map_err(|e| e.reason)
            }
            Personality::Fence { new, .. } => {
                let ctx = crate::fence::Ctx {
                    agent: self.name,
                    params,
                    deadline,
                    aws: env.aws.clone(),
                    run_dir: env.run_dir(),
                };
                new(&ctx)
                    .map(|a| -> Box<dyn crate::doctor::Checks> { a })
                    .map_err(|f| f.reason)
            }
        }
    }

    /// Run as the process's personality: `args` is argv (argv[0] first).
    pub fn run(&self, args: &[String]) -> i32 {
        match self.personality {
            Personality::Resource { actions, new } => crate::ocf::run(
                &self.meta(actions),
                &|ctx| new(ctx).map(|a| -> Box<dyn crate::ocf::Agent> { a }),
                args.get(1).map(String::as_str),
            ),
            Personality::Fence { new, .. } => crate::fence::run(
                &self.fence().expect("a fence agent has fence metadata"),
                &|ctx| new(ctx).map(|a| -> Box<dyn crate::fence::FenceAgent> { a }),
                args,
                &mut std::io::stdin().lock(),
            ),
        }
    }
}

/// Every agent of the binary.
pub const ALL: &[&Spec] = &[
    &vip::SPEC,
    &eip::SPEC,
    &dns::SPEC,
    &az::SPEC,
    &secondary_ip::SPEC,
    &fence_ec2::SPEC,
];

/// The resource agents (`ocf-aws --list`).
pub fn resource_agents() -> impl Iterator<Item = &'static Spec> {
    ALL.iter().copied().filter(|a| !a.is_fence())
}

/// The fence agents (`ocf-aws --list-fence`).
pub fn fence_agents() -> impl Iterator<Item = &'static Spec> {
    ALL.iter().copied().filter(|a| a.is_fence())
}

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
    pub fn valid(value: &str, prefix: &str) -> bool {
        value
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|hex| {
                (hex.len() == 8 || hex.len() == 17)
                    && hex
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            })
    }

    pub fn check(param: &str, value: &str, prefix: &str) -> OcfResult<()> {
        if valid(value, prefix) {
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
