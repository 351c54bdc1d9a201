//! Fault-schedule fuzzing: for each seed, a random schedule of faults is
//! laid over a scenario, the run is checked against the invariants and the
//! scenario's properties, and a failing schedule is shrunk with proptest's
//! value trees and written out as an explicit scenario file that reproduces
//! the failure with `redsim run`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};

use crate::check::RunView as _;
use crate::check::invariants::{self, Monitor, Violation};
use crate::coverage::{Coverage, Recorder, RunCoverage};
use crate::scenario::fault::{HostFault, RdbDamage};
use crate::scenario::{Fault, FaultKind, NodeKind, Plan};
use crate::sim::net::LinkParams;
use crate::time::{Micros, ms};
use crate::trace::{Source, names};
use crate::world::World;

pub mod campaign;
pub mod cli;
pub mod explore;
pub mod explore_cli;
pub mod guided;
pub mod repro;
pub mod signature;

pub use repro::repro_toml;

/// The kinds of fault a sweep draws (`--faults`), named by their
/// `[[fault]]` keys: each draw is its kind's fault, undone after a while
/// (`shutdown` is a SIGTERM and a restart). The order is the one seeds
/// index: changing it changes every seed's schedule.
pub const KINDS: [FaultKind; 9] = [
    FaultKind::Kill,
    FaultKind::Crash,
    FaultKind::Pause,
    FaultKind::Partition,
    FaultKind::Shutdown,
    FaultKind::ClockJump,
    FaultKind::Link,
    FaultKind::PartitionOneWay,
    FaultKind::Burst,
];

/// Host faults a sweep draws only when `--faults` names them, so the
/// default kinds (and every seed's schedule under them) stay as they were:
/// each is a window of `for` on one Redis server.
pub const HOST_KINDS: [FaultKind; 5] = [
    FaultKind::ForkFail,
    FaultKind::DiskFull,
    FaultKind::DiskSlow,
    FaultKind::RdbCorrupt,
    FaultKind::FsyncFail,
];

/// Names `--faults` took before the kinds were named by their keys.
const OLD_NAMES: [(&str, FaultKind); 3] = [
    ("restart", FaultKind::Shutdown),
    ("clock", FaultKind::ClockJump),
    ("oneway", FaultKind::PartitionOneWay),
];

/// The kind a sweep draws by `name`: a key of [`KINDS`] or
/// [`HOST_KINDS`], or an old name.
pub fn kind(name: &str) -> Option<FaultKind> {
    OLD_NAMES
        .iter()
        .find(|(old, _)| *old == name)
        .map(|(_, k)| *k)
        .or_else(|| {
            FaultKind::from_key(name).filter(|k| KINDS.contains(k) || HOST_KINDS.contains(k))
        })
}

/// One drawn fault, before it becomes the scenario's faults: each undoes
/// itself after `duration` (restart, resume, heal, link restored).
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    pub at: Micros,
    pub kind: FaultKind,
    /// Index into the nodes a fault may hit (Redis servers and Sentinels).
    pub node: usize,
    /// For partitions: which nodes go to the second side (bit i = node i).
    pub side: u32,
    pub duration: Micros,
}

/// How a sweep runs.
#[derive(Clone, Debug)]
pub struct FuzzConfig {
    pub kinds: Vec<FaultKind>,
    pub max_faults: usize,
    /// Faults happen before this time; then everything heals.
    pub faults_stop: Micros,
    /// Properties checked besides the invariants.
    pub properties: Vec<String>,
    /// Line kinds no run may print (`[fuzz] never-prints`).
    pub never_prints: Vec<String>,
    pub bounds: crate::scenario::Bounds,
    pub shrink: bool,
}

/// The proptest strategy for a schedule over `targets` nodes.
pub fn schedule_strategy(
    cfg: &FuzzConfig,
    targets: usize,
) -> impl Strategy<Value = Vec<Draw>> + use<> {
    let kinds = cfg.kinds.clone();
    let stop_ms = (cfg.faults_stop / 1000).max(1);
    let fault = (
        0..stop_ms,
        0..kinds.len(),
        0..targets,
        any::<u32>(),
        100u64..30_000,
    )
        .prop_map(move |(at, k, node, side, dur)| Draw {
            at: ms(at),
            kind: kinds[k],
            node,
            side,
            duration: ms(dur),
        });
    proptest::collection::vec(fault, 0..=cfg.max_faults)
}

/// The nodes faults may hit: Redis servers and Sentinels, not clients.
fn targets(plan: &Plan) -> Vec<usize> {
    (0..plan.nodes.len())
        .filter(|&i| !matches!(plan.nodes[i].kind, NodeKind::Client(_)))
        .collect()
}

