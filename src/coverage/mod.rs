//! Coverage of a campaign: which abstract states of Redis's and Sentinel's
//! state machines its runs reached ([`state`]), which transitions between
//! them, and which kinds of log line and Sentinel event they printed, each
//! with the number of runs that reached it; and what no run reached. A
//! [`Coverage`] is stored in a fuzz summary and adds up across shards.

mod recorder;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use recorder::{Recorder, RunCoverage};
pub use state::Abstract;

/// Runs `plan` at `seed` to its end and returns what it reached.
pub fn record(
    plan: &crate::scenario::Plan,
    seed: u64,
) -> Result<RunCoverage, crate::sim::SimError> {
    let mut w = crate::world::World::new(plan, seed);
    w.sim
        .set_watcher(Some(Box::new(Recorder::new(w.sim.nodes.len()))));
    w.run_until(plan.duration)?;
    Ok(take(&mut w))
}

/// Takes a recorder back from a run's world, with the trace's line kinds.
pub fn take(w: &mut crate::world::World) -> RunCoverage {
    w.sim
        .take_watcher()
        .and_then(|r| r.into_any().downcast::<Recorder>().ok())
        .map(|r| r.finish(&w.sim.kernel.trace))
        .unwrap_or_default()
}

/// How many runs reached each state, transition, line kind and dimension
/// value; keyed by their labels, so files written by different versions
/// still compare.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub runs: u64,
    /// What the deployment has, for the values it can reach: Sentinels, a
    /// cluster.
    #[serde(default)]
    pub sentinels: bool,
    #[serde(default)]
    pub cluster: bool,
    pub states: BTreeMap<String, u64>,
    pub transitions: BTreeMap<String, u64>,
    pub lines: BTreeMap<String, u64>,
    /// `dimension: value` (a failover state, a link state, ...).
    pub dimensions: BTreeMap<String, u64>,
}

impl Coverage {
    /// Counts one run.
    pub fn add(&mut self, run: &RunCoverage) {
        self.runs += 1;
        for s in &run.states {
            *self.states.entry(s.label()).or_default() += 1;
        }
        for (a, b) in &run.transitions {
            *self
                .transitions
                .entry(format!("{} -> {}", a.label(), b.label()))
                .or_default() += 1;
        }
        for l in &run.lines {
            *self.lines.entry(l.clone()).or_default() += 1;
        }
        let dims: BTreeSet<String> = run
            .states
            .iter()
            .flat_map(|s| s.dimensions())
            .map(|(d, v)| format!("{d}: {v}"))
            .collect();
        for d in dims {
            *self.dimensions.entry(d).or_default() += 1;
        }
    }

    /// Adds another campaign's counts (a shard's).
    pub fn merge(&mut self, other: &Coverage) {
        self.runs += other.runs;
        self.sentinels |= other.sentinels;
        self.cluster |= other.cluster;
        for (mine, theirs) in [
            (&mut self.states, &other.states),
            (&mut self.transitions, &other.transitions),
            (&mut self.lines, &other.lines),
            (&mut self.dimensions, &other.dimensions),
        ] {
            for (k, n) in theirs {
                *mine.entry(k.clone()).or_default() += n;
            }
        }
    }

    /// The dimension values this deployment can take that no run reached.
    pub fn unreached_dimensions(&self) -> Vec<String> {
        state::universe(self.sentinels, self.cluster)
            .iter()
            .map(|(d, v)| format!("{d}: {v}"))
            .filter(|k| !self.dimensions.contains_key(k))
            .collect()
    }

    /// The catalogue's line kinds no run printed.
    pub fn unreached_lines(&self) -> Vec<&'static str> {
        crate::trace::catalogue::all()
            .filter(|l| !self.lines.contains_key(*l))
            .collect()
    }

    /// A report: totals, the `rarest` states and transitions, and what
    /// was never reached (every line kind too, with `all_lines`).
    pub fn report(&self, rarest: usize, all_lines: bool) -> String {
        let mut out = String::new();
        let lines_total = crate::trace::catalogue::all().count();
        let universe = state::universe(self.sentinels, self.cluster);
        let never = self.unreached_dimensions();
        out.push_str(&format!(
            "coverage over {} runs: {} abstract states, {} transitions, {} of {} log line kinds, {} of {} state values\n",
            self.runs,
            self.states.len(),
            self.transitions.len(),
            self.lines.len(),
            lines_total,
            universe.len() - never.len(),
            universe.len(),
        ));
        let rare = |m: &BTreeMap<String, u64>| {
            let mut v: Vec<(&String, &u64)> = m.iter().collect();
            v.sort_by_key(|(k, n)| (**n, (*k).clone()));
            v.into_iter()
                .take(rarest)
                .map(|(k, n)| format!("    {n:>6}  {k}\n"))
                .collect::<String>()
        };
        if !self.states.is_empty() {
            out.push_str("  rarest states (runs  state):\n");
            out.push_str(&rare(&self.states));
        }
        if !self.transitions.is_empty() {
            out.push_str("  rarest transitions:\n");
            out.push_str(&rare(&self.transitions));
        }
        if !never.is_empty() {
            out.push_str(&format!(
                "  state values never reached ({}):\n",
                never.len()
            ));
            for n in never {
                out.push_str(&format!("    {n}\n"));
            }
        }
        let unprinted = self.unreached_lines();
        if all_lines {
            out.push_str(&format!(
                "  log line kinds never printed ({}):\n",
                unprinted.len()
            ));
            for l in unprinted {
                out.push_str(&format!("    {l}\n"));
            }
        } else {
            out.push_str(&format!(
                "  log line kinds never printed: {} (`redsim fuzz coverage SUMMARY` lists them)\n",
                unprinted.len()
            ));
        }
        out
    }

    /// What each of two campaigns reached that the other did not.
    pub fn compare(&self, other: &Coverage, a: &str, b: &str) -> String {
        let mut out = String::new();
        for (name, mine, theirs) in [
            ("states", &self.states, &other.states),
            ("transitions", &self.transitions, &other.transitions),
            ("log line kinds", &self.lines, &other.lines),
        ] {
            let only_a: Vec<&String> = mine.keys().filter(|k| !theirs.contains_key(*k)).collect();
            let only_b: Vec<&String> = theirs.keys().filter(|k| !mine.contains_key(*k)).collect();
            out.push_str(&format!(
                "{name}: {} in both, {} only in {a}, {} only in {b}\n",
                mine.len() - only_a.len(),
                only_a.len(),
                only_b.len()
            ));
            for k in only_a {
                out.push_str(&format!("  only {a}: {k}\n"));
            }
            for k in only_b {
                out.push_str(&format!("  only {b}: {k}\n"));
            }
        }
        out
    }
}
