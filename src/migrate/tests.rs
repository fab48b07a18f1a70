//! The conversion of a CIB as crmsh stores a ClusterLabs-style
//! configuration (tests/fixtures/cib-clusterlabs.xml, made from
//! cib-clusterlabs.crm with `crm configure load update` on a CIB_file).

use super::cib::{self, Element, Node};
use super::plan::{self, Line, Options};
use crate::agents;
use std::collections::BTreeMap;

const FIXTURE: &str = include_str!("../../tests/fixtures/cib-clusterlabs.xml");

fn converted(xml: &str, opt: Options) -> (Vec<Node>, Vec<plan::Conversion>) {
    let mut doc = cib::parse(xml).unwrap();
    let done = plan::convert(&mut doc, opt).unwrap();
    (doc, done)
}

/// The element with this id.
fn by_id<'a>(doc: &'a [Node], id: &str) -> Option<&'a Element> {
    fn find<'a>(e: &'a Element, id: &str) -> Option<&'a Element> {
        if e.get("id") == Some(id) {
            return Some(e);
        }
        e.elements().find_map(|c| find(c, id))
    }
    doc.iter().find_map(|n| match n {
        Node::Element(e) => find(e, id),
        Node::Raw(_) => None,
    })
}

fn agent(doc: &[Node], id: &str) -> String {
    let p = by_id(doc, id).unwrap();
    let (c, pr, t) = (p.attr("class"), p.attr("provider"), p.attr("type"));
    assert_eq!(p.get("provider").is_none(), c == "stonith", "{id}");
    if pr.is_empty() {
        format!("{c}:{t}")
    } else {
        format!("{c}:{pr}:{t}")
    }
}

/// A primitive's instance attributes: name → (value, nvpair id).
fn params(doc: &[Node], id: &str) -> BTreeMap<String, (String, String)> {
    by_id(doc, id)
        .unwrap()
        .elements()
        .filter(|s| s.name == "instance_attributes")
        .flat_map(|s| s.elements())
        .map(|n| {
            (
                n.attr("name").to_string(),
                (n.attr("value").to_string(), n.attr("id").to_string()),
            )
        })
        .collect()
}

#[test]
fn every_replaced_primitive_gets_our_agent_wherever_it_sits() {
    let (doc, done) = converted(FIXTURE, Options::default());
    for (id, want) in [
        ("rsc_ip_vip", "ocf:aws:vip"),
        ("rsc_eip", "ocf:aws:eip"),
        ("rsc_dns", "ocf:aws:dns"),
        ("rsc_secip", "ocf:aws:secondary-ip"),
        ("rsc_fence_aws", "stonith:fence_ec2"),
        ("rsc_fence_ec2", "stonith:fence_ec2"),
    ] {
        assert_eq!(agent(&doc, id), want);
        assert!(done.iter().any(|c| c.id == id && c.to == want), "{id}");
    }
    assert_eq!(done.len(), 6);
    assert_eq!(agent(&doc, "rsc_app"), "ocf:heartbeat:Dummy");
    let grp = done.iter().find(|c| c.id == "rsc_dns").unwrap();
    assert_eq!(
        (grp.top.as_str(), grp.within.clone()),
        ("grp_app", vec!["group grp_app".to_string()])
    );
}

#[test]
fn renamed_parameters_keep_their_ids_and_useless_ones_go() {
    let (doc, _) = converted(FIXTURE, Options::default());
    let vip = params(&doc, "rsc_ip_vip");
    assert_eq!(
        vip["ip"],
        (
            "192.168.100.10".into(),
            "rsc_ip_vip-instance_attributes-address".into()
        )
    );
    for gone in ["address", "awscli", "monapi"] {
        assert!(!vip.contains_key(gone), "{gone}: {vip:?}");
    }
    for kept in ["routing_table", "interface", "lookup_type", "profile"] {
        assert!(vip.contains_key(kept), "{kept}: {vip:?}");
    }
    let dns = params(&doc, "rsc_dns");
    assert_eq!(
        dns["hosted_zone_id"].1,
        "rsc_dns-instance_attributes-hostedzoneid"
    );
    assert_eq!(dns["name"].0, "db.example.internal.");
    assert_eq!(
        dns.keys().collect::<Vec<_>>(),
        vec!["hosted_zone_id", "ip", "name", "ttl"]
    );
    let eip = params(&doc, "rsc_eip");
    assert_eq!(
        eip["private_ip"].1,
        "rsc_eip-instance_attributes-private_ip_address"
    );
    assert!(!eip.contains_key("api_delay") && !eip.contains_key("awscli"));
    assert_eq!(params(&doc, "rsc_secip")["ip"].0, "10.0.1.50");
    let fence = params(&doc, "rsc_fence_aws");
    assert!(fence.contains_key("pcmk_host_map") && fence.contains_key("region"));
}

