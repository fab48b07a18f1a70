//! doctor checks of the dns agent: the hosted zone, its VPC associations,
//! the record name, what Route 53 holds and what a resolver answers, from
//! the agent's validated configuration and its own address lookup.

use super::Dns;
use crate::aws::imds::Instance;
use crate::aws::probes::ProbeArgs;
use crate::aws::route53;
use crate::doctor::{Checks, Env, Report};
use crate::net::dns::Answer;
use std::net::IpAddr;

impl Checks for Dns {
    fn doctor(&self, e: &Env, r: &mut Report) -> ProbeArgs {
        let c = &self.cfg;
        let (zone_id, name, raw) = (c.zone_id.clone(), c.name.clone(), c.name_as_set.as_str());
        let probe = ProbeArgs {
            hosted_zone_id: Some(zone_id.clone()),
            ..ProbeArgs::default()
        };
        if raw.trim() == name {
            r.pass("name", format!("{name} (lowercase, no trailing dot)"));
        } else {
            r.pass(
                "name",
                format!(
                    "'{raw}' is managed as {name}: Route 53 stores names in lowercase, and \
                     ocf-aws normalises case and the trailing dot"
                ),
            );
        }

        let zone = match route53::hosted_zone(e.session, &zone_id) {
            Ok(Some(z)) => z,
            Ok(None) => {
                r.fail(
                    "hosted zone",
                    format!("hosted zone {zone_id} does not exist"),
                    "correct hosted_zone_id (aws route53 list-hosted-zones)",
                );
                return probe;
            }
            Err(err) => {
                r.fail(
                    "hosted zone",
                    err.to_string(),
                    "see the permission checks below",
                );
                return probe;
            }
        };
        r.pass(
            "hosted zone",
            format!(
                "{zone_id} is {} ({})",
                zone.name,
                if zone.private { "private" } else { "public" }
            ),
        );
        if name == zone.name || name.ends_with(&format!(".{}", zone.name)) {
            r.pass(
                "name inside the zone",
                format!("{name} is in {}", zone.name),
            );
        } else {
            r.fail(
                "name inside the zone",
                format!("{name} is not inside {}", zone.name),
                format!(
                    "set name to a name ending in .{}, or hosted_zone_id to the zone of {name}",
                    zone.name
                ),
            );
        }

        if zone.private {
            let inst = Instance::new(e.imds);
            let vpc = inst
                .primary_mac()
                .and_then(|m| inst.vpc_of_mac(&m))
                .ok()
                .flatten();
            let listed: Vec<String> = zone
                .vpcs
                .iter()
                .map(|(v, reg)| format!("{v} ({reg})"))
                .collect();
            match vpc {
                Some(v) if zone.vpcs.iter().any(|(z, _)| *z == v) => r.pass(
                    "zone associated with this VPC",
                    format!("{v} is among {}", listed.join(", ")),
                ),
                Some(v) => r.fail(
                    "zone associated with this VPC",
                    format!(
                        "the private zone is associated with {}, not with this node's {v}: \
                         nodes and clients here cannot resolve the name",
                        if listed.is_empty() {
                            "no VPC".to_string()
                        } else {
                            listed.join(", ")
                        }
                    ),
                    format!(
                        "aws route53 associate-vpc-with-hosted-zone --hosted-zone-id {zone_id} \
                         --vpc VPCRegion={},VPCId={v}",
                        e.session.region()
                    ),
                ),
                None => r.skip(
                    "zone associated with this VPC",
                    "the instance metadata names no VPC for this node",
                ),
            }
        } else {
            r.pass(
                "zone associated with this VPC",
                "public zone: no VPC association needed",
            );
        }

        let want = self.address(e.imds).ok();
        let held = match route53::a_record(e.session, &zone_id, &name, c.addr.ipv6()) {
            Ok(None) => {
                r.pass(
                    "record",
                    format!(
                        "no {} record for {name} yet (start creates it)",
                        c.addr.rtype()
                    ),
                );
                None
            }
            Ok(Some(rec)) if rec.special.is_some() => {
                r.fail(
                    "record",
                    format!(
                        "{name} is {}, which ocf-aws does not manage",
                        rec.special.unwrap_or_default()
                    ),
                    "use a name that is a plain record, or delete the special record",
                );
                None
            }
            Ok(Some(rec)) => {
                let here = want
                    .as_ref()
                    .map(|w| rec.values.iter().any(|v| v == w))
                    .unwrap_or(false);
                r.pass(
                    "record",
                    format!(
                        "{} {} TTL {}{}",
                        c.addr.rtype(),
                        rec.values.join(","),
                        rec.ttl.unwrap_or_default(),
                        match (&want, here) {
                            (Some(_), true) => " (this node's address: active here)".to_string(),
                            (Some(w), false) => format!(" (this node would set {w})"),
                            (None, _) => String::new(),
                        }
                    ),
                );
                Some(rec.values)
            }
            Err(err) => {
                r.fail("record", err.to_string(), "see the permission checks below");
                None
            }
        };

        let Some(values) = held else {
            r.skip("resolver", "nothing to compare: no record in Route 53");
            return probe;
        };
        let answer = self.resolution();
        let asked = match c.resolver {
            Some(server) => server.to_string(),
            None => "the system resolver".to_string(),
        };
        let mut held_ips: Vec<IpAddr> = values.iter().filter_map(|v| v.parse().ok()).collect();
        held_ips.sort();
        match answer {
            Answer::Addresses(got) if got == held_ips => {
                r.pass("resolver", format!("{asked} answers {}", join(&got)))
            }
            Answer::Addresses(got) => r.fail(
                "resolver",
                format!(
                    "{asked} answers {} but Route 53 holds {}",
                    if got.is_empty() {
                        "no address".to_string()
                    } else {
                        join(&got)
                    },
                    values.join(",")
                ),
                "wait one TTL after a change; otherwise check which DNS server /etc/resolv.conf \
                 uses and, for a private zone, its VPC association",
            ),
            Answer::NxDomain => r.fail(
                "resolver",
                format!("{asked} says {name} does not exist (NXDOMAIN)"),
                "for a private zone, associate it with the VPC; otherwise check the delegation \
                 of the zone",
            ),
            Answer::Failed(why) => r.fail(
                "resolver",
                format!("{asked} could not be asked: {why}"),
                "check /etc/resolv.conf, or set resolver=host:port",
            ),
        }
        probe
    }
}

fn join(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
