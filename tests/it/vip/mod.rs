//! The vip agent against the emulated AWS (moto) and the IMDS emulator,
//! with real addresses on veth devices in the test's own network namespace.

mod access;

use crate::world::*;

/// A vip resource (ip = the world's VIP) in a world seeded with `args`.
fn seeded(args: &[&str]) -> Rsc {
    Rsc::new(
        World::with(Seed {
            args: args.to_vec(),
            ..Seed::default()
        }),
        "vip",
    )
}

fn setup() -> Rsc {
    Rsc::new(World::new(), "vip")
}

/// A monitor that checks the routes too.
const DEEP: &[(&str, &str)] = &[("OCF_CHECK_LEVEL", "10")];

fn vip32(w: &World) -> String {
    format!("{}/32", w.vip)
}

fn cold_start_on_node1() {
    let v = seeded(&["--owner", "node2"]);
    let w = &v.w;
    let n1 = w.node("node1").eni.clone();
    v.run("node1", "start", &[]).expect(0);
    assert!(w.managed().iter().all(|e| *e == n1), "{:?}", w.routes());
    assert_eq!(w.addrs("node1"), vec![vip32(w)]);
    assert!(w.addrs("node2").is_empty());
    v.run("node1", "monitor", &[]).expect(0);
    v.run_env("node1", "monitor", &[], DEEP).expect(0);
    // Tables without the VIP route are none of our business.
    let r = w.routes();
    assert!(w.other_tables.iter().all(|t| r[t].is_empty()));
}

fn failover_to_node2_flips_every_route() {
    let v = setup();
    let w = &v.w;
    let (n1, n2) = (w.node("node1").eni.clone(), w.node("node2").eni.clone());
    v.run("node1", "start", &[]).expect(0);
    assert!(w.managed().iter().all(|e| *e == n1));
    // node1 dies without stopping; node2 takes over.
    let run = v.run("node2", "start", &[]);
    run.expect(0);
    assert!(w.managed().iter().all(|e| *e == n2), "{:?}", w.routes());
    assert_eq!(w.addrs("node2"), vec![vip32(w)]);
    // node1's deep monitor now sees that someone else holds the VIP.
    let m = v.run_env("node1", "monitor", &[], DEEP);
    m.expect(7).reason_has(&[&n2, &n1, "another node"]);
    assert!(w.tables.iter().any(|t| m.reason().contains(t.as_str())));
    v.run_env("node2", "monitor", &[], DEEP).expect(0);
}

fn explicit_routing_table_list_only_touches_those() {
    let v = seeded(&[
        "--tables",
        "4",
        "--owner",
        "node2",
        "--extra-tables-without-route",
        "1",
    ]);
    let w = &v.w;
    let n1 = w.node("node1").eni.clone();
    let n2 = w.node("node2").eni.clone();
    // Two of the four tables with the route, plus one without it.
    let list = format!("{},{},{}", w.tables[0], w.tables[2], w.other_tables[0]);
    let params: &[(&str, &str)] = &[("routing_table", &list)];
    v.run("node1", "start", params).expect(0);
    let r = w.routes();
    assert_eq!(r[&w.tables[0]], n1);
    assert_eq!(r[&w.tables[2]], n1);
    assert_eq!(r[&w.tables[1]], n2, "an unlisted table must not change");
    assert_eq!(r[&w.tables[3]], n2, "an unlisted table must not change");
    assert_eq!(r[&w.other_tables[0]], n1, "a listed table gets the route");
    v.run_env("node1", "monitor", params, DEEP).expect(0);
}

fn depth10_monitor_reports_a_hijacked_route() {
    let v = setup();
    let w = &v.w;
    v.run("node1", "start", &[]).expect(0);
    let n2 = w.node("node2").eni.clone();
    w.replace_route(&w.tables[1], &n2);
    // Depth 0 only looks locally: still fine.
    v.run("node1", "monitor", &[]).expect(0);
    v.run_env("node1", "monitor", &[], DEEP)
        .expect(7)
        .reason_has(&[&w.tables[1], &n2]);
}

fn vip_inside_vpc_cidr_is_rc6() {
    let v = setup();
    let w = &v.w;
    let params = [("ip", "10.0.3.7")];
    let r = w.agent("node1", "vip", "start", &params);
    r.expect(6)
        .reason_has(&["10.0.3.7", "10.0.0.0/16", "outside"]);
    w.agent_env("node1", "vip", "validate-all", &params, DEEP)
        .expect(6)
        .reason_has(&["10.0.0.0/16"]);
    // Depth-0 validation is static only (no environment): passes.
    w.agent("node1", "vip", "validate-all", &params).expect(0);
    assert!(w.addrs("node1").is_empty());
}

