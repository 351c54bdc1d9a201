//! Workloads as a mix of commands on any key names: what they send, what
//! they record, and what the checkers make of it.

use std::collections::BTreeSet;

use redsim::check::RunView as _;
use redsim::history::{OpKind, Outcome, Seen};
use redsim::world;

use super::common::Scenario;

const EVERY_COMMAND: &str =
    "mix = { set = 3, get = 2, incr = 1, del = 1, mset = 1, mget = 1, expire = 1, publish = 1 }";

/// Every command of a mix reaches the master and comes back as Redis
/// answers it: INCR of a key holding a written value is refused with
/// incrDecrCommand()'s error, everything else succeeds; reads at the master
/// are never stale, nothing is lost, and the replica ends with the
/// master's data.
#[test]
fn a_mix_sends_every_command_and_the_checks_hold() {
    let p = Scenario::new("12s", "masters = 1, replicas = 1")
        .workload(&format!(
            r#"target = "master", rate = 200, key-names = ["k1", "k2", "k3"], ttl = "1s", {EVERY_COMMAND}"#
        ))
        .plan();
    let o = world::run(&p, 4).unwrap();
    let w = &o.world;
    let h = w.history().to_vec();
    let kinds: BTreeSet<OpKind> = h.iter().map(|op| op.kind).collect();
    assert_eq!(kinds.len(), OpKind::ALL.len(), "{kinds:?}");
    let names: BTreeSet<&str> = h.iter().map(|op| op.key.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["k1", "k2", "k3"]));
    let mut refused_incrs = 0;
    for op in h.iter().filter(|op| op.completed.is_some()) {
        match (&op.kind, &op.outcome) {
            (_, Outcome::Ok) => {}
            (OpKind::Incr, Outcome::Error(e)) => {
                assert_eq!(e, "ERR value is not an integer or out of range");
                refused_incrs += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
        if op.kind.is_multi_key() {
            assert_eq!(op.more_keys.len(), 1);
        }
        if op.kind == OpKind::MGet && op.outcome.is_ok() {
            assert_eq!(op.read.as_ref().map(Vec::len), Some(2));
        }
    }
    assert!(refused_incrs > 0);
    // Counters were read back, and so were tagged writes.
    let seen: BTreeSet<&str> = h
        .iter()
        .flat_map(|op| op.reads())
        .map(|(_, s)| match s {
            Seen::Missing => "missing",
            Seen::Write(_) => "write",
            Seen::Counter => "counter",
        })
        .collect();
    assert_eq!(seen, BTreeSet::from(["counter", "missing", "write"]));
    assert!(w.lost_writes().is_empty(), "{:?}", w.lost_writes());
    assert!(redsim::check::stale::stale_reads(&w.history()).is_empty());
    let master = &w.server(0).unwrap().data;
    let replica = &w.server(1).unwrap().data;
    let all = |d: &redsim::proto::keyspace::Dataset| -> Vec<String> {
        d.iter().map(|(k, v)| format!("{k}={v}")).collect()
    };
    assert_eq!(all(master), all(replica));
}

/// A key pattern's `*` is the key number; a hash tag inside it decides the
/// slot, so a cluster client's MSETs across such keys are refused with
/// CROSSSLOT, and never when every key shares one tag.
#[test]
fn key_patterns_name_the_keys_and_their_slots() {
    let cluster = |pattern: &str| {
        let p = Scenario::new("8s", "cluster = true, masters = 3, replicas = 0")
            .workload(&format!(
                r#"cluster = true, rate = 100, start = "3s", keys = 50, key-offset = 1000, key-pattern = "{pattern}", mix = {{ mset = 1 }}, multi-keys = 3"#
            ))
            .plan();
        world::run(&p, 2).unwrap().world.history().to_vec()
    };
    let spread = cluster("user:*");
    assert!(spread.iter().all(|op| {
        let n: u32 = op.key["user:".len()..].parse().unwrap();
        (1000..1050).contains(&n)
    }));
    let crossslot = spread
        .iter()
        .filter(|op| {
            op.outcome
                == Outcome::Error("CROSSSLOT Keys in request don't hash to the same slot".into())
        })
        .count();
    assert!(
        crossslot > spread.len() / 2,
        "{crossslot} of {}",
        spread.len()
    );
    let tagged = cluster("{user1000}.following.*");
    assert!(tagged[0].key.starts_with("{user1000}.following.1"));
    assert!(
        tagged
            .iter()
            .filter(|op| op.completed.is_some())
            .all(|op| op.outcome.is_ok())
    );
}

/// WAIT follows every write of a mix (not reads, not PUBLISH), and its
/// count is recorded.
#[test]
fn wait_follows_every_write_of_a_mix() {
    let p = Scenario::new("10s", "masters = 1, replicas = 1")
        .workload(
            r#"target = "master", rate = 50, start = "6s", key-names = ["a"], mix = { del = 1, incr = 1, get = 1, publish = 1 }, wait-replicas = 1, wait-timeout = "100ms""#,
        )
        .plan();
    let o = world::run(&p, 1).unwrap();
    for op in o.world.history().iter().filter(|op| op.outcome.is_ok()) {
        assert_eq!(op.wait_acked.is_some(), op.kind.is_write(), "{op:?}");
    }
}

#[test]
fn mixes_and_key_names_are_checked_where_they_are_written() {
    let w = |settings: &str| {
        Scenario::new("5s", "masters = 1")
            .workload(&format!(r#"target = "master", rate = 10, {settings}"#))
            .error()
    };
    let e = w("mix = { set = 1, inrc = 1 }");
    assert!(e.contains("`inrc` is not a command of a mix"), "{e}");
    assert!(e.contains("did you mean `incr`?"), "{e}");
    let e = w("reads = 0.5, mix = { set = 1 }");
    assert!(e.contains("use either `reads` or `mix`"), "{e}");
    let e = w("mix = { set = 0, get = 0 }");
    assert!(
        e.contains("a mix needs a command with a weight above 0"),
        "{e}"
    );
    let e = w("mix = { set = -1 }");
    assert!(e.contains("weights are numbers of 0 or more"), "{e}");
    let e = w(r#"key-names = ["a"], keys = 3"#);
    assert!(
        e.contains("`keys` and `key-names` both say which keys"),
        "{e}"
    );
    let e = w("key-names = []");
    assert!(e.contains("key-names needs at least one name"), "{e}");
    let e = w(r#"key-pattern = "user""#);
    assert!(e.contains("a key pattern has one `*`"), "{e}");
    let e = w(r#"key-pattern = "a*b*""#);
    assert!(e.contains("a key pattern has one `*`"), "{e}");
    let e = w(r#"key-pattern = "u*", hash-tag = "t""#);
    assert!(e.contains(r#"e.g. "{t}u*""#), "{e}");
    let e = w(r#"ttl = "1500us""#);
    assert!(e.contains("a TTL is whole milliseconds"), "{e}");
    let e = w("multi-keys = 0");
    assert!(e.contains("multi-keys"), "{e}");
    // Located: file, line and column.
    assert!(e.starts_with("test.toml:"), "{e}");
}

/// The bundled scenario on deleted keys coming back: every lost DEL was
/// acknowledged by the old master during the partition, and the key holds
/// a value written before the partition, which the promoted replica had.
#[test]
fn lost_deletes_are_deletes_the_old_master_took_while_cut_off() {
    let (plan, _) =
        super::common::bundled("scenarios/interview/deleted-keys-come-back-after-a-failover.toml");
    let o = world::run(&plan, plan.seed).unwrap();
    let w = &o.world;
    let history = w.history();
    let lost = w.lost_writes();
    let deletes: Vec<_> = lost.iter().filter(|l| l.kind == OpKind::Del).collect();
    assert!(deletes.len() > 50, "{}", deletes.len());
    for l in deletes {
        assert_eq!(w.names[l.node as usize], "master");
        assert!((20_000_000..50_000_000).contains(&l.acked_at), "{l:?}");
        let Seen::Write(tag) = l.found else {
            panic!("a lost DEL's key holds a written value: {l:?}")
        };
        let writer = history
            .iter()
            .find(|o| o.client == tag.client && o.seq == tag.seq)
            .unwrap();
        assert!(writer.completed.unwrap() < 20_000_000, "{writer:?}");
    }
}

/// A client keeps one request in flight: asked for 1,000 writes/s over a
/// 2 ms one-way latency (a 4 ms round trip), it can send only about 250/s,
/// and the summary says so, with the ticks its request in flight cost it.
/// At 100/s the same link keeps up and nothing is said.
#[test]
fn a_workload_that_cannot_reach_its_rate_is_named_in_the_summary() {
    let run = |rate: u32| {
        let s = Scenario::new("10s", "masters = 1")
            .network(r#"latency = "2ms""#)
            .workload(&format!(
                "target = \"master\", rate = {rate}, keys = 100, start = \"1s\", stop = \"9s\""
            ));
        let outcome = world::run(&s.plan(), 1).expect("runs");
        redsim::report::summary(&outcome)
    };
    let short = run(1_000);
    let line = short
        .lines()
        .find(|l| l.starts_with("rate: "))
        .unwrap_or_else(|| panic!("no rate line:\n{short}"));
    assert!(
        line.starts_with("rate: client-1 was asked for 1000/s and sent 2"),
        "{line}"
    );
    let sent: f64 = line
        .split("sent ")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|n| n.parse().ok())
        .expect("a rate");
    assert!((240.0..=251.0).contains(&sent), "{line}");
    assert!(line.contains("round trips: mean 4"), "{line}");
    assert!(!run(100).contains("rate: "));
}

/// A cluster client keeps one request in flight too: at 1,000 writes/s
/// over a 4 ms round trip it sends about 250/s, and the summary says so.
#[test]
fn a_cluster_workload_that_cannot_reach_its_rate_is_named_too() {
    let s = Scenario::new("16s", "cluster = true, masters = 3")
        .network(r#"latency = "2ms""#)
        .workload(r#"cluster = true, rate = 1000, keys = 100, start = "6s", stop = "14s""#);
    let outcome = world::run(&s.plan(), 1).expect("runs");
    let summary = redsim::report::summary(&outcome);
    let line = summary
        .lines()
        .find(|l| l.starts_with("rate: "))
        .unwrap_or_else(|| panic!("no rate line:\n{summary}"));
    assert!(
        line.starts_with("rate: client-1 was asked for 1000/s and sent 2"),
        "{line}"
    );
}

/// A client that finds the master through the Sentinels, and is backing
/// off after losing the old master when `+switch-master` moves it to the
/// new one, opens no second connection when its backoff ends: the new
/// master's CLIENT LIST shows the client's one connection.
#[test]
fn a_client_moved_by_switch_master_keeps_one_connection() {
    let (_, text) = super::common::bundled("scenarios/sentinel/master-crash-failover.toml");
    let listed = r#"
[[command]]
at = "59s"
node = "replica-1"
send = "CLIENT LIST"

[[command]]
at = "59s"
node = "replica-2"
send = "CLIENT LIST"
"#;
    let plan = redsim::scenario::parse("t.toml", &format!("{text}{listed}")).expect("valid");
    let w = world::run(&plan, plan.seed).expect("runs").world;
    let from_client: usize = w
        .exchanges()
        .iter()
        .filter_map(|x| {
            Some(redsim::proto::resp::shown(
                &x.command.argv,
                &x.reply.as_ref()?.1,
            ))
        })
        .map(|list| list.matches("addr=10.0.1.1:").count())
        .sum();
    assert_eq!(from_client, 1);
}
