//! fence_ec2 against moto, through the fault proxy, as pacemaker-fenced
//! runs it (`key=value` lines on stdin, no arguments) and as a human does
//! (command-line options): every action and its exit status (0 ok, 1
//! failure, 2 from status when off), the stdin conventions of
//! fence-agents, tag lookup, waiting out `stopping`, the race check, faults
//! (hang, throttling, no credentials, IMDS down), secrets, the request
//! floor, and `ocf-aws doctor fence_ec2`. What is asserted is what the
//! fencer and an operator can see: exit status, the stdout and stderr
//! lines, the instance's state in moto and the proxy's request log.
//! The fence agents themselves come from `ocf-aws --list-fence`.

use crate::world::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The fence agents `ocf-aws --list-fence` names.
pub fn listed_fence() -> &'static [String] {
    static LIST: OnceLock<Vec<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let out = Command::new(BIN)
            .arg("--list-fence")
            .output()
            .expect("ocf-aws --list-fence");
        assert!(out.status.success(), "ocf-aws --list-fence failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    })
}

/// One call of a fence agent's exercise: node and its stdin lines.
pub type FenceStep = (&'static str, String);

/// What the tests know about each fence agent, keyed by name.
pub struct KnownFence {
    pub name: &'static str,
    /// The IAM service prefix of the API it calls.
    pub service: &'static str,
    /// Calls that make it send every API action it can (iam.rs).
    pub exercise: fn(&Fenced) -> Vec<FenceStep>,
    /// API actions (`service:Action`) the exercise must send.
    pub sends: &'static [&'static str],
}

/// Every action of fence_ec2, node1 fencing node2, by id and by tag.
fn ec2_exercise(f: &Fenced) -> Vec<FenceStep> {
    let (n1, n2) = (f.id("node1"), f.id("node2"));
    f.w.tag_instances(&f.tag, &[(&n1, "node1"), (&n2, "node2")]);
    let by_id = |a: &str| ("node1", format!("action={a}\nplug={n2}\n"));
    let by_tag = |a: &str| ("node1", format!("action={a}\nplug=node2\ntag={}\n", f.tag));
    let mut steps: Vec<FenceStep> = [
        "status",
        "off",
        "on",
        "reboot",
        "list",
        "list-status",
        "monitor",
        "validate-all",
    ]
    .into_iter()
    .map(by_id)
    .collect();
    steps.extend(["off", "on", "list", "status"].into_iter().map(by_tag));
    steps.push(("node1", format!("action=list\nfilter=vpc-id={}\n", f.w.vpc)));
    steps
}

pub const KNOWN_FENCE: &[KnownFence] = &[KnownFence {
    name: "fence_ec2",
    service: "ec2",
    exercise: ec2_exercise,
    sends: &[
        "ec2:DescribeInstances",
        "ec2:StopInstances",
        "ec2:StartInstances",
    ],
}];

/// The table entry of a listed fence agent; panics with what to add.
pub fn known_fence(name: &str) -> &'static KnownFence {
    KNOWN_FENCE
        .iter()
        .find(|k| k.name == name)
        .unwrap_or_else(|| {
            panic!(
                "`ocf-aws --list-fence` names {name:?}, which tests/it/fence.rs does not know: \
             add a KnownFence entry (its IAM service and an exercise that sends every API \
             action it can)"
            )
        })
}

