//! The EC2 side of secondary-ip: which ENI holds the address, moving it to
//! this node's ENI (IPv4: one AssignPrivateIpAddresses with
//! AllowReassignment; IPv6, which has no reassignment: unassign where it
//! is, then assign), waiting until EC2 shows the move, and giving it back.

use super::{Here, SecondaryIp, MOVE_WINDOW};
use crate::aws::enis::{self, EniAddresses};
use crate::aws::Session;
use crate::core::deadline::jitter;
use crate::ocf::{OcfError, OcfResult};
use std::time::{Duration, Instant};

impl SecondaryIp {
    /// Which ENI holds the address (IPv4: of the subnet, and a refusal when
    /// it is an ENI's primary address, which never moves; IPv6: by EC2's
    /// address filter).
    pub(super) fn holder(&self, s: &Session, here: &Here) -> OcfResult<Option<EniAddresses>> {
        let ip = self.cfg.ip.to_string();
        if self.cfg.ip.is_ipv6() {
            let mut found = enis::holding_ipv6(s, &ip)?;
            // A stale read while it moves may name two: ours is the answer
            // a start wants to see, so prefer it.
            found.sort_by_key(|e| e.id != here.local.eni);
            return Ok(found.into_iter().next());
        }
        let enis = enis::in_subnet(s, &here.subnet)?;
        if let Some(owner) = enis
            .iter()
            .find(|e| e.primary.as_deref() == Some(ip.as_str()))
        {
            return Err(OcfError::configured(format!(
                "ip={ip} is the primary private address of {}{}: a primary address never \
                 moves; choose a free address of {}",
                owner.id,
                owner
                    .instance_id
                    .as_ref()
                    .map(|i| format!(" (instance {i})"))
                    .unwrap_or_default(),
                here.cidr
            )));
        }
        Ok(enis.into_iter().find(|e| e.holds(&ip)))
    }

    /// Move the address from `from` (its holder now, if any) to this node's
    /// ENI and wait until EC2 shows it there.
    pub(super) fn take(
        &self,
        s: &Session,
        here: &Here,
        from: Option<&EniAddresses>,
    ) -> OcfResult<()> {
        let ip = self.cfg.ip.to_string();
        let eni = &here.local.eni;
        if !self.cfg.ip.is_ipv6() {
            enis::assign(s, eni, &ip)?;
            return self.wait_assigned(s, here);
        }
        let mut holders: Vec<String> = from
            .filter(|h| h.id != *eni)
            .map(|h| h.id.clone())
            .into_iter()
            .collect();
        let mut pause = Duration::from_millis(100);
        loop {
            for other in &holders {
                enis::unassign_ipv6(s, other, &ip)?;
                log::info!("unassigned {ip} from {other}");
            }
            match enis::assign_ipv6(s, eni, &ip) {
                Ok(()) => break,
                // The unassign takes effect asynchronously (or a stale read
                // at start named no holder): until then EC2 refuses the
                // assign as in use. Look again, unassign, ask again.
                Err(e) if e.is_address_in_use() => {
                    if s.deadline().remaining() <= pause + Duration::from_millis(300) {
                        return Err(OcfError::generic(format!(
                            "{ip} stays assigned to another ENI ({}) although this node \
                             unassigned it there: raise the start timeout, or another node \
                             keeps taking it (split brain?)",
                            if holders.is_empty() {
                                "not found by the ipv6-address filter".to_string()
                            } else {
                                holders.join(", ")
                            }
                        )));
                    }
                    std::thread::sleep(jitter(pause / 2, pause));
                    pause = (pause * 2).min(Duration::from_secs(1));
                    holders = enis::holding_ipv6(s, &ip)?
                        .into_iter()
                        .map(|h| h.id)
                        .filter(|h| h != eni)
                        .collect();
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.wait_assigned(s, here)
    }

    /// Take the address off this node's ENI if EC2 shows it there.
    pub(super) fn release(&self, s: &Session, eni: &str) -> OcfResult<()> {
        let ip = self.cfg.ip.to_string();
        match enis::addresses(s, eni)? {
            Some(a) if a.holds(&ip) => {
                if self.cfg.ip.is_ipv6() {
                    enis::unassign_ipv6(s, eni, &ip)?;
                } else {
                    enis::unassign(s, eni, &ip)?;
                }
                log::info!("unassigned {ip} from {eni}");
            }
            _ => log::info!("{ip} is not on {eni}: nothing to unassign"),
        }
        Ok(())
    }

    /// Poll our ENI until EC2 shows the address there. The move is
    /// asynchronous and a read right after the write may be stale, so not
    /// seeing it is no verdict; only once the move should long be done does
    /// an address on another ENI mean another node took it after us.
    fn wait_assigned(&self, s: &Session, here: &Here) -> OcfResult<()> {
        let ip = self.cfg.ip.to_string();
        let eni = &here.local.eni;
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        let mut polls = 0;
        loop {
            polls += 1;
            let now = enis::addresses(s, eni)?.ok_or_else(|| {
                OcfError::args(format!(
                    "{eni} no longer exists: it was detached or deleted"
                ))
            })?;
            if now.holds(&ip) {
                log::debug!("{ip} on {eni} after {polls} poll(s)");
                return Ok(());
            }
            if started.elapsed() >= MOVE_WINDOW {
                if let Some(other) = self.holder(s, here)?.filter(|h| h.id != *eni) {
                    return Err(OcfError::generic(format!(
                        "{ip} is on {} although this node assigned it to {eni}: another node \
                         took it during this start (split brain?)",
                        other.id
                    )));
                }
            }
            if s.deadline().remaining() <= pause + Duration::from_millis(300) {
                return Err(OcfError::generic(format!(
                    "EC2 accepted moving {ip} to {eni}, but after {polls} poll(s) it is not \
                     there yet: raise the start timeout"
                )));
            }
            std::thread::sleep(jitter(pause / 2, pause));
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}
