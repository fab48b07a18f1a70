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
        assert!(
            page.contains(&format!(".TH \"OCF_AWS_{}\"", a.name.to_uppercase())),
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
    for a in ALL {
        let meta = a.ocf().expect("a resource agent");
        let xml = crate::ocf::metadata::render(&meta);
        xmllint("--dtdvalid", dtd, &xml).unwrap_or_else(|e| panic!("{}: {e}", a.name));
        xmllint("--relaxng", rng, &xml).unwrap_or_else(|e| panic!("{}: {e}", a.name));
    }
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
            assert!(
                text.contains(&format!("ocf:aws:{}", a.name)),
                "{} does not configure ocf:aws:{}",
                path.display(),
                a.name
            );
        }
    }
}
