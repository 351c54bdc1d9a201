//! What the test modules share: scenarios written from the few parts a
//! test is about, the bundled scenarios and their fuzz settings, and the
//! `redsim` binary run the way a user at the top of the repository runs it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use redsim::fuzz::{self, FuzzConfig};
use redsim::scenario::{self, Plan};

// ---------------------------------------------------------------------------
// Scenarios

/// A scenario file's text, built from the parts a test is about: the
/// duration and the topology, then settings, workloads, faults and
/// expectations, each written in TOML as it stands in its table (several
/// settings of one table separated by commas, as in an inline table).
///
/// ```text
/// Scenario::new("30s", "masters = 1, replicas = 1")
///     .redis("min-replicas-to-write = 1, min-replicas-max-lag = 10")
///     .workload(r#"target = "master", rate = 100"#)
///     .fault("10s", r#"kill = "replica-1""#)
///     .plan()
/// ```
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `key = value` lines before the tables.
    top: Vec<String>,
    /// Tables (`redis`, `sentinel`, `node`, ...) and their settings.
    tables: Vec<(&'static str, Vec<String>)>,
    /// Arrays of tables (`workload`, `fault`, `expect`) and their entries.
    arrays: Vec<(&'static str, Vec<String>)>,
}

impl Scenario {
    /// A scenario named `t` that runs for `duration` on `topology`.
    pub fn new(duration: &str, topology: &str) -> Self {
        Self {
            top: vec!["name = \"t\"".into(), format!("duration = \"{duration}\"")],
            tables: Vec::new(),
            arrays: Vec::new(),
        }
        .table("topology", topology)
    }

    /// The scenario's own seed (`plan.seed`, 0 without it).
    pub fn seed(mut self, seed: u64) -> Self {
        self.top.push(format!("seed = {seed}"));
        self
    }

    /// Settings of a table: `redis.conf` keys for `redis`, `sentinel.conf`
    /// keys for `sentinel`, and so on.
    fn table(mut self, table: &'static str, settings: &str) -> Self {
        add(&mut self.tables, table, settings.into());
        self
    }

    /// `redis.conf` settings of every Redis node.
    pub fn redis(self, settings: &str) -> Self {
        self.table("redis", settings)
    }

    /// `sentinel.conf` settings of every Sentinel.
    pub fn sentinel(self, settings: &str) -> Self {
        self.table("sentinel", settings)
    }

    /// The `[fuzz]` table.
    pub fn fuzz(self, settings: &str) -> Self {
        self.table("fuzz", settings)
    }

    /// The `[network]` table: every link.
    pub fn network(self, settings: &str) -> Self {
        self.table("network", settings)
    }

    /// `redis.conf` settings of one node, over those of `[redis]`.
    pub fn node(self, node: &str, settings: &str) -> Self {
        self.table("node", &format!("{node} = {{ {settings} }}"))
    }

    /// A `[[workload]]`.
    pub fn workload(mut self, settings: &str) -> Self {
        add(&mut self.arrays, "workload", settings.into());
        self
    }

    /// A `[[fault]]`: `action` (such as `kill = "master"`) at time `at`.
    pub fn fault(mut self, at: &str, action: &str) -> Self {
        add(
            &mut self.arrays,
            "fault",
            format!("at = \"{at}\", {action}"),
        );
        self
    }

    /// A `[[command]]`: `send` typed into redis-cli on `node` at `at`;
    /// `name` names it for [`replies`](crate::commands).
    pub fn command(mut self, at: &str, node: &str, send: &str, name: &str) -> Self {
        let send = toml::Value::String(send.into());
        add(
            &mut self.arrays,
            "command",
            format!("at = \"{at}\", node = \"{node}\", send = {send}, name = \"{name}\""),
        );
        self
    }

    /// A `[[command]]` typed into a redis-cli session of its own (redis-cli
    /// waits for each reply, so one session's lines queue behind a held
    /// one).
    pub fn command_in(
        mut self,
        session: &str,
        at: &str,
        node: &str,
        send: &str,
        name: &str,
    ) -> Self {
        let send = toml::Value::String(send.into());
        add(
            &mut self.arrays,
            "command",
            format!(
                "at = \"{at}\", node = \"{node}\", send = {send}, name = \"{name}\", session = \"{session}\""
            ),
        );
        self
    }

    /// An `[[expect]]`.
    pub fn expect(mut self, settings: &str) -> Self {
        add(&mut self.arrays, "expect", settings.into());
        self
    }

    /// The scenario file's text.
    pub fn text(&self) -> String {
        let mut lines = self.top.clone();
        for (table, settings) in &self.tables {
            lines.push(format!("{table} = {{ {} }}", settings.join(", ")));
        }
        for (array, entries) in &self.arrays {
            let entries: Vec<String> = entries.iter().map(|e| format!("{{ {e} }}")).collect();
            lines.push(format!("{array} = [{}]", entries.join(", ")));
        }
        lines.join("\n") + "\n"
    }

    /// The scenario, parsed.
    pub fn plan(&self) -> Plan {
        parse(&self.text())
    }

    /// The error parsing the scenario gives, as printed.
    pub fn error(&self) -> String {
        match scenario::parse("test.toml", &self.text()) {
            Ok(_) => panic!("the scenario parses:\n{}", self.text()),
            Err(e) => e.to_string(),
        }
    }
}

/// Appends `item` to the entry `key` of `to`, the entry added if new.
fn add(to: &mut Vec<(&'static str, Vec<String>)>, key: &'static str, item: String) {
    match to.iter_mut().find(|(k, _)| *k == key) {
        Some((_, items)) => items.push(item),
        None => to.push((key, vec![item])),
    }
}

/// A scenario written by a test, parsed as `test.toml`.
fn parse(text: &str) -> Plan {
    scenario::parse("test.toml", text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The package root: the bundled scenarios and the fixtures are found
/// from here.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A bundled scenario (a path from the package root): its plan and text.
pub fn bundled(rel: &str) -> (Plan, String) {
    let text = std::fs::read_to_string(root().join(rel)).expect("bundled scenario");
    (scenario::parse(rel, &text).expect("valid"), text)
}

// ---------------------------------------------------------------------------
// Fuzzing

/// A scenario's own fuzz settings, with every kind of fault.
pub fn fuzz_config(plan: &Plan, shrink: bool) -> FuzzConfig {
    FuzzConfig {
        kinds: fuzz::KINDS.to_vec(),
        max_faults: plan.fuzz.max_faults,
        faults_stop: plan.fuzz.faults_stop,
        properties: plan.fuzz.properties.clone(),
        never_prints: plan.fuzz.never_prints.clone(),
        bounds: plan.fuzz.bounds.clone(),
        shrink,
    }
}

/// A fuzz sweep over `seeds` on `threads` threads, without progress
/// reports or interruption.
pub fn sweep(
    plan: &Plan,
    text: &str,
    cfg: &FuzzConfig,
    seeds: &fuzz::Seeds,
    threads: usize,
) -> fuzz::Summary {
    fuzz::sweep(plan, text, cfg, seeds, threads, &|_| true, &|_| {})
}

// ---------------------------------------------------------------------------
// The binary

/// A fresh, empty directory `name` of the test module `module` under
/// cargo's scratch directory.
pub fn scratch(module: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(module)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// The invalid fixture `name`: one scenario per input error.
pub fn invalid(name: &str) -> String {
    format!("tests/fixtures/invalid/{name}.toml")
}

/// What one run of the binary did.
pub struct Out {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Out {
    /// Fails with the whole output unless the exit code is `code`.
    pub fn exits(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            code,
            "`redsim {}` exited with {} instead of {code}\n{self}",
            self.args.join(" "),
            self.code
        );
        self
    }

    pub fn stdout_has(&self, needle: &str) -> &Self {
        self.has("stdout", &self.stdout, needle)
    }

    pub fn stderr_has(&self, needle: &str) -> &Self {
        self.has("stderr", &self.stderr, needle)
    }

    fn has(&self, stream: &str, text: &str, needle: &str) -> &Self {
        assert!(
            text.contains(needle),
            "{stream} of `redsim {}` lacks {needle:?}\n{self}",
            self.args.join(" ")
        );
        self
    }

    /// The `  hint: ...` line of a scenario error, if any.
    pub fn hint(&self) -> Option<&str> {
        self.stderr
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("hint: "))
    }
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }
}

/// The binary, to run from the package root, so that relative paths in
/// arguments and messages are as a user at the top of the repository sees
/// them.
pub fn redsim_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redsim"));
    c.current_dir(root());
    c
}

/// Runs `redsim args`. No invocation may panic or die of a signal,
/// whatever its exit code, and what it prints is UTF-8.
pub fn redsim(args: &[&str]) -> Out {
    let start = Instant::now();
    let out = redsim_command()
        .args(args)
        .output()
        .expect("the redsim binary runs");
    let o = Out {
        args: args.iter().map(|a| a.to_string()).collect(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        took: start.elapsed(),
    };
    assert!(
        !o.stderr.contains("panicked") && o.code != 101 && o.code != -1,
        "`redsim {}` panicked or died\n{o}",
        args.join(" ")
    );
    o
}

/// `line:col` (1-based, in characters) of the first `needle` in a file
/// under the package root (read as bytes: the file may not be UTF-8).
pub fn location(path: &str, needle: &[u8]) -> String {
    let bytes = std::fs::read(root().join(path)).expect("fixture is readable");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in {path}"));
    let before = String::from_utf8_lossy(&bytes[..at]);
    let line = before.matches('\n').count() + 1;
    let col = before.chars().count()
        - before
            .rfind('\n')
            .map_or(0, |i| before[..=i].chars().count())
        + 1;
    format!("{line}:{col}")
}

/// Runs the invalid fixture `name`: it must be rejected as bad input (exit
/// 2) before anything runs, with a first line naming the file, and the
/// line and column of `needle`, followed by `message`.
pub fn rejects(name: &str, needle: &str, message: &str) -> Out {
    let path = invalid(name);
    let o = redsim(&["run", &path]);
    o.exits(2);
    assert!(o.stdout.is_empty(), "bad input must not start a run\n{o}");
    let first = o.stderr.lines().next().unwrap_or("");
    let want = format!("{path}:{}: error: ", location(&path, needle.as_bytes()));
    assert!(
        first.starts_with(&want),
        "the error should start with {want:?}\n{o}"
    );
    assert!(
        first.contains(message),
        "the error should say {message:?}\n{o}"
    );
    o
}

/// When `node` logged a line starting with `text`, in order.
pub fn logged(w: &redsim::world::World, node: usize, text: &str) -> Vec<u64> {
    w.trace()
        .events
        .iter()
        .filter(|e| e.node as usize == node && e.detail.starts_with(text))
        .map(|e| e.t)
        .collect()
}

/// Every command line's reply, by its name (`""` when it has none), as
/// redis-cli prints it, and the world at the end of the run.
pub fn named_replies(s: &Scenario) -> (Vec<(String, String)>, redsim::world::World) {
    use redsim::check::RunView as _;
    let plan = s.plan();
    let out = redsim::world::run(&plan, plan.seed).expect("runs");
    let r = out
        .world
        .exchanges()
        .iter()
        .map(|x| {
            let shown = x.reply.as_ref().map_or("<no reply>".to_string(), |(_, f)| {
                redsim::proto::resp::shown(&x.command.argv, f)
            });
            (x.command.name.clone().unwrap_or_default(), shown)
        })
        .collect();
    (r, out.world)
}

/// The reply to the command line named `name`.
pub fn reply<'a>(all: &'a [(String, String)], name: &str) -> &'a str {
    &all.iter().find(|(n, _)| n == name).expect(name).1
}
