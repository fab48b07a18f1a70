//! `ocf-aws api-reachable`, the quorum-device heuristic: 0 with one line of
//! evidence when a signed request is answered as allowed, 1 (within its
//! timeout) when AWS is cut off, hangs, refuses the credentials or denies,
//! 2 on bad arguments. Run as corosync-qdevice runs it: a clean
//! environment, the node's instance metadata, requests through the fault
//! proxy.

use crate::world::*;
use std::process::Command;
use std::time::Duration;

fn reachable(w: &World, proxy_url: &str, args: &[&str]) -> Run {
    let n = w.node("node1");
    let mut cmd = Command::new(BIN);
    cmd.arg("api-reachable")
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("AWS_ENDPOINT_URL", proxy_url)
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &n.imds);
    let t = std::time::Instant::now();
    let out = cmd.output().expect("run api-reachable");
    Run::new(out, t.elapsed())
}

fn one_line(r: &Run) -> &str {
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "not one line of evidence: {r:?}");
    lines[0]
}

/// Reachable: exit 0, the region, endpoint and identity named, and the
/// request really went out signed (the proxy saw DescribeAvailabilityZones).
fn reachable_node_answers_0_with_evidence() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    let r = reachable(&w, &proxy.url(), &[]);
    assert_eq!(r.rc, 0, "{r:?}");
    let line = one_line(&r);
    assert!(line.starts_with("reachable: EC2 us-east-1"), "{line}");
    assert!(line.contains("instance role ha-cluster-node"), "{line}");
    let log = proxy.log();
    assert!(
        log.iter()
            .any(|e| e["action"] == "DescribeAvailabilityZones" && e["key"] != ""),
        "{log:#?}"
    );
}

/// Route 53 on request: ListResourceRecordSets on the zone, named in the
/// evidence; a zone that does not exist is not "reachable".
fn route53_zone_is_asked_when_named() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    let (zone, _) = w.create_zone(true);
    let r = reachable(&w, &proxy.url(), &["--route53", &zone]);
    assert_eq!(r.rc, 0, "{r:?}");
    assert!(
        one_line(&r).contains(&format!("Route 53 zone {zone}")),
        "{r:?}"
    );
    assert!(proxy
        .log()
        .iter()
        .any(|e| e["action"] == "ListResourceRecordSets"));
    let r = reachable(&w, &proxy.url(), &["--route53", "Z0000000000NOSUCHZONE"]);
    assert_eq!(r.rc, 1, "{r:?}");
    assert!(one_line(&r).starts_with("unreachable: "), "{r:?}");
}

/// The API hangs (a cut path that swallows packets): exit 1 within the
/// timeout, never later, saying so.
fn hanging_api_fails_within_the_timeout() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    proxy.ctl("rule?action=*&fault=hang");
    let r = reachable(&w, &proxy.url(), &["--timeout", "1.5"]);
    assert_eq!(r.rc, 1, "{r:?}");
    assert!(one_line(&r).starts_with("unreachable: "), "{r:?}");
    assert!(
        r.elapsed < Duration::from_millis(2300),
        "took {:?}",
        r.elapsed
    );
}

/// Nothing listens where the endpoint points (connection refused): 1.
fn refused_endpoint_is_unreachable() {
    let w = World::new();
    let r = reachable(&w, "http://127.0.0.1:9", &["--timeout", "2"]);
    assert_eq!(r.rc, 1, "{r:?}");
    assert!(one_line(&r).starts_with("unreachable: "), "{r:?}");
    assert!(
        r.elapsed < Duration::from_millis(2700),
        "took {:?}",
        r.elapsed
    );
}

/// AWS answers but denies: this node could not move anything, so it must
/// lose the tie too (exit 1, the action named).
fn denied_is_unreachable_and_names_the_action() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    proxy.ctl("rule?action=DescribeAvailabilityZones&fault=deny");
    let r = reachable(&w, &proxy.url(), &[]);
    assert_eq!(r.rc, 1, "{r:?}");
    let line = one_line(&r);
    assert!(
        line.contains("ec2:DescribeAvailabilityZones denied"),
        "{line}"
    );
}

/// The settings are the agents' own: a proxy setting is used (a proxy
/// that does not exist makes the node unreachable), and unknown names or
/// values are usage errors (2) that name the bad word.
fn settings_are_the_agents_and_bad_ones_are_exit_2() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    // By name: the instance metadata's host (127.0.0.1 here) never goes
    // through a proxy, so the API must not share it for this check.
    let by_name = proxy.url().replace("127.0.0.1", "localhost");
    assert_eq!(reachable(&w, &by_name, &["--timeout", "2"]).rc, 0);
    let r = reachable(
        &w,
        &by_name,
        &["--timeout", "2", "proxy=http://127.0.0.1:9"],
    );
    assert_eq!(r.rc, 1, "a dead proxy setting was ignored: {r:?}");
    let r = reachable(&w, &proxy.url(), &["regoin=eu-west-1"]);
    assert_eq!(r.rc, 2, "{r:?}");
    assert!(r.stderr.contains("regoin"), "{r:?}");
    let r = reachable(&w, &proxy.url(), &["eu-west-1"]);
    assert_eq!(r.rc, 2, "{r:?}");
    let r = reachable(&w, &proxy.url(), &["--timeout", "0"]);
    assert_eq!(r.rc, 2, "{r:?}");
}

tests![
    reachable_node_answers_0_with_evidence,
    route53_zone_is_asked_when_named,
    hanging_api_fails_within_the_timeout,
    refused_endpoint_is_unreachable,
    denied_is_unreachable_and_names_the_action,
    settings_are_the_agents_and_bad_ones_are_exit_2,
];
