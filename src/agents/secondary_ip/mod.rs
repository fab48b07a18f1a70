//! `secondary-ip`: a secondary private IPv4 (or an IPv6) address of the nodes' subnet,
//! moved to the active node's ENI and held on its device (ClusterLabs
//! awsvip, which never checks the asynchronous move and never configures
//! the address in the OS). For clients that must use an address of the
//! VPC's own range; everything else is `vip`'s. Its doctor checks are in
//! `doctor.rs`, the EC2 side (holder, move, wait) in `assign.rs`.

mod assign;
mod doctor;
mod replaces;

use super::local::{self, Local};
use super::{settle, ApiFailure, Personality, Spec, API_FAILURE};
use crate::aws::iam::{Permission, Scope};
use crate::aws::imds::{Imds, Instance};
use crate::aws::options::with_aws_settings;
use crate::aws::{AwsOptions, Service};
use crate::core::params::shorten;
use crate::core::state::StateFile;
use crate::core::Param;
use crate::net;
use crate::ocf::{ActionSpec, Agent, Ctx, OcfError, OcfResult, Rc};
use std::net::IpAddr;
use std::time::Duration;

/// How long EC2 takes to move a secondary address, at most, in practice:
/// after that, not seeing it on our ENI is an answer.
const MOVE_WINDOW: Duration = Duration::from_secs(5);

pub const SPEC: Spec = Spec {
    name: "secondary-ip",
    shortdesc: "Secondary private IP moved between the nodes' ENIs",
    longdesc: "Moves a secondary private IPv4 address (or an IPv6 address) of the subnet \
        between cluster nodes on AWS, for clients that must reach an address of the \
        VPC's own range (no route-table change, no overlay). Start assigns the address \
        to the active node's network interface (IPv4: AssignPrivateIpAddresses with \
        AllowReassignment, which takes it from the other node's ENI; IPv6, which has \
        no reassignment: UnassignIpv6Addresses on the ENI that holds it, then \
        AssignIpv6Addresses), waits until EC2 shows it there (the \
        move is asynchronous), and adds it to the local device with the subnet's \
        prefix. Both nodes must be in the same subnet, and so in one Availability \
        Zone: an address that must move across zones is vip's. Monitor depth 0 checks \
        the local device only; depth 10 also asks EC2 which ENI holds the address. \
        Stop removes the local address and, with unassign_on_stop, unassigns it from \
        this node's ENI; it never fails because AWS cannot be reached.",
    params: PARAMS,
    iam: IAM,
    services: &[Service::Ec2],
    examples: &["secondary-ip.crm", "secondary-ip.pcs"],
    replaces: replaces::REPLACES,
    personality: Personality::Resource {
        actions: &[
            ActionSpec::new("start", 30),
            ActionSpec::new("stop", 30),
            ActionSpec::monitor(20, 10, 0),
            ActionSpec::monitor(30, 60, 10),
            ActionSpec::new("validate-all", 20),
            ActionSpec::new("meta-data", 5),
        ],
        new: |ctx| {
            Ok(Box::new(SecondaryIp {
                cfg: Config::from_ctx(ctx)?,
            }))
        },
    },
};

/// Every AWS API action this agent calls (the IAM policy is made from it).
const IAM: &[Permission] = &[
    Permission::new(
        "ec2:DescribeNetworkInterfaces",
        &[Scope::Any],
        "start, stop, depth-10 monitor",
    ),
    Permission::new(
        "ec2:AssignPrivateIpAddresses",
        &[Scope::NetworkInterface],
        "start",
    ),
    Permission::new(
        "ec2:UnassignPrivateIpAddresses",
        &[Scope::NetworkInterface],
        "stop with unassign_on_stop",
    ),
    Permission::new(
        "ec2:AssignIpv6Addresses",
        &[Scope::NetworkInterface],
        "start with an IPv6 ip",
    ),
    Permission::new(
        "ec2:UnassignIpv6Addresses",
        &[Scope::NetworkInterface],
        "start with an IPv6 ip held elsewhere, stop with unassign_on_stop",
    ),
];

const PARAMS: &[Param] = with_aws_settings![
    Param::string("ip", "The secondary private IPv4 or IPv6 address")
        .required()
        .unique()
        .long(
            "A free private IPv4 address of the subnet of the nodes' ENIs, e.g. \
             10.0.1.50, or a free IPv6 address of one of the subnet's IPv6 CIDR blocks. \
             A secondary address cannot leave its subnet, and a subnet is one \
             Availability Zone: for an address that moves across zones use vip.",
        ),
    Param::string("interface", "Local network device to hold the address").long(
        "Local device that gets the address, e.g. eth0 or ens5. Default: the device of \
         the instance's primary ENI.",
    ),
    Param::string("eni_id", "ENI that gets the address").long(
        "The network interface (eni-…) the address is assigned to. Default: the ENI \
         behind interface, looked up in the instance metadata by MAC address.",
    ),
    Param::integer("prefix", 1, 128, "Prefix length of the local address").long(
        "Prefix length of the address on the local device (at most 32 for IPv4). \
         Default: the subnet's, from the instance metadata (subnet-ipv4-cidr-block, or \
         for IPv6 the block of subnet-ipv6-cidr-blocks holding the address, a /64).",
    ),
    Param::boolean("unassign_on_stop", "Unassign the address on stop")
        .default("true")
        .long(
            "On stop, unassign the address from this node's ENI if it is still there \
             (the next start elsewhere takes it over in any case).",
        ),
    API_FAILURE,
];

