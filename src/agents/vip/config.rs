//! A vip resource's parameters, validated once in `configure`.

use super::super::ids;
use super::super::local;
use super::super::ApiFailure;
use crate::aws::options::AssumeRole;
use crate::aws::AwsOptions;
use crate::core::params::shorten;
use crate::ocf::{Ctx, OcfError, OcfResult};
use std::net::IpAddr;

/// A vip resource's parameters, validated.
pub(crate) struct Config {
    pub(super) ip: IpAddr,
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
        let ip: IpAddr = raw_ip.parse().map_err(|_| {
            OcfError::configured(format!(
                "ip='{}' is not an IP address: set ip to an IPv4 or IPv6 address outside \
                 the VPC's CIDR blocks, e.g. 192.168.100.10 or fd00:ac1::10",
                shorten(raw_ip)
            ))
        })?;
        if !crate::net::unicast(ip) {
            return Err(OcfError::configured(format!(
                "ip={ip} is loopback, link-local, multicast, broadcast or unspecified: \
                 choose a unicast overlay IP outside the VPC's CIDR blocks"
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
            cidr: format!("{ip}/{}", crate::net::host_prefix(ip)),
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

impl Config {
    /// The AWS CLI's option naming the route's destination.
    pub(super) fn destination_arg(&self) -> String {
        let flag = if self.ip.is_ipv6() {
            "--destination-ipv6-cidr-block"
        } else {
            "--destination-cidr-block"
        };
        format!("{flag} {}", self.cidr)
    }
}
