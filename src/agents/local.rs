//! This node's network identity as the agents need it: which local device,
//! its MAC, the ENI behind it, its VPC. Parameters win; what they leave
//! open comes from the instance metadata.

use crate::aws::imds::{Imds, Instance};
use crate::net;
use crate::ocf::{OcfError, OcfResult};

#[derive(Clone, Debug)]
pub struct Local {
    pub device: String,
    pub mac: String,
    pub eni: String,
    pub vpc: Option<String>,
}

/// Static check of an `interface` parameter (a device name, not a path).
pub fn check_interface(value: Option<&str>) -> OcfResult<()> {
    match value {
        Some(d) if !net::valid_device_name(d) => Err(OcfError::configured(format!(
            "interface='{}' is not a network device name: set it like eth0 or ens5",
            crate::core::params::shorten(d)
        ))),
        _ => Ok(()),
    }
}

pub fn resolve(imds: &Imds, interface: Option<&str>, eni_id: Option<&str>) -> OcfResult<Local> {
    let inst = Instance::new(imds);
    let device = match interface {
        Some(d) => {
            if !net::device_exists(d) {
                return Err(OcfError::args(format!(
                    "interface={d} does not exist on this node: set interface to a local \
                     device (see 'ip link')"
                )));
            }
            d.to_string()
        }
        None => {
            let mac = match eni_id {
                // An explicit ENI: find its MAC among this instance's interfaces.
                Some(eni) => mac_of_eni(&inst, eni)?,
                None => inst.primary_mac()?,
            };
            net::device_by_mac(&mac).ok_or_else(|| {
                OcfError::args(format!(
                    "no local device has the MAC address {mac} of {}: set interface",
                    eni_id
                        .map(|e| format!("ENI {e}"))
                        .unwrap_or_else(|| "this instance's primary ENI".into())
                ))
            })?
        }
    };
    let mac = net::device_mac(&device).unwrap_or_default();
    let eni = match eni_id {
        Some(e) => e.to_string(),
        None => inst.eni_of_mac(&mac)?.ok_or_else(|| {
            OcfError::args(format!(
                "device {device} (MAC {mac}) is not an ENI of this instance: set \
                 interface to a device backed by an ENI, or set eni_id"
            ))
        })?,
    };
    let vpc = if mac.is_empty() {
        None
    } else {
        inst.vpc_of_mac(&mac)?
    };
    Ok(Local {
        device,
        mac,
        eni,
        vpc,
    })
}

/// The CIDR blocks of the VPC of `local` of one family (not cached: a VPC
/// gains and loses blocks while its instances run).
pub fn vpc_cidrs(imds: &Imds, local: &Local, ipv6: bool) -> OcfResult<Vec<String>> {
    if local.mac.is_empty() {
        return Ok(Vec::new());
    }
    let inst = Instance::new(imds);
    Ok(if ipv6 {
        inst.vpc_ipv6_cidrs_of_mac(&local.mac)?
    } else {
        inst.vpc_cidrs_of_mac(&local.mac)?
    })
}

fn mac_of_eni(inst: &Instance, eni: &str) -> OcfResult<String> {
    for mac in inst.macs()? {
        if inst.eni_of_mac(&mac)?.as_deref() == Some(eni) {
            return Ok(mac);
        }
    }
    Err(OcfError::args(format!(
        "eni_id={eni} is not attached to this instance: set eni_id to one of this \
         node's ENIs, or leave it unset"
    )))
}

/// The device of the primary ENI, best effort (probes and stop use it to
/// decide where to look; `None` makes them look at every device).
pub fn primary_device(imds: &Imds) -> Option<String> {
    match Instance::new(imds).primary_mac() {
        Ok(mac) => net::device_by_mac(&mac),
        Err(e) => {
            log::debug!("cannot look up the primary device: {e}");
            None
        }
    }
}
