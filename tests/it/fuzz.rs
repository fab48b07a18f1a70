//! Bad input: generated parameter sets for every parameter of every agent
//! (random and huge strings, unicode, empty, wrong types, CIDRs, FQDNs in
//! every spelling, ids with wrong prefixes). Whatever the input, the agent
//! never panics, answers validate-all with 0, 2 or 6 and exactly one exit
//! reason on failure, and a stop always succeeds.

use crate::agents::listed;
use crate::world::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::process::Command;

/// The parameter names an agent declares, from its own meta-data.
fn param_names(agent: &str) -> Vec<String> {
    let out = Command::new(BIN)
        .args([agent, "meta-data"])
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout).into_owned();
    xml.split("<parameter name=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(String::from))
        .collect()
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[ -~]{0,60}",
        Just(String::new()),
        "[a-z0-9]{4000,6000}",
        any::<i64>().prop_map(|n| n.to_string()),
        "(true|false|yes|no|on|off|1|0|TRUE|maybe)",
        "([0-9]{1,3}\\.){3}[0-9]{1,3}(/[0-9]{1,2})?",
        "10\\.(0|1)\\.[0-9]{1,3}\\.[0-9]{1,3}",
        "[A-Za-z0-9_-]{1,12}(\\.[A-Za-z0-9_-]{1,12}){0,4}\\.?",
        "(rtb|eni|vpc|eipalloc|subnet|Z|/hostedzone/Z)-?[0-9a-fA-FxyzXYZ]{0,20}(,(rtb|eni)-[0-9a-f]{8,17}){0,3}",
        "(local|public|fail|warn|ignore|keep|red|yellow|[0-9]+(s|m|h|ms)?)",
        "(http|https|ftp)://[a-z0-9.:@-]{0,30}(/[a-z]{0,5})?",
        "#health[a-z-]{0,10}",
        "[\\u{1}-\\u{1f}\\u{7f}\\u{202e}\\u{feff}é漢🙂]{1,8}",
    ]
    .prop_map(|s| s.replace('\0', ""))
}

fn cases(agent: &'static str, n: u32, with_actions: bool) {
    let names = param_names(agent);
    assert!(!names.is_empty());
    let strategy = proptest::collection::btree_map(proptest::sample::select(names), value(), 0..8);
    let mut runner = TestRunner::new(Config {
        cases: n,
        failure_persistence: None,
        ..Config::default()
    });
    let run = |params: &BTreeMap<String, String>, action: &str| {
        let mut cmd = ocf_command(agent, action);
        cmd.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("OCF_RESKEY_CRM_meta_timeout", "2000")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
            .env(
                "HA_RSCTMP",
                std::env::temp_dir().join(format!("fuzz-{agent}")),
            )
            .env("RUST_BACKTRACE", "1");
        for (k, v) in params {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        let out = cmd.output().unwrap();
        Run::new(out, std::time::Duration::ZERO)
    };
    runner
        .run(&strategy, |params| {
            let v = run(&params, "validate-all");
            prop_assert!(
                [0, 2, 6].contains(&v.rc),
                "validate-all rc {} for {params:?}: {}",
                v.rc,
                v.stderr
            );
            prop_assert!(
                !v.stderr.contains("internal error") && !v.stderr.contains("panicked"),
                "{}",
                v.stderr
            );
            if v.rc != 0 {
                prop_assert_eq!(v.reasons().len(), 1, "one exit reason: {}", v.stderr);
            }
            if with_actions {
                let probe = run(&params, "monitor");
                prop_assert!(
                    [0, 1, 2, 5, 6, 7].contains(&probe.rc),
                    "probe rc {}: {}",
                    probe.rc,
                    probe.stderr
                );
                prop_assert!(!probe.stderr.contains("internal error"), "{}", probe.stderr);
                let stop = run(&params, "stop");
                prop_assert_eq!(stop.rc, 0, "stop: {}", stop.stderr);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{agent}: {e}"));
}

/// One fuzz test per agent `ocf-aws --list` names: 1000 validations,
/// then 150 rounds of validate-all, probe and stop.
pub fn tests() -> Vec<Test> {
    listed()
        .iter()
        .map(|a| {
            let agent: &'static str = a.as_str();
            Test::new(format!("fuzz::fuzz_{agent}_parameters"), move || {
                cases(agent, 1000, false);
                cases(agent, 150, true);
            })
        })
        .collect()
}
