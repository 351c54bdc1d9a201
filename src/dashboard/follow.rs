//! A recording fed from outside the simulator: the live page of a real
//! deployment (`redsim lab --real`). Whoever watches the processes hands it
//! events (published by the Sentinels, logged by the servers, caused by
//! the lab), each node's fields as INFO and SENTINEL MASTER give them, the
//! clients' operations and the writes lost so far; it gives the same page
//! and the same updates ([`super::live::Update`]) the simulated lab's page
//! reads. Nothing here is simulated: no messages are tapped, so the
//! message lists stay empty.

use super::data::{self, ClientView, EventRow, NetState, NodeInfo, Recording, Summary};
use super::live::Update;
use super::recorder::Sample;
use super::snapshot::Fields;
use crate::check::availability;
use crate::check::lost::LostWrite;
use crate::check::timeline;
use crate::check::windows::Window;
use crate::history::Op;
use crate::time::Micros;
use crate::trace::{Event, names};

/// Client buckets are sent again from this far back: operations complete
/// out of order across clients.
const RESEND: Micros = 2_000_000;

/// What was observed of a real deployment, and how far the pages have it.
pub struct Follow {
    scenario: String,
    nodes: Vec<NodeInfo>,
    names: Vec<String>,
    cluster: bool,
    faults: Vec<&'static str>,
    every: Micros,
    /// When the clients want to write: each writing workload's `[start,
    /// stop]`.
    demand: Vec<Window>,
    events: Vec<Event>,
    samples: Vec<Vec<Sample>>,
    last: Vec<Fields>,
    network: Vec<NetState>,
    ops: Vec<Op>,
    lost: Vec<LostWrite>,
    final_node: Option<usize>,
    now: Micros,
    sent: Sent,
}

/// How far the following pages' copies go.
#[derive(Default)]
struct Sent {
    events: usize,
    samples: Vec<usize>,
    buckets_back: Micros,
    now: Micros,
}

impl Follow {
    /// An empty recording of `nodes`; client outcomes are counted per
    /// `every`; the page offers `faults` on each node; clients want to
    /// write within `demand`.
    pub fn new(
        scenario: &str,
        nodes: Vec<NodeInfo>,
        cluster: bool,
        faults: Vec<&'static str>,
        every: Micros,
        demand: Vec<Window>,
    ) -> Self {
        let n = nodes.len();
        Self {
            scenario: scenario.to_string(),
            names: nodes.iter().map(|n| n.name.clone()).collect(),
            nodes,
            cluster,
            faults,
            every: every.max(1),
            demand,
            events: Vec::new(),
            samples: vec![Vec::new(); n],
            last: vec![Fields::new(); n],
            network: Vec::new(),
            ops: Vec::new(),
            lost: Vec::new(),
            final_node: None,
            now: 0,
            sent: Sent {
                samples: vec![0; n],
                ..Sent::default()
            },
        }
    }

    /// The events so far, in time order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Moves the page's end of the run to `t` (never back).
    pub fn set_now(&mut self, t: Micros) {
        self.now = self.now.max(t);
    }

    /// Appends events no earlier than the last one kept (an earlier one is
    /// put at that instant: the page reads the list in time order).
    pub fn push_events(&mut self, mut events: Vec<Event>) {
        events.sort_by_key(|e| e.t);
        for mut e in events {
            if let Some(last) = self.events.last() {
                e.t = e.t.max(last.t);
            }
            self.now = self.now.max(e.t);
            self.events.push(e);
        }
    }

    /// Node `n`'s fields at `t`: kept as the fields that changed since its
    /// previous sample.
    pub fn sample(&mut self, n: usize, t: Micros, now: Fields) {
        let Some(last) = self.last.get(n) else {
            return;
        };
        let changed = super::recorder::changed(last, &now);
        if !changed.is_empty() || self.samples[n].is_empty() {
            let t = self.samples[n].last().map_or(t, |s| s.t.max(t));
            self.samples[n].push(Sample { t, changed });
        }
        self.last[n] = now;
    }

    /// Node `n`'s latest fields.
    pub fn fields(&self, n: usize) -> Option<&Fields> {
        self.last.get(n)
    }

    /// The blocked links after a partition or heal at `t`.
    pub fn network(&mut self, state: NetState) {
        self.network.push(state);
    }

