//! What can go wrong talking to AWS, as types: the agents and the doctor
//! decide on the kind, never on the wording, and each protocol boundary
//! (OCF exit codes, fence-agents' exit status) maps [`Class`] its own way.
//!
//! The rendered text leads with what failed and what to do, and puts the
//! transport detail last: Pacemaker keeps only the first 128 characters of
//! an exit reason, so the fix must come before the socket error.
//!
//! Longer than most files here on purpose: it is one enum and its
//! rendering, each kind's text next to the kind, so a new kind cannot be
//! added without its words. Turning SDK errors into kinds is `classify`.

use super::imds;
use crate::core::Invalid;
use std::fmt;

/// Where requests go, for exit reasons: an operator debugging a failover
/// at 3 a.m. needs to see which endpoint and which proxy were used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub endpoint: String,
    pub proxy: Option<String>,
    /// The role the requests are signed as (None: this node's own
    /// credentials), so that a denial names the policy to change.
    pub role: Option<String>,
}

impl Route {
    pub fn describe(&self) -> String {
        match &self.proxy {
            Some(p) => format!("{} via proxy {}", self.endpoint, redact_userinfo(p)),
            None => format!("{} (no proxy)", self.endpoint),
        }
    }
}

/// Proxy URLs may carry `user:password@`; never print that.
pub fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// An error and its causes as one short line: Display texts only (the SDK's
/// Debug output carries raw HTTP responses), duplicates dropped, bounded.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !t.is_empty() && !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    let line = parts.join(": ").replace(['\n', '\r'], " ");
    const MAX: usize = 400;
    if line.chars().count() > MAX {
        format!("{}…", line.chars().take(MAX).collect::<String>())
    } else {
        line
    }
}

/// What Pacemaker (or the fencer) should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// May work on the next attempt or on another node: network, timeouts,
    /// throttling and 5xx that outlasted the retries.
    Transient,
    /// The resource's configuration names something that cannot work
    /// anywhere: an unknown id, an invalid value.
    Configuration,
    /// A fault of this node only (its clock, its role, its ENI).
    ThisNode,
    /// The credentials in use may not do this, or there are none.
    Permission,
}

/// An AWS API error code and message, as the service sent them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub code: String,
    pub message: String,
}

