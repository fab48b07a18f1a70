//! `fence_ec2`: fencing by stopping the failed node's EC2 instance
//! (fence-agents' fence_aws, cluster-glue's external/ec2, CLUSTERPRO's
//! forced stop), spoken through the fence-agents protocol. Its doctor
//! checks are in `doctor.rs`.
//!
//! Unlike fence_aws: `stopping`/`shutting-down` count as on and `stopped`/
//! `terminated` as off (fencing a node that is already going down
//! succeeds); the race check fails closed when this node's identity cannot
//! be read; `skip_race_check=0` means what it says; `monitor` is one
//! DryRun request, never a listing of the account; every request, retry
//! and poll ends within `power_timeout`.

mod doctor;
mod replaces;

use super::{ids, Personality, Spec};
use crate::aws::iam::{Permission, Scope};
use crate::aws::imds::Instance as Identity;
use crate::aws::instances::{self, Instance, State};
use crate::aws::options::params as awsp;
use crate::aws::{AwsOptions, Service, Session};
use crate::core::deadline::jitter;
use crate::core::params::shorten;
use crate::core::Param;
use crate::fence::{with_fence_options, Ctx, Failure, FenceAgent, Outlet, Power};
use std::time::{Duration, Instant};

pub const SPEC: Spec = Spec {
    name: "fence_ec2",
    shortdesc: "Fence agent for EC2 (stops the instance)",
    longdesc: "fence_ec2 fences a cluster node on AWS by stopping its EC2 instance \
        (StopInstances with Force, and SkipOsShutdown by default), and succeeds only \
        once EC2 reports the instance stopped. The target is an instance id, or with \
        tag a node name found by that tag (no pcmk_host_map needed). Before stopping \
        a peer it checks that this node's own instance is running: in a split, the \
        node that is itself being stopped must not stop the other (skip_race_check \
        turns this off). Credentials, region, proxy and endpoint work exactly as for \
        the ocf:aws resource agents (instance role by default).",
    params: PARAMS,
    iam: IAM,
    services: &[Service::Ec2],
    examples: &[
        "fencing.crm",
        "fencing.pcs",
        "hana.crm",
        "hana.pcs",
        "guides/rhel-sap-hana.pcs",
        "guides/sles-sap-hana.crm",
    ],
    replaces: replaces::REPLACES,
    personality: Personality::Fence {
        vendor_url: "https://aws.amazon.com/ec2/",
        new: |ctx| {
            Ok(Box::new(FenceEc2 {
                cfg: Config::from_ctx(ctx)?,
            }))
        },
    },
};

/// Every AWS API action this agent calls (the IAM policy is made from it).
const IAM: &[Permission] = &[
    Permission::new(
        "ec2:DescribeInstances",
        &[Scope::Any],
        "status, off, on, list, monitor",
    ),
    Permission::new("ec2:StopInstances", &[Scope::Instance], "off, reboot"),
    Permission::new("ec2:StartInstances", &[Scope::Instance], "on, reboot"),
];

const PARAMS: &[Param] = with_fence_options![
    Param::string("plug", "Instance id, or node name with tag")
        .short('n')
        .aliases(&["port"])
        .long(
            "The target: an instance id (i-0123456789abcdef0), as pcmk_host_map maps node \
             names to; or, with tag, the node name whose instance carries that tag.",
        ),
    Param::string("tag", "Tag key whose value is the node name").long(
        "Find targets by this tag key (cluster-glue external/ec2 style): the instance \
         whose tag has the node name as its value is that node's. list then prints node \
         names, so pcmk_host_check=dynamic-list works without pcmk_host_map. Zero or \
         several matching instances are refused, never guessed.",
    ),
    awsp::REGION.short('r'),
    Param::string("access_key", "Access key id")
        .short('a')
        .long("An access key id; with secret_key, used instead of the instance role or a profile."),
    Param::string("secret_key", "Secret access key")
        .short('s')
        .secret()
        .long("The secret access key of access_key. Never logged or printed."),
    Param::string("filter", "EC2 filter for list (name=value)").long(
        "One EC2 DescribeInstances filter that limits list, e.g. tag:Cluster=prod or \
         vpc-id=vpc-0123abcd.",
    ),
    Param::boolean("skip_race_check", "Fence without checking this node first")
        .default("false")
        .long(
            "Skip the check that this node's own instance is running before it stops \
             another. Only for nodes whose instance metadata cannot be read.",
        ),
    Param::boolean("skip_os_shutdown", "Stop without an OS shutdown")
        .default("true")
        .long(
            "StopInstances with SkipOsShutdown: the instance is stopped at once instead of \
             being asked to shut down (a fenced node must not run anything more).",
        ),
    awsp::PROFILE,
    awsp::ROLE_ARN,
    awsp::EXTERNAL_ID,
    awsp::ENDPOINT_URL,
    awsp::PROXY,
    awsp::IMDS_VERSION,
];