    /// A client's completed operation.
    pub fn push_op(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// Every client operation so far.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// The acknowledged writes missing from `node`'s data, as last read.
    pub fn set_lost(&mut self, node: Option<usize>, lost: Vec<LostWrite>) {
        self.final_node = node;
        self.lost = lost;
    }

    /// The page for what was observed so far; a page loaded now takes
    /// every update from the next one.
    pub fn page(&self) -> String {
        let (client, summary) = self.client_and_summary();
        let rec = Recording {
            schema: data::SCHEMA,
            scenario: self.scenario.clone(),
            description: None,
            question: None,
            answer: None,
            seed: 0,
            duration: self.now,
            live: true,
            real: true,
            faults: self.faults.clone(),
            sample_every: self.every,
            nodes: self.nodes.clone(),
            events: self.events.iter().map(data::event_row).collect(),
            messages: Vec::new(),
            streams: Vec::new(),
            messages_over_cap: 0,
            samples: self.samples.clone(),
            network: self.network.clone(),
            client,
            summary,
            plots: None,
        };
        super::page::html(&rec, (0, 0))
    }

    /// What changed since the last update, or `None` when nothing did. A
    /// `full` update also carries the client view and the outcome.
    pub fn update(&mut self, full: bool) -> Option<String> {
        let unchanged = self.now == self.sent.now
            && self.sent.events == self.events.len()
            && (self.samples.iter().map(Vec::len)).eq(self.sent.samples.iter().copied());
        if unchanged && !full {
            return None;
        }
        let back = self.sent.now.saturating_sub(RESEND);
        let (client, summary) = match full {
            true => {
                let (mut c, s) = self.client_and_summary();
                let from = c.buckets.partition_point(|b| b.0 < self.sent.buckets_back);
                c.buckets.drain(..from);
                self.sent.buckets_back = back;
                (Some((from, c)), Some(s))
            }
            false => (None, None),
        };
        let samples_from = self.sent.samples.clone();
        let update = Update {
            now: self.now,
            speed: 1.0,
            events_from: self.sent.events,
            events: (self.events[self.sent.events..].iter())
                .map(data::event_row)
                .collect::<Vec<EventRow>>(),
            messages_from: 0,
            messages: Vec::new(),
            streams_from: 0,
            streams: Vec::new(),
            messages_over_cap: 0,
            samples: (self.samples.iter().zip(&samples_from))
                .map(|(s, &from)| s[from.min(s.len())..].to_vec())
                .collect(),
            samples_from,
            network: self.network.clone(),
            buckets_from: client.as_ref().map_or(0, |c| c.0),
            client: client.map(|c| c.1),
            summary,
            spacetime: None,
        };
        self.sent.events = self.events.len();
        self.sent.samples = self.samples.iter().map(Vec::len).collect();
        self.sent.now = self.now;
        Some(serde_json::to_string(&update).expect("an update serialises"))
    }

    /// The client view and the outcome so far.
    pub fn client_and_summary(&self) -> (ClientView, Summary) {
        let (buckets, [acked, refused, indeterminate]) = data::tally(&self.ops, self.every);
        let (lost, reasons) = data::lost_rows(&self.lost, &self.events, &self.names, &|c| {
            format!("client-{c}")
        });
        let times = timeline::failover_times(&self.events);
        let summary = Summary {
            promoted: self.promoted(),
            final_node: self.final_node.map(|n| self.names[n].clone()),
            acked,
            refused,
            indeterminate,
            lost_writes: lost.len(),
            fault: times.fault,
            odown: times.odown,
            elected: times.elected,
            switch_master: times.switch_master,
            cluster: self.cluster,
            pfail: times.pfail,
            fail: times.fail,
            election: times.election,
            election_won: times.election_won,
            unavailable: self.unavailability().map(|g| [g.from, g.to]),
            verdicts: Vec::new(),
        };
        let client = ClientView {
            bucket: self.every,
            buckets,
            lost,
            reasons,
        };
        (client, summary)
    }

    /// The node the last `+switch-master` named (in a cluster, the last
    /// replica that won an election).
    fn promoted(&self) -> Option<String> {
        let last = |name: &str| self.events.iter().rev().find(|e| e.event == name);
        if self.cluster {
            let e = last(names::redis::ELECTION_WON)?;
            return self.names.get(e.node as usize).cloned();
        }
        let e = last(names::sentinel::SWITCH_MASTER)?;
        let f: Vec<&str> = e.detail.split_whitespace().collect();
        let (host, port) = (f.get(3)?, f.get(4)?.parse::<u16>().ok()?);
        let n = (self.nodes.iter()).position(|n| &n.host == host && n.port == port)?;
        Some(self.names[n].clone())
    }

    /// The longest stretch, so far, in which the clients wanted to write
    /// and none had a write acknowledged (as `RunView::write_unavailability`
    /// counts it).
    fn unavailability(&self) -> Option<Window> {
        let acks: Vec<Micros> = (self.ops.iter())
            .filter(|o| o.kind.is_write() && o.outcome.is_ok())
            .filter_map(|o| o.completed)
            .collect();
        let demand: Vec<Window> = (self.demand.iter())
            .filter(|w| w.from < self.now)
            .map(|w| Window {
                from: w.from,
                to: w.to.min(self.now),
            })
            .collect();
        availability::longest_write_gap(&acks, &demand)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{OpKind, Outcome};
    use crate::trace::{Level, Source};

    fn node(name: &str, port: u16) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            kind: "redis",
            host: "127.0.0.1".into(),
            port,
            shard: None,
            published: None,
        }
    }

