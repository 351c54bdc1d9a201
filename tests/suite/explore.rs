//! Exhaustive exploration (`redsim explore`): the walk is breadth-first, so
//! the counterexample it reports is a shortest one; a space without one is
//! exhausted; pruning only ever removes schedules, never the verdict of a
//! small space; results do not depend on `--jobs`; bad bounds are refused.

use redsim::fuzz::explore::{self, ExploreConfig, Outcome};
use redsim::scenario::FaultKind;
use redsim::time::ms;

use super::common::{Scenario, bundled, fuzz_config, redsim, scratch};

fn explore_config(plan: &redsim::scenario::Plan, kinds: &[FaultKind], k: usize) -> ExploreConfig {
    let mut fuzz = fuzz_config(plan, false);
    fuzz.kinds = kinds.to_vec();
    fuzz.max_faults = k;
    ExploreConfig {
        fuzz,
        from: 0,
        to: ms(8_000),
        grid: ms(2_000),
        holds: vec![ms(4_000)],
        prune: true,
    }
}

fn walk(plan: &redsim::scenario::Plan, cfg: &ExploreConfig, jobs: usize) -> Outcome {
    explore::explore(plan, cfg, jobs, &|| true, &|_| {})
}

/// A failover that can only be aborted: the master down and its one
/// replica unusable. One fault is never enough (a killed master's replica
/// is promoted; a killed replica leaves the master serving), so the
/// shortest schedule that makes Sentinel print
/// `-failover-abort-no-good-slave` has two faults, and the walk finds it
/// only after running every one-fault schedule.
fn abort_needs_two_faults() -> Scenario {
    Scenario::new("30s", "masters = 1, replicas = 1, sentinels = 3")
        .sentinel("down-after-milliseconds = 2000, failover-timeout = 6000")
        .workload(r#"sentinel = true, rate = 20, keys = 50"#)
        .fuzz(
            r#"faults-stop = "15s", max-faults = 2, never-prints = ["-failover-abort-no-good-slave"]"#,
        )
}

#[test]
fn the_first_counterexample_is_a_shortest_one() {
    let plan = abort_needs_two_faults().plan();
    let cfg = explore_config(&plan, &[FaultKind::Kill], 2);
    let o = walk(&plan, &cfg, 2);
    let failure = o.counterexample.as_ref().expect("two kills abort it");
    assert_eq!(failure.schedule.len(), 2, "{failure:?}");
    assert_eq!(failure.property, "never-prints");
    // Every schedule of one fault ran (4 instants × 5 targets), clean.
    assert_eq!(o.levels[1].run, 20);
    assert_eq!(o.levels.len(), 3);
    // The first, in slot order: the master killed at 0 s, before its
    // replica ever synced, restarted at 4 s and killed again at 6 s while
    // the replica still waits for its first full sync: Sentinel finds no
    // replica fit to promote.
    let placed: Vec<(u64, usize)> = failure.schedule.iter().map(|d| (d.at, d.node)).collect();
    assert_eq!(placed, [(0, 0), (ms(6_000), 0)], "{failure:?}");
    // Without pruning the walk reports the same schedule.
    let unpruned = walk(
        &plan,
        &ExploreConfig {
            prune: false,
            ..cfg
        },
        1,
    );
    let u = unpruned.counterexample.expect("found without pruning too");
    assert_eq!(
        (u.schedule
            .iter()
            .map(|d| (d.at, d.node))
            .collect::<Vec<_>>()),
        (failure
            .schedule
            .iter()
            .map(|d| (d.at, d.node))
            .collect::<Vec<_>>())
    );
}

/// Without a counterexample the whole space is walked: every schedule
/// is run or pruned, and the counts add up to the space's size.
#[test]
fn a_space_without_a_counterexample_is_exhausted() {
    let (plan, _) = bundled("scenarios/explore/one-leader-per-epoch.toml");
    let kinds = [FaultKind::Kill, FaultKind::Pause];
    let cfg = explore_config(&plan, &kinds, 2);
    let o = walk(&plan, &cfg, 2);
    assert!(o.finished && o.counterexample.is_none());
    // 4 instants × 2 kinds × 5 targets = 40 slots: 1 + 40 + 780 schedules.
    assert_eq!(o.space, 821);
    assert_eq!(
        o.levels.iter().map(|l| l.depth).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(o.levels[1].run, 40);
    assert_eq!(u128::from(o.runs()) + o.saved, o.space);
    // Pruning only removes runs: without it, the same verdict.
    let all = walk(
        &plan,
        &ExploreConfig {
            prune: false,
            ..cfg
        },
        2,
    );
    assert_eq!(u128::from(all.runs()), all.space);
    assert!(all.counterexample.is_none());
    assert!(o.runs() <= all.runs());
}

/// The walk's batches are fixed, so one thread and two give the same
/// outcome.
#[test]
fn results_do_not_depend_on_jobs() {
    let plan = abort_needs_two_faults().plan();
    let cfg = explore_config(&plan, &[FaultKind::Kill, FaultKind::Pause], 2);
    let (a, b) = (walk(&plan, &cfg, 1), walk(&plan, &cfg, 2));
    assert_eq!(a.levels, b.levels);
    assert_eq!(a.saved, b.saved);
    let key = |o: &Outcome| {
        o.counterexample.as_ref().map(|f| {
            f.schedule
                .iter()
                .map(|d| (d.at, d.kind, d.node))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(key(&a), key(&b));
}

/// On the command line: the counterexample is written as a scenario that
/// reproduces it (its expectation fails under `redsim check`), and the exit
/// status says a property broke.
#[test]
fn the_command_writes_a_reproducer_of_the_counterexample() {
    let out = scratch("explore", "repro");
    let r = redsim(&[
        "explore",
        "scenarios/fuzz/min-replicas-still-loses-writes.toml",
        "--faults",
        "partition",
        "--max-faults",
        "1",
        "--grid",
        "10s",
        "--window",
        "0s..30s",
        "--hold",
        "20s",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("counterexample with 1 faults"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("no-lost-acked-writes"), "{}", r.stdout);
    let repro =
        out.join("fuzz__min-replicas-still-loses-writes__no-lost-acked-writes__explore.toml");
    let check = redsim(&["check", repro.to_str().expect("utf-8")]);
    assert_eq!(
        check.code, 1,
        "the reproducer fails its expectation: {}",
        check.stdout
    );
}

/// Bounds that cannot be walked, or make no sense, are refused before any
/// run, saying why.
#[test]
fn bad_bounds_are_refused_with_the_reason() {
    let s = "scenarios/explore/one-leader-per-epoch.toml";
    for (args, says) in [
        (vec!["--grid", "1ms"], "at least 10ms"),
        (vec!["--window", "5s"], "expected FROM..TO"),
        (vec!["--window", "9s..3s"], "empty"),
        (vec!["--window", "0s..60s"], "faults-stop"),
        (vec!["--hold", "0s"], "more than 0s"),
        (vec!["--faults", "kil"], "unknown fault kind `kil`"),
        (vec!["--max-faults", "9"], "at most 6"),
        (vec!["--max-faults", "6", "--grid", "10ms"], "more than"),
    ] {
        let mut all = vec!["explore", s];
        all.extend(&args);
        let r = redsim(&all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}
