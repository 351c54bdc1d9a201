//! Conformance: the same scenario run on real Redis 7.0 processes and on
//! the simulator, compared field by field. [`real`] drives the real
//! processes, [`simulate`] the simulator; both produce an [`observe::Observed`],
//! [`signature`] extracts the outcome signature from it and [`compare`]
//! judges real against simulated over several seeds. [`scratch`] owns the
//! directories a run writes, [`procs`] and [`net`] the processes and network
//! namespaces it creates; each is released by its guard however the run
//! ends.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod compare;
pub mod deploy;
pub mod endpoint;
pub mod field;
pub mod host;
pub mod net;
pub mod observe;
pub mod preload;
pub mod procs;
pub mod real;
pub mod replies;
pub mod resp;
pub mod scratch;
pub mod signature;
pub mod simulate;
pub mod topology;
pub mod workload;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::scenario::Plan;

use crate::scenario::conform::ConformSpec;
use compare::Row;
use deploy::{RealOptions, RunError};

/// How one scenario's comparison ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Compared: the rows say how well.
    Compared(Vec<Row>),
    /// Marked `real = false`, with the reason.
    SimulatorOnly(String),
    /// The real run or the simulation could not be completed.
    Failed(String),
    /// The host could not run the real processes (a port in use, a binary
    /// that does not start, no network namespaces): nothing was measured.
    Environment(String),
    /// SIGINT or SIGTERM arrived before the comparison finished.
    Interrupted,
}

/// One scenario's result.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub name: String,
    pub status: Status,
    /// Wall time of the real run plus the simulations.
    pub secs: f64,
}

impl Outcome {
    /// Fields compared and fields matching.
    pub fn counts(&self) -> (usize, usize) {
        match &self.status {
            Status::Compared(rows) => (rows.len(), rows.iter().filter(|r| r.ok).count()),
            _ => (0, 0),
        }
    }

    pub fn ok(&self) -> bool {
        match &self.status {
            Status::Compared(rows) => rows.iter().all(|r| r.ok),
            Status::SimulatorOnly(_) => true,
            Status::Failed(_) | Status::Environment(_) | Status::Interrupted => false,
        }
    }
}

/// Finds a program: the given path, else the name on `PATH`.
pub fn find_program(given: Option<&Path>, name: &str) -> Option<PathBuf> {
    if let Some(p) = given {
        return p.is_file().then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs one scenario for real and on the simulator and compares them.
pub fn run(plan: &Plan, spec: &ConformSpec, opts: &RealOptions) -> Outcome {
    let start = Instant::now();
    let status = match &spec.simulator_only {
        Some(reason) => Status::SimulatorOnly(reason.clone()),
        None => compare_runs(plan, spec, opts),
    };
    Outcome {
        name: plan.name.clone(),
        status,
        secs: start.elapsed().as_secs_f64(),
    }
}

fn compare_runs(plan: &Plan, spec: &ConformSpec, opts: &RealOptions) -> Status {
    let real = match real::observe(plan, &topology::Replication, opts) {
        Ok(o) => o,
        Err(RunError::Failed(e)) => return Status::Failed(e),
        Err(RunError::Environment(e)) => return Status::Environment(e),
        Err(RunError::Interrupted) => return Status::Interrupted,
    };
    let real_sig = signature::extract(&real, spec);
    let mut sims = Vec::new();
    for k in 0..u64::from(spec.seeds) {
        if crate::interrupt::requested() {
            return Status::Interrupted;
        }
        match simulate::observe(plan, plan.seed.wrapping_add(k)) {
            Ok(o) => sims.push(signature::extract(&o, spec)),
            Err(e) => return Status::Failed(format!("simulation, seed {}: {e}", plan.seed + k)),
        }
    }
    Status::Compared(compare::compare(&real_sig, &sims, spec.timing_slack))
}

/// Escapes a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The agreement tables, one per scenario, in Markdown, then the totals.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        let _ = writeln!(out, "### {}\n", o.name);
        match &o.status {
            Status::Compared(rows) => {
                out.push_str("| field | real | simulated | verdict |\n|---|---|---|---|\n");
                for r in rows {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} |",
                        cell(&r.field),
                        cell(&r.real),
                        cell(&r.sim),
                        cell(&r.verdict)
                    );
                }
                let (n, m) = o.counts();
                let _ = writeln!(out, "\n{m} of {n} fields match ({:.1} s).\n", o.secs);
            }
            Status::SimulatorOnly(why) => {
                let _ = writeln!(out, "Simulator only: {why}\n");
            }
            Status::Failed(e) => {
                let _ = writeln!(out, "FAILED: {e}\n");
            }
            Status::Environment(e) => {
                let _ = writeln!(out, "NOT RUN (the host could not run it): {e}\n");
            }
            Status::Interrupted => {
                out.push_str("INTERRUPTED before it finished.\n\n");
            }
        }
    }
    let (n, m) = outcomes.iter().fold((0, 0), |(a, b), o| {
        let (x, y) = o.counts();
        (a + x, b + y)
    });
    let _ = writeln!(
        out,
        "Total: {m} of {n} fields match over {} scenarios compared.",
        outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Compared(_)))
            .count()
    );
    // Repeated last, so the end of a long log names what disagreed.
    for o in outcomes {
        if let Status::Compared(rows) = &o.status {
            for r in rows.iter().filter(|r| !r.ok) {
                let _ = writeln!(
                    out,
                    "Disagrees: {} / {}: real {}; simulated {}",
                    o.name, r.field, r.real, r.sim
                );
            }
        }
    }
    out
}
