//! Settling a start race between two nodes over the route tables, on reads
//! that may be stale: EC2's reads are eventually consistent, so a read right
//! after our ReplaceRoute may still show the target from before it (the
//! failed node's ENI, on a failover) without anyone else having written.

use super::{Local, Vip};
use crate::agents::settle::{self, End};
use crate::aws::ec2::{self, TableRoute, Target};
use crate::aws::Session;
use crate::core::deadline::jitter;
use crate::ocf::{OcfError, OcfResult};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What a read after our write says about one table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    Ours,
    /// Still the target from before our write, and never ours since: the
    /// read may be stale; no verdict yet.
    Before,
    /// Neither ours nor the one before our write, or changed after it had
    /// shown ours: someone wrote after us.
    Other,
}

/// The verdict on one table. `before` is its target before our write;
/// `was_ours` whether a read since the write has shown our ENI.
pub(crate) fn seen(
    now: Option<&Target>,
    before: Option<&Target>,
    mine: &Target,
    was_ours: bool,
) -> Seen {
    if now == Some(mine) {
        Seen::Ours
    } else if now == before && !was_ours {
        Seen::Before
    } else {
        Seen::Other
    }
}

impl Vip {
    /// Point every managed table at our ENI and check that it stuck; returns
    /// how many routes were switched and created.
    ///
    /// Pacemaker never starts one resource on two nodes, but a split brain
    /// can. Without talking to the other node, the race is settled by the
    /// first table (by id): whoever it points at after both have written
    /// wins; the loser hands the tables it took back to the winner and fails
    /// its start, so the tables never stay split between two nodes. A table
    /// that still reads as it was before our write is read again (see
    /// [`Vip::settled`]), never taken for the winner.
    pub(super) fn converge(
        &self,
        s: &Session,
        local: &Local,
        mut routes: Vec<TableRoute>,
    ) -> OcfResult<(usize, usize)> {
        let c = &self.cfg;
        let mine = Target::Eni(local.eni.clone());
        let (mut switched, mut created) = (0, 0);
        for round in 0.. {
            let replace: Vec<String> = routes
                .iter()
                .filter(|r| r.target.as_ref().is_some_and(|t| *t != mine))
                .map(|r| r.table_id.clone())
                .collect();
            let create: Vec<String> = routes
                .iter()
                .filter(|r| r.target.is_none())
                .map(|r| r.table_id.clone())
                .collect();
            if replace.is_empty() && create.is_empty() && round == 0 {
                return Ok((0, 0));
            }
            for r in &routes {
                if let Some(t) = r.target.as_ref().filter(|t| **t != mine) {
                    log::info!(
                        "{}: {} → {} (was {})",
                        r.table_id,
                        c.cidr,
                        local.eni,
                        t.describe()
                    );
                }
            }
            ec2::point_routes(s, &replace, &create, &c.cidr, &local.eni)?;
            switched += replace.len();
            created += create.len();
            // ReplaceRoute's OK is not proof that the tables are ours now.
            let now = self.settled(s, local, &routes, &mine)?;
            if now.iter().all(|r| r.target.as_ref() == Some(&mine)) {
                return Ok((switched, created));
            }
            if let Some(Target::Eni(winner)) = now[0].target.as_ref().filter(|t| **t != mine) {
                let ours: Vec<String> = now
                    .iter()
                    .filter(|r| r.target.as_ref() == Some(&mine))
                    .map(|r| r.table_id.clone())
                    .collect();
                if let Err(e) = ec2::point_routes(s, &ours, &[], &c.cidr, winner) {
                    log::warn!("could not hand the tables back to {winner}: {e}");
                }
                return Err(OcfError::generic(format!(
                    "route table {} was switched to {winner} during this start: another \
                     node is starting {} too (split brain?); left the tables to it",
                    now[0].table_id, c.ip
                )));
            }
            if round >= 8 {
                return Err(OcfError::generic(format!(
                    "route tables for {} keep changing under this start (another node?): {}",
                    c.cidr,
                    now.iter()
                        .map(|r| format!(
                            "{}→{}",
                            r.table_id,
                            r.target.as_ref().map(|t| t.describe()).unwrap_or_default()
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            // Let a concurrent writer finish before trying again.
            std::thread::sleep(s.deadline().slice(jitter(
                Duration::from_millis(50),
                Duration::from_millis(150),
            )));
            routes = now;
        }
        unreachable!("the loop returns")
    }

    /// The managed tables after our write to them (`before`: as they were
    /// before it), read again with a short backoff while some table still
    /// shows its target from before the write, for up to [`settle::STALE_WINDOW`]
    /// and within the deadline. Past the window such a table counts as
    /// written again by the node we replaced; at the deadline, with a table
    /// still undecided, the start fails without touching the tables.
    fn settled(
        &self,
        s: &Session,
        local: &Local,
        before: &[TableRoute],
        mine: &Target,
    ) -> OcfResult<Vec<TableRoute>> {
        let was: BTreeMap<&str, Option<&Target>> = before
            .iter()
            .map(|r| (r.table_id.as_str(), r.target.as_ref()))
            .collect();
        let mut ours: BTreeSet<String> = BTreeSet::new();
        // The first table that still reads as before our write, given the
        // tables seen as ours so far (recorded as the reads come in).
        let behind = |now: &[TableRoute], ours: &BTreeSet<String>| -> Option<usize> {
            now.iter().position(|r| {
                let before = was.get(r.table_id.as_str()).copied().flatten();
                seen(r.target.as_ref(), before, mine, ours.contains(&r.table_id)) == Seen::Before
            })
        };
        let r = settle::read_settled(
            s.deadline(),
            || self.managed_routes(s, local),
            |now: &Vec<TableRoute>| {
                for t in now {
                    if t.target.as_ref() == Some(mine) {
                        ours.insert(t.table_id.clone());
                    }
                }
                behind(now, &ours).is_some()
            },
        )?;
        let Some(stale) = behind(&r.value, &ours).map(|i| &r.value[i]) else {
            return Ok(r.value);
        };
        let shown = stale
            .target
            .as_ref()
            .map(|t| t.describe())
            .unwrap_or_else(|| "nothing".into());
        match r.end {
            End::Deadline => Err(OcfError::generic(format!(
                "after {} read(s) in {:.1}s EC2 still shows route table {} sending \
                 {} to {}, as before this node's write: raise the start timeout (EC2's \
                 reads catch up with writes within seconds)",
                r.reads,
                r.elapsed.as_secs_f64(),
                stale.table_id,
                self.cfg.cidr,
                shown
            ))),
            End::Window | End::Caught => {
                log::info!(
                    "{} still sends {} to {} {:.1}s after this node's write: taken as \
                     written again",
                    stale.table_id,
                    self.cfg.cidr,
                    shown,
                    r.elapsed.as_secs_f64()
                );
                Ok(r.value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eni(e: &str) -> Target {
        Target::Eni(e.into())
    }

    #[test]
    fn a_read_is_judged_against_ours_and_the_value_before_our_write() {
        let (mine, old, third) = (eni("eni-mine"), eni("eni-old"), eni("eni-third"));
        assert_eq!(seen(Some(&mine), Some(&old), &mine, false), Seen::Ours);
        assert_eq!(seen(Some(&old), Some(&old), &mine, false), Seen::Before);
        assert_eq!(
            seen(None, None, &mine, false),
            Seen::Before,
            "a route just created"
        );
        assert_eq!(seen(Some(&third), Some(&old), &mine, false), Seen::Other);
        assert_eq!(
            seen(Some(&old), Some(&old), &mine, true),
            Seen::Other,
            "back to the old target after having shown ours: written again"
        );
        assert_eq!(seen(None, Some(&old), &mine, false), Seen::Other);
    }
}
