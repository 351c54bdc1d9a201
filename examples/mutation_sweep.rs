//! Mutation sweep: bad input never hurts redsim.
//!
//! Generates seeded mutants of the bundled scenarios (absurd counts and
//! sizes, zero and negative values, huge durations, strings with newlines
//! or quotes, path-like names, deleted and duplicated keys, wrong types,
//! invalid UTF-8, cut files), runs each through `redsim run` as a child
//! process under a time limit and an address-space limit, and counts what
//! happened. A healthy redsim has no panics, no aborts, no runs over the
//! time limit and a `file:line:col: error:` on every exit 2.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example mutation_sweep -- --count 3000 --jobs 2
//! ```
//!
//! Options: `--count N` mutants (default 3000), `--seed S` (default 1),
//! `--jobs J` parallel runs, `--timeout SECS` (default 60), `--mem BYTES`
//! address-space limit (default 4 GiB), `--redsim PATH` (default
//! target/release/redsim), `--keep DIR` to keep every mutant, `--scenarios
//! DIR` (default scenarios). Exits 1 if anything but clean outcomes is seen.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A small deterministic generator (SplitMix64): mutants depend on the seed only.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// The bundled scenarios, sorted by path: (path, text).
pub fn bundled(dir: &Path) -> Vec<(PathBuf, String)> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(d) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect()
}

const INTS: &[i64] = &[
    0,
    -1,
    1,
    2,
    7,
    1000,
    16384,
    16385,
    65535,
    65536,
    100_000,
    1_000_000,
    4_294_967_295,
    4_294_967_296,
    i64::MAX,
    i64::MIN,
];

const FLOATS: &[f64] = &[
    0.0,
    -1.0,
    1e-300,
    1e300,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    0.5,
    1e6,
    1e9,
];

const DURATIONS: &[&str] = &[
    "0s",
    "0us",
    "-1s",
    "1us",
    "1ms",
    "999999999h",
    "1e400s",
    "100000h",
    "8760h",
    "24h",
    "25h",
    "1h",
    "10m",
    "0.0000001us",
    "18446744073709551615us",
    "5",
    "s",
    "1.5.5s",
    "+3s",
];

const STRINGS: &[&str] = &[
    "",
    "../../x",
    "/etc/passwd",
    "a/../../b",
    "a\nb",
    "line\r\nbreak",
    "quote\"inside",
    "single'quote",
    "back\\slash",
    "nul\u{0}byte",
    "tab\there",
    "{tag}",
    "no one",
    "master",
    "replica-1",
    "sentinel-1",
    "client-1",
    "redis-cli",
    "18446744073709551616",
    "0-16383",
    "16384",
    "0-99999",
    "5-1",
    "force",
    "= 0",
    ">= 99999999999999999999",
    "<= -1",
    "1tb",
    "99999999999gb",
    "0",
    "é",
];

