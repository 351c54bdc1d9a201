//! The numbers the plots draw, from a run: each operation's latency and
//! outcome, latency quantiles and throughput per bucket of time, the fault
//! windows and the failover's milestones. Pure functions of their inputs,
//! tested on hand-built histories.

use crate::check::timeline::FailoverTimes;
use crate::history::{History, OpKind, Outcome};
use crate::scenario::liveness::{Effect, Liveness};
use crate::scenario::{Fault, Plan};
use crate::time::Micros;

/// How an operation ended, as the plots colour it (Jepsen's ok, fail,
/// info, and the acknowledged writes the final state lost).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Ok,
    /// An error reply: the operation did not happen.
    Error,
    /// A timeout or a dropped connection: it may or may not have happened.
    Indeterminate,
    /// Acknowledged, then missing from the final state.
    Lost,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::Ok, Class::Error, Class::Indeterminate, Class::Lost];

    pub fn label(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::Error => "error",
            Class::Indeterminate => "timeout or connection lost",
            Class::Lost => "acknowledged, then lost",
        }
    }
}

/// One completed operation: when it was sent, how long its answer took,
/// how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    pub invoked: Micros,
    pub latency: Micros,
    pub class: Class,
}

/// The completed operations of `ops` (PUBLISH and those still pending at
/// the end left out), with `lost` (client, seq) pairs classed as lost.
pub fn points(ops: &History, lost: &[(u32, u32)]) -> Vec<Point> {
    let mut lost: Vec<(u32, u32)> = lost.to_vec();
    lost.sort_unstable();
    ops.iter()
        .filter(|o| o.kind != OpKind::Publish)
        .filter_map(|o| {
            let done = o.completed?;
            let class = match o.outcome {
                Outcome::Pending => return None,
                Outcome::Ok if lost.binary_search(&(o.client, o.seq)).is_ok() => Class::Lost,
                Outcome::Ok => Class::Ok,
                Outcome::Error(_) => Class::Error,
                Outcome::Timeout | Outcome::ConnectionLost => Class::Indeterminate,
            };
            Some(Point {
                invoked: o.invoked,
                latency: done.saturating_sub(o.invoked),
                class,
            })
        })
        .collect()
}

/// The `q`-quantile of sorted values by the nearest-rank rule: the
/// smallest value with at least `q` of them at or below it.
pub fn nearest_rank(sorted: &[Micros], q: f64) -> Option<Micros> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Latency quantiles of one bucket: its start, then p50, p95, p99, max.
pub type Quantiles = (Micros, [Micros; 4]);

/// Per bucket of completion time (`[k·bucket, (k+1)·bucket)`), the
/// latency quantiles of the operations that succeeded in it (lost writes
/// included: the client saw them succeed); empty buckets left out.
pub fn quantiles(points: &[Point], bucket: Micros) -> Vec<Quantiles> {
    let bucket = bucket.max(1);
    let mut by: Vec<(Micros, Micros)> = points
        .iter()
        .filter(|p| matches!(p.class, Class::Ok | Class::Lost))
        .map(|p| ((p.invoked + p.latency) / bucket, p.latency))
        .collect();
    by.sort_unstable();
    by.chunk_by(|a, b| a.0 == b.0)
        .map(|chunk| {
            let lat: Vec<Micros> = chunk.iter().map(|&(_, l)| l).collect();
            let q = |q| nearest_rank(&lat, q).unwrap_or(0);
            (chunk[0].0 * bucket, [q(0.5), q(0.95), q(0.99), q(1.0)])
        })
        .collect()
}

/// Throughput of one bucket: its start, then operations per second that
/// succeeded, failed with an error, and ended indeterminate.
pub type Rate = (Micros, [f64; 3]);

/// Per bucket of completion time, every bucket from 0 to `end`:
/// operations per second by how they ended (lost writes count as ok: the
/// client saw them succeed).
pub fn throughput(points: &[Point], bucket: Micros, end: Micros) -> Vec<Rate> {
    let bucket = bucket.max(1);
    let n = end.div_ceil(bucket).max(1) as usize;
    let mut counts = vec![[0u64; 3]; n];
    for p in points {
        let k = (((p.invoked + p.latency) / bucket) as usize).min(n - 1);
        let c = match p.class {
            Class::Ok | Class::Lost => 0,
            Class::Error => 1,
            Class::Indeterminate => 2,
        };
        counts[k][c] += 1;
    }
    let per_sec = 1e6 / bucket as f64;
    counts
        .iter()
        .enumerate()
        .map(|(k, c)| (k as Micros * bucket, c.map(|x| x as f64 * per_sec)))
        .collect()
}

