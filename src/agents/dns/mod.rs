//! `dns`: a Route 53 A record pointing at the active node, for clients in
//! other VPCs (peering) and on-premises (Direct Connect, VPN), where an
//! overlay IP is not routable (CLUSTERPRO "AWS DNS", LifeKeeper Route53
//! kit, ClusterLabs aws-vpc-route53). Names and zone ids are checked in
//! [`names`], the doctor's checks are in `doctor.rs`.

mod config;
mod doctor;
pub mod names;
mod replaces;

use super::settle::{self, now_s};
use super::{Personality, Spec, API_FAILURE};
use crate::aws::iam::{Permission, Scope};
use crate::aws::imds::{Imds, Instance};
use crate::aws::options::with_aws_settings;
use crate::aws::route53::{self, ARecord, ChangeKind};
use crate::aws::{Service, Session};
use crate::core::state::StateFile;
use crate::core::Param;
use crate::net::dns::{self as resolve, Answer};
use crate::ocf::{ActionSpec, Agent, Ctx, OcfError, OcfResult, Rc};
use config::{Addr, Config};
use std::time::Duration;

pub const SPEC: Spec = Spec {
    name: "dns",
    shortdesc: "Route 53 A or AAAA record pointing at the active node",
    longdesc: "Sets an A record (AAAA for an IPv6 address) in a Route 53 hosted zone \
        (private or public) to the active node's address: its own private IPv4 \
        (ip=local, the 'real IP' that other VPCs and on-premises networks can reach), \
        its own IPv6 address (ip=local-ipv6), its public IPv4 (ip=public), or a \
        literal IPv4 or IPv6 address such as an overlay IP or Elastic IP. The record \
        type follows the address family and one resource manages one record type: \
        a dual-stack name is two resources, one with ip=local, one with \
        ip=local-ipv6. Start lists the \
        record and UPSERTs it only if it does not already hold this node's address, \
        then (wait_sync) polls GetChange until Route 53 reports INSYNC, within the \
        operation timeout: propagation to all Route 53 servers takes up to about a \
        minute. Stop leaves the record as it is by default (a failover then only \
        changes the value, which resolves sooner than a deleted-and-recreated \
        name); with delete_on_stop it deletes the record if it still holds this \
        node's address. If AWS cannot be reached during stop, stop logs a warning \
        and succeeds: the next start elsewhere overwrites the record, while a \
        failed stop would get this node fenced. Monitor depth 0 checks the record \
        (one API call); depth 20 also resolves the name (system resolver or the \
        resolver parameter). A monitor on a node where the resource was not \
        started reports it stopped without asking AWS. Route 53 allows 5 API \
        requests per second per account; throttled requests are retried.",
    params: PARAMS,
    iam: IAM,
    services: &[Service::Route53],
    examples: &[
        "dns.crm",
        "dns.pcs",
        "group.crm",
        "group.pcs",
        "hana.crm",
        "hana.pcs",
    ],
    replaces: replaces::REPLACES,
    personality: Personality::Resource {
        actions: &[
            ActionSpec::new("start", 120),
            ActionSpec::new("stop", 60),
            ActionSpec::monitor(30, 60, 0),
            ActionSpec::monitor(30, 300, 20),
            ActionSpec::new("validate-all", 20),
            ActionSpec::new("meta-data", 5),
        ],
        new: |ctx| {
            Ok(Box::new(Dns {
                cfg: Config::from_ctx(ctx)?,
            }))
        },
    },
};

/// Every AWS API action this agent calls (the IAM policy is made from it).
const IAM: &[Permission] = &[
    Permission::new(
        "route53:ListResourceRecordSets",
        &[Scope::HostedZone],
        "start, stop, monitor",
    ),
    Permission::new(
        "route53:ChangeResourceRecordSets",
        &[Scope::HostedZone],
        "start, stop",
    ),
    Permission::new(
        "route53:GetChange",
        &[Scope::Change],
        "start with wait_sync",
    ),
];

const PARAMS: &[Param] = with_aws_settings![
    Param::string("hosted_zone_id", "Route 53 hosted zone id")
        .required()
        .long("Id of the hosted zone (private or public) holding the record, e.g. Z0123456789ABCDEFGHIJ."),
    Param::string("name", "Fully qualified record name")
        .required()
        .unique()
        .long(
            "Fully qualified name of the record, e.g. db.example.internal. Case and \
             a trailing dot do not matter; it must lie inside the hosted zone.",
        ),
    Param::string("ip", "Address the record points at")
        .default("local")
        .long(
            "local: this node's primary private IPv4 (reachable from peered VPCs and \
             on-premises over Direct Connect or VPN); local-ipv6: the IPv6 address of \
             this node's primary ENI (an AAAA record); public: this node's public IPv4; \
             or a literal IPv4 address (A record) or IPv6 address (AAAA record) such as \
             an overlay IP or Elastic IP.",
        ),
    Param::integer("ttl", 0, 2_147_483_647, "Record TTL in seconds")
        .default("10")
        .long("TTL of the record in seconds. Keep it short: clients cache the old address for this long after a failover."),
    Param::boolean("delete_on_stop", "Delete the record on stop")
        .default("false")
        .long(
            "Delete the record on stop if it still holds this node's address. Default \
             false: on failover only the value changes, which resolves faster than a \
             name that was deleted (negative caching).",
        ),
    Param::boolean("wait_sync", "Wait for INSYNC on start")
        .default("true")
        .long("After a change, poll GetChange until Route 53 reports INSYNC, bounded by the start timeout."),
    Param::string("resolver", "DNS server for the depth-20 monitor (host:port)").long(
        "At monitor depth 20, ask this DNS server (e.g. 10.0.0.2:53, the VPC resolver) \
         instead of the system resolver whether the name resolves to this node's address.",
    ),
    Param::integer("resolve_grace", 0, 86_400, "Seconds after start before resolution must match")
        .default("90")
        .long(
            "At monitor depth 20, a name that does not yet resolve to this node's \
             address within this many seconds of start is not an error (propagation, \
             negative caching).",
        ),
    API_FAILURE,
];

