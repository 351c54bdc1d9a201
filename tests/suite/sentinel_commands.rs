//! Sentinel's operator commands (sentinel.c sentinelCommand()) as a
//! scenario's command lines: each reply as redis-cli prints it, with Redis
//! 7.0.15's texts.

use redsim::check::RunView as _;
use redsim::world::{self, World};

use super::common::Scenario;

/// Every named command's reply, as redis-cli prints it.
fn replies(s: &Scenario) -> Vec<(String, String)> {
    replies_of(&run(s))
}

fn run(s: &Scenario) -> World {
    let plan = s.plan();
    world::run(&plan, plan.seed).expect("runs").world
}

fn replies_of(w: &World) -> Vec<(String, String)> {
    w.exchanges()
        .iter()
        .map(|x| {
            let shown = x.reply.as_ref().map_or("<no reply>".to_string(), |(_, f)| {
                redsim::proto::resp::shown(&x.command.argv, f)
            });
            (x.command.name.clone().unwrap_or_default(), shown)
        })
        .collect()
}

fn reply<'a>(all: &'a [(String, String)], name: &str) -> &'a str {
    &all.iter().find(|(n, _)| n == name).expect(name).1
}

/// Three Sentinels with down-after-milliseconds 5000 and this quorum.
fn three_sentinels(duration: &str, quorum: u32) -> Scenario {
    Scenario::new(duration, "masters = 1, replicas = 1, sentinels = 3").sentinel(&format!(
        "quorum = {quorum}, down-after-milliseconds = 5000, failover-timeout = 60000"
    ))
}

const OK: &str = "Quorum and failover authorization can be reached";
const NO_QUORUM: &str =
    "Not enough available Sentinels to reach the specified quorum for this master";
const NO_AUTH: &str =
    "Not enough available Sentinels to reach the majority and authorize a failover";