/// The scenario faults for a schedule, with the final heal at
/// `faults_stop`. A kind the sweep does not draw ([`KINDS`]) adds nothing.
pub fn faults(plan: &Plan, cfg: &FuzzConfig, schedule: &[Draw]) -> Vec<(Micros, Fault)> {
    let nodes = targets(plan);
    let stop = cfg.faults_stop;
    let mut out = Vec::new();
    for f in schedule {
        let n = nodes[f.node % nodes.len()];
        let undo = (f.at + f.duration).min(stop);
        match f.kind {
            FaultKind::Kill => {
                out.push((f.at, Fault::Kill(n)));
                out.push((undo, Fault::Restart(n)));
            }
            FaultKind::Crash => {
                out.push((f.at, Fault::Crash(n)));
                out.push((undo, Fault::Restart(n)));
            }
            FaultKind::Shutdown => {
                out.push((f.at, Fault::Shutdown(n)));
                out.push((undo.min(f.at + ms(2000)), Fault::Restart(n)));
            }
            FaultKind::Pause => {
                out.push((f.at, Fault::Pause(n)));
                out.push((undo, Fault::Resume(n)));
            }
            FaultKind::Partition => {
                // `n` and the nodes whose bit is set in `side` against the rest.
                let (b, a): (Vec<usize>, Vec<usize>) =
                    (0..plan.nodes.len()).partition(|&i| i == n || f.side >> (i % 32) & 1 == 1);
                if !a.is_empty() {
                    out.push((f.at, Fault::Partition(vec![a, b])));
                    out.push((undo, Fault::Heal));
                }
            }
            FaultKind::Burst if !matches!(plan.nodes[n].kind, NodeKind::Sentinel(_)) => {
                out.push((
                    f.at,
                    Fault::Burst {
                        node: n,
                        writes: (f.duration / 10_000) as u32,
                        value_size: 1000,
                    },
                ));
            }
            FaultKind::PartitionOneWay => {
                let to: Vec<usize> = (0..plan.nodes.len())
                    .filter(|&i| i != n && f.side >> (i % 32) & 1 == 1)
                    .collect();
                if !to.is_empty() {
                    out.push((f.at, Fault::PartitionOneWay { from: vec![n], to }));
                    out.push((undo, Fault::Heal));
                }
            }
            FaultKind::ClockJump => {
                let by = (f.duration as i64 / 2) * if f.side & 1 == 0 { 1 } else { -1 };
                out.push((f.at, Fault::ClockJump { node: n, by }));
            }
            FaultKind::ForkFail
            | FaultKind::DiskFull
            | FaultKind::DiskSlow
            | FaultKind::RdbCorrupt
            | FaultKind::FsyncFail
                if matches!(plan.nodes[n].kind, NodeKind::Redis { .. }) && undo > f.at =>
            {
                let fault = match f.kind {
                    FaultKind::ForkFail => HostFault::ForkFail,
                    FaultKind::DiskFull => HostFault::DiskFull,
                    FaultKind::FsyncFail => HostFault::FsyncFail,
                    // Either part, by the side bit the other kinds use.
                    FaultKind::RdbCorrupt => HostFault::RdbCorrupt(if f.side & 1 == 0 {
                        RdbDamage::Checksum
                    } else {
                        RdbDamage::Signature
                    }),
                    // Each fsync takes a quarter of the window (25 ms to 7.5 s).
                    _ => HostFault::SlowFsync((f.duration / 4).max(1000)),
                };
                let length = undo - f.at;
                out.push((
                    f.at,
                    Fault::Host {
                        node: n,
                        fault,
                        length,
                    },
                ));
                out.push((undo, Fault::HostEnd { node: n, fault }));
            }
            FaultKind::Link => {
                let slow = LinkParams {
                    latency: f.duration / 100,
                    jitter: f.duration / 400,
                    bandwidth: 0,
                    loss: f64::from(f.side % 30) / 100.0,
                };
                for m in 0..plan.nodes.len() {
                    if m != n {
                        out.push((f.at, link(n, m, slow.clone())));
                        out.push((undo, link(n, m, plan.link.clone())));
                    }
                }
            }
            // A burst on a Sentinel, or a kind a sweep does not draw
            // (`--faults` takes only the kinds above).
            _ => {}
        }
    }
    // Then everything heals and every process runs again.
    out.push((stop, Fault::Heal));
    for &n in &nodes {
        out.push((stop, Fault::Resume(n)));
        out.push((stop, Fault::Restart(n)));
    }
    out.sort_by_key(|(t, _)| *t);
    changing_only(plan, out)
}

/// Drops the drawn faults that would change nothing (a restart of a
/// running process, a resume of one not stopped, a heal with no partition),
/// judged together with the scenario's own faults in the order the run
/// applies them: the scenario's first at equal times.
fn changing_only(plan: &Plan, drawn: Vec<(Micros, Fault)>) -> Vec<(Micros, Fault)> {
    let mut all: Vec<(Micros, bool, Fault)> = plan
        .faults
        .iter()
        .map(|(t, f)| (*t, false, f.clone()))
        .chain(drawn.into_iter().map(|(t, f)| (t, true, f)))
        .collect();
    all.sort_by_key(|(t, _, _)| *t);
    let mut tracker = crate::scenario::liveness::Tracker::new(plan.nodes.len());
    all.into_iter()
        .filter_map(|(t, drawn, f)| {
            let changes = tracker.apply(&f).is_ok();
            (drawn && changes).then_some((t, f))
        })
        .collect()
}

fn link(from: usize, to: usize, params: LinkParams) -> Fault {
    Fault::Link {
        from,
        to,
        params,
        both_ways: true,
    }
}

/// The plan with a schedule laid over it.
pub fn with_schedule(plan: &Plan, cfg: &FuzzConfig, schedule: &[Draw]) -> Plan {
    let mut p = plan.clone();
    p.faults.extend(faults(plan, cfg, schedule));
    p.faults.sort_by_key(|(t, _)| *t);
    p
}

