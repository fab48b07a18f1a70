//! Requests per action at the floor (issue 6): every AWS API request is
//! counted at the fault proxy in front of moto, every metadata request at
//! the node's imds.py; and the node's identity cache (0600 under the run
//! directory) is used, and dropped when it turns out to be wrong.

use crate::world::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// The agents' requests of one world, counted.
struct Counted {
    w: World,
    proxy: Helper,
}

impl Counted {
    fn new(seed: Seed) -> Counted {
        let w = World::with(seed);
        let proxy = Helper::proxy(&w.endpoint);
        Counted { w, proxy }
    }

    /// Run one action through the proxy with fresh counters; returns the
    /// run, the API actions sent and the node's metadata statistics.
    fn run(
        &self,
        node: &str,
        agent: &str,
        action: &str,
        params: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> (Run, Value, Value) {
        self.proxy.ctl("reset");
        self.w.imds_post(node, "/_emulator/reset-stats");
        let url = self.proxy.url();
        let mut env = vec![("AWS_ENDPOINT_URL", url.as_str())];
        env.extend_from_slice(extra);
        let r = self.w.agent_env(node, agent, action, params, &env);
        let api = self.proxy.stats()["by_action"].clone();
        (r, api, self.w.imds_stats(node))
    }

    fn cache(&self, node: &str) -> PathBuf {
        self.w
            .node(node)
            .rsctmp
            .join("ocf-aws")
            .join("identity.cache")
    }
}

/// `{"A": n, …}` exactly as expected (absent actions are 0).
#[track_caller]
fn sent(api: &Value, expected: &[(&str, u64)]) {
    let got: std::collections::BTreeMap<String, u64> = api
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let want: std::collections::BTreeMap<String, u64> = expected
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.to_string(), *n))
        .collect();
    assert_eq!(got, want, "API requests sent");
}

