//! Random fault schedules shared by the property tests (`properties` for
//! replication, `sentinel` for Sentinel): one `[[fault]]` vocabulary,
//! rendered as scenario TOML over a list of node names, leaving out the
//! faults that would change nothing (as the fuzzer leaves them out).

use std::fmt::Write as _;

use proptest::test_runner::Config;
use redsim::scenario::{self, Action};

/// One `[[fault]]` table. Node numbers index the caller's node names.
#[derive(Clone, Debug)]
pub enum Fault {
    Kill(usize),
    Crash(usize),
    Shutdown(usize),
    Restart(usize),
    Pause(usize),
    Resume(usize),
    Partition(Vec<Vec<usize>>),
    OneWay {
        from: Vec<usize>,
        to: Vec<usize>,
    },
    Heal,
    Link {
        from: usize,
        to: usize,
        latency_ms: u64,
        jitter_ms: Option<u64>,
        bandwidth: Option<&'static str>,
        loss_pct: u32,
        both_ways: bool,
    },
    ClockJump {
        node: usize,
        by_ms: i64,
    },
    ReplicaOf {
        node: usize,
        master: Option<usize>,
    },
}

impl Fault {
    /// The scenario action for the faults that start, stop or signal a
    /// process or change partitions (the ones that can change nothing).
    fn action(&self) -> Option<Action> {
        Some(match self {
            Fault::Kill(n) => Action::Kill(*n),
            Fault::Crash(n) => Action::Crash(*n),
            Fault::Shutdown(n) => Action::Shutdown(*n),
            Fault::Restart(n) => Action::Restart(*n),
            Fault::Pause(n) => Action::Pause(*n),
            Fault::Resume(n) => Action::Resume(*n),
            Fault::Partition(g) => Action::Partition(g.clone()),
            Fault::OneWay { from, to } => Action::PartitionOneWay {
                from: from.clone(),
                to: to.clone(),
            },
            Fault::Heal => Action::Heal,
            _ => return None,
        })
    }

    /// The table's fault key and value.
    fn write(&self, s: &mut String, nodes: &[&str]) {
        let group = |g: &[usize]| {
            let v: Vec<String> = g.iter().map(|&n| format!("\"{}\"", nodes[n])).collect();
            format!("[{}]", v.join(", "))
        };
        let _ = match self {
            Fault::Kill(n) => writeln!(s, "kill = \"{}\"", nodes[*n]),
            Fault::Crash(n) => writeln!(s, "crash = \"{}\"", nodes[*n]),
            Fault::Shutdown(n) => writeln!(s, "shutdown = \"{}\"", nodes[*n]),
            Fault::Restart(n) => writeln!(s, "restart = \"{}\"", nodes[*n]),
            Fault::Pause(n) => writeln!(s, "pause = \"{}\"", nodes[*n]),
            Fault::Resume(n) => writeln!(s, "resume = \"{}\"", nodes[*n]),
            Fault::Partition(groups) => {
                let g: Vec<String> = groups.iter().map(|g| group(g)).collect();
                writeln!(s, "partition = [{}]", g.join(", "))
            }
            Fault::OneWay { from, to } => writeln!(
                s,
                "partition-oneway = {{ from = {}, to = {} }}",
                group(from),
                group(to)
            ),
            Fault::Heal => writeln!(s, "heal = true"),
            Fault::Link {
                from,
                to,
                latency_ms,
                jitter_ms,
                bandwidth,
                loss_pct,
                both_ways,
            } => {
                let mut l = format!(
                    "from = \"{}\", to = \"{}\", latency = \"{latency_ms}ms\"",
                    nodes[*from], nodes[*to]
                );
                if let Some(j) = jitter_ms {
                    let _ = write!(l, ", jitter = \"{j}ms\"");
                }
                if let Some(b) = bandwidth {
                    let _ = write!(l, ", bandwidth = \"{b}\"");
                }
                let _ = write!(l, ", loss = {:.2}", f64::from(*loss_pct) / 100.0);
                if !both_ways {
                    l.push_str(", both-ways = false");
                }
                writeln!(s, "link = {{ {l} }}")
            }
            Fault::ClockJump { node, by_ms } => {
                let sign = if *by_ms < 0 { '-' } else { '+' };
                writeln!(
                    s,
                    "clock-jump = {{ node = \"{}\", by = \"{sign}{}ms\" }}",
                    nodes[*node],
                    by_ms.unsigned_abs()
                )
            }
            Fault::ReplicaOf { node, master } => writeln!(
                s,
                "replicaof = {{ node = \"{}\", master = \"{}\" }}",
                nodes[*node],
                master.map_or("no one", |m| nodes[m])
            ),
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
        if f.action().is_some_and(|a| tracker.apply(&a).is_err()) {
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
