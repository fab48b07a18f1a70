//! doctor checks of the eip agent: the allocation, where it is associated,
//! and the ENI / private address it is to be mapped to, decided by the
//! same functions start uses.

use super::Eip;
use crate::aws::ec2::EipRef;
use crate::aws::probes::ProbeArgs;
use crate::doctor::{Checks, Env, Report};

impl Checks for Eip {
    fn doctor(&self, e: &Env, r: &mut Report) -> ProbeArgs {
        let c = &self.cfg;
        let mut probe = ProbeArgs::default();
        let named = match &c.eip {
            EipRef::Allocation(a) => format!("allocation_id={a}"),
            EipRef::PublicIp(ip) => format!("elastic_ip={ip}"),
        };

        let local = match self.resolve_local(e.imds) {
            Ok(l) => {
                r.pass(
                    "interface",
                    format!("{} (MAC {}) is ENI {}", l.device, l.mac, l.eni),
                );
                probe.eni = Some(l.eni.clone());
                Some(l)
            }
            Err(err) => {
                r.fail(
                    "interface",
                    err.reason,
                    "set interface to the device of this node's ENI (ip link), or eni_id",
                );
                None
            }
        };

        match self.lookup(e.session) {
            Ok(a) => {
                r.pass(
                    "Elastic IP",
                    format!("{} is allocation {}", a.public_ip, a.allocation_id),
                );
                probe.allocation_id = Some(a.allocation_id.clone());
                probe.association_id = a.association_id.clone();
                let here = local.as_ref().map(|l| l.eni.as_str());
                let evidence = match (&a.eni, &a.private_ip) {
                    (Some(eni), ip) => format!(
                        "associated with {eni}{}{}",
                        ip.as_ref().map(|i| format!(" / {i}")).unwrap_or_default(),
                        if Some(eni.as_str()) == here {
                            " (this node)"
                        } else {
                            " (not this node)"
                        }
                    ),
                    (None, _) => match &a.instance_id {
                        Some(i) => format!("associated with instance {i}"),
                        None => "not associated (start associates it)".into(),
                    },
                };
                r.pass("association", evidence);
            }
            Err(err) if err.rc == crate::ocf::Rc::Configured => r.fail(
                "Elastic IP",
                format!("{named} does not exist in region {}", e.session.region()),
                "correct allocation_id / elastic_ip, or region (aws ec2 describe-addresses lists \
                 the Elastic IPs)",
            ),
            Err(err) => r.fail("Elastic IP", err.reason, "see the permission checks below"),
        }

        if let (Some(want), Some(l)) = (&c.private_ip, &local) {
            match self.check_private_ip(e.imds, l) {
                Ok(()) => r.pass(
                    "private_ip",
                    format!("{want} is a private address of {}", l.eni),
                ),
                Err(err) if err.rc == crate::ocf::Rc::Configured => {
                    let have = self.eni_addresses(e.imds, l).unwrap_or_default();
                    r.fail(
                        "private_ip",
                        format!(
                            "{want} is not an address of {} (it has {})",
                            l.eni,
                            have.join(", ")
                        ),
                        "set private_ip to one of the ENI's private addresses, or leave it \
                         unset for the primary one",
                    )
                }
                Err(err) => r.fail("private_ip", err.reason, "see the instance metadata check"),
            }
        }
        probe
    }
}