/// A configured dns resource: every action works from its validated
/// parameters.
pub struct Dns {
    cfg: Config,
}

/// The record's values as a state file keeps them ("" for no record).
fn values(r: Option<&ARecord>) -> String {
    r.map(|r| r.values.join(",")).unwrap_or_default()
}

impl Dns {
    fn state(&self, ctx: &Ctx) -> StateFile {
        ctx.state(&self.cfg.name)
    }

    /// This node's address for the record: recorded at start, else looked up.
    fn address(&self, imds: &Imds) -> OcfResult<String> {
        match &self.cfg.addr {
            Addr::Literal(ip) => Ok(ip.to_string()),
            Addr::Local => Ok(Instance::new(imds).local_ipv4()?),
            Addr::LocalIpv6 => Instance::new(imds).primary_ipv6()?.ok_or_else(|| {
                OcfError::args(
                    "ip=local-ipv6 but this instance's primary ENI has no IPv6 address: \
                     assign one (aws ec2 assign-ipv6-addresses), or use ip=local for an A \
                     record",
                )
            }),
            Addr::Public => Instance::new(imds).public_ipv4()?.ok_or_else(|| {
                OcfError::args(
                    "ip=public but this instance has no public IPv4 address: use ip=local, \
                     or give the address (an Elastic IP) literally",
                )
            }),
        }
    }

    /// The address the record holds for this node, and what a read soon
    /// after the change may still show instead.
    fn remember(&self, ctx: &Ctx, ip: &str, was: &str) {
        self.state(ctx)
            .record(&[("ip", ip), ("started", &now_s().to_string()), ("was", was)]);
    }

    /// The switch's probe, without a start here (`Ctx::adopting`):
    /// running if the record holds exactly this node's address, and then
    /// recorded as started here.
    fn adopt(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let imds = ctx.imds(&c.aws);
        let ip = self.address(&imds)?;
        let s = self.connect(ctx, &imds)?;
        let now = route53::a_record(&s, &c.zone_id, &c.name, c.addr.ipv6())?;
        if now.as_ref().is_none_or(|r| r.values != [ip.clone()]) {
            return Err(OcfError::not_running(format!(
                "{} holds {}, not this node's {ip}",
                c.name,
                now.as_ref()
                    .map(|r| r.values.join(","))
                    .unwrap_or_else(|| "nothing".into())
            )));
        }
        self.remember(ctx, &ip, &values(now.as_ref()));
        log::info!(
            "{} holds this node's {ip}: taken over as running (ocf-aws migrate's switch: started by the replaced agent)",
            c.name
        );
        Ok(())
    }

    fn recorded_address(&self, ctx: &Ctx) -> Option<String> {
        self.state(ctx).read().and_then(|s| s.get("ip").cloned())
    }

    fn connect(&self, ctx: &Ctx, imds: &Imds) -> OcfResult<Session> {
        ctx.connect(&self.cfg.aws, imds)
    }

    fn resolution(&self) -> Answer {
        let c = &self.cfg;
        match c.resolver {
            Some(server) => resolve::query(server, &c.name, c.addr.ipv6(), Duration::from_secs(3)),
            None => resolve::system(&c.name, c.addr.ipv6()),
        }
    }
}

