//! Faults between the agents and AWS (and IMDS): every agent and action
//! ends before its deadline with the right code, probes never mutate, stop
//! never fails for an AWS fault. Faults come from tests/world/fault_proxy.py
//! placed in front of moto; each test prints its fault × agent × action
//! table (rc and wall time) so CI logs show the observed behaviour.

mod imds;
mod owners;
mod secrets;

use crate::agents::{all, known, Known};
use crate::world::*;
use std::time::Duration;

/// One agent's resource in its own world, started on node1 without faults,
/// with every AWS request of its actions going through its proxy, every
/// action calling AWS, and monitors that ask AWS.
fn started(k: &Known) -> Rsc {
    let r = Rsc::for_agent(k.name)
        .full()
        .proxied()
        .attrd()
        .aws_monitors();
    r.run("node1", "start", &[]).expect(0);
    r
}

struct Row {
    fault: String,
    agent: &'static str,
    action: String,
    rc: i32,
    want: Vec<i32>,
    elapsed: Duration,
    reason: String,
}

fn print_table(rows: &[Row]) {
    let mut out = String::from("\n| fault | agent | action | rc | expected | time | exit reason |\n|---|---|---|---|---|---|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:?} | {:.2}s | {} |\n",
            r.fault,
            r.agent,
            r.action,
            r.rc,
            r.want,
            r.elapsed.as_secs_f64(),
            r.reason.chars().take(140).collect::<String>()
        ));
    }
    println!("{out}");
}