fn paths(imds: &Value) -> Vec<String> {
    imds["by_path"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn vip_start_floor() {
    let c = Counted::new(Seed {
        args: vec!["--tables", "3"],
        ..Seed::default()
    });
    let ip = c.w.vip.clone();
    let vp = [("ip", ip.as_str())];
    // Failover to node2, the first start there: the three tables, plus the
    // once-per-boot source/destination check of its ENI.
    let (r, api, _) = c.run("node2", "vip", "start", &vp, &[]);
    r.expect(0);
    sent(
        &api,
        &[
            ("DescribeNetworkInterfaces", 1),
            ("DescribeRouteTables", 2),
            ("ReplaceRoute", 3),
        ],
    );
    assert!(c.w.managed().iter().all(|e| *e == c.w.node("node2").eni));
    c.run("node1", "vip", "start", &vp, &[]).0.expect(0);
    // Failover back to node2: the floor. One Describe, one ReplaceRoute per
    // table that is wrong, the verifying Describe (issue 7), nothing else.
    let (r, api, imds) = c.run("node2", "vip", "start", &vp, &[]);
    r.expect(0);
    sent(&api, &[("DescribeRouteTables", 2), ("ReplaceRoute", 3)]);
    assert!(c.w.managed().iter().all(|e| *e == c.w.node("node2").eni));
    // Metadata: a token, the instance id check, the VPC's CIDR blocks and
    // the role's credentials; nothing that the cache holds.
    let p = paths(&imds);
    for cached in [
        "/latest/meta-data/mac",
        "/latest/meta-data/placement/region",
        "/latest/meta-data/iam/security-credentials/",
    ] {
        assert!(
            !p.iter().any(|x| x == cached),
            "{cached} asked again: {imds}"
        );
    }
    assert!(!p.iter().any(|x| x.ends_with("/interface-id")), "{imds}");
    assert!(imds["requests"].as_u64().unwrap() <= 4, "{imds}");
    // Only one table wrong: one ReplaceRoute.
    c.w.replace_route(&c.w.tables[0], &c.w.node("node1").eni);
    let (r, api, _) = c.run("node2", "vip", "start", &vp, &[]);
    r.expect(0);
    sent(&api, &[("DescribeRouteTables", 2), ("ReplaceRoute", 1)]);
    // Nothing wrong: one Describe.
    let (r, api, _) = c.run("node2", "vip", "start", &vp, &[]);
    r.expect(0);
    sent(&api, &[("DescribeRouteTables", 1)]);
}

fn vip_monitors_floor() {
    let c = Counted::new(Seed::default());
    let ip = c.w.vip.clone();
    let vp = [("ip", ip.as_str())];
    c.run("node1", "vip", "start", &vp, &[]).0.expect(0);
    // Depth 0 after a start: the recorded device, no AWS, no metadata.
    let (r, api, imds) = c.run("node1", "vip", "monitor", &vp, &[]);
    r.expect(0);
    sent(&api, &[]);
    assert_eq!(imds["requests"], 0, "{imds}");
    // Depth 10: one DescribeRouteTables; a token and the role's credentials.
    let deep = [("OCF_CHECK_LEVEL", "10")];
    let (r, api, imds) = c.run("node1", "vip", "monitor", &vp, &deep);
    r.expect(0);
    sent(&api, &[("DescribeRouteTables", 1)]);
    assert!(imds["requests"].as_u64().unwrap() <= 2, "{imds}");
    // A probe on the other node, which has never started the VIP but knows
    // its identity: the primary device from the cache, no request at all.
    c.run(
        "node2",
        "vip",
        "validate-all",
        &vp,
        &[("OCF_CHECK_LEVEL", "10")],
    )
    .0
    .expect(0);
    let probe = [("OCF_RESKEY_CRM_meta_interval", "")];
    let (r, api, imds) = c.run("node2", "vip", "monitor", &vp, &probe);
    r.expect(7);
    sent(&api, &[]);
    assert_eq!(imds["requests"], 0, "{imds}");
}

fn eip_and_dns_start_floor() {
    let c = Counted::new(Seed::default());
    let (alloc, _) = c.w.allocate_eip();
    let ep = [("allocation_id", alloc.as_str())];
    c.run("node1", "eip", "start", &ep, &[]).0.expect(0);
    let (r, api, _) = c.run("node2", "eip", "start", &ep, &[]);
    r.expect(0);
    sent(&api, &[("DescribeAddresses", 1), ("AssociateAddress", 1)]);
    let n2 = c.w.node("node2");
    assert_eq!(
        c.w.eip_assoc(&alloc),
        (n2.eni.clone(), n2.private_ip.clone())
    );
    let (r, api, _) = c.run("node2", "eip", "start", &ep, &[]);
    r.expect(0);
    sent(&api, &[("DescribeAddresses", 1)]);
    let (r, api, _) = c.run("node2", "eip", "monitor", &ep, &[]);
    r.expect(0);
    sent(&api, &[("DescribeAddresses", 1)]);

    let (zone, zname) = c.w.create_zone(true);
    let name = format!("db.{zname}");
    let dp = [("hosted_zone_id", zone.as_str()), ("name", name.as_str())];
    c.run("node1", "dns", "start", &dp, &[]).0.expect(0);
    let (r, api, _) = c.run("node2", "dns", "start", &dp, &[]);
    r.expect(0);
    sent(
        &api,
        &[
            ("ListResourceRecordSets", 1),
            ("ChangeResourceRecordSets", 1),
            ("GetChange", 1),
        ],
    );
    assert_eq!(
        c.w.a_record(&zone, &name).map(|r| r.0),
        Some(vec![n2.private_ip.clone()])
    );
    let (r, api, _) = c.run("node2", "dns", "monitor", &dp, &[]);
    r.expect(0);
    sent(&api, &[("ListResourceRecordSets", 1)]);
    // A name outside the zone: the change's refusal says so, rc 6.
    let (r, api, _) = c.run(
        "node2",
        "dns",
        "start",
        &[
            ("hosted_zone_id", zone.as_str()),
            ("name", "db.elsewhere.example"),
        ],
        &[],
    );
    r.expect(6)
        .reason_has(&["db.elsewhere.example", "outside hosted zone", &zone]);
    assert!(api.get("GetHostedZone").is_none(), "{api}");
}

fn identity_cache_is_private_used_and_dropped_when_wrong() {
    let c = Counted::new(Seed::default());
    let ip = c.w.vip.clone();
    let vp = [("ip", ip.as_str())];
    let (r, _, cold) = c.run("node2", "vip", "start", &vp, &[]);
    r.expect(0);
    let file = c.cache("node2");
    let meta = std::fs::metadata(&file).expect("identity cache written by start");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let dir = std::fs::metadata(file.parent().unwrap()).unwrap();
    assert_eq!(dir.permissions().mode() & 0o777, 0o700);
    let text = std::fs::read_to_string(&file).unwrap();
    let n2 = c.w.node("node2").clone();
    assert!(
        text.contains(&n2.eni) && text.contains(&n2.instance_id),
        "{text}"
    );
    for secret in ["AccessKeyId", "SecretAccessKey", "Token", "ASIA"] {
        assert!(!text.contains(secret), "credentials in the cache: {text}");
    }
    // Used: the next start asks the metadata service less.
    let (r, _, warm) = c.run("node2", "vip", "start", &vp, &[]);
    r.expect(0);
    let (cold_n, warm_n) = (
        cold["requests"].as_u64().unwrap(),
        warm["requests"].as_u64().unwrap(),
    );
    assert!(warm_n < cold_n, "cold {cold}, warm {warm}");

    // A run directory carried over from another node (its instance id is
    // not ours): dropped at start, node1's own identity looked up.
    let foreign = std::fs::read_to_string(&file).unwrap();
    c.w.replace_route(&c.w.tables[0], &n2.eni);
    let mine = c.cache("node1");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    // Same metadata endpoint as node1's, so only the instance id tells.
    let n1 = c.w.node("node1").clone();
    std::fs::write(&mine, foreign.replace(&n2.imds, &n1.imds)).unwrap();
    let (r, _, imds) = c.run("node1", "vip", "start", &vp, &[]);
    r.expect(0);
    assert!(
        c.w.managed().iter().all(|e| *e == n1.eni),
        "{:?}",
        c.w.managed()
    );
    assert!(
        paths(&imds).iter().any(|p| p.ends_with("/interface-id")),
        "{imds}"
    );
    let now = std::fs::read_to_string(&mine).unwrap();
    assert!(now.contains(&n1.eni) && !now.contains(&n2.eni), "{now}");

    // Our instance, but an ENI that no longer exists behind our MAC (as if
    // the world had been re-seeded under the cache): AWS says so, the start
    // drops the cache, looks the ENI up afresh and succeeds.
    c.w.replace_route(&c.w.tables[0], &n2.eni);
    let stale = now
        .lines()
        .filter(|l| !l.contains("source-dest-check"))
        .map(|l| {
            if l.contains("/interface-id=") {
                l.replace(&n1.eni, "eni-0123456789abcdef0")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(stale.contains("eni-0123456789abcdef0"), "{stale}");
    std::fs::write(&mine, stale).unwrap();
    let (r, _, _) = c.run("node1", "vip", "start", &vp, &[]);
    r.expect(0);
    assert!(
        c.w.managed().iter().all(|e| *e == n1.eni),
        "{:?}",
        c.w.managed()
    );
    let healed = std::fs::read_to_string(&mine).unwrap();
    assert!(
        healed.contains(&n1.eni) && !healed.contains("eni-0123456789abcdef0"),
        "{healed}"
    );
}

/// The instance-role fast path skips the SDK's configuration loader, so
/// the endpoint variants only that loader reads must send an action down
/// the full path. EC2 refuses FIPS together with a custom endpoint, which
/// makes "honoured" observable against the emulator: a start that ignored
/// the variable would succeed.
fn fips_endpoint_setting_is_not_dropped() {
    let w = World::new();
    let vip = [("ip", w.vip.as_str())];
    let before = w.routes();
    let r = w.agent_env(
        "node2",
        "vip",
        "start",
        &vip,
        &[("AWS_USE_FIPS_ENDPOINT", "true")],
    );
    assert_ne!(r.rc, 0, "{}", r.stderr);
    assert!(r.reason().contains("FIPS"), "{}", r.stderr);
    assert_eq!(w.routes(), before, "a refused start changed the routes");
    // Without it, the same start goes through.
    w.agent("node2", "vip", "start", &vip).expect(0);
}

tests![
    fips_endpoint_setting_is_not_dropped,
    vip_start_floor,
    vip_monitors_floor,
    eip_and_dns_start_floor,
    identity_cache_is_private_used_and_dropped_when_wrong,
];
