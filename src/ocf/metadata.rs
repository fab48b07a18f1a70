//! The meta-data XML, generated from the agent's declarative tables.
//!
//! It must validate against both resource-agents' `ra-api-1.dtd` (what
//! ocf-tester and crmsh use) and `metadata.rng`: that intersection allows
//! exactly one longdesc/shortdesc with `lang`, parameter types string,
//! integer and boolean, and the OCF 1.0 action names.

use super::agent::Meta;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

pub const OCF_VERSION: &str = "1.1";

pub fn render(spec: &Meta) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail; the expect documents that invariant.
    write_all(&mut w, spec).expect("writing XML to memory");
    let mut out = String::from_utf8(w.into_inner()).expect("XML is UTF-8");
    out.push('\n');
    out
}

type W = Writer<Vec<u8>>;

fn write_all(w: &mut W, spec: &Meta) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", None, None)))?;
    w.write_event(Event::DocType(BytesText::from_escaped(
        r#"resource-agent SYSTEM "ra-api-1.dtd""#,
    )))?;
    let mut root = BytesStart::new("resource-agent");
    root.push_attribute(("name", spec.name));
    root.push_attribute(("version", env!("CARGO_PKG_VERSION")));
    w.write_event(Event::Start(root))?;
    text_elem(w, "version", &[], OCF_VERSION)?;
    text_elem(w, "longdesc", &[("lang", "en")], spec.longdesc)?;
    text_elem(w, "shortdesc", &[("lang", "en")], spec.shortdesc)?;

    w.write_event(Event::Start(BytesStart::new("parameters")))?;
    for p in spec.params {
        let mut el = BytesStart::new("parameter");
        el.push_attribute(("name", p.name));
        el.push_attribute(("unique", if p.unique { "1" } else { "0" }));
        el.push_attribute(("required", if p.required { "1" } else { "0" }));
        w.write_event(Event::Start(el))?;
        text_elem(w, "longdesc", &[("lang", "en")], &p.description())?;
        text_elem(w, "shortdesc", &[("lang", "en")], p.shortdesc)?;
        let mut c = BytesStart::new("content");
        c.push_attribute(("type", p.content_type()));
        if let Some(d) = p.default {
            c.push_attribute(("default", d));
        }
        w.write_event(Event::Empty(c))?;
        w.write_event(Event::End(BytesEnd::new("parameter")))?;
    }
    // The replaced agents' parameters, so that pcs accepts a configuration
    // written for them without --force. ra-api-1.dtd has no <deprecated>
    // element, so the descriptions say it.
    let own = |n: &str| spec.params.iter().any(|p| p.answers_to(n));
    for (agent, f) in crate::core::legacy::accepted(spec.replaces, own) {
        let mut el = BytesStart::new("parameter");
        el.push_attribute(("name", f.name));
        el.push_attribute(("unique", "0"));
        el.push_attribute(("required", "0"));
        w.write_event(Event::Start(el))?;
        let text = f.description(agent);
        text_elem(w, "longdesc", &[("lang", "en")], &text)?;
        let short = match f.fate {
            crate::core::legacy::Fate::Renamed(ours) => format!("Deprecated: use {ours}"),
            _ => format!("Deprecated: from {}", agent.short_name()),
        };
        text_elem(w, "shortdesc", &[("lang", "en")], &short)?;
        let mut c = BytesStart::new("content");
        c.push_attribute(("type", f.kind.content_type()));
        w.write_event(Event::Empty(c))?;
        w.write_event(Event::End(BytesEnd::new("parameter")))?;
    }
    w.write_event(Event::End(BytesEnd::new("parameters")))?;

    w.write_event(Event::Start(BytesStart::new("actions")))?;
    for a in spec.actions {
        let mut el = BytesStart::new("action");
        el.push_attribute(("name", a.name));
        el.push_attribute(("timeout", format!("{}s", a.timeout_s).as_str()));
        if let Some(i) = a.interval_s {
            el.push_attribute(("interval", format!("{i}s").as_str()));
        }
        if let Some(d) = a.depth {
            el.push_attribute(("depth", d.to_string().as_str()));
        }
        w.write_event(Event::Empty(el))?;
    }
    w.write_event(Event::End(BytesEnd::new("actions")))?;
    w.write_event(Event::End(BytesEnd::new("resource-agent")))?;
    Ok(())
}

fn text_elem(w: &mut W, name: &str, attrs: &[(&str, &str)], text: &str) -> std::io::Result<()> {
    let mut el = BytesStart::new(name);
    for a in attrs {
        el.push_attribute(*a);
    }
    w.write_event(Event::Start(el))?;
    w.write_event(Event::Text(BytesText::new(text.trim())))?;
    w.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}
