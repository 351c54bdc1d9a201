//! Exhaustive exploration of small deployments (`redsim explore`): every
//! placement of up to k faults on a time grid, walked breadth-first, so the
//! first schedule that breaks a property is a shortest one.
//!
//! A fault is a slot: an instant of the grid, a kind, a target and how long
//! it holds before it is undone (the fuzzer's restart, resume or heal). A
//! schedule is a set of slots taken in slot order, so each set is run once.
//!
//! Pruning: a schedule of depth d+1 is its depth-d prefix plus one fault at
//! instant t. Up to t it runs exactly as the prefix did, so its future is
//! decided by the state at t, the prefix's faults still to be undone, and
//! the new fault. Each run records a fingerprint of the abstract state of
//! every process at each grid instant ([`crate::coverage::Recorder::with_grid`]);
//! when two prefixes reach the same fingerprint with the same faults
//! pending, only the first is extended by a given fault, and the other's
//! extension (with everything that would extend it) counts as saved. The
//! pruning is exact up to the abstraction: two states with one fingerprint
//! are taken to have the same future. `--no-prune` runs every schedule.

use std::collections::BTreeSet;

use crate::scenario::{FaultKind, Plan};
use crate::time::Micros;

use super::{Checked, Draw, Failure, FuzzConfig, Record, check_run, failure_of, targets};

/// The most schedules a space may hold: beyond this an exhaustive walk is
/// not what anyone can wait for (a run takes milliseconds), and counts stop
/// fitting comfortably.
pub const MAX_SPACE: u128 = 1 << 40;

/// The deepest schedule `--max-faults` may ask for.
pub const MAX_DEPTH: usize = 6;

/// One fault placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub at: Micros,
    pub kind: FaultKind,
    /// Index into the nodes a fault may hit, as the fuzzer's.
    pub node: usize,
    /// For a partition: the other nodes on the target's side (bit i: node
    /// i), as the fuzzer's draws have them.
    pub side: u32,
    pub hold: Micros,
}

/// Every slot, in the order schedules take them: by instant, then kind,
/// target, side and hold.
#[derive(Clone, Debug)]
pub struct Space {
    pub slots: Vec<Slot>,
}

impl Space {
    /// `sides`: who may share a partitioned target's side (0: nobody).
    pub fn new(
        kinds: &[FaultKind],
        targets: usize,
        sides: &[u32],
        (from, to): (Micros, Micros),
        grid: Micros,
        holds: &[Micros],
    ) -> Space {
        let mut slots = Vec::new();
        let mut at = from;
        while at < to {
            for &kind in kinds {
                let sides = if kind == FaultKind::Partition {
                    sides
                } else {
                    &[0]
                };
                for node in 0..targets {
                    for &side in sides {
                        for &hold in holds {
                            slots.push(Slot {
                                at,
                                kind,
                                node,
                                side,
                                hold,
                            });
                        }
                    }
                }
            }
            at += grid.max(1);
        }
        Space { slots }
    }

    /// Who may share a partitioned target's side in `plan`: nobody, or
    /// one of its clients (so a master cut off with a client can still
    /// acknowledge its writes).
    pub fn sides(plan: &Plan) -> Vec<u32> {
        let clients = (0..plan.nodes.len().min(32))
            .filter(|&i| matches!(plan.nodes[i].kind, crate::scenario::NodeKind::Client(_)));
        std::iter::once(0)
            .chain(clients.map(|i| 1u32 << i))
            .collect()
    }

    /// How many schedules hold at most `k` faults (the empty one included).
    pub fn schedules(&self, k: usize) -> u128 {
        up_to(self.slots.len(), k)
    }

    /// A schedule whose last slot is `last`, with everything that extends
    /// it by up to `more` faults.
    fn subtree(&self, last: usize, more: usize) -> u128 {
        up_to(self.slots.len() - 1 - last, more)
    }
}

/// Σ C(n, m) for m = 0..=k, saturating.
fn up_to(n: usize, k: usize) -> u128 {
    let mut total: u128 = 0;
    let mut c: u128 = 1;
    for m in 0..=k.min(n) {
        total = total.saturating_add(c);
        c = c.saturating_mul((n - m) as u128) / (m as u128 + 1);
    }
    total
}

