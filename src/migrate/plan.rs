//! The conversion of one CIB: every primitive of an agent that one of
//! ours replaces (per the registry's `replaces` tables, the only list of
//! them) gets our agent, its parameters renamed or removed as the table
//! says, the replaced agent's defaults that ours does not share written
//! out, and its deep-monitor switch turned into `OCF_CHECK_LEVEL=10`
//! monitors. Ids, meta attributes, operations, groups, clones and
//! constraints stay as they are; every other element is not touched.

use super::cib::{self, Element, Node};
use super::managed::hold;
use crate::agents::{self, Spec};
use crate::core::legacy::{Fate, Replaces};
use std::collections::BTreeSet;
use std::fmt;

/// The OCF depth at which our agents check AWS, not only the node.
pub const DEEP: &str = "10";

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Convert even where a parameter's meaning is lost.
    pub force: bool,
    /// Also hold each converted resource for a live switch (maintenance
    /// and the probe's adopt marker; see `managed`).
    pub hold: bool,
}

/// What became of one converted resource.
#[derive(Debug)]
pub struct Conversion {
    pub id: String,
    /// The id of the top-level resource holding it (itself, its group or
    /// clone): what `--crm` reloads.
    pub top: String,
    /// Where it sits, for the plan ("in group grp_app").
    pub within: Vec<String>,
    pub from: &'static str,
    pub to: String,
    pub lines: Vec<Line>,
    /// Whether it is held for the switch (`Options::hold`).
    pub held: bool,
}

/// One line of a resource's plan.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Kept {
        name: String,
        why: String,
    },
    Renamed {
        name: String,
        to: String,
    },
    Removed {
        name: String,
        value: String,
        why: String,
    },
    Added {
        name: String,
        value: String,
        why: String,
    },
    Deepened {
        op: String,
        interval: String,
    },
    Note(String),
}

/// A parameter whose meaning ours cannot keep.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub id: String,
    pub param: String,
    pub value: String,
    pub why: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "resource {}: {}={} cannot keep its meaning ({}); remove it from the resource, \
             or rerun with --force to convert without it",
            self.id, self.param, self.value, self.why
        )
    }
}

/// Our agent's name in the CIB's terms, and the replaced agent's entry.
fn replacement(
    class: &str,
    provider: &str,
    ty: &str,
) -> Option<(&'static Spec, &'static Replaces)> {
    agents::ALL.iter().find_map(|s| {
        s.replaces
            .iter()
            .find(|r| r.parts() == (class, provider, ty))
            .map(|r| (*s, r))
    })
}

pub fn agent_of(spec: &Spec) -> String {
    if spec.is_fence() {
        format!("stonith:{}", spec.name)
    } else {
        format!("ocf:aws:{}", spec.name)
    }
}

/// Converts `doc` in place; the conversions made, or every refusal.
pub fn convert(doc: &mut [Node], opt: Options) -> Result<Vec<Conversion>, Vec<Refusal>> {
    let mut ids = cib::ids(doc);
    let mut done = Vec::new();
    let mut refused = Vec::new();
    let resources = cib::root(doc)
        .and_then(|c| c.child_mut("configuration"))
        .and_then(|c| c.child_mut("resources"));
    if let Some(res) = resources {
        for top in res.elements_mut() {
            let top_id = top.attr("id").to_string();
            visit(top, &mut Vec::new(), &mut |p, within| {
                let Some((spec, r)) =
                    replacement(p.attr("class"), p.attr("provider"), p.attr("type"))
                else {
                    return;
                };
                match primitive(p, spec, r, opt, &mut ids) {
                    Ok(mut c) => {
                        c.top = top_id.clone();
                        c.within = within.to_vec();
                        done.push(c);
                    }
                    Err(mut e) => refused.append(&mut e),
                }
            });
        }
    }
    if refused.is_empty() {
        Ok(done)
    } else {
        Err(refused)
    }
}

