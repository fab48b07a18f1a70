//! doctor checks of the eip agent: the allocation, where it is associated,
//! and the ENI / private address it is to be mapped to.

use super::{Env, Report};
use crate::agents::local;
use crate::aws::checks::ProbeArgs;
use crate::aws::ec2::{self, EipRef};

pub(super) fn checks(e: &Env, r: &mut Report) -> ProbeArgs {
    let p = e.params;
    let mut probe = ProbeArgs::default();
    let eip = match (p.str("allocation_id"), p.str("elastic_ip")) {
        (Some(a), _) => EipRef::Allocation(a.to_string()),
        (None, Some(ip)) => EipRef::PublicIp(ip.to_string()),
        (None, None) => {
            r.skip(
                "eip checks",
                "skipped: neither allocation_id nor elastic_ip is set",
            );
            return probe;
        }
    };
    let named = match &eip {
        EipRef::Allocation(a) => format!("allocation_id={a}"),
        EipRef::PublicIp(ip) => format!("elastic_ip={ip}"),
    };

    let local = match local::resolve(e.imds, p.str("interface"), p.str("eni_id")) {
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

    match ec2::describe_address(e.session, &eip) {
        Ok(Some(a)) => {
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
        Ok(None) => r.fail(
            "Elastic IP",
            format!("{named} does not exist in region {}", e.session.region()),
            "correct allocation_id / elastic_ip, or region (aws ec2 describe-addresses lists \
             the Elastic IPs)",
        ),
        Err(err) => r.fail("Elastic IP", err.reason, "see the permission checks below"),
    }

    if let (Some(want), Some(l)) = (p.str("private_ip"), &local) {
        match ec2::describe_eni(e.session, &l.eni) {
            Ok(eni) if eni.private_ips.iter().any(|i| i == want) => r.pass(
                "private_ip",
                format!("{want} is a private address of {}", l.eni),
            ),
            Ok(eni) => r.fail(
                "private_ip",
                format!(
                    "{want} is not an address of {} (it has {})",
                    l.eni,
                    eni.private_ips.join(", ")
                ),
                "set private_ip to one of the ENI's private addresses, or leave it unset for \
                 the primary one",
            ),
            Err(err) => r.fail("private_ip", err.reason, "see the permission checks below"),
        }
    }
    probe
}
