//! Sentinel's operator commands (sentinel.c sentinelCommand()) as a
//! scenario's command lines: each reply as redis-cli prints it, with Redis
//! 7.0.15's texts.

use redsim::check::RunView as _;
use redsim::proto::resp::Frame;
use redsim::world::{self, World};

use super::common::{Scenario, reply};

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

/// The reply to the command line `name`, as a frame.
fn frame(w: &World, name: &str) -> Frame {
    w.exchanges()
        .iter()
        .find(|x| x.command.name.as_deref() == Some(name))
        .and_then(|x| x.reply.as_ref())
        .map(|(_, f)| f.clone())
        .unwrap_or_else(|| panic!("no reply to {name}"))
}

/// A RESP2 map (a flat array of bulk strings) as (field, value) pairs;
/// every value must be a bulk string, as addReplySentinelRedisInstance()
/// sends numbers too.
fn pairs(f: &Frame) -> Vec<(String, String)> {
    let Frame::Array(Some(items)) = f else {
        panic!("not an array: {f:?}")
    };
    items
        .chunks(2)
        .map(|kv| match kv {
            [Frame::Bulk(Some(k)), Frame::Bulk(Some(v))] => (k.clone(), v.clone()),
            other => panic!("not a pair of bulk strings: {other:?}"),
        })
        .collect()
}

fn maps(f: &Frame) -> Vec<Vec<(String, String)>> {
    let Frame::Array(Some(items)) = f else {
        panic!("not an array: {f:?}")
    };
    items.iter().map(pairs).collect()
}

fn keys(p: &[(String, String)]) -> Vec<&str> {
    p.iter().map(|(k, _)| k.as_str()).collect()
}

fn value<'a>(p: &'a [(String, String)], key: &str) -> &'a str {
    &p.iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key}"))
        .1
}

/// The fields every instance shows first (read off a real Sentinel 7.0.15).
const COMMON: [&str; 11] = [
    "name",
    "ip",
    "port",
    "runid",
    "flags",
    "link-pending-commands",
    "link-refcount",
    "last-ping-sent",
    "last-ok-ping-reply",
    "last-ping-reply",
    "down-after-milliseconds",
];

