//! The recording as the page reads it: scenario, nodes, trace events,
//! messages, node samples, the network's partitions over time, the client
//! view and the run's outcome. Serialised as JSON in a fixed field order
//! (structs and vectors only), so the same run always gives the same bytes.

use std::collections::BTreeSet;

use serde::Serialize;

use super::recorder::Sample;
use super::tap::{Message, Stream, Wire};
use crate::check::RunView as _;
use crate::check::Verdict;
use crate::check::lost::LostWrite;
use crate::check::timeline;
use crate::history::{Op, OpKind, Outcome};
use crate::scenario::{Fault, NodeKind, Plan};
use crate::time::Micros;
use crate::trace::names;
use crate::trace::{Event, Level, Source};
use crate::world::{RunOutcome, World};

/// The version of the format below, for anyone reading the JSON.
pub const SCHEMA: &str = "redsim-dashboard/3";

#[derive(Serialize)]
pub struct Recording {
    pub schema: &'static str,
    pub scenario: String,
    pub description: Option<String>,
    pub question: Option<String>,
    pub answer: Option<String>,
    pub seed: u64,
    pub duration: Micros,
    /// A live lab's page: it follows `/events` for what happens next.
    pub live: bool,
    /// Real redis-server and redis-sentinel processes (`redsim lab
    /// --real`), not a simulation: no messages are tapped, and the state
    /// is what INFO and Sentinel's replies say.
    pub real: bool,
    /// The faults a live page offers on a node (`kill`, `crash`, `pause`,
    /// `partition`); restart and resume always.
    pub faults: Vec<&'static str>,
    pub sample_every: Micros,
    /// The processes; events about the whole network name node index
    /// `nodes.len()` ("sim").
    pub nodes: Vec<NodeInfo>,
    /// `[t, node, source, level, event, detail]`.
    pub events: Vec<EventRow>,
    pub messages: Vec<Message>,
    pub streams: Vec<Stream>,
    /// Control messages beyond the cap, counted in `streams` instead.
    pub messages_over_cap: u64,
    /// Per node, its samples (changed fields only).
    pub samples: Vec<Vec<Sample>>,
    /// The blocked directed links after each partition or heal.
    pub network: Vec<NetState>,
    pub client: ClientView,
    pub summary: Summary,
    /// A finished run's plots (latency, quantiles, throughput), drawn
    /// into the page rather than carried in its JSON; none while a lab
    /// runs.
    #[serde(skip)]
    pub plots: Option<crate::plots::Plots>,
}

#[derive(Clone, Serialize)]
pub struct NodeInfo {
    pub name: String,
    /// redis, sentinel, client, or operator (the redis-cli that sends the
    /// scenario's command lines and carries outside connections).
    pub kind: &'static str,
    pub host: String,
    pub port: u16,
    /// In a cluster, the shard the node was created in (its master's
    /// position among the masters); the page draws each shard as a group.
    pub shard: Option<u32>,
    /// Where the host publishes it (`[publish]`, as `redsim lab` does):
    /// the address its deployment hands out, `host:port`.
    pub published: Option<String>,
}

#[derive(Clone, Serialize)]
pub struct NetState {
    pub t: Micros,
    pub blocked: Vec<(u32, u32)>,
    pub detail: String,
}

#[derive(Serialize)]
pub struct ClientView {
    pub bucket: Micros,
    /// Per bucket of completion time, summed over clients (empty buckets
    /// left out).
    pub buckets: Vec<Bucket>,
    pub lost: Vec<LostRow>,
    /// Why writes were lost; many lost writes share one reason.
    pub reasons: Vec<String>,
}

/// `[t, acked, refused, indeterminate, reads]`: a bucket of the client
/// view.
pub type Bucket = (Micros, u32, u32, u32, u32);

