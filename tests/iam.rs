//! `ocf-aws iam-policy`: valid JSON, narrowed by the parameters given, and
//! complete: every API action an agent really sends (counted by the fault
//! proxy while the agent runs its actions against the emulator) is in the
//! policy for that agent.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn policy(args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .arg("iam-policy")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn actions(p: &Value) -> BTreeSet<String> {
    p["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
        })
        .collect()
}

fn resources_of(p: &Value, action: &str) -> Vec<String> {
    p["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
        .flat_map(|s| match &s["Resource"] {
            Value::String(r) => vec![r.clone()],
            Value::Array(a) => a.iter().map(|r| r.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        })
        .collect()
}

/// One agent call: node, action, parameters.
type Step<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

/// Run `steps` through a fresh proxy and return the API actions sent.
fn sent(w: &World, agent: &str, steps: &[Step]) -> BTreeSet<String> {
    let proxy = Helper::proxy(&w.endpoint);
    let url = proxy.url();
    let path = format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        repo().join("tests/world").display()
    );
    let log = w.dir.join("attrd.log").display().to_string();
    for (node, action, params) in steps {
        let env = [
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("OCF_CHECK_LEVEL", "20"),
            ("PATH", path.as_str()),
            ("ATTRD_LOG", log.as_str()),
        ];
        let r = w.agent_env(node, agent, action, params, &env);
        assert!(r.rc != 101, "{}", r.stderr);
    }
    let prefix = if agent == "dns" { "route53" } else { "ec2" };
    proxy.stats()["by_action"]
        .as_object()
        .unwrap()
        .keys()
        .map(|a| format!("{prefix}:{a}"))
        .collect()
}

fn every_action_sent_is_in_the_policy() {
    // vip: source/dest fix, an explicit table without the route, another VPC id.
    let w = World::with(Seed {
        args: vec![
            "--source-dest-check",
            "on",
            "--extra-tables-without-route",
            "1",
        ],
        ..Seed::default()
    });
    let tables = format!("{},{}", w.tables[0], w.other_tables[0]);
    let vip = [
        ("ip", w.vip.as_str()),
        ("fix_source_dest", "true"),
        ("routing_table", tables.as_str()),
    ];
    let mut used = sent(
        &w,
        "vip",
        &[
            ("node2", "start", vip.to_vec()),
            ("node2", "monitor", vip.to_vec()),
            ("node2", "stop", vip.to_vec()),
            (
                "node1",
                "start",
                vec![("ip", w.vip.as_str()), ("vpc_id", "vpc-0123456789abcdef0")],
            ),
        ],
    );
    let declared = actions(&policy(&["vip"]));
    assert!(
        used.is_subset(&declared),
        "vip sent {used:?}, policy has {declared:?}"
    );
    for a in [
        "ec2:ReplaceRoute",
        "ec2:CreateRoute",
        "ec2:ModifyNetworkInterfaceAttribute",
        "ec2:DescribeVpcs",
    ] {
        assert!(used.contains(a), "the run exercised {a}: {used:?}");
    }

    let (alloc, _) = w.allocate_eip();
    let eip = [("allocation_id", alloc.as_str())];
    used = sent(
        &w,
        "eip",
        &[
            ("node1", "start", eip.to_vec()),
            ("node1", "monitor", eip.to_vec()),
            ("node1", "stop", eip.to_vec()),
        ],
    );
    let declared = actions(&policy(&["eip"]));
    assert!(
        used.is_subset(&declared),
        "eip sent {used:?}, policy has {declared:?}"
    );
    assert!(used.contains("ec2:DisassociateAddress"), "{used:?}");

    let (zone, zname) = w.create_zone(true);
    let name = format!("app.{zname}");
    let dns = [
        ("hosted_zone_id", zone.as_str()),
        ("name", name.as_str()),
        ("delete_on_stop", "true"),
    ];
    used = sent(
        &w,
        "dns",
        &[
            ("node1", "start", dns.to_vec()),
            ("node1", "monitor", dns.to_vec()),
            ("node1", "stop", dns.to_vec()),
        ],
    );
    let declared = actions(&policy(&["dns"]));
    assert!(
        used.is_subset(&declared),
        "dns sent {used:?}, policy has {declared:?}"
    );
    // GetHostedZone is not needed: a name outside the zone is refused by
    // the change itself (issue 6).
    assert!(
        used.contains("route53:GetChange") && !used.contains("route53:GetHostedZone"),
        "{used:?}"
    );

    used = sent(
        &w,
        "az",
        &[
            ("node1", "start", vec![]),
            ("node1", "monitor", vec![]),
            ("node1", "stop", vec![]),
        ],
    );
    let declared = actions(&policy(&["az"]));
    assert!(
        used.is_subset(&declared),
        "az sent {used:?}, policy has {declared:?}"
    );
    assert!(!used.is_empty());
}

fn policy_is_scoped_by_parameters() {
    let all = policy(&[]);
    for agent in ["vip", "eip", "dns", "az"] {
        assert!(
            actions(&policy(&[agent])).is_subset(&actions(&all)),
            "{agent}"
        );
    }
    assert_eq!(all["Version"], "2012-10-17");
    let p = policy(&[
        "vip",
        "routing_table=rtb-0123456789abcdef0,rtb-0fedcba9876543210",
    ]);
    assert_eq!(
        resources_of(&p, "ec2:ReplaceRoute"),
        vec![
            "arn:aws:ec2:*:*:route-table/rtb-0123456789abcdef0",
            "arn:aws:ec2:*:*:route-table/rtb-0fedcba9876543210"
        ]
    );
    assert_eq!(
        resources_of(&p, "ec2:DescribeRouteTables"),
        vec!["*"],
        "Describe* cannot be scoped"
    );
    let p = policy(&["eip", "allocation_id=eipalloc-0123456789abcdef0"]);
    assert!(resources_of(&p, "ec2:AssociateAddress")
        .contains(&"arn:aws:ec2:*:*:elastic-ip/eipalloc-0123456789abcdef0".to_string()));
    let p = policy(&["dns", "hosted_zone_id=Z0123456789ABC", "name=a.example.com"]);
    assert_eq!(
        resources_of(&p, "route53:ChangeResourceRecordSets"),
        vec!["arn:aws:route53:::hostedzone/Z0123456789ABC"]
    );
    assert_eq!(
        resources_of(&p, "route53:GetChange"),
        vec!["arn:aws:route53:::change/*"]
    );
    // Mistakes are usage errors naming the word.
    for bad in [&["nosuch"][..], &["ip=1.2.3.4"], &["vip", "nosuchparam=1"]] {
        let out = Command::new(BIN)
            .arg("iam-policy")
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(!out.stderr.is_empty());
    }
}

fn main() {
    run_tests(vec![
        (
            "every_action_sent_is_in_the_policy",
            every_action_sent_is_in_the_policy,
        ),
        (
            "policy_is_scoped_by_parameters",
            policy_is_scoped_by_parameters,
        ),
    ]);
}