/// Every primitive under `el`, with the containers it sits in.
fn visit(el: &mut Element, within: &mut Vec<String>, f: &mut impl FnMut(&mut Element, &[String])) {
    match el.name.as_str() {
        "primitive" => f(el, within),
        "group" | "clone" | "master" | "bundle" => {
            within.push(format!("{} {}", el.name, el.attr("id")));
            for c in el.elements_mut() {
                visit(c, within, f);
            }
            within.pop();
        }
        _ => {}
    }
}

/// A new id from `base`, unique in the document.
pub(super) fn fresh(ids: &mut BTreeSet<String>, base: &str) -> String {
    let mut id = base.to_string();
    let mut n = 1;
    while ids.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    ids.insert(id.clone());
    id
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "yes" | "1" | "on" | "y"
    )
}

/// A set's nvpair: its name and value.
fn pair(e: &Element) -> (String, String) {
    (e.attr("name").to_string(), e.attr("value").to_string())
}

fn primitive(
    p: &mut Element,
    spec: &'static Spec,
    r: &'static Replaces,
    opt: Options,
    ids: &mut BTreeSet<String>,
) -> Result<Conversion, Vec<Refusal>> {
    let id = p.attr("id").to_string();
    let mut lines = Vec::new();
    let mut refused = Vec::new();
    let mut deep = None;
    let ours = |n: &str| spec.params.iter().any(|q| q.answers_to(n));
    let all_names: Vec<String> = p
        .elements()
        .filter(|s| s.name == "instance_attributes")
        .flat_map(|s| s.elements().map(|n| pair(n).0))
        .collect();
    for set in p.elements_mut().filter(|s| s.name == "instance_attributes") {
        let mut drop: Vec<String> = Vec::new();
        for nv in set.elements_mut().filter(|n| n.name == "nvpair") {
            let (name, value) = pair(nv);
            let nv_id = nv.attr("id").to_string();
            if r.deep_monitor == Some(name.as_str()) {
                deep = Some(truthy(&value));
                drop.push(nv_id);
                lines.push(Line::Removed {
                    why: if truthy(&value) {
                        format!("its recurring monitors get OCF_CHECK_LEVEL={DEEP} instead")
                    } else {
                        "false: what ours does by default".into()
                    },
                    name,
                    value,
                });
                continue;
            }
            let Some(f) = r.find(&name) else {
                let why = if ours(&name) {
                    format!("a parameter of {}", spec.name)
                } else if spec.is_fence() && name.starts_with("pcmk_") {
                    "Pacemaker's own fencing parameter".into()
                } else {
                    format!(
                        "not a parameter of {} nor of {}: left as is",
                        r.short_name(),
                        spec.name
                    )
                };
                lines.push(Line::Kept { name, why });
                continue;
            };
            match f.fate {
                Fate::Same => lines.push(Line::Kept {
                    name,
                    why: f.what(),
                }),
                Fate::Kept(how) => lines.push(Line::Kept {
                    name,
                    why: how.to_string(),
                }),
                Fate::Renamed(to) if all_names.iter().any(|n| n == to) => {
                    drop.push(nv_id);
                    lines.push(Line::Removed {
                        why: format!("{to} is set too, and ours reads {to}"),
                        name,
                        value,
                    });
                }
                Fate::Renamed(to) => {
                    nv.set("name", to);
                    lines.push(Line::Renamed {
                        name,
                        to: to.to_string(),
                    });
                }
                Fate::Ignored(_) => {
                    drop.push(nv_id);
                    lines.push(Line::Removed {
                        why: f.what(),
                        name,
                        value,
                    });
                }
                Fate::Lost { why, .. } if f.loses(&value) => {
                    if !opt.force {
                        refused.push(Refusal {
                            id: id.clone(),
                            param: name.clone(),
                            value: value.clone(),
                            why: why.to_string(),
                        });
                    }
                    drop.push(nv_id);
                    lines.push(Line::Removed {
                        why: format!("its meaning is lost (--force): {why}"),
                        name,
                        value,
                    });
                }
                Fate::Lost { .. } => {
                    drop.push(nv_id);
                    lines.push(Line::Removed {
                        why: "this value is what ours does".into(),
                        name,
                        value,
                    });
                }
            }
        }
        set.remove_where(|n| n.name == "nvpair" && drop.iter().any(|d| d == n.attr("id")));
    }
    if !refused.is_empty() {
        return Err(refused);
    }
    defaults(p, r, &id, ids, &mut lines);
    if deep == Some(true) {
        deepen(p, r, &id, ids, &mut lines);
    }
    if spec.is_fence() {
        p.set("class", "stonith");
        p.remove_attr("provider");
    } else {
        p.set("class", "ocf");
        p.set("provider", "aws");
    }
    p.set("type", spec.name);
    if opt.hold {
        hold(p, &id, ids);
    }
    Ok(Conversion {
        id,
        top: String::new(),
        within: Vec::new(),
        from: r.agent,
        to: agent_of(spec),
        lines,
        held: opt.hold,
    })
}

