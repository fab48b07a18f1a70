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

/// How [`read_settled`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The read no longer shows the value from before our write.
    Caught,
    /// It still does after [`STALE_WINDOW`]: written again, not stale.
    Window,
    /// It still does, and the deadline leaves no time to read again.
    Deadline,
}

/// The last answer of [`read_settled`], how the reads ended, how many there
/// were and how long they took.
pub(crate) struct Settled<T> {
    pub value: T,
    pub end: End,
    pub reads: u32,
    pub elapsed: Duration,
}

/// `read` until `from_before` says its answer no longer shows the value from
/// before our write, with a short backoff, for at most [`STALE_WINDOW`] and
/// within `deadline`; the caller judges the last answer by how that ended.
pub(crate) fn read_settled<T>(
    deadline: Deadline,
    mut read: impl FnMut() -> OcfResult<T>,
    mut from_before: impl FnMut(&T) -> bool,
) -> OcfResult<Settled<T>> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    let mut reads = 0;
    loop {
        let value = read()?;
        reads += 1;
        let end = if !from_before(&value) {
            Some(End::Caught)
        } else if started.elapsed() >= STALE_WINDOW {
            Some(End::Window)
        } else if deadline.remaining() <= pause + RESERVE {
            Some(End::Deadline)
        } else {
            None
        };
        if let Some(end) = end {
            return Ok(Settled {
                value,
                end,
                reads,
                elapsed: started.elapsed(),
            });
        }
        log::debug!("the read still shows the value from before this node's write; reading again");
        std::thread::sleep(jitter(pause / 2, pause));
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// [`read_settled`]'s last answer, however the reads ended.
pub(crate) fn read_past<T>(
    deadline: Deadline,
    read: impl FnMut() -> OcfResult<T>,
    from_before: impl Fn(&T) -> bool,
) -> OcfResult<T> {
    read_settled(deadline, read, from_before).map(|r| r.value)
}
