//! A workload's connections and pipelines: how many requests it keeps in
//! flight, and what that does to the rate it reaches, the order its replies
//! are matched in, its timeouts and its failovers.

use redsim::check::RunView as _;
use redsim::history::{Op, OpKind, Outcome};
use redsim::world;

use super::common::{Scenario, named_replies, reply};

/// 1,000 operations/s from 1 s to 9 s over a 4 ms round trip, with
/// `settings` added to the workload: the history and the summary.
fn over_a_slow_link(settings: &str) -> (Vec<Op>, String) {
    let s = Scenario::new("10s", "masters = 1")
        .network(r#"latency = "2ms""#)
        .workload(&format!(
            r#"target = "master", rate = 1000, keys = 100, reads = 0.5, start = "1s", stop = "9s"{settings}"#
        ));
    let outcome = world::run(&s.plan(), 1).expect("runs");
    let ops = outcome.world.history().to_vec();
    (ops, redsim::report::summary(&outcome))
}

fn rate_line(summary: &str) -> Option<&str> {
    summary.lines().find(|l| l.starts_with("rate: "))
}

/// One request in flight covers 4 ms, a quarter of the ticks at 1,000/s:
/// four connections, or a pipeline of four, cover all of them, and the
/// summary says nothing; two connections reach half, and the summary says
/// that both were busy.
#[test]
fn connections_and_pipelines_reach_the_asked_rate() {
    let (one, summary) = over_a_slow_link("");
    assert!((1_900..=2_010).contains(&one.len()), "{}", one.len());
    let line = rate_line(&summary).expect("a rate line");
    assert!(
        line.ends_with("; more `connections` or `pipeline` would send more"),
        "{line}"
    );
    for settings in [", connections = 4", ", pipeline = 4"] {
        let (ops, summary) = over_a_slow_link(settings);
        // 8 s at 1,000/s: every tick sent one, and all were answered.
        assert!(
            (7_990..=8_001).contains(&ops.len()),
            "{settings}: {}",
            ops.len()
        );
        assert!(ops.iter().all(|o| o.outcome.is_ok()), "{settings}");
        assert_eq!(rate_line(&summary), None, "{settings}:\n{summary}");
    }
    let (two, summary) = over_a_slow_link(", connections = 2");
    assert!((3_900..=4_010).contains(&two.len()), "{}", two.len());
    let line = rate_line(&summary).expect("a rate line");
    assert!(
        line.contains(
            "ticks found all 2 requests it may have in flight (connections x pipeline) unanswered"
        ),
        "{line}"
    );
    assert!(line.ends_with("would send more"), "{line}");
}

/// Replies on a pipelined connection answer its requests in the order
/// sent: each operation ends in the order it began, every GET gets a
/// value or nil and no SET does, and nothing read is stale.
#[test]
fn pipelined_replies_are_matched_in_order() {
    let (ops, _) = over_a_slow_link(", pipeline = 8");
    let mut ops: Vec<&Op> = ops.iter().collect();
    ops.sort_by_key(|o| o.seq);
    for pair in ops.windows(2) {
        assert!(pair[0].completed <= pair[1].completed, "{pair:?}");
    }
    for o in &ops {
        assert_eq!(o.read.is_some(), o.kind == OpKind::Get, "{o:?}");
        // Four requests in flight at 1,000/s over 4 ms: none waits behind
        // the others for long.
        let trip = o.completed.unwrap() - o.invoked;
        assert!((4_000..4_100).contains(&trip), "{o:?}");
    }
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .network(r#"latency = "2ms""#)
        .workload(r#"target = "master", rate = 1000, keys = 5, reads = 0.5, pipeline = 8"#);
    let w = world::run(&s.plan(), 1).expect("runs").world;
    assert!(redsim::check::stale::stale_reads(&w.history()).is_empty());
    assert!(w.lost_writes().is_empty());
}

/// A stalled server holds every request pipelined to it. The oldest one
/// times out after `timeout`, and the client drops the connection with the
/// others on it: they all end as timed out at that instant, none
/// acknowledged.
#[test]
fn a_stalled_pipeline_times_out_together() {
    let s = Scenario::new("10s", "masters = 1")
        .network(r#"latency = "2ms""#)
        .workload(r#"target = "master", rate = 1000, keys = 100, pipeline = 4, timeout = "1s""#)
        .fault("5s", r#"pause = "master""#)
        .fault("8s", r#"resume = "master""#);
    let w = world::run(&s.plan(), 1).expect("runs").world;
    let history = w.history().to_vec();
    let timed_out: Vec<&Op> = history
        .iter()
        .filter(|o| o.outcome == Outcome::Timeout)
        .collect();
    let first = timed_out.first().expect("timeouts");
    let together: Vec<&&Op> = timed_out
        .iter()
        .filter(|o| o.completed == first.completed)
        .collect();
    // The four in flight when the master stopped.
    assert_eq!(together.len(), 4, "{together:?}");
    let oldest = together.iter().map(|o| o.invoked).min().unwrap();
    assert_eq!(first.completed, Some(oldest + 1_000_000));
    // Sent at most a one-way latency before the pause, so held by it.
    assert!((4_998_000..5_010_000).contains(&oldest), "{oldest}");
    // Until the master resumes, nothing more is acknowledged.
    assert!(
        history
            .iter()
            .filter(|o| o.outcome.is_ok())
            .all(|o| o.completed < Some(5_004_000) || o.completed >= Some(8_000_000)),
        "an acknowledgement from the paused master"
    );
}

/// With three connections found through the Sentinels, every one moves to
/// the promoted replica after the failover: its CLIENT LIST shows the
/// client's three connections, and no operation started well after the
/// failover goes to the old master.
#[test]
fn every_connection_follows_a_failover() {
    let s = Scenario::new("40s", "masters = 1, replicas = 2, sentinels = 3")
        .sentinel("quorum = 2, down-after-milliseconds = 2000")
        .workload(r#"sentinel = true, rate = 100, keys = 50, connections = 3"#)
        .fault("5s", r#"kill = "master""#)
        .command("39s", "replica-1", "CLIENT LIST", "r1")
        .command("39s", "replica-2", "CLIENT LIST", "r2");
    let (replies, w) = named_replies(&s);
    let promoted = w
        .history()
        .to_vec()
        .into_iter()
        .rev()
        .find(|o| o.outcome.is_ok())
        .map(|o| o.node as usize)
        .expect("acknowledged operations");
    let list = reply(
        &replies,
        if w.names[promoted] == "replica-1" {
            "r1"
        } else {
            "r2"
        },
    );
    let from_client = list
        .lines()
        .filter(|l| l.contains("addr=10.0.1.1:"))
        .count();
    assert_eq!(from_client, 3, "{list}");
    assert!(
        w.history()
            .iter()
            .filter(|o| o.invoked > 20_000_000)
            .all(|o| o.node as usize == promoted && o.outcome.is_ok())
    );
}

#[test]
fn connections_and_pipeline_are_checked_where_they_are_written() {
    let w = |settings: &str| {
        Scenario::new("5s", "masters = 1")
            .workload(&format!(r#"target = "master", rate = 10, {settings}"#))
            .error()
    };
    let e = w("connections = 0");
    assert!(
        e.contains("connections = 0 is out of range: 1 to 1000"),
        "{e}"
    );
    let e = w("pipeline = 20000");
    assert!(
        e.contains("pipeline = 20000 is out of range: 1 to 10000"),
        "{e}"
    );
    let e = w("pipelines = 2");
    assert!(e.contains("did you mean `pipeline`?"), "{e}");
    assert!(e.starts_with("test.toml:"), "{e}");
    let e = Scenario::new("5s", "cluster = true, masters = 3")
        .workload("cluster = true, rate = 10, pipeline = 2")
        .error();
    assert!(
        e.contains("a cluster client keeps one connection per node"),
        "{e}"
    );
}