const KEYS_TO_ADD: &[(&str, &str, &str)] = &[
    ("topology", "replicas", "65536"),
    ("topology", "replicas", "499"),
    ("topology", "replicas", "1000"),
    ("topology", "sentinels", "65536"),
    ("topology", "sentinels", "1000"),
    ("topology", "sentinels", "100"),
    ("topology", "masters", "16385"),
    ("topology", "masters", "1001"),
    ("topology", "cluster", "true"),
    ("topology", "cluster", "\"yes\""),
    ("sim", "max-events", "0"),
    ("sim", "max-events", "1"),
    ("sim", "max-events", "-5"),
    ("sim", "max-events", "18446744073709551615"),
    ("sim", "max-events", "1000000000"),
    ("network", "latency", "\"8760h\""),
    ("network", "latency", "\"0us\""),
    ("network", "jitter", "\"8760h\""),
    ("network", "bandwidth", "\"1\""),
    ("network", "bandwidth", "\"0\""),
    ("network", "bandwidth", "\"99999tb\""),
    ("network", "loss", "0.999999"),
    ("network", "loss", "1.0"),
    ("network", "loss", "nan"),
    ("sentinel", "quorum", "0"),
    ("sentinel", "quorum", "4294967295"),
    ("sentinel", "down-after-milliseconds", "1"),
    ("sentinel", "down-after-milliseconds", "9223372036854775807"),
    ("sentinel", "failover-timeout", "9223372036854775807"),
    ("sentinel", "parallel-syncs", "0"),
    ("sentinel", "master-name", "\"my master\\n\""),
    ("sentinel", "auth-pass", "\"p\\\"w\""),
    ("redis", "hz", "500"),
    ("redis", "hz", "0"),
    ("redis", "repl-timeout", "9223372036854775807"),
    ("redis", "repl-ping-replica-period", "9223372036854775807"),
    ("redis", "repl-backlog-size", "9223372036854775807"),
    ("redis", "repl-backlog-size", "\"1gb\""),
    ("redis", "repl-backlog-ttl", "9223372036854775807"),
    ("redis", "repl-diskless-sync-delay", "9223372036854775807"),
    ("redis", "repl-diskless-sync", "true"),
    ("redis", "min-replicas-to-write", "4294967295"),
    ("redis", "min-replicas-max-lag", "9223372036854775807"),
    ("redis", "cluster-node-timeout", "1"),
    ("redis", "cluster-node-timeout", "9223372036854775807"),
    (
        "redis",
        "cluster-replica-validity-factor",
        "9223372036854775807",
    ),
    (
        "redis",
        "client-output-buffer-limit",
        "\"replica 1 1 99999999999999\"",
    ),
    ("redis", "save", "\"1 1\""),
    ("redis", "save", "\"99999999999999999 1\""),
    ("redis", "appendonly", "true"),
    ("redis", "appendfsync", "\"always\""),
    ("redis", "fork-time-per-gb", "\"8760h\""),
    ("redis", "rdb-save-rate", "1"),
    ("redis", "rdb-load-rate", "1"),
    ("redis", "port", "0"),
    ("redis", "port", "26379"),
    ("fuzz", "max-faults", "1000000000"),
    ("fuzz", "max-lost-acked-writes", "18446744073709551615"),
    ("fuzz", "faults-stop", "\"0s\""),
    ("fuzz", "converges-within", "\"8760h\""),
    ("fuzz", "properties", "[\"nope\"]"),
    ("", "seed", "18446744073709551615"),
    ("", "seed", "-1"),
    ("", "name", "\"../../../tmp/x\""),
    ("", "name", "\"a\\nb\""),
    ("", "duration", "\"24h\""),
    ("", "duration", "\"8760h\""),
    ("", "duration", "\"1us\""),
    ("", "topic", "\"x\\u0007y\""),
    ("", "bogus", "1"),
];

const WORKLOAD_KEYS: &[(&str, &str)] = &[
    ("rate", "0"),
    ("rate", "-5"),
    ("rate", "1e-300"),
    ("rate", "100000"),
    ("rate", "1000000"),
    ("rate", "inf"),
    ("rate", "nan"),
    ("keys", "0"),
    ("keys", "4294967295"),
    ("key-offset", "4294967295"),
    ("value-size", "4294967295"),
    ("value-size", "536870912"),
    ("value-size", "0"),
    ("reads", "1.0"),
    ("reads", "2"),
    ("timeout", "\"0s\""),
    ("timeout", "\"1us\""),
    ("timeout", "\"8760h\""),
    ("wait-replicas", "4294967295"),
    ("wait-timeout", "\"0s\""),
    ("reconnect-delay", "\"0s\""),
    ("reconnect-max-delay", "\"0s\""),
    ("reconnect-max-delay", "\"1ms\""),
    ("hash-tag", "\"a\\nb\""),
    ("hash-tag", "\"\""),
    ("name", "\"master\""),
    ("name", "\"../x\""),
    ("name", "\"a b\""),
    ("start", "\"8760h\""),
    ("stop", "\"0s\""),
    ("cluster", "true"),
    ("sentinel", "true"),
];

