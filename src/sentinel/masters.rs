//! The table of monitored masters: `SENTINEL MONITOR` and `SENTINEL
//! REMOVE` (sentinel.c sentinelCommand()). Both check their arguments as
//! Redis does, in Redis's order; MONITOR adds a master at the address of a
//! simulated process, REMOVE drops a master with everything attached to it.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::proto::resp::Frame;
use crate::proto::util::string2ll;
use crate::trace::Level;
use crate::trace::names;

use super::commands::no_such_master;
use super::pass::Pass;
use super::{MasterConf, SentinelNode};

/// The reply to a MONITOR of an address no simulated process listens on:
/// redsim has no instance to connect to there.
fn not_modelled(sub: &str) -> Frame {
    Frame::Error(format!(
        "ERR redsim does not model 'sentinel|{sub}' in this form yet"
    ))
}

impl SentinelNode {
    /// `SENTINEL MONITOR <name> <ip> <port> <quorum>`: the quorum and the
    /// port must be integers (quorum first), the quorum at least 1, the
    /// address an IP (anetResolve() with ANET_IP_ONLY, or a name that
    /// resolves: redsim resolves none), then createSentinelRedisInstance()
    /// checks the port's range and that the name is new. The new master
    /// has sentinel.conf's defaults for everything but the quorum;
    /// sentinel.conf is flushed, `+monitor` logged and `OK` returned.
    pub(super) fn monitor(&mut self, ctx: &mut Pass<'_, '_>, argv: &[String]) -> Frame {
        let Some(quorum) = string2ll(&argv[5]) else {
            return Frame::Error("ERR Invalid quorum".into());
        };
        let Some(port) = string2ll(&argv[4]) else {
            return Frame::Error("ERR Invalid port".into());
        };
        if quorum <= 0 {
            return Frame::Error("ERR Quorum must be 1 or greater.".into());
        }
        if !is_numeric_host(&argv[3]) {
            return Frame::Error("ERR Invalid IP address or hostname specified".into());
        }
        if !(0..=65535).contains(&port) {
            return Frame::Error("ERR Invalid port number.".into());
        }
        if self.master_named(&argv[2]).is_some() {
            return Frame::Error("ERR Duplicate master name.".into());
        }
        let ip = canonical_ip(&argv[3]);
        let Some(node) = self.dir.lookup(&ip, port as u16) else {
            return not_modelled("monitor");
        };
        let conf = MasterConf {
            master_name: argv[2].as_str().into(),
            master: node,
            quorum: quorum.min(i64::from(u32::MAX)) as u32,
            ..MasterConf::new(node)
        };
        let now = ctx.mstime();
        let p = self.state.as_ref().expect("running");
        let id = p.next_id;
        let master = self.load_master(id, &conf, None, now);
        let detail = format!("{} quorum {}", master.inst.describe(), master.quorum);
        let p = self.state.as_mut().expect("running");
        p.next_id += 1;
        p.masters.push(master);
        self.flush_config();
        Self::emit(ctx, Level::Warning, names::sentinel::MONITOR, detail);
        Frame::ok()
    }

    /// `SENTINEL REMOVE <name>`: an unknown name is refused as Redis does;
    /// otherwise `-monitor` is logged and the master dropped with its
    /// replicas and Sentinels, their links closed (releaseInstance()),
    /// and sentinel.conf flushed.
    pub(super) fn remove(&mut self, ctx: &mut Pass<'_, '_>, name: &str) -> Frame {
        let Some(id) = self.master_named(name).map(|m| m.id) else {
            return no_such_master();
        };
        let at = self.m_ref(id).inst.describe();
        Self::emit(ctx, Level::Warning, names::sentinel::MONITOR_OFF, at);
        let p = self.state.as_mut().expect("running");
        let i = p.masters.iter().position(|m| m.id == id).expect("named");
        let m = p.masters.remove(i);
        let links = std::iter::once(&m.inst)
            .chain(m.replicas.iter())
            .chain(m.sentinels.iter())
            .flat_map(|i| [i.link.cc, i.link.pc])
            .flatten();
        for c in links {
            ctx.close(c);
            p.conns.swap_remove(&c);
        }
        self.flush_config();
        Frame::ok()
    }
}

/// The address as anetResolve() writes it back: an IPv4 address in its
/// dotted form (`127.1` is `127.0.0.1`), anything else as given.
fn canonical_ip(host: &str) -> String {
    match inet_aton(host) {
        Some(a) => Ipv4Addr::from(a).to_string(),
        None => host.to_string(),
    }
}

/// Whether getaddrinfo() with AI_NUMERICHOST takes `host`: an IPv6
/// address, or an IPv4 one as inet_aton() reads it (one to four parts,
/// each decimal, octal with a leading 0 or hex with 0x, the last filling
/// the bytes left: `127.1` is 127.0.0.1). Checked against a real
/// Sentinel 7.0.15 on Debian 12: `127.1`, `0177.0.0.1`, `2130706433` and
/// `::1` pass; `0x.1`, `1.0x` and `08.1.1.1` do not.
pub fn is_numeric_host(host: &str) -> bool {
    host.parse::<Ipv6Addr>().is_ok() || inet_aton(host).is_some()
}

/// glibc inet_aton(), exactly (no trailing characters).
fn inet_aton(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(4);
    for part in &parts {
        let (digits, radix) =
            if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (h, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (&part[1..], 8)
            } else {
                (*part, 10)
            };
        // Each part starts with a digit, and `0x` needs a hex digit after.
        if !part.starts_with(|c: char| c.is_ascii_digit()) || (radix == 16 && digits.is_empty()) {
            return None;
        }
        let v = if digits.is_empty() {
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        };
        if !digits.chars().all(|c| c.is_digit(radix)) || v > u64::from(u32::MAX) {
            return None;
        }
        values.push(v as u32);
    }
    let (last, head) = values.split_last()?;
    if head.iter().any(|&v| v > 0xff) {
        return None;
    }
    let room = 32 - 8 * head.len() as u32;
    if room < 32 && u64::from(*last) >= 1u64 << room {
        return None;
    }
    let mut addr = 0u32;
    for (i, &v) in head.iter().enumerate() {
        addr |= v << (24 - 8 * i as u32);
    }
    Some(addr | last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_hosts_as_getaddrinfo_reads_them() {
        for ok in [
            "10.0.0.1",
            "127.1",
            "0x7f.1",
            "0177.0.0.1",
            "2130706433",
            "::1",
            "fe80::1",
            "0",
        ] {
            assert!(is_numeric_host(ok), "{ok}");
        }
        for bad in [
            "",
            "notanip",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.256",
            "1..2",
            "08.1.1.1",
            "0x",
            "1.0x",
            "0x.1",
            "+1.2.3.4",
            "1.2.3.4 ",
            "127.16777216",
        ] {
            assert!(!is_numeric_host(bad), "{bad}");
        }
        assert_eq!(inet_aton("127.1"), Some(0x7f00_0001));
        assert_eq!(inet_aton("10.0.258"), Some(0x0a00_0102));
    }
}
