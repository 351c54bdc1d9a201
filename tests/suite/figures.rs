//! The headline figures of a run (unavailability, split-brain windows) are
//! the true ones, and the summary, the expectation, the sweep and the
//! dashboard all report the same figure.
use redsim::check::RunView as _;

use redsim::scenario::Plan;
use redsim::time::{Micros, Secs};
use redsim::world;

use super::common::{Scenario, bundled};

/// The master is killed at 10 s and nothing takes its place.
fn killed_for_good() -> Plan {
    Scenario::new("60s", "masters = 1, replicas = 1")
        .workload(r#"target = "master", rate = 100, keys = 1000"#)
        .fault("10s", r#"kill = "master""#)
        .expect(r#"max-unavailability = "5s""#)
        .plan()
}

const SEC: Micros = 1_000_000;

#[test]
fn an_outage_that_never_ends_is_unavailability_to_the_end_of_the_run() {
    let p = killed_for_good();
    let out = world::run(&p, 1).expect("runs");
    let gap = out.world.write_unavailability().expect("a gap");
    // The last write acknowledged before the kill comes back within 10 ms
    // (100 writes/s); from then to the end of the run nothing is.
    assert_eq!(gap.to, 60 * SEC);
    assert!(
        (10 * SEC - 10_000..=10 * SEC).contains(&gap.from),
        "gap from {}",
        Secs(gap.from)
    );
    let v = &out.verdicts[0];
    assert!(
        !v.holds,
        "max-unavailability = 5s must fail: {}",
        v.observed
    );
    assert!(v.observed.starts_with(&format!("{} ", Secs(gap.len()))));
    let summary = redsim::report::summary(&out);
    assert!(
        summary.contains(&format!(
            "longest time without an acknowledged write: {} (from {} to {})",
            Secs(gap.len()),
            Secs(gap.from),
            Secs(60 * SEC)
        )),
        "{summary}"
    );
    let row = redsim::sweep::measure(&p, 0.0, 1);
    assert_eq!(row.unavailable, Some(gap.len()));
}

#[test]
fn the_dashboard_reports_the_same_unavailability() {
    let p = killed_for_good();
    let out = world::run(&p, 1).expect("runs");
    let gap = out.world.write_unavailability().expect("a gap");
    let (_, rec) =
        redsim::dashboard::record(&p, &redsim::dashboard::Options::new(1)).expect("records");
    assert_eq!(rec.summary.unavailable, Some([gap.from, gap.to]));
}

#[test]
fn a_workload_that_only_reads_wants_no_writes() {
    let p = Scenario::new("20s", "masters = 1")
        .workload(r#"target = "master", rate = 100, reads = 1.0"#)
        .fault("5s", r#"kill = "master""#)
        .plan();
    let out = world::run(&p, 1).expect("runs");
    assert_eq!(out.world.write_unavailability(), None);
}

#[test]
fn unavailability_counts_only_while_the_workload_runs() {
    // Writes from 2 s to 8 s; the master dies at 30 s, after the workload
    // stopped: no client wanted to write then, so no outage.
    let p = Scenario::new("40s", "masters = 1")
        .workload(r#"target = "master", rate = 100, start = "2s", stop = "8s""#)
        .fault("30s", r#"kill = "master""#)
        .plan();
    let out = world::run(&p, 1).expect("runs");
    let gap = out.world.write_unavailability().expect("some gap");
    assert!(gap.len() < SEC / 10, "{gap:?}");
    assert!(gap.from >= 2 * SEC && gap.to <= 8 * SEC, "{gap:?}");
}

#[test]
fn a_write_lost_on_a_writable_replica_is_not_called_a_demotion() {
    let (plan, _) = bundled("scenarios/interview/manual-multi-master-diverges.toml");
    let out = world::run(&plan, plan.seed).expect("runs");
    let w = &out.world;
    let events = &w.trace().events;
    let lost = w.lost_writes();
    let on_replica = lost
        .iter()
        .find(|l| w.names[l.node as usize] == "replica-1")
        .expect("replica-1's writes are lost");
    let why = redsim::check::timeline::loss_reason(on_replica, events, &w.names);
    assert!(!why.contains("demoted"), "{why}");
    assert!(why.contains("while it was a replica"), "{why}");
    // replica-2 was a master (REPLICAOF NO ONE) when it took its writes:
    // that one is a demotion.
    let on_second_master = lost
        .iter()
        .find(|l| w.names[l.node as usize] == "replica-2")
        .expect("replica-2's writes are lost");
    let why = redsim::check::timeline::loss_reason(on_second_master, events, &w.names);
    assert!(why.contains("replica-2 demoted and full-resynced"), "{why}");
}
