//! A vip resource's parameters, validated once in `configure`.

use super::super::ids;
use super::super::local;
use super::super::ApiFailure;
use crate::aws::options::AssumeRole;
use crate::aws::AwsOptions;
use crate::core::params::shorten;
use crate::ocf::{Ctx, OcfError, OcfResult};
use std::net::Ipv4Addr;

/// A vip resource's parameters, validated.
pub(crate) struct Config {
    pub(super) ip: Ipv4Addr,
    pub(super) cidr: String,
    pub(super) tables: Vec<String>,
    pub(super) vpc_id: Option<String>,
    pub(super) interface: Option<String>,
    pub(super) eni_id: Option<String>,
    pub(super) check_sd: bool,
    pub(super) fix_sd: bool,
    pub(super) api_failure: ApiFailure,
    /// routing_table_role: the route tables' calls are made as it.
    pub(super) tables_role: Option<AssumeRole>,
    pub(super) aws: AwsOptions,
}

impl Config {
    pub(super) fn from_ctx(ctx: &Ctx) -> OcfResult<Config> {
        let p = &ctx.params;
        let raw_ip = p.str("ip").unwrap_or_default();
        let ip: Ipv4Addr = raw_ip.parse().map_err(|_| {
            OcfError::configured(format!(
                "ip='{}' is not an IPv4 address: set ip to a dotted quad outside the \
                 VPC's CIDR blocks, e.g. 192.168.100.10",
                shorten(raw_ip)
            ))
        })?;
        if ip.is_unspecified()
            || ip.is_loopback()
            || ip.is_multicast()
            || ip.is_broadcast()
            || ip.is_link_local()
        {
            return Err(OcfError::configured(format!(
                "ip={ip} is loopback, link-local, multicast or broadcast: choose a unicast \
                 overlay IP outside the VPC's CIDR blocks"
            )));
        }
        let tables = p.list("routing_table");
        for t in &tables {
            ids::check("routing_table", t, "rtb")?;
        }
        if let Some(v) = p.str("vpc_id") {
            ids::check("vpc_id", v, "vpc")?;
        }
        if let Some(e) = p.str("eni_id") {
            ids::check("eni_id", e, "eni")?;
        }
        local::check_interface(p.str("interface"))?;
        let aws = AwsOptions::from_params(p)?;
        let tables_role = match p.str("routing_table_role") {
            // One role for everything and another for the tables would
            // make the tables' role assumed by role_arn's, which no shared
            // VPC needs: refuse rather than guess.
            Some(_) if aws.role.is_some() => {
                return Err(OcfError::configured(
                    "role_arn and routing_table_role are both set: set routing_table_role \
                     alone (route tables as that role, the ENI with this node's own \
                     credentials, as a shared VPC needs) or role_arn alone (every call as \
                     that role)",
                ))
            }
            Some(arn) => Some(AssumeRole::new(
                "routing_table_role",
                arn,
                aws.external_id.as_deref(),
            )?),
            None => None,
        };
        Ok(Config {
            ip,
            cidr: format!("{ip}/32"),
            tables,
            vpc_id: p.str("vpc_id").map(str::to_string),
            interface: p.str("interface").map(str::to_string),
            eni_id: p.str("eni_id").map(str::to_string),
            check_sd: p.bool("check_source_dest") || p.bool("fix_source_dest"),
            fix_sd: p.bool("fix_source_dest"),
            api_failure: ApiFailure::from_params(p),
            tables_role,
            aws,
        })
    }
}

/// Whether an IPv4 CIDR block like 10.0.0.0/16 contains `ip`; `None` when
/// the block does not parse.
pub fn cidr_contains(cidr: &str, ip: Ipv4Addr) -> Option<bool> {
    let (net, len) = cidr.trim().split_once('/')?;
    let net: Ipv4Addr = net.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some(u32::from(net) & mask == u32::from(ip) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_containment() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(cidr_contains("10.0.0.0/16", ip("10.0.5.1")), Some(true));
        assert_eq!(cidr_contains("10.0.0.0/16", ip("10.1.0.10")), Some(false));
        assert_eq!(cidr_contains("0.0.0.0/0", ip("1.2.3.4")), Some(true));
        assert_eq!(cidr_contains("10.1.0.10/32", ip("10.1.0.10")), Some(true));
        assert_eq!(cidr_contains("10.0.0.0/33", ip("10.0.0.1")), None);
        assert_eq!(cidr_contains("garbage", ip("10.0.0.1")), None);
    }
}
