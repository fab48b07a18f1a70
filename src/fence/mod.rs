//! The fence-agents protocol, as pacemaker-fenced drives it: no arguments
//! and `key=value` lines on stdin (or fence-agents' command-line options
//! for humans), actions on/off/reboot/status/list/list-status/monitor/
//! metadata/validate-all, exit 0 for success, 1 for failure and 2 from
//! `status` for a target that is off, and one line on stderr per failure
//! (the fencer logs stderr, and reads "timed out" as a timeout). Built on
//! the protocol-neutral [`crate::core`] and [`crate::aws`], like the OCF
//! layer beside it.

pub mod agent;
pub mod input;
pub mod metadata;

pub use agent::{Configure, Ctx, Failure, FenceAgent, Outlet, Power};

use crate::core::{log, Deadline, Param, Params};
use std::io::{Read, Write};
use std::time::Duration;

/// What the protocol needs to know about a fence agent.
#[derive(Clone, Copy)]
pub struct Meta {
    pub name: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
    pub vendor_url: &'static str,
    /// The parameter pacemaker-fenced passes the target in.
    pub host_argument: &'static str,
    pub params: &'static [Param],
    pub replaces: &'static [crate::core::legacy::Replaces],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    On,
    Off,
    Reboot,
    Status,
    List,
    ListStatus,
    Monitor,
    Metadata,
    ValidateAll,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::On,
        Action::Off,
        Action::Reboot,
        Action::Status,
        Action::List,
        Action::ListStatus,
        Action::Monitor,
        Action::Metadata,
        Action::ValidateAll,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::On => "on",
            Action::Off => "off",
            Action::Reboot => "reboot",
            Action::Status => "status",
            Action::List => "list",
            Action::ListStatus => "list-status",
            Action::Monitor => "monitor",
            Action::Metadata => "metadata",
            Action::ValidateAll => "validate-all",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        let s = s.trim().to_ascii_lowercase();
        // fence-agents accept the OCF spelling of metadata too.
        if s == "meta-data" {
            return Some(Action::Metadata);
        }
        Action::ALL.iter().copied().find(|a| a.name() == s)
    }
}

/// The parameters the protocol itself interprets (fence-agents' library
/// options); every fence agent's table includes them.
pub mod params {
    use crate::core::Param;

    pub const ACTION: Param = Param::string("action", "Fencing action")
        .short('o')
        .default("reboot")
        .long(
            "Fencing action: on, off, reboot, status, list, list-status, monitor, metadata \
             or validate-all. pacemaker-fenced sets it.",
        );
    pub const POWER_TIMEOUT: Param =
        Param::seconds("power_timeout", 86_400, "Seconds an action may take")
            .default("60")
            .long(
                "The bound of a whole action, every request, retry and poll included: off \
                 fails (saying timed out) when the target is not verified off by then. Keep \
                 it below pcmk_off_timeout / fencing-timeout (stonith-timeout), whose \
                 default is 60 s. reboot allows it for each of its off and on.",
            );
    pub const POWER_WAIT: Param = Param::seconds(
        "power_wait",
        3_600,
        "Seconds to wait after a power request",
    )
    .default("0")
    .long(
        "Wait this long after StopInstances / StartInstances before the first check of the state.",
    );
    pub const DELAY: Param = Param::seconds("delay", 3_600, "Seconds to wait before fencing")
        .default("0")
        .long(
            "Wait this long before off and reboot. Prefer Pacemaker's pcmk_delay_base / \
             pcmk_delay_max or priority-fencing-delay, which the cluster can reason about.",
        );
    pub const RETRY_ON: Param = Param::integer("retry_on", 1, 10, "Attempts of a power action")
        .default("1")
        .long(
            "How many times off and on are attempted when an attempt fails for a reason \
             that may pass (network, throttling), within power_timeout.",
        );
    pub const VERBOSE: Param = Param::boolean("verbose", "Log every step")
        .short('v')
        .default("false")
        .long(
            "Log each step on stderr (the fencer logs every stderr line as a warning); \
             HA_debug=1 does the same. Secrets are never logged.",
        );
}

/// A fence agent's parameter table: the action, its own parameters, then
/// the options the protocol interprets ([`params`]).
macro_rules! with_fence_options {
    ($($p:expr),* $(,)?) => {
        &[
            $crate::fence::params::ACTION,
            $($p,)*
            $crate::fence::params::POWER_TIMEOUT,
            $crate::fence::params::POWER_WAIT,
            $crate::fence::params::DELAY,
            $crate::fence::params::RETRY_ON,
            $crate::fence::params::VERBOSE,
        ]
    };
}
pub(crate) use with_fence_options;