const FAULTS: &[&str] = &[
    "burst = { node = \"master\", writes = 4294967295 }",
    "burst = { node = \"master\", writes = 1000000, value-size = 536870912 }",
    "burst = { node = \"master\", writes = 0 }",
    "debug-sleep = { node = \"master\", for = \"0s\" }",
    "debug-sleep = { node = \"master\", for = \"8760h\" }",
    "clock-jump = { node = \"master\", by = \"-8760h\" }",
    "clock-jump = { node = \"master\", by = \"-99999999h\" }",
    "clock-jump = { node = \"sentinel-1\", by = \"+8760h\" }",
    "link = { from = \"master\", to = \"replica-1\", latency = \"8760h\" }",
    "link = { from = \"master\", to = \"master\", bandwidth = \"1\" }",
    "link = { from = \"master\", to = \"replica-1\", loss = 0.999 }",
    "partition = [[\"master\"], [\"master\"]]",
    "partition = [[], []]",
    "partition-oneway = { from = [], to = [] }",
    "reshard = { from = \"master-1\", to = \"master-2\", slots = \"0-16383\", batch = 4294967295 }",
    "reshard = { from = \"master-1\", to = \"master-1\", slots = \"0-16383\" }",
    "reshard = { from = \"master-1\", to = \"master-2\", slots = \"99999\" }",
    "cluster-failover = { node = \"master-1\", mode = \"takeover\" }",
    "replicaof = { node = \"master\", master = \"master\" }",
    "replicaof = { node = \"replica-1\", master = \"no one\" }",
    "kill = \"redis-cli\"",
    "pause = \"client-1\"",
    "client-kill-master = \"master\"",
    "heal = true",
];

/// Turns a TOML value into text of the same kind with a mutation applied.
fn mutate_value(rng: &mut Rng, v: &toml::Value) -> String {
    match v {
        toml::Value::Integer(i) => match rng.below(4) {
            0 => format!("{}", i.saturating_mul(1000)),
            1 => format!("{}", -i),
            2 => format!("\"{i}\""),
            _ => format!("{}", rng.pick(INTS)),
        },
        toml::Value::Float(f) => match rng.below(3) {
            0 => fmt_float(f * 1e6),
            1 => format!("{}", *f as i64),
            _ => fmt_float(*rng.pick(FLOATS)),
        },
        toml::Value::String(s) => {
            let looks_like_duration = s.ends_with('s') || s.ends_with('m') || s.ends_with('h');
            match rng.below(5) {
                0 | 1 if looks_like_duration => quote(rng.pick::<&str>(DURATIONS)),
                0 => quote(rng.pick::<&str>(DURATIONS)),
                2 => "42".into(),
                3 => quote(&format!("{s}{}", rng.pick(STRINGS))),
                _ => quote(rng.pick::<&str>(STRINGS)),
            }
        }
        toml::Value::Boolean(b) => match rng.below(3) {
            0 => format!("{}", !b),
            1 => "\"yes\"".into(),
            _ => "1".into(),
        },
        toml::Value::Array(a) => match rng.below(4) {
            0 => "[]".into(),
            1 if !a.is_empty() => {
                let x = a[0].to_string();
                format!("[{}]", vec![x; 1 + rng.below(2000)].join(", "))
            }
            2 => "\"not an array\"".into(),
            _ => format!("[{}]", rng.pick(INTS)),
        },
        toml::Value::Table(_) => match rng.below(2) {
            0 => "7".into(),
            _ => "{}".into(),
        },
        toml::Value::Datetime(_) => "1979-05-27".into(),
    }
}

