//! `vip`: an overlay IP outside the VPC CIDR, routed by the VPC's route
//! tables to the active node's ENI and held on a local interface
//! (CLUSTERPRO "AWS virtual IP", LifeKeeper route-table scenario,
//! ClusterLabs aws-vpc-move-ip). The route tables' side is in [`routes`] (a start race in [`race`]),
//! the doctor's checks in `doctor.rs`; both work from [`Config`] and the
//! decision functions here.

mod config;
mod doctor;
mod race;
mod replaces;
mod routes;

use super::local::{self, Local};
use super::{Personality, Spec};
use crate::aws::ec2;
use crate::aws::iam::{Permission, Scope};
use crate::aws::imds::Imds;
use crate::aws::{Service, Session};
use crate::core::state::StateFile;
use crate::net;
use crate::ocf::{ActionSpec, Agent, Ctx, OcfError, OcfResult, Rc};
use config::Config;

pub const SPEC: Spec = Spec {
    name: "vip",
    shortdesc: "Overlay IP address routed by VPC route tables",
    longdesc: "Moves an overlay (virtual) IPv4 or IPv6 address between cluster nodes on \
        AWS. The address lies outside every CIDR block of the VPC; every route table of \
        the VPC that has a route for ip/32 (IPv6: ip/128; or the tables listed in \
        routing_table) is \
        pointed at the active node's network interface (ENI) with ReplaceRoute, and \
        the address is added to a local interface. Clients in the same VPC (and in \
        peered VPCs or on-premises networks whose routing the VPC's tables decide) \
        reach the active node. For clients elsewhere use the dns agent; for \
        Internet clients use eip. The node's ENI must have source/destination \
        checking disabled. Monitor depth 0 checks only the local address and costs \
        no API call; depth 10 also checks every managed route (set OCF_CHECK_LEVEL=10 \
        on a slower monitor). Stop removes only the local address: it never needs \
        the AWS API, so an AWS outage can never make a stop fail.",
    params: config::PARAMS,
    iam: IAM,
    services: &[Service::Ec2],
    examples: &[
        "vip.crm",
        "vip.pcs",
        "group.crm",
        "group.pcs",
        "hana.crm",
        "hana.pcs",
        "guides/rhel-sap-hana.pcs",
        "guides/sles-sap-hana.crm",
    ],
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
            Ok(Box::new(Vip {
                cfg: Config::from_ctx(ctx)?,
            }))
        },
    },
};

/// Every AWS API action this agent calls (the IAM policy is made from it).
/// The route tables' calls (and the VPC's) are made as routing_table_role
/// when it is set: in a shared VPC they belong to the network account; the
/// ENI's stay with the node's own credentials, its account owns the ENI.
const IAM: &[Permission] = &[
    Permission::new(
        "ec2:DescribeRouteTables",
        &[Scope::Any],
        "start, depth-10 monitor",
    )
    .under_role(ROUTING_TABLE_ROLE),
    Permission::new("ec2:ReplaceRoute", &[Scope::RouteTable], "start")
        .under_role(ROUTING_TABLE_ROLE),
    Permission::new(
        "ec2:CreateRoute",
        &[Scope::RouteTable],
        "start, listed table without the route",
    )
    .under_role(ROUTING_TABLE_ROLE),
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
    )
    .under_role(ROUTING_TABLE_ROLE),
];

pub(crate) const ROUTING_TABLE_ROLE: &str = "routing_table_role";

/// A configured vip resource: every action works from its validated
/// parameters.
pub struct Vip {
    cfg: Config,
}

/// Where the VPC's CIDR blocks were read, for the doctor's evidence.
pub(crate) struct VpcBlocks {
    pub vpc: Option<String>,
    pub cidrs: Vec<String>,
}

/// What source/destination checking on the ENI means for a start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SourceDest {
    Off,
    /// On, and start turns it off (fix_source_dest).
    WillFix,
    /// On: the instance would drop every packet for the VIP.
    Blocking,
}

impl Vip {
    fn state(&self, ctx: &Ctx) -> StateFile {
        ctx.state(&self.cfg.ip.to_string())
    }

    fn resolve_local(&self, imds: &Imds) -> OcfResult<Local> {
        let c = &self.cfg;
        local::resolve(imds, c.interface.as_deref(), c.eni_id.as_deref())
    }

    /// The device to look at for monitor and stop: configured, recorded at
    /// start, or (probe on a fresh node) looked up; `None` if none of these
    /// works, in which case callers fall back to any device with the VIP.
    fn known_device(&self, ctx: &Ctx) -> Option<String> {
        let c = &self.cfg;
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
        local::primary_device(&ctx.imds(&c.aws))
    }

