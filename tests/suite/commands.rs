//! Command lines sent by a scenario: each node answers through its own
//! command table with Redis 7.0.15's reply texts, and the scenario file
//! refuses lines it cannot send.

use redsim::check::RunView as _;
use redsim::scenario;
use redsim::world;

use super::common::{Scenario, reply};

/// Every named command: when its reply came (ms of simulated time) and
/// the reply as redis-cli prints it.
fn answered(s: &Scenario) -> Vec<(String, Option<u64>, String)> {
    let plan = s.plan();
    let out = world::run(&plan, plan.seed).expect("runs");
    out.world
        .exchanges()
        .iter()
        .map(|x| {
            let shown = x.reply.as_ref().map_or("<no reply>".to_string(), |(_, f)| {
                redsim::proto::resp::shown(&x.command.argv, f)
            });
            let at = x.reply.as_ref().map(|(t, _)| *t / 1000);
            (x.command.name.clone().unwrap_or_default(), at, shown)
        })
        .collect()
}

/// Every named command's reply, as redis-cli prints it.
fn replies(s: &Scenario) -> Vec<(String, String)> {
    answered(s).into_iter().map(|(n, _, r)| (n, r)).collect()
}

// Reply texts below were read off a real Redis 7.0.15 and Sentinel through
// redis-cli.
#[test]
fn a_redis_server_answers_with_redis_texts() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .command("1s", "master", "FOO a b", "unknown")
        .command("1s", "master", "CONFIG FOO", "subcommand")
        .command("1s", "master", "SET k", "arity")
        .command("1s", "replica-1", "REPLICAOF 10.0.0.1 99999", "port")
        .command("1s", "replica-1", "REPLICAOF 10.0.0.1 6379", "already")
        .command("1s", "master", "SET k v", "set")
        .command("1s", "master", "DBSIZE", "dbsize")
        .command("1s", "master", "ECHO \"a b\"", "echo")
        .command("1s", "master", "SELECT x", "select");
    let r = replies(&s);
    assert_eq!(
        reply(&r, "unknown"),
        "(error) ERR unknown command 'FOO', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        reply(&r, "subcommand"),
        "(error) ERR unknown subcommand 'FOO'. Try CONFIG HELP."
    );
    assert_eq!(
        reply(&r, "arity"),
        "(error) ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(reply(&r, "port"), "(error) ERR Invalid master port");
    assert_eq!(
        reply(&r, "already"),
        "OK Already connected to specified master"
    );
    assert_eq!(reply(&r, "set"), "OK");
    assert_eq!(reply(&r, "dbsize"), "(integer) 1");
    assert_eq!(reply(&r, "echo"), "\"a b\"");
    assert_eq!(
        reply(&r, "select"),
        "(error) ERR value is not an integer or out of range"
    );
}

/// roleCommand(): a connected replica names its master, the link state
/// and its offset; the master lists the replica with its acked offset.
#[test]
fn role_shows_both_ends_of_the_link() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .command("9s", "replica-1", "ROLE", "replica")
        .command("9s", "master", "ROLE", "master");
    let r = replies(&s);
    let replica = reply(&r, "replica");
    assert!(
        replica.starts_with(
            "1) \"slave\"\n2) \"10.0.0.1\"\n3) (integer) 6379\n4) \"connected\"\n5) (integer) "
        ),
        "{replica}"
    );
    let master = reply(&r, "master");
    assert!(
        master.starts_with("1) \"master\"\n2) (integer) "),
        "{master}"
    );
    assert!(
        master.contains("3) 1) 1) \"10.0.0.2\"\n      2) \"6379\"\n      3) \""),
        "{master}"
    );
}

