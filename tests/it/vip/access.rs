//! vip: how it reaches AWS and the metadata service (endpoints, proxies,
//! credentials, IMDS versions), its devices, parameters and protocol.

use super::{seeded, setup};
use crate::world::*;
use std::time::Duration;

fn unreachable_endpoint_is_rc1_before_the_deadline() {
    let v = setup();
    let w = &v.w;
    // Nothing listens on port 9 here: connection refused.
    let env = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("OCF_RESKEY_CRM_meta_timeout", "5000"),
    ];
    let r = v.run_env("node2", "start", &[], &env);
    r.expect(1).reason_has(&["127.0.0.1:9", "no proxy"]);
    assert!(r.elapsed < Duration::from_secs(5), "took {:?}", r.elapsed);
    // A listener that accepts and never answers: the deadline must still hold.
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", hang.local_addr().unwrap());
    let env = [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("OCF_RESKEY_CRM_meta_timeout", "5000"),
    ];
    let r = v.run_env("node2", "start", &[], &env);
    r.expect(1).reason_has(&[&url]);
    assert!(r.elapsed < Duration::from_secs(5), "took {:?}", r.elapsed);
    // Through a proxy that is down, the reason names the proxy. (moto is
    // addressed as localhost: the IMDS emulator's 127.0.0.1 is exempt from
    // the proxy, as IMDS always is.)
    let local = w.endpoint.replace("127.0.0.1", "localhost");
    let env = [
        ("AWS_ENDPOINT_URL", local.as_str()),
        ("HTTPS_PROXY", "http://127.0.0.1:9"),
        ("OCF_RESKEY_CRM_meta_timeout", "5000"),
    ];
    v.run_env("node2", "start", &[], &env)
        .expect(1)
        .reason_has(&["via proxy http://127.0.0.1:9"]);
    assert!(w.managed().iter().all(|e| *e == w.node("node1").eni));
    drop(hang);
}

fn monitor_follows_api_failure_when_aws_is_down() {
    let v = setup();
    let w = &v.w;
    v.run("node1", "start", &[]).expect(0);
    let down = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("OCF_RESKEY_CRM_meta_timeout", "4000"),
        ("OCF_CHECK_LEVEL", "10"),
    ];
    let r = v.run_env("node1", "monitor", &[], &down);
    r.expect(0);
    assert!(
        r.stderr.contains("WARNING"),
        "warn logs a warning: {}",
        r.stderr
    );
    let fail: &[(&str, &str)] = &[("api_failure", "fail")];
    v.run_env("node1", "monitor", fail, &down)
        .expect(1)
        .reason_has(&["127.0.0.1:9"]);
    let ignore: &[(&str, &str)] = &[("api_failure", "ignore")];
    let r = v.run_env("node1", "monitor", ignore, &down);
    r.expect(0);
    assert!(!r.stderr.contains("WARNING"), "{}", r.stderr);
    // Stop has only local work: it succeeds with AWS down.
    v.run_env("node1", "stop", &[], &down).expect(0);
    assert!(w.addrs("node1").is_empty());
}

