//! What becomes of the parameters of awseip here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use crate::agents::legacy;
use crate::agents::legacy::with_shell_settings;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[Replaces {
    agent: "ocf:heartbeat:awseip",
    params: with_shell_settings![
        Foreign::same("elastic_ip", Kind::String),
        Foreign::same("allocation_id", Kind::String),
        Foreign::renamed("private_ip_address", Kind::String, "private_ip"),
        legacy::API_DELAY,
    ],
    defaults: &[],
    deep_monitor: None,
}];
