//! The redsim command line: parses arguments, calls the library, and maps
//! outcomes to documented exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use redsim::check::RunView as _;
use redsim::report::{self, Format};
use redsim::scenario::{self, Plan};
use redsim::time::{Secs, parse_time};
use redsim::{golden, world};

use redsim::exit::{
    BAD_INPUT as EXIT_BAD_INPUT, EXPECTATION_FAILED as EXIT_EXPECTATION_FAILED, OK as EXIT_OK,
    SIMULATION_ERROR as EXIT_SIMULATION_ERROR, load, load_with,
};

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
        /// Also keep the run's outputs in DIR/<scenario>/<seed>-<n>/ (the
        /// trace as text and JSONL, the summary, the JSON verdict, the
        /// dashboard page and the plots), with DIR/latest pointing at it.
        #[arg(long, value_name = "DIR", conflicts_with = "check_determinism")]
        out: Option<PathBuf>,
        /// Also write the run's plots into DIR as SVG: latency.svg (each
        /// operation's latency, coloured by outcome), latency-quantiles.svg
        /// and throughput.svg, with fault windows shaded and failover
        /// milestones marked.
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
        /// Override a scenario setting for this run, checked as the file
        /// is: `KEY=VALUE` with KEY a setting (`down-after-milliseconds`),
        /// a table's key (`sentinel.quorum`), `node.NAME.KEY` or
        /// `workload.N.KEY` (N from 1). Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
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
        /// Override a scenario setting for this run, checked as the file
        /// is: `KEY=VALUE` with KEY a setting (`down-after-milliseconds`),
        /// a table's key (`sentinel.quorum`), `node.NAME.KEY` or
        /// `workload.N.KEY` (N from 1). Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
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
        /// Override a scenario setting for this run, checked as the file
        /// is: `KEY=VALUE` with KEY a setting (`down-after-milliseconds`),
        /// a table's key (`sentinel.quorum`), `node.NAME.KEY` or
        /// `workload.N.KEY` (N from 1). Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Lay random fault schedules over a scenario, check invariants and
    /// properties, and write a shrunk, reproducing scenario per failure.
    Fuzz(redsim::fuzz::cli::FuzzArgs),
    /// Walk every placement of up to k faults on a time grid, breadth
    /// first: a shortest schedule that breaks a property, or the space
    /// exhausted.
    Explore(redsim::fuzz::explore_cli::ExploreArgs),
    /// Measure the canonical runs on this machine, each beside the bare
    /// event loop in the same process: seeds per minute and core, and the
    /// ratio of events per second to the bare loop's.
    Bench {
        /// Wall time to spend on each run and on its bare loop.
        #[arg(long, default_value = "2s")]
        seconds: String,
    },
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
        /// Override a scenario setting for this run, checked as the file
        /// is: `KEY=VALUE` with KEY a setting (`down-after-milliseconds`),
        /// a table's key (`sentinel.quorum`), `node.NAME.KEY` or
        /// `workload.N.KEY` (N from 1). Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
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
        /// Override a scenario setting for this run, checked as the file
        /// is: `KEY=VALUE` with KEY a setting (`down-after-milliseconds`),
        /// a table's key (`sentinel.quorum`), `node.NAME.KEY` or
        /// `workload.N.KEY` (N from 1). Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
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
    Conform(redsim::conform::cli::ConformArgs),
    /// Run a scenario's deployment in real time for redis-cli and real
    /// clients on 127.0.0.1, with faults typed at a prompt; the session is
    /// saved as a scenario that replays it.
    Lab(redsim::lab::LabArgs),
    /// Write a starting scenario that passes, to edit: NAME.toml here (or
    /// under --dir), for a Sentinel, Cluster or plain replication deployment.
    New {
        /// The scenario's name (`/`-separated parts of letters, digits,
        /// `.`, `_`, `-`); the file is NAME.toml.
        name: String,
        #[arg(long, value_parser = ["sentinel", "cluster", "replication"], default_value = "sentinel")]
        template: String,
        /// Where to write it.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Write a scenario's deployment as the redis.conf and sentinel.conf
    /// files that run it on real processes, with start.sh and stop.sh, and
    /// the rest of the scenario in redsim.toml.
    Export(redsim::interop::cli::ExportArgs),
    /// Read real redis.conf and sentinel.conf files (as `export` writes
    /// them, or your own) into a scenario.
    Import(redsim::interop::cli::ImportArgs),
    /// Print a shell completion script (e.g. `redsim completions bash >
    /// ~/.local/share/bash-completion/completions/redsim`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `redsim man > redsim.1`; with
    /// --dir, write redsim.1 and a page per subcommand (redsim-run.1, ...).
    Man {
        /// Write every page into this directory instead.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    redsim::malloc::keep_freed_memory();
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
            set,
            out,
            plots,
        } => cmd_run(
            ScenarioArg {
                path: &scenario,
                sets: &set,
            },
            seed,
            format,
            trace.as_deref(),
            RunFlags {
                stats,
                check_determinism,
                json,
                out: out.as_deref(),
                plots: plots.as_deref(),
            },
        ),
        Command::Check {
            paths,
            json,
            junit,
            set,
        } => cmd_check(&paths, &set, json, junit.as_deref()),
        Command::Info {
            scenario,
            node,
            at,
            seed,
            set,
        } => cmd_info(&scenario, &set, &node, &at, seed),
        Command::Golden {
            dir,
            update,
            junit,
            paths,
        } => cmd_golden(&dir, update, junit.as_deref(), &paths),
        Command::Fuzz(args) => redsim::fuzz::cli::run(args),
        Command::Explore(args) => redsim::fuzz::explore_cli::run(args),
        Command::Bench { seconds } => cmd_bench(&seconds),
        Command::List { paths } => cmd_list(&paths),
        Command::Explain {
            scenario,
            seed,
            set,
        } => cmd_explain(&scenario, &set, seed),
        Command::Sweep(args) => redsim::sweep::cli::run(&args),
        Command::Dashboard {
            scenario,
            out,
            svg,
            window,
            sample_every,
            seed,
            set,
        } => cmd_dashboard(
            &scenario,
            &set,
            &redsim::dashboard::output::Request {
                out: out.as_deref(),
                svg: svg.as_deref(),
                window: window.as_deref(),
                sample_every: &sample_every,
                seed,
                first: None,
            },
        ),
        Command::Conform(args) => redsim::conform::cli::run(args),
        Command::Lab(args) => redsim::lab::run(args),
        Command::Export(args) => redsim::interop::cli::export(&args),
        Command::Import(args) => redsim::interop::cli::import(&args),
        Command::Completions { shell } => cmd_completions(shell),
        Command::Man { dir } => cmd_man(dir.as_deref()),
        Command::New {
            name,
            template,
            dir,
        } => cmd_new(&name, &template, &dir),
    };
    ExitCode::from(code)
}

