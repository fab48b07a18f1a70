//! `vip`: an overlay IP outside the VPC CIDR, routed by the VPC's route
//! tables to the active node's ENI and held on a local interface
//! (CLUSTERPRO "AWS virtual IP", LifeKeeper route-table scenario,
//! ClusterLabs aws-vpc-move-ip).

use super::ids;
use super::local::{self, Local};
use crate::aws::ec2::{self, Target};
use crate::aws::iam::{Permission, Scope};
use crate::aws::imds::Imds;
use crate::aws::{params as awsp, ApiFailure, AwsOptions, Session};
use crate::net;
use crate::ocf::state::StateFile;
use crate::ocf::{ActionSpec, Agent, AgentSpec, Ctx, OcfError, OcfResult, Param, Rc};
use std::net::Ipv4Addr;

pub const SPEC: AgentSpec = AgentSpec {
    name: "vip",
    shortdesc: "Overlay IP address routed by VPC route tables",
    longdesc: "Moves an overlay (virtual) IPv4 address between cluster nodes on AWS. \
        The address lies outside every CIDR block of the VPC; every route table of the \
        VPC that has a route for ip/32 (or the tables listed in routing_table) is \
        pointed at the active node's network interface (ENI) with ReplaceRoute, and \
        the address is added to a local interface. Clients in the same VPC (and in \
        peered VPCs or on-premises networks whose routing the VPC's tables decide) \
        reach the active node. For clients elsewhere use the dns agent; for \
        Internet clients use eip. The node's ENI must have source/destination \
        checking disabled. Monitor depth 0 checks only the local address and costs \
        no API call; depth 10 also checks every managed route (set OCF_CHECK_LEVEL=10 \
        on a slower monitor). Stop removes only the local address: it never needs \
        the AWS API, so an AWS outage can never make a stop fail.",
    params: PARAMS,
    actions: &[
        ActionSpec::new("start", 30),
        ActionSpec::new("stop", 30),
        ActionSpec::monitor(20, 10, 0),
        ActionSpec::monitor(30, 60, 10),
        ActionSpec::new("validate-all", 20),
        ActionSpec::new("meta-data", 5),
    ],
    new: || Box::new(Vip::default()),
};

/// Every AWS API action this agent calls (the IAM policy is made from it).
pub const IAM: &[Permission] = &[
    Permission::new(
        "ec2:DescribeRouteTables",
        &[Scope::Any],
        "start, depth-10 monitor",
    ),
    Permission::new("ec2:ReplaceRoute", &[Scope::RouteTable], "start"),
    Permission::new(
        "ec2:CreateRoute",
        &[Scope::RouteTable],
        "start, listed table without the route",
    ),
    Permission::new(
        "ec2:DescribeNetworkInterfaces",
        &[Scope::Any],
        "start with check_source_dest",
    ),
    Permission::new(
        "ec2:ModifyNetworkInterfaceAttribute",
        &[Scope::NetworkInterface],
        "start with fix_source_dest",
    ),
    Permission::new(
        "ec2:DescribeVpcs",
        &[Scope::Any],
        "start with vpc_id of another VPC",
    ),
];

