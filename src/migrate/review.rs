//! `--crm` and `--pcs`: the conversion as commands to review and run by
//! hand, doing what `--apply` does on a live cluster (convert with the
//! resources held, reprobe, settle, release).

use super::cib::Node;
use super::plan::Conversion;
use std::fmt::Write as _;

/// The shell word for an id (ids are XML NCNames: no quoting needed,
/// but quote anything unexpected rather than trust it).
fn word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Reprobe with the new agents, wait for the cluster to settle, release.
fn reprobe(out: &mut String, done: &[Conversion], refresh: &str) {
    out.push_str(
        "# 2. Reprobe them with the new agents (they find their addresses in place; a group \
         or clone is refreshed whole):\n",
    );
    let mut tops: Vec<&str> = done.iter().map(|c| c.top.as_str()).collect();
    tops.dedup();
    for top in tops {
        let _ = writeln!(out, "{refresh} {}", word(top));
    }
    out.push_str("crm_resource --wait --timeout 120s\n");
    out.push_str("# 3. Release them (maintenance as it was, the probe's marker gone):\n");
    out.push_str("ocf-aws migrate --finish\n");
}

/// crmsh: one `configure load xml update` of the top-level resources
/// holding the converted primitives (a group or clone is reloaded whole,
/// its members as they were), with is-managed=false on the converted ones.
pub fn crm(doc: &[Node], done: &[Conversion]) -> String {
    let mut tops: Vec<&str> = done.iter().map(|c| c.top.as_str()).collect();
    tops.dedup();
    let mut xml = String::new();
    let resources = doc
        .iter()
        .find_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Raw(_) => None,
        })
        .and_then(|c| c.child("configuration"))
        .and_then(|c| c.child("resources"));
    if let Some(res) = resources {
        for e in res.elements().filter(|e| tops.contains(&e.attr("id"))) {
            let _ = writeln!(xml, "      {}", e.to_xml());
        }
    }
    let mut out = String::from(
        "# 1. One transaction: the new agents, the converted resources held in maintenance \
         so that Pacemaker does not restart them, their probes marked to adopt:\n\
         crm configure load xml update - <<'EOF'\n<cib>\n  <configuration>\n    <resources>\n",
    );
    out.push_str(&xml);
    out.push_str("    </resources>\n  </configuration>\n</cib>\nEOF\n");
    reprobe(&mut out, done, "crm resource refresh");
    out
}

/// pcs 0.11 cannot change a resource's agent (`pcs resource update` keeps
/// the type): the conversion is made on a copy of the CIB by `ocf-aws
/// migrate` itself and pushed as a difference (`cib-push diff-against`),
/// which fails rather than undo a change made meanwhile.
pub fn pcs(done: &[Conversion], force: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# 1. Convert a copy of the CIB, the resources held for the switch, and push the \
         difference (pcs cannot change an agent):\n\
         pcs cluster cib cib-before.xml\n\
         cp cib-before.xml cib-after.xml\n\
         CIB_file=cib-after.xml ocf-aws migrate --apply --hold{}\n\
         crm_verify --xml-file cib-after.xml\n\
         pcs cluster cib-push cib-after.xml diff-against=cib-before.xml",
        if force { " --force" } else { "" }
    );
    reprobe(&mut out, done, "pcs resource refresh");
    out
}
