//! What becomes of the parameters of awsvip here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use crate::agents::legacy;
use crate::agents::legacy::with_shell_settings;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[Replaces {
    agent: "ocf:heartbeat:awsvip",
    params: with_shell_settings![
        Foreign::renamed("secondary_private_ip", Kind::String, "ip"),
        Foreign::same("interface", Kind::String),
        legacy::API_DELAY,
    ],
    defaults: &[],
    deep_monitor: None,
}];
