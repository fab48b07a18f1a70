//! doctor checks of the vip agent: the overlay address, the route tables
//! and where they point, source/destination checking, the local device.
//! Each check asks the question the agent's start asks, with the agent's
//! own functions, and reports instead of failing.

use super::routes::RouteProblem;
use super::{SourceDest, Vip};
use crate::aws::ec2::{self, Target};
use crate::aws::probes::ProbeArgs;
use crate::doctor::{Checks, Env, Report};
use crate::net;

impl Checks for Vip {
    fn doctor(&self, e: &Env, r: &mut Report) -> ProbeArgs {
        let c = &self.cfg;
        let (ip, cidr) = (c.ip, c.cidr.clone());
        let mut probe = ProbeArgs {
            cidr: Some(cidr.clone()),
            ..ProbeArgs::default()
        };

        let local = match self.resolve_local(e.imds) {
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

        // The route tables (and the VPC) are read as routing_table_role when
        // it is set, the ENI with this node's own credentials, as start does.
        let Some(tables) = e.as_role(c.tables_role.as_ref()) else {
            for check in ["VIP outside the VPC", "route tables"] {
                r.skip(
                    check,
                    "not checked: routing_table_role could not be assumed (see above)",
                );
            }
            self.doctor_eni(e, &local, r);
            return probe;
        };
        let as_role = match tables.role() {
            Some(role) => format!(" (read as {})", role.arn),
            None => String::new(),
        };

        match self.vpc_blocks(e.imds, &local, Some(tables)) {
            Ok(Some(b)) => {
                let v = b.vpc.as_deref().unwrap_or("the VPC");
                match self.inside(&b.cidrs) {
                    Some(block) => r.fail(
                        "VIP outside the VPC",
                        format!("{ip} lies inside {v}'s CIDR block {block}"),
                        format!(
                            "choose an overlay address outside every CIDR block of {v} ({}): \
                             a route table cannot send an address of the VPC's own range to \
                             an ENI",
                            b.cidrs.join(", ")
                        ),
                    ),
                    None => r.pass(
                        "VIP outside the VPC",
                        format!(
                            "{ip} is outside {v}'s CIDR blocks {}{as_role}",
                            b.cidrs.join(", ")
                        ),
                    ),
                }
            }
            Ok(None) => r.skip(
                "VIP outside the VPC",
                "the VPC is unknown (no vpc_id, and the metadata names none)",
            ),
            Err(err) => r.fail(
                "VIP outside the VPC",
                format!("cannot read the VPC's CIDR blocks: {}", err.reason),
                "see the permission checks below",
            ),
        }

        match self.table_routes(tables, &local) {
            Ok(routes) => {
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
                match self.route_problem(&routes, &local) {
                    Some(RouteProblem::Missing(missing)) => r.fail(
                        "route tables",
                        format!(
                            "routing_table lists {} that do(es) not exist{}",
                            missing.join(", "),
                            if lines.is_empty() {
                                String::new()
                            } else {
                                format!("; {}", lines.join("; "))
                            }
                        ),
                        "correct routing_table (aws ec2 describe-route-tables lists the tables)",
                    ),
                    Some(RouteProblem::NoneHold { vpc }) => r.fail(
                        "route tables",
                        format!(
                            "no route table of {} has a route for {cidr}",
                            vpc.as_deref().unwrap_or("the VPC")
                        ),
                        format!(
                            "create the route once in each table whose subnets' clients need \
                             the address (aws ec2 create-route --route-table-id rtb-… \
                             {} --network-interface-id {}), or list the tables in \
                             routing_table",
                            c.destination_arg(),
                            local.eni
                        ),
                    ),
                    Some(RouteProblem::OtherVpc { table, vpc }) => r.fail(
                        "route tables",
                        format!(
                            "{table} belongs to {}, not to the VPC of {}; {}",
                            vpc.as_deref().unwrap_or("another VPC"),
                            local.eni,
                            lines.join("; ")
                        ),
                        "routes can only point at an ENI of the same VPC: correct routing_table",
                    ),
                    None => r.pass("route tables", format!("{}{as_role}", lines.join("; "))),
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

        self.doctor_eni(e, &local, r);
        probe
    }
}

impl Vip {
    /// The ENI's side (this node's own credentials) and the local address.
    fn doctor_eni(&self, e: &Env, local: &super::Local, r: &mut Report) {
        let ip = self.cfg.ip;
        match ec2::describe_eni(e.session, &local.eni) {
            Ok(Some(eni)) => match self.source_dest(&eni) {
                SourceDest::Off => r.pass(
                    "source/dest check",
                    format!("off on {} (packets for {ip} are accepted)", local.eni),
                ),
                SourceDest::WillFix => r.pass(
                    "source/dest check",
                    format!(
                        "on for {}, and start turns it off (fix_source_dest=true)",
                        local.eni
                    ),
                ),
                SourceDest::Blocking => r.fail(
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
            },
            Ok(None) => r.fail(
                "source/dest check",
                format!("network interface {} does not exist", local.eni),
                "set eni_id to an ENI of this instance",
            ),
            Err(err) => r.fail(
                "source/dest check",
                err.to_string(),
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
    }
}
