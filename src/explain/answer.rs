//! The closing answer: the scenario's own answer, then the numbers this run
//! measured — failover milestones, the promotion, resyncs, writes lost and
//! why, unavailability, two-master windows, client errors, expectations.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::check::RunView as _;
use crate::check::{Verdict, timeline};
use crate::history::Outcome;
use crate::trace::names;

use super::context::{Context, thousands};

pub fn answer(cx: &Context, verdicts: &[Verdict]) -> String {
    let w = cx.world;
    let events = &w.trace().events;
    let mut out = String::new();
    if let Some(a) = &w.plan.answer {
        let _ = writeln!(out, "In short: {a}");
    }
    let _ = writeln!(out, "Measured in this run:");
    let mut say = |s: String| {
        let _ = writeln!(out, "- {s}");
    };
    let times = timeline::failover_times(events);
    if let (Some(f), true) = (times.fault, cx.sentinels > 0) {
        let after = |t: Option<u64>| t.map_or("never".to_string(), |t| Context::span(t - f));
        say(format!(
            "first fault at {}; +odown after {}, a leader elected after {}, +switch-master after {}",
            Context::secs(f),
            after(times.odown),
            after(times.elected),
            after(times.switch_master)
        ));
    }
    if let (Some(f), true) = (times.fault, w.plan.cluster.is_some()) {
        let after = |t: Option<u64>| t.map_or("never".to_string(), |t| Context::span(t - f));
        let election = match (times.election, times.election_won) {
            (None, _) => "no replica started an election".to_string(),
            (Some(s), None) => format!("an election started after {}, none won", after(Some(s))),
            (Some(s), won) => format!(
                "an election started after {}, won after {}",
                after(Some(s)),
                after(won)
            ),
        };
        say(format!(
            "first fault at {}; first PFAIL after {}, FAIL after {}, {election}",
            Context::secs(f),
            after(times.pfail),
            after(times.fail),
        ));
    }
    for line in cluster_elections(cx) {
        say(line);
    }
    for (i, s) in w.sentinels() {
        for sel in &s.selections {
            let chosen = sel
                .chosen
                .as_ref()
                .map_or("no replica".to_string(), |c| cx.at(c));
            say(format!(
                "{} chose {chosen} at {} in epoch {}",
                w.names[i],
                Context::secs(sel.t),
                sel.epoch
            ));
        }
    }
    for line in resyncs(cx) {
        say(line);
    }
    let outside = w.outside_writes();
    let history = w.all_writes(&outside);
    let (mut ok, mut refused, mut unknown) = (0u64, 0u64, 0u64);
    // Error replies by prefix: how many, first and last reply time.
    let mut errors: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for o in &history {
        if let Outcome::Error(e) = &o.outcome {
            let prefix = e.split_whitespace().next().unwrap_or("").to_string();
            let t = o.completed.unwrap_or(o.invoked);
            let entry = errors.entry(prefix).or_insert((0, t, t));
            entry.0 += 1;
            entry.1 = entry.1.min(t);
            entry.2 = entry.2.max(t);
        }
        if !o.kind.is_write() {
            continue;
        }
        match o.outcome {
            Outcome::Ok => ok += 1,
            Outcome::Error(_) => refused += 1,
            _ => unknown += 1,
        }
    }
    ok += outside.others[0] as u64;
    refused += outside.others[1] as u64;
    unknown += outside.others[2] as u64;
    if ok + refused + unknown > 0 {
        say(format!(
            "writes: {} acknowledged, {} refused with an error, {} of unknown fate (timeout or \
             connection lost)",
            thousands(ok),
            thousands(refused),
            thousands(unknown)
        ));
        let lost = w.lost_writes();
        let waited = lost
            .iter()
            .filter(|l| {
                history
                    .iter()
                    .any(|o| o.client == l.client && o.seq == l.seq && o.wait_acked >= Some(1))
            })
            .count();
        let compared = if w.plan.cluster.is_some() {
            "each key as the master now serving its slot holds it".to_string()
        } else if w.plan.groups.len() > 1 {
            // Each group's writes against that group's own final state.
            let each: Vec<String> = w
                .plan
                .groups
                .iter()
                .zip(w.final_nodes())
                .map(|(g, f)| {
                    let f = f.map_or("none", |n| w.names[n].as_str());
                    format!("{f} for the group of {}", w.names[g.master])
                })
                .collect();
            format!("each group's final state: {}", each.join(", "))
        } else {
            let final_node = w.final_node().map_or("none", |n| w.names[n].as_str());
            format!("the final state on {final_node}")
        };
        let mut s = format!(
            "lost acknowledged writes: {} (compared with {compared})",
            thousands(lost.len() as u64)
        );
        if waited > 0 {
            let _ = write!(
                s,
                "; {} of them had WAIT report at least one replica",
                thousands(waited as u64)
            );
        }
        say(s);
        if let Some(l) = lost.first() {
            say(format!(
                "the first lost write, {} by {}: {}",
                l.key,
                outside.label(l.client),
                timeline::loss_reason(l, events, &w.names)
            ));
        }
    }
    if let Some(gap) = w.write_unavailability() {
        say(format!(
            "longest time without an acknowledged write: {} (from {} to {})",
            Context::span(gap.len()),
            Context::secs(gap.from),
            Context::secs(gap.to)
        ));
    }
    let same = if w.plan.cluster.is_some() {
        " for the same slots"
    } else {
        ""
    };
    // World::two_writable_masters already leaves out the slots a reshard
    // was moving (their source and target both serve them, one key each).
    for (a, b, win) in w.two_writable_masters(&history) {
        let (a, b) = (&w.names[a as usize], &w.names[b as usize]);
        say(format!(
            "two nodes acknowledged writes{same} at the same time: {a} and {b}, from {} to {}",
            Context::secs(win.from),
            Context::secs(win.to)
        ));
    }
    for (prefix, (n, first, last)) in &errors {
        say(format!(
            "{prefix} error replies: {} (from {} to {})",
            thousands(*n),
            Context::secs(*first),
            Context::secs(*last)
        ));
    }
    let stale = crate::check::stale::stale_reads(&history).len();
    if stale > 0 {
        say(format!(
            "stale reads (older than an already acknowledged write): {}",
            thousands(stale as u64)
        ));
    }
    if let Some(layout) = final_layout(cx) {
        say(layout);
    }
    if let Some(bus) = bus_traffic(cx) {
        say(bus);
    }
    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.holds).collect();
    if !verdicts.is_empty() && failed.is_empty() {
        say(format!(
            "all {} expectations of the scenario hold",
            verdicts.len()
        ));
    } else {
        for v in failed {
            say(format!(
                "expectation FAILED: {} (observed: {})",
                v.description, v.observed
            ));
        }
    }
    out
}

