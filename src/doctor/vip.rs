//! doctor checks of the vip agent: the overlay address, the route tables
//! and where they point, source/destination checking, the local device.

use super::{Env, Report};
use crate::agents::local;
use crate::agents::vip::cidr_contains;
use crate::aws::checks::ProbeArgs;
use crate::aws::ec2::{self, Target};
use crate::net;
use std::net::Ipv4Addr;

pub(super) fn checks(e: &Env, r: &mut Report) -> ProbeArgs {
    let p = e.params;
    let Some(ip) = p.str("ip").and_then(|v| v.parse::<Ipv4Addr>().ok()) else {
        r.skip("vip checks", "skipped: ip is not an IPv4 address");
        return ProbeArgs::default();
    };
    let cidr = format!("{ip}/32");
    let mut probe = ProbeArgs {
        cidr: Some(cidr.clone()),
        ..ProbeArgs::default()
    };

    let local = match local::resolve(e.imds, p.str("interface"), p.str("eni_id")) {
        Ok(l) => {
            r.pass(
                "interface",
                format!(
                    "{} (MAC {}) is ENI {}{}",
                    l.device,
                    l.mac,
                    l.eni,
                    l.vpc
                        .as_ref()
                        .map(|v| format!(" in {v}"))
                        .unwrap_or_default()
                ),
            );
            l
        }
        Err(err) => {
            r.fail(
                "interface",
                err.reason,
                "set interface to the device of this node's ENI (ip link), or eni_id",
            );
            return probe;
        }
    };
    probe.eni = Some(local.eni.clone());
    let vpc = p
        .str("vpc_id")
        .map(str::to_string)
        .or_else(|| local.vpc.clone());

    match vpc.as_deref().map(|v| (v, ec2::vpc_cidrs(e.session, v))) {
        Some((v, Ok(cidrs))) => match cidrs.iter().find(|c| cidr_contains(c, ip) == Some(true)) {
            Some(c) => r.fail(
                "VIP outside the VPC",
                format!("{ip} lies inside {v}'s CIDR block {c}"),
                format!(
                    "choose an overlay address outside every CIDR block of {v} ({}): a route \
                     table cannot send an address of the VPC's own range to an ENI",
                    cidrs.join(", ")
                ),
            ),
            None => r.pass(
                "VIP outside the VPC",
                format!("{ip} is outside {v}'s CIDR blocks {}", cidrs.join(", ")),
            ),
        },
        Some((v, Err(err))) => r.fail(
            "VIP outside the VPC",
            format!("cannot read {v}'s CIDR blocks: {}", err.reason),
            "see the permission checks below",
        ),
        None => r.skip(
            "VIP outside the VPC",
            "the VPC is unknown (no vpc_id, and the metadata names none)",
        ),
    }

    let listed = p.list("routing_table");
    match ec2::routes_for(e.session, vpc.as_deref(), &listed, &cidr) {
        Ok(routes) => {
            let missing: Vec<&String> = listed
                .iter()
                .filter(|t| !routes.iter().any(|r| &r.table_id == *t))
                .collect();
            let lines: Vec<String> = routes
                .iter()
                .map(|t| {
                    let to = match &t.target {
                        Some(Target::Eni(eni)) if *eni == local.eni => {
                            format!("ENI {eni} (this node)")
                        }
                        Some(Target::Eni(eni)) => format!("ENI {eni} (not this node)"),
                        Some(other) => other.describe(),
                        None => "no route yet (start creates it)".into(),
                    };
                    format!("{} → {to}", t.table_id)
                })
                .collect();
            if !missing.is_empty() {
                r.fail(
                    "route tables",
                    format!(
                        "routing_table lists {} that do(es) not exist{}",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        if lines.is_empty() {
                            String::new()
                        } else {
                            format!("; {}", lines.join("; "))
                        }
                    ),
                    "correct routing_table (aws ec2 describe-route-tables lists the tables)",
                );
            } else if routes.is_empty() {
                r.fail(
                    "route tables",
                    format!(
                        "no route table of {} has a route for {cidr}",
                        vpc.as_deref().unwrap_or("the VPC")
                    ),
                    format!(
                        "create the route once in each table whose subnets' clients need the \
                         address (aws ec2 create-route --route-table-id rtb-… \
                         --destination-cidr-block {cidr} --network-interface-id {}), or list \
                         the tables in routing_table",
                        local.eni
                    ),
                );
            } else {
                r.pass("route tables", lines.join("; "));
            }
            probe.route_table = routes
                .iter()
                .find(|t| t.target.is_some())
                .or(routes.first())
                .map(|t| t.table_id.clone());
        }
        Err(err) => r.fail(
            "route tables",
            err.reason,
            "see the permission checks below",
        ),
    }

    match ec2::describe_eni(e.session, &local.eni) {
        Ok(eni) if !eni.source_dest_check => r.pass(
            "source/dest check",
            format!("off on {} (packets for {ip} are accepted)", local.eni),
        ),
        Ok(_) if p.bool("fix_source_dest") => r.pass(
            "source/dest check",
            format!(
                "on for {}, and start turns it off (fix_source_dest=true)",
                local.eni
            ),
        ),
        Ok(_) => r.fail(
            "source/dest check",
            format!(
                "on for {}: the instance drops every packet addressed to {ip}",
                local.eni
            ),
            format!(
                "aws ec2 modify-network-interface-attribute --network-interface-id {} \
                 --no-source-dest-check, or set fix_source_dest=true",
                local.eni
            ),
        ),
        Err(err) => r.fail(
            "source/dest check",
            err.reason,
            "see the permission checks below",
        ),
    }

    match net::devices_with(ip) {
        Ok(devs) if devs.is_empty() => r.pass(
            "address on this node",
            format!("{ip} is not on any local device (the resource is not active here)"),
        ),
        Ok(devs) => r.pass(
            "address on this node",
            format!(
                "{ip} is on {} (the resource is active here)",
                devs.join(", ")
            ),
        ),
        Err(err) => r.fail(
            "address on this node",
            err.reason,
            "check that iproute2 works on this node",
        ),
    }
    probe
}