fn check(rows: Vec<Row>, limit: Duration) {
    print_table(&rows);
    let bad: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.want.contains(&r.rc) || r.elapsed >= limit)
        .collect();
    assert!(
        bad.is_empty(),
        "unexpected: {}",
        bad.iter()
            .map(|r| format!(
                "{} {} {} rc {} in {:?}: {}",
                r.fault, r.agent, r.action, r.rc, r.elapsed, r.reason
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

fn record(
    rows: &mut Vec<Row>,
    fault: &str,
    agent: &'static str,
    action: &str,
    run: &Run,
    want: &[i32],
) {
    if run.rc != 0 {
        let reasons = run.reasons();
        // A probe's "not running" is an answer and carries no reason.
        let want_reasons = usize::from(!(action.starts_with("probe") && run.rc == 7));
        assert_eq!(
            reasons.len(),
            want_reasons,
            "{agent} {action} under {fault}: exit reasons: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("panicked") && !run.stderr.contains("stack backtrace"),
            "{}",
            run.stderr
        );
    }
    rows.push(Row {
        fault: fault.to_string(),
        agent,
        action: action.to_string(),
        rc: run.rc,
        want: want.to_vec(),
        elapsed: run.elapsed,
        reason: run
            .reasons()
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    });
}

/// An unreachable or failing API (the proxy's `rule` query), for one agent:
/// start fails with 1 before the deadline; monitors follow api_failure;
/// probes report without mutating; stop succeeds.
fn api_outage(fault: &str, rule: &str, timeout_ms: &str, k: &'static Known) {
    let limit = Duration::from_millis(timeout_ms.parse().unwrap());
    let mut rows = vec![];
    let (agent, r) = (k.name, started(k));
    let before = r.state();
    r.proxy().ctl(&format!("rule?{rule}"));
    let t = [("OCF_RESKEY_CRM_meta_timeout", timeout_ms)];
    let run = r.run_env("node1", "monitor", &[], &t);
    record(
        &mut rows,
        fault,
        agent,
        "monitor (api_failure default)",
        &run,
        &[0],
    );
    let fail = k.strict;
    let run = r.run_env("node1", "monitor", &[fail], &t);
    record(
        &mut rows,
        fault,
        agent,
        &format!("monitor ({}={})", fail.0, fail.1),
        &run,
        if k.moves() { &[1] } else { &[0] },
    );
    let probe = [
        ("OCF_RESKEY_CRM_meta_timeout", timeout_ms),
        ("OCF_RESKEY_CRM_meta_interval", ""),
    ];
    let run = r.run_env("node2", "monitor", &[], &probe);
    record(&mut rows, fault, agent, "probe on node2", &run, &[7]);
    if k.moves() {
        assert_eq!(
            r.state(),
            before,
            "{agent}: a probe under {fault} changed AWS state"
        );
    }
    let run = r.run_env("node2", "start", &[], &t);
    // az is a health agent: failing its start would ban it from the node
    // for good, so it starts and publishes nothing (api_failure=keep).
    record(
        &mut rows,
        fault,
        agent,
        "start on node2",
        &run,
        if k.moves() { &[1] } else { &[0] },
    );
    if k.moves() {
        assert!(
            run.reason().contains("127.0.0.1:"),
            "{agent}: reason names the endpoint: {}",
            run.reason()
        );
    }
    let run = r.run_env("node1", "stop", &[], &t);
    record(&mut rows, fault, agent, "stop", &run, &[0]);
    let run = r.run_env("node1", "validate-all", &[], &t);
    record(&mut rows, fault, agent, "validate-all", &run, &[0]);
    check(rows, limit);
}

/// The outages `api_outage` puts every agent through: test name, the fault
/// as its table prints it, the proxy's rule, the operation's timeout (ms).
const OUTAGES: &[(&str, &str, &str, &str)] = &[
    ("hang_5s", "hang", "action=*&fault=hang", "5000"),
    ("connection_reset", "reset", "action=*&fault=reset", "3000"),
    (
        "http_500",
        "HTTP 500",
        "action=*&fault=status&code=500",
        "3000",
    ),
    (
        "http_503",
        "HTTP 503",
        "action=*&fault=status&code=503",
        "3000",
    ),
    (
        "throttled_forever",
        "throttled",
        "action=*&fault=throttle",
        "3000",
    ),
];

fn hang_20s_vip_start() {
    let r = started(known("vip"));
    r.proxy().ctl("rule?action=*&fault=hang");
    let run = r.run_env(
        "node2",
        "start",
        &[],
        &[("OCF_RESKEY_CRM_meta_timeout", "20000")],
    );
    let mut rows = vec![];
    record(
        &mut rows,
        "hang",
        "vip",
        "start on node2 (20 s)",
        &run,
        &[1],
    );
    check(rows, Duration::from_secs(20));
}

fn throttled_then_recovers() {
    let mut rows = vec![];
    for k in all() {
        let (agent, r) = (k.name, started(k));
        r.proxy().ctl("rule?action=*&fault=throttle&count=3");
        let run = r.run("node2", "start", &[]);
        record(
            &mut rows,
            "throttle x3",
            agent,
            "start on node2",
            &run,
            &[0],
        );
        r.proxy().ctl("rule?action=*&fault=throttle&count=2");
        // With a policy that would turn a lost answer into a failure or red.
        let strict = k.strict;
        let run = r.run("node2", "monitor", &[strict]);
        record(
            &mut rows,
            "throttle x2",
            agent,
            "monitor (strict api_failure)",
            &run,
            &[0],
        );
        let route53 = k.service == "route53";
        if route53 {
            r.proxy()
                .ctl("rule?action=*&fault=throttle&code=PriorRequestNotComplete&count=2");
            let run = r.run("node1", "start", &[]);
            record(
                &mut rows,
                "PriorRequestNotComplete x2",
                agent,
                "start on node1",
                &run,
                &[0],
            );
        }
        let stats = r.proxy().stats();
        assert!(
            stats["faults_injected"].as_u64().unwrap_or(0) >= 3,
            "{stats}"
        );
        if k.moves() {
            assert_eq!(r.holder(), if route53 { "node1" } else { "node2" });
        }
    }
    check(rows, Duration::from_secs(20));
}

fn latency_is_fine() {
    let mut rows = vec![];
    for k in all() {
        let (agent, r) = (k.name, started(k));
        r.proxy().ctl("rule?action=*&fault=latency&ms=300");
        for (node, action) in [("node2", "start"), ("node2", "monitor"), ("node2", "stop")] {
            let run = r.run(node, action, &[]);
            record(&mut rows, "latency 300ms", agent, action, &run, &[0]);
        }
    }
    check(rows, Duration::from_secs(20));
}

fn permission_denied_names_the_action() {
    let mut rows = vec![];
    for k in all() {
        let (agent, r) = (k.name, started(k));
        r.proxy().ctl("rule?action=*&fault=deny");
        let run = r.run("node2", "start", &[]);
        record(&mut rows, "deny", agent, "start on node2", &run, &[4]);
        let reason = run.reason();
        assert!(
            reason.contains("allow ec2:") || reason.contains("allow route53:"),
            "{agent}: names the IAM action: {reason}"
        );
        let run = r.run("node1", "monitor", &[]);
        record(&mut rows, "deny", agent, "monitor", &run, &[4]);
        let run = r.run("node1", "stop", &[]);
        record(&mut rows, "deny", agent, "stop", &run, &[0]);
    }
    check(rows, Duration::from_secs(20));
}

tests![
    hang_20s_vip_start,
    throttled_then_recovers,
    latency_is_fine,
    permission_denied_names_the_action,
    ;
    imds,
    owners,
    secrets,
    outages,
];

/// One test per outage and agent (`faults::hang_5s::vip`): each waits out
/// its deadlines, so apart they run side by side instead of end to end.
mod outages {
    use super::{all, api_outage, Test, OUTAGES};

    pub fn tests() -> Vec<Test> {
        let mut tests = vec![];
        for &(name, fault, rule, timeout_ms) in OUTAGES {
            for k in all() {
                tests.push(Test::new(
                    format!("faults::{name}::{}", k.name),
                    move || api_outage(fault, rule, timeout_ms, k),
                ));
            }
        }
        tests
    }
}