/// The outcome of one checked run.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub violations: Vec<Violation>,
    /// Each violation's cause chain (see [`signature::cause_chain`]).
    pub causes: Vec<Vec<&'static str>>,
    /// Rare paths reached, by event name.
    pub coverage: Vec<&'static str>,
    /// The abstract states, transitions and line kinds the run reached
    /// (empty unless recorded: shrinking does not).
    pub reached: RunCoverage,
}

/// Which topologies a coverage probe can be reached in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Any,
    Sentinel,
    Cluster,
}

/// Rare paths a sweep reports reaching: label, event name, where it applies.
pub const COVERAGE: &[(&str, &str, Scope)] = &[
    (
        "backlog-overflow full resync",
        names::redis::NO_BACKLOG_FOR_PSYNC,
        Scope::Any,
    ),
    (
        "failover timeout",
        names::sentinel::FAILOVER_END_FOR_TIMEOUT,
        Scope::Sentinel,
    ),
    (
        "aborted failover (not elected)",
        names::sentinel::FAILOVER_ABORT_NOT_ELECTED,
        Scope::Sentinel,
    ),
    (
        "aborted failover (no good replica)",
        names::sentinel::FAILOVER_ABORT_NO_GOOD_SLAVE,
        Scope::Sentinel,
    ),
    (
        "aborted failover (replica timeout)",
        names::sentinel::FAILOVER_ABORT_SLAVE_TIMEOUT,
        Scope::Sentinel,
    ),
    ("TILT", names::sentinel::TILT, Scope::Sentinel),
    (
        "output buffer limit",
        names::redis::OUTPUT_BUFFER_LIMIT,
        Scope::Any,
    ),
    (
        "old master converted",
        names::sentinel::CONVERT_TO_SLAVE,
        Scope::Sentinel,
    ),
    (
        "failover completed",
        names::sentinel::SWITCH_MASTER,
        Scope::Sentinel,
    ),
    (
        "cluster failover won",
        names::redis::ELECTION_WON,
        Scope::Cluster,
    ),
    (
        "cluster failover delayed by rank",
        names::redis::REPLICA_RANK_UPDATED,
        Scope::Cluster,
    ),
    (
        "cluster failover expired",
        names::redis::UNABLE_TO_FAILOVER,
        Scope::Cluster,
    ),
    (
        "cluster vote denied",
        names::redis::AUTH_DENIED,
        Scope::Cluster,
    ),
    (
        "cluster FAIL cleared for a master still serving slots",
        names::redis::FAIL_CLEARED_NO_SERVER,
        Scope::Cluster,
    ),
    (
        "cluster master demoted by newer config",
        names::redis::RECONFIGURED_AS_REPLICA,
        Scope::Cluster,
    ),
    (
        "cluster configEpoch collision",
        names::redis::CONFIG_EPOCH_COLLISION,
        Scope::Cluster,
    ),
];

/// Whether a probe can be reached in runs of `plan`: cluster probes need a
/// cluster, Sentinel probes Sentinels (or a swarm that draws them).
pub fn applies(plan: &Plan, scope: Scope) -> bool {
    let sentinels = plan
        .nodes
        .iter()
        .any(|n| matches!(n.kind, NodeKind::Sentinel(_)))
        || plan.fuzz.swarm.iter().any(|(k, _)| k == "sentinels");
    match scope {
        Scope::Any => true,
        Scope::Cluster => plan.cluster.is_some(),
        Scope::Sentinel => plan.cluster.is_none() && sentinels,
    }
}

/// Runs a plan at a seed, sampling invariants every 500 ms, checking the
/// properties and bounds: safety throughout, liveness (`converges`) at the
/// end or `converges-within` after `faults_stop`.
pub fn check(plan: &Plan, seed: u64, cfg: &FuzzConfig) -> Checked {
    check_run(plan, seed, cfg, Record::No)
}

/// [`check`], recording the run's coverage (see [`crate::coverage`]).
pub fn check_recorded(plan: &Plan, seed: u64, cfg: &FuzzConfig) -> Checked {
    check_run(plan, seed, cfg, Record::Coverage)
}

/// What a checked run records besides its verdict.
#[derive(Clone, Copy)]
enum Record {
    No,
    Coverage,
    /// Coverage, and the abstract state's fingerprint at each instant of a
    /// grid: `from`, `from + step`, ... before `until`.
    Grid {
        from: Micros,
        step: Micros,
        until: Micros,
    },
}