/// A configured fence device.
pub struct FenceEc2 {
    cfg: Config,
}

struct Config {
    /// The targets in plug: one for an action, any number for doctor.
    plugs: Vec<String>,
    tag: Option<String>,
    filter: Option<(String, String)>,
    race_check: bool,
    skip_os_shutdown: bool,
    power_wait: Duration,
    aws: AwsOptions,
}

impl Config {
    fn from_ctx(ctx: &Ctx) -> Result<Config, Failure> {
        let p = &ctx.params;
        let tag = p.str("tag").map(str::to_string);
        if let Some(t) = &tag {
            if t.len() > 128 {
                return Err(Failure::config(format!(
                    "tag='{}' is longer than an EC2 tag key can be (128): set tag to the key, e.g. Name",
                    shorten(t)
                )));
            }
        }
        let plugs = p.list("plug");
        if tag.is_none() {
            if let Some(bad) = plugs.iter().find(|p| !ids::valid(p, "i")) {
                return Err(Failure::config(format!(
                    "plug='{}' is not an instance id: set it like i-0123456789abcdef0 (map \
                     node names with pcmk_host_map), or set tag to find the node by a tag of \
                     its instance",
                    shorten(bad)
                )));
            }
        }
        let filter = match p.str("filter") {
            None => None,
            Some(f) => match f.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => Some((k.trim().into(), v.trim().into())),
                _ => {
                    return Err(Failure::config(format!(
                        "filter='{}' is not name=value: set it like tag:Cluster=prod",
                        shorten(f)
                    )))
                }
            },
        };
        Ok(Config {
            plugs,
            tag,
            filter,
            race_check: !p.bool("skip_race_check"),
            skip_os_shutdown: p.bool("skip_os_shutdown"),
            power_wait: Duration::from_secs(p.int("power_wait").max(0) as u64),
            aws: AwsOptions::from_params(p)?,
        })
    }
}

fn power(state: State) -> Power {
    if state.is_off() {
        Power::Off
    } else {
        Power::On
    }
}

impl FenceEc2 {
    /// The one target of a power action or status.
    fn plug(&self) -> Result<&str, Failure> {
        match self.cfg.plugs.as_slice() {
            [one] => Ok(one),
            [] => Err(Failure::config(
                "no plug given: set plug (an instance id, or with tag a node name); \
                 pacemaker-fenced passes it from pcmk_host_map or the node name",
            )),
            many => Err(Failure::config(format!(
                "plug names {} targets ({}): an action fences one",
                many.len(),
                many.join(", ")
            ))),
        }
    }

    fn connect(&self, ctx: &Ctx) -> Result<(Session, crate::aws::imds::Imds), Failure> {
        let imds = ctx.imds(&self.cfg.aws);
        let s = ctx.connect(&self.cfg.aws, &imds)?;
        Ok((s, imds))
    }

