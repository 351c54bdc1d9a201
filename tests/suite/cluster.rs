//! Redis Cluster behaviour: key slots, failure detection, elections and
//! votes, and the invariants random fault schedules must keep.
use redsim::check::RunView as _;

use proptest::prelude::*;
use redsim::check::invariants::cluster_converged;
use redsim::fuzz;
use redsim::scenario;
use redsim::time::secs;
use redsim::world::{self, World};

use super::common::{Scenario, bundled, fuzz_config};

/// A 3×1 cluster (cluster-node-timeout 5 s) for 60 s, with a cluster-aware
/// client from 6 s on.
fn cluster() -> Scenario {
    Scenario::new("60s", "cluster = true, masters = 3, replicas = 1")
        .seed(1)
        .redis("cluster-node-timeout = 5000")
        .workload(r#"cluster = true, start = "6s", rate = 50, keys = 1000, timeout = "200ms""#)
}

fn events<'a>(w: &'a World, node: &str, event: &str) -> Vec<&'a redsim::trace::Event> {
    let n = w.plan.node_index(node).expect("node") as u32;
    w.trace()
        .events
        .iter()
        .filter(|e| e.node == n && e.event == event)
        .collect()
}

/// How `node` logged the delay of its first election (with its rank).
fn election_delay<'a>(w: &'a World, node: &str) -> &'a str {
    &events(w, node, "Start of election delayed for")[0].detail
}

/// The elections `node` won.
fn elections_won(w: &World, node: &str) -> usize {
    events(w, node, "Failover election won: I'm the new master.").len()
}

