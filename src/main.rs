//! The redsim command line: parses arguments, calls the library, and maps
//! outcomes to documented exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use redsim::check::RunView as _;
use redsim::report::{self, Format};
use redsim::scenario::{self, Plan};
use redsim::sim::time::{Secs, parse_time};
use redsim::{golden, world};

/// Exit codes, as documented in the README.
const EXIT_OK: u8 = 0;
const EXIT_EXPECTATION_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_SIMULATION_ERROR: u8 = 3;

#[derive(Parser)]
#[command(
    name = "redsim",
    version,
    about = "Deterministic simulator of Redis replication, Sentinel and Cluster failover"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Jsonl,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its trace and a summary.
    Run {
        scenario: PathBuf,
        /// Seed for every random stream (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long, value_enum, default_value = "text")]
        format: FormatArg,
        /// Write the trace to this file instead of standard output.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Report events processed, simulated time and wall time.
        #[arg(long)]
        stats: bool,
        /// Run twice in this process and report the first diverging event.
        #[arg(long)]
        check_determinism: bool,
        /// Print a JSON verdict (expectations, lost writes, unavailability)
        /// instead of the trace and summary; the trace still goes to --trace.
        #[arg(long, conflicts_with_all = ["check_determinism", "format", "stats"])]
        json: bool,
    },
    /// Run scenarios (files or directories) and check their expectations.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print one JSON verdict per scenario (JSON Lines) instead of text.
        #[arg(long)]
        json: bool,
        /// Also write a JUnit XML report: one testcase per scenario.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Print a Redis node's `INFO replication` (or a Sentinel's `INFO sentinel`) at a simulated time.
    Info {
        scenario: PathBuf,
        #[arg(long)]
        node: String,
        /// Simulated time, e.g. 20s or 1500ms.
        #[arg(long)]
        at: String,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Lay random fault schedules over a scenario, check invariants and
    /// properties, and write a shrunk, reproducing scenario per failure.
    Fuzz(FuzzArgs),
    /// List scenarios by topic, with the question each one answers.
    List {
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// Narrate a run for a learner: each step in plain words with its time,
    /// the decisions with their reasons, and an answer with measured numbers.
    Explain {
        /// The scenario to narrate.
        scenario: PathBuf,
        /// Seed for every random stream (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run a scenario over a range of one setting and several seeds; write
    /// a CSV of failover times and lost writes, and an SVG plot of them.
    Sweep(redsim::sweep::cli::SweepArgs),
    /// Record a run and write a self-contained HTML page that plays it back
    /// (and/or the space-time diagram of the failover's messages as SVG).
    Dashboard {
        scenario: PathBuf,
        /// The HTML page to write.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Also (or only) write the space-time diagram as an SVG file.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Simulated time span of the space-time diagram, e.g. 24s..28s
        /// (default: around the failover).
        #[arg(long)]
        window: Option<String>,
        /// Simulated time between samples of every node's state.
        #[arg(long, default_value = "100ms")]
        sample_every: String,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Compare (or with --update, rewrite) golden traces of scenarios.
    Golden {
        /// Where the golden traces live.
        #[arg(long, default_value = "tests/golden")]
        dir: PathBuf,
        /// Rewrite the golden files instead of comparing.
        #[arg(long)]
        update: bool,
        /// Also write a JUnit XML report: one testcase per golden file.
        #[arg(long, conflicts_with = "update")]
        junit: Option<PathBuf>,
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// Run scenarios with a `[conform]` table on real redis-server and
    /// redis-sentinel processes and on the simulator, and compare them.
    Conform(ConformArgs),
}

#[derive(clap::Args)]
struct ConformArgs {
    /// Scenario files or directories (scenarios without `[conform]` are skipped).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The redis-server binary (default: found on PATH).
    #[arg(long)]
    redis_server: Option<PathBuf>,
    /// The redis-sentinel binary (default: found on PATH).
    #[arg(long)]
    redis_sentinel: Option<PathBuf>,
    /// The first port; node i listens on port-base + i, on 127.0.0.1 only
    /// (or in its own network namespace, see --netns).
    #[arg(long, default_value_t = 17000)]
    port_base: u16,
    /// Run every scenario with each process in its own network namespace
    /// on a private bridge (needs root and iproute2), as scenarios with
    /// partitions always are.
    #[arg(long)]
    netns: bool,
    /// Simulator seeds per scenario (default: the scenario's `[conform] seeds`).
    #[arg(long)]
    seeds: Option<u32>,
    /// Also write the agreement tables (Markdown) to this file, whole or not
    /// at all (not after an interrupt); checked before any work starts.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep the real processes' configuration files and logs in this
    /// directory, each run in a new private subdirectory named after its
    /// scenario (nothing already there is touched). Without it they go to a
    /// private temporary directory removed on exit.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Run a scenario whose real run disagreed again, up to this many times,
    /// so a real run upset by the host's scheduling does not fail the suite;
    /// a systematic difference fails every attempt.
    #[arg(long, default_value_t = 0)]
    retries: u32,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct FuzzArgs {
    #[command(subcommand)]
    merge: Option<FuzzCommand>,
    /// The scenario to fuzz.
    scenario: Option<PathBuf>,
    /// Seeds to run, as `a..b` (b excluded; at most 2^32 seeds).
    #[arg(long, default_value = "0..100")]
    seeds: String,
    /// Parallel runs (default: the number of cores); results do not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard i of n of the seeds (`--shard 2/8`), for CI matrices.
    #[arg(long)]
    shard: Option<String>,
    /// Fault kinds to draw: kill,crash,pause,partition,oneway,restart,clock,link,burst.
    #[arg(long)]
    faults: Option<String>,
    /// At most this many faults per schedule (default: [fuzz] max-faults,
    /// or 6; at most 100).
    #[arg(long)]
    max_faults: Option<usize>,
    /// Stop starting new seeds after this much wall time (e.g. 60s): the set
    /// of seeds run then depends on the machine.
    #[arg(long)]
    budget: Option<String>,
    /// Do not shrink failing schedules.
    #[arg(long)]
    no_shrink: bool,
    /// Where summary.json and the reproducing scenarios go.
    #[arg(long, default_value = "fuzz-out")]
    out: PathBuf,
    /// Also write a JUnit XML report: one testcase per property checked
    /// and per failure group.
    #[arg(long)]
    junit: Option<PathBuf>,
}

#[derive(Subcommand)]
enum FuzzCommand {
    /// Merge the summary.json files of several shards into one.
    Merge {
        #[arg(required = true)]
        summaries: Vec<PathBuf>,
        /// Write the merged summary here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run {
            scenario,
            seed,
            format,
            trace,
            stats,
            check_determinism,
            json,
        } => cmd_run(
            &scenario,
            seed,
            format,
            trace.as_deref(),
            stats,
            check_determinism,
            json,
        ),
        Command::Check { paths, json, junit } => cmd_check(&paths, json, junit.as_deref()),
        Command::Info {
            scenario,
            node,
            at,
            seed,
        } => cmd_info(&scenario, &node, &at, seed),
        Command::Golden {
            dir,
            update,
            junit,
            paths,
        } => cmd_golden(&dir, update, junit.as_deref(), &paths),
        Command::Fuzz(args) => cmd_fuzz(args),
        Command::List { paths } => cmd_list(&paths),
        Command::Explain { scenario, seed } => cmd_explain(&scenario, seed),
        Command::Sweep(args) => redsim::sweep::cli::run(&args),
        Command::Dashboard {
            scenario,
            out,
            svg,
            window,
            sample_every,
            seed,
        } => cmd_dashboard(
            &scenario,
            &redsim::dashboard::output::Request {
                out: out.as_deref(),
                svg: svg.as_deref(),
                window: window.as_deref(),
                sample_every: &sample_every,
                seed,
            },
        ),
        Command::Conform(args) => cmd_conform(args),
    };
    ExitCode::from(code)
}

fn load(path: &Path) -> Result<Plan, u8> {
    scenario::load(path).map_err(|e| {
        redsim::errln!("{e}");
        EXIT_BAD_INPUT
    })
}

fn cmd_run(
    path: &Path,
    seed: Option<u64>,
    format: FormatArg,
    trace_file: Option<&Path>,
    stats: bool,
    check_determinism: bool,
    json: bool,
) -> u8 {
    let plan = match load(path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let seed = seed.unwrap_or(plan.seed);
    let format = match format {
        FormatArg::Text => Format::Text,
        FormatArg::Jsonl => Format::Jsonl,
    };
    // An unwritable destination is reported before the run, not after it.
    if let Some(f) = trace_file
        && let Err(e) = redsim::out::ensure_writable(f)
    {
        redsim::errln!("--trace: cannot write the trace, so nothing ran: {e}");
        return EXIT_BAD_INPUT;
    }
    if check_determinism {
        return match golden::determinism(&plan, seed) {
            Ok(None) => {
                redsim::outln!("deterministic: two runs of seed {seed} produced identical traces");
                EXIT_OK
            }
            Ok(Some(d)) => {
                redsim::outln!("NOT deterministic: {d}");
                EXIT_EXPECTATION_FAILED
            }
            Err(e) => {
                redsim::errln!("{}: {e}", path.display());
                EXIT_SIMULATION_ERROR
            }
        };
    }
    let started = Instant::now();
    let outcome = match world::run(&plan, seed) {
        Ok(o) => o,
        Err(e) => {
            redsim::errln!("{}: {e}", path.display());
            return EXIT_SIMULATION_ERROR;
        }
    };
    let wall = started.elapsed();
    if json {
        if let Some(f) = trace_file {
            let rendered = report::render_trace(&outcome.world, format, seed);
            if let Err(e) = redsim::out::write_atomic(f, rendered.as_bytes()) {
                redsim::errln!("{}: cannot write the trace: {e}", f.display());
                return EXIT_BAD_INPUT;
            }
        }
        redsim::outln!("{}", verdict_json(path, &plan, seed, &outcome));
        return if outcome.verdicts.iter().all(|v| v.holds) {
            EXIT_OK
        } else {
            EXIT_EXPECTATION_FAILED
        };
    }
    let rendered = report::render_trace(&outcome.world, format, seed);
    let summary = report::summary(&outcome);
    match trace_file {
        Some(f) => {
            if let Err(e) = redsim::out::write_atomic(f, rendered.as_bytes()) {
                redsim::errln!("{}: cannot write the trace: {e}", f.display());
                return EXIT_BAD_INPUT;
            }
            redsim::out!("{summary}");
        }
        None => {
            redsim::out!("{rendered}");
            if format == Format::Text {
                redsim::out!("\n{summary}");
            } else {
                redsim::errln!("{}", summary.trim_end_matches('\n'));
            }
        }
    }
    if stats {
        redsim::errln!(
            "stats: {} events, {} simulated, {:.3} s wall, {:.0} events/s",
            outcome.world.events_processed(),
            Secs(outcome.world.sim.now()),
            wall.as_secs_f64(),
            outcome.world.events_processed() as f64 / wall.as_secs_f64().max(1e-9)
        );
    }
    if outcome.verdicts.iter().all(|v| v.holds) {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
    }
}

/// A run's verdict as one JSON object: what `run --json` and `check --json`
/// print.
fn verdict_json(
    file: &Path,
    plan: &Plan,
    seed: u64,
    outcome: &world::RunOutcome,
) -> serde_json::Value {
    let w = &outcome.world;
    let unavailability = w.write_unavailability().map(|gap| {
        serde_json::json!({
            "longest_us": gap.len(),
            "longest": redsim::sim::time::format_duration(gap.len()),
            "from_us": gap.from,
            "to_us": gap.to,
        })
    });
    serde_json::json!({
        "scenario": plan.name,
        "file": file.display().to_string(),
        "seed": seed,
        "passed": outcome.verdicts.iter().all(|v| v.holds),
        "expectations": outcome.verdicts.iter().map(|v| serde_json::json!({
            "description": v.description,
            "holds": v.holds,
            "observed": v.observed,
        })).collect::<Vec<_>>(),
        "lost_writes": w.lost_writes().len(),
        "unavailability": unavailability,
    })
}

fn cmd_explain(path: &Path, seed: Option<u64>) -> u8 {
    let plan = match load(path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    match redsim::explain::explain(&plan, seed.unwrap_or(plan.seed)) {
        Ok(text) => {
            redsim::out!("{text}");
            EXIT_OK
        }
        Err(e) => {
            redsim::errln!("{}: {e}", path.display());
            EXIT_SIMULATION_ERROR
        }
    }
}

fn cmd_check(paths: &[PathBuf], json: bool, junit: Option<&Path>) -> u8 {
    use redsim::junit::Case;
    if let Some(f) = junit
        && let Err(e) = redsim::out::ensure_writable(f)
    {
        redsim::errln!("--junit: {e}");
        return EXIT_BAD_INPUT;
    }
    let files = match golden::scenario_files(paths) {
        Ok(f) => f,
        Err(e) => {
            redsim::errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut worst = EXIT_OK;
    let (mut passed, mut failed) = (0, 0);
    let mut cases = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let plan = match scenario::load(&file) {
            Ok(p) => p,
            Err(e) => {
                worst = worst.max(EXIT_BAD_INPUT);
                failed += 1;
                if json {
                    redsim::outln!(
                        "{}",
                        serde_json::json!({"file": name, "passed": false, "error": e.to_string()})
                    );
                } else {
                    redsim::errln!("{e}");
                }
                cases.push(Case::errored("check", &name, &e.to_string()));
                continue;
            }
        };
        match world::run(&plan, plan.seed) {
            Ok(o) => {
                let bad: Vec<_> = o.verdicts.iter().filter(|v| !v.holds).collect();
                if json {
                    redsim::outln!("{}", verdict_json(&file, &plan, plan.seed, &o));
                }
                if bad.is_empty() {
                    passed += 1;
                    if !json {
                        redsim::outln!("ok     {} ({} expectations)", name, o.verdicts.len());
                    }
                    cases.push(Case::passed("check", &name));
                } else {
                    failed += 1;
                    worst = worst.max(EXIT_EXPECTATION_FAILED);
                    if !json {
                        redsim::outln!("FAILED {}", name);
                    }
                    let mut text = String::new();
                    for v in &bad {
                        let line = format!("{} (observed: {})", v.description, v.observed);
                        if !json {
                            redsim::outln!("       {line}");
                        }
                        text.push_str(&line);
                        text.push('\n');
                    }
                    let message = format!(
                        "{} of {} expectations failed: {}",
                        bad.len(),
                        o.verdicts.len(),
                        bad[0].description
                    );
                    cases.push(Case::failed("check", &name, &message, &text));
                }
            }
            Err(e) => {
                failed += 1;
                worst = worst.max(EXIT_SIMULATION_ERROR);
                if json {
                    redsim::outln!(
                        "{}",
                        serde_json::json!({
                            "scenario": plan.name,
                            "file": name,
                            "seed": plan.seed,
                            "passed": false,
                            "error": e.to_string(),
                        })
                    );
                } else {
                    redsim::outln!("ERROR  {name}: {e}");
                }
                cases.push(Case::errored("check", &name, &e.to_string()));
            }
        }
    }
    if !json {
        redsim::outln!("{passed} passed, {failed} failed");
    }
    if let Some(f) = junit
        && let Err(e) =
            redsim::out::write_atomic(f, redsim::junit::render("check", &cases).as_bytes())
    {
        redsim::errln!("{}: {e}", f.display());
        return worst.max(EXIT_BAD_INPUT);
    }
    worst
}

fn cmd_info(path: &Path, node: &str, at: &str, seed: Option<u64>) -> u8 {
    let plan = match load(path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let Some(n) = plan.node_index(node) else {
        let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
        redsim::errln!("unknown node `{node}`; the nodes are: {}", names.join(", "));
        return EXIT_BAD_INPUT;
    };
    let at = match parse_time(at) {
        Ok(t) if t > plan.duration => {
            redsim::errln!(
                "--at {}: after the end of the run (duration = {})",
                Secs(t),
                Secs(plan.duration)
            );
            return EXIT_BAD_INPUT;
        }
        Ok(t) => t,
        Err(e) => {
            redsim::errln!("--at: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut w = world::World::new(&plan, seed.unwrap_or(plan.seed));
    if let Err(e) = w.run_until(at) {
        redsim::errln!("{}: {e}", path.display());
        return EXIT_SIMULATION_ERROR;
    }
    match w.info(n) {
        Some(info) => {
            redsim::out!("{}", info.replace("\r\n", "\n"));
            EXIT_OK
        }
        None if w.redis(n).is_some() => {
            redsim::outln!("{node} is not running at {}", Secs(at));
            EXIT_OK
        }
        None if w.sentinel(n).is_some() => {
            match w.sentinel(n).and_then(|s| s.info()) {
                Some(info) => redsim::out!("{}", info.replace("\r\n", "\n")),
                None => redsim::outln!("{node} is not running at {}", Secs(at)),
            }
            EXIT_OK
        }
        None => {
            redsim::errln!("`{node}` is a client, not a Redis node");
            EXIT_BAD_INPUT
        }
    }
}

fn cmd_golden(dir: &Path, update: bool, junit: Option<&Path>, paths: &[PathBuf]) -> u8 {
    let Some(junit) = junit else {
        return match golden::compare_all(dir, paths, update) {
            Ok(report) => {
                redsim::out!("{}", report.text);
                if report.mismatches == 0 {
                    EXIT_OK
                } else {
                    EXIT_EXPECTATION_FAILED
                }
            }
            Err(e @ golden::GoldenError::Simulation(_)) => {
                redsim::errln!("{e}");
                EXIT_SIMULATION_ERROR
            }
            Err(e) => {
                redsim::errln!("{e}");
                EXIT_BAD_INPUT
            }
        };
    };
    // With --junit: the same comparison, one testcase per golden file.
    use redsim::junit::Case;
    if let Err(e) = redsim::out::ensure_writable(junit) {
        redsim::errln!("--junit: {e}");
        return EXIT_BAD_INPUT;
    }
    let files = match golden::scenario_files(paths) {
        Ok(f) => f,
        Err(e) => {
            redsim::errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut worst = EXIT_OK;
    let mut cases = Vec::new();
    for file in files {
        let plan = match scenario::load(&file) {
            Ok(p) => p,
            Err(e) => {
                redsim::errln!("{e}");
                worst = worst.max(EXIT_BAD_INPUT);
                cases.push(Case::errored(
                    "golden",
                    &file.display().to_string(),
                    &e.to_string(),
                ));
                continue;
            }
        };
        let gold = golden::golden_path(dir, &plan);
        let name = gold.display().to_string();
        let trace = match golden::trace_of(&plan) {
            Ok(t) => t,
            Err(e) => {
                let msg = format!("{}: {e}", file.display());
                redsim::errln!("{msg}");
                worst = worst.max(EXIT_SIMULATION_ERROR);
                cases.push(Case::errored("golden", &name, &msg));
                continue;
            }
        };
        match std::fs::read_to_string(&gold) {
            Ok(want) if want == trace => {
                redsim::outln!("same   {name}");
                cases.push(Case::passed("golden", &name));
            }
            Ok(want) => {
                let diff = golden::first_difference(&want, &trace);
                redsim::outln!("DIFFER {name}: {diff}");
                worst = worst.max(EXIT_EXPECTATION_FAILED);
                let first = diff.lines().next().unwrap_or("").trim_end_matches(':');
                let message = format!("trace differs from the golden file at {first}");
                cases.push(Case::failed("golden", &name, &message, &diff));
            }
            Err(e) => {
                redsim::outln!("MISSING {name}: {e}");
                worst = worst.max(EXIT_EXPECTATION_FAILED);
                let message = format!("no golden file: {e}");
                cases.push(Case::failed("golden", &name, &message, &message));
            }
        }
    }
    if let Err(e) =
        redsim::out::write_atomic(junit, redsim::junit::render("golden", &cases).as_bytes())
    {
        redsim::errln!("{}: {e}", junit.display());
        return worst.max(EXIT_BAD_INPUT);
    }
    worst
}

/// The most faults a schedule may hold (`--max-faults`, `[fuzz]
/// max-faults`): faults last at least 100 ms and all happen before
/// `faults-stop`, so more only pile on top of each other while runs and
/// shrinking slow down in proportion.
const MAX_FAULTS: usize = 100;

/// Parses `--seeds a..b` and `--shard i/n` into the seeds to run.
fn fuzz_seeds(seeds: &str, shard: Option<&str>) -> Result<redsim::fuzz::Seeds, String> {
    let Some((a, b)) = seeds
        .split_once("..")
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
    else {
        return Err(format!(
            "--seeds: expected a range like 0..1000 (of numbers from 0 to {}), got `{seeds}`",
            u64::MAX
        ));
    };
    if b < a {
        return Err(format!(
            "--seeds {seeds}: the range is backwards (the end is excluded: 0..100 runs seeds 0 to 99)"
        ));
    }
    let shard = match shard {
        None => None,
        Some(s) => Some(
            s.split_once('/')
                .and_then(|(i, n)| Some((i.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
                .filter(|(i, n)| *n > 0 && i < n)
                .ok_or_else(|| format!("--shard: expected i/n with 0 <= i < n, got `{s}`"))?,
        ),
    };
    let set = redsim::fuzz::Seeds {
        start: a,
        end: b,
        shard,
    };
    if b > i64::MAX as u64 + 1 {
        return Err(format!(
            "--seeds {seeds}: seeds go up to {} (a reproducing scenario names its seed as a TOML integer)",
            i64::MAX
        ));
    }
    if set.len() > redsim::fuzz::MAX_SEEDS {
        return Err(format!(
            "--seeds {seeds}: {} seeds is more than one sweep takes (at most {}): at some seeds a second per core it would never finish; split it with --shard i/n or bound it with --budget TIME",
            set.len(),
            redsim::fuzz::MAX_SEEDS
        ));
    }
    Ok(set)
}

/// Progress on standard error: rewritten in place on a terminal, else a
/// line every few seconds (wall time, outside the runs).
struct Progress {
    terminal: bool,
    started: Instant,
    last: std::sync::Mutex<Option<Instant>>,
}

impl Progress {
    fn report(&self, phase: redsim::fuzz::Phase) {
        use redsim::fuzz::Phase;
        let every = if self.terminal {
            std::time::Duration::from_millis(100)
        } else {
            std::time::Duration::from_secs(5)
        };
        let now = Instant::now();
        let (finished, line) = match phase {
            Phase::Seeds {
                done,
                total,
                failed,
            } => {
                let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                (
                    done == total,
                    format!("{done}/{total} seeds, {failed} failing, {rate:.1} seeds/s"),
                )
            }
            Phase::Shrinking { done, total } => (
                done == total,
                format!("shrinking failure groups: {done}/{total}"),
            ),
        };
        let mut last = self.last.lock().expect("no panics while holding it");
        if !finished && last.is_some_and(|l| now.duration_since(l) < every) {
            return;
        }
        *last = Some(now);
        if self.terminal {
            let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("\r{line}   "));
            if finished {
                redsim::errln!();
            }
        } else {
            redsim::errln!("fuzz: {line}");
        }
    }
}

fn cmd_fuzz(args: FuzzArgs) -> u8 {
    if let Some(FuzzCommand::Merge { summaries, out }) = args.merge {
        return fuzz_merge(&summaries, out.as_deref());
    }
    let Some(path) = args.scenario else {
        redsim::errln!("redsim fuzz: give a scenario, or `merge` and summary files");
        return EXIT_BAD_INPUT;
    };
    let plan = match load(&path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            redsim::errln!("{}: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    };
    let seeds = match fuzz_seeds(&args.seeds, args.shard.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            redsim::errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let kinds = match &args.faults {
        None => redsim::fuzz::FaultKind::ALL.to_vec(),
        Some(list) => {
            let mut kinds = Vec::new();
            for k in list.split(',') {
                match redsim::fuzz::FaultKind::parse(k.trim()) {
                    Some(kind) => kinds.push(kind),
                    None => {
                        redsim::errln!(
                            "--faults: unknown fault kind `{k}` (kill, crash, pause, partition, oneway, restart, clock, link, burst)"
                        );
                        return EXIT_BAD_INPUT;
                    }
                }
            }
            kinds
        }
    };
    let budget = match args.budget.as_deref().map(parse_time) {
        None => None,
        Some(Ok(t)) => Some(std::time::Duration::from_micros(t)),
        Some(Err(e)) => {
            redsim::errln!("--budget: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let max_faults = args.max_faults.unwrap_or(plan.fuzz.max_faults);
    if max_faults > MAX_FAULTS {
        let from = if args.max_faults.is_some() {
            "--max-faults".to_string()
        } else {
            format!("{}: [fuzz] max-faults", path.display())
        };
        redsim::errln!(
            "{from} = {max_faults}: at most {MAX_FAULTS} faults per schedule (faults last at least 100ms and all happen before faults-stop, so more only pile up while every run and every shrinking step slows down)"
        );
        return EXIT_BAD_INPUT;
    }
    // Outputs are checked before any seed runs.
    if let Err(e) = redsim::out::ensure_writable_dir(&args.out) {
        redsim::errln!("--out: {e}");
        return EXIT_BAD_INPUT;
    }
    if let Some(j) = &args.junit
        && let Err(e) = redsim::out::ensure_writable(j)
    {
        redsim::errln!("--junit: {e}");
        return EXIT_BAD_INPUT;
    }
    let cfg = redsim::fuzz::FuzzConfig {
        kinds,
        max_faults,
        faults_stop: plan.fuzz.faults_stop,
        properties: plan.fuzz.properties.clone(),
        bounds: plan.fuzz.bounds.clone(),
        shrink: !args.no_shrink,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    redsim::interrupt::install();
    let started = Instant::now();
    let keep_going = |stage: redsim::fuzz::Stage| {
        !redsim::interrupt::requested()
            && (stage == redsim::fuzz::Stage::Shrinking
                || budget.is_none_or(|b| started.elapsed() < b))
    };
    let progress = Progress {
        terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        started,
        last: std::sync::Mutex::new(None),
    };
    let mut summary = redsim::fuzz::sweep(&plan, &text, &cfg, &seeds, jobs, &keep_going, &|p| {
        progress.report(p)
    });
    summary.interrupted = redsim::interrupt::requested();
    let stem = plan.name.replace('/', "__");
    let mut worst = EXIT_OK;
    for g in &mut summary.groups {
        let f = &mut g.representative;
        let file = args
            .out
            .join(format!("{stem}__{}__seed-{}.toml", f.property, f.seed));
        match redsim::fuzz::repro_toml(&text, &plan, &cfg, f) {
            Ok(toml) => {
                if let Err(e) = redsim::out::write_atomic(&file, toml.as_bytes()) {
                    redsim::errln!("{}: {e}", file.display());
                    worst = EXIT_BAD_INPUT;
                    continue;
                }
                f.repro = Some(file.display().to_string());
            }
            Err(e) => redsim::errln!("seed {}: cannot write a reproducing scenario: {e}", f.seed),
        }
    }
    let json = serde_json::to_string_pretty(&summary).expect("summaries serialise");
    let summary_file = args.out.join("summary.json");
    if let Err(e) = redsim::out::write_atomic(&summary_file, json.as_bytes()) {
        redsim::errln!("{}: {e}", summary_file.display());
        return EXIT_BAD_INPUT;
    }
    if let Some(j) = &args.junit
        && let Err(e) = redsim::out::write_atomic(j, fuzz_junit(&plan, &cfg, &summary).as_bytes())
    {
        redsim::errln!("{}: {e}", j.display());
        return EXIT_BAD_INPUT;
    }
    print_fuzz_summary(&summary, seeds.len(), started.elapsed().as_secs_f64());
    redsim::outln!("summary: {}", summary_file.display());
    if summary.interrupted {
        return redsim::interrupt::exit_status();
    }
    if worst != EXIT_OK {
        worst
    } else if summary.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
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
fn fuzz_junit(plan: &Plan, cfg: &redsim::fuzz::FuzzConfig, s: &redsim::fuzz::Summary) -> String {
    use redsim::junit::Case;
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
    redsim::junit::render(&format!("fuzz {}", s.scenario), &cases)
}

fn print_fuzz_summary(s: &redsim::fuzz::Summary, total: u64, wall: f64) {
    redsim::outln!(
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
        redsim::outln!(
            "INTERRUPTED by {} after {} of {total} seeds; completed seeds: {}",
            redsim::interrupt::signal_name().unwrap_or("a signal"),
            s.runs,
            if s.seeds.is_empty() {
                "none".to_string()
            } else {
                seed_ranges(&s.seeds)
            }
        );
    } else if s.runs < total {
        redsim::outln!(
            "budget spent after {} of {total} seeds; completed seeds: {}",
            s.runs,
            seed_ranges(&s.seeds)
        );
    }
    for (p, n) in &s.per_property {
        redsim::outln!("  {p}: {n} failing seeds");
    }
    if !s.groups.is_empty() {
        redsim::outln!("failure groups (same property and cause chain):");
    }
    for (i, g) in s.groups.iter().enumerate() {
        let r = &g.representative;
        redsim::outln!(
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
        redsim::outln!("     seed {}: {} ({shrunk})", r.seed, r.detail);
        redsim::outln!("     seeds: {}", seed_ranges(&g.seeds));
        if let Some(f) = &r.repro {
            redsim::outln!("     reproduce: redsim run {f}");
        }
    }
    let width = s.coverage.iter().map(|p| p.probe.len()).max().unwrap_or(0);
    redsim::outln!("coverage (runs reaching each rare path):");
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
        redsim::outln!("  {:<width$}  {runs:>6}{note}", p.probe);
    }
}

fn fuzz_merge(files: &[PathBuf], out: Option<&Path>) -> u8 {
    if let Some(o) = out
        && let Err(e) = redsim::out::ensure_writable(o)
    {
        redsim::errln!("--out: {e}");
        return EXIT_BAD_INPUT;
    }
    let mut merged: Option<redsim::fuzz::Summary> = None;
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                redsim::errln!("{}: {e}", f.display());
                return EXIT_BAD_INPUT;
            }
        };
        let s: redsim::fuzz::Summary = match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                redsim::errln!("{}: not a fuzz summary: {e}", f.display());
                return EXIT_BAD_INPUT;
            }
        };
        merged = Some(match merged {
            None => s,
            Some(m) => match m.merge(s) {
                Ok(m) => m,
                Err(e) => {
                    redsim::errln!("redsim fuzz merge: {}: {e}", f.display());
                    return EXIT_BAD_INPUT;
                }
            },
        });
    }
    let merged = merged.expect("at least one summary");
    let json = serde_json::to_string_pretty(&merged).expect("summaries serialise");
    match out {
        Some(path) => {
            if let Err(e) = redsim::out::write_atomic(path, json.as_bytes()) {
                redsim::errln!("{}: {e}", path.display());
                return EXIT_BAD_INPUT;
            }
        }
        None => redsim::outln!("{json}"),
    }
    if merged.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
    }
}

fn cmd_list(paths: &[PathBuf]) -> u8 {
    let files = match golden::scenario_files(paths) {
        Ok(f) => f,
        Err(e) => {
            redsim::errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    // Directory (the name's prefix), then the optional `topic`, then name.
    type Entries = Vec<(String, String)>;
    let mut topics: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, Entries>,
    > = Default::default();
    for file in files {
        let plan = match load(&file) {
            Ok(p) => p,
            Err(c) => return c,
        };
        let (topic, name) = plan
            .name
            .split_once('/')
            .map_or(("other".to_string(), plan.name.clone()), |(t, n)| {
                (t.to_string(), n.to_string())
            });
        let about = plan
            .question
            .clone()
            .or_else(|| {
                plan.description
                    .as_ref()
                    .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .unwrap_or_default();
        topics
            .entry(topic)
            .or_default()
            .entry(plan.topic.clone().unwrap_or_default())
            .or_default()
            .push((name, about));
    }
    let width = topics
        .values()
        .flat_map(|t| t.values())
        .flatten()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (topic, groups) in topics {
        redsim::outln!("{topic}/");
        for (sub, entries) in groups {
            let indent = if sub.is_empty() {
                "  "
            } else {
                redsim::outln!("  {sub}:");
                "    "
            };
            for (name, about) in entries {
                let about: String = about.chars().take(100).collect();
                redsim::outln!("{indent}{name:<width$}  {about}");
            }
        }
    }
    EXIT_OK
}

fn cmd_dashboard(path: &Path, req: &redsim::dashboard::output::Request<'_>) -> u8 {
    use redsim::dashboard::output::{self, DashboardError};
    let plan = match load(path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    match output::run(&plan, req) {
        Ok(files) => {
            for f in files {
                redsim::outln!("wrote {f}");
            }
            EXIT_OK
        }
        Err(e @ DashboardError::BadInput(_)) => {
            redsim::errln!("redsim dashboard: {e}");
            EXIT_BAD_INPUT
        }
        Err(e) => {
            redsim::errln!("{}: {e}", path.display());
            EXIT_SIMULATION_ERROR
        }
    }
}

fn cmd_conform(args: ConformArgs) -> u8 {
    use redsim::conform::{self, Status, real::RealOptions, scratch::TempRoot, topology::Binaries};
    use redsim::interrupt;
    /// The host could not run the real processes (README, Exit codes).
    const EXIT_ENVIRONMENT: u8 = 4;
    // SIGINT/SIGTERM from here on: finish the current step, stop every real
    // process, delete the namespaces and the scratch directory, report.
    interrupt::install();
    if let Some(out) = &args.out
        && let Err(e) = redsim::out::ensure_writable(out)
    {
        redsim::errln!("redsim conform: --out: {e}");
        return EXIT_BAD_INPUT;
    }
    if let Some(keep) = &args.keep
        && let Err(e) = redsim::out::ensure_writable_dir(keep)
    {
        redsim::errln!("redsim conform: --keep: {e}");
        return EXIT_BAD_INPUT;
    }
    let files = match golden::scenario_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            redsim::errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut plans = Vec::new();
    for f in &files {
        match load(f) {
            Ok(p) if p.conform.is_some() => plans.push(p),
            Ok(_) => {}
            Err(c) => return c,
        }
    }
    if plans.is_empty() {
        redsim::errln!("no scenario with a [conform] table under the given paths");
        return EXIT_BAD_INPUT;
    }
    let real = |p: &Plan| {
        p.conform
            .as_ref()
            .is_some_and(|c| c.simulator_only.is_none())
    };
    for p in plans.iter().filter(|p| real(p)) {
        if let Some(why) = conform::topology::refused(p) {
            redsim::errln!("{why}");
            return EXIT_BAD_INPUT;
        }
    }
    let needs_real = plans.iter().any(real);
    for (given, flag) in [
        (&args.redis_server, "--redis-server"),
        (&args.redis_sentinel, "--redis-sentinel"),
    ] {
        if let Some(p) = given
            && !p.is_file()
        {
            redsim::errln!("redsim conform: {flag} {}: no such file", p.display());
            return EXIT_BAD_INPUT;
        }
    }
    let server = conform::find_program(args.redis_server.as_deref(), "redis-server");
    let sentinel = conform::find_program(args.redis_sentinel.as_deref(), "redis-sentinel");
    let bins = match (server, sentinel) {
        (Some(s), Some(t)) => Binaries {
            redis_server: s,
            redis_sentinel: t,
        },
        _ if needs_real => {
            redsim::errln!(
                "redis-server and redis-sentinel are needed (apt-get install redis-server redis-sentinel, or --redis-server/--redis-sentinel PATH)"
            );
            return EXIT_ENVIRONMENT;
        }
        _ => Binaries {
            redis_server: "redis-server".into(),
            redis_sentinel: "redis-sentinel".into(),
        },
    };
    // A fresh private directory, removed when this function returns (or
    // unwinds); with --keep, the given directory, never removed.
    let (temp, root) = match &args.keep {
        Some(keep) => (None, keep.clone()),
        None => match TempRoot::create() {
            Ok(t) => {
                let root = t.path().to_path_buf();
                (Some(t), root)
            }
            Err(e) => {
                redsim::errln!("redsim conform: {e}");
                return EXIT_ENVIRONMENT;
            }
        },
    };
    let opts = RealOptions {
        bins,
        port_base: args.port_base,
        root,
        keep: args.keep.is_some(),
        netns: args.netns,
    };
    let mut outcomes = Vec::new();
    let mut interrupted_in = None;
    for p in &plans {
        if interrupt::requested() {
            break;
        }
        let mut spec = p.conform.clone().expect("filtered above");
        if let Some(n) = args.seeds {
            spec.seeds = n.max(1);
        }
        redsim::errln!("conform: {} ...", p.name);
        let mut attempt = 0;
        let o = loop {
            attempt += 1;
            let mut o = conform::run(p, &spec, &opts);
            let (n, m) = o.counts();
            let verdict = match &o.status {
                Status::Interrupted => "interrupted".to_string(),
                Status::Environment(e) => format!("NOT RUN: {e}"),
                Status::Failed(e) => format!("FAILED: {e}"),
                _ if o.ok() => format!("ok ({m}/{n} fields match, {:.1} s)", o.secs),
                _ => format!("DIFFERS ({m}/{n} fields match, {:.1} s)", o.secs),
            };
            redsim::errln!(
                "conform: {}: {verdict}{}",
                p.name,
                if attempt > 1 {
                    format!(", attempt {attempt}")
                } else {
                    String::new()
                }
            );
            // A disagreement or a failed run may be the host's scheduling;
            // a host that cannot run it, or a stop request, is not retried.
            let retry = matches!(o.status, Status::Compared(_) | Status::Failed(_))
                && !o.ok()
                && attempt <= args.retries
                && !interrupt::requested();
            if !retry {
                if attempt > 1 {
                    o.name = format!("{} (attempt {attempt})", o.name);
                }
                break o;
            }
        };
        if o.status == Status::Interrupted {
            interrupted_in = Some(p.name.clone());
            break;
        }
        outcomes.push(o);
    }
    // Gone before anything is printed: a closed standard output ends redsim
    // at once.
    drop(temp);
    let table = conform::render(&outcomes);
    redsim::out!("{table}");
    if interrupt::requested() {
        redsim::errln!(
            "redsim conform: interrupted by {}{}; {} of {} scenarios finished (shown above){}",
            interrupt::signal_name().unwrap_or("a signal"),
            interrupted_in
                .map(|n| format!(" during {n}"))
                .unwrap_or_default(),
            outcomes.len(),
            plans.len(),
            match &args.out {
                Some(out) => format!("; {} left as it was", out.display()),
                None => String::new(),
            }
        );
        return interrupt::exit_status();
    }
    if let Some(out) = &args.out
        && let Err(e) = redsim::out::write_atomic(out, table.as_bytes())
    {
        redsim::errln!("{}: {e}", out.display());
        return EXIT_BAD_INPUT;
    }
    if outcomes
        .iter()
        .any(|o| matches!(o.status, Status::Environment(_)))
    {
        EXIT_ENVIRONMENT
    } else if outcomes.iter().all(conform::Outcome::ok) {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
    }
}
