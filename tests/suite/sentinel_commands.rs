//! Sentinel's operator commands (sentinel.c sentinelCommand()) as a
//! scenario's command lines: each reply as redis-cli prints it, with Redis
//! 7.0.15's texts.

use redsim::check::RunView as _;
use redsim::world;

use super::common::Scenario;

/// Every named command's reply, as redis-cli prints it.
fn replies(s: &Scenario) -> Vec<(String, String)> {
    let plan = s.plan();
    let out = world::run(&plan, plan.seed).expect("runs");
    out.world
        .exchanges()
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
