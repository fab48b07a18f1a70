//! What becomes of the parameters of awsvip here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use crate::agents::legacy;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[Replaces {
    agent: "ocf:heartbeat:awsvip",
    params: &[
        Foreign::renamed("secondary_private_ip", Kind::String, "ip"),
        Foreign::same("interface", Kind::String),
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
