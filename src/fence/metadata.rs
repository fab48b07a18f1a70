//! A fence agent's metadata in fence-agents' format (what pacemaker-fenced,
//! `pcs stonith describe` and `crm ra info stonith:` read), generated from
//! the same parameter table as parsing and the man page.
//!
//! It is valid against fence-agents' `metadata.rng`. Secrets are NOT
//! marked `private="1"`, although pacemaker-fenced honours that attribute:
//! neither that schema nor pcs 0.11's (`/usr/share/pcs/data/ocf-1.0.rng`)
//! lists it, and pcs then refuses the agent (`pcs stonith describe` and
//! `create` fail without --force). The secret is still never printed or
//! logged by the agent; the instance role needs no secret at all.

use super::input::getopt;
use super::Meta;
use crate::core::{Kind, Param};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

pub fn render(spec: &Meta) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b'\t', 1);
    // Writing into a Vec cannot fail; the expect documents that invariant.
    write_all(&mut w, spec).expect("writing XML to memory");
    let mut out = String::from_utf8(w.into_inner()).expect("XML is UTF-8");
    out.push('\n');
    out
}

type W = Writer<Vec<u8>>;

fn content_type(p: &Param) -> &'static str {
    match p.kind {
        Kind::Boolean => "boolean",
        Kind::Integer { .. } => "integer",
        Kind::Seconds { .. } => "second",
        Kind::Select(_) => "select",
        Kind::String => "string",
    }
}

/// The host argument and the action: pacemaker-fenced supplies them, and
/// fence-agents mark them required, so pcs does not ask for them.
fn required(spec: &Meta, p: &Param) -> bool {
    p.required || p.name == "action" || p.name == spec.host_argument
}

fn parameter(w: &mut W, spec: &Meta, p: &Param, name: &str, alias_of: bool) -> std::io::Result<()> {
    let mut el = BytesStart::new("parameter");
    el.push_attribute(("name", name));
    el.push_attribute(("unique", if p.unique { "1" } else { "0" }));
    el.push_attribute(("required", if required(spec, p) { "1" } else { "0" }));
    if alias_of {
        el.push_attribute(("deprecated", "1"));
    } else if let Some(old) = p.aliases.first() {
        el.push_attribute(("obsoletes", *old));
    }
    w.write_event(Event::Start(el))?;
    let mut g = BytesStart::new("getopt");
    g.push_attribute(("mixed", getopt(p).as_str()));
    w.write_event(Event::Empty(g))?;
    let mut c = BytesStart::new("content");
    c.push_attribute(("type", content_type(p)));
    if let Some(d) = p.default {
        c.push_attribute(("default", d));
    }
    match p.kind {
        Kind::Select(opts) => {
            w.write_event(Event::Start(c))?;
            for o in opts {
                let mut el = BytesStart::new("option");
                el.push_attribute(("value", *o));
                w.write_event(Event::Empty(el))?;
            }
            w.write_event(Event::End(BytesEnd::new("content")))?;
        }
        _ => w.write_event(Event::Empty(c))?,
    }
    let mut sd = BytesStart::new("shortdesc");
    sd.push_attribute(("lang", "en"));
    w.write_event(Event::Start(sd))?;
    let text = if alias_of {
        format!("Deprecated name of {}: {}", p.name, p.description())
    } else {
        p.description()
    };
    w.write_event(Event::Text(BytesText::new(text.trim())))?;
    w.write_event(Event::End(BytesEnd::new("shortdesc")))?;
    w.write_event(Event::End(BytesEnd::new("parameter")))?;
    Ok(())
}

/// A replaced agent's parameter: accepted on stdin, deprecated, no getopt
/// letter (fence-agents' schema wants a getopt; the long form is ours).
fn replaced(w: &mut W, f: &crate::core::legacy::Foreign, text: &str) -> std::io::Result<()> {
    let mut el = BytesStart::new("parameter");
    el.push_attribute(("name", f.name));
    el.push_attribute(("unique", "0"));
    el.push_attribute(("required", "0"));
    el.push_attribute(("deprecated", "1"));
    w.write_event(Event::Start(el))?;
    let mut g = BytesStart::new("getopt");
    let value = if f.kind == Kind::Boolean {
        String::new()
    } else {
        format!("=[{}]", f.name)
    };
    g.push_attribute((
        "mixed",
        format!("--{}{value}", f.name.replace('_', "-")).as_str(),
    ));
    w.write_event(Event::Empty(g))?;
    let mut c = BytesStart::new("content");
    c.push_attribute((
        "type",
        if f.kind == Kind::Boolean {
            "boolean"
        } else {
            "string"
        },
    ));
    w.write_event(Event::Empty(c))?;
    let mut sd = BytesStart::new("shortdesc");
    sd.push_attribute(("lang", "en"));
    w.write_event(Event::Start(sd))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new("shortdesc")))?;
    w.write_event(Event::End(BytesEnd::new("parameter")))?;
    Ok(())
}

fn write_all(w: &mut W, spec: &Meta) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", None, None)))?;
    let mut root = BytesStart::new("resource-agent");
    root.push_attribute(("name", spec.name));
    root.push_attribute(("shortdesc", spec.shortdesc));
    w.write_event(Event::Start(root))?;
    for (name, text) in [("longdesc", spec.longdesc), ("vendor-url", spec.vendor_url)] {
        w.write_event(Event::Start(BytesStart::new(name)))?;
        w.write_event(Event::Text(BytesText::new(text.trim())))?;
        w.write_event(Event::End(BytesEnd::new(name)))?;
    }
    w.write_event(Event::Start(BytesStart::new("parameters")))?;
    for p in spec.params {
        parameter(w, spec, p, p.name, false)?;
        for a in p.aliases {
            parameter(w, spec, p, a, true)?;
        }
    }
    let own = |n: &str| spec.params.iter().any(|p| p.answers_to(n));
    for (agent, f) in crate::core::legacy::accepted(spec.replaces, own) {
        replaced(w, f, &f.description(agent))?;
    }
    w.write_event(Event::End(BytesEnd::new("parameters")))?;
    w.write_event(Event::Start(BytesStart::new("actions")))?;
    for a in super::Action::ALL {
        let mut el = BytesStart::new("action");
        el.push_attribute(("name", a.name()));
        if *a == super::Action::On {
            // Unfencing on join is for storage fencing; EC2 starts nothing.
            el.push_attribute(("automatic", "0"));
        }
        w.write_event(Event::Empty(el))?;
    }
    w.write_event(Event::End(BytesEnd::new("actions")))?;
    w.write_event(Event::End(BytesEnd::new("resource-agent")))?;
    Ok(())
}
