//! What a run prints: its trace (JSONL or Redis-log text) and a summary of
//! expectations, client outcomes and lost writes.

use std::fmt::Write as _;

use crate::client::{OpKind, Outcome};
use crate::sim::time::Secs;
use crate::trace;
use crate::world::{RunOutcome, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Jsonl,
}

/// The whole trace: a header line, then one line per event.
pub fn render_trace(world: &World, format: Format, seed: u64) -> String {
    let events = &world.sim.kernel.trace.events;
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
    let (ok, err, unknown) = write_outcomes(world);
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

/// Writes acknowledged, refused with an error, and of unknown fate.
fn write_outcomes(world: &World) -> (usize, usize, usize) {
    let (mut ok, mut err, mut unknown) = (0, 0, 0);
    for o in world.history().iter().filter(|o| o.kind == OpKind::Set) {
        match o.outcome {
            Outcome::Ok => ok += 1,
            Outcome::Error(_) => err += 1,
            _ => unknown += 1,
        }
    }
    (ok, err, unknown)
}

/// The role character of each event's node at the time of the event,
/// reconstructed from the role-changing log lines that precede it.
fn role_history(world: &World) -> Vec<char> {
    let n = world.names.len();
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
            crate::scenario::NodeKind::Client(_) => 'C',
        })
        .collect();
    current.resize(n, '*');
    world
        .sim
        .kernel
        .trace
        .events
        .iter()
        .map(|e| {
            let node = e.node as usize;
            match e.event.as_ref() {
                "MASTER MODE enabled" => current[node] = 'M',
                "REPLICAOF enabled" | "Connecting to MASTER" => current[node] = 'S',
                _ => {}
            }
            current[node]
        })
        .collect()
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
    for n in 0..w.plan.nodes.len() {
        if let Some(p) = w.proc(n) {
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
    let (ok, err, unknown) = write_outcomes(w);
    let _ = writeln!(
        s,
        "writes: {ok} acknowledged, {err} refused, {unknown} indeterminate (timeout or connection lost)"
    );
    let lost = w.lost_writes();
    let final_node = w
        .final_node()
        .map_or("none", |n| w.plan.nodes[n].name.as_str());
    let _ = writeln!(
        s,
        "lost acknowledged writes: {} (final state: {final_node})",
        lost.len()
    );
    for l in lost.iter().take(5) {
        let _ = writeln!(
            s,
            "  key:{} written by client-{} #{} acknowledged at {}; final state holds {}",
            l.key,
            l.client,
            l.seq,
            Secs(l.acked_at),
            l.found.map_or("nothing".to_string(), |t| format!(
                "client-{} #{}",
                t.client, t.seq
            ))
        );
    }
    if lost.len() > 5 {
        let _ = writeln!(s, "  … and {} more", lost.len() - 5);
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
