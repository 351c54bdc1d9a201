//! The recorder and the page, on bundled scenarios.
use crate::check::RunView as _;

use super::*;
use crate::report::{Format, render_trace};

fn plan(path: &str) -> Plan {
    crate::scenario::load(std::path::Path::new(&format!(
        "{}/{path}",
        env!("CARGO_MANIFEST_DIR")
    )))
    .expect("a bundled scenario")
}

#[test]
fn recording_leaves_the_trace_unchanged() {
    for path in [
        "scenarios/sentinel/master-crash-failover.toml",
        "scenarios/sentinel/split-brain-partition-loses-writes.toml",
        "scenarios/replication/replica-paused-partial-resync.toml",
    ] {
        let p = plan(path);
        let plain = world::run(&p, p.seed).expect("runs");
        let mut opts = Options::new(p.seed);
        opts.sample_every = 37_000;
        let (recorded, _) = record(&p, &opts).expect("runs");
        assert_eq!(
            render_trace(&plain.world, Format::Jsonl, p.seed),
            render_trace(&recorded.world, Format::Jsonl, p.seed),
            "{path}"
        );
        assert_eq!(
            plain.world.events_processed(),
            recorded.world.events_processed()
        );
    }
}

/// Given the plan's first run (as `run --out` has it), the recording is
/// the one a fresh recording makes, page for page.
#[test]
fn a_recording_after_a_run_is_the_same_page() {
    let p = plan("scenarios/sentinel/master-crash-failover.toml");
    let opts = Options::new(p.seed);
    let (_, fresh) = record(&p, &opts).expect("runs");
    let first = world::run(&p, p.seed).expect("runs");
    let (_, after) = record_after(&p, &opts, &first).expect("runs");
    let window = spacetime::default_window(&fresh);
    assert_eq!(page::html(&fresh, window), page::html(&after, window));
}

