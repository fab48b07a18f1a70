//! AWS plumbing: the environment and settings, SDK configuration,
//! credentials, HTTP and proxy, retries, IMDS and typed errors. The only
//! code that names `aws_sdk_*` / `aws_config` types; agents call the domain
//! functions in [`ec2`] and [`route53`] with plain Rust values and get an
//! [`Error`] whose [`Kind`](error::Kind) says what went wrong.
//!
//! Nothing here knows a protocol: the OCF layer and the fence layer each
//! turn an [`Error`]'s [`Class`] into their own exit code.

pub mod assume;
mod call;
pub mod classify;
pub mod credentials;
pub mod ec2;
pub mod enis;
pub mod env;
pub mod error;
pub mod http;
pub mod iam;
pub mod imds;
pub mod instances;
pub mod options;
pub mod probes;
pub mod region;
pub mod route53;
pub mod session;

pub use env::AwsEnv;
pub use error::{Class, Error, Result};
pub use options::{params, AwsOptions};
pub use session::{Service, Session};
