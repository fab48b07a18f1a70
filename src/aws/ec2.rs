//! EC2 operations the agents use, in domain terms. Each function names the
//! IAM action it needs; each agent declares the ones it uses (`IAM`).

use super::call::NO_GRACE;
use super::error::{Class, Result};
use super::{Service, Session};
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter};
use aws_sdk_ec2::Client;

/// Where one route table sends the destination we manage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRoute {
    pub table_id: String,
    pub vpc_id: Option<String>,
    /// `None`: the table exists but has no route for the destination.
    pub target: Option<Target>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Eni(String),
    /// Anything else (instance without ENI id, gateway, blackhole…), as text.
    Other(String),
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Eni(e) => format!("ENI {e}"),
            Target::Other(s) => s.clone(),
        }
    }
}

fn client(s: &Session) -> Client {
    s.ec2()
}

/// An IPv6 destination (`ip/128`) is named by other fields and filters.
pub(crate) fn is_ipv6(cidr: &str) -> bool {
    cidr.contains(':')
}

/// A CreateRoute or ReplaceRoute request (two builder types) with its
/// destination in the field of the CIDR's family.
macro_rules! with_destination {
    ($req:expr, $cidr:expr) => {
        if $crate::aws::ec2::is_ipv6($cidr) {
            $req.destination_ipv6_cidr_block($cidr)
        } else {
            $req.destination_cidr_block($cidr)
        }
    };
}
pub(crate) use with_destination;

fn to_table_route(t: &aws_sdk_ec2::types::RouteTable, cidr: &str) -> TableRoute {
    let route = t.routes().iter().find(|r| {
        if is_ipv6(cidr) {
            r.destination_ipv6_cidr_block() == Some(cidr)
        } else {
            r.destination_cidr_block() == Some(cidr)
        }
    });
    let target = route.map(|r| {
        let blackhole = r
            .state()
            .map(|s| s.as_str() == "blackhole")
            .unwrap_or(false);
        match (r.network_interface_id(), r.instance_id(), r.gateway_id()) {
            (Some(eni), _, _) if !blackhole => Target::Eni(eni.to_string()),
            (Some(eni), _, _) => Target::Other(format!("blackhole (deleted ENI {eni})")),
            (None, Some(i), _) => Target::Other(format!("instance {i}")),
            (None, None, Some(g)) => Target::Other(format!("gateway {g}")),
            _ => Target::Other("an unknown target".into()),
        }
    });
    TableRoute {
        table_id: t.route_table_id().unwrap_or_default().to_string(),
        vpc_id: t.vpc_id().map(str::to_string),
        target,
    }
}

/// The route tables that hold a route for `cidr`: in `vpc` (discovery) or,
/// when `tables` is given, exactly those tables (with or without the route).
/// One DescribeRouteTables call (plus pages).
pub fn routes_for(
    s: &Session,
    vpc: Option<&str>,
    tables: &[String],
    cidr: &str,
) -> Result<Vec<TableRoute>> {
    let c = client(s);
    s.block_on(async {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut req = c.describe_route_tables();
            if tables.is_empty() {
                let name = if is_ipv6(cidr) {
                    "route.destination-ipv6-cidr-block"
                } else {
                    "route.destination-cidr-block"
                };
                req = req.filters(Filter::builder().name(name).values(cidr).build());
                if let Some(v) = vpc {
                    req = req.filters(Filter::builder().name("vpc-id").values(v).build());
                }
            } else {
                req = req.set_route_table_ids(Some(tables.to_vec()));
            }
            if let Some(t) = next.take() {
                req = req.next_token(t);
            }
            let resp = s
                .call(Service::Ec2, "ec2:DescribeRouteTables", || {
                    req.clone().send()
                })
                .await?;
            out.extend(resp.route_tables().iter().map(|t| to_table_route(t, cidr)));
            match resp.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.table_id.cmp(&b.table_id));
        Ok(out)
    })
}

