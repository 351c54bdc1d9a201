//! What a run prints: its trace (JSONL or Redis-log text) and a summary of
//! expectations, client outcomes and lost writes.

use std::fmt::Write as _;

use crate::check::RunView as _;
use crate::check::outside::OutsideWrites;
use crate::check::timeline;
use crate::history::Seen;
use crate::time::{Micros, Secs};
use crate::trace;
use crate::trace::names;
use crate::world::{RunOutcome, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Jsonl,
}

/// The whole trace: a header line, then one line per event.
pub fn render_trace(world: &World, format: Format, seed: u64) -> String {
    let events = &world.trace().events;
    let mut out = String::with_capacity(events.len() * 120);
    match format {
        Format::Jsonl => {
            out.push_str(&trace::header_json(&world.plan.name, seed));
            out.push('\n');
            for e in events {
                out.push_str(&trace::event_json(e, &world.names));
                out.push('\n');
            }
            out.push_str(&trace::event_json(&closing_event(world), &world.names));
            out.push('\n');
        }
        Format::Text => {
            let _ = writeln!(
                out,
                "# {} — seed {} — {}",
                world.plan.name,
                seed,
                trace::SCHEMA
            );
            let roles = role_history(world);
            for (i, e) in events.iter().enumerate() {
                out.push_str(&trace::event_text(e, &world.names, roles[i]));
                out.push('\n');
            }
        }
    }
    out
}

/// The last line of a JSONL trace: what the clients saw, so a golden trace
/// also pins the run's outcome.
fn closing_event(world: &World) -> trace::Event {
    let [ok, err, unknown] = world.write_outcomes();
    trace::Event {
        t: world.sim.now(),
        node: world.plan.nodes.len() as u32,
        source: trace::Source::Sim,
        level: trace::Level::Notice,
        event: "outcome".into(),
        detail: format!(
            "writes acknowledged={ok} refused={err} indeterminate={unknown} lost={}",
            world.lost_writes().len()
        ),
    }
}

/// The role character of each event's node at the time of the event,
/// reconstructed from the role-changing log lines that precede it.
fn role_history(world: &World) -> Vec<char> {
    let mut roles = Roles::new(world);
    world.trace().events.iter().map(|e| roles.step(e)).collect()
}

/// Each node's role letter as the trace goes (M master, S replica, C
/// client, X Sentinel), as Redis's own log lines carry it.
pub struct Roles {
    current: Vec<char>,
}

impl Roles {
    /// The roles the plan starts with.
    pub fn new(world: &World) -> Self {
        let mut current: Vec<char> = world
            .plan
            .nodes
            .iter()
            .map(|p| match &p.kind {
                crate::scenario::NodeKind::Redis { replicaof, .. } => {
                    if replicaof.is_some() {
                        'S'
                    } else {
                        'M'
                    }
                }
                crate::scenario::NodeKind::Client(_) | crate::scenario::NodeKind::Operator => 'C',
                crate::scenario::NodeKind::Sentinel(_) => 'X',
            })
            .collect();
        current.resize(world.names.len(), '*');
        Self { current }
    }

    /// The role of the event's node as of this event.
    pub fn step(&mut self, e: &crate::trace::Event) -> char {
        let node = e.node as usize;
        match e.event.as_ref() {
            names::redis::MASTER_MODE => self.current[node] = 'M',
            names::redis::REPLICAOF_ENABLED | names::redis::CONNECTING_TO_MASTER => {
                self.current[node] = 'S'
            }
            _ => {}
        }
        self.current[node]
    }
}

