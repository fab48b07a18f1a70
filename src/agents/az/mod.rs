//! `az`: Availability-Zone health as Pacemaker node health (CLUSTERPRO
//! "AWS AZ monitor"). A cloned agent whose monitor publishes a `#health-*`
//! node attribute from the EC2 zone state, so that with
//! node-health-strategy=migrate-on-red Pacemaker moves every resource off
//! a node whose zone is impaired, the way HealthCPU and HealthSMART work.
//! Its doctor checks are in `doctor.rs`.

mod doctor;

use super::{Personality, Spec};
use crate::aws::ec2;
use crate::aws::iam::{Permission, Scope};
use crate::aws::imds::{Imds, Instance};
use crate::aws::options::with_aws_settings;
use crate::aws::{AwsOptions, Service};
use crate::core::params::{shorten, Kind};
use crate::core::state::StateFile;
use crate::core::{Deadline, Param};
use crate::ocf::{ActionSpec, Agent, Ctx, OcfError, OcfResult, Rc};
use std::process::{Command, Stdio};
use std::time::Duration;

pub const SPEC: Spec = Spec {
    name: "az",
    shortdesc: "Availability Zone health as a node-health attribute",
    longdesc: "Publishes the state of this node's AWS Availability Zone as the Pacemaker \
        node attribute #health-aws-az: available is green, impaired or unavailable is \
        red, any other state yellow. Run it as a clone with meta \
        allow-unhealthy-nodes=true (otherwise it is itself moved off a red node and \
        can never turn it green again) and set the cluster property \
        node-health-strategy=migrate-on-red (or progressive): every resource then \
        leaves a node whose zone is impaired. The monitor asks EC2 \
        (DescribeAvailabilityZones) and publishes with attrd_updater; it returns 190 \
        (degraded) when the attribute cannot be written. Stop deletes the attribute, \
        so a stale red never keeps a node banned. If EC2 cannot be asked at start, \
        start still succeeds and publishes nothing (or the api_failure colour): \
        failing it would ban the health agent itself from the node.",
    params: PARAMS,
    iam: IAM,
    services: &[Service::Ec2],
    examples: &["az.crm", "az.pcs", "group.crm", "group.pcs"],
    // Nothing of ClusterLabs' does this.
    replaces: &[],
    personality: Personality::Resource {
        actions: &[
            ActionSpec::new("start", 30),
            ActionSpec::new("stop", 30),
            ActionSpec::monitor(30, 30, 0),
            ActionSpec::new("validate-all", 20),
            ActionSpec::new("meta-data", 5),
        ],
        new: |ctx| {
            Ok(Box::new(Az {
                cfg: Config::from_ctx(ctx)?,
            }))
        },
    },
};

/// Every AWS API action this agent calls (the IAM policy is made from it).
const IAM: &[Permission] = &[Permission::new(
    "ec2:DescribeAvailabilityZones",
    &[Scope::Any],
    "start, monitor",
)];

const PARAMS: &[Param] = with_aws_settings![
    Param::string("availability_zone", "Zone to watch").long(
        "Name of the Availability Zone to watch, e.g. eu-central-1a. Default: this \
         instance's zone from the instance metadata.",
    ),
    Param::string("attribute", "Node attribute to publish")
        .default("#health-aws-az")
        .long("Name of the node-health attribute; Pacemaker only treats names starting with #health as health."),
    Param::string("dampen", "attrd dampening delay")
        .default("30s")
        .long("How long attrd waits for further changes before writing the attribute, e.g. 30s or 1m."),
    Param::new(
        "api_failure",
        Kind::Select(&["keep", "yellow", "red"]),
        "What to publish when EC2 cannot be asked",
    )
    .default("keep")
    .long(
        "When DescribeAvailabilityZones cannot be answered (network, throttling, AWS \
         outage): keep leaves the last published value and logs a warning; yellow or \
         red publishes that colour.",
    ),
];

/// A configured az resource: every action works from its validated
/// parameters.
pub struct Az {
    cfg: Config,
}

struct Config {
    zone: Option<String>,
    attribute: String,
    dampen: String,
    on_api_failure: Option<&'static str>,
    aws: AwsOptions,
}

/// The colour Pacemaker's node health understands for an EC2 zone state.
pub fn colour(state: &str) -> &'static str {
    match state {
        "available" => "green",
        "impaired" | "unavailable" => "red",
        _ => "yellow",
    }
}

