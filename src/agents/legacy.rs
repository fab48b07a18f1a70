//! What the ClusterLabs and fence-agents parameters become here: the
//! entries the replaced agents share. Each agent's own `REPLACES` table
//! lists the agent it replaces with these and its own entries; the tables
//! are read from resource-agents' and fence-agents' main branches and
//! Debian 12's packages (resource-agents 4.12, fence-agents 4.12), whose
//! parameters are a subset of main's.

use crate::core::legacy::Foreign;
use crate::core::Kind;

const INT: Kind = Kind::Integer {
    min: i64::MIN,
    max: i64::MAX,
};

/// The path of the AWS CLI the shell agents run.
pub const AWSCLI: Foreign = Foreign::ignored(
    "awscli",
    Kind::String,
    "ocf-aws calls the AWS API itself and runs no AWS CLI",
);
/// "key" (the profile's keys) or "role" (the instance role).
pub const AUTH_TYPE: Foreign = Foreign::kept(
    "auth_type",
    Kind::String,
    "role uses the instance role and leaves profile unused, as there; key uses \
     the credentials of profile",
);
pub const PROFILE: Foreign = Foreign::same("profile", Kind::String);
pub const REGION: Foreign = Foreign::same("region", Kind::String);
pub const CURL_RETRIES: Foreign = Foreign::ignored(
    "curl_retries",
    INT,
    "instance metadata requests are retried with backoff until the action's timeout",
);
pub const CURL_SLEEP: Foreign = Foreign::ignored(
    "curl_sleep",
    INT,
    "instance metadata requests are retried with backoff until the action's timeout",
);
/// awseip and awsvip sleep this long between their CLI calls.
pub const API_DELAY: Foreign = Foreign::ignored(
    "api_delay",
    INT,
    "no pause between calls is needed: throttled calls are retried with backoff",
);

/// fence-agents' common options that fence_aws takes and fence_ec2 has
/// no use for (fence_ec2 declares action, plug/port, delay, power_timeout,
/// power_wait, retry_on and verbose itself).
pub const FENCE_COMMON: [Foreign; 12] = [
    Foreign::ignored(
        "quiet",
        Kind::Boolean,
        "fence_ec2 prints only what its caller reads",
    ),
    Foreign::kept(
        "verbose_level",
        INT,
        "any level above 0 is verbose=1 (every step logged)",
    ),
    Foreign::ignored(
        "debug",
        Kind::String,
        "fence_ec2 logs to syslog and the Pacemaker log; verbose=1 logs every step",
    ),
    Foreign::ignored(
        "debug_file",
        Kind::String,
        "fence_ec2 logs to syslog and the Pacemaker log; verbose=1 logs every step",
    ),
    Foreign::ignored(
        "version",
        Kind::Boolean,
        "a command-line request, not a setting",
    ),
    Foreign::ignored(
        "help",
        Kind::Boolean,
        "a command-line request, not a setting",
    ),
    Foreign::ignored(
        "plug_separator",
        Kind::String,
        "one plug per action, as pacemaker-fenced sends it",
    ),
    Foreign::ignored(
        "separator",
        Kind::String,
        "list prints one target per line, as pacemaker-fenced reads it",
    ),
    Foreign::ignored(
        "disable_timeout",
        Kind::Boolean,
        "there is no login session; power_timeout bounds every action",
    ),
    Foreign::ignored(
        "login_timeout",
        INT,
        "there is no login session; power_timeout bounds every action",
    ),
    Foreign::ignored(
        "shell_timeout",
        INT,
        "there is no login session; power_timeout bounds every action",
    ),
    Foreign::ignored(
        "stonith_status_sleep",
        INT,
        "the instance state is polled with backoff within power_timeout",
    ),
];

/// A ClusterLabs shell agent's parameter table: its own entries, then the
/// AWS CLI settings every one of them takes (awscli, auth_type, profile,
/// region, curl_retries, curl_sleep).
macro_rules! with_shell_settings {
    ($($f:expr),* $(,)?) => {
        &[
            $($f,)*
            $crate::agents::legacy::AWSCLI,
            $crate::agents::legacy::AUTH_TYPE,
            $crate::agents::legacy::PROFILE,
            $crate::agents::legacy::REGION,
            $crate::agents::legacy::CURL_RETRIES,
            $crate::agents::legacy::CURL_SLEEP,
        ]
    };
}
pub(crate) use with_shell_settings;

/// A fence-agents agent's parameter table: its own entries, then the
/// common options ([`FENCE_COMMON`]) fence_ec2 has no use for.
macro_rules! with_fence_common {
    ($($f:expr),* $(,)?) => {
        &[
            $($f,)*
            $crate::agents::legacy::FENCE_COMMON[0],
            $crate::agents::legacy::FENCE_COMMON[1],
            $crate::agents::legacy::FENCE_COMMON[2],
            $crate::agents::legacy::FENCE_COMMON[3],
            $crate::agents::legacy::FENCE_COMMON[4],
            $crate::agents::legacy::FENCE_COMMON[5],
            $crate::agents::legacy::FENCE_COMMON[6],
            $crate::agents::legacy::FENCE_COMMON[7],
            $crate::agents::legacy::FENCE_COMMON[8],
            $crate::agents::legacy::FENCE_COMMON[9],
            $crate::agents::legacy::FENCE_COMMON[10],
            $crate::agents::legacy::FENCE_COMMON[11],
        ]
    };
}
pub(crate) use with_fence_common;
