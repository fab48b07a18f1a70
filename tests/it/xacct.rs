//! Another account's resources (issue 14): `role_arn` makes every AWS call
//! of an agent as an assumed role, vip's `routing_table_role` only the
//! route tables' calls. Who signed each request is read from the fault
//! proxy's request log (the access key id of each signature): the nodes'
//! keys come from their metadata emulators, the assumed role's from moto's
//! AssumeRole answers, which the log records too. moto has no resource
//! sharing between accounts, so the roles live in the world's own account
//! (tests/world/README.md); the keys are what tell the identities apart.

use crate::agents::all;
use crate::world::*;
use serde_json::Value;
use std::collections::BTreeSet;

const EXTERNAL_ID: &str = "ocf-aws-xacct-42";

/// A resource of `agent` in a world with two roles to assume: `net`
/// (its trust policy wants EXTERNAL_ID) and `open` (no condition), every
/// request through a fault proxy of its own.
fn world(agent: &str, more: &[&str]) -> Rsc {
    let net = format!("net={EXTERNAL_ID}");
    let mut args = vec!["--assume-role", &net, "--assume-role", "open"];
    args.extend_from_slice(more);
    Rsc::seeded(agent, &args).proxied().attrd()
}

fn s<'a>(e: &'a Value, k: &str) -> &'a str {
    e[k].as_str().unwrap_or("")
}

/// The access keys the AssumeRole answers in `log` handed out.
fn issued(log: &[Value]) -> BTreeSet<String> {
    log.iter()
        .filter(|e| s(e, "action") == "AssumeRole" && e["status"] == 200)
        .map(|e| s(e, "issued_key").to_string())
        .collect()
}

/// The AWS API requests of `log` other than STS's.
fn api_calls(log: &[Value]) -> Vec<&Value> {
    log.iter().filter(|e| s(e, "service") != "sts").collect()
}

/// vip with routing_table_role in a shared VPC: the route tables' calls
/// are signed with the assumed role's key, the ENI's (source/dest check,
/// and its fix) with the node's own, which is also what assumed the role,
/// with the ExternalId and a session name naming the node.
fn vip_routing_table_role_signs_only_the_route_calls_as_the_role() {
    let r = world("vip", &["--source-dest-check", "on"]);
    let role = r.w.role("net");
    let r = r.with(&[
        ("routing_table_role", &role),
        ("external_id", EXTERNAL_ID),
        ("fix_source_dest", "true"),
    ]);
    r.run("node2", "start", &[]).expect(0);
    assert_eq!(r.holder(), "node2");
    r.run_env("node2", "monitor", &[], &[("OCF_CHECK_LEVEL", "10")])
        .expect(0);

    let log = r.proxy().log();
    let node = r.w.node_key("node2");
    let assumed = issued(&log);
    assert!(!assumed.is_empty(), "no AssumeRole answered: {log:#?}");
    assert!(
        !assumed.contains(&node),
        "moto issued the node's own key? {node}"
    );
    for e in log.iter().filter(|e| s(e, "action") == "AssumeRole") {
        assert_eq!(s(e, "key"), node, "AssumeRole signed by the node: {e}");
        assert_eq!(s(e, "role_arn"), role, "{e}");
        assert_eq!(s(e, "external_id"), EXTERNAL_ID, "{e}");
        assert_eq!(s(e, "session_name"), "ocf-aws-node2", "{e}");
    }
    let tables = ["DescribeRouteTables", "ReplaceRoute", "CreateRoute"];
    let eni = [
        "DescribeNetworkInterfaces",
        "ModifyNetworkInterfaceAttribute",
        "DescribeInstances",
    ];
    let mut seen = BTreeSet::new();
    for e in api_calls(&log) {
        let (action, key) = (s(e, "action"), s(e, "key"));
        seen.insert(action.to_string());
        if tables.contains(&action) {
            assert!(
                assumed.contains(key),
                "{action} not signed as the role: {e}"
            );
        } else if eni.contains(&action) {
            assert_eq!(key, node, "{action} not signed as the node: {e}");
        } else {
            panic!("unexpected call {e}");
        }
    }
    for a in [
        "DescribeRouteTables",
        "ReplaceRoute",
        "DescribeNetworkInterfaces",
        "ModifyNetworkInterfaceAttribute",
    ] {
        assert!(seen.contains(a), "the start sent no {a}: {seen:?}");
    }
}

