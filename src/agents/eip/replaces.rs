//! What becomes of the parameters of awseip here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use crate::agents::legacy;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[Replaces {
    agent: "ocf:heartbeat:awseip",
    params: &[
        Foreign::same("elastic_ip", Kind::String),
        Foreign::same("allocation_id", Kind::String),
        Foreign::renamed("private_ip_address", Kind::String, "private_ip"),
        legacy::API_DELAY,
        legacy::AWSCLI,
        legacy::AUTH_TYPE,
        legacy::PROFILE,
        legacy::REGION,
        legacy::CURL_RETRIES,
        legacy::CURL_SLEEP,
    ],
    defaults: &[],
    deep_monitor: None,
}];
