//! Random fault schedules shared by the property tests (`properties` for
//! replication, `sentinel` for Sentinel): the library's [`Fault`]s,
//! written as scenario TOML over a list of node names, leaving out the
//! faults that would change nothing (as the fuzzer leaves them out).

use proptest::test_runner::Config;
use redsim::scenario::{self, Fault};
use redsim::sim::time::ms;

/// Appends `faults` (at times in ms, in the order given) as `[[fault]]`
/// tables; node numbers index `nodes`. Scenario files refuse faults that
/// would change nothing (a restart of a running process, a resume of one
/// not stopped, a heal with no partition): those are left out, as the
/// fuzzer does.
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

/// `cases` cases (or `PROPTEST_CASES`), and no regression files: failing
/// schedules are kept as fixed cases in the test files instead.
pub fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}
