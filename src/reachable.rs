//! `ocf-aws api-reachable`: can this node reach and use the AWS API its
//! agents need? Meant for corosync-qdevice's heuristics: in a tie, qnetd
//! gives the vote to the partition whose nodes answer 0, so the node that
//! can still move the addresses survives the split.
//!
//! "Reach" means a signed request answered as allowed, not a TCP connect:
//! a node whose proxy, credentials or clock are broken cannot fail over
//! either, and must lose the tie just like one whose network is cut. The
//! request is a DryRun (changes nothing, costs no API quota that matters)
//! through exactly the endpoint, proxy and credential settings the agents
//! use (the shared AWS parameters, given as NAME=VALUE).

use crate::aws::probes::{self, ProbeArgs, Verdict};
use crate::aws::{params, AwsEnv, AwsOptions, Service, Session};
use crate::core::params::Params;
use crate::core::Deadline;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the command was asked.
pub struct Request {
    pub timeout: Duration,
    /// Also ask Route 53 (ListResourceRecordSets on this hosted zone), for
    /// clusters whose dns resource must move too.
    pub route53_zone: Option<String>,
    /// The shared AWS parameters as NAME=VALUE (region=…, proxy=…, …).
    pub settings: Vec<String>,
}

/// Exit status: 0 reachable, 1 not (or not within the timeout), 2 bad
/// arguments. One line of evidence on stdout either way.
pub fn main(req: &Request) -> i32 {
    let started = Instant::now();
    // The timeout is a promise to corosync-qdevice, which counts a late
    // answer as a failure and may kill us: a watchdog keeps it even if a
    // step below overruns its share of the deadline.
    let grace = req.timeout + Duration::from_millis(200);
    let timeout = req.timeout;
    std::thread::spawn(move || {
        std::thread::sleep(grace);
        println!("unreachable: no answer within {}", secs(timeout));
        std::process::exit(1);
    });
    match check(req) {
        Ok(evidence) => {
            println!(
                "reachable: {evidence} in {} ms",
                started.elapsed().as_millis()
            );
            0
        }
        Err(Failure::Args(why)) => {
            println!("unreachable: {why}");
            eprintln!("ocf-aws api-reachable: {why}");
            2
        }
        Err(Failure::Api(why)) => {
            println!(
                "unreachable: {why} (after {} ms)",
                started.elapsed().as_millis()
            );
            1
        }
    }
}

enum Failure {
    Args(String),
    Api(String),
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn settings(words: &[String]) -> Result<Params, Failure> {
    let mut raw = BTreeMap::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(Failure::Args(format!(
                "'{w}' is not NAME=VALUE (e.g. region=eu-central-1)"
            )));
        };
        if !params::ALL.iter().any(|p| p.answers_to(k)) {
            let names: Vec<&str> = params::ALL.iter().map(|p| p.name).collect();
            return Err(Failure::Args(format!(
                "unknown setting '{k}' (one of: {})",
                names.join(", ")
            )));
        }
        raw.insert(k.to_string(), v.to_string());
    }
    Params::parse(params::ALL, &raw).map_err(|e| Failure::Args(e.to_string()))
}

fn check(req: &Request) -> Result<String, Failure> {
    let p = settings(&req.settings)?;
    let opts = AwsOptions::from_params(&p).map_err(|e| Failure::Args(e.to_string()))?;
    let env = AwsEnv::from_process();
    let deadline = Deadline::from_timeout(req.timeout);
    let imds = opts.live_imds(&env, deadline);
    let s = Session::connect(&opts, &env, &imds, deadline)
        .map_err(|e| Failure::Api(format!("no AWS session: {e}")))?;
    let ec2 = ask(&s, "ec2:DescribeAvailabilityZones", &ProbeArgs::default())?;
    let mut evidence = format!(
        "EC2 {} at {} answered ({ec2}) as {}",
        s.region(),
        s.route(Service::Ec2).endpoint,
        s.identity()
    );
    if let Some(zone) = &req.route53_zone {
        let args = ProbeArgs {
            hosted_zone_id: Some(zone.clone()),
            ..ProbeArgs::default()
        };
        let r53 = ask(&s, "route53:ListResourceRecordSets", &args)?;
        evidence.push_str(&format!("; Route 53 zone {zone} answered ({r53})"));
    }
    Ok(evidence)
}

fn ask(s: &Session, action: &str, args: &ProbeArgs) -> Result<String, Failure> {
    match probes::permission(s, action, args) {
        Verdict::Allowed(how) => Ok(how),
        Verdict::Denied(why) => Err(Failure::Api(format!("{action} denied: {why}"))),
        Verdict::Untestable(why) | Verdict::Failed(why) => {
            Err(Failure::Api(format!("{action}: {why}")))
        }
    }
}
