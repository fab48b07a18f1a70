//! doctor checks of the dns agent: the hosted zone, its VPC associations,
//! the record name, what Route 53 holds and what a resolver answers.

use super::{Env, Report};
use crate::agents::dns::normalise_name;
use crate::aws::checks::{self, ProbeArgs};
use crate::aws::imds::Instance;
use crate::aws::route53;
use crate::net::dns::{self as resolve, Answer};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

pub(super) fn checks(e: &Env, r: &mut Report) -> ProbeArgs {
    let p = e.params;
    let zone_id = p
        .str("hosted_zone_id")
        .unwrap_or_default()
        .trim()
        .trim_start_matches("/hostedzone/")
        .to_string();
    let raw = p.str("name").unwrap_or_default();
    let probe = ProbeArgs {
        hosted_zone_id: Some(zone_id.clone()),
        ..ProbeArgs::default()
    };
    let Ok(name) = normalise_name(raw) else {
        r.skip("dns checks", "skipped: name is not a valid domain name");
        return probe;
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

    let zone = match checks::zone_info(e.session, &zone_id) {
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
            r.fail("hosted zone", err.reason, "see the permission checks below");
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

    let want = desired(e);
    let held = match route53::a_record(e.session, &zone_id, &name) {
        Ok(None) => {
            r.pass(
                "record",
                format!("no A record for {name} yet (start creates it)"),
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
                "use a name that is a plain A record, or delete the special record",
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
                    "A {} TTL {}{}",
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
            r.fail("record", err.reason, "see the permission checks below");
            None
        }
    };

    let Some(values) = held else {
        r.skip("resolver", "nothing to compare: no record in Route 53");
        return probe;
    };
    let (answer, asked) = match p.str("resolver").and_then(parse_server) {
        Some(server) => (
            resolve::query(server, &name, Duration::from_secs(3)),
            format!("{server}"),
        ),
        None => (resolve::system(&name), "the system resolver".to_string()),
    };
    let mut held_ips: Vec<Ipv4Addr> = values.iter().filter_map(|v| v.parse().ok()).collect();
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

fn join(ips: &[Ipv4Addr]) -> String {
    ips.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_server(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>().ok().or_else(|| {
        s.parse::<Ipv4Addr>()
            .ok()
            .map(|ip| SocketAddr::from((ip, 53)))
    })
}

/// The address this node would put in the record (`ip` resolved).
fn desired(e: &Env) -> Option<String> {
    let inst = Instance::new(e.imds);
    match e.params.str("ip").unwrap_or("local") {
        "local" => inst.local_ipv4().ok(),
        "public" => inst.public_ipv4().ok().flatten(),
        other => Some(other.to_string()),
    }
}