/// The one failure line a fence agent prints on stderr for a failed
/// action (the fencer logs it), after checking rc 1.
#[track_caller]
fn failure(r: &Run) -> String {
    assert_eq!(
        r.rc, 1,
        "expected rc 1\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains(": ERROR: ") || l.contains(": Failed: "))
        .collect();
    assert_eq!(lines.len(), 1, "one failure line: {}", r.stderr);
    lines[0].to_string()
}

#[track_caller]
fn ok(r: &Run, stdout: &str) {
    assert_eq!(
        r.rc, 0,
        "expected rc 0\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert_eq!(r.stdout.trim_end(), stdout, "stderr: {}", r.stderr);
    assert!(!r.stderr.contains("ERROR"), "{}", r.stderr);
}

/// rc 0 and these lines in any order (list prints in instance id order).
#[track_caller]
fn ok_lines(r: &Run, lines: &[String]) {
    assert_eq!(r.rc, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let mut got: Vec<&str> = r.stdout.lines().collect();
    let mut want: Vec<&str> = lines.iter().map(String::as_str).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "stderr: {}", r.stderr);
}

fn count(sent: &BTreeMap<String, u64>, action: &str) -> u64 {
    sent.get(action).copied().unwrap_or(0)
}

#[track_caller]
fn no_stop(f: &Fenced) {
    let sent = f.sent();
    assert_eq!(
        count(&sent, "StopInstances"),
        0,
        "a stop was sent: {sent:?}"
    );
}

#[track_caller]
fn metadata_ok(r: &Run) {
    assert_eq!(r.rc, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(r#"<resource-agent name="fence_ec2""#),
        "{}",
        r.stdout
    );
    for a in [
        "on",
        "off",
        "reboot",
        "status",
        "list",
        "list-status",
        "monitor",
        "metadata",
        "validate-all",
    ] {
        assert!(
            r.stdout.contains(&format!(r#"<action name="{a}""#)),
            "metadata lacks action {a}"
        );
    }
    let dir = tmpdir("fence-meta");
    let xml = dir.join("fence_ec2.xml");
    std::fs::write(&xml, &r.stdout).unwrap();
    let st = Command::new("xmllint")
        .arg("--noout")
        .arg(&xml)
        .status()
        .expect("xmllint");
    assert!(st.success(), "metadata is not well-formed XML");
    let _ = std::fs::remove_dir_all(dir);
}

fn every_listed_fence_agent_is_known() {
    assert!(
        !listed_fence().is_empty(),
        "ocf-aws --list-fence named none"
    );
    for a in listed_fence() {
        known_fence(a);
        assert!(
            !crate::agents::listed().contains(a),
            "{a} is in --list too (resource agents only)"
        );
        assert!(
            fence_link(a).exists(),
            "ocf/install.sh made no /usr/sbin/{a}"
        );
    }
}

/// Every action in stdin mode, with its exit status, stdout and the
/// instance's state in moto.
fn stdin_actions_and_exit_codes() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    let plug = |a: &str| format!("action={a}\nplug={n2}\n");
    ok(&f.stdin("node1", &plug("status")), "Status: ON");
    ok(&f.stdin("node1", &plug("off")), "Success: Powered OFF");
    assert_eq!(f.state("node2"), "stopped");
    let r = f.stdin("node1", &plug("status"));
    assert_eq!(r.rc, 2, "status of a stopped instance: {r:?}");
    assert_eq!(r.stdout.trim(), "Status: OFF");
    // off of an instance that is off: success, nothing to do.
    ok(&f.stdin("node1", &plug("off")), "Success: Powered OFF");
    ok(&f.stdin("node1", &plug("on")), "Success: Powered ON");
    assert_eq!(f.state("node2"), "running");
    ok(&f.stdin("node1", &plug("on")), "Success: Powered ON");
    f.reset();
    ok(&f.stdin("node1", &plug("reboot")), "Success: Rebooted");
    assert_eq!(f.state("node2"), "running");
    let order: Vec<String> = f
        .log()
        .into_iter()
        .map(|(a, _)| a)
        .filter(|a| a != "DescribeInstances")
        .collect();
    assert_eq!(order, ["StopInstances", "StartInstances"]);
    // The default action is reboot, as in fence-agents.
    f.reset();
    ok(
        &f.stdin("node1", &format!("plug={n2}\n")),
        "Success: Rebooted",
    );
    assert_eq!(count(&f.sent(), "StopInstances"), 1);

    let (n1, vpc) = (f.id("node1"), f.w.vpc.clone());
    // One line per instance, sorted by id.
    let mut ids = [n1.clone(), n2.clone()];
    ids.sort();
    let [a, b] = &ids;
    let r = f.stdin("node1", &format!("action=list\nfilter=vpc-id={vpc}\n"));
    ok(&r, &format!("{a},{a}\n{b},{b}"));
    let r = f.stdin(
        "node1",
        &format!("action=list-status\nfilter=vpc-id={vpc}\n"),
    );
    ok(&r, &format!("{a},{a},ON\n{b},{b},ON"));
    // Without a filter: the whole account (the shared moto), ours among them.
    let r = f.stdin("node1", "action=list\n");
    assert_eq!(r.rc, 0, "{}", r.stderr);
    assert!(r.stdout.lines().any(|l| l == format!("{n2},{n2}")));

    ok(&f.stdin("node1", &plug("monitor")), "");
    ok(&f.stdin("node1", "action=monitor\n"), "");
    ok(&f.stdin("node1", &plug("validate-all")), "");
    for a in ["metadata", "meta-data"] {
        metadata_ok(&f.stdin("node1", &format!("action={a}\n")));
    }
    // Failures: rc 1 and one line saying why.
    let line = failure(&f.stdin("node1", "action=frobnicate\n"));
    assert!(line.contains("unrecognised action 'frobnicate'"), "{line}");
    let line = failure(&f.stdin("node1", "action=off\n"));
    assert!(line.contains("no plug given"), "{line}");
    let line = failure(&f.stdin("node1", "action=off\nplug=node9\n"));
    assert!(
        line.contains("plug='node9' is not an instance id"),
        "{line}"
    );
    let line = failure(&f.stdin("node1", "action=status\nplug=i-0000000000000dead\n"));
    assert!(
        line.contains("i-0000000000000dead does not exist"),
        "{line}"
    );
    let line = failure(&f.stdin("node1", "action=validate-all\nplug=i-0000000000000dead\n"));
    assert!(line.contains("does not exist"), "{line}");
    let line = failure(&f.stdin("node1", &format!("{}power_timeout=soon\n", plug("off"))));
    assert!(line.contains("power_timeout"), "{line}");
    assert_eq!(f.state("node2"), "running");
}

/// The same actions with fence-agents' command-line options, through the
/// /usr/sbin link and as `ocf-aws fence_ec2 <action> --plug=…`.
fn command_line_actions() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    let vpc = format!("--filter=vpc-id={}", f.w.vpc);
    ok(&f.args("node1", &["-o", "status", "-n", &n2]), "Status: ON");
    ok(
        &f.args(
            "node1",
            &[
                "--action=off",
                &format!("--plug={n2}"),
                "--power-timeout=20",
            ],
        ),
        "Success: Powered OFF",
    );
    assert_eq!(f.state("node2"), "stopped");
    let r = f.args("node1", &["--action", "status", "--port", &n2]);
    assert_eq!((r.rc, r.stdout.trim()), (2, "Status: OFF"), "{r:?}");
    ok(
        &f.args("node1", &["-o", "on", "-n", &n2]),
        "Success: Powered ON",
    );
    assert_eq!(f.state("node2"), "running");
    ok(
        &f.args("node1", &["-o", "reboot", "-n", &n2, "--power-wait=1"]),
        "Success: Rebooted",
    );
    let r = f.args("node1", &["-o", "list-status", &vpc]);
    assert_eq!(r.rc, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&format!("{n2},{n2},ON")), "{}", r.stdout);
    ok(&f.args("node1", &["-o", "monitor"]), "");
    ok(&f.args("node1", &["-o", "validate-all", "-n", &n2]), "");
    metadata_ok(&f.args("node1", &["-o", "metadata"]));
    metadata_ok(&f.args("node1", &["--action=meta-data"]));
    let r = f.args("node1", &["--help"]);
    assert_eq!(r.rc, 0, "{}", r.stderr);
    assert!(r.stdout.contains("--plug"), "{}", r.stdout);
    let r = f.args("node1", &["-o", "status", "--no-such-option"]);
    assert_eq!(r.rc, 1, "an unknown option: {r:?}");
    assert!(r.stderr.contains("--no-such-option"), "{}", r.stderr);

    // For humans: `ocf-aws fence_ec2 <action> [options]`.
    let n = f.w.node("node1");
    let human = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("fence_ec2")
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("AWS_ENDPOINT_URL", f.proxy.url())
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &n.imds)
            .env("HA_RSCTMP", &n.rsctmp)
            .output()
            .unwrap();
        Run::new(out, Duration::ZERO)
    };
    ok(&human(&["status", &format!("--plug={n2}")]), "Status: ON");
    ok(
        &human(&["off", &format!("--plug={n2}"), "--power-timeout=20"]),
        "Success: Powered OFF",
    );
    assert_eq!(f.state("node2"), "stopped");
    let r = human(&["status", "-n", &n2]);
    assert_eq!(r.rc, 2, "{r:?}");
    ok(&human(&["on", "-n", &n2]), "Success: Powered ON");
    metadata_ok(&human(&["metadata"]));
}