fn check_run(plan: &Plan, seed: u64, cfg: &FuzzConfig, record: Record) -> Checked {
    let mut w = World::new(plan, seed);
    let nodes = w.sim.nodes.len();
    let recorder = match record {
        Record::No => None,
        Record::Coverage => Some(Recorder::new(nodes)),
        Record::Grid { from, step, until } => Some(Recorder::with_grid(nodes, from, step, until)),
    };
    if let Some(recorder) = recorder {
        w.sim.set_watcher(Some(Box::new(recorder)));
    }
    let mut monitor = Monitor::default();
    let mut t = 0;
    let mut violations = Vec::new();
    let converge_at = cfg.bounds.converges_within.map(|c| cfg.faults_stop + c);
    while t < plan.duration {
        let next = (t + ms(500)).min(plan.duration);
        // Stop exactly at the convergence deadline, if it falls in this step.
        let step = match converge_at {
            Some(c) if t < c && c <= next => c,
            _ => next,
        };
        if let Err(e) = w.run_until(step) {
            violations.push(Violation {
                property: "runs",
                detail: e.to_string(),
            });
            break;
        }
        monitor.sample(&w);
        if converge_at == Some(step)
            && let Err(why) = invariants::converged(&w)
        {
            violations.push(Violation {
                property: "converges-within",
                detail: why,
            });
        }
        t = step;
    }
    violations.extend(invariants::evaluate(
        &w,
        monitor.violations,
        &cfg.properties,
    ));
    if let Some(max) = cfg.bounds.max_lost_acked_writes {
        let n = w.lost_writes().len() as u64;
        if n > max {
            violations.push(Violation {
                property: "max-lost-acked-writes",
                detail: format!("{n} acknowledged writes lost (at most {max} allowed)"),
            });
        }
    }
    if let Some(max) = cfg.bounds.max_unavailability
        && let Some(gap) = w.write_unavailability()
        && gap.len() > max
    {
        violations.push(Violation {
            property: "max-unavailability",
            detail: format!(
                "no write acknowledged for {} (from {} to {})",
                crate::time::Secs(gap.len()),
                crate::time::Secs(gap.from),
                crate::time::Secs(gap.to)
            ),
        });
    }
    for line in &cfg.never_prints {
        let first = w.trace().events.iter().find(|e| {
            e.event == line.as_str() && matches!(e.source, Source::Log | Source::Sentinel)
        });
        if let Some(e) = first {
            violations.push(Violation {
                property: NEVER_PRINTS,
                detail: format!(
                    "printed `{line}` (first on {} at {})",
                    w.names[e.node as usize],
                    crate::time::Secs(e.t)
                ),
            });
        }
    }
    violations.sort();
    violations.dedup_by(|a, b| a.property == b.property);
    let causes = violations
        .iter()
        .map(|v| signature::cause_chain(&w, v, cfg.faults_stop))
        .collect();
    let events = &w.trace().events;
    let coverage = COVERAGE
        .iter()
        .filter(|(_, name, _)| events.iter().any(|e| e.event == *name))
        .map(|(label, _, _)| *label)
        .collect();
    let reached = crate::coverage::take(&mut w);
    Checked {
        violations,
        causes,
        coverage,
        reached,
    }
}

/// The schedule proptest draws for `seed`, as a value tree to shrink.
fn tree_for(cfg: &FuzzConfig, targets: usize, seed: u64) -> impl ValueTree<Value = Vec<Draw>> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    schedule_strategy(cfg, targets)
        .new_tree(&mut runner)
        .expect("schedules are always generated")
}

/// The plan a seed's drawn schedule gives, before any shrinking.
pub fn seed_plan(plan: &Plan, cfg: &FuzzConfig, seed: u64) -> Plan {
    let n_targets = targets(plan).len().max(1);
    with_schedule(plan, cfg, &tree_for(cfg, n_targets, seed).current())
}

/// A failing seed. Only the representative of its group is shrunk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    pub seed: u64,
    pub property: String,
    pub detail: String,
    /// The group it belongs to (see [`signature`]).
    #[serde(default)]
    pub signature: String,
    pub faults_drawn: usize,
    /// Equal to `faults_drawn` unless `shrunk`.
    pub faults_after_shrinking: usize,
    #[serde(default)]
    pub shrunk: bool,
    /// The reproducing scenario file, once written (representatives only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repro: Option<String>,
    #[serde(skip)]
    pub schedule: Vec<Draw>,
    /// In swarm mode, the scenario text with this seed's drawn values.
    #[serde(skip)]
    pub scenario: Option<String>,
    /// The cause chain of the violation in the (shrunk) run.
    #[serde(skip)]
    pub chain: Vec<&'static str>,
}

/// Checks one seed's drawn schedule, unshrunk.
fn check_seed(plan: &Plan, cfg: &FuzzConfig, seed: u64) -> (Checked, Option<Failure>) {
    let n_targets = targets(plan).len().max(1);
    let schedule = tree_for(cfg, n_targets, seed).current();
    let checked = check_recorded(&with_schedule(plan, cfg, &schedule), seed, cfg);
    let failure = failure_of(&checked, seed, schedule);
    (checked, failure)
}

/// The property of a `[fuzz] never-prints` line that was printed; its
/// detail names the line between backquotes.
pub const NEVER_PRINTS: &str = "never-prints";

/// The line a `never-prints` violation's detail names.
pub fn printed_line(detail: &str) -> Option<&str> {
    detail.strip_prefix("printed `")?.split('`').next()
}

/// The name a failure's signature starts with: the property, and for
/// `never-prints` the line printed, so that two lines make two groups.
fn signature_name(property: &str, detail: &str) -> String {
    match printed_line(detail) {
        Some(line) if property == NEVER_PRINTS => format!("{property} `{line}`"),
        _ => property.to_string(),
    }
}

/// The failure a checked run of `schedule` at `seed` shows, if any: its
/// first violation, unshrunk.
fn failure_of(checked: &Checked, seed: u64, schedule: Vec<Draw>) -> Option<Failure> {
    let first = checked.violations.first()?;
    let chain = checked.causes[0].clone();
    Some(Failure {
        seed,
        property: first.property.to_string(),
        detail: first.detail.clone(),
        signature: signature::signature(&signature_name(first.property, &first.detail), &chain),
        faults_drawn: schedule.len(),
        faults_after_shrinking: schedule.len(),
        shrunk: false,
        repro: None,
        schedule,
        scenario: None,
        chain,
    })
}

