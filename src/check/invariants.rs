//! Invariants that must hold in every run, whatever the faults: at most one
//! Sentinel leader per epoch, one vote per Sentinel per epoch, epochs that
//! never go backwards, replication offsets that never go backwards within
//! one history, and convergence once the faults stop.
//!
//! A [`Monitor`] samples the world while it runs; the end-of-run checks read
//! the records the Sentinels keep.

use std::collections::BTreeMap;

use crate::check::RunView;
use crate::check::groups::Group;
use crate::time::Secs;
use crate::trace::names;

/// One broken invariant or property.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// A stable name: `one-leader-per-epoch`, `one-vote-per-epoch`,
    /// `epochs-monotonic`, `offsets-monotonic`, `converges`, ...
    pub property: &'static str,
    pub detail: String,
}

/// Watches epochs and offsets between samples.
#[derive(Default)]
pub struct Monitor {
    /// Per Sentinel and monitored master's name: (current epoch, the
    /// master's config epoch) at the last sample.
    epochs: BTreeMap<(usize, String), (u64, u64)>,
    /// Per Redis node: (replid, offset, number of restarts/full syncs seen).
    offsets: BTreeMap<usize, (String, u64, usize)>,
    /// Restarts and full resyncs per node, counted from the trace so far.
    resets: BTreeMap<usize, usize>,
    /// How much of the trace has been counted.
    seen: usize,
    pub violations: Vec<Violation>,
}

impl Monitor {
    /// Checks what changed since the previous sample.
    pub fn sample(&mut self, w: &(impl RunView + ?Sized)) {
        let now = w.now();
        for (i, s) in w.sentinels() {
            let Some(p) = &s.state else { continue };
            // A master no longer monitored starts again if added anew.
            self.epochs
                .retain(|(n, name), _| *n != i || p.master_named(name).is_some());
            for m in &p.masters {
                let cur = (p.current_epoch, m.config_epoch);
                if let Some(prev) = self.epochs.insert((i, m.inst.name.to_string()), cur)
                    && (cur.0 < prev.0 || cur.1 < prev.1)
                {
                    self.violations.push(Violation {
                        property: "epochs-monotonic",
                        detail: format!(
                            "{} went from current/config epoch {}/{} to {}/{} at {}",
                            w.names()[i],
                            prev.0,
                            prev.1,
                            cur.0,
                            cur.1,
                            Secs(now)
                        ),
                    });
                }
            }
        }
        // Restarts and full resyncs legitimately rewind a node's offset.
        let events = &w.trace().events;
        for e in &events[self.seen..] {
            if matches!(
                e.event.as_ref(),
                names::redis::SERVER_INITIALIZED | names::redis::FULL_RESYNC
            ) {
                *self.resets.entry(e.node as usize).or_default() += 1;
            }
        }
        self.seen = events.len();
        // A cluster node's currentEpoch never goes back while it runs. (A
        // restart may rewind it: Redis saves nodes.conf when its own
        // elections, votes or configuration change, not when it merely
        // learns a larger currentEpoch from a peer.)
        for n in 0..w.node_count() {
            let Some(c) = w.server(n).and_then(|p| p.cluster.as_ref()) else {
                continue;
            };
            let cur = (
                c.current_epoch,
                self.resets.get(&n).copied().unwrap_or(0) as u64,
            );
            if let Some(prev) = self.epochs.insert((n, String::new()), cur)
                && cur.1 == prev.1
                && cur.0 < prev.0
            {
                self.violations.push(Violation {
                    property: "epochs-monotonic",
                    detail: format!(
                        "{} went from currentEpoch {} to {} at {}",
                        w.names()[n],
                        prev.0,
                        cur.0,
                        Secs(now)
                    ),
                });
            }
        }
        for n in 0..w.node_count() {
            let Some(p) = w.server(n) else { continue };
            let resets = self.resets.get(&n).copied().unwrap_or(0);
            let cur = (p.replid.to_string(), p.master_repl_offset, resets);
            if let Some(prev) = self.offsets.get(&n)
                && prev.0 == cur.0
                && prev.2 == cur.2
                && cur.1 < prev.1
            {
                self.violations.push(Violation {
                    property: "offsets-monotonic",
                    detail: format!(
                        "{} went back from offset {} to {} in history {} at {}",
                        w.names()[n],
                        prev.1,
                        cur.1,
                        &cur.0[..8],
                        Secs(now)
                    ),
                });
            }
            self.offsets.insert(n, cur);
        }
    }
}

