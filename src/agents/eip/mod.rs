//! `eip`: an Elastic IP associated with the active node's ENI and private
//! IP, for Internet clients (CLUSTERPRO "AWS Elastic IP", LifeKeeper
//! Elastic IP scenario, ClusterLabs awseip). Its doctor checks are in
//! `doctor.rs`.

mod config;
mod doctor;
mod replaces;

use super::local::{self, Local};
use super::{settle, Personality, Spec, API_FAILURE};
use crate::aws::ec2::{self, Address, EipRef};
use crate::aws::iam::{Permission, Scope};
use crate::aws::imds::{Imds, Instance};
use crate::aws::options::with_aws_settings;
use crate::aws::{Service, Session};
use crate::core::state::StateFile;
use crate::core::Param;
use crate::ocf::{ActionSpec, Agent, Ctx, OcfError, OcfResult, Rc};
use config::Config;

pub const SPEC: Spec = Spec {
    name: "eip",
    shortdesc: "Elastic IP associated with the active node",
    longdesc: "Associates an Elastic IP with the active node's network interface (ENI) \
        and private IP address, for clients on the Internet. Association is always by \
        ENI and private IP, never by instance id (ambiguous on instances with several \
        ENIs), and takes the address from whichever node holds it \
        (AllowReassociation). The monitor asks the AWS API whether the address is \
        associated with exactly this ENI and private IP. Stop disassociates only if \
        the address is still associated with this node; if AWS cannot be reached \
        during stop, stop logs a warning and succeeds anyway: the next start \
        elsewhere re-associates the address, while a failed stop would get this \
        node fenced. A monitor on a node where the resource was not started reports \
        it stopped without asking AWS. For clients in the same VPC use vip; for other VPCs or \
        on-premises use dns.",
    params: PARAMS,
    iam: IAM,
    services: &[Service::Ec2],
    examples: &["eip.crm", "eip.pcs"],
    replaces: replaces::REPLACES,
    personality: Personality::Resource {
        actions: &[
            ActionSpec::new("start", 30),
            ActionSpec::new("stop", 30),
            ActionSpec::monitor(30, 60, 0),
            ActionSpec::new("validate-all", 20),
            ActionSpec::new("meta-data", 5),
        ],
        new: |ctx| {
            Ok(Box::new(Eip {
                cfg: Config::from_ctx(ctx)?,
            }))
        },
    },
};

/// Every AWS API action this agent calls (the IAM policy is made from it).
const IAM: &[Permission] = &[
    Permission::new(
        "ec2:DescribeAddresses",
        &[Scope::Any],
        "start, stop, monitor",
    ),
    Permission::new(
        "ec2:AssociateAddress",
        &[Scope::ElasticIp, Scope::NetworkInterface],
        "start",
    ),
    Permission::new(
        "ec2:DisassociateAddress",
        &[Scope::ElasticIp, Scope::NetworkInterface],
        "stop",
    ),
];

const PARAMS: &[Param] = with_aws_settings![
    Param::string("allocation_id", "Allocation id of the Elastic IP")
        .unique()
        .long(
            "Allocation id of the Elastic IP, e.g. eipalloc-0123456789abcdef0. Either \
             this or elastic_ip is required.",
        ),
    Param::string("elastic_ip", "The Elastic IP address")
        .unique()
        .long(
            "The public address of the Elastic IP, e.g. 203.0.113.10, resolved to its \
             allocation. Either this or allocation_id is required.",
        ),
    Param::string("interface", "Local device whose ENI gets the address").long(
        "Local device, e.g. eth0; its ENI is looked up in the instance metadata. \
         Default: the primary ENI.",
    ),
    Param::string("eni_id", "ENI to associate with").long(
        "The network interface (eni-…) to associate the Elastic IP with. Default: the \
         ENI of interface, or the primary ENI.",
    ),
    Param::string("private_ip", "Private address of the ENI to map to").long(
        "Which private IPv4 address of the ENI the Elastic IP maps to. Default: the \
         ENI's primary private address.",
    ),
    API_FAILURE,
];

/// A configured eip resource: every action works from its validated
/// parameters.
pub struct Eip {
    cfg: Config,
}

/// The association this node wants: ENI and private IP.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    eni: String,
    private_ip: String,
}

impl Eip {
    fn state(&self, ctx: &Ctx) -> StateFile {
        match &self.cfg.eip {
            EipRef::Allocation(a) => ctx.state(a),
            EipRef::PublicIp(ip) => ctx.state(ip),
        }
    }

    /// The ENI's private IPv4 addresses, from the instance metadata
    /// (`local-ipv4s` of its MAC: no API call).
    pub(crate) fn eni_addresses(&self, imds: &Imds, local: &Local) -> OcfResult<Vec<String>> {
        Ok(Instance::new(imds)
            .local_ipv4s_of_mac(&local.mac)?
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect())
    }

