//! The canonical Redis Cluster failover: 3 masters with one replica each,
//! cluster-node-timeout 5000 ms, a cluster-aware client at 100 writes/s, a
//! master killed at 20 s, 60 s of simulated time. Throughput is simulated
//! events per second; the time per run gives the seeds a sweep can run per
//! minute and core.
//!
//! Run with `cargo bench --bench cluster`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redsim::scenario;
use redsim::world;

use redsim::bench::CLUSTER_FAILOVER as FAILOVER;

fn failover(c: &mut Criterion) {
    // As the binary does, so a sweep's runs reuse memory.
    redsim::malloc::keep_freed_memory();
    let plan = scenario::parse("bench/cluster-failover.toml", FAILOVER).expect("valid scenario");
    let w = world::run(&plan, 1).expect("the run finishes").world;
    let won = w
        .sim
        .kernel
        .trace
        .named("Failover election won: I'm the new master.")
        .count();
    assert_eq!(won, 1, "the killed master's replica is promoted");
    let events = w.events_processed();
    eprintln!("cluster-failover: {events} events per 60-s simulated run");
    drop(w);

    let mut g = c.benchmark_group("cluster");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(events));
    // A different seed per iteration, as a sweep would run them.
    let mut seed = 0u64;
    g.bench_function("failover_3x1_100wps_60s", |b| {
        b.iter(|| {
            seed += 1;
            black_box(world::run(&plan, seed).expect("runs"))
        })
    });
    g.finish();
}

criterion_group!(benches, failover);
criterion_main!(benches);