/// Point `cidr` at `eni` in every given table, all at once: a failover
/// should cost one round trip, not one per table. `create` lists the tables
/// that have no such route yet. Returns the first error after all calls
/// finished, so a partial failure leaves every other table switched.
pub fn point_routes(
    s: &Session,
    replace: &[String],
    create: &[String],
    cidr: &str,
    eni: &str,
) -> Result<()> {
    let c = client(s);
    s.block_on(async {
        let replaces = replace.iter().map(|t| {
            let req = c
                .replace_route()
                .route_table_id(t)
                .network_interface_id(eni);
            let req = with_destination!(req, cidr);
            async move {
                s.call(Service::Ec2, "ec2:ReplaceRoute", || req.clone().send())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.context(format!("route table {t}")))
            }
        });
        let creates = create.iter().map(|t| {
            let req = c.create_route().route_table_id(t).network_interface_id(eni);
            let req = with_destination!(req, cidr);
            async move {
                s.call(Service::Ec2, "ec2:CreateRoute", || req.clone().send())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.context(format!("route table {t}")))
            }
        });
        let (r1, r2) = futures_util::future::join(
            futures_util::future::join_all(replaces),
            futures_util::future::join_all(creates),
        )
        .await;
        r1.into_iter().chain(r2).collect::<Result<Vec<()>>>()?;
        Ok(())
    })
}

/// What the agents need to know about one ENI.
#[derive(Clone, Debug)]
pub struct Eni {
    pub id: String,
    pub vpc_id: Option<String>,
    pub source_dest_check: bool,
    pub private_ips: Vec<String>,
}

/// One ENI as EC2 describes it; `Ok(None)` when EC2 knows no such ENI.
/// The one DescribeNetworkInterfaces-by-id request of the agents.
pub(crate) fn describe_one(
    s: &Session,
    eni: &str,
) -> Result<Option<aws_sdk_ec2::types::NetworkInterface>> {
    let c = client(s);
    s.block_on(async {
        let resp = match s
            .call(Service::Ec2, "ec2:DescribeNetworkInterfaces", || {
                c.describe_network_interfaces()
                    .network_interface_ids(eni)
                    .send()
            })
            .await
        {
            Err(e) if e.is_not_found() => return Ok(None),
            r => r?,
        };
        Ok(resp.network_interfaces().first().cloned())
    })
}

/// `Ok(None)` when EC2 knows no such ENI.
pub fn describe_eni(s: &Session, eni: &str) -> Result<Option<Eni>> {
    Ok(describe_one(s, eni)?.map(|n| Eni {
        id: eni.to_string(),
        vpc_id: n.vpc_id().map(str::to_string),
        source_dest_check: n.source_dest_check().unwrap_or(true),
        private_ips: n
            .private_ip_addresses()
            .iter()
            .filter_map(|a| a.private_ip_address().map(str::to_string))
            .collect(),
    }))
}

pub fn disable_source_dest_check(s: &Session, eni: &str) -> Result<()> {
    let c = client(s);
    s.block_on(async {
        s.call(Service::Ec2, "ec2:ModifyNetworkInterfaceAttribute", || {
            c.modify_network_interface_attribute()
                .network_interface_id(eni)
                .source_dest_check(AttributeBooleanValue::builder().value(false).build())
                .send()
        })
        .await
        .map(|_| ())
    })
}

/// The CIDR blocks of `vpc`, IPv4 then IPv6; `Ok(None)` when EC2 knows no
/// such VPC.
pub fn vpc_cidrs(s: &Session, vpc: &str) -> Result<Option<Vec<String>>> {
    let c = client(s);
    s.block_on(async {
        let resp = match s
            .call(Service::Ec2, "ec2:DescribeVpcs", || {
                c.describe_vpcs().vpc_ids(vpc).send()
            })
            .await
        {
            Err(e) if e.is_not_found() => return Ok(None),
            r => r?,
        };
        let Some(v) = resp.vpcs().first() else {
            return Ok(None);
        };
        let mut cidrs: Vec<String> = v
            .cidr_block_association_set()
            .iter()
            .filter(|a| {
                a.cidr_block_state()
                    .and_then(|s| s.state())
                    .map(|s| s.as_str() == "associated")
                    .unwrap_or(true)
            })
            .filter_map(|a| a.cidr_block().map(str::to_string))
            .collect();
        if cidrs.is_empty() {
            cidrs.extend(v.cidr_block().map(str::to_string));
        }
        cidrs.extend(
            v.ipv6_cidr_block_association_set()
                .iter()
                .filter(|a| {
                    a.ipv6_cidr_block_state()
                        .and_then(|s| s.state())
                        .map(|s| s.as_str() == "associated")
                        .unwrap_or(true)
                })
                .filter_map(|a| a.ipv6_cidr_block().map(str::to_string)),
        );
        Ok(Some(cidrs))
    })
}

