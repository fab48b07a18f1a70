//! roff for the generated pages: escaping, headers, verbatim blocks.

use std::fmt::Write as _;

/// Text for roff: one input line per paragraph (whitespace collapsed, so a
/// description's own line breaks cannot start a roff request), backslashes
/// and hyphens escaped, a leading `.` or `'` neutralised, and characters
/// outside ASCII written as groff escapes so that the page renders the same
/// in any locale (`man` in the C locale uses the ASCII device).
pub fn esc(s: &str) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(flat.len() + 8);
    for c in flat.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            // Spaces are the only whitespace left after the collapse.
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c if c.is_control() => {}
            // Named glyphs the ASCII device has fallbacks for.
            '\u{2026}' => out.push_str("\\&..."),
            '\u{2192}' => out.push_str("\\(->"),
            '\u{2013}' => out.push_str("\\(en"),
            '\u{2014}' => out.push_str("\\(em"),
            '\u{2018}' => out.push_str("\\(oq"),
            '\u{2019}' => out.push_str("\\(cq"),
            '\u{201c}' => out.push_str("\\(lq"),
            '\u{201d}' => out.push_str("\\(rq"),
            c => {
                let _ = write!(out, "\\[u{:04X}]", c as u32);
            }
        }
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// `(unique, required, string, no default)` as resource-agents' pages say it.
pub fn param_summary(
    unique: bool,
    required: bool,
    content_type: &str,
    default: Option<&str>,
) -> String {
    let mut words = Vec::new();
    if unique {
        words.push("unique".to_string());
    }
    words.push(if required { "required" } else { "optional" }.to_string());
    words.push(content_type.to_string());
    words.push(match default {
        Some(d) => format!("default \"{d}\""),
        None => "no default".to_string(),
    });
    format!("({})", words.join(", "))
}

pub(super) fn th(out: &mut String, title: &str, section: u8, manual: &str) {
    let _ = writeln!(
        out,
        ".TH \"{}\" \"{section}\" \"\" \"ocf\\-aws {}\" \"{manual}\"",
        esc(&title.to_uppercase()),
        esc(env!("CARGO_PKG_VERSION")),
    );
    // Ragged right, no hyphenation: parameter names and ids must stay whole.
    out.push_str(".nh\n.ad l\n");
}

/// A verbatim block (shell or crm commands).
pub(super) fn example(out: &mut String, lines: &[String]) {
    out.push_str(".PP\n.RS 4\n.nf\n");
    for l in lines {
        // Leading spaces stay (no-fill mode keeps them); only escaping here.
        let indent = l.len() - l.trim_start().len();
        let _ = writeln!(out, "\\&{}{}", " ".repeat(indent), esc(l));
    }
    out.push_str(".fi\n.RE\n");
}

/// Join example lines with ` \` continuations.
pub(super) fn continued(lines: Vec<String>) -> Vec<String> {
    let n = lines.len();
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| if i + 1 < n { format!("{l} \\") } else { l })
        .collect()
}

/// The SEE ALSO section: `pages` as (name, section), then the cluster
/// shells every page points to.
pub(super) fn see_also(out: &mut String, pages: &[(String, u8)]) {
    out.push_str(".SH SEE ALSO\n");
    let shells = ["crm", "pcs", "crm_resource"].map(|c| (c.to_string(), 8));
    let refs: Vec<String> = pages
        .iter()
        .chain(shells.iter())
        .map(|(name, section)| format!("\\fB{}\\fR({section})", esc(name)))
        .collect();
    let _ = writeln!(out, "{}", refs.join(",\n"));
}
