//! A fence agent's parameters as the two callers give them: `key=value`
//! lines on stdin (pacemaker-fenced, fence-agents' convention) or
//! command-line options with fence-agents' spellings (humans). Both end as
//! one name → value map for the parameter table.

use crate::core::Param;
use std::collections::BTreeMap;

/// Keys fence-agents accept but this agent does not need to see.
const SILENT: &[&str] = &["nodename"];

/// The `key=value` lines of stdin: blank lines and `#` comments skipped,
/// split at the first `=`, surrounding quotes removed, `-` and `_`
/// spellings equal, `option` read as `action` (its old name) and an alias
/// of `table` as its parameter (`port` as `plug`), the last of duplicates
/// wins, whatever their spelling (as fence-agents, which maps both to one
/// option). Returns the map and one warning per line it ignored.
pub fn from_stdin(table: &[Param], text: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let mut map = BTreeMap::new();
    let mut warnings = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            warnings.push(format!("ignoring stdin line {}: not key=value", n + 1));
            continue;
        };
        let key = key.trim().replace('-', "_");
        let key = if key == "option" {
            "action".into()
        } else {
            table
                .iter()
                .find(|p| p.aliases.contains(&key.as_str()))
                .map_or(key, |p| p.name.to_string())
        };
        if SILENT.contains(&key.as_str()) {
            continue;
        }
        map.insert(key, unquote(value.trim()).to_string());
    }
    (map, warnings)
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// The long option of a parameter: `power_timeout` is `--power-timeout`.
pub fn long(name: &str) -> String {
    name.replace('_', "-")
}

/// fence-agents' `getopt mixed` text: `-n, --plug=[id]`.
pub fn getopt(p: &Param) -> String {
    let value = match p.kind {
        crate::core::Kind::Boolean => String::new(),
        _ => format!("=[{}]", p.name),
    };
    match p.short {
        Some(c) => format!("-{c}, --{}{value}", long(p.name)),
        None => format!("--{}{value}", long(p.name)),
    }
}

/// The command line for `table`, as clap parses it: every parameter a
/// long option (aliases too), its letter if it has one, booleans as flags
/// that may take `=false`.
pub fn command(agent: &'static str, table: &'static [Param]) -> clap::Command {
    use clap::{Arg, ArgAction};
    let mut cmd = clap::Command::new(agent)
        .version(env!("CARGO_PKG_VERSION"))
        .about(
            "EC2 fence agent (fence-agents protocol); parameters as options or key=value on stdin",
        )
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Print the version"),
        );
    for p in table {
        let mut arg = Arg::new(p.name)
            .long(long(p.name))
            .help(p.shortdesc.to_string());
        for a in p.aliases {
            arg = arg.alias(long(a));
        }
        if let Some(c) = p.short {
            arg = arg.short(c);
        }
        arg = match p.kind {
            crate::core::Kind::Boolean => arg
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true"),
            _ => arg.num_args(1).value_name(p.name.to_uppercase()),
        };
        cmd = cmd.arg(arg);
    }
    cmd
}

/// Parse `args` (argv[0] first) against `table`.
pub fn from_args(
    agent: &'static str,
    table: &'static [Param],
    args: &[String],
) -> Result<BTreeMap<String, String>, clap::Error> {
    let m = command(agent, table).try_get_matches_from(args)?;
    Ok(table
        .iter()
        .filter_map(|p| {
            m.get_one::<String>(p.name)
                .map(|v| (p.name.to_string(), v.clone()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_lines_as_fence_agents_read_them() {
        let (m, w) = from_stdin(
            T,
            "# a comment\n\n action = off \nplug=\"i-0123\"\npower-timeout='30'\n\
             nodename=node1\nbogus line\noption=reboot\nregion=a\nregion=b\n",
        );
        assert_eq!(m.get("action").map(String::as_str), Some("reboot"));
        assert_eq!(m.get("plug").map(String::as_str), Some("i-0123"));
        assert_eq!(m.get("power_timeout").map(String::as_str), Some("30"));
        assert_eq!(m.get("region").map(String::as_str), Some("b"));
        assert!(!m.contains_key("nodename"));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("line 7"), "{w:?}");
    }

    #[test]
    fn values_keep_inner_equals_and_quotes() {
        let (m, _) = from_stdin(T, "filter=tag:Name=db\nx='it''s'\n");
        assert_eq!(m.get("filter").map(String::as_str), Some("tag:Name=db"));
        assert_eq!(m.get("x").map(String::as_str), Some("it''s"));
    }

    const T: &[Param] = &[
        Param::string("action", "a").short('o'),
        Param::string("plug", "p").short('n').aliases(&["port"]),
        Param::boolean("skip_race_check", "s"),
        Param::seconds("power_timeout", 600, "t"),
    ];

    fn args(a: &[&str]) -> Vec<String> {
        std::iter::once("fence_x")
            .chain(a.iter().copied())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn command_line_spellings() {
        let m = from_args(
            "fence_x",
            T,
            &args(&[
                "-o",
                "off",
                "-n",
                "i-1",
                "--skip-race-check",
                "--power-timeout=9",
            ]),
        )
        .unwrap();
        assert_eq!(m["action"], "off");
        assert_eq!(m["plug"], "i-1");
        assert_eq!(m["skip_race_check"], "true");
        assert_eq!(m["power_timeout"], "9");
        let m = from_args(
            "fence_x",
            T,
            &args(&["--port", "i-2", "--skip-race-check=false"]),
        )
        .unwrap();
        assert_eq!(m["plug"], "i-2");
        assert_eq!(m["skip_race_check"], "false");
        assert!(from_args("fence_x", T, &args(&["--nope"])).is_err());
    }

    #[test]
    fn an_alias_is_its_parameter_and_the_last_spelling_wins() {
        let (m, _) = from_stdin(T, "plug=i-1\nport=i-2\n");
        assert_eq!(m.get("plug").map(String::as_str), Some("i-2"));
        assert!(!m.contains_key("port"));
        let (m, _) = from_stdin(T, "port=i-1\nplug=i-2\n");
        assert_eq!(m.get("plug").map(String::as_str), Some("i-2"));
    }

    #[test]
    fn getopt_texts() {
        assert_eq!(getopt(&T[1]), "-n, --plug=[plug]");
        assert_eq!(getopt(&T[2]), "--skip-race-check");
        assert_eq!(getopt(&T[3]), "--power-timeout=[power_timeout]");
    }
}
