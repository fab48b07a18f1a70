//! The agents ours replace, parameter by parameter.
//!
//! A cluster moving from ClusterLabs' shell agents (or fence_aws,
//! external/ec2) keeps its resource definitions: every parameter the old
//! agent took is accepted by ours, with the same meaning wherever one exists.
//! Each agent's registry entry lists the agents it replaces ([`Replaces`]),
//! and that one table drives parsing (a renamed parameter is read as ours, an
//! ignored one is not a typo), meta-data (so pcs accepts them without
//! `--force`), the man pages, the README's migration table and `ocf-aws
//! migrate`.

use super::params::Kind;

/// One agent ours replaces.
#[derive(Debug)]
pub struct Replaces {
    /// As the CIB names it: `ocf:heartbeat:aws-vpc-move-ip`, `stonith:fence_aws`.
    pub agent: &'static str,
    pub params: &'static [Foreign],
    /// Its defaults that ours does not share and that change what the
    /// resource does: `ocf-aws migrate` writes them out.
    pub defaults: &'static [(&'static str, &'static str)],
    /// Its boolean parameter that, when true, made its recurring monitors
    /// check AWS: `ocf-aws migrate` gives those monitors
    /// `OCF_CHECK_LEVEL=10` instead, the OCF way to ask for a deep check.
    pub deep_monitor: Option<&'static str>,
}

impl Replaces {
    /// The CIB's class, provider (empty for stonith) and type.
    pub fn parts(&self) -> (&'static str, &'static str, &'static str) {
        let mut it = self.agent.splitn(3, ':');
        match (it.next(), it.next(), it.next()) {
            (Some(c), Some(p), Some(t)) => (c, p, t),
            (Some(c), Some(t), None) => (c, "", t),
            _ => (self.agent, "", ""),
        }
    }

    /// The agent's type alone (`aws-vpc-move-ip`), as its users call it.
    pub fn short_name(&self) -> &'static str {
        self.parts().2
    }

    pub fn find(&self, name: &str) -> Option<&'static Foreign> {
        self.params.iter().find(|f| f.name == name)
    }
}

/// A parameter of a replaced agent.
#[derive(Clone, Copy, Debug)]
pub struct Foreign {
    pub name: &'static str,
    /// Its type there, for the meta-data ours shows for it.
    pub kind: Kind,
    pub fate: Fate,
}