/// A human summary of a finished run.
pub fn summary(outcome: &RunOutcome) -> String {
    let w = &outcome.world;
    let mut s = String::new();
    let _ = writeln!(s, "== summary: {}", w.plan.name);
    if let Some(q) = &w.plan.question {
        let _ = writeln!(s, "question: {q}");
    }
    if let Some(a) = &w.plan.answer {
        let _ = writeln!(s, "answer:   {a}");
    }
    for warning in &w.warnings {
        let _ = writeln!(s, "warning: {warning}");
    }
    for n in 0..w.plan.nodes.len() {
        if let Some(p) = w.server(n) {
            let _ = writeln!(
                s,
                "{:<10} {:<7} master_repl_offset={} replid={} keys={}",
                w.plan.nodes[n].name,
                w.role(n).unwrap_or("-"),
                p.master_repl_offset,
                &p.replid.as_str()[..8],
                p.data.len()
            );
        } else if w.redis(n).is_some() {
            let _ = writeln!(s, "{:<10} down", w.plan.nodes[n].name);
        }
    }
    let [ok, err, unknown] = w.write_outcomes();
    let _ = writeln!(
        s,
        "writes: {ok} acknowledged, {err} refused, {unknown} indeterminate (timeout or connection lost)"
    );
    rate_shortfalls(w, &mut s);
    let lost = w.lost_writes();
    let final_node = if w.plan.cluster.is_some() {
        "the master serving each key's slot".to_string()
    } else if w.plan.groups.len() > 1 {
        // Each replication group's own final state.
        let groups = w.plan.groups.iter().zip(w.final_nodes());
        let each: Vec<String> = groups
            .map(|(g, f)| {
                let name = f.map_or("none", |n| w.plan.nodes[n].name.as_str());
                format!("{name} for the group of {}", w.plan.nodes[g.master].name)
            })
            .collect();
        each.join(", ")
    } else {
        w.final_node()
            .map_or("none", |n| w.plan.nodes[n].name.as_str())
            .to_string()
    };
    let _ = writeln!(
        s,
        "lost acknowledged writes: {} (final state: {final_node})",
        lost.len()
    );
    let events = &w.trace().events;
    let outside = w.outside_writes();
    for l in lost.iter().take(5) {
        let holds = match l.found {
            Seen::Missing => "nothing".to_string(),
            Seen::Write(t) => format!("{} #{}", outside.label(t.client), t.seq),
            Seen::Counter => "a counter".to_string(),
        };
        let _ = writeln!(
            s,
            "  {} {} by {} #{} acknowledged at {}; final state holds {holds}\n    {}",
            l.key,
            l.verb(),
            outside.label(l.client),
            l.seq,
            Secs(l.acked_at),
            timeline::loss_reason(l, events, &w.names)
        );
    }
    if lost.len() > 5 {
        let _ = writeln!(s, "  … and {} more", lost.len() - 5);
    }
    outside_caveats(&outside, &mut s);
    let stale = crate::check::stale::stale_reads(&w.history());
    if !stale.is_empty() {
        let first = &stale[0];
        let _ = writeln!(
            s,
            "stale reads: {} (first: {} read from {} at {} missed client-{} #{})",
            stale.len(),
            first.key,
            w.names[first.node as usize],
            Secs(first.at),
            first.missed.client,
            first.missed.seq
        );
    }
    failover_summary(w, &mut s);
    if w.plan.cluster.is_some() {
        cluster_summary(&mut s, w);
    }
    if !outcome.verdicts.is_empty() {
        let _ = writeln!(s, "expectations:");
        for v in &outcome.verdicts {
            let _ = writeln!(
                s,
                "  [{}] {} (observed: {})",
                if v.holds { "ok" } else { "FAILED" },
                v.description,
                v.observed
            );
        }
    }
    s
}

/// Workloads that sent less than they were asked to because their ticks
/// found every request they may have in flight still unanswered.
fn rate_shortfalls(w: &World, s: &mut String) {
    let clients = w.workload_ticks();
    let asked: Vec<_> = clients.iter().map(|c| c.ticks).collect();
    for short in crate::check::rates::shortfalls(&asked, &w.history()) {
        let Some(client) = clients.iter().find(|c| c.ticks.0 == short.client) else {
            continue;
        };
        let name = w.names[client.node].as_str();
        let trip = match (short.mean_round_trip, short.longest_round_trip) {
            (Some(mean), Some(max)) => format!(
                " (round trips: mean {}, longest {})",
                human(mean),
                human(max)
            ),
            _ => String::new(),
        };
        // More requests in flight help when even the mean round trip
        // outlasts what they cover, not when a few long waits (a stalled
        // server) held the ticks.
        let steady = short
            .mean_round_trip
            .is_some_and(|m| m as f64 * short.asked > 1e6 * f64::from(client.in_flight));
        let held = match client.in_flight {
            1 => "its one request still in flight".to_string(),
            n => format!(
                "all {n} requests it may have in flight (connections x pipeline) unanswered"
            ),
        };
        let more = match (steady, client.cluster) {
            (false, _) => "",
            (true, true) => "; more cluster workloads would send more",
            (true, false) => "; more `connections` or `pipeline` would send more",
        };
        let _ = writeln!(
            s,
            "rate: {name} was asked for {}/s and sent {:.0}/s: {} of its {} ticks found {held}{trip}{more}",
            short.asked, short.reached, short.ticks.busy, short.ticks.total
        );
    }
}

/// A duration to read at a glance: 37.4ms, 1.02s, 500us.
fn human(t: Micros) -> String {
    if t >= 1_000_000 {
        format!("{:.2}s", t as f64 / 1e6)
    } else if t >= 1_000 {
        format!("{:.1}ms", t as f64 / 1e3)
    } else {
        format!("{t}us")
    }
}

/// What the lost-write count leaves out of outside clients' writes: the
/// keys a write it does not follow touched, or everything, when a write's
/// keys could not be told (see `check::outside`).
fn outside_caveats(outside: &OutsideWrites, s: &mut String) {
    if let Some(why) = &outside.unknown {
        let _ = writeln!(s, "  not checked: {why}");
        return;
    }
    if outside.unchecked.is_empty() {
        return;
    }
    let n = outside.unchecked.len();
    let _ = writeln!(
        s,
        "  {n} key{} not checked, written by commands the checker does not follow:",
        if n == 1 { "" } else { "s" }
    );
    for (key, by) in outside.unchecked.iter().take(5) {
        let _ = writeln!(s, "    {key} ({by})");
    }
    if n > 5 {
        let _ = writeln!(s, "    … and {} more", n - 5);
    }
}

