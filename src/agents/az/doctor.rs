//! doctor checks of the az agent: the zone, its state (and so the colour
//! the agent would publish), and attrd_updater, asked as the agent asks.

use super::{attrd_version, colour, Az};
use crate::aws::ec2;
use crate::aws::probes::ProbeArgs;
use crate::doctor::{Checks, Env, Report};

impl Checks for Az {
    fn doctor(&self, e: &Env, r: &mut Report) -> ProbeArgs {
        match self.zone(e.imds) {
            Err(err) => r.fail(
                "zone",
                err.reason,
                "set availability_zone, or fix the instance metadata (see above)",
            ),
            Ok(zone) => match ec2::zone_state(e.session, &zone) {
                Ok(None) => r.fail(
                    "zone",
                    format!("region {} has no zone {zone}", e.session.region()),
                    "set availability_zone to a zone of the region (aws ec2 \
                     describe-availability-zones), or correct region",
                ),
                Ok(Some(state)) => match colour(&state) {
                    "green" => r.pass("zone", format!("{zone} is {state}")),
                    col => r.fail(
                        "zone",
                        format!(
                            "{zone} is {state}: the az agent publishes {col}{}",
                            if col == "red" {
                                ", and resources leave this node"
                            } else {
                                ""
                            }
                        ),
                        "nothing to fix here; wait for AWS to restore the zone (AWS Health \
                         Dashboard)",
                    ),
                },
                Err(err) => r.fail("zone", err.to_string(), "see the permission checks below"),
            },
        }
        match attrd_version() {
            Ok(version) => r.pass("attrd_updater", version),
            Err(err) => r.fail(
                "attrd_updater",
                format!("{}: the az agent cannot publish node health", err.reason),
                "install Pacemaker's command-line tools (pacemaker-cli-utils)",
            ),
        }
        ProbeArgs::default()
    }
}
