//! `ocf-aws doctor` against the emulated AWS: green on a correct node, and
//! each broken thing an operator meets (wrong zone, missing route,
//! source/dest check on, no credentials, a denied permission, a VIP inside
//! the VPC, a record name outside its zone, a missing Elastic IP, a proxy
//! without NO_PROXY) turns exactly its check red with a fix, and exit 1.
//! Doctor changes nothing: the route tables are compared before and after.

mod eip_dns_az;
mod roles;

use crate::world::*;
use serde_json::Value;
use std::process::Command;

/// Run `ocf-aws doctor ARGS --json` on `node` as an operator would (a root
/// shell: HOME set, but no AWS profile), through the fault proxy.
fn doctor_env(w: &World, node: &str, args: &[&str], proxy: &Helper, env: &[(&str, &str)]) -> Run {
    let n = w.node(node);
    let mut cmd = Command::new(BIN);
    cmd.arg("doctor")
        .arg("--json")
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", w.dir.join("home"))
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &n.imds)
        .env("HA_RSCTMP", &n.rsctmp);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t = std::time::Instant::now();
    let out = cmd.output().expect("run doctor");
    Run::new(out, t.elapsed())
}

pub(crate) fn doctor(w: &World, node: &str, args: &[&str], proxy: &Helper) -> (Run, Value) {
    let r = doctor_env(w, node, args, proxy, &[]);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}): {r:?}"));
    (r, v)
}

/// (status, evidence, fix) of the check named `name`.
pub(crate) fn check(v: &Value, name: &str) -> (String, String, String) {
    let c = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check '{name}' in {v:#}"));
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
    (s("status"), s("evidence"), s("fix"))
}

/// Doctor lists every seeded table as pointing at node1's ENI, not at the
/// node it runs on.
pub(crate) fn tables_point_at_node1(w: &World, v: &Value) {
    let (_, tables, _) = check(v, "route tables");
    let node1 = &w.node("node1").eni;
    for t in &w.tables {
        assert!(
            tables.contains(&format!("{t} → ENI {node1} (not this node)")),
            "{tables}"
        );
    }
}

pub(crate) fn failed(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["check"].as_str().unwrap().to_string())
        .collect()
}

fn vip_all_green_and_changes_nothing() {
    let w = World::with(Seed {
        args: vec!["--owner", "node1"],
        ..Seed::default()
    });
    let proxy = Helper::proxy(&w.endpoint);
    let before = w.routes();
    let (r, v) = doctor(&w, "node2", &["vip", &format!("ip={}", w.vip)], &proxy);
    assert_eq!(r.rc, 0, "{:#}\n{}", v, r.stderr);
    assert_eq!(v["ok"], true);
    assert!(failed(&v).is_empty(), "{v:#}");
    let (s, ev, _) = check(&v, "credentials");
    assert_eq!(s, "pass");
    assert!(ev.contains("instance role ha-cluster-node"), "{ev}");
    assert!(
        check(&v, "region").1.contains("from instance metadata"),
        "{v:#}"
    );
    assert_eq!(check(&v, "IMDSv2").0, "pass");
    assert!(check(&v, "instance role").1.contains("ha-cluster-node"));
    assert!(check(&v, "EC2 endpoint").1.contains(&proxy.url()), "{v:#}");
    // Every table is listed with where it points: node1's ENI, not this node.
    tables_point_at_node1(&w, &v);
    assert!(check(&v, "interface").1.contains(&w.node("node2").eni));
    assert_eq!(check(&v, "source/dest check").0, "pass");
    assert_eq!(check(&v, "VIP outside the VPC").0, "pass");
    for a in [
        "ec2:DescribeRouteTables",
        "ec2:ReplaceRoute",
        "ec2:CreateRoute",
        "ec2:ModifyNetworkInterfaceAttribute",
    ] {
        let (s, ev, _) = check(&v, &format!("permission {a}"));
        assert_eq!(s, "pass", "{a}: {ev}");
        assert!(ev.contains("DryRun"), "{a}: {ev}");
    }
    assert_eq!(w.routes(), before, "doctor changed the route tables");
    // The DryRun probes reached EC2 as DryRun requests, not as changes.
    let sent = proxy.stats();
    assert!(
        sent["by_action"]["ReplaceRoute"].as_u64().unwrap_or(0) >= 1,
        "{sent}"
    );

    // The same in text: one ✓ line per check and the summary.
    let out = Command::new(BIN)
        .args(["doctor", "vip", &format!("ip={}", w.vip)])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &w.node("node2").imds)
        .env("HA_RSCTMP", &w.node("node2").rsctmp)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("ocf-aws doctor: vip\n"), "{text}");
    assert!(text.contains("✓ source/dest check: off on"), "{text}");
    assert!(!text.contains('✗'), "{text}");
    assert!(text.contains(" passed, 0 failed"), "{text}");
}

