//! The history checkers on a large synthetic history: lost acknowledged
//! writes and stale reads over 200,000 operations of a mixed workload (SET,
//! GET, DEL, INCR, EXPIRE, MSET, MGET) from four overlapping clients on 1,000
//! keys, against a final dataset that lost every tenth key. Both checkers
//! index the history once (hash maps, prefix maxima), so the cost grows as
//! n log n, not with the square of the operations on a hot key.
//!
//! The same for outside clients' commands (`check::outside`): 200,000
//! command lines of two sessions (SET with values from a small set, DEL,
//! INCR, APPEND) read into operations, then checked against a final state
//! holding their bytes.
//!
//! Run with `cargo bench --bench checkers`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redsim::check::lost::{lost_acked_writes, lost_acked_writes_by};
use redsim::check::outside::OutsideWrites;
use redsim::check::stale::stale_reads;
use redsim::history::{CommandLine, Exchange, History};
use redsim::history::{Op, OpKind, Outcome, Seen, key_name};
use redsim::proto::keyspace::Dataset;
use redsim::proto::resp::Frame;
use redsim::proto::{Value, WriteTag};

const OPS: u32 = 200_000;
const KEYS: u32 = 1_000;

/// A deterministic history: operation i of client i % 4, invoked at 10 µs
/// steps and lasting 25 µs, so neighbours overlap.
fn history() -> (Vec<Op>, Dataset) {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut ops = Vec::with_capacity(OPS as usize);
    let mut last = vec![None; KEYS as usize];
    for i in 0..OPS {
        let r = next();
        let key = (r % u64::from(KEYS)) as u32;
        let client = i % 4 + 1;
        let seq = i / 4 + 1;
        let kind = [
            OpKind::Set,
            OpKind::Set,
            OpKind::Get,
            OpKind::Get,
            OpKind::Del,
            OpKind::Incr,
            OpKind::Expire,
            OpKind::MSet,
            OpKind::MGet,
        ][(r >> 20) as usize % 9];
        let t = u64::from(i) * 10;
        let mut op = Op::pending(client, seq, kind, key_name(key), 0, t);
        if kind.is_multi_key() {
            op.more_keys = vec![key_name((key + 1) % KEYS)];
        }
        op.completed = Some(t + 25);
        op.outcome = Outcome::Ok;
        if kind.writes_tag() {
            last[key as usize] = Some(WriteTag { client, seq });
        }
        if kind.is_read() {
            let seen = |k: u32| last[k as usize].map_or(Seen::Missing, Seen::Write);
            op.read = Some(op.keys().map(|_| seen(key)).collect());
        }
        ops.push(op);
    }
    let mut d = Dataset::default();
    for (k, tag) in last.iter().enumerate() {
        if let Some(tag) = tag
            && k % 10 != 0
        {
            d.set(
                key_name(k as u32),
                Value::Blob {
                    tag: *tag,
                    len: 100,
                },
            );
        }
    }
    (ops, d)
}

/// Outside command lines of sessions `lab-1` and `lab-2`, each answered
/// 25 µs after it was sent, and the final state their last SETs left.
fn outside_history() -> (Vec<Exchange>, Dataset) {
    let mut out = Vec::with_capacity(OPS as usize);
    let mut last: Vec<Option<String>> = vec![None; KEYS as usize];
    for i in 0..OPS {
        let key = (i.wrapping_mul(2_654_435_761) % KEYS) as usize;
        let (line, reply) = match i % 8 {
            0 => (format!("DEL k{key}"), Frame::Int(1)),
            1 => (format!("INCR n{key}"), Frame::Int(1)),
            2 => (format!("APPEND a{key} x"), Frame::Int(1)),
            v => {
                let value = format!("v{}", (i / 8 + v) % 50);
                last[key] = Some(value.clone());
                (format!("SET k{key} {value}"), Frame::Simple("OK".into()))
            }
        };
        let argv: Vec<String> = line.split(' ').map(str::to_string).collect();
        let command = CommandLine {
            name: None,
            session: format!("lab-{}", i % 2 + 1),
            node: 0,
            line,
            argv,
        };
        let t = u64::from(i) * 10;
        let mut x = Exchange::sent(i as usize, command, t);
        x.reply = Some((t + 25, reply));
        out.push(x);
    }
    let mut d = Dataset::default();
    for (k, v) in last.iter().enumerate() {
        if let Some(v) = v {
            d.set(format!("k{k}").into(), Value::Text(v.as_str().into()));
        }
    }
    (out, d)
}

fn checkers(c: &mut Criterion) {
    let (ops, data) = history();
    let refs = History::from_ops(ops);
    let mut g = c.benchmark_group("checkers");
    g.throughput(Throughput::Elements(u64::from(OPS)));
    g.bench_function("lost_acked_writes/200k-ops", |b| {
        b.iter(|| black_box(lost_acked_writes(black_box(&refs), &data).len()))
    });
    g.bench_function("stale_reads/200k-ops", |b| {
        b.iter(|| black_box(stale_reads(black_box(&refs)).len()))
    });
    let (exchanges, outside_data) = outside_history();
    g.bench_function("outside_lost_writes/200k-commands", |b| {
        b.iter(|| {
            let none = History::default();
            let o = OutsideWrites::read(black_box(&exchanges), |s| s.starts_with("lab-"), &none);
            let all = o.merged(&none);
            let lost = lost_acked_writes_by(&all, &|k| o.found(&outside_data, k));
            black_box(o.keep(lost).len())
        })
    });
    g.finish();
}

criterion_group!(benches, checkers);
criterion_main!(benches);