/// The killed master's replica is promoted in the delay Redis shows: PFAIL
/// within node-timeout to 1.5 × node-timeout (+ a cron tick), FAIL once the
/// masters' gossip has carried a majority of reports (within 2 × node-timeout
/// of the kill), and an election 500–1000 ms (rank 0) after the replica
/// learns of the FAIL.
#[test]
fn killed_master_is_failed_over_on_redis_timeline() {
    let plan = cluster().fault("20s", r#"kill = "master-2""#).plan();
    for seed in 0..10 {
        let mut w = World::new(&plan, seed);
        w.run_until(secs(60)).expect("runs");
        let fail = events(&w, "replica-2-1", "FAIL message received from")
            .first()
            .map(|e| e.t)
            .or_else(|| {
                events(
                    &w,
                    "replica-2-1",
                    "Marking node as failing (quorum reached)",
                )
                .first()
                .map(|e| e.t)
            })
            .expect("replica learns of the FAIL");
        assert!(fail >= secs(25) && fail <= secs(30), "FAIL at {fail}");
        let delayed = election_delay(&w, "replica-2-1");
        assert!(delayed.contains("(rank #0,"), "{delayed}");
        let started = events(&w, "replica-2-1", "Starting a failover election for epoch");
        let wait = started[0].t - fail;
        assert!(
            (500_000..=1_100_000).contains(&wait),
            "election {wait} µs after FAIL"
        );
        assert_eq!(
            started[0].detail,
            "Starting a failover election for epoch 7."
        );
        assert_eq!(elections_won(&w, "replica-2-1"), 1);
        assert_eq!(
            w.role(w.plan.node_index("replica-2-1").unwrap()),
            Some("master")
        );
    }
}

/// Masters vote once per epoch and never for a replica of a master they
/// still see up; replicas never vote.
#[test]
fn votes_follow_the_rules() {
    let plan = cluster().fault("20s", r#"kill = "master-2""#).plan();
    let w = world::run(&plan, 3).expect("runs").world;
    let granted: Vec<_> = w
        .trace()
        .events
        .iter()
        .filter(|e| e.event == "Failover auth granted to")
        .map(|e| w.names[e.node as usize].as_str())
        .collect();
    assert_eq!(granted, ["master-1", "master-3"]);
    for n in 0..w.plan.nodes.len() {
        if let Some(r) = w.redis(n) {
            let mut epochs: Vec<u64> = r.cluster_log.votes.iter().map(|v| v.0).collect();
            let all = epochs.len();
            epochs.dedup();
            assert_eq!(epochs.len(), all, "{} voted twice in an epoch", w.names[n]);
        }
    }
}

/// A replica that lags (fewer bytes processed than its sibling) gets rank 1
/// and the extra second of delay, so its sibling wins.
#[test]
fn better_offset_ranks_first() {
    let (plan, _) = bundled("scenarios/cluster/two-replicas-better-rank-wins.toml");
    for seed in 0..5 {
        let mut w = World::new(&plan, seed);
        w.run_until(plan.duration).expect("runs");
        let lagging = election_delay(&w, "replica-2-2");
        assert!(lagging.contains("(rank #1,"), "{lagging}");
        let ahead = election_delay(&w, "replica-2-1");
        assert!(ahead.contains("(rank #0,"), "{ahead}");
        assert_eq!(elections_won(&w, "replica-2-1"), 1, "seed {seed}");
    }
}

/// A master cut off with a minority stops accepting writes between
/// node-timeout and 1.5 × node-timeout (plus two 100 ms cron ticks) after
/// the partition.
#[test]
fn minority_master_stops_within_the_bound() {
    let (plan, _) = bundled("scenarios/cluster/minority-master-loses-writes.toml");
    for seed in 0..8 {
        let mut w = World::new(&plan, seed);
        w.run_until(plan.duration).expect("runs");
        let down = events(&w, "master-1", "Cluster state changed")
            .into_iter()
            .find(|e| e.t > secs(20))
            .expect("master-1 turns FAIL");
        assert_eq!(down.detail, "Cluster state changed: fail");
        assert!(
            down.t > secs(25) && down.t <= secs(27) + 700_000,
            "seed {seed}: state fail at {}",
            down.t
        );
        assert!(!w.lost_writes().is_empty(), "seed {seed}: nothing lost");
    }
}

/// A healed cluster converges: the slot table agrees everywhere, each slot
/// has one running master, configEpochs are distinct.
#[test]
fn failed_over_cluster_converges() {
    let plan = cluster()
        .fault("20s", r#"kill = "master-1""#)
        .fault("35s", r#"restart = "master-1""#)
        .plan();
    let w = world::run(&plan, 2).expect("runs").world;
    cluster_converged(&w).expect("converged");
    assert_eq!(w.role(0), Some("replica"));
}

proptest! {
    #![proptest_config(super::schedule::config(24))]

    /// After any fault schedule heals: each slot served by exactly one
    /// master, distinct configEpochs among masters, every node in state ok,
    /// no master voting twice in an epoch, epochs and offsets monotonic.
    #[test]
    fn random_schedules_keep_cluster_invariants(
        seed in any::<u64>(),
        schedule in fuzz::schedule_strategy(
            &fuzz_config(&bundled("scenarios/fuzz/cluster-invariants.toml").0, false),
            6,
        ),
    ) {
        let (plan, _) = bundled("scenarios/fuzz/cluster-invariants.toml");
        let cfg = fuzz_config(&plan, false);
        let plan = fuzz::with_schedule(&plan, &cfg, &schedule);
        let checked = fuzz::check(&plan, seed, &cfg);
        prop_assert!(
            checked.violations.is_empty(),
            "violations: {:?}\nschedule: {:?}",
            checked.violations,
            schedule
        );
    }
}

/// One master that cannot reach another flags it PFAIL and gossips that,
/// but without a majority of masters agreeing nobody marks it FAIL, and
/// nothing fails over.
#[test]
fn a_single_failure_report_is_not_a_quorum() {
    let plan = cluster()
        .fault("20s", r#"partition = [["master-1"], ["master-2"]]"#)
        .fault("45s", "heal = true")
        .plan();
    for seed in 0..5 {
        let mut w = World::new(&plan, seed);
        w.run_until(secs(60)).expect("runs");
        let pfail = events(&w, "master-1", "*** NODE possibly failing");
        assert!(!pfail.is_empty(), "seed {seed}: master-1 never flags PFAIL");
        let reports = events(&w, "master-3", "reported node as not reachable");
        assert!(
            !reports.is_empty(),
            "seed {seed}: no failure report gossiped"
        );
        let fails: Vec<_> = w
            .trace()
            .events
            .iter()
            .filter(|e| e.event == "Marking node as failing (quorum reached)")
            .collect();
        assert!(
            fails.is_empty(),
            "seed {seed}: FAIL without a quorum: {fails:?}"
        );
        assert!(
            w.trace()
                .named("Starting a failover election for epoch")
                .next()
                .is_none()
        );
    }
}

/// A master is FAIL only with reports from a majority of the slot-serving
/// masters: with 5 masters, master-5 is marked FAIL once three agree.
#[test]
fn fail_needs_a_majority_of_masters() {
    let plan = Scenario::new("40s", "cluster = true, masters = 5")
        .seed(1)
        .redis("cluster-node-timeout = 5000")
        .fault("10s", r#"kill = "master-5""#)
        .plan();
    let w = world::run(&plan, 4).expect("runs").world;
    let first = w
        .trace()
        .named("Marking node as failing (quorum reached)")
        .next()
        .expect("master-5 is marked FAIL");
    let marker = first.node;
    // The marker counted itself and at least two other masters' reports.
    let reports_before: std::collections::BTreeSet<String> = w
        .trace()
        .events
        .iter()
        .filter(|e| {
            e.node == marker && e.t <= first.t && e.event == "reported node as not reachable"
        })
        .map(|e| e.detail.split(' ').nth(1).unwrap_or_default().to_string())
        .collect();
    assert!(
        reports_before.len() >= 2,
        "{} marked FAIL with reports from {reports_before:?}",
        w.names[marker as usize]
    );
}

/// Every bus message carries the 2,256-byte clusterMsg header with the
/// 2,048-byte slot bitmap; PINGs and PONGs add 104 bytes per gossip entry.
/// `bus-bytes-per-message` reads that average, and only makes sense for a
/// cluster.
#[test]
fn bus_messages_carry_the_slot_bitmap_header() {
    let plan = cluster()
        .expect(r#"at = "30s", node = "master-1", bus-bytes-per-message = ">= 2256""#)
        .expect(r#"at = "30s", node = "master-1", bus-bytes-per-message = "> 100000""#)
        .plan();
    let o = world::run(&plan, 1).expect("runs");
    assert!(o.verdicts[0].holds, "{:?}", o.verdicts[0]);
    // The same check with an impossible bound fails, naming the average.
    assert!(!o.verdicts[1].holds);
    assert!(
        o.verdicts[1]
            .observed
            .contains("the header alone is 2256 bytes"),
        "{}",
        o.verdicts[1].observed
    );
    let c = o
        .world
        .server(0)
        .and_then(|p| p.cluster.as_ref())
        .expect("master-1 runs");
    let (msgs, bytes) = c.stats_bus_sent.get();
    assert!(msgs > 10, "{msgs} messages");
    assert!(bytes >= msgs * redsim::proto::bus::HEADER_BYTES);
    // Gossip sections: at most 104 bytes for each of the other 5 nodes.
    assert!(bytes <= msgs * (redsim::proto::bus::HEADER_BYTES + 5 * 104));

    let not_a_cluster = Scenario::new("10s", "masters = 1, replicas = 1")
        .expect(r#"at = "5s", node = "master", bus-bytes-per-message = ">= 1""#);
    let err = scenario::parse("t.toml", &not_a_cluster.text()).expect_err("not a cluster");
    assert!(err.to_string().contains("needs `cluster = true`"), "{err}");
}

/// Redirects carry Redis's texts: `MOVED <slot> <ip>:<port>` and
/// `ASK <slot> <ip>:<port>`, the slot being CRC16 of the key (or its hash
/// tag) mod 16384 and the address that of the node serving it.
#[test]
fn redirects_name_the_slot_and_its_node() {
    use redsim::proto::slots::key_hash_slot;
    let (plan, _) = bundled("scenarios/cluster/resharding-under-load-asks.toml");
    let w = world::run(&plan, plan.seed).expect("runs").world;
    let mut seen = [0, 0];
    for e in &w.trace().events {
        let kind = match e.event.as_ref() {
            "MOVED redirect" => 0,
            "ASK redirect" => 1,
            _ => continue,
        };
        // "MOVED 3013 10.0.0.2:6379 for key:9995"
        let f: Vec<&str> = e.detail.split(' ').collect();
        assert_eq!(f[0], ["MOVED", "ASK"][kind], "{}", e.detail);
        let slot: u16 = f[1].parse().expect("a slot");
        assert_eq!(slot, key_hash_slot(f[4].as_bytes()), "{}", e.detail);
        // Everything moved here goes from master-1 to master-2.
        assert_eq!(f[2], "10.0.0.2:6379", "{}", e.detail);
        seen[kind] += 1;
    }
    assert!(
        seen[0] > 0 && seen[1] > 0,
        "MOVED and ASK both seen: {seen:?}"
    );
}