/// `run --out`: the run's trace (text and JSONL), summary, verdict and
/// dashboard page in a folder of their own, and `latest` pointing there.
fn keep_run(
    dir: &Path,
    path: &Path,
    plan: &Plan,
    seed: u64,
    outcome: &world::RunOutcome,
) -> Result<(), String> {
    let folder =
        redsim::store::next_run_folder(dir, &plan.file_stem(), seed).map_err(|e| e.to_string())?;
    let files = [
        (
            "trace.txt",
            report::render_trace(&outcome.world, Format::Text, seed),
        ),
        (
            "trace.jsonl",
            report::render_trace(&outcome.world, Format::Jsonl, seed),
        ),
        ("summary.txt", report::summary(outcome)),
        (
            "verdict.json",
            format!("{}\n", verdict_json(path, plan, seed, outcome)),
        ),
    ];
    for (name, text) in files {
        let f = folder.join(name);
        redsim::out::write_atomic(&f, text.as_bytes())
            .map_err(|e| format!("{}: {e}", f.display()))?;
    }
    let page = folder.join("dashboard.html");
    let req = redsim::dashboard::output::Request {
        out: Some(&page),
        svg: None,
        window: None,
        sample_every: "100ms",
        seed: Some(seed),
        first: Some(outcome),
    };
    redsim::dashboard::output::run(plan, &req).map_err(|e| e.to_string())?;
    redsim::plots::of(&outcome.world)?.write(&folder)?;
    redsim::store::point_latest(dir, &folder).map_err(|e| e.to_string())?;
    redsim::errln!("kept in {}", folder.display());
    Ok(())
}

