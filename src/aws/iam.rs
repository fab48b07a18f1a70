//! Least-privilege IAM policies for the agents.
//!
//! Each agent declares, next to its code, the IAM actions it calls and
//! what each can be scoped to; `ocf-aws iam-policy` turns that into a
//! policy, narrowed to the resources named in the parameters given. A test
//! runs every agent through the fault proxy and checks that each API action
//! it really sent is declared, so the policy cannot drift from the code.

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What an action can be limited to. Describe* and GetChange cannot be
/// scoped to a resource by AWS at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Not scopable: "Resource": "*".
    Any,
    RouteTable,
    NetworkInterface,
    ElasticIp,
    HostedZone,
    Change,
    /// The instances fencing may stop and start: those in `plug` when it
    /// names instance ids, else those carrying the `tag` key.
    Instance,
}

#[derive(Clone, Copy, Debug)]
pub struct Permission {
    pub action: &'static str,
    pub scopes: &'static [Scope],
    /// Why the agent needs it (shown as the statement id's context).
    pub when: &'static str,
}

impl Permission {
    pub const fn new(action: &'static str, scopes: &'static [Scope], when: &'static str) -> Self {
        Permission {
            action,
            scopes,
            when,
        }
    }
}

fn arns(scope: Scope, params: &BTreeMap<String, String>) -> Vec<String> {
    let list = |k: &str| -> Vec<String> {
        params
            .get(k)
            .map(|v| {
                v.split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let each = |k: &str, kind: &str| -> Vec<String> {
        let ids = list(k);
        if ids.is_empty() {
            vec![format!("arn:aws:ec2:*:*:{kind}/*")]
        } else {
            ids.iter()
                .map(|id| format!("arn:aws:ec2:*:*:{kind}/{id}"))
                .collect()
        }
    };
    match scope {
        Scope::Any => vec!["*".into()],
        Scope::RouteTable => each("routing_table", "route-table"),
        Scope::NetworkInterface => each("eni_id", "network-interface"),
        Scope::ElasticIp => each("allocation_id", "elastic-ip"),
        Scope::HostedZone => match params.get("hosted_zone_id") {
            Some(z) => vec![format!(
                "arn:aws:route53:::hostedzone/{}",
                z.trim().trim_start_matches("/hostedzone/")
            )],
            None => vec!["arn:aws:route53:::hostedzone/*".into()],
        },
        Scope::Change => vec!["arn:aws:route53:::change/*".into()],
        Scope::Instance => {
            let ids: Vec<String> = list("plug")
                .into_iter()
                .filter(|p| p.starts_with("i-"))
                .collect();
            if ids.is_empty() || params.contains_key("tag") {
                vec!["arn:aws:ec2:*:*:instance/*".into()]
            } else {
                ids.iter()
                    .map(|id| format!("arn:aws:ec2:*:*:instance/{id}"))
                    .collect()
            }
        }
    }
}

/// The IAM condition of a scope: instances found by tag may be limited to
/// those that carry the tag key.
fn condition(scope: Scope, params: &BTreeMap<String, String>) -> Option<Value> {
    match (scope, params.get("tag")) {
        (Scope::Instance, Some(key)) => Some(json!({
            "Null": { format!("aws:ResourceTag/{}", key.trim()): "false" }
        })),
        _ => None,
    }
}

/// One policy for the given agents, each with the parameters of its
/// resource (ids narrow the resources; absent ids leave `…/*`).
pub fn policy(agents: &[(&str, &[Permission], BTreeMap<String, String>)]) -> Value {
    // Group by the exact resource list and condition, so equal scopes
    // share a statement.
    let mut by_resources: BTreeMap<(Vec<String>, String), Vec<&str>> = BTreeMap::new();
    for (_, perms, params) in agents {
        for p in perms.iter() {
            let mut res: Vec<String> = p.scopes.iter().flat_map(|s| arns(*s, params)).collect();
            if res.iter().any(|r| r == "*") {
                res = vec!["*".into()];
            }
            res.sort();
            res.dedup();
            let cond = p
                .scopes
                .iter()
                .find_map(|s| condition(*s, params))
                .map(|c| c.to_string())
                .unwrap_or_default();
            let acts = by_resources.entry((res, cond)).or_default();
            if !acts.contains(&p.action) {
                acts.push(p.action);
            }
        }
    }
    let mut scoped = 0;
    let statements: Vec<Value> = by_resources
        .into_iter()
        .map(|((res, cond), mut acts)| {
            acts.sort();
            let sid = if res == ["*"] {
                "NotScopableByAws".to_string()
            } else {
                scoped += 1;
                format!("Scoped{scoped}")
            };
            let mut st = json!({
                "Sid": sid,
                "Effect": "Allow",
                "Action": acts,
                "Resource": if res.len() == 1 { json!(res[0]) } else { json!(res) },
            });
            if let Ok(c) = serde_json::from_str::<Value>(&cond) {
                st["Condition"] = c;
            }
            st
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}
