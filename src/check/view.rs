//! The read-only view of a run that the checkers read. The world
//! implements it; nothing under `check/` imports the world, so a checker
//! sees the run only through these methods (as TigerBeetle's checkers are
//! generic over the replica they read). The provided methods are the
//! checks themselves: the final state, lost and unavailable writes, split
//! brain, and each expectation's verdict.

use crate::check::availability;
use crate::check::groups::{self, Group};
use crate::check::invariants::Violation;
use crate::check::lost::{LostWrite, lost_acked_writes_by};
use crate::check::outside::OutsideWrites;
use crate::check::split_brain::{self, Ack, TenureStart};
use crate::check::windows::Window;
use crate::check::{Expectation, Verdict};
use crate::history::{Answer, Exchange, History, Outcome};
use crate::proto::keyspace::Dataset;
use crate::proto::resp::Frame;
use crate::redis;
use crate::sentinel::SentinelNode;
use crate::sim::net::NodeId;
use crate::time::{Micros, Secs};
use crate::trace::Trace;
use crate::trace::names;

/// What a checker may read of a run, at the instant it is asked.
pub trait RunView {
    /// Simulated time now.
    fn now(&self) -> Micros;
    /// The scenario's length.
    fn duration(&self) -> Micros;
    /// The processes' names by node index, then `sim` for the network.
    fn names(&self) -> &[String];
    /// How many processes the scenario declares.
    fn node_count(&self) -> usize;
    fn is_cluster(&self) -> bool;
    /// Everything logged so far.
    fn trace(&self) -> &Trace;
    /// A Redis node (None for other kinds of process).
    fn redis(&self, n: usize) -> Option<&redis::RedisNode>;
    /// `INFO replication` of a running Redis node now (and a cluster node's
    /// CLUSTER INFO and NODES).
    fn info(&self, n: usize) -> Option<String>;
    /// Every Sentinel, with its node index.
    fn sentinels(&self) -> Vec<(usize, &SentinelNode)>;
    /// Every client operation, in order of invocation.
    fn history(&self) -> History<'_>;
    /// Each writing workload's `[start, stop]`, as scripted.
    fn write_workloads(&self) -> Vec<Window>;
    /// The operator's redis-cli node, if the scenario has one.
    fn operator(&self) -> Option<usize>;
    /// The scenario's command lines as sent, with their replies (and the
    /// commands of outside connections).
    fn exchanges(&self) -> &[Exchange];
    /// Whether a session of [`Self::exchanges`] is an outside connection
    /// (a client's), not one of the operator's.
    fn is_outside(&self, session: &str) -> bool;
    /// Each scripted reshard: its slots and its start.
    fn reshards(&self) -> Vec<(Vec<u16>, Micros)>;
    /// Invariant violations sampled while the run went.
    fn violations(&self) -> &[Violation];
    /// Outside cluster mode, the replication groups with their clients
    /// (one group holds every Redis node and every client unless the
    /// scenario has several masters); none in a cluster.
    fn groups(&self) -> Vec<Group>;

    /// A Redis node's running process (None for other kinds, or when down).
    fn server(&self, n: usize) -> Option<&redis::Server> {
        self.redis(n).and_then(|r| r.server.as_ref())
    }

