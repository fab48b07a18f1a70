//! The agents. Each is one module with a declarative [`AgentSpec`] (its
//! parameter and action tables) and an implementation of [`Agent`].

pub mod az;
pub mod dns;
pub mod eip;
pub mod local;
pub mod vip;

use crate::ocf::{AgentSpec, OcfError, OcfResult};

/// Every agent of the binary; dispatch, `--list` and packaging read this.
pub const ALL: &[&AgentSpec] = &[&vip::SPEC, &eip::SPEC, &dns::SPEC, &az::SPEC];

/// The IAM actions an agent declares next to its code.
pub fn iam(name: &str) -> &'static [crate::aws::iam::Permission] {
    match name {
        "vip" => vip::IAM,
        "eip" => eip::IAM,
        "dns" => dns::IAM,
        "az" => az::IAM,
        _ => &[],
    }
}

pub fn find(name: &str) -> Option<&'static AgentSpec> {
    ALL.iter().copied().find(|a| a.name == name)
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
                crate::ocf::params::shorten(value)
            )))
        }
    }
}