/// status: running/pending/stopping/shutting-down are ON (0), stopped/
/// terminated OFF (2), whatever moto's own state (the proxy rewrites it).
fn status_follows_the_instance_state() {
    let f = Fenced::new();
    let lines = format!("action=status\nplug={}\n", f.id("node2"));
    for (state, rc, out) in [
        ("running", 0, "Status: ON"),
        ("pending", 0, "Status: ON"),
        ("stopping", 0, "Status: ON"),
        ("shutting-down", 0, "Status: ON"),
        ("stopped", 2, "Status: OFF"),
        ("terminated", 2, "Status: OFF"),
    ] {
        f.hold("node2", state, None);
        let r = f.stdin("node1", &lines);
        assert_eq!((r.rc, r.stdout.trim()), (rc, out), "{state}: {r:?}");
    }
    // An instance already terminated or stopped needs no stop: off succeeds.
    for state in ["terminated", "stopped"] {
        f.reset();
        f.hold("node2", state, None);
        let r = f.stdin("node1", &lines.replace("status", "off"));
        ok(&r, "Success: Powered OFF");
        no_stop(&f);
    }
    // on refuses a terminated instance (it can never run again).
    f.hold("node2", "terminated", None);
    let line = failure(&f.stdin("node1", &lines.replace("status", "on")));
    assert!(line.contains("terminated"), "{line}");
    assert_eq!(count(&f.sent(), "StartInstances"), 0);
}