/// Shrinks a failure's schedule with proptest's value tree: simplify while
/// the same property still fails. Stops early (keeping the smallest
/// failing schedule found) once `keep_going` turns false.
fn shrink(
    plan: &Plan,
    cfg: &FuzzConfig,
    failure: &mut Failure,
    keep_going: &(dyn Fn() -> bool + Sync),
) {
    if !keep_going() {
        return;
    }
    let n_targets = targets(plan).len().max(1);
    let mut tree = tree_for(cfg, n_targets, failure.seed);
    if tree.current() != failure.schedule {
        // A schedule guided search built: no value tree leads to it.
        return shrink_explicit(plan, cfg, failure, keep_going);
    }
    let fails = |s: &[Draw]| {
        let c = check(&with_schedule(plan, cfg, s), failure.seed, cfg);
        let i = c
            .violations
            .iter()
            .position(|v| v.property == failure.property)?;
        Some((c.violations[i].detail.clone(), c.causes[i].clone()))
    };
    let mut steps = 0;
    if tree.simplify() {
        loop {
            if !keep_going() {
                break;
            }
            steps += 1;
            let candidate = tree.current();
            let advanced = match fails(&candidate) {
                Some((detail, chain)) => {
                    failure.schedule = candidate;
                    failure.detail = detail;
                    failure.chain = chain;
                    tree.simplify()
                }
                None => tree.complicate(),
            };
            if !advanced || steps > 300 {
                break;
            }
        }
    }
    shrunk(failure);
}

/// Checks one seed; on failure shrinks the schedule.
pub fn run_seed(plan: &Plan, cfg: &FuzzConfig, seed: u64) -> (Checked, Option<Failure>) {
    let (checked, failure) = check_seed(plan, cfg, seed);
    let failure = failure.map(|mut f| {
        if cfg.shrink {
            shrink(plan, cfg, &mut f, &|| true);
        }
        f
    });
    (checked, failure)
}

/// Marks a failure shrunk, with the signature of what is left.
fn shrunk(failure: &mut Failure) {
    failure.shrunk = true;
    failure.faults_after_shrinking = failure.schedule.len();
    let mut kinds: Vec<&str> = failure.schedule.iter().map(|f| f.kind.key()).collect();
    kinds.dedup();
    let name = signature_name(&failure.property, &failure.detail);
    failure.signature = signature::shrunk_signature(&name, &kinds, &failure.chain);
}

/// Shrinks a schedule no value tree leads to (see [`guided`]): removes
/// one fault at a time, and halves each remaining one's duration, for as
/// long as the same property still fails; at most 300 runs.
fn shrink_explicit(
    plan: &Plan,
    cfg: &FuzzConfig,
    failure: &mut Failure,
    keep_going: &(dyn Fn() -> bool + Sync),
) {
    let runs = std::cell::Cell::new(0);
    let (seed, property) = (failure.seed, failure.property.clone());
    let fails = |s: &[Draw]| {
        runs.set(runs.get() + 1);
        let c = check(&with_schedule(plan, cfg, s), seed, cfg);
        let i = c.violations.iter().position(|v| v.property == property)?;
        Some((c.violations[i].detail.clone(), c.causes[i].clone()))
    };
    let mut changed = true;
    while changed && keep_going() {
        changed = false;
        let mut i = 0;
        while i < failure.schedule.len() && runs.get() < 300 && keep_going() {
            let mut candidate = failure.schedule.clone();
            candidate.remove(i);
            match fails(&candidate) {
                Some((detail, chain)) => {
                    (failure.schedule, failure.detail, failure.chain) = (candidate, detail, chain);
                    changed = true;
                }
                None => i += 1,
            }
        }
        for i in 0..failure.schedule.len() {
            let d = failure.schedule[i].duration;
            if runs.get() >= 300 || d / 2 < ms(100) {
                continue;
            }
            let mut candidate = failure.schedule.clone();
            candidate[i].duration = d / 2;
            if let Some((detail, chain)) = fails(&candidate) {
                (failure.schedule, failure.detail, failure.chain) = (candidate, detail, chain);
                changed = true;
            }
        }
    }
    shrunk(failure);
}

/// Failures that share a signature: one bug, however many seeds hit it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Group {
    pub signature: String,
    pub property: String,
    /// Failing seeds in the group.
    pub count: u64,
    pub seeds: Vec<u64>,
    /// The group's smallest seed, shrunk, with its reproducing file.
    pub representative: Failure,
}

/// What a sweep ran: what `fuzz merge` needs to tell shards of one
/// campaign from anything else.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// FNV-1a 64 of the scenario file's text, in hex.
    pub scenario_hash: String,
    /// The seed range, `a..b`.
    pub seeds: String,
    /// `i/n`, if this is a shard.
    pub shard: Option<String>,
    pub faults: Vec<String>,
    pub max_faults: usize,
    pub shrink: bool,
    /// Guided by coverage (`--guided`): schedules mutated from a corpus.
    #[serde(default)]
    pub guided: bool,
}

/// One coverage probe's count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub probe: String,
    /// Runs that reached it.
    pub runs: u64,
    /// False when the scenario cannot reach it (a cluster probe in a
    /// Sentinel scenario, say).
    pub applicable: bool,
}

