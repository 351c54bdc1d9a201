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

use crate::check::invariants::{self, Monitor, Violation};
use crate::scenario::{Action, NodeKind, Plan};
use crate::sim::net::LinkParams;
use crate::sim::time::{Micros, ms};
use crate::world::World;

/// The kinds of fault a sweep may draw (`--faults`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    Kill,
    Crash,
    Pause,
    Partition,
    Restart,
    Clock,
    Link,
    /// A one-way partition: traffic from the node to some others is dropped.
    OneWay,
    /// A burst of writes on a node, up to a few MB: overflows the backlog.
    Burst,
}

impl FaultKind {
    pub const ALL: [FaultKind; 9] = [
        FaultKind::Kill,
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::Partition,
        FaultKind::Restart,
        FaultKind::Clock,
        FaultKind::Link,
        FaultKind::OneWay,
        FaultKind::Burst,
    ];

    pub fn parse(s: &str) -> Option<FaultKind> {
        Some(match s {
            "kill" => FaultKind::Kill,
            "crash" => FaultKind::Crash,
            "pause" => FaultKind::Pause,
            "partition" => FaultKind::Partition,
            "restart" => FaultKind::Restart,
            "clock" => FaultKind::Clock,
            "link" => FaultKind::Link,
            "oneway" => FaultKind::OneWay,
            "burst" => FaultKind::Burst,
            _ => return None,
        })
    }
}

/// One drawn fault, before it is turned into scenario actions. Every fault
/// undoes itself after `duration` (restart, resume, heal, link restored).
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
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
    pub bounds: crate::scenario::Bounds,
    pub shrink: bool,
}