fn check_dampen(v: &str) -> OcfResult<String> {
    let (num, unit) = v
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| v.split_at(i))
        .unwrap_or((v, ""));
    let ok = !num.is_empty()
        && num.len() <= 6
        && matches!(unit, "" | "s" | "ms" | "m" | "h" | "sec" | "min");
    if ok {
        Ok(v.to_string())
    } else {
        Err(OcfError::configured(format!(
            "dampen='{}' is not a duration: set it like 30s or 1m",
            shorten(v)
        )))
    }
}

fn check_zone(z: &str) -> OcfResult<()> {
    let ok = z.len() <= 32
        && z.contains('-')
        && z.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && z.ends_with(|c: char| c.is_ascii_lowercase());
    if ok {
        Ok(())
    } else {
        Err(OcfError::configured(format!(
            "availability_zone='{}' is not a zone name: set it like eu-central-1a, or \
             leave it unset for this instance's zone",
            shorten(z)
        )))
    }
}

impl Config {
    fn from_ctx(ctx: &Ctx) -> OcfResult<Config> {
        let p = &ctx.params;
        let attribute = p.str("attribute").unwrap_or("#health-aws-az").to_string();
        let valid_attr = attribute.starts_with("#health")
            && attribute.len() <= 128
            && attribute
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "#-_.".contains(c));
        if !valid_attr {
            return Err(OcfError::configured(format!(
                "attribute='{}' does not start with #health: set it like #health-aws-az \
                 (Pacemaker reads only #health* attributes as node health)",
                shorten(&attribute)
            )));
        }
        if let Some(z) = p.str("availability_zone") {
            check_zone(z)?;
        }
        Ok(Config {
            zone: p.str("availability_zone").map(str::to_string),
            attribute,
            dampen: check_dampen(p.str("dampen").unwrap_or("30s"))?,
            on_api_failure: match p.str("api_failure") {
                Some("yellow") => Some("yellow"),
                Some("red") => Some("red"),
                _ => None,
            },
            aws: AwsOptions::from_params(p)?,
        })
    }
}

/// attrd_updater's version line: proof that it runs (validate and doctor
/// ask exactly this way).
fn attrd_version() -> OcfResult<String> {
    attrd(&["--version"]).map(|out| out.lines().next().unwrap_or("present").trim().to_string())
}

/// attrd_updater's exit status when pacemaker-attrd cannot be reached
/// (CRM_EX_DISCONNECT, "Not connected"): on a node that has just booted and
/// is joining, attrd comes up a moment after the first monitor may run.
const ATTRD_NOT_CONNECTED: i32 = 102;

/// attrd_updater, asked again every half second while attrd is not
/// connected yet, within the action's deadline (with a second to spare for
/// the last attempt): a node rejoining after fencing otherwise records a
/// failed monitor for a moment's start-up order.
fn attrd_within(args: &[&str], deadline: &Deadline) -> OcfResult<String> {
    loop {
        match attrd_status(args)? {
            Ok(out) => return Ok(out),
            Err((Some(ATTRD_NOT_CONNECTED), _))
                if deadline.remaining() > Duration::from_millis(1500) =>
            {
                std::thread::sleep(Duration::from_millis(500));
            }
            Err((_, e)) => return Err(e),
        }
    }
}

/// Run Pacemaker's attrd_updater with a fixed argument vector; its stdout.
fn attrd(args: &[&str]) -> OcfResult<String> {
    attrd_status(args)?.map_err(|(_, e)| e)
}