#[test]
fn a_sentinel_knows_only_its_own_commands() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1, sentinels = 1")
        .command("5s", "sentinel-1", "SET a b", "set")
        .command("5s", "sentinel-1", "ROLE", "role")
        .command(
            "5s",
            "sentinel-1",
            "SENTINEL GET-MASTER-ADDR-BY-NAME mymaster",
            "addr",
        )
        .command(
            "5s",
            "sentinel-1",
            "SENTINEL GET-MASTER-ADDR-BY-NAME nope",
            "none",
        )
        .command("5s", "sentinel-1", "SENTINEL FOO", "sub");
    let r = replies(&s);
    assert_eq!(
        reply(&r, "set"),
        "(error) ERR unknown command 'SET', with args beginning with: 'a' 'b' "
    );
    assert_eq!(reply(&r, "role"), "1) \"sentinel\"\n2) 1) \"mymaster\"");
    assert_eq!(reply(&r, "addr"), "1) \"10.0.0.1\"\n2) \"6379\"");
    assert_eq!(reply(&r, "none"), "(nil)");
    assert_eq!(
        reply(&r, "sub"),
        "(error) ERR unknown subcommand 'FOO'. Try SENTINEL HELP."
    );
}

/// A line to a killed server is refused as redis-cli reports it, and the
/// trace says so.
#[test]
fn a_line_to_a_dead_server_gets_no_reply() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .fault("1s", r#"kill = "replica-1""#)
        .command("2s", "replica-1", "PING", "ping");
    let plan = s.plan();
    let out = world::run(&plan, 0).expect("runs");
    let x = &out.world.exchanges()[0];
    assert_eq!(x.reply, None);
    let e = out
        .world
        .trace()
        .named("no-reply")
        .next()
        .expect("a no-reply event");
    assert!(
        e.detail
            .ends_with("PING: Could not connect to Redis at 10.0.0.2:6379: Connection refused"),
        "{}",
        e.detail
    );
}

