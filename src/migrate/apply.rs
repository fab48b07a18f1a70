//! Writing the converted CIB back with Pacemaker's own `cibadmin` (fixed
//! argv, no shell; `CIB_file` in the environment makes it work on a saved
//! file instead of the live cluster).
//!
//! A resource whose agent changes is restarted by Pacemaker (its history
//! names the old agent: stop with that one, start with ours), and a stop
//! of the replaced agents undoes what they did (awseip's disassociates the
//! Elastic IP). On a live cluster the switch therefore happens with each
//! converted resource unmanaged: the first transaction converts them and
//! sets `is-managed=false`, so the scheduled restart is not carried out;
//! `crm_resource --refresh` then forgets their history and probes them
//! with our agents, which find the routes, the address and the record in
//! place and report them running; once the cluster settles, a second
//! transaction gives them back their previous `is-managed`.

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

/// Writes the converted document; on a live cluster, completes the switch
/// (refresh, settle, is-managed back). A message for the user on failure.
pub fn apply(doc: &[cib::Node], done: &[Conversion], settle: Duration) -> Result<(), String> {
    replace(&cib::write(doc)).map_err(|e| {
        format!(
            "{e}. Nothing was changed: the CIB probably changed since it was read; run \
             ocf-aws migrate --apply again"
        )
    })?;
    if file_mode() {
        println!("Converted {} resource(s) in the CIB file.", done.len());
        return Ok(());
    }
    println!(
        "Converted {} resource(s), unmanaged for the switch; probing them with the new agents.",
        done.len()
    );
    let mut trouble = Vec::new();
    for c in done {
        let o = run("crm_resource", &["--refresh", "--resource", &c.id])?;
        if !o.status.success() {
            trouble.push(format!(
                "crm_resource --refresh --resource {} ({})",
                c.id,
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
    restore(done)?;
    println!("Each converted resource has its previous is-managed again.");
    if trouble.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "converted, but: {}; check crm_mon and clean up with crm_resource --refresh",
            trouble.join("; ")
        ))
    }
}

/// The second transaction: is-managed as it was. Status updates may race
/// it (each bumps num_updates), so it is retried on a fresh read.
fn restore(done: &[Conversion]) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..5 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(500));
        }
        let xml = query()?;
        let mut doc = cib::parse(&xml)?;
        super::managed::restore(&mut doc, done);
        match replace(&cib::write(&doc)) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    let ids: Vec<&str> = done.iter().map(|c| c.id.as_str()).collect();
    Err(format!(
        "the resources are converted but still unmanaged ({last}): run crm_resource --meta \
         --resource ID --delete-parameter is-managed for each of {} (or set it back to what it was)",
        ids.join(", ")
    ))
}