/// addReplySentinelRedisInstance(): the field lists and their order, as a
/// real Sentinel 7.0.15 answers MASTER, MASTERS, REPLICAS (and SLAVES) and
/// SENTINELS for a healthy master, every value a bulk string.
#[test]
fn master_replicas_and_sentinels_show_redis_fields_in_order() {
    let s = three_sentinels("20s", 2)
        .command("10s", "sentinel-1", "SENTINEL MASTER mymaster", "master")
        .command("10s", "sentinel-1", "SENTINEL MASTERS", "masters")
        .command(
            "10s",
            "sentinel-1",
            "SENTINEL REPLICAS mymaster",
            "replicas",
        )
        .command("10s", "sentinel-1", "SENTINEL SLAVES mymaster", "slaves")
        .command(
            "10s",
            "sentinel-1",
            "SENTINEL SENTINELS mymaster",
            "sentinels",
        )
        .command("10s", "sentinel-1", "SENTINEL MASTER nope", "no-master")
        .command(
            "10s",
            "sentinel-1",
            "SENTINEL SENTINELS nope",
            "no-sentinels",
        )
        .command("10s", "sentinel-1", "SENTINEL MASTERS x", "arity");
    let w = run(&s);
    let master = pairs(&frame(&w, "master"));
    let mut want: Vec<&str> = COMMON.to_vec();
    want.extend([
        "info-refresh",
        "role-reported",
        "role-reported-time",
        "config-epoch",
        "num-slaves",
        "num-other-sentinels",
        "quorum",
        "failover-timeout",
        "parallel-syncs",
    ]);
    assert_eq!(keys(&master), want);
    assert_eq!(value(&master, "name"), "mymaster");
    assert_eq!(value(&master, "ip"), "10.0.0.1");
    assert_eq!(value(&master, "port"), "6379");
    assert_eq!(value(&master, "runid").len(), 40);
    assert_eq!(value(&master, "flags"), "master");
    assert_eq!(value(&master, "role-reported"), "master");
    assert_eq!(value(&master, "down-after-milliseconds"), "5000");
    assert_eq!(value(&master, "num-slaves"), "1");
    assert_eq!(value(&master, "num-other-sentinels"), "2");
    assert_eq!(value(&master, "quorum"), "2");
    assert_eq!(value(&master, "failover-timeout"), "60000");
    assert_eq!(value(&master, "config-epoch"), "0");
    assert_eq!(maps(&frame(&w, "masters")), vec![master.clone()]);

    let replicas = maps(&frame(&w, "replicas"));
    assert_eq!(replicas, maps(&frame(&w, "slaves")));
    let [r] = replicas.as_slice() else {
        panic!("{replicas:?}")
    };
    let mut want: Vec<&str> = COMMON.to_vec();
    want.extend([
        "info-refresh",
        "role-reported",
        "role-reported-time",
        "master-link-down-time",
        "master-link-status",
        "master-host",
        "master-port",
        "slave-priority",
        "slave-repl-offset",
        "replica-announced",
    ]);
    assert_eq!(keys(r), want);
    assert_eq!(value(r, "name"), "10.0.0.2:6379");
    assert_eq!(value(r, "flags"), "slave");
    assert_eq!(value(r, "role-reported"), "slave");
    assert_eq!(value(r, "master-link-status"), "ok");
    assert_eq!(value(r, "master-host"), "10.0.0.1");
    assert_eq!(value(r, "master-port"), "6379");
    assert_eq!(value(r, "slave-priority"), "100");
    assert_eq!(value(r, "replica-announced"), "1");

    let sentinels = maps(&frame(&w, "sentinels"));
    assert_eq!(sentinels.len(), 2);
    let mut want: Vec<&str> = COMMON.to_vec();
    want.extend(["last-hello-message", "voted-leader", "voted-leader-epoch"]);
    for s in &sentinels {
        assert_eq!(keys(s), want);
        assert_eq!(value(s, "name"), value(s, "runid"));
        assert_eq!(value(s, "port"), "26379");
        assert_eq!(value(s, "flags"), "sentinel");
        assert_eq!(value(s, "voted-leader"), "?");
        assert_eq!(value(s, "voted-leader-epoch"), "0");
        let hello: u64 = value(s, "last-hello-message").parse().unwrap();
        assert!(hello <= 2100, "hellos every 2 s: {hello}");
    }

    let r = replies_of(&w);
    assert_eq!(
        reply(&r, "no-master"),
        "(error) ERR No such master with that name"
    );
    assert_eq!(
        reply(&r, "no-sentinels"),
        "(error) ERR No such master with that name"
    );
    assert_eq!(
        reply(&r, "arity"),
        "(error) ERR wrong number of arguments for 'sentinel|masters' command"
    );
}