const PARAMS: &[Param] = &[
    Param::string("ip", "The overlay IPv4 address")
        .required()
        .unique()
        .long(
            "The overlay (virtual) IPv4 address, e.g. 192.168.100.10. It must lie \
             outside every CIDR block of the VPC: AWS does not let a route table send \
             an address of the VPC's own range anywhere but the VPC.",
        ),
    Param::string("routing_table", "Route tables to manage (comma separated)").long(
        "Route table ids to point at this node, e.g. rtb-0123abcd,rtb-4567ef01. A listed \
         table without a route for ip/32 gets one. Default: every route table of the \
         VPC that has a route for ip/32 (create that route once, in each table whose \
         subnets' clients must reach the address).",
    ),
    Param::string("vpc_id", "VPC of the route tables")
        .long("Limit route-table discovery to this VPC. Default: the VPC of this node's ENI."),
    Param::string("interface", "Local network device to hold the address").long(
        "Local device that gets ip/32, e.g. eth0 or ens5. Default: the device of the \
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
    awsp::API_FAILURE,
    awsp::REGION,
    awsp::ENDPOINT_URL,
    awsp::PROFILE,
    awsp::PROXY,
    awsp::IMDS_VERSION,
];

#[derive(Default)]
pub struct Vip {
    cfg: Option<Config>,
}

struct Config {
    ip: Ipv4Addr,
    cidr: String,
    tables: Vec<String>,
    vpc_id: Option<String>,
    interface: Option<String>,
    eni_id: Option<String>,
    check_sd: bool,
    fix_sd: bool,
    api_failure: ApiFailure,
    aws: AwsOptions,
}

impl Config {
    fn from_ctx(ctx: &Ctx) -> OcfResult<Config> {
        let p = &ctx.params;
        let raw_ip = p.str("ip").unwrap_or_default();
        let ip: Ipv4Addr = raw_ip.parse().map_err(|_| {
            OcfError::configured(format!(
                "ip='{}' is not an IPv4 address: set ip to a dotted quad outside the \
                 VPC's CIDR blocks, e.g. 192.168.100.10",
                crate::ocf::params::shorten(raw_ip)
            ))
        })?;
        if ip.is_unspecified()
            || ip.is_loopback()
            || ip.is_multicast()
            || ip.is_broadcast()
            || ip.is_link_local()
        {
            return Err(OcfError::configured(format!(
                "ip={ip} is loopback, link-local, multicast or broadcast: choose a unicast \
                 overlay IP outside the VPC's CIDR blocks"
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
        Ok(Config {
            ip,
            cidr: format!("{ip}/32"),
            tables,
            vpc_id: p.str("vpc_id").map(str::to_string),
            interface: p.str("interface").map(str::to_string),
            eni_id: p.str("eni_id").map(str::to_string),
            check_sd: p.bool("check_source_dest") || p.bool("fix_source_dest"),
            fix_sd: p.bool("fix_source_dest"),
            api_failure: ApiFailure::from_params(p),
            aws: AwsOptions::from_params(p)?,
        })
    }
}

impl Vip {
    fn cfg(&self) -> &Config {
        self.cfg
            .as_ref()
            .expect("configure runs before every action")
    }

    fn state(&self, ctx: &Ctx) -> StateFile {
        StateFile::new(&ctx.env, "vip", &self.cfg().ip.to_string())
    }

    fn resolve_local(&self, imds: &Imds) -> OcfResult<Local> {
        let c = self.cfg();
        local::resolve(imds, c.interface.as_deref(), c.eni_id.as_deref())
    }

    /// The device to look at for monitor and stop: configured, recorded at
    /// start, or (probe on a fresh node) looked up; `None` if none of these
    /// works, in which case callers fall back to any device with the VIP.
    fn known_device(&self, ctx: &Ctx) -> Option<String> {
        let c = self.cfg();
        if let Some(d) = &c.interface {
            return Some(d.clone());
        }
        if let Some(d) = self
            .state(ctx)
            .read()
            .and_then(|s| s.get("device").cloned())
        {
            return Some(d);
        }
        local::primary_device(&self.imds(ctx))
    }

    /// The metadata client; a probe only reads the identity cache.
    fn imds(&self, ctx: &Ctx) -> Imds {
        let imds = self.cfg().aws.imds(&ctx.env, ctx.deadline);
        if ctx.probe {
            imds.read_only_cache()
        } else {
            imds
        }
    }

    fn check_outside_vpc(
        &self,
        imds: &Imds,
        local: &Local,
        session: Option<&Session>,
    ) -> OcfResult<()> {
        let c = self.cfg();
        let cidrs = match (&c.vpc_id, session) {
            (Some(v), Some(s)) if Some(v) != local.vpc.as_ref() => ec2::vpc_cidrs(s, v)?,
            (Some(v), None) if Some(v) != local.vpc.as_ref() => return Ok(()),
            _ => local::vpc_cidrs(imds, local)?,
        };
        for cidr in &cidrs {
            if cidr_contains(cidr, c.ip) == Some(true) {
                return Err(OcfError::configured(format!(
                    "ip={} lies inside the VPC's CIDR block {cidr}: choose an overlay IP \
                     outside every CIDR block of the VPC (AWS routes the VPC's own range \
                     only inside the VPC)",
                    c.ip
                )));
            }
        }
        Ok(())
    }

    /// Once per ENI and boot: a check that passed is remembered with the
    /// node's identity cache, so a failover does not pay a
    /// DescribeNetworkInterfaces call each time.
    fn check_source_dest(&self, s: &Session, imds: &Imds, eni: &str) -> OcfResult<()> {
        let c = self.cfg();
        if !c.check_sd {
            return Ok(());
        }
        let key = format!("ec2/{eni}/source-dest-check");
        if imds.noted(&key).as_deref() == Some("off") {
            return Ok(());
        }
        let info = ec2::describe_eni(s, eni)?;
        if !info.source_dest_check {
            imds.note(&key, "off");
            return Ok(());
        }
        if c.fix_sd {
            ec2::disable_source_dest_check(s, eni)?;
            log::info!("disabled source/destination check on {eni}");
            imds.note(&key, "off");
            return Ok(());
        }
        Err(OcfError::configured(format!(
            "source/destination check is on for {eni}: set fix_source_dest=true or run \
             aws ec2 modify-network-interface-attribute --network-interface-id {eni} \
             --no-source-dest-check (it drops all traffic for {})",
            c.ip
        )))
    }

    /// The managed tables and where each sends the VIP.
    fn managed_routes(&self, s: &Session, local: &Local) -> OcfResult<Vec<ec2::TableRoute>> {
        let c = self.cfg();
        let vpc = c.vpc_id.as_deref().or(local.vpc.as_deref());
        let routes = ec2::routes_for(s, vpc, &c.tables, &c.cidr).map_err(|e| {
            if e.rc == Rc::Configured && !c.tables.is_empty() {
                e.context(&format!(
                    "routing_table={} (remove or correct the ids that do not exist)",
                    c.tables.join(",")
                ))
            } else {
                e
            }
        })?;
        if let Some(missing) = c
            .tables
            .iter()
            .find(|t| !routes.iter().any(|r| &r.table_id == *t))
        {
            return Err(OcfError::configured(format!(
                "route table {missing} in routing_table does not exist: correct routing_table"
            )));
        }
        if routes.is_empty() {
            return Err(OcfError::configured(format!(
                "no route table in {} routes {}: set routing_table, or create the route \
                 once per table whose subnets' clients need it (aws ec2 create-route \
                 --route-table-id rtb-… --destination-cidr-block {} \
                 --network-interface-id {})",
                vpc.map(|v| format!("VPC {v}"))
                    .unwrap_or_else(|| "the VPC".into()),
                c.cidr,
                c.cidr,
                local.eni
            )));
        }
        if let Some(v) = local.vpc.as_deref() {
            if let Some(r) = routes
                .iter()
                .find(|r| r.vpc_id.as_deref().is_some_and(|rv| rv != v))
            {
                return Err(OcfError::configured(format!(
                    "route table {} belongs to {}, not to {v} of {}: routes can only \
                     point at an ENI of the same VPC; correct routing_table",
                    r.table_id,
                    r.vpc_id.as_deref().unwrap_or("another VPC"),
                    local.eni
                )));
            }
        }
        Ok(routes)
    }

    fn connect(&self, ctx: &Ctx, imds: &Imds) -> OcfResult<Session> {
        Session::connect(&self.cfg().aws, &ctx.env, imds, ctx.deadline)
    }
}

impl Agent for Vip {
    fn configure(&mut self, ctx: &Ctx) -> OcfResult<()> {
        self.cfg = Some(Config::from_ctx(ctx)?);
        Ok(())
    }

    fn validate(&mut self, ctx: &Ctx) -> OcfResult<()> {
        if ctx.depth < 10 {
            return Ok(());
        }
        let imds = self.cfg().aws.imds(&ctx.env, ctx.deadline);
        let local = self.resolve_local(&imds)?;
        self.check_outside_vpc(&imds, &local, None)
    }

    fn start(&mut self, ctx: &Ctx) -> OcfResult<()> {
        let c = self.cfg();
        let imds = c.aws.imds(&ctx.env, ctx.deadline);
        imds.check_identity()?;
        let cached = imds.has_cache();
        let local = self.resolve_local(&imds)?;
        self.check_outside_vpc(&imds, &local, None)?;
        let s = self.connect(ctx, &imds)?;
        let (local, routes, (switched, created)) = match self.switch(&s, &imds, local) {
            // The cached identity (ENI, VPC of the device) may be what AWS
            // disagrees with: look it up afresh, once.
            Err(e) if cached && matches!(e.rc, Rc::Configured | Rc::Args) => {
                log::info!("{}; retrying with a fresh metadata lookup", e.reason);
                imds.forget_cache();
                let local = self.resolve_local(&imds)?;
                self.switch(&s, &imds, local)?
            }
            r => r?,
        };
        net::add_address(&local.device, c.ip)?;
        let tables: Vec<&str> = routes.iter().map(|r| r.table_id.as_str()).collect();
        self.state(ctx).record(&[
            ("ip", &c.ip.to_string()),
            ("device", &local.device),
            ("mac", &local.mac),
            ("eni", &local.eni),
            ("vpc", local.vpc.as_deref().unwrap_or("")),
            ("tables", &tables.join(",")),
        ]);
        log::info!(
            "{} routed to {} in {} table(s) ({} switched, {} created) and held on {}",
            c.ip,
            local.eni,
            routes.len(),
            switched,
            created,
            local.device
        );
        Ok(())
    }

    fn stop(&mut self, ctx: &Ctx) -> OcfResult<()> {
        let c = self.cfg();
        let devices = match self.known_device(ctx) {
            Some(d) => vec![d],
            // Cannot tell which device is ours: a VIP left on any device of
            // this node would still answer, so take it off all of them.
            None => net::devices_with(c.ip)?,
        };
        for d in &devices {
            net::remove_address(d, c.ip)?;
        }
        self.state(ctx).forget();
        Ok(())
    }

    fn monitor(&mut self, ctx: &Ctx) -> OcfResult<()> {
        let c = self.cfg();
        let state = self.state(ctx).read();
        let held_on = match self.known_device(ctx) {
            Some(d) => net::has_address(&d, c.ip)?.then_some(d),
            None => net::devices_with(c.ip)?.into_iter().next(),
        };
        let Some(device) = held_on else {
            return Err(OcfError::not_running(match state {
                Some(_) => format!("{} is no longer on its local interface", c.ip),
                None => format!("{} is not on this node", c.ip),
            }));
        };
        if ctx.depth < 10 {
            return Ok(());
        }
        match self.check_routes(ctx, &device, state.as_ref()) {
            Ok(()) => Ok(()),
            Err(e) if e.rc == Rc::Generic => c.api_failure.tolerate(
                e,
                &format!(
                    "route check skipped, {} on {device} looks fine locally",
                    c.ip
                ),
            ),
            Err(e) => Err(e),
        }
    }
}

impl Vip {
    /// The AWS side of a start: checks, then every managed table to `local`.
    #[allow(clippy::type_complexity)]
    fn switch(
        &self,
        s: &Session,
        imds: &Imds,
        local: Local,
    ) -> OcfResult<(Local, Vec<ec2::TableRoute>, (usize, usize))> {
        if self.cfg().vpc_id.is_some() {
            self.check_outside_vpc(imds, &local, Some(s))?;
        }
        self.check_source_dest(s, imds, &local.eni)?;
        let routes = self.managed_routes(s, &local)?;
        let counts = self.converge(s, &local, routes.clone())?;
        Ok((local, routes, counts))
    }

    /// Point every managed table at our ENI and check that it stuck; returns
    /// how many routes were switched and created.
    ///
    /// Pacemaker never starts one resource on two nodes, but a split brain
    /// can. Without talking to the other node, the race is settled by the
    /// first table (by id): whoever it points at after both have written
    /// wins; the loser hands the tables it took back to the winner and fails
    /// its start, so the tables never stay split between two nodes.
    fn converge(
        &self,
        s: &Session,
        local: &Local,
        mut routes: Vec<ec2::TableRoute>,
    ) -> OcfResult<(usize, usize)> {
        let c = self.cfg();
        let mine = Target::Eni(local.eni.clone());
        let (mut switched, mut created) = (0, 0);
        for round in 0.. {
            let replace: Vec<String> = routes
                .iter()
                .filter(|r| r.target.as_ref().is_some_and(|t| *t != mine))
                .map(|r| r.table_id.clone())
                .collect();
            let create: Vec<String> = routes
                .iter()
                .filter(|r| r.target.is_none())
                .map(|r| r.table_id.clone())
                .collect();
            if replace.is_empty() && create.is_empty() && round == 0 {
                return Ok((0, 0));
            }
            for r in &routes {
                if let Some(t) = r.target.as_ref().filter(|t| **t != mine) {
                    log::info!(
                        "{}: {} → {} (was {})",
                        r.table_id,
                        c.cidr,
                        local.eni,
                        t.describe()
                    );
                }
            }
            ec2::point_routes(s, &replace, &create, &c.cidr, &local.eni)?;
            switched += replace.len();
            created += create.len();
            // ReplaceRoute's OK is not proof that the tables are ours now.
            let now = self.managed_routes(s, local)?;
            if now.iter().all(|r| r.target.as_ref() == Some(&mine)) {
                return Ok((switched, created));
            }
            if let Some(Target::Eni(winner)) = now[0].target.as_ref().filter(|t| **t != mine) {
                let ours: Vec<String> = now
                    .iter()
                    .filter(|r| r.target.as_ref() == Some(&mine))
                    .map(|r| r.table_id.clone())
                    .collect();
                if let Err(e) = ec2::point_routes(s, &ours, &[], &c.cidr, winner) {
                    log::warn!("could not hand the tables back to {winner}: {}", e.reason);
                }
                return Err(OcfError::generic(format!(
                    "route table {} was switched to {winner} during this start: another \
                     node is starting {} too (split brain?); left the tables to it",
                    now[0].table_id, c.ip
                )));
            }
            if round >= 8 {
                return Err(OcfError::generic(format!(
                    "route tables for {} keep changing under this start (another node?): {}",
                    c.cidr,
                    now.iter()
                        .map(|r| format!(
                            "{}→{}",
                            r.table_id,
                            r.target.as_ref().map(|t| t.describe()).unwrap_or_default()
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            // Let a concurrent writer finish before trying again.
            std::thread::sleep(s.deadline().slice(crate::ocf::deadline::jitter(
                std::time::Duration::from_millis(50),
                std::time::Duration::from_millis(150),
            )));
            routes = now;
        }
        unreachable!("the loop returns")
    }

    /// Depth 10: every managed table must send the VIP to our ENI.
    fn check_routes(
        &self,
        ctx: &Ctx,
        device: &str,
        state: Option<&std::collections::BTreeMap<String, String>>,
    ) -> OcfResult<()> {
        let c = self.cfg();
        let imds = self.imds(ctx);
        // The recorded ENI is valid only while the device still has the MAC
        // it had at start (an ENI swap changes the MAC).
        let recorded = state.filter(|s| {
            s.get("device").map(String::as_str) == Some(device)
                && s.get("mac").cloned() == net::device_mac(device)
                && c.eni_id.as_ref().is_none_or(|e| s.get("eni") == Some(e))
        });
        let local = match recorded {
            Some(s) => Local {
                device: device.to_string(),
                mac: s.get("mac").cloned().unwrap_or_default(),
                eni: s.get("eni").cloned().unwrap_or_default(),
                vpc: s.get("vpc").filter(|v| !v.is_empty()).cloned(),
            },
            None => self.resolve_local(&imds)?,
        };
        let s = self.connect(ctx, &imds)?;
        let routes = match self.managed_routes(&s, &local) {
            Err(e) if e.rc == Rc::Configured && c.tables.is_empty() => {
                return Err(OcfError::not_running(e.reason))
            }
            r => r?,
        };
        for r in &routes {
            match &r.target {
                Some(Target::Eni(e)) if *e == local.eni => {}
                Some(t) => {
                    return Err(OcfError::not_running(format!(
                        "route table {} sends {} to {}, not to this node's {}: another \
                         node holds the address",
                        r.table_id,
                        c.cidr,
                        t.describe(),
                        local.eni
                    )))
                }
                None => {
                    return Err(OcfError::not_running(format!(
                        "route table {} has no route for {}",
                        r.table_id, c.cidr
                    )))
                }
            }
        }
        Ok(())
    }
}

/// Whether an IPv4 CIDR block like 10.0.0.0/16 contains `ip`; `None` when
/// the block does not parse.
pub fn cidr_contains(cidr: &str, ip: Ipv4Addr) -> Option<bool> {
    let (net, len) = cidr.trim().split_once('/')?;
    let net: Ipv4Addr = net.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some(u32::from(net) & mask == u32::from(ip) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_containment() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(cidr_contains("10.0.0.0/16", ip("10.0.5.1")), Some(true));
        assert_eq!(cidr_contains("10.0.0.0/16", ip("10.1.0.10")), Some(false));
        assert_eq!(cidr_contains("0.0.0.0/0", ip("1.2.3.4")), Some(true));
        assert_eq!(cidr_contains("10.1.0.10/32", ip("10.1.0.10")), Some(true));
        assert_eq!(cidr_contains("10.0.0.0/33", ip("10.0.0.1")), None);
        assert_eq!(cidr_contains("garbage", ip("10.0.0.1")), None);
    }
}
