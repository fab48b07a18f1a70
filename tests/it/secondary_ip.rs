//! The secondary-ip agent against moto and the IMDS emulator: both nodes
//! in one subnet (seed --same-subnet), the address moved between their
//! ENIs in EC2 and between their devices.

use crate::world::*;

fn setup() -> Rsc {
    Rsc::for_agent("secondary-ip")
}

const DEPTH10: &[(&str, &str)] = &[("OCF_CHECK_LEVEL", "10")];

fn failover_moves_the_address_between_enis_and_devices() {
    let r = setup();
    let w = &r.w;
    let (eni1, eni2) = (w.node("node1").eni.clone(), w.node("node2").eni.clone());
    assert!(w.enis_holding(SECONDARY_IP).is_empty());
    r.run("node1", "start", &[]).expect(0);
    assert_eq!(w.enis_holding(SECONDARY_IP), vec![eni1.clone()]);
    // The subnet's prefix, not /32: a secondary address of the subnet.
    assert!(
        w.addrs("node1").contains(&format!("{SECONDARY_IP}/24")),
        "{:?}",
        w.addrs("node1")
    );
    r.run("node1", "monitor", &[]).expect(0);
    r.run_env("node1", "monitor", &[], DEPTH10).expect(0);
    r.run("node2", "monitor", &[]).expect(7);
    // node1 dies; node2 takes the address over (AllowReassignment).
    r.run("node2", "start", &[]).expect(0);
    assert_eq!(w.enis_holding(SECONDARY_IP), vec![eni2.clone()]);
    assert!(w.addrs("node2").contains(&format!("{SECONDARY_IP}/24")));
    r.run_env("node1", "monitor", &[], DEPTH10)
        .expect(7)
        .reason_has(&[&eni2, &eni1]);
    // Stopping the old node takes its local address, not node2's ENI's.
    r.run("node1", "stop", &[]).expect(0);
    assert!(!w.addrs("node1").iter().any(|a| a.starts_with(SECONDARY_IP)));
    assert_eq!(w.enis_holding(SECONDARY_IP), vec![eni2.clone()]);
    // Stopping the owner unassigns it (unassign_on_stop, default true).
    r.run("node2", "stop", &[]).expect(0);
    assert!(w.enis_holding(SECONDARY_IP).is_empty());
    assert!(!w.addrs("node2").iter().any(|a| a.starts_with(SECONDARY_IP)));
    r.run("node2", "stop", &[]).expect(0);
    r.run("node2", "monitor", &[]).expect(7);
}

fn unassign_on_stop_false_leaves_it_assigned() {
    let r = setup();
    let keep = [("unassign_on_stop", "false")];
    r.run("node1", "start", &keep).expect(0);
    r.run("node1", "stop", &keep).expect(0);
    assert_eq!(
        r.w.enis_holding(SECONDARY_IP),
        vec![r.w.node("node1").eni.clone()]
    );
}

/// A secondary address cannot leave its subnet: in the default world the
/// nodes are in two subnets (two AZs), so node2 cannot hold node1's.
fn outside_the_subnet_is_rc6_pointing_to_vip() {
    let r = Rsc::new(World::new(), "secondary-ip");
    r.run("node2", "start", &[]).expect(6).reason_has(&[
        SECONDARY_IP,
        "cannot leave its subnet",
        "vip",
    ]);
    assert!(
        r.w.enis_holding(SECONDARY_IP).is_empty(),
        "nothing assigned"
    );
}

fn an_enis_primary_address_is_rc6() {
    let r = setup();
    let primary = r.w.node("node2").private_ip.clone();
    r.run("node1", "start", &[("ip", &primary)])
        .expect(6)
        .reason_has(&[&primary, "primary private address", &r.w.node("node2").eni]);
    assert_eq!(
        r.w.enis_holding(&primary),
        vec![r.w.node("node2").eni.clone()]
    );
}

fn configuration_errors_are_rc6() {
    let r = setup();
    for (ip, why) in [
        ("10.0.1", "not an IP address"),
        ("8.8.8.8", "not a private address"),
        ("10.0.1.0.5", "not an IP address"),
    ] {
        r.run("node1", "start", &[("ip", ip)])
            .expect(6)
            .reason_has(&[ip, why]);
    }
    r.run("node1", "start", &[("prefix", "33")]).expect(6);
}

/// An IPv6 address of the shared subnet's /64 (the nodes have ::10 and ::20).
fn sip6(w: &World) -> String {
    w.node("node1").subnet_ipv6.replace("::/64", "::50")
}

