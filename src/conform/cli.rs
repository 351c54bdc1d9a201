//! The `redsim conform` command line: runs the scenarios with a
//! `[conform]` table on real Redis and on the simulator, and maps the
//! outcome to an exit code.

use std::path::PathBuf;

use crate::exit::{self, load};
use crate::golden;
use crate::scenario::Plan;

#[derive(clap::Args)]
pub struct ConformArgs {
    /// Scenario files or directories (scenarios without `[conform]` are skipped).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The redis-server binary (default: found on PATH).
    #[arg(long)]
    pub redis_server: Option<PathBuf>,
    /// The redis-sentinel binary (default: found on PATH).
    #[arg(long)]
    pub redis_sentinel: Option<PathBuf>,
    /// The first port; node i listens on port-base + i, on 127.0.0.1 only
    /// (or in its own network namespace, see --netns).
    #[arg(long, default_value_t = 17000)]
    pub port_base: u16,
    /// Run every scenario with each process in its own network namespace
    /// on a private bridge (needs root and iproute2), as scenarios with
    /// partitions always are.
    #[arg(long)]
    pub netns: bool,
    /// Simulator seeds per scenario (default: the scenario's `[conform] seeds`).
    #[arg(long)]
    pub seeds: Option<u32>,
    /// Also write the agreement tables (Markdown) to this file, whole or not
    /// at all (not after an interrupt); checked before any work starts.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the real processes' configuration files and logs in this
    /// directory, each run in a new private subdirectory named after its
    /// scenario (nothing already there is touched). Without it they go to a
    /// private temporary directory removed on exit.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Run a scenario whose real run disagreed again, up to this many times,
    /// so a real run upset by the host's scheduling does not fail the suite;
    /// a systematic difference fails every attempt.
    #[arg(long, default_value_t = 0)]
    pub retries: u32,
    /// Run this many scenarios at once, job j on ports from port-base +
    /// 100 × j (1 to 8). Real runs mostly wait on their timers, so a few
    /// jobs finish a suite several times sooner.
    #[arg(long, default_value_t = 1)]
    pub jobs: u16,
}

/// Ports one conformance job may use: node i of a scenario listens on the
/// job's base + i.
const PORTS_PER_JOB: u16 = 100;

