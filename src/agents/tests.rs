//! The registry's promises, for every agent in [`ALL`]: a new agent that
//! forgets one of them fails here, not in a user's cluster.

use super::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn names_are_unique_and_findable() {
    for a in ALL {
        assert_eq!(ALL.iter().filter(|b| b.name == a.name).count(), 1);
        assert_eq!(find(a.name).map(|f| f.name), Some(a.name));
    }
}

#[test]
fn every_agent_declares_iam_actions_and_doctor_can_ask_about_each() {
    for a in ALL {
        assert!(!a.iam.is_empty(), "{}: no IAM actions declared", a.name);
        for p in a.iam {
            assert!(
                crate::aws::probes::has_probe(p.action),
                "{}: doctor has no permission probe for {} (add one to aws::probes::PROBES)",
                a.name,
                p.action
            );
        }
        assert!(!a.services.is_empty(), "{}: no AWS service named", a.name);
    }
}

#[test]
fn every_agent_has_a_man_page() {
    for a in ALL {
        let page = crate::man::agent_page(a);
        let title = crate::man::page_name(a).to_uppercase();
        let section = crate::man::section(a);
        assert!(
            page.contains(&format!(
                ".TH \"{}\" \"{section}\"",
                crate::man::esc(&title)
            )),
            "{}",
            a.name
        );
    }
}

/// xmllint against a schema file; the tests' dependencies install both.
fn xmllint(schema_flag: &str, schema: &str, xml: &str) -> Result<(), String> {
    let mut child = Command::new("xmllint")
        .args(["--noout", schema_flag, schema, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("xmllint: {e} (install libxml2-utils)"))?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_agent_has_meta_data_valid_against_both_schemas() {
    let dtd = "/usr/share/resource-agents/ra-api-1.dtd";
    let rng = "/usr/share/resource-agents/metadata.rng";
    for a in resource_agents() {
        let meta = a.ocf().expect("a resource agent");
        let xml = crate::ocf::metadata::render(&meta);
        xmllint("--dtdvalid", dtd, &xml).unwrap_or_else(|e| panic!("{}: {e}", a.name));
        xmllint("--relaxng", rng, &xml).unwrap_or_else(|e| panic!("{}: {e}", a.name));
    }
}

/// fence-agents' schema, as Debian's fence-agents package ships it.
#[test]
fn every_fence_agent_has_metadata_valid_against_fence_agents_schema() {
    let rng = "/usr/share/cluster/relaxng/metadata.rng";
    assert!(
        Path::new(rng).exists(),
        "{rng} missing (apt-get install fence-agents)"
    );
    let mut n = 0;
    for a in fence_agents() {
        n += 1;
        let xml = crate::fence::metadata::render(&a.fence().unwrap());
        xmllint("--relaxng", rng, &xml).unwrap_or_else(|e| panic!("{}: {e}", a.name));
        // pcs 0.11 refuses metadata with attributes its schema lacks.
        assert!(!xml.contains("private="), "{}: pcs would refuse it", a.name);
        for action in crate::fence::Action::ALL {
            assert!(xml.contains(&format!("<action name=\"{}\"", action.name())));
        }
    }
    assert!(n > 0, "no fence agent in the registry");
}

#[test]
fn every_agent_has_example_files_that_use_it() {
    for a in ALL {
        assert!(
            a.examples.iter().any(|f| f.ends_with(".crm"))
                && a.examples.iter().any(|f| f.ends_with(".pcs")),
            "{}: needs a crmsh and a pcs example",
            a.name
        );
        for f in a.examples {
            let path = repo().join("crm-examples").join(f);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", a.name, path.display()));
            // crmsh names the class (stonith:fence_ec2); pcs stonith create
            // takes the bare name.
            let needle = match (a.is_fence(), f.ends_with(".pcs")) {
                (true, true) => format!(" {} ", a.name),
                (true, false) => format!("stonith:{}", a.name),
                (false, _) => format!("ocf:aws:{}", a.name),
            };
            assert!(
                text.contains(&needle),
                "{} does not configure {}",
                path.display(),
                a.name
            );
        }
    }
}

#[test]
fn every_replaced_parameter_means_something_here() {
    use crate::core::legacy::Fate;
    for a in ALL {
        let ours = |n: &str| a.params.iter().any(|p| p.name == n);
        for r in a.replaces {
            let (class, _, ty) = r.parts();
            assert!(
                !class.is_empty() && !ty.is_empty(),
                "{}: {}",
                a.name,
                r.agent
            );
            for f in r.params {
                match f.fate {
                    Fate::Same => assert!(ours(f.name), "{}: {} is not declared", a.name, f.name),
                    Fate::Renamed(to) => {
                        assert!(
                            ours(to),
                            "{}: {} renamed to undeclared {to}",
                            a.name,
                            f.name
                        )
                    }
                    _ => assert!(
                        !a.params.iter().any(|p| p.answers_to(f.name)),
                        "{}: {} is ours, so it cannot be {:?}",
                        a.name,
                        f.name,
                        f.fate
                    ),
                }
                assert_eq!(
                    r.params.iter().filter(|g| g.name == f.name).count(),
                    1,
                    "{}: {} twice",
                    a.name,
                    f.name
                );
            }
            for (name, _) in r.defaults {
                assert!(ours(name), "{}: default of undeclared {name}", a.name);
            }
            if let Some(switch) = r.deep_monitor {
                assert!(
                    matches!(r.find(switch), Some(f) if f.kind == crate::core::Kind::Boolean),
                    "{}: deep_monitor {switch} is not a boolean of {}",
                    a.name,
                    r.agent
                );
            }
        }
    }
}