/// The stdin conventions of fence-agents: blank and # lines skipped,
/// quotes removed, - and _ equal, unknown keys ignored with a warning,
/// nodename ignored, port = plug, the last duplicate wins.
fn stdin_parsing_as_fence_agents() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    let r = f.stdin(
        "node1",
        &format!(
            "# pacemaker-fenced sends this\n\n  \naction=status\nnodename=node2\n\
             port=\"{n2}\"\npower-timeout='20'\nno_such_key=1\n"
        ),
    );
    ok(&r, "Status: ON");
    assert!(
        r.stderr
            .contains("ignoring unknown parameter 'no_such_key'"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("nodename"),
        "nodename is expected: {}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "one warning: {}", r.stderr);
    // The last duplicate wins: a wrong plug first, the right one last.
    let r = f.stdin(
        "node1",
        &format!("action=off\nplug=i-0000000000000dead\nplug={n2}\n"),
    );
    ok(&r, "Success: Powered OFF");
    assert_eq!(f.state("node2"), "stopped");
    let r = f.stdin("node1", &format!("action=on\nplug={n2}\naction=status\n"));
    assert_eq!((r.rc, r.stdout.trim()), (2, "Status: OFF"), "{r:?}");
    // Across spellings too: port is plug (fence-agents: both set --plug).
    for lines in [
        format!("action=status\nplug=i-0000000000000dead\nport={n2}\n"),
        format!("action=status\nport=i-0000000000000dead\nplug={n2}\n"),
    ] {
        let r = f.stdin("node1", &lines);
        assert_eq!(
            (r.rc, r.stdout.trim()),
            (2, "Status: OFF"),
            "{lines:?}: {r:?}"
        );
    }
    // option= is the old name of action=.
    let r = f.stdin("node1", &format!("option=on\nplug={n2}\n"));
    ok(&r, "Success: Powered ON");
    // A line that is not key=value is ignored with a warning.
    let r = f.stdin("node1", &format!("action=status\njunk\nplug={n2}\n"));
    ok(&r, "Status: ON");
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    // The spellings of verbose: true ones log the steps, false ones do not.
    for v in ["1", "yes", "on", "true", "YES"] {
        let r = f.stdin("node1", &format!("action=status\nplug={n2}\nverbose={v}\n"));
        assert_eq!(r.rc, 0, "{}", r.stderr);
        assert!(r.stderr.contains("DEBUG"), "verbose={v}: {}", r.stderr);
    }
    for v in ["0", "no", "off", "false"] {
        let r = f.stdin("node1", &format!("action=status\nplug={n2}\nverbose={v}\n"));
        assert_eq!(r.rc, 0, "{}", r.stderr);
        assert!(r.stderr.is_empty(), "verbose={v}: {}", r.stderr);
    }
    let line = failure(&f.stdin(
        "node1",
        &format!("action=status\nplug={n2}\nverbose=maybe\n"),
    ));
    assert!(line.contains("verbose"), "{line}");
}

/// skip_race_check's spellings: 0/no/off/false keep the race check (this
/// node's instance stopping: refused, no StopInstances), 1/yes/on/true
/// skip it (the peer is stopped).
fn skip_race_check_means_what_it_says() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    f.hold("node1", "stopping", None);
    let off = |extra: &str| f.stdin("node1", &format!("action=off\nplug={n2}\n{extra}"));
    for v in [
        "",
        "skip_race_check=0\n",
        "skip_race_check=no\n",
        "skip-race-check=off\n",
        "skip_race_check=false\n",
    ] {
        let line = failure(&off(v));
        assert!(
            line.contains("this node is the one being fenced"),
            "{v}: {line}"
        );
        no_stop(&f);
        assert_eq!(f.state("node2"), "running", "{v}");
    }
    for v in ["1", "yes", "on", "true"] {
        ok(
            &off(&format!("skip_race_check={v}\n")),
            "Success: Powered OFF",
        );
        assert_eq!(f.state("node2"), "stopped", "{v}");
        f.w.set_running(&n2, true);
    }
    // On the command line: the flag alone, and =false.
    f.reset();
    f.hold("node1", "stopping", None);
    let line = failure(&f.args(
        "node1",
        &["-o", "off", "-n", &n2, "--skip-race-check=false"],
    ));
    assert!(line.contains("being fenced"), "{line}");
    no_stop(&f);
    ok(
        &f.args("node1", &["-o", "off", "-n", &n2, "--skip-race-check"]),
        "Success: Powered OFF",
    );
    assert_eq!(f.state("node2"), "stopped");
}

