//! ocf-aws: Pacemaker/OCF resource agents for high availability on AWS.
//!
//! Layers, each knowing only the ones below it (ARCHITECTURE.md has the
//! map and the path of one parameter from the CIB to the AWS call):
//! - [`core`]: protocol-neutral parameter tables, deadline, logging, state;
//! - [`aws`]: AWS plumbing (environment, SDK configuration, credentials,
//!   IMDS, retries, typed errors) exposed as domain functions;
//! - [`net`]: local network addresses;
//! - [`ocf`]: the OCF resource-agent protocol on top of `core`;
//! - [`agents`]: the registry and one module per agent;
//! - [`doctor`] and [`man`]: tools for humans over the agents' own tables
//!   and code paths (`ocf-aws doctor`, `ocf-aws man`), reached from [`cli`].

pub mod agents;
pub mod aws;
pub mod cli;
pub mod core;
pub mod doctor;
pub mod fence;
pub mod man;
pub mod migrate;
pub mod net;
pub mod ocf;
pub mod reachable;