fn vip_missing_route_source_dest_on_and_inside_the_vpc() {
    let w = World::with(Seed {
        args: vec!["--source-dest-check", "on"],
        ..Seed::default()
    });
    let proxy = Helper::proxy(&w.endpoint);
    // An overlay address no table routes: discovery finds nothing.
    let (r, v) = doctor(&w, "node1", &["vip", "ip=192.168.77.7"], &proxy);
    assert_eq!(r.rc, 1, "{v:#}");
    assert_eq!(v["ok"], false);
    let (s, ev, fix) = check(&v, "route tables");
    assert_eq!(s, "fail");
    assert!(
        ev.contains("no route table of") && ev.contains("192.168.77.7/32"),
        "{ev}"
    );
    assert!(fix.contains("aws ec2 create-route"), "{fix}");
    let (s, ev, fix) = check(&v, "source/dest check");
    assert_eq!(s, "fail", "{ev}");
    assert!(ev.contains(&w.node("node1").eni), "{ev}");
    assert!(
        fix.contains("--no-source-dest-check") && fix.contains("fix_source_dest=true"),
        "{fix}"
    );
    assert_eq!(
        failed(&v),
        vec!["route tables".to_string(), "source/dest check".to_string()],
        "{v:#}"
    );
    // With fix_source_dest the agent would turn it off itself: not a failure.
    let (_, v) = doctor(
        &w,
        "node1",
        &["vip", &format!("ip={}", w.vip), "fix_source_dest=true"],
        &proxy,
    );
    assert_eq!(check(&v, "source/dest check").0, "pass", "{v:#}");
    assert!(
        w.source_dest_check(&w.node("node1").eni),
        "doctor turned the check off"
    );

    // An address of the VPC's own range cannot be routed to an ENI.
    let inside = w.node("node1").private_ip.replace(".10", ".99");
    let (r, v) = doctor(&w, "node1", &["vip", &format!("ip={inside}")], &proxy);
    assert_eq!(r.rc, 1);
    let (s, ev, _) = check(&v, "VIP outside the VPC");
    assert_eq!(s, "fail", "{ev}");
    assert!(ev.contains(&inside), "{ev}");
}

fn no_credentials_and_a_denied_permission() {
    // No role on the instance and no profile: credentials and role are red,
    // and everything that needs AWS is skipped, not reported as passing.
    let w = World::with(Seed {
        imds_args: vec![],
        ..Seed::default()
    });
    let proxy = Helper::proxy(&w.endpoint);
    let (r, v) = doctor(&w, "node1", &["vip", &format!("ip={}", w.vip)], &proxy);
    assert_eq!(r.rc, 1, "{v:#}");
    let (s, ev, fix) = check(&v, "credentials");
    assert_eq!(s, "fail");
    assert!(
        ev.contains("no AWS credentials") && ev.contains("tried"),
        "{ev}"
    );
    assert!(fix.contains("instance profile"), "{fix}");
    assert_eq!(check(&v, "instance role").0, "fail");
    assert_eq!(check(&v, "AWS checks").0, "skip");
    assert_eq!(
        proxy.stats()["requests"],
        0,
        "no API request without credentials"
    );

    // With a role, but ReplaceRoute denied by the policy.
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    proxy.ctl("rule?action=ReplaceRoute&fault=deny");
    let (r, v) = doctor(&w, "node2", &["vip", &format!("ip={}", w.vip)], &proxy);
    assert_eq!(r.rc, 1);
    let (s, ev, fix) = check(&v, "permission ec2:ReplaceRoute");
    assert_eq!(s, "fail");
    assert!(ev.contains("UnauthorizedOperation"), "{ev}");
    assert!(fix.contains("ocf-aws iam-policy vip"), "{fix}");
    assert_eq!(failed(&v), vec!["permission ec2:ReplaceRoute".to_string()]);
}