/// A configured secondary-ip resource.
pub struct SecondaryIp {
    cfg: Config,
}

struct Config {
    ip: IpAddr,
    interface: Option<String>,
    eni_id: Option<String>,
    prefix: Option<u8>,
    unassign_on_stop: bool,
    api_failure: ApiFailure,
    aws: AwsOptions,
}

impl Config {
    fn from_ctx(ctx: &Ctx) -> OcfResult<Config> {
        let p = &ctx.params;
        let raw = p.str("ip").unwrap_or_default();
        let ip: IpAddr = raw.parse().map_err(|_| {
            OcfError::configured(format!(
                "ip='{}' is not an IP address: set ip to a free address of the nodes' \
                 subnet, e.g. 10.0.1.50 (or an IPv6 address of the subnet's block)",
                shorten(raw)
            ))
        })?;
        match ip {
            IpAddr::V4(v4) if !v4.is_private() => {
                return Err(OcfError::configured(format!(
                    "ip={ip} is not a private address: a secondary private IP is an address \
                     of the subnet (10/8, 172.16/12 or 192.168/16); for an overlay address \
                     use vip"
                )))
            }
            IpAddr::V6(_) if !net::unicast(ip) => {
                return Err(OcfError::configured(format!(
                    "ip={ip} is loopback, link-local, multicast or unspecified: choose a free \
                     address of the subnet's IPv6 CIDR block"
                )))
            }
            _ => {}
        }
        let prefix = p.str("prefix").map(|_| p.int("prefix") as u8);
        if let Some(len) = prefix.filter(|l| ip.is_ipv4() && *l > 32) {
            return Err(OcfError::configured(format!(
                "prefix={len} is longer than an IPv4 address ({ip}): set at most 32, or leave \
                 prefix unset for the subnet's"
            )));
        }
        if let Some(e) = p.str("eni_id") {
            super::ids::check("eni_id", e, "eni")?;
        }
        local::check_interface(p.str("interface"))?;
        Ok(Config {
            ip,
            interface: p.str("interface").map(str::to_string),
            eni_id: p.str("eni_id").map(str::to_string),
            prefix,
            unassign_on_stop: p.bool("unassign_on_stop"),
            api_failure: ApiFailure::from_params(p),
            aws: AwsOptions::from_params(p)?,
        })
    }
}

/// This node's side: the device and ENI, and the subnet they are in.
struct Here {
    local: Local,
    subnet: String,
    cidr: String,
}

impl SecondaryIp {
    fn state(&self, ctx: &Ctx) -> StateFile {
        ctx.state(&self.cfg.ip.to_string())
    }

    fn resolve_local(&self, imds: &Imds) -> OcfResult<Local> {
        local::resolve(
            imds,
            self.cfg.interface.as_deref(),
            self.cfg.eni_id.as_deref(),
        )
    }

    /// This node's ENI and subnet, and the check that the address is of
    /// that subnet (from the instance metadata: no API call).
    fn here(&self, imds: &Imds) -> OcfResult<Here> {
        let local = self.resolve_local(imds)?;
        let inst = Instance::new(imds);
        let missing = |what: &str| {
            OcfError::generic(format!(
                "the instance metadata names no {what} for {} (MAC {}): is it an ENI of this \
                 instance?",
                local.eni, local.mac
            ))
        };
        let subnet = inst
            .subnet_of_mac(&local.mac)?
            .ok_or_else(|| missing("subnet"))?;
        // The subnet's blocks of the address's family: IPv4 has one, IPv6
        // any number (none: an IPv4-only subnet).
        let blocks = if self.cfg.ip.is_ipv6() {
            inst.subnet_ipv6_cidrs_of_mac(&local.mac)?
        } else {
            vec![inst
                .subnet_cidr_of_mac(&local.mac)?
                .ok_or_else(|| missing("subnet CIDR block"))?]
        };
        let inside = blocks
            .iter()
            .find(|b| net::cidr_contains(b, self.cfg.ip).is_some_and(|(i, _)| i));
        match inside {
            Some(cidr) => Ok(Here {
                cidr: cidr.clone(),
                local,
                subnet,
            }),
            None => Err(OcfError::configured(format!(
                "ip={} is outside {subnet} ({}) of {}: a secondary IP cannot leave its \
                 subnet (one Availability Zone); put the nodes in one subnet, or use vip for \
                 an address that moves across zones",
                self.cfg.ip,
                if blocks.is_empty() {
                    "no IPv6 CIDR block".to_string()
                } else {
                    blocks.join(", ")
                },
                local.eni
            ))),
        }
    }

