//! The tests' own view of the emulated AWS: reading back what the agents
//! did, and setting up what they need, through the AWS SDK against moto.

use super::seeded::World;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh single-threaded runtime per verification call: cheap, and no
/// runtime is shared across the parallel test threads.
fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

impl World {
    /// Where each managed table sends the VIP: table → ENI id (or "" if the
    /// route is missing or not to an ENI).
    pub fn routes(&self) -> BTreeMap<String, String> {
        self.routes_of(&self.vip)
    }

    /// Where each table of the VPC sends `vip` (IPv4: its /32, IPv6: its /128).
    pub fn routes_of(&self, vip: &str) -> BTreeMap<String, String> {
        let v6 = vip.contains(':');
        let cidr = format!("{vip}/{}", if v6 { 128 } else { 32 });
        let c = self.ec2();
        rt().block_on(async {
            let out = c
                .describe_route_tables()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("vpc-id")
                        .values(&self.vpc)
                        .build(),
                )
                .send()
                .await
                .expect("DescribeRouteTables");
            out.route_tables()
                .iter()
                .map(|t| {
                    let eni = t
                        .routes()
                        .iter()
                        .find(|r| {
                            let dest = if v6 {
                                r.destination_ipv6_cidr_block()
                            } else {
                                r.destination_cidr_block()
                            };
                            dest == Some(cidr.as_str())
                        })
                        .and_then(|r| r.network_interface_id())
                        .unwrap_or("");
                    (t.route_table_id().unwrap().to_string(), eni.to_string())
                })
                .collect()
        })
    }

    /// The managed tables (seeded with the VIP route) and their targets.
    pub fn managed(&self) -> Vec<String> {
        let r = self.routes();
        self.tables.iter().map(|t| r[t].clone()).collect()
    }

    /// SDK configuration of the test's own view of the emulator.
    fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "testing", "testing", None, None, "test",
                    ),
                ),
            )
            .build()
    }

    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk())
    }

    pub fn replace_route(&self, table: &str, eni: &str) {
        let c = self.ec2();
        rt().block_on(async {
            c.replace_route()
                .route_table_id(table)
                .destination_cidr_block(format!("{}/32", self.vip))
                .network_interface_id(eni)
                .send()
                .await
                .expect("ReplaceRoute");
        });
    }

    /// A new ENI in `node`'s subnet (attached to nothing): a third party
    /// for the route tables.
    pub fn create_eni(&self, node: &str) -> String {
        let c = self.ec2();
        let eni = self.node(node).eni.clone();
        rt().block_on(async {
            let out = c
                .describe_network_interfaces()
                .network_interface_ids(&eni)
                .send()
                .await
                .expect("DescribeNetworkInterfaces");
            let subnet = out.network_interfaces()[0].subnet_id().unwrap().to_string();
            let created = c
                .create_network_interface()
                .subnet_id(subnet)
                .send()
                .await
                .expect("CreateNetworkInterface");
            let n = created.network_interface().unwrap();
            n.network_interface_id().unwrap().to_string()
        })
    }

    pub fn r53(&self) -> aws_sdk_route53::Client {
        aws_sdk_route53::Client::new(&self.sdk())
    }

    /// A fresh Elastic IP: (allocation id, public address).
    pub fn allocate_eip(&self) -> (String, String) {
        let c = self.ec2();
        rt().block_on(async {
            let a = c
                .allocate_address()
                .domain(aws_sdk_ec2::types::DomainType::Vpc)
                .send()
                .await
                .expect("AllocateAddress");
            (
                a.allocation_id().unwrap().to_string(),
                a.public_ip().unwrap().to_string(),
            )
        })
    }

    /// Where an Elastic IP is associated: (ENI, private IP), empty if not.
    pub fn eip_assoc(&self, alloc: &str) -> (String, String) {
        let c = self.ec2();
        rt().block_on(async {
            let r = c
                .describe_addresses()
                .allocation_ids(alloc)
                .send()
                .await
                .expect("DescribeAddresses");
            let a = &r.addresses()[0];
            (
                a.network_interface_id().unwrap_or("").to_string(),
                a.private_ip_address().unwrap_or("").to_string(),
            )
        })
    }

    pub fn add_private_ip(&self, eni: &str, ip: &str) {
        let c = self.ec2();
        rt().block_on(async {
            c.assign_private_ip_addresses()
                .network_interface_id(eni)
                .private_ip_addresses(ip)
                .send()
                .await
                .expect("AssignPrivateIpAddresses");
        });
    }

    /// A fresh hosted zone named `<unique>.example.internal`: (id, name).
    pub fn create_zone(&self, private: bool) -> (String, String) {
        static Z: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}x{}.example.internal",
            std::process::id(),
            Z.fetch_add(1, Ordering::SeqCst)
        );
        let c = self.r53();
        rt().block_on(async {
            let mut req = c
                .create_hosted_zone()
                .name(&name)
                .caller_reference(&name)
                .hosted_zone_config(
                    aws_sdk_route53::types::HostedZoneConfig::builder()
                        .private_zone(private)
                        .build(),
                );
            if private {
                req = req.vpc(
                    aws_sdk_route53::types::Vpc::builder()
                        .vpc_id(&self.vpc)
                        .vpc_region(aws_sdk_route53::types::VpcRegion::UsEast1)
                        .build(),
                );
            }
            let z = req.send().await.expect("CreateHostedZone");
            let id = z
                .hosted_zone()
                .unwrap()
                .id()
                .trim_start_matches("/hostedzone/")
                .to_string();
            (id, name)
        })
    }

    /// The A record values of `name` in `zone` (None: no such record).
    pub fn a_record(&self, zone: &str, name: &str) -> Option<(Vec<String>, i64)> {
        self.record_of(zone, name, "A")
    }

    /// The `rtype` (A, AAAA) record values of `name` in `zone` and its TTL.
    pub fn record_of(&self, zone: &str, name: &str, rtype: &str) -> Option<(Vec<String>, i64)> {
        let c = self.r53();
        let fqdn = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
        rt().block_on(async {
            let r = c
                .list_resource_record_sets()
                .hosted_zone_id(zone)
                .send()
                .await
                .expect("ListResourceRecordSets");
            r.resource_record_sets()
                .iter()
                .find(|rr| rr.name() == fqdn && rr.r#type().as_str() == rtype)
                .map(|rr| {
                    (
                        rr.resource_records()
                            .iter()
                            .map(|v| v.value().to_string())
                            .collect(),
                        rr.ttl().unwrap_or(-1),
                    )
                })
        })
    }

    pub fn set_a_record(&self, zone: &str, name: &str, ip: &str) {
        use aws_sdk_route53::types::*;
        let c = self.r53();
        rt().block_on(async {
            let set = ResourceRecordSet::builder()
                .name(format!("{name}."))
                .r#type(RrType::A)
                .ttl(10)
                .resource_records(ResourceRecord::builder().value(ip).build().unwrap())
                .build()
                .unwrap();
            let change = Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(set)
                .build()
                .unwrap();
            c.change_resource_record_sets()
                .hosted_zone_id(zone)
                .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
                .send()
                .await
                .expect("ChangeResourceRecordSets");
        });
    }

    pub fn source_dest_check(&self, eni: &str) -> bool {
        let c = self.ec2();
        rt().block_on(async {
            c.describe_network_interfaces()
                .network_interface_ids(eni)
                .send()
                .await
                .expect("DescribeNetworkInterfaces")
                .network_interfaces()[0]
                .source_dest_check()
                .unwrap()
        })
    }

    /// Take an IPv6 address off an ENI (UnassignIpv6Addresses).
    pub fn unassign_ipv6(&self, eni: &str, ip: &str) {
        let c = self.ec2();
        rt().block_on(async {
            c.unassign_ipv6_addresses()
                .network_interface_id(eni)
                .ipv6_addresses(ip)
                .send()
                .await
                .expect("UnassignIpv6Addresses");
        });
    }

    /// The ENIs of this world that hold the IPv6 address `ip`, as EC2 sees
    /// them now.
    pub fn enis_holding_ipv6(&self, ip: &str) -> Vec<String> {
        self.enis_where(|n| {
            n.ipv6_addresses()
                .iter()
                .any(|a| a.ipv6_address() == Some(ip))
        })
    }

    /// The ENIs of this world that hold `ip` as a private address, as EC2
    /// sees them now.
    pub fn enis_holding(&self, ip: &str) -> Vec<String> {
        self.enis_where(|n| {
            n.private_ip_addresses()
                .iter()
                .any(|a| a.private_ip_address() == Some(ip))
        })
    }

    fn enis_where(
        &self,
        keep: impl Fn(&aws_sdk_ec2::types::NetworkInterface) -> bool,
    ) -> Vec<String> {
        let c = self.ec2();
        let vpc = self.vpc.clone();
        rt().block_on(async {
            let resp = c
                .describe_network_interfaces()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("vpc-id")
                        .values(vpc)
                        .build(),
                )
                .send()
                .await
                .expect("DescribeNetworkInterfaces");
            let mut out: Vec<String> = resp
                .network_interfaces()
                .iter()
                .filter(|n| keep(n))
                .map(|n| n.network_interface_id().unwrap_or("").to_string())
                .collect();
            out.sort();
            out
        })
    }
}