/// IPv6 has no AllowReassignment: start unassigns the address from the ENI
/// that holds it, assigns it to its own, waits for EC2 to show it there,
/// and adds it to the device with the subnet's /64.
fn ipv6_failover_unassigns_then_assigns() {
    let r = setup();
    let w = &r.w;
    let ip = sip6(w);
    let p = [("ip", ip.as_str())];
    let (eni1, eni2) = (w.node("node1").eni.clone(), w.node("node2").eni.clone());
    r.run("node1", "start", &p).expect(0);
    assert_eq!(w.enis_holding_ipv6(&ip), vec![eni1.clone()]);
    assert!(
        w.addrs6("node1").contains(&format!("{ip}/64")),
        "{:?}",
        w.addrs6("node1")
    );
    r.run("node1", "monitor", &p).expect(0);
    r.run_env("node1", "monitor", &p, DEPTH10).expect(0);
    r.run("node2", "monitor", &p).expect(7);
    // node1 dies; node2 takes it over (EC2 would refuse a plain assign).
    r.run("node2", "start", &p).expect(0);
    assert_eq!(w.enis_holding_ipv6(&ip), vec![eni2.clone()]);
    assert!(w.addrs6("node2").contains(&format!("{ip}/64")));
    r.run_env("node1", "monitor", &p, DEPTH10)
        .expect(7)
        .reason_has(&[&eni2, &eni1]);
    r.run("node1", "stop", &p).expect(0);
    assert!(!w.addrs6("node1").iter().any(|a| a.starts_with(&ip)));
    assert_eq!(w.enis_holding_ipv6(&ip), vec![eni2.clone()]);
    r.run("node2", "stop", &p).expect(0);
    assert!(w.enis_holding_ipv6(&ip).is_empty());
    assert!(w.addrs6("node2").is_empty());
    // The nodes' own IPv6 addresses were never touched.
    assert_eq!(w.enis_holding_ipv6(&w.node("node1").ipv6), vec![eni1]);
    assert_eq!(w.enis_holding_ipv6(&w.node("node2").ipv6), vec![eni2]);
}

fn ipv6_prefix_override_and_outside_the_subnet() {
    let r = setup();
    let ip = sip6(&r.w);
    r.run("node1", "start", &[("ip", &ip), ("prefix", "128")])
        .expect(0);
    assert_eq!(r.w.addrs6("node1"), vec![format!("{ip}/128")]);
    // Outside every IPv6 block of the subnet: rc 6 pointing to vip.
    r.run("node1", "start", &[("ip", "fd00:ac1::10")])
        .expect(6)
        .reason_has(&["fd00:ac1::10", "cannot leave its subnet", "vip"]);
    for (ip, why) in [("fe80::5", "link-local"), ("ff02::1", "multicast")] {
        r.run("node1", "start", &[("ip", ip)])
            .expect(6)
            .reason_has(&[ip, why]);
    }
}

/// EC2 applies the unassign on the old ENI asynchronously: until then it
/// refuses the assign as in use, and start asks again (here: twice refused).
fn ipv6_takeover_rides_out_an_address_still_in_use() {
    let r = setup().proxied();
    let ip = sip6(&r.w);
    let p = [("ip", ip.as_str())];
    r.run("node1", "start", &p).expect(0);
    r.proxy().ctl(
        "rule?action=AssignIpv6Addresses&fault=status&code=400&error=InvalidIPAddress.InUse\
         &message=Address%20in%20use.&count=2",
    );
    r.run("node2", "start", &p).expect(0);
    assert_eq!(
        r.w.enis_holding_ipv6(&ip),
        vec![r.w.node("node2").eni.clone()]
    );
    let sent = &r.proxy().stats()["by_action"];
    assert_eq!(sent["AssignIpv6Addresses"], 4, "{sent}");
    assert!(
        sent["UnassignIpv6Addresses"].as_u64().unwrap() >= 1,
        "{sent}"
    );
}

/// In the default world the nodes are in two subnets: node2 cannot hold an
/// IPv6 address of node1's /64.
fn ipv6_of_another_subnet_is_rc6() {
    let r = Rsc::new(World::new(), "secondary-ip");
    let ip = sip6(&r.w);
    r.run("node2", "start", &[("ip", &ip)])
        .expect(6)
        .reason_has(&[&ip, "cannot leave its subnet", "vip"]);
    assert!(r.w.enis_holding_ipv6(&ip).is_empty(), "nothing assigned");
}

fn stop_succeeds_when_aws_is_down() {
    let r = setup();
    r.run("node1", "start", &[]).expect(0);
    let down = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("OCF_RESKEY_CRM_meta_timeout", "5000"),
    ];
    r.run_env("node1", "stop", &[], &down).expect(0);
    assert!(!r
        .w
        .addrs("node1")
        .iter()
        .any(|a| a.starts_with(SECONDARY_IP)));
    // And a depth-10 monitor follows api_failure (warn: running as far
    // as the local device tells) once it is back on the device.
    r.run("node1", "start", &[]).expect(0);
    r.run_env("node1", "monitor", &[], &[down[0], down[1], DEPTH10[0]])
        .expect(0);
    r.run_env(
        "node1",
        "monitor",
        &[("api_failure", "fail")],
        &[down[0], down[1], DEPTH10[0]],
    )
    .expect(1);
}

fn probe_changes_nothing() {
    let r = setup();
    r.run("node1", "start", &[]).expect(0);
    let before = r.state();
    let probe = [("OCF_RESKEY_CRM_meta_interval", "0"), DEPTH10[0]];
    r.run_env("node2", "monitor", &[], &probe).expect(7);
    assert_eq!(r.state(), before);
}

fn meta_data_valid() {
    xml_valid("secondary-ip");
}

tests![
    failover_moves_the_address_between_enis_and_devices,
    unassign_on_stop_false_leaves_it_assigned,
    outside_the_subnet_is_rc6_pointing_to_vip,
    an_enis_primary_address_is_rc6,
    configuration_errors_are_rc6,
    ipv6_failover_unassigns_then_assigns,
    ipv6_prefix_override_and_outside_the_subnet,
    ipv6_of_another_subnet_is_rc6,
    ipv6_takeover_rides_out_an_address_still_in_use,
    stop_succeeds_when_aws_is_down,
    probe_changes_nothing,
    meta_data_valid,
];
