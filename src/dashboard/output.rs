//! What `redsim dashboard` does once its arguments are parsed: check the
//! options, record the run, and write the page and/or the diagram. Errors
//! say which option or file is at fault and whether it was bad input or
//! the simulation stopping, so the command line can map them to exit codes.

use std::fmt;
use std::path::Path;

use super::{Options, page, record, spacetime};
use crate::scenario::Plan;
use crate::sim::SimError;
use crate::time::{Micros, parse_time};

/// The most samples of every node's state a page may hold.
pub const MAX_SAMPLES: u64 = 100_000;

/// Why `redsim dashboard` failed.
#[derive(Debug)]
pub enum DashboardError {
    /// A bad option or an unwritable file.
    BadInput(String),
    /// The run stopped (e.g. too many events).
    Simulation(SimError),
}

impl fmt::Display for DashboardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DashboardError::BadInput(m) => f.write_str(m),
            DashboardError::Simulation(e) => write!(f, "{e}"),
        }
    }
}

/// The command's options, as given on the command line.
pub struct Request<'a> {
    pub out: Option<&'a Path>,
    pub svg: Option<&'a Path>,
    pub window: Option<&'a str>,
    pub sample_every: &'a str,
    pub seed: Option<u64>,
    /// The plan's run with this seed, when the caller has it: the
    /// recording then runs the plan once, not twice.
    pub first: Option<&'a crate::world::RunOutcome>,
}

/// Parses `FROM..TO` (e.g. `24s..28s`) into simulated times.
pub fn parse_window(w: &str) -> Result<(Micros, Micros), String> {
    let (a, b) = w
        .split_once("..")
        .ok_or_else(|| format!("expected FROM..TO like 24s..28s, got `{w}`"))?;
    let (a, b) = (parse_time(a)?, parse_time(b)?);
    if a < b {
        Ok((a, b))
    } else {
        Err(format!("`{w}`: FROM must come before TO"))
    }
}

/// Records `plan` and writes what `req` asks for; returns the files written.
pub fn run(plan: &Plan, req: &Request<'_>) -> Result<Vec<String>, DashboardError> {
    let bad = DashboardError::BadInput;
    if req.out.is_none() && req.svg.is_none() {
        return Err(bad("give -o FILE.html and/or --svg FILE.svg".into()));
    }
    let every = match parse_time(req.sample_every) {
        Ok(t) if t >= 1_000 => t,
        Ok(_) => return Err(bad("--sample-every: at least 1ms".into())),
        Err(e) => return Err(bad(format!("--sample-every: {e}"))),
    };
    let window = match req.window.map(parse_window) {
        None => None,
        Some(Ok(w)) => Some(w),
        Some(Err(e)) => return Err(bad(format!("--window: {e}"))),
    };
    let samples = plan.duration / every;
    if samples > MAX_SAMPLES {
        return Err(bad(format!(
            "--sample-every {}: {samples} samples of every node over the run's {}; at most {MAX_SAMPLES} (each is kept in memory and in the page): sample less often",
            req.sample_every,
            crate::time::format_duration(plan.duration)
        )));
    }
    // Unwritable destinations are reported before the run, not after it.
    for f in [req.out, req.svg].into_iter().flatten() {
        crate::out::ensure_writable(f).map_err(bad)?;
    }
    let mut opts = Options::new(req.seed.unwrap_or(plan.seed));
    opts.sample_every = every;
    let recorded = match req.first {
        Some(first) => super::record_after(plan, &opts, first),
        None => record(plan, &opts),
    };
    let (_, rec) = recorded.map_err(DashboardError::Simulation)?;
    let window = window.unwrap_or_else(|| spacetime::default_window(&rec));
    let mut written = Vec::new();
    if let Some(f) = req.out {
        crate::out::write_atomic(f, page::html(&rec, window).as_bytes())
            .map_err(|e| bad(format!("{}: cannot write the page: {e}", f.display())))?;
        written.push(f.display().to_string());
    }
    if let Some(f) = req.svg {
        crate::out::write_atomic(f, spacetime::svg(&rec, window, true).as_bytes())
            .map_err(|e| bad(format!("{}: cannot write the diagram: {e}", f.display())))?;
        written.push(f.display().to_string());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::parse_window;

    #[test]
    fn windows_parse_with_units_and_in_order() {
        assert_eq!(parse_window("24s..28.5s"), Ok((24_000_000, 28_500_000)));
        assert_eq!(parse_window("500ms..2s"), Ok((500_000, 2_000_000)));
        assert!(parse_window("5s").is_err());
        assert!(parse_window("5s..2s").is_err());
        assert!(parse_window("5..6s").is_err());
    }
}