/// The end-of-run invariants over the Sentinels' records. A Sentinel
/// votes once per epoch for each master (sentinelVoteLeader() keeps the
/// vote in the master), so both rules hold per master name.
pub fn election_invariants(w: &(impl RunView + ?Sized)) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut leaders: BTreeMap<(u64, &str), Vec<&str>> = BTreeMap::new();
    for (i, s) in w.sentinels() {
        let mut voted: BTreeMap<(u64, &str), &str> = BTreeMap::new();
        for (epoch, runid, master) in &s.votes {
            if let Some(first) = voted.insert((*epoch, master), runid) {
                out.push(Violation {
                    property: "one-vote-per-epoch",
                    detail: format!(
                        "{} voted twice in epoch {epoch}: for {first} and for {runid}",
                        w.names()[i]
                    ),
                });
            }
        }
        for (epoch, _, master) in &s.elections_won {
            leaders
                .entry((*epoch, master))
                .or_default()
                .push(&w.names()[i]);
        }
    }
    for n in 0..w.node_count() {
        let Some(r) = w.redis(n) else { continue };
        let mut voted: BTreeMap<u64, u32> = BTreeMap::new();
        for &(epoch, candidate) in &r.cluster_log.votes {
            if let Some(first) = voted.insert(epoch, candidate) {
                out.push(Violation {
                    property: "one-vote-per-epoch",
                    detail: format!(
                        "{} voted twice in epoch {epoch}: for {} and for {}",
                        w.names()[n],
                        w.names()[first as usize],
                        w.names()[candidate as usize]
                    ),
                });
            }
        }
        // Not a Redis Cluster invariant: a replica promoted in epoch E has
        // not voted in E, so it may vote for another shard's replica in the
        // same epoch; the configEpoch collision rule then separates them
        // (scenarios/cluster/two-winners-same-epoch.toml).
    }
    for ((epoch, _), names) in leaders {
        if names.len() > 1 {
            out.push(Violation {
                property: "one-leader-per-epoch",
                detail: format!("epoch {epoch} has leaders {}", names.join(", ")),
            });
        }
    }
    out
}

/// After the faults stop and the network heals, in each replication
/// group: exactly one running master, every other running Redis node of
/// the group replicating from it (directly or through other replicas) with
/// its links up, and every running Sentinel naming it for that group.
pub fn converged(w: &(impl RunView + ?Sized)) -> Result<(), String> {
    if w.is_cluster() {
        return cluster_converged(w);
    }
    let groups = w.groups();
    for g in &groups {
        group_converged(w, g).map_err(|why| match groups.len() {
            1 => why,
            _ => format!("group of {}: {why}", w.names()[g.master]),
        })?;
    }
    Ok(())
}

/// [`converged`] for one group.
fn group_converged(w: &(impl RunView + ?Sized), g: &Group) -> Result<(), String> {
    let redis: Vec<usize> = g
        .nodes
        .iter()
        .copied()
        .filter(|&n| w.server(n).is_some())
        .collect();
    let masters: Vec<usize> = redis
        .iter()
        .copied()
        .filter(|&n| w.role(n) == Some("master"))
        .collect();
    let [master] = masters.as_slice() else {
        let names: Vec<&str> = masters.iter().map(|&n| w.names()[n].as_str()).collect();
        return Err(format!("{} masters: [{}]", masters.len(), names.join(", ")));
    };
    // Every other node's chain of replication links reaches the master, all
    // up. (A replica the Sentinels never discovered may legitimately stay a
    // replica of a replica: Sentinel finds replicas only in its master's INFO.)
    for &n in &redis {
        let mut hop = n;
        for _ in 0..redis.len() {
            if hop == *master {
                break;
            }
            match w.server(hop).and_then(|p| p.replica.as_ref()) {
                Some(s) if s.is_connected() => hop = s.master as usize,
                Some(s) => {
                    return Err(format!(
                        "{} replicates from {} with its link down",
                        w.names()[hop],
                        w.names()[s.master as usize]
                    ));
                }
                None => return Err(format!("{} is not a replica", w.names()[hop])),
            }
        }
        if hop != *master {
            return Err(format!(
                "{}'s replication chain never reaches {}",
                w.names()[n],
                w.names()[*master]
            ));
        }
    }
    for (i, s) in w.sentinels() {
        let Some(p) = &s.state else { continue };
        // The Sentinel's masters for this group: those sentinel.conf
        // placed in it (others by where they are now).
        let of_group = p.masters.iter().filter(|m| {
            let first = s
                .conf()
                .masters
                .iter()
                .find(|c| c.master_name == m.inst.name)
                .map_or(m.inst.node, |c| c.master);
            g.nodes.contains(&(first as usize))
        });
        for m in of_group {
            if m.inst.node as usize != *master {
                return Err(format!(
                    "{} names {} as the master, not {}",
                    w.names()[i],
                    w.names()[m.inst.node as usize],
                    w.names()[*master]
                ));
            }
        }
    }
    Ok(())
}