/// A bucket for a run of `duration`: 1 s, or longer for long runs so that
/// a plot has at most about 300 of them.
pub fn bucket_for(duration: Micros) -> Micros {
    let secs = duration.div_ceil(300 * 1_000_000).max(1);
    secs * 1_000_000
}

/// A span of time a fault holds (a process down or stopped, the network
/// partitioned, a host failing calls), or an instant (`from == to`) for a
/// fault that only happens (a clock jump, a REPLICAOF, a failover asked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub from: Micros,
    pub to: Micros,
    pub label: String,
}

/// The plan's faults as spans, ending at the fault that undoes each (or at
/// `end`), in the order they start.
pub fn fault_spans(plan: &Plan, end: Micros) -> Vec<Span> {
    let mut faults: Vec<(usize, &(Micros, Fault))> = plan.faults.iter().enumerate().collect();
    faults.sort_by_key(|(i, (t, _))| (*t, *i));
    let name = |n: usize| plan.nodes.get(n).map_or("?", |p| p.name.as_str());
    let mut spans: Vec<Span> = Vec::new();
    // Open spans: (node, or None for the network) → index in `spans`.
    let mut open: Vec<(Option<usize>, usize)> = Vec::new();
    let close = |spans: &mut Vec<Span>, open: &mut Vec<(Option<usize>, usize)>, key, t| {
        open.retain(|&(k, i)| {
            if k == key {
                spans[i].to = t;
                false
            } else {
                true
            }
        });
    };
    for (_, (t, f)) in faults {
        let t = *t;
        match (f.effect(), f) {
            (_, Fault::Host { node, length, .. }) => spans.push(Span {
                from: t,
                to: (t + length).min(end),
                label: format!("{} {}", f.name(), name(*node)),
            }),
            (Effect::Process { node, to, .. }, _) => {
                close(&mut spans, &mut open, Some(node), t);
                if to != Liveness::Running {
                    open.push((Some(node), spans.len()));
                    spans.push(Span {
                        from: t,
                        to: end,
                        label: format!("{} {}", f.name(), name(node)),
                    });
                }
            }
            (Effect::Partition, _) => {
                if !open.iter().any(|&(k, _)| k.is_none()) {
                    open.push((None, spans.len()));
                    spans.push(Span {
                        from: t,
                        to: end,
                        label: f.name().to_string(),
                    });
                }
            }
            (Effect::Heal, _) => close(&mut spans, &mut open, None, t),
            _ if f.added_by_parser() => {}
            _ => spans.push(Span {
                from: t,
                to: t,
                label: f.name().to_string(),
            }),
        }
    }
    spans
}