    /// A configured private_ip must be one of the ENI's addresses: EC2
    /// refuses to map an Elastic IP to any other, and no other node's ENI
    /// has it either, so the configuration cannot work anywhere (rc 6).
    pub(crate) fn check_private_ip(&self, imds: &Imds, local: &Local) -> OcfResult<()> {
        let Some(want) = &self.cfg.private_ip else {
            return Ok(());
        };
        let have = self.eni_addresses(imds, local)?;
        if have.iter().any(|a| a == want) {
            return Ok(());
        }
        Err(OcfError::configured(format!(
            "private_ip={want} is not an address of {} (it has {}): set private_ip to one \
             of them, or leave it unset for the primary one",
            local.eni,
            if have.is_empty() {
                "none in the instance metadata".to_string()
            } else {
                have.join(", ")
            }
        )))
    }

    /// Our ENI and private IP: recorded at start when still valid, else
    /// from the parameters and the instance metadata.
    pub(crate) fn target(&self, ctx: &Ctx, imds: &Imds) -> OcfResult<Target> {
        let c = &self.cfg;
        if let Some(s) = self.state(ctx).read() {
            if let (Some(eni), Some(ip)) = (s.get("eni"), s.get("private_ip")) {
                let same_eni = c.eni_id.as_ref().is_none_or(|e| e == eni);
                let same_ip = c.private_ip.as_ref().is_none_or(|p| p == ip);
                if same_eni && same_ip {
                    return Ok(Target {
                        eni: eni.clone(),
                        private_ip: ip.clone(),
                    });
                }
            }
        }
        let local = self.resolve_local(imds)?;
        let private_ip = match &c.private_ip {
            Some(ip) => {
                self.check_private_ip(imds, &local)?;
                ip.clone()
            }
            None => Instance::new(imds)
                .primary_ipv4_of_mac(&local.mac)?
                .ok_or_else(|| {
                    OcfError::generic(format!(
                        "the instance metadata lists no private address for {}: set private_ip",
                        local.eni
                    ))
                })?,
        };
        Ok(Target {
            eni: local.eni,
            private_ip,
        })
    }

    pub(crate) fn resolve_local(&self, imds: &Imds) -> OcfResult<Local> {
        let c = &self.cfg;
        local::resolve(imds, c.interface.as_deref(), c.eni_id.as_deref())
    }

    fn connect(&self, ctx: &Ctx, imds: &Imds) -> OcfResult<Session> {
        ctx.connect(&self.cfg.aws, imds)
    }

    pub(crate) fn lookup(&self, s: &Session) -> OcfResult<Address> {
        let c = &self.cfg;
        ec2::describe_address(s, &c.eip)?.ok_or_else(|| {
            OcfError::configured(format!(
                "{} does not exist in region {}: correct {}",
                c.describe(),
                s.region(),
                match c.eip {
                    EipRef::Allocation(_) => "allocation_id",
                    EipRef::PublicIp(_) => "elastic_ip",
                }
            ))
        })
    }
    /// What the monitor and stop go by: the association made (or found)
    /// here, and where the address was before.
    fn remember(&self, ctx: &Ctx, a: &Address, t: &Target, was: &str) {
        self.state(ctx).record(&[
            ("allocation_id", &a.allocation_id),
            ("public_ip", &a.public_ip),
            ("eni", &t.eni),
            ("private_ip", &t.private_ip),
            ("was", was),
            ("started", &settle::now_s().to_string()),
        ]);
    }

    /// The switch's probe, without a start here (`Ctx::adopting`):
    /// running if the address is on this node's ENI and private IP, and
    /// then recorded as started here.
    fn adopt(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let imds = ctx.imds(&c.aws);
        let t = self.target(ctx, &imds)?;
        let s = self.connect(ctx, &imds)?;
        let a = self.lookup(&s)?;
        if !is_ours(&a, &t) {
            return Err(OcfError::not_running(format!(
                "{} is associated with {}, not with this node's {}",
                c.describe(),
                where_is(&a),
                t.eni
            )));
        }
        self.remember(ctx, &a, &t, &placement(&a));
        log::info!(
            "{} is on this node's {} ({}): taken over as running (ocf-aws migrate's switch: started by the replaced agent)",
            c.describe(),
            t.eni,
            t.private_ip
        );
        Ok(())
    }
}

fn is_ours(a: &Address, t: &Target) -> bool {
    a.eni.as_deref() == Some(t.eni.as_str())
        && a.private_ip.as_deref() == Some(t.private_ip.as_str())
}

