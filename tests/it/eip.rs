//! The eip agent against moto and the IMDS emulator.

use crate::world::*;

fn setup() -> Rsc {
    Rsc::new(World::new(), "eip")
}

/// (ENI, primary private IP) of `node`.
fn on(e: &Rsc, node: &str) -> (String, String) {
    let n = e.w.node(node);
    (n.eni.clone(), n.private_ip.clone())
}

fn start_associates_with_eni_and_private_ip() {
    let e = setup();
    assert_eq!(e.w.eip_assoc(e.eip().0).0, "");
    e.run("node1", "start", &[]).expect(0);
    assert_eq!(e.w.eip_assoc(e.eip().0), on(&e, "node1"));
    e.run("node1", "monitor", &[]).expect(0);
    e.run("node1", "start", &[]).expect(0);
    assert_eq!(e.w.eip_assoc(e.eip().0), on(&e, "node1"));
}

fn failover_takes_it_over_and_old_node_sees_7() {
    let e = setup();
    e.run("node1", "start", &[]).expect(0);
    e.run("node2", "start", &[]).expect(0);
    let (eni2, ip2) = on(&e, "node2");
    assert_eq!(e.w.eip_assoc(e.eip().0), (eni2.clone(), ip2));
    e.run("node1", "monitor", &[])
        .expect(7)
        .reason_has(&[&eni2, &e.w.node("node1").eni]);
    // Stop on the old node must not take it away from the new one.
    e.run("node1", "stop", &[]).expect(0);
    assert_eq!(e.w.eip_assoc(e.eip().0).0, eni2);
    e.run("node2", "stop", &[]).expect(0);
    assert_eq!(e.w.eip_assoc(e.eip().0).0, "");
    e.run("node2", "stop", &[]).expect(0);
    e.run("node2", "monitor", &[]).expect(7);
}

fn elastic_ip_by_public_address() {
    let e = setup();
    let p = [("elastic_ip", e.eip().1)];
    e.w.agent("node2", "eip", "start", &p).expect(0);
    assert_eq!(e.w.eip_assoc(e.eip().0), on(&e, "node2"));
    e.w.agent("node2", "eip", "monitor", &p).expect(0);
}

fn secondary_private_ip_exact_match() {
    let e = setup();
    let (eni1, primary) = on(&e, "node1");
    e.w.add_private_ip(&eni1, "10.0.1.77");
    e.run("node1", "start", &[]).expect(0);
    assert_eq!(e.w.eip_assoc(e.eip().0), (eni1.clone(), primary.clone()));
    // Same ENI, other private IP: not ours (no ENI-only or substring match).
    e.run("node1", "monitor", &[("private_ip", "10.0.1.77")])
        .expect(7)
        .reason_has(&["10.0.1.77", &primary]);
    // AssociateAddress maps exactly the address asked, a secondary one too
    // (the test world's moto does as EC2 does, tests/world/README.md); the
    // start checks it against the ENI's addresses in the instance metadata,
    // which lists the secondary address as soon as it is assigned.
    e.run("node1", "start", &[("private_ip", "10.0.1.77")])
        .expect(0);
    assert_eq!(
        e.w.eip_assoc(e.eip().0),
        (eni1.clone(), "10.0.1.77".to_string())
    );
    e.run("node1", "monitor", &[("private_ip", "10.0.1.77")])
        .expect(0);
}

/// EC2 refuses a private_ip the ENI does not have (the test world's moto
/// does too, tests/world/README.md): a configuration error, and nothing is
/// associated.
fn private_ip_not_on_the_eni_is_rc6() {
    let e = setup();
    e.run("node1", "start", &[("private_ip", "10.0.1.99")])
        .expect(6)
        .reason_has(&["10.0.1.99", "private_ip"]);
    assert_eq!(e.w.eip_assoc(e.eip().0).0, "");
}

fn configuration_errors_are_rc6() {
    let w = World::new();
    w.agent(
        "node1",
        "eip",
        "start",
        &[("allocation_id", "eipalloc-0123456789abcdef0")],
    )
    .expect(6)
    .reason_has(&["eipalloc-0123456789abcdef0", "allocation_id"]);
    w.agent("node1", "eip", "start", &[("elastic_ip", "198.51.100.77")])
        .expect(6)
        .reason_has(&["198.51.100.77", "elastic_ip"]);
    w.agent("node1", "eip", "start", &[])
        .expect(6)
        .reason_has(&["allocation_id", "elastic_ip"]);
    w.agent("node1", "eip", "start", &[("allocation_id", "bogus")])
        .expect(6)
        .reason_has(&["bogus", "eipalloc-"]);
    w.agent("node1", "eip", "validate-all", &[("elastic_ip", "1.2.3")])
        .expect(6)
        .reason_has(&["1.2.3"]);
}

fn stop_succeeds_when_aws_is_down() {
    let e = setup();
    e.run("node1", "start", &[]).expect(0);
    let down = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("OCF_RESKEY_CRM_meta_timeout", "4000"),
    ];
    let r = e.run_env("node1", "stop", &[], &down);
    r.expect(0);
    assert!(r.stderr.contains("WARNING"), "{}", r.stderr);
    assert!(r.elapsed < std::time::Duration::from_secs(4));
}

fn monitor_follows_api_failure() {
    let e = setup();
    e.run("node1", "start", &[]).expect(0);
    let down = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("OCF_RESKEY_CRM_meta_timeout", "4000"),
    ];
    e.run_env("node1", "monitor", &[], &down).expect(0);
    e.run_env("node1", "monitor", &[("api_failure", "fail")], &down)
        .expect(1)
        .reason_has(&["127.0.0.1:9"]);
    // A node that never started it reports it stopped, API or not.
    e.run_env("node2", "monitor", &[], &down).expect(7);
}

fn probe_changes_nothing() {
    let e = setup();
    e.run("node1", "start", &[]).expect(0);
    let probe = [("OCF_RESKEY_CRM_meta_interval", "")];
    e.run_env("node2", "monitor", &[], &probe).expect(7);
    assert_eq!(e.w.eip_assoc(e.eip().0), on(&e, "node1"));
}

fn meta_data_valid() {
    xml_valid("eip");
}

tests![
    start_associates_with_eni_and_private_ip,
    failover_takes_it_over_and_old_node_sees_7,
    elastic_ip_by_public_address,
    secondary_private_ip_exact_match,
    private_ip_not_on_the_eni_is_rc6,
    configuration_errors_are_rc6,
    stop_succeeds_when_aws_is_down,
    monitor_follows_api_failure,
    probe_changes_nothing,
    meta_data_valid,
];
