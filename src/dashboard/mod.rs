//! `redsim dashboard`: records a run and writes one self-contained HTML page
//! that plays it back (topology, swimlanes of events and messages, node
//! state and timers, the client view, a space-time diagram), or the
//! space-time diagram alone as SVG.
//!
//! Recording is opt-in: [`record`] runs the scenario with a
//! [`recorder::Recorder`] observing the world, which leaves the run and its
//! trace exactly as they are without it.

pub mod data;
pub mod follow;
pub mod label;
pub mod live;
pub mod output;
pub mod page;
pub mod recorder;
pub mod snapshot;
pub mod spacetime;
pub mod tap;

use std::cell::RefCell;
use std::rc::Rc;

use crate::scenario::Plan;
use crate::sim::SimError;
use crate::time::Micros;
use crate::world::{self, RunOutcome};

pub use data::Recording;

/// How to record a run.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    /// Simulated time between two samples of every node's state.
    pub sample_every: Micros,
    /// Control messages kept one by one; the rest are counted per bucket.
    pub message_cap: usize,
}

impl Options {
    /// 100 ms samples and up to 50,000 individual messages.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            sample_every: 100_000,
            message_cap: 50_000,
        }
    }
}

/// Runs `plan` with a recorder and returns the run's outcome (as
/// [`world::run`] gives it) and the recording.
pub fn record(plan: &Plan, opts: &Options) -> Result<(RunOutcome, Recording), SimError> {
    // A first run finds the instants of the trace's events; the recorded
    // run, identical, samples at each of them.
    let first = world::run(plan, opts.seed)?;
    record_after(plan, opts, &first)
}

/// [`record`], given the plan's first run with the same seed (as `run
/// --out` has it), so it is not run again.
pub fn record_after(
    plan: &Plan,
    opts: &Options,
    first: &RunOutcome,
) -> Result<(RunOutcome, Recording), SimError> {
    let every = opts.sample_every.max(1);
    let mut instants: Vec<Micros> = first
        .world
        .sim
        .kernel
        .trace
        .events
        .iter()
        .map(|e| e.t)
        .collect();
    instants.dedup();
    let tape = Rc::new(RefCell::new(recorder::Tape::default()));
    let wire = Rc::new(RefCell::new(tap::Wire::new(opts.message_cap, every)));
    let rec = recorder::Recorder {
        tape: tape.clone(),
        wire: wire.clone(),
        every,
        instants,
    };
    let mut outcome = world::run_observed(plan, opts.seed, Some(Box::new(rec)))?;
    // Detach, so the recorder's handles are the last ones left.
    outcome.world.observer = None;
    outcome.world.set_wiretap(None);
    let samples = std::mem::take(&mut tape.borrow_mut().samples);
    let mut wire = std::mem::take(&mut *wire.borrow_mut());
    wire.finish();
    let recording = data::build(&outcome, opts.seed, samples, wire, every);
    Ok((outcome, recording))
}

#[cfg(test)]
mod tests;