    fn follow() -> Follow {
        Follow::new(
            "s",
            vec![node("master", 7000), node("replica-1", 7001)],
            false,
            vec!["kill"],
            100_000,
            vec![Window {
                from: 0,
                to: 20_000_000,
            }],
        )
    }

    fn event(t: Micros, name: &str, detail: &str) -> Event {
        Event {
            t,
            node: 0,
            source: Source::Sentinel,
            level: Level::Notice,
            event: name.to_string().into(),
            detail: detail.into(),
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn samples_keep_what_changed_and_updates_send_what_is_new() {
        let mut f = follow();
        f.sample(0, 10, fields(&[("role", "master"), ("status", "running")]));
        f.sample(0, 20, fields(&[("role", "master"), ("status", "running")]));
        f.sample(0, 30, fields(&[("status", "down")]));
        assert_eq!(f.samples[0].len(), 2, "an unchanged sample is not kept");
        let gone = &f.samples[0][1].changed;
        assert_eq!(gone.get("status"), Some(&Some("down".to_string())));
        assert_eq!(gone.get("role"), Some(&None), "a field that went away");
        f.set_now(30);
        let first: serde_json::Value = serde_json::from_str(&f.update(false).unwrap()).unwrap();
        assert_eq!(first["samples_from"][0], 0);
        assert_eq!(first["samples"][0].as_array().unwrap().len(), 2);
        assert!(f.update(false).is_none(), "nothing new");
        f.push_events(vec![event(40, "+sdown", "master mymaster 127.0.0.1 7000")]);
        let next: serde_json::Value = serde_json::from_str(&f.update(false).unwrap()).unwrap();
        assert_eq!(next["events_from"], 0);
        assert_eq!(next["events"][0][4], "+sdown");
        assert_eq!(next["samples_from"][0], 2);
        assert_eq!(next["now"], 40);
    }

    #[test]
    fn a_late_event_keeps_the_list_in_time_order() {
        let mut f = follow();
        f.push_events(vec![event(50, "+sdown", ""), event(20, "+odown", "")]);
        f.push_events(vec![event(30, "+try-failover", "")]);
        let ts: Vec<Micros> = f.events().iter().map(|e| e.t).collect();
        assert_eq!(ts, [20, 50, 50]);
    }

    #[test]
    fn the_summary_names_the_promoted_replica_by_its_real_address() {
        let mut f = follow();
        f.push_events(vec![
            Event {
                source: Source::Sim,
                ..event(1_000_000, "kill", "")
            },
            // Published by a Sentinel (node 3), not by the killed master.
            Event {
                node: 3,
                ..event(
                    6_000_000,
                    "+odown",
                    "master mymaster 127.0.0.1 7000 #quorum 2/2",
                )
            },
            Event {
                node: 3,
                ..event(
                    8_000_000,
                    "+switch-master",
                    "mymaster 127.0.0.1 7000 127.0.0.1 7001",
                )
            },
        ]);
        let op = |seq, invoked, completed, outcome| Op {
            completed: Some(completed),
            outcome,
            ..Op::pending(1, seq, OpKind::Set, "k".into(), 0, invoked)
        };
        f.push_op(op(1, 0, 100, Outcome::Ok));
        f.push_op(op(2, 500_000, 600_000, Outcome::Ok));
        f.push_op(op(3, 1_100_000, 1_600_000, Outcome::ConnectionLost));
        f.push_op(op(4, 9_000_000, 9_000_100, Outcome::Ok));
        f.set_now(10_000_000);
        let (client, s) = f.client_and_summary();
        assert_eq!(s.promoted.as_deref(), Some("replica-1"));
        assert_eq!(
            (s.fault, s.odown, s.switch_master),
            (Some(1_000_000), Some(6_000_000), Some(8_000_000))
        );
        assert_eq!((s.acked, s.refused, s.indeterminate), (3, 0, 1));
        // No acknowledged write from 600 ms (the second) to 9.0001 s; the
        // clients want to write until 20 s, and it is 10 s now.
        assert_eq!(s.unavailable, Some([600_000, 9_000_100]));
        f.set_now(30_000_000);
        let (_, s) = f.client_and_summary();
        assert_eq!(
            s.unavailable,
            Some([9_000_100, 20_000_000]),
            "the gap ends where the clients stop wanting to write"
        );
        assert_eq!(
            client.buckets.len(),
            4,
            "one per 100 ms bucket with a completion"
        );
    }
}