/// The proptest strategy for a schedule over `targets` nodes.
pub fn schedule_strategy(
    cfg: &FuzzConfig,
    targets: usize,
) -> impl Strategy<Value = Vec<Fault>> + use<> {
    let kinds = cfg.kinds.clone();
    let stop_ms = (cfg.faults_stop / 1000).max(1);
    let fault = (
        0..stop_ms,
        0..kinds.len(),
        0..targets,
        any::<u32>(),
        100u64..30_000,
    )
        .prop_map(move |(at, k, node, side, dur)| Fault {
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

/// The scenario actions for a schedule, with the final heal at `faults_stop`.
pub fn actions(plan: &Plan, cfg: &FuzzConfig, schedule: &[Fault]) -> Vec<(Micros, Action)> {
    let nodes = targets(plan);
    let stop = cfg.faults_stop;
    let mut out = Vec::new();
    for f in schedule {
        let n = nodes[f.node % nodes.len()];
        let undo = (f.at + f.duration).min(stop);
        match f.kind {
            FaultKind::Kill => {
                out.push((f.at, Action::Kill(n)));
                out.push((undo, Action::Restart(n)));
            }
            FaultKind::Crash => {
                out.push((f.at, Action::Crash(n)));
                out.push((undo, Action::Restart(n)));
            }
            FaultKind::Restart => {
                out.push((f.at, Action::Shutdown(n)));
                out.push((undo.min(f.at + ms(2000)), Action::Restart(n)));
            }
            FaultKind::Pause => {
                out.push((f.at, Action::Pause(n)));
                out.push((undo, Action::Resume(n)));
            }
            FaultKind::Partition => {
                // `n` and the nodes whose bit is set in `side` against the rest.
                let (b, a): (Vec<usize>, Vec<usize>) =
                    (0..plan.nodes.len()).partition(|&i| i == n || f.side >> (i % 32) & 1 == 1);
                if !a.is_empty() {
                    out.push((f.at, Action::Partition(vec![a, b])));
                    out.push((undo, Action::Heal));
                }
            }
            FaultKind::Burst => {
                if !matches!(plan.nodes[n].kind, NodeKind::Sentinel(_)) {
                    out.push((
                        f.at,
                        Action::Burst {
                            node: n,
                            writes: (f.duration / 10_000) as u32,
                            value_size: 1000,
                        },
                    ));
                }
            }
            FaultKind::OneWay => {
                let to: Vec<usize> = (0..plan.nodes.len())
                    .filter(|&i| i != n && f.side >> (i % 32) & 1 == 1)
                    .collect();
                if !to.is_empty() {
                    out.push((f.at, Action::PartitionOneWay { from: vec![n], to }));
                    out.push((undo, Action::Heal));
                }
            }
            FaultKind::Clock => {
                let by = (f.duration as i64 / 2) * if f.side & 1 == 0 { 1 } else { -1 };
                out.push((f.at, Action::ClockJump { node: n, by }));
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
        }
    }
    // Then everything heals and every process runs again.
    out.push((stop, Action::Heal));
    for &n in &nodes {
        out.push((stop, Action::Resume(n)));
        out.push((stop, Action::Restart(n)));
    }
    out.sort_by_key(|(t, _)| *t);
    changing_only(plan, out)
}

/// Drops the drawn actions that would change nothing (a restart of a
/// running process, a resume of one not stopped, a heal with no partition),
/// judged together with the scenario's own faults in the order the run
/// applies them: the scenario's first at equal times.
fn changing_only(plan: &Plan, drawn: Vec<(Micros, Action)>) -> Vec<(Micros, Action)> {
    let mut all: Vec<(Micros, bool, Action)> = plan
        .faults
        .iter()
        .map(|(t, a)| (*t, false, a.clone()))
        .chain(drawn.into_iter().map(|(t, a)| (t, true, a)))
        .collect();
    all.sort_by_key(|(t, _, _)| *t);
    let mut tracker = crate::scenario::liveness::Tracker::new(plan.nodes.len());
    all.into_iter()
        .filter_map(|(t, drawn, a)| {
            let changes = tracker.apply(&a).is_ok();
            (drawn && changes).then_some((t, a))
        })
        .collect()
}

fn link(from: usize, to: usize, params: LinkParams) -> Action {
    Action::Link {
        from,
        to,
        params,
        both_ways: true,
    }
}

/// The plan with a schedule laid over it.
pub fn with_schedule(plan: &Plan, cfg: &FuzzConfig, schedule: &[Fault]) -> Plan {
    let mut p = plan.clone();
    p.faults.extend(actions(plan, cfg, schedule));
    p.faults.sort_by_key(|(t, _)| *t);
    p
}

/// The outcome of one checked run.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub violations: Vec<Violation>,
    /// Rare paths reached, by event name.
    pub coverage: Vec<&'static str>,
}

/// Rare paths a sweep should report reaching.
const COVERAGE: &[(&str, &str)] = &[
    (
        "backlog-overflow full resync",
        "Unable to partial resync with replica for lack of backlog",
    ),
    ("failover timeout", "+failover-end-for-timeout"),
    (
        "aborted failover (not elected)",
        "-failover-abort-not-elected",
    ),
    (
        "aborted failover (no good replica)",
        "-failover-abort-no-good-slave",
    ),
    (
        "aborted failover (replica timeout)",
        "-failover-abort-slave-timeout",
    ),
    ("TILT", "+tilt"),
    (
        "output buffer limit",
        "scheduled to be closed ASAP for overcoming of output buffer limits.",
    ),
    ("old master converted", "+convert-to-slave"),
    ("failover completed", "+switch-master"),
    (
        "cluster failover won",
        "Failover election won: I'm the new master.",
    ),
    ("cluster failover delayed by rank", "Replica rank updated"),
    ("cluster failover expired", "Currently unable to failover"),
    ("cluster vote denied", "Failover auth denied to"),
    (
        "cluster FAIL cleared for a master still serving slots",
        "Clear FAIL state for node: is reachable again and nobody is serving its slots after some time.",
    ),
    (
        "cluster master demoted by newer config",
        "Configuration change detected. Reconfiguring myself as a replica of",
    ),
    (
        "cluster configEpoch collision",
        "WARNING: configEpoch collision with node",
    ),
];

/// Runs a plan at a seed, sampling invariants every 500 ms, checking the
/// properties and bounds: safety throughout, liveness (`converges`) at the
/// end or `converges-within` after `faults_stop`.
pub fn check(plan: &Plan, seed: u64, cfg: &FuzzConfig) -> Checked {
    let mut w = World::new(plan, seed);
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
                crate::sim::time::Secs(gap.len()),
                crate::sim::time::Secs(gap.from),
                crate::sim::time::Secs(gap.to)
            ),
        });
    }
    violations.sort();
    violations.dedup_by(|a, b| a.property == b.property);
    let events = &w.sim.kernel.trace.events;
    let coverage = COVERAGE
        .iter()
        .filter(|(_, name)| events.iter().any(|e| e.event == *name))
        .map(|(label, _)| *label)
        .collect();
    Checked {
        violations,
        coverage,
    }
}

