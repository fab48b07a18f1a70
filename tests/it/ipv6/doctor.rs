//! `ocf-aws doctor` for IPv6 resources: the same checks, on the IPv6 route
//! (`ip/128`, probed with DestinationIpv6CidrBlock) and the subnet's IPv6 block.

use crate::doctor::{check, doctor, failed, tables_point_at_node1};
use crate::world::*;

fn vip6_green_inside_the_block_red_and_nothing_changed() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    let before = w.routes_of(&w.vip6);
    let (r, v) = doctor(&w, "node2", &["vip", &format!("ip={}", w.vip6)], &proxy);
    assert_eq!(r.rc, 0, "{v:#}\n{}", r.stderr);
    assert!(failed(&v).is_empty(), "{v:#}");
    tables_point_at_node1(&w, &v);
    assert_eq!(check(&v, "VIP outside the VPC").0, "pass");
    for a in ["ec2:ReplaceRoute", "ec2:CreateRoute"] {
        let (s, ev, _) = check(&v, &format!("permission {a}"));
        assert_eq!(s, "pass", "{a}: {ev}");
    }
    assert_eq!(w.routes_of(&w.vip6), before, "doctor changed the routes");

    let inside = w.node("node2").subnet_ipv6.replace("::/64", "::99");
    let block = w.json["vpc_ipv6_cidrs"][0].as_str().unwrap().to_string();
    let (r, v) = doctor(&w, "node2", &["vip", &format!("ip={inside}")], &proxy);
    assert_eq!(r.rc, 1, "{v:#}");
    let (s, ev, _) = check(&v, "VIP outside the VPC");
    assert_eq!(s, "fail", "{v:#}");
    assert!(ev.contains(&block), "{ev}");
}

fn secondary_ip6_names_the_subnets_block_and_the_holder() {
    let w = World::with(Seed {
        args: vec!["--same-subnet"],
        ..Seed::default()
    });
    let proxy = Helper::proxy(&w.endpoint);
    let n1 = w.node("node1");
    let (r, v) = doctor(
        &w,
        "node1",
        &["secondary-ip", &format!("ip={}", n1.ipv6)],
        &proxy,
    );
    assert!(failed(&v).is_empty(), "{v:#}\n{}", r.stderr);
    let (_, ev, _) = check(&v, "subnet");
    assert!(ev.contains(&n1.subnet_ipv6), "{ev}");
    let (_, ev, _) = check(&v, "assignment");
    assert!(ev.contains(&n1.eni) && ev.contains("this node"), "{ev}");
    let (s, ev, _) = check(&v, "permission ec2:AssignIpv6Addresses");
    assert_ne!(s, "fail", "{ev}");
    assert!(ev.contains("no DryRun"), "{ev}");
}

tests![
    vip6_green_inside_the_block_red_and_nothing_changed,
    secondary_ip6_names_the_subnets_block_and_the_holder,
];
