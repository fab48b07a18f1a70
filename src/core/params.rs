//! Declarative instance parameters.
//!
//! Each agent declares its parameters once, in a `&[Param]` table. That one
//! declaration drives parsing, defaults (Pacemaker passes only what is set in
//! the CIB, never the meta-data defaults), validation and the meta-data XML.

use super::legacy::{Fate, Foreign, Replaces};
use super::Invalid;
use std::collections::BTreeMap;

/// Longest value accepted for any parameter: nothing legitimate comes close,
/// and it keeps exit reasons readable when a value is garbage.
pub const MAX_VALUE_LEN: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    /// A duration in whole seconds (fence-agents' `second` content type;
    /// OCF meta-data shows it as an integer).
    Seconds {
        max: i64,
    },
    /// One of a fixed set of words. Meta-data shows it as `string` (the
    /// ra-api-1.dtd that ocf-tester validates against has no `select`) and
    /// lists the choices in the long description.
    Select(&'static [&'static str]),
}

impl Kind {
    /// The OCF content type (the common subset of ra-api-1.dtd and
    /// metadata.rng: a select is a string).
    pub fn content_type(&self) -> &'static str {
        match self {
            Kind::Integer { .. } | Kind::Seconds { .. } => "integer",
            Kind::Boolean => "boolean",
            Kind::String | Kind::Select(_) => "string",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
    pub required: bool,
    pub unique: bool,
    /// A credential: never printed, marked private in meta-data.
    pub secret: bool,
    /// Older names accepted for this parameter (the name wins when both
    /// are set); meta-data lists them as deprecated.
    pub aliases: &'static [&'static str],
    /// A one-letter command-line option (fence-agents' getopt letter).
    pub short: Option<char>,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
}

impl Param {
    /// The description meta-data and the man pages show: the longdesc (or
    /// the shortdesc) plus a select's allowed values.
    pub fn description(&self) -> String {
        let mut long = if self.longdesc.is_empty() {
            self.shortdesc.to_string()
        } else {
            self.longdesc.to_string()
        };
        if let Kind::Select(opts) = self.kind {
            long.push_str(&format!(" Allowed values: {}.", opts.join(", ")));
        }
        long
    }

    /// The OCF content type meta-data declares (the common subset of
    /// ra-api-1.dtd and metadata.rng: a select is a string).
    pub fn content_type(&self) -> &'static str {
        self.kind.content_type()
    }

    pub const fn new(name: &'static str, kind: Kind, shortdesc: &'static str) -> Self {
        Param {
            name,
            kind,
            default: None,
            required: false,
            unique: false,
            secret: false,
            aliases: &[],
            short: None,
            shortdesc,
            longdesc: "",
        }
    }
    pub const fn string(name: &'static str, shortdesc: &'static str) -> Self {
        Self::new(name, Kind::String, shortdesc)
    }
    pub const fn boolean(name: &'static str, shortdesc: &'static str) -> Self {
        Self::new(name, Kind::Boolean, shortdesc)
    }
    pub const fn integer(name: &'static str, min: i64, max: i64, shortdesc: &'static str) -> Self {
        Self::new(name, Kind::Integer { min, max }, shortdesc)
    }
    pub const fn select(
        name: &'static str,
        options: &'static [&'static str],
        shortdesc: &'static str,
    ) -> Self {
        Self::new(name, Kind::Select(options), shortdesc)
    }
    pub const fn default(mut self, v: &'static str) -> Self {
        self.default = Some(v);
        self
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    pub const fn seconds(name: &'static str, max: i64, shortdesc: &'static str) -> Self {
        Self::new(name, Kind::Seconds { max }, shortdesc)
    }
    pub const fn long(mut self, longdesc: &'static str) -> Self {
        self.longdesc = longdesc;
        self
    }
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    pub const fn aliases(mut self, names: &'static [&'static str]) -> Self {
        self.aliases = names;
        self
    }
    pub const fn short(mut self, letter: char) -> Self {
        self.short = Some(letter);
        self
    }

    /// Whether `key` names this parameter, by its name or an alias.
    pub fn answers_to(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }

    fn type_hint(&self) -> String {
        match self.kind {
            Kind::String => "a text value".into(),
            Kind::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Seconds { max } => format!("a number of seconds from 0 to {max}"),
            Kind::Boolean => "true or false".into(),
            Kind::Select(opts) => format!("one of {}", opts.join(", ")),
        }
    }

    fn check(&self, raw: &str) -> Result<String, Invalid> {
        let v = raw.trim();
        let bad = |why: &str| {
            Invalid(format!(
                "parameter {}='{}' {why}: set {} to {}",
                self.name,
                if self.secret {
                    "(secret)".to_string()
                } else {
                    shorten(v)
                },
                self.name,
                self.type_hint()
            ))
        };
        if v.len() > MAX_VALUE_LEN {
            return Err(bad("is too long"));
        }
        if v.chars().any(|c| c.is_control()) {
            return Err(bad("contains control characters"));
        }
        match self.kind {
            Kind::String => Ok(v.to_string()),
            Kind::Integer { min, max } => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
                Ok(_) => Err(bad("is out of range")),
                Err(_) => Err(bad("is not a whole number")),
            },
            // fence-agents accept "5.0"; a fraction of a second is rounded up.
            Kind::Seconds { max } => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && (0.0..=max as f64).contains(&n) => {
                    Ok((n.ceil() as i64).to_string())
                }
                Ok(_) => Err(bad("is out of range")),
                Err(_) => Err(bad("is not a number of seconds")),
            },
            Kind::Boolean => match parse_bool(v) {
                Some(b) => Ok(b.to_string()),
                None => Err(bad("is not a boolean")),
            },
            Kind::Select(opts) => {
                let lower = v.to_ascii_lowercase();
                match opts.iter().find(|o| **o == lower) {
                    Some(o) => Ok(o.to_string()),
                    None => Err(bad("is not an allowed value")),
                }
            }
        }
    }
}

