//! `ocf-aws migrate` with Pacemaker's real `cibadmin` on a saved CIB
//! (`CIB_file`): the plan changes nothing, `--apply` converts the file in
//! one replace that `crm_verify` accepts, a lost meaning is refused with
//! the file untouched, and a converted CIB has nothing left to convert.

use crate::world::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURE: &str = "tests/fixtures/cib-clusterlabs.xml";

fn migrate(cib: &Path, args: &[&str]) -> Run {
    let t = std::time::Instant::now();
    let out = Command::new(BIN)
        .arg("migrate")
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("CIB_file", cib)
        .output()
        .expect("run ocf-aws migrate");
    Run::new(out, t.elapsed())
}

fn copy(tag: &str, edit: impl Fn(String) -> String) -> (PathBuf, PathBuf) {
    let dir = tmpdir(tag);
    let f = dir.join("cib.xml");
    let xml = std::fs::read_to_string(repo().join(FIXTURE)).unwrap();
    std::fs::write(&f, edit(xml)).unwrap();
    (dir, f)
}

/// What `cibadmin --query` says the file holds now.
fn query(cib: &Path) -> String {
    let out = Command::new("cibadmin")
        .arg("--query")
        .env("CIB_file", cib)
        .output()
        .expect("cibadmin (pacemaker-cli-utils)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn epoch(xml: &str) -> u64 {
    let at = xml.find(" epoch=\"").unwrap() + 8;
    xml[at..].split('"').next().unwrap().parse().unwrap()
}

fn plan_then_apply_converts_the_saved_cib() {
    let (dir, cib) = copy("migrate", |x| x);
    let before = std::fs::read(&cib).unwrap();
    let r = migrate(&cib, &[]);
    r.expect(0);
    for needle in [
        "rsc_ip_vip (in group grp_app): ocf:heartbeat:aws-vpc-move-ip -> ocf:aws:vip",
        "address: renamed to ip",
        "awscli=/usr/local/bin/aws: removed",
        "OCF_CHECK_LEVEL=10 added",
        "rsc_fence_ec2: stonith:external/ec2 -> stonith:fence_ec2",
        "tag=Name: added",
        "Nothing changed",
    ] {
        assert!(r.stdout.contains(needle), "{needle}: {}", r.stdout);
    }
    assert!(!r.stdout.contains("rsc_app"), "{}", r.stdout);
    assert_eq!(
        std::fs::read(&cib).unwrap(),
        before,
        "the plan changed the file"
    );

    let old = query(&cib);
    migrate(&cib, &["--apply"]).expect(0);
    let new = query(&cib);
    assert!(
        epoch(&new) > epoch(&old),
        "epoch {} -> {}",
        epoch(&old),
        epoch(&new)
    );
    for needle in [
        r#"<primitive id="rsc_ip_vip" class="ocf" provider="aws" type="vip">"#,
        r#"<primitive id="rsc_eip" class="ocf" provider="aws" type="eip">"#,
        r#"<primitive id="rsc_dns" class="ocf" provider="aws" type="dns">"#,
        r#"<primitive id="rsc_secip" class="ocf" provider="aws" type="secondary-ip">"#,
        r#"<primitive id="rsc_fence_aws" class="stonith" type="fence_ec2">"#,
        r#"<primitive id="rsc_fence_ec2" class="stonith" type="fence_ec2">"#,
        r#"<nvpair name="ip" value="192.168.100.10" id="rsc_ip_vip-instance_attributes-address"/>"#,
        r#"<nvpair name="hosted_zone_id" value="Z0123456789ABCDEFGHIJ" id="rsc_dns-instance_attributes-hostedzoneid"/>"#,
        r#"name="OCF_CHECK_LEVEL" value="10""#,
        r#"name="tag" value="Name""#,
        r#"<rsc_location id="loc_app" rsc="grp_app" score="100" node="node1"/>"#,
        r#"<primitive id="rsc_app" class="ocf" provider="heartbeat" type="Dummy">"#,
    ] {
        assert!(new.contains(needle), "{needle}:\n{new}");
    }
    for gone in [
        "awscli",
        "api_delay",
        "monapi",
        "is-managed",
        "aws-vpc-move-ip",
    ] {
        assert!(!new.contains(gone), "{gone} left:\n{new}");
    }
    // The result is a valid configuration (the warnings are those of a CIB
    // without a cluster: no quorum, unclean nodes).
    let v = Command::new("crm_verify")
        .arg("-x")
        .arg(&cib)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&v.stderr);
    assert!(!said.to_lowercase().contains("error"), "crm_verify: {said}");
    // Nothing left to convert.
    let r = migrate(&cib, &["--apply"]);
    r.expect(0);
    assert!(r.stdout.contains("Nothing to convert"), "{}", r.stdout);
    assert_eq!(epoch(&query(&cib)), epoch(&new));
    std::fs::remove_dir_all(dir).unwrap();
}

