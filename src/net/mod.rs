//! Local address handling.
//!
//! Reading uses getifaddrs(3) and /sys (no subprocess: a depth-0 monitor
//! runs every few seconds). Changing uses iproute2's `ip` with a fixed
//! argument vector, never a shell: it is the interface every Linux admin
//! knows, and what they will run to check our work.

pub mod dns;

use crate::ocf::{OcfError, OcfResult};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

/// A local network device name is at most 15 bytes (IFNAMSIZ - 1) and
/// cannot contain '/', whitespace or ':' (which would mean an alias).
pub fn valid_device_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '/' && c != ':')
}

pub fn device_exists(dev: &str) -> bool {
    valid_device_name(dev) && Path::new("/sys/class/net").join(dev).exists()
}

pub fn device_mac(dev: &str) -> Option<String> {
    if !valid_device_name(dev) {
        return None;
    }
    std::fs::read_to_string(Path::new("/sys/class/net").join(dev).join("address"))
        .ok()
        .map(|s| s.trim().to_ascii_lowercase())
}

/// The local device with this MAC address (how an ENI from IMDS maps to a
/// device name).
pub fn device_by_mac(mac: &str) -> Option<String> {
    let mac = mac.to_ascii_lowercase();
    let mut found: Vec<String> = std::fs::read_dir("/sys/class/net")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|d| device_mac(d).as_deref() == Some(mac.as_str()))
        .collect();
    // Bonds and VLANs can share a MAC with their lower device; the lowest
    // name (the physical one, by convention) is the stable choice.
    found.sort();
    found.into_iter().next()
}

/// Devices that hold `ip` as an address.
pub fn devices_with(ip: Ipv4Addr) -> OcfResult<Vec<String>> {
    let addrs = nix::ifaddrs::getifaddrs()
        .map_err(|e| OcfError::generic(format!("cannot list local addresses: {e}")))?;
    let mut devs: Vec<String> = addrs
        .filter(|a| {
            a.address
                .as_ref()
                .and_then(|s| s.as_sockaddr_in())
                .is_some_and(|s| s.ip() == ip)
        })
        .map(|a| a.interface_name)
        .collect();
    devs.sort();
    devs.dedup();
    Ok(devs)
}

/// The prefix length `ip` has on `dev`.
fn prefix_of(dev: &str, ip: Ipv4Addr) -> Option<u8> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    for a in addrs.filter(|a| a.interface_name == dev) {
        let here = a
            .address
            .as_ref()
            .and_then(|s| s.as_sockaddr_in())
            .map(|s| s.ip());
        if here == Some(ip) {
            let mask = a.netmask.as_ref().and_then(|s| s.as_sockaddr_in())?.ip();
            return Some(u32::from(mask).count_ones() as u8);
        }
    }
    None
}

pub fn has_address(dev: &str, ip: Ipv4Addr) -> OcfResult<bool> {
    Ok(devices_with(ip)?.iter().any(|d| d == dev))
}

fn ip_cmd(args: &[&str]) -> OcfResult<(bool, String)> {
    let out = Command::new("ip")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            let rc_hint = if e.kind() == std::io::ErrorKind::NotFound {
                return OcfError::installed(
                    "the 'ip' command (iproute2) is not in PATH: install iproute2",
                );
            } else {
                e.to_string()
            };
            OcfError::generic(format!("cannot run 'ip {}': {rc_hint}", args.join(" ")))
        })?;
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    Ok((out.status.success(), err))
}

/// Add `ip/32` to `dev`. Already there is success (idempotent start).
pub fn add_address(dev: &str, ip: Ipv4Addr) -> OcfResult<()> {
    add_address_prefix(dev, ip, 32)
}

/// Add `ip/prefix` to `dev` (a secondary address of the device's subnet
/// carries the subnet's prefix). Already there is success.
pub fn add_address_prefix(dev: &str, ip: Ipv4Addr, prefix: u8) -> OcfResult<()> {
    if has_address(dev, ip)? {
        return Ok(());
    }
    let cidr = format!("{ip}/{prefix}");
    let (ok, err) = ip_cmd(&["-4", "addr", "add", &cidr, "dev", dev])?;
    if ok || has_address(dev, ip)? {
        log::info!("added {cidr} to {dev}");
        Ok(())
    } else {
        Err(OcfError::generic(format!(
            "could not add {cidr} to {dev}: ip said '{err}'"
        )))
    }
}

/// Remove `ip` from `dev` (and with it the local route the kernel added
/// for it), whatever its prefix. Absent is success (idempotent stop).
pub fn remove_address(dev: &str, ip: Ipv4Addr) -> OcfResult<()> {
    if !has_address(dev, ip)? {
        return Ok(());
    }
    let prefix = prefix_of(dev, ip).unwrap_or(32);
    let cidr = format!("{ip}/{prefix}");
    let (ok, err) = ip_cmd(&["-4", "addr", "del", &cidr, "dev", dev])?;
    if ok || !has_address(dev, ip)? {
        log::info!("removed {cidr} from {dev}");
        Ok(())
    } else {
        Err(OcfError::generic(format!(
            "could not remove {cidr} from {dev}: ip said '{err}'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names() {
        assert!(valid_device_name("eth0"));
        assert!(valid_device_name("ens5"));
        assert!(!valid_device_name(""));
        assert!(!valid_device_name("../etc"));
        assert!(!valid_device_name("eth0:1"));
        assert!(!valid_device_name("a very long device name"));
        assert!(!valid_device_name("ünï"));
    }
}