#[test]
fn recorder_captures_the_failover() {
    let p = plan("scenarios/sentinel/master-crash-failover.toml");
    let (outcome, rec) = record(&p, &Options::new(p.seed)).expect("runs");
    assert_eq!(rec.summary.promoted.as_deref(), Some("replica-1"));
    assert_eq!(
        rec.summary.final_node,
        outcome
            .world
            .final_node()
            .map(|n| outcome.world.names[n].clone())
    );
    // The election's messages are kept one by one, with their fates.
    let votes: Vec<_> = rec
        .messages
        .iter()
        .filter(|m| m.kind == "is-master-down-by-addr" && m.note.contains("vote request"))
        .collect();
    assert!(!votes.is_empty());
    assert!(
        votes
            .iter()
            .all(|m| m.fate == "delivered" && m.arrived > Some(m.sent))
    );
    let promote = rec
        .messages
        .iter()
        .find(|m| m.kind == "SLAVEOF NO ONE")
        .expect("the promotion is recorded");
    assert_eq!(rec.nodes[promote.to as usize].name, "replica-1");
    // Messages to the killed master are not delivered.
    let master = 0;
    let kill = rec.summary.fault.expect("a fault");
    assert!(
        rec.messages
            .iter()
            .filter(|m| m.to == master && m.sent > kill + 1_000_000)
            .all(|m| m.fate != "delivered")
    );
    // The stream of writes is summed, not kept one by one.
    assert!(
        rec.messages
            .iter()
            .all(|m| m.kind != "SET" && m.kind != "stream")
    );
    let stream: u32 = rec
        .streams
        .iter()
        .filter(|s| s.kind == "stream")
        .map(|s| s.count)
        .sum();
    assert!(stream > 1000, "{stream}");
    // Samples: the master is down after the kill, replica-1 a master at the end.
    let state_at = |node: usize, t: Micros| {
        let mut f = std::collections::BTreeMap::new();
        for s in rec.samples[node].iter().take_while(|s| s.t <= t) {
            for (k, v) in &s.changed {
                match v {
                    Some(v) => f.insert(k.clone(), v.clone()),
                    None => f.remove(k),
                };
            }
        }
        f
    };
    assert_eq!(state_at(0, kill)["status"], "down");
    assert_eq!(state_at(1, rec.duration)["role"], "master");
    assert_eq!(state_at(1, kill - 1)["role"], "slave");
    let sentinel = rec.nodes.iter().position(|n| n.kind == "sentinel").unwrap();
    let s = state_at(sentinel, kill + 2_000_000);
    assert!(s.contains_key("timer:down-after"), "{s:?}");
    let deadline: Micros = s["timer:down-after"].parse().unwrap();
    assert!(
        deadline > kill && deadline <= kill + 6_100_000,
        "{deadline}"
    );
    assert_eq!(
        rec.client.lost.len(),
        outcome.world.lost_writes().len(),
        "lost writes"
    );
    // The client view's buckets add up to the history's outcomes.
    let acked = outcome
        .world
        .history()
        .iter()
        .filter(|o| o.kind.is_write() && o.outcome.is_ok())
        .count() as u32;
    assert!(acked > 0);
    assert_eq!(rec.summary.acked, acked);
    assert_eq!(rec.client.buckets.iter().map(|b| b.1).sum::<u32>(), acked);
    assert!(rec.client.buckets.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn page_is_self_contained_and_deterministic() {
    let p = plan("scenarios/sentinel/split-brain-partition-loses-writes.toml");
    let opts = Options::new(p.seed);
    let (_, rec) = record(&p, &opts).expect("runs");
    assert!(rec.summary.lost_writes > 0);
    assert!(!rec.network.is_empty(), "the partition is recorded");
    let window = spacetime::default_window(&rec);
    let html = page::html(&rec, window);
    assert!(!html.contains("http://") && !html.contains("https://"));
    // Nothing loaded from anywhere: no src or href attributes, no imports.
    assert!(!html.contains(" src=") && !html.contains(" href=") && !html.contains("@import"));
    assert!(!html.contains("{{"), "every placeholder is filled");
    assert!(html.contains("\"schema\":\"redsim-dashboard/3\""));
    assert!(html.contains("<svg class=\"spacetime\""));
    for plot in ["latency.svg", "latency-quantiles.svg", "throughput.svg"] {
        assert!(html.contains(&format!("<svg class=\"plot\" data-plot=\"{plot}\"")));
    }
    assert!(html.contains("id=\"lost-writes\"") && html.contains("id=\"promoted\""));
    // Same scenario and seed, same bytes.
    let (_, again) = record(&p, &opts).expect("runs");
    assert_eq!(html, page::html(&again, spacetime::default_window(&again)));
    // The standalone diagram is the embedded one, with its namespace and
    // without the player's cursor and row times.
    let svg = spacetime::svg(&rec, window, true);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let embedded = spacetime::svg(&rec, window, false);
    assert!(html.contains(&embedded));
    let strip = |s: &str| -> String {
        let s = s.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
        let s = match (s.find(" data-rows=\""), s.find("\">")) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &s[..a], &s[b + 1..]),
            _ => s,
        };
        match s.find("<line id=\"st-cursor\"") {
            Some(a) => format!("{}</svg>", &s[..a]),
            None => s,
        }
    };
    assert_eq!(strip(&svg), strip(&embedded));
}

#[test]
fn spacetime_window_surrounds_the_failover() {
    let p = plan("scenarios/sentinel/master-crash-failover.toml");
    let (_, rec) = record(&p, &Options::new(p.seed)).expect("runs");
    let (from, to) = spacetime::default_window(&rec);
    let s = &rec.summary;
    assert!(from < s.odown.unwrap() && s.switch_master.unwrap() < to);
    let svg = spacetime::svg(&rec, (from, to), true);
    assert!(svg.contains("+switch-master"));
    assert!(svg.contains("SLAVEOF NO ONE"));
    assert!(svg.contains("is-master-down-by-addr"));
}

/// In a cluster the window runs from the first PFAIL to the election won
/// (master-2 killed at 20 s; replica-2-1 wins at 28.08 s), and each node
/// knows its shard: master-2 and replica-2-1 are shard 1.
#[test]
fn cluster_window_follows_the_election_and_nodes_know_their_shard() {
    let p = plan("scenarios/cluster/master-killed-replica-promoted.toml");
    let (_, rec) = record(&p, &Options::new(p.seed)).expect("runs");
    let s = &rec.summary;
    assert!(s.cluster);
    let (pfail, won) = (s.pfail.unwrap(), s.election_won.unwrap());
    assert!(s.fault.unwrap() < pfail && pfail < s.fail.unwrap());
    assert!(s.fail.unwrap() < s.election.unwrap() && s.election.unwrap() < won);
    assert_eq!(
        spacetime::default_window(&rec),
        (pfail - 500_000, won + 500_000)
    );
    let shard = |name: &str| {
        rec.nodes
            .iter()
            .find(|n| n.name == name)
            .and_then(|n| n.shard)
    };
    assert_eq!(
        (shard("master-2"), shard("replica-2-1"), shard("client-1")),
        (Some(1), Some(1), None)
    );
    let svg = spacetime::svg(&rec, spacetime::default_window(&rec), true);
    assert!(
        svg.contains("Failover election won"),
        "the window shows the win"
    );
}

