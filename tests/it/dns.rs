//! The dns agent against moto's Route 53, the IMDS emulator, the fault
//! proxy (to hold a change PENDING) and a DNS responder serving moto's zone.

use crate::world::*;
use std::time::Duration;

fn setup() -> Rsc {
    Rsc::new(World::new(), "dns")
}

/// The private IP of `node`.
fn ip(d: &Rsc, node: &str) -> String {
    d.w.node(node).private_ip.clone()
}

fn start_sets_record_to_local_ip() {
    let d = setup();
    assert_eq!(d.record(), None);
    d.run("node1", "start", &[]).expect(0);
    assert_eq!(
        d.w.a_record(d.zone_name().0, d.zone_name().1),
        Some((vec![ip(&d, "node1")], 10))
    );
    d.run("node1", "monitor", &[]).expect(0);
    d.run("node1", "start", &[]).expect(0);
}

fn failover_changes_value_and_old_node_sees_7() {
    let d = setup();
    d.run("node1", "start", &[]).expect(0);
    d.run("node2", "start", &[("ttl", "30")]).expect(0);
    assert_eq!(
        d.w.a_record(d.zone_name().0, d.zone_name().1),
        Some((vec![ip(&d, "node2")], 30))
    );
    d.run("node1", "monitor", &[])
        .expect(7)
        .reason_has(&[&ip(&d, "node2"), &ip(&d, "node1")]);
    // Default stop leaves the record (failover only changes the value).
    d.run("node1", "stop", &[]).expect(0);
    d.run("node2", "stop", &[]).expect(0);
    assert_eq!(d.record(), Some(vec![ip(&d, "node2")]));
    // Stopped: monitor says 7 although the record still holds our address.
    d.run("node2", "monitor", &[]).expect(7);
}

fn delete_on_stop_only_deletes_our_record() {
    let d = setup();
    let del = [("delete_on_stop", "true")];
    d.run("node1", "start", &del).expect(0);
    d.run("node2", "start", &del).expect(0);
    d.run("node1", "stop", &del).expect(0);
    assert_eq!(
        d.record(),
        Some(vec![ip(&d, "node2")]),
        "not ours: left alone"
    );
    d.run("node2", "stop", &del).expect(0);
    assert_eq!(d.record(), None);
    d.run("node2", "stop", &del).expect(0);
}

fn name_is_normalised_and_checked_against_the_zone() {
    let d = setup();
    let upper = format!("{}.", d.zone_name().1.to_ascii_uppercase());
    d.run("node1", "start", &[("name", &upper)]).expect(0);
    assert_eq!(d.record(), Some(vec![ip(&d, "node1")]));
    d.run("node1", "start", &[("name", "db.elsewhere.example")])
        .expect(6)
        .reason_has(&["db.elsewhere.example", "outside"]);
    d.run("node1", "start", &[("hosted_zone_id", "ZNOSUCHZONE0000")])
        .expect(6)
        .reason_has(&["ZNOSUCHZONE0000"]);
    d.run("node1", "start", &[("name", "no_dots")])
        .expect(6)
        .reason_has(&["no_dots"]);
    d.run("node1", "start", &[("ttl", "-5")])
        .expect(6)
        .reason_has(&["-5"]);
}

fn literal_and_public_addresses() {
    let d = setup();
    d.run("node2", "start", &[("ip", "10.1.0.10")]).expect(0);
    assert_eq!(d.record(), Some(vec!["10.1.0.10".to_string()]));
    d.run("node2", "monitor", &[("ip", "10.1.0.10")]).expect(0);
    // node2 has no public IPv4 in the seeded world: host-specific, rc 2.
    d.run("node2", "start", &[("ip", "public")])
        .expect(2)
        .reason_has(&["public"]);
    let pubip = d.w.json["nodes"]["node1"]["public_ip"]
        .as_str()
        .unwrap()
        .to_string();
    d.run("node1", "start", &[("ip", "public")]).expect(0);
    assert_eq!(d.record(), Some(vec![pubip]));
    d.run("node1", "start", &[("ip", "somewhere")])
        .expect(6)
        .reason_has(&["somewhere"]);
}

fn probe_never_upserts() {
    let d = setup();
    d.run("node1", "start", &[]).expect(0);
    let probe = [("OCF_RESKEY_CRM_meta_interval", "")];
    for level in ["0", "20"] {
        d.run_env(
            "node2",
            "monitor",
            &[],
            &[probe[0], ("OCF_CHECK_LEVEL", level)],
        )
        .expect(7);
    }
    assert_eq!(d.record(), Some(vec![ip(&d, "node1")]));
}