impl Agent for Dns {
    fn validate(&self, ctx: &Ctx) -> OcfResult<()> {
        if ctx.depth >= 10 {
            let imds = ctx.imds(&self.cfg.aws);
            self.address(&imds)?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let imds = ctx.imds(&c.aws);
        imds.check_identity()?;
        let ip = self.address(&imds)?;
        let s = self.connect(ctx, &imds)?;
        let current = route53::a_record(&s, &c.zone_id, &c.name, c.addr.ipv6())?;
        if let Some(special) = current.as_ref().and_then(|r| r.special.clone()) {
            return Err(OcfError::configured(format!(
                "{} in zone {} is {special}, which this agent does not manage: delete it \
                 or choose another name",
                c.name, c.zone_id
            )));
        }
        let up_to_date = current
            .as_ref()
            .is_some_and(|r| r.values == [ip.clone()] && r.ttl == Some(c.ttl));
        if up_to_date {
            log::info!("{} already holds {ip}", c.name);
        } else {
            log::info!(
                "{} → {ip} (was {})",
                c.name,
                current
                    .as_ref()
                    .map(|r| r.values.join(","))
                    .unwrap_or_else(|| "absent".into())
            );
            let change = route53::change(
                &s,
                &c.zone_id,
                ChangeKind::Upsert,
                &c.name,
                c.ttl,
                std::slice::from_ref(&ip),
            )?;
            if c.wait_sync {
                route53::wait_insync(&s, &change)?;
            }
        }
        self.remember(ctx, &ip, &values(current.as_ref()));
        Ok(())
    }

    fn stop(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let state = self.state(ctx);
        if c.delete_on_stop {
            let result = (|| {
                let imds = ctx.imds(&c.aws);
                let ip = match self.recorded_address(ctx) {
                    Some(ip) => ip,
                    None => self.address(&imds)?,
                };
                let s = self.connect(ctx, &imds)?;
                match route53::a_record(&s, &c.zone_id, &c.name, c.addr.ipv6())? {
                    Some(r) if r.special.is_none() && r.values == [ip.clone()] => {
                        route53::change(
                            &s,
                            &c.zone_id,
                            ChangeKind::Delete,
                            &c.name,
                            r.ttl.unwrap_or(c.ttl),
                            &r.values,
                        )?;
                        log::info!("deleted {} ({ip})", c.name);
                    }
                    Some(r) => log::info!(
                        "{} holds {}, not this node's {ip}: left alone",
                        c.name,
                        r.values.join(",")
                    ),
                    None => log::info!("{} does not exist: nothing to delete", c.name),
                }
                Ok::<(), OcfError>(())
            })();
            if let Err(e) = result {
                log::warn!(
                    "could not delete {} ({}); stop succeeds anyway: the next start \
                     elsewhere overwrites the record",
                    c.name,
                    e.reason
                );
            }
        }
        state.forget();
        Ok(())
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let Some(st) = self.state(ctx).read() else {
            if ctx.adopting() {
                return self.adopt(ctx);
            }
            // The record may well still hold this node's address (stop leaves
            // it by default); that does not make the resource active here.
            return Err(OcfError::not_running(format!(
                "{} was not started on this node",
                c.name
            )));
        };
        let check = (|| {
            let imds = ctx.imds(&c.aws);
            let ip = match st.get("ip") {
                Some(ip) => ip.clone(),
                None => self.address(&imds)?,
            };
            let s = self.connect(ctx, &imds)?;
            // Right after the start, a read may still show the record as it
            // was before the change: read again rather than report it lost.
            let was = st.get("was").filter(|_| settle::recent(st.get("started")));
            let read = || Ok(route53::a_record(&s, &c.zone_id, &c.name, c.addr.ipv6())?);
            let now = settle::read_past(s.deadline(), read, |r: &Option<ARecord>| {
                r.as_ref().is_none_or(|r| r.values != [ip.clone()])
                    && was == Some(&values(r.as_ref()))
            })?;
            match now {
                None => Err(OcfError::not_running(format!(
                    "{} has no {} record in zone {}",
                    c.name,
                    c.addr.rtype(),
                    c.zone_id
                ))),
                Some(r) if r.values != [ip.clone()] => Err(OcfError::not_running(format!(
                    "{} holds {}, not this node's {ip}: another node has taken it over",
                    c.name,
                    r.values.join(",")
                ))),
                Some(_) => Ok(ip),
            }
        })();
        let ip = match check {
            Ok(ip) => ip,
            Err(e) if e.rc == Rc::Generic => {
                return c
                    .api_failure
                    .tolerate(e, &format!("cannot check {}", c.name));
            }
            Err(e) => return Err(e),
        };
        if ctx.depth < 20 {
            return Ok(());
        }
        let started = st
            .get("started")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        let in_grace = now_s().saturating_sub(started) < c.resolve_grace.as_secs();
        let via = match c.resolver {
            Some(r) => format!("DNS server {r}"),
            None => "the system resolver".into(),
        };
        let problem = match self.resolution() {
            Answer::Addresses(a) if a.len() == 1 && ip.parse().ok() == Some(a[0]) => return Ok(()),
            Answer::Addresses(a) if a.is_empty() => {
                format!("{via} returns no address for {}", c.name)
            }
            Answer::Addresses(a) => format!(
                "{via} resolves {} to {}, not to {ip}",
                c.name,
                a.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Answer::NxDomain => format!("{via} says {} does not exist (NXDOMAIN)", c.name),
            Answer::Failed(e) => format!("{via} could not resolve {}: {e}", c.name),
        };
        if in_grace {
            log::info!("{problem}; within resolve_grace after start, not an error yet");
            return Ok(());
        }
        Err(OcfError::generic(format!(
            "{problem}, although the record holds {ip}: propagation or negative caching \
             (of a lookup made while the record was absent) may be the cause; check the \
             resolver, the zone's VPC associations (private zones), and raise resolve_grace \
             if this clears by itself"
        )))
    }
}