/// The first instance (or meta) attribute set of `p`, made if missing.
pub(super) fn first_set<'a>(
    p: &'a mut Element,
    kind: &str,
    id: &str,
    ids: &mut BTreeSet<String>,
) -> &'a mut Element {
    if p.child(kind).is_none() {
        let set_id = fresh(ids, &format!("{id}-{kind}"));
        p.append(Element::new(kind).with("id", &set_id));
    }
    p.child_mut(kind).expect("made above")
}

pub(super) fn nvpair(ids: &mut BTreeSet<String>, set_id: &str, name: &str, value: &str) -> Element {
    Element::new("nvpair")
        .with("id", &fresh(ids, &format!("{set_id}-{name}")))
        .with("name", name)
        .with("value", value)
}

fn defaults(
    p: &mut Element,
    r: &Replaces,
    id: &str,
    ids: &mut BTreeSet<String>,
    lines: &mut Vec<Line>,
) {
    for (name, value) in r.defaults {
        let set = p
            .elements()
            .filter(|s| s.name == "instance_attributes")
            .flat_map(|s| s.elements())
            .any(|n| n.attr("name") == *name);
        if set {
            continue;
        }
        let s = first_set(p, "instance_attributes", id, ids);
        let set_id = s.attr("id").to_string();
        s.append(nvpair(ids, &set_id, name, value));
        lines.push(Line::Added {
            name: name.to_string(),
            value: value.to_string(),
            why: format!("{}'s default, which is not ours", r.short_name()),
        });
    }
}

fn is_recurring_monitor(op: &Element) -> bool {
    op.attr("name") == "monitor"
        && op
            .attr("interval")
            .chars()
            .any(|c| ('1'..='9').contains(&c))
}

/// Every recurring monitor of `p` checks at depth DEEP.
fn deepen(
    p: &mut Element,
    r: &Replaces,
    id: &str,
    ids: &mut BTreeSet<String>,
    lines: &mut Vec<Line>,
) {
    let switch = r.deep_monitor.unwrap_or_default();
    let Some(ops) = p.child_mut("operations") else {
        lines.push(Line::Note(format!(
            "{switch}=true, but there is no recurring monitor: add one with OCF_CHECK_LEVEL={DEEP}"
        )));
        return;
    };
    let mut any = false;
    for op in ops
        .elements_mut()
        .filter(|o| o.name == "op" && is_recurring_monitor(o))
    {
        any = true;
        let has = op
            .elements()
            .filter(|s| s.name == "instance_attributes")
            .flat_map(|s| s.elements())
            .any(|n| n.attr("name") == "OCF_CHECK_LEVEL");
        if has {
            continue;
        }
        let op_id = op.attr("id").to_string();
        let s = first_set(op, "instance_attributes", &op_id, ids);
        let set_id = s.attr("id").to_string();
        s.append(nvpair(ids, &set_id, "OCF_CHECK_LEVEL", DEEP));
        lines.push(Line::Deepened {
            op: op_id,
            interval: op.attr("interval").to_string(),
        });
    }
    if !any {
        lines.push(Line::Note(format!(
            "{switch}=true, but {id} has no recurring monitor: add one with OCF_CHECK_LEVEL={DEEP}"
        )));
    }
}
