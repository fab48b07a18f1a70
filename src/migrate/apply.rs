//! Writing the converted CIB back with Pacemaker's own `cibadmin` (fixed
//! argv, no shell; `CIB_file` in the environment makes it work on a saved
//! file instead of the live cluster).
//!
//! A resource whose agent changes is restarted by Pacemaker (its history
//! names the old agent: stop with that one, start with ours), and a stop
//! of the replaced agents undoes what they did (awseip's disassociates the
//! Elastic IP). On a live cluster the switch therefore happens with each
//! converted resource held (`managed`: maintenance, so the scheduled
//! restart is not carried out and the old agent's monitor is not run with
//! the new parameters); `crm_resource --refresh` then forgets their history
//! and probes them with our agents, which find the routes, the address and
//! the record in place and report them running; once the cluster settles,
//! a second transaction releases them.

use super::cib;
use super::plan::Conversion;
use std::io::Write as _;
use std::process::{Command, Output};
use std::time::Duration;

/// Whether `cibadmin` works on a saved file rather than the cluster.
pub fn file_mode() -> bool {
    std::env::var_os("CIB_file").is_some_and(|v| !v.is_empty())
}

fn run(cmd: &str, args: &[&str]) -> Result<Output, String> {
    Command::new(cmd).args(args).output().map_err(|e| {
        format!("cannot run {cmd} ({e}): run this on a cluster node (package pacemaker-cli-utils)")
    })
}

/// What a failed command said, in one line.
fn said(o: &Output) -> String {
    let text = format!(
        "{} {}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "exit {}: {}",
        o.status.code().unwrap_or(-1),
        if line.is_empty() {
            "no message".into()
        } else {
            line
        }
    )
}

/// The whole CIB, status included (its version is what the replace is
/// checked against).
pub fn query() -> Result<String, String> {
    let o = run("cibadmin", &["--query"])?;
    if !o.status.success() {
        return Err(format!("cibadmin --query failed ({})", said(&o)));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Replaces the CIB with `xml` in one transaction. The CIB refuses a
/// replacement older than what it holds (admin_epoch, epoch, num_updates),
/// so a change made since `query` makes this fail rather than be undone.
fn replace(xml: &str) -> Result<(), String> {
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        "ocf-aws-migrate-{}-{}.xml",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    let written = (|| {
        use std::os::unix::fs::OpenOptionsExt;
        // The CIB may hold credentials (fence_aws's secret_key).
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(xml.as_bytes())
    })();
    let result = match written {
        Err(e) => Err(format!("cannot write {}: {e}", path.display())),
        Ok(()) => {
            let p = path.to_string_lossy().into_owned();
            let o = run("cibadmin", &["--replace", "--xml-file", &p])?;
            if o.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "cibadmin --replace refused the new CIB ({})",
                    said(&o)
                ))
            }
        }
    };
    let _ = std::fs::remove_file(&path);
    result
}

/// Writes the converted document; on a live cluster (`held`), completes
/// the switch: reprobe, settle, `finish`. A message for the user on failure.
pub fn apply(doc: &[cib::Node], done: &[Conversion], settle: Duration) -> Result<(), String> {
    replace(&cib::write(doc)).map_err(|e| {
        format!(
            "{e}. Nothing was changed: the CIB probably changed since it was read; run \
             ocf-aws migrate --apply again"
        )
    })?;
    let held = done.iter().any(|c| c.held);
    if file_mode() {
        println!(
            "Converted {} resource(s) in the CIB file{}.",
            done.len(),
            if held {
                ", held for the switch: push it, refresh them, then run ocf-aws migrate --finish"
            } else {
                ""
            }
        );
        return Ok(());
    }
    if !held {
        println!("Converted {} resource(s).", done.len());
        return Ok(());
    }
    println!(
        "Converted {} resource(s), held in maintenance for the switch; probing them with the \
         new agents.",
        done.len()
    );
    let mut trouble = Vec::new();
    // A group or clone is refreshed whole (Pacemaker refreshes a member's
    // group with it): once each.
    let mut tops: Vec<&str> = done.iter().map(|c| c.top.as_str()).collect();
    tops.dedup();
    for top in tops {
        let o = run("crm_resource", &["--refresh", "--resource", top])?;
        if !o.status.success() {
            trouble.push(format!(
                "crm_resource --refresh --resource {top} ({})",
                said(&o)
            ));
        }
    }
    let secs = format!("{}s", settle.as_secs().max(1));
    let o = run("crm_resource", &["--wait", "--timeout", &secs])?;
    if !o.status.success() {
        trouble.push(format!(
            "crm_resource --wait --timeout {secs} ({})",
            said(&o)
        ));
    }
    let released = finish()?;
    println!(
        "Released {}: maintenance as it was before.",
        released.join(", ")
    );
    if trouble.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "converted, but: {}; check crm_mon and clean up with crm_resource --refresh",
            trouble.join("; ")
        ))
    }
}

/// The second transaction (`managed::finish`) on the CIB as it is now.
/// Status updates may race it (each bumps num_updates), so it is retried
/// on a fresh read. The ids of the resources released.
pub fn finish() -> Result<Vec<String>, String> {
    let mut last = String::new();
    for attempt in 0..5 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(500));
        }
        let xml = query()?;
        let mut doc = cib::parse(&xml)?;
        let released = super::managed::finish(&mut doc);
        if released.is_empty() {
            return Ok(released);
        }
        match replace(&cib::write(&doc)) {
            Ok(()) => return Ok(released),
            Err(e) => last = e,
        }
    }
    Err(format!(
        "the resources are converted but still held in maintenance ({last}): run ocf-aws \
         migrate --finish"
    ))
}