pub fn run(args: ConformArgs) -> u8 {
    use crate::conform::{
        self, Status, deploy::RealOptions, scratch::TempRoot, topology::Binaries,
    };
    use crate::interrupt;
    // SIGINT/SIGTERM from here on: finish the current step, stop every real
    // process, delete the namespaces and the scratch directory, report.
    interrupt::install();
    if let Some(out) = &args.out
        && let Err(e) = crate::out::ensure_writable(out)
    {
        crate::errln!("redsim conform: --out: {e}");
        return exit::BAD_INPUT;
    }
    if let Some(keep) = &args.keep
        && let Err(e) = crate::out::ensure_writable_dir(keep)
    {
        crate::errln!("redsim conform: --keep: {e}");
        return exit::BAD_INPUT;
    }
    let files = match golden::scenario_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            crate::errln!("{e}");
            return exit::BAD_INPUT;
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
        crate::errln!("no scenario with a [conform] table under the given paths");
        return exit::BAD_INPUT;
    }
    let real = |p: &Plan| {
        p.conform
            .as_ref()
            .is_some_and(|c| c.simulator_only.is_none())
    };
    for p in plans.iter().filter(|p| real(p)) {
        if let Some(why) = conform::topology::refused(p).or_else(|| conform::commands::refused(p)) {
            crate::errln!("{why}");
            return exit::BAD_INPUT;
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
            crate::errln!("redsim conform: {flag} {}: no such file", p.display());
            return exit::BAD_INPUT;
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
            crate::errln!(
                "redis-server and redis-sentinel are needed (apt-get install redis-server redis-sentinel, or --redis-server/--redis-sentinel PATH)"
            );
            return exit::ENVIRONMENT;
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
                crate::errln!("redsim conform: {e}");
                return exit::ENVIRONMENT;
            }
        },
    };
    if !(1..=8).contains(&args.jobs)
        || u32::from(args.port_base) + u32::from(args.jobs) * u32::from(PORTS_PER_JOB) > 65_536
    {
        crate::errln!(
            "redsim conform: --jobs {} with --port-base {}: 1 to 8 jobs, each taking {PORTS_PER_JOB} ports below 65536",
            args.jobs,
            args.port_base
        );
        return exit::BAD_INPUT;
    }
    let opts = RealOptions {
        bins,
        port_base: args.port_base,
        root,
        keep: args.keep.is_some(),
        netns: args.netns,
    };
    crate::conform::procs::close_inherited_fds_on_exec();
    // Each job takes the next scenario; outcomes keep the scenarios' order.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<conform::Outcome>>> =
        plans.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for job in 0..args.jobs {
            let opts = RealOptions {
                port_base: args.port_base + job * PORTS_PER_JOB,
                ..opts.clone()
            };
            let (next, results, plans, args) = (&next, &results, &plans, &args);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= plans.len() || interrupt::requested() {
                        break;
                    }
                    let o = run_one(&plans[i], args, &opts);
                    let stop = o.status == Status::Interrupted;
                    *results[i].lock().expect("no job panicked") = Some(o);
                    if stop {
                        break;
                    }
                }
            });
        }
    });
    let mut outcomes = Vec::new();
    let mut interrupted_in = None;
    for o in results
        .into_iter()
        .filter_map(|r| r.into_inner().expect("no job panicked"))
    {
        if o.status == Status::Interrupted {
            interrupted_in = Some(o.name.clone());
            continue;
        }
        outcomes.push(o);
    }
    // Gone before anything is printed: a closed standard output ends redsim
    // at once.
    drop(temp);
    let table = conform::render(&outcomes);
    crate::out!("{table}");
    if interrupt::requested() {
        crate::errln!(
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
        && let Err(e) = crate::out::write_atomic(out, table.as_bytes())
    {
        crate::errln!("{}: {e}", out.display());
        return exit::BAD_INPUT;
    }
    if outcomes
        .iter()
        .any(|o| matches!(o.status, Status::Environment(_)))
    {
        exit::ENVIRONMENT
    } else if outcomes.iter().all(conform::Outcome::ok) {
        exit::OK
    } else {
        exit::EXPECTATION_FAILED
    }
}

/// One scenario on real processes and on the simulator, run again after a
/// disagreement up to `--retries` times.
fn run_one(
    p: &Plan,
    args: &ConformArgs,
    opts: &crate::conform::deploy::RealOptions,
) -> crate::conform::Outcome {
    use crate::conform::{self, Status};
    use crate::interrupt;
    let mut spec = p.conform.clone().expect("filtered above");
    if let Some(n) = args.seeds {
        spec.seeds = n.max(1);
    }
    crate::errln!("conform: {} ...", p.name);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut o = conform::run(p, &spec, opts);
        let (n, m) = o.counts();
        let verdict = match &o.status {
            Status::Interrupted => "interrupted".to_string(),
            Status::Environment(e) => format!("NOT RUN: {e}"),
            Status::Failed(e) => format!("FAILED: {e}"),
            _ if o.ok() => format!("ok ({m}/{n} fields match, {:.1} s)", o.secs),
            _ => format!("DIFFERS ({m}/{n} fields match, {:.1} s)", o.secs),
        };
        crate::errln!(
            "conform: {}: {verdict}{}",
            p.name,
            if attempt > 1 {
                format!(", attempt {attempt}")
            } else {
                String::new()
            }
        );
        // A disagreement or a failed run may be the host's scheduling; a
        // host that cannot run it, or a stop request, is not retried.
        let retry = matches!(o.status, Status::Compared(_) | Status::Failed(_))
            && !o.ok()
            && attempt <= args.retries
            && !interrupt::requested();
        if !retry {
            if attempt > 1 {
                o.name = format!("{} (attempt {attempt})", o.name);
            }
            return o;
        }
    }
}
