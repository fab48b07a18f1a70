//! Configurations written for the agents ours replace (ClusterLabs'
//! aws-vpc-move-ip, awseip, aws-vpc-route53, awsvip; fence_aws,
//! external/ec2) work with only the agent name changed: their parameters
//! are read with their meaning, and the ones with no use here are said
//! once, never taken for typos.

use crate::fence::known_fence;
use crate::world::*;
use std::process::Command;

/// The replaced agents as Debian 12 installs them, and what ours replaces
/// each with.
const INSTALLED: &[(&str, &str)] = &[
    ("aws-vpc-move-ip", "vip"),
    ("awseip", "eip"),
    ("awsvip", "secondary-ip"),
    ("aws-vpc-route53", "dns"),
];

/// resource-agents' main branch (commit bf01ad08baf1, 2026-08-21) adds these
/// to Debian 12's 4.12 parameters; fence-agents' main and 4.12 agree.
const MAIN_ONLY: &[(&str, &[&str])] = &[
    (
        "aws-vpc-move-ip",
        &["auth_type", "curl_retries", "curl_sleep", "awscli_timeout"],
    ),
    (
        "awseip",
        &["auth_type", "region", "curl_retries", "curl_sleep"],
    ),
    (
        "awsvip",
        &[
            "auth_type",
            "region",
            "interface",
            "curl_retries",
            "curl_sleep",
        ],
    ),
    (
        "aws-vpc-route53",
        &["auth_type", "region", "curl_retries", "curl_sleep"],
    ),
];