/// What to explore.
#[derive(Clone, Debug)]
pub struct ExploreConfig {
    /// Kinds, the deepest schedule (`max_faults`), properties and bounds;
    /// `faults_stop` is when everything heals.
    pub fuzz: FuzzConfig,
    /// Faults start at grid instants in `[from, to)`.
    pub from: Micros,
    pub to: Micros,
    pub grid: Micros,
    pub holds: Vec<Micros>,
    pub prune: bool,
}

/// One depth of the walk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Level {
    pub depth: usize,
    /// Schedules run at this depth.
    pub run: u64,
    /// Extensions not run because an equivalent one was.
    pub pruned: u64,
}

/// What an exploration found.
#[derive(Debug)]
pub struct Outcome {
    /// Schedules of up to `max_faults` faults on the grid.
    pub space: u128,
    pub levels: Vec<Level>,
    /// Schedules not run thanks to pruning: the pruned ones and everything
    /// that would have extended them.
    pub saved: u128,
    /// The first schedule, in breadth-first order, that broke a property.
    pub counterexample: Option<Failure>,
    /// False when stopped early (a signal); a clean walk without a
    /// counterexample exhausted the space.
    pub finished: bool,
}

impl Outcome {
    pub fn runs(&self) -> u64 {
        self.levels.iter().map(|l| l.run).sum()
    }
}

/// A schedule that ran, kept to be extended.
struct Explored {
    slots: Vec<usize>,
    timeline: Vec<(Micros, u64)>,
}

/// What makes two extensions equivalent: the new fault's slot, the state
/// the prefix reached at its instant, and the prefix's faults not yet over
/// then (kind, target, whether it starts at that instant, when it ends,
/// relative to it).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    slot: usize,
    state: u64,
    pending: Vec<(usize, usize, u32, bool, Micros)>,
}

/// Schedules run between two looks for a counterexample: a fixed number,
/// so the one reported never depends on `--jobs`.
const BATCH: usize = 256;

/// Walks the space breadth-first at the plan's seed.
pub fn explore(
    plan: &Plan,
    cfg: &ExploreConfig,
    jobs: usize,
    keep_going: &(dyn Fn() -> bool + Sync),
    progress: &(dyn Fn(&Level) + Sync),
) -> Outcome {
    let n_targets = targets(plan).len().max(1);
    let space = Space::new(
        &cfg.fuzz.kinds,
        n_targets,
        &Space::sides(plan),
        (cfg.from, cfg.to),
        cfg.grid,
        &cfg.holds,
    );
    let k = cfg.fuzz.max_faults;
    let mut outcome = Outcome {
        space: space.schedules(k),
        levels: Vec::new(),
        saved: 0,
        counterexample: None,
        finished: false,
    };
    let mut frontier: Vec<Explored> = Vec::new();
    for depth in 0..=k {
        let mut level = Level {
            depth,
            ..Level::default()
        };
        let candidates = if depth == 0 {
            vec![Vec::new()]
        } else {
            let (candidates, pruned, saved) = extensions(&space, cfg, &frontier, k - depth);
            level.pruned = pruned;
            outcome.saved = outcome.saved.saturating_add(saved);
            candidates
        };
        let mut next = Vec::new();
        for chunk in candidates.chunks(BATCH) {
            if !keep_going() {
                outcome.levels.push(level);
                return outcome;
            }
            let results = run_all(plan, cfg, &space, chunk, jobs);
            level.run += chunk.len() as u64;
            for (slots, checked) in chunk.iter().zip(results) {
                if outcome.counterexample.is_none() {
                    outcome.counterexample = failure_of(&checked, plan.seed, draws(&space, slots));
                }
                next.push(Explored {
                    slots: slots.clone(),
                    timeline: checked.reached.timeline,
                });
            }
            progress(&level);
            if outcome.counterexample.is_some() {
                outcome.levels.push(level);
                outcome.finished = true;
                return outcome;
            }
        }
        outcome.levels.push(level);
        frontier = next;
    }
    outcome.finished = true;
    outcome
}

