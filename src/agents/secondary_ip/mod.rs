//! `secondary-ip`: a secondary private IPv4 address of the nodes' subnet,
//! moved to the active node's ENI and held on its device (ClusterLabs
//! awsvip, which never checks the asynchronous move and never configures
//! the address in the OS). For clients that must use an address of the
//! VPC's own range; everything else is `vip`'s. Its doctor checks are in
//! `doctor.rs`.

mod doctor;

use super::local::{self, Local};
use super::{ApiFailure, Personality, Spec, API_FAILURE};
use crate::aws::enis::{self, EniAddresses};
use crate::aws::iam::{Permission, Scope};
use crate::aws::imds::{Imds, Instance};
use crate::aws::options::with_aws_settings;
use crate::aws::{AwsOptions, Service, Session};
use crate::core::deadline::jitter;
use crate::core::params::shorten;
use crate::core::state::StateFile;
use crate::core::Param;
use crate::net;
use crate::ocf::{ActionSpec, Agent, Ctx, OcfError, OcfResult, Rc};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// How long EC2 takes to move a secondary address, at most, in practice:
/// after that, not seeing it on our ENI is an answer.
const MOVE_WINDOW: Duration = Duration::from_secs(5);

pub const SPEC: Spec = Spec {
    name: "secondary-ip",
    shortdesc: "Secondary private IP moved between the nodes' ENIs",
    longdesc: "Moves a secondary private IPv4 address of the subnet between cluster \
        nodes on AWS, for clients that must reach an address of the VPC's own range \
        (no route-table change, no overlay). Start assigns the address to the active \
        node's network interface (AssignPrivateIpAddresses with AllowReassignment, \
        which takes it from the other node's ENI), waits until EC2 shows it there (the \
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
];