    fn prefix(&self, here: &Here) -> u8 {
        self.cfg
            .prefix
            .or_else(|| net::cidr_contains(&here.cidr, self.cfg.ip).map(|(_, len)| len))
            .unwrap_or(net::host_prefix(self.cfg.ip))
    }

    /// The device to look at for monitor and stop: configured, recorded at
    /// start, or the primary one; `None`: look at every device.
    fn known_device(&self, ctx: &Ctx) -> Option<String> {
        if let Some(d) = &self.cfg.interface {
            return Some(d.clone());
        }
        if let Some(d) = self
            .state(ctx)
            .read()
            .and_then(|s| s.get("device").cloned())
        {
            return Some(d);
        }
        local::primary_device(&ctx.imds(&self.cfg.aws))
    }
}

impl Agent for SecondaryIp {
    fn validate(&self, ctx: &Ctx) -> OcfResult<()> {
        if ctx.depth >= 10 {
            self.here(&ctx.imds(&self.cfg.aws))?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let imds = ctx.imds(&c.aws);
        imds.check_identity()?;
        let here = self.here(&imds)?;
        let s = ctx.connect(&c.aws, &imds)?;
        let holder = self.holder(&s, &here)?;
        // What a read soon after the move may still show.
        let was = holder.as_ref().map(|h| h.id.clone()).unwrap_or_default();
        match holder {
            Some(h) if h.id == here.local.eni => {
                log::info!("{} is already on {}", c.ip, h.id)
            }
            other => {
                log::info!(
                    "assigning {} to {} (was on {})",
                    c.ip,
                    here.local.eni,
                    other
                        .as_ref()
                        .map(|h| h.id.clone())
                        .unwrap_or_else(|| "no ENI".into())
                );
                self.take(&s, &here, other.as_ref())?;
            }
        }
        net::add_address_prefix(&here.local.device, c.ip, self.prefix(&here))?;
        self.state(ctx).record(&[
            ("ip", &c.ip.to_string()),
            ("device", &here.local.device),
            ("eni", &here.local.eni),
            ("was", &was),
            ("started", &settle::now_s().to_string()),
        ]);
        Ok(())
    }

    fn stop(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let devices = match self.known_device(ctx) {
            Some(d) => vec![d],
            None => net::devices_with(c.ip)?,
        };
        for d in &devices {
            net::remove_address(d, c.ip)?;
        }
        if c.unassign_on_stop {
            let recorded = self.state(ctx).read().and_then(|s| s.get("eni").cloned());
            let result = (|| {
                let imds = ctx.imds(&c.aws);
                let eni = match recorded {
                    Some(e) => e,
                    None => self.resolve_local(&imds)?.eni,
                };
                let s = ctx.connect(&c.aws, &imds)?;
                self.release(&s, &eni)
            })();
            if let Err(e) = result {
                // A failed stop gets this node fenced; the next start
                // elsewhere takes the address over (IPv4: AllowReassignment;
                // IPv6: it unassigns it here first).
                log::warn!(
                    "could not unassign {} ({}); stop succeeds anyway: the next start on \
                     another node takes the address over",
                    c.ip,
                    e.reason
                );
            }
        }
        self.state(ctx).forget();
        Ok(())
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let held = match self.known_device(ctx) {
            Some(d) => net::has_address(&d, c.ip)?,
            None => !net::devices_with(c.ip)?.is_empty(),
        };
        if !held {
            return Err(OcfError::not_running(format!(
                "{} is not on this node",
                c.ip
            )));
        }
        if ctx.depth < 10 {
            return Ok(());
        }
        let check = (|| {
            let imds = ctx.imds(&c.aws);
            let here = self.here(&imds)?;
            let s = ctx.connect(&c.aws, &imds)?;
            // Right after the start, a read may still show the holder from
            // before the move: read again rather than report it taken.
            let st = self.state(ctx).read().unwrap_or_default();
            let was = st.get("was").filter(|_| settle::recent(st.get("started")));
            let eni = &here.local.eni;
            let holder = settle::read_past(
                s.deadline(),
                || self.holder(&s, &here),
                |h| {
                    was == Some(&h.as_ref().map(|h| h.id.clone()).unwrap_or_default())
                        && was != Some(eni)
                },
            )?;
            match holder {
                Some(h) if h.id == here.local.eni => Ok(()),
                Some(h) => Err(OcfError::not_running(format!(
                    "{} is assigned to {}{}, not to this node's {}: another node holds it",
                    c.ip,
                    h.id,
                    h.instance_id
                        .map(|i| format!(" (instance {i})"))
                        .unwrap_or_default(),
                    here.local.eni
                ))),
                None => Err(OcfError::not_running(format!(
                    "{} is on this node's device but assigned to no ENI in EC2",
                    c.ip
                ))),
            }
        })();
        match check {
            Err(e) if e.rc == Rc::Generic => c.api_failure.tolerate(
                e,
                &format!("cannot ask EC2 about {}, it is on the local device", c.ip),
            ),
            r => r,
        }
    }
}
