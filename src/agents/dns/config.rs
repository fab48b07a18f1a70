//! A dns resource's parameters, validated once in `configure`.

use super::super::ApiFailure;
use super::names::{normalise_name, normalise_zone_id};
use crate::aws::AwsOptions;
use crate::core::params::shorten;
use crate::ocf::{Ctx, OcfError, OcfResult};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

#[derive(Clone, Debug)]
pub(super) enum Addr {
    Local,
    /// This node's own IPv6 address (the primary ENI's first).
    LocalIpv6,
    Public,
    Literal(IpAddr),
}

/// The keyword for this node's IPv6 address (`local` stays IPv4).
pub(super) const LOCAL_IPV6: &str = "local-ipv6";

impl Addr {
    /// The record holds IPv6 addresses (AAAA), not IPv4 (A).
    pub(super) fn ipv6(&self) -> bool {
        matches!(self, Addr::LocalIpv6 | Addr::Literal(IpAddr::V6(_)))
    }

    pub(super) fn rtype(&self) -> &'static str {
        if self.ipv6() {
            "AAAA"
        } else {
            "A"
        }
    }
}

pub(super) struct Config {
    pub(super) zone_id: String,
    pub(super) name: String,
    /// `name` as the resource sets it (doctor shows how it is normalised).
    pub(super) name_as_set: String,
    pub(super) addr: Addr,
    pub(super) ttl: i64,
    pub(super) delete_on_stop: bool,
    pub(super) wait_sync: bool,
    pub(super) resolver: Option<SocketAddr>,
    pub(super) resolve_grace: Duration,
    pub(super) api_failure: ApiFailure,
    pub(super) aws: AwsOptions,
}

impl Config {
    pub(super) fn from_ctx(ctx: &Ctx) -> OcfResult<Config> {
        let p = &ctx.params;
        let addr = match p.str("ip").unwrap_or("local") {
            "local" => Addr::Local,
            LOCAL_IPV6 => Addr::LocalIpv6,
            "public" => Addr::Public,
            other => Addr::Literal(other.parse().map_err(|_| {
                OcfError::configured(format!(
                    "ip='{}' is not local, {LOCAL_IPV6}, public or an IP address: set \
                     ip=local (this node's private IPv4), {LOCAL_IPV6} (its IPv6 address), \
                     public, or an address like 10.1.0.10 or fd00:ac1::10",
                    shorten(other)
                ))
            })?),
        };
        let resolver = match p.str("resolver") {
            None => None,
            Some(r) => {
                let with_port = match r.parse::<IpAddr>() {
                    Ok(IpAddr::V4(_)) => format!("{r}:53"),
                    Ok(IpAddr::V6(_)) => format!("[{r}]:53"),
                    Err(_) => r.to_string(),
                };
                Some(with_port.parse::<SocketAddr>().map_err(|_| {
                    OcfError::configured(format!(
                        "resolver='{}' is not an address[:port]: set it like 10.0.0.2:53",
                        shorten(r)
                    ))
                })?)
            }
        };
        Ok(Config {
            zone_id: normalise_zone_id(p.str("hosted_zone_id").unwrap_or_default())?,
            name: normalise_name(p.str("name").unwrap_or_default())?,
            name_as_set: p.str("name").unwrap_or_default().to_string(),
            addr,
            ttl: p.int("ttl"),
            delete_on_stop: p.bool("delete_on_stop"),
            wait_sync: p.bool("wait_sync"),
            resolver,
            resolve_grace: Duration::from_secs(p.int("resolve_grace").max(0) as u64),
            api_failure: ApiFailure::from_params(p),
            aws: AwsOptions::from_params(p)?,
        })
    }
}