#[derive(Serialize)]
pub struct LostRow {
    pub key: String,
    pub client: u32,
    /// The client's name: `client-N`, or an outside session's.
    pub by: String,
    pub seq: u32,
    pub node: u32,
    pub acked_at: Micros,
    /// Index in [`ClientView::reasons`].
    pub reason: usize,
}

#[derive(Serialize)]
pub struct Summary {
    /// The node `+switch-master` last named (None without a failover).
    pub promoted: Option<String>,
    /// The node whose data counts as the final state.
    pub final_node: Option<String>,
    pub acked: u32,
    pub refused: u32,
    pub indeterminate: u32,
    pub lost_writes: usize,
    pub fault: Option<Micros>,
    pub odown: Option<Micros>,
    pub elected: Option<Micros>,
    pub switch_master: Option<Micros>,
    /// A Redis Cluster's milestones instead: the first PFAIL, FAIL,
    /// election start and election won after the fault.
    pub cluster: bool,
    pub pfail: Option<Micros>,
    pub fail: Option<Micros>,
    pub election: Option<Micros>,
    pub election_won: Option<Micros>,
    /// The run's write unavailability, `[from, to]` (World::write_unavailability).
    pub unavailable: Option<[Micros; 2]>,
    pub verdicts: Vec<VerdictRow>,
}

#[derive(Serialize)]
pub struct VerdictRow {
    pub description: String,
    pub holds: bool,
    pub observed: String,
}

/// One trace event as the page reads it: `[t, node, source, level, event,
/// detail]`.
pub type EventRow = (Micros, u32, &'static str, char, String, String);

/// Assembles the recording of a finished run.
pub fn build(
    outcome: &RunOutcome,
    seed: u64,
    samples: Vec<Vec<Sample>>,
    wire: Wire,
    sample_every: Micros,
) -> Recording {
    let mut rec = build_world(
        &outcome.world,
        &outcome.verdicts,
        seed,
        samples,
        wire,
        sample_every,
    );
    rec.plots = crate::plots::of(&outcome.world).ok();
    rec
}

/// The recording of `w` as it stands: a finished run's, or a live lab's so
/// far (then with no verdicts).
pub fn build_world(
    w: &World,
    verdicts: &[Verdict],
    seed: u64,
    samples: Vec<Vec<Sample>>,
    wire: Wire,
    sample_every: Micros,
) -> Recording {
    let plan = &w.plan;
    let (client, summary) = client_and_summary(w, verdicts, sample_every);
    Recording {
        schema: SCHEMA,
        scenario: plan.name.clone(),
        description: plan.description.clone(),
        question: plan.question.clone(),
        answer: plan.answer.clone(),
        seed,
        duration: plan.duration,
        live: false,
        real: false,
        faults: Vec::new(),
        sample_every,
        nodes: nodes(w),
        events: events_from(w, 0),
        messages: wire.messages,
        streams: wire.streams,
        messages_over_cap: wire.over_cap,
        samples,
        network: network(w),
        client,
        summary,
        plots: None,
    }
}

/// The kind of a process, as the page names it.
pub fn kind_name(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::Sentinel(_) => "sentinel",
        NodeKind::Client(_) => "client",
        NodeKind::Operator => "operator",
        NodeKind::Redis { .. } => "redis",
    }
}

/// In a cluster, node `i`'s shard: its master's position among the
/// masters as the cluster was created.
pub fn shard(plan: &Plan, i: usize) -> Option<u32> {
    let c = plan.cluster.as_ref()?;
    let master = c.replica_of.get(i).map(|m| m.unwrap_or(i))?;
    Some((0..master).filter(|&j| c.replica_of[j].is_none()).count() as u32)
}

/// The processes, each with its kind and, in a cluster, its shard.
fn nodes(w: &World) -> Vec<NodeInfo> {
    let plan = &w.plan;
    plan.nodes
        .iter()
        .enumerate()
        .map(|(i, n)| NodeInfo {
            name: n.name.clone(),
            kind: kind_name(&n.kind),
            host: n.host.clone(),
            port: n.port,
            shard: shard(plan, i),
            published: (w.dir.published.get(i))
                .and_then(Option::as_ref)
                .map(|(h, p)| format!("{h}:{p}")),
        })
        .collect()
}

