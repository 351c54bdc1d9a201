//! The canonical Sentinel failover: 1 master, 2 replicas, 3 Sentinels, a
//! Sentinel-aware client at 100 writes/s, the master killed at 20 s, 60 s of
//! simulated time. Throughput is simulated events per second; the time per
//! run gives the seeds a sweep can run per minute and core.
//!
//! Run with `cargo bench --bench sentinel`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redsim::scenario;
use redsim::world;

use redsim::bench::SENTINEL_FAILOVER as FAILOVER;

fn failover(c: &mut Criterion) {
    // As the binary does, so a sweep's runs reuse memory.
    redsim::malloc::keep_freed_memory();
    let plan = scenario::parse("bench/sentinel-failover.toml", FAILOVER).expect("valid scenario");
    let w = world::run(&plan, 1).expect("the run finishes").world;
    let switched = w.trace().named("+switch-master").count();
    assert_eq!(
        switched, 3,
        "every Sentinel switches to the promoted replica"
    );
    let events = w.events_processed();
    eprintln!("sentinel-failover: {events} events per 60-s simulated run");
    drop(w);

    let mut g = c.benchmark_group("sentinel");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(events));
    // A different seed per iteration, as a sweep would run them.
    let mut seed = 0u64;
    g.bench_function("failover_100wps_60s", |b| {
        b.iter(|| {
            seed += 1;
            world::run(black_box(&plan), seed)
                .expect("runs")
                .world
                .sim
                .kernel
                .events_processed
        })
    });
    g.finish();
}

criterion_group!(benches, failover);
criterion_main!(benches);
