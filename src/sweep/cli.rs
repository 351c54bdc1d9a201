//! The `redsim sweep` command line: parses the parameters, ranges and
//! seeds, runs the sweep and writes `runs.csv`, `summary.csv` and
//! `plot.svg` (`heatmap.svg` for two parameters).

use std::path::PathBuf;

use super::{Param, csv, heatmap, param, stats, svg};

use crate::exit::{BAD_INPUT as EXIT_BAD_INPUT, OK as EXIT_OK};

#[derive(clap::Args)]
pub struct SweepArgs {
    /// The scenario to sweep.
    pub scenario: PathBuf,
    /// The setting and its range, e.g. `down-after-milliseconds=1000..30000`,
    /// `repl-backlog-size=16kb..4mb`, `fault.1.at=10s..20s`. Given twice,
    /// the sweep runs the grid of both and draws heat maps.
    #[arg(long, required = true)]
    pub param: Vec<String>,
    /// How many values to take from the range (ends included).
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Space the values geometrically instead of evenly.
    #[arg(long)]
    pub log: bool,
    /// Seeds per value: a count N (the scenario's seed and the N-1 after it)
    /// or a range a..b (b excluded).
    #[arg(long, default_value = "10")]
    pub seeds: String,
    /// Parallel runs (default: the number of cores); results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where runs.csv, summary.csv and plot.svg go.
    #[arg(long, default_value = "sweep-out")]
    pub out: PathBuf,
}

/// At most this many runs per sweep: a typo in --steps or --seeds should
/// be an error, not an afternoon.
const MAX_RUNS: usize = 1_000_000;

/// At most this many values of the swept setting.
const MAX_STEPS: usize = 1_000;

/// At most this many threads, whatever --jobs says.
const MAX_JOBS: usize = 256;

fn seeds(text: &str, base: u64) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds: expected a count like 20 or a range like 0..20, got `{text}`");
    let too_many = || format!("--seeds `{text}`: more than {MAX_RUNS} seeds");
    let s: Vec<u64> = match text.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (
                a.trim().parse::<u64>().map_err(|_| bad())?,
                b.trim().parse::<u64>().map_err(|_| bad())?,
            );
            if b.saturating_sub(a) > MAX_RUNS as u64 {
                return Err(too_many());
            }
            (a..b).collect()
        }
        None => {
            let n = text.trim().parse::<u64>().map_err(|_| bad())?;
            if n > MAX_RUNS as u64 {
                return Err(too_many());
            }
            (0..n).map(|i| base.wrapping_add(i)).collect()
        }
    };
    if s.is_empty() {
        return Err(format!("--seeds `{text}` selects no seed"));
    }
    Ok(s)
}

pub fn run(args: &SweepArgs) -> u8 {
    match sweep(args) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            crate::errln!("{e}");
            EXIT_BAD_INPUT
        }
    }
}

