//! The table of monitored masters: `SENTINEL MONITOR` and `SENTINEL
//! REMOVE` (sentinel.c sentinelCommand()). A redsim Sentinel monitors
//! exactly the scenario's master, so both answer every error Redis would,
//! in Redis's order, and refuse only what would add or drop a master.

use std::net::Ipv6Addr;

use crate::proto::resp::Frame;
use crate::proto::util::string2ll;

use super::SentinelNode;
use super::commands::no_such_master;

/// The reply to a line redsim cannot carry out on its one master.
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
    /// checks the port's range and that the name is new.
    pub(super) fn monitor(&self, argv: &[String]) -> Frame {
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
        not_modelled("monitor")
    }

    /// `SENTINEL REMOVE <name>`: an unknown name is refused as Redis does;
    /// the one master is never removed.
    pub(super) fn remove(&self, name: &str) -> Frame {
        match self.master_named(name) {
            Some(_) => not_modelled("remove"),
            None => no_such_master(),
        }
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