/// Writes a starting scenario, refusing to replace a file.
fn cmd_new(name: &str, template: &str, dir: &Path) -> u8 {
    let text = match scenario::template::text(template, name) {
        Ok(t) => t,
        Err(e) => {
            redsim::errln!("redsim new: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let path = dir.join(format!("{name}.toml"));
    if let Some(parent) = path.parent()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        redsim::errln!("redsim new: {}: {e}", parent.display());
        return EXIT_BAD_INPUT;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    let written = file.and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
    match written {
        Ok(()) => {
            redsim::outln!(
                "wrote {} ({template}); try `redsim check {}`",
                path.display(),
                path.display()
            );
            EXIT_OK
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            redsim::errln!(
                "redsim new: {} already exists; it is left as it is",
                path.display()
            );
            EXIT_BAD_INPUT
        }
        Err(e) => {
            redsim::errln!("redsim new: {}: {e}", path.display());
            EXIT_BAD_INPUT
        }
    }
}

/// Writes the completion script for `shell`, from the argument definitions.
fn cmd_completions(shell: clap_complete::Shell) -> u8 {
    use clap::CommandFactory as _;
    clap_complete::generate(shell, &mut Cli::command(), "redsim", &mut std::io::stdout());
    EXIT_OK
}

/// Writes the manual pages, from the argument definitions: `redsim(1)` to
/// standard output, or with `dir` every page (`redsim.1`, `redsim-run.1`,
/// ...) into it.
fn cmd_man(dir: Option<&Path>) -> u8 {
    use clap::CommandFactory as _;
    let result = match dir {
        None => man_page(Cli::command()).and_then(|page| {
            use std::io::Write as _;
            std::io::stdout().lock().write_all(&page)
        }),
        Some(dir) => man_pages(Cli::command(), dir),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("redsim: writing the manual: {e}");
            EXIT_SIMULATION_ERROR
        }
    }
}

fn man_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    Ok(page)
}

/// `redsim.1` and `redsim-<subcommand>.1` for each subcommand, as git's
/// pages are laid out.
fn man_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("redsim.1"), man_page(cmd.clone())?)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("redsim-{}", sub.get_name());
        let sub = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("redsim {}", sub.get_name()))
            .version(env!("CARGO_PKG_VERSION"));
        std::fs::write(dir.join(format!("{name}.1")), man_page(sub)?)?;
    }
    Ok(())
}

/// A scenario file and the `--set` overrides of this run.
struct ScenarioArg<'a> {
    path: &'a Path,
    sets: &'a [String],
}

/// `run`'s switches.
struct RunFlags<'a> {
    stats: bool,
    check_determinism: bool,
    json: bool,
    /// `--out`: where the run's outputs are kept.
    out: Option<&'a Path>,
    /// `--plots`: where the run's plots go.
    plots: Option<&'a Path>,
}

