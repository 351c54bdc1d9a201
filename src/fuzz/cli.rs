//! The `redsim fuzz` command line: seeds, shards and budgets, progress on
//! standard error, the summary, reproducers and JUnit report, and merging
//! the summaries of shards.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Subcommand;

use crate::exit::{self, load};
use crate::time::parse_time;

/// The most faults a schedule may hold (`--max-faults`, `[fuzz]
/// max-faults`): faults last at least 100 ms and all happen before
/// `faults-stop`, so more only pile on top of each other while runs and
/// shrinking slow down in proportion.
const MAX_FAULTS: usize = 100;
use crate::scenario::Plan;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FuzzArgs {
    #[command(subcommand)]
    pub merge: Option<FuzzCommand>,
    /// The scenario to fuzz.
    pub scenario: Option<PathBuf>,
    /// Seeds to run, as `a..b` (b excluded; at most 2^32 seeds), or
    /// `@TEXT:N`: N seeds from a start derived from TEXT, such as a commit
    /// id, so that each commit explores new ones.
    #[arg(long, default_value = "0..100")]
    pub seeds: String,
    /// Parallel runs (default: the number of cores); results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only shard i of n of the seeds (`--shard 2/8`), for CI matrices;
    /// `--shard env/8` reads i from REDSIM_SHARD_INDEX, JOB_COMPLETION_INDEX
    /// (a Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (a Slurm array),
    /// and `--shard env` also n from REDSIM_SHARD_COUNT or
    /// SLURM_ARRAY_TASK_COUNT.
    #[arg(long)]
    pub shard: Option<String>,
    /// Guided by coverage: seeds mostly mutate the schedules that reached a
    /// new abstract state, transition or line kind (results depend on the
    /// seed range, not on --jobs; not with --shard or [fuzz.swarm]).
    #[arg(long)]
    pub guided: bool,
    /// A directory of reproducing scenarios from earlier sweeps: each is
    /// run first (a failure that was fixed must stay fixed), and this
    /// sweep's new ones are added to it.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Fault kinds to draw, comma-separated (default: all): kill, crash, pause,
    /// partition, shutdown, clock-jump, link, partition-oneway, burst (the
    /// `[[fault]]` keys; each fault is undone after a while, a shutdown by
    /// a restart). Also, only when named: fork-fail, disk-full, disk-slow,
    /// rdb-corrupt, fsync-fail (a window on one Redis server). The old
    /// names restart, clock and oneway still work.
    #[arg(long)]
    pub faults: Option<String>,
    /// At most this many faults per schedule (default: [fuzz] max-faults,
    /// or 6; at most 100).
    #[arg(long)]
    pub max_faults: Option<usize>,
    /// Stop starting new seeds after this much wall time (e.g. 60s): the set
    /// of seeds run then depends on the machine.
    #[arg(long)]
    pub budget: Option<String>,
    /// Do not shrink failing schedules.
    #[arg(long)]
    pub no_shrink: bool,
    /// Where summary.json and the reproducing scenarios go.
    #[arg(long, default_value = "fuzz-out")]
    pub out: PathBuf,
    /// Also write a JUnit XML report: one testcase per property checked
    /// and per failure group.
    #[arg(long)]
    pub junit: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum FuzzCommand {
    /// Merge the summary.json files of several shards into one.
    Merge {
        #[arg(required = true)]
        summaries: Vec<PathBuf>,
        /// Write the merged summary here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// A summary of known failures: exit 1 only for a failure group
        /// whose signature it does not have.
        #[arg(long)]
        baseline: Option<PathBuf>,
    },
    /// Show a campaign's coverage (from its summary.json), or compare two.
    Coverage {
        summary: PathBuf,
        /// A second campaign's summary: show what each reached that the
        /// other did not.
        other: Option<PathBuf>,
    },
}

/// A comma-separated list of fault kinds, by their `[[fault]]` keys (or
/// the old names).
pub fn parse_kinds(list: &str) -> Result<Vec<crate::scenario::FaultKind>, String> {
    let mut kinds = Vec::new();
    for k in list.split(',') {
        match crate::fuzz::kind(k.trim()) {
            Some(kind) => kinds.push(kind),
            None => {
                let names: Vec<&str> = (crate::fuzz::KINDS.iter())
                    .chain(&crate::fuzz::HOST_KINDS)
                    .map(|k| k.key())
                    .collect();
                return Err(format!("unknown fault kind `{k}` ({})", names.join(", ")));
            }
        }
    }
    Ok(kinds)
}

/// A sweep's phase as a progress line.
fn report(progress: &crate::progress::Progress, phase: crate::fuzz::Phase) {
    use crate::fuzz::Phase;
    match phase {
        Phase::Seeds {
            done,
            total,
            failed,
        } => {
            let rate = progress.rate(done);
            let line = format!("{done}/{total} seeds, {failed} failing, {rate:.1} seeds/s");
            progress.show(done, total, &line);
        }
        Phase::Shrinking { done, total } => {
            progress.show(
                done,
                total,
                &format!("shrinking failure groups: {done}/{total}"),
            );
        }
    }
}

pub fn run(args: FuzzArgs) -> u8 {
    match args.merge {
        Some(FuzzCommand::Merge {
            summaries,
            out,
            baseline,
        }) => {
            return fuzz_merge(&summaries, out.as_deref(), baseline.as_deref());
        }
        Some(FuzzCommand::Coverage { summary, other }) => {
            return fuzz_coverage(&summary, other.as_deref());
        }
        None => {}
    }
    let Some(path) = args.scenario else {
        crate::errln!("redsim fuzz: give a scenario, or `merge` and summary files");
        return exit::BAD_INPUT;
    };
    let plan = match load(&path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            crate::errln!("{}: {e}", path.display());
            return exit::BAD_INPUT;
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    let seeds = match crate::fuzz::campaign::seeds(&args.seeds, args.shard.as_deref(), &env) {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let kinds = match &args.faults {
        None => crate::fuzz::KINDS.to_vec(),
        Some(list) => match parse_kinds(list) {
            Ok(kinds) => kinds,
            Err(e) => {
                crate::errln!("--faults: {e}");
                return exit::BAD_INPUT;
            }
        },
    };
    let budget = match args.budget.as_deref().map(parse_time) {
        None => None,
        Some(Ok(t)) => Some(std::time::Duration::from_micros(t)),
        Some(Err(e)) => {
            crate::errln!("--budget: {e}");
            return exit::BAD_INPUT;
        }
    };
    if args.guided && seeds.shard.is_some() {
        crate::errln!(
            "--guided with --shard: a guided campaign's corpus is the whole campaign's; run it unsharded (shard a random sweep instead)"
        );
        return exit::BAD_INPUT;
    }
    if args.guided && !plan.fuzz.swarm.is_empty() {
        crate::errln!(
            "--guided: {} draws its configuration per seed ([fuzz.swarm]), so schedules cannot be carried from one seed to another",
            path.display()
        );
        return exit::BAD_INPUT;
    }
    let max_faults = args.max_faults.unwrap_or(plan.fuzz.max_faults);
    if max_faults > MAX_FAULTS {
        let from = if args.max_faults.is_some() {
            "--max-faults".to_string()
        } else {
            format!("{}: [fuzz] max-faults", path.display())
        };
        crate::errln!(
            "{from} = {max_faults}: at most {MAX_FAULTS} faults per schedule (faults last at least 100ms and all happen before faults-stop, so more only pile up while every run and every shrinking step slows down)"
        );
        return exit::BAD_INPUT;
    }
    // Outputs are checked before any seed runs.
    if let Err(e) = crate::out::ensure_writable_dir(&args.out) {
        crate::errln!("--out: {e}");
        return exit::BAD_INPUT;
    }
    if let Some(j) = &args.junit
        && let Err(e) = crate::out::ensure_writable(j)
    {
        crate::errln!("--junit: {e}");
        return exit::BAD_INPUT;
    }
    if let Some(dir) = &args.corpus
        && let Err(e) = crate::out::ensure_writable_dir(dir)
    {
        crate::errln!("--corpus: {e}");
        return exit::BAD_INPUT;
    }
    let rechecked = match args.corpus.as_deref().map(crate::fuzz::campaign::recheck) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            crate::errln!("--corpus: {e}");
            return exit::BAD_INPUT;
        }
    };
    if let Some(r) = &rechecked {
        crate::outln!(
            "corpus: {} reproducing scenarios, {} still fail, {} pass",
            r.failing.len() + r.passing.len(),
            r.failing.len(),
            r.passing.len()
        );
        for (f, why) in &r.failing {
            crate::outln!("  still fails: {}: {why}", f.display());
        }
    }
    let cfg = crate::fuzz::FuzzConfig {
        kinds,
        max_faults,
        faults_stop: plan.fuzz.faults_stop,
        properties: plan.fuzz.properties.clone(),
        never_prints: plan.fuzz.never_prints.clone(),
        bounds: plan.fuzz.bounds.clone(),
        shrink: !args.no_shrink,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    crate::interrupt::install();
    let started = Instant::now();
    let keep_going = |stage: crate::fuzz::Stage| {
        !crate::interrupt::requested()
            && (stage == crate::fuzz::Stage::Shrinking
                || budget.is_none_or(|b| started.elapsed() < b))
    };
    let progress = crate::progress::Progress::new("fuzz");
    let report = |p| report(&progress, p);
    let mut summary = if args.guided {
        crate::fuzz::guided::sweep(&plan, &text, &cfg, &seeds, jobs, &keep_going, &report)
    } else {
        crate::fuzz::sweep(&plan, &text, &cfg, &seeds, jobs, &keep_going, &report)
    };
    summary.interrupted = crate::interrupt::requested();
    let stem = plan.file_stem();
    let mut worst = exit::OK;
    for g in &mut summary.groups {
        let f = &mut g.representative;
        let file = args
            .out
            .join(format!("{stem}__{}__seed-{}.toml", f.property, f.seed));
        match crate::fuzz::repro_toml(&text, &plan, &cfg, f) {
            Ok(toml) => {
                if let Err(e) = crate::out::write_atomic(&file, toml.as_bytes()) {
                    crate::errln!("{}: {e}", file.display());
                    worst = exit::BAD_INPUT;
                    continue;
                }
                f.repro = Some(file.display().to_string());
                if let Some(dir) = &args.corpus {
                    let kept = dir.join(file.file_name().expect("a file name"));
                    if let Err(e) = crate::out::write_atomic(&kept, toml.as_bytes()) {
                        crate::errln!("{}: {e}", kept.display());
                        worst = exit::BAD_INPUT;
                    }
                }
            }
            Err(e) => crate::errln!("seed {}: cannot write a reproducing scenario: {e}", f.seed),
        }
    }
    let json = serde_json::to_string_pretty(&summary).expect("summaries serialise");
    let summary_file = args.out.join("summary.json");
    if let Err(e) = crate::out::write_atomic(&summary_file, json.as_bytes()) {
        crate::errln!("{}: {e}", summary_file.display());
        return exit::BAD_INPUT;
    }
    if let Some(j) = &args.junit
        && let Err(e) = crate::out::write_atomic(j, fuzz_junit(&plan, &cfg, &summary).as_bytes())
    {
        crate::errln!("{}: {e}", j.display());
        return exit::BAD_INPUT;
    }
    print_fuzz_summary(&summary, seeds.len(), started.elapsed().as_secs_f64());
    crate::outln!("summary: {}", summary_file.display());
    if summary.interrupted {
        return crate::interrupt::exit_status();
    }
    let corpus_fails = rechecked.is_some_and(|r| !r.failing.is_empty());
    if worst != exit::OK {
        worst
    } else if summary.failures.is_empty() && !corpus_fails {
        exit::OK
    } else {
        exit::EXPECTATION_FAILED
    }
}

/// Seeds as ranges: `0..=41, 43, 45..=50`.
fn seed_ranges(seeds: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seeds.len() {
        let mut j = i;
        while j + 1 < seeds.len() && seeds[j + 1] == seeds[j] + 1 {
            j += 1;
        }
        out.push(if j == i {
            seeds[i].to_string()
        } else {
            format!("{}..={}", seeds[i], seeds[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

/// The JUnit report of a sweep: a testcase per property checked that no
/// seed broke, and one per failure group.
fn fuzz_junit(plan: &Plan, cfg: &crate::fuzz::FuzzConfig, s: &crate::fuzz::Summary) -> String {
    use crate::junit::Case;
    let class = format!("fuzz.{}", s.scenario);
    let mut properties: Vec<String> = Vec::new();
    if plan.cluster.is_none() {
        properties.push("one-leader-per-epoch".into());
    }
    for p in [
        "one-vote-per-epoch",
        "epochs-monotonic",
        "offsets-monotonic",
    ] {
        properties.push(p.into());
    }
    properties.extend(cfg.properties.iter().cloned());
    let b = &cfg.bounds;
    if b.max_lost_acked_writes.is_some() {
        properties.push("max-lost-acked-writes".into());
    }
    if b.max_unavailability.is_some() {
        properties.push("max-unavailability".into());
    }
    if b.converges_within.is_some() {
        properties.push("converges-within".into());
    }
    properties.extend(s.per_property.keys().cloned());
    properties.sort();
    properties.dedup();
    let mut cases = Vec::new();
    for p in properties {
        if !s.per_property.contains_key(&p) {
            cases.push(Case::passed(&class, &format!("{p} ({} seeds)", s.runs)));
        }
    }
    for g in &s.groups {
        let r = &g.representative;
        let message = format!("{} of {} seeds: {}", g.count, s.runs, r.detail);
        let text = format!(
            "{}\nseeds: {}\nreproduce: redsim run {}\n",
            g.signature,
            seed_ranges(&g.seeds),
            r.repro.as_deref().unwrap_or("(not written)")
        );
        cases.push(Case::failed(&class, &g.signature, &message, &text));
    }
    crate::junit::render(&format!("fuzz {}", s.scenario), &cases)
}

fn print_fuzz_summary(s: &crate::fuzz::Summary, total: u64, wall: f64) {
    crate::outln!(
        "{}: {} seeds in {:.1} s ({:.1} seeds/s), {} failing in {} group{}",
        s.scenario,
        s.runs,
        wall,
        s.runs as f64 / wall.max(1e-9),
        s.failures.len(),
        s.groups.len(),
        if s.groups.len() == 1 { "" } else { "s" }
    );
    if s.interrupted {
        crate::outln!(
            "INTERRUPTED by {} after {} of {total} seeds; completed seeds: {}",
            crate::interrupt::signal_name().unwrap_or("a signal"),
            s.runs,
            if s.seeds.is_empty() {
                "none".to_string()
            } else {
                seed_ranges(&s.seeds)
            }
        );
    } else if s.runs < total {
        crate::outln!(
            "budget spent after {} of {total} seeds; completed seeds: {}",
            s.runs,
            seed_ranges(&s.seeds)
        );
    }
    for (p, n) in &s.per_property {
        crate::outln!("  {p}: {n} failing seeds");
    }
    if !s.groups.is_empty() {
        crate::outln!("failure groups (same property and cause chain):");
    }
    for (i, g) in s.groups.iter().enumerate() {
        let r = &g.representative;
        crate::outln!(
            "  #{} {} seed{}: {}",
            i + 1,
            g.count,
            if g.count == 1 { "" } else { "s" },
            g.signature
        );
        let shrunk = if r.shrunk {
            format!(
                "shrunk from {} to {} faults",
                r.faults_drawn, r.faults_after_shrinking
            )
        } else {
            format!("not shrunk, {} faults", r.faults_drawn)
        };
        crate::outln!("     seed {}: {} ({shrunk})", r.seed, r.detail);
        crate::outln!("     seeds: {}", seed_ranges(&g.seeds));
        if let Some(f) = &r.repro {
            crate::outln!("     reproduce: redsim run {f}");
        }
    }
    let width = s.coverage.iter().map(|p| p.probe.len()).max().unwrap_or(0);
    crate::outln!("coverage (runs reaching each rare path):");
    for p in &s.coverage {
        let note = if !p.applicable {
            "  not applicable to this scenario"
        } else if p.runs == 0 {
            "  never reached"
        } else {
            ""
        };
        let runs = if p.applicable {
            p.runs.to_string()
        } else {
            "-".to_string()
        };
        crate::outln!("  {:<width$}  {runs:>6}{note}", p.probe);
    }
    crate::out!("{}", s.states.report(5, false));
}

/// A summary file's campaign coverage.
fn read_coverage(file: &Path) -> Result<crate::coverage::Coverage, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let s: crate::fuzz::Summary = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a fuzz summary: {e}", file.display()))?;
    Ok(s.states)
}

fn fuzz_coverage(file: &Path, other: Option<&Path>) -> u8 {
    let a = match read_coverage(file) {
        Ok(c) => c,
        Err(e) => {
            crate::errln!("{e}");
            return exit::BAD_INPUT;
        }
    };
    match other {
        None => crate::out!("{}", a.report(usize::MAX, true)),
        Some(o) => match read_coverage(o) {
            Ok(b) => crate::out!(
                "{}",
                a.compare(&b, &file.display().to_string(), &o.display().to_string())
            ),
            Err(e) => {
                crate::errln!("{e}");
                return exit::BAD_INPUT;
            }
        },
    }
    exit::OK
}

fn fuzz_merge(files: &[PathBuf], out: Option<&Path>, baseline: Option<&Path>) -> u8 {
    let known: Option<Vec<String>> = match baseline {
        None => None,
        Some(b) => match std::fs::read_to_string(b)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                serde_json::from_str::<crate::fuzz::Summary>(&t).map_err(|e| e.to_string())
            }) {
            Ok(s) => Some(s.groups.into_iter().map(|g| g.signature).collect()),
            Err(e) => {
                crate::errln!("--baseline {}: not a fuzz summary: {e}", b.display());
                return exit::BAD_INPUT;
            }
        },
    };
    if let Some(o) = out
        && let Err(e) = crate::out::ensure_writable(o)
    {
        crate::errln!("--out: {e}");
        return exit::BAD_INPUT;
    }
    let mut merged: Option<crate::fuzz::Summary> = None;
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                crate::errln!("{}: {e}", f.display());
                return exit::BAD_INPUT;
            }
        };
        let s: crate::fuzz::Summary = match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                crate::errln!("{}: not a fuzz summary: {e}", f.display());
                return exit::BAD_INPUT;
            }
        };
        merged = Some(match merged {
            None => s,
            Some(m) => match m.merge(s) {
                Ok(m) => m,
                Err(e) => {
                    crate::errln!("redsim fuzz merge: {}: {e}", f.display());
                    return exit::BAD_INPUT;
                }
            },
        });
    }
    let merged = merged.expect("at least one summary");
    let json = serde_json::to_string_pretty(&merged).expect("summaries serialise");
    match out {
        Some(path) => {
            if let Err(e) = crate::out::write_atomic(path, json.as_bytes()) {
                crate::errln!("{}: {e}", path.display());
                return exit::BAD_INPUT;
            }
        }
        None => crate::outln!("{json}"),
    }
    let new: Vec<&str> = merged
        .groups
        .iter()
        .map(|g| g.signature.as_str())
        .filter(|sig| known.as_ref().is_none_or(|k| !k.iter().any(|s| s == sig)))
        .collect();
    if known.is_some() {
        crate::errln!(
            "{} failure group{} not in the baseline",
            new.len(),
            if new.len() == 1 { "" } else { "s" }
        );
        for sig in &new {
            crate::errln!("  new: {sig}");
        }
    }
    if merged.failures.is_empty() || (known.is_some() && new.is_empty()) {
        exit::OK
    } else {
        exit::EXPECTATION_FAILED
    }
}

#[cfg(test)]
mod tests {
    use clap::Args as _;

    /// `--faults --help` names every kind a sweep draws, by its key.
    #[test]
    fn the_faults_help_lists_every_kind_drawn() {
        let cmd = super::FuzzArgs::augment_args(clap::Command::new("fuzz"));
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_id() == "faults")
            .expect("--faults");
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .expect("a help text")
            .to_string();
        let listed: Vec<&str> = help
            .split_once("): ")
            .and_then(|(_, l)| l.split(" (").next())
            .expect("a list of kinds")
            .split(',')
            .map(|k| k.trim())
            .collect();
        let kinds: Vec<&str> = crate::fuzz::KINDS.iter().map(|k| k.key()).collect();
        assert_eq!(listed, kinds, "{help}");
    }
}
