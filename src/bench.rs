//! `redsim bench`: the canonical runs measured on this machine, each beside
//! the bare event loop in the same process, so the figure that travels is
//! a ratio (the simulator's events per second over the bare loop's) rather
//! than a speed that only holds on one machine. The criterion benches under
//! `benches/` use the same scenarios and loop.
//!
//! Wall time is read here, outside any run: it measures runs, it never
//! enters one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use crate::scenario::{self, Plan};
use crate::sim::SimError;

/// The canonical Sentinel failover: 1 master, 2 replicas, 3 Sentinels, a
/// Sentinel-aware client at 100 writes/s, the master killed at 20 s, 60 s
/// of simulated time.
pub const SENTINEL_FAILOVER: &str = r#"
name = "bench/sentinel-failover"
seed = 1
duration = "60s"

[topology]
masters = 1
replicas = 2
sentinels = 3

[sentinel]
quorum = 2
down-after-milliseconds = 5000
failover-timeout = 60000

[[workload]]
sentinel = true
rate = 100

[[fault]]
at = "20s"
kill = "master"
"#;

/// The canonical Redis Cluster failover: 3 masters with one replica each,
/// cluster-node-timeout 5000 ms, a cluster-aware client at 100 writes/s, a
/// master killed at 20 s, 60 s of simulated time.
pub const CLUSTER_FAILOVER: &str = r#"
name = "bench/cluster-failover"
seed = 1
duration = "60s"

[topology]
cluster = true
masters = 3
replicas = 1

[redis]
cluster-node-timeout = 5000

[[workload]]
cluster = true
start = "6s"
rate = 100
keys = 10000

[[fault]]
at = "20s"
kill = "master-2"
"#;

/// Steady replication: 1 master, 2 replicas, one client writing 1,000
/// SETs/s for 60 s over the default 1,000 keys; no faults and no
/// expectations.
pub const STEADY_REPLICATION: &str = r#"
name = "bench/steady-replication"
description = "1 master, 2 replicas, 1,000 writes/s for 60 s, no faults."
seed = 1
duration = "60s"

[topology]
masters = 1
replicas = 2

[[workload]]
target = "master"
rate = 1000
"#;

/// The canonical runs, by name.
pub const CANONICAL: [(&str, &str); 3] = [
    ("sentinel-failover", SENTINEL_FAILOVER),
    ("cluster-failover", CLUSTER_FAILOVER),
    ("steady-replication", STEADY_REPLICATION),
];

/// A canonical scenario's plan.
pub fn plan(name: &str, text: &str) -> Plan {
    scenario::parse(&format!("bench/{name}.toml"), text).expect("the canonical scenarios parse")
}

/// The bare loop's generator (xorshift64): cheap enough not to weigh on
/// the loop it drives.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// The bare event loop: a binary heap of `(Reverse(time), timer)` with
/// `timers` timers, each rescheduling itself 1 µs to 1 ms later (xorshift),
/// for `events` events; no payload, no dispatch, no network, so the ceiling
/// a heap-driven discrete-event simulator can reach. Returns a checksum so
/// nothing is optimised away.
pub fn bare_loop(timers: u64, events: u64) -> u64 {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut heap: BinaryHeap<(Reverse<u64>, u64)> = BinaryHeap::with_capacity(timers as usize);
    for id in 0..timers {
        heap.push((Reverse(rng.next_u64() % 1_000), id));
    }
    let mut sum = 0u64;
    for _ in 0..events {
        let Some((Reverse(now), id)) = heap.pop() else {
            break;
        };
        sum = sum.wrapping_add(now ^ id);
        heap.push((Reverse(now + 1 + rng.next_u64() % 1_000), id));
    }
    sum
}

/// One canonical run measured.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: &'static str,
    /// Runs done (seeds 1, 2, ...) and their events.
    pub runs: u64,
    pub events: u64,
    pub secs: f64,
    /// The bare loop's events per second, measured right after.
    pub bare_events_per_sec: f64,
}

impl Figure {
    pub fn ms_per_run(&self) -> f64 {
        self.secs * 1e3 / self.runs.max(1) as f64
    }

    pub fn seeds_per_min(&self) -> f64 {
        60.0 * self.runs as f64 / self.secs.max(1e-9)
    }

    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.secs.max(1e-9)
    }

    /// The simulator's events per second over the bare loop's.
    pub fn ratio(&self) -> f64 {
        self.events_per_sec() / self.bare_events_per_sec.max(1e-9)
    }
}

/// Timers of the bare loop: about the depth of a run's event queue.
const BARE_TIMERS: u64 = 1_024;

/// Runs `plan` at seeds 1, 2, ... for at least `budget` of wall time (and
/// at least one run), then the bare loop for as long; on one thread.
pub fn measure(name: &'static str, plan: &Plan, budget: Duration) -> Result<Figure, SimError> {
    let started = Instant::now();
    let (mut runs, mut events) = (0u64, 0u64);
    while runs == 0 || started.elapsed() < budget {
        runs += 1;
        let outcome = crate::world::run(plan, runs)?;
        events += outcome.world.events_processed();
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(Figure {
        name,
        runs,
        events,
        secs,
        bare_events_per_sec: bare_rate(budget),
    })
}

/// The bare loop's events per second over at least `budget`.
fn bare_rate(budget: Duration) -> f64 {
    const CHUNK: u64 = 1_000_000;
    let started = Instant::now();
    let mut done = 0u64;
    let mut sum = 0u64;
    while done == 0 || started.elapsed() < budget {
        sum = sum.wrapping_add(bare_loop(BARE_TIMERS, CHUNK));
        done += CHUNK;
    }
    std::hint::black_box(sum);
    done as f64 / started.elapsed().as_secs_f64().max(1e-9)
}
