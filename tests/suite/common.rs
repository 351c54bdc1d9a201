//! What the test modules share: scenarios written from the few parts a
//! test is about, and the bundled scenarios and their fuzz settings.

use std::path::Path;

use redsim::fuzz::{self, FaultKind, FuzzConfig};
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

    /// The scenario's own seed (the default is 1).
    pub fn seed(mut self, seed: u64) -> Self {
        self.top.push(format!("seed = {seed}"));
        self
    }

    /// Settings of a table: `redis.conf` keys for `redis`, `sentinel.conf`
    /// keys for `sentinel`, and so on.
    pub fn table(mut self, table: &'static str, settings: &str) -> Self {
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
}

/// Appends `item` to the entry `key` of `to`, the entry added if new.
fn add(to: &mut Vec<(&'static str, Vec<String>)>, key: &'static str, item: String) {
    match to.iter_mut().find(|(k, _)| *k == key) {
        Some((_, items)) => items.push(item),
        None => to.push((key, vec![item])),
    }
}

/// A scenario written by a test, parsed as `test.toml`.
pub fn parse(text: &str) -> Plan {
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
        kinds: FaultKind::ALL.to_vec(),
        max_faults: plan.fuzz.max_faults,
        faults_stop: plan.fuzz.faults_stop,
        properties: plan.fuzz.properties.clone(),
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