fn a_lost_meaning_is_refused_and_nothing_changes() {
    let (dir, cib) = copy("migrate-lost", |x| {
        x.replace(
            r#"<nvpair name="profile" value="cluster" id="rsc_fence_ec2-instance_attributes-profile"/>"#,
            r#"<nvpair name="unknown_are_stopped" value="1" id="rsc_fence_ec2-uas"/>"#,
        )
    });
    let before = std::fs::read(&cib).unwrap();
    let r = migrate(&cib, &["--apply"]);
    assert_eq!(r.rc, 1, "{r:?}");
    for needle in [
        "rsc_fence_ec2",
        "unknown_are_stopped=1",
        "--force",
        "nothing was changed",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    assert_eq!(std::fs::read(&cib).unwrap(), before);
    migrate(&cib, &["--apply", "--force"]).expect(0);
    let new = query(&cib);
    assert!(
        !new.contains("unknown_are_stopped") && new.contains(r#"type="fence_ec2""#),
        "{new}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn the_review_commands_convert_as_apply_does() {
    // --pcs converts a copy with `CIB_file=… ocf-aws migrate --apply`;
    // --crm loads the converted groups and clones with crmsh.
    let (dir, cib) = copy("migrate-crm", |x| x);
    let r = migrate(&cib, &["--crm"]);
    r.expect(0);
    assert!(
        r.stdout.contains("crm configure load xml update - <<'EOF'"),
        "{}",
        r.stdout
    );
    let xml: String = r
        .stdout
        .split("<<'EOF'\n")
        .nth(1)
        .and_then(|s| s.split("\nEOF\n").next())
        .unwrap()
        .to_string();
    let load = dir.join("load.xml");
    std::fs::write(&load, xml).unwrap();
    // -F: the agents are not installed where the tests run, so crmsh finds
    // no meta-data to check the parameters against.
    let out = Command::new("crm")
        .args(["-F", "configure", "load", "xml", "update"])
        .arg(&load)
        .env("CIB_file", &cib)
        .output()
        .expect("crmsh");
    assert!(out.status.success(), "{out:?}");
    let new = query(&cib);
    assert!(
        new.contains(r#"<primitive id="rsc_ip_vip" class="ocf" provider="aws" type="vip">"#),
        "{new}"
    );
    assert!(
        new.contains(r#"<group id="grp_app">"#) && new.contains(r#"type="Dummy""#),
        "{new}"
    );
    assert!(new.contains(r#"name="maintenance" value="true""#), "{new}");
    assert!(new.contains(r#"name="ocf_aws_adopt""#), "{new}");
    let r = migrate(&cib, &["--pcs"]);
    r.expect(0);
    assert!(r.stdout.contains("Nothing to convert"), "{}", r.stdout);
    // The last step of the printed commands releases what the load held.
    let r = migrate(&cib, &["--finish"]);
    r.expect(0);
    assert!(
        r.stdout.contains("Released") && r.stdout.contains("rsc_dns"),
        "{}",
        r.stdout
    );
    let new = query(&cib);
    assert!(
        !new.contains("maintenance") && !new.contains("ocf_aws_adopt"),
        "{new}"
    );
    let r = migrate(&cib, &["--finish"]);
    r.expect(0);
    assert!(r.stdout.contains("Nothing is held"), "{}", r.stdout);
    // --pcs converts its copy with --apply --hold: held until --finish.
    let (dir2, copy2) = copy("migrate-hold", |x| x);
    migrate(&copy2, &["--apply", "--hold"]).expect(0);
    let held = query(&copy2);
    assert_eq!(held.matches(r#"name="ocf_aws_adopt""#).count(), 6, "{held}");
    migrate(&copy2, &["--finish"]).expect(0);
    assert!(!query(&copy2).contains("maintenance"));
    std::fs::remove_dir_all(dir2).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

tests![
    plan_then_apply_converts_the_saved_cib,
    a_lost_meaning_is_refused_and_nothing_changes,
    the_review_commands_convert_as_apply_does,
];
