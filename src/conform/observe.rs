//! What one run showed, in a form shared by real and simulated runs: trace
//! events (Redis log lines, Sentinel events, faults) with addresses already
//! replaced by node names, INFO samples at the checkpoints, the clients'
//! history and the replies to the scenario's command lines. The signature is extracted from this, by the same code for both.

use std::collections::BTreeMap;

use crate::history::{Exchange, Op};
use crate::time::Micros;
use crate::trace::Event;

/// One INFO checkpoint as read: field name to value (`down` when the node
/// was not running).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub at: Micros,
    pub node: usize,
    pub fields: BTreeMap<String, String>,
}

/// Everything one run showed.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Node names by index (as in the plan).
    pub names: Vec<String>,
    /// Events in time order; `detail` has addresses replaced by node names.
    pub events: Vec<Event>,
    pub samples: Vec<Sample>,
    pub history: Vec<Op>,
    /// Acknowledged writes missing from the final state.
    pub lost_writes: u64,
    /// The scenario's command lines as sent, in its order, with their
    /// replies (a real run's with its addresses written back as the
    /// simulated ones).
    pub replies: Vec<Exchange>,
}

/// Maps `host:port` and `host port` to node names, and 40-hex run IDs and
/// replication IDs to `<id>`, so real and simulated texts compare equal.
pub struct Addresses {
    by_addr: Vec<(String, u16, String)>,
}

impl Addresses {
    pub fn new(entries: Vec<(String, u16, String)>) -> Self {
        Self { by_addr: entries }
    }

    fn lookup(&self, host: &str, port: &str) -> Option<&str> {
        let port: u16 = port.parse().ok()?;
        self.by_addr
            .iter()
            .find(|(h, p, _)| h == host && *p == port)
            .map(|(_, _, n)| n.as_str())
    }

    /// The node at `host:port`, if any.
    pub fn node(&self, host: &str, port: u16) -> Option<&str> {
        self.lookup(host, &port.to_string())
    }

    /// The text with every known address replaced by its node name.
    pub fn normalize(&self, text: &str) -> String {
        let tokens: Vec<&str> = text.split(' ').collect();
        let mut out: Vec<String> = Vec::with_capacity(tokens.len());
        let mut i = 0;
        while i < tokens.len() {
            let (core, tail) = split_punct(tokens[i]);
            let (core, head) = match core.strip_prefix('\'') {
                Some(c) => (c, "'"),
                None => (core, ""),
            };
            if let Some((h, p)) = core.split_once(':')
                && let Some(n) = self.lookup(h, p)
            {
                out.push(format!("{head}{n}{tail}"));
            } else if i + 1 < tokens.len()
                && let (p, ptail) = split_punct(tokens[i + 1])
                && let Some(n) = self.lookup(core, p)
            {
                out.push(format!("{head}{n}{ptail}"));
                i += 1;
            } else if core.len() == 40 && core.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.push(format!("{head}<id>{tail}"));
            } else {
                out.push(tokens[i].to_string());
            }
            i += 1;
        }
        out.join(" ")
    }
}

/// Splits trailing punctuation (`.`, `,`, `)`, `'`) off a token.
fn split_punct(t: &str) -> (&str, &str) {
    let end = t.trim_end_matches(['.', ',', ')', '\'']).len();
    t.split_at(end)
}

/// The checkpoint fields of one node from its `INFO replication` text
/// (`None`: not running) and its master's (for `in_sync`).
pub fn sample_fields(
    info: Option<&str>,
    master_info: impl Fn(&str) -> Option<String>,
    fields: &[String],
    addrs: &Addresses,
) -> BTreeMap<String, String> {
    use crate::redis::info::field;
    let mut out = BTreeMap::new();
    let Some(info) = info else {
        for f in fields {
            out.insert(f.clone(), "down".to_string());
        }
        return out;
    };
    let master = match (field(info, "master_host"), field(info, "master_port")) {
        (Some(h), Some(p)) => p
            .parse()
            .ok()
            .and_then(|p| addrs.node(h, p))
            .map(str::to_string),
        _ => None,
    };
    for f in fields {
        let v = match f.as_str() {
            "master_node" => master.clone().unwrap_or_else(|| "-".into()),
            "in_sync" => match &master {
                None => "-".into(),
                Some(m) => {
                    let mine = field(info, "slave_repl_offset");
                    let theirs = master_info(m);
                    let theirs = theirs
                        .as_deref()
                        .and_then(|i| field(i, "master_repl_offset"));
                    match (mine, theirs) {
                        (Some(a), Some(b)) if a == b => "yes".into(),
                        (Some(_), Some(_)) => "no".into(),
                        _ => "-".into(),
                    }
                }
            },
            "role" => match field(info, "role") {
                Some("slave") => "replica".into(),
                Some(r) => r.to_string(),
                None => "-".into(),
            },
            name => field(info, name).unwrap_or("-").to_string(),
        };
        out.insert(f.clone(), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_node_names() {
        let a = Addresses::new(vec![
            ("127.0.0.1".into(), 17000, "master".into()),
            ("127.0.0.1".into(), 17001, "replica-1".into()),
        ]);
        assert_eq!(
            a.normalize("Replica 127.0.0.1:17001 asks for synchronization"),
            "Replica replica-1 asks for synchronization"
        );
        assert_eq!(
            a.normalize("mymaster 127.0.0.1 17000 127.0.0.1 17001"),
            "mymaster master replica-1"
        );
        assert_eq!(
            a.normalize("Unable to partial resync with replica 127.0.0.1:17001 for lack"),
            "Unable to partial resync with replica replica-1 for lack"
        );
        assert_eq!(
            a.normalize("Full resync from master: 9df401dca176b443c82381cf27f40cbafe973ff8:0"),
            "Full resync from master: 9df401dca176b443c82381cf27f40cbafe973ff8:0"
        );
        assert_eq!(
            a.normalize("+vote-for-leader 9df401dca176b443c82381cf27f40cbafe973ff8 1"),
            "+vote-for-leader <id> 1"
        );
        // An unknown port stays as it was.
        assert_eq!(a.normalize("127.0.0.1 17005"), "127.0.0.1 17005");
    }
}
