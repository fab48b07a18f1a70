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
    /// The agent's parameter naming a role this action is made as when
    /// set (vip's routing_table_role); role_arn, when set, wins for all.
    pub role_param: Option<&'static str>,
}

impl Permission {
    pub const fn new(action: &'static str, scopes: &'static [Scope], when: &'static str) -> Self {
        Permission {
            action,
            scopes,
            when,
            role_param: None,
        }
    }

    /// Made as the role that parameter `param` names, when it is set.
    pub const fn under_role(mut self, param: &'static str) -> Self {
        self.role_param = Some(param);
        self
    }

    /// The role ARN this action is made as under `params` (None: the
    /// node's own credentials).
    pub fn role<'a>(&self, params: &'a BTreeMap<String, String>) -> Option<&'a str> {
        params
            .get("role_arn")
            .or_else(|| self.role_param.and_then(|p| params.get(p)))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
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

/// An agent, its permissions and the parameters of its resource.
pub type AgentPolicy<'a> = (&'a str, &'a [Permission], BTreeMap<String, String>);

/// The policies for the given agents. When every call is made with the
/// node's own credentials: one policy, as [`policy`]. When some are made as
/// an assumed role (role_arn, vip's routing_table_role), both halves:
///
/// ```text
/// { "NodeRole": { "Policy": P },          the nodes' instance role: its own calls and
///                                         sts:AssumeRole on each role
///   "AssumedRoles": { ARN: { "Policy": P, the calls made as that role
///                            "TrustPolicy": T } } }   who may assume it (ExternalId)
/// ```
pub fn policies(agents: &[AgentPolicy]) -> Value {
    type Owned<'a> = (&'a str, Vec<Permission>, BTreeMap<String, String>);
    let mut node: Vec<Owned> = Vec::new();
    let mut roles: BTreeMap<String, Vec<Owned>> = BTreeMap::new();
    let mut external: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (name, perms, params) in agents {
        let mut own = Vec::new();
        for p in perms.iter() {
            match p.role(params) {
                None => own.push(*p),
                Some(arn) => {
                    let list = roles.entry(arn.to_string()).or_default();
                    match list.iter_mut().find(|(n, ..)| n == name) {
                        Some((_, ps, _)) => ps.push(*p),
                        None => list.push((name, vec![*p], params.clone())),
                    }
                    external.insert(arn.to_string(), params.get("external_id").cloned());
                }
            }
        }
        node.push((name, own, params.clone()));
    }
    let borrow = |v: &[Owned<'_>]| -> Value {
        let refs: Vec<AgentPolicy> = v
            .iter()
            .map(|(n, ps, params)| (*n, ps.as_slice(), params.clone()))
            .collect();
        policy(&refs)
    };
    if roles.is_empty() {
        return borrow(&node);
    }
    let mut node_policy = borrow(&node);
    let arns: Vec<&String> = roles.keys().collect();
    if let Some(st) = node_policy["Statement"].as_array_mut() {
        st.push(json!({
            "Sid": "AssumeRoles",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": if arns.len() == 1 { json!(arns[0]) } else { json!(arns) },
        }));
    }
    let assumed: serde_json::Map<String, Value> = roles
        .iter()
        .map(|(arn, list)| {
            let doc = json!({
                "Policy": borrow(list),
                "TrustPolicy": trust_policy(arn, external.get(arn).cloned().flatten()),
            });
            (arn.clone(), doc)
        })
        .collect();
    json!({ "NodeRole": { "Policy": node_policy }, "AssumedRoles": assumed })
}

/// The trust policy the role to assume needs: the nodes' role may assume
/// it (with the ExternalId when one is configured). The nodes' role is
/// not known offline: its ARN is a placeholder to replace.
fn trust_policy(arn: &str, external_id: Option<String>) -> Value {
    let partition = arn.split(':').nth(1).unwrap_or("aws");
    let mut st = json!({
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:{partition}:iam::<node-account-id>:role/<node-role-name>") },
        "Action": "sts:AssumeRole",
    });
    if let Some(x) = external_id {
        st["Condition"] = json!({ "StringEquals": { "sts:ExternalId": x } });
    }
    json!({ "Version": "2012-10-17", "Statement": [st] })
}
