//! The redsim command line: parses arguments, calls the library, and maps
//! outcomes to documented exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

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
    },
    /// Run scenarios (files or directories) and check their expectations.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print a node's `INFO replication` at a simulated time.
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
    /// Compare (or with --update, rewrite) golden traces of scenarios.
    Golden {
        /// Where the golden traces live.
        #[arg(long, default_value = "tests/golden")]
        dir: PathBuf,
        /// Rewrite the golden files instead of comparing.
        #[arg(long)]
        update: bool,
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
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
        } => cmd_run(
            &scenario,
            seed,
            format,
            trace.as_deref(),
            stats,
            check_determinism,
        ),
        Command::Check { paths } => cmd_check(&paths),
        Command::Info {
            scenario,
            node,
            at,
            seed,
        } => cmd_info(&scenario, &node, &at, seed),
        Command::Golden { dir, update, paths } => cmd_golden(&dir, update, &paths),
    };
    ExitCode::from(code)
}

fn load(path: &Path) -> Result<Plan, u8> {
    scenario::load(path).map_err(|e| {
        eprintln!("{e}");
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
    if check_determinism {
        return match golden::determinism(&plan, seed) {
            Ok(None) => {
                println!("deterministic: two runs of seed {seed} produced identical traces");
                EXIT_OK
            }
            Ok(Some(d)) => {
                println!("NOT deterministic: {d}");
                EXIT_EXPECTATION_FAILED
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                EXIT_SIMULATION_ERROR
            }
        };
    }
    let started = Instant::now();
    let outcome = match world::run(&plan, seed) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return EXIT_SIMULATION_ERROR;
        }
    };
    let wall = started.elapsed();
    let rendered = report::render_trace(&outcome.world, format, seed);
    let summary = report::summary(&outcome);
    match trace_file {
        Some(f) => {
            if let Err(e) = std::fs::write(f, rendered) {
                eprintln!("{}: cannot write the trace: {e}", f.display());
                return EXIT_BAD_INPUT;
            }
            print!("{summary}");
        }
        None => {
            print!("{rendered}");
            if format == Format::Text {
                print!("\n{summary}");
            } else {
                eprint!("{summary}");
            }
        }
    }
    if stats {
        let k = &outcome.world.sim.kernel;
        eprintln!(
            "stats: {} events, {} simulated, {:.3} s wall, {:.0} events/s",
            k.events_processed,
            Secs(outcome.world.sim.now()),
            wall.as_secs_f64(),
            k.events_processed as f64 / wall.as_secs_f64().max(1e-9)
        );
    }
    if outcome.verdicts.iter().all(|v| v.holds) {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
    }
}

fn cmd_check(paths: &[PathBuf]) -> u8 {
    let files = match golden::scenario_files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut worst = EXIT_OK;
    let (mut passed, mut failed) = (0, 0);
    for file in files {
        let plan = match load(&file) {
            Ok(p) => p,
            Err(c) => {
                worst = worst.max(c);
                failed += 1;
                continue;
            }
        };
        match world::run(&plan, plan.seed) {
            Ok(o) => {
                let bad: Vec<_> = o.verdicts.iter().filter(|v| !v.holds).collect();
                if bad.is_empty() {
                    passed += 1;
                    println!(
                        "ok     {} ({} expectations)",
                        file.display(),
                        o.verdicts.len()
                    );
                } else {
                    failed += 1;
                    worst = worst.max(EXIT_EXPECTATION_FAILED);
                    println!("FAILED {}", file.display());
                    for v in bad {
                        println!("       {} (observed: {})", v.description, v.observed);
                    }
                }
            }
            Err(e) => {
                failed += 1;
                worst = worst.max(EXIT_SIMULATION_ERROR);
                println!("ERROR  {}: {e}", file.display());
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    worst
}

fn cmd_info(path: &Path, node: &str, at: &str, seed: Option<u64>) -> u8 {
    let plan = match load(path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let Some(n) = plan.node_index(node) else {
        let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
        eprintln!("unknown node `{node}`; the nodes are: {}", names.join(", "));
        return EXIT_BAD_INPUT;
    };
    let at = match parse_time(at) {
        Ok(t) if t > plan.duration => {
            eprintln!(
                "--at {}: after the end of the run (duration = {})",
                Secs(t),
                Secs(plan.duration)
            );
            return EXIT_BAD_INPUT;
        }
        Ok(t) => t,
        Err(e) => {
            eprintln!("--at: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut w = world::World::new(&plan, seed.unwrap_or(plan.seed));
    if let Err(e) = w.run_until(at) {
        eprintln!("{}: {e}", path.display());
        return EXIT_SIMULATION_ERROR;
    }
    match w.info(n) {
        Some(info) => {
            print!("{}", info.replace("\r\n", "\n"));
            EXIT_OK
        }
        None if w.redis(n).is_some() => {
            println!("{node} is not running at {}", Secs(at));
            EXIT_OK
        }
        None if w.sentinel(n).is_some() => {
            match w.sentinel(n).and_then(|s| s.info()) {
                Some(info) => print!("{}", info.replace("\r\n", "\n")),
                None => println!("{node} is not running at {}", Secs(at)),
            }
            EXIT_OK
        }
        None => {
            eprintln!("`{node}` is a client, not a Redis node");
            EXIT_BAD_INPUT
        }
    }
}

fn cmd_golden(dir: &Path, update: bool, paths: &[PathBuf]) -> u8 {
    match golden::compare_all(dir, paths, update) {
        Ok(report) => {
            print!("{}", report.text);
            if report.mismatches == 0 {
                EXIT_OK
            } else {
                EXIT_EXPECTATION_FAILED
            }
        }
        Err(e @ golden::GoldenError::Simulation(_)) => {
            eprintln!("{e}");
            EXIT_SIMULATION_ERROR
        }
        Err(e) => {
            eprintln!("{e}");
            EXIT_BAD_INPUT
        }
    }
}