    /// The CIDR blocks of the VPC the routes live in: from the instance
    /// metadata for this node's own VPC; from EC2 for a `vpc_id` of
    /// another VPC, or `None` when that needs a session and there is none.
    fn vpc_blocks(
        &self,
        imds: &Imds,
        local: &Local,
        session: Option<&Session>,
    ) -> OcfResult<Option<VpcBlocks>> {
        let c = &self.cfg;
        let cidrs = match (&c.vpc_id, session) {
            (Some(v), Some(s)) if Some(v) != local.vpc.as_ref() => ec2::vpc_cidrs(s, v)?
                .ok_or_else(|| {
                    OcfError::configured(format!(
                        "VPC {v} does not exist: set vpc_id to this instance's VPC"
                    ))
                })?,
            (Some(v), None) if Some(v) != local.vpc.as_ref() => return Ok(None),
            _ => local::vpc_cidrs(imds, local, c.ip.is_ipv6())?,
        };
        Ok(Some(VpcBlocks {
            vpc: c.vpc_id.clone().or_else(|| local.vpc.clone()),
            cidrs,
        }))
    }

    /// The block of `cidrs` the VIP lies in, if any (it must lie in none).
    pub(crate) fn inside<'a>(&self, cidrs: &'a [String]) -> Option<&'a String> {
        cidrs
            .iter()
            .find(|b| net::cidr_contains(b, self.cfg.ip).is_some_and(|(inside, _)| inside))
    }

    fn check_outside_vpc(
        &self,
        imds: &Imds,
        local: &Local,
        session: Option<&Session>,
    ) -> OcfResult<()> {
        let Some(blocks) = self.vpc_blocks(imds, local, session)? else {
            return Ok(());
        };
        match self.inside(&blocks.cidrs) {
            Some(block) => Err(OcfError::configured(format!(
                "ip={} lies inside the VPC's CIDR block {block}: choose an overlay IP \
                 outside every CIDR block of the VPC (AWS routes the VPC's own range \
                 only inside the VPC)",
                self.cfg.ip
            ))),
            None => Ok(()),
        }
    }

    pub(crate) fn source_dest(&self, eni: &ec2::Eni) -> SourceDest {
        match (eni.source_dest_check, self.cfg.fix_sd) {
            (false, _) => SourceDest::Off,
            (true, true) => SourceDest::WillFix,
            (true, false) => SourceDest::Blocking,
        }
    }

    /// Once per ENI and boot: a check that passed is remembered with the
    /// node's identity cache, so a failover does not pay a
    /// DescribeNetworkInterfaces call each time.
    fn check_source_dest(&self, s: &Session, imds: &Imds, eni: &str) -> OcfResult<()> {
        let c = &self.cfg;
        if !c.check_sd {
            return Ok(());
        }
        let key = format!("ec2/{eni}/source-dest-check");
        if imds.noted(&key).as_deref() == Some("off") {
            return Ok(());
        }
        let info = ec2::describe_eni(s, eni)?.ok_or_else(|| {
            OcfError::configured(format!(
                "network interface {eni} does not exist: set eni_id to an ENI of this instance"
            ))
        })?;
        match self.source_dest(&info) {
            SourceDest::Off => {}
            SourceDest::WillFix => {
                ec2::disable_source_dest_check(s, eni)?;
                log::info!("disabled source/destination check on {eni}");
            }
            // A setting of this node's ENI, not of the resource: the other
            // node may be fine, so this bans this node only (rc 2).
            SourceDest::Blocking => {
                return Err(OcfError::args(format!(
                    "source/destination check is on for {eni}: set fix_source_dest=true or run \
                     aws ec2 modify-network-interface-attribute --network-interface-id {eni} \
                     --no-source-dest-check (it drops all traffic for {})",
                    c.ip
                )))
            }
        }
        imds.note(&key, "off");
        Ok(())
    }
}

impl Agent for Vip {
    fn validate(&self, ctx: &Ctx) -> OcfResult<()> {
        if ctx.depth < 10 {
            return Ok(());
        }
        let imds = ctx.imds(&self.cfg.aws);
        let local = self.resolve_local(&imds)?;
        self.check_outside_vpc(&imds, &local, None)
    }

    fn start(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let imds = ctx.imds(&c.aws);
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
        let label = c.label(&local.device)?;
        net::add_address_labelled(&local.device, c.ip, label.as_deref())?;
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

    fn stop(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
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

    fn monitor(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
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
        // aws-vpc-move-ip's monapi: the API check at every depth.
        if ctx.depth < 10 && !c.monapi {
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