fn cmd_run(
    ScenarioArg { path, sets }: ScenarioArg<'_>,
    seed: Option<u64>,
    format: FormatArg,
    trace_file: Option<&Path>,
    RunFlags {
        stats,
        check_determinism,
        json,
        out,
        plots,
    }: RunFlags<'_>,
) -> u8 {
    let plan = match load_with(path, sets) {
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
    for (flag, dir) in [("--out", out), ("--plots", plots)] {
        if let Some(dir) = dir
            && let Err(e) = redsim::out::ensure_writable_dir(dir)
        {
            redsim::errln!("{flag}: {e}, so nothing ran");
            return EXIT_BAD_INPUT;
        }
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
    if let Some(dir) = out
        && let Err(e) = keep_run(dir, path, &plan, seed, &outcome)
    {
        redsim::errln!("--out {}: {e}", dir.display());
        return EXIT_BAD_INPUT;
    }
    if let Some(dir) = plots
        && let Err(e) = redsim::plots::of(&outcome.world).and_then(|p| p.write(dir))
    {
        redsim::errln!("--plots {}: {e}", dir.display());
        return EXIT_BAD_INPUT;
    }
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
            "longest": redsim::time::format_duration(gap.len()),
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

fn cmd_explain(path: &Path, sets: &[String], seed: Option<u64>) -> u8 {
    let plan = match load_with(path, sets) {
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

fn cmd_check(paths: &[PathBuf], sets: &[String], json: bool, junit: Option<&Path>) -> u8 {
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
        let plan = match scenario::load_with(&file, sets) {
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

fn cmd_info(path: &Path, sets: &[String], node: &str, at: &str, seed: Option<u64>) -> u8 {
    let plan = match load_with(path, sets) {
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

/// `redsim bench`: one line per canonical run.
fn cmd_bench(seconds: &str) -> u8 {
    let budget = match parse_time(seconds) {
        Ok(t) if t > 0 && t <= 600_000_000 => std::time::Duration::from_micros(t),
        Ok(_) => {
            redsim::errln!(
                "--seconds {seconds}: between 1us and 10m (each of the three runs and its bare loop takes this long)"
            );
            return redsim::exit::BAD_INPUT;
        }
        Err(e) => {
            redsim::errln!("--seconds: {e}");
            return redsim::exit::BAD_INPUT;
        }
    };
    redsim::outln!(
        "{:<20} {:>6} {:>10} {:>16} {:>14} {:>16} {:>7}",
        "run",
        "runs",
        "ms/run",
        "seeds/min/core",
        "events/s",
        "bare events/s",
        "ratio"
    );
    for (name, text) in redsim::bench::CANONICAL {
        let plan = redsim::bench::plan(name, text);
        match redsim::bench::measure(name, &plan, budget) {
            Ok(f) => redsim::outln!(
                "{:<20} {:>6} {:>10.2} {:>16.0} {:>14.0} {:>16.0} {:>7.3}",
                f.name,
                f.runs,
                f.ms_per_run(),
                f.seeds_per_min(),
                f.events_per_sec(),
                f.bare_events_per_sec,
                f.ratio()
            ),
            Err(e) => {
                redsim::errln!("{name}: {e}");
                return redsim::exit::SIMULATION_ERROR;
            }
        }
    }
    redsim::exit::OK
}

/// The plans `list` shows: the files under `paths`, or the bundled
/// scenarios embedded in the binary when the default `scenarios` is not
/// a directory here (an installed redsim, run outside the clone).
fn listed_plans(paths: &[PathBuf]) -> Result<Vec<Plan>, u8> {
    let default = paths == [PathBuf::from("scenarios")];
    if default && !Path::new("scenarios").is_dir() {
        return scenario::bundled::BUNDLED
            .iter()
            .map(|(name, text)| {
                scenario::parse(&format!("{name}.toml"), text).map_err(|e| {
                    redsim::errln!("{e}");
                    EXIT_BAD_INPUT
                })
            })
            .collect();
    }
    let files = golden::scenario_files(paths).map_err(|e| {
        redsim::errln!("{e}");
        EXIT_BAD_INPUT
    })?;
    files.iter().map(|f| load(f)).collect()
}

fn cmd_list(paths: &[PathBuf]) -> u8 {
    let plans = match listed_plans(paths) {
        Ok(p) => p,
        Err(c) => return c,
    };
    // Directory (the name's prefix), then the optional `topic`, then name.
    type Entries = Vec<(String, String)>;
    let mut topics: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, Entries>,
    > = Default::default();
    for plan in plans {
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

fn cmd_dashboard(path: &Path, sets: &[String], req: &redsim::dashboard::output::Request<'_>) -> u8 {
    use redsim::dashboard::output::{self, DashboardError};
    let plan = match load_with(path, sets) {
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