/// What ours does with a replaced agent's parameter.
#[derive(Clone, Copy, Debug)]
pub enum Fate {
    /// Ours has a parameter of this name with the same meaning.
    Same,
    /// Ours calls it by this name; same meaning, read as ours.
    Renamed(&'static str),
    /// Accepted and used another way; says how.
    Kept(&'static str),
    /// Accepted, no effect, nothing lost; says why.
    Ignored(&'static str),
    /// Accepted, no effect, and its meaning is lost unless the value is
    /// one of `harmless`: the agent warns, `ocf-aws migrate` refuses
    /// without `--force`.
    Lost {
        harmless: &'static [&'static str],
        why: &'static str,
    },
}

impl Foreign {
    pub const fn same(name: &'static str, kind: Kind) -> Self {
        Foreign {
            name,
            kind,
            fate: Fate::Same,
        }
    }
    pub const fn renamed(name: &'static str, kind: Kind, ours: &'static str) -> Self {
        Foreign {
            name,
            kind,
            fate: Fate::Renamed(ours),
        }
    }
    pub const fn kept(name: &'static str, kind: Kind, how: &'static str) -> Self {
        Foreign {
            name,
            kind,
            fate: Fate::Kept(how),
        }
    }
    pub const fn ignored(name: &'static str, kind: Kind, why: &'static str) -> Self {
        Foreign {
            name,
            kind,
            fate: Fate::Ignored(why),
        }
    }
    pub const fn lost(
        name: &'static str,
        kind: Kind,
        harmless: &'static [&'static str],
        why: &'static str,
    ) -> Self {
        Foreign {
            name,
            kind,
            fate: Fate::Lost { harmless, why },
        }
    }

    /// Whether this parameter is one ours declares under the same name
    /// (meta-data already lists it).
    pub fn is_ours(&self) -> bool {
        matches!(self.fate, Fate::Same)
    }

    /// Whether `value` loses meaning here.
    pub fn loses(&self, value: &str) -> bool {
        match self.fate {
            Fate::Lost { harmless, .. } => !harmless
                .iter()
                .any(|h| h.eq_ignore_ascii_case(value.trim())),
            _ => false,
        }
    }

    /// One phrase: what ours does with it ("is ip", "ignored: …").
    pub fn what(&self) -> String {
        match self.fate {
            Fate::Same => "same name and meaning".into(),
            Fate::Renamed(ours) => format!("read as {ours}"),
            Fate::Kept(how) => format!("kept: {how}"),
            Fate::Ignored(why) => format!("ignored: {why}"),
            Fate::Lost { why, harmless: [] } => format!("not kept: {why}"),
            Fate::Lost { why, harmless } => {
                // An empty harmless value is "unset", which needs no word.
                let set: Vec<&str> = harmless.iter().copied().filter(|h| !h.is_empty()).collect();
                format!("not kept unless {}: {why}", set.join(" or "))
            }
        }
    }

    /// The meta-data description of the replaced parameter.
    pub fn description(&self, agent: &Replaces) -> String {
        let what = match self.fate {
            Fate::Renamed(ours) => format!("Use {ours} instead: same meaning."),
            _ => {
                let mut s = self.what();
                s[..1].make_ascii_uppercase();
                s.push('.');
                s
            }
        };
        format!(
            "Deprecated: accepted for configurations of {}. {what}",
            agent.short_name()
        )
    }
}

/// The replaced parameters an agent accepts beyond its own names, each
/// once (two replaced agents may share a name), in table order.
pub fn accepted<'a>(
    replaces: &'a [Replaces],
    own: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = (&'a Replaces, &'a Foreign)> + 'a {
    let mut seen: Vec<&str> = Vec::new();
    replaces
        .iter()
        .flat_map(|r| r.params.iter().map(move |f| (r, f)))
        .filter(move |(_, f)| {
            if f.is_ours() || own(f.name) || seen.contains(&f.name) {
                return false;
            }
            seen.push(f.name);
            true
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: Replaces = Replaces {
        agent: "ocf:heartbeat:old",
        params: &[
            Foreign::same("ip", Kind::String),
            Foreign::renamed("address", Kind::String, "ip"),
            Foreign::ignored("awscli", Kind::String, "no CLI"),
            Foreign::lost("mode", Kind::String, &["a"], "no such mode"),
        ],
        defaults: &[],
        deep_monitor: None,
    };

    #[test]
    fn parts_of_both_spellings() {
        assert_eq!(OLD.parts(), ("ocf", "heartbeat", "old"));
        let st = Replaces {
            agent: "stonith:fence_aws",
            params: &[],
            defaults: &[],
            deep_monitor: None,
        };
        assert_eq!(st.parts(), ("stonith", "", "fence_aws"));
        assert_eq!(st.short_name(), "fence_aws");
    }

    #[test]
    fn lost_only_for_harmful_values() {
        let m = OLD.find("mode").unwrap();
        assert!(!m.loses("A") && m.loses("b"));
        assert!(!OLD.find("awscli").unwrap().loses("/opt/aws"));
    }

    #[test]
    fn accepted_skips_ours_and_duplicates() {
        let both = [OLD, OLD];
        let names: Vec<_> = accepted(&both, |n| n == "awscli")
            .map(|(_, f)| f.name)
            .collect();
        assert_eq!(names, vec!["address", "mode"]);
    }

    #[test]
    fn descriptions_name_the_agent_and_the_fate() {
        let d = OLD.find("address").unwrap().description(&OLD);
        assert!(d.contains("old") && d.contains("Use ip"), "{d}");
        let d = OLD.find("awscli").unwrap().description(&OLD);
        assert!(d.contains("Ignored: no CLI."), "{d}");
    }
}
