//! OCF exit codes and the single failure type every action returns.

use std::fmt;

/// Exit codes of the OCF resource-agent API 1.1 that this project uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rc {
    Success = 0,
    Generic = 1,
    Args = 2,
    Unimplemented = 3,
    Perm = 4,
    Installed = 5,
    Configured = 6,
    NotRunning = 7,
    Degraded = 190,
}

impl Rc {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn name(self) -> &'static str {
        match self {
            Rc::Success => "OCF_SUCCESS",
            Rc::Generic => "OCF_ERR_GENERIC",
            Rc::Args => "OCF_ERR_ARGS",
            Rc::Unimplemented => "OCF_ERR_UNIMPLEMENTED",
            Rc::Perm => "OCF_ERR_PERM",
            Rc::Installed => "OCF_ERR_INSTALLED",
            Rc::Configured => "OCF_ERR_CONFIGURED",
            Rc::NotRunning => "OCF_NOT_RUNNING",
            Rc::Degraded => "OCF_DEGRADED",
        }
    }
}

/// A failed (or "not running") outcome: the exit code plus the one-line reason
/// that ends up in `crm_mon`. The reason must name the bad value and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcfError {
    pub rc: Rc,
    pub reason: String,
}

impl OcfError {
    pub fn new(rc: Rc, reason: impl Into<String>) -> Self {
        // Pacemaker shows only one line; a newline would split the reason and
        // leave the tail looking like an unrelated log line.
        let reason = reason.into().replace(['\n', '\r'], " ");
        OcfError { rc, reason }
    }
    pub fn generic(reason: impl Into<String>) -> Self {
        Self::new(Rc::Generic, reason)
    }
    pub fn args(reason: impl Into<String>) -> Self {
        Self::new(Rc::Args, reason)
    }
    pub fn perm(reason: impl Into<String>) -> Self {
        Self::new(Rc::Perm, reason)
    }
    pub fn installed(reason: impl Into<String>) -> Self {
        Self::new(Rc::Installed, reason)
    }
    pub fn configured(reason: impl Into<String>) -> Self {
        Self::new(Rc::Configured, reason)
    }
    pub fn not_running(reason: impl Into<String>) -> Self {
        Self::new(Rc::NotRunning, reason)
    }

    /// Prefix the reason with context ("while starting …: <reason>").
    pub fn context(mut self, ctx: &str) -> Self {
        self.reason = format!("{ctx}: {}", self.reason);
        self
    }
}

impl fmt::Display for OcfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.rc.name())
    }
}

impl std::error::Error for OcfError {}

pub type OcfResult<T> = Result<T, OcfError>;

/// What each class of AWS failure makes Pacemaker do: a fault of this
/// node bans this node only (2, 4), a configuration that cannot work
/// anywhere stops the resource everywhere (6), anything else is recovered
/// (1). README's exit-code table says the same.
pub fn rc_of(class: crate::aws::Class) -> Rc {
    use crate::aws::Class;
    match class {
        Class::Transient => Rc::Generic,
        Class::Configuration => Rc::Configured,
        Class::ThisNode => Rc::Args,
        Class::Permission => Rc::Perm,
    }
}

impl From<crate::aws::Error> for OcfError {
    fn from(e: crate::aws::Error) -> Self {
        OcfError::new(rc_of(e.class()), e.to_string())
    }
}

impl From<crate::aws::imds::Error> for OcfError {
    fn from(e: crate::aws::imds::Error) -> Self {
        crate::aws::Error::from(e).into()
    }
}

impl From<crate::core::Invalid> for OcfError {
    fn from(e: crate::core::Invalid) -> Self {
        OcfError::configured(e.0)
    }
}
