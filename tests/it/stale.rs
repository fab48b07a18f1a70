//! Stale reads: AWS's EC2 and Route 53 reads are eventually consistent, moto's
//! never. With the fault proxy's `stale` fault on (for 800 ms after each
//! write, a read answers as it did before the write), every agent's failover
//! start ends with the resource on the new node and the monitor that
//! Pacemaker runs right after it passes; and vip's race settling still
//! detects a node that really writes after it.

use crate::agents::all;
use crate::world::*;
use std::time::{Duration, Instant};

const STALE: &str = "rule?action=*&fault=stale&ms=800";

fn stale_answers(r: &Rsc) -> u64 {
    r.proxy().stats()["by_fault"]["stale"].as_u64().unwrap_or(0)
}

/// node1 holds the resource; then it fails over to node2, back to node1
/// and to node2 again (the other node never stops: it crashed), each start
/// followed at once by the monitor.
fn failovers_with_stale_reads_end_on_the_new_node() {
    for k in all().into_iter().filter(|k| k.moves()) {
        let agent = k.name;
        let r = Rsc::for_agent(agent)
            .full()
            .proxied()
            .attrd()
            .aws_monitors();
        r.run("node1", "start", &[]).expect(0);
        assert_eq!(r.holder(), "node1", "{agent}");
        r.proxy().ctl(STALE);
        for node in ["node2", "node1", "node2"] {
            let before = stale_answers(&r);
            let t = Instant::now();
            let start = r.run(node, "start", &[]);
            let monitor = r.run(node, "monitor", &[]);
            println!(
                "{agent} → {node}: start rc {}, monitor rc {} (both in {:.2}s), {} stale answer(s)",
                start.rc,
                monitor.rc,
                t.elapsed().as_secs_f64(),
                stale_answers(&r) - before
            );
            start.expect(0);
            assert_eq!(r.holder(), node, "{agent}: {}", r.state());
            monitor.expect(0);
            assert!(
                stale_answers(&r) > before,
                "{agent} → {node}: the proxy served no stale read, the test proves nothing"
            );
        }
    }
}

/// A genuine competitor: right after our ReplaceRoutes another ENI takes
/// the first table. The reads that still show the failed node's ENI are
/// not taken for it; the one that shows the third ENI is, and the start
/// fails as documented, leaving every table to that ENI.
fn vip_competitor_after_our_write_is_still_detected() {
    let r = Rsc::for_agent("vip").proxied();
    r.run("node1", "start", &[]).expect(0);
    let third = r.w.create_eni("node1");
    competitor_takes_the_first_table(&r, &third);
}

/// The node we replace writes its own ENI back right after our write: the
/// reads show the value from before our write for good, which after a few
/// seconds counts as written again, not as a read that lags for ever.
fn vip_old_owner_writing_again_is_detected_after_the_stale_window() {
    let r = Rsc::for_agent("vip").proxied();
    r.run("node1", "start", &[]).expect(0);
    let t = Instant::now();
    competitor_takes_the_first_table(&r, &r.w.node("node1").eni);
    assert!(t.elapsed() >= Duration::from_secs(5), "{:?}", t.elapsed());
}

/// node2 starts with stale reads on; as soon as its ReplaceRoutes are
/// through, the first table is switched to `eni` behind its back. The start
/// fails naming it and leaves every table to it.
fn competitor_takes_the_first_table(r: &Rsc, eni: &str) {
    let w = &r.w;
    let third = eni.to_string();
    let first = w.tables.iter().min().unwrap().clone();
    r.proxy().ctl(STALE);
    let replaced = || {
        r.proxy().stats()["by_action"]["ReplaceRoute"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = replaced();
    let n = w.tables.len() as u64;
    let run = std::thread::scope(|s| {
        let start = s.spawn(|| r.run("node2", "start", &[]));
        let t = Instant::now();
        while replaced() < before + n && t.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(5));
        }
        w.replace_route(&first, &third);
        start.join().unwrap()
    });
    run.expect(1)
        .reason_has(&[&first, &third, "during this start", "split brain"]);
    assert!(
        w.managed().iter().all(|e| *e == third),
        "every table left to the competitor: {:?}",
        w.routes()
    );
    assert!(stale_answers(r) > 0, "no stale read was served");
}

/// fence_ec2 under stale reads: off ends with the instance stopped (a read
/// still saying running is polled past), and a reboot, whose on reads the
/// instance right after the off's StopInstances, ends with it running.
fn fence_off_and_reboot_with_stale_reads() {
    let f = Fenced::new();
    let n2 = f.id("node2");
    let plug = |a: &str| format!("action={a}\nplug={n2}\n");
    let status = f.stdin("node1", &plug("status"));
    assert_eq!(status.stdout.trim(), "Status: ON", "{}", status.stderr);
    f.proxy.ctl(STALE);
    let stale = || f.proxy.stats()["by_fault"]["stale"].as_u64().unwrap_or(0);
    for (action, want, state) in [
        ("off", "Success: Powered OFF", "stopped"),
        ("on", "Success: Powered ON", "running"),
        ("reboot", "Success: Rebooted", "running"),
    ] {
        let before = stale();
        let r = f.stdin("node1", &plug(action));
        println!(
            "fence_ec2 {action}: rc {} in {:.2}s, {} stale answer(s)",
            r.rc,
            r.elapsed.as_secs_f64(),
            stale() - before
        );
        assert_eq!((r.rc, r.stdout.trim()), (0, want), "{}", r.stderr);
        assert_eq!(f.state("node2"), state, "after {action}");
        assert!(stale() > before, "{action}: no stale read was served");
        std::thread::sleep(Duration::from_millis(900));
    }
}

tests![
    failovers_with_stale_reads_end_on_the_new_node,
    vip_competitor_after_our_write_is_still_detected,
    vip_old_owner_writing_again_is_detected_after_the_stale_window,
    fence_off_and_reboot_with_stale_reads,
];
