//! doctor checks of fence_ec2: this node's own instance (the race check),
//! and that every target in plug resolves to exactly one instance, with the
//! agent's own lookups.

use super::FenceEc2;
use crate::aws::imds::Instance as Identity;
use crate::aws::instances::{self, State};
use crate::aws::probes::ProbeArgs;
use crate::doctor::{Checks, Env, Report};

impl Checks for FenceEc2 {
    fn doctor(&self, e: &Env, r: &mut Report) -> ProbeArgs {
        let mut probe = ProbeArgs::default();
        match Identity::new(e.imds).instance_id() {
            Err(err) => r.fail(
                "own instance",
                format!("cannot read this node's instance id: {err}"),
                "fix the instance metadata (see above): off refuses to fence without it, \
                 unless skip_race_check=true",
            ),
            Ok(own) => match instances::by_ids(e.session, &[&own], None) {
                Ok(found) => match found.first().map(|i| i.state) {
                    Some(State::Running) => r.pass(
                        "own instance",
                        format!("{own} is running: the race check lets this node fence"),
                    ),
                    Some(st) => r.fail(
                        "own instance",
                        format!("{own} is {}: this node would refuse to fence", st.as_str()),
                        "nothing to fix if this node is going down",
                    ),
                    None => r.fail(
                        "own instance",
                        format!("{own} is not in region {}", e.session.region()),
                        "set region to this cluster's region",
                    ),
                },
                Err(err) => r.fail(
                    "own instance",
                    err.to_string(),
                    "see the permission checks below",
                ),
            },
        }
        if self.cfg.plugs.is_empty() {
            r.skip(
                "targets",
                "no plug given: name the targets to check, e.g. ocf-aws doctor fence_ec2 \
                 plug=i-0123456789abcdef0,i-0fedcba9876543210 (or tag=Name plug=node1,node2)",
            );
        }
        for plug in &self.cfg.plugs {
            match self.target(e.session, plug) {
                Ok(t) => {
                    r.pass(
                        &format!("target {plug}"),
                        format!("is {} ({})", t.id, t.state.as_str()),
                    );
                    probe.instance.get_or_insert(t.id);
                }
                Err(f) => r.fail(
                    &format!("target {plug}"),
                    f.reason,
                    "correct plug, tag or pcmk_host_map so that each node maps to one instance",
                ),
            }
        }
        probe
    }
}