/// role_arn: every call of every agent's exercise (start, monitor at
/// depth 20, stop, ...) is signed with the assumed role's key; only
/// AssumeRole itself with the node's.
fn role_arn_signs_every_call_of_every_agent_as_the_role() {
    for k in all() {
        // Everything to fix, as iam.rs's exercise wants it.
        let more = [
            "--source-dest-check",
            "on",
            "--extra-tables-without-route",
            "1",
        ];
        let r = world(k.name, &more).full();
        let role = r.w.role("open");
        let r = r.with(&[("role_arn", &role)]);
        for (node, action, params) in (k.exercise)(&r) {
            let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let run = r.run_env(node, action, &p, &[("OCF_CHECK_LEVEL", "20")]);
            assert!(run.rc != 101, "{}", run.stderr);
        }
        let log = r.proxy().log();
        let assumed = issued(&log);
        let nodes = [r.w.node_key("node1"), r.w.node_key("node2")];
        for e in log.iter().filter(|e| s(e, "action") == "AssumeRole") {
            assert!(nodes.contains(&s(e, "key").to_string()), "{}: {e}", k.name);
            assert_eq!(s(e, "role_arn"), role);
        }
        let calls = api_calls(&log);
        assert!(!calls.is_empty(), "{}: no API call", k.name);
        for e in calls {
            assert!(
                assumed.contains(s(e, "key")),
                "{}: {} not signed as the role: {e}",
                k.name,
                s(e, "action")
            );
        }
    }
}

/// STS refuses the role (the trust policy wants another ExternalId, or
/// the proxy denies as an IAM policy without sts:AssumeRole would): rc 4,
/// the reason names sts:AssumeRole and the role; nothing was changed.
fn a_refused_assume_role_is_rc_4_naming_it() {
    let r = world("vip", &["--owner", "node1"]);
    let role = r.w.role("net");
    let before = r.state();
    for (external_id, deny) in [
        (Some("wrong-id"), false),
        (None, false),
        (Some(EXTERNAL_ID), true),
    ] {
        let mut p = vec![("routing_table_role", role.as_str())];
        if let Some(x) = external_id {
            p.push(("external_id", x));
        }
        let rule = deny.then(|| r.proxy().ctl("rule?action=AssumeRole&fault=deny"));
        let run = r.run("node2", "start", &p);
        run.expect(4)
            .reason_has(&["sts:AssumeRole", &role, "routing_table_role"]);
        if external_id.is_some() && !deny {
            run.reason_has(&["sts:ExternalId"]);
        }
        if let Some(rule) = rule {
            r.proxy().ctl(&format!("delete-rule?id={}", rule["id"]));
        }
    }
    assert_eq!(r.state(), before, "a refused role changed the routes");
    let log = r.proxy().log();
    assert!(
        !log.iter()
            .any(|e| ["ReplaceRoute", "CreateRoute"].contains(&s(e, "action"))),
        "{log:#?}"
    );

    // role_arn on another agent: the same, from the world's own refusal.
    let r = world("eip", &[]);
    let role = r.w.role("net");
    r.run("node1", "start", &[("role_arn", &role)])
        .expect(4)
        .reason_has(&["sts:AssumeRole", &role, "role_arn"]);
    assert!(api_calls(&r.proxy().log()).is_empty());
}

/// A role ARN that cannot be one (or a role setting that cannot work) is
/// rc 6 from the configuration, before any request to AWS.
fn a_bad_role_setting_is_rc_6_before_any_aws_call() {
    for k in all() {
        let r = world(k.name, &[]);
        for action in ["start", "validate-all"] {
            r.run("node1", action, &[("role_arn", "ha-network")])
                .expect(6)
                .reason_has(&[
                    "role_arn='ha-network'",
                    "arn:aws:iam::<account>:role/<name>",
                ]);
        }
        r.run("node1", "start", &[("external_id", EXTERNAL_ID)])
            .expect(6)
            .reason_has(&["external_id", "role_arn"]);
        assert_eq!(r.proxy().stats()["requests"], 0, "{}", k.name);
    }
    let r = world("vip", &[]);
    let role = r.w.role("open");
    r.run(
        "node2",
        "start",
        &[("routing_table_role", "arn:aws:iam::12345:role/x")],
    )
    .expect(6)
    .reason_has(&[
        "routing_table_role='arn:aws:iam::12345:role/x'",
        "<account>",
    ]);
    r.run(
        "node2",
        "start",
        &[("routing_table_role", &role), ("role_arn", &role)],
    )
    .expect(6)
    .reason_has(&["role_arn and routing_table_role"]);
    r.run(
        "node2",
        "start",
        &[("role_arn", &role), ("external_id", "x")],
    )
    .expect(6)
    .reason_has(&["external_id='x'"]);
    assert_eq!(r.proxy().stats()["requests"], 0);
}

