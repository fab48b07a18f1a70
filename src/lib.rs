//! ocf-aws: Pacemaker/OCF resource agents for high availability on AWS.
//!
//! Layers, each knowing only the ones below it:
//! - [`ocf`]: the OCF protocol (environment, parameters, exit codes and
//!   reasons, meta-data, logging, the deadline);
//! - [`aws`]: AWS plumbing (SDK configuration, credentials, IMDS, retries,
//!   error classification) exposed as domain functions;
//! - [`net`]: local network addresses;
//! - [`agents`]: one module per agent, built from the above;
//! - [`doctor`] and [`man`]: tools for humans over the agents' own tables
//!   and code paths (`ocf-aws doctor`, `ocf-aws man`), reached from [`cli`].

pub mod agents;
pub mod aws;
pub mod cli;
pub mod doctor;
pub mod man;
pub mod net;
pub mod ocf;
