//! Coverage of runs and campaigns (`redsim::coverage`): the abstract states
//! a run goes through, worked out by hand for small runs; every line kind
//! the model prints is in the catalogue; a campaign's coverage does not
//! depend on `--jobs` and adds up across shards.

use std::collections::BTreeSet;

use redsim::coverage::{self, Coverage, RunCoverage};
use redsim::fuzz;

use super::common::{Scenario, bundled, fuzz_config, sweep};

fn labels(run: &RunCoverage) -> (BTreeSet<String>, BTreeSet<String>) {
    let states = run.states.iter().map(|s| s.label()).collect();
    let transitions = run
        .transitions
        .iter()
        .map(|(a, b)| format!("{} -> {}", a.label(), b.label()))
        .collect();
    (states, transitions)
}

/// A replica's first sync, step by step: before it has the master's
/// history its offset belongs to another one; the diskless transfer waits
/// the 5 s delay, during which the master has no child; the load ends in
/// sync. The master forks one child for it.
#[test]
fn a_first_sync_walks_the_replication_link_step_by_step() {
    let plan = Scenario::new("8s", "masters = 1, replicas = 1").plan();
    let run = coverage::record(&plan, 1).expect("runs");
    let (states, transitions) = labels(&run);
    let replica: Vec<&String> = transitions
        .iter()
        .filter(|t| t.starts_with("replica"))
        .collect();
    assert_eq!(
        replica,
        [
            "replica connect other-history -> replica connecting other-history",
            "replica connecting other-history -> replica handshake other-history",
            "replica handshake other-history -> replica psync-sent other-history",
            "replica psync-sent other-history -> replica transfer other-history",
            "replica transfer other-history -> replica connected in-sync",
        ]
    );
    let master: Vec<&String> = transitions
        .iter()
        .filter(|t| t.starts_with("master"))
        .collect();
    assert_eq!(
        master,
        [
            "master -> master child=sync-rdb-socket",
            "master child=sync-rdb-socket -> master",
        ]
    );
    assert_eq!(states.len(), 8, "{states:?}");
}

/// A Sentinel failover passes through each of sentinel.c's failover
/// states a watcher can see, on the leader, after ODOWN.
#[test]
fn a_failover_reaches_every_visible_failover_state() {
    let (plan, _) = bundled("scenarios/sentinel/master-crash-failover.toml");
    let run = coverage::record(&plan, plan.seed).expect("runs");
    let mut c = Coverage {
        sentinels: true,
        ..Coverage::default()
    };
    c.add(&run);
    let unreached = c.unreached_dimensions();
    for step in [
        "wait_start",
        "select_slave",
        "send_slaveof_noone",
        "wait_promotion",
        "reconf_slaves",
    ] {
        let want = format!("sentinel failover: {step}");
        assert!(!unreached.contains(&want), "{want} not reached");
    }
    assert!(!unreached.contains(&"sentinel flag: odown".to_string()));
}

/// Every kind of line a Redis server or a Sentinel prints in a bundled
/// scenario is in the catalogue the reports count against.
#[test]
fn every_line_the_bundled_scenarios_print_is_in_the_catalogue() {
    let catalogue: BTreeSet<&str> = redsim::trace::catalogue::all().collect();
    let mut missing = BTreeSet::new();
    let files = redsim::golden::scenario_files(&[super::common::root().join("scenarios")])
        .expect("scenarios/ is readable");
    for file in files {
        let plan = redsim::scenario::load(&file).expect("bundled scenarios are valid");
        let run = coverage::record(&plan, plan.seed).expect("runs");
        for l in &run.lines {
            if !catalogue.contains(l.as_str()) {
                missing.insert(format!("{l} ({})", file.display()));
            }
        }
    }
    assert!(missing.is_empty(), "not in the catalogue: {missing:#?}");
}

/// A campaign's coverage is the same on one thread or two, and two shards
/// merged have the coverage of the whole sweep.
#[test]
fn campaign_coverage_is_deterministic_and_adds_up_across_shards() {
    let (plan, text) = bundled("scenarios/fuzz/sentinel-invariants.toml");
    let cfg = fuzz_config(&plan, false);
    let all = fuzz::Seeds::range(0..8);
    let one = sweep(&plan, &text, &cfg, &all, 1);
    let two = sweep(&plan, &text, &cfg, &all, 2);
    assert_eq!(one.states, two.states);
    assert_eq!(one.states.runs, 8);
    assert!(one.states.states.len() > 10);
    let shard = |i| fuzz::Seeds {
        start: 0,
        end: 8,
        shard: Some((i, 2)),
    };
    let a = sweep(&plan, &text, &cfg, &shard(0), 1);
    let b = sweep(&plan, &text, &cfg, &shard(1), 1);
    let merged = a.merge(b).expect("two shards merge");
    assert_eq!(merged.states, one.states);
}