/// sentinelIsQuorumReachable(): usable = this Sentinel plus every known one
/// not SDOWN; quorum 2 of 3 holds with one down, and with two down both
/// the quorum and the majority (2 of 3) are missed.
#[test]
fn ckquorum_counts_the_sentinels_not_sdown() {
    let s = three_sentinels("40s", 2)
        .command("8s", "sentinel-1", "SENTINEL CKQUORUM mymaster", "all")
        .fault("10s", r#"kill = "sentinel-2""#)
        .command(
            "12s",
            "sentinel-1",
            "SENTINEL CKQUORUM mymaster",
            "not-yet-sdown",
        )
        .command(
            "20s",
            "sentinel-1",
            "SENTINEL CKQUORUM mymaster",
            "one-down",
        )
        .fault("22s", r#"kill = "sentinel-3""#)
        .command(
            "35s",
            "sentinel-1",
            "SENTINEL CKQUORUM mymaster",
            "two-down",
        );
    let r = replies(&s);
    assert_eq!(reply(&r, "all"), format!("OK 3 usable Sentinels. {OK}"));
    assert_eq!(
        reply(&r, "not-yet-sdown"),
        format!("OK 3 usable Sentinels. {OK}")
    );
    assert_eq!(
        reply(&r, "one-down"),
        format!("OK 2 usable Sentinels. {OK}")
    );
    assert_eq!(
        reply(&r, "two-down"),
        format!("(error) NOQUORUM 1 usable Sentinels. {NO_QUORUM}. {NO_AUTH}")
    );
}

/// The two thresholds apart: quorum 3 with one Sentinel down misses only
/// the quorum; quorum 1 with two down misses only the majority.
#[test]
fn ckquorum_names_only_the_threshold_missed() {
    let s = three_sentinels("30s", 3)
        .fault("10s", r#"kill = "sentinel-2""#)
        .command("20s", "sentinel-1", "SENTINEL CKQUORUM mymaster", "r");
    assert_eq!(
        reply(&replies(&s), "r"),
        format!("(error) NOQUORUM 2 usable Sentinels. {NO_QUORUM}")
    );
    let s = three_sentinels("30s", 1)
        .fault("10s", r#"kill = "sentinel-2""#)
        .fault("10s", r#"kill = "sentinel-3""#)
        .command("20s", "sentinel-1", "SENTINEL CKQUORUM mymaster", "r");
    assert_eq!(
        reply(&replies(&s), "r"),
        format!("(error) NOQUORUM 1 usable Sentinels. {NO_AUTH}")
    );
}

/// sentinelGetMasterByNameOrReplyError() (names are case-sensitive), and
/// the table's arity check.
#[test]
fn ckquorum_errors() {
    let s = three_sentinels("10s", 2)
        .command("5s", "sentinel-1", "SENTINEL CKQUORUM nope", "name")
        .command("5s", "sentinel-1", "SENTINEL CKQUORUM MYMASTER", "case")
        .command("5s", "sentinel-1", "SENTINEL CKQUORUM", "arity");
    let r = replies(&s);
    assert_eq!(
        reply(&r, "name"),
        "(error) ERR No such master with that name"
    );
    assert_eq!(
        reply(&r, "case"),
        "(error) ERR No such master with that name"
    );
    assert_eq!(
        reply(&r, "arity"),
        "(error) ERR wrong number of arguments for 'sentinel|ckquorum' command"
    );
}

/// The (event, detail) of every Sentinel event `node` emitted, in order.
fn events_of(w: &World, node: &str) -> Vec<(String, String)> {
    let n = w.plan.node_index(node).expect("node") as u32;
    w.trace()
        .events
        .iter()
        .filter(|e| e.node == n && e.event.starts_with(['+', '-']))
        .map(|e| (e.event.to_string(), e.detail.clone()))
        .collect()
}

/// sentinelCommand()'s `failover` branch on a healthy master: OK, then the
/// forced failover runs without ODOWN and without asking anyone. The
/// Sentinel takes epoch 1, votes for itself, goes on although one vote of
/// three is no majority (SRI_FORCE_FAILOVER), promotes a replica and
/// switches; a second FAILOVER meanwhile is refused.
#[test]
fn failover_forces_a_failover_of_a_healthy_master() {
    let s = three_sentinels("40s", 2)
        .command("10s", "sentinel-1", "SENTINEL FAILOVER mymaster", "ok")
        .command(
            "10.05s",
            "sentinel-1",
            "SENTINEL FAILOVER mymaster",
            "again",
        );
    let w = run(&s);
    let r = replies_of(&w);
    assert_eq!(reply(&r, "ok"), "OK");
    assert_eq!(
        reply(&r, "again"),
        "(error) INPROG Failover already in progress"
    );
    let ev = events_of(&w, "sentinel-1");
    let names: Vec<&str> = ev.iter().map(|(e, _)| e.as_str()).collect();
    let pos = |n: &str| {
        names
            .iter()
            .position(|e| *e == n)
            .unwrap_or_else(|| panic!("{n}: {names:?}"))
    };
    assert!(!names.contains(&"+odown") && !names.contains(&"+sdown"));
    let order = [
        "+new-epoch",
        "+try-failover",
        "+vote-for-leader",
        "+elected-leader",
        "+failover-state-select-slave",
        "+selected-slave",
        "+failover-state-send-slaveof-noone",
        "+promoted-slave",
        "+switch-master",
    ];
    for w2 in order.windows(2) {
        assert!(
            pos(w2[0]) < pos(w2[1]),
            "{} before {}: {names:?}",
            w2[0],
            w2[1]
        );
    }
    assert_eq!(ev[pos("+new-epoch")].1, "1");
    assert_eq!(ev[pos("+try-failover")].1, "master mymaster 10.0.0.1 6379");
    assert!(ev[pos("+vote-for-leader")].1.ends_with(" 1"));
    // Not an election won: the invariants see no leader for epoch 1.
    let (_, s1) = w
        .sentinels()
        .into_iter()
        .find(|(i, _)| w.names[*i] == "sentinel-1")
        .expect("sentinel-1");
    assert!(s1.elections_won.is_empty());
    // The other Sentinels follow through the new config epoch.
    for other in ["sentinel-2", "sentinel-3"] {
        let ev = events_of(&w, other);
        assert!(ev.iter().any(|(e, _)| e == "+config-update-from"), "{ev:?}");
        assert!(ev.iter().any(|(e, _)| e == "+switch-master"), "{ev:?}");
    }
}

/// sentinelSelectSlave() finds nobody (the only replica has priority 0):
/// NOGOODSLAVE, and no failover starts. Unknown names and the arity are
/// refused as for every subcommand on a master.
#[test]
fn failover_refusals() {
    let s = Scenario::new("20s", "masters = 1, replicas = 1, sentinels = 1")
        .sentinel("quorum = 1, down-after-milliseconds = 5000")
        .node("replica-1", "replica-priority = 0")
        .command("10s", "sentinel-1", "SENTINEL FAILOVER mymaster", "nogood")
        .command("10s", "sentinel-1", "SENTINEL FAILOVER nope", "name")
        .command("10s", "sentinel-1", "SENTINEL FAILOVER", "arity");
    let w = run(&s);
    let r = replies_of(&w);
    assert_eq!(
        reply(&r, "nogood"),
        "(error) NOGOODSLAVE No suitable replica to promote"
    );
    assert_eq!(
        reply(&r, "name"),
        "(error) ERR No such master with that name"
    );
    assert_eq!(
        reply(&r, "arity"),
        "(error) ERR wrong number of arguments for 'sentinel|failover' command"
    );
    assert!(
        events_of(&w, "sentinel-1")
            .iter()
            .all(|(e, _)| e != "+try-failover")
    );
}