fn fmt_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{f:?}")
    }
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Lines of the form `key = value` (value on one line), with their indices.
fn assignments(text: &str) -> Vec<(usize, String, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim_start();
            if t.starts_with('#') || t.starts_with('[') {
                return None;
            }
            let (k, v) = t.split_once('=')?;
            let k = k.trim();
            if k.is_empty() || k.contains(['"', ' ']) {
                return None;
            }
            Some((i, k.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// Applies one mutation to the text of a scenario.
pub fn mutate_once(rng: &mut Rng, text: &str) -> Vec<u8> {
    let lines: Vec<&str> = text.lines().collect();
    let join = |ls: &[String]| {
        let mut s = ls.join("\n");
        s.push('\n');
        s.into_bytes()
    };
    let mut owned: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    let assigns = assignments(text);
    match rng.below(12) {
        // Change a value (of one line) to something absurd or of another type.
        0..=3 if !assigns.is_empty() => {
            let (i, k, v) = rng.pick(&assigns).clone();
            let parsed: Option<toml::Value> = toml::from_str::<toml::Table>(&format!("x = {v}"))
                .ok()
                .and_then(|t| t.get("x").cloned());
            let new = match parsed {
                Some(val) => mutate_value(rng, &val),
                None => quote(rng.pick::<&str>(STRINGS)),
            };
            let indent = &owned[i][..owned[i].len() - owned[i].trim_start().len()];
            owned[i] = format!("{indent}{k} = {new}");
            join(&owned)
        }
        // Delete a key.
        4 if !assigns.is_empty() => {
            let (i, _, _) = rng.pick(&assigns).clone();
            owned.remove(i);
            join(&owned)
        }
        // Duplicate a line (a duplicated key or table).
        5 if !owned.is_empty() => {
            let i = rng.below(owned.len());
            let l = owned[i].clone();
            owned.insert(i, l);
            join(&owned)
        }
        // Add a known key with an absurd value to its table.
        6 | 7 => {
            let (table, key, value) = *rng.pick(KEYS_TO_ADD);
            let line = format!("{key} = {value}");
            // A key already set is replaced (a second one would only be a
            // duplicate key); otherwise it is added to its table.
            if let Some(i) = owned
                .iter()
                .position(|l| l.trim_start().starts_with(&format!("{key} =")))
            {
                owned[i] = line;
            } else if table.is_empty() {
                owned.insert(0, line);
            } else if let Some(i) = owned.iter().position(|l| l.trim() == format!("[{table}]")) {
                owned.insert(i + 1, line);
            } else {
                owned.push(format!("[{table}]"));
                owned.push(line);
            }
            join(&owned)
        }
        // Add a workload setting to every workload, or a workload.
        8 => {
            let (key, value) = *rng.pick(WORKLOAD_KEYS);
            let mut out = Vec::new();
            let mut any = false;
            for l in &owned {
                out.push(l.clone());
                if l.trim() == "[[workload]]" {
                    out.push(format!("{key} = {value}"));
                    any = true;
                }
            }
            if !any {
                out.push("[[workload]]".into());
                out.push("target = \"master\"".into());
                if key != "rate" {
                    out.push("rate = 10".into());
                }
                out.push(format!("{key} = {value}"));
            }
            join(&out)
        }
        // Add a fault.
        9 => {
            owned.push("[[fault]]".into());
            owned.push(format!(
                "at = {}",
                quote(rng.pick::<&str>(&["1s", "0s", "5s", "30s"]))
            ));
            owned.push(rng.pick(FAULTS).to_string());
            join(&owned)
        }
        // Corrupt bytes: an invalid UTF-8 byte, or a cut file.
        10 => {
            let mut b = text.as_bytes().to_vec();
            let at = rng.below(b.len() + 1);
            if rng.below(2) == 0 {
                b.insert(at, *rng.pick(&[0xff, 0xc3, 0x80, 0xfe]));
            } else {
                b.truncate(at);
            }
            b
        }
        // Rename a key to a near miss or an unknown one.
        _ if !assigns.is_empty() => {
            let (i, k, v) = rng.pick(&assigns).clone();
            owned[i] = format!("{}x = {v}", &k[..k.len().saturating_sub(1)]);
            join(&owned)
        }
        _ => text.as_bytes().to_vec(),
    }
}

/// Mutant `index` of the sweep seeded by `seed`: 1 to 3 mutations of one
/// bundled scenario.
pub fn mutant(seed: u64, index: usize, sources: &[(PathBuf, String)]) -> Vec<u8> {
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(index as u64));
    let (_, text) = &sources[rng.below(sources.len())];
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let t = String::from_utf8_lossy(&bytes).into_owned();
        if std::str::from_utf8(&bytes).is_err() {
            break;
        }
        bytes = mutate_once(&mut rng, &t);
    }
    bytes
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Exit 0 or 1: the run finished.
    Ran,
    /// Exit 2 with `file:line:col: error:` (or `file: error:` for an unreadable file).
    Rejected,
    /// Exit 3: the simulation stopped itself (e.g. its event budget) and said why.
    Stopped,
    /// Over the time limit, but ended (finished, or stopped by its event
    /// budget) when rerun alone with the longer recheck limit: a run within
    /// its documented guard, slow on a shared machine.
    Slow,
    Panic,
    Abort(i32),
    Timeout,
    UnlocatedExit2,
    Other(i32),
}

impl Outcome {
    pub fn bad(&self) -> bool {
        !matches!(
            self,
            Outcome::Ran | Outcome::Rejected | Outcome::Stopped | Outcome::Slow
        )
    }
}

pub struct Limits {
    pub timeout: Duration,
    /// A run over `timeout` is rerun alone with this limit (zero: not rerun).
    pub recheck: Duration,
    pub mem: u64,
}

/// Is `prlimit` available? Without it mutants run without a memory limit.
pub fn has_prlimit() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        Command::new("prlimit")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Runs `redsim run FILE` under the limits and classifies the outcome.
pub fn run_one(redsim: &Path, file: &Path, limits: &Limits) -> (Outcome, String, Duration) {
    use std::os::unix::process::ExitStatusExt;
    let start = Instant::now();
    // prlimit (util-linux) sets the address-space limit and execs redsim,
    // so redsim's own exit status and signals are what we see.
    let mut cmd = if has_prlimit() {
        let mut c = Command::new("prlimit");
        c.arg(format!("--as={}", limits.mem)).arg("--").arg(redsim);
        c
    } else {
        Command::new(redsim)
    };
    let mut child = match cmd
        .arg("run")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return (
                Outcome::Other(-1),
                format!("cannot start: {e}"),
                start.elapsed(),
            );
        }
    };
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(64 * 1024).read_to_end(&mut buf);
        // Drain the rest so the child never blocks on a full pipe.
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        String::from_utf8_lossy(&buf).into_owned()
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > limits.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let elapsed = start.elapsed();
    let err = reader.join().unwrap_or_default();
    let Some(status) = status else {
        return (Outcome::Timeout, err, elapsed);
    };
    let outcome = if status.code() == Some(101) || err.contains("panicked") {
        Outcome::Panic
    } else if let Some(sig) = status.signal() {
        Outcome::Abort(sig)
    } else {
        match status.code() {
            Some(0 | 1) => Outcome::Ran,
            Some(3) => Outcome::Stopped,
            Some(2) => {
                let first = err.lines().next().unwrap_or("");
                let f = file.display().to_string();
                let located = first
                    .strip_prefix(&format!("{f}:"))
                    .and_then(|rest| {
                        let mut parts = rest.splitn(3, ':');
                        let line = parts.next()?.parse::<usize>().ok()?;
                        let col = parts.next()?.parse::<usize>().ok()?;
                        let tail = parts.next()?;
                        (line > 0 && col > 0 && tail.starts_with(" error: ")).then_some(())
                    })
                    .is_some();
                if located {
                    Outcome::Rejected
                } else {
                    Outcome::UnlocatedExit2
                }
            }
            Some(c) => Outcome::Other(c),
            None => Outcome::Other(-1),
        }
    };
    (outcome, err, elapsed)
}