/// With the master killed: `s_down` and `o_down` flags with their times
/// (each right before down-after-milliseconds), `failover_in_progress`
/// and the failover state while it runs; after the switch the master is
/// the promoted replica, a fresh instance in the new config epoch, the old
/// master a replica that is down.
#[test]
fn master_shows_down_flags_and_the_failover_under_way() {
    // The only replica has priority 0: the failover aborts (no good
    // replica) and the master stays ODOWN.
    let s = three_sentinels("30s", 2)
        .node("replica-1", "replica-priority = 0")
        .fault("10s", r#"kill = "master""#)
        .command("14s", "sentinel-1", "SENTINEL MASTER mymaster", "up")
        .command("25s", "sentinel-1", "SENTINEL MASTER mymaster", "down");
    let w = run(&s);
    // The command link is closed by the kill: disconnected, not yet SDOWN.
    let up = pairs(&frame(&w, "up"));
    assert_eq!(value(&up, "flags"), "master,disconnected");
    let sent: u64 = value(&up, "last-ping-sent").parse().unwrap();
    assert!(sent > 3000 && sent <= 4000, "{sent}");

    let down = pairs(&frame(&w, "down"));
    assert_eq!(value(&down, "flags"), "s_down,o_down,master,disconnected");
    let k = keys(&down);
    let at = k
        .iter()
        .position(|f| *f == "s-down-time")
        .expect("s-down-time");
    assert_eq!(k[at - 1], "last-ping-reply");
    assert_eq!(k[at + 1], "o-down-time");
    assert_eq!(k[at + 2], "down-after-milliseconds");
    let sdown: u64 = value(&down, "s-down-time").parse().unwrap();
    let odown: u64 = value(&down, "o-down-time").parse().unwrap();
    assert!(sdown >= odown && sdown > 9000 && sdown < 10_000, "{down:?}");
    assert!(!k.contains(&"failover-state"));

    // After a failover.
    let s = three_sentinels("40s", 2)
        .fault("10s", r#"kill = "master""#)
        .command("30s", "sentinel-1", "SENTINEL MASTER mymaster", "after")
        .command(
            "30s",
            "sentinel-1",
            "SENTINEL REPLICAS mymaster",
            "replicas",
        )
        .command(
            "30s",
            "sentinel-1",
            "SENTINEL SENTINELS mymaster",
            "sentinels",
        );
    let w = run(&s);
    let after = pairs(&frame(&w, "after"));
    assert_eq!(value(&after, "flags"), "master");
    assert_ne!(value(&after, "ip"), "10.0.0.1");
    assert_eq!(value(&after, "config-epoch"), "1");
    let replicas = maps(&frame(&w, "replicas"));
    let old = replicas
        .iter()
        .find(|r| value(r, "ip") == "10.0.0.1")
        .expect("the old master listed as a replica");
    assert_eq!(value(old, "flags"), "s_down,slave,disconnected");
    // Votes heard in is-master-down-by-addr replies are forgotten 5 s
    // after the last reply (sentinelAskMasterStateToOtherSentinels()).
    let sentinels = maps(&frame(&w, "sentinels"));
    assert!(
        sentinels.iter().all(|s| value(s, "voted-leader") == "?"),
        "{sentinels:?}"
    );
}

/// A failover under way shows its state right after `link-refcount`, and
/// a forced one both failover flags.
#[test]
fn master_shows_the_failover_state_while_it_runs() {
    let s = three_sentinels("20s", 2)
        .command("10s", "sentinel-1", "SENTINEL FAILOVER mymaster", "go")
        .command("10s", "sentinel-1", "SENTINEL MASTER mymaster", "m");
    let w = run(&s);
    let m = pairs(&frame(&w, "m"));
    assert_eq!(
        value(&m, "flags"),
        "master,failover_in_progress,force_failover"
    );
    let k = keys(&m);
    assert_eq!(
        k[6..9],
        ["link-refcount", "failover-state", "last-ping-sent"]
    );
    assert_eq!(value(&m, "failover-state"), "wait_start");
}

/// sentinelSetCommand(): options left to right, each applied at once and
/// logged as `+set` (auth-pass redacted); the first bad one ends the
/// command with its error and those before it stay applied. Reply texts
/// read off a real Sentinel 7.0.15.
#[test]
fn set_applies_options_one_by_one() {
    let cmds = [
        ("SENTINEL SET mymaster quorum 3", "OK"),
        (
            "SENTINEL SET mymaster quorum 0",
            "(error) ERR Invalid argument '0' for SENTINEL SET 'quorum'",
        ),
        (
            "SENTINEL SET mymaster Foo 1",
            "(error) ERR Unknown option or number of arguments for SENTINEL SET 'Foo'",
        ),
        (
            "SENTINEL SET mymaster quorum 2 failover-timeout",
            "(error) ERR Unknown option or number of arguments for SENTINEL SET 'failover-timeout'",
        ),
        (
            "SENTINEL SET mymaster notification-script /bin/true",
            "(error) ERR Reconfiguration of scripts path is denied for security reasons. \
             Check the deny-scripts-reconfig configuration directive in your Sentinel \
             configuration",
        ),
        (
            "SENTINEL SET nope quorum 1",
            "(error) ERR No such master with that name",
        ),
        ("SENTINEL SET mymaster QUORUM 2", "OK"),
        (
            "SENTINEL SET mymaster quorum 4 parallel-syncs x",
            "(error) ERR Invalid argument 'x' for SENTINEL SET 'parallel-syncs'",
        ),
        (
            "SENTINEL SET mymaster master-reboot-down-after-period -1",
            "(error) ERR Invalid argument '-1' for SENTINEL SET 'master-reboot-down-after-period'",
        ),
        (
            "SENTINEL SET mymaster master-reboot-down-after-period 0",
            "OK",
        ),
        (
            "SENTINEL SET mymaster down-after-milliseconds +5",
            "(error) ERR Invalid argument '+5' for SENTINEL SET 'down-after-milliseconds'",
        ),
        (
            "SENTINEL SET mymaster down-after-milliseconds 05",
            "(error) ERR Invalid argument '05' for SENTINEL SET 'down-after-milliseconds'",
        ),
        (
            "SENTINEL SET mymaster quorum",
            "(error) ERR wrong number of arguments for 'sentinel|set' command",
        ),
        (
            "SENTINEL SET mymaster failover-timeout 30000 parallel-syncs 2 down-after-milliseconds 3000",
            "OK",
        ),
    ];
    let mut s = three_sentinels("20s", 2);
    for (i, (line, _)) in cmds.iter().enumerate() {
        s = s.command("10s", "sentinel-1", line, &format!("c{i}"));
    }
    s = s.command("10s", "sentinel-1", "SENTINEL MASTER mymaster", "m");
    let w = run(&s);
    let r = replies_of(&w);
    for (i, (line, want)) in cmds.iter().enumerate() {
        assert_eq!(reply(&r, &format!("c{i}")), *want, "{line}");
    }
    let m = pairs(&frame(&w, "m"));
    assert_eq!(value(&m, "quorum"), "4");
    assert_eq!(value(&m, "failover-timeout"), "30000");
    assert_eq!(value(&m, "parallel-syncs"), "2");
    assert_eq!(value(&m, "down-after-milliseconds"), "3000");
    let sets: Vec<String> = events_of(&w, "sentinel-1")
        .into_iter()
        .filter(|(e, _)| e == "+set")
        .map(|(_, d)| {
            d.trim_start_matches("master mymaster 10.0.0.1 6379 ")
                .to_string()
        })
        .collect();
    assert_eq!(
        sets,
        [
            "quorum 3",
            "quorum 2",
            "QUORUM 2",
            "quorum 4",
            "master-reboot-down-after-period 0",
            "failover-timeout 30000",
            "parallel-syncs 2",
            "down-after-milliseconds 3000",
        ]
    );
}

/// A new down-after-milliseconds takes effect at once: set to 2000 ms at
/// 5 s, the master killed at 10 s is SDOWN about 2 s later, not 5.
#[test]
fn set_down_after_changes_when_sdown_comes() {
    let s = three_sentinels("20s", 2)
        .command(
            "5s",
            "sentinel-1",
            "SENTINEL SET mymaster down-after-milliseconds 2000",
            "set",
        )
        .fault("10s", r#"kill = "master""#);
    let w = run(&s);
    assert_eq!(reply(&replies_of(&w), "set"), "OK");
    let n = w.plan.node_index("sentinel-1").unwrap() as u32;
    let sdown = w
        .trace()
        .events
        .iter()
        .find(|e| e.node == n && e.event == "+sdown" && e.detail.starts_with("master"))
        .expect("+sdown")
        .t;
    assert!(sdown > 12_000_000 && sdown < 13_200_000, "{sdown}");
}

/// `auth-pass` is redacted in the event and drops the links to the master
/// and its replicas, which reconnect with AUTH.
#[test]
fn set_auth_pass_is_redacted_and_reconnects() {
    let s = three_sentinels("20s", 2)
        .redis(r#"requirepass = "s3cret", masterauth = "s3cret""#)
        .command(
            "5s",
            "sentinel-1",
            "SENTINEL SET mymaster auth-pass s3cret",
            "set",
        )
        .command("10s", "sentinel-1", "SENTINEL MASTER mymaster", "m");
    let w = run(&s);
    assert_eq!(reply(&replies_of(&w), "set"), "OK");
    let sets: Vec<String> = events_of(&w, "sentinel-1")
        .into_iter()
        .filter(|(e, _)| e == "+set")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(sets, ["master mymaster 10.0.0.1 6379 auth-pass ******"]);
    let m = pairs(&frame(&w, "m"));
    assert_eq!(value(&m, "flags"), "master");
    let refresh: u64 = value(&m, "info-refresh").parse().unwrap();
    assert!(refresh < 10_500, "{refresh}");
}

/// sentinelResetMastersByPattern(): a case-sensitive glob over master
/// names, the count as an integer. sentinelResetMaster() forgets every
/// replica and Sentinel and closes the master's links: right after, the
/// Sentinel knows only itself (CKQUORUM counts 1) and the master's run id
/// is unknown; hellos bring the Sentinels back within about 2 s, the
/// master's next INFO (up to 10 s later) its replica and run id.
#[test]
fn reset_forgets_replicas_and_sentinels_until_rediscovered() {
    let s = three_sentinels("40s", 2)
        .command("10s", "sentinel-1", "SENTINEL RESET nomatch", "none")
        .command("10s", "sentinel-1", "SENTINEL RESET MyMaster", "case")
        .command("10s", "sentinel-1", "SENTINEL RESET my*", "glob")
        .command("10s", "sentinel-1", "SENTINEL SENTINELS mymaster", "s0")
        .command("10s", "sentinel-1", "SENTINEL REPLICAS mymaster", "r0")
        .command("10s", "sentinel-1", "SENTINEL MASTER mymaster", "m0")
        .command("10s", "sentinel-1", "SENTINEL CKQUORUM mymaster", "q0")
        .command("10s", "sentinel-1", "SENTINEL RESET", "arity")
        .command("14s", "sentinel-1", "SENTINEL SENTINELS mymaster", "s1")
        .command("14s", "sentinel-1", "SENTINEL CKQUORUM mymaster", "q1")
        .command("25s", "sentinel-1", "SENTINEL REPLICAS mymaster", "r1")
        .command("25s", "sentinel-1", "SENTINEL MASTER mymaster", "m1");
    let w = run(&s);
    let r = replies_of(&w);
    assert_eq!(reply(&r, "none"), "(integer) 0");
    assert_eq!(reply(&r, "case"), "(integer) 0");
    assert_eq!(reply(&r, "glob"), "(integer) 1");
    assert_eq!(
        reply(&r, "arity"),
        "(error) ERR wrong number of arguments for 'sentinel|reset' command"
    );
    assert!(maps(&frame(&w, "s0")).is_empty());
    assert!(maps(&frame(&w, "r0")).is_empty());
    let m0 = pairs(&frame(&w, "m0"));
    assert_eq!(value(&m0, "flags"), "master,disconnected");
    assert_eq!(value(&m0, "runid"), "");
    assert_eq!(value(&m0, "num-slaves"), "0");
    assert_eq!(value(&m0, "num-other-sentinels"), "0");
    assert_eq!(value(&m0, "last-ping-sent"), "0");
    assert_eq!(value(&m0, "last-ping-reply"), "0");
    assert_eq!(
        reply(&r, "q0"),
        format!("(error) NOQUORUM 1 usable Sentinels. {NO_QUORUM}")
    );
    assert_eq!(maps(&frame(&w, "s1")).len(), 2);
    assert_eq!(reply(&r, "q1"), format!("OK 3 usable Sentinels. {OK}"));
    assert_eq!(maps(&frame(&w, "r1")).len(), 1);
    let m1 = pairs(&frame(&w, "m1"));
    assert_eq!(value(&m1, "flags"), "master");
    assert_eq!(value(&m1, "runid").len(), 40);
    let resets: Vec<(String, String)> = events_of(&w, "sentinel-1")
        .into_iter()
        .filter(|(e, _)| e == "+reset-master")
        .collect();
    assert_eq!(
        resets,
        [(
            "+reset-master".into(),
            "master mymaster 10.0.0.1 6379".into()
        )]
    );
}

/// `SENTINEL MONITOR`'s checks in Redis's order, then REMOVE and CONFIG;
/// texts read off a real Sentinel 7.0.15. MONITOR of an address no
/// simulated process has is refused as not modelled; REMOVE drops the
/// master.
#[test]
fn monitor_remove_and_config_errors() {
    let cmds = [
        (
            "SENTINEL MONITOR m2 10.0.0.1 6379 x",
            "(error) ERR Invalid quorum",
        ),
        (
            "SENTINEL MONITOR m2 10.0.0.1 x 0",
            "(error) ERR Invalid port",
        ),
        (
            "SENTINEL MONITOR m2 10.0.0.1 6379 0",
            "(error) ERR Quorum must be 1 or greater.",
        ),
        (
            "SENTINEL MONITOR m2 notanip 6379 2",
            "(error) ERR Invalid IP address or hostname specified",
        ),
        (
            "SENTINEL MONITOR m2 10.0.0.1 70000 2",
            "(error) ERR Invalid port number.",
        ),
        (
            "SENTINEL MONITOR m2 10.0.0.1 -1 2",
            "(error) ERR Invalid port number.",
        ),
        (
            "SENTINEL MONITOR mymaster 10.0.0.1 6379 2",
            "(error) ERR Duplicate master name.",
        ),
        (
            "SENTINEL MONITOR m2 10.0.0.1 6379 99999999999999999999",
            "(error) ERR Invalid quorum",
        ),
        (
            "SENTINEL MONITOR m2 10.0.0.1",
            "(error) ERR wrong number of arguments for 'sentinel|monitor' command",
        ),
        (
            "SENTINEL MONITOR m2 10.0.0.9 6379 2",
            "(error) ERR redsim does not model 'sentinel|monitor' in this form yet",
        ),
        (
            "SENTINEL REMOVE nope",
            "(error) ERR No such master with that name",
        ),
        ("SENTINEL REMOVE mymaster", "OK"),
        ("SENTINEL MASTERS", "(empty array)"),
        (
            "SENTINEL CONFIG GET *host*",
            "1) \"resolve-hostnames\"\n2) \"no\"\n3) \"announce-hostnames\"\n4) \"no\"",
        ),
        (
            "SENTINEL CONFIG GET announce-port",
            "1) \"announce-port\"\n2) \"0\"",
        ),
        (
            "SENTINEL CONFIG SET announce-port 70000",
            "(error) ERR Invalid value '70000' to SENTINEL CONFIG SET 'announce-port'",
        ),
        (
            "SENTINEL CONFIG SET resolve-hostnames maybe",
            "(error) ERR Invalid value 'maybe' to SENTINEL CONFIG SET 'resolve-hostnames'",
        ),
        (
            "SENTINEL CONFIG SET foo bar",
            "(error) ERR Invalid argument 'foo' to SENTINEL CONFIG SET",
        ),
        (
            "SENTINEL CONFIG SET resolve-hostnames",
            "(error) ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.",
        ),
        (
            "SENTINEL CONFIG GET",
            "(error) ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.",
        ),
        (
            "SENTINEL CONFIG FOO a",
            "(error) ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.",
        ),
        (
            "SENTINEL CONFIG",
            "(error) ERR wrong number of arguments for 'sentinel|config' command",
        ),
        ("SENTINEL CONFIG SET resolve-hostnames YES", "OK"),
        (
            "SENTINEL CONFIG GET Resolve*",
            "1) \"resolve-hostnames\"\n2) \"yes\"",
        ),
        ("SENTINEL CONFIG GET nothing", "(empty array)"),
    ];
    let mut s = three_sentinels("10s", 2);
    for (i, (line, _)) in cmds.iter().enumerate() {
        s = s.command("5s", "sentinel-1", line, &format!("c{i}"));
    }
    let r = replies(&s);
    for (i, (line, want)) in cmds.iter().enumerate() {
        assert_eq!(reply(&r, &format!("c{i}")), *want, "{line}");
    }
}

/// `SENTINEL INFO-CACHE`: per named master (unknown names ignored, each
/// master once) its name, then [age in ms, last INFO] for the master and
/// each replica.
#[test]
fn info_cache_shows_the_last_info_of_master_and_replicas() {
    let s = three_sentinels("20s", 2)
        .command("15s", "sentinel-1", "SENTINEL INFO-CACHE nope", "none")
        .command(
            "15s",
            "sentinel-1",
            "SENTINEL INFO-CACHE mymaster nope mymaster",
            "cache",
        )
        .command("15s", "sentinel-1", "SENTINEL INFO-CACHE", "arity");
    let w = run(&s);
    let r = replies_of(&w);
    assert_eq!(reply(&r, "none"), "(empty array)");
    assert_eq!(
        reply(&r, "arity"),
        "(error) ERR wrong number of arguments for 'sentinel|info-cache' command"
    );
    let Frame::Array(Some(top)) = frame(&w, "cache") else {
        panic!("not an array")
    };
    let [Frame::Bulk(Some(name)), Frame::Array(Some(entries))] = top.as_slice() else {
        panic!("{top:?}")
    };
    assert_eq!(name, "mymaster");
    assert_eq!(entries.len(), 2);
    for (e, role) in entries.iter().zip(["role:master", "role:slave"]) {
        let Frame::Array(Some(pair)) = e else {
            panic!("{e:?}")
        };
        let [Frame::Int(age), Frame::Bulk(Some(info))] = pair.as_slice() else {
            panic!("{pair:?}")
        };
        assert!((0..=10_000).contains(age), "{age}");
        assert!(info.contains(role), "{info}");
    }
}

/// Any positive long long is taken, as Redis takes it; timers that add to
/// it saturate, so a master killed afterwards is simply never SDOWN here
/// (and with quorum 3 the others cannot fail it over without this one).
#[test]
fn set_takes_the_largest_values() {
    let max = i64::MAX;
    let s = three_sentinels("30s", 3)
        .command(
            "5s",
            "sentinel-1",
            &format!(
                "SENTINEL SET mymaster down-after-milliseconds {max} failover-timeout {max} \
                 master-reboot-down-after-period {max}"
            ),
            "set",
        )
        .command("6s", "sentinel-1", "SENTINEL MASTER mymaster", "m")
        .fault("10s", r#"kill = "master""#)
        .command("25s", "sentinel-1", "SENTINEL MASTER mymaster", "later");
    let w = run(&s);
    assert_eq!(reply(&replies_of(&w), "set"), "OK");
    let m = pairs(&frame(&w, "m"));
    assert_eq!(value(&m, "down-after-milliseconds"), max.to_string());
    assert_eq!(value(&m, "failover-timeout"), max.to_string());
    let later = pairs(&frame(&w, "later"));
    assert_eq!(value(&later, "flags"), "master,disconnected");
    assert!(
        events_of(&w, "sentinel-1")
            .iter()
            .all(|(e, _)| e != "+sdown")
    );
}

/// HELP (addReplyHelp(): status lines), FLUSHCONFIG, PENDING-SCRIPTS (no
/// scripts run), and IS-MASTER-DOWN-BY-ADDR typed by an operator: the
/// answer another Sentinel gets, a vote when a run id is given.
#[test]
fn help_flushconfig_pending_scripts_and_is_master_down() {
    let s = three_sentinels("20s", 2)
        .command("5s", "sentinel-1", "SENTINEL HELP", "help")
        .command("5s", "sentinel-1", "SENTINEL FLUSHCONFIG", "flush")
        .command("5s", "sentinel-1", "SENTINEL PENDING-SCRIPTS", "scripts")
        .command(
            "5s",
            "sentinel-1",
            "SENTINEL IS-MASTER-DOWN-BY-ADDR 10.0.0.1 6379 0 *",
            "ask",
        )
        .command(
            "5s",
            "sentinel-1",
            "SENTINEL IS-MASTER-DOWN-BY-ADDR 10.0.0.1 x 0 *",
            "bad-port",
        )
        .command(
            "5s",
            "sentinel-1",
            "SENTINEL IS-MASTER-DOWN-BY-ADDR 10.0.0.9 6379 0 abc",
            "unknown",
        )
        .command(
            "6s",
            "sentinel-1",
            "SENTINEL IS-MASTER-DOWN-BY-ADDR 10.0.0.1 6379 7 abc",
            "vote",
        );
    let w = run(&s);
    let r = replies_of(&w);
    let help = reply(&r, "help");
    let lines: Vec<&str> = help.lines().collect();
    assert_eq!(
        lines[0],
        " 1) SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(lines[1], " 2) CKQUORUM <master-name>");
    assert_eq!(lines[lines.len() - 2], "48) HELP");
    assert_eq!(lines[lines.len() - 1], "49)     Prints this help.");
    assert_eq!(reply(&r, "flush"), "OK");
    assert_eq!(reply(&r, "scripts"), "(empty array)");
    assert_eq!(reply(&r, "ask"), "1) (integer) 0\n2) \"*\"\n3) (integer) 0");
    assert_eq!(
        reply(&r, "bad-port"),
        "(error) ERR value is not an integer or out of range"
    );
    assert_eq!(
        reply(&r, "unknown"),
        "1) (integer) 0\n2) \"*\"\n3) (integer) 0"
    );
    assert_eq!(
        reply(&r, "vote"),
        "1) (integer) 0\n2) \"abc\"\n3) (integer) 7"
    );
    let votes: Vec<String> = events_of(&w, "sentinel-1")
        .into_iter()
        .filter(|(e, _)| e == "+vote-for-leader")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(votes, ["abc 7"]);
}
