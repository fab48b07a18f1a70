//! dns with IPv6: AAAA records, for a literal IPv6 address or the node's
//! own (`ip=local-ipv6`); a dual-stack name is an A and an AAAA resource.

use crate::world::*;

const V6: (&str, &str) = ("ip", "local-ipv6");
/// The AAAA resource's own instance name (its own state file).
const AAAA_RSC: &[(&str, &str)] = &[("OCF_RESOURCE_INSTANCE", "rsc_dns6")];

fn dual_stack_pair_sets_a_and_aaaa_independently() {
    let d = Rsc::new(World::new(), "dns");
    let w = &d.w;
    let (zone, name) = (d.zone_name().0.to_string(), d.zone_name().1.to_string());
    let (n1, n2) = (w.node("node1").clone(), w.node("node2").clone());
    d.run("node1", "start", &[]).expect(0);
    d.run_env("node1", "start", &[V6], AAAA_RSC).expect(0);
    assert_eq!(
        w.record_of(&zone, &name, "A"),
        Some((vec![n1.private_ip.clone()], 10))
    );
    assert_eq!(
        w.record_of(&zone, &name, "AAAA"),
        Some((vec![n1.ipv6.clone()], 10))
    );
    d.run("node1", "monitor", &[]).expect(0);
    d.run_env("node1", "monitor", &[V6], AAAA_RSC).expect(0);

    // The AAAA resource fails over alone; the A record stays node1's.
    d.run_env("node2", "start", &[V6], AAAA_RSC).expect(0);
    assert_eq!(
        w.record_of(&zone, &name, "AAAA"),
        Some((vec![n2.ipv6.clone()], 10))
    );
    assert_eq!(
        w.record_of(&zone, &name, "A").map(|r| r.0),
        Some(vec![n1.private_ip.clone()])
    );
    d.run_env("node1", "monitor", &[V6], AAAA_RSC)
        .expect(7)
        .reason_has(&[&n2.ipv6, &n1.ipv6]);
    d.run("node1", "monitor", &[]).expect(0);

    // Depth 20 asks for AAAA (the DNS responder serves moto's zone).
    let dns = Helper::dns(&w.endpoint, None);
    let resolver = dns.url();
    let deep = [("OCF_CHECK_LEVEL", "20"), AAAA_RSC[0]];
    let p = [V6, ("resolver", resolver.as_str()), ("resolve_grace", "0")];
    d.run_env("node2", "monitor", &p, &deep).expect(0);

    // delete_on_stop deletes the AAAA record, never the A record.
    let del = [V6, ("delete_on_stop", "true")];
    d.run_env("node2", "stop", &del, AAAA_RSC).expect(0);
    assert_eq!(w.record_of(&zone, &name, "AAAA"), None);
    assert_eq!(
        w.record_of(&zone, &name, "A").map(|r| r.0),
        Some(vec![n1.private_ip.clone()])
    );
}

fn a_literal_ipv6_address_is_an_aaaa_record() {
    let d = Rsc::new(World::new(), "dns");
    let (zone, name) = (d.zone_name().0.to_string(), d.zone_name().1.to_string());
    d.run("node1", "start", &[("ip", "fd00:ac1::10")]).expect(0);
    assert_eq!(
        d.w.record_of(&zone, &name, "AAAA").map(|r| r.0),
        Some(vec!["fd00:ac1::10".to_string()])
    );
    assert_eq!(d.w.record_of(&zone, &name, "A"), None);
    d.run("node1", "monitor", &[("ip", "fd00:ac1::10")])
        .expect(0);
}

fn local_ipv6_on_an_eni_without_ipv6_is_rc2() {
    let d = Rsc::new(World::new(), "dns");
    let n1 = d.w.node("node1").clone();
    d.w.unassign_ipv6(&n1.eni, &n1.ipv6);
    assert!(d.w.enis_holding_ipv6(&n1.ipv6).is_empty());
    d.run("node1", "start", &[V6]).expect(2).reason_has(&[
        "local-ipv6",
        "no IPv6 address",
        "ip=local",
    ]);
    assert_eq!(d.record(), None);
}

fn an_unknown_keyword_is_rc6_naming_local_ipv6() {
    let d = Rsc::new(World::new(), "dns");
    d.run("node1", "start", &[("ip", "local6")])
        .expect(6)
        .reason_has(&["local6", "local-ipv6"]);
}

tests![
    dual_stack_pair_sets_a_and_aaaa_independently,
    a_literal_ipv6_address_is_an_aaaa_record,
    local_ipv6_on_an_eni_without_ipv6_is_rc2,
    an_unknown_keyword_is_rc6_naming_local_ipv6,
];