/// Failover milestones, the replica selection, and write availability,
/// for runs that had a fault.
fn failover_summary(w: &World, s: &mut String) {
    let events = &w.trace().events;
    let times = timeline::failover_times(events);
    let Some(fault) = times.fault else { return };
    let since = |t: Option<u64>| t.map_or("never".to_string(), |t| format!("+{}", Secs(t - fault)));
    if w.plan.cluster.is_some() {
        let _ = writeln!(
            s,
            "failover: fault at {}; first PFAIL {}; FAIL {}; election {}; won {}",
            Secs(fault),
            since(times.pfail),
            since(times.fail),
            since(times.election),
            since(times.election_won)
        );
    }
    if !w.sentinels().is_empty() {
        let _ = writeln!(
            s,
            "failover: fault at {}; +odown {}; leader elected {}; +switch-master {}",
            Secs(fault),
            since(times.odown),
            since(times.elected),
            since(times.switch_master)
        );
        let mut selections: Vec<(usize, &crate::sentinel::failover::Selection)> = w
            .sentinels()
            .into_iter()
            .flat_map(|(i, sn)| sn.selections.iter().map(move |x| (i, x)))
            .collect();
        selections.sort_by_key(|(i, x)| (x.t, *i));
        let several = w.plan.groups.len() > 1;
        for (i, sel) in selections {
            // With several masters, the master whose failover it was.
            let of = if several {
                format!(" for {}", sel.master)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "replica selection by {}{of} in epoch {} at {}: {}",
                w.names[i],
                sel.epoch,
                Secs(sel.t),
                sel.chosen
                    .as_ref()
                    .map_or("none qualified".to_string(), |c| format!("{c} promoted"))
            );
            for c in &sel.candidates {
                let verdict = match c.excluded {
                    Some(r) => format!("excluded: {r}"),
                    None if sel.chosen.as_ref() == Some(&c.name) => "chosen".to_string(),
                    None => String::new(),
                };
                let _ = writeln!(
                    s,
                    "  {:<16} priority {:<4} offset {:<10} run id {:<10} {verdict}",
                    c.name,
                    c.priority,
                    c.offset,
                    c.runid.as_ref().map_or("?", |r| &r[..8]),
                );
            }
        }
    }
    let history = w.history();
    if let Some(gap) = w.write_unavailability() {
        let _ = writeln!(
            s,
            "longest time without an acknowledged write: {} (from {} to {})",
            Secs(gap.len()),
            Secs(gap.from),
            Secs(gap.to)
        );
    }
    if w.plan.groups.len() > 1 && w.write_unavailability().is_some() {
        for (g, gap) in w.plan.groups.iter().zip(w.group_unavailability()) {
            let _ = writeln!(
                s,
                "  in the group of {}: {}",
                w.plan.nodes[g.master].name,
                gap.map_or("no gap".to_string(), |gap| format!(
                    "{} (from {} to {})",
                    Secs(gap.len()),
                    Secs(gap.from),
                    Secs(gap.to)
                ))
            );
        }
    }
    for (a, b, win) in w.two_writable_masters(&history) {
        let _ = writeln!(
            s,
            "two masters acknowledged writes: {} and {} between {} and {}",
            w.names[a as usize],
            w.names[b as usize],
            Secs(win.from),
            Secs(win.to)
        );
    }
}

/// Cluster runs: each node's ID (the trace names nodes by ID, as Redis
/// logs them), role and slots at the end, and what clients were refused.
fn cluster_summary(s: &mut String, w: &World) {
    for n in 0..w.plan.nodes.len() {
        let Some(c) = w.server(n).and_then(|p| p.cluster.as_ref()) else {
            continue;
        };
        let me = c.me();
        let role = match me.slaveof.filter(|_| me.is_slave()) {
            Some(m) => format!("replica of {}", w.names[m as usize]),
            None => format!("master, slots {}", me.slots.ranges_text()),
        };
        let _ = writeln!(
            s,
            "cluster node {} = {}: {role}, configEpoch {}, currentEpoch {}, state {}",
            me.id,
            w.names[n],
            me.config_epoch,
            c.current_epoch,
            if c.state_ok { "ok" } else { "fail" }
        );
    }
    let mut errors: std::collections::BTreeMap<String, usize> = Default::default();
    for op in w.history().iter() {
        if let crate::history::Outcome::Error(e) = &op.outcome {
            let kind = e
                .split(' ')
                .take(if e.starts_with("MOVED") { 1 } else { 5 });
            *errors
                .entry(kind.collect::<Vec<_>>().join(" "))
                .or_default() += 1;
        }
    }
    for (e, count) in errors {
        let _ = writeln!(s, "client errors: {count} × -{e}");
    }
}