fn no_table_with_the_route_is_rc6() {
    let v = seeded(&["--owner", "none"]);
    let w = &v.w;
    v.run("node1", "start", &[])
        .expect(6)
        .reason_has(&[&w.vpc, &vip32(w), "create-route"]);
    assert!(w.addrs("node1").is_empty(), "nothing half-done left behind");
}

fn unknown_table_id_is_rc6() {
    let v = setup();
    let params: &[(&str, &str)] = &[("routing_table", "rtb-0123456789abcdef0")];
    v.run("node1", "start", params)
        .expect(6)
        .reason_has(&["rtb-0123456789abcdef0", "routing_table"]);
    let params: &[(&str, &str)] = &[("routing_table", "not-a-table")];
    v.run("node1", "start", params)
        .expect(6)
        .reason_has(&["not-a-table", "rtb-"]);
}

/// Source/destination checking is a setting of this node's ENI, not of the
/// resource: the other node's ENI may be fine, so it bans this node only
/// (rc 2), never rc 6, which would stop the resource on every node.
fn source_dest_check_on_is_rc2_and_fixable() {
    let v = seeded(&["--source-dest-check", "on", "--owner", "node2"]);
    let w = &v.w;
    let n1 = w.node("node1").eni.clone();
    v.run("node1", "start", &[]).expect(2).reason_has(&[
        &n1,
        "source/destination check",
        "fix_source_dest",
    ]);
    assert!(
        w.managed().iter().all(|e| *e == w.node("node2").eni),
        "no route moved"
    );
    assert!(w.source_dest_check(&n1));
    let params: &[(&str, &str)] = &[("fix_source_dest", "true")];
    v.run("node1", "start", params).expect(0);
    assert!(!w.source_dest_check(&n1));
    assert!(w.managed().iter().all(|e| *e == n1));
    // Opting out of the check skips it.
    let v2 = seeded(&["--source-dest-check", "on"]);
    let params: &[(&str, &str)] = &[("check_source_dest", "false")];
    v2.run("node2", "start", params).expect(0);
}

fn probe_changes_nothing() {
    let v = seeded(&["--owner", "node2"]);
    let w = &v.w;
    let before = w.routes();
    for level in ["0", "10"] {
        let r = v.run_env(
            "node1",
            "monitor",
            &[],
            &[
                ("OCF_RESKEY_CRM_meta_interval", ""),
                ("OCF_CHECK_LEVEL", level),
            ],
        );
        r.expect(7);
    }
    assert_eq!(w.routes(), before);
    assert!(w.addrs("node1").is_empty());
    assert!(
        std::fs::read_dir(&w.node("node1").rsctmp)
            .unwrap()
            .next()
            .is_none()
            || !w.node("node1").rsctmp.join("ocf-aws").exists()
            || std::fs::read_dir(w.node("node1").rsctmp.join("ocf-aws"))
                .unwrap()
                .next()
                .is_none()
    );
}

fn start_and_stop_are_idempotent() {
    let v = setup();
    let w = &v.w;
    v.run("node1", "start", &[]).expect(0);
    v.run("node1", "start", &[]).expect(0);
    assert_eq!(w.addrs("node1"), vec![vip32(w)]);
    v.run("node1", "stop", &[]).expect(0);
    assert!(w.addrs("node1").is_empty());
    v.run("node1", "stop", &[]).expect(0);
    v.run("node1", "monitor", &[]).expect(7);
    // Stop leaves the route tables alone.
    assert!(w.managed().iter().all(|e| *e == w.node("node1").eni));
}

fn depth0_monitor_after_start_needs_no_metadata() {
    let v = setup();
    let w = &v.w;
    v.run("node1", "start", &[]).expect(0);
    w.imds_post("node1", "/_emulator/reset-stats");
    v.run("node1", "monitor", &[]).expect(0);
    assert_eq!(
        w.imds_stats("node1")["requests"],
        0,
        "{}",
        w.imds_stats("node1")
    );
}

tests![
    cold_start_on_node1,
    failover_to_node2_flips_every_route,
    explicit_routing_table_list_only_touches_those,
    depth10_monitor_reports_a_hijacked_route,
    vip_inside_vpc_cidr_is_rc6,
    no_table_with_the_route_is_rc6,
    unknown_table_id_is_rc6,
    source_dest_check_on_is_rc2_and_fixable,
    probe_changes_nothing,
    start_and_stop_are_idempotent,
    depth0_monitor_after_start_needs_no_metadata,
    ;
    access,
];
