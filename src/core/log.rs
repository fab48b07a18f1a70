//! Logging through the `log` crate: stderr always (pacemaker-execd captures
//! an agent's stderr into its own log), syslog too when `HA_LOGFACILITY` is
//! set, debug level when `HA_debug=1`.
//!
//! Nothing here can leak a credential by construction: the AWS SDK logs
//! through `tracing`, which has no subscriber in this program, and our own
//! messages never format credentials.

pub use log::LevelFilter;
use log::{Level, Log, Metadata, Record};
use std::io::Write;
use std::sync::Mutex;

/// Log target of the final exit reason (see [`Logger::log`]).
pub const REASON_TARGET: &str = "ocf_aws::reason";

type Syslog = syslog::Logger<syslog::LoggerBackend, syslog::Formatter3164>;

struct Logger {
    tag: String,
    level: LevelFilter,
    syslog: Option<Mutex<Syslog>>,
}

impl Log for Logger {
    fn enabled(&self, m: &Metadata) -> bool {
        m.level() <= self.level && m.target().starts_with("ocf_aws")
    }

    fn log(&self, r: &Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let msg = r.args().to_string().replace(['\n', '\r'], " ");
        let level = match r.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARNING",
            Level::Info => "INFO",
            Level::Debug | Level::Trace => "DEBUG",
        };
        // The exit reason is already on stderr (Pacemaker logs it): only
        // syslog gets it as a log line, so each failure is one line there.
        if r.target() != REASON_TARGET {
            // One write per line so concurrent agents' lines do not interleave.
            let line = format!("{}: {level}: {msg}\n", self.tag);
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        if let Some(s) = &self.syslog {
            if let Ok(mut s) = s.lock() {
                let m = format!("{level}: {msg}");
                let _ = match r.level() {
                    Level::Error => s.err(m),
                    Level::Warn => s.warning(m),
                    Level::Info => s.info(m),
                    Level::Debug | Level::Trace => s.debug(m),
                };
            }
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// `tag` follows resource-agents' convention, `agent(instance)[pid]`, so our
/// lines look like every other agent's in the Pacemaker log. `level` is the
/// least severe level written (the fencer logs every stderr line of a fence
/// agent as a warning, so the fence personality keeps to warnings).
pub fn init(agent: &str, instance: Option<&str>, level: LevelFilter, facility: Option<&str>) {
    let tag = match instance {
        Some(i) => format!("{agent}({i})[{}]", std::process::id()),
        None => format!("{agent}[{}]", std::process::id()),
    };
    let syslog = facility.and_then(|f| {
        let facility = f
            .trim_start_matches("LOG_")
            .to_ascii_lowercase()
            .parse()
            .unwrap_or(syslog::Facility::LOG_DAEMON);
        syslog::unix(syslog::Formatter3164 {
            facility,
            hostname: None,
            process: format!("ocf-aws-{agent}"),
            pid: std::process::id(),
        })
        .ok()
        .map(|l| {
            // A stuck or slow syslog daemon must never block an action (a
            // stop that hangs on logging gets the node fenced): a full
            // socket drops the message instead.
            match &l.backend {
                syslog::LoggerBackend::Unix(s) => {
                    let _ = s.set_nonblocking(true);
                }
                syslog::LoggerBackend::UnixStream(w) => {
                    let _ = w.get_ref().set_nonblocking(true);
                }
                _ => {}
            }
            Mutex::new(l)
        })
    });
    // A second init (tests calling in-process) keeps the first logger.
    if log::set_boxed_logger(Box::new(Logger { tag, level, syslog })).is_ok() {
        log::set_max_level(level);
    }
}
