//! The az agent against moto (behind the fault proxy, which can mark a zone
//! impaired) with the stand-in attrd_updater of tests/world, which records
//! what the agent published.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;

struct Az {
    w: World,
    proxy: Helper,
    log: PathBuf,
}

fn setup() -> Az {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    let log = w.dir.join("attrd.log");
    Az { w, proxy, log }
}

impl Az {
    fn run(&self, action: &str, params: &[(&str, &str)], extra_env: &[(&str, &str)]) -> Run {
        let path = format!(
            "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            repo().join("tests/world").display()
        );
        let url = self.proxy.url();
        let log = self.log.display().to_string();
        let mut env = vec![
            ("PATH", path.as_str()),
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("ATTRD_LOG", log.as_str()),
        ];
        env.extend_from_slice(extra_env);
        self.w.agent_env("node1", "az", action, params, &env)
    }

    /// Every attrd_updater call the agent made, oldest first.
    fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn last_value(&self) -> Option<String> {
        self.calls().last().and_then(|c| match c["op"].as_str() {
            Some("update-both") | Some("update") => c["value"].as_str().map(String::from),
            _ => None,
        })
    }

    fn zone(&self) -> String {
        self.w.node("node1").az.clone()
    }
}

fn publishes_zone_health_and_follows_impairment() {
    let a = setup();
    a.run("start", &[], &[]).expect(0);
    let first = &a.calls()[0];
    assert_eq!(first["op"], "update-both", "{first}");
    assert_eq!(first["name"], "#health-aws-az");
    assert_eq!(first["value"], "green");
    assert_eq!(first["delay"], "30s");
    a.run("monitor", &[], &[]).expect(0);
    assert_eq!(a.last_value().as_deref(), Some("green"));

    a.proxy
        .ctl(&format!("zone-state?zone={}&state=impaired", a.zone()));
    a.run("monitor", &[], &[]).expect(0);
    assert_eq!(a.last_value().as_deref(), Some("red"));

    a.proxy
        .ctl(&format!("zone-state?zone={}&state=information", a.zone()));
    a.run("monitor", &[], &[]).expect(0);
    assert_eq!(a.last_value().as_deref(), Some("yellow"));

    a.proxy
        .ctl(&format!("zone-state?zone={}&state=available", a.zone()));
    a.run("monitor", &[], &[]).expect(0);
    assert_eq!(a.last_value().as_deref(), Some("green"));

    // Stop deletes the attribute: a stale red would ban the node forever.
    a.run("stop", &[], &[]).expect(0);
    let last = a.calls().last().cloned().unwrap();
    assert_eq!(last["op"], "delete", "{last}");
    assert_eq!(last["name"], "#health-aws-az");
    a.run("monitor", &[], &[]).expect(7);
    a.run("stop", &[], &[]).expect(0);
}

fn custom_attribute_zone_and_dampen() {
    let a = setup();
    let zone = a.w.node("node2").az.clone();
    let p = [
        ("attribute", "#health-az-b"),
        ("availability_zone", zone.as_str()),
        ("dampen", "5s"),
    ];
    a.proxy
        .ctl(&format!("zone-state?zone={zone}&state=unavailable"));
    a.run("start", &p, &[]).expect(0);
    let c = &a.calls()[0];
    assert_eq!(
        (c["name"].as_str(), c["value"].as_str(), c["delay"].as_str()),
        (Some("#health-az-b"), Some("red"), Some("5s"))
    );
}

fn attrd_failure_is_degraded() {
    let a = setup();
    a.run("start", &[], &[]).expect(0);
    let r = a.run("monitor", &[], &[("ATTRD_EXIT", "102")]);
    assert_eq!(r.rc, 190, "{}", r.stderr);
    r.reason_has(&["attrd_updater"]);
}

fn probes_and_unstarted_monitors_publish_nothing() {
    let a = setup();
    a.run("monitor", &[], &[("OCF_RESKEY_CRM_meta_interval", "")])
        .expect(7);
    a.run("monitor", &[], &[]).expect(7);
    assert!(a.calls().is_empty(), "{:?}", a.calls());
    assert_eq!(a.proxy.stats()["requests"], 0);
}

fn configuration_errors() {
    let a = setup();
    a.run("start", &[("attribute", "aws-az")], &[])
        .expect(6)
        .reason_has(&["aws-az", "#health"]);
    a.run("start", &[("availability_zone", "us-east-1z")], &[])
        .expect(6)
        .reason_has(&["us-east-1z"]);
    a.run("start", &[("availability_zone", "Not A Zone")], &[])
        .expect(6)
        .reason_has(&["Not A Zone"]);
    a.run("start", &[("dampen", "soon")], &[])
        .expect(6)
        .reason_has(&["soon"]);
    assert!(a.calls().is_empty());
    // No attrd_updater at all: rc 5 naming it.
    let r = a.w.agent_env(
        "node1",
        "az",
        "start",
        &[],
        &[
            ("PATH", "/nonexistent"),
            ("AWS_ENDPOINT_URL", &a.proxy.url()),
        ],
    );
    r.expect(5).reason_has(&["attrd_updater"]);
}

fn api_failure_keep_or_publish() {
    let a = setup();
    a.run("start", &[], &[]).expect(0);
    let n = a.calls().len();
    a.proxy
        .ctl("rule?action=DescribeAvailabilityZones&fault=status&code=503");
    let short = [("OCF_RESKEY_CRM_meta_timeout", "4000")];
    let r = a.run("monitor", &[], &short);
    r.expect(0);
    assert!(r.stderr.contains("WARNING"), "{}", r.stderr);
    assert_eq!(a.calls().len(), n, "keep publishes nothing");
    a.run("monitor", &[("api_failure", "red")], &short)
        .expect(0);
    assert_eq!(a.last_value().as_deref(), Some("red"));
    a.proxy.ctl("reset");
    a.run("monitor", &[], &[]).expect(0);
    assert_eq!(a.last_value().as_deref(), Some("green"));
}

fn meta_data_valid() {
    let text = xml_valid("az");
    assert!(text.contains("allow-unhealthy-nodes"));
}

fn main() {
    run_tests(vec![
        (
            "publishes_zone_health_and_follows_impairment",
            publishes_zone_health_and_follows_impairment,
        ),
        (
            "custom_attribute_zone_and_dampen",
            custom_attribute_zone_and_dampen,
        ),
        ("attrd_failure_is_degraded", attrd_failure_is_degraded),
        (
            "probes_and_unstarted_monitors_publish_nothing",
            probes_and_unstarted_monitors_publish_nothing,
        ),
        ("configuration_errors", configuration_errors),
        ("api_failure_keep_or_publish", api_failure_keep_or_publish),
        ("meta_data_valid", meta_data_valid),
    ]);
}
