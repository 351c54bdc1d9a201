//! Command lines sent by a scenario: each node answers through its own
//! command table with Redis 7.0.15's reply texts, and the scenario file
//! refuses lines it cannot send.

use redsim::check::RunView as _;
use redsim::scenario;
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
            "`reply` needs `equals`",
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
