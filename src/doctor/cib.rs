//! `doctor --resource ID`: the parameters of a configured resource, as the
//! CIB holds them, read with Pacemaker's own `crm_resource` (which also
//! honours `CIB_file`, so a saved CIB can be checked offline).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::BTreeMap;
use std::process::Command;

/// A primitive resource of the CIB.
#[derive(Debug, PartialEq, Eq)]
pub struct Resource {
    pub id: String,
    /// `ocf:aws:vip` style.
    pub agent: String,
    /// Instance attributes (name → value); the first set wins, as for a
    /// resource whose sets carry no rules.
    pub params: BTreeMap<String, String>,
}

pub fn read(id: &str) -> Result<Resource, String> {
    let out = Command::new("crm_resource")
        .args(["--resource", id, "--query-xml", "--output-as=xml"])
        .output()
        .map_err(|e| {
            format!(
                "cannot run crm_resource ({e}): run doctor on a cluster node (package \
                 pacemaker-cli-utils), or give the agent and its parameters instead of --resource"
            )
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .lines()
            .chain(stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('<'))
            .unwrap_or("no message");
        return Err(format!(
            "crm_resource could not read resource '{id}' (exit {}): {why}",
            out.status.code().unwrap_or(-1)
        ));
    }
    parse(id, &stdout)
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The resource definition inside crm_resource's `--output-as=xml` answer
/// (`<xml><![CDATA[<primitive …>]]></xml>`).
pub fn parse(id: &str, answer: &str) -> Result<Resource, String> {
    let mut r = Reader::from_str(answer);
    let mut inner = String::new();
    let mut in_xml = false;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) if e.name().as_ref() == b"xml" => in_xml = true,
            Ok(Event::End(e)) if e.name().as_ref() == b"xml" => break,
            Ok(Event::CData(t)) if in_xml => inner.push_str(&String::from_utf8_lossy(&t)),
            Ok(Event::Eof) => break,
            Err(e) => return Err(format!("crm_resource answered unreadable XML: {e}")),
            _ => {}
        }
    }
    if inner.trim().is_empty() {
        return Err(format!(
            "crm_resource returned no definition for resource '{id}'"
        ));
    }
    definition(id, &inner)
}

/// The first primitive in a resource definition (a clone or group wraps
/// its primitives) and its own instance attributes: only the sets that are
/// direct children of the primitive, not those of its operations (where
/// `OCF_CHECK_LEVEL` lives).
fn definition(id: &str, xml: &str) -> Result<Resource, String> {
    let mut r = Reader::from_str(xml);
    let mut agent = None;
    let mut prim_id = String::new();
    // Element depth, and the depth of the primitive once found.
    let mut depth = 0usize;
    let mut prim_depth = None;
    let mut in_instance = false;
    let mut params = BTreeMap::new();
    loop {
        let ev = r
            .read_event()
            .map_err(|e| format!("resource '{id}': unreadable definition: {e}"))?;
        let (e, empty) = match &ev {
            Event::Start(e) => (e.clone(), false),
            Event::Empty(e) => (e.clone(), true),
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.name().as_ref() {
                    b"primitive" if Some(depth) == prim_depth => break,
                    b"instance_attributes" if Some(depth) == prim_depth.map(|d| d + 1) => {
                        in_instance = false
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match e.name().as_ref() {
            b"primitive" if agent.is_none() => {
                let class = attr(&e, "class").unwrap_or_default();
                let provider = attr(&e, "provider").unwrap_or_default();
                let kind = attr(&e, "type").unwrap_or_default();
                prim_id = attr(&e, "id").unwrap_or_else(|| id.to_string());
                agent = Some(if provider.is_empty() {
                    format!("{class}:{kind}")
                } else {
                    format!("{class}:{provider}:{kind}")
                });
                if empty {
                    break;
                }
                prim_depth = Some(depth);
            }
            b"instance_attributes" if !empty && prim_depth.map(|d| d + 1) == Some(depth) => {
                in_instance = true
            }
            b"nvpair" if in_instance && prim_depth.map(|d| d + 2) == Some(depth) => {
                if let (Some(n), Some(v)) = (attr(&e, "name"), attr(&e, "value")) {
                    params.entry(n).or_insert(v);
                }
            }
            _ => {}
        }
        if !empty {
            depth += 1;
        }
    }
    let Some(agent) = agent else {
        return Err(format!("resource '{id}' has no primitive to check"));
    };
    Ok(Resource {
        id: prim_id,
        agent,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r##"<pacemaker-result api-version="2.25" request="crm_resource">
  <resource_config>
    <resource id="health" resource_agent="ocf:aws:health" role="Stopped"/>
    <xml><![CDATA[<clone id="health-clone">
  <primitive id="health" class="ocf" provider="aws" type="health">
    <instance_attributes id="az-ia">
      <nvpair id="a1" name="dampen" value="10s &amp; more"/>
      <nvpair id="a2" name="dampen" value="shadowed"/>
    </instance_attributes>
    <meta_attributes id="az-meta"><nvpair id="m1" name="target-role" value="Started"/></meta_attributes>
    <operations>
      <op id="az-mon" name="monitor" interval="10s">
        <instance_attributes id="az-mon-ia"><nvpair id="o1" name="OCF_CHECK_LEVEL" value="10"/></instance_attributes>
      </op>
    </operations>
    <instance_attributes id="az-ia2"><nvpair id="a3" name="attribute" value="#health-x"/></instance_attributes>
  </primitive>
</clone>
]]></xml>
  </resource_config>
  <status code="0" message="OK"/>
</pacemaker-result>"##;

    #[test]
    fn reads_the_primitive_inside_a_clone() {
        let r = parse("health-clone", ANSWER).unwrap();
        assert_eq!(r.agent, "ocf:aws:health");
        assert_eq!(r.id, "health");
        assert_eq!(
            r.params.get("dampen").map(String::as_str),
            Some("10s & more")
        );
        assert_eq!(
            r.params.get("attribute").map(String::as_str),
            Some("#health-x")
        );
        // Meta attributes and the operations' own attributes are not parameters.
        assert!(!r.params.contains_key("target-role"), "{:?}", r.params);
        assert!(!r.params.contains_key("OCF_CHECK_LEVEL"), "{:?}", r.params);
    }

    #[test]
    fn an_answer_without_definition_is_an_error() {
        let e = parse(
            "x",
            "<pacemaker-result><status code=\"0\"/></pacemaker-result>",
        )
        .unwrap_err();
        assert!(e.contains("no definition"), "{e}");
    }
}
