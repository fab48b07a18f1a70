//! Local address handling.
//!
//! Reading uses getifaddrs(3) and /sys (no subprocess: a depth-0 monitor
//! runs every few seconds). Changing uses iproute2's `ip` with a fixed
//! argument vector, never a shell: it is the interface every Linux admin
//! knows, and what they will run to check our work.

pub mod dns;

use crate::ocf::{OcfError, OcfResult};
use std::net::IpAddr;
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
pub fn devices_with(ip: impl Into<IpAddr>) -> OcfResult<Vec<String>> {
    let ip = ip.into();
    let addrs = nix::ifaddrs::getifaddrs()
        .map_err(|e| OcfError::generic(format!("cannot list local addresses: {e}")))?;
    let mut devs: Vec<String> = addrs
        .filter(|a| a.address.as_ref().and_then(ip_of) == Some(ip))
        .map(|a| device_of(&a.interface_name).to_string())
        .collect();
    devs.sort();
    devs.dedup();
    Ok(devs)
}

fn ip_of(s: &nix::sys::socket::SockaddrStorage) -> Option<IpAddr> {
    s.as_sockaddr_in()
        .map(|a| IpAddr::V4(a.ip()))
        .or_else(|| s.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip())))
}

/// The prefix length `ip` has on `dev`.
/// getifaddrs names a labelled IPv4 address by its label (`eth0:vip`);
/// a device name cannot contain ':', so the device is what precedes it.
fn device_of(name: &str) -> &str {
    name.split(':').next().unwrap_or(name)
}

fn prefix_of(dev: &str, ip: IpAddr) -> Option<u8> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    for a in addrs.filter(|a| device_of(&a.interface_name) == dev) {
        if a.address.as_ref().and_then(ip_of) == Some(ip) {
            let ones = match a.netmask.as_ref().and_then(ip_of)? {
                IpAddr::V4(m) => u32::from(m).count_ones(),
                IpAddr::V6(m) => u128::from(m).count_ones(),
            };
            return Some(ones as u8);
        }
    }
    None
}

/// Whether a CIDR block (IPv4 or IPv6) contains `ip`, and its prefix
/// length; `None` when the block does not parse or is of the other family.
pub fn cidr_contains(cidr: &str, ip: IpAddr) -> Option<(bool, u8)> {
    let (net, len) = cidr.trim().split_once('/')?;
    let net: IpAddr = net.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    let (net, ip, bits) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        _ => return None,
    };
    if len > bits {
        return None;
    }
    let shift = bits - len;
    let same = shift >= 128 || (net >> shift) == (ip >> shift);
    Some((same, len as u8))
}

/// Whether `ip` can be an address of a node's ENI or a route's destination:
/// unicast, not loopback, not link-local (IPv6 fe80::/10 included), no
/// IPv4-mapped IPv6.
pub fn unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            !(v.is_unspecified()
                || v.is_loopback()
                || v.is_multicast()
                || v.is_broadcast()
                || v.is_link_local())
        }
        IpAddr::V6(v) => {
            !(v.is_unspecified()
                || v.is_loopback()
                || v.is_multicast()
                || (v.segments()[0] & 0xffc0) == 0xfe80
                || v.to_ipv4_mapped().is_some())
        }
    }
}

/// The host prefix of `ip`'s family: 32 or 128.
pub fn host_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

pub fn has_address(dev: &str, ip: impl Into<IpAddr>) -> OcfResult<bool> {
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

/// Add `ip/32` (IPv6: `ip/128`) to `dev`. Already there is success
/// (idempotent start).
pub fn add_address(dev: &str, ip: impl Into<IpAddr>) -> OcfResult<()> {
    add_address_labelled(dev, ip, None)
}

/// `add_address` with an address label (`eth0:vip`, IPv4 only).
pub fn add_address_labelled(
    dev: &str,
    ip: impl Into<IpAddr>,
    label: Option<&str>,
) -> OcfResult<()> {
    let ip = ip.into();
    add_address_with(dev, ip, host_prefix(ip), label)
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "-4"
    } else {
        "-6"
    }
}

/// Add `ip/prefix` to `dev` (a secondary address of the device's subnet
/// carries the subnet's prefix). Already there is success. An IPv6 address
/// skips duplicate address detection (`nodad`): it moved here from another
/// node, and a tentative address would not answer for a second or more.
pub fn add_address_prefix(dev: &str, ip: impl Into<IpAddr>, prefix: u8) -> OcfResult<()> {
    add_address_with(dev, ip.into(), prefix, None)
}

fn add_address_with(dev: &str, ip: IpAddr, prefix: u8, label: Option<&str>) -> OcfResult<()> {
    if has_address(dev, ip)? {
        return Ok(());
    }
    let cidr = format!("{ip}/{prefix}");
    let mut argv = vec![family(ip), "addr", "add", &cidr, "dev", dev];
    if ip.is_ipv6() {
        argv.push("nodad");
    }
    if let Some(l) = label {
        argv.extend(["label", l]);
    }
    let (ok, err) = ip_cmd(&argv)?;
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
pub fn remove_address(dev: &str, ip: impl Into<IpAddr>) -> OcfResult<()> {
    let ip = ip.into();
    if !has_address(dev, ip)? {
        return Ok(());
    }
    let prefix = prefix_of(dev, ip).unwrap_or(host_prefix(ip));
    let cidr = format!("{ip}/{prefix}");
    let (ok, err) = ip_cmd(&[family(ip), "addr", "del", &cidr, "dev", dev])?;
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

    #[test]
    fn unicast_addresses() {
        let ok = |s: &str| unicast(s.parse().unwrap());
        assert!(ok("192.168.100.10") && ok("fd00:ac1::10") && ok("2600:1f18::1"));
        for bad in [
            "0.0.0.0",
            "127.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "169.254.1.1",
        ] {
            assert!(!ok(bad), "{bad}");
        }
        for bad in [
            "::",
            "::1",
            "ff02::1",
            "fe80::1",
            "febf::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!ok(bad), "{bad}");
        }
    }

    #[test]
    fn cidr_containment_both_families() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            cidr_contains("10.0.0.0/16", ip("10.0.5.1")),
            Some((true, 16))
        );
        assert_eq!(
            cidr_contains("10.0.0.0/16", ip("10.1.0.10")),
            Some((false, 16))
        );
        assert_eq!(cidr_contains("0.0.0.0/0", ip("1.2.3.4")), Some((true, 0)));
        assert_eq!(
            cidr_contains("10.1.0.10/32", ip("10.1.0.10")),
            Some((true, 32))
        );
        assert_eq!(cidr_contains("10.0.0.0/33", ip("10.0.0.1")), None);
        assert_eq!(cidr_contains("garbage", ip("10.0.0.1")), None);
        let v6 = "2400:6500:1:c500::/56";
        assert_eq!(
            cidr_contains(v6, ip("2400:6500:1:c501::10")),
            Some((true, 56))
        );
        assert_eq!(
            cidr_contains(v6, ip("2400:6500:1:c600::10")),
            Some((false, 56))
        );
        assert_eq!(cidr_contains("::/0", ip("fd00::1")), Some((true, 0)));
        assert_eq!(
            cidr_contains("fd00::1/128", ip("fd00::1")),
            Some((true, 128))
        );
        assert_eq!(cidr_contains("fd00::/129", ip("fd00::1")), None);
        assert_eq!(cidr_contains(v6, ip("10.0.0.1")), None);
        assert_eq!(cidr_contains("10.0.0.0/8", ip("fd00::1")), None);
    }
}