/// What a sweep found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    #[serde(default)]
    pub campaign: Campaign,
    /// True when a signal stopped the sweep: `seeds` says which finished.
    #[serde(default)]
    pub interrupted: bool,
    /// The seeds that ran to the end.
    pub seeds: Vec<u64>,
    pub runs: u64,
    /// Failure groups, most seeds first.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// Every failing seed, with its group's signature.
    pub failures: Vec<Failure>,
    /// Failing runs per property.
    pub per_property: BTreeMap<String, u64>,
    /// Runs that reached each rare path, every probe listed (zeros too).
    pub coverage: Vec<Probe>,
    /// Runs that reached each abstract state, transition and line kind.
    #[serde(default)]
    pub states: Coverage,
}

/// FNV-1a, 64 bits: a stable fingerprint of a scenario's text.
pub fn text_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Summary {
    /// Combines summaries of shards of one sweep. Refuses summaries of
    /// different scenarios or settings, and shards whose seeds overlap (the
    /// same shard given twice would double every count).
    pub fn merge(mut self, other: Summary) -> Result<Summary, String> {
        if self.scenario != other.scenario {
            return Err(format!(
                "summaries of different scenarios: `{}` and `{}`",
                self.scenario, other.scenario
            ));
        }
        if self.campaign.scenario_hash != other.campaign.scenario_hash {
            return Err(format!(
                "summaries of different versions of `{}` (scenario text hashes {} and {})",
                self.scenario, self.campaign.scenario_hash, other.campaign.scenario_hash
            ));
        }
        let settings = |c: &Campaign| {
            (
                c.seeds.clone(),
                c.faults.clone(),
                c.max_faults,
                c.shrink,
                c.guided,
            )
        };
        if settings(&self.campaign) != settings(&other.campaign) {
            return Err(format!(
                "summaries of different sweeps of `{}`: seeds {} faults [{}] max-faults {} and seeds {} faults [{}] max-faults {}",
                self.scenario,
                self.campaign.seeds,
                self.campaign.faults.join(","),
                self.campaign.max_faults,
                other.campaign.seeds,
                other.campaign.faults.join(","),
                other.campaign.max_faults
            ));
        }
        let mine: std::collections::BTreeSet<u64> = self.seeds.iter().copied().collect();
        if let Some(dup) = other.seeds.iter().find(|s| mine.contains(s)) {
            return Err(format!(
                "seed {dup} is in two summaries (shard {} given twice?): merging would count it twice",
                other.campaign.shard.as_deref().unwrap_or("-")
            ));
        }
        self.campaign.shard = match (self.campaign.shard.take(), other.campaign.shard) {
            (Some(a), Some(b)) => Some(format!("{a}+{b}")),
            (a, b) => a.or(b),
        };
        self.interrupted |= other.interrupted;
        self.runs += other.runs;
        self.seeds.extend(other.seeds);
        self.seeds.sort_unstable();
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|f| f.seed);
        for (k, v) in other.per_property {
            *self.per_property.entry(k).or_default() += v;
        }
        for p in other.coverage {
            match self.coverage.iter_mut().find(|q| q.probe == p.probe) {
                Some(q) => q.runs += p.runs,
                None => self.coverage.push(p),
            }
        }
        self.states.merge(&other.states);
        for g in other.groups {
            match self.groups.iter_mut().find(|h| h.signature == g.signature) {
                Some(h) => {
                    h.count += g.count;
                    h.seeds.extend(g.seeds);
                    h.seeds.sort_unstable();
                    if g.representative.seed < h.representative.seed {
                        h.representative = g.representative;
                    }
                }
                None => self.groups.push(g),
            }
        }
        sort_groups(&mut self.groups);
        Ok(self)
    }
}

fn sort_groups(groups: &mut [Group]) {
    groups.sort_by_key(|g| (std::cmp::Reverse(g.count), g.seeds.first().copied()));
}

/// The most seeds one sweep takes: at about ten seeds a second per core,
/// more would not finish in any useful time (split a campaign with
/// `--shard`, or bound it with `--budget`).
pub const MAX_SEEDS: u64 = 1 << 32;

/// The seeds of a sweep: `start..end`, or shard `i` of `n` of it, listed
/// lazily so a large range costs nothing until run.
#[derive(Clone, Debug, PartialEq)]
pub struct Seeds {
    pub start: u64,
    pub end: u64,
    pub shard: Option<(u64, u64)>,
}

impl Seeds {
    pub fn range(r: std::ops::Range<u64>) -> Seeds {
        Seeds {
            start: r.start,
            end: r.end.max(r.start),
            shard: None,
        }
    }

    /// The first seed of the shard at or after `start`.
    fn first(&self) -> Option<u64> {
        let (i, n) = self.shard.unwrap_or((0, 1));
        let r = self.start % n;
        let first = self.start.checked_add((i + n - r) % n)?;
        (first < self.end).then_some(first)
    }