/// The race check: this node's own instance stopping means this node is
/// the one being fenced: it refuses, and sends no StopInstances; without
/// its own identity (IMDS down) it fails closed.
fn race_check_refuses_when_this_node_is_being_fenced() {
    let f = Fenced::new();
    let (n1, n2) = (f.id("node1"), f.id("node2"));
    let lines = format!("action=off\nplug={n2}\n");
    for state in ["stopping", "shutting-down", "stopped", "pending"] {
        f.reset();
        f.hold("node1", state, None);
        let line = failure(&f.stdin("node1", &lines));
        assert!(
            line.contains(&format!("this node's own instance {n1} is {state}"))
                && line.contains("this node is the one being fenced"),
            "{line}"
        );
        no_stop(&f);
        assert_eq!(f.state("node2"), "running");
    }
    // reboot too.
    let line = failure(&f.stdin("node1", &lines.replace("off", "reboot")));
    assert!(line.contains("being fenced"), "{line}");
    no_stop(&f);
    f.reset();
    ok(
        &f.stdin("node1", &format!("{lines}skip_race_check=true\n")),
        "Success: Powered OFF",
    );
    assert_eq!(f.state("node2"), "stopped");
    f.w.set_running(&n2, true);

    // IMDS down: no own identity, so no fencing (keys and region given,
    // so that only the race check is missing).
    let rsctmp = f.w.dir.join("run-nometadata");
    std::fs::create_dir_all(&rsctmp).unwrap();
    let env = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("HA_RSCTMP", rsctmp.to_str().unwrap()),
    ];
    f.reset();
    let r = f.stdin_env("node1", &lines, &env);
    let line = failure(&r);
    assert!(
        line.contains("cannot read this node's own instance id")
            && line.contains("refusing to fence"),
        "{line}"
    );
    no_stop(&f);
    assert_eq!(f.state("node2"), "running");
    // Reading the target needs no identity: status works.
    ok(
        &f.stdin_env("node1", &lines.replace("off", "status"), &env),
        "Status: ON",
    );
    // A hung metadata service: the same, within power_timeout.
    let imds = Helper::proxy(&f.w.node("node1").imds);
    imds.ctl("rule?action=*&fault=hang");
    let imds_url = imds.url();
    let hung = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_url.as_str()),
        env[1],
        env[2],
        env[3],
        env[4],
    ];
    f.reset();
    let r = f.stdin_env("node1", &format!("{lines}power_timeout=4\n"), &hung);
    let line = failure(&r);
    assert!(line.contains("refusing to fence"), "{line}");
    assert!(r.elapsed < Duration::from_secs(4), "{:?}", r.elapsed);
    no_stop(&f);
    assert_eq!(f.state("node2"), "running");
    // And with the race check off, it fences.
    ok(
        &f.stdin_env("node1", &format!("{lines}skip_race_check=1\n"), &env),
        "Success: Powered OFF",
    );
    assert_eq!(f.state("node2"), "stopped");
}

/// tag=<key>, plug=<node name>: one matching instance is fenced; none or
/// two are refused naming them, with no StopInstances.
fn tag_lookup_none_one_two() {
    let f = Fenced::new();
    let (n1, n2) = (f.id("node1"), f.id("node2"));
    let tag = f.tag.clone();
    let dup = format!("{tag}-dup");
    f.w.tag_instances(&tag, &[(&n1, "node1"), (&n2, "node2")]);
    f.w.tag_instances(&dup, &[(&n1, "db"), (&n2, "db")]);
    let by = |key: &str, a: &str, plug: &str| {
        f.stdin("node1", &format!("action={a}\ntag={key}\nplug={plug}\n"))
    };
    ok(&by(&tag, "status", "node2"), "Status: ON");
    ok_lines(
        &by(&tag, "list", "x"),
        &[format!("node1,{n1}"), format!("node2,{n2}")],
    );
    ok_lines(
        &by(&tag, "list-status", "x"),
        &[format!("node1,{n1},ON"), format!("node2,{n2},ON")],
    );
    // None.
    f.reset();
    let line = failure(&by(&tag, "off", "node7"));
    assert!(
        line.contains(&format!(
            "no instance in region us-east-1 has tag {tag}=node7"
        )),
        "{line}"
    );
    no_stop(&f);
    // Two.
    for action in ["off", "status", "reboot"] {
        f.reset();
        let line = failure(&by(&dup, action, "db"));
        assert!(
            line.contains("2 instances match")
                && line.contains(&n1)
                && line.contains(&n2)
                && line.contains("refusing to guess"),
            "{line}"
        );
        no_stop(&f);
    }
    assert_eq!(f.state("node1"), "running");
    assert_eq!(f.state("node2"), "running");
    // One: fenced, and found again by its name for on.
    f.reset();
    ok(&by(&tag, "off", "node2"), "Success: Powered OFF");
    assert_eq!(f.state("node2"), "stopped");
    assert_eq!(count(&f.sent(), "StopInstances"), 1);
    let r = by(&tag, "status", "node2");
    assert_eq!((r.rc, r.stdout.trim()), (2, "Status: OFF"));
    ok_lines(
        &by(&tag, "list-status", "x"),
        &[format!("node1,{n1},ON"), format!("node2,{n2},OFF")],
    );
    ok(&by(&tag, "on", "node2"), "Success: Powered ON");
    assert_eq!(f.state("node1"), "running");
    assert_eq!(f.state("node2"), "running");
    // validate-all checks every target.
    ok(&by(&tag, "validate-all", "node1,node2"), "");
    let line = failure(&by(&tag, "validate-all", "node1,node7"));
    assert!(line.contains("node7"), "{line}");
}

