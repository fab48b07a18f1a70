//! Credentials never reach the agents' output or syslog, whatever fails.

use super::started;
use crate::agents::all;
use crate::world::*;

fn secrets_never_leak() {
    const KEY: &str = "AKIAOCFAWSLEAKTEST01";
    const SECRET: &str = "s3cr3tOCFAWSleakTEST0123456789abcdefghij";
    const TOKEN: &str = "SESSIONTOKENocfawsLEAKtest0123456789";
    let env = [
        ("AWS_ACCESS_KEY_ID", KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", TOKEN),
        ("HA_debug", "1"),
        ("HA_LOGFACILITY", "daemon"),
        ("RUST_BACKTRACE", "full"),
        ("OCF_RESKEY_CRM_meta_timeout", "4000"),
    ];
    let syslog = capture_syslog();
    let mut seen = String::new();
    for k in all() {
        let r = started(k);
        for rule in [
            "",
            "action=*&fault=deny",
            "action=*&fault=status&code=500",
            "action=*&fault=reset",
            "action=*&fault=hang",
        ] {
            r.proxy().ctl("reset");
            if !rule.is_empty() {
                r.proxy().ctl(&format!("rule?{rule}"));
            }
            for (node, action) in [("node2", "start"), ("node1", "monitor"), ("node1", "stop")] {
                let run = r.run_env(node, action, &[], &env);
                seen.push_str(&run.stdout);
                seen.push_str(&run.stderr);
            }
        }
    }
    let mut buf = [0u8; 65536];
    let mut syslog_lines = 0;
    while let Ok(n) = syslog.recv(&mut buf) {
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        seen.push('\n');
        syslog_lines += 1;
    }
    assert!(syslog_lines > 0, "the agents logged to syslog");
    assert!(seen.contains("DEBUG"), "debug logging was on");
    for s in [
        KEY,
        SECRET,
        TOKEN,
        "Signature=",
        "X-Amz-Security-Token",
        "x-amz-security-token",
    ] {
        assert!(!seen.contains(s), "{s} appeared in agent output");
    }
    assert!(!seen.contains("stack backtrace"), "no stack traces");
}

/// Receive what the agents send to syslog: a datagram socket standing in for
/// /dev/log (bind-mounted over it, or at /var/run/syslog on a tmpfs /run when
/// there is no /dev/log), in this test process's private mount namespace.
fn capture_syslog() -> std::os::unix::net::UnixDatagram {
    let dir = tmpdir("syslog");
    let path = dir.join("log");
    let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    sock.set_nonblocking(true).unwrap();
    let src = path.to_str().unwrap();
    if std::path::Path::new("/dev/log").exists() {
        mount(src, "/dev/log", None, libc::MS_BIND);
    } else {
        mount("tmpfs", "/run", Some("tmpfs"), 0);
        std::fs::write("/run/syslog", b"").unwrap();
        mount(src, "/run/syslog", None, libc::MS_BIND);
    }
    sock
}

tests![secrets_never_leak,];
