//! `redsim explain`: a run told for a learner. The setup in a paragraph,
//! then each step that matters in plain words tied to its trace time, the
//! decisions with their reasons (why this replica, why a full resync), and a
//! closing answer to the scenario's question with the measured numbers.

mod answer;
mod cluster;
mod context;
mod line;
mod narrate;
mod probe;
mod selection;
mod setup;

use std::fmt::Write as _;

use crate::scenario::Plan;
use crate::sim::SimError;
use crate::world;

pub use context::thousands;
pub use line::Line;

/// Runs `plan` with `seed` and narrates the run.
pub fn explain(plan: &Plan, seed: u64) -> Result<String, SimError> {
    let outcome = world::run(plan, seed)?;
    let mut cx = context::Context::new(&outcome.world);
    cx.probes = probe::backlogs(plan, seed, &outcome.world.trace().events)?;
    let events = &outcome.world.trace().events;
    let mut lines = Vec::new();
    let mut skipped = 0usize;
    for e in events {
        match narrate::narrate(&cx, e) {
            Some(l) => lines.push(l),
            None => skipped += 1,
        }
    }
    let steps = collapse(lines);
    let mut out = String::new();
    let _ = writeln!(out, "# {} (seed {seed})", plan.name);
    if let Some(q) = &plan.question {
        let _ = writeln!(out, "Question: {q}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Setup");
    out.push_str(&setup::describe(&cx));
    let _ = writeln!(out);
    let _ = writeln!(out, "## What happens");
    if steps.is_empty() {
        let _ = writeln!(out, "Nothing notable: no fault, no resync, no failover.");
    }
    for s in &steps {
        let _ = writeln!(out, "{}", render(s));
    }
    let _ = writeln!(
        out,
        "({} routine log lines — handshakes, PINGs, hellos, role reports — are left out; \
         `redsim run` prints them all.)",
        thousands((skipped + steps.iter().map(|s| s.folded).sum::<usize>()) as u64)
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "## Answer");
    out.push_str(&answer::answer(&cx, &outcome.verdicts));
    Ok(out)
}

/// A narrated step after merging: the first line, the other nodes that
/// took the same step, and how often a node repeated it.
#[derive(Clone, Debug)]
pub struct Step {
    pub line: Line,
    pub also: Vec<(String, u64)>,
    pub repeats: usize,
    pub last: u64,
    /// Lines folded into this step.
    pub folded: usize,
}

/// How many recent steps a Sentinel's step may be merged into.
const MERGE_WINDOW: usize = 6;

/// Tells the same step taken by several Sentinels once, and a repeated step
/// of one node (a refused connect every second) once with a count.
fn collapse(lines: Vec<Line>) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    // For each node, the index of its last step, to fold repeats into.
    let mut last_of: std::collections::BTreeMap<String, usize> = Default::default();
    for l in lines {
        // A recent step (the last few, within a second of the last node
        // told in it) with the same key: processes whose timers beat at
        // different phases take the same step over a second or two.
        let mergeable = l.merge.as_ref().and_then(|_| {
            let from = steps.len().saturating_sub(MERGE_WINDOW);
            (from..steps.len()).rev().find(|&i| {
                let s = &steps[i];
                let latest = s.also.last().map_or(s.line.t, |(_, t)| *t);
                s.line.merge == l.merge
                    && l.t.saturating_sub(latest) <= 1_000_000
                    && s.line.who != l.who
                    && !s.also.iter().any(|(w, _)| *w == l.who)
            })
        });
        if let Some(i) = mergeable {
            steps[i].also.push((l.who.clone(), l.t));
            steps[i].folded += 1;
            continue;
        }
        // A node taking again, within a second, a step it is already told
        // in (a second UPDATE to the same node): nothing new to tell.
        let again = l.merge.as_ref().and_then(|_| {
            let from = steps.len().saturating_sub(MERGE_WINDOW);
            (from..steps.len()).rev().find(|&i| {
                let s = &steps[i];
                s.line.merge == l.merge
                    && l.t.saturating_sub(s.line.t) <= 1_000_000
                    && (s.line.who == l.who || s.also.iter().any(|(w, _)| *w == l.who))
            })
        });
        if let Some(i) = again {
            steps[i].folded += 1;
            continue;
        }
        if l.repeat
            && let Some(&i) = last_of.get(&l.who)
            && steps[i].line.what == l.what
        {
            steps[i].repeats += 1;
            steps[i].last = l.t;
            steps[i].folded += 1;
            continue;
        }
        last_of.insert(l.who.clone(), steps.len());
        steps.push(Step {
            last: l.t,
            line: l,
            also: Vec::new(),
            repeats: 0,
            folded: 0,
        });
    }
    steps
}

fn render(s: &Step) -> String {
    let who = if s.line.who == "sim" {
        "the network".to_string()
    } else {
        s.line.who.clone()
    };
    let mut text = format!(
        "- at {} {} {}",
        context::Context::secs(s.line.t),
        who,
        s.line.what
    );
    if !s.also.is_empty() {
        let others: Vec<String> = s
            .also
            .iter()
            .map(|(w, t)| format!("{w} at {}", context::Context::secs(*t)))
            .collect();
        let _ = write!(text, " (likewise {})", others.join(", "));
    }
    if s.repeats > 0 {
        let _ = write!(
            text,
            " (again {} times, until {})",
            s.repeats,
            context::Context::secs(s.last)
        );
    }
    text.push('.');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: u64, who: &str, what: &str, merge: Option<&str>, repeat: bool) -> Line {
        Line {
            t,
            who: who.into(),
            what: what.into(),
            merge: merge.map(str::to_string),
            repeat,
        }
    }

    #[test]
    fn same_step_by_several_nodes_is_told_once_and_repeats_are_counted() {
        let steps = collapse(vec![
            line(1, "sentinel-1", "marks", Some("+sdown x"), false),
            line(2, "sentinel-2", "marks", Some("+sdown x"), false),
            line(3, "replica-1", "cannot connect", None, true),
            line(4, "master", "is restarted", None, false),
            line(5, "replica-1", "cannot connect", None, true),
            line(6, "replica-1", "cannot connect", None, true),
        ]);
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].also, vec![("sentinel-2".to_string(), 2)]);
        assert_eq!(steps[1].repeats, 2);
        assert_eq!(steps[1].last, 6);
        assert_eq!(
            render(&steps[1]),
            "- at 0.000 s replica-1 cannot connect (again 2 times, until 0.000 s)."
        );
    }
}
