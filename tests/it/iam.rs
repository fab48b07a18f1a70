//! `ocf-aws iam-policy`: valid JSON, narrowed by the parameters given, and
//! complete: every API action an agent really sends (counted by the fault
//! proxy while the agent runs its actions against the emulator) is in the
//! policy for that agent.

use crate::agents::{all, known, listed};
use crate::fence::{known_fence, listed_fence};
use crate::world::*;
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

/// Every API action `agent`'s exercise (agents.rs) sends, through a proxy
/// of its own in a world with everything to fix: source/dest checks on, a
/// route table without the route.
fn sent(agent: &str) -> BTreeSet<String> {
    let more = [
        "--source-dest-check",
        "on",
        "--extra-tables-without-route",
        "1",
    ];
    let r = Rsc::seeded(agent, &more).full().proxied().attrd();
    let k = known(agent);
    for (node, action, params) in (k.exercise)(&r) {
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let env = [("OCF_CHECK_LEVEL", "20")];
        let run = r.run_env(node, action, &p, &env);
        assert!(run.rc != 101, "{}", run.stderr);
    }
    r.proxy().stats()["by_action"]
        .as_object()
        .unwrap()
        .keys()
        .map(|a| format!("{}:{a}", k.service))
        .collect()
}

fn every_action_sent_is_in_the_policy() {
    for k in all() {
        let used = sent(k.name);
        let declared = actions(&policy(&[k.name]));
        assert!(
            used.is_subset(&declared),
            "{} sent {used:?}, policy has {declared:?}",
            k.name
        );
        assert!(!used.is_empty(), "{}: the run sent nothing", k.name);
        for a in k.sends {
            assert!(
                used.contains(*a),
                "{}: the run exercised {a}: {used:?}",
                k.name
            );
        }
        for a in k.never_sends {
            assert!(!used.contains(*a), "{}: the run sent {a}: {used:?}", k.name);
        }
    }
}

/// The same for the fence agents (`ocf-aws --list-fence`): every API
/// action their exercise (fence.rs) sends is in their policy.
fn every_fence_action_sent_is_in_the_policy() {
    for name in listed_fence() {
        let k = known_fence(name);
        let f = Fenced::new();
        for (node, lines) in (k.exercise)(&f) {
            let run = f.stdin(node, &lines);
            assert!(run.rc != 101, "{}", run.stderr);
            assert!(
                run.rc == 0 || run.rc == 2,
                "{name} {lines:?}: {}",
                run.stderr
            );
        }
        let used: BTreeSet<String> = f
            .sent()
            .keys()
            .map(|a| format!("{}:{a}", k.service))
            .collect();
        let declared = actions(&policy(&[name]));
        assert!(
            used.is_subset(&declared),
            "{name} sent {used:?}, policy has {declared:?}"
        );
        for a in k.sends {
            assert!(used.contains(*a), "{name}: the run exercised {a}: {used:?}");
        }
    }
}

