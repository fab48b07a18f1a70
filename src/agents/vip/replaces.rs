//! What becomes of the parameters of aws-vpc-move-ip here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use super::ROUTING_TABLE_ROLE;
use crate::agents::legacy::with_shell_settings;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[Replaces {
    agent: "ocf:heartbeat:aws-vpc-move-ip",
    params: with_shell_settings![
        Foreign::same("ip", Kind::String),
        Foreign::renamed("address", Kind::String, "ip"),
        Foreign::same("routing_table", Kind::String),
        Foreign::same(ROUTING_TABLE_ROLE, Kind::String),
        Foreign::same("interface", Kind::String),
        Foreign::same("iflabel", Kind::String),
        Foreign::same("monapi", Kind::Boolean),
        Foreign::kept(
            "lookup_type",
            Kind::String,
            "routes point at this node's ENI and are checked by ENI id, which is what \
             both InstanceId and NetworkInterfaceId meant there",
        ),
        Foreign::ignored(
            "awscli_timeout",
            Kind::String,
            "every AWS call is bounded by the action's timeout",
        ),
    ],
    defaults: &[],
    // There monapi=true made the recurring monitor ask the API.
    deep_monitor: Some("monapi"),
}];
