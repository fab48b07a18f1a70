//! What the tests know about each agent, in one table keyed by agent name.
//! Tests that cover every agent iterate `ocf-aws --list` (the registry)
//! and look each one up here; an agent this table lacks fails loudly, in
//! `every_listed_agent_is_known` and wherever it is looked up, so a new
//! agent cannot be silently skipped.

use crate::world::{tests, xml_valid, Rsc, BIN};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::OnceLock;

/// What a resource of an agent is about in AWS, i.e. how the tests read its
/// state back (`Target` in world/rsc.rs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// The world's VIP, routed by its route tables to a node's ENI.
    Routes,
    /// A fresh Elastic IP, associated with a node's ENI and private IP.
    Eip,
    /// A Route 53 A record in a fresh private hosted zone.
    Record,
    /// A secondary private address of the nodes' subnet, on a node's ENI.
    Address,
    /// Nothing moves: node attributes published through attrd_updater.
    Health,
}

/// One agent call of an exercise: node, action, parameters.
pub type Step = (&'static str, &'static str, Vec<(&'static str, String)>);

pub struct Known {
    pub name: &'static str,
    pub kind: Kind,
    /// Seed arguments its worlds need (tests/world/seed.py).
    pub seed: &'static [&'static str],
    /// The IAM service prefix of the API it calls.
    pub service: &'static str,
    /// Parameters that make every action talk to AWS (stop included), on
    /// top of the ones `Kind` gives.
    pub full: &'static [(&'static str, &'static str)],
    /// The `api_failure` value under which a lost AWS answer is not
    /// tolerated (rc 1; red for a health agent).
    pub strict: (&'static str, &'static str),
    /// Environment of a monitor that asks AWS (vip checks routes at depth 10).
    pub aws_monitor: &'static [(&'static str, &'static str)],
    /// Calls that make the agent send every API action it can (iam), given
    /// a resource with its `full` parameters.
    pub exercise: fn(&Rsc) -> Vec<Step>,
    /// API actions (`service:Action`) the exercise must send, and must not.
    pub sends: &'static [&'static str],
    pub never_sends: &'static [&'static str],
}

impl Known {
    /// A health agent publishes instead of moving an address: failing its
    /// start would ban it from the node for good, so it starts and
    /// publishes nothing under an API outage, and it has no owner.
    pub fn moves(&self) -> bool {
        self.kind != Kind::Health
    }
}

/// start, monitor and stop on node1.
fn start_monitor_stop(r: &Rsc) -> Vec<Step> {
    ["start", "monitor", "stop"]
        .into_iter()
        .map(|a| ("node1", a, r.params.clone()))
        .collect()
}

/// vip with everything optional turned on: a source/dest check to fix, a
/// listed table without the route, and another VPC's id.
fn vip_exercise(r: &Rsc) -> Vec<Step> {
    let w = &r.w;
    let mut p = r.params.clone();
    p.push(("fix_source_dest", "true".into()));
    p.push((
        "routing_table",
        format!("{},{}", w.tables[0], w.other_tables[0]),
    ));
    vec![
        ("node2", "start", p.clone()),
        ("node2", "monitor", p.clone()),
        ("node2", "stop", p),
        (
            "node1",
            "start",
            vec![
                ("ip", w.vip.clone()),
                ("vpc_id", "vpc-0123456789abcdef0".into()),
            ],
        ),
    ]
}