fn proxy_without_no_proxy_and_resource_from_the_cib() {
    let w = World::new();
    let direct = Helper::proxy(&w.endpoint);
    // The fault proxy also works as a forward proxy: requests reach moto
    // through it, and the check wants 169.254.169.254 in NO_PROXY.
    let forward = Helper::proxy(&w.endpoint);
    let ip = format!("ip={}", w.vip);
    // The endpoint by name: IMDS is 127.0.0.1 here, and ocf-aws exempts
    // the IMDS host from the proxy.
    let by_name = format!("http://localhost:{}", direct.port());
    let env = [
        ("HTTPS_PROXY", forward.url()),
        ("AWS_ENDPOINT_URL", by_name.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = doctor_env(&w, "node2", &["vip", &ip], &direct, &env);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(r.rc, 1, "{v:#}");
    assert_eq!(
        failed(&v),
        vec!["NO_PROXY covers IMDS".to_string()],
        "{v:#}"
    );
    assert!(check(&v, "proxy").1.contains(&forward.url()));
    assert!(
        forward.stats()["requests"].as_u64().unwrap() > 0,
        "the proxy was not used"
    );
    let mut env2 = env.clone();
    env2.push(("NO_PROXY", "localhost,169.254.169.254"));
    let r = doctor_env(&w, "node2", &["vip", &ip], &direct, &env2);
    assert_eq!(r.rc, 0, "{}", r.stdout);

    // --resource reads agent and parameters from the CIB (a saved one here).
    let cib = w.dir.join("cib.xml");
    std::fs::write(
        &cib,
        format!(
            r#"<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration><crm_config/><nodes/>
    <resources>
      <primitive id="vip1" class="ocf" provider="aws" type="vip">
        <instance_attributes id="vip1-ia">
          <nvpair id="vip1-ip" name="ip" value="{}"/>
          <nvpair id="vip1-rt" name="routing_table" value="{}"/>
        </instance_attributes>
      </primitive>
    </resources><constraints/></configuration><status/></cib>"#,
            w.vip,
            w.tables.join(",")
        ),
    )
    .unwrap();
    let cib_env = [("CIB_file", cib.to_str().unwrap())];
    let r = doctor_env(&w, "node2", &["--resource", "vip1"], &direct, &cib_env);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{r:?}"));
    assert_eq!(r.rc, 0, "{v:#}");
    assert_eq!(v["resource"], "vip1");
    assert_eq!(v["agent"], "vip");
    assert!(check(&v, "parameters").1.contains(&w.tables[0]), "{v:#}");
    let r = doctor_env(&w, "node2", &["--resource", "nope"], &direct, &cib_env);
    assert_eq!(r.rc, 2, "{r:?}");
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
    // A bad parameter value in the CIB is reported, with the others checked.
    let r = doctor_env(
        &w,
        "node2",
        &["--resource", "vip1", "ip=300.1.1.1"],
        &direct,
        &cib_env,
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(r.rc, 1);
    assert!(check(&v, "parameters").1.contains("300.1.1.1"), "{v:#}");
    assert_eq!(check(&v, "credentials").0, "pass");
}

fn metadata_is_asked_live_not_from_the_agents_cache() {
    let w = World::new();
    let proxy = Helper::proxy(&w.endpoint);
    let ip = format!("ip={}", w.vip);
    // A start warms the agents' identity cache in the node's run directory.
    w.agent("node1", "vip", "start", &[("ip", w.vip.as_str())])
        .expect(0);
    let cache = w.node("node1").rsctmp.join("ocf-aws");
    assert!(
        std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0) > 0,
        "the start left no state in {}",
        cache.display()
    );
    // Then the instance loses IMDSv2: doctor must say so, cache or not.
    w.imds_post("node1", "/_emulator/mode?m=v1-only");
    let (r, v) = doctor(&w, "node1", &["vip", &ip], &proxy);
    assert_eq!(r.rc, 1, "{v:#}");
    let (s, ev, fix) = check(&v, "IMDSv2");
    assert_eq!(s, "fail", "{v:#}");
    assert!(ev.contains("refused an IMDSv2 token"), "{ev}");
    assert!(fix.contains("imds_version=1"), "{fix}");
    assert!(check(&v, "instance metadata").1.contains("IMDSv1"), "{v:#}");
    // With imds_version=1 the same node is fine again.
    let (r, v) = doctor(&w, "node1", &["vip", &ip, "imds_version=1"], &proxy);
    assert_eq!(r.rc, 0, "{v:#}");
}

tests![
    metadata_is_asked_live_not_from_the_agents_cache,
    vip_all_green_and_changes_nothing,
    vip_missing_route_source_dest_on_and_inside_the_vpc,
    no_credentials_and_a_denied_permission,
    proxy_without_no_proxy_and_resource_from_the_cib,
    ;
    eip_dns_az,
    roles,
];