/// The failover's milestones after the first fault, labelled as Redis
/// names them, in time order.
pub fn milestones(t: &FailoverTimes) -> Vec<(Micros, &'static str)> {
    let mut out: Vec<(Micros, &'static str)> = [
        (t.odown, "+odown"),
        (t.elected, "elected"),
        (t.switch_master, "+switch-master"),
        (t.pfail, "PFAIL"),
        (t.fail, "FAIL"),
        (t.election_won, "election won"),
    ]
    .into_iter()
    .filter_map(|(at, l)| Some((at?, l)))
    .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Op;

    fn op(client: u32, seq: u32, invoked: Micros, done: Option<Micros>, outcome: Outcome) -> Op {
        let mut o = Op::pending(client, seq, OpKind::Set, "k".into(), 0, invoked);
        o.completed = done;
        o.outcome = outcome;
        o
    }

    fn p(invoked: Micros, latency: Micros, class: Class) -> Point {
        Point {
            invoked,
            latency,
            class,
        }
    }

    #[test]
    fn each_outcome_gets_its_class_and_lost_writes_theirs() {
        let ops = [
            op(1, 1, 100, Some(400), Outcome::Ok),
            op(1, 2, 500, Some(900), Outcome::Ok),
            op(1, 3, 1000, Some(1200), Outcome::Error("READONLY".into())),
            op(2, 1, 1000, Some(3000), Outcome::Timeout),
            op(2, 2, 3000, Some(3100), Outcome::ConnectionLost),
            op(2, 3, 3100, None, Outcome::Pending),
        ];
        let refs: Vec<&Op> = ops.iter().collect();
        assert_eq!(
            points(&History::of(&refs), &[(1, 2)]),
            [
                p(100, 300, Class::Ok),
                p(500, 400, Class::Lost),
                p(1000, 200, Class::Error),
                p(1000, 2000, Class::Indeterminate),
                p(3000, 100, Class::Indeterminate),
            ]
        );
    }

    #[test]
    fn nearest_rank_quantiles_by_hand() {
        let v: Vec<Micros> = (1..=10).map(|x| x * 10).collect();
        // p50 of ten: rank ceil(5) = 5th, 50; p95: ceil(9.5) = 10th, 100;
        // p10: 1st; p0 clamps to the 1st.
        assert_eq!(nearest_rank(&v, 0.5), Some(50));
        assert_eq!(nearest_rank(&v, 0.95), Some(100));
        assert_eq!(nearest_rank(&v, 0.1), Some(10));
        assert_eq!(nearest_rank(&v, 0.0), Some(10));
        assert_eq!(nearest_rank(&[7], 0.99), Some(7));
        assert_eq!(nearest_rank(&[], 0.5), None);
    }

    #[test]
    fn quantiles_per_bucket_of_completion_time() {
        // Bucket 0 (completed before 1000): latencies 100, 200, 300, 400
        // (one of them a lost write, which the client saw succeed); the
        // error is left out. Bucket 2: one of 50. Bucket 1 is empty.
        let pts = [
            p(0, 100, Class::Ok),
            p(100, 200, Class::Ok),
            p(200, 300, Class::Lost),
            p(300, 400, Class::Ok),
            p(400, 5, Class::Error),
            p(2100, 50, Class::Ok),
        ];
        assert_eq!(
            quantiles(&pts, 1000),
            [(0, [200, 400, 400, 400]), (2000, [50, 50, 50, 50])]
        );
    }

    #[test]
    fn throughput_counts_every_bucket_per_second() {
        let pts = [
            p(0, 100, Class::Ok),
            p(100, 100, Class::Lost),
            p(600, 500, Class::Error),
            p(1500, 600, Class::Indeterminate),
            // Completes after the end: counted in the last bucket.
            p(2500, 900, Class::Ok),
        ];
        // Buckets of 1 ms: 1000 operations a second per operation.
        assert_eq!(
            throughput(&pts, 1000, 3000),
            [
                (0, [2000.0, 0.0, 0.0]),
                (1000, [0.0, 1000.0, 0.0]),
                (2000, [1000.0, 0.0, 1000.0]),
            ]
        );
    }

    #[test]
    fn a_bucket_keeps_a_plot_under_300_of_them() {
        assert_eq!(bucket_for(60_000_000), 1_000_000);
        assert_eq!(bucket_for(300_000_000), 1_000_000);
        assert_eq!(bucket_for(3_600_000_000), 12_000_000);
    }

    #[test]
    fn faults_become_spans_that_end_where_they_are_undone() {
        let text = "name = \"t\"\nduration = \"60s\"\n[topology]\nmasters = 1\nreplicas = 1\n\
                    [[fault]]\nat = \"5s\"\nkill = \"master\"\n[[fault]]\nat = \"20s\"\nrestart = \"master\"\n\
                    [[fault]]\nat = \"10s\"\npartition = [[\"master\"], [\"replica-1\"]]\n\
                    [[fault]]\nat = \"12s\"\npause = \"replica-1\"\n\
                    [[fault]]\nat = \"30s\"\nheal = true\n\
                    [[fault]]\nat = \"40s\"\nreplicaof = { node = \"replica-1\", master = \"no one\" }\n";
        let plan = crate::scenario::parse("t.toml", text).expect("valid");
        let s = |from: u64, to: u64, label: &str| Span {
            from: from * 1_000_000,
            to: to * 1_000_000,
            label: label.into(),
        };
        assert_eq!(
            fault_spans(&plan, 60_000_000),
            [
                s(5, 20, "kill master"),
                s(10, 30, "partition"),
                // Never resumed: held to the end.
                s(12, 60, "pause replica-1"),
                s(40, 40, "replicaof"),
            ]
        );
    }

    #[test]
    fn milestones_in_time_order() {
        let t = FailoverTimes {
            fault: Some(1),
            odown: Some(30),
            elected: Some(40),
            switch_master: Some(50),
            ..FailoverTimes::default()
        };
        assert_eq!(
            milestones(&t),
            [(30, "+odown"), (40, "elected"), (50, "+switch-master")]
        );
    }
}
