//! Reads right after our own write: EC2's and Route 53's reads are eventually
//! consistent, so a read just after a write may still show the value from
//! before it. Such a read is read again, briefly; it is never a verdict.

use crate::core::deadline::jitter;
use crate::core::Deadline;
use crate::ocf::OcfResult;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a value from before our write may go on showing before it
/// counts as written again (by the node we took over from) rather than a
/// read that has not caught up; EC2 usually catches up within a second or
/// two.
pub(crate) const STALE_WINDOW: Duration = Duration::from_secs(5);

/// A monitor this soon after its start (Pacemaker runs the first one at
/// once) may read from before the start's write.
pub(crate) const RECENT_START: Duration = Duration::from_secs(60);

/// Time kept back from the deadline for what follows the reads.
pub(crate) const RESERVE: Duration = Duration::from_millis(1500);

/// Seconds since the epoch, for start times kept in state files.
pub(crate) fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether a start recorded at `started` (seconds since the epoch) was
/// recent enough for its write to be still catching up.
pub(crate) fn recent(started: Option<&String>) -> bool {
    started
        .and_then(|s| s.parse::<u64>().ok())
        .is_some_and(|t| now_s().saturating_sub(t) < RECENT_START.as_secs())
}

/// `read` until `from_before` says its answer no longer shows the value from
/// before our write, with a short backoff, for at most [`STALE_WINDOW`] and
/// within `deadline`; then the last answer, for the caller to judge.
pub(crate) fn read_past<T>(
    deadline: Deadline,
    mut read: impl FnMut() -> OcfResult<T>,
    from_before: impl Fn(&T) -> bool,
) -> OcfResult<T> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        let v = read()?;
        if !from_before(&v)
            || started.elapsed() >= STALE_WINDOW
            || deadline.remaining() <= pause + RESERVE
        {
            return Ok(v);
        }
        log::debug!("the read still shows the value from before this node's write; reading again");
        std::thread::sleep(jitter(pause / 2, pause));
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}
