//! The `redsim explore` command line: the grid, the kinds and holds, the
//! walk's progress on standard error, and its verdict: a shortest
//! counterexample written as a reproducing scenario, or the space
//! exhausted.

use std::path::PathBuf;
use std::time::Instant;

use crate::exit::{self, load};
use crate::time::{Micros, Secs, parse_time};

use super::explore::{self, ExploreConfig, Level, MAX_SPACE};

#[derive(clap::Args)]
pub struct ExploreArgs {
    /// The scenario to explore (its `[fuzz]` properties and bounds are
    /// checked, with the invariants, on every schedule).
    pub scenario: PathBuf,
    /// Fault kinds to place, comma-separated `[[fault]]` keys; each is
    /// undone after its hold (a kill or crash by a restart, a pause by a
    /// resume, a partition by a heal). A partition cuts its target off,
    /// alone or with one of the scenario's clients.
    #[arg(long, default_value = "kill,pause,partition")]
    pub faults: String,
    /// At most this many faults per schedule.
    #[arg(long, default_value_t = 2)]
    pub max_faults: usize,
    /// The spacing of the instants a fault may start at.
    #[arg(long, default_value = "1s")]
    pub grid: String,
    /// Faults start in `FROM..TO` (default: from 0 to `[fuzz] faults-stop`).
    #[arg(long)]
    pub window: Option<String>,
    /// How long each fault holds before it is undone; several, comma
    /// separated, are each tried.
    #[arg(long, default_value = "5s")]
    pub hold: String,
    /// Run every schedule, without pruning those that reach an abstract
    /// state another already reached with the same faults pending.
    #[arg(long)]
    pub no_prune: bool,
    /// Parallel runs (default: the number of cores); the result does not
    /// depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where the counterexample's reproducing scenario goes.
    #[arg(long, default_value = "explore-out")]
    pub out: PathBuf,
}

/// Reads the arguments into what to explore, or says what is wrong.
fn config(args: &ExploreArgs, plan: &crate::scenario::Plan) -> Result<ExploreConfig, String> {
    let mut kinds = super::cli::parse_kinds(&args.faults).map_err(|e| format!("--faults: {e}"))?;
    kinds.dedup();
    if args.max_faults > super::explore::MAX_DEPTH {
        return Err(format!(
            "--max-faults {}: at most {} (each more fault multiplies the schedules by the number of slots)",
            args.max_faults,
            super::explore::MAX_DEPTH
        ));
    }
    let grid = parse_time(&args.grid).map_err(|e| format!("--grid: {e}"))?;
    if grid < crate::time::ms(10) {
        return Err(format!(
            "--grid {}: at least 10ms (Redis's own timers tick every 100 ms; a finer grid multiplies the schedules without new behaviour)",
            args.grid
        ));
    }
    let stop = plan.fuzz.faults_stop;
    let (from, to) = match &args.window {
        None => (0, stop),
        Some(w) => {
            let (a, b) = w
                .split_once("..")
                .ok_or_else(|| format!("--window `{w}`: expected FROM..TO, e.g. 5s..20s"))?;
            let a = parse_time(a).map_err(|e| format!("--window: {e}"))?;
            let b = parse_time(b).map_err(|e| format!("--window: {e}"))?;
            if a >= b {
                return Err(format!("--window `{w}`: empty (FROM must be before TO)"));
            }
            if b > stop {
                return Err(format!(
                    "--window `{w}`: ends after [fuzz] faults-stop ({}), when every fault is undone",
                    crate::time::format_duration(stop)
                ));
            }
            (a, b)
        }
    };
    let holds = args
        .hold
        .split(',')
        .map(|h| parse_time(h.trim()).map_err(|e| format!("--hold: {e}")))
        .collect::<Result<Vec<Micros>, String>>()?;
    if holds.contains(&0) {
        return Err("--hold: a fault holds for more than 0s".into());
    }
    let fuzz = super::FuzzConfig {
        kinds,
        max_faults: args.max_faults,
        faults_stop: stop,
        properties: plan.fuzz.properties.clone(),
        never_prints: plan.fuzz.never_prints.clone(),
        bounds: plan.fuzz.bounds.clone(),
        shrink: false,
    };
    Ok(ExploreConfig {
        fuzz,
        from,
        to,
        grid,
        holds,
        prune: !args.no_prune,
    })
}

