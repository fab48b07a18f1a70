//! vip with an IPv6 overlay address: routes `ip/128` (DestinationIpv6CidrBlock),
//! the address held as `/128`, the IPv4 routes of the same tables untouched.

use crate::world::*;

const DEEP: &[(&str, &str)] = &[("OCF_CHECK_LEVEL", "10")];

/// A vip resource for the world's IPv6 overlay address.
fn vip6(args: &[&str]) -> Rsc {
    let r = Rsc::new(
        World::with(Seed {
            args: args.to_vec(),
            ..Seed::default()
        }),
        "vip",
    );
    let ip = r.w.vip6.clone();
    r.with(&[("ip", &ip)])
}

fn failover_flips_every_ipv6_route_and_the_local_address() {
    let v = vip6(&["--owner", "node2"]);
    let w = &v.w;
    let (n1, n2) = (w.node("node1").eni.clone(), w.node("node2").eni.clone());
    let managed6 = || {
        let r = w.routes_of(&w.vip6);
        w.tables.iter().map(|t| r[t].clone()).collect::<Vec<_>>()
    };
    let held = format!("{}/128", w.vip6);
    v.run("node1", "start", &[]).expect(0);
    assert!(
        managed6().iter().all(|e| *e == n1),
        "{:?}",
        w.routes_of(&w.vip6)
    );
    // The IPv4 overlay's routes in the same tables are another resource's.
    assert!(w.managed().iter().all(|e| *e == n2), "{:?}", w.routes());
    assert_eq!(w.addrs6("node1"), vec![held.clone()]);
    assert!(w.addrs("node1").is_empty());
    v.run("node1", "monitor", &[]).expect(0);
    v.run_env("node1", "monitor", &[], DEEP).expect(0);
    v.run("node2", "monitor", &[]).expect(7);
    // node1 dies; node2 takes over.
    v.run("node2", "start", &[]).expect(0);
    assert!(
        managed6().iter().all(|e| *e == n2),
        "{:?}",
        w.routes_of(&w.vip6)
    );
    assert_eq!(w.addrs6("node2"), vec![held.clone()]);
    v.run_env("node1", "monitor", &[], DEEP)
        .expect(7)
        .reason_has(&[&n2, &n1, &held, "another node"]);
    v.run("node1", "stop", &[]).expect(0);
    assert!(w.addrs6("node1").is_empty());
    v.run("node1", "monitor", &[]).expect(7);
    v.run_env("node2", "monitor", &[], DEEP).expect(0);
}

/// Both nodes start at once (a split brain): the ip/128 routes end with
/// exactly one owner, which alone passes a depth-10 monitor.
fn a_race_for_the_ipv6_routes_leaves_one_owner() {
    let v = vip6(&["--tables", "4", "--owner", "none"]).proxied();
    let w = &v.w;
    let eni = |n: &str| w.node(n).eni.clone();
    let p: &[(&str, &str)] = &[("routing_table", &w.tables.join(","))];
    for round in 0..2 {
        v.proxy().ctl("rule?action=*&fault=latency&ms=30");
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| v.run("node1", "start", p));
            let b = s.spawn(|| v.run("node2", "start", p));
            (a.join().unwrap(), b.join().unwrap())
        });
        v.proxy().ctl("reset");
        let r = w.routes_of(&w.vip6);
        let owners: std::collections::BTreeSet<&String> = w.tables.iter().map(|t| &r[t]).collect();
        assert_eq!(
            owners.len(),
            1,
            "round {round}: {r:?}\n{}\n{}",
            a.stderr,
            b.stderr
        );
        let owner = owners.into_iter().next().unwrap().clone();
        let (winner, loser) = if owner == eni("node1") {
            ("node1", "node2")
        } else {
            assert_eq!(owner, eni("node2"), "{r:?}");
            ("node2", "node1")
        };
        v.run_env(winner, "monitor", p, DEEP).expect(0);
        v.run_env(loser, "monitor", p, DEEP).expect(7);
        v.run(loser, "stop", p).expect(0);
    }
}

fn a_listed_table_without_the_route_gets_ip_128() {
    let v = vip6(&["--owner", "node2", "--extra-tables-without-route", "1"]);
    let w = &v.w;
    let n1 = w.node("node1").eni.clone();
    let list = format!("{},{}", w.tables[0], w.other_tables[0]);
    let params: &[(&str, &str)] = &[("routing_table", &list)];
    v.run("node1", "start", params).expect(0);
    let r = w.routes_of(&w.vip6);
    assert_eq!(r[&w.tables[0]], n1);
    assert_eq!(r[&w.other_tables[0]], n1, "CreateRoute with ip/128");
    assert_eq!(r[&w.tables[1]], w.node("node2").eni, "unlisted: unchanged");
    assert!(
        w.routes()[&w.other_tables[0]].is_empty(),
        "no IPv4 route made"
    );
    v.run_env("node1", "monitor", params, DEEP).expect(0);
}

fn inside_the_vpcs_ipv6_block_is_rc6() {
    let v = vip6(&[]);
    let w = &v.w;
    let block = w.json["vpc_ipv6_cidrs"][0].as_str().unwrap().to_string();
    // A free address of the subnet, and the ENI's own IPv6 address.
    let free = w.node("node1").subnet_ipv6.replace("::/64", "::99");
    for inside in [free, w.node("node1").ipv6.clone()] {
        v.run("node1", "start", &[("ip", &inside)])
            .expect(6)
            .reason_has(&[&inside, &block, "outside"]);
    }
    assert!(w.addrs6("node1").is_empty());
}

fn no_table_routes_it_is_rc6_naming_the_ipv6_route() {
    let v = vip6(&[]);
    v.run("node1", "start", &[("ip", "fd00:ac1::77")])
        .expect(6)
        .reason_has(&["fd00:ac1::77/128", "--destination-ipv6-cidr-block"]);
}

fn bad_ipv6_addresses_are_rc6() {
    let v = vip6(&[]);
    for (ip, why) in [
        ("fe80::1", "link-local"),
        ("::1", "loopback"),
        ("ff02::1", "multicast"),
        ("fd00::1::2", "not an IP address"),
    ] {
        v.run("node1", "start", &[("ip", ip)])
            .expect(6)
            .reason_has(&[ip, why]);
    }
}

tests![
    failover_flips_every_ipv6_route_and_the_local_address,
    a_race_for_the_ipv6_routes_leaves_one_owner,
    a_listed_table_without_the_route_gets_ip_128,
    inside_the_vpcs_ipv6_block_is_rc6,
    no_table_routes_it_is_rc6_naming_the_ipv6_route,
    bad_ipv6_addresses_are_rc6,
];