/// The schedule proptest draws for `seed`, as a value tree to shrink.
fn tree_for(cfg: &FuzzConfig, targets: usize, seed: u64) -> impl ValueTree<Value = Vec<Fault>> {
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

/// A failing seed, shrunk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    pub seed: u64,
    pub property: String,
    pub detail: String,
    pub faults_drawn: usize,
    pub faults_after_shrinking: usize,
    /// The reproducing scenario file, once written.
    #[serde(default)]
    pub repro: Option<String>,
    #[serde(skip)]
    pub schedule: Vec<Fault>,
    /// In swarm mode, the scenario text with this seed's drawn values.
    #[serde(skip)]
    pub scenario: Option<String>,
}

/// Checks one seed; on failure shrinks the schedule with proptest's value
/// tree: simplify while the same property still fails.
pub fn run_seed(plan: &Plan, cfg: &FuzzConfig, seed: u64) -> (Checked, Option<Failure>) {
    let n_targets = targets(plan).len().max(1);
    let mut tree = tree_for(cfg, n_targets, seed);
    let schedule = tree.current();
    let checked = check(&with_schedule(plan, cfg, &schedule), seed, cfg);
    let Some(first) = checked.violations.first().cloned() else {
        return (checked, None);
    };
    let mut best = schedule.clone();
    let mut detail = first.detail.clone();
    if cfg.shrink {
        let mut steps = 0;
        let fails = |s: &[Fault]| {
            check(&with_schedule(plan, cfg, s), seed, cfg)
                .violations
                .into_iter()
                .find(|v| v.property == first.property)
        };
        if tree.simplify() {
            loop {
                steps += 1;
                let candidate = tree.current();
                let advanced = match fails(&candidate) {
                    Some(v) => {
                        best = candidate;
                        detail = v.detail;
                        tree.simplify()
                    }
                    None => tree.complicate(),
                };
                if !advanced || steps > 300 {
                    break;
                }
            }
        }
    }
    let failure = Failure {
        seed,
        property: first.property.to_string(),
        detail,
        faults_drawn: schedule.len(),
        faults_after_shrinking: best.len(),
        repro: None,
        schedule: best,
        scenario: None,
    };
    (checked, Some(failure))
}

/// What a sweep found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub seeds: Vec<u64>,
    pub runs: u64,
    pub failures: Vec<Failure>,
    /// Failing runs per property.
    pub per_property: BTreeMap<String, u64>,
    /// Runs that reached each rare path.
    pub coverage: BTreeMap<String, u64>,
}

impl Summary {
    /// Combines summaries of shards of one sweep.
    pub fn merge(mut self, other: Summary) -> Summary {
        self.runs += other.runs;
        self.seeds.extend(other.seeds);
        self.seeds.sort_unstable();
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|f| f.seed);
        for (k, v) in other.per_property {
            *self.per_property.entry(k).or_default() += v;
        }
        for (k, v) in other.coverage {
            *self.coverage.entry(k).or_default() += v;
        }
        self
    }
}

/// Runs `seeds` over `jobs` threads. Each run is single-threaded and
/// deterministic, and results are ordered by seed, so the summary is the
/// same whatever `jobs` is.
pub fn sweep(
    plan: &Plan,
    text: &str,
    cfg: &FuzzConfig,
    seeds: &[u64],
    jobs: usize,
    keep_going: &(dyn Fn() -> bool + Sync),
    progress: &(dyn Fn(u64, usize) + Sync),
) -> Summary {
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<(u64, Checked, Option<Failure>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                while keep_going() {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(&seed) = seeds.get(i) else { break };
                    let (checked, failure) = match swarm_scenario(text, plan, seed) {
                        Ok((drawn_text, drawn)) if !plan.fuzz.swarm.is_empty() => {
                            let (c, f) = run_seed(&drawn, cfg, seed);
                            (
                                c,
                                f.map(|f| Failure {
                                    scenario: Some(drawn_text),
                                    ..f
                                }),
                            )
                        }
                        Ok(_) => run_seed(plan, cfg, seed),
                        Err(e) => (
                            Checked {
                                violations: Vec::new(),
                                coverage: Vec::new(),
                            },
                            Some(Failure {
                                seed,
                                property: "swarm".into(),
                                detail: format!("the drawn configuration is invalid: {e}"),
                                faults_drawn: 0,
                                faults_after_shrinking: 0,
                                repro: None,
                                schedule: Vec::new(),
                                scenario: None,
                            }),
                        ),
                    };
                    let mut r = results.lock().expect("no panics while holding it");
                    r.push((seed, checked, failure));
                    let failed = r.iter().filter(|x| x.2.is_some()).count();
                    progress(r.len() as u64, failed);
                }
            });
        }
    });
    let mut results = results.into_inner().expect("threads finished");
    results.sort_by_key(|r| r.0);
    let mut summary = Summary {
        scenario: plan.name.clone(),
        seeds: results.iter().map(|r| r.0).collect(),
        ..Summary::default()
    };
    for (_, checked, failure) in results {
        summary.runs += 1;
        for label in checked.coverage {
            *summary.coverage.entry(label.to_string()).or_default() += 1;
        }
        if let Some(f) = failure {
            *summary.per_property.entry(f.property.clone()).or_default() += 1;
            summary.failures.push(f);
        }
    }
    summary
}