/// An instance held in `stopping`: off keeps polling and succeeds once it
/// is stopped, within power_timeout; a power_timeout shorter than the hold
/// fails with "timed out", before power_timeout.
fn off_waits_out_stopping_within_power_timeout() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    f.hold("node2", "stopping", Some(3.0));
    let r = f.stdin(
        "node1",
        &format!("action=off\nplug={n2}\npower_timeout=20\n"),
    );
    ok(&r, "Success: Powered OFF");
    assert!(
        r.elapsed >= Duration::from_millis(2500),
        "off did not wait for the hold: {:?}",
        r.elapsed
    );
    assert!(r.elapsed < Duration::from_secs(10), "{:?}", r.elapsed);
    let sent = f.sent();
    assert_eq!(count(&sent, "StopInstances"), 1, "{sent:?}");
    assert!(count(&sent, "DescribeInstances") >= 3, "polled: {sent:?}");
    assert_eq!(f.state("node2"), "stopped");

    f.w.set_running(&n2, true);
    f.reset();
    f.hold("node2", "stopping", Some(30.0));
    // An off within power_timeout (s) of an instance that stays stopping:
    // it fails in time, saying so.
    let off_times_out_stopping = |power_timeout: u64| {
        let r = f.stdin(
            "node1",
            &format!("action=off\nplug={n2}\npower_timeout={power_timeout}\n"),
        );
        let line = failure(&r);
        assert!(line.contains("timed out"), "{line}");
        assert!(line.contains("(it is stopping)"), "{line}");
        assert!(
            r.elapsed < Duration::from_secs(power_timeout),
            "past power_timeout: {:?}",
            r.elapsed
        );
    };
    off_times_out_stopping(3);
    assert_eq!(count(&f.sent(), "StopInstances"), 1);

    // A poll still unanswered at the deadline, after one that saw
    // `stopping`: the failure says what the instance was seen doing, not
    // only that the last request went unanswered.
    f.w.set_running(&n2, true);
    f.reset();
    let polls_before = {
        // The reads before the polls: the one fence_ec2 makes of itself
        // (its race check) and of the target.
        let r = f.stdin("node1", &format!("action=status\nplug={n2}\n"));
        ok(&r, "Status: ON");
        count(&f.sent(), "DescribeInstances")
    };
    f.reset();
    f.hold("node2", "stopping", Some(30.0));
    f.proxy.ctl(&format!(
        "rule?action=DescribeInstances&fault=hang&after={}",
        polls_before + 1
    ));
    // 8 s, not 3: on a loaded machine the reads before the polls can take
    // seconds, and the hung poll must be reached before the deadline.
    off_times_out_stopping(8);
    assert_eq!(f.proxy.stats()["faults_injected"], 1, "the poll hung");
}

/// A hung endpoint ends in "timed out" before power_timeout; throttling
/// that passes is retried to success.
fn hang_times_out_and_throttling_passes() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    let lines = format!("action=off\nplug={n2}\npower_timeout=5\n");
    for rule in ["action=*&fault=hang", "action=StopInstances&fault=hang"] {
        f.reset();
        f.proxy.ctl(&format!("rule?{rule}"));
        let r = f.stdin("node1", &lines);
        let line = failure(&r);
        assert!(line.contains("timed out"), "{rule}: {line}");
        assert!(
            r.elapsed < Duration::from_secs(5),
            "{rule}: past power_timeout: {:?}",
            r.elapsed
        );
    }
    f.reset();
    f.w.set_running(&n2, true);
    f.proxy.ctl("rule?action=*&fault=throttle&count=3");
    let r = f.stdin(
        "node1",
        &format!("action=off\nplug={n2}\npower_timeout=20\n"),
    );
    ok(&r, "Success: Powered OFF");
    assert_eq!(f.proxy.stats()["faults_injected"], 3);
    assert_eq!(f.state("node2"), "stopped");
    // monitor and status ride out throttling too.
    f.reset();
    f.proxy.ctl("rule?action=*&fault=throttle&count=2");
    ok(&f.stdin("node1", "action=monitor\n"), "");
    // A denied StopInstances fails at once, naming the permission.
    f.reset();
    f.w.set_running(&n2, true);
    f.proxy.ctl("rule?action=StopInstances&fault=deny");
    let line = failure(&f.stdin("node1", &lines));
    assert!(line.contains("ec2:StopInstances"), "{line}");
    assert_eq!(f.state("node2"), "running");
}