/// The trace's events from index `from` on.
pub fn events_from(w: &World, from: usize) -> Vec<EventRow> {
    w.trace().events[from.min(w.trace().events.len())..]
        .iter()
        .map(event_row)
        .collect()
}

/// One trace event as the page reads it.
pub fn event_row(e: &Event) -> EventRow {
    let source = match e.source {
        Source::Log => "log",
        Source::Sentinel => "sentinel",
        Source::Sim => "sim",
    };
    let level = match e.level {
        Level::Verbose => '-',
        Level::Notice => '*',
        Level::Warning => '#',
    };
    (
        e.t,
        e.node,
        source,
        level,
        e.event.to_string(),
        e.detail.clone(),
    )
}

/// The client view and the run's outcome so far.
pub fn client_and_summary(
    w: &World,
    verdicts: &[Verdict],
    sample_every: Micros,
) -> (ClientView, Summary) {
    let times = timeline::failover_times(&w.trace().events);
    let (client, acked, refused, indeterminate) = client_view(w, sample_every);
    let summary = Summary {
        promoted: promoted(w),
        final_node: w.final_node().map(|n| w.names[n].clone()),
        acked,
        refused,
        indeterminate,
        lost_writes: client.lost.len(),
        fault: times.fault,
        odown: times.odown,
        elected: times.elected,
        switch_master: times.switch_master,
        cluster: w.plan.cluster.is_some(),
        pfail: times.pfail,
        fail: times.fail,
        election: times.election,
        election_won: times.election_won,
        unavailable: w.write_unavailability().map(|g| [g.from, g.to]),
        verdicts: verdicts
            .iter()
            .map(|v| VerdictRow {
                description: v.description.clone(),
                holds: v.holds,
                observed: v.observed.clone(),
            })
            .collect(),
    };
    (client, summary)
}

/// The node the last `+switch-master` named as the new master (in a
/// cluster: the last replica that won an election).
pub fn promoted(w: &World) -> Option<String> {
    if w.plan.cluster.is_some() {
        let e = w
            .sim
            .kernel
            .trace
            .named(names::redis::ELECTION_WON)
            .last()?;
        return Some(w.names[e.node as usize].clone());
    }
    let e = w.trace().named(names::sentinel::SWITCH_MASTER).last()?;
    let f: Vec<&str> = e.detail.split_whitespace().collect();
    let (host, port) = (f.get(3)?, f.get(4)?.parse::<u16>().ok()?);
    let n = w.dir.lookup(host, port)?;
    Some(w.names[n as usize].clone())
}

/// The directed links a partition blocks, after every partition or heal.
pub fn network(w: &World) -> Vec<NetState> {
    let mut faults: Vec<(usize, &(Micros, Fault))> = w.plan.faults.iter().enumerate().collect();
    faults.sort_by_key(|(i, (t, _))| (*t, *i));
    let mut blocked: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut out = Vec::new();
    let block = |blocked: &mut BTreeSet<(u32, u32)>, from: &[usize], to: &[usize]| {
        for &a in from {
            for &b in to {
                if a != b {
                    blocked.insert((a as u32, b as u32));
                }
            }
        }
    };
    for (_, (t, fault)) in faults {
        let detail = match fault {
            Fault::Partition(groups) => {
                for (i, a) in groups.iter().enumerate() {
                    for (j, b) in groups.iter().enumerate() {
                        if i != j {
                            block(&mut blocked, a, b);
                        }
                    }
                }
                "partition"
            }
            Fault::PartitionOneWay { from, to } => {
                block(&mut blocked, from, to);
                "one-way partition"
            }
            Fault::Heal => {
                blocked.clear();
                "heal"
            }
            _ => continue,
        };
        out.push(NetState {
            t: *t,
            blocked: blocked.iter().copied().collect(),
            detail: detail.to_string(),
        });
    }
    out
}