/// attrd_updater's stdout, or its exit code and the error it makes; the
/// outer error is that it could not be run at all.
fn attrd_status(args: &[&str]) -> OcfResult<Result<String, (Option<i32>, OcfError)>> {
    let out = Command::new("attrd_updater")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                OcfError::installed(
                    "attrd_updater is not in PATH: install Pacemaker's command-line tools \
                     (pacemaker-cli-utils / pacemaker-cli)",
                )
            } else {
                OcfError::generic(format!("cannot run attrd_updater: {e}"))
            }
        })?;
    if out.status.success() {
        return Ok(Ok(String::from_utf8_lossy(&out.stdout).into_owned()));
    }
    Ok(Err((
        out.status.code(),
        OcfError::new(
            Rc::Degraded,
            format!(
                "attrd_updater {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ),
    )))
}

impl Az {
    fn state(&self, ctx: &Ctx) -> StateFile {
        ctx.state(&self.cfg.attribute)
    }

    /// The zone to watch: availability_zone, else this instance's.
    fn zone(&self, imds: &Imds) -> OcfResult<String> {
        match &self.cfg.zone {
            Some(z) => Ok(z.clone()),
            None => Ok(Instance::new(imds).availability_zone()?),
        }
    }

    fn publish(&self, ctx: &Ctx, colour: &str) -> OcfResult<()> {
        let c = &self.cfg;
        attrd_within(
            &["-n", &c.attribute, "-B", colour, "-d", &c.dampen],
            &ctx.deadline,
        )
        .map(|_| ())
    }

    /// Ask EC2 for the zone and publish its colour. Returns the colour.
    fn refresh(
        &self,
        ctx: &Ctx,
        zone: Option<&str>,
        last: Option<&str>,
    ) -> OcfResult<(String, String)> {
        let c = &self.cfg;
        let imds = ctx.imds(&c.aws);
        let zone = match zone {
            Some(z) => z.to_string(),
            None => self.zone(&imds)?,
        };
        let state = ctx
            .connect(&c.aws, &imds)
            .and_then(|s| Ok(ec2::zone_state(&s, &zone)?));
        let colour = match state {
            Ok(Some(st)) => {
                let col = colour(&st);
                if last != Some(col) {
                    log::info!("{zone} is {st}: publishing {}={col}", c.attribute);
                }
                col
            }
            Ok(None) => {
                return Err(OcfError::configured(format!(
                    "availability zone {zone} does not exist in this region: correct \
                     availability_zone or region"
                )))
            }
            Err(e) if e.rc == Rc::Generic => match c.on_api_failure {
                Some(col) => {
                    log::warn!(
                        "cannot ask EC2 about {zone} ({}): publishing {col}",
                        e.reason
                    );
                    col
                }
                None => {
                    log::warn!(
                        "cannot ask EC2 about {zone} ({}): {} keeps its last value",
                        e.reason,
                        c.attribute
                    );
                    return Ok((zone, last.unwrap_or("").to_string()));
                }
            },
            Err(e) => return Err(e),
        };
        self.publish(ctx, colour)?;
        Ok((zone, colour.to_string()))
    }

    fn record(&self, ctx: &Ctx, zone: &str, colour: &str) {
        self.state(ctx)
            .record(&[("zone", zone), ("colour", colour)]);
    }
}

impl Agent for Az {
    fn validate(&self, ctx: &Ctx) -> OcfResult<()> {
        if ctx.depth >= 10 {
            // attrd_updater must be runnable (it answers --version without a cluster).
            attrd_version().map(|_| ()).map_err(|e| match e.rc {
                Rc::Installed => e,
                _ => OcfError::installed(format!("attrd_updater does not work: {}", e.reason)),
            })?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> OcfResult<()> {
        match self.refresh(ctx, None, None) {
            Ok((zone, colour)) => {
                self.record(ctx, &zone, &colour);
                Ok(())
            }
            // The zone is known and the agent is running; only the attribute
            // is missing: degraded, and the next monitor tries again.
            Err(e) if e.rc == Rc::Degraded => {
                let zone = self.cfg.zone.clone().unwrap_or_default();
                self.record(ctx, &zone, "");
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn stop(&self, ctx: &Ctx) -> OcfResult<()> {
        let c = &self.cfg;
        // A stale red would keep this node banned forever.
        if let Err(e) = attrd(&["-n", &c.attribute, "-D"]) {
            log::warn!("could not delete {}: {}", c.attribute, e.reason);
        }
        self.state(ctx).forget();
        Ok(())
    }

    fn monitor(&self, ctx: &Ctx) -> OcfResult<()> {
        let Some(st) = self.state(ctx).read() else {
            return Err(OcfError::not_running(
                "AZ health is not started on this node",
            ));
        };
        if ctx.probe {
            return Ok(());
        }
        let zone = st.get("zone").filter(|z| !z.is_empty()).map(String::as_str);
        let last = st
            .get("colour")
            .filter(|c| !c.is_empty())
            .map(String::as_str);
        match self.refresh(ctx, zone, last) {
            Ok((zone, colour)) => {
                if Some(colour.as_str()) != last && !colour.is_empty() {
                    self.record(ctx, &zone, &colour);
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        assert_eq!(colour("available"), "green");
        assert_eq!(colour("impaired"), "red");
        assert_eq!(colour("unavailable"), "red");
        assert_eq!(colour("information"), "yellow");
        assert_eq!(colour("constrained"), "yellow");
    }

    #[test]
    fn dampen_values() {
        assert!(check_dampen("30s").is_ok());
        assert!(check_dampen("5").is_ok());
        assert!(check_dampen("1m").is_ok());
        assert!(check_dampen("soon").is_err());
        assert!(check_dampen("").is_err());
        assert!(check_dampen("9999999s").is_err());
    }
}
