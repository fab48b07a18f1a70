//! What becomes of the parameters of fence_aws and external/ec2 here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use crate::agents::legacy;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[
    Replaces {
        agent: "stonith:fence_aws",
        params: &[
            Foreign::same("plug", Kind::String),
            Foreign::same("region", Kind::String),
            Foreign::same("access_key", Kind::String),
            Foreign::same("secret_key", Kind::String),
            Foreign::same("filter", Kind::String),
            Foreign::same("skip_race_check", Kind::Boolean),
            Foreign::same("skip_os_shutdown", Kind::Boolean),
            Foreign::ignored(
                "boto3_debug",
                Kind::String,
                "there is no boto3; verbose=1 logs every AWS call",
            ),
            legacy::FENCE_COMMON[0],
            legacy::FENCE_COMMON[1],
            legacy::FENCE_COMMON[2],
            legacy::FENCE_COMMON[3],
            legacy::FENCE_COMMON[4],
            legacy::FENCE_COMMON[5],
            legacy::FENCE_COMMON[6],
            legacy::FENCE_COMMON[7],
            legacy::FENCE_COMMON[8],
            legacy::FENCE_COMMON[9],
            legacy::FENCE_COMMON[10],
            legacy::FENCE_COMMON[11],
        ],
        defaults: &[],
        deep_monitor: None,
    },
    Replaces {
        agent: "stonith:external/ec2",
        params: &[
            Foreign::same("tag", Kind::String),
            Foreign::same("profile", Kind::String),
            Foreign::lost(
                "unknown_are_stopped",
                Kind::String,
                &["", "0", "false", "no"],
                "fence_ec2 never reports an instance it cannot find as off: that \
                 could declare a running node fenced",
            ),
        ],
        // There the target is found by its Name tag unless told otherwise.
        defaults: &[("tag", "Name")],
        deep_monitor: None,
    },
];
