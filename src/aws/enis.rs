//! An ENI's private addresses (IPv4, and IPv6): who holds one, moving a
//! secondary address to an ENI and taking it off. Each function names the
//! IAM action it needs.

use super::error::Result;
use super::{Service, Session};
use aws_sdk_ec2::types::Filter;

/// The private IPv4 and the IPv6 addresses of one ENI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EniAddresses {
    pub id: String,
    pub primary: Option<String>,
    /// Every private address, the primary included.
    pub private_ips: Vec<String>,
    pub ipv6s: Vec<String>,
    pub instance_id: Option<String>,
}

impl EniAddresses {
    /// Whether `ip` (IPv4 or IPv6, compared as addresses) is one of the ENI's.
    pub fn holds(&self, ip: &str) -> bool {
        let want = ip.parse::<std::net::IpAddr>().ok();
        self.private_ips
            .iter()
            .chain(&self.ipv6s)
            .any(|a| a == ip || (want.is_some() && a.parse().ok() == want))
    }
}

fn of(n: &aws_sdk_ec2::types::NetworkInterface) -> EniAddresses {
    EniAddresses {
        id: n.network_interface_id().unwrap_or_default().to_string(),
        primary: n.private_ip_address().map(str::to_string),
        private_ips: n
            .private_ip_addresses()
            .iter()
            .filter_map(|a| a.private_ip_address().map(str::to_string))
            .collect(),
        ipv6s: n
            .ipv6_addresses()
            .iter()
            .filter_map(|a| a.ipv6_address().map(str::to_string))
            .collect(),
        instance_id: n
            .attachment()
            .and_then(|a| a.instance_id())
            .map(str::to_string),
    }
}

/// Every ENI of `subnet` with its addresses (one DescribeNetworkInterfaces,
/// every page). A filter by address would miss secondary addresses on some
/// implementations; the subnet is small enough to read whole.
pub fn in_subnet(s: &Session, subnet: &str) -> Result<Vec<EniAddresses>> {
    matching(
        s,
        Filter::builder().name("subnet-id").values(subnet).build(),
    )
}

/// The ENIs holding the IPv6 address `ip` (one DescribeNetworkInterfaces
/// with the `ipv6-addresses.ipv6-address` filter; an IPv6 address is on at
/// most one ENI, but a read may be stale while it moves).
pub fn holding_ipv6(s: &Session, ip: &str) -> Result<Vec<EniAddresses>> {
    matching(
        s,
        Filter::builder()
            .name("ipv6-addresses.ipv6-address")
            .values(ip)
            .build(),
    )
}

fn matching(s: &Session, filter: Filter) -> Result<Vec<EniAddresses>> {
    let c = s.ec2();
    s.block_on(async {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let req = c
                .describe_network_interfaces()
                .filters(filter.clone())
                .set_next_token(next.take());
            let resp = s
                .call(Service::Ec2, "ec2:DescribeNetworkInterfaces", || {
                    req.clone().send()
                })
                .await?;
            out.extend(resp.network_interfaces().iter().map(of));
            match resp.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    })
}

/// The addresses of one ENI; `Ok(None)` when EC2 knows no such ENI.
pub fn addresses(s: &Session, eni: &str) -> Result<Option<EniAddresses>> {
    Ok(super::ec2::describe_one(s, eni)?.as_ref().map(of))
}

/// Assign `ip` to `eni` as a secondary address, taking it from whichever
/// ENI of the subnet holds it (AllowReassignment). EC2 moves it
/// asynchronously: callers confirm with [`addresses`].
pub fn assign(s: &Session, eni: &str, ip: &str) -> Result<()> {
    let c = s.ec2();
    s.block_on(async {
        let req = c
            .assign_private_ip_addresses()
            .network_interface_id(eni)
            .private_ip_addresses(ip)
            .allow_reassignment(true);
        s.call(Service::Ec2, "ec2:AssignPrivateIpAddresses", || {
            req.clone().send()
        })
        .await
        .map(|_| ())
    })
}

pub fn unassign(s: &Session, eni: &str, ip: &str) -> Result<()> {
    let c = s.ec2();
    s.block_on(async {
        let req = c
            .unassign_private_ip_addresses()
            .network_interface_id(eni)
            .private_ip_addresses(ip);
        s.call(Service::Ec2, "ec2:UnassignPrivateIpAddresses", || {
            req.clone().send()
        })
        .await
        .map(|_| ())
    })
}

/// Assign the IPv6 address `ip` to `eni`. IPv6 has no reassignment: EC2
/// refuses an address another ENI holds (`InvalidIPAddress.InUse`), so the
/// caller unassigns it there first ([`unassign_ipv6`]) and confirms with
/// [`addresses`].
pub fn assign_ipv6(s: &Session, eni: &str, ip: &str) -> Result<()> {
    let c = s.ec2();
    s.block_on(async {
        let req = c
            .assign_ipv6_addresses()
            .network_interface_id(eni)
            .ipv6_addresses(ip);
        s.call(Service::Ec2, "ec2:AssignIpv6Addresses", || {
            req.clone().send()
        })
        .await
        .map(|_| ())
    })
}

pub fn unassign_ipv6(s: &Session, eni: &str, ip: &str) -> Result<()> {
    let c = s.ec2();
    s.block_on(async {
        let req = c
            .unassign_ipv6_addresses()
            .network_interface_id(eni)
            .ipv6_addresses(ip);
        s.call(Service::Ec2, "ec2:UnassignIpv6Addresses", || {
            req.clone().send()
        })
        .await
        .map(|_| ())
    })
}
