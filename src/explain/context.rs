//! What the narration needs to turn raw log details into names and numbers:
//! who is behind an address or a run id, the Sentinel and Redis settings,
//! and the first fault of the run.

use std::collections::BTreeMap;

use crate::check::RunView as _;
use crate::check::timeline;
use crate::redis::config::RedisConfig;
use crate::scenario::NodeKind;
use crate::sentinel::{MasterConf, SentinelConf};
use crate::time::Micros;
use crate::trace::names;
use crate::world::World;

/// Backlog state of a master sampled right after it refused a partial
/// resync, from `INFO replication`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BacklogProbe {
    pub master_repl_offset: u64,
    pub first_byte: u64,
    pub histlen: u64,
    pub size: u64,
}

pub struct Context<'a> {
    pub world: &'a World,
    /// `ip` and `ip:port` to node name.
    by_addr: BTreeMap<String, String>,
    /// Sentinel run ids to node names.
    by_runid: BTreeMap<String, String>,
    /// Cluster node IDs (40 hex digits, as Redis logs them) to node names.
    by_cluster_id: BTreeMap<String, String>,
    pub sentinel: Option<SentinelConf>,
    pub sentinels: usize,
    pub first_fault: Option<Micros>,
    /// Backlog samples by (time, node) of "lack of backlog" refusals.
    pub probes: BTreeMap<(Micros, u32), BacklogProbe>,
}

impl<'a> Context<'a> {
    /// The settings of the monitored master an event is about (its name
    /// is a word of the event's detail), or else of the first one.
    pub fn monitor(&self, detail: &str) -> Option<&MasterConf> {
        let s = self.sentinel.as_ref()?;
        s.masters
            .iter()
            .find(|m| detail.split_whitespace().any(|w| w == m.master_name))
            .or(s.masters.first())
    }

    pub fn new(world: &'a World) -> Self {
        let mut by_addr = BTreeMap::new();
        let mut sentinel = None;
        let mut sentinels = 0;
        for n in &world.plan.nodes {
            by_addr.insert(n.host.clone(), n.name.clone());
            by_addr.insert(format!("{}:{}", n.host, n.port), n.name.clone());
            if let NodeKind::Sentinel(c) = &n.kind {
                sentinels += 1;
                sentinel.get_or_insert_with(|| c.clone());
            }
        }
        let mut by_runid = BTreeMap::new();
        for (i, s) in world.sentinels() {
            if let Some(p) = &s.state {
                by_runid.insert(p.myid.to_string(), world.names[i].clone());
            }
        }
        // Sentinels that are down at the end are known from others' hellos:
        // "+sentinel sentinel <runid> <ip> <port> @ ...".
        for e in world.trace().named(names::sentinel::SENTINEL) {
            let mut it = e.detail.split_whitespace().skip(1);
            if let (Some(id), Some(ip), Some(port)) = (it.next(), it.next(), it.next())
                && let Some(name) = by_addr.get(&format!("{ip}:{port}"))
            {
                by_runid
                    .entry(id.to_string())
                    .or_insert_with(|| name.clone());
            }
        }
        let mut by_cluster_id = BTreeMap::new();
        if let Some(layout) = (0..world.plan.nodes.len())
            .find_map(|n| world.redis(n).and_then(|r| r.cluster_layout.clone()))
        {
            for (i, id) in layout.ids.iter().enumerate() {
                if let Some(name) = world.names.get(i) {
                    by_cluster_id.insert(id.to_string(), name.clone());
                }
            }
        }
        let first_fault = timeline::failover_times(&world.trace().events).fault;
        Context {
            world,
            by_addr,
            by_runid,
            by_cluster_id,
            sentinel,
            sentinels,
            first_fault,
            probes: BTreeMap::new(),
        }
    }

    pub fn name(&self, node: u32) -> &str {
        &self.world.names[node as usize]
    }

    /// The node at an address (`10.0.0.2` or `10.0.0.2:6379`), or the address.
    pub fn at(&self, addr: &str) -> String {
        self.by_addr
            .get(addr)
            .cloned()
            .unwrap_or_else(|| addr.to_string())
    }

    /// A replica by address: `replica-1`, or `master (as a replica)`.
    pub fn replica(&self, addr: &str) -> String {
        match self.at(addr) {
            n if n.starts_with("replica") => n,
            n => format!("{n} (as a replica)"),
        }
    }

    /// The Sentinel with a run id, or a shortened id.
    pub fn runid(&self, id: &str) -> String {
        self.by_runid.get(id).cloned().unwrap_or_else(|| {
            format!(
                "the Sentinel with run id {}…",
                id.chars().take(8).collect::<String>()
            )
        })
    }