/// Run one fence action and return the exit status. `args` is argv
/// (argv[0] first): with options after argv[0] they are the parameters,
/// else `stdin` is read for `key=value` lines.
pub fn run(spec: &Meta, new: Configure, args: &[String], stdin: &mut dyn Read) -> i32 {
    let (raw, warnings) = if args.len() > 1 {
        match input::from_args(spec.name, spec.params, args) {
            Ok(m) => (m, Vec::new()),
            Err(e) => {
                let _ = e.print();
                return match e.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion => 0,
                    _ => 1,
                };
            }
        }
    } else {
        let mut text = String::new();
        // A fencer that sends nothing leaves the defaults (action=reboot
        // without a plug, which fails below with a reason).
        let _ = stdin.take(1 << 20).read_to_string(&mut text);
        input::from_stdin(spec.params, &text)
    };
    let word = raw
        .get("action")
        .cloned()
        .unwrap_or_else(|| "reboot".into());
    let Some(action) = Action::parse(&word) else {
        eprintln!(
            "{}: Failed: unrecognised action '{}' (one of {})",
            spec.name,
            crate::core::params::shorten(&word),
            Action::ALL
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return 1;
    };
    if action == Action::Metadata {
        let _ = std::io::stdout()
            .lock()
            .write_all(metadata::render(spec).as_bytes());
        return 0;
    }
    let verbose = raw
        .get("verbose")
        .and_then(|v| crate::core::params::parse_bool(v))
        .unwrap_or(false)
        // fence-agents' verbose_level (fence_aws configurations): any level.
        || raw
            .get("verbose_level")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .is_some_and(|n| n > 0)
        || matches!(
            std::env::var("HA_debug").as_deref(),
            Ok("1") | Ok("yes") | Ok("true")
        );
    log::init(
        spec.name,
        None,
        if verbose {
            log::LevelFilter::Debug
        } else {
            log::LevelFilter::Warn
        },
        std::env::var("HA_LOGFACILITY")
            .ok()
            .filter(|f| !f.is_empty() && f != "none")
            .as_deref(),
    );
    for w in warnings {
        ::log::warn!("{w}");
    }
    match act(spec, new, action, &raw) {
        Ok(code) => code,
        Err(f) => {
            let reason = if f.timed_out && !f.reason.contains("timed out") {
                format!("timed out: {}", f.reason)
            } else {
                f.reason
            };
            ::log::error!("{} failed: {reason}", action.name());
            1
        }
    }
}

fn act(
    spec: &Meta,
    new: Configure,
    action: Action,
    raw: &std::collections::BTreeMap<String, String>,
) -> Result<i32, Failure> {
    let params = Params::parse_replacing(spec.params, spec.replaces, raw)?;
    for name in &params.unknown {
        ::log::warn!(
            "ignoring unknown parameter '{name}' (not in {}'s metadata; a typo?)",
            spec.name
        );
    }
    if let Some(line) = params.legacy_summary() {
        if params.loses_meaning() {
            ::log::warn!("{line}");
        } else if matches!(action, Action::Off | Action::Reboot | Action::Monitor) {
            ::log::info!("{line}");
        }
    }
    let power_timeout = Duration::from_secs(params.int("power_timeout").max(1) as u64);
    if matches!(action, Action::Off | Action::Reboot) {
        let delay = params.int("delay").max(0) as u64;
        if delay > 0 {
            ::log::info!("waiting {delay}s (delay) before {}", action.name());
            std::thread::sleep(Duration::from_secs(delay));
        }
    }
    let mut ctx = Ctx {
        agent: spec.name,
        deadline: Deadline::from_timeout(power_timeout),
        params,
        aws: crate::aws::AwsEnv::from_process(),
        run_dir: run_dir(),
    };
    let agent = new(&ctx)?;
    let out = std::io::stdout();
    let say = |line: String| {
        let _ = writeln!(out.lock(), "{line}");
    };
    match action {
        Action::Status => match agent.status(&ctx)? {
            Power::On => {
                say("Status: ON".into());
                Ok(0)
            }
            Power::Off => {
                say("Status: OFF".into());
                Ok(2)
            }
        },
        Action::Off => {
            attempts(&ctx, || agent.off(&ctx))?;
            say("Success: Powered OFF".into());
            Ok(0)
        }
        Action::On => {
            attempts(&ctx, || agent.on(&ctx))?;
            say("Success: Powered ON".into());
            Ok(0)
        }
        // fence-agents' reboot: success once off is verified; the target
        // coming back is a bonus worth a warning when it does not.
        Action::Reboot => {
            attempts(&ctx, || agent.off(&ctx))?;
            ctx.deadline = Deadline::from_timeout(power_timeout);
            if let Err(f) = attempts(&ctx, || agent.on(&ctx)) {
                ::log::warn!(
                    "the target is off, but powering it on again failed: {}",
                    f.reason
                );
            }
            say("Success: Rebooted".into());
            Ok(0)
        }
        Action::List | Action::ListStatus => {
            for o in agent.list(&ctx)? {
                match (action, o.power) {
                    (Action::ListStatus, p) => say(format!(
                        "{},{},{}",
                        o.plug,
                        o.id,
                        match p {
                            Some(Power::On) => "ON",
                            Some(Power::Off) => "OFF",
                            None => "UNKNOWN",
                        }
                    )),
                    _ => say(format!("{},{}", o.plug, o.id)),
                }
            }
            Ok(0)
        }
        Action::Monitor => agent.monitor(&ctx).map(|()| 0),
        Action::ValidateAll => agent.validate(&ctx).map(|()| 0),
        Action::Metadata => unreachable!("answered before parsing"),
    }
}

/// Up to retry_on attempts of a power action, while the failure may pass
/// and the deadline allows.
fn attempts(ctx: &Ctx, mut f: impl FnMut() -> Result<(), Failure>) -> Result<(), Failure> {
    let tries = ctx.params.int("retry_on").max(1);
    let mut n = 1;
    loop {
        match f() {
            Ok(()) => return Ok(()),
            Err(e) if e.retryable && n < tries && !ctx.deadline.expired() => {
                ::log::warn!("attempt {n} of {tries} failed: {}; trying again", e.reason);
                n += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The run directory of the fence personality (the node's identity cache,
/// shared with the resource agents).
fn run_dir() -> std::path::PathBuf {
    let base = std::env::var("HA_RSCTMP")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "/run/resource-agents".into());
    std::path::Path::new(&base).join("ocf-aws")
}