#[test]
fn reply_expectations_check_text_prefix_and_fields() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .command("9s", "replica-1", "INFO replication", "info")
        .command("9s", "replica-1", "SET k v", "write")
        .expect(r#"reply = "info", field = "role", equals = "slave""#)
        .expect(r##"reply = "info", prefix = "# Replication""##)
        .expect(r#"reply = "write", equals = "(error) READONLY You can't write against a read only replica.""#)
        .expect(r#"reply = "write", equals = "OK""#);
    let plan = s.plan();
    let out = world::run(&plan, 0).expect("runs");
    let holds: Vec<bool> = out.verdicts.iter().map(|v| v.holds).collect();
    assert_eq!(holds, [true, true, true, false]);
}

#[test]
fn bad_command_tables_are_refused_with_their_place() {
    let base = "name = \"t\"\nduration = \"10s\"\n[topology]\nmasters = 1\nreplicas = 1\n";
    let cases = [
        (
            "[[command]]\nat = \"1s\"\nnode = \"replica-1\"\nsend = 'SET \"a b'\n",
            "unbalanced quotes",
        ),
        (
            "[[command]]\nat = \"1s\"\nnode = \"replica-1\"\nsend = '  '\n",
            "empty command line",
        ),
        (
            "[[command]]\nat = \"1s\"\nnode = \"replica-9\"\nsend = 'PING'\n",
            "replica-9",
        ),
        (
            "[[command]]\nat = \"1s\"\nnode = \"master\"\nsend = 'PING'\nname = \"p\"\n[[expect]]\nreply = \"q\"\nequals = \"PONG\"\n",
            "no [[command]] is named `q`",
        ),
        (
            "[[command]]\nat = \"1s\"\nnode = \"master\"\nsend = 'PING'\nname = \"p\"\n[[command]]\nat = \"2s\"\nnode = \"master\"\nsend = 'PING'\nname = \"p\"\n",
            "used twice",
        ),
        (
            "[[command]]\nat = \"1s\"\nnode = \"master\"\nsend = 'PING'\nname = \"p\"\n[[expect]]\nreply = \"p\"\n",
            "`reply` needs one of `equals`",
        ),
        (
            "[[command]]\nat = \"1s\"\nnode = \"master\"\nsend = 'PING'\nname = \"p\"\n[[expect]]\nreply = \"p\"\nprefix = \"P\"\nmatches = \"P*\"\n",
            "`reply` needs one of `equals`",
        ),
        (
            "[[command]]\nat = \"1s\"\nnode = \"master\"\nsend = 'SUBSCRIBE c'\nname = \"s\"\n[[expect]]\nmessages = \"t\"\n",
            "no [[command]] is named `t`",
        ),
        (
            "[[command]]\nat = \"1s\"\nnode = \"master\"\nsend = 'PING'\nname = \"p\"\n[[expect]]\nevent = \"+sdown\"\nchannel = \"x\"\n",
            "`channel` goes with `messages`",
        ),
    ];
    for (table, message) in cases {
        let text = format!("{base}{table}");
        let e = scenario::parse("t.toml", &text).expect_err(message);
        assert!(e.to_string().contains(message), "{e}\n{text}");
    }
}

#[test]
fn an_unlinked_topology_starts_every_server_as_a_master() {
    let s = Scenario::new("5s", "masters = 1, replicas = 1, linked = false").command(
        "1s",
        "replica-1",
        "ROLE",
        "role",
    );
    assert_eq!(
        reply(&replies(&s), "role"),
        "1) \"master\"\n2) (integer) 0\n3) (empty array)"
    );
}

fn pair(name: &str, value: &str) -> String {
    format!("1) \"{name}\"\n2) \"{value}\"")
}

// CONFIG GET/SET/REWRITE. Reply texts read off a real Redis 7.0.15 through
// redis-cli (a CONFIG GET with a pattern lists its names in the model's
// order: Redis's changes from one process to the next).
#[test]
fn config_get_shows_the_running_configuration() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .redis(r#"repl-backlog-size = "16kb""#)
        .command("5s", "master", "CONFIG GET repl-backlog-size", "backlog")
        .command("5s", "master", "CONFIG GET SLAVE-PRIORITY", "alias")
        .command("5s", "master", "CONFIG GET save", "save")
        .command("5s", "master", "CONFIG GET replicaof", "master-of")
        .command("5s", "replica-1", "CONFIG GET replicaof", "replica-of")
        .command("5s", "master", "CONFIG GET *serve-stale*", "glob")
        .command("5s", "master", "CONFIG GET fork-time-per-gb", "host-model")
        .command("5s", "master", "CONFIG GET", "arity");
    let r = replies(&s);
    assert_eq!(reply(&r, "backlog"), pair("repl-backlog-size", "16384"));
    assert_eq!(reply(&r, "alias"), pair("SLAVE-PRIORITY", "100"));
    assert_eq!(reply(&r, "save"), pair("save", "3600 1 300 100 60 10000"));
    assert_eq!(reply(&r, "master-of"), pair("replicaof", ""));
    assert_eq!(reply(&r, "replica-of"), pair("replicaof", "10.0.0.1 6379"));
    assert_eq!(
        reply(&r, "glob"),
        "1) \"replica-serve-stale-data\"\n2) \"yes\"\n3) \"slave-serve-stale-data\"\n4) \"yes\""
    );
    assert_eq!(reply(&r, "host-model"), "(empty array)");
    assert_eq!(
        reply(&r, "arity"),
        "(error) ERR wrong number of arguments for 'config|get' command"
    );
}

#[test]
fn config_set_refuses_as_redis_does() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .command("5s", "master", "CONFIG SET hz 10 x", "odd")
        .command("5s", "master", "CONFIG SET nope 1", "unknown")
        .command(
            "5s",
            "master",
            "CONFIG SET slaveof \"10.0.0.2 6379\"",
            "immutable",
        )
        .command("5s", "master", "CONFIG SET hz 10 HZ 11", "duplicate")
        .command("5s", "master", "CONFIG SET repl-backlog-size 1x", "memory")
        .command("5s", "master", "CONFIG SET replica-priority -1", "range")
        .command("5s", "master", "CONFIG SET appendfsync sometimes", "enum")
        .command("5s", "master", "CONFIG SET port 7000", "port");
    let r = replies(&s);
    let failed = |name: &str, why: &str| {
        format!("(error) ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
    };
    assert_eq!(reply(&r, "odd"), "(error) ERR syntax error");
    assert_eq!(
        reply(&r, "unknown"),
        "(error) ERR Unknown option or number of arguments for CONFIG SET - 'nope'"
    );
    assert_eq!(
        reply(&r, "immutable"),
        failed("slaveof", "can't set immutable config")
    );
    assert_eq!(reply(&r, "duplicate"), failed("HZ", "duplicate parameter"));
    assert_eq!(
        reply(&r, "memory"),
        failed("repl-backlog-size", "argument must be a memory value")
    );
    assert_eq!(
        reply(&r, "range"),
        failed(
            "replica-priority",
            "argument must be between 0 and 2147483647 inclusive"
        )
    );
    assert_eq!(
        reply(&r, "enum"),
        failed(
            "appendfsync",
            "argument(s) must be one of the following: everysec, always, no"
        )
    );
    // Redis would listen on the new port; the model's addresses are fixed.
    assert_eq!(
        reply(&r, "port"),
        "(error) ERR redsim does not model CONFIG SET port to a new port: a node's address is fixed"
    );
}

/// The settings take effect where Redis reads them: replica-priority in
/// INFO (which Sentinel reads), min-replicas-to-write at the next write,
/// replica-read-only at the next write on the replica.
#[test]
fn config_set_takes_effect_at_once() {
    let s = Scenario::new("15s", "masters = 1, replicas = 1")
        .command(
            "10s",
            "replica-1",
            "CONFIG SET slave-priority 0",
            "priority",
        )
        .command("10s", "replica-1", "INFO replication", "info")
        .command("10s", "master", "CONFIG SET min-replicas-to-write 2", "min")
        .command("10s", "master", "SET k v", "refused")
        .command(
            "10s",
            "master",
            "CONFIG SET min-replicas-to-write 1",
            "min-1",
        )
        .command("10s", "master", "SET k v", "accepted")
        .command("11s", "replica-1", "SET k2 v", "read-only")
        .command(
            "11s",
            "replica-1",
            "CONFIG SET replica-read-only no",
            "writable",
        )
        .command("11s", "replica-1", "SET k2 v", "written")
        .expect(r#"reply = "info", field = "slave_priority", equals = "0""#);
    let plan = s.plan();
    let out = world::run(&plan, 0).expect("runs");
    assert!(out.verdicts.iter().all(|v| v.holds), "{:?}", out.verdicts);
    let r = replies(&s);
    assert_eq!(reply(&r, "priority"), "OK");
    assert_eq!(
        reply(&r, "refused"),
        "(error) NOREPLICAS Not enough good replicas to write."
    );
    assert_eq!(reply(&r, "accepted"), "OK");
    assert_eq!(
        reply(&r, "read-only"),
        "(error) READONLY You can't write against a read only replica."
    );
    assert_eq!(reply(&r, "written"), "OK");
}

/// A plain CONFIG SET is lost when the process restarts; after CONFIG
/// REWRITE redis.conf has it.
#[test]
fn config_rewrite_makes_a_setting_outlive_a_restart() {
    let s = Scenario::new("20s", "masters = 1, replicas = 1")
        .command("1s", "master", "CONFIG SET hz 20", "set")
        .fault("2s", r#"kill = "master""#)
        .fault("3s", r#"restart = "master""#)
        .command("4s", "master", "CONFIG GET hz", "lost")
        .command("5s", "master", "CONFIG SET hz 20", "set-again")
        .command("5s", "master", "CONFIG REWRITE", "rewrite")
        .fault("6s", r#"kill = "master""#)
        .fault("7s", r#"restart = "master""#)
        .command("8s", "master", "CONFIG GET hz", "kept");
    let plan = s.plan();
    let out = world::run(&plan, 0).expect("runs");
    let r = replies(&s);
    assert_eq!(reply(&r, "lost"), pair("hz", "10"));
    assert_eq!(reply(&r, "rewrite"), "OK");
    assert_eq!(reply(&r, "kept"), pair("hz", "20"));
    assert_eq!(
        out.world
            .trace()
            .named("CONFIG REWRITE executed with success.")
            .count(),
        1
    );
}

/// CONFIG is flagged `stale` and `loading`: a replica cut off from its
/// master with replica-serve-stale-data no, and a server loading its RDB,
/// both answer it while they refuse PING.
#[test]
fn config_answers_on_a_stale_replica_and_while_loading() {
    let s = Scenario::new("20s", "masters = 1, replicas = 1")
        .node("replica-1", "replica-serve-stale-data = false")
        .node("master", "rdb-load-rate = 100")
        .command("1s", "master", "SET k v", "write")
        .fault("2s", r#"shutdown = "master""#)
        .command("3s", "replica-1", "PING", "masterdown")
        .command(
            "3s",
            "replica-1",
            "CONFIG GET replica-serve-stale-data",
            "stale-get",
        )
        .command(
            "3s",
            "replica-1",
            "CONFIG SET replica-serve-stale-data yes",
            "stale-set",
        )
        .command("3s", "replica-1", "PING", "served")
        .fault("4s", r#"restart = "master""#)
        .command("4.1s", "master", "PING", "loading")
        .command("4.1s", "master", "CONFIG GET appendonly", "loading-get")
        .command(
            "4.1s",
            "master",
            "CONFIG SET appendonly yes",
            "deny-loading",
        );
    let r = replies(&s);
    assert_eq!(
        reply(&r, "masterdown"),
        "(error) MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    );
    assert_eq!(
        reply(&r, "stale-get"),
        pair("replica-serve-stale-data", "no")
    );
    assert_eq!(reply(&r, "stale-set"), "OK");
    assert_eq!(reply(&r, "served"), "PONG");
    let loading = "(error) LOADING Redis is loading the dataset in memory";
    assert_eq!(reply(&r, "loading"), loading);
    assert_eq!(reply(&r, "loading-get"), pair("appendonly", "no"));
    assert_eq!(reply(&r, "deny-loading"), loading);
}

/// When each named command's reply arrived, in ms of simulated time.
fn reply_ms(s: &Scenario) -> Vec<(String, Option<u64>)> {
    answered(s).into_iter().map(|(n, t, _)| (n, t)).collect()
}

/// processCommand() postpones a write while `CLIENT PAUSE … WRITE` holds
/// (reads from other connections go on); the pause is dropped lazily, by the first serverCron
/// after its end (checkClientPauseTimeoutAndReturnIfPaused(): `end <
/// mstime`), so the held SET is answered within one 100 ms tick after it.
#[test]
fn a_paused_write_is_answered_at_the_first_cron_after_the_pause() {
    let s = Scenario::new("8s", "masters = 1, replicas = 0")
        .command("2s", "master", "CLIENT PAUSE 2000 WRITE", "pause")
        .command_in("app", "2.5s", "master", "SET k v", "held")
        .command_in("reader", "2.6s", "master", "GET k", "read");
    let at = reply_ms(&s);
    let when = |n: &str| at.iter().find(|(m, _)| m == n).and_then(|x| x.1);
    let read = when("read").expect("answered");
    assert!(read < 2_610, "reads are not paused, got {read} ms");
    let held = when("held").expect("answered");
    assert!(
        (4_001..=4_100).contains(&held),
        "held until the first cron after 4 s, got {held} ms"
    );
}

/// failoverCommand()'s checks come in Redis's order: a FAILOVER without
/// replicas, then REPLICAOF refused while one is in progress.
#[test]
fn failover_needs_replicas_and_blocks_replicaof() {
    let s = Scenario::new("12s", "masters = 1, replicas = 1")
        .command("1s", "replica-1", "FAILOVER", "on-replica")
        .command("8s", "master", "FAILOVER TIMEOUT 3000", "start")
        .command("8s", "master", "REPLICAOF NO ONE", "refused")
        .command("8s", "master", "FAILOVER ABORT", "abort")
        .command("8s", "master", "FAILOVER ABORT", "nothing");
    let r = replies(&s);
    assert_eq!(
        reply(&r, "on-replica"),
        "(error) ERR FAILOVER is not valid when server is a replica."
    );
    assert_eq!(reply(&r, "start"), "OK");
    assert_eq!(
        reply(&r, "refused"),
        "(error) ERR REPLICAOF not allowed while failing over."
    );
    assert_eq!(reply(&r, "abort"), "OK");
    assert_eq!(reply(&r, "nothing"), "(error) ERR No failover in progress.");
    let lonely = Scenario::new("3s", "masters = 1, replicas = 0")
        .command("1s", "master", "FAILOVER", "alone");
    assert_eq!(
        reply(&replies(&lonely), "alone"),
        "(error) ERR FAILOVER requires connected replicas."
    );
}

/// msetCommand(), mgetCommand(), delCommand(), existsCommand(): several
/// keys per line, propagated as sent, so a replica holds the same keys
/// (texts read off a real Redis 7.0.15).
#[test]
fn multi_key_commands_run_and_replicate() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .command("7s", "master", "MSET a 1 b 2", "mset")
        .command("7s", "master", "MSET a 1 b", "odd")
        .command("7s", "master", "DEL a nope", "del")
        .command("7s", "master", "EXISTS a b b", "exists")
        .command("8s", "replica-1", "MGET a b c", "mget")
        .command("8s", "master", "CLUSTER KEYSLOT a", "keyslot")
        .command("8s", "master", "READONLY", "readonly");
    let r = replies(&s);
    assert_eq!(reply(&r, "mset"), "OK");
    assert_eq!(
        reply(&r, "odd"),
        "(error) ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(reply(&r, "del"), "(integer) 1");
    assert_eq!(reply(&r, "exists"), "(integer) 2");
    assert_eq!(reply(&r, "mget"), "1) (nil)\n2) \"2\"\n3) (nil)");
    let disabled = "(error) ERR This instance has cluster support disabled";
    assert_eq!(reply(&r, "keyslot"), disabled);
    assert_eq!(reply(&r, "readonly"), disabled);
}

/// HELLO 3 holds for its connection only: another session stays in RESP2,
/// and the session's next connection, after the server closed the first
/// (a CLIENT KILL that takes the caller too), starts again in RESP2.
#[test]
fn resp3_lasts_as_long_as_the_connection() {
    let s = Scenario::new("5s", "masters = 1, replicas = 1")
        .command_in("r3", "1s", "master", "HELLO 3", "hello")
        .command_in("r3", "1s", "master", "CONFIG GET appendonly", "map")
        .command("1s", "master", "CONFIG GET appendonly", "other")
        .command_in(
            "r3",
            "1s",
            "master",
            "CLIENT KILL TYPE normal SKIPME no",
            "kill",
        )
        .command_in("r3", "2s", "master", "CONFIG GET appendonly", "again");
    let r = replies(&s);
    assert!(reply(&r, "hello").starts_with("1# \"server\" => \"redis\"\n"));
    assert_eq!(reply(&r, "map"), "1# \"appendonly\" => \"no\"");
    assert_eq!(reply(&r, "other"), "1) \"appendonly\"\n2) \"no\"");
    assert_eq!(reply(&r, "kill"), "(integer) 2");
    assert_eq!(reply(&r, "again"), "1) \"appendonly\"\n2) \"no\"");
}

/// A SHUTDOWN typed on a node stops it as a `shutdown` fault would: the
/// process is down from then on (no reply; redis-cli prints nothing), and a
/// later restart is accepted and brings it back with an empty dataset
/// (NOSAVE, no persistence).
#[test]
fn a_typed_shutdown_stops_the_process_until_a_restart() {
    let s = Scenario::new("20s", "masters = 1, replicas = 1")
        .command("2s", "master", "SET k v", "set")
        .command("5s", "master", "SHUTDOWN NOSAVE", "shutdown")
        .command("7s", "master", "PING", "while-down")
        .fault("10s", r#"restart = "master""#)
        .command("15s", "master", "GET k", "after-restart");
    let plan = s.plan();
    let out = world::run(&plan, 0).expect("runs");
    let ex = out.world.exchanges();
    let get = |name: &str| {
        ex.iter()
            .find(|x| x.command.name.as_deref() == Some(name))
            .unwrap()
    };
    assert!(get("shutdown").reply.is_none());
    assert!(get("while-down").reply.is_none(), "refused while down");
    assert_eq!(
        get("after-restart").reply.as_ref().unwrap().1,
        redsim::proto::resp::Frame::Bulk(None)
    );
    // Without the typed SHUTDOWN the restart changes nothing and is refused.
    let e = Scenario::new("20s", "masters = 1, replicas = 1")
        .command("5s", "master", "SHUTDOWN ABORT", "abort")
        .fault("10s", r#"restart = "master""#)
        .error();
    assert!(e.contains("restart of master at 10s does nothing"), "{e}");
}