    /// The node with a cluster node ID (a trailing `.` or `:` is ignored),
    /// or a shortened ID.
    pub fn node_id(&self, id: &str) -> String {
        let id = id.trim_end_matches(['.', ':', ',']);
        self.by_cluster_id.get(id).cloned().unwrap_or_else(|| {
            format!(
                "the node with ID {}…",
                id.chars().take(8).collect::<String>()
            )
        })
    }

    /// The names of the cluster node IDs in a log line, in order.
    pub fn node_ids_in(&self, detail: &str) -> Vec<String> {
        detail
            .split_whitespace()
            .map(|w| w.trim_end_matches(['.', ':', ',']))
            .filter(|w| w.len() == 40 && w.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|w| self.node_id(w))
            .collect()
    }

    /// The run id of a Sentinel node, if known.
    pub fn runid_of(&self, name: &str) -> Option<&str> {
        self.by_runid
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| id.as_str())
    }

    /// Redis settings of a node (the plan's, as configured).
    pub fn redis_conf(&self, name: &str) -> Option<&RedisConfig> {
        self.world
            .plan
            .nodes
            .iter()
            .find(|n| n.name == name)
            .and_then(|n| match &n.kind {
                NodeKind::Redis { conf, .. } => Some(&**conf),
                _ => None,
            })
    }

    /// An instance as a Sentinel event names it: `master <name> <ip> <port>`,
    /// `slave <ip:port> <ip> <port> @ ...` or `sentinel <id> <ip> <port> @ ...`.
    pub fn instance(&self, detail: &str) -> String {
        let mut it = detail.split_whitespace();
        match (it.next(), it.next(), it.next()) {
            (Some("master"), _, Some(ip)) => match self.at(ip) {
                n if n == "master" => "the master".to_string(),
                n => format!("the master ({n})"),
            },
            (Some("slave"), Some(addr), _) => match self.at(addr) {
                n if n.starts_with("replica") => n,
                n => format!("{n} (listed as a replica)"),
            },
            (Some("sentinel"), Some(id), _) => self.runid(id),
            _ => detail.to_string(),
        }
    }

    /// A time since the start as `20.000 s`.
    pub fn secs(t: Micros) -> String {
        format!("{}.{:03} s", t / 1_000_000, (t % 1_000_000) / 1_000)
    }

    /// A duration as `5.412 s` or `850 ms`.
    pub fn span(d: Micros) -> String {
        if d >= 1_000_000 {
            Self::secs(d)
        } else {
            format!("{} ms", d / 1_000)
        }
    }

    /// The node a Sentinel event's instance names (`master mymaster 10.0.0.1
    /// 6379`, `slave 10.0.0.2:6379 ...`), if it is one of the scenario's.
    pub fn instance_node(&self, detail: &str) -> Option<String> {
        let mut it = detail.split_whitespace();
        let name = match (it.next(), it.next(), it.next()) {
            (Some("master"), _, Some(ip)) => self.at(ip),
            (Some("slave"), Some(addr), _) => self.at(addr),
            _ => return None,
        };
        self.world.names.contains(&name).then_some(name)
    }

    /// "(5.412 s after master was killed)": the time since the fault that
    /// caused what happened at `t`: the latest fault before `t` that hit
    /// `about` (the node the event is about: killed, crashed, paused, shut
    /// down, or on either side of a partition), else the latest fault of
    /// any kind. A Sentinel that is paused after the master was killed does
    /// not make the master's +odown "after sentinel-2 was paused".
    pub fn since_fault(&self, t: Micros, about: Option<&str>) -> String {
        let faults: Vec<&crate::trace::Event> = self
            .world
            .sim
            .kernel
            .trace
            .events
            .iter()
            .take_while(|e| e.t <= t)
            .filter(|e| {
                matches!(
                    e.event.as_ref(),
                    "kill" | "crash" | "pause" | "partition" | "shutdown"
                )
            })
            .collect();
        let hits = |e: &&&crate::trace::Event, name: &str| {
            if e.event == "partition" {
                e.detail.split(['{', '}', ',', '|', ' ']).any(|w| w == name)
            } else {
                self.name(e.node) == name
            }
        };
        let causal = about.and_then(|name| faults.iter().rfind(|e| hits(e, name)));
        let Some(f) = causal.or(faults.last()) else {
            return String::new();
        };
        let name = self.name(f.node);
        let what = match f.event.as_ref() {
            "kill" => format!("{name} was killed"),
            "crash" => format!("{name}'s host lost power"),
            "pause" => format!("{name} was paused"),
            "shutdown" => format!("{name} was stopped"),
            _ => "the partition began".to_string(),
        };
        format!(" ({} after {what})", Self::span(t - f.t))
    }
}

/// Groups digits by thousands: 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_read_well() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(Context::secs(20_000_512), "20.000 s");
        assert_eq!(Context::span(850_000), "850 ms");
        assert_eq!(Context::span(5_412_000), "5.412 s");
    }
}
