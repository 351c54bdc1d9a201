//! Whether a workload reached the rate it was asked for. A client keeps at
//! most connections x pipeline requests in flight (one by default), so when
//! the round trips outlast what those cover, a tick finds it busy and sends
//! nothing: the load the
//! deployment saw is lower than the scenario says, and a summary must say
//! so rather than let a reader take the asked rate for it.

use crate::history::{History, Ticks};
use crate::time::Micros;

/// A workload that lost ticks to its own request in flight.
#[derive(Clone, Debug, PartialEq)]
pub struct Shortfall {
    pub client: u32,
    pub asked: f64,
    /// Operations sent per second of its active window.
    pub reached: f64,
    pub ticks: Ticks,
    /// The mean and the longest time from sending an operation to its
    /// reply (a few long waits can hold most ticks).
    pub mean_round_trip: Option<Micros>,
    pub longest_round_trip: Option<Micros>,
}

/// A workload counts as short when more than this share of its ticks
/// found a request in flight.
pub const BUSY_SHARE: f64 = 0.1;

/// The workloads (client id, asked rate, ticks, active window in µs) whose
/// ticks found a request in flight more than [`BUSY_SHARE`] of the time,
/// with the rate they reached over `ops`.
pub fn shortfalls(workloads: &[(u32, f64, Ticks, Micros)], ops: &History) -> Vec<Shortfall> {
    workloads
        .iter()
        .filter(|(_, _, t, _)| t.total > 0 && t.busy as f64 > BUSY_SHARE * t.total as f64)
        .map(|&(client, asked, ticks, window)| {
            let (mut sent, mut answered, mut total, mut longest) = (0u64, 0u64, 0, None);
            for o in ops.select(|c| c == client).briefs() {
                sent += 1;
                if let Some(c) = o.completed {
                    let trip = c - o.invoked;
                    answered += 1;
                    total += trip;
                    longest = longest.max(Some(trip));
                }
            }
            Shortfall {
                client,
                asked,
                reached: sent as f64 * 1e6 / window.max(1) as f64,
                ticks,
                mean_round_trip: (answered > 0).then(|| total / answered),
                longest_round_trip: longest,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Op, OpKind, Outcome};

    fn op(client: u32, seq: u32, invoked: Micros, trip: Micros) -> Op {
        let mut o = Op::pending(client, seq, OpKind::Set, "k".into(), 0, invoked);
        o.completed = Some(invoked + trip);
        o.outcome = Outcome::Ok;
        o
    }

    /// Client 1 was asked for 1,000/s over 1 s but each round trip took
    /// 4 ms (one took 40 ms): of its 1,000 ticks, 750 found a request in
    /// flight and it sent 250 (250/s; mean round trip (249 × 4 + 40) / 250
    /// = 4.144 ms, the longest 40 ms). Client 2 was idle between its
    /// ticks and is not reported; neither is a client whose ticks found no
    /// connection (an outage is not a rate it could not reach).
    #[test]
    fn a_client_whose_ticks_found_a_request_in_flight_is_reported() {
        let ops: Vec<Op> = (0..250u32)
            .map(|i| {
                op(
                    1,
                    i + 1,
                    Micros::from(i) * 4_000,
                    if i == 7 { 40_000 } else { 4_000 },
                )
            })
            .chain((0..10u32).map(|i| op(2, i + 1, Micros::from(i) * 100_000, 500)))
            .collect();
        let refs = History::from_ops(ops.iter().cloned());
        let busy = Ticks {
            total: 1_000,
            busy: 750,
            unconnected: 0,
        };
        let idle = Ticks {
            total: 10,
            busy: 0,
            unconnected: 0,
        };
        let down = Ticks {
            total: 100,
            busy: 0,
            unconnected: 90,
        };
        let short = shortfalls(
            &[
                (1, 1_000.0, busy, 1_000_000),
                (2, 10.0, idle, 1_000_000),
                (3, 100.0, down, 1_000_000),
            ],
            &refs,
        );
        assert_eq!(short.len(), 1);
        let s = &short[0];
        assert_eq!((s.client, s.asked, s.reached), (1, 1_000.0, 250.0));
        assert_eq!(s.mean_round_trip, Some(4_144));
        assert_eq!(s.longest_round_trip, Some(40_000));
        // Exactly at the threshold is not short.
        let edge = Ticks {
            total: 10,
            busy: 1,
            unconnected: 0,
        };
        assert!(shortfalls(&[(1, 10.0, edge, 1_000_000)], &refs).is_empty());
    }
}