/// The schedules of one more fault than the frontier's, in slot order of
/// their prefixes, then of the new fault; with how many were pruned and
/// how many schedules that saved (the pruned ones with their `more`
/// further faults).
fn extensions(
    space: &Space,
    cfg: &ExploreConfig,
    frontier: &[Explored],
    more: usize,
) -> (Vec<Vec<usize>>, u64, u128) {
    let mut seen: BTreeSet<Key> = BTreeSet::new();
    let (mut out, mut pruned, mut saved) = (Vec::new(), 0u64, 0u128);
    for e in frontier {
        let start = e.slots.last().map_or(0, |&i| i + 1);
        for s in start..space.slots.len() {
            if cfg.prune {
                let key = key(space, cfg, e, s);
                if !seen.insert(key) {
                    pruned += 1;
                    saved = saved.saturating_add(space.subtree(s, more));
                    continue;
                }
            }
            let mut slots = e.slots.clone();
            slots.push(s);
            out.push(slots);
        }
    }
    (out, pruned, saved)
}

/// What decides the future of `e` extended by slot `s`.
fn key(space: &Space, cfg: &ExploreConfig, e: &Explored, s: usize) -> Key {
    let at = space.slots[s].at;
    let i = ((at - cfg.from) / cfg.grid.max(1)) as usize;
    let state = e.timeline.get(i).map_or(0, |&(_, fp)| fp);
    let pending = e
        .slots
        .iter()
        .map(|&p| space.slots[p])
        .filter(|p| p.at == at || end(cfg, p) >= at)
        .map(|p| {
            let kind = cfg
                .fuzz
                .kinds
                .iter()
                .position(|&k| k == p.kind)
                .unwrap_or(0);
            (
                kind,
                p.node,
                p.side,
                p.at == at,
                end(cfg, &p).saturating_sub(at),
            )
        })
        .collect();
    Key {
        slot: s,
        state,
        pending,
    }
}

/// When a fault is undone: after its hold, or when everything heals.
fn end(cfg: &ExploreConfig, slot: &Slot) -> Micros {
    (slot.at + slot.hold).min(cfg.fuzz.faults_stop)
}

/// A schedule's faults as the fuzzer's draws.
fn draws(space: &Space, slots: &[usize]) -> Vec<Draw> {
    slots
        .iter()
        .map(|&i| {
            let s = space.slots[i];
            Draw {
                at: s.at,
                kind: s.kind,
                node: s.node,
                side: s.side,
                duration: s.hold,
            }
        })
        .collect()
}

/// Runs `schedules` on `jobs` threads; results in their order.
fn run_all(
    plan: &Plan,
    cfg: &ExploreConfig,
    space: &Space,
    schedules: &[Vec<usize>],
    jobs: usize,
) -> Vec<Checked> {
    let record = Record::Grid {
        from: cfg.from,
        step: cfg.grid,
        until: cfg.to,
    };
    super::in_parallel(schedules, jobs, |schedule| {
        let p = super::with_schedule(plan, &cfg.fuzz, &draws(space, schedule));
        check_run(&p, plan.seed, &cfg.fuzz, record)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ms;

    /// The space counts every set of up to k slots: brute force over
    /// small spaces agrees with the closed form.
    #[test]
    fn the_space_counts_every_set_of_up_to_k_slots() {
        for n in 0..9usize {
            for k in 0..4usize {
                let brute = (0u32..(1 << n))
                    .filter(|m| m.count_ones() as usize <= k)
                    .count() as u128;
                assert_eq!(up_to(n, k), brute, "n={n} k={k}");
            }
        }
        let s = Space::new(
            &[FaultKind::Kill, FaultKind::Pause],
            3,
            &[0, 8],
            (ms(0), ms(1000)),
            ms(250),
            &[ms(5000)],
        );
        assert_eq!(s.slots.len(), 4 * 2 * 3);
        assert_eq!(s.schedules(2), 1 + 24 + 24 * 23 / 2);
        // After the last slot nothing extends; before it, everything.
        assert_eq!(s.subtree(23, 2), 1);
        assert_eq!(s.subtree(0, 1), 24);
        assert!(s.slots.windows(2).all(|w| w[0].at <= w[1].at));
    }
}
