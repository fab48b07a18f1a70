//! The CIB as a tree that writes back what it read: every element keeps
//! its source text (attributes, quoting, whitespace, comments) until
//! `migrate` changes it, so the resources it does not convert come out
//! byte for byte as they went in.

use quick_xml::escape::{escape, unescape};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Element(Element),
    /// Anything else, exactly as in the source (text with its entities,
    /// comments, the declaration).
    Raw(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub name: String,
    /// Unescaped values, in source order.
    attrs: Vec<(String, String)>,
    /// The source text inside `<` `>` (without a closing `/`); None once
    /// an attribute changed.
    source: Option<String>,
    pub children: Vec<Node>,
}

fn utf8(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn start(e: &BytesStart) -> Result<Element, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("unreadable attribute: {e}"))?;
        let raw = utf8(&a.value);
        let value = unescape(&raw)
            .map_err(|e| format!("unreadable attribute value '{raw}': {e}"))?
            .into_owned();
        attrs.push((utf8(a.key.as_ref()), value));
    }
    Ok(Element {
        name: utf8(e.name().as_ref()),
        attrs,
        source: Some(utf8(e)),
        children: Vec::new(),
    })
}

/// The document's top-level nodes (declaration, comments, the root).
pub fn parse(xml: &str) -> Result<Vec<Node>, String> {
    let mut r = Reader::from_str(xml);
    // The stack of open elements; the document is the bottom entry.
    let mut stack: Vec<Element> = vec![Element::new("")];
    loop {
        let ev = r
            .read_event()
            .map_err(|e| format!("unreadable CIB XML at byte {}: {e}", r.error_position()))?;
        let raw = match ev {
            Event::Start(e) => {
                stack.push(start(&e)?);
                continue;
            }
            Event::Empty(e) => {
                let el = start(&e)?;
                top(&mut stack).children.push(Node::Element(el));
                continue;
            }
            Event::End(e) => {
                let name = utf8(e.name().as_ref());
                if stack.len() < 2 || top(&mut stack).name != name {
                    return Err(format!("unbalanced CIB XML: </{name}>"));
                }
                let el = stack.pop().expect("checked above");
                top(&mut stack).children.push(Node::Element(el));
                continue;
            }
            Event::Text(t) => utf8(&t),
            Event::GeneralRef(t) => format!("&{};", utf8(&t)),
            Event::CData(t) => format!("<![CDATA[{}]]>", utf8(&t)),
            Event::Comment(t) => format!("<!--{}-->", utf8(&t)),
            Event::Decl(t) => format!("<?{}?>", utf8(&t)),
            Event::PI(t) => format!("<?{}?>", utf8(&t)),
            Event::DocType(t) => format!("<!DOCTYPE {}>", utf8(&t)),
            Event::Eof => break,
        };
        let children = &mut top(&mut stack).children;
        // Adjacent text and entity references are one text node.
        if let Some(Node::Raw(prev)) = children.last_mut() {
            if !prev.starts_with('<') && !raw.starts_with('<') {
                prev.push_str(&raw);
                continue;
            }
        }
        children.push(Node::Raw(raw));
    }
    if stack.len() != 1 {
        return Err(format!(
            "unbalanced CIB XML: <{}> is not closed",
            top(&mut stack).name
        ));
    }
    Ok(stack.pop().expect("the document").children)
}

fn top(stack: &mut [Element]) -> &mut Element {
    stack.last_mut().expect("the document is never popped")
}

pub fn write(nodes: &[Node]) -> String {
    let mut out = String::new();
    for n in nodes {
        n.write(&mut out);
    }
    out
}

/// The root element of a document.
pub fn root(doc: &mut [Node]) -> Option<&mut Element> {
    doc.iter_mut().find_map(|n| match n {
        Node::Element(e) => Some(e),
        Node::Raw(_) => None,
    })
}

impl Node {
    fn write(&self, out: &mut String) {
        match self {
            Node::Raw(s) => out.push_str(s),
            Node::Element(e) => e.write(out),
        }
    }
}

