//! A vip resource's parameters, validated once in `configure`.

use super::super::ids;
use super::super::local;
use super::super::{ApiFailure, API_FAILURE};
use super::ROUTING_TABLE_ROLE;
use crate::aws::options::with_aws_settings;
use crate::aws::options::AssumeRole;
use crate::aws::AwsOptions;
use crate::core::params::shorten;
use crate::core::Param;
use crate::ocf::{Ctx, OcfError, OcfResult};
use std::net::IpAddr;

pub(super) const PARAMS: &[Param] = with_aws_settings![
    Param::string("ip", "The overlay IPv4 or IPv6 address")
        .required()
        .unique()
        .long(
            "The overlay (virtual) address, IPv4 (e.g. 192.168.100.10, routed as ip/32) \
             or IPv6 (e.g. fd00:ac1::10, routed as ip/128 and held as ip/128). It must \
             lie outside every CIDR block of its family of the VPC: AWS does not let a \
             route table send an address of the VPC's own range anywhere but the VPC. \
             For a dual-stack overlay, configure two vip resources.",
        ),
    Param::string("routing_table", "Route tables to manage (comma separated)").long(
        "Route table ids to point at this node, e.g. rtb-0123abcd,rtb-4567ef01. A listed \
         table without a route for ip/32 (ip/128) gets one. Default: every route table \
         of the VPC that has a route for ip/32 (ip/128) (create that route once, in each \
         table whose subnets' clients must reach the address).",
    ),
    Param::string(
        ROUTING_TABLE_ROLE,
        "IAM role for the route-table calls only"
    )
    .long(
        "Make the route-table calls (DescribeRouteTables, ReplaceRoute, CreateRoute, and \
         DescribeVpcs for vpc_id) as this IAM role, e.g. \
         arn:aws:iam::111122223333:role/ha-routes: in a shared VPC the route tables \
         belong to the network account. The ENI calls (source/destination check) keep \
         this node's own credentials, which assume the role (sts:AssumeRole, with \
         external_id if set) at each action that changes or checks routes. Not \
         together with role_arn (which makes every call as one role).",
    ),
    Param::string("vpc_id", "VPC of the route tables")
        .long("Limit route-table discovery to this VPC. Default: the VPC of this node's ENI."),
    Param::string("interface", "Local network device to hold the address").long(
        "Local device that gets ip/32 (ip/128), e.g. eth0 or ens5. Default: the device of the \
         instance's primary ENI.",
    ),
    Param::string("eni_id", "ENI the routes point at").long(
        "The network interface (eni-…) the routes point at. Default: the ENI behind \
         interface, looked up in the instance metadata by MAC address.",
    ),
    Param::boolean(
        "check_source_dest",
        "Refuse to start while source/dest check is on",
    )
    .default("true")
    .long(
        "Start fails with a reason when the ENI still has source/destination \
             checking enabled: the instance would drop every packet for the overlay \
             address. Costs one DescribeNetworkInterfaces call on the first start of \
             the ENI on a node after boot (a passed check is remembered).",
    ),
    Param::boolean("fix_source_dest", "Turn source/dest check off on start")
        .default("false")
        .long(
            "Instead of failing, disable source/destination checking on the ENI at \
             start (ec2:ModifyNetworkInterfaceAttribute).",
        ),
    Param::string("iflabel", "Label of the local address (IPv4)").long(
        "Give the local address the label <interface>:<iflabel>, e.g. iflabel=vip makes \
         eth0:vip, as aws-vpc-move-ip does (ifconfig and scripts that read labels see \
         it). Letters and digits; the whole label is at most 15 characters. IPv6 \
         addresses have no labels.",
    ),
    Param::boolean("monapi", "The recurring monitor checks the routes too")
        .default("false")
        .long(
            "Make every monitor, at any depth, check the routes as the depth-10 monitor \
             does (aws-vpc-move-ip's enhanced monitoring). Costs one \
             DescribeRouteTables per monitor; a monitor with OCF_CHECK_LEVEL=10 at a \
             longer interval next to the cheap local one is the better way.",
        ),
    API_FAILURE,
];

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
    /// iflabel: the label's suffix after "<device>:".
    pub(super) iflabel: Option<String>,
    /// monapi: every monitor checks the routes.
    pub(super) monapi: bool,
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
        let iflabel = p.str("iflabel").map(str::to_string);
        if let Some(l) = &iflabel {
            if ip.is_ipv6() || l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(OcfError::configured(format!(
                    "iflabel='{}' cannot label {ip}: labels are letters and digits and \
                     only IPv4 addresses have them; fix iflabel or remove it",
                    shorten(l)
                )));
            }
        }
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
            iflabel,
            monapi: p.bool("monapi"),
            tables_role,
            aws,
        })
    }
}

impl Config {
    /// The full label of the local address on `device`; the kernel keeps
    /// at most 15 characters (IFNAMSIZ), so a longer one is refused rather
    /// than cut.
    pub(super) fn label(&self, device: &str) -> OcfResult<Option<String>> {
        let Some(l) = &self.iflabel else {
            return Ok(None);
        };
        let full = format!("{device}:{l}");
        if full.len() > 15 {
            return Err(OcfError::configured(format!(
                "iflabel={l} makes the label {full}, longer than the 15 characters the \
                 kernel allows: shorten iflabel to at most {} characters",
                15usize.saturating_sub(device.len() + 1)
            )));
        }
        Ok(Some(full))
    }

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