    /// "master" or "replica" for a running Redis node.
    fn role(&self, n: usize) -> Option<&'static str> {
        self.server(n).map(|p| {
            if p.replica.is_some() {
                "replica"
            } else {
                "master"
            }
        })
    }

    /// The node whose data counts as the final state: the running master
    /// with the most replicas (lowest index on a tie); with no master
    /// running, the running node with the highest replication offset.
    fn final_node(&self) -> Option<usize> {
        let all: Vec<usize> = (0..self.node_count()).collect();
        self.final_node_of(&all)
    }

    /// [`Self::final_node`] among these nodes only (one group's).
    fn final_node_of(&self, nodes: &[usize]) -> Option<usize> {
        let running: Vec<usize> = nodes
            .iter()
            .copied()
            .filter(|&n| self.server(n).is_some())
            .collect();
        let masters = running
            .iter()
            .filter(|&&n| self.role(n) == Some("master"))
            .max_by_key(|&&n| {
                (
                    self.server(n).map_or(0, |p| p.replicas.len()),
                    std::cmp::Reverse(n),
                )
            });
        masters.copied().or_else(|| {
            running
                .iter()
                .max_by_key(|&&n| {
                    (
                        self.server(n).map_or(0, |p| p.master_repl_offset),
                        std::cmp::Reverse(n),
                    )
                })
                .copied()
        })
    }

    /// The outside connections' writes, read as operations.
    fn outside_writes(&self) -> OutsideWrites {
        let exchanges = self.exchanges();
        if exchanges.is_empty() {
            return OutsideWrites::default();
        }
        OutsideWrites::read(exchanges, |s| self.is_outside(s), &self.history())
    }

    /// Every client's history: the workload's and the outside writes, in
    /// order of invocation.
    fn all_writes(&self, outside: &OutsideWrites) -> History<'_> {
        let history = self.history();
        if outside.ops.is_empty() {
            return history;
        }
        outside.merged(&history)
    }

    /// Writes acknowledged, refused with an error, and of unknown fate
    /// (timed out, cut off or unanswered): the workload's and outside
    /// clients', those the lost-write checker does not follow included.
    fn write_outcomes(&self) -> [usize; 3] {
        let outside = self.outside_writes();
        let mut counts = outside.others;
        for o in self
            .all_writes(&outside)
            .briefs()
            .filter(|o| o.kind.is_write())
        {
            counts[match o.outcome {
                Answer::Ok => 0,
                Answer::Error => 1,
                Answer::Pending | Answer::Unknown => 2,
            }] += 1;
        }
        counts
    }

    /// Acknowledged writes (the workload's and outside clients') that the
    /// final state lost.
    fn lost_writes(&self) -> Vec<LostWrite> {
        let outside = self.outside_writes();
        let history = self.all_writes(&outside);
        if self.is_cluster() {
            let data = self.cluster_final_data();
            let lost = lost_acked_writes_by(&history, &|k| outside.found(&data, k));
            return outside.keep(lost);
        }
        let empty = Dataset::default();
        let groups = self.groups();
        let finals: Vec<(&Group, &Dataset)> = groups
            .iter()
            .map(|g| {
                let data = self
                    .final_node_of(&g.nodes)
                    .and_then(|n| self.server(n))
                    .map_or(&empty, |p| &p.data);
                (g, data)
            })
            .collect();
        outside.keep(groups::lost_writes(&history, &finals, &outside))
    }

    /// Each group's final node (see [`Self::final_node`]), in the groups'
    /// order.
    fn final_nodes(&self) -> Vec<Option<usize>> {
        self.groups()
            .iter()
            .map(|g| self.final_node_of(&g.nodes))
            .collect()
    }

    /// The spans in which some client wanted to write: each writing
    /// workload's `[start, stop]`, cut at the end of the run so far.
    fn write_demand(&self) -> Vec<Window> {
        let end = self.now().min(self.duration());
        self.write_workloads()
            .into_iter()
            .filter(|w| w.from < end)
            .map(|w| Window {
                from: w.from,
                to: w.to.min(end),
            })
            .collect()
    }

    /// The run's write unavailability: the longest stretch in which clients
    /// wanted to write and none got a write acknowledged. The summary, the
    /// `max-unavailability` expectation, `sweep`, `fuzz`, `explain` and the
    /// dashboard all report this one figure.
    fn write_unavailability(&self) -> Option<Window> {
        if self.is_cluster() {
            let acks: Vec<Micros> = self
                .history()
                .briefs()
                .filter(|o| o.acked_write())
                .filter_map(|o| o.completed)
                .collect();
            return availability::longest_write_gap(&acks, &self.write_demand());
        }
        groups::longest(&self.group_unavailability())
    }

    /// Each replication group's longest time without an acknowledged write
    /// while its clients wanted to write, in the groups' order.
    fn group_unavailability(&self) -> Vec<Option<Window>> {
        let groups = self.groups();
        let refs: Vec<&Group> = groups.iter().collect();
        let end = self.now().min(self.duration());
        groups::unavailability(&self.history(), &refs, end)
    }

    /// The instants each Redis node began a new tenure in which it could
    /// acknowledge writes: a restart, a promotion (a new replication ID), a
    /// resume after SIGSTOP or DEBUG SLEEP.
    fn tenure_starts(&self) -> Vec<TenureStart> {
        self.trace()
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e.event.as_ref(),
                    "restart" | "resume" | "debug-sleep-end" | names::redis::SECONDARY_REPLID
                )
            })
            .map(|e| TenureStart {
                node: e.node,
                at: e.t,
            })
            .collect()
    }

    /// Windows in which two nodes acknowledged writes to the same data as
    /// masters (in a cluster: to keys of the same slot, outside a reshard of
    /// it), from per-tenure write spans (see `check::split_brain`).
    fn two_writable_masters(&self, history: &History) -> Vec<(u32, u32, Window)> {
        let starts = self.tenure_starts();
        if !self.is_cluster() {
            let groups = self.groups();
            let refs: Vec<&Group> = groups.iter().collect();
            return groups::two_writable_masters(history, &refs, &starts);
        }
        // During a reshard a slot's source and target both serve it (each
        // key on one of them): writes to the moving slots then are no split
        // brain. Masters of different slots accept writes side by side.
        let moving = self.reshard_windows();
        let mut by_slot: std::collections::BTreeMap<u16, Vec<Ack>> = Default::default();
        for o in history
            .iter()
            .filter(|o| o.kind.is_write() && o.outcome.is_ok())
        {
            let Some(at) = o.completed else { continue };
            let slot = crate::proto::slots::key_hash_slot(o.key.as_bytes());
            let t = o.completed.unwrap_or(o.invoked);
            let resharding = moving
                .iter()
                .any(|(slots, a, b)| slots.contains(&slot) && t >= *a && t <= *b);
            if !resharding {
                by_slot
                    .entry(slot)
                    .or_default()
                    .push(Ack { node: o.node, at });
            }
        }
        let mut found = Vec::new();
        for acks in by_slot.values() {
            let spans = split_brain::write_spans(acks, &starts);
            found.extend(split_brain::overlaps(&spans));
        }
        split_brain::merge_pairs(found)
    }

    /// Each reshard's slots and the span from its start to the end of the
    /// operator's run (or of the scenario, if it never finished).
    fn reshard_windows(&self) -> Vec<(Vec<u16>, Micros, Micros)> {
        let Some(op) = self.operator() else {
            return Vec::new();
        };
        let ends: Vec<Micros> = self
            .trace()
            .events
            .iter()
            .filter(|e| {
                e.node as usize == op
                    && matches!(
                        e.event.as_ref(),
                        names::redis::RESHARDING_DONE | names::redis::RESHARDING_ABORTED
                    )
            })
            .map(|e| e.t)
            .collect();
        let mut out = Vec::new();
        for (slots, at) in self.reshards() {
            let end = ends
                .iter()
                .copied()
                .find(|&e| e >= at)
                .unwrap_or(self.duration());
            out.push((slots, at, end));
        }
        out
    }

    /// A cluster's final state: each key as the running master that serves
    /// its slot (in that master's own view) holds it.
    fn cluster_final_data(&self) -> Dataset {
        use crate::proto::slots::key_hash_slot;
        let mut out = Dataset::default();
        for n in 0..self.node_count() {
            let Some(p) = self.server(n) else { continue };
            let Some(c) = p.cluster.as_ref().filter(|c| c.i_am_master()) else {
                continue;
            };
            for (k, v) in p.data.iter() {
                if c.slot_owner(key_hash_slot(k.as_bytes())) == Some(n as NodeId) {
                    out.set(k.clone(), v.clone());
                }
            }
        }
        out
    }

    /// Evaluates an expectation against the world as it is now.
    fn verdict(&self, e: &Expectation) -> Verdict {
        let description = e.describe(self.names());
        let (holds, observed) = match e {
            Expectation::Role { node, role, .. } => {
                let r = self.role(*node);
                (
                    r == Some(role.as_str()),
                    r.unwrap_or("not running").to_string(),
                )
            }
            Expectation::Info {
                node,
                field,
                equals,
                ..
            } => {
                let v = self
                    .info(*node)
                    .and_then(|i| redis::info::field(&i, field).map(str::to_string));
                (
                    v.as_deref() == Some(equals.as_str()),
                    v.unwrap_or_else(|| "absent".into()),
                )
            }
            Expectation::Reply { name, field, want } => {
                let ex = self
                    .exchanges()
                    .iter()
                    .find(|x| x.command.name.as_deref() == Some(name.as_str()));
                match ex.and_then(|x| x.reply.as_ref().map(|r| (x, &r.1))) {
                    None => (false, "no reply".into()),
                    Some((x, frame)) => {
                        let got = match field {
                            // The reply's own frames, without the pushes
                            // redis-cli prints before it.
                            None => Some(crate::history::shown_reply(
                                &x.command.argv,
                                &[],
                                frame,
                                &x.more,
                            )),
                            // An INFO-style `field:value` line, or an
                            // aggregate's element by its 1-based number as
                            // redis-cli numbers it (ROLE's `1`: the role).
                            Some(f) => match (frame, f.parse::<usize>()) {
                                (Frame::Array(Some(items)), Ok(n)) if n >= 1 => items
                                    .get(n - 1)
                                    .map(|i| crate::proto::resp::shown(&x.command.argv, i)),
                                _ => frame
                                    .text()
                                    .and_then(|t| redis::info::field(t, f))
                                    .map(str::to_string),
                            },
                        };
                        match got {
                            Some(g) => (want.holds(&g), g),
                            None => (false, "absent".into()),
                        }
                    }
                }
            }
            Expectation::Messages {
                name,
                channel,
                count,
            } => {
                let ex = self
                    .exchanges()
                    .iter()
                    .find(|x| x.command.name.as_deref() == Some(name.as_str()));
                let n = ex.map_or(0, |x| {
                    x.messages
                        .iter()
                        .filter(|(_, m)| {
                            channel.as_deref().is_none_or(|want| {
                                crate::proto::pubsub::read_message(m)
                                    .is_some_and(|(c, _)| c == want)
                            })
                        })
                        .count() as u64
                });
                (count.holds(n), format!("{n} messages"))
            }
            Expectation::Keys { node, count, .. } => match self.server(*node) {
                Some(p) => (
                    count.holds(p.data.len() as u64),
                    format!("{} keys", p.data.len()),
                ),
                None => (false, "not running".into()),
            },
            Expectation::BusBytesPerMessage { node, count, .. } => {
                match self.server(*node).and_then(|p| p.cluster.as_ref()) {
                    Some(c) => {
                        let (msgs, bytes) = c.stats_bus_sent.get();
                        let avg = bytes.checked_div(msgs).unwrap_or(0);
                        (
                            msgs > 0 && count.holds(avg),
                            format!(
                                "{avg} bytes ({msgs} messages, {bytes} bytes; the header alone \
                                 is {} bytes, 2048 of them the slot bitmap)",
                                crate::proto::bus::HEADER_BYTES
                            ),
                        )
                    }
                    None => (false, "not running".into()),
                }
            }
            Expectation::Event {
                node,
                name,
                count,
                after,
                before,
            } => {
                let n = self.count_events(*node, name, *after, *before);
                (count.holds(n), format!("{n} times"))
            }
            Expectation::Resync {
                node,
                kind,
                count,
                after,
                before,
            } => {
                let n = self.count_events(Some(*node), kind.replica_event(), *after, *before);
                (count.holds(n), format!("{n} times"))
            }
            Expectation::LostAckedWrites(c) => {
                let lost = self.lost_writes();
                let n = lost.len() as u64;
                let first = lost
                    .first()
                    .map(|l| {
                        format!(
                            " (first: {} {} by {} acked at {})",
                            l.key,
                            l.verb(),
                            self.outside_writes().label(l.client),
                            Secs(l.acked_at)
                        )
                    })
                    .unwrap_or_default();
                (c.holds(n), format!("{n}{first}"))
            }
            Expectation::LostAckedDeletes(c) => {
                let n = self
                    .lost_writes()
                    .iter()
                    .filter(|l| l.kind == crate::history::OpKind::Del)
                    .count() as u64;
                (c.holds(n), n.to_string())
            }
            Expectation::LostWaitedWrites(c) => {
                // Only workload writes wait (WAIT after the write).
                let history = self.history();
                let n = self
                    .lost_writes()
                    .iter()
                    .filter(|l| {
                        history.iter().any(|o| {
                            o.client == l.client && o.seq == l.seq && o.wait_acked >= Some(1)
                        })
                    })
                    .count() as u64;
                (c.holds(n), n.to_string())
            }
            Expectation::MaxUnavailability(max) => match self.write_unavailability() {
                Some(gap) => (
                    gap.len() <= *max,
                    format!(
                        "{} from {} to {}",
                        Secs(gap.len()),
                        Secs(gap.from),
                        Secs(gap.to)
                    ),
                ),
                None => (true, "no gap".into()),
            },
            Expectation::Converged { .. } => match crate::check::invariants::converged(self) {
                Ok(()) => (true, "converged".into()),
                Err(why) => (false, why),
            },
            Expectation::StaleReads(c) => {
                let n = crate::check::stale::stale_reads(&self.history()).len() as u64;
                (c.holds(n), format!("{n}"))
            }
            Expectation::AckedWrites(c) => {
                let n = self.history().briefs().filter(|o| o.acked_write()).count() as u64;
                (c.holds(n), format!("{n}"))
            }
            Expectation::Invariant(name) => {
                match self.violations().iter().find(|v| v.property == name) {
                    Some(v) => (false, v.detail.clone()),
                    None => (true, "holds".into()),
                }
            }
            Expectation::ClientErrors { prefix, count } => {
                let n = self
                    .history()
                    .iter()
                    .filter(|o| matches!(&o.outcome, Outcome::Error(e) if e.starts_with(prefix.as_str())))
                    .count() as u64;
                (count.holds(n), format!("{n}"))
            }
        };
        Verdict {
            description,
            holds,
            observed,
        }
    }

    fn count_events(
        &self,
        node: Option<usize>,
        name: &str,
        after: Option<Micros>,
        before: Option<Micros>,
    ) -> u64 {
        self.trace()
            .events
            .iter()
            .filter(|e| e.event == name)
            .filter(|e| node.is_none_or(|n| e.node as usize == n))
            .filter(|e| after.is_none_or(|a| e.t >= a) && before.is_none_or(|b| e.t <= b))
            .count() as u64
    }
}