fn credentials_from_instance_role_env_and_root_profile() {
    // Default world: instance role via IMDS, no HOME, no AWS_* keys.
    let v = setup();
    let w = &v.w;
    v.run("node2", "start", &[]).expect(0);
    assert!(w.managed().iter().all(|e| *e == w.node("node2").eni));
    let stats = w.imds_stats("node2");
    assert!(
        stats["by_path"]
            .to_string()
            .contains("security-credentials"),
        "role credentials come from IMDS: {stats}"
    );

    // No role, no keys, no profile: rc 4 naming what was tried.
    let v = Rsc::new(
        World::with(Seed {
            imds_args: vec![],
            ..Seed::default()
        }),
        "vip",
    );
    let w = &v.w;
    let env = [
        ("AWS_CONFIG_FILE", "/nonexistent/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ];
    v.run_env("node1", "start", &[], &env)
        .expect(4)
        .reason_has(&[
            "no AWS credentials",
            "AWS_ACCESS_KEY_ID not set",
            "instance role",
        ]);

    // Keys in the environment (as /etc/default/pacemaker would set them).
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    v.run_env("node2", "start", &[], &env).expect(0);

    // HOME unset: a named profile in /root/.aws (a tmpfs in this test
    // process's own mount namespace, see world::isolate).
    std::fs::create_dir_all("/root/.aws").unwrap();
    mount("tmpfs", "/root/.aws", Some("tmpfs"), 0);
    std::fs::write(
        "/root/.aws/credentials",
        "[cluster]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let params: &[(&str, &str)] = &[("profile", "cluster")];
    v.run("node1", "start", params).expect(0);
    assert!(w.managed().iter().all(|e| *e == w.node("node1").eni));
    let params: &[(&str, &str)] = &[("profile", "nosuch")];
    let r = v.run("node2", "start", params);
    assert!(
        r.rc == 4 || r.rc == 6,
        "unknown profile: {} {}",
        r.rc,
        r.stderr
    );
    r.reason_has(&["nosuch"]);
    umount("/root/.aws");
}

fn imds_v1_only_instance() {
    let v = Rsc::new(
        World::with(Seed {
            imds_args: vec!["--mode", "v1-only", "--role", "ha-cluster-node"],
            ..Seed::default()
        }),
        "vip",
    );
    let w = &v.w;
    let r = v.run("node2", "start", &[]);
    r.expect(1).reason_has(&["imds_version=1"]);
    assert!(r.reason().len() < 600, "one readable line: {}", r.reason());
    // With imds_version=1, everything works over IMDSv1, including the
    // instance-role credentials (no keys in the environment here).
    let params: &[(&str, &str)] = &[("imds_version", "1")];
    v.run("node2", "start", params).expect(0);
    assert!(w.managed().iter().all(|e| *e == w.node("node2").eni));
    let stats = w.imds_stats("node2");
    assert!(
        stats["by_path"]
            .to_string()
            .contains("security-credentials/ha-cluster-node"),
        "{stats}"
    );
}

fn imds_down_is_rc1_with_reason() {
    let v = setup();
    let env = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"),
        ("OCF_RESKEY_CRM_meta_timeout", "5000"),
    ];
    let r = v.run_env("node2", "start", &[], &env);
    r.expect(1)
        .reason_has(&["instance metadata", "127.0.0.1:9"]);
    assert!(r.elapsed < Duration::from_secs(5));
}

fn explicit_interface_and_eni() {
    let v = seeded(&["--owner", "node2"]);
    let w = &v.w;
    let n1 = w.node("node1").clone();
    let params: &[(&str, &str)] = &[("interface", &n1.device), ("eni_id", &n1.eni)];
    v.run("node1", "start", params).expect(0);
    assert!(w.managed().iter().all(|e| *e == n1.eni));
    let params: &[(&str, &str)] = &[("interface", "nosuchdev0")];
    v.run("node1", "start", params)
        .expect(2)
        .reason_has(&["nosuchdev0"]);
}

fn bad_parameters_name_value_and_fix() {
    let v = setup();
    let w = &v.w;
    for (k, v, rc, needle) in [
        ("ip", "10.1.0.300", 6, "10.1.0.300"),
        ("ip", "", 6, "'ip'"),
        ("ip", "127.0.0.1", 6, "127.0.0.1"),
        ("check_source_dest", "maybe", 6, "maybe"),
        ("api_failure", "explode", 6, "fail, warn, ignore"),
        ("eni_id", "eni-xyz", 6, "eni-xyz"),
        ("region", "Mars 1", 6, "Mars 1"),
        ("endpoint_url", "ftp://x", 6, "ftp://x"),
        ("interface", "../etc", 6, "../etc"),
    ] {
        let mut params = vec![("ip", w.vip.as_str())];
        params.retain(|(pk, _)| *pk != k);
        params.push((k, v));
        let r = w.agent("node1", "vip", "start", &params);
        r.expect(rc).reason_has(&[needle]);
        // Validation needs no AWS: same answer from validate-all.
        w.agent("node1", "vip", "validate-all", &params).expect(rc);
        // A configuration that cannot be started cannot be running: stop is 0.
        w.agent("node1", "vip", "stop", &params).expect(0);
    }
}

fn dispatch_and_protocol() {
    let v = setup();
    let w = &v.w;
    let link = agent_link("vip");
    let out = std::process::Command::new(BIN)
        .arg("--list")
        .output()
        .unwrap();
    // Exactly the agents the tests know, in the table's order.
    let known: String = crate::agents::KNOWN
        .iter()
        .map(|k| format!("{}\n", k.name))
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), known);
    let r = w.agent("node1", "vip", "frobnicate", &[]);
    r.expect(3).reason_has(&["frobnicate", "usage"]);
    let r = w.agent("node1", "vip", "usage", &[]);
    r.expect(0);
    assert!(r.stdout.contains("start|stop|monitor"));
    // `ocf-aws vip <action>` is the same agent as the symlink.
    let a = std::process::Command::new(BIN)
        .args(["vip", "meta-data"])
        .output()
        .unwrap();
    let b = std::process::Command::new(&link)
        .arg("meta-data")
        .output()
        .unwrap();
    assert_eq!(a.stdout, b.stdout);
    assert!(!a.stdout.is_empty());
    // Unknown agents are a usage error of the human CLI.
    let c = std::process::Command::new(BIN)
        .args(["nosuch", "start"])
        .output()
        .unwrap();
    assert_eq!(c.status.code(), Some(2));
    // RUST_BACKTRACE changes nothing: same code, same single reason.
    let plain = w.agent("node1", "vip", "start", &[("ip", "10.0.0.5")]);
    let traced = w.agent_env(
        "node1",
        "vip",
        "start",
        &[("ip", "10.0.0.5")],
        &[("RUST_BACKTRACE", "full")],
    );
    assert_eq!((plain.rc, plain.reasons()), (traced.rc, traced.reasons()));
    assert!(!traced.stderr.contains("backtrace"), "{}", traced.stderr);
    // A custom exit reason prefix is honoured.
    let r = w.agent_env(
        "node1",
        "vip",
        "start",
        &[],
        &[("OCF_EXIT_REASON_PREFIX", "XYZ:")],
    );
    assert_eq!(r.rc, 6);
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("XYZ:required parameter")),
        "{}",
        r.stderr
    );
}

fn meta_data_is_valid_for_both_schemas_as_nobody_offline() {
    let text = xml_valid("vip");
    assert!(text.contains(r#"depth="0""#) && text.contains(r#"depth="10""#));
}

tests![
    unreachable_endpoint_is_rc1_before_the_deadline,
    monitor_follows_api_failure_when_aws_is_down,
    credentials_from_instance_role_env_and_root_profile,
    imds_v1_only_instance,
    imds_down_is_rc1_with_reason,
    explicit_interface_and_eni,
    bad_parameters_name_value_and_fix,
    dispatch_and_protocol,
    meta_data_is_valid_for_both_schemas_as_nobody_offline,
];
