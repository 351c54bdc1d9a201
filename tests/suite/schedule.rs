//! Random fault schedules shared by the property tests (`properties` for
//! replication, `sentinel` for Sentinel): the scenario's own [`Fault`]s,
//! written as scenario TOML over a list of node names, leaving out the
//! faults that would change nothing (as the fuzzer leaves them out); and
//! the running of the properties on a fixed case.

use std::fmt;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError};
use redsim::scenario::{self, Fault, Plan};
use redsim::sim::net::LinkParams;
use redsim::time::{ms, parse_size};

/// Appends `faults` (at times in ms, in the order given) as `[[fault]]`
/// tables, written by the scenario format's own writer; node numbers index
/// `nodes`. Scenario files refuse faults that would change nothing (a
/// restart of a running process, a resume of one not stopped, a heal with
/// no partition): those are left out, as the fuzzer does.
pub fn write_faults(s: &mut String, faults: &[(u64, Fault)], nodes: &[&str]) {
    let mut tracker = scenario::liveness::Tracker::new(nodes.len());
    for (at, f) in faults {
        if tracker.apply(f).is_err() {
            continue;
        }
        let mut doc = toml::Table::new();
        let table = toml::Value::Table(f.table(ms(*at), nodes));
        doc.insert("fault".into(), toml::Value::Array(vec![table]));
        s.push('\n');
        s.push_str(&toml::to_string(&doc).expect("a fault is a TOML table"));
    }
}

/// `cases` cases (or `PROPTEST_CASES`) drawn from a fixed seed (or
/// `PROPTEST_RNG_SEED`), so a test run is the same on every machine; no
/// regression files: failing schedules are kept as fixed cases in the test
/// files instead. New schedules are the fuzzer's job.
pub fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x7265_6473_696d);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}

/// A clock jump of `node` by `by_ms` milliseconds (either way).
pub fn clock_jump(node: usize, by_ms: i64) -> Fault {
    Fault::ClockJump {
        node,
        by: by_ms * 1000,
    }
}

/// A link change from one of `nodes` nodes to another (or itself): a
/// latency of up to 200 ms, maybe a jitter of up to 50 ms, maybe a bandwidth
/// cap, up to 30% loss, one way or both.
pub fn link(nodes: usize) -> impl Strategy<Value = Fault> {
    (
        0..nodes,
        0..nodes,
        0u64..=200,
        prop::option::of(0u64..=50),
        prop::option::of(prop::sample::select(vec!["64kb", "1mb", "10mb"])),
        0u32..=30,
        any::<bool>(),
    )
        .prop_map(
            |(from, to, latency_ms, jitter_ms, bandwidth, loss_pct, both_ways)| {
                let params = LinkParams {
                    latency: ms(latency_ms),
                    jitter: ms(jitter_ms.unwrap_or(0)),
                    bandwidth: bandwidth.map_or(0, |b| parse_size(b).expect("a size")),
                    loss: f64::from(loss_pct) / 100.0,
                };
                Fault::Link {
                    from,
                    to,
                    params,
                    both_ways,
                }
            },
        )
}

/// Two non-empty disjoint groups of `nodes` nodes; nodes in neither stay
/// reachable by all.
pub fn partition(nodes: usize) -> impl Strategy<Value = Vec<Vec<usize>>> {
    // Per node: 0 = first group, 1 = second group, 2 = unlisted.
    prop::collection::vec(0u8..3, nodes).prop_filter_map("two non-empty groups", move |side| {
        let a: Vec<usize> = (0..nodes).filter(|&i| side[i] == 0).collect();
        let b: Vec<usize> = (0..nodes).filter(|&i| side[i] == 1).collect();
        (!a.is_empty() && !b.is_empty()).then(|| vec![a, b])
    })
}

/// A generated scenario's text parsed as `file`; a scenario that does not
/// parse fails the test with its text.
pub fn parse_generated(file: &str, text: &str) -> Plan {
    match scenario::parse(file, text) {
        Ok(plan) => plan,
        Err(e) => panic!("generated scenario does not parse: {e:?}\n{text}"),
    }
}

/// A property: its test's name and the check it makes on a scenario.
pub type Property = (&'static str, fn(&Plan) -> Result<(), TestCaseError>);

/// Every property on `plan`, a fixed case; a failure names the property
/// and prints the scenario.
pub fn check_each(plan: &Plan, scenario: &dyn fmt::Debug, properties: &[Property]) {
    for (name, check) in properties {
        if let Err(e) = check(plan) {
            panic!("{name}: {e}\n{scenario:?}");
        }
    }
}
