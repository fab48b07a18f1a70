//! What becomes of the parameters of fence_aws and external/ec2 here (see
//! `core::legacy`; the shared entries are in `agents::legacy`).

use crate::agents::legacy::with_fence_common;
use crate::core::legacy::{Foreign, Replaces};
use crate::core::Kind;

/// The agents this one replaces, parameter by parameter.
pub(super) const REPLACES: &[Replaces] = &[
    Replaces {
        agent: "stonith:fence_aws",
        params: with_fence_common![
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