/// Full and partial resyncs per Redis node, from the replicas' log lines.
fn resyncs(cx: &Context) -> Vec<String> {
    let w = cx.world;
    let mut out = Vec::new();
    for n in 0..w.plan.nodes.len() {
        if w.redis(n).is_none() {
            continue;
        }
        let count = |name: &str| {
            w.sim
                .kernel
                .trace
                .named(name)
                .filter(|e| e.node as usize == n)
                .count()
        };
        let full = count(names::redis::FULL_RESYNC);
        let partial = count(names::redis::PARTIAL_RESYNC_DONE);
        if full + partial > 0 {
            out.push(format!(
                "{}: {full} full resync{} (counting the initial sync), {partial} partial",
                w.names[n],
                if full == 1 { "" } else { "s" }
            ));
        }
    }
    out
}

/// Each won Cluster election: who won which epoch with whose votes.
fn cluster_elections(cx: &Context) -> Vec<String> {
    let trace = &cx.world.trace();
    let mut out = Vec::new();
    for won in trace.named(names::redis::ELECTION_WON) {
        let me = cx.name(won.node).to_string();
        let epoch = trace
            .events
            .iter()
            .take_while(|x| x.t <= won.t)
            .filter(|x| x.node == won.node && x.event == names::redis::ELECTION_STARTED)
            .filter_map(|x| x.detail.split_whitespace().last())
            .map(|w| w.trim_end_matches('.').to_string())
            .last()
            .unwrap_or_default();
        let voters: Vec<String> = trace
            .named(names::redis::AUTH_GRANTED)
            .take_while(|x| x.t <= won.t)
            .filter(|x| {
                cx.node_ids_in(&x.detail).first() == Some(&me)
                    && x.detail.split_whitespace().last() == Some(epoch.as_str())
            })
            .map(|x| cx.name(x.node).to_string())
            .collect();
        out.push(format!(
            "{me} won the election for epoch {epoch} at {} with {} vote{} ({})",
            Context::secs(won.t),
            voters.len(),
            if voters.len() == 1 { "" } else { "s" },
            voters.join(", ")
        ));
    }
    out
}