pub fn run(args: ExploreArgs) -> u8 {
    let plan = match load(&args.scenario) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let text = match std::fs::read_to_string(&args.scenario) {
        Ok(t) => t,
        Err(e) => {
            crate::errln!("{}: {e}", args.scenario.display());
            return exit::BAD_INPUT;
        }
    };
    let cfg = match config(&args, &plan) {
        Ok(c) => c,
        Err(e) => {
            crate::errln!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let targets = super::targets(&plan).len().max(1);
    let space = explore::Space::new(
        &cfg.fuzz.kinds,
        targets,
        &explore::Space::sides(&plan),
        (cfg.from, cfg.to),
        cfg.grid,
        &cfg.holds,
    );
    let total = space.schedules(cfg.fuzz.max_faults);
    if total > MAX_SPACE {
        crate::errln!(
            "{} slots and up to {} faults make {total} schedules, more than {MAX_SPACE} can be walked: use a coarser --grid, a shorter --window, fewer --faults or holds, or a lower --max-faults",
            space.slots.len(),
            cfg.fuzz.max_faults
        );
        return exit::BAD_INPUT;
    }
    if let Err(e) = crate::out::ensure_writable_dir(&args.out) {
        crate::errln!("--out: {e}");
        return exit::BAD_INPUT;
    }
    crate::outln!(
        "explore {}: {} on {targets} nodes, every {} from {} to {}, holding {}; up to {} faults: {} slots, {total} schedules",
        plan.name,
        cfg.fuzz
            .kinds
            .iter()
            .map(|k| k.key())
            .collect::<Vec<_>>()
            .join(","),
        crate::time::format_duration(cfg.grid),
        crate::time::format_duration(cfg.from),
        crate::time::format_duration(cfg.to),
        cfg.holds
            .iter()
            .map(|&h| crate::time::format_duration(h))
            .collect::<Vec<_>>()
            .join(","),
        cfg.fuzz.max_faults,
        space.slots.len(),
    );
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    crate::interrupt::install();
    let started = Instant::now();
    let last = std::sync::Mutex::new(Instant::now());
    let progress = |l: &Level| {
        let mut last = last.lock().expect("progress lock");
        if last.elapsed().as_secs() >= 5 {
            *last = Instant::now();
            crate::errln!(
                "explore: depth {}: {} run, {} pruned ({:.0} s)",
                l.depth,
                l.run,
                l.pruned,
                started.elapsed().as_secs_f64()
            );
        }
    };
    let keep_going = || !crate::interrupt::requested();
    let outcome = explore::explore(&plan, &cfg, jobs, &keep_going, &progress);
    for l in &outcome.levels {
        crate::outln!(
            "  depth {}: {} schedules run, {} pruned",
            l.depth,
            l.run,
            l.pruned
        );
    }
    crate::outln!(
        "{} schedules run; pruning saved {} of {total}",
        outcome.runs(),
        outcome.saved
    );
    if !outcome.finished {
        crate::errln!(
            "redsim explore: interrupted by {}; nothing can be concluded",
            crate::interrupt::signal_name().unwrap_or("a signal")
        );
        return crate::interrupt::exit_status();
    }
    let Some(mut failure) = outcome.counterexample else {
        crate::outln!(
            "exhausted: every property held on every schedule of up to {} faults on this grid{}",
            cfg.fuzz.max_faults,
            if cfg.prune {
                " (pruned schedules taken as equivalent to the run they share an abstract state with)"
            } else {
                ""
            }
        );
        return exit::OK;
    };
    crate::outln!(
        "counterexample with {} faults (a shortest one): {}: {}",
        failure.schedule.len(),
        failure.property,
        failure.detail
    );
    let dir = plan.directory();
    for (at, f) in super::faults(&plan, &cfg.fuzz, &failure.schedule) {
        crate::outln!("  {} {}", Secs(at), f.describe(&dir).detail);
    }
    let file = args.out.join(format!(
        "{}__{}__explore.toml",
        plan.file_stem(),
        failure.property
    ));
    match super::repro_toml(&text, &plan, &cfg.fuzz, &failure).and_then(|toml| {
        crate::out::write_atomic(&file, toml.as_bytes()).map_err(|e| e.to_string())
    }) {
        Ok(()) => {
            failure.repro = Some(file.display().to_string());
            crate::outln!("reproducer: {}", file.display());
        }
        Err(e) => {
            crate::errln!("{}: {e}", file.display());
            return exit::BAD_INPUT;
        }
    }
    exit::EXPECTATION_FAILED
}