pub struct Report {
    pub counts: BTreeMap<String, usize>,
    /// (mutant index, outcome, first stderr line) of the bad outcomes.
    pub bad: Vec<(usize, Outcome, String)>,
    pub slowest: Duration,
}

pub struct Config {
    pub count: usize,
    pub seed: u64,
    pub jobs: usize,
    pub limits: Limits,
    pub redsim: PathBuf,
    pub scenarios: PathBuf,
    pub work: PathBuf,
    pub keep: bool,
    /// Print each mutant's outcome as it ends.
    pub verbose: bool,
}

/// Generates and runs `cfg.count` mutants.
pub fn sweep(cfg: &Config) -> Report {
    let sources = bundled(&cfg.scenarios);
    assert!(
        !sources.is_empty(),
        "no scenarios under {}",
        cfg.scenarios.display()
    );
    std::fs::create_dir_all(&cfg.work).expect("work directory");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome, String, Duration)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..cfg.jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= cfg.count {
                        break;
                    }
                    let bytes = mutant(cfg.seed, i, &sources);
                    let file = cfg.work.join(format!("m{i:05}.toml"));
                    std::fs::write(&file, &bytes).expect("write mutant");
                    let (outcome, err, took) = run_one(&cfg.redsim, &file, &cfg.limits);
                    if !cfg.keep && !outcome.bad() && outcome != Outcome::Timeout {
                        let _ = std::fs::remove_file(&file);
                    }
                    let first = err.lines().next().unwrap_or("").to_string();
                    if cfg.verbose {
                        println!("m{i:05} {outcome:?} {:.1}s {first}", took.as_secs_f64());
                    }
                    results
                        .lock()
                        .expect("no panic while held")
                        .push((i, outcome, first, took));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("threads done");
    results.sort_by_key(|r| r.0);
    // Runs over the limit are rerun one at a time, without competing runs,
    // under the longer limit: one that then ends is within its guard.
    if !cfg.limits.recheck.is_zero() {
        let longer = Limits {
            timeout: cfg.limits.recheck,
            recheck: Duration::ZERO,
            mem: cfg.limits.mem,
        };
        for r in results.iter_mut().filter(|r| r.1 == Outcome::Timeout) {
            let file = cfg.work.join(format!("m{:05}.toml", r.0));
            let (o, err, took) = run_one(&cfg.redsim, &file, &longer);
            if cfg.verbose {
                println!("m{:05} rerun alone: {o:?} {:.1}s", r.0, took.as_secs_f64());
            }
            if matches!(o, Outcome::Ran | Outcome::Stopped) {
                r.1 = Outcome::Slow;
                r.2 = format!(
                    "{:.1} s alone: {}",
                    took.as_secs_f64(),
                    err.lines().last().unwrap_or("")
                );
            }
        }
    }
    let mut counts = BTreeMap::new();
    let mut bad = Vec::new();
    let mut slowest = Duration::ZERO;
    for (i, o, first, took) in results {
        slowest = slowest.max(took);
        let key = match &o {
            Outcome::Abort(sig) => format!("abort (signal {sig})"),
            Outcome::Other(c) => format!("other (exit {c})"),
            o => format!("{o:?}"),
        };
        *counts.entry(key).or_insert(0) += 1;
        if o.bad() || o == Outcome::Slow {
            bad.push((i, o, first));
        }
    }
    Report {
        counts,
        bad,
        slowest,
    }
}

