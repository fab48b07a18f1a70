//! The time budget of one action.
//!
//! Pacemaker SIGKILLs the whole process group when `OCF_RESKEY_CRM_meta_timeout`
//! expires, with no SIGTERM first. Everything an action does (IMDS, every AWS
//! attempt and retry, waiting) is bounded by this deadline, which ends a
//! safety margin before Pacemaker's, so we always get to print an exit reason.

use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    end: Instant,
    budget: Duration,
}

impl Deadline {
    /// `timeout` is what Pacemaker will enforce. The margin covers process
    /// exit, log flushing and scheduling jitter on a loaded node: 10 % of the
    /// timeout, at least 500 ms, at most 5 s.
    pub fn from_timeout(timeout: Duration) -> Self {
        let margin = (timeout / 10).clamp(Duration::from_millis(500), Duration::from_secs(5));
        let budget = timeout
            .saturating_sub(margin)
            .max(Duration::from_millis(200));
        Deadline {
            end: Instant::now() + budget,
            budget,
        }
    }

    pub fn remaining(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    pub fn expired(&self) -> bool {
        self.remaining().is_zero()
    }

    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// A per-attempt bound: never past the deadline, and never more than
    /// `cap`, so one hung connection cannot eat the whole budget and retries
    /// still get a chance.
    pub fn slice(&self, cap: Duration) -> Duration {
        self.remaining().min(cap)
    }
}

/// A pause between `min` and `max` that differs between processes and
/// moments, so that nodes retrying at once drift apart. Not cryptographic:
/// spreading retries needs no more.
pub fn jitter(min: Duration, max: Duration) -> Duration {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0)
        ^ u64::from(std::process::id()).wrapping_mul(0x9e37_79b9);
    let span = max.saturating_sub(min).as_millis() as u64 + 1;
    min + Duration::from_millis(seed % span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_bounded() {
        let d = Deadline::from_timeout(Duration::from_secs(20));
        assert_eq!(d.budget(), Duration::from_secs(18));
        let d = Deadline::from_timeout(Duration::from_secs(2));
        assert_eq!(d.budget(), Duration::from_millis(1500));
        let d = Deadline::from_timeout(Duration::from_secs(600));
        assert_eq!(d.budget(), Duration::from_secs(595));
        let d = Deadline::from_timeout(Duration::from_millis(100));
        assert_eq!(d.budget(), Duration::from_millis(200));
    }
}
