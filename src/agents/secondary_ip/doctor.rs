//! doctor checks of the secondary-ip agent: the device and ENI, that the
//! address is of their subnet and not an ENI's primary, which ENI holds it
//! now, and the local device, asked as start and monitor ask.

use super::SecondaryIp;
use crate::aws::probes::ProbeArgs;
use crate::doctor::{Checks, Env, Report};
use crate::net;

impl Checks for SecondaryIp {
    fn doctor(&self, e: &Env, r: &mut Report) -> ProbeArgs {
        let ip = self.cfg.ip;
        let mut probe = ProbeArgs::default();
        let here = match self.here(e.imds) {
            Ok(h) => {
                r.pass(
                    "subnet",
                    format!(
                        "{ip} is in {} ({}) of ENI {} on {}",
                        h.subnet, h.cidr, h.local.eni, h.local.device
                    ),
                );
                h
            }
            Err(err) => {
                r.fail(
                    "subnet",
                    err.reason,
                    "set ip to a free address of this node's subnet, or interface / eni_id",
                );
                return probe;
            }
        };
        probe.eni = Some(here.local.eni.clone());
        match self.holder(e.session, &here) {
            Ok(Some(h)) if h.id == here.local.eni => r.pass(
                "assignment",
                format!(
                    "{ip} is on {} (this node: the resource is active here)",
                    h.id
                ),
            ),
            Ok(Some(h)) => r.pass(
                "assignment",
                format!("{ip} is on {} (not this node; start takes it over)", h.id),
            ),
            Ok(None) => r.pass(
                "assignment",
                format!("{ip} is on no ENI of {} (start assigns it)", here.subnet),
            ),
            Err(err) => r.fail(
                "assignment",
                err.reason,
                "choose a free address of the subnet, or see the permission checks below",
            ),
        }
        match net::devices_with(ip) {
            Ok(d) if d.is_empty() => r.pass(
                "address on this node",
                format!("{ip} is not on any local device"),
            ),
            Ok(d) => r.pass(
                "address on this node",
                format!("{ip} is on {}", d.join(", ")),
            ),
            Err(err) => r.fail(
                "address on this node",
                err.reason,
                "check that iproute2 works on this node",
            ),
        }
        probe
    }
}