/// Without any credentials: rc 1 with what was tried, no API request.
fn no_credentials_names_what_was_tried() {
    let f = Fenced::with(Seed {
        imds_args: vec![],
        ..Seed::default()
    });
    let n2 = f.id("node2");
    for a in ["off", "status", "monitor"] {
        f.reset();
        let line = failure(&f.stdin("node1", &format!("action={a}\nplug={n2}\n")));
        assert!(
            line.contains("no AWS credentials") && line.contains("tried"),
            "{a}: {line}"
        );
        assert!(line.contains("instance role"), "{a}: {line}");
        assert_eq!(
            f.proxy.stats()["requests"],
            0,
            "{a}: sent without credentials"
        );
    }
    assert_eq!(f.state("node2"), "running");
}

/// access_key/secret_key work, and the secret never appears on stdout or
/// stderr, with verbose=1 and HA_debug=1, failing or not.
fn access_key_parameters_and_no_secret_in_output() {
    const KEY: &str = "AKIAFENCEEC2TEST0001";
    const SECRET: &str = "fenceEC2s3cr3tTEST0123456789abcdefghijkl";
    let f = Fenced::with(Seed {
        imds_args: vec![],
        ..Seed::default()
    });
    let n2 = f.id("node2");
    let env = [("HA_debug", "1")];
    let mut seen = String::new();
    let keys = format!("access_key={KEY}\nsecret_key={SECRET}\nverbose=1\n");
    for (a, rc) in [
        ("status", 0),
        ("off", 0),
        ("status", 2),
        ("on", 0),
        ("reboot", 0),
        ("list-status", 0),
        ("monitor", 0),
        ("validate-all", 0),
    ] {
        let r = f.stdin_env("node1", &format!("action={a}\nplug={n2}\n{keys}"), &env);
        assert_eq!(r.rc, rc, "{a}: {}", r.stderr);
        seen.push_str(&r.stdout);
        seen.push_str(&r.stderr);
    }
    assert!(seen.contains("DEBUG"), "debug logging was on");
    assert_eq!(f.state("node2"), "running");
    // The command line: -a / -s.
    let r = f.args_env(
        "node1",
        &["-o", "status", "-n", &n2, "-a", KEY, "-s", SECRET, "-v"],
        &env,
    );
    assert_eq!(r.rc, 0, "{}", r.stderr);
    seen.push_str(&r.stdout);
    seen.push_str(&r.stderr);
    // Failing, whatever the fault.
    for rule in ["deny", "status&code=500", "reset"] {
        f.reset();
        f.proxy.ctl(&format!("rule?action=*&fault={rule}"));
        let r = f.stdin_env(
            "node1",
            &format!("action=off\nplug={n2}\npower_timeout=3\n{keys}"),
            &env,
        );
        assert_eq!(r.rc, 1, "{rule}: {}", r.stderr);
        seen.push_str(&r.stdout);
        seen.push_str(&r.stderr);
    }
    // A bad secret_key value, and a wrong one, are not echoed either.
    let r = f.stdin_env(
        "node1",
        &format!("action=status\nplug={n2}\naccess_key={KEY}\nverbose=1\n"),
        &env,
    );
    seen.push_str(&r.stderr);
    for s in [SECRET, "Signature=", "secret_key=fence"] {
        assert!(!seen.contains(s), "{s} appeared in the agent's output");
    }
}

/// Requests per action: off of a running instance is one DescribeInstances
/// (race check and target together), one StopInstances and the polls (one
/// with moto); off of a stopped one sends no StopInstances; monitor is one
/// DryRun DescribeInstances.
fn request_floor() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    let run = |a: &str| {
        f.reset();
        let r = f.stdin("node1", &format!("action={a}\nplug={n2}\n"));
        assert!(r.rc == 0 || r.rc == 2, "{a}: {}", r.stderr);
        f.log()
    };
    let d = |s: u64| ("DescribeInstances".to_string(), Some(s));
    let stop = ("StopInstances".to_string(), Some(200));
    let start = ("StartInstances".to_string(), Some(200));
    assert_eq!(run("off"), vec![d(200), stop, d(200)]);
    assert_eq!(run("off"), vec![d(200)], "off of a stopped instance");
    assert_eq!(run("status"), vec![d(200)]);
    assert_eq!(run("on"), vec![d(200), start, d(200)]);
    assert_eq!(run("on"), vec![d(200)], "on of a running instance");
    // The proxy answers EC2 DryRun itself: 412 DryRunOperation.
    assert_eq!(run("monitor"), vec![d(412)]);
    assert_eq!(run("validate-all"), vec![d(412), d(200)]);
    // Not a single metadata request more than needed: the identity cache
    // serves the second off.
    f.w.imds_post("node1", "/_emulator/reset-stats");
    run("off");
    run("on");
    let imds = f.w.imds_stats("node1");
    assert!(
        imds["requests"].as_u64().unwrap_or(0) <= 4,
        "metadata requests of a warm off and on: {imds}"
    );
}

