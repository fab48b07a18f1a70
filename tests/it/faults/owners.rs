//! Concurrent and interrupted starts: exactly one owner, and a rerun converges.

use super::started;
use crate::agents::{all, known};
use crate::world::tests;
use std::time::Duration;

fn races_leave_exactly_one_owner() {
    for k in all().into_iter().filter(|k| k.moves()) {
        let agent = k.name;
        for round in 0..3 {
            let r = started(k);
            r.run("node1", "stop", &[]).expect(0);
            // A little latency widens the window in which both are writing.
            r.proxy().ctl("rule?action=*&fault=latency&ms=30");
            let (a, b) = std::thread::scope(|s| {
                let a = s.spawn(|| r.run("node1", "start", &[]));
                let b = s.spawn(|| r.run("node2", "start", &[]));
                (a.join().unwrap(), b.join().unwrap())
            });
            let holder = r.holder();
            assert!(
                holder == "node1" || holder == "node2",
                "{agent} round {round}: exactly one owner, got {holder:?} (rc {} / {}; {} / {})",
                a.rc,
                b.rc,
                a.stderr,
                b.stderr
            );
            let loser = if holder == "node1" { "node2" } else { "node1" };
            let m = r.run(loser, "monitor", &[]);
            assert_eq!(m.rc, 7, "{agent}: the loser's monitor: {}", m.stderr);
            let w = r.run(&holder, "monitor", &[]);
            assert_eq!(w.rc, 0, "{agent}: the winner's monitor: {}", w.stderr);
            println!(
                "race {agent} #{round}: node1 rc {}, node2 rc {} → {holder}",
                a.rc, b.rc
            );
        }
    }
}

fn killed_half_way_then_rerun_converges() {
    let r = started(known("vip"));
    // The first ReplaceRoute goes through, the others are slow: kill then.
    r.proxy()
        .ctl("rule?action=ReplaceRoute&fault=latency&ms=3000&after=1");
    let mut child = r.command("node2", "start", &[]).spawn().unwrap();
    let t = std::time::Instant::now();
    loop {
        let n = r.proxy().stats()["by_action"]["ReplaceRoute"]
            .as_u64()
            .unwrap_or(0);
        if n >= 3 || t.elapsed() > Duration::from_secs(10) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        r.holder().starts_with("split"),
        "killed half-way: {}",
        r.holder()
    );
    r.proxy().ctl("reset");
    r.run("node2", "start", &[]).expect(0);
    assert_eq!(r.holder(), "node2");
}

tests![
    races_leave_exactly_one_owner,
    killed_half_way_then_rerun_converges,
];