/// STS throttling is retried within the deadline, and past it rc 1.
fn a_throttled_assume_role_is_retried_then_transient() {
    let r = world("eip", &[]);
    let role = r.w.role("open");
    let p = [("role_arn", role.as_str())];
    r.proxy()
        .ctl("rule?action=AssumeRole&fault=throttle&count=2");
    r.run("node1", "start", &p).expect(0);
    let n = r
        .proxy()
        .log()
        .iter()
        .filter(|e| s(e, "action") == "AssumeRole")
        .count();
    assert_eq!(n, 3, "two throttled attempts, then one answered");
    r.proxy().ctl("rule?action=AssumeRole&fault=throttle");
    let run = r.run_env(
        "node2",
        "start",
        &p,
        &[("OCF_RESKEY_CRM_meta_timeout", "3000")],
    );
    run.expect(1).reason_has(&["sts:AssumeRole", "throttled"]);
    assert!(run.elapsed.as_secs_f64() < 3.0, "{:?}", run.elapsed);
}

/// AWS_ENDPOINT_URL_STS sends AssumeRole (and only it) to its own
/// endpoint, as the AWS SDKs' per-service endpoint variables do.
fn the_sts_endpoint_follows_aws_endpoint_url_sts() {
    let r = Rsc::seeded("vip", &["--assume-role", "open"]);
    let role = r.w.role("open");
    let sts = Helper::proxy(&r.w.endpoint);
    r.run_env(
        "node2",
        "start",
        &[("routing_table_role", &role)],
        &[("AWS_ENDPOINT_URL_STS", &sts.url())],
    )
    .expect(0);
    assert_eq!(r.holder(), "node2");
    let actions: BTreeSet<String> = sts
        .log()
        .iter()
        .map(|e| s(e, "action").to_string())
        .collect();
    assert_eq!(actions, BTreeSet::from(["AssumeRole".to_string()]));
}

/// The moto corrections these tests rely on hold (selfcheck.py checks
/// them too): a role that does not exist cannot be assumed.
fn a_role_that_does_not_exist_cannot_be_assumed() {
    let r = world("dns", &[]);
    let ghost = format!(
        "arn:aws:iam::{}:role/no-such-role-{}",
        r.w.json["account_id"].as_str().unwrap(),
        r.w.vpc
    );
    r.run("node1", "start", &[("role_arn", &ghost)])
        .expect(4)
        .reason_has(&["sts:AssumeRole", &ghost]);
}

/// fence_ec2 takes role_arn too: its status and off are made as the role
/// (the instance still stops); a value that is no role ARN fails before
/// any request.
fn fence_ec2_with_role_arn_fences_as_the_role() {
    let f = Fenced::with(Seed {
        args: vec!["--assume-role", "open"],
        ..Seed::default()
    });
    let role = f.w.role("open");
    let lines = |action: &str, arn: &str| {
        format!("action={action}\nplug={}\nrole_arn={arn}\n", f.id("node2"))
    };
    let run = f.stdin("node1", &lines("status", &role));
    assert_eq!(run.rc, 0, "{}", run.stderr);
    let run = f.stdin("node1", &lines("off", &role));
    assert_eq!(run.rc, 0, "{}", run.stderr);
    assert_eq!(f.state("node2"), "stopped");
    let log = f.proxy.log();
    let assumed = issued(&log);
    let calls = api_calls(&log);
    assert!(
        calls.iter().any(|e| s(e, "action") == "StopInstances"),
        "{log:#?}"
    );
    for e in calls {
        assert!(assumed.contains(s(e, "key")), "not signed as the role: {e}");
    }
    f.reset();
    let run = f.stdin("node1", &lines("status", "ha-network"));
    assert_ne!(run.rc, 0);
    assert!(
        run.stderr.contains("role_arn='ha-network'")
            && run.stderr.contains("arn:aws:iam::<account>:role/<name>"),
        "{}",
        run.stderr
    );
    assert_eq!(f.proxy.stats()["requests"], 0);
}

