//! Name resolution for the dns agent's deep monitor: what do clients get
//! for the name? Either the system resolver (getaddrinfo, as applications
//! see it) or one DNS server asked directly (`resolver=host:port`).
//! Messages are built and parsed with `simple-dns` (small, no runtime).

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, RCODE, TYPE};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::Duration;

#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The addresses of the family asked for.
    Addresses(Vec<IpAddr>),
    NxDomain,
    Failed(String),
}

/// What getaddrinfo gives for `name`, the addresses of one family (IPv6
/// with `ipv6`).
pub fn system(name: &str, ipv6: bool) -> Answer {
    match (name, 0u16).to_socket_addrs() {
        Ok(it) => {
            let mut v: Vec<IpAddr> = it
                .map(|a| a.ip())
                .filter(|ip| ip.is_ipv6() == ipv6)
                .collect();
            v.sort();
            v.dedup();
            Answer::Addresses(v)
        }
        Err(e) => Answer::Failed(e.to_string()),
    }
}

/// Ask `server` for the A records of `name` (AAAA with `ipv6`), one UDP
/// query with retries inside `timeout`.
pub fn query(server: SocketAddr, name: &str, ipv6: bool, timeout: Duration) -> Answer {
    let id = (std::process::id() & 0xffff) as u16;
    let mut q = Packet::new_query(id);
    q.set_flags(PacketFlag::RECURSION_DESIRED);
    let qname = match Name::new(name) {
        Ok(n) => n,
        Err(e) => return Answer::Failed(format!("bad name: {e}")),
    };
    q.questions.push(Question::new(
        qname,
        if ipv6 { TYPE::AAAA } else { TYPE::A }.into(),
        CLASS::IN.into(),
        false,
    ));
    let bytes = match q.build_bytes_vec() {
        Ok(b) => b,
        Err(e) => return Answer::Failed(format!("cannot build query: {e}")),
    };
    let bind = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = match UdpSocket::bind(bind) {
        Ok(s) => s,
        Err(e) => return Answer::Failed(e.to_string()),
    };
    let tries = 3u32;
    let per_try = (timeout / tries).max(Duration::from_millis(50));
    let _ = sock.set_read_timeout(Some(per_try));
    let mut buf = [0u8; 4096];
    let mut last = String::from("no answer");
    for _ in 0..tries {
        if let Err(e) = sock.send_to(&bytes, server) {
            last = e.to_string();
            continue;
        }
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            last = format!("no answer from {server} within {per_try:?}");
            continue;
        };
        if from != server {
            continue;
        }
        let Ok(p) = Packet::parse(&buf[..n]) else {
            last = "unparseable answer".into();
            continue;
        };
        if p.id() != id {
            continue;
        }
        return match p.rcode() {
            RCODE::NameError => Answer::NxDomain,
            RCODE::NoError => {
                let mut v: Vec<IpAddr> = p
                    .answers
                    .iter()
                    .filter_map(|rr| match &rr.rdata {
                        RData::A(a) if !ipv6 => Some(IpAddr::from(a.address.to_be_bytes())),
                        RData::AAAA(a) if ipv6 => Some(IpAddr::from(a.address.to_be_bytes())),
                        _ => None,
                    })
                    .collect();
                v.sort();
                v.dedup();
                Answer::Addresses(v)
            }
            other => Answer::Failed(format!("server answered {other:?}")),
        };
    }
    Answer::Failed(last)
}
