//! What becomes of the parameters of aws-vpc-route53 here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use crate::agents::legacy;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[Replaces {
    agent: "ocf:heartbeat:aws-vpc-route53",
    params: &[
        Foreign::renamed("hostedzoneid", Kind::String, "hosted_zone_id"),
        Foreign::renamed("fullname", Kind::String, "name"),
        Foreign::same("ip", Kind::String),
        Foreign::same("ttl", Kind::String),
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
