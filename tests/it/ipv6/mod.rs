//! IPv6: the instance metadata over IPv6 (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`),
//! and each agent's IPv6 addresses against the dual-stack test world
//! (seed.py gives every VPC an IPv6 /56, every subnet a /64 and every ENI
//! an address).

mod dns;
mod doctor;
mod vip;

use crate::world::*;
use std::process::Command;

/// The IPv6 address of the metadata service (what the SDKs use in IPv6 mode).
const IMDS6: &str = "fd00:ec2::254";

fn stats(url: &str) -> serde_json::Value {
    crate::world::http_json("GET", &format!("{url}/_emulator/stats"))
}

fn fetched_credentials(s: &serde_json::Value) -> bool {
    s["by_path"]
        .as_object()
        .is_some_and(|m| m.keys().any(|k| k.contains("iam/security-credentials/")))
}

/// One test owns [fd00:ec2::254]:80 in the test namespace: every case of
/// the endpoint rule runs here, one after the other.
fn metadata_follows_the_sdks_endpoint_rule() {
    let _ = Command::new("ip")
        .args([
            "-6",
            "addr",
            "add",
            &format!("{IMDS6}/128"),
            "dev",
            "lo",
            "nodad",
        ])
        .status();
    let r = Rsc::seeded("vip", &["--owner", "node2"]);
    let w = &r.w;
    let v6 = Helper::imds(&w.json, &w.endpoint, "node1", IMDS6, "80");
    assert_eq!(v6.url(), format!("http://[{IMDS6}]:80"));
    let v4 = w.node("node1").imds.clone();
    let reset = |u: &str| crate::world::http_json("POST", &format!("{u}/_emulator/reset-stats"));
    let (eni1, eni2) = (w.node("node1").eni.clone(), w.node("node2").eni.clone());

    // Mode IPv6 and no endpoint: everything (identity, region, the role's
    // credentials) comes from http://[fd00:ec2::254].
    let ipv6 = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", ""),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"),
    ];
    let start_over_ipv6 = |env: &[(&str, &str)]| {
        reset(&v4);
        reset(&v6.url());
        r.run_env("node1", "start", &[], env).expect(0);
        assert!(w.managed().iter().all(|e| *e == eni1), "{:?}", w.routes());
        let s6 = stats(&v6.url());
        assert!(fetched_credentials(&s6), "{s6}");
        assert_eq!(stats(&v4)["requests"], 0, "{}", stats(&v4));
    };
    start_over_ipv6(&ipv6);

    // The same through aws-config's own credential chain (a config file
    // exists, so not only the instance role is possible): its IMDS client
    // follows the same variables.
    let cfg = w.dir.join("aws-config");
    std::fs::write(&cfg, "").unwrap();
    let cfg = cfg.display().to_string();
    let chain = [ipv6[0], ipv6[1], ("AWS_CONFIG_FILE", cfg.as_str())];
    w.replace_route(&w.tables[0], &eni2);
    start_over_ipv6(&chain);

    // An explicit endpoint wins over the mode, as in the SDKs.
    reset(&v6.url());
    let both = [("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")];
    r.run_env(
        "node1",
        "monitor",
        &[],
        &[both[0], ("OCF_CHECK_LEVEL", "10")],
    )
    .expect(0);
    assert!(stats(&v4)["requests"].as_u64().unwrap() > 0);
    assert_eq!(stats(&v6.url())["requests"], 0, "{}", stats(&v6.url()));

    // A mode the SDKs refuse is refused with the value and the fix.
    let bad = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", ""),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5"),
    ];
    let fresh = Rsc::seeded("vip", &[]);
    fresh
        .run_env("node1", "start", &[], &bad)
        .expect(1)
        .reason_has(&["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE='IPv5'", "IPv6"]);
}

tests![metadata_follows_the_sdks_endpoint_rule; dns, doctor, vip];