#[allow(dead_code)]
fn main() {
    let mut cfg = Config {
        count: 3000,
        seed: 1,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        limits: Limits {
            timeout: Duration::from_secs(60),
            recheck: Duration::from_secs(600),
            mem: 4 << 30,
        },
        redsim: PathBuf::from("target/release/redsim"),
        scenarios: PathBuf::from("scenarios"),
        work: std::env::temp_dir().join(format!("redsim-mutants-{}", std::process::id())),
        keep: false,
        verbose: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--count" => cfg.count = val.parse().expect("--count N"),
            "--seed" => cfg.seed = val.parse().expect("--seed S"),
            "--jobs" => cfg.jobs = val.parse().expect("--jobs J"),
            "--timeout" => {
                cfg.limits.timeout = Duration::from_secs(val.parse().expect("--timeout SECS"))
            }
            "--mem" => cfg.limits.mem = val.parse().expect("--mem BYTES"),
            "--recheck" => {
                cfg.limits.recheck = Duration::from_secs(val.parse().expect("--recheck SECS"))
            }
            "--redsim" => cfg.redsim = PathBuf::from(val),
            "--scenarios" => cfg.scenarios = PathBuf::from(val),
            "--verbose" => {
                cfg.verbose = true;
                i += 1;
                continue;
            }
            "--keep" => {
                cfg.work = PathBuf::from(val);
                cfg.keep = true;
            }
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let start = Instant::now();
    let report = sweep(&cfg);
    println!(
        "{} mutants (seed {}) in {:.0} s, slowest run {:.1} s; mutants in {}",
        cfg.count,
        cfg.seed,
        start.elapsed().as_secs_f64(),
        report.slowest.as_secs_f64(),
        cfg.work.display()
    );
    for (k, n) in &report.counts {
        println!("  {k:<24} {n}");
    }
    for (i, o, first) in &report.bad {
        let tag = if o.bad() { "BAD " } else { "SLOW" };
        println!("{tag} m{i:05}.toml {o:?}: {first}");
    }
    let bad = report.bad.iter().filter(|b| b.1.bad()).count();
    if !cfg.keep && bad == 0 {
        let _ = std::fs::remove_dir_all(&cfg.work);
    }
    std::process::exit(if bad == 0 { 0 } else { 1 });
}