fn param_names(xml: &str) -> Vec<String> {
    xml.match_indices("<parameter name=\"")
        .map(|(i, m)| {
            let rest = &xml[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

fn ours_meta(agent: &str) -> Vec<String> {
    let out = Command::new(agent_link(agent))
        .arg("meta-data")
        .output()
        .unwrap();
    param_names(&String::from_utf8_lossy(&out.stdout))
}

/// Every parameter of every replaced agent, as installed and as on main,
/// is one our meta-data declares (so pcs accepts it without --force).
fn every_parameter_of_theirs_is_in_our_meta_data() {
    for (theirs, ours) in INSTALLED {
        let out = Command::new(format!("/usr/lib/ocf/resource.d/heartbeat/{theirs}"))
            .arg("meta-data")
            .env("OCF_ROOT", "/usr/lib/ocf")
            .output()
            .unwrap();
        let mut names = param_names(&String::from_utf8_lossy(&out.stdout));
        assert!(!names.is_empty(), "{theirs}: no meta-data");
        let main = MAIN_ONLY.iter().find(|(a, _)| a == theirs).unwrap().1;
        names.extend(main.iter().map(|s| s.to_string()));
        let have = ours_meta(ours);
        for n in &names {
            assert!(have.contains(n), "{ours} does not take {theirs}'s {n}");
        }
    }
    let out = Command::new("/usr/sbin/fence_aws")
        .args(["-o", "metadata"])
        .output()
        .unwrap();
    let fence = known_fence("fence_ec2");
    let ours = Command::new(fence_link(fence.name))
        .args(["-o", "metadata"])
        .output()
        .unwrap();
    let have = param_names(&String::from_utf8_lossy(&ours.stdout));
    for n in param_names(&String::from_utf8_lossy(&out.stdout)) {
        assert!(have.contains(&n), "fence_ec2 does not take fence_aws's {n}");
    }
    // cluster-glue's external/ec2 (not packaged in Debian).
    for n in ["port", "tag", "profile", "unknown_are_stopped"] {
        assert!(
            have.contains(&n.to_string()),
            "fence_ec2 does not take external/ec2's {n}"
        );
    }
}

fn no_typo_warning(r: &Run) {
    assert!(!r.stderr.contains("unknown parameter"), "{}", r.stderr);
}

/// aws-vpc-move-ip's parameters: address is ip, iflabel labels the local
/// address, monapi makes the plain monitor check the routes, auth_type=role
/// takes the instance role whatever profile says.
fn vip_as_aws_vpc_move_ip() {
    let v = Rsc::new(World::new(), "vip");
    let w = &v.w;
    let n1 = w.node("node1").eni.clone();
    let dev = w.node("node1").device.clone();
    let tables = w.tables.join(",");
    let theirs: &[(&str, &str)] = &[
        ("ip", ""),
        ("address", &w.vip),
        ("routing_table", &tables),
        ("interface", &dev),
        ("iflabel", "vip"),
        ("monapi", "true"),
        ("lookup_type", "NetworkInterfaceId"),
        ("awscli", "/usr/bin/aws"),
        ("awscli_timeout", "10"),
        ("auth_type", "role"),
        ("profile", "no-such-profile"),
        ("curl_retries", "4"),
        ("curl_sleep", "3"),
    ];
    let r = v.run("node1", "start", theirs);
    r.expect(0);
    no_typo_warning(&r);
    // One line says what became of the ones with no use here.
    let said: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("parameters of ocf:heartbeat:aws-vpc-move-ip"))
        .collect();
    assert_eq!(said.len(), 1, "{}", r.stderr);
    assert!(
        said[0].contains("awscli=/usr/bin/aws ignored"),
        "{}",
        said[0]
    );
    assert!(w.managed().iter().all(|e| *e == n1), "{:?}", w.routes());
    let shown = Command::new("ip")
        .args(["-o", "-4", "addr", "show", "dev", &dev])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains(&format!("{}/32", w.vip)) && shown.contains(&format!("{dev}:vip")),
        "{shown}"
    );
    v.run("node1", "monitor", theirs).expect(0);
    // Someone else takes a route: with monapi the plain monitor sees it.
    let n2 = w.node("node2").eni.clone();
    w.replace_route(&w.tables[0], &n2);
    v.run("node1", "monitor", theirs)
        .expect(7)
        .reason_has(&[&w.tables[0], &n2]);
    let without: Vec<(&str, &str)> = theirs
        .iter()
        .map(|&(k, v)| if k == "monapi" { (k, "false") } else { (k, v) })
        .collect();
    v.run("node1", "monitor", &without).expect(0);
    v.run("node1", "stop", theirs).expect(0);
    assert!(w.addrs("node1").is_empty());
}

/// A label the kernel cannot hold, an IPv6 label, or an auth_type of
/// neither kind is rc 6 naming the value.
fn bad_legacy_values_are_rc6() {
    let v = Rsc::new(World::new(), "vip");
    let dev = v.w.node("node1").device.clone();
    v.run(
        "node1",
        "start",
        &[("interface", &dev), ("iflabel", "muchtoolonglabel")],
    )
    .expect(6)
    .reason_has(&["iflabel=muchtoolonglabel", "15 characters"]);
    v.run("node1", "start", &[("iflabel", "a-b")])
        .expect(6)
        .reason_has(&["iflabel='a-b'"]);
    v.run("node1", "start", &[("auth_type", "sso")])
        .expect(6)
        .reason_has(&["auth_type='sso'", "key nor role"]);
    assert!(v.w.addrs("node1").is_empty());
}

/// awseip's private_ip_address is ours private_ip; api_delay and the CLI
/// settings are ignored.
fn eip_as_awseip() {
    let v = Rsc::new(World::new(), "eip");
    let (alloc, public) = v.eip();
    let (alloc, public) = (alloc.to_string(), public.to_string());
    let n1 = v.w.node("node1").clone();
    let theirs: &[(&str, &str)] = &[
        ("allocation_id", &alloc),
        ("elastic_ip", &public),
        ("private_ip_address", &n1.private_ip),
        ("api_delay", "3"),
        ("awscli", "/usr/bin/aws"),
        ("auth_type", "key"),
    ];
    let r = v.run("node1", "start", theirs);
    r.expect(0);
    no_typo_warning(&r);
    assert_eq!(
        v.w.eip_assoc(&alloc),
        (n1.eni.clone(), n1.private_ip.clone())
    );
    v.run("node1", "monitor", theirs).expect(0);
}

/// aws-vpc-route53's hostedzoneid and fullname (with its trailing dot).
fn dns_as_aws_vpc_route53() {
    let v = Rsc::new(World::new(), "dns");
    let (zone, name) = v.zone_name();
    let (zone, fqdn) = (zone.to_string(), format!("{name}."));
    let theirs: &[(&str, &str)] = &[
        ("hosted_zone_id", ""),
        ("name", ""),
        ("hostedzoneid", &zone),
        ("fullname", &fqdn),
        ("ip", "local"),
        ("ttl", "10"),
        ("awscli", "/usr/bin/aws"),
        ("curl_retries", "2"),
    ];
    let r = v.run("node1", "start", theirs);
    r.expect(0);
    no_typo_warning(&r);
    let node1_ip = v.w.node("node1").private_ip.clone();
    assert_eq!(v.record(), Some(vec![node1_ip]));
}

/// awsvip's secondary_private_ip is ours ip.
fn secondary_ip_as_awsvip() {
    let v = Rsc::for_agent("secondary-ip");
    let ip = v
        .params(&[])
        .iter()
        .find(|(k, _)| *k == "ip")
        .unwrap()
        .1
        .to_string();
    let theirs: &[(&str, &str)] = &[
        ("ip", ""),
        ("secondary_private_ip", &ip),
        ("api_delay", "3"),
        ("awscli", "/usr/bin/aws"),
    ];
    let r = v.run("node1", "start", theirs);
    r.expect(0);
    no_typo_warning(&r);
    assert_eq!(v.holder(), "node1");
}

/// external/ec2's configuration (port is the node name, found by tag) and
/// fence_aws's common options: accepted; a value whose meaning is lost here
/// is warned about, never silently dropped.
fn fence_ec2_as_external_ec2_and_fence_aws() {
    let f = Fenced::new();
    let (n1, n2) = (f.id("node1"), f.id("node2"));
    f.w.tag_instances(&f.tag, &[(&n1, "node1"), (&n2, "node2")]);
    let r = f.stdin(
        "node1",
        &format!(
            "action=status\nport=node2\ntag={}\nboto3_debug=True\nquiet=1\n\
             login_timeout=5\nunknown_are_stopped=false\n",
            f.tag
        ),
    );
    assert_eq!(r.rc, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Status: ON"), "{}", r.stdout);
    no_typo_warning(&r);
    assert!(!r.stderr.contains("LOST"), "{}", r.stderr);
    let r = f.stdin(
        "node1",
        &format!(
            "action=status\nport=node2\ntag={}\nunknown_are_stopped=true\n",
            f.tag
        ),
    );
    assert_eq!(r.rc, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown_are_stopped=true") && r.stderr.contains("MEANING IS LOST"),
        "{}",
        r.stderr
    );
}

/// pcs 0.12 validates a new device by running the agent with an empty
/// environment: the endpoint and metadata settings the cluster has in
/// Pacemaker's environment file are read from it then, and the process's
/// own environment still wins.
fn settings_from_pacemakers_environment_file() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    let file = tmpdir("pcmk-env").join("pacemaker");
    std::fs::write(
        &file,
        format!(
            "# as /etc/default/pacemaker\nexport AWS_ENDPOINT_URL=\"{}\"\n\
             AWS_EC2_METADATA_SERVICE_ENDPOINT={}\n",
            f.proxy.url(),
            f.w.node("node1").imds
        ),
    )
    .unwrap();
    let path = file.display().to_string();
    let lines = format!("action=validate-all\nplug={n2}\n");
    let env: &[(&str, &str)] = &[
        ("AWS_ENDPOINT_URL", ""),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", ""),
        ("OCF_AWS_PACEMAKER_ENV", &path),
    ];
    let r = f.stdin_env("node1", &lines, env);
    assert_eq!(r.rc, 0, "{}", r.stderr);
    // The process's own setting wins over the file's.
    let env: &[(&str, &str)] = &[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("OCF_AWS_PACEMAKER_ENV", &path),
        ("power_timeout", ""),
    ];
    let r = f.stdin_env("node1", &format!("{lines}power_timeout=3\n"), env);
    assert_eq!(r.rc, 1, "{}", r.stderr);
}

crate::world::tests![
    every_parameter_of_theirs_is_in_our_meta_data,
    vip_as_aws_vpc_move_ip,
    bad_legacy_values_are_rc6,
    eip_as_awseip,
    dns_as_aws_vpc_route53,
    secondary_ip_as_awsvip,
    fence_ec2_as_external_ec2_and_fence_aws,
    settings_from_pacemakers_environment_file,
];