#[test]
fn messages_held_by_a_partition_arrive_after_the_heal() {
    let p = plan("scenarios/sentinel/split-brain-partition-loses-writes.toml");
    let (_, rec) = record(&p, &Options::new(p.seed)).expect("runs");
    let partition = rec.network.first().expect("a partition").t;
    let heal = rec
        .network
        .iter()
        .find(|n| n.blocked.is_empty())
        .expect("a heal")
        .t;
    let held: Vec<_> = rec.messages.iter().filter(|m| m.held).collect();
    assert!(!held.is_empty());
    for m in &held {
        assert!(m.sent >= partition && m.sent < heal, "{m:?}");
        // Delivered at a retransmission after the heal, or reset because
        // the connection closed meanwhile.
        let arrived = m.arrived.expect("every held message has a fate");
        assert!(arrived >= heal, "{m:?}");
        assert!(m.fate == "delivered" || m.fate == "reset", "{m:?}");
    }
    // Every blocked link in the recording is one the partition names.
    let names: Vec<&str> = rec.nodes.iter().map(|n| n.name.as_str()).collect();
    let blocked = &rec.network[0].blocked;
    assert!(blocked.iter().all(|&(a, b)| a != b));
    let master = names.iter().position(|&n| n == "master").unwrap() as u32;
    let replica = names.iter().position(|&n| n == "replica-1").unwrap() as u32;
    assert!(blocked.contains(&(master, replica)) && blocked.contains(&(replica, master)));
}

#[test]
fn control_messages_beyond_the_cap_are_counted_not_dropped() {
    let p = plan("scenarios/sentinel/master-crash-failover.toml");
    let (_, all) = record(&p, &Options::new(p.seed)).expect("runs");
    let mut opts = Options::new(p.seed);
    opts.message_cap = 100;
    let (_, capped) = record(&p, &opts).expect("runs");
    assert_eq!(all.messages_over_cap, 0);
    assert_eq!(capped.messages.len(), 100);
    assert_eq!(
        capped.messages_over_cap as usize,
        all.messages.len() - 100,
        "every control message is either kept or counted"
    );
    assert_eq!(capped.messages[..], all.messages[..100]);
    let total = |r: &Recording| r.streams.iter().map(|s| u64::from(s.count)).sum::<u64>();
    assert_eq!(total(&capped), total(&all) + capped.messages_over_cap);
}

/// The operator's redis-cli is a node of its own kind, and its fields say
/// what each session last sent and the first line of what came back.
#[test]
fn the_operator_shows_each_sessions_latest_line() {
    let text = r#"
name = "operator-fields"
duration = "3s"
[topology]
masters = 1
replicas = 0
[[command]]
at = "1s"
node = "master"
send = "SET k v"
[[command]]
at = "2s"
node = "master"
session = "other"
send = "GET k"
"#;
    let p = crate::scenario::parse("o.toml", text).unwrap();
    let (_, rec) = record(&p, &Options::new(p.seed)).expect("runs");
    let op = rec
        .nodes
        .iter()
        .position(|n| n.kind == "operator")
        .expect("the operator");
    let mut fields = std::collections::BTreeMap::new();
    for s in &rec.samples[op] {
        for (k, v) in &s.changed {
            fields.insert(k.clone(), v.clone());
        }
    }
    assert_eq!(fields["role"].as_deref(), Some("redis-cli"));
    assert_eq!(
        fields["session:redis-cli"].as_deref(),
        Some("master > SET k v: OK")
    );
    assert_eq!(
        fields["session:other"].as_deref(),
        Some("master > GET k: \"v\"")
    );
}