/// How one operation counts in the client view.
#[derive(Clone, Copy)]
enum Seen {
    Acked,
    Refused,
    Indeterminate,
    Read,
}

/// Client outcomes per bucket of time, the lost writes with their reasons,
/// and the totals (acknowledged, refused, indeterminate writes).
fn client_view(w: &World, bucket: Micros) -> (ClientView, u32, u32, u32) {
    let outside = w.outside_writes();
    let writes = w.all_writes(&outside);
    let (buckets, [mut acked, mut refused, mut unknown]) = tally(writes.iter(), bucket);
    // Outside writes the lost-write checker does not follow count in the
    // totals, not in the buckets.
    acked += outside.others[0] as u32;
    refused += outside.others[1] as u32;
    unknown += outside.others[2] as u32;
    let (lost, reasons) = lost_rows(&w.lost_writes(), &w.trace().events, &w.names, &|c| {
        outside.label(c)
    });
    (
        ClientView {
            bucket: bucket.max(1),
            buckets,
            lost,
            reasons,
        },
        acked,
        refused,
        unknown,
    )
}

/// Per bucket of completion time, `[t, acked, refused, indeterminate,
/// reads]` (empty buckets left out), and the totals of acknowledged,
/// refused and indeterminate writes.
pub fn tally<O: std::borrow::Borrow<Op>>(
    ops: impl IntoIterator<Item = O>,
    bucket: Micros,
) -> (Vec<Bucket>, [u32; 3]) {
    let bucket = bucket.max(1);
    let mut totals = [0u32; 3];
    let mut rows: Vec<(Micros, Seen)> = Vec::new();
    for o in ops {
        let o = o.borrow();
        let seen = match (o.kind.is_write(), &o.outcome) {
            (_, Outcome::Pending) => continue,
            _ if o.kind == OpKind::Publish => continue,
            (false, Outcome::Ok) => Seen::Read,
            (false, _) => continue,
            (true, Outcome::Ok) => Seen::Acked,
            (true, Outcome::Error(_)) => Seen::Refused,
            (true, _) => Seen::Indeterminate,
        };
        match seen {
            Seen::Acked => totals[0] += 1,
            Seen::Refused => totals[1] += 1,
            Seen::Indeterminate => totals[2] += 1,
            Seen::Read => {}
        }
        rows.push((o.completed.unwrap_or(o.invoked) / bucket * bucket, seen));
    }
    rows.sort_by_key(|r| r.0);
    let mut buckets: Vec<Bucket> = Vec::new();
    for (t, seen) in rows {
        if buckets.last().is_none_or(|b| b.0 != t) {
            buckets.push((t, 0, 0, 0, 0));
        }
        let b = buckets.last_mut().expect("pushed");
        match seen {
            Seen::Acked => b.1 += 1,
            Seen::Refused => b.2 += 1,
            Seen::Indeterminate => b.3 += 1,
            Seen::Read => b.4 += 1,
        }
    }
    (buckets, totals)
}

/// The lost writes as the page lists them, each with the index of its
/// reason (what happened next to the node that acknowledged it) among the
/// distinct reasons; `by` names a write's client.
pub fn lost_rows(
    lost: &[LostWrite],
    events: &[Event],
    names: &[String],
    by: &dyn Fn(u32) -> String,
) -> (Vec<LostRow>, Vec<String>) {
    let mut reasons: indexmap::IndexSet<String> = indexmap::IndexSet::new();
    let rows = lost
        .iter()
        .map(|l| LostRow {
            key: l.key.to_string(),
            client: l.client,
            by: by(l.client),
            seq: l.seq,
            node: l.node,
            acked_at: l.acked_at,
            reason: reasons
                .insert_full(timeline::loss_reason(l, events, names))
                .0,
        })
        .collect();
    (rows, reasons.into_iter().collect())
}
