//! An eip resource's parameters, validated once in `configure`.

use super::super::local;
use super::super::{ids, ApiFailure};
use crate::aws::ec2::EipRef;
use crate::aws::AwsOptions;
use crate::core::params::shorten;
use crate::ocf::{Ctx, OcfError, OcfResult};
use std::net::Ipv4Addr;

/// An eip resource's parameters, validated.
pub(super) struct Config {
    pub(super) eip: EipRef,
    pub(super) interface: Option<String>,
    pub(super) eni_id: Option<String>,
    pub(super) private_ip: Option<String>,
    pub(super) api_failure: ApiFailure,
    pub(super) aws: AwsOptions,
}

impl Config {
    pub(super) fn from_ctx(ctx: &Ctx) -> OcfResult<Config> {
        let p = &ctx.params;
        let eip = match (p.str("allocation_id"), p.str("elastic_ip")) {
            (Some(a), _) => {
                ids::check("allocation_id", a, "eipalloc")?;
                EipRef::Allocation(a.to_string())
            }
            (None, Some(ip)) => {
                ip.parse::<Ipv4Addr>().map_err(|_| {
                    OcfError::configured(format!(
                        "elastic_ip='{}' is not an IPv4 address: set it to the Elastic IP's \
                         public address, or set allocation_id instead",
                        shorten(ip)
                    ))
                })?;
                EipRef::PublicIp(ip.to_string())
            }
            (None, None) => {
                return Err(OcfError::configured(
                    "neither allocation_id nor elastic_ip is set: set allocation_id \
                     (eipalloc-…) or elastic_ip (the public address)",
                ))
            }
        };
        if let Some(e) = p.str("eni_id") {
            ids::check("eni_id", e, "eni")?;
        }
        if let Some(ip) = p.str("private_ip") {
            ip.parse::<Ipv4Addr>().map_err(|_| {
                OcfError::configured(format!(
                    "private_ip='{}' is not an IPv4 address: set it to one of the ENI's \
                     private addresses, or leave it unset for the primary one",
                    shorten(ip)
                ))
            })?;
        }
        local::check_interface(p.str("interface"))?;
        Ok(Config {
            eip,
            interface: p.str("interface").map(str::to_string),
            eni_id: p.str("eni_id").map(str::to_string),
            private_ip: p.str("private_ip").map(str::to_string),
            api_failure: ApiFailure::from_params(p),
            aws: AwsOptions::from_params(p)?,
        })
    }

    pub(crate) fn describe(&self) -> String {
        match &self.eip {
            EipRef::Allocation(a) => format!("Elastic IP {a}"),
            EipRef::PublicIp(ip) => format!("Elastic IP {ip}"),
        }
    }
}
