//! Random fault schedules shared by the property tests (`properties` for
//! replication, `sentinel` for Sentinel): one `[[fault]]` vocabulary (the
//! scenario's own actions, and link changes), rendered as scenario TOML over
//! a list of node names, leaving out the faults that would change nothing
//! (as the fuzzer leaves them out); and the running of the properties on a
//! fixed case.

use std::fmt::{self, Write as _};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use redsim::scenario::{self, Action, Plan};

/// One `[[fault]]` table. Node numbers index the caller's node names.
#[derive(Clone, Debug)]
pub enum Fault {
    /// A scenario action: a process or partition fault, a clock jump or a
    /// `REPLICAOF` (clock jumps in whole milliseconds).
    Action(Action),
    Link(Link),
}

/// A `link` change, with the numbers as the schedule writes them.
#[derive(Clone, Debug)]
pub struct Link {
    from: usize,
    to: usize,
    latency_ms: u64,
    jitter_ms: Option<u64>,
    bandwidth: Option<&'static str>,
    loss_pct: u32,
    both_ways: bool,
}

impl From<Action> for Fault {
    fn from(a: Action) -> Self {
        Fault::Action(a)
    }
}

impl Fault {
    /// The table's fault key and value.
    fn write(&self, s: &mut String, nodes: &[&str]) {
        let group = |g: &[usize]| {
            let v: Vec<String> = g.iter().map(|&n| format!("\"{}\"", nodes[n])).collect();
            format!("[{}]", v.join(", "))
        };
        let _ = match self {
            Fault::Action(Action::Kill(n)) => writeln!(s, "kill = \"{}\"", nodes[*n]),
            Fault::Action(Action::Crash(n)) => writeln!(s, "crash = \"{}\"", nodes[*n]),
            Fault::Action(Action::Shutdown(n)) => writeln!(s, "shutdown = \"{}\"", nodes[*n]),
            Fault::Action(Action::Restart(n)) => writeln!(s, "restart = \"{}\"", nodes[*n]),
            Fault::Action(Action::Pause(n)) => writeln!(s, "pause = \"{}\"", nodes[*n]),
            Fault::Action(Action::Resume(n)) => writeln!(s, "resume = \"{}\"", nodes[*n]),
            Fault::Action(Action::Partition(groups)) => {
                let g: Vec<String> = groups.iter().map(|g| group(g)).collect();
                writeln!(s, "partition = [{}]", g.join(", "))
            }
            Fault::Action(Action::PartitionOneWay { from, to }) => writeln!(
                s,
                "partition-oneway = {{ from = {}, to = {} }}",
                group(from),
                group(to)
            ),
            Fault::Action(Action::Heal) => writeln!(s, "heal = true"),
            Fault::Action(Action::ClockJump { node, by }) => {
                let sign = if *by < 0 { '-' } else { '+' };
                writeln!(
                    s,
                    "clock-jump = {{ node = \"{}\", by = \"{sign}{}ms\" }}",
                    nodes[*node],
                    by.unsigned_abs() / 1000
                )
            }
            Fault::Action(Action::ReplicaOf { node, master }) => writeln!(
                s,
                "replicaof = {{ node = \"{}\", master = \"{}\" }}",
                nodes[*node],
                master.map_or("no one", |m| nodes[m])
            ),
            Fault::Action(other) => panic!("schedules draw no {other:?}"),
            Fault::Link(link) => {
                let mut l = format!(
                    "from = \"{}\", to = \"{}\", latency = \"{}ms\"",
                    nodes[link.from], nodes[link.to], link.latency_ms
                );
                if let Some(j) = link.jitter_ms {
                    let _ = write!(l, ", jitter = \"{j}ms\"");
                }
                if let Some(b) = link.bandwidth {
                    let _ = write!(l, ", bandwidth = \"{b}\"");
                }
                let _ = write!(l, ", loss = {:.2}", f64::from(link.loss_pct) / 100.0);
                if !link.both_ways {
                    l.push_str(", both-ways = false");
                }
                writeln!(s, "link = {{ {l} }}")
            }
        };
    }
}

/// Appends `faults` (in the order given) as `[[fault]]` tables. Scenario
/// files refuse faults that would change nothing (a restart of a running
/// process, a resume of one not stopped, a heal with no partition): those
/// are left out, as the fuzzer does.
pub fn write_faults(s: &mut String, faults: &[(u64, Fault)], nodes: &[&str]) {
    let mut tracker = scenario::liveness::Tracker::new(nodes.len());
    for (at, f) in faults {
        if let Fault::Action(a) = f
            && tracker.apply(a).is_err()
        {
            continue;
        }
        let _ = write!(s, "\n[[fault]]\nat = \"{at}ms\"\n");
        f.write(s, nodes);
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

/// A clock jump of `node` by `by_ms` milliseconds (either way).
pub fn clock_jump(node: usize, by_ms: i64) -> Fault {
    Action::ClockJump {
        node,
        by: by_ms * 1000,
    }
    .into()
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
                Fault::Link(Link {
                    from,
                    to,
                    latency_ms,
                    jitter_ms,
                    bandwidth,
                    loss_pct,
                    both_ways,
                })
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