    pub fn len(&self) -> u64 {
        let n = self.shard.map_or(1, |s| s.1);
        self.first().map_or(0, |f| (self.end - 1 - f) / n + 1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k`th seed.
    pub fn get(&self, k: u64) -> Option<u64> {
        let n = self.shard.map_or(1, |s| s.1);
        (k < self.len()).then(|| self.first().expect("not empty") + k * n)
    }
}

/// One finished seed: its checked run and its failure, if any.
type SeedResult = (u64, Checked, Option<Failure>);

/// The two stages of a sweep, for `keep_going`: a budget ends the first,
/// a signal both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Seeds,
    Shrinking,
}

/// `run` applied to each of `items` on `jobs` threads; the results in the
/// items' order, whatever thread ran each.
fn in_parallel<T: Sync, R: Send>(items: &[T], jobs: usize, run: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicU64::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(item) = items.get(i) else { break };
                    let r = run(item);
                    *slots[i].lock().expect("one thread per slot") = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .expect("threads finished")
                .expect("every item ran")
        })
        .collect()
}

/// Where a sweep is, for a progress line.
#[derive(Clone, Copy, Debug)]
pub enum Phase {
    /// Seeds run so far, of `total`, and how many failed.
    Seeds { done: u64, total: u64, failed: u64 },
    /// Failure groups' representatives shrunk so far, of `total`.
    Shrinking { done: u64, total: u64 },
}

/// Runs `seeds` over `jobs` threads, groups the failures by signature, and
/// shrinks each group's smallest seed. Each run is single-threaded and
/// deterministic, and results are ordered by seed, so the summary is the
/// same whatever `jobs` is. When `keep_going(Stage::Seeds)` turns false no
/// new seed starts; when `keep_going(Stage::Shrinking)` does, shrinking
/// stops early. The summary covers the seeds that finished.
pub fn sweep(
    plan: &Plan,
    text: &str,
    cfg: &FuzzConfig,
    seeds: &Seeds,
    jobs: usize,
    keep_going: &(dyn Fn(Stage) -> bool + Sync),
    progress: &(dyn Fn(Phase) + Sync),
) -> Summary {
    let next = AtomicU64::new(0);
    let total = seeds.len();
    // Each finished seed, and how many of them failed.
    let results: Mutex<(Vec<SeedResult>, u64)> = Mutex::new((Vec::new(), 0));
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                while keep_going(Stage::Seeds) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(seed) = seeds.get(i) else { break };
                    let (checked, failure) = match swarm_scenario(text, plan, seed) {
                        Ok((drawn_text, drawn)) if !plan.fuzz.swarm.is_empty() => {
                            let (c, f) = check_seed(&drawn, cfg, seed);
                            (
                                c,
                                f.map(|f| Failure {
                                    scenario: Some(drawn_text),
                                    ..f
                                }),
                            )
                        }
                        Ok(_) => check_seed(plan, cfg, seed),
                        Err(e) => (
                            Checked {
                                violations: Vec::new(),
                                causes: Vec::new(),
                                coverage: Vec::new(),
                                reached: RunCoverage::default(),
                            },
                            Some(Failure {
                                seed,
                                property: "swarm".into(),
                                detail: format!("the drawn configuration is invalid: {e}"),
                                signature: "swarm: invalid configuration".into(),
                                faults_drawn: 0,
                                faults_after_shrinking: 0,
                                shrunk: false,
                                repro: None,
                                schedule: Vec::new(),
                                scenario: None,
                                chain: Vec::new(),
                            }),
                        ),
                    };
                    let mut r = results.lock().expect("no panics while holding it");
                    r.1 += u64::from(failure.is_some());
                    r.0.push((seed, checked, failure));
                    progress(Phase::Seeds {
                        done: r.0.len() as u64,
                        total,
                        failed: r.1,
                    });
                }
            });
        }
    });
    let mut results = results.into_inner().expect("threads finished").0;
    results.sort_by_key(|r| r.0);
    let workers = Workers {
        jobs,
        keep_going,
        progress,
    };
    summarise(plan, text, cfg, seeds, results, &workers)
}

/// How a sweep's parallel work runs: on how many threads, while what holds,
/// reporting where.
struct Workers<'a> {
    jobs: usize,
    keep_going: &'a (dyn Fn(Stage) -> bool + Sync),
    progress: &'a (dyn Fn(Phase) + Sync),
}

/// A sweep's summary from its seeds' results (in the order they count):
/// counts, coverage, and the failures grouped and shrunk.
fn summarise(
    plan: &Plan,
    text: &str,
    cfg: &FuzzConfig,
    seeds: &Seeds,
    results: Vec<SeedResult>,
    workers: &Workers<'_>,
) -> Summary {
    let mut summary = Summary {
        scenario: plan.name.clone(),
        campaign: Campaign {
            scenario_hash: text_hash(text),
            seeds: format!("{}..{}", seeds.start, seeds.end),
            shard: seeds.shard.map(|(i, n)| format!("{i}/{n}")),
            faults: cfg.kinds.iter().map(|k| k.key().to_string()).collect(),
            max_faults: cfg.max_faults,
            shrink: cfg.shrink,
            guided: false,
        },
        seeds: results.iter().map(|r| r.0).collect(),
        states: Coverage {
            sentinels: applies(plan, Scope::Sentinel),
            cluster: applies(plan, Scope::Cluster),
            ..Coverage::default()
        },
        ..Summary::default()
    };
    let mut reached: BTreeMap<&str, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    for (_, checked, failure) in results {
        summary.runs += 1;
        for label in checked.coverage {
            *reached.entry(label).or_default() += 1;
        }
        summary.states.add(&checked.reached);
        if let Some(f) = failure {
            *summary.per_property.entry(f.property.clone()).or_default() += 1;
            failures.push(f);
        }
    }
    summary.coverage = COVERAGE
        .iter()
        .map(|(label, _, scope)| Probe {
            probe: label.to_string(),
            runs: reached.get(label).copied().unwrap_or(0),
            applicable: applies(plan, *scope),
        })
        .collect();
    summary.groups = group(plan, cfg, &mut failures, workers);
    summary.failures = failures;
    summary
}

/// Groups failures (in seed order) by their unshrunk signature, shrinks
/// each group's first seed, and merges groups whose representatives
/// shrink to the same signature. Every failure gets its group's signature.
fn group(
    plan: &Plan,
    cfg: &FuzzConfig,
    failures: &mut [Failure],
    workers: &Workers<'_>,
) -> Vec<Group> {
    let Workers {
        jobs,
        keep_going,
        progress,
    } = *workers;
    let mut first_by_sig: BTreeMap<String, usize> = BTreeMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut reps: Vec<Failure> = Vec::new();
    for (i, f) in failures.iter().enumerate() {
        match first_by_sig.get(&f.signature) {
            Some(&g) => members[g].push(i),
            None => {
                first_by_sig.insert(f.signature.clone(), members.len());
                members.push(vec![i]);
                reps.push(f.clone());
            }
        }
    }
    if cfg.shrink {
        let total = reps.len() as u64;
        let next = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        let slots: Vec<Mutex<Failure>> = reps.into_iter().map(Mutex::new).collect();
        std::thread::scope(|s| {
            for _ in 0..jobs.max(1) {
                s.spawn(|| {
                    while keep_going(Stage::Shrinking) {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let Some(slot) = slots.get(i) else { break };
                        let mut f = slot.lock().expect("one thread per slot");
                        if f.property != "swarm" {
                            let drawn = match &f.scenario {
                                Some(t) => crate::scenario::parse("swarm.toml", t).ok(),
                                None => None,
                            };
                            shrink(drawn.as_ref().unwrap_or(plan), cfg, &mut f, &|| {
                                keep_going(Stage::Shrinking)
                            });
                        }
                        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                        progress(Phase::Shrinking { done: d, total });
                    }
                });
            }
        });
        reps = slots
            .into_iter()
            .map(|m| m.into_inner().expect("threads finished"))
            .collect();
    }
    let mut groups: Vec<Group> = Vec::new();
    for (rep, idx) in reps.into_iter().zip(members) {
        for &i in &idx {
            failures[i].signature = rep.signature.clone();
        }
        let seeds: Vec<u64> = idx.iter().map(|&i| failures[i].seed).collect();
        match groups.iter_mut().find(|g| g.signature == rep.signature) {
            Some(g) => {
                g.count += seeds.len() as u64;
                g.seeds.extend(seeds);
                g.seeds.sort_unstable();
            }
            None => groups.push(Group {
                signature: rep.signature.clone(),
                property: rep.property.clone(),
                count: seeds.len() as u64,
                seeds,
                representative: rep,
            }),
        }
    }
    sort_groups(&mut groups);
    groups
}

/// Swarm mode: the configuration values this seed runs with, drawn within
/// the ranges of `[fuzz.swarm]` and written into the scenario text, so the
/// reproducing file spells them out.
pub fn swarm_scenario(original: &str, plan: &Plan, seed: u64) -> Result<(String, Plan), String> {
    use rand::RngExt;
    if plan.fuzz.swarm.is_empty() {
        return Ok((original.to_string(), plan.clone()));
    }
    let mut rng = crate::sim::rng::stream(seed, "fuzz/swarm");
    let mut doc: toml::Table = toml::from_str(original).map_err(|e| e.to_string())?;
    doc.remove("fuzz");
    for (key, range) in &plan.fuzz.swarm {
        let (lo, hi) = range.bounds();
        let v = rng.random_range(lo..=hi);
        crate::scenario::settings::write_key(&mut doc, key, range.value(v))?;
    }
    let text = toml::to_string(&doc).map_err(|e| e.to_string())?;
    let drawn = crate::scenario::parse("swarm.toml", &text).map_err(|e| e.to_string())?;
    Ok((text, drawn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::secs;

    #[test]
    fn kinds_are_named_by_their_keys_and_the_old_names() {
        for k in KINDS {
            assert_eq!(kind(k.key()), Some(k));
        }
        assert_eq!(kind("restart"), Some(FaultKind::Shutdown));
        assert_eq!(kind("clock"), Some(FaultKind::ClockJump));
        assert_eq!(kind("oneway"), Some(FaultKind::PartitionOneWay));
        // A kind files write but sweeps do not draw.
        assert_eq!(kind("replicaof"), None);
        assert_eq!(kind("nope"), None);
    }

    /// Each kind a sweep draws becomes scenario faults.
    #[test]
    fn every_kind_drawn_becomes_faults() {
        let plan = crate::scenario::parse(
            "x.toml",
            "name = \"x\"\nduration = \"60s\"\n[topology]\nmasters = 1\nreplicas = 2\n",
        )
        .expect("a scenario");
        let cfg = FuzzConfig {
            kinds: KINDS.to_vec(),
            max_faults: 1,
            faults_stop: secs(30),
            properties: Vec::new(),
            never_prints: Vec::new(),
            bounds: Default::default(),
            shrink: false,
        };
        assert_eq!(faults(&plan, &cfg, &[]), Vec::new());
        for kind in KINDS {
            let draw = Draw {
                at: secs(1),
                kind,
                node: 0,
                side: 0b10,
                duration: secs(5),
            };
            let drawn = faults(&plan, &cfg, &[draw]);
            assert_eq!(
                drawn.first().map(|(_, f)| f.kind()),
                Some(kind),
                "{drawn:?}"
            );
        }
    }
}