/// A healed cluster: every running node in state ok with the same slot
/// table; each slot served by exactly one running master that claims it;
/// masters' configEpochs distinct; every running replica's link to its
/// master up.
pub fn cluster_converged(w: &(impl RunView + ?Sized)) -> Result<(), String> {
    use crate::proto::slots::SLOTS;
    let nodes: Vec<usize> = (0..w.node_count())
        .filter(|&n| w.server(n).is_some_and(|p| p.cluster.is_some()))
        .collect();
    let view = |n: usize| w.server(n).and_then(|p| p.cluster.as_deref());
    let Some(&first) = nodes.first() else {
        return Err("no cluster node is running".into());
    };
    for &n in &nodes {
        let c = view(n).expect("cluster node");
        if !c.state_ok {
            return Err(format!("{} has cluster state fail", w.names()[n]));
        }
    }
    let reference = view(first).expect("cluster node");
    for slot in 0..SLOTS as u16 {
        let owner = reference.slot_owner(slot);
        for &n in &nodes[1..] {
            let other = view(n).expect("cluster node").slot_owner(slot);
            if other != owner {
                let name = |o: Option<u32>| o.map_or("nobody", |o| w.names()[o as usize].as_str());
                return Err(format!(
                    "slot {slot}: {} says {}, {} says {}",
                    w.names()[first],
                    name(owner),
                    w.names()[n],
                    name(other)
                ));
            }
        }
        match owner {
            None => return Err(format!("slot {slot} is not served")),
            Some(o) => {
                let served = view(o as usize)
                    .is_some_and(|c| c.i_am_master() && c.slot_owner(slot) == Some(o));
                if !served {
                    return Err(format!(
                        "slot {slot} maps to {}, which does not serve it",
                        w.names()[o as usize]
                    ));
                }
            }
        }
    }
    let mut epochs: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, node) in reference.nodes.iter().enumerate() {
        if node.is_master()
            && node.numslots() > 0
            && let Some(other) = epochs.insert(node.config_epoch, i)
        {
            return Err(format!(
                "{} and {} share configEpoch {}",
                w.names()[other],
                w.names()[i],
                node.config_epoch
            ));
        }
    }
    for &n in &nodes {
        let c = view(n).expect("cluster node");
        if let Some(m) = c.me().slaveof.filter(|_| c.me().is_slave()) {
            let up = w
                .server(n)
                .and_then(|p| p.replica.as_ref())
                .is_some_and(|r| r.is_connected() && r.master == m);
            if !up && w.server(m as usize).is_some() {
                return Err(format!(
                    "{}'s replication link to {} is not up",
                    w.names()[n],
                    w.names()[m as usize]
                ));
            }
        }
    }
    Ok(())
}

/// Every violation of a run: what the monitor saw while it ran, the election
/// invariants, and the named `properties` (`converges`,
/// `no-lost-acked-writes`, `no-split-brain`).
pub fn evaluate(
    w: &(impl RunView + ?Sized),
    sampled: Vec<Violation>,
    properties: &[String],
) -> Vec<Violation> {
    let mut out = sampled;
    out.extend(election_invariants(w));
    for prop in properties {
        match prop.as_str() {
            "converges" => {
                if let Err(why) = converged(w) {
                    out.push(Violation {
                        property: "converges",
                        detail: why,
                    });
                }
            }
            "no-lost-acked-writes" => {
                let n = w.lost_writes().len();
                if n > 0 {
                    out.push(Violation {
                        property: "no-lost-acked-writes",
                        detail: format!("{n} acknowledged writes lost"),
                    });
                }
            }
            "no-split-brain" => {
                let found = w.two_writable_masters(&w.history());
                if let Some(&(a, b, first)) = found.first() {
                    let pair: Vec<_> = found.iter().filter(|f| (f.0, f.1) == (a, b)).collect();
                    let total: crate::time::Micros = pair.iter().map(|f| f.2.len()).sum();
                    out.push(Violation {
                        property: "no-split-brain",
                        detail: format!(
                            "{} and {} both acknowledged writes as masters for {} \
                             ({} window{}, the first from {} to {})",
                            w.names()[a as usize],
                            w.names()[b as usize],
                            Secs(total),
                            pair.len(),
                            if pair.len() == 1 { "" } else { "s" },
                            Secs(first.from),
                            Secs(first.to)
                        ),
                    });
                }
            }
            _ => {}
        }
    }
    out
}
