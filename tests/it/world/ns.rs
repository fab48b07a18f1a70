//! The test process's private namespaces, and mounts inside them.

use std::ffi::CString;
use std::process::Command;

pub(super) fn run_ok(cmd: &str, args: &[&str]) {
    let st = Command::new(cmd)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(st.success(), "{cmd} {args:?} failed");
}

/// Private network + mount namespace for the whole test process. Needs
/// root (CI runs as root); fails loudly otherwise.
pub fn isolate() {
    // SAFETY: a plain syscall with constant arguments, made before any
    // other thread exists.
    if unsafe { libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWNS) } != 0 {
        panic!(
            "unshare(CLONE_NEWNET|CLONE_NEWNS) failed ({}): these tests need root to \
             create their own network namespace",
            std::io::Error::last_os_error()
        );
    }
    mount("none", "/", None, libc::MS_REC | libc::MS_PRIVATE);
    // /sys/class/net shows the devices of the namespace that mounted
    // sysfs: remount it so the agents see this namespace's devices.
    mount("sysfs", "/sys", Some("sysfs"), 0);
    run_ok("ip", &["link", "set", "lo", "up"]);
}

/// mount(2) in this process's private mount namespace (see `isolate`);
/// panics naming what failed.
pub fn mount(source: &str, target: &str, fstype: Option<&str>, flags: libc::c_ulong) {
    let c = |s: &str| CString::new(s).unwrap();
    let (src, dst) = (c(source), c(target));
    let fs = fstype.map(c);
    // SAFETY: mount(2) with valid C strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            dst.as_ptr(),
            fs.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
            flags,
            std::ptr::null(),
        )
    };
    assert_eq!(
        rc,
        0,
        "mount {source} on {target}: {}",
        std::io::Error::last_os_error()
    );
}

/// umount(2), best effort.
pub fn umount(target: &str) {
    let t = CString::new(target).unwrap();
    // SAFETY: umount(2) with a valid C string.
    unsafe { libc::umount(t.as_ptr()) };
}