const PARAMS: &[Param] = with_aws_settings![
    Param::string("ip", "The secondary private IPv4 address")
        .required()
        .unique()
        .long(
            "A free private IPv4 address of the subnet of the nodes' ENIs, e.g. \
             10.0.1.50. A secondary address cannot leave its subnet, and a subnet is one \
             Availability Zone: for an address that must move across zones use vip.",
        ),
    Param::string("interface", "Local network device to hold the address").long(
        "Local device that gets the address, e.g. eth0 or ens5. Default: the device of \
         the instance's primary ENI.",
    ),
    Param::string("eni_id", "ENI that gets the address").long(
        "The network interface (eni-…) the address is assigned to. Default: the ENI \
         behind interface, looked up in the instance metadata by MAC address.",
    ),
    Param::integer("prefix", 1, 32, "Prefix length of the local address").long(
        "Prefix length of the address on the local device. Default: the subnet's, from \
         the instance metadata.",
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
    ip: Ipv4Addr,
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
        let ip: Ipv4Addr = raw.parse().map_err(|_| {
            OcfError::configured(format!(
                "ip='{}' is not an IPv4 address: set ip to a free private address of the \
                 nodes' subnet, e.g. 10.0.1.50",
                shorten(raw)
            ))
        })?;
        if !ip.is_private() {
            return Err(OcfError::configured(format!(
                "ip={ip} is not a private address: a secondary private IP is an address of \
                 the subnet (10/8, 172.16/12 or 192.168/16); for an overlay address use vip"
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
            prefix: p.str("prefix").map(|_| p.int("prefix") as u8),
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

/// Whether an IPv4 CIDR block contains `ip`, and its prefix length.
fn contains(cidr: &str, ip: Ipv4Addr) -> Option<(bool, u8)> {
    let (net, len) = cidr.trim().split_once('/')?;
    let net: Ipv4Addr = net.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((u32::from(net) & mask == u32::from(ip) & mask, len as u8))
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
        let cidr = inst
            .subnet_cidr_of_mac(&local.mac)?
            .ok_or_else(|| missing("subnet CIDR block"))?;
        match contains(&cidr, self.cfg.ip) {
            Some((true, _)) => Ok(Here {
                local,
                subnet,
                cidr,
            }),
            _ => Err(OcfError::configured(format!(
                "ip={} is outside {subnet} ({cidr}) of {}: a secondary IP cannot leave its \
                 subnet (one Availability Zone); put the nodes in one subnet, or use vip for \
                 an address that moves across zones",
                self.cfg.ip, local.eni
            ))),
        }
    }

    fn prefix(&self, here: &Here) -> u8 {
        self.cfg
            .prefix
            .or_else(|| contains(&here.cidr, self.cfg.ip).map(|(_, len)| len))
            .unwrap_or(32)
    }

    /// Which ENI of the subnet holds the address, and a refusal when it is
    /// an ENI's primary address (that one never moves).
    fn holder(&self, s: &Session, here: &Here) -> OcfResult<Option<EniAddresses>> {
        let ip = self.cfg.ip.to_string();
        let enis = enis::in_subnet(s, &here.subnet)?;
        if let Some(owner) = enis
            .iter()
            .find(|e| e.primary.as_deref() == Some(ip.as_str()))
        {
            return Err(OcfError::configured(format!(
                "ip={ip} is the primary private address of {}{}: a primary address never \
                 moves; choose a free address of {}",
                owner.id,
                owner
                    .instance_id
                    .as_ref()
                    .map(|i| format!(" (instance {i})"))
                    .unwrap_or_default(),
                here.cidr
            )));
        }
        Ok(enis.into_iter().find(|e| e.holds(&ip)))
    }

    /// Poll our ENI until EC2 shows the address there. The move is
    /// asynchronous and a read right after the write may be stale, so not
    /// seeing it is no verdict; only once the move should long be done does
    /// an address on another ENI mean another node took it after us.
    fn wait_assigned(&self, s: &Session, here: &Here) -> OcfResult<()> {
        let ip = self.cfg.ip.to_string();
        let eni = &here.local.eni;
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        let mut polls = 0;
        loop {
            polls += 1;
            let now = enis::addresses(s, eni)?.ok_or_else(|| {
                OcfError::args(format!(
                    "{eni} no longer exists: it was detached or deleted"
                ))
            })?;
            if now.holds(&ip) {
                log::debug!("{ip} on {eni} after {polls} poll(s)");
                return Ok(());
            }
            if started.elapsed() >= MOVE_WINDOW {
                if let Some(other) = self.holder(s, here)?.filter(|h| h.id != *eni) {
                    return Err(OcfError::generic(format!(
                        "{ip} is on {} although this node assigned it to {eni}: another node \
                         took it during this start (split brain?)",
                        other.id
                    )));
                }
            }
            if s.deadline().remaining() <= pause + Duration::from_millis(300) {
                return Err(OcfError::generic(format!(
                    "EC2 accepted moving {ip} to {eni}, but after {polls} poll(s) it is not \
                     there yet: raise the start timeout"
                )));
            }
            std::thread::sleep(jitter(pause / 2, pause));
            pause = (pause * 2).min(Duration::from_secs(2));
        }
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
        match self.holder(&s, &here)? {
            Some(h) if h.id == here.local.eni => {
                log::info!("{} is already on {}", c.ip, h.id)
            }
            other => {
                log::info!(
                    "assigning {} to {} (was on {})",
                    c.ip,
                    here.local.eni,
                    other.map(|h| h.id).unwrap_or_else(|| "no ENI".into())
                );
                enis::assign(&s, &here.local.eni, &c.ip.to_string())?;
                self.wait_assigned(&s, &here)?;
            }
        }
        net::add_address_prefix(&here.local.device, c.ip, self.prefix(&here))?;
        self.state(ctx).record(&[
            ("ip", &c.ip.to_string()),
            ("device", &here.local.device),
            ("eni", &here.local.eni),
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
                let ip = c.ip.to_string();
                match enis::addresses(&s, &eni)? {
                    Some(a) if a.holds(&ip) => {
                        enis::unassign(&s, &eni, &ip)?;
                        log::info!("unassigned {ip} from {eni}");
                    }
                    _ => log::info!("{ip} is not on {eni}: nothing to unassign"),
                }
                Ok::<(), OcfError>(())
            })();
            if let Err(e) = result {
                // A failed stop gets this node fenced; the next start
                // elsewhere takes the address over (AllowReassignment).
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
            match self.holder(&s, &here)? {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_containment_and_prefix() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(contains("10.0.1.0/24", ip("10.0.1.50")), Some((true, 24)));
        assert_eq!(contains("10.0.1.0/24", ip("10.0.2.50")), Some((false, 24)));
        assert_eq!(contains("junk", ip("10.0.2.50")), None);
    }
}
