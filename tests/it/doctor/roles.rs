//! `ocf-aws doctor` with roles to assume: it assumes each one (the
//! AssumeRole check), asks every permission as the identity the agent
//! makes that call as, and says which one that is.

use super::{check, doctor, failed};
use crate::world::*;

const EXTERNAL_ID: &str = "doctor-ext-1";

fn world() -> World {
    let net = format!("net={EXTERNAL_ID}");
    World::with(Seed {
        args: vec!["--assume-role", &net, "--assume-role", "open"],
        ..Seed::default()
    })
}

/// vip with routing_table_role: the route tables' permissions as the
/// role, the ENI's as the node; all green, and the AssumeRole went
/// through the proxy with the ExternalId.
fn vip_routing_table_role_shows_each_calls_identity() {
    let w = world();
    let proxy = Helper::proxy(&w.endpoint);
    let role = w.role("net");
    let before = w.routes();
    let args = [
        "vip".to_string(),
        format!("ip={}", w.vip),
        format!("routing_table_role={role}"),
        format!("external_id={EXTERNAL_ID}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (r, v) = doctor(&w, "node2", &args, &proxy);
    assert_eq!(r.rc, 0, "{v:#}\n{}", r.stderr);
    assert!(failed(&v).is_empty(), "{v:#}");
    let (s, ev, _) = check(&v, "assume routing_table_role");
    assert_eq!(s, "pass", "{ev}");
    assert!(ev.contains(&role) && ev.contains("ocf-aws-"), "{ev}");
    assert_eq!(check(&v, "STS endpoint").0, "pass");
    for a in [
        "ec2:DescribeRouteTables",
        "ec2:ReplaceRoute",
        "ec2:CreateRoute",
    ] {
        let (s, ev, _) = check(&v, &format!("permission {a}"));
        assert!(s == "pass", "{a}: {s} {ev}");
        assert!(ev.contains(&format!("as role {role}")), "{a}: {ev}");
    }
    for a in [
        "ec2:DescribeNetworkInterfaces",
        "ec2:ModifyNetworkInterfaceAttribute",
    ] {
        let (_, ev, _) = check(&v, &format!("permission {a}"));
        assert!(ev.contains("as this node's own credentials"), "{a}: {ev}");
    }
    assert!(check(&v, "route tables").1.contains(&role));
    assert_eq!(w.routes(), before, "doctor changed the routes");
    let log = proxy.log();
    let assume: Vec<_> = log.iter().filter(|e| e["action"] == "AssumeRole").collect();
    assert!(!assume.is_empty(), "{log:#?}");
    assert!(assume.iter().all(|e| e["external_id"] == EXTERNAL_ID));
}

/// A role that cannot be assumed turns the AssumeRole check red with both
/// halves of the fix, and the checks made as it are skipped, not failed
/// with a misleading reason; role_arn's: every AWS check is skipped.
fn a_role_that_cannot_be_assumed_is_one_red_check() {
    let w = world();
    let proxy = Helper::proxy(&w.endpoint);
    let role = w.role("net");
    let args = [
        "vip".to_string(),
        format!("ip={}", w.vip),
        format!("routing_table_role={role}"),
        "external_id=not-the-one".to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (r, v) = doctor(&w, "node2", &args, &proxy);
    assert_eq!(r.rc, 1, "{v:#}");
    assert_eq!(failed(&v), vec!["assume routing_table_role"], "{v:#}");
    let (_, ev, fix) = check(&v, "assume routing_table_role");
    assert!(ev.contains("sts:AssumeRole") && ev.contains(&role), "{ev}");
    assert!(fix.contains("iam-policy vip routing_table_role="), "{fix}");
    assert!(fix.contains("sts:ExternalId"), "{fix}");
    assert_eq!(check(&v, "permission ec2:ReplaceRoute").0, "skip");
    assert_eq!(check(&v, "route tables").0, "skip");
    assert_eq!(check(&v, "source/dest check").0, "pass");

    let args = [
        "eip".to_string(),
        "allocation_id=eipalloc-0123456789abcdef0".to_string(),
        format!("role_arn={role}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (r, v) = doctor(&w, "node1", &args, &proxy);
    assert_eq!(r.rc, 1, "{v:#}");
    assert_eq!(failed(&v), vec!["assume role_arn"], "{v:#}");
    assert_eq!(check(&v, "AWS checks").0, "skip");
}

/// role_arn: every permission is asked as the role, and says so.
fn role_arn_asks_every_permission_as_the_role() {
    let w = world();
    let proxy = Helper::proxy(&w.endpoint);
    let role = w.role("open");
    let (alloc, _) = w.allocate_eip();
    let args = [
        "eip".to_string(),
        format!("allocation_id={alloc}"),
        format!("role_arn={role}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (r, v) = doctor(&w, "node1", &args, &proxy);
    assert_eq!(r.rc, 0, "{v:#}");
    assert_eq!(check(&v, "assume role_arn").0, "pass");
    for a in ["ec2:DescribeAddresses", "ec2:AssociateAddress"] {
        let (s, ev, _) = check(&v, &format!("permission {a}"));
        assert_eq!(s, "pass", "{a}: {ev}");
        assert!(
            ev.contains(&format!("as role {role} (role_arn")),
            "{a}: {ev}"
        );
    }
}

tests![
    role_arn_asks_every_permission_as_the_role,
    vip_routing_table_role_shows_each_calls_identity,
    a_role_that_cannot_be_assumed_is_one_red_check,
];
