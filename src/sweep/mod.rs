//! `redsim sweep`: one scenario over a range of one setting (or the grid
//! of two) and several seeds, measuring what the trade-off questions ask
//! about — how long the failover took, how many acknowledged writes were
//! lost, how long no write was acknowledged — and writing them as CSV and
//! an SVG plot (a heat map for two settings). Runs go across threads; the
//! results are sorted by (value, seed), so the output does not depend on
//! `--jobs`.

pub mod cli;
pub mod csv;
pub mod heatmap;
pub mod param;
pub mod stats;
pub mod svg;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::check::RunView as _;
use crate::check::timeline;
use crate::scenario::{self, Plan};
use crate::time::Micros;
use crate::trace::names;
use crate::world;

pub use param::Param;

/// What one run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub value: f64,
    /// The second setting's value, in a sweep of two.
    pub value2: Option<f64>,
    pub seed: u64,
    /// First fault to the first `+switch-master` (None: no failover).
    pub failover: Option<Micros>,
    /// First fault to the first `+odown`.
    pub odown: Option<Micros>,
    pub lost: u64,
    pub acked: u64,
    /// Longest time without an acknowledged write after the first fault.
    pub unavailable: Option<Micros>,
    /// Full resyncs replicas started after the first fault (or in the whole
    /// run, without a fault).
    pub full_resyncs: u64,
    /// Why the run stopped early (a runaway run).
    pub error: Option<String>,
}

/// One point of a sweep: the first setting's value, and the second's in
/// a sweep of two.
pub type Point = (f64, Option<f64>);

/// Builds the scenario for every point, each setting applied in turn; an
/// invalid value is bad input.
pub fn plans(
    text: &str,
    file: &str,
    params: &[Param],
    points: &[Point],
) -> Result<Vec<Plan>, String> {
    points
        .iter()
        .map(|&(a, b)| {
            let mut t = text.to_string();
            for (p, v) in params.iter().zip([Some(a), b]) {
                let Some(v) = v else { continue };
                t = p.apply(&t, v)?;
                scenario::parse(file, &t).map_err(|e| {
                    format!(
                        "{} = {}: the scenario becomes invalid: {e}",
                        p.key,
                        p.display(v)
                    )
                })?;
            }
            scenario::parse(file, &t).map_err(|e| e.to_string())
        })
        .collect()
}

/// Runs every (value, seed) pair on `jobs` threads, telling `done` how
/// many of how many have finished after each.
pub fn run(
    plans: &[Plan],
    points: &[Point],
    seeds: &[u64],
    jobs: usize,
    done: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Row> {
    let work: Vec<(usize, u64)> = (0..plans.len())
        .flat_map(|i| seeds.iter().map(move |&s| (i, s)))
        .collect();
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let rows: Mutex<Vec<(usize, Row)>> = Mutex::new(Vec::with_capacity(work.len()));
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(i, seed)) = work.get(k) else { break };
                    let mut row = measure(&plans[i], points[i].0, seed);
                    row.value2 = points[i].1;
                    rows.lock()
                        .expect("no panics while holding it")
                        .push((i, row));
                    done(finished.fetch_add(1, Ordering::Relaxed) + 1, work.len());
                }
            });
        }
    });
    let mut rows = rows.into_inner().expect("threads finished");
    rows.sort_by_key(|(i, r)| (*i, r.seed));
    rows.into_iter().map(|(_, r)| r).collect()
}

/// One run and its measurements.
pub fn measure(plan: &Plan, value: f64, seed: u64) -> Row {
    let mut row = Row {
        value,
        value2: None,
        seed,
        failover: None,
        odown: None,
        lost: 0,
        acked: 0,
        unavailable: None,
        full_resyncs: 0,
        error: None,
    };
    let outcome = match world::run(plan, seed) {
        Ok(o) => o,
        Err(e) => {
            row.error = Some(e.to_string());
            return row;
        }
    };
    let w = &outcome.world;
    let times = timeline::failover_times(&w.trace().events);
    if let Some(f) = times.fault {
        row.failover = times.switch_master.map(|t| t - f);
        row.odown = times.odown.map(|t| t - f);
    }
    let since = times.fault.unwrap_or(0);
    row.full_resyncs = w
        .sim
        .kernel
        .trace
        .named(names::redis::FULL_RESYNC)
        .filter(|e| e.t >= since)
        .count() as u64;
    row.acked = w.history().briefs().filter(|o| o.acked_write()).count() as u64;
    row.lost = w.lost_writes().len() as u64;
    row.unavailable = w.write_unavailability().map(|g| g.len());
    row
}
