//! The protocol-neutral core: what every personality of the binary (the
//! OCF resource agents, the fence agent) shares regardless of how it is
//! driven. Parameter tables and their parsing, the deadline, logging, the
//! per-resource state files and the one async runtime helper. Nothing here
//! knows OCF exit codes or fence-agents' stdin.

pub mod deadline;
pub mod legacy;
pub mod log;
pub mod params;
pub mod runtime;
pub mod state;

pub use deadline::Deadline;
pub use params::{Kind, Param, Params};

/// A configuration value that cannot work, whatever protocol delivered it:
/// the reason names the value and the fix. The OCF layer reports it as
/// OCF_ERR_CONFIGURED, the fence layer as a failed action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}
