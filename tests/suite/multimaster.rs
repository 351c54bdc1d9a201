//! One set of Sentinels watching several replication groups
//! (`[topology] masters = N` with `[sentinel.masters.<name>]` tables): each
//! master has its own down-after-milliseconds, quorum and failover, and a
//! failover of one leaves the others as they were (sentinel.c keeps a dict
//! of masters and runs every timer per master; only `current_epoch` is
//! shared).

use redsim::check::RunView as _;
use redsim::check::invariants::converged;
use redsim::trace::Event;
use redsim::world::{self, World};

use super::common::Scenario;

fn run(s: &Scenario) -> World {
    let plan = s.plan();
    world::run(&plan, plan.seed)
        .unwrap_or_else(|e| panic!("run failed: {e}"))
        .world
}

fn idx(w: &World, name: &str) -> usize {
    w.plan.node_index(name).expect(name)
}

/// Events named `name` whose detail starts with `prefix`, at Sentinels.
fn events<'a>(w: &'a World, name: &str, prefix: &str) -> Vec<&'a Event> {
    w.trace()
        .events
        .iter()
        .filter(|e| e.event == name && e.detail.starts_with(prefix))
        .collect()
}

/// Two groups of one replica each, three Sentinels: `a` watches master-1
/// and `b` master-2, with these extra settings each.
fn two_groups(duration: &str, a: &str, b: &str) -> Scenario {
    Scenario::new(duration, "masters = 2, replicas = 1, sentinels = 3").sentinel(&format!(
        "failover-timeout = 60000, masters = {{ a = {{ node = \"master-1\", {a} }}, \
         b = {{ node = \"master-2\", {b} }} }}"
    ))
}