    /// The one instance `plug` names: by id, or by the tag's value. Several
    /// or none are refused with their ids; with a tag, terminated
    /// instances count only when nothing else carries the name.
    fn target(&self, s: &Session, plug: &str) -> Result<Instance, Failure> {
        let found = match &self.cfg.tag {
            None => instances::by_ids(s, &[plug], None)?,
            Some(key) => instances::by_tag(s, key, plug)?,
        };
        let live: Vec<&Instance> = found
            .iter()
            .filter(|i| i.state != State::Terminated)
            .collect();
        match (live.as_slice(), &self.cfg.tag) {
            ([one], _) => Ok((*one).clone()),
            ([], _) if !found.is_empty() => Ok(found[0].clone()),
            ([], None) => Err(Failure::config(format!(
                "instance {plug} does not exist in region {}: correct plug (or pcmk_host_map)",
                s.region()
            ))),
            ([], Some(key)) => Err(Failure::config(format!(
                "no instance in region {} has tag {key}={plug}: tag the node's instance, or \
                 correct tag",
                s.region()
            ))),
            (many, key) => Err(Failure::config(format!(
                "{} instances match {}: {}; refusing to guess which one is {plug}",
                many.len(),
                key.as_ref()
                    .map(|k| format!("tag {k}={plug}"))
                    .unwrap_or_else(|| plug.to_string()),
                many.iter()
                    .map(|i| format!("{} ({})", i.id, i.state.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The race check: this node's own instance must be running, or this
    /// node is the one being fenced. Fails closed: without its own
    /// identity it does not fence at all. Returns the target, read in the
    /// same request when it is an instance id.
    fn race_check(
        &self,
        s: &Session,
        imds: &crate::aws::imds::Imds,
        plug: &str,
    ) -> Result<Instance, Failure> {
        let own_id = || {
            Identity::new(imds).instance_id().map_err(|e| {
                Failure::refuse(format!(
                    "cannot read this node's own instance id ({e}); refusing to fence \
                     without the race check (skip_race_check=true turns it off)"
                ))
            })
        };
        let ask = |own: &str| {
            let asked: Vec<&str> = match &self.cfg.tag {
                None if plug != own => vec![own, plug],
                _ => vec![own],
            };
            instances::by_ids(s, &asked, None)
        };
        let mut own = own_id()?;
        let mut found = ask(&own)?;
        // The identity cache may be what EC2 contradicts (a copied run
        // directory): ask the metadata service itself, once.
        if !found.iter().any(|i| i.id == own) && imds.has_cache() {
            imds.forget_cache();
            own = own_id()?;
            found = ask(&own)?;
        }
        let Some(me) = found.iter().find(|i| i.id == own) else {
            return Err(Failure::refuse(format!(
                "this node's own instance {own} is not in region {}: refusing to fence (wrong \
                 region or credentials of another account?)",
                s.region()
            )));
        };
        if me.state != State::Running {
            return Err(Failure::refuse(format!(
                "this node's own instance {own} is {}: this node is the one being fenced, so \
                 it does not stop {plug}",
                me.state.as_str()
            )));
        }
        match &self.cfg.tag {
            None => match found.iter().find(|i| i.id == plug) {
                Some(t) => Ok(t.clone()),
                None => self.target(s, plug),
            },
            Some(_) => self.target(s, plug),
        }
    }

    /// Poll the target until `done`, with backoff, within the deadline.
    fn wait_for(
        &self,
        ctx: &Ctx,
        s: &Session,
        id: &str,
        mut state: State,
        want: &str,
        done: fn(State) -> bool,
    ) -> Result<(), Failure> {
        let started = Instant::now();
        if !self.cfg.power_wait.is_zero() {
            std::thread::sleep(ctx.deadline.slice(self.cfg.power_wait));
        }
        let mut pause = Duration::from_millis(250);
        let mut verified = false;
        let still = |state: State| {
            Failure::timed_out(format!(
                "timed out after {:.0}s waiting for {id} to be {want} (it is {}): raise \
                 power_timeout, keeping it below pcmk_off_timeout / fencing-timeout",
                started.elapsed().as_secs_f64(),
                state.as_str()
            ))
        };
        loop {
            // The answer of the power request counts only once a read
            // confirms it (a stale read just means another poll).
            if verified && done(state) {
                log::info!(
                    "{id} is {} after {:.1}s",
                    state.as_str(),
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            if ctx.deadline.remaining() <= pause + Duration::from_millis(300) {
                return Err(still(state));
            }
            if verified {
                std::thread::sleep(jitter(pause / 2, pause));
                pause = (pause * 2).min(Duration::from_secs(4));
            }
            state = match instances::by_ids(s, &[id], None) {
                Ok(found) => match found.first() {
                    Some(i) => i.state,
                    // Gone from the answer: terminated and forgotten.
                    None => State::Terminated,
                },
                // The deadline ran out during a poll after an earlier one
                // answered: the state that one saw is the news, not the
                // slow last request.
                Err(e) if e.is_timeout() && verified => return Err(still(state)),
                Err(e) => return Err(e.into()),
            };
            verified = true;
            log::debug!("{id} is {}", state.as_str());
        }
    }
}

impl FenceAgent for FenceEc2 {
    fn status(&self, ctx: &Ctx) -> Result<Power, Failure> {
        let plug = self.plug()?;
        let (s, _) = self.connect(ctx)?;
        let t = self.target(&s, plug)?;
        log::debug!("{plug}: {} is {}", t.id, t.state.as_str());
        Ok(power(t.state))
    }

    fn off(&self, ctx: &Ctx) -> Result<(), Failure> {
        let plug = self.plug()?;
        let (s, imds) = self.connect(ctx)?;
        let t = if self.cfg.race_check {
            self.race_check(&s, &imds, plug)?
        } else {
            self.target(&s, plug)?
        };
        if t.state.is_off() {
            log::info!("{} is already {}: nothing to stop", t.id, t.state.as_str());
            return Ok(());
        }
        log::info!("stopping {} ({plug}, {})", t.id, t.state.as_str());
        let state = instances::stop(&s, &t.id, self.cfg.skip_os_shutdown)?;
        self.wait_for(ctx, &s, &t.id, state, "stopped", State::is_off)
    }

    fn on(&self, ctx: &Ctx) -> Result<(), Failure> {
        let plug = self.plug()?;
        let (s, _) = self.connect(ctx)?;
        let t = self.target(&s, plug)?;
        match t.state {
            State::Running => return Ok(()),
            State::Terminated => {
                return Err(Failure::config(format!(
                    "{} ({plug}) is terminated: it can never run again; replace the node",
                    t.id
                )))
            }
            // EC2 refuses to start an instance that is still stopping.
            State::Stopping | State::ShuttingDown => {
                self.wait_for(ctx, &s, &t.id, t.state, "stopped", State::is_off)?
            }
            _ => {}
        }
        let state = instances::start(&s, &t.id)?;
        self.wait_for(ctx, &s, &t.id, state, "running", |st| st == State::Running)
    }

    fn list(&self, ctx: &Ctx) -> Result<Vec<Outlet>, Failure> {
        let (s, _) = self.connect(ctx)?;
        let filter = self
            .cfg
            .filter
            .as_ref()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let tag = self.cfg.tag.as_deref();
        Ok(instances::list(&s, filter, tag)?
            .into_iter()
            .filter(|i| i.state != State::Terminated)
            .filter_map(|i| {
                let plug = match tag {
                    Some(_) => i.tag.clone()?,
                    None => i.id.clone(),
                };
                Some(Outlet {
                    plug,
                    id: i.id,
                    power: Some(power(i.state)),
                })
            })
            .collect())
    }

    fn monitor(&self, ctx: &Ctx) -> Result<(), Failure> {
        let (s, _) = self.connect(ctx)?;
        Ok(instances::may_describe(&s)?)
    }

    fn validate(&self, ctx: &Ctx) -> Result<(), Failure> {
        let (s, _) = self.connect(ctx)?;
        instances::may_describe(&s)?;
        for plug in &self.cfg.plugs {
            self.target(&s, plug)?;
        }
        Ok(())
    }
}