#[test]
fn a_default_of_theirs_that_is_not_ours_is_written_out() {
    let (doc, done) = converted(FIXTURE, Options::default());
    let p = params(&doc, "rsc_fence_ec2");
    assert_eq!(p["tag"].0, "Name");
    assert_eq!(p["profile"].0, "cluster");
    let c = done.iter().find(|c| c.id == "rsc_fence_ec2").unwrap();
    assert!(c
        .lines
        .iter()
        .any(|l| matches!(l, Line::Added { name, .. } if name == "tag")));
    // Set explicitly: not overridden.
    let xml = FIXTURE.replace(
        "<nvpair name=\"profile\" value=\"cluster\" id=\"rsc_fence_ec2-instance_attributes-profile\"/>",
        "<nvpair name=\"tag\" value=\"Host\" id=\"t1\"/>",
    );
    let (doc, _) = converted(&xml, Options::default());
    assert_eq!(
        params(&doc, "rsc_fence_ec2")["tag"],
        ("Host".into(), "t1".into())
    );
}

#[test]
fn monapi_becomes_a_deep_recurring_monitor() {
    let (doc, done) = converted(FIXTURE, Options::default());
    let op = by_id(&doc, "rsc_ip_vip-monitor-20s").unwrap();
    let set = op.child("instance_attributes").unwrap();
    let nv = set.child("nvpair").unwrap();
    assert_eq!(
        (nv.attr("name"), nv.attr("value")),
        ("OCF_CHECK_LEVEL", "10")
    );
    assert_eq!((op.attr("interval"), op.attr("timeout")), ("20s", "40s"));
    // Start and stop are not monitors; eip had no monapi.
    for id in [
        "rsc_ip_vip-start-0s",
        "rsc_ip_vip-stop-0s",
        "rsc_eip-monitor-60s",
    ] {
        assert!(
            by_id(&doc, id)
                .unwrap()
                .child("instance_attributes")
                .is_none(),
            "{id}"
        );
    }
    let c = done.iter().find(|c| c.id == "rsc_ip_vip").unwrap();
    assert!(c.to_string().contains("OCF_CHECK_LEVEL=10 added"), "{c}");
    // monapi=false: removed, no deep monitor.
    let xml = FIXTURE.replace(
        "name=\"monapi\" value=\"true\"",
        "name=\"monapi\" value=\"false\"",
    );
    let (doc, _) = converted(&xml, Options::default());
    assert!(by_id(&doc, "rsc_ip_vip-monitor-20s")
        .unwrap()
        .child("instance_attributes")
        .is_none());
    assert!(!params(&doc, "rsc_ip_vip").contains_key("monapi"));
}

#[test]
fn what_it_does_not_convert_comes_out_byte_for_byte() {
    let (doc, _) = converted(FIXTURE, Options::default());
    let before = cib::parse(FIXTURE).unwrap();
    for id in [
        "rsc_app",
        "grp_app-meta_attributes",
        "loc_app",
        "cib-bootstrap-options",
        "rsc_fence_aws-meta_attributes",
        "rsc_ip_vip-start-0s",
    ] {
        assert_eq!(
            by_id(&doc, id).unwrap().to_xml(),
            by_id(&before, id).unwrap().to_xml(),
            "{id}"
        );
    }
    let out = cib::write(&doc);
    assert!(out.contains("<constraints>\n      <rsc_location id=\"loc_app\" rsc=\"grp_app\" score=\"100\" node=\"node1\"/>\n    </constraints>"));
    // Converted again: nothing left to do, nothing changes.
    let mut again = cib::parse(&out).unwrap();
    assert!(plan::convert(&mut again, Options::default())
        .unwrap()
        .is_empty());
    assert_eq!(cib::write(&again), out);
}

#[test]
fn every_converted_resource_parses_as_ours_without_unknowns() {
    let (doc, done) = converted(FIXTURE, Options::default());
    for c in &done {
        let spec = agents::ALL
            .iter()
            .find(|a| plan::agent_of(a) == c.to)
            .unwrap();
        let raw: BTreeMap<String, String> = params(&doc, &c.id)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("pcmk_"))
            .map(|(k, (v, _))| (k, v))
            .collect();
        let p = crate::core::Params::parse_replacing(spec.params, spec.replaces, &raw)
            .unwrap_or_else(|e| panic!("{}: {}", c.id, e.0));
        assert!(p.unknown.is_empty(), "{}: {:?}", c.id, p.unknown);
        assert!(!p.loses_meaning(), "{}", c.id);
    }
}

#[test]
fn a_lost_meaning_is_refused_by_name_unless_forced() {
    let lost = FIXTURE.replace(
        "<nvpair name=\"profile\" value=\"cluster\" id=\"rsc_fence_ec2-instance_attributes-profile\"/>",
        "<nvpair name=\"unknown_are_stopped\" value=\"1\" id=\"u1\"/>",
    );
    let mut doc = cib::parse(&lost).unwrap();
    let refused = plan::convert(&mut doc, Options::default()).unwrap_err();
    assert_eq!(refused.len(), 1);
    let msg = refused[0].to_string();
    assert!(
        msg.contains("rsc_fence_ec2")
            && msg.contains("unknown_are_stopped=1")
            && msg.contains("--force"),
        "{msg}"
    );
    let (doc, _) = converted(
        &lost,
        Options {
            force: true,
            hold: false,
        },
    );
    assert!(!params(&doc, "rsc_fence_ec2").contains_key("unknown_are_stopped"));
    // A value that means what ours does: removed, no refusal.
    let harmless = lost.replace(
        "name=\"unknown_are_stopped\" value=\"1\"",
        "name=\"unknown_are_stopped\" value=\"false\"",
    );
    let (doc, _) = converted(&harmless, Options::default());
    assert!(!params(&doc, "rsc_fence_ec2").contains_key("unknown_are_stopped"));
}