/// Where the address is mapped, as a state file keeps it ("" for nowhere).
fn placement(a: &Address) -> String {
    match (&a.eni, &a.private_ip) {
        (Some(e), Some(p)) => format!("{e}/{p}"),
        (Some(e), None) => e.clone(),
        _ => String::new(),
    }
}

fn where_is(a: &Address) -> String {
    match (&a.eni, &a.private_ip, &a.instance_id) {
        (Some(e), Some(p), Some(i)) => format!("{e} ({p}, instance {i})"),
        (Some(e), Some(p), None) => format!("{e} ({p})"),
        (None, _, Some(i)) => format!("instance {i}"),
        _ => "nothing".into(),
    }
}

impl Agent for Eip {
    fn validate(&self, ctx: &Ctx) -> OcfResult<()> {
        if ctx.depth >= 10 {
            let imds = ctx.imds(&self.cfg.aws);
            self.target(ctx, &imds)?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let imds = ctx.imds(&c.aws);
        imds.check_identity()?;
        let t = self.target(ctx, &imds)?;
        let s = self.connect(ctx, &imds)?;
        let a = self.lookup(&s)?;
        // What a read soon after the association may still show.
        let was = placement(&a);
        if is_ours(&a, &t) {
            log::info!(
                "{} ({}) is already on {} ({})",
                a.allocation_id,
                a.public_ip,
                t.eni,
                t.private_ip
            );
        } else {
            log::info!(
                "associating {} ({}) with {} ({}), was on {}",
                a.allocation_id,
                a.public_ip,
                t.eni,
                t.private_ip,
                where_is(&a)
            );
            // AssociateAddress is atomic in AWS: the association id it
            // returns is the proof, no second DescribeAddresses. (Should an
            // implementation map another private IP than asked, as moto
            // does, the monitor's exact comparison reports it.)
            let assoc = ec2::associate_address(&s, &a.allocation_id, &t.eni, Some(&t.private_ip))
                .map_err(|e| {
                let e = OcfError::from(e);
                if e.rc == Rc::Configured {
                    e.context(&format!(
                        "associating {} with {} ({}): check eni_id and private_ip",
                        a.public_ip, t.eni, t.private_ip
                    ))
                } else {
                    e
                }
            })?;
            if assoc.is_empty() {
                return Err(OcfError::generic(format!(
                    "AssociateAddress answered without an association id for {} on {} ({})",
                    a.public_ip, t.eni, t.private_ip
                )));
            }
        }
        self.remember(ctx, &a, &t, &was);
        Ok(())
    }

    fn stop(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        let state = self.state(ctx);
        let result = (|| {
            let imds = ctx.imds(&c.aws);
            let t = self.target(ctx, &imds)?;
            let s = self.connect(ctx, &imds)?;
            let a = self.lookup(&s)?;
            match (&a.association_id, a.eni.as_deref() == Some(t.eni.as_str())) {
                (Some(assoc), true) => {
                    ec2::disassociate_address(&s, assoc)?;
                    log::info!("disassociated {} from {}", a.public_ip, t.eni);
                }
                _ => log::info!(
                    "{} is on {}, not on this node: nothing to do",
                    a.public_ip,
                    where_is(&a)
                ),
            }
            Ok::<(), OcfError>(())
        })();
        if let Err(e) = result {
            // A failed stop gets this node fenced; an Elastic IP left here is
            // taken over by the next start elsewhere (AllowReassociation).
            log::warn!(
                "could not disassociate {} ({}); stop succeeds anyway: the next start on \
                 another node takes the address over",
                c.describe(),
                e.reason
            );
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
            // Not started here (or /run was cleared by a reboot): stopped, as
            // far as this node is concerned; the next start re-associates.
            return Err(OcfError::not_running(format!(
                "{} was not started on this node",
                c.describe()
            )));
        };
        let check = (|| {
            let imds = ctx.imds(&c.aws);
            let t = self.target(ctx, &imds)?;
            let s = self.connect(ctx, &imds)?;
            // Right after the start, a read may still show where the
            // address was before it: read again rather than report it gone.
            let was = st.get("was").filter(|_| settle::recent(st.get("started")));
            let a = settle::read_past(
                s.deadline(),
                || self.lookup(&s),
                |a| !is_ours(a, &t) && was == Some(&placement(a)),
            )?;
            if is_ours(&a, &t) {
                Ok(())
            } else {
                Err(OcfError::not_running(format!(
                    "{} ({}) is associated with {}, not with this node's {} ({})",
                    a.allocation_id,
                    a.public_ip,
                    where_is(&a),
                    t.eni,
                    t.private_ip
                )))
            }
        })();
        match check {
            Err(e) if e.rc == Rc::Generic => {
                // Cannot ask AWS: it was started here, so judge it running.
                c.api_failure
                    .tolerate(e, &format!("cannot check {}", c.describe()))
            }
            r => r,
        }
    }
}
