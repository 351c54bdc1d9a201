//! The fuzzer finds the failures the bundled fuzz scenarios describe, shrinks
//! them to small schedules, and writes scenario files that reproduce them
//! byte for byte; sweeps do not depend on the number of threads, and the
//! election invariants survive a sweep.
use redsim::check::RunView as _;

use redsim::fuzz;
use redsim::golden;
use redsim::scenario::{self, Plan};
use redsim::world;

use super::common::{bundled, fuzz_config, sweep};

/// A bundled fuzz scenario: its plan and text.
fn load(name: &str) -> (Plan, String) {
    bundled(&format!("scenarios/fuzz/{name}"))
}

/// Sweeps `seeds` for the first failure of `property`, shrinks it, checks
/// it shrank to at most `max_faults` faults, and that the written scenario
/// reproduces it deterministically. (Searching, rather than naming a seed,
/// keeps the test meaningful when the schedule generator changes.)
#[must_use]
fn finds_and_reproduces(
    name: &str,
    seeds: std::ops::Range<u64>,
    property: &str,
    max_faults: usize,
) -> String {
    let (plan, text) = load(name);
    let seeds = fuzz::Seeds::range(seeds);
    let seed = sweep(&plan, &text, &fuzz_config(&plan, false), &seeds, 2)
        .failures
        .iter()
        .find(|f| f.property == property)
        .unwrap_or_else(|| panic!("{name}: no seed in {seeds:?} breaks {property}"))
        .seed;
    let cfg = fuzz_config(&plan, true);
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
    repro
}

#[test]
fn finds_data_loss_from_a_master_restarted_without_persistence() {
    let repro = finds_and_reproduces(
        "master-restart-without-persistence.toml",
        0..40,
        "no-lost-acked-writes",
        1,
    );
    // Durations as people write them, never a count of microseconds that
    // a unit would shorten.
    assert!(!repro.contains("000us"), "{repro}");
    assert!(repro.contains("at = \""), "{repro}");
}

#[test]
fn finds_writes_lost_despite_min_replicas_to_write() {
    let _repro = finds_and_reproduces(
        "min-replicas-still-loses-writes.toml",
        0..80,
        "no-lost-acked-writes",
        // At most two draws (each a fault and what undoes it): the first
        // failing seed needs a partition and a replica's restart.
        2,
    );
}

#[test]
fn finds_a_split_brain_window_under_sentinel() {
    let repro = finds_and_reproduces("sentinel-split-brain.toml", 0..300, "no-split-brain", 3);
    // The reported windows are true: sampled every 10 ms, both nodes are
    // masters throughout each window, and each window is bounded by
    // acknowledgements of the two nodes.
    let plan = scenario::parse("repro.toml", &repro).expect("valid");
    let out = world::run(&plan, plan.seed).expect("runs");
    let history = out.world.history();
    let windows = out.world.two_writable_masters(&history);
    assert!(!windows.is_empty());
    let acked = |n: u32, t: u64| {
        history
            .iter()
            .any(|o| o.node == n && o.outcome.is_ok() && o.completed == Some(t))
    };
    for &(a, b, win) in &windows {
        assert!(acked(a, win.from) || acked(b, win.from), "{win:?}");
        assert!(acked(a, win.to) || acked(b, win.to), "{win:?}");
        assert!(
            win.len() < 30_000_000,
            "{win:?} is longer than any tenure here"
        );
    }
    let mut w = world::World::new(&plan, plan.seed);
    let mut t = 0;
    while t < plan.duration {
        t += 10_000;
        w.run_until(t).expect("runs");
        for &(a, b, win) in &windows {
            // A reply is on the wire for a link's latency after the master
            // sent it: sample strictly inside, 5 ms from each end.
            if win.from + 5_000 < t && t + 5_000 < win.to {
                for n in [a, b] {
                    assert_eq!(
                        w.role(n as usize),
                        Some("master"),
                        "{} is not a master at {t} inside {win:?}",
                        w.names[n as usize]
                    );
                }
            }
        }
    }
}