/// An Elastic IP and where it is associated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub allocation_id: String,
    pub public_ip: String,
    pub association_id: Option<String>,
    pub eni: Option<String>,
    pub private_ip: Option<String>,
    pub instance_id: Option<String>,
}

/// How an Elastic IP is named in the configuration.
#[derive(Clone, Debug)]
pub enum EipRef {
    Allocation(String),
    PublicIp(String),
}

/// One DescribeAddresses call. `Ok(None)` when AWS knows no such address.
pub fn describe_address(s: &Session, eip: &EipRef) -> Result<Option<Address>> {
    let c = client(s);
    s.block_on(async {
        let req = match eip {
            EipRef::Allocation(a) => c.describe_addresses().allocation_ids(a),
            EipRef::PublicIp(ip) => c.describe_addresses().public_ips(ip),
        };
        let resp = match s
            .call(Service::Ec2, "ec2:DescribeAddresses", || req.clone().send())
            .await
        {
            Ok(r) => r,
            // EC2 answers an unknown allocation or address with an error
            // rather than an empty list.
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        // Some implementations answer "" rather than leaving a field out.
        let some = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
        Ok(resp.addresses().first().map(|a| Address {
            allocation_id: a.allocation_id().unwrap_or_default().to_string(),
            public_ip: a.public_ip().unwrap_or_default().to_string(),
            association_id: some(a.association_id()),
            eni: some(a.network_interface_id()),
            private_ip: some(a.private_ip_address()),
            instance_id: some(a.instance_id()),
        }))
    })
}

/// Associate by ENI and private IP (never by instance id, which is
/// ambiguous on multi-ENI instances), taking it from whoever holds it.
pub fn associate_address(
    s: &Session,
    allocation_id: &str,
    eni: &str,
    private_ip: Option<&str>,
) -> Result<String> {
    let c = client(s);
    s.block_on(async {
        let req = c
            .associate_address()
            .allocation_id(allocation_id)
            .network_interface_id(eni)
            .set_private_ip_address(private_ip.map(str::to_string))
            .allow_reassociation(true);
        let resp = s
            .call(Service::Ec2, "ec2:AssociateAddress", || req.clone().send())
            .await?;
        Ok(resp.association_id().unwrap_or_default().to_string())
    })
}

pub fn disassociate_address(s: &Session, association_id: &str) -> Result<()> {
    let c = client(s);
    s.block_on(async {
        let req = c.disassociate_address().association_id(association_id);
        match s
            .call_with(Service::Ec2, "ec2:DisassociateAddress", NO_GRACE, || {
                req.clone().send()
            })
            .await
        {
            // Someone disassociated it between our describe and now: the
            // goal (not associated with us) is reached.
            Err(e) if e.is_not_found() => Ok(()),
            r => r.map(|_| ()),
        }
    })
}

/// The state of an Availability Zone (`available`, `impaired`, …);
/// `Ok(None)` when the region has no such zone.
pub fn zone_state(s: &Session, zone: &str) -> Result<Option<String>> {
    let c = client(s);
    s.block_on(async {
        let req = c.describe_availability_zones().zone_names(zone);
        let resp = match s
            .call(Service::Ec2, "ec2:DescribeAvailabilityZones", || {
                req.clone().send()
            })
            .await
        {
            Ok(r) => r,
            // An unknown zone name is an invalid parameter to EC2.
            Err(e) if e.class() == Class::Configuration => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(resp
            .availability_zones()
            .iter()
            .find(|z| z.zone_name() == Some(zone))
            .map(|z| {
                z.state()
                    .map(|st| st.as_str().to_string())
                    .unwrap_or_else(|| "unknown".into())
            }))
    })
}