impl Answer {
    pub fn detail(&self) -> String {
        if self.message.is_empty() {
            self.code.clone()
        } else {
            format!("{}: {}", self.code, self.message)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The IAM policy does not allow `action`.
    Denied {
        action: &'static str,
        answer: Answer,
        /// The assumed role whose policy lacks it (None: this node's own).
        role: Option<String>,
    },
    /// STS refused to let this node's credentials assume `role`: the node's
    /// policy lacks sts:AssumeRole on it, or the role's trust policy does
    /// not trust them (or wants another ExternalId).
    RoleDenied {
        role: String,
        param: &'static str,
        external_id: bool,
        answer: Answer,
    },
    /// The credentials were refused (unknown key, bad signature).
    CredentialsRejected {
        action: &'static str,
        answer: Answer,
    },
    /// The request's timestamp is too far from AWS's clock.
    ClockSkew {
        action: &'static str,
        answer: Answer,
    },
    /// The session token expired and refreshing it did not help in time.
    CredentialsExpired {
        action: &'static str,
        answer: Answer,
    },
    Throttled {
        action: &'static str,
        route: Route,
        answer: Answer,
    },
    ServerError {
        action: &'static str,
        route: Route,
        status: u16,
        answer: Answer,
    },
    /// No connection (refused, DNS, TLS, proxy).
    Unreachable {
        action: &'static str,
        route: Route,
        detail: String,
    },
    /// Connected (or not) but no answer before the deadline.
    TimedOut {
        action: &'static str,
        route: Route,
    },
    /// `*.NotFound` and its relatives: an id AWS does not know.
    NotFound {
        action: &'static str,
        answer: Answer,
    },
    /// The request was refused as invalid.
    Invalid {
        action: &'static str,
        answer: Answer,
    },
    /// The address is assigned to another network interface
    /// (`InvalidIPAddress.InUse`): IPv6 has no reassignment, and an
    /// unassign elsewhere takes effect asynchronously.
    AddressInUse {
        action: &'static str,
        answer: Answer,
    },
    /// An answer we cannot classify.
    Failed {
        action: &'static str,
        route: Route,
        detail: String,
    },
    /// No region anywhere, and the instance metadata could not tell it.
    NoRegion(imds::Error),
    /// No credential source supplied credentials.
    NoCredentials {
        tried: String,
    },
    /// The instance metadata has no role for this instance.
    NoInstanceRole {
        endpoint: String,
    },
    /// A credential source is configured but broken (a bad profile).
    CredentialsConfig {
        detail: String,
    },
    /// Loading credentials failed for another reason (network, STS).
    CredentialsUnavailable {
        detail: String,
        tried: String,
    },
    /// The instance metadata returned role credentials we cannot use.
    BadRoleCredentials {
        role: String,
        what: String,
    },
    /// A setting (region, endpoint URL, proxy) that cannot work.
    Setting(Invalid),
    Imds(imds::Error),
    /// Route 53 refused a record name outside the hosted zone.
    OutsideZone {
        name: String,
        zone_id: String,
        answer: Answer,
    },
    /// A Route 53 change was made but is not INSYNC yet at the deadline.
    NotInSync {
        status: String,
        polls: u32,
        change_id: String,
    },
    /// A `DryRun` request that AWS would have carried out: the answer
    /// callers asking "may I?" want (never an error to report).
    DryRunPassed {
        action: &'static str,
    },
    /// Something local to this process (the async runtime).
    Local(String),
}

/// A failed AWS interaction: its [`Kind`], what the caller was doing, and
/// how long the retries went on.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// Boxed: errors travel in every `Result` of the AWS layer, and most
    /// results are successes.
    pub kind: Box<Kind>,
    context: Vec<String>,
    gave_up: Option<(u32, f64)>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<Kind> for Error {
    fn from(kind: Kind) -> Error {
        Error {
            kind: Box::new(kind),
            context: Vec::new(),
            gave_up: None,
        }
    }
}

impl From<imds::Error> for Error {
    fn from(e: imds::Error) -> Error {
        Kind::Imds(e).into()
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Error {
        Kind::Setting(e).into()
    }
}

impl Error {
    /// Say what the caller was doing ("route table rtb-…"); shown first.
    pub fn context(mut self, what: impl Into<String>) -> Error {
        self.context.insert(0, what.into());
        self
    }

    pub(crate) fn gave_up(mut self, attempts: u32, seconds: f64) -> Error {
        self.gave_up = Some((attempts, seconds));
        self
    }

    pub fn class(&self) -> Class {
        match &*self.kind {
            Kind::Denied { .. }
            | Kind::RoleDenied { .. }
            | Kind::CredentialsRejected { .. }
            | Kind::NoCredentials { .. }
            | Kind::NoInstanceRole { .. } => Class::Permission,
            Kind::ClockSkew { .. } => Class::ThisNode,
            Kind::NotFound { .. }
            | Kind::Invalid { .. }
            | Kind::CredentialsConfig { .. }
            | Kind::OutsideZone { .. }
            | Kind::Setting(_) => Class::Configuration,
            Kind::CredentialsExpired { .. }
            | Kind::Throttled { .. }
            | Kind::ServerError { .. }
            | Kind::Unreachable { .. }
            | Kind::TimedOut { .. }
            | Kind::Failed { .. }
            | Kind::AddressInUse { .. }
            | Kind::NoRegion(_)
            | Kind::CredentialsUnavailable { .. }
            | Kind::BadRoleCredentials { .. }
            | Kind::Imds(_)
            | Kind::NotInSync { .. }
            | Kind::DryRunPassed { .. }
            | Kind::Local(_) => Class::Transient,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.class() == Class::Transient
    }

    /// The error code AWS answered with, if it answered.
    pub fn code(&self) -> Option<&str> {
        match &*self.kind {
            Kind::Denied { answer, .. }
            | Kind::RoleDenied { answer, .. }
            | Kind::CredentialsRejected { answer, .. }
            | Kind::ClockSkew { answer, .. }
            | Kind::CredentialsExpired { answer, .. }
            | Kind::Throttled { answer, .. }
            | Kind::ServerError { answer, .. }
            | Kind::NotFound { answer, .. }
            | Kind::Invalid { answer, .. }
            | Kind::AddressInUse { answer, .. } => Some(&answer.code),
            _ => None,
        }
    }

    /// The address is assigned to another network interface.
    pub fn is_address_in_use(&self) -> bool {
        matches!(*self.kind, Kind::AddressInUse { .. })
    }

    /// AWS does not know the id (an unknown allocation, zone, association).
    pub fn is_not_found(&self) -> bool {
        matches!(*self.kind, Kind::NotFound { .. })
    }

    /// The cause was a timeout: the endpoint did not answer in time.
    pub fn is_timeout(&self) -> bool {
        matches!(*self.kind, Kind::TimedOut { .. })
    }

    /// A DryRun request passed.
    pub fn is_dry_run_passed(&self) -> bool {
        matches!(*self.kind, Kind::DryRunPassed { .. })
    }

    /// The metadata service answered, but refused an IMDSv2 session token.
    pub fn is_imds_token_refused(&self) -> bool {
        matches!(
            &*self.kind,
            Kind::Imds(imds::Error::TokenRefused { .. })
                | Kind::NoRegion(imds::Error::TokenRefused { .. })
        )
    }

    fn text(&self) -> String {
        match &*self.kind {
            Kind::Denied {
                action,
                answer,
                role: None,
            } => format!(
                "AWS denied {action}: allow {action} in the IAM policy of this node's \
                 instance role or profile ({})",
                answer.detail()
            ),
            Kind::Denied {
                action,
                answer,
                role: Some(role),
            } => format!(
                "AWS denied {action} to assumed role {role}: allow {action} in that role's \
                 IAM policy ({})",
                answer.detail()
            ),
            Kind::RoleDenied {
                role,
                param,
                external_id,
                answer,
            } => format!(
                "AWS denied sts:AssumeRole on {role} ({param}): allow sts:AssumeRole on it in \
                 this node's instance role or profile, and trust that in the role's trust \
                 policy{} ({})",
                if *external_id {
                    " with condition sts:ExternalId equal to external_id"
                } else {
                    ""
                },
                answer.detail()
            ),
            Kind::CredentialsRejected { action, answer } => format!(
                "AWS rejected the credentials for {action}: check the instance role, the \
                 profile or AWS_* in /etc/default/pacemaker, and this node's clock ({})",
                answer.detail()
            ),
            Kind::ClockSkew { action, answer } => format!(
                "this node's clock is too far off for AWS to accept {action}: synchronise \
                 it (chronyd with the Amazon Time Sync Service, 169.254.169.123) ({})",
                answer.detail()
            ),
            Kind::CredentialsExpired { action, answer } => format!(
                "the credentials for {action} expired and fresh ones were not accepted in \
                 time: check the instance role or profile ({})",
                answer.detail()
            ),
            Kind::Throttled {
                action,
                route,
                answer,
            } => format!(
                "{action} was throttled: raise the operation timeout or reduce API traffic \
                 in this account ({}; {})",
                answer.detail(),
                route.describe()
            ),
            Kind::ServerError {
                action,
                route,
                status,
                answer,
            } => format!(
                "{action}: AWS answered HTTP {status}, a problem on the AWS side; it is \
                 retried until the deadline ({}; {})",
                answer.detail(),
                route.describe()
            ),
            Kind::Unreachable {
                action,
                route,
                detail,
            } => format!(
                "{action}: cannot reach the endpoint: check the network path (NAT, proxy, \
                 VPC endpoint) and security groups; {}: {detail}",
                route.describe()
            ),
            Kind::TimedOut { action, route } => format!(
                "{action}: no answer before the operation's deadline: check the network \
                 path (NAT, proxy, VPC endpoint) and security groups; {}",
                route.describe()
            ),
            Kind::NotFound { action, answer } | Kind::Invalid { action, answer } => {
                format!("AWS rejected {action}: {}", answer.detail())
            }
            Kind::AddressInUse { action, answer } => format!(
                "AWS rejected {action}: the address is still assigned to another network \
                 interface ({})",
                answer.detail()
            ),
            Kind::Failed {
                action,
                route,
                detail,
            } => format!("{action} failed against {}: {detail}", route.describe()),
            Kind::NoRegion(e) => format!(
                "no region set (parameter region, AWS_REGION, profile) and the instance \
                 metadata could not tell it: {e}"
            ),
            Kind::NoCredentials { tried } => format!(
                "no AWS credentials found: attach an instance role (IAM instance profile) \
                 to this instance, or configure a profile; {tried}"
            ),
            Kind::NoInstanceRole { endpoint } => format!(
                "this instance has no instance role (nothing under iam/security-credentials \
                 at {endpoint}): attach an IAM instance profile, or configure a profile"
            ),
            Kind::CredentialsConfig { detail } => {
                format!("AWS credentials configuration is invalid: {detail}")
            }
            Kind::CredentialsUnavailable { detail, tried } => {
                format!("could not load AWS credentials ({detail}): {tried}")
            }
            Kind::BadRoleCredentials { role, what } => {
                format!("instance metadata returned unusable credentials for role {role}: {what}")
            }
            Kind::OutsideZone {
                name,
                zone_id,
                answer,
            } => format!(
                "name={name} is outside hosted zone {zone_id}: set name to a name inside the \
                 zone, or hosted_zone_id to the zone of {name} (Route 53 said: {})",
                answer.detail()
            ),
            Kind::NotInSync {
                status,
                polls,
                change_id,
            } => format!(
                "Route 53 change still {status} after {polls} poll(s): raise the start \
                 timeout (up to ~60 s is normal) or set wait_sync=false; the record is \
                 set, not yet on all servers (change {change_id})"
            ),
            Kind::DryRunPassed { action } => format!("{action} would have succeeded (DryRun)"),
            Kind::Setting(e) => e.0.clone(),
            Kind::Imds(e) => e.to_string(),
            Kind::Local(e) => e.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.context {
            write!(f, "{c}: ")?;
        }
        f.write_str(&self.text())?;
        if let Some((attempts, secs)) = self.gave_up {
            write!(
                f,
                " (gave up after {attempts} attempt(s) in {secs:.1}s, at the operation's deadline)"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