/// A cluster's final state: who serves which slots, in each running
/// master's own view, and who replicates from whom. There is no single
/// final master in a cluster.
fn final_layout(cx: &Context) -> Option<String> {
    let w = cx.world;
    w.plan.cluster.as_ref()?;
    let mut masters = Vec::new();
    for n in 0..w.plan.nodes.len() {
        let Some(c) = w.server(n).and_then(|p| p.cluster.as_ref()) else {
            continue;
        };
        let me = c.me();
        if !c.i_am_master() {
            continue;
        }
        let replicas: Vec<&str> = (0..w.plan.nodes.len())
            .filter(|&r| {
                w.server(r)
                    .and_then(|p| p.cluster.as_ref())
                    .is_some_and(|rc| !rc.i_am_master() && rc.me().slaveof == Some(n as _))
            })
            .map(|r| w.names[r].as_str())
            .collect();
        let slots = if me.slots.is_empty() {
            "no slots".to_string()
        } else {
            format!("slots {}", me.slots.ranges_text())
        };
        let with = if replicas.is_empty() {
            String::new()
        } else {
            format!(" (replicas: {})", replicas.join(", "))
        };
        let keys = w.server(n).map_or(0, |p| p.data.len());
        masters.push(format!(
            "{} serves {slots} and holds {} key{}{with}",
            w.names[n],
            thousands(keys as u64),
            if keys == 1 { "" } else { "s" }
        ));
    }
    let down: Vec<&str> = (0..w.plan.nodes.len())
        .filter(|&n| w.redis(n).is_some() && w.server(n).is_none())
        .map(|n| w.names[n].as_str())
        .collect();
    let mut s = format!(
        "final state (each master's own view; a cluster has one master per shard): {}",
        masters.join("; ")
    );
    if !down.is_empty() {
        let _ = write!(s, "; not running: {}", down.join(", "));
    }
    Some(s)
}

/// The Cluster bus messages the running nodes sent, and their average size.
fn bus_traffic(cx: &Context) -> Option<String> {
    let w = cx.world;
    w.plan.cluster.as_ref()?;
    let (msgs, bytes) = (0..w.plan.nodes.len())
        .filter_map(|n| w.server(n).and_then(|p| p.cluster.as_ref()))
        .map(|c| c.stats_bus_sent.get())
        .fold((0u64, 0u64), |(m, b), (m2, b2)| (m + m2, b + b2));
    let avg = bytes.checked_div(msgs)?;
    Some(format!(
        "cluster bus: the running nodes sent {} messages since they started, {} bytes on \
         average; each carries a {}-byte header, 2,048 bytes of which are the bitmap of the \
         slots the sender (or its master) serves: 16384 bits",
        thousands(msgs),
        thousands(avg),
        thousands(crate::proto::bus::HEADER_BYTES)
    ))
}
