//! The switch of a live cluster (see `apply`). The converting transaction
//! puts each converted resource in maintenance (Pacemaker then neither
//! restarts it for its new agent nor runs the old agent's monitors with the
//! converted parameters) and gives it a probe operation carrying a marker
//! meta attribute: Pacemaker passes an operation's meta attributes to the
//! agent (`OCF_RESKEY_CRM_meta_ocf_aws_adopt`), and our agents' probe then
//! takes over what the replaced agent started (`Ctx::adopting`). The
//! marker's value is the resource's `maintenance` before, so that
//! `finish`, the second transaction (also `ocf-aws migrate --finish`),
//! needs nothing but the CIB to undo both.

use super::cib::{self, Element, Node};
use super::plan::{first_set, fresh, nvpair};
use std::collections::BTreeSet;

/// The meta attribute that holds a resource for the switch.
pub const HOLD: &str = "maintenance";
/// The probe operation's marker (`crate::ocf::env::ADOPT`).
pub const ADOPT: &str = "ocf_aws_adopt";

fn probe_op(o: &Element) -> bool {
    o.name == "op"
        && o.attr("name") == "monitor"
        && !o.attr("interval").chars().any(|c| ('1'..='9').contains(&c))
}

/// Holds `p` for the switch.
pub(super) fn hold(p: &mut Element, id: &str, ids: &mut BTreeSet<String>) {
    let mut before = None;
    let mut done = false;
    for set in p.elements_mut().filter(|s| s.name == "meta_attributes") {
        if let Some(nv) = set.elements_mut().find(|n| n.attr("name") == HOLD) {
            before = Some(nv.attr("value").to_string());
            nv.set("value", "true");
            done = true;
            break;
        }
    }
    if !done {
        let s = first_set(p, "meta_attributes", id, ids);
        let set_id = s.attr("id").to_string();
        s.append(nvpair(ids, &set_id, HOLD, "true"));
    }
    if p.child("operations").is_none() {
        p.append(Element::new("operations"));
    }
    let ops = p.child_mut("operations").expect("made above");
    if !ops.elements().any(probe_op) {
        let op_id = fresh(ids, &format!("{id}-monitor-0-adopt"));
        ops.append(
            Element::new("op")
                .with("id", &op_id)
                .with("name", "monitor")
                .with("interval", "0"),
        );
    }
    let op = ops
        .elements_mut()
        .find(|o| probe_op(o))
        .expect("made above");
    let op_id = op.attr("id").to_string();
    let set = first_set(op, "meta_attributes", &op_id, ids);
    let set_id = set.attr("id").to_string();
    let marker = format!("{HOLD}={}", before.as_deref().unwrap_or(""));
    set.append(nvpair(ids, &set_id, ADOPT, &marker));
}

/// The marker's value, if `p` carries one.
fn marker(p: &Element) -> Option<String> {
    p.child("operations")?
        .elements()
        .filter(|o| probe_op(o))
        .flat_map(|o| o.elements().filter(|s| s.name == "meta_attributes"))
        .flat_map(|s| s.elements())
        .find(|n| n.attr("name") == ADOPT)
        .map(|n| n.attr("value").to_string())
}

/// The second transaction: every held resource (found by its marker) gets
/// its maintenance as it was, and loses the marker (and the probe
/// operation, when that was made for it). The ids of the resources.
pub fn finish(doc: &mut [Node]) -> Vec<String> {
    let mut done = Vec::new();
    let Some(res) = cib::root(doc)
        .and_then(|c| c.child_mut("configuration"))
        .and_then(|c| c.child_mut("resources"))
    else {
        return done;
    };
    each_primitive(res, &mut |p| {
        let Some(m) = marker(p) else { return };
        let before = m.strip_prefix(&format!("{HOLD}=")).unwrap_or("");
        for set in p.elements_mut().filter(|s| s.name == "meta_attributes") {
            if before.is_empty() {
                set.remove_where(|n| n.attr("name") == HOLD);
            } else if let Some(nv) = set.elements_mut().find(|n| n.attr("name") == HOLD) {
                nv.set("value", before);
            }
        }
        p.remove_where(|s| s.name == "meta_attributes" && s.elements().next().is_none());
        if let Some(ops) = p.child_mut("operations") {
            for op in ops.elements_mut().filter(|o| probe_op(o)) {
                for set in op.elements_mut() {
                    set.remove_where(|n| n.attr("name") == ADOPT);
                }
                op.remove_where(|s| s.name == "meta_attributes" && s.elements().next().is_none());
            }
            // A probe operation with nothing but its name and interval
            // configures nothing: the one made for the marker.
            ops.remove_where(|o| {
                probe_op(o)
                    && o.elements().next().is_none()
                    && o.attr_names()
                        .all(|a| ["id", "name", "interval"].contains(&a))
            });
        }
        p.remove_where(|s| s.name == "operations" && s.elements().next().is_none());
        done.push(p.attr("id").to_string());
    });
    done
}

fn each_primitive(el: &mut Element, f: &mut impl FnMut(&mut Element)) {
    for c in el.elements_mut() {
        if c.name == "primitive" {
            f(c);
        } else {
            each_primitive(c, f);
        }
    }
}