/// fence_ec2's policy: Stop/StartInstances scoped to the instances in
/// plug, or with tag to instances carrying that tag key; DescribeInstances
/// cannot be scoped.
fn fence_policy_is_scoped_by_parameters() {
    let all = actions(&policy(&[]));
    for a in listed_fence() {
        assert!(actions(&policy(&[a])).is_subset(&all), "{a}");
    }
    let (i1, i2) = ("i-0123456789abcdef0", "i-0fedcba9876543210");
    let p = policy(&["fence_ec2", &format!("plug={i1},{i2}")]);
    let arns = vec![
        format!("arn:aws:ec2:*:*:instance/{i1}"),
        format!("arn:aws:ec2:*:*:instance/{i2}"),
    ];
    for a in ["ec2:StopInstances", "ec2:StartInstances"] {
        assert_eq!(resources_of(&p, a), arns, "{a}: {p:#}");
    }
    assert_eq!(resources_of(&p, "ec2:DescribeInstances"), vec!["*"]);
    let p = policy(&["fence_ec2", "tag=Cluster"]);
    for a in ["ec2:StopInstances", "ec2:StartInstances"] {
        assert_eq!(
            resources_of(&p, a),
            vec!["arn:aws:ec2:*:*:instance/*"],
            "{a}: {p:#}"
        );
        let st = p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"].as_array().unwrap().iter().any(|x| x == a))
            .unwrap();
        assert_eq!(
            st["Condition"]["Null"]["aws:ResourceTag/Cluster"], "false",
            "{a}: {st:#}"
        );
    }
    assert!(
        !p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == "ec2:DescribeInstances")
                && !s["Condition"].is_null()),
        "DescribeInstances has no condition: {p:#}"
    );
    // Without plug or tag: every instance.
    let p = policy(&["fence_ec2"]);
    assert_eq!(
        resources_of(&p, "ec2:StopInstances"),
        vec!["arn:aws:ec2:*:*:instance/*"]
    );
    let out = Command::new(BIN)
        .args(["iam-policy", "fence_ec2", "nosuchparam=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn policy_is_scoped_by_parameters() {
    let all = policy(&[]);
    for a in listed() {
        assert!(actions(&policy(&[a])).is_subset(&actions(&all)), "{a}");
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

/// With a role to assume, both halves: what the nodes' own role needs
/// (its own calls and sts:AssumeRole on the role) and what the role needs
/// (the calls made as it, and a trust policy with the ExternalId).
fn policy_with_roles_prints_both_halves() {
    let net = "arn:aws:iam::111122223333:role/ha-routes";
    let dns = "arn:aws:iam::444455556666:role/ha-dns";
    let p = policy(&[
        "vip",
        &format!("routing_table_role={net}"),
        "external_id=tenant-7",
        "dns",
        &format!("role_arn={dns}"),
        "hosted_zone_id=Z0123456789ABC",
    ]);
    let node = &p["NodeRole"]["Policy"];
    assert_eq!(node["Version"], "2012-10-17", "{p:#}");
    assert_eq!(
        actions(node),
        [
            "ec2:DescribeNetworkInterfaces",
            "ec2:ModifyNetworkInterfaceAttribute",
            "sts:AssumeRole"
        ]
        .map(String::from)
        .into(),
        "the node keeps the ENI's calls: {p:#}"
    );
    assert_eq!(
        resources_of(node, "sts:AssumeRole"),
        vec![net, dns],
        "sorted"
    );
    let routes = &p["AssumedRoles"][net];
    assert_eq!(
        actions(&routes["Policy"]),
        [
            "ec2:CreateRoute",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcs",
            "ec2:ReplaceRoute"
        ]
        .map(String::from)
        .into(),
        "{p:#}"
    );
    let trust = &routes["TrustPolicy"]["Statement"][0];
    assert_eq!(trust["Action"], "sts:AssumeRole");
    assert_eq!(
        trust["Condition"]["StringEquals"]["sts:ExternalId"],
        "tenant-7"
    );
    let zone = &p["AssumedRoles"][dns];
    assert_eq!(
        actions(&zone["Policy"]),
        actions(&policy(&["dns"])),
        "role_arn: every dns call as the role: {p:#}"
    );
    assert_eq!(
        resources_of(&zone["Policy"], "route53:ChangeResourceRecordSets"),
        vec!["arn:aws:route53:::hostedzone/Z0123456789ABC"]
    );
    assert!(zone["TrustPolicy"]["Statement"][0]["Condition"].is_null());
    // No role: the one policy, as before.
    assert!(policy(&["vip"])["NodeRole"].is_null());
    // A value that is no role ARN is a usage error naming it.
    let out = Command::new(BIN)
        .args(["iam-policy", "eip", "role_arn=ha-dns"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("role_arn='ha-dns'"), "{err}");
}

tests![
    policy_with_roles_prints_both_halves,
    every_action_sent_is_in_the_policy,
    policy_is_scoped_by_parameters,
    every_fence_action_sent_is_in_the_policy,
    fence_policy_is_scoped_by_parameters,
];