impl Element {
    pub fn new(name: &str) -> Element {
        Element {
            name: name.to_string(),
            attrs: Vec::new(),
            source: None,
            children: Vec::new(),
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> Element {
        self.set(name, value);
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn attr_names(&self) -> impl Iterator<Item = &str> {
        self.attrs.iter().map(|(k, _)| k.as_str())
    }

    pub fn attr(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    pub fn set(&mut self, name: &str, value: &str) {
        if self.get(name) == Some(value) {
            return;
        }
        self.source = None;
        match self.attrs.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value.to_string(),
            None => self.attrs.push((name.to_string(), value.to_string())),
        }
    }

    pub fn remove_attr(&mut self, name: &str) {
        if self.get(name).is_some() {
            self.source = None;
            self.attrs.retain(|(k, _)| k != name);
        }
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Raw(_) => None,
        })
    }

    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Raw(_) => None,
        })
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.elements_mut().find(|e| e.name == name)
    }

    /// Removes the child elements `drop` says so of, with the whitespace
    /// that indented each.
    pub fn remove_where(&mut self, drop: impl Fn(&Element) -> bool) {
        let mut kept: Vec<Node> = Vec::with_capacity(self.children.len());
        for n in std::mem::take(&mut self.children) {
            if matches!(&n, Node::Element(e) if drop(e)) {
                if matches!(kept.last(), Some(Node::Raw(s)) if s.trim().is_empty()) {
                    kept.pop();
                }
                continue;
            }
            kept.push(n);
        }
        self.children = kept;
    }

    /// Appends a child element, indented like its siblings.
    pub fn append(&mut self, el: Element) {
        let indent = self
            .children
            .windows(2)
            .find_map(|w| match w {
                [Node::Raw(s), Node::Element(_)] if s.trim().is_empty() => Some(s.clone()),
                _ => None,
            })
            .or_else(|| {
                // The first child: one step deeper than the closing tag.
                match self.children.last() {
                    Some(Node::Raw(s)) if s.trim().is_empty() => Some(format!("{s}  ")),
                    _ => None,
                }
            });
        let closing = match self.children.last() {
            Some(Node::Raw(s)) if s.trim().is_empty() => self.children.pop(),
            _ => None,
        };
        if let Some(i) = indent {
            self.children.push(Node::Raw(i));
        }
        self.children.push(Node::Element(el));
        if let Some(c) = closing {
            self.children.push(c);
        }
    }

    /// Every element below this one, depth first, with its path of names.
    pub fn walk(&self, f: &mut impl FnMut(&Element)) {
        f(self);
        for c in self.elements() {
            c.walk(f);
        }
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        match &self.source {
            Some(s) => out.push_str(s),
            None => {
                out.push_str(&self.name);
                for (k, v) in &self.attrs {
                    out.push_str(&format!(" {k}=\"{}\"", escape(v.as_str())));
                }
            }
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            c.write(out);
        }
        out.push_str(&format!("</{}>", self.name));
    }

    /// This element alone as XML (for `--crm`).
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// Every id in the document (for new ids that must not collide).
pub fn ids(doc: &[Node]) -> std::collections::BTreeSet<String> {
    let mut all = std::collections::BTreeSet::new();
    for n in doc {
        if let Node::Element(e) = n {
            e.walk(&mut |e| {
                if let Some(id) = e.get("id") {
                    all.insert(id.to_string());
                }
            });
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "<?xml version=\"1.0\"?>\n<!-- c -->\n<cib a='1' b=\"x &amp; y\">\n  \
                       <x id=\"1\"/>\n  <y>t &lt; u<![CDATA[<z>]]></y>\n</cib>\n";

    #[test]
    fn writes_back_what_it_read() {
        let doc = parse(DOC).unwrap();
        assert_eq!(write(&doc), DOC);
    }

    #[test]
    fn changed_elements_are_written_escaped_and_indented() {
        let mut doc = parse(DOC).unwrap();
        let cib = root(&mut doc).unwrap();
        assert_eq!(cib.get("b"), Some("x & y"));
        cib.set("b", "<q>");
        cib.append(Element::new("w").with("id", "2"));
        cib.remove_where(|e| e.name == "x");
        let out = write(&doc);
        assert!(
            out.contains("<cib a=\"1\" b=\"&lt;q&gt;\">\n  <y>"),
            "{out}"
        );
        assert!(out.contains("</y>\n  <w id=\"2\"/>\n</cib>"), "{out}");
        assert_eq!(ids(&doc).into_iter().collect::<Vec<_>>(), vec!["2"]);
    }

    #[test]
    fn refuses_unbalanced_documents() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
    }
}
