//! The OCF resource-agent protocol (API 1.1 as Pacemaker 2.1 runs it):
//! the environment, actions, exit codes and reasons, and the ra-api
//! meta-data. Parameter tables, the deadline, logging and state files are
//! the protocol-neutral [`crate::core`]'s; agents never see argv or the
//! environment, they get a [`Ctx`].

pub mod agent;
pub mod env;
pub mod exit;
pub mod metadata;

pub use agent::{ActionSpec, Agent, Configure, Ctx, Meta};
pub use env::OcfEnv;
pub use exit::{OcfError, OcfResult, Rc};

use crate::core::{log, params, Deadline, Params};

use std::io::Write;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Monitor,
    ValidateAll,
    MetaData,
    Usage,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "start" => Action::Start,
            "stop" => Action::Stop,
            "monitor" => Action::Monitor,
            "validate-all" => Action::ValidateAll,
            "meta-data" => Action::MetaData,
            "usage" | "help" | "--help" | "-h" => Action::Usage,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Monitor => "monitor",
            Action::ValidateAll => "validate-all",
            Action::MetaData => "meta-data",
            Action::Usage => "usage",
        }
    }
}

pub fn usage(agent: &str) -> String {
    format!("usage: {agent} {{start|stop|monitor|validate-all|meta-data|usage}}")
}

/// Run one OCF action of the agent `spec` describes (`new` configures it)
/// and return the process exit code. `action` is argv[1]; further
/// arguments are ignored as the OCF spec requires.
pub fn run(spec: &Meta, new: Configure, action: Option<&str>) -> i32 {
    let env = OcfEnv::from_process();
    let out = std::io::stdout();
    let Some(action_word) = action else {
        let _ = writeln!(out.lock(), "{}", usage(spec.name));
        return exit_with(
            &env,
            Err(OcfError::args(format!(
                "no action given: {}",
                usage(spec.name)
            ))),
        );
    };
    let Some(action) = Action::parse(action_word) else {
        let _ = writeln!(out.lock(), "{}", usage(spec.name));
        return exit_with(
            &env,
            Err(OcfError::new(
                Rc::Unimplemented,
                format!(
                    "action '{}' is not implemented: {}",
                    params::shorten(action_word),
                    usage(spec.name)
                ),
            )),
        );
    };
    match action {
        // meta-data runs as hacluster with no network: nothing but printing.
        Action::MetaData => {
            let _ = out.lock().write_all(metadata::render(spec).as_bytes());
            return 0;
        }
        Action::Usage => {
            let _ = writeln!(out.lock(), "{}", usage(spec.name));
            return 0;
        }
        _ => {}
    }
    log::init(
        spec.name,
        env.resource_instance.as_deref(),
        if env.debug {
            log::LevelFilter::Debug
        } else {
            log::LevelFilter::Info
        },
        env.log_facility.as_deref(),
    );
    let probe = action == Action::Monitor && env.is_probe();
    let result = run_action(spec, new, action, env.clone());
    match result {
        // A probe finding the resource stopped is an answer, not a failure:
        // an exit reason would only add a notice to every node's log.
        Err(e) if probe && e.rc == Rc::NotRunning => {
            ::log::debug!("probe: {}", e.reason);
            e.rc.code()
        }
        r => exit_with(&env, r),
    }
}

fn run_action(spec: &Meta, new: Configure, action: Action, env: OcfEnv) -> OcfResult<Rc> {
    let timeout = env
        .timeout
        .unwrap_or_else(|| Duration::from_secs(spec.default_timeout_s(action.name()).into()));
    let deadline = Deadline::from_timeout(timeout);
    let depth = resolve_depth(spec, env.check_level.as_deref());
    let probe = action == Action::Monitor && env.is_probe();
    ::log::debug!(
        "{} (depth {depth}{}, budget {:?})",
        action.name(),
        if probe { ", probe" } else { "" },
        deadline.budget()
    );

    let params = match Params::parse_replacing(spec.params, spec.replaces, &env.reskeys) {
        Ok(p) => p,
        // Pacemaker stops with the parameters of the last successful start,
        // so parameters that do not even parse were never started with:
        // nothing can be running, and failing the stop would get this node
        // fenced for nothing.
        Err(e) if action == Action::Stop => {
            ::log::warn!("{e}; nothing can be running with it, stop succeeds");
            return Ok(Rc::Success);
        }
        Err(e) => return Err(e.into()),
    };
    for name in &params.unknown {
        ::log::warn!(
            "ignoring unknown parameter '{name}' (not in {}'s meta-data; a typo?)",
            spec.name
        );
    }
    log_legacy(&params, action);
    let ctx = Ctx {
        agent: spec.name,
        env,
        params,
        deadline,
        depth,
        probe,
    };
    let agent = match new(&ctx) {
        Ok(a) => a,
        Err(e) if action == Action::Stop => {
            ::log::warn!(
                "{}; nothing can be running with it, stop succeeds",
                e.reason
            );
            return Ok(Rc::Success);
        }
        Err(e) => return Err(e),
    };
    let r = match action {
        Action::Start => agent.start(&ctx),
        Action::Stop => agent.stop(&ctx),
        Action::Monitor => agent.monitor(&ctx),
        Action::ValidateAll => agent.validate(&ctx),
        Action::MetaData | Action::Usage => unreachable!("handled before parsing"),
    };
    match (action, r) {
        (_, Ok(())) => Ok(Rc::Success),
        // 7 from start or stop would be read as "stopped" by Pacemaker: from
        // start it is a failure anyway, from stop it would mean a failed stop
        // that looks like success to a human. Make both an ordinary failure.
        (Action::Start | Action::Stop, Err(e)) if e.rc == Rc::NotRunning => {
            Err(OcfError::generic(e.reason))
        }
        (_, Err(e)) => Err(e),
    }
}

/// Said once per start and validation (every monitor would flood the log):
/// what became of the replaced agent's parameters, and loudly when one of
/// them loses its meaning here.
fn log_legacy(params: &Params, action: Action) {
    let Some(line) = params.legacy_summary() else {
        return;
    };
    if params.loses_meaning() {
        ::log::warn!("{line}");
    } else if matches!(action, Action::Start | Action::ValidateAll) {
        ::log::info!("{line}");
    } else {
        ::log::debug!("{line}");
    }
}

/// `OCF_CHECK_LEVEL` asks for a depth; an unimplemented level means the next
/// lower one the agent has (OCF 1.1).
fn resolve_depth(spec: &Meta, level: Option<&str>) -> u32 {
    let asked = match level.map(str::trim) {
        None | Some("") => 0,
        Some(v) => match v.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                ::log::warn!(
                    "OCF_CHECK_LEVEL='{}' is not a number; using 0",
                    params::shorten(v)
                );
                0
            }
        },
    };
    spec.depths()
        .into_iter()
        .filter(|d| *d <= asked)
        .max()
        .unwrap_or(0)
}

fn exit_with(env: &OcfEnv, result: OcfResult<Rc>) -> i32 {
    match result {
        Ok(rc) => rc.code(),
        Err(e) => {
            // "Not running" is an answer, not an error: the reason line alone
            // says why. Errors are logged too, so they reach syslog.
            if e.rc != Rc::NotRunning {
                ::log::error!(target: log::REASON_TARGET, "{}", e.reason);
            }
            // Exactly one reason line, last on stderr: crm_mon shows the last.
            let line = format!("{}{}\n", env.exit_reason_prefix, e.reason);
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
            e.rc.code()
        }
    }
}
