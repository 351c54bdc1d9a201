//! The watcher that records one run's coverage: after every event, the
//! abstract state of each process it touched, and each change of state.

use std::collections::BTreeSet;

use rustc_hash::FxHashSet;

use crate::redis::facts::RedisFacts;
use crate::sim::Watcher;
use crate::sim::net::NodeId;
use crate::time::Micros;
use crate::trace::{Source, Trace};
use crate::world::Process;

use super::state::{Abstract, EpochPlace, FailoverStep, OffsetPlace, RedisState, SentinelState};

/// What one run reached: sets, so a campaign counts runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunCoverage {
    pub states: BTreeSet<Abstract>,
    pub transitions: BTreeSet<(Abstract, Abstract)>,
    /// The kinds of Redis log line and Sentinel event printed.
    pub lines: BTreeSet<String>,
    /// With [`Recorder::with_grid`]: a fingerprint of the whole abstract
    /// state (every process's) at each instant of the grid, taken before
    /// anything at that instant happens.
    pub timeline: Vec<(Micros, u64)>,
}

/// The instants at which a recorder fingerprints the abstract state.
#[derive(Debug)]
struct Grid {
    next: Micros,
    step: Micros,
    until: Micros,
    prints: Vec<(Micros, u64)>,
}

/// Installed in a run's simulation (`Simulation::set_watcher`); taken back
/// at the end with the trace's line kinds added ([`Recorder::finish`]).
#[derive(Debug)]
pub struct Recorder {
    /// The latest facts of each Redis server (`None`: down, or not one).
    facts: Vec<Option<RedisFacts>>,
    /// The highest current epoch any Sentinel, and any cluster node, has
    /// reached (epochs only grow).
    sentinel_epoch: u64,
    cluster_epoch: u64,
    /// The last state of each (node, monitored master) slot.
    last: Vec<Vec<Option<Abstract>>>,
    /// Nodes that are Redis servers or Sentinels, whose lines count.
    model: Vec<bool>,
    /// What was reached so far: hashed while the run goes (a replica's
    /// place flips between in sync and in the backlog with every write),
    /// sorted at the end.
    states: FxHashSet<Abstract>,
    transitions: FxHashSet<(Abstract, Abstract)>,
    grid: Option<Grid>,
}

impl Recorder {
    pub fn new(nodes: usize) -> Recorder {
        Recorder {
            facts: vec![None; nodes],
            sentinel_epoch: 0,
            cluster_epoch: 0,
            last: vec![Vec::new(); nodes],
            model: vec![false; nodes],
            states: FxHashSet::default(),
            transitions: FxHashSet::default(),
            grid: None,
        }
    }

    /// A recorder that also fingerprints the abstract state at `from`,
    /// `from + step`, ... before `until` (`redsim explore`).
    pub fn with_grid(nodes: usize, from: Micros, step: Micros, until: Micros) -> Recorder {
        let mut r = Recorder::new(nodes);
        r.grid = Some(Grid {
            next: from,
            step: step.max(1),
            until,
            prints: Vec::new(),
        });
        r
    }

    /// A hash of every process's abstract state (FxHash: the same on every
    /// machine and run). A replica a write or two behind counts as in
    /// sync: at any instant some write is on its way, and either way a
    /// PSYNC would continue it.
    fn fingerprint(last: &[Vec<Option<Abstract>>]) -> u64 {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = rustc_hash::FxHasher::default();
        for slots in last {
            for s in slots {
                let s = s.map(|a| match a {
                    Abstract::Redis(mut r) if r.offset == OffsetPlace::InBacklog => {
                        r.offset = OffsetPlace::InSync;
                        Abstract::Redis(r)
                    }
                    a => a,
                });
                s.hash(&mut h);
            }
        }
        h.finish()
    }

    /// The grid instants up to `now` have passed: what held before `now`
    /// held at each of them.
    fn passed(&mut self, now: Micros) {
        if let Some(g) = self.grid.as_mut() {
            while g.next <= now && g.next < g.until {
                g.prints.push((g.next, Self::fingerprint(&self.last)));
                g.next += g.step;
            }
        }
    }

    /// The run's coverage, with the line kinds its Redis servers and
    /// Sentinels printed.
    pub fn finish(mut self, trace: &Trace) -> RunCoverage {
        let mut kinds: BTreeSet<&str> = BTreeSet::new();
        for e in &trace.events {
            let model = self.model.get(e.node as usize).copied().unwrap_or(false);
            if model && matches!(e.source, Source::Log | Source::Sentinel) {
                kinds.insert(&e.event);
            }
        }
        // Instants after the last event: nothing changed since.
        self.passed(Micros::MAX - 1);
        RunCoverage {
            states: self.states.into_iter().collect(),
            transitions: self.transitions.into_iter().collect(),
            lines: kinds.into_iter().map(str::to_string).collect(),
            timeline: self.grid.map(|g| g.prints).unwrap_or_default(),
        }
    }

    fn enter(&mut self, node: usize, slot: usize, state: Abstract) {
        let slots = &mut self.last[node];
        if slots.len() <= slot {
            slots.resize(slot + 1, None);
        }
        let before = slots[slot].replace(state);
        if before == Some(state) {
            return;
        }
        self.states.insert(state);
        if let Some(b) = before {
            self.transitions.insert((b, state));
        }
    }

    /// Every slot of `node` is down (or stopped).
    fn all_slots(&mut self, node: usize, state: Abstract) {
        let n = self.last[node].len().max(1);
        for slot in 0..n {
            self.enter(node, slot, state);
        }
    }
}

impl Watcher<Process> for Recorder {
    fn touched(&mut self, now: Micros, node: NodeId, process: &Process, runs: bool) {
        self.passed(now);
        let i = node as usize;
        self.model[i] = matches!(process, Process::Redis(_) | Process::Sentinel(_));
        match process {
            Process::Redis(r) => {
                let facts = r.facts(now);
                self.facts[i] = facts;
                let Some(f) = facts else {
                    return self.enter(i, 0, Abstract::Down);
                };
                if !runs {
                    return self.enter(i, 0, Abstract::Stopped);
                }
                if let Some(c) = f.cluster {
                    self.cluster_epoch = self.cluster_epoch.max(c.current_epoch);
                }
                let master = f
                    .follows
                    .and_then(|m| self.facts.get(m as usize))
                    .and_then(Option::as_ref);
                let state = RedisState::of(&f, master, self.cluster_epoch);
                self.enter(i, 0, Abstract::Redis(state));
            }
            Process::Sentinel(s) => {
                let Some(st) = s.state.as_ref() else {
                    return self.all_slots(i, Abstract::Down);
                };
                if !runs {
                    return self.all_slots(i, Abstract::Stopped);
                }
                self.sentinel_epoch = self.sentinel_epoch.max(st.current_epoch);
                let highest = self.sentinel_epoch;
                for (slot, m) in st.masters.iter().enumerate() {
                    let state = SentinelState {
                        sdown: m.inst.s_down,
                        odown: m.o_down,
                        failover: FailoverStep::of(m.failover_state),
                        epoch: EpochPlace::of(st.current_epoch, highest),
                        tilt: st.tilt,
                    };
                    self.enter(i, slot, Abstract::Sentinel(state));
                }
            }
            _ => {}
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}
