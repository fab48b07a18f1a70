//! Faults between the agents and the instance metadata service.

use super::{check, record, started};
use crate::agents::all;
use crate::world::*;
use std::time::Duration;

const IMDS: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";

/// A fault proxy in front of node2's imds.py, with `rule`.
fn imds_with(r: &Rsc, rule: &str) -> Helper {
    let proxy = Helper::proxy(&r.w.node("node2").imds);
    proxy.ctl(&format!("rule?{rule}"));
    proxy
}

fn imds_faults() {
    let mut rows = vec![];
    for k in all() {
        let (agent, r) = (k.name, started(k));
        let t = [
            (IMDS, "http://127.0.0.1:9"),
            ("OCF_RESKEY_CRM_meta_timeout", "5000"),
        ];
        let run = r.run_env("node2", "start", &[], &t);
        record(&mut rows, "IMDS down", agent, "start on node2", &run, &[1]);
        assert!(
            run.reason().contains("instance metadata") || run.reason().contains("credentials"),
            "{}",
            run.reason()
        );
        let run = r.run_env("node1", "stop", &[], &t);
        record(&mut rows, "IMDS down", agent, "stop", &run, &[0]);

        // An IMDSv1-only instance: the token PUT is refused.
        let v1 = imds_with(&r, "action=PUT%20/latest/api/token&fault=status&code=403");
        let run = r.run_env("node2", "start", &[], &[(IMDS, &v1.url())]);
        record(
            &mut rows,
            "IMDSv2 refused",
            agent,
            "start on node2",
            &run,
            &[1],
        );
        assert!(
            run.reason().contains("imds_version=1"),
            "{agent}: {}",
            run.reason()
        );

        // IMDS slow: 1.5 s per answer; the action still ends before 5 s.
        let slow = imds_with(&r, "action=*&fault=latency&ms=1500");
        let url = slow.url();
        let t = [
            (IMDS, url.as_str()),
            ("OCF_RESKEY_CRM_meta_timeout", "5000"),
        ];
        let run = r.run_env("node2", "start", &[], &t);
        record(
            &mut rows,
            "IMDS slow 1.5s",
            agent,
            "start on node2",
            &run,
            &[0, 1],
        );

        // A token the service rejects once (expired): refreshed transparently.
        let flaky = imds_with(
            &r,
            "action=GET%20/latest/meta-data/placement/region&fault=status&code=401&count=1",
        );
        r.w.imds_post("node2", "/_emulator/reset-stats");
        let run = r.run_env("node2", "start", &[], &[(IMDS, &flaky.url())]);
        record(
            &mut rows,
            "IMDS 401 once",
            agent,
            "start on node2",
            &run,
            &[0],
        );
        let puts = r.w.imds_stats("node2")["token_puts"].as_u64().unwrap_or(0);
        assert!(
            puts >= 2,
            "{agent}: a new token after the 401 ({puts} PUTs)"
        );
    }
    check(rows, Duration::from_secs(20));
}

tests![imds_faults,];
