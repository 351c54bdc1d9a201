//! The fuzzer finds the failures the bundled fuzz scenarios describe, shrinks
//! them to small schedules, and writes scenario files that reproduce them
//! byte for byte; sweeps do not depend on the number of threads, and the
//! election invariants survive a sweep.

use std::path::Path;

use redsim::fuzz::{self, FaultKind, FuzzConfig};
use redsim::golden;
use redsim::scenario::{self, Plan};
use redsim::world;

fn load(name: &str) -> (Plan, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/fuzz")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("bundled scenario");
    (scenario::parse(name, &text).expect("valid"), text)
}

fn config(plan: &Plan, shrink: bool) -> FuzzConfig {
    FuzzConfig {
        kinds: FaultKind::ALL.to_vec(),
        max_faults: plan.fuzz.max_faults,
        faults_stop: plan.fuzz.faults_stop,
        properties: plan.fuzz.properties.clone(),
        bounds: plan.fuzz.bounds.clone(),
        shrink,
    }
}

/// Sweeps `seeds` for the first failure of `property`, shrinks it, checks
/// it shrank to at most `max_faults` faults, and that the written scenario
/// reproduces it deterministically. (Searching, rather than naming a seed,
/// keeps the test meaningful when the schedule generator changes.)
fn finds_and_reproduces(
    name: &str,
    seeds: std::ops::Range<u64>,
    property: &str,
    max_faults: usize,
) {
    let (plan, text) = load(name);
    let seeds: Vec<u64> = seeds.collect();
    let sweep = fuzz::sweep(
        &plan,
        &text,
        &config(&plan, false),
        &seeds,
        2,
        &|| true,
        &|_, _| {},
    );
    let seed = sweep
        .failures
        .iter()
        .find(|f| f.property == property)
        .unwrap_or_else(|| panic!("{name}: no seed in {seeds:?} breaks {property}"))
        .seed;
    let cfg = config(&plan, true);
    let (_, failure) = fuzz::run_seed(&plan, &cfg, seed);
    let failure = failure.unwrap_or_else(|| panic!("{name}: seed {seed} does not fail"));
    assert_eq!(failure.property, property, "{}", failure.detail);
    assert!(
        failure.faults_after_shrinking <= max_faults,
        "{name}: seed {seed} shrunk only to {} faults (from {})",
        failure.faults_after_shrinking,
        failure.faults_drawn
    );
    let repro = fuzz::repro_toml(&text, &plan, &cfg, &failure).expect("writable");
    let repro_plan =
        scenario::parse("repro.toml", &repro).unwrap_or_else(|e| panic!("{e}\n{repro}"));
    let run = world::run(&repro_plan, repro_plan.seed).expect("runs");
    assert!(
        run.verdicts.iter().any(|v| !v.holds),
        "the reproducing scenario does not fail:\n{repro}"
    );
    assert_eq!(
        golden::determinism(&repro_plan, repro_plan.seed).expect("runs"),
        None,
        "the reproducing scenario is not deterministic"
    );
}

#[test]
fn finds_data_loss_from_a_master_restarted_without_persistence() {
    finds_and_reproduces(
        "master-restart-without-persistence.toml",
        0..40,
        "no-lost-acked-writes",
        1,
    );
}

#[test]
fn finds_writes_lost_despite_min_replicas_to_write() {
    finds_and_reproduces(
        "min-replicas-still-loses-writes.toml",
        0..80,
        "no-lost-acked-writes",
        1,
    );
}

#[test]
fn finds_a_split_brain_window_under_sentinel() {
    finds_and_reproduces("sentinel-split-brain.toml", 0..1000, "no-split-brain", 3);
}

#[test]
fn sweep_results_do_not_depend_on_threads() {
    let (plan, text) = load("master-restart-without-persistence.toml");
    let cfg = config(&plan, false);
    let seeds: Vec<u64> = (0..12).collect();
    let one = fuzz::sweep(&plan, &text, &cfg, &seeds, 1, &|| true, &|_, _| {});
    let two = fuzz::sweep(&plan, &text, &cfg, &seeds, 2, &|| true, &|_, _| {});
    let key = |s: &fuzz::Summary| {
        (
            s.runs,
            s.per_property.clone(),
            s.coverage.clone(),
            s.failures
                .iter()
                .map(|f| (f.seed, f.detail.clone()))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(key(&one), key(&two));
    assert!(!one.failures.is_empty());
}

#[test]
fn election_invariants_hold_over_a_sweep() {
    let (plan, text) = load("sentinel-split-brain.toml");
    let mut cfg = config(&plan, false);
    cfg.properties = vec!["converges".into()];
    let seeds: Vec<u64> = (0..40).collect();
    let s = fuzz::sweep(&plan, &text, &cfg, &seeds, 2, &|| true, &|_, _| {});
    for p in [
        "one-leader-per-epoch",
        "one-vote-per-epoch",
        "epochs-monotonic",
        "offsets-monotonic",
        "converges",
    ] {
        assert_eq!(
            s.per_property.get(p),
            None,
            "{p} violated: {:?}",
            s.failures
        );
    }
    assert!(
        s.coverage.get("failover completed").copied().unwrap_or(0) > 0,
        "no failover in the sweep"
    );
}

#[test]
fn swarm_mode_draws_configuration_into_the_scenario() {
    let (plan, text) = load("sentinel-invariants.toml");
    assert!(!plan.fuzz.swarm.is_empty());
    let (a_text, a) = fuzz::swarm_scenario(&text, &plan, 1).expect("valid draw");
    let (b_text, _) = fuzz::swarm_scenario(&text, &plan, 1).expect("valid draw");
    let (c_text, _) = fuzz::swarm_scenario(&text, &plan, 2).expect("valid draw");
    assert_eq!(a_text, b_text, "a seed always draws the same configuration");
    assert_ne!(a_text, c_text, "seeds draw different configurations");
    let replicas = a
        .nodes
        .iter()
        .filter(|n| n.name.starts_with("replica-"))
        .count();
    assert!((1..=3).contains(&replicas));
}
