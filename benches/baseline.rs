//! The bare event loop, for comparison with the simulator: a binary heap of
//! `(Reverse(time), timer)` with N timers, each rescheduling itself at a
//! pseudo-random later time (xorshift64). No payload, no dispatch, no
//! network: this is the ceiling a heap-driven discrete-event simulator can
//! reach.
//!
//! Run with `cargo bench --bench baseline`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

const EVENTS: u64 = 1_000_000;

/// The bare loop `redsim bench` also runs, and its generator.
use redsim::bench::{XorShift, bare_loop as event_loop};

/// [`event_loop`] with a 120-byte payload in every entry (136 bytes in all:
/// time, sequence number and a 120-byte `Ev<Msg>`, as redsim's queue entries
/// were before they moved to a slab). The payload is never compared
/// (`(time, timer)` is unique); it only adds the cost of moving bigger
/// entries through the heap.
fn event_loop_136b(timers: u64, events: u64) -> u64 {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut heap: BinaryHeap<(Reverse<u64>, u64, [u64; 15])> =
        BinaryHeap::with_capacity(timers as usize);
    for id in 0..timers {
        heap.push((Reverse(rng.next_u64() % 1_000), id, [id; 15]));
    }
    let mut sum = 0u64;
    for _ in 0..events {
        let (Reverse(now), id, payload) = heap.pop().expect("timers never run out");
        sum = sum.wrapping_add(now ^ id ^ payload[14]);
        heap.push((Reverse(now + 1 + rng.next_u64() % 1_000), id, payload));
    }
    sum
}

fn baseline(c: &mut Criterion) {
    let mut g = c.benchmark_group("baseline");
    // Flat sampling: an iteration takes 20-120 ms, too long for the linear
    // ramp of 10 samples to fit in the measurement time.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(EVENTS));
    // The bare `(Reverse<u64>, u64)` heap. 16 timers: about the depth of
    // the steady-replication benchmark's queue (6 to 8 events pending);
    // 1,024: its depth while every request left a 1-s timeout timer queued;
    // 65,536: a deep heap.
    for timers in [16u64, 1_024, 65_536] {
        g.bench_with_input(
            BenchmarkId::new("heap_1M_events", timers),
            &timers,
            |b, &n| b.iter(|| event_loop(black_box(n), EVENTS)),
        );
    }
    // 1,024 timers with entries as big as a queue entry holding a whole
    // `Ev<Msg>` (what redsim's queue sifted before it kept events in a slab).
    g.bench_with_input(
        BenchmarkId::new("heap_1M_events_136B_entries", 1_024),
        &1_024u64,
        |b, &n| b.iter(|| event_loop_136b(black_box(n), EVENTS)),
    );
    g.finish();
}

criterion_group!(benches, baseline);
criterion_main!(benches);