/// The failing run as an explicit scenario file: the original scenario with
/// its seed set, every fault of the shrunk schedule spelled out, and the
/// violated property as an expectation, so `redsim run` reproduces it even
/// after the generator changes.
pub fn repro_toml(
    original: &str,
    plan: &Plan,
    cfg: &FuzzConfig,
    failure: &Failure,
) -> Result<String, String> {
    let original = failure.scenario.as_deref().unwrap_or(original);
    let mut doc: toml::Table = toml::from_str(original).map_err(|e| e.to_string())?;
    doc.insert("seed".into(), toml::Value::Integer(failure.seed as i64));
    doc.insert(
        "name".into(),
        toml::Value::String(format!("{}/fuzz-seed-{}", plan.name, failure.seed)),
    );
    doc.remove("fuzz");
    let faults = doc
        .entry("fault")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    let toml::Value::Array(list) = faults else {
        return Err("`fault` is not an array of tables".into());
    };
    for (at, action) in actions(plan, cfg, &failure.schedule) {
        list.push(toml::Value::Table(action_table(plan, at, &action)));
    }
    let mut expect = toml::Table::new();
    match failure.property.as_str() {
        "no-lost-acked-writes" => {
            expect.insert("lost-acked-writes".into(), "= 0".into());
        }
        "max-lost-acked-writes" => {
            let max = cfg.bounds.max_lost_acked_writes.unwrap_or(0);
            expect.insert("lost-acked-writes".into(), format!("<= {max}").into());
        }
        "max-unavailability" => {
            let max = cfg.bounds.max_unavailability.unwrap_or(0);
            expect.insert("max-unavailability".into(), format!("{max}us").into());
        }
        "converges-within" => {
            let at = cfg.faults_stop + cfg.bounds.converges_within.unwrap_or(0);
            expect.insert("at".into(), format!("{at}us").into());
            expect.insert("converged".into(), true.into());
        }
        p => {
            expect.insert("invariant".into(), p.into());
        }
    }
    doc.insert(
        "expect".into(),
        toml::Value::Array(vec![toml::Value::Table(expect)]),
    );
    let body = toml::to_string(&doc).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Found by `redsim fuzz` (seed {}): {} — {}\n# Shrunk from {} to {} faults.\n{body}",
        failure.seed,
        failure.property,
        failure.detail,
        failure.faults_drawn,
        failure.faults_after_shrinking
    ))
}