/// Sweeps `seeds` of master-restart-without-persistence.toml on one thread
/// and on two.
fn sweeps_on_one_and_two_threads(
    seeds: std::ops::Range<u64>,
    shrink: bool,
) -> (fuzz::Summary, fuzz::Summary) {
    let (plan, text) = load("master-restart-without-persistence.toml");
    let cfg = fuzz_config(&plan, shrink);
    let seeds = fuzz::Seeds::range(seeds);
    let one = sweep(&plan, &text, &cfg, &seeds, 1);
    (one, sweep(&plan, &text, &cfg, &seeds, 2))
}

#[test]
fn sweep_results_do_not_depend_on_threads() {
    let (one, two) = sweeps_on_one_and_two_threads(0..12, false);
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
    let mut cfg = fuzz_config(&plan, false);
    cfg.properties = vec!["converges".into()];
    let seeds = fuzz::Seeds::range(0..40);
    let s = sweep(&plan, &text, &cfg, &seeds, 2);
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
        s.coverage
            .iter()
            .any(|p| p.probe == "failover completed" && p.runs > 0),
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

#[test]
fn drawn_schedules_hold_only_faults_that_change_something() {
    for name in [
        "sentinel-split-brain.toml",
        "sentinel-invariants.toml",
        "cluster-invariants.toml",
    ] {
        let (plan, _) = load(name);
        let cfg = fuzz_config(&plan, false);
        for seed in 0..60 {
            let p = fuzz::seed_plan(&plan, &cfg, seed);
            for (i, e) in scenario::liveness::effects(p.nodes.len(), &p.faults)
                .into_iter()
                .enumerate()
            {
                assert_eq!(e, Ok(()), "{name} seed {seed}: {:?}", p.faults[i]);
            }
            // The trace never says a process started or got SIGCONT while
            // it was already running.
            let out = world::run(&p, seed).expect("runs");
            assert!(out.world.warnings.is_empty(), "{:?}", out.world.warnings);
        }
    }
}

#[test]
fn an_action_that_changes_nothing_is_not_traced() {
    let (plan, _) = load("sentinel-split-brain.toml");
    let mut w = world::World::new(&plan, 1);
    w.run_until(1_000_000).expect("runs");
    let before = w.trace().events.len();
    w.apply(&scenario::Fault::Restart(0));
    w.apply(&scenario::Fault::Resume(0));
    let after: Vec<_> = w.trace().events[before..]
        .iter()
        .map(|e| e.event.to_string())
        .collect();
    assert!(
        !after.iter().any(|e| e == "restart" || e == "resume"),
        "{after:?}"
    );
    assert_eq!(w.warnings.len(), 2, "{:?}", w.warnings);
    assert!(
        w.warnings[0].starts_with("restart of master at 1.000000s does nothing"),
        "{:?}",
        w.warnings
    );
}

/// Every `at = "…"` and other duration in a reproducing scenario, also in
/// its expectations, is written with the largest exact unit.
#[test]
fn reproducers_write_bounds_and_times_with_units() {
    let (plan, text) = load("master-restart-without-persistence.toml");
    let mut cfg = fuzz_config(&plan, true);
    cfg.bounds.max_unavailability = Some(101_000);
    cfg.bounds.converges_within = Some(20_000_000);
    let seeds = fuzz::Seeds::range(0..40);
    let seed = sweep(&plan, &text, &fuzz_config(&plan, false), &seeds, 2).failures[0].seed;
    let (_, f) = fuzz::run_seed(&plan, &cfg, seed);
    let mut f = f.expect("fails");
    for (property, want) in [
        ("max-unavailability", "max-unavailability = \"101ms\""),
        ("converges-within", "at = \"60s\""),
    ] {
        f.property = property.into();
        let repro = fuzz::repro_toml(&text, &plan, &cfg, &f).expect("writable");
        assert!(repro.contains(want), "{want} not in\n{repro}");
        assert!(!repro.contains("000us"), "{repro}");
    }
}

/// Seeds that fail the same way form one group with one shrunk
/// representative (its smallest seed), whatever the number of threads.
#[test]
fn failures_are_grouped_by_signature() {
    let (one, two) = sweeps_on_one_and_two_threads(0..60, true);
    assert!(one.failures.len() >= 8, "{:?}", one.failures);
    assert!(
        one.groups.len() * 3 <= one.failures.len(),
        "{} groups for {} failures: {:?}",
        one.groups.len(),
        one.failures.len(),
        one.groups.iter().map(|g| &g.signature).collect::<Vec<_>>()
    );
    let total: u64 = one.groups.iter().map(|g| g.count).sum();
    assert_eq!(total, one.failures.len() as u64);
    for g in &one.groups {
        assert_eq!(g.seeds.len() as u64, g.count);
        assert_eq!(Some(&g.representative.seed), g.seeds.first());
        assert!(g.representative.shrunk);
        assert!(
            g.signature.starts_with("no-lost-acked-writes; faults: "),
            "{}",
            g.signature
        );
        for f in one.failures.iter().filter(|f| g.seeds.contains(&f.seed)) {
            assert_eq!(f.signature, g.signature);
        }
    }
    let key = |s: &fuzz::Summary| {
        s.groups
            .iter()
            .map(|g| {
                (
                    g.signature.clone(),
                    g.seeds.clone(),
                    g.representative.faults_after_shrinking,
                    g.representative.detail.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&one), key(&two));
}

/// The summary lists every coverage probe, those never reached too, and
/// marks cluster probes as not applicable to a Sentinel scenario.
#[test]
fn coverage_lists_every_probe() {
    let (plan, text) = load("sentinel-split-brain.toml");
    let cfg = fuzz_config(&plan, false);
    let s = sweep(&plan, &text, &cfg, &fuzz::Seeds::range(0..2), 2);
    assert_eq!(s.coverage.len(), fuzz::COVERAGE.len());
    let probe = |name: &str| s.coverage.iter().find(|p| p.probe == name).expect(name);
    assert!(!probe("cluster vote denied").applicable);
    assert!(probe("TILT").applicable);
    assert!(s.coverage.iter().any(|p| p.applicable && p.runs == 0));
    let (cplan, ctext) = load("cluster-invariants.toml");
    let c = sweep(
        &cplan,
        &ctext,
        &fuzz_config(&cplan, false),
        &fuzz::Seeds::range(0..1),
        1,
    );
    assert!(
        c.coverage
            .iter()
            .find(|p| p.probe == "cluster vote denied")
            .unwrap()
            .applicable
    );
    assert!(
        !c.coverage
            .iter()
            .find(|p| p.probe == "TILT")
            .unwrap()
            .applicable
    );
}

/// Seed sets are lazy and do not overflow at the top of the range.
#[test]
fn seed_sets_handle_the_whole_range() {
    let all = fuzz::Seeds::range(0..u64::MAX);
    assert_eq!(all.len(), u64::MAX);
    assert_eq!(all.get(u64::MAX - 1), Some(u64::MAX - 1));
    assert_eq!(all.get(u64::MAX), None);
    let top = fuzz::Seeds {
        start: u64::MAX - 5,
        end: u64::MAX,
        shard: Some((1, 2)),
    };
    let seeds: Vec<u64> = (0..top.len()).filter_map(|k| top.get(k)).collect();
    let want: Vec<u64> = (u64::MAX - 5..u64::MAX).filter(|s| s % 2 == 1).collect();
    assert_eq!(seeds, want);
    assert!(fuzz::Seeds::range(7..7).is_empty());
}

/// Merging refuses the same shard twice and summaries of other scenarios.
#[test]
fn merge_refuses_overlapping_shards_and_other_scenarios() {
    let (plan, text) = load("master-restart-without-persistence.toml");
    let cfg = fuzz_config(&plan, false);
    let shard = |i| fuzz::Seeds {
        start: 0,
        end: 6,
        shard: Some((i, 2)),
    };
    let a = sweep(&plan, &text, &cfg, &shard(0), 1);
    let b = sweep(&plan, &text, &cfg, &shard(1), 1);
    let merged = a.clone().merge(b.clone()).expect("two shards merge");
    assert_eq!(merged.seeds, (0..6).collect::<Vec<_>>());
    assert_eq!(merged.runs, 6);
    let err = a.clone().merge(a.clone()).unwrap_err();
    assert!(err.contains("in two summaries"), "{err}");
    let mut other = b.clone();
    other.scenario = "fuzz/other".into();
    assert!(
        a.clone()
            .merge(other)
            .unwrap_err()
            .contains("different scenarios")
    );
    let mut edited = b;
    edited.campaign.scenario_hash = fuzz::text_hash("changed");
    assert!(a.merge(edited).unwrap_err().contains("different versions"));
}
