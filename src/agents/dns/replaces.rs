//! What becomes of the parameters of aws-vpc-route53 here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use crate::agents::legacy::with_shell_settings;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[Replaces {
    agent: "ocf:heartbeat:aws-vpc-route53",
    params: with_shell_settings![
        Foreign::renamed("hostedzoneid", Kind::String, "hosted_zone_id"),
        Foreign::renamed("fullname", Kind::String, "name"),
        Foreign::same("ip", Kind::String),
        Foreign::same("ttl", Kind::String),
    ],
    defaults: &[],
    deep_monitor: None,
}];
