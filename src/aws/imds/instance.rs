//! What the agents need to know about this instance, in their terms.

use super::{Imds, Result};

/// What the agents need to know about this instance, looked up lazily.
pub struct Instance<'a> {
    imds: &'a Imds,
}

impl<'a> Instance<'a> {
    pub fn new(imds: &'a Imds) -> Self {
        Instance { imds }
    }
    pub fn region(&self) -> Result<String> {
        self.imds.require_cached("meta-data/placement/region")
    }
    pub fn availability_zone(&self) -> Result<String> {
        self.imds
            .require_cached("meta-data/placement/availability-zone")
    }
    pub fn instance_id(&self) -> Result<String> {
        self.imds.require_cached("meta-data/instance-id")
    }
    pub fn primary_mac(&self) -> Result<String> {
        Ok(self
            .imds
            .require_cached("meta-data/mac")?
            .to_ascii_lowercase())
    }
    /// An attribute of an ENI that cannot change while it exists.
    fn fixed_mac_attr(&self, mac: &str, attr: &str) -> Result<Option<String>> {
        self.imds
            .get_cached(&format!("meta-data/network/interfaces/macs/{mac}/{attr}"))
    }
    fn mac_attr(&self, mac: &str, attr: &str) -> Result<Option<String>> {
        self.imds
            .get(&format!("meta-data/network/interfaces/macs/{mac}/{attr}"))
    }
    /// MACs of every ENI attached to this instance.
    pub fn macs(&self) -> Result<Vec<String>> {
        Ok(self
            .imds
            .get("meta-data/network/interfaces/macs/")?
            .map(|s| {
                s.lines()
                    .map(|l| l.trim().trim_end_matches('/').to_ascii_lowercase())
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }
    /// The ENI behind a local MAC address; `None` when this instance has no
    /// interface with that MAC (a local device that is not an ENI).
    pub fn eni_of_mac(&self, mac: &str) -> Result<Option<String>> {
        self.fixed_mac_attr(mac, "interface-id")
    }
    pub fn vpc_of_mac(&self, mac: &str) -> Result<Option<String>> {
        self.fixed_mac_attr(mac, "vpc-id")
    }
    /// The ENI's primary private IPv4 (the first of local-ipv4s), which
    /// stays for the ENI's life; secondary addresses come and go.
    pub fn primary_ipv4_of_mac(&self, mac: &str) -> Result<Option<String>> {
        let key = format!("meta-data/network/interfaces/macs/{mac}/local-ipv4s#primary");
        if let Some(v) = self.imds.cache_lookup(&key) {
            return Ok(Some(v));
        }
        let first = self
            .local_ipv4s_of_mac(mac)?
            .into_iter()
            .find(|s| !s.is_empty());
        if let Some(ip) = &first {
            self.imds.cache_store(&key, ip);
        }
        Ok(first)
    }
    /// The subnet of an ENI (fixed for its life).
    pub fn subnet_of_mac(&self, mac: &str) -> Result<Option<String>> {
        self.fixed_mac_attr(mac, "subnet-id")
    }
    /// The IPv4 CIDR block of an ENI's subnet (fixed for its life).
    pub fn subnet_cidr_of_mac(&self, mac: &str) -> Result<Option<String>> {
        self.fixed_mac_attr(mac, "subnet-ipv4-cidr-block")
    }
    /// The IPv6 CIDR blocks of an ENI's subnet (none: an IPv4-only subnet).
    pub fn subnet_ipv6_cidrs_of_mac(&self, mac: &str) -> Result<Vec<String>> {
        self.lines_of(mac, "subnet-ipv6-cidr-blocks")
    }
    pub fn vpc_cidrs_of_mac(&self, mac: &str) -> Result<Vec<String>> {
        self.lines_of(mac, "vpc-ipv4-cidr-blocks")
    }
    /// The VPC's IPv6 CIDR blocks (none: an IPv4-only VPC).
    pub fn vpc_ipv6_cidrs_of_mac(&self, mac: &str) -> Result<Vec<String>> {
        self.lines_of(mac, "vpc-ipv6-cidr-blocks")
    }
    pub fn local_ipv4s_of_mac(&self, mac: &str) -> Result<Vec<String>> {
        self.lines_of(mac, "local-ipv4s")
    }
    /// The ENI's IPv6 addresses as they are now (none: 404).
    pub fn ipv6s_of_mac(&self, mac: &str) -> Result<Vec<String>> {
        self.lines_of(mac, "ipv6s")
    }
    /// A list attribute of an ENI, one value a line, asked live.
    fn lines_of(&self, mac: &str, attr: &str) -> Result<Vec<String>> {
        Ok(self
            .mac_attr(mac, attr)?
            .map(|s| {
                s.lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }
    /// The primary ENI's IPv6 address (its first; none: an IPv4-only ENI).
    pub fn primary_ipv6(&self) -> Result<Option<String>> {
        let mac = self.primary_mac()?;
        Ok(self.ipv6s_of_mac(&mac)?.into_iter().next())
    }
    pub fn local_ipv4(&self) -> Result<String> {
        self.imds.require_cached("meta-data/local-ipv4")
    }
    pub fn public_ipv4(&self) -> Result<Option<String>> {
        self.imds.get("meta-data/public-ipv4")
    }
}
