//! Whole-simulator benchmarks: a scenario parsed once, then run end to end
//! (`world::run`) per iteration.
//!
//! Throughput is reported in simulated events (`kernel.events_processed`),
//! measured once by a setup run; the run is deterministic for a given seed,
//! so every iteration processes the same number of events.
//!
//! Run with `cargo bench --bench replication`.
use redsim::check::RunView as _;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redsim::redis::info;
use redsim::scenario::{self, Plan};
use redsim::world::{self, World};

/// 1 master, 2 replicas, one client writing 1,000 SETs/s for 60 s (see
/// [`redsim::bench::STEADY_REPLICATION`]).
use redsim::bench::STEADY_REPLICATION as STEADY;

const SEED: u64 = 1;

/// One full run; returns the world at the end.
fn run(plan: &Plan) -> World {
    world::run(plan, SEED).expect("the run finishes").world
}

fn acked_writes(w: &World) -> usize {
    w.history()
        .iter()
        .filter(|o| o.kind.is_write() && o.outcome.is_ok())
        .count()
}

fn events_processed(w: &World) -> u64 {
    w.events_processed()
}

fn steady(c: &mut Criterion) {
    // As the binary does, so a sweep's runs reuse memory.
    redsim::malloc::keep_freed_memory();
    let plan = scenario::parse("bench/steady-replication.toml", STEADY).expect("valid scenario");

    // Setup run: count the events of one run and check the scenario does
    // what it says (so the benchmark does not silently time a broken run).
    let w = run(&plan);
    let events = events_processed(&w);
    let acked = acked_writes(&w);
    assert!(
        acked >= 59_000,
        "expected ~60,000 acknowledged writes, got {acked}"
    );
    for r in 1..=2 {
        let status = w
            .info(r)
            .and_then(|i| info::field(&i, "master_link_status").map(str::to_string));
        assert_eq!(status.as_deref(), Some("up"), "replica-{r} link");
    }
    eprintln!("steady-replication: {events} events per 60-s simulated run, {acked} acked writes");
    drop(w);

    let mut g = c.benchmark_group("replication");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(events));
    g.bench_function("steady_1000wps_2replicas_60s", |b| {
        b.iter(|| events_processed(&run(black_box(&plan))))
    });
    g.finish();
}

fn backlog_too_small(c: &mut Criterion) {
    // As the binary does, so a sweep's runs reuse memory.
    redsim::malloc::keep_freed_memory();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/replication/backlog-too-small-full-resync.toml");
    let plan = scenario::load(&path).expect("valid scenario");

    let out = world::run(&plan, plan.seed).expect("the run finishes");
    let failed: Vec<_> = out.verdicts.iter().filter(|v| !v.holds).collect();
    assert!(
        failed.is_empty(),
        "scenario expectations fail: {:?}",
        failed
            .iter()
            .map(|v| (&v.description, &v.observed))
            .collect::<Vec<_>>()
    );
    let events = events_processed(&out.world);
    eprintln!(
        "backlog-too-small-full-resync: {events} events per {}-s simulated run",
        plan.duration / 1_000_000
    );
    drop(out);

    let mut g = c.benchmark_group("replication");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(events));
    g.bench_function("backlog_too_small_full_resync", |b| {
        b.iter(|| events_processed(&world::run(black_box(&plan), plan.seed).unwrap().world))
    });
    g.finish();
}

criterion_group!(benches, steady, backlog_too_small);
criterion_main!(benches);