/// OCF booleans as resource-agents' `ocf_is_true` accepts them.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" => Some(true),
        "0" | "false" | "no" | "off" | "n" => Some(false),
        _ => None,
    }
}

/// Keep exit reasons one readable line even when a value is huge.
pub fn shorten(v: &str) -> String {
    const MAX: usize = 80;
    if v.chars().count() <= MAX {
        v.escape_debug().to_string()
    } else {
        let head: String = v.chars().take(MAX).collect();
        format!("{}… ({} chars)", head.escape_debug(), v.chars().count())
    }
}

/// Parameter values after validation, with defaults filled in.
#[derive(Clone, Debug, Default)]
pub struct Params {
    values: BTreeMap<&'static str, String>,
    explicit: Vec<&'static str>,
    /// OCF_RESKEY_* names that no parameter declares (likely typos).
    pub unknown: Vec<String>,
    /// Parameters of a replaced agent that were set, and what they became.
    pub legacy: Vec<Used>,
}

/// A parameter of a replaced agent found in the configuration.
#[derive(Clone, Debug)]
pub struct Used {
    pub agent: &'static str,
    pub foreign: &'static Foreign,
    pub value: String,
}

impl Params {
    pub fn parse(table: &[Param], reskeys: &BTreeMap<String, String>) -> Result<Params, Invalid> {
        Self::parse_replacing(table, &[], reskeys)
    }