fn stop_and_monitor_when_aws_is_down() {
    let d = setup();
    let del = [("delete_on_stop", "true")];
    d.run("node1", "start", &del).expect(0);
    let down = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("OCF_RESKEY_CRM_meta_timeout", "4000"),
    ];
    d.run_env("node1", "monitor", &del, &down).expect(0);
    d.run_env("node1", "monitor", &[("api_failure", "fail")], &down)
        .expect(1);
    let r = d.run_env("node1", "stop", &del, &down);
    r.expect(0);
    assert!(r.stderr.contains("WARNING"), "{}", r.stderr);
    d.run("node1", "start", &[]).expect(0);
    d.run_env("node1", "start", &[], &down)
        .expect(1)
        .reason_has(&["127.0.0.1:9"]);
}

fn wait_sync_is_bounded_by_the_deadline() {
    let d = setup().proxied();
    let proxy = d.proxy();
    proxy.ctl("hold-pending?on=1");
    let via = [("OCF_RESKEY_CRM_meta_timeout", "5000")];
    let r = d.run_env("node1", "start", &[], &via);
    r.expect(1).reason_has(&["PENDING", "wait_sync"]);
    assert!(r.elapsed < Duration::from_secs(5), "took {:?}", r.elapsed);
    let polls = proxy.stats()["by_action"]["GetChange"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        (2..=12).contains(&polls),
        "GetChange polled with backoff: {polls}"
    );
    // The UPSERT itself was made; without waiting, start succeeds at once.
    assert_eq!(d.record(), Some(vec![ip(&d, "node1")]));
    d.run_env("node2", "start", &[("wait_sync", "false")], &via)
        .expect(0);
    assert_eq!(d.record(), Some(vec![ip(&d, "node2")]));
    // Released: the wait ends as soon as Route 53 says INSYNC.
    proxy.ctl("hold-pending?on=0");
    d.run_env("node1", "start", &[], &via).expect(0);
}

fn start_makes_the_minimum_of_route53_calls() {
    let d = setup().proxied();
    let proxy = d.proxy();
    d.run("node1", "start", &[]).expect(0);
    let first = proxy.stats()["by_action"].clone();
    assert_eq!(first["ListResourceRecordSets"], 1, "{first}");
    assert_eq!(first["ChangeResourceRecordSets"], 1, "{first}");
    assert_eq!(first["GetChange"], 1, "{first}");
    assert_eq!(proxy.stats()["requests"], 3, "{first}");
    proxy.ctl("reset");
    // Second start: the record is already ours.
    d.run("node1", "start", &[]).expect(0);
    let again = proxy.stats();
    assert_eq!(again["requests"], 1, "{again}");
    assert_eq!(again["by_action"]["ListResourceRecordSets"], 1, "{again}");
}

fn depth20_resolves_the_name() {
    let d = setup();
    let dns = Helper::dns(&d.w.endpoint, None);
    let resolver = dns.url();
    let deep = [("OCF_CHECK_LEVEL", "20")];
    let p = [("resolver", resolver.as_str()), ("resolve_grace", "0")];
    d.run("node1", "start", &p).expect(0);
    d.run_env("node1", "monitor", &p, &deep).expect(0);
    // Someone else's value in the record: depth 0 already says 7.
    d.w.set_a_record(d.zone_name().0, d.zone_name().1, "10.9.9.9");
    d.run_env("node1", "monitor", &p, &deep)
        .expect(7)
        .reason_has(&["10.9.9.9"]);
    // A resolver that answers something else than the record: rc 1 with the hint.
    d.w.set_a_record(d.zone_name().0, d.zone_name().1, &ip(&d, "node1"));
    let dns2 = Helper::dns(&d.w.endpoint, Some("ZOTHERZONE"));
    let other = dns2.url();
    let p2 = [("resolver", other.as_str()), ("resolve_grace", "0")];
    d.run_env("node1", "monitor", &p2, &deep)
        .expect(1)
        .reason_has(&[d.zone_name().1, "negative caching"]);
    // Within resolve_grace after start that is not an error yet.
    let p3 = [("resolver", other.as_str()), ("resolve_grace", "600")];
    d.run_env("node1", "monitor", &p3, &deep).expect(0);
    // Nobody listening at the resolver: a failure, not a hang.
    let p4 = [("resolver", "127.0.0.1:9"), ("resolve_grace", "0")];
    d.run_env("node1", "monitor", &p4, &deep).expect(1);
}

fn meta_data_valid() {
    xml_valid("dns");
}

tests![
    start_sets_record_to_local_ip,
    failover_changes_value_and_old_node_sees_7,
    delete_on_stop_only_deletes_our_record,
    name_is_normalised_and_checked_against_the_zone,
    literal_and_public_addresses,
    probe_never_upserts,
    stop_and_monitor_when_aws_is_down,
    wait_sync_is_bounded_by_the_deadline,
    start_makes_the_minimum_of_route53_calls,
    depth20_resolves_the_name,
    meta_data_valid,
];