/// `ocf-aws doctor fence_ec2 plug=…`: this node's own instance, each
/// target, and Stop/Start allowed (DryRun through the proxy).
fn doctor_fence_ec2() {
    let f = Fenced::new();
    let (n1, n2) = (f.id("node1"), f.id("node2"));
    f.w.tag_instances(&f.tag, &[(&n1, "node1"), (&n2, "node2")]);
    let doctor = |args: &[&str]| -> (Run, Value) {
        let n = f.w.node("node1");
        let out = Command::new(BIN)
            .arg("doctor")
            .arg("--json")
            .arg("fence_ec2")
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", f.w.dir.join("home"))
            .env("AWS_ENDPOINT_URL", f.proxy.url())
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &n.imds)
            .env("HA_RSCTMP", &n.rsctmp)
            .output()
            .unwrap();
        let r = Run::new(out, Duration::ZERO);
        let v: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}): {r:?}"));
        (r, v)
    };
    let check = |v: &Value, name: &str| -> (String, String) {
        let c = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no check '{name}' in {v:#}"));
        (
            c["status"].as_str().unwrap_or_default().to_string(),
            c["evidence"].as_str().unwrap_or_default().to_string(),
        )
    };
    let failed = |v: &Value| -> Vec<String> {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| c["check"].as_str().unwrap().to_string())
            .collect()
    };
    let plugs = format!("plug={n1},{n2}");
    let (r, v) = doctor(&[&plugs]);
    assert_eq!(r.rc, 0, "{v:#}\n{}", r.stderr);
    assert!(failed(&v).is_empty(), "{v:#}");
    let (s, ev) = check(&v, "own instance");
    assert_eq!(s, "pass");
    assert!(ev.contains(&format!("{n1} is running")), "{ev}");
    for id in [&n1, &n2] {
        let (s, ev) = check(&v, &format!("target {id}"));
        assert_eq!(s, "pass", "{ev}");
        assert!(ev.contains("running"), "{ev}");
    }
    for a in [
        "ec2:DescribeInstances",
        "ec2:StopInstances",
        "ec2:StartInstances",
    ] {
        let (s, ev) = check(&v, &format!("permission {a}"));
        assert_eq!(s, "pass", "{a}: {ev}");
    }
    for a in ["StopInstances", "StartInstances"] {
        let (s, ev) = check(&v, &format!("permission ec2:{a}"));
        assert!(ev.contains("DryRun"), "{a}: {s} {ev}");
    }
    // The probes were DryRun requests: nothing was stopped.
    let log = f.log();
    assert!(
        log.iter()
            .filter(|(a, _)| a == "StopInstances" || a == "StartInstances")
            .all(|(_, s)| *s == Some(412)),
        "{log:?}"
    );
    assert!(log.iter().any(|(a, _)| a == "StopInstances"), "{log:?}");
    assert_eq!(f.state("node1"), "running");
    assert_eq!(f.state("node2"), "running");

    // By tag, with a name that matches nothing.
    let tag = format!("tag={}", f.tag);
    let (r, v) = doctor(&[&tag, "plug=node1,node2"]);
    assert_eq!(r.rc, 0, "{v:#}");
    assert!(check(&v, "target node2").1.contains(&n2), "{v:#}");
    let (r, v) = doctor(&[&tag, "plug=node2,node7"]);
    assert_eq!(r.rc, 1, "{v:#}");
    assert_eq!(failed(&v), vec!["target node7".to_string()], "{v:#}");
    // This node's own instance going down: its check is red.
    f.hold("node1", "stopping", None);
    let (r, v) = doctor(&[&plugs]);
    assert_eq!(r.rc, 1, "{v:#}");
    let (s, ev) = check(&v, "own instance");
    assert_eq!(s, "fail");
    assert!(ev.contains("stopping"), "{ev}");
    // A denied StopInstances: its permission check is red.
    f.reset();
    f.proxy.ctl("rule?action=StopInstances&fault=deny");
    let (r, v) = doctor(&[&plugs]);
    assert_eq!(r.rc, 1, "{v:#}");
    assert_eq!(
        failed(&v),
        vec!["permission ec2:StopInstances".to_string()],
        "{v:#}"
    );
    // No plug: the targets are skipped with how to name them.
    f.reset();
    let (r, v) = doctor(&[]);
    assert_eq!(r.rc, 0, "{v:#}");
    assert_eq!(check(&v, "targets").0, "skip");
}

tests![
    every_listed_fence_agent_is_known,
    off_waits_out_stopping_within_power_timeout,
    hang_times_out_and_throttling_passes,
    stdin_actions_and_exit_codes,
    command_line_actions,
    status_follows_the_instance_state,
    stdin_parsing_as_fence_agents,
    skip_race_check_means_what_it_says,
    race_check_refuses_when_this_node_is_being_fenced,
    tag_lookup_none_one_two,
    no_credentials_names_what_was_tried,
    access_key_parameters_and_no_secret_in_output,
    request_floor,
    doctor_fence_ec2,
];