    /// Parse, also accepting the parameters of the agents this one
    /// replaces: a renamed one is read as ours (ours wins when both are
    /// set), the others are kept in `legacy` for the agent to apply and log.
    pub fn parse_replacing(
        table: &[Param],
        replaces: &'static [Replaces],
        reskeys: &BTreeMap<String, String>,
    ) -> Result<Params, Invalid> {
        let mut p = Params::default();
        let renamed_to = |ours: &'static str| {
            replaces
                .iter()
                .flat_map(|r| r.params)
                .filter(move |f| matches!(f.fate, Fate::Renamed(n) if n == ours))
                .map(|f| f.name)
        };
        for spec in table {
            let raw = std::iter::once(spec.name)
                .chain(spec.aliases.iter().copied())
                .chain(renamed_to(spec.name))
                .find_map(|k| reskeys.get(k).filter(|v| !v.trim().is_empty()));
            match (raw, spec.default) {
                (Some(raw), _) => {
                    p.values.insert(spec.name, spec.check(raw)?);
                    p.explicit.push(spec.name);
                }
                (None, _) if spec.required => {
                    return Err(Invalid(format!(
                        "required parameter '{}' is not set: set it on the resource ({})",
                        spec.name, spec.shortdesc
                    )));
                }
                (None, Some(d)) => {
                    p.values.insert(spec.name, d.to_string());
                }
                (None, None) => {}
            }
        }
        let own = |k: &str| table.iter().any(|s| s.answers_to(k));
        for (k, v) in reskeys {
            if own(k) {
                continue;
            }
            let found = replaces
                .iter()
                .find_map(|r| r.find(k).map(|f| (r.agent, f)));
            match found {
                Some((agent, foreign)) => p.legacy.push(Used {
                    agent,
                    foreign,
                    value: v.trim().to_string(),
                }),
                None => p.unknown.push(k.clone()),
            }
        }
        Ok(p)
    }

    /// The value of a replaced agent's parameter, when set.
    pub fn legacy(&self, name: &str) -> Option<&str> {
        self.legacy
            .iter()
            .find(|u| u.foreign.name == name)
            .map(|u| u.value.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The one log line saying what became of the replaced agents'
    /// parameters (renamed ones are read as ours and need no word).
    pub fn legacy_summary(&self) -> Option<String> {
        let parts: Vec<String> = self
            .legacy
            .iter()
            .filter(|u| !matches!(u.foreign.fate, Fate::Renamed(_)))
            .map(|u| {
                let lost = if u.foreign.loses(&u.value) {
                    " (THIS VALUE'S MEANING IS LOST)"
                } else {
                    ""
                };
                format!(
                    "{}={} {}{lost}",
                    u.foreign.name,
                    shorten(&u.value),
                    u.foreign.what()
                )
            })
            .collect();
        let agent = self.legacy.first()?.agent;
        (!parts.is_empty()).then(|| format!("parameters of {agent}: {}", parts.join("; ")))
    }

    /// Whether a replaced agent's parameter is set to a value whose meaning
    /// this agent cannot keep.
    pub fn loses_meaning(&self) -> bool {
        self.legacy.iter().any(|u| u.foreign.loses(&u.value))
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.explicit.contains(&name)
    }

    /// Booleans and integers were validated by `parse`, so these cannot fail
    /// for a declared parameter; an undeclared name is a programming error
    /// caught by the unit tests of each agent, and yields the zero value.
    pub fn bool(&self, name: &str) -> bool {
        self.str(name).and_then(parse_bool).unwrap_or(false)
    }

    pub fn int(&self, name: &str) -> i64 {
        self.str(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// A comma (or space) separated list, empty entries dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.str(name)
            .map(|v| {
                v.split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Param] = &[
        Param::string("ip", "address").required(),
        Param::integer("ttl", 0, 100, "ttl").default("10"),
        Param::boolean("flag", "flag").default("false"),
        Param::select("mode", &["fail", "warn"], "mode").default("warn"),
    ];

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_fill_in_and_types_normalise() {
        let p = Params::parse(TABLE, &env(&[("ip", " 1.2.3.4 "), ("flag", "YES")])).unwrap();
        assert_eq!(p.str("ip"), Some("1.2.3.4"));
        assert_eq!(p.int("ttl"), 10);
        assert!(p.bool("flag"));
        assert_eq!(p.str("mode"), Some("warn"));
        assert!(p.is_set("ip") && !p.is_set("ttl"));
    }

    #[test]
    fn missing_required_is_rc6_naming_it() {
        let e = Params::parse(TABLE, &env(&[])).unwrap_err();
        // An Invalid is OCF_ERR_CONFIGURED at the OCF boundary.
        assert_eq!(
            crate::ocf::OcfError::from(e.clone()).rc,
            crate::ocf::Rc::Configured
        );
        assert!(e.0.contains("'ip'"), "{}", e.0);
    }

    #[test]
    fn bad_values_name_value_and_fix() {
        for (k, v, want) in [
            ("ttl", "abc", "whole number"),
            ("ttl", "101", "from 0 to 100"),
            ("flag", "maybe", "true or false"),
            ("mode", "panic", "one of fail, warn"),
        ] {
            let e = Params::parse(TABLE, &env(&[("ip", "x"), (k, v)])).unwrap_err();
            assert!(e.0.contains(v) && e.0.contains(want), "{}", e.0);
        }
    }

    #[test]
    fn unknown_names_are_reported() {
        let p = Params::parse(TABLE, &env(&[("ip", "x"), ("ttll", "3")])).unwrap();
        assert_eq!(p.unknown, vec!["ttll".to_string()]);
    }

    #[test]
    fn aliases_fill_in_and_the_name_wins() {
        const T: &[Param] = &[Param::string("plug", "plug").aliases(&["port"])];
        let p = Params::parse(T, &env(&[("port", "i-1")])).unwrap();
        assert_eq!(p.str("plug"), Some("i-1"));
        assert!(p.unknown.is_empty());
        let p = Params::parse(T, &env(&[("port", "i-1"), ("plug", "i-2")])).unwrap();
        assert_eq!(p.str("plug"), Some("i-2"));
    }

    #[test]
    fn replaced_agents_parameters_are_read_kept_or_reported() {
        use crate::core::legacy::{Foreign, Replaces};
        const T: &[Param] = &[Param::string("ip", "ip"), Param::string("mode", "m")];
        const R: &[Replaces] = &[Replaces {
            agent: "ocf:heartbeat:old",
            params: &[
                Foreign::renamed("address", Kind::String, "ip"),
                Foreign::ignored("awscli", Kind::String, "no CLI here"),
                Foreign::lost("lookup", Kind::String, &["Id"], "gone"),
            ],
            defaults: &[],
            deep_monitor: None,
        }];
        let e = env(&[
            ("address", "10.0.0.1"),
            ("awscli", "/usr/bin/aws"),
            ("lookup", "Other"),
        ]);
        let p = Params::parse_replacing(T, R, &e).unwrap();
        assert_eq!(p.str("ip"), Some("10.0.0.1"));
        assert!(p.unknown.is_empty(), "{:?}", p.unknown);
        assert_eq!(p.legacy("awscli"), Some("/usr/bin/aws"));
        assert!(p.loses_meaning());
        let line = p.legacy_summary().unwrap();
        assert!(
            line.contains("awscli=/usr/bin/aws ignored: no CLI here"),
            "{line}"
        );
        assert!(
            line.contains("MEANING IS LOST") && !line.contains("address"),
            "{line}"
        );
        // Ours wins over the replaced agent's name.
        let e = env(&[("address", "10.0.0.1"), ("ip", "10.0.0.2")]);
        let p = Params::parse_replacing(T, R, &e).unwrap();
        assert_eq!(p.str("ip"), Some("10.0.0.2"));
        // Without the table, they are unknown.
        let p = Params::parse(T, &env(&[("awscli", "x")])).unwrap();
        assert_eq!(p.unknown, vec!["awscli".to_string()]);
    }

    #[test]
    fn secrets_never_appear_in_reasons() {
        const T: &[Param] = &[Param::integer("key", 0, 9, "k").secret()];
        let e = Params::parse(T, &env(&[("key", "hunter2")])).unwrap_err();
        assert!(!e.0.contains("hunter2"), "{}", e.0);
    }

    #[test]
    fn seconds_round_up() {
        const T: &[Param] = &[Param::seconds("t", 100, "t")];
        assert_eq!(Params::parse(T, &env(&[("t", "2.5")])).unwrap().int("t"), 3);
        assert!(Params::parse(T, &env(&[("t", "-1")])).is_err());
        assert!(Params::parse(T, &env(&[("t", "soon")])).is_err());
    }

    #[test]
    fn list_splits_on_commas_and_spaces() {
        const T: &[Param] = &[Param::string("l", "list")];
        let p = Params::parse(T, &env(&[("l", "a, b,,c d")])).unwrap();
        assert_eq!(p.list("l"), vec!["a", "b", "c", "d"]);
    }
}
