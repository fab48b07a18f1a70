//! `ocf-aws doctor` for the az, eip and dns agents.

use super::{check, doctor, doctor_env};
use crate::world::*;
use serde_json::Value;

fn az_wrong_zone_and_available_zone() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    let path = format!(
        "{}:/usr/sbin:/usr/bin:/sbin:/bin",
        repo().join("tests/world").display()
    );
    let env = [("PATH", path.as_str())];
    let r = doctor_env(&w, "node1", &["az"], &proxy, &env);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(r.rc, 0, "{v:#}");
    let (s, ev, _) = check(&v, "zone");
    assert_eq!(s, "pass");
    assert!(
        ev.contains(&w.node("node1").az) && ev.contains("available"),
        "{ev}"
    );
    assert_eq!(
        check(&v, "permission ec2:DescribeAvailabilityZones").0,
        "pass"
    );

    let r = doctor_env(
        &w,
        "node1",
        &["az", "availability_zone=us-east-1z"],
        &proxy,
        &env,
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(r.rc, 1, "{v:#}");
    let (s, ev, fix) = check(&v, "zone");
    assert_eq!(s, "fail");
    assert!(ev.contains("no zone us-east-1z"), "{ev}");
    assert!(fix.contains("describe-availability-zones"), "{fix}");

    // An impaired zone is reported as the reason resources will leave.
    proxy.ctl(&format!(
        "zone-state?zone={}&state=impaired",
        w.node("node1").az
    ));
    let r = doctor_env(&w, "node1", &["az"], &proxy, &env);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(r.rc, 1);
    assert!(check(&v, "zone").1.contains("impaired"), "{v:#}");
}

fn eip_missing_allocation_and_association() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    let (r, v) = doctor(
        &w,
        "node1",
        &["eip", "allocation_id=eipalloc-0123456789abcdef0"],
        &proxy,
    );
    assert_eq!(r.rc, 1, "{v:#}");
    let (s, ev, _) = check(&v, "Elastic IP");
    assert_eq!(s, "fail");
    assert!(
        ev.contains("eipalloc-0123456789abcdef0") && ev.contains("does not exist"),
        "{ev}"
    );

    let (alloc, public) = w.allocate_eip();
    let (r, v) = doctor(
        &w,
        "node1",
        &["eip", &format!("allocation_id={alloc}")],
        &proxy,
    );
    assert_eq!(r.rc, 0, "{v:#}");
    assert!(check(&v, "Elastic IP").1.contains(&public));
    assert!(check(&v, "association").1.contains("not associated"));
    assert_eq!(check(&v, "permission ec2:AssociateAddress").0, "pass");
    // Nothing to disassociate: cannot be asked, which is not a failure.
    assert_eq!(check(&v, "permission ec2:DisassociateAddress").0, "skip");
    assert_eq!(w.eip_assoc(&alloc).0, "", "doctor associated the address");
}

fn dns_zone_record_and_resolver() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    let (zone, zname) = w.create_zone(true);
    let name = format!("DB.{zname}.");
    let dns = Helper::dns(&w.endpoint, None);
    let resolver = format!("resolver={}", dns.url());
    let args = [
        "dns",
        &format!("hosted_zone_id={zone}"),
        &format!("name={name}"),
        resolver.as_str(),
    ];
    let (r, v) = doctor(&w, "node1", &args, &proxy);
    assert_eq!(r.rc, 0, "{v:#}");
    assert!(
        check(&v, "name").1.contains(&format!("db.{zname}")),
        "{v:#}"
    );
    assert!(check(&v, "hosted zone").1.contains("private"), "{v:#}");
    assert!(check(&v, "zone associated with this VPC")
        .1
        .contains(&w.vpc));
    assert!(check(&v, "record").1.contains("no A record"), "{v:#}");
    assert_eq!(check(&v, "resolver").0, "skip");
    assert_eq!(
        check(&v, "permission route53:ChangeResourceRecordSets").0,
        "skip"
    );
    assert_eq!(
        check(&v, "permission route53:ListResourceRecordSets").0,
        "pass"
    );

    // The record exists and the resolver agrees: both shown.
    let lower = format!("db.{zname}");
    w.set_a_record(&zone, &lower, &w.node("node1").private_ip);
    let (r, v) = doctor(&w, "node1", &args, &proxy);
    assert_eq!(r.rc, 0, "{v:#}");
    let (_, ev, _) = check(&v, "record");
    assert!(
        ev.contains(&w.node("node1").private_ip) && ev.contains("active here"),
        "{ev}"
    );
    assert!(check(&v, "resolver")
        .1
        .contains(&w.node("node1").private_ip));
    assert_eq!(
        w.a_record(&zone, &lower).unwrap().0,
        vec![w.node("node1").private_ip.clone()]
    );

    // A name outside the zone.
    let (r, v) = doctor(
        &w,
        "node1",
        &[
            "dns",
            &format!("hosted_zone_id={zone}"),
            "name=db.elsewhere.example",
        ],
        &proxy,
    );
    assert_eq!(r.rc, 1);
    let (s, ev, _) = check(&v, "name inside the zone");
    assert_eq!(s, "fail");
    assert!(ev.contains("not inside"), "{ev}");
}

tests![
    az_wrong_zone_and_available_zone,
    eip_missing_allocation_and_association,
    dns_zone_record_and_resolver,
];
