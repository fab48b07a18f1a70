//! The az agent against moto (behind the fault proxy, which can mark a zone
//! impaired) with the stand-in attrd_updater of tests/world, which records
//! what the agent published.

use crate::world::*;
use serde_json::Value;

fn setup() -> Rsc {
    Rsc::new(World::new(), "az").proxied().attrd()
}

/// Every attrd_updater call the agent made, oldest first.
fn calls(a: &Rsc) -> Vec<Value> {
    std::fs::read_to_string(a.attrd_log())
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn last_value(a: &Rsc) -> Option<String> {
    calls(a).last().and_then(|c| match c["op"].as_str() {
        Some("update-both") | Some("update") => c["value"].as_str().map(String::from),
        _ => None,
    })
}

fn zone(a: &Rsc) -> String {
    a.w.node("node1").az.clone()
}

fn publishes_zone_health_and_follows_impairment() {
    let a = setup();
    a.run_env("node1", "start", &[], &[]).expect(0);
    let first = &calls(&a)[0];
    assert_eq!(first["op"], "update-both", "{first}");
    assert_eq!(first["name"], "#health-aws-az");
    assert_eq!(first["value"], "green");
    assert_eq!(first["delay"], "30s");
    a.run_env("node1", "monitor", &[], &[]).expect(0);
    assert_eq!(last_value(&a).as_deref(), Some("green"));

    a.proxy()
        .ctl(&format!("zone-state?zone={}&state=impaired", zone(&a)));
    a.run_env("node1", "monitor", &[], &[]).expect(0);
    assert_eq!(last_value(&a).as_deref(), Some("red"));

    a.proxy()
        .ctl(&format!("zone-state?zone={}&state=information", zone(&a)));
    a.run_env("node1", "monitor", &[], &[]).expect(0);
    assert_eq!(last_value(&a).as_deref(), Some("yellow"));

    a.proxy()
        .ctl(&format!("zone-state?zone={}&state=available", zone(&a)));
    a.run_env("node1", "monitor", &[], &[]).expect(0);
    assert_eq!(last_value(&a).as_deref(), Some("green"));

    // Stop deletes the attribute: a stale red would ban the node forever.
    a.run_env("node1", "stop", &[], &[]).expect(0);
    let last = calls(&a).last().cloned().unwrap();
    assert_eq!(last["op"], "delete", "{last}");
    assert_eq!(last["name"], "#health-aws-az");
    a.run_env("node1", "monitor", &[], &[]).expect(7);
    a.run_env("node1", "stop", &[], &[]).expect(0);
}

fn custom_attribute_zone_and_dampen() {
    let a = setup();
    let zone = a.w.node("node2").az.clone();
    let p = [
        ("attribute", "#health-az-b"),
        ("availability_zone", zone.as_str()),
        ("dampen", "5s"),
    ];
    a.proxy()
        .ctl(&format!("zone-state?zone={zone}&state=unavailable"));
    a.run_env("node1", "start", &p, &[]).expect(0);
    let c = &calls(&a)[0];
    assert_eq!(
        (c["name"].as_str(), c["value"].as_str(), c["delay"].as_str()),
        (Some("#health-az-b"), Some("red"), Some("5s"))
    );
}

fn attrd_failure_is_degraded() {
    let a = setup();
    a.run_env("node1", "start", &[], &[]).expect(0);
    // attrd not connected for the whole (short) deadline: degraded.
    let r = a.run_env(
        "node1",
        "monitor",
        &[],
        &[
            ("ATTRD_EXIT", "102"),
            ("OCF_RESKEY_CRM_meta_timeout", "4000"),
        ],
    );
    assert_eq!(r.rc, 190, "{}", r.stderr);
    r.reason_has(&["attrd_updater"]);
    // Any other failure is not waited for.
    let r = a.run_env("node1", "monitor", &[], &[("ATTRD_EXIT", "1")]);
    assert_eq!(r.rc, 190, "{}", r.stderr);
}

/// A node that has just booted after fencing: its first monitors may run
/// before pacemaker-attrd is connected (exit 102); the agent asks again
/// within the deadline instead of recording a failed monitor.
fn attrd_connecting_late_is_waited_for() {
    let a = setup();
    a.run_env("node1", "start", &[], &[]).expect(0);
    let before = calls(&a).len();
    let r = a.run_env(
        "node1",
        "monitor",
        &[],
        &[("ATTRD_EXIT", "102"), ("ATTRD_EXIT_FIRST", "2")],
    );
    assert_eq!(r.rc, 0, "{}", r.stderr);
    let c = calls(&a);
    let tries: Vec<_> = c[before..].iter().map(|c| c["exit"].as_i64()).collect();
    assert_eq!(tries, [Some(102), Some(102), Some(0)], "{c:?}");
}

fn probes_and_unstarted_monitors_publish_nothing() {
    let a = setup();
    a.run_env(
        "node1",
        "monitor",
        &[],
        &[("OCF_RESKEY_CRM_meta_interval", "")],
    )
    .expect(7);
    a.run_env("node1", "monitor", &[], &[]).expect(7);
    assert!(calls(&a).is_empty(), "{:?}", calls(&a));
    assert_eq!(a.proxy().stats()["requests"], 0);
}

fn configuration_errors() {
    let a = setup();
    a.run_env("node1", "start", &[("attribute", "aws-az")], &[])
        .expect(6)
        .reason_has(&["aws-az", "#health"]);
    a.run_env(
        "node1",
        "start",
        &[("availability_zone", "us-east-1z")],
        &[],
    )
    .expect(6)
    .reason_has(&["us-east-1z"]);
    a.run_env(
        "node1",
        "start",
        &[("availability_zone", "Not A Zone")],
        &[],
    )
    .expect(6)
    .reason_has(&["Not A Zone"]);
    a.run_env("node1", "start", &[("dampen", "soon")], &[])
        .expect(6)
        .reason_has(&["soon"]);
    assert!(calls(&a).is_empty());
    // No attrd_updater at all: rc 5 naming it.
    let r = a.run_env("node1", "start", &[], &[("PATH", "/nonexistent")]);
    r.expect(5).reason_has(&["attrd_updater"]);
}

fn api_failure_keep_or_publish() {
    let a = setup();
    a.run_env("node1", "start", &[], &[]).expect(0);
    let n = calls(&a).len();
    a.proxy()
        .ctl("rule?action=DescribeAvailabilityZones&fault=status&code=503");
    let short = [("OCF_RESKEY_CRM_meta_timeout", "4000")];
    let r = a.run_env("node1", "monitor", &[], &short);
    r.expect(0);
    assert!(r.stderr.contains("WARNING"), "{}", r.stderr);
    assert_eq!(calls(&a).len(), n, "keep publishes nothing");
    a.run_env("node1", "monitor", &[("api_failure", "red")], &short)
        .expect(0);
    assert_eq!(last_value(&a).as_deref(), Some("red"));
    a.proxy().ctl("reset");
    a.run_env("node1", "monitor", &[], &[]).expect(0);
    assert_eq!(last_value(&a).as_deref(), Some("green"));
}

fn meta_data_valid() {
    let text = xml_valid("az");
    assert!(text.contains("allow-unhealthy-nodes"));
}

tests![
    publishes_zone_health_and_follows_impairment,
    custom_attribute_zone_and_dampen,
    attrd_failure_is_degraded,
    attrd_connecting_late_is_waited_for,
    probes_and_unstarted_monitors_publish_nothing,
    configuration_errors,
    api_failure_keep_or_publish,
    meta_data_valid,
];