pub const KNOWN: &[Known] = &[
    Known {
        name: "vip",
        kind: Kind::Routes,
        seed: &[],
        service: "ec2",
        full: &[],
        strict: ("api_failure", "fail"),
        aws_monitor: &[("OCF_CHECK_LEVEL", "10")],
        exercise: vip_exercise,
        sends: &[
            "ec2:ReplaceRoute",
            "ec2:CreateRoute",
            "ec2:ModifyNetworkInterfaceAttribute",
            "ec2:DescribeVpcs",
        ],
        never_sends: &[],
    },
    Known {
        name: "eip",
        kind: Kind::Eip,
        seed: &[],
        service: "ec2",
        full: &[],
        strict: ("api_failure", "fail"),
        aws_monitor: &[],
        exercise: start_monitor_stop,
        sends: &["ec2:DisassociateAddress"],
        never_sends: &[],
    },
    Known {
        name: "dns",
        kind: Kind::Record,
        seed: &[],
        service: "route53",
        full: &[("delete_on_stop", "true")],
        strict: ("api_failure", "fail"),
        aws_monitor: &[],
        exercise: start_monitor_stop,
        sends: &["route53:GetChange"],
        // Not needed: a name outside the zone is refused by the change
        // itself (issue 6).
        never_sends: &["route53:GetHostedZone"],
    },
    Known {
        name: "az",
        kind: Kind::Health,
        seed: &[],
        service: "ec2",
        full: &[],
        strict: ("api_failure", "red"),
        aws_monitor: &[],
        exercise: start_monitor_stop,
        sends: &[],
        never_sends: &[],
    },
    Known {
        name: "secondary-ip",
        kind: Kind::Address,
        seed: &["--same-subnet"],
        service: "ec2",
        full: &[],
        strict: ("api_failure", "fail"),
        aws_monitor: &[("OCF_CHECK_LEVEL", "10")],
        exercise: secondary_ip_exercise,
        sends: &[
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
        ],
        never_sends: &[],
    },
];

/// secondary-ip: start on node2, depth-10 monitor there, then a start on
/// node1 (takes it over) and a stop there (unassigns).
fn secondary_ip_exercise(r: &Rsc) -> Vec<Step> {
    let p = r.params.clone();
    vec![
        ("node2", "start", p.clone()),
        ("node2", "monitor", p.clone()),
        ("node1", "start", p.clone()),
        ("node1", "stop", p),
    ]
}

/// The agents `ocf-aws --list` names, in its order.
pub fn listed() -> &'static [String] {
    static LIST: OnceLock<Vec<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let out = Command::new(BIN)
            .arg("--list")
            .output()
            .expect("ocf-aws --list");
        assert!(out.status.success(), "ocf-aws --list failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    })
}

fn unknown_message(name: &str) -> String {
    format!(
        "`ocf-aws --list` names the agent {name:?}, which tests/it/agents.rs does not know: \
         add a `Known` entry for it to KNOWN there (its Kind, i.e. what it moves and how \
         the tests read that back; its IAM service; the parameters under which every \
         action calls AWS; its strict api_failure value; its IAM exercise), so that the \
         fault, fuzz, IAM and smoke tests cover it"
    )
}

/// The table entry of `name`; panics with what to add when there is none.
pub fn known(name: &str) -> &'static Known {
    KNOWN
        .iter()
        .find(|k| k.name == name)
        .unwrap_or_else(|| panic!("{}", unknown_message(name)))
}

/// Every listed agent's table entry (panics on the first unknown one).
pub fn all() -> Vec<&'static Known> {
    listed().iter().map(|a| known(a)).collect()
}

fn every_listed_agent_is_known() {
    assert!(!listed().is_empty(), "ocf-aws --list named no agent");
    let unknown: Vec<String> = listed()
        .iter()
        .filter(|a| !KNOWN.iter().any(|k| k.name == *a))
        .map(|a| unknown_message(a))
        .collect();
    assert!(unknown.is_empty(), "{}", unknown.join("\n"));
    let names: BTreeSet<&str> = KNOWN.iter().map(|k| k.name).collect();
    assert_eq!(names.len(), KNOWN.len(), "an agent is in KNOWN twice");
}

/// What the table says makes a valid resource in the test world: it
/// starts, monitors and stops.
fn every_listed_agent_starts_monitors_and_stops() {
    for k in all() {
        let r = Rsc::for_agent(k.name).attrd();
        for (node, action, rc) in [
            ("node1", "start", 0),
            ("node1", "monitor", 0),
            ("node2", "monitor", 7),
            ("node1", "stop", 0),
            ("node1", "monitor", 7),
        ] {
            let run = r.run(node, action, &[]);
            assert_eq!(run.rc, rc, "{} {action} on {node}: {}", k.name, run.stderr);
        }
    }
}

fn every_listed_agent_has_valid_meta_data() {
    for a in listed() {
        xml_valid(a);
    }
}

tests![
    every_listed_agent_is_known,
    every_listed_agent_starts_monitors_and_stops,
    every_listed_agent_has_valid_meta_data,
];