#[test]
fn promotable_clones_are_searched_too() {
    let xml = FIXTURE
        .replace("<clone id=\"cl_secip\">", "<master id=\"ms_secip\">")
        .replace("</clone>", "</master>");
    let (doc, done) = converted(&xml, Options::default());
    assert_eq!(agent(&doc, "rsc_secip"), "ocf:aws:secondary-ip");
    assert!(done
        .iter()
        .any(|c| c.id == "rsc_secip" && c.top == "ms_secip"));
}

#[test]
fn held_for_the_switch_then_released_exactly() {
    let (plain, _) = converted(FIXTURE, Options::default());
    let pre = r#"<nvpair name="maintenance" value="false" id="m1"/>"#;
    let xml = FIXTURE.replace(
        r#"<nvpair name="target-role" value="Started" id="rsc_fence_aws-meta_attributes-target-role"/>"#,
        &format!(
            r#"<nvpair name="target-role" value="Started" id="rsc_fence_aws-meta_attributes-target-role"/>
          {pre}"#
        ),
    );
    let (mut doc, done) = converted(
        &xml,
        Options {
            force: false,
            hold: true,
        },
    );
    for c in &done {
        assert!(c.held);
        let p = by_id(&doc, &c.id).unwrap();
        let held: Vec<&str> = p
            .elements()
            .filter(|s| s.name == "meta_attributes")
            .flat_map(|s| s.elements())
            .filter(|n| n.attr("name") == "maintenance")
            .map(|n| n.attr("value"))
            .collect();
        assert_eq!(held, vec!["true"], "{}", c.id);
        let probe = p
            .child("operations")
            .unwrap()
            .elements()
            .find(|o| o.attr("name") == "monitor" && o.attr("interval") == "0")
            .unwrap_or_else(|| panic!("{}: no probe operation", c.id));
        let marker = probe
            .child("meta_attributes")
            .unwrap()
            .child("nvpair")
            .unwrap();
        assert_eq!(marker.attr("name"), "ocf_aws_adopt");
        let want = if c.id == "rsc_fence_aws" {
            "maintenance=false"
        } else {
            "maintenance="
        };
        assert_eq!(marker.attr("value"), want, "{}", c.id);
    }
    let mut released = super::managed::finish(&mut doc);
    released.sort();
    let mut ids: Vec<String> = done.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    assert_eq!(released, ids);
    let expected = cib::write(&plain);
    let got = cib::write(&doc).replace(&format!("\n          {pre}"), "");
    assert_eq!(got, expected);
    // Released once: nothing left to release.
    assert!(super::managed::finish(&mut doc).is_empty());
}

#[test]
fn the_review_commands_name_every_resource() {
    let (doc, done) = converted(
        FIXTURE,
        Options {
            force: false,
            hold: true,
        },
    );
    let crm = super::review::crm(&doc, &done);
    assert!(crm.contains("crm configure load xml update - <<'EOF'"));
    assert!(crm.contains("<group id=\"grp_app\">") && crm.contains("<clone id=\"cl_secip\">"));
    assert!(!crm.contains("loc_app"), "{crm}");
    let pcs = super::review::pcs(&done, false);
    assert!(pcs.contains("CIB_file=cib-after.xml ocf-aws migrate --apply --hold\n"));
    assert!(pcs.contains("pcs cluster cib-push cib-after.xml diff-against=cib-before.xml"));
    for top in ["grp_app", "cl_secip", "rsc_fence_aws", "rsc_fence_ec2"] {
        assert!(
            crm.contains(&format!("crm resource refresh {top}\n")),
            "{top}"
        );
        assert!(
            pcs.contains(&format!("pcs resource refresh {top}\n")),
            "{top}"
        );
    }
    assert!(
        crm.ends_with("ocf-aws migrate --finish\n") && pcs.ends_with("ocf-aws migrate --finish\n")
    );
    assert!(crm.contains(r#"name="ocf_aws_adopt""#), "{crm}");
}

#[test]
fn the_readme_migration_table_is_the_generated_one() {
    let readme = include_str!("../../README.md");
    let (start, end) = ("<!-- migration-table -->\n", "\n<!-- /migration-table -->");
    let a = readme
        .find(start)
        .expect("README.md has <!-- migration-table -->")
        + start.len();
    let b = readme[a..]
        .find(end)
        .expect("README.md has <!-- /migration-table -->")
        + a;
    assert!(
        readme[a..b].trim() == super::table().trim(),
        "README.md's migration table is not the generated one: run scripts/params-md.sh --update README.md migration"
    );
}
