//! doctor checks of the az agent: the zone, its state, and attrd_updater.

use super::{Env, Report};
use crate::aws::checks::ProbeArgs;
use crate::aws::ec2;
use crate::aws::imds::Instance;

pub(super) fn checks(e: &Env, r: &mut Report) -> ProbeArgs {
    let zone = match e.params.str("availability_zone") {
        Some(z) => z.to_string(),
        None => match Instance::new(e.imds).availability_zone() {
            Ok(z) => z,
            Err(err) => {
                r.fail(
                    "zone",
                    err.reason,
                    "set availability_zone, or fix the instance metadata (see above)",
                );
                return ProbeArgs::default();
            }
        },
    };
    match ec2::zone_state(e.session, &zone) {
        Ok(None) => r.fail(
            "zone",
            format!("region {} has no zone {zone}", e.session.region()),
            "set availability_zone to a zone of the region (aws ec2 \
             describe-availability-zones), or correct region",
        ),
        Ok(Some(state)) if state == "available" => r.pass("zone", format!("{zone} is available")),
        Ok(Some(state)) => r.fail(
            "zone",
            format!("{zone} is {state}: the az agent publishes red, and resources leave this node"),
            "nothing to fix here; wait for AWS to restore the zone (AWS Health Dashboard)",
        ),
        Err(err) => r.fail("zone", err.reason, "see the permission checks below"),
    }
    // Run it rather than search PATH: that is exactly how the agent finds it.
    match std::process::Command::new("attrd_updater")
        .arg("--version")
        .output()
    {
        Ok(out) if out.status.success() => r.pass(
            "attrd_updater",
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("present")
                .trim()
                .to_string(),
        ),
        Ok(out) => r.fail(
            "attrd_updater",
            format!("attrd_updater --version exited with {}", out.status),
            "reinstall Pacemaker's command-line tools (pacemaker-cli-utils)",
        ),
        Err(err) => r.fail(
            "attrd_updater",
            format!("cannot run attrd_updater ({err}): the az agent cannot publish node health"),
            "install Pacemaker's command-line tools (pacemaker-cli-utils)",
        ),
    }
    ProbeArgs::default()
}