/// The assumed role's credentials expiring during an action: the call
/// that AWS refused as ExpiredToken is sent again with credentials of a
/// fresh AssumeRole (the node's own stay as they are).
fn expired_role_credentials_are_renewed_by_assuming_again() {
    let r = world("vip", &["--owner", "node1"]);
    let role = r.w.role("open");
    r.proxy().ctl(
        "rule?action=ReplaceRoute&fault=status&code=400&error=ExpiredToken\
         &message=The+security+token+included+in+the+request+is+expired&count=1",
    );
    r.run("node2", "start", &[("routing_table_role", &role)])
        .expect(0);
    assert_eq!(r.holder(), "node2");
    let log = r.proxy().log();
    let keys: Vec<&str> = log
        .iter()
        .filter(|e| s(e, "action") == "AssumeRole")
        .map(|e| s(e, "issued_key"))
        .collect();
    assert_eq!(
        keys.len(),
        2,
        "assumed once more after ExpiredToken: {log:#?}"
    );
    // The tables are switched concurrently: the other ReplaceRoutes may be
    // signed with the old key before the renewal (and reach the proxy after
    // it). The retry of the refused one is signed with the new key, and so
    // is the check that follows the switch.
    let refused = log.iter().position(|e| e["fault"] == "status").unwrap();
    assert_eq!(s(&log[refused], "key"), keys[0], "{log:#?}");
    let renewed = log
        .iter()
        .rposition(|e| s(e, "action") == "AssumeRole")
        .unwrap();
    assert!(renewed > refused, "{log:#?}");
    let after = &log[renewed + 1..];
    assert!(
        after
            .iter()
            .any(|e| s(e, "action") == "ReplaceRoute" && s(e, "key") == keys[1]),
        "{log:#?}"
    );
    let last = log.last().unwrap();
    assert_eq!(s(last, "action"), "DescribeRouteTables", "{log:#?}");
    assert_eq!(s(last, "key"), keys[1], "{log:#?}");
}

/// A call the assumed role's own policy denies names the role's policy as
/// the one to change; an ENI call denied names the node's.
fn a_denial_names_the_policy_of_the_identity_that_made_the_call() {
    let r = world("vip", &["--owner", "node1"]);
    let role = r.w.role("open");
    let p = [("routing_table_role", role.as_str())];
    // The ENI's check first: once passed, a node does not ask again.
    let rule = r
        .proxy()
        .ctl("rule?action=DescribeNetworkInterfaces&fault=deny");
    let run = r.run("node2", "start", &p);
    run.expect(4)
        .reason_has(&["ec2:DescribeNetworkInterfaces", "this node's instance role"]);
    assert!(!run.reason().contains(&role), "{}", run.reason());
    r.proxy().ctl(&format!("delete-rule?id={}", rule["id"]));
    r.proxy().ctl("rule?action=ReplaceRoute&fault=deny");
    r.run("node2", "start", &p).expect(4).reason_has(&[
        "ec2:ReplaceRoute",
        &format!("assumed role {role}"),
        "that role's IAM policy",
    ]);
}

tests![
    a_denial_names_the_policy_of_the_identity_that_made_the_call,
    expired_role_credentials_are_renewed_by_assuming_again,
    fence_ec2_with_role_arn_fences_as_the_role,
    vip_routing_table_role_signs_only_the_route_calls_as_the_role,
    role_arn_signs_every_call_of_every_agent_as_the_role,
    a_refused_assume_role_is_rc_4_naming_it,
    a_bad_role_setting_is_rc_6_before_any_aws_call,
    a_throttled_assume_role_is_retried_then_transient,
    the_sts_endpoint_follows_aws_endpoint_url_sts,
    a_role_that_does_not_exist_cannot_be_assumed,
];
