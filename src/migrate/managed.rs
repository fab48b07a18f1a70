//! The switch of a live cluster (see `apply`): `is-managed=false` on each
//! converted resource in the converting transaction, and its previous
//! value back in the second one.

use super::cib::{self, Element, Node};
use super::plan::{first_set, nvpair, Conversion};
use std::collections::BTreeSet;

/// The is-managed=false set on a resource for the switch.
#[derive(Debug)]
pub struct Unmanaged {
    /// The nvpair's id.
    pub nvpair: String,
    /// Its value before; None: it was added.
    pub before: Option<String>,
    /// The meta attribute set made for it, if the resource had none.
    pub set: Option<String>,
}

/// is-managed=false on `p`.
pub(super) fn unmanage(p: &mut Element, id: &str, ids: &mut BTreeSet<String>) -> Unmanaged {
    for set in p.elements_mut().filter(|s| s.name == "meta_attributes") {
        if let Some(nv) = set.elements_mut().find(|n| n.attr("name") == "is-managed") {
            let before = nv.attr("value").to_string();
            nv.set("value", "false");
            return Unmanaged {
                nvpair: nv.attr("id").to_string(),
                before: Some(before),
                set: None,
            };
        }
    }
    let made = p.child("meta_attributes").is_none();
    let s = first_set(p, "meta_attributes", id, ids);
    let set_id = s.attr("id").to_string();
    let nv = nvpair(ids, &set_id, "is-managed", "false");
    let nvpair = nv.attr("id").to_string();
    s.append(nv);
    Unmanaged {
        nvpair,
        before: None,
        set: made.then_some(set_id),
    }
}

/// Undoes `unmanage` on the resources `done` names (in a CIB read again).
pub fn restore(doc: &mut [Node], done: &[Conversion]) {
    // Children first: a set emptied below is then removed by its parent.
    fn each(el: &mut Element, f: &mut impl FnMut(&mut Element)) {
        for c in el.elements_mut() {
            each(c, f);
        }
        f(el);
    }
    let Some(cfg) = cib::root(doc).and_then(|c| c.child_mut("configuration")) else {
        return;
    };
    for u in done.iter().filter_map(|c| c.unmanaged.as_ref()) {
        each(cfg, &mut |el| match &u.before {
            Some(v) => {
                if el.name == "nvpair" && el.attr("id") == u.nvpair {
                    el.set("value", v);
                }
            }
            None => {
                el.remove_where(|n| n.name == "nvpair" && n.attr("id") == u.nvpair);
                el.remove_where(|n| {
                    Some(n.attr("id")) == u.set.as_deref() && n.elements().next().is_none()
                });
            }
        });
    }
}