fn action_table(plan: &Plan, at: Micros, a: &Action) -> toml::Table {
    let name = |n: usize| toml::Value::String(plan.nodes[n].name.clone());
    let mut t = toml::Table::new();
    t.insert("at".into(), format!("{}us", at).into());
    match a {
        Action::Kill(n) => drop(t.insert("kill".into(), name(*n))),
        Action::Crash(n) => drop(t.insert("crash".into(), name(*n))),
        Action::Shutdown(n) => drop(t.insert("shutdown".into(), name(*n))),
        Action::Restart(n) => drop(t.insert("restart".into(), name(*n))),
        Action::Pause(n) => drop(t.insert("pause".into(), name(*n))),
        Action::Resume(n) => drop(t.insert("resume".into(), name(*n))),
        Action::Heal => drop(t.insert("heal".into(), true.into())),
        Action::Reshard {
            from,
            to,
            slots,
            batch,
        } => {
            let mut r = toml::Table::new();
            r.insert("from".into(), name(*from));
            r.insert("to".into(), name(*to));
            let mut set = crate::redis::cluster::slots::SlotSet::default();
            slots.iter().for_each(|&s| set.insert(s));
            r.insert("slots".into(), set.ranges_text().into());
            r.insert("batch".into(), i64::from(*batch).into());
            t.insert("reshard".into(), toml::Value::Table(r));
        }
        Action::ClusterFailover { node, mode } => {
            let mut c = toml::Table::new();
            c.insert("node".into(), name(*node));
            match mode {
                crate::redis::cluster::failover::FailoverMode::Default => {}
                crate::redis::cluster::failover::FailoverMode::Force => {
                    c.insert("mode".into(), "force".into());
                }
                crate::redis::cluster::failover::FailoverMode::Takeover => {
                    c.insert("mode".into(), "takeover".into());
                }
            }
            t.insert("cluster-failover".into(), toml::Value::Table(c));
        }
        Action::Partition(groups) => {
            let g = groups
                .iter()
                .map(|g| toml::Value::Array(g.iter().map(|&n| name(n)).collect()))
                .collect();
            t.insert("partition".into(), toml::Value::Array(g));
        }
        Action::PartitionOneWay { from, to } => {
            let mut p = toml::Table::new();
            p.insert(
                "from".into(),
                toml::Value::Array(from.iter().map(|&n| name(n)).collect()),
            );
            p.insert(
                "to".into(),
                toml::Value::Array(to.iter().map(|&n| name(n)).collect()),
            );
            t.insert("partition-oneway".into(), toml::Value::Table(p));
        }
        Action::Link {
            from,
            to,
            params,
            both_ways,
        } => {
            let mut l = toml::Table::new();
            l.insert("from".into(), name(*from));
            l.insert("to".into(), name(*to));
            l.insert("latency".into(), format!("{}us", params.latency).into());
            l.insert("jitter".into(), format!("{}us", params.jitter).into());
            l.insert("bandwidth".into(), params.bandwidth.to_string().into());
            l.insert("loss".into(), params.loss.into());
            l.insert("both-ways".into(), (*both_ways).into());
            t.insert("link".into(), toml::Value::Table(l));
        }
        Action::ClockJump { node, by } => {
            let mut c = toml::Table::new();
            c.insert("node".into(), name(*node));
            let sign = if *by < 0 { "-" } else { "+" };
            c.insert("by".into(), format!("{sign}{}us", by.unsigned_abs()).into());
            t.insert("clock-jump".into(), toml::Value::Table(c));
        }
        Action::Burst {
            node,
            writes,
            value_size,
        } => {
            let mut b = toml::Table::new();
            b.insert("node".into(), name(*node));
            b.insert("writes".into(), i64::from(*writes).into());
            b.insert("value-size".into(), i64::from(*value_size).into());
            t.insert("burst".into(), toml::Value::Table(b));
        }
        Action::ReplicaOf { node, master } => {
            let mut r = toml::Table::new();
            r.insert("node".into(), name(*node));
            r.insert(
                "master".into(),
                master.map_or(toml::Value::String("no one".into()), name),
            );
            t.insert("replicaof".into(), toml::Value::Table(r));
        }
        Action::ClientKillMaster(n) => drop(t.insert("client-kill-master".into(), name(*n))),
        Action::DebugSleep { node, length } => {
            let mut d = toml::Table::new();
            d.insert("node".into(), name(*node));
            d.insert("for".into(), format!("{length}us").into());
            t.insert("debug-sleep".into(), toml::Value::Table(d));
        }
        // Written by the parser with its DEBUG SLEEP; the nearest fault.
        Action::DebugSleepEnd(n) => drop(t.insert("resume".into(), name(*n))),
    }
    t
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
        let value = range.value(v);
        let table = |doc: &mut toml::Table, name: &str| -> toml::Table {
            match doc.remove(name) {
                Some(toml::Value::Table(t)) => t,
                _ => toml::Table::new(),
            }
        };
        let section = swarm_section(key);
        if section == "workload" {
            if let Some(toml::Value::Array(ws)) = doc.get_mut("workload") {
                for w in ws.iter_mut() {
                    if let toml::Value::Table(t) = w {
                        t.insert(key.clone(), value.clone());
                    }
                }
            }
        } else {
            let mut t = table(&mut doc, section);
            t.insert(key.clone(), value);
            doc.insert(section.into(), toml::Value::Table(t));
        }
    }
    let text = toml::to_string(&doc).map_err(|e| e.to_string())?;
    let drawn = crate::scenario::parse("swarm.toml", &text).map_err(|e| e.to_string())?;
    Ok((text, drawn))
}

/// Where a swarm key lives in a scenario.
pub fn swarm_section(key: &str) -> &'static str {
    match key {
        "down-after-milliseconds" | "failover-timeout" | "quorum" | "parallel-syncs" => "sentinel",
        "latency" | "jitter" | "bandwidth" | "loss" => "network",
        "rate" | "value-size" => "workload",
        "replicas" | "sentinels" => "topology",
        _ => "redis",
    }
}