/// sentinelCheckSubjectivelyDown() per master: both masters are killed
/// at 10 s. Each Sentinel PINGs every 1000 ms (min(down-after, 1000)), so
/// each master's last valid reply came in (8.9 s, 10 s], and the PING
/// that goes unanswered was sent by then or on the reconnect at the first
/// tick after the kill (ticks are at most 100 ms apart); SDOWN is the
/// first tick after that plus the master's own down-after: `a` (2000 ms)
/// in (10.9 s, 12.2 s], `b` (6000 ms) in (14.9 s, 16.2 s]. One shared
/// down-after would put them together.
#[test]
fn each_master_has_its_own_down_after() {
    let s = two_groups(
        "20s",
        "quorum = 2, down-after-milliseconds = 2000",
        "quorum = 2, down-after-milliseconds = 6000",
    )
    .fault("10s", r#"kill = "master-1""#)
    .fault("10s", r#"kill = "master-2""#);
    let w = run(&s);
    let a = events(&w, "+sdown", "master a ");
    let b = events(&w, "+sdown", "master b ");
    assert_eq!((a.len(), b.len()), (3, 3), "one +sdown per Sentinel each");
    for e in a {
        assert!(e.t > 10_900_000 && e.t <= 12_200_000, "a at {}", e.t);
    }
    for e in b {
        assert!(e.t > 14_900_000 && e.t <= 16_200_000, "b at {}", e.t);
    }
}

/// sentinelCheckObjectivelyDown() per master: with sentinel-3 dead, two
/// Sentinels see both masters down. `a` needs 2 (quorum 2): 1 + 1 = 2,
/// ODOWN. `b` needs 3: 1 + 1 = 2 < 3, SDOWN only, never ODOWN.
#[test]
fn each_master_has_its_own_quorum() {
    let s = two_groups(
        "25s",
        "quorum = 2, down-after-milliseconds = 2000",
        "quorum = 3, down-after-milliseconds = 2000",
    )
    .fault("1s", r#"kill = "sentinel-3""#)
    .fault("10s", r#"kill = "master-1""#)
    .fault("10s", r#"kill = "master-2""#);
    let w = run(&s);
    assert_eq!(events(&w, "+sdown", "master b ").len(), 2);
    assert!(events(&w, "+odown", "master b ").is_empty());
    let odown_a = events(&w, "+odown", "master a ");
    assert!(!odown_a.is_empty());
    assert!(odown_a.iter().all(|e| e.detail.ends_with("#quorum 2/2")));
}

/// A failover of `a` (master-1 killed at 10 s) promotes replica-1-1 in
/// epoch 1; every Sentinel then names replica-1-1 for `a` with config
/// epoch 1, and still names master-2 for `b` with config epoch 0 and no
/// failover, while `current_epoch` (one per Sentinel) is 1 everywhere.
/// Nothing about `b` goes down, its replica keeps replicating master-2, and
/// each group converges on its own master.
#[test]
fn a_failover_of_one_master_leaves_the_other_untouched() {
    let s = two_groups(
        "40s",
        "quorum = 2, down-after-milliseconds = 2000",
        "quorum = 2, down-after-milliseconds = 2000",
    )
    .workload(r#"sentinel = true, master-name = "a", rate = 20, keys = 50"#)
    .workload(r#"sentinel = true, master-name = "b", rate = 20, keys = 50"#)
    .fault("10s", r#"kill = "master-1""#);
    let w = run(&s);
    let (r11, m2) = (idx(&w, "replica-1-1"), idx(&w, "master-2"));
    for (_, sn) in w.sentinels() {
        let p = sn.state.as_ref().expect("running");
        assert_eq!(p.current_epoch, 1);
        let names: Vec<&str> = p.masters.iter().map(|m| m.inst.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let (a, b) = (&p.masters[0], &p.masters[1]);
        assert_eq!((a.inst.node as usize, a.config_epoch), (r11, 1));
        assert_eq!((b.inst.node as usize, b.config_epoch), (m2, 0));
        assert!(!b.in_failover() && !b.o_down && !b.inst.s_down);
        assert_eq!(b.replicas.len(), 1);
    }
    for name in ["+sdown", "+odown", "+try-failover", "+switch-master"] {
        assert!(events(&w, name, "master b ").is_empty(), "{name} for b");
        assert!(events(&w, name, "b ").is_empty(), "{name} for b");
    }
    assert_eq!(
        events(&w, "+switch-master", "a 10.0.0.1 6379 10.0.0.2 6379").len(),
        3
    );
    assert_eq!(w.role(m2), Some("master"));
    assert_eq!(w.role(idx(&w, "replica-2-1")), Some("replica"));
    converged(&w).expect("each group converged");
    // Group b's client never waited: its longest gap is well under a
    // second, while group a's spans the failover.
    let gaps = w.group_unavailability();
    assert!(gaps[1].is_none_or(|g| g.len() < 1_000_000), "{gaps:?}");
    assert!(gaps[0].is_some_and(|g| g.len() > 2_000_000), "{gaps:?}");
    assert_eq!(w.write_unavailability(), gaps[0]);
}

/// SENTINEL MONITOR adds a master with sentinel.conf's defaults (here at
/// master-2's address, 10.0.0.3), SENTINEL REMOVE drops one: INFO sentinel
/// lists what is monitored, GET-MASTER-ADDR-BY-NAME of the removed name is
/// nil, and the added master is failed over on its own timers when killed
/// (down-after-milliseconds 30 000 by default: master-2 killed at 12 s is
/// SDOWN after 42 s and, with quorum 1 and one Sentinel, switched soon
/// after).
#[test]
fn monitor_adds_and_remove_drops_a_master() {
    let s = Scenario::new("60s", "masters = 2, replicas = 1, sentinels = 1")
        .sentinel(r#"masters = { a = { node = "master-1", quorum = 1 } }"#)
        .command(
            "5s",
            "sentinel-1",
            "SENTINEL MONITOR b 10.0.0.3 6379 1",
            "monitor",
        )
        .command("8s", "sentinel-1", "INFO sentinel", "info-2")
        .command("9s", "sentinel-1", "SENTINEL REMOVE a", "remove")
        .command(
            "9.5s",
            "sentinel-1",
            "SENTINEL GET-MASTER-ADDR-BY-NAME a",
            "addr-a",
        )
        .command("10s", "sentinel-1", "INFO sentinel", "info-1")
        .fault("12s", r#"kill = "master-2""#);
    let w = run(&s);
    let reply = |name: &str| -> String {
        let x = w
            .exchanges()
            .iter()
            .find(|x| x.command.name.as_deref() == Some(name))
            .expect(name);
        let (_, f) = x.reply.as_ref().expect("answered");
        redsim::proto::resp::shown(&x.command.argv, f)
    };
    assert_eq!(reply("monitor"), "OK");
    let info = reply("info-2");
    assert!(info.contains("sentinel_masters:2\n"), "{info}");
    assert!(
        info.contains("master1:name=b,status=ok,address=10.0.0.3:6379,slaves=1,sentinels=1"),
        "{info}"
    );
    assert_eq!(reply("remove"), "OK");
    assert_eq!(reply("addr-a"), "(nil)");
    let info = reply("info-1");
    assert!(info.contains("sentinel_masters:1\n"), "{info}");
    assert!(info.contains("master0:name=b,"), "{info}");
    let monitor = events(&w, "+monitor", "master b 10.0.0.3 6379 quorum 1");
    assert_eq!(monitor.len(), 1);
    assert_eq!(events(&w, "-monitor", "master a 10.0.0.1 6379").len(), 1);
    let sdown = events(&w, "+sdown", "master b ");
    assert_eq!(sdown.len(), 1);
    assert!(
        sdown[0].t > 41_000_000 && sdown[0].t <= 43_100_000,
        "{}",
        sdown[0].t
    );
    assert_eq!(
        events(&w, "+switch-master", "b 10.0.0.3 6379 10.0.0.4 6379").len(),
        1
    );
    // Nothing more happens to the removed master.
    assert!(
        w.trace().events.iter().all(|e| e.t < 9_000_000
            || !e.detail.contains(" a 10.0.0.1 ")
            || e.event == "-monitor")
    );
}

/// Both masters killed at once, with the same timers: each master is
/// failed over by its own election. Votes are kept per master
/// (sentinelVoteLeader() stores them in the master), so a Sentinel may
/// vote in one epoch once for each master, and one epoch may have a leader
/// for each: the election invariants hold, and both groups converge on a
/// promoted replica.
#[test]
fn two_masters_down_at_once_fail_over_side_by_side() {
    let s = two_groups(
        "40s",
        "quorum = 2, down-after-milliseconds = 2000",
        "quorum = 2, down-after-milliseconds = 2000",
    )
    .fault("10s", r#"kill = "master-1""#)
    .fault("10s", r#"kill = "master-2""#);
    let w = run(&s);
    assert_eq!(
        events(&w, "+switch-master", "a 10.0.0.1 6379 10.0.0.2 6379").len(),
        3
    );
    assert_eq!(
        events(&w, "+switch-master", "b 10.0.0.3 6379 10.0.0.4 6379").len(),
        3
    );
    let won: Vec<&str> = w
        .sentinels()
        .into_iter()
        .flat_map(|(_, s)| s.elections_won.iter().map(|e| e.2.as_str()))
        .collect();
    assert_eq!(won.iter().filter(|m| **m == "a").count(), 1, "{won:?}");
    assert_eq!(won.iter().filter(|m| **m == "b").count(), 1, "{won:?}");
    let violations = redsim::check::invariants::election_invariants(&w);
    assert!(violations.is_empty(), "{violations:?}");
    converged(&w).expect("each group converged on its promoted replica");
}

/// The dashboard records both groups: all six Redis servers are listed,
/// and a Sentinel's samples carry the first master's fields under their
/// plain names and the second's with its name after a colon, so both
/// masters' state is on the page (sessions keeps master-2 throughout).
#[test]
fn the_dashboard_shows_both_groups() {
    use redsim::dashboard::{self, Options};
    let (plan, _) = super::common::bundled("scenarios/sentinel/one-sentinel-set-two-masters.toml");
    let (_, rec) = dashboard::record(&plan, &Options::new(plan.seed)).expect("records");
    let redis: Vec<&str> = rec
        .nodes
        .iter()
        .filter(|n| n.kind == "redis" && n.name != "redis-cli")
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(
        redis,
        [
            "master-1",
            "replica-1-1",
            "replica-1-2",
            "master-2",
            "replica-2-1",
            "replica-2-2"
        ]
    );
    let s1 = rec
        .nodes
        .iter()
        .position(|n| n.name == "sentinel-1")
        .expect("sentinel-1");
    let last = |field: &str| {
        rec.samples[s1]
            .iter()
            .filter_map(|s| s.changed.get(field).cloned().flatten())
            .next_back()
    };
    assert_eq!(last("master_node").as_deref(), Some("replica-1-1"));
    assert_eq!(last("master_node:sessions").as_deref(), Some("master-2"));
    assert_eq!(last("master_status:sessions").as_deref(), Some("ok"));
}

/// `[sentinel]`'s keys are every monitored master's defaults, each
/// `[sentinel.masters.<name>]` table overrides its own, and the plan's
/// groups and replicas follow `masters = 2`: replica-K-i replicates
/// master-K. Every Sentinel gets the same sentinel.conf, masters in their
/// groups' order.
#[test]
fn per_master_settings_inherit_from_sentinel() {
    let plan = Scenario::new("10s", "masters = 2, replicas = 2, sentinels = 3")
        .sentinel(
            "down-after-milliseconds = 7000, failover-timeout = 90000, \
             masters = { b = { node = \"master-2\", quorum = 3 }, \
             a = { node = \"master-1\", down-after-milliseconds = 1500, parallel-syncs = 2 } }",
        )
        .plan();
    let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names[..6],
        [
            "master-1",
            "replica-1-1",
            "replica-1-2",
            "master-2",
            "replica-2-1",
            "replica-2-2"
        ]
    );
    let replicaof: Vec<Option<usize>> = plan.nodes[..6]
        .iter()
        .map(|n| match &n.kind {
            redsim::scenario::NodeKind::Redis { replicaof, .. } => *replicaof,
            _ => panic!("a server"),
        })
        .collect();
    assert_eq!(replicaof, [None, Some(0), Some(0), None, Some(3), Some(3)]);
    assert_eq!(plan.groups.len(), 2);
    assert_eq!(
        (plan.groups[1].master, plan.groups[1].nodes.clone()),
        (3, vec![3, 4, 5])
    );
    let confs: Vec<_> = plan
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            redsim::scenario::NodeKind::Sentinel(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(confs.len(), 3);
    assert!(confs.iter().all(|c| *c == confs[0]));
    let m = &confs[0].masters;
    let got: Vec<(&str, u32, u32, u64, u64, u32)> = m
        .iter()
        .map(|c| {
            (
                c.master_name.as_str(),
                c.master,
                c.quorum,
                c.down_after,
                c.failover_timeout,
                c.parallel_syncs,
            )
        })
        .collect();
    assert_eq!(
        got,
        [("a", 0, 2, 1500, 90_000, 2), ("b", 3, 3, 7000, 90_000, 1)]
    );
}

/// With one group, a `[sentinel.masters.<name>]` table needs no `node`
/// and names the one master; `master-name` cannot be used beside it.
#[test]
fn one_group_may_name_its_master_in_a_table() {
    let plan = Scenario::new("10s", "masters = 1, replicas = 1, sentinels = 1")
        .sentinel("masters = { cache = { quorum = 1 } }")
        .plan();
    let conf = plan
        .nodes
        .iter()
        .find_map(|n| match &n.kind {
            redsim::scenario::NodeKind::Sentinel(c) => Some(c),
            _ => None,
        })
        .expect("a Sentinel");
    assert_eq!(conf.masters.len(), 1);
    assert_eq!(
        (
            conf.masters[0].master_name.as_str(),
            conf.masters[0].master,
            conf.masters[0].quorum
        ),
        ("cache", 0, 1)
    );
    let text = Scenario::new("10s", "masters = 1, replicas = 1, sentinels = 1")
        .sentinel("master-name = \"x\", masters = { cache = { quorum = 1 } }")
        .text();
    let err = redsim::scenario::parse("t.toml", &text).expect_err("refused");
    assert!(
        err.to_string()
            .contains("`master-name` names the one master"),
        "{err}"
    );
}