fn sweep(args: &SweepArgs) -> Result<(), String> {
    let file = args.scenario.display().to_string();
    let text = crate::scenario::read_text(&args.scenario).map_err(|e| e.to_string())?;
    let base = crate::scenario::parse(&file, &text).map_err(|e| e.to_string())?;
    if args.param.len() > 2 {
        return Err(format!(
            "--param given {} times: a sweep takes one setting, or two for a heat map",
            args.param.len()
        ));
    }
    if args.steps > MAX_STEPS {
        return Err(format!(
            "--steps {}: at most {MAX_STEPS} (every value's scenario is held in memory, and a plot shows no more)",
            args.steps
        ));
    }
    let mut params = Vec::new();
    let mut axes = Vec::new();
    for given in &args.param {
        let (key, range) = given.split_once('=').ok_or_else(|| {
            format!(
                "--param: expected KEY=a..b, e.g. down-after-milliseconds=1000..30000, got `{given}`"
            )
        })?;
        let p = Param::parse(key.trim(), base.faults.len())?;
        if params.iter().any(|q: &Param| q.key == p.key) {
            return Err(format!("--param {}: the same setting twice", p.key));
        }
        let (a, b) = p.range(range.trim())?;
        let mut values = param::values(a, b, args.steps, args.log)?;
        for v in &mut values {
            *v = p.round(*v);
        }
        values.dedup();
        params.push(p);
        axes.push(values);
    }
    let points: Vec<super::Point> = match axes.as_slice() {
        [one] => one.iter().map(|&v| (v, None)).collect(),
        [one, two] => one
            .iter()
            .flat_map(|&a| two.iter().map(move |&b| (a, Some(b))))
            .collect(),
        _ => unreachable!("one or two --param, checked above"),
    };
    let seeds = seeds(&args.seeds, base.seed)?;
    if points.len() * seeds.len() > MAX_RUNS {
        return Err(format!(
            "{} values x {} seeds is more than {MAX_RUNS} runs",
            points.len(),
            seeds.len()
        ));
    }
    // An unwritable --out is reported before any run, not after them all.
    crate::out::ensure_writable_dir(&args.out)?;
    let plans = super::plans(&text, &file, &params, &points)?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, MAX_JOBS);
    let progress = crate::progress::Progress::new("sweep");
    let done = |done: usize, total: usize| {
        let rate = progress.rate(done as u64);
        let line = format!("{done}/{total} runs, {rate:.1} runs/s");
        progress.show(done as u64, total as u64, &line);
    };
    let rows = super::run(&plans, &points, &seeds, jobs, &done);
    let sums = stats::summarise(&points, &rows);
    let keys: Vec<&str> = params.iter().map(|p| p.key.as_str()).collect();
    let title = format!("{}: {} swept", base.name, keys.join(" x "));
    let (plot_name, plot) = match axes.as_slice() {
        [_] => (
            "plot.svg",
            svg::plot(&title, &params[0], &sums, seeds.len(), args.log),
        ),
        _ => (
            "heatmap.svg",
            heatmap::svg(&title, &params, &axes[0], &axes[1], &sums, seeds.len())?,
        ),
    };
    let files = [
        ("runs.csv", csv::runs(&params, &rows)),
        ("summary.csv", csv::summary(&params, &sums)),
        (plot_name, plot),
    ];
    for (name, body) in files {
        let path = args.out.join(name);
        crate::out::write_atomic(&path, body.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    crate::outln!(
        "{}: {} values x {} seeds of {}",
        base.name,
        points.len(),
        seeds.len(),
        keys.join(" x ")
    );
    let shown = |s: &stats::Summary| match (params.get(1), s.value2) {
        (Some(p2), Some(v2)) => format!("{} {}", params[0].display(s.value), p2.display(v2)),
        _ => params[0].display(s.value),
    };
    crate::outln!(
        "{:>14}  {:>9}  {:>18}  {:>14}  {:>17}",
        "value",
        "failovers",
        "failover s (med)",
        "lost (median)",
        "unavail. s (med)"
    );
    for s in &sums {
        crate::outln!(
            "{:>14}  {:>4}/{:<4}  {:>18}  {:>14}  {:>17}",
            shown(s),
            s.failovers,
            s.runs,
            s.failover
                .map_or("-".to_string(), |f| format!("{:.3}", f.median)),
            s.lost
                .map_or("-".to_string(), |l| format!("{:.1}", l.median)),
            s.unavailable
                .map_or("-".to_string(), |u| format!("{:.3}", u.median))
        );
    }
    let errors = rows.iter().filter(|r| r.error.is_some()).count();
    if errors > 0 {
        crate::outln!("{errors} run(s) stopped early (see the error column of runs.csv)");
    }
    crate::outln!(
        "wrote {}/runs.csv, summary.csv, {plot_name}",
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_a_count_from_the_scenario_seed_or_a_range() {
        assert_eq!(seeds("3", 7).unwrap(), vec![7, 8, 9]);
        assert_eq!(seeds("2..4", 7).unwrap(), vec![2, 3]);
        assert!(seeds("0", 7).is_err());
        assert!(seeds("x", 7).is_err());
        assert!(seeds("99999999999", 7).is_err());
    }
}
