//! Scenario files: TOML with redis.conf names. Parsing checks every key and
//! value and resolves names, producing a [`Plan`] the simulation runs.

pub mod conform;
pub mod error;
pub mod limits;
pub mod liveness;
pub mod swarm;

use std::ops::Range;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::check::{Cmp, Expectation, ResyncKind};
use crate::client::{DEFAULT_RECONNECT_DELAY, Discovery, WorkloadSpec};
use crate::proto::slots::{SLOTS, SlotSet, even_split};
use crate::redis::cluster::failover::FailoverMode;
use crate::redis::config::{self, ConfValue, RedisConfig};
use crate::sentinel::SentinelConf;
use crate::sim::net::LinkParams;
use crate::sim::time::{Micros, parse_duration, parse_size, parse_time, secs};
pub use error::ScenarioError;
use error::{Source, suggest};

type Conf = IndexMap<Spanned<String>, Spanned<toml::Value>>;

/// A year in milliseconds: the longest Sentinel timeout.
const YEAR_MS: u64 = crate::sim::time::MAX_DURATION / 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScenario {
    name: Spanned<String>,
    description: Option<String>,
    question: Option<String>,
    answer: Option<String>,
    /// A subgroup for `redsim list` within the scenario's directory.
    topic: Option<String>,
    #[serde(default)]
    seed: u64,
    duration: Spanned<String>,
    #[serde(default)]
    sim: RawSim,
    #[serde(default)]
    network: RawNetwork,
    topology: RawTopology,
    #[serde(default)]
    redis: Conf,
    #[serde(default)]
    sentinel: RawSentinel,
    #[serde(default)]
    node: IndexMap<Spanned<String>, Conf>,
    #[serde(default)]
    workload: Vec<RawWorkload>,
    #[serde(default)]
    fault: Vec<RawFault>,
    #[serde(default)]
    expect: Vec<Spanned<RawExpect>>,
    #[serde(default)]
    fuzz: RawFuzz,
    /// Conformance against real Redis (`redsim conform`).
    conform: Option<conform::RawConform>,
}

/// How `redsim fuzz` treats this scenario.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFuzz {
    faults_stop: Option<Spanned<String>>,
    max_faults: Option<Spanned<usize>>,
    properties: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    swarm: IndexMap<Spanned<String>, Spanned<Vec<toml::Value>>>,
    max_lost_acked_writes: Option<u64>,
    max_unavailability: Option<Spanned<String>>,
    converges_within: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSim {
    max_events: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawNetwork {
    latency: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    bandwidth: Option<Spanned<String>>,
    loss: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTopology {
    masters: Spanned<u32>,
    /// Replicas (of the master, or of each master in a cluster).
    replicas: Option<Spanned<u32>>,
    sentinels: Option<Spanned<u32>>,
    /// A Redis Cluster: `masters` shards of `replicas` replicas each.
    #[serde(default)]
    cluster: Option<Spanned<bool>>,
    /// Cluster slot ranges per master, e.g. ["0-8191", "8192-16383"];
    /// default: split evenly as `redis-cli --cluster create` does.
    slots: Option<Spanned<Vec<Spanned<String>>>>,
}

/// sentinel.conf settings for the monitored master (`sentinel monitor`,
/// `sentinel down-after-milliseconds`, ...).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSentinel {
    master_name: Option<Spanned<String>>,
    quorum: Option<Spanned<u32>>,
    down_after_milliseconds: Option<Spanned<u64>>,
    failover_timeout: Option<Spanned<u64>>,
    parallel_syncs: Option<Spanned<u32>>,
    auth_pass: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWorkload {
    name: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    /// Discover the master through the Sentinels instead of a fixed target.
    #[serde(default)]
    sentinel: bool,
    /// A cluster client: routes each key by its slot and follows MOVED.
    #[serde(default)]
    cluster: bool,
    rate: Spanned<f64>,
    keys: Option<Spanned<u32>>,
    key_offset: Option<Spanned<u32>>,
    reads: Option<Spanned<f64>>,
    value_size: Option<Spanned<u32>>,
    /// Keys become `{tag}key:<n>`: all in the tag's hash slot.
    hash_tag: Option<Spanned<String>>,
    start: Option<Spanned<String>>,
    stop: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    wait_replicas: Option<u32>,
    wait_timeout: Option<Spanned<String>>,
    reconnect_delay: Option<Spanned<String>>,
    reconnect_max_delay: Option<Spanned<String>>,
}

fn default_keys() -> u32 {
    1000
}
fn default_value_size() -> u32 {
    100
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFault {
    at: Spanned<String>,
    kill: Option<Spanned<String>>,
    crash: Option<Spanned<String>>,
    shutdown: Option<Spanned<String>>,
    restart: Option<Spanned<String>>,
    pause: Option<Spanned<String>>,
    resume: Option<Spanned<String>>,
    partition: Option<Spanned<Vec<Vec<Spanned<String>>>>>,
    partition_oneway: Option<Spanned<RawOneWay>>,
    heal: Option<Spanned<bool>>,
    link: Option<Spanned<RawLink>>,
    clock_jump: Option<Spanned<RawClockJump>>,
    replicaof: Option<Spanned<RawReplicaOf>>,
    burst: Option<Spanned<RawBurst>>,
    cluster_failover: Option<Spanned<RawClusterFailover>>,
    reshard: Option<Spanned<RawReshard>>,
    client_kill_master: Option<Spanned<String>>,
    debug_sleep: Option<Spanned<RawDebugSleep>>,
}

/// `redis-cli --cluster reshard`: move `slots` from one master to another.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawReshard {
    from: Spanned<String>,
    to: Spanned<String>,
    slots: Spanned<String>,
    /// Keys per MIGRATE (redis-cli's `--cluster-pipeline`).
    batch: Option<Spanned<u32>>,
}

fn default_batch() -> u32 {
    10
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawClusterFailover {
    node: Spanned<String>,
    /// `force` or `takeover`; default: a coordinated manual failover.
    mode: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDebugSleep {
    node: Spanned<String>,
    #[serde(rename = "for")]
    length: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOneWay {
    from: Vec<Spanned<String>>,
    to: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLink {
    from: Spanned<String>,
    to: Spanned<String>,
    latency: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    bandwidth: Option<Spanned<String>>,
    loss: Option<f64>,
    #[serde(default = "yes")]
    both_ways: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawClockJump {
    node: Spanned<String>,
    by: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawBurst {
    node: Spanned<String>,
    writes: Spanned<u32>,
    value_size: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawReplicaOf {
    node: Spanned<String>,
    master: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawExpect {
    at: Option<Spanned<String>>,
    after: Option<Spanned<String>>,
    before: Option<Spanned<String>>,
    node: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    info: Option<Spanned<String>>,
    equals: Option<Spanned<toml::Value>>,
    event: Option<Spanned<String>>,
    count: Option<Spanned<String>>,
    resync: Option<Spanned<String>>,
    lost_acked_writes: Option<Spanned<String>>,
    lost_waited_writes: Option<Spanned<String>>,
    acked_writes: Option<Spanned<String>>,
    stale_reads: Option<Spanned<String>>,
    max_unavailability: Option<Spanned<String>>,
    converged: Option<Spanned<bool>>,
    client_errors: Option<Spanned<String>>,
    keys: Option<Spanned<String>>,
    invariant: Option<Spanned<String>>,
    bus_bytes_per_message: Option<Spanned<String>>,
}

/// A scripted fault or operator action.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// SIGKILL of the process.
    Kill(usize),
    /// The host loses power: the process dies and un-fsynced data is lost.
    Crash(usize),
    /// SIGTERM: a clean shutdown.
    Shutdown(usize),
    Restart(usize),
    Pause(usize),
    Resume(usize),
    /// Nodes in different groups cannot reach each other; unlisted nodes
    /// reach everyone.
    Partition(Vec<Vec<usize>>),
    /// Traffic from `from` to `to` is dropped; the other way flows.
    PartitionOneWay {
        from: Vec<usize>,
        to: Vec<usize>,
    },
    Heal,
    Link {
        from: usize,
        to: usize,
        params: LinkParams,
        both_ways: bool,
    },
    ClockJump {
        node: usize,
        by: i64,
    },
    ReplicaOf {
        node: usize,
        master: Option<usize>,
    },
    /// A bulk load of `writes` SETs of `value_size` bytes on a node.
    Burst {
        node: usize,
        writes: u32,
        value_size: u32,
    },
    /// `CLUSTER FAILOVER [FORCE|TAKEOVER]` sent to a replica.
    ClusterFailover {
        node: usize,
        mode: FailoverMode,
    },
    /// `redis-cli --cluster reshard`, run by the `redis-cli` operator node.
    Reshard {
        from: usize,
        to: usize,
        slots: Vec<u16>,
        batch: u32,
    },
    /// `CLIENT KILL TYPE master` on a replica: it drops its master link.
    ClientKillMaster(usize),
    /// `DEBUG SLEEP`: the server runs nothing for `length`, as if stopped;
    /// the scenario parser adds the matching [`Action::DebugSleepEnd`].
    DebugSleep {
        node: usize,
        length: Micros,
    },
    DebugSleepEnd(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// The operator's redis-cli, which runs `reshard` faults.
    Operator,
    Redis {
        conf: Box<RedisConfig>,
        replicaof: Option<usize>,
    },
    Client(WorkloadSpec),
    Sentinel(SentinelConf),
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodePlan {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub kind: NodeKind,
}

/// Fuzzing settings from the scenario's `[fuzz]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct FuzzSettings {
    /// Faults are drawn before this time; then everything heals.
    pub faults_stop: Micros,
    pub max_faults: usize,
    /// Properties checked besides the invariants.
    pub properties: Vec<String>,
    /// Swarm mode: configuration values each seed draws within a range.
    pub swarm: Vec<(String, SwarmRange)>,
    /// Bounds: at most this many lost acknowledged writes, at most this long
    /// without an acknowledged write, converged this long after the faults.
    pub bounds: Bounds,
}

/// Quantitative properties from `[fuzz]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bounds {
    pub max_lost_acked_writes: Option<u64>,
    pub max_unavailability: Option<Micros>,
    pub converges_within: Option<Micros>,
}

/// A range `[low, high]` of a configuration value in `[fuzz.swarm]`.
#[derive(Clone, Debug, PartialEq)]
pub enum SwarmRange {
    Int(i64, i64),
    /// Durations, drawn in microseconds.
    Duration(u64, u64),
    /// Sizes, drawn in bytes.
    Size(u64, u64),
}

impl SwarmRange {
    pub fn bounds(&self) -> (i64, i64) {
        match *self {
            SwarmRange::Int(a, b) => (a, b),
            SwarmRange::Duration(a, b) | SwarmRange::Size(a, b) => (a as i64, b as i64),
        }
    }

    /// A drawn value as it is written into a scenario.
    pub fn value(&self, v: i64) -> toml::Value {
        match self {
            SwarmRange::Int(..) | SwarmRange::Size(..) => toml::Value::Integer(v),
            SwarmRange::Duration(..) => toml::Value::String(format!("{v}us")),
        }
    }
}

/// The keys `[fuzz.swarm]` may draw.
pub const SWARM_KEYS: &[&str] = &[
    "down-after-milliseconds",
    "failover-timeout",
    "quorum",
    "parallel-syncs",
    "latency",
    "jitter",
    "rate",
    "value-size",
    "replicas",
    "sentinels",
    "repl-backlog-size",
    "repl-timeout",
    "min-replicas-max-lag",
    "repl-diskless-sync-delay",
    "cluster-node-timeout",
    "cluster-replica-validity-factor",
    "cluster-migration-barrier",
];

/// Invariants and properties a run can be checked against.
pub const PROPERTIES: &[&str] = &[
    "converges",
    "no-lost-acked-writes",
    "no-split-brain",
    "one-leader-per-epoch",
    "one-vote-per-epoch",
    "epochs-monotonic",
    "offsets-monotonic",
];

/// A validated scenario, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub question: Option<String>,
    pub answer: Option<String>,
    /// A subgroup for `redsim list` (e.g. "sentinel" within interview/).
    pub topic: Option<String>,
    pub seed: u64,
    pub duration: Micros,
    pub max_events: u64,
    pub link: LinkParams,
    pub nodes: Vec<NodePlan>,
    pub faults: Vec<(Micros, Action)>,
    pub expects: Vec<Expectation>,
    pub fuzz: FuzzSettings,
    /// The `[conform]` table, if the scenario has one.
    pub conform: Option<conform::ConformSpec>,
    /// A Redis Cluster scenario: how the cluster was created.
    pub cluster: Option<ClusterPlan>,
}

/// The cluster as created before the run: who serves which slots and who
/// replicates whom (indices are Redis node indices).
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterPlan {
    pub slots: Vec<SlotSet>,
    pub replica_of: Vec<Option<usize>>,
}

impl Plan {
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

/// `0-5460 5462 6000-6100`: slot numbers and inclusive ranges.
fn parse_slot_ranges(text: &str) -> Result<SlotSet, String> {
    let mut set = SlotSet::default();
    let bad = |p: &str| format!("`{p}` is not a slot or a range of slots (0-{})", SLOTS - 1);
    for part in text.split_whitespace() {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u16>(), b.parse::<u16>()),
            None => (part.parse::<u16>(), part.parse::<u16>()),
        };
        let (Ok(lo), Ok(hi)) = (lo, hi) else {
            return Err(bad(part));
        };
        if lo > hi || usize::from(hi) >= SLOTS {
            return Err(bad(part));
        }
        for slot in lo..=hi {
            set.insert(slot);
        }
    }
    if set.is_empty() {
        return Err("a master needs at least one slot".into());
    }
    Ok(set)
}

/// Reads and validates a scenario file.
pub fn load(path: &std::path::Path) -> Result<Plan, ScenarioError> {
    let text = read_text(path)?;
    parse(&path.display().to_string(), &text)
}

/// Reads a scenario file's text: at most [`limits::MAX_FILE_BYTES`], and
/// UTF-8 (the first invalid byte is reported at its line and column).
pub fn read_text(path: &std::path::Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let file = path.display().to_string();
    let unreadable = |message: String| ScenarioError {
        file: file.clone(),
        line: 0,
        col: 0,
        message,
        hint: None,
    };
    let f = std::fs::File::open(path)
        .map_err(|e| unreadable(format!("cannot read the scenario: {e}")))?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(unreadable(
            "cannot read the scenario: it is a directory".into(),
        ));
    }
    // Read at most one byte past the limit: a huge file (or /dev/zero)
    // is refused without reading it all.
    let mut bytes = Vec::new();
    f.take(limits::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(format!("cannot read the scenario: {e}")))?;
    if bytes.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(unreadable(format!(
            "the scenario is larger than {} bytes (1 MiB): scenario files are small text files",
            limits::MAX_FILE_BYTES
        )));
    }
    if let Some((at, message)) = limits::utf8_error(&bytes) {
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let src = Source {
            file: &file,
            text: valid,
        };
        return Err(src.error(at..at, message));
    }
    String::from_utf8(bytes).map_err(|e| unreadable(e.to_string()))
}

/// Parses scenario text; `file` is used in error messages.
pub fn parse(file: &str, text: &str) -> Result<Plan, ScenarioError> {
    let src = Source { file, text };
    let raw: RawScenario = toml::from_str(text).map_err(|e| src.from_toml(&e))?;
    limits::check_document(text).map_err(|(span, m)| src.error(span, m))?;
    Builder { src: &src }.build(raw)
}

struct Builder<'a> {
    src: &'a Source<'a>,
}

impl Builder<'_> {
    fn err(&self, span: Range<usize>, msg: impl Into<String>) -> ScenarioError {
        self.src.error(span, msg)
    }

    fn duration(&self, s: &Spanned<String>) -> Result<Micros, ScenarioError> {
        parse_time(s.get_ref()).map_err(|m| self.err(s.span(), m))
    }

    /// A time within the run: from zero to the scenario's duration.
    fn time_in_run(&self, s: &Spanned<String>, duration: Micros) -> Result<Micros, ScenarioError> {
        let t = self.duration(s)?;
        if t > duration {
            let mut e = self.err(
                s.span(),
                format!(
                    "`{}` is after the end of the run (duration = {})",
                    s.get_ref(),
                    crate::sim::time::format_duration(duration)
                ),
            );
            e.hint = Some("raise `duration` or move this earlier".into());
            return Err(e);
        }
        Ok(t)
    }

    /// A count within `1..=max` (or `0..=max` when `zero_ok`), with the
    /// limit and why in the message.
    /// A workload's or a burst's `value-size`, bounded by Redis's largest
    /// bulk string.
    fn value_size(&self, v: &Option<Spanned<u32>>) -> Result<u32, ScenarioError> {
        match v {
            Some(v) => self.bounded(
                v,
                "value-size",
                0,
                u64::from(limits::MAX_VALUE_SIZE),
                "Redis's proto-max-bulk-len is 512mb",
            ),
            None => Ok(default_value_size()),
        }
    }

    fn bounded<T: Copy + Into<u64>>(
        &self,
        v: &Spanned<T>,
        what: &str,
        min: u64,
        max: u64,
        why: &str,
    ) -> Result<T, ScenarioError> {
        let n: u64 = (*v.get_ref()).into();
        if n < min || n > max {
            return Err(self.err(
                v.span(),
                format!("{what} = {n} is out of range: {min} to {max} ({why})"),
            ));
        }
        Ok(*v.get_ref())
    }

    /// A delay that must be at least [`limits::MIN_CLIENT_DELAY`].
    fn client_delay(&self, s: &Spanned<String>, what: &str) -> Result<Micros, ScenarioError> {
        let d = self.duration(s)?;
        if d < limits::MIN_CLIENT_DELAY {
            return Err(self.err(
                s.span(),
                format!(
                    "{what} `{}` is too short: at least 1ms (a client that gives up or retries at once piles up work without bound)",
                    s.get_ref()
                ),
            ));
        }
        Ok(d)
    }

    fn node(&self, names: &[String], s: &Spanned<String>) -> Result<usize, ScenarioError> {
        names.iter().position(|n| n == s.get_ref()).ok_or_else(|| {
            let mut e = self.err(s.span(), format!("unknown node `{}`", s.get_ref()));
            let cands: Vec<&str> = names.iter().map(String::as_str).collect();
            e.hint = Some(match suggest(s.get_ref(), &cands) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("the nodes are: {}", cands.join(", ")),
            });
            e
        })
    }

    /// A node name that must be a Redis server (nodes are ordered: Redis
    /// servers, then Sentinels, then clients).
    fn redis_node(
        &self,
        names: &[String],
        n_redis: usize,
        n_servers: usize,
        s: &Spanned<String>,
    ) -> Result<usize, ScenarioError> {
        let i = self.node(names, s)?;
        if i >= n_redis {
            let kind = if i >= n_servers {
                "a client"
            } else {
                "a Sentinel"
            };
            return Err(self.err(
                s.span(),
                format!("`{}` is {kind}, not a Redis node", s.get_ref()),
            ));
        }
        Ok(i)
    }

    fn apply_conf(&self, conf: &mut RedisConfig, table: &Conf) -> Result<(), ScenarioError> {
        for (k, v) in table {
            let value = match v.get_ref() {
                toml::Value::String(s) => ConfValue::Text(s),
                toml::Value::Integer(i) => ConfValue::Int(*i),
                toml::Value::Boolean(b) => ConfValue::Bool(*b),
                _ => {
                    return Err(self.err(
                        v.span(),
                        format!("`{}` takes a string, integer or boolean", k.get_ref()),
                    ));
                }
            };
            if !config::KEYS.contains(&k.get_ref().as_str()) {
                let mut e = self.err(
                    k.span(),
                    format!("unknown redis.conf key `{}`", k.get_ref()),
                );
                e.hint = suggest(k.get_ref(), config::KEYS)
                    .map(|c| format!("did you mean `{c}`?"))
                    .or_else(|| Some(format!("supported keys: {}", config::KEYS.join(", "))));
                return Err(e);
            }
            conf.set(k.get_ref(), value)
                .and_then(|()| limits::check_redis_conf(k.get_ref(), conf))
                .map_err(|m| self.err(v.span(), format!("{}: {m}", k.get_ref())))?;
        }
        Ok(())
    }

    fn build(&self, raw: RawScenario) -> Result<Plan, ScenarioError> {
        limits::check_scenario_name(raw.name.get_ref())
            .map_err(|m| self.err(raw.name.span(), m))?;
        let duration = self.duration(&raw.duration)?;
        if duration == 0 {
            return Err(self.err(raw.duration.span(), "duration must be positive"));
        }
        if duration > limits::MAX_RUN {
            return Err(self.err(
                raw.duration.span(),
                format!(
                    "duration `{}` is too long: at most 24h of simulated time (failovers play out in seconds to minutes; a longer run exceeds any event budget)",
                    raw.duration.get_ref()
                ),
            ));
        }
        let max_events = match &raw.sim.max_events {
            Some(m) => self.bounded(
                m,
                "max-events",
                limits::MIN_MAX_EVENTS,
                limits::MAX_MAX_EVENTS,
                "10^9 events take up to hours of wall time",
            )?,
            None => 50_000_000,
        };
        let replicas = match &raw.topology.replicas {
            Some(r) => self.bounded(
                r,
                "replicas",
                0,
                limits::MAX_REDIS_NODES - 1,
                "a scenario simulates at most 500 Redis servers",
            )?,
            None => 0,
        };
        let sentinels = match &raw.topology.sentinels {
            Some(r) => self.bounded(
                r,
                "sentinels",
                0,
                u64::from(limits::MAX_SENTINELS),
                "Sentinel traffic grows with the square of their number; deployments run 3 or 5",
            )?,
            None => 0,
        };
        if raw.workload.len() > limits::MAX_WORKLOADS {
            let w = &raw.workload[limits::MAX_WORKLOADS];
            return Err(self.err(
                w.rate.span(),
                format!(
                    "{} workloads: at most {} (each is a client node)",
                    raw.workload.len(),
                    limits::MAX_WORKLOADS
                ),
            ));
        }
        let link = self.link_params(
            LinkParams::default(),
            raw.network.latency.as_ref(),
            raw.network.jitter.as_ref(),
            raw.network.bandwidth.as_ref(),
            raw.network.loss.as_ref().map(|l| (*l.get_ref(), l.span())),
        )?;

        // Nodes: redis servers first, then Sentinels, then clients.
        let is_cluster = raw.topology.cluster.as_ref().is_some_and(|c| *c.get_ref());
        let cluster_plan = if is_cluster {
            Some(self.cluster_plan(&raw.topology, replicas)?)
        } else {
            if *raw.topology.masters.get_ref() != 1 {
                let mut e = self.err(
                    raw.topology.masters.span(),
                    "replication scenarios have exactly one master (masters = 1)",
                );
                e.hint =
                    Some("for several masters, make it a Redis Cluster: `cluster = true`".into());
                return Err(e);
            }
            if let Some(sl) = &raw.topology.slots {
                return Err(self.err(sl.span(), "`slots` needs `cluster = true`"));
            }
            None
        };
        let mut names = Vec::new();
        if let Some(cp) = &cluster_plan {
            let masters = cp.slots.iter().filter(|s| !s.is_empty()).count();
            for i in 1..=masters {
                names.push(format!("master-{i}"));
            }
            for m in 1..=masters {
                for r in 1..=replicas {
                    names.push(format!("replica-{m}-{r}"));
                }
            }
            if sentinels > 0 {
                return Err(self.err(
                    raw.topology.masters.span(),
                    "Redis Cluster does its own failover: it cannot be monitored by Sentinels (sentinels = 0)",
                ));
            }
        } else {
            names.push("master".to_string());
            for i in 1..=replicas {
                names.push(format!("replica-{i}"));
            }
        }
        let n_redis = names.len();
        for i in 1..=sentinels {
            names.push(format!("sentinel-{i}"));
        }
        let n_servers = names.len();
        for (i, w) in raw.workload.iter().enumerate() {
            let name = match &w.name {
                Some(n) => {
                    limits::check_token("a workload name", n.get_ref())
                        .map_err(|m| self.err(n.span(), m))?;
                    n.get_ref().clone()
                }
                None => format!("client-{}", i + 1),
            };
            if names.contains(&name) {
                let span = w.name.as_ref().map_or(w.rate.span(), |n| n.span());
                return Err(self.err(span, format!("node name `{name}` is used twice")));
            }
            names.push(name);
        }
        let has_reshard = raw.fault.iter().any(|f| f.reshard.is_some());
        if has_reshard {
            names.push("redis-cli".into());
        }

        let sentinel_conf = self.sentinel_conf(&raw.sentinel)?;
        let mut base = RedisConfig {
            cluster_enabled: is_cluster,
            ..RedisConfig::default()
        };
        self.apply_conf(&mut base, &raw.redis)?;
        if base.cluster_enabled != is_cluster {
            return Err(self.err(
                raw.topology.masters.span(),
                "set `cluster = true` in [topology] for a Redis Cluster (it sets cluster-enabled)",
            ));
        }
        let mut confs: Vec<RedisConfig> = vec![base; n_redis];
        for (name, table) in &raw.node {
            let i = self.redis_node(&names, n_redis, n_servers, name)?;
            self.apply_conf(&mut confs[i], table)?;
        }

        let mut nodes = Vec::new();
        for (i, conf) in confs.into_iter().enumerate() {
            nodes.push(NodePlan {
                name: names[i].clone(),
                host: format!("10.0.0.{}", i + 1),
                port: conf.port,
                kind: NodeKind::Redis {
                    conf: Box::new(conf),
                    replicaof: (i > 0 && cluster_plan.is_none()).then_some(0),
                },
            });
        }
        for (i, name) in names[n_redis..n_servers].iter().enumerate() {
            nodes.push(NodePlan {
                name: name.clone(),
                host: format!("10.0.2.{}", i + 1),
                port: sentinel_conf.port,
                kind: NodeKind::Sentinel(sentinel_conf.clone()),
            });
        }
        for (i, w) in raw.workload.iter().enumerate() {
            let discovery = match (&w.target, w.sentinel || w.cluster) {
                (None, true) if w.cluster && cluster_plan.is_some() => {
                    Discovery::Cluster((0..n_redis as u32).collect())
                }
                (None, true) if w.cluster => {
                    return Err(self.err(
                        w.rate.span(),
                        "`cluster = true` needs a cluster: `cluster = true` in [topology]",
                    ));
                }
                (Some(t), false) => {
                    let target = self.node(&names, t)?;
                    if target >= n_redis {
                        return Err(self.err(t.span(), "a workload targets a Redis node"));
                    }
                    Discovery::Direct(target as u32)
                }
                (None, true) if sentinels > 0 => Discovery::Sentinel {
                    sentinels: (n_redis..n_servers).map(|n| n as u32).collect(),
                    master_name: sentinel_conf.master_name.clone(),
                },
                (None, true) => {
                    return Err(self.err(
                        w.rate.span(),
                        "`sentinel = true` needs sentinels in [topology]",
                    ));
                }
                (Some(t), true) => {
                    return Err(self.err(
                        t.span(),
                        "use either `target` or `sentinel = true`, not both",
                    ));
                }
                (None, false) => {
                    return Err(self.err(
                        w.rate.span(),
                        "a workload needs `target = \"<node>\"` or `sentinel = true`",
                    ));
                }
            };
            if w.cluster && w.sentinel {
                return Err(self.err(
                    w.rate.span(),
                    "a workload uses either `sentinel = true` or `cluster = true`",
                ));
            }
            if !(*w.rate.get_ref() > 0.0 && w.rate.get_ref().is_finite()) {
                return Err(self.err(
                    w.rate.span(),
                    "rate must be a positive number of operations per second",
                ));
            }
            if *w.rate.get_ref() > limits::MAX_RATE {
                return Err(self.err(
                    w.rate.span(),
                    format!(
                        "rate = {} is out of range: at most 100000 operations per second per workload (what one Redis server serves)",
                        w.rate.get_ref()
                    ),
                ));
            }
            if *w.rate.get_ref() < 0.001 {
                return Err(self.err(
                    w.rate.span(),
                    format!(
                        "rate = {} is out of range: at least 0.001 operations per second (one every 1000 s)",
                        w.rate.get_ref()
                    ),
                ));
            }
            let reads = match &w.reads {
                Some(r) if !(0.0..=1.0).contains(r.get_ref()) => {
                    return Err(self.err(r.span(), "reads is a fraction between 0 and 1"));
                }
                Some(r) => *r.get_ref(),
                None => 0.0,
            };
            let start = w
                .start
                .as_ref()
                .map(|s| self.time_in_run(s, duration))
                .transpose()?
                .unwrap_or(0);
            let stop = w
                .stop
                .as_ref()
                .map(|s| self.time_in_run(s, duration))
                .transpose()?
                .unwrap_or(duration);
            let keys = match &w.keys {
                Some(k) => self.bounded(
                    k,
                    "keys",
                    1,
                    limits::MAX_KEYS,
                    "operations spread over at most 100 million keys",
                )?,
                None => default_keys(),
            };
            let key_offset = match &w.key_offset {
                Some(k) => self.bounded(
                    k,
                    "key-offset",
                    0,
                    u64::from(u32::MAX - keys),
                    "key numbers key-offset + keys must fit 32 bits",
                )?,
                None => 0,
            };
            let value_size = self.value_size(&w.value_size)?;
            let timeout = w
                .timeout
                .as_ref()
                .map(|s| self.client_delay(s, "timeout"))
                .transpose()?
                .unwrap_or(secs(1));
            let wait = match (w.wait_replicas, &w.wait_timeout) {
                (Some(n), t) => Some((
                    n,
                    t.as_ref()
                        .map(|s| self.duration(s))
                        .transpose()?
                        .unwrap_or(0)
                        / 1000,
                )),
                (None, Some(t)) => {
                    return Err(self.err(t.span(), "wait-timeout needs wait-replicas"));
                }
                (None, None) => None,
            };
            let reconnect_delay = w
                .reconnect_delay
                .as_ref()
                .map(|s| self.client_delay(s, "reconnect-delay"))
                .transpose()?
                .unwrap_or(DEFAULT_RECONNECT_DELAY);
            let reconnect_max_delay = w
                .reconnect_max_delay
                .as_ref()
                .map(|s| self.client_delay(s, "reconnect-max-delay"))
                .transpose()?
                .unwrap_or(secs(1));
            nodes.push(NodePlan {
                name: names[n_servers + i].clone(),
                host: format!("10.0.1.{}", i + 1),
                port: 40000,
                kind: NodeKind::Client(WorkloadSpec {
                    discovery,
                    rate: *w.rate.get_ref(),
                    keys,
                    key_offset,
                    reads,
                    value_size,
                    hash_tag: match &w.hash_tag {
                        Some(t) if t.get_ref().is_empty() || t.get_ref().contains(['{', '}']) => {
                            return Err(self.err(
                                t.span(),
                                "a hash tag is a non-empty string without braces, e.g. \"user1000\"",
                            ));
                        }
                        Some(t) => Some(t.get_ref().as_str().into()),
                        None => None,
                    },
                    start,
                    stop,
                    timeout,
                    wait,
                    reconnect_delay,
                    reconnect_max_delay,
                }),
            });
        }

        let mut faults = Vec::new();
        let mut fault_spans = Vec::new();
        for f in &raw.fault {
            let at = self.time_in_run(&f.at, duration)?;
            let action = self.action(&names, n_redis, n_servers, f)?;
            if let Action::DebugSleep { node, length } = action {
                faults.push((at + length, Action::DebugSleepEnd(node)));
                fault_spans.push(None);
            }
            faults.push((at, action));
            fault_spans.push(Some(f.at.span()));
        }
        // A scripted fault that would change nothing is refused: the trace
        // must never claim a restart or a SIGCONT that did not happen.
        for (i, effect) in liveness::effects(names.len() + 1, &faults)
            .into_iter()
            .enumerate()
        {
            if let (Err(no), Some(span)) = (effect, &fault_spans[i]) {
                let of = no
                    .node
                    .map_or(String::new(), |n| format!(" of {}", names[n]));
                return Err(self.err(
                    span.clone(),
                    format!(
                        "{}{of} at {} does nothing: {}",
                        no.what,
                        crate::sim::time::format_duration(faults[i].0),
                        no.reason
                    ),
                ));
            }
        }
        if has_reshard {
            if cluster_plan.is_none() {
                let f = raw
                    .fault
                    .iter()
                    .find(|f| f.reshard.is_some())
                    .expect("a reshard");
                return Err(self.err(
                    f.at.span(),
                    "`reshard` needs a cluster: `cluster = true` in [topology]",
                ));
            }
            nodes.push(NodePlan {
                name: "redis-cli".into(),
                host: "10.0.3.1".into(),
                port: 40000,
                kind: NodeKind::Operator,
            });
        }
        self.check_event_budget(&nodes, duration, max_events, &raw)?;
        let fuzz = self.fuzz_settings(&raw.fuzz, duration)?;
        let conform = raw
            .conform
            .as_ref()
            .map(|c| conform::build(c, &names, n_servers, duration, &|span, m| self.err(span, m)))
            .transpose()?;
        let mut expects = Vec::new();
        for e in &raw.expect {
            expects.push(self.expectation(&names, e, duration, cluster_plan.is_some())?);
        }
        Ok(Plan {
            name: raw.name.into_inner(),
            description: raw.description,
            question: raw.question,
            topic: raw.topic,
            answer: raw.answer,
            seed: raw.seed,
            duration,
            max_events,
            link,
            nodes,
            faults,
            expects,
            fuzz,
            conform,
            cluster: cluster_plan,
        })
    }

    /// Refuses a run that cannot fit its event budget whatever happens in
    /// it: it would only stop at `max-events` after minutes of work.
    fn check_event_budget(
        &self,
        nodes: &[NodePlan],
        duration: Micros,
        max_events: u64,
        raw: &RawScenario,
    ) -> Result<(), ScenarioError> {
        let mut load = limits::Load {
            redis: 0,
            sentinels: 0,
            cluster_node_timeout_ms: None,
            cron_per_sec: 0.0,
            ops: 0.0,
            replicated: 0.0,
        };
        let n_redis = nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Redis { .. }))
            .count() as f64;
        // The replicas each write reaches: every other server, or in a
        // cluster the replicas of the key's master.
        let cluster = raw.topology.cluster.as_ref().is_some_and(|c| *c.get_ref());
        let fanout = match &raw.topology.replicas {
            _ if !cluster => (n_redis - 1.0).max(0.0),
            Some(r) => f64::from(*r.get_ref()),
            None => 0.0,
        };
        for n in nodes {
            match &n.kind {
                NodeKind::Redis { conf, .. } => {
                    load.redis += 1;
                    load.cron_per_sec += conf.hz as f64;
                    if conf.cluster_enabled {
                        let nt = conf.cluster.node_timeout;
                        load.cluster_node_timeout_ms =
                            Some(load.cluster_node_timeout_ms.map_or(nt, |m: u64| m.max(nt)));
                    }
                }
                NodeKind::Sentinel(_) => load.sentinels += 1,
                NodeKind::Client(w) => {
                    let ops = w.rate * (w.stop.saturating_sub(w.start)) as f64 / 1e6;
                    load.ops += ops;
                    load.replicated += ops * (1.0 - w.reads) * fanout;
                }
                NodeKind::Operator => {}
            }
        }
        let secs = duration as f64 / 1e6;
        let need = load.at_least(secs);
        if need > max_events as f64 {
            let mut e = self.err(
                raw.duration.span(),
                format!(
                    "this run needs at least {:.0} events ({:.0} per simulated second from its servers and Sentinels over {}, plus 2 per client operation and 1 per write and replica): more than its event budget, [sim] max-events = {max_events}",
                    need,
                    load.per_sec() / 2.0,
                    crate::sim::time::format_duration(duration)
                ),
            );
            e.hint = Some(
                "shorten `duration`, shrink the topology or the workload rates, or raise [sim] max-events (at most 1000000000)".into(),
            );
            return Err(e);
        }
        Ok(())
    }

    /// The cluster's slot assignment: explicit ranges per master, or an
    /// even split; replicas follow the masters in order.
    fn cluster_plan(&self, t: &RawTopology, replicas: u32) -> Result<ClusterPlan, ScenarioError> {
        let masters = *t.masters.get_ref() as usize;
        if masters == 0 {
            return Err(self.err(t.masters.span(), "a cluster needs at least one master"));
        }
        if *t.masters.get_ref() > limits::MAX_CLUSTER_MASTERS {
            return Err(self.err(
                t.masters.span(),
                format!(
                    "masters = {masters} is out of range: at most {} (Redis Cluster has {} hash slots and each master serves at least one)",
                    limits::MAX_CLUSTER_MASTERS,
                    SLOTS
                ),
            ));
        }
        let total = masters as u64 * (1 + u64::from(replicas));
        if total > limits::MAX_REDIS_NODES {
            return Err(self.err(
                t.masters.span(),
                format!(
                    "{masters} masters with {replicas} replicas each make {total} Redis servers: at most {} (simulation work grows with the square of their number)",
                    limits::MAX_REDIS_NODES
                ),
            ));
        }
        let slots: Vec<SlotSet> = match &t.slots {
            None => even_split(masters)
                .into_iter()
                .map(|(lo, hi)| SlotSet::range(lo, hi))
                .collect(),
            Some(list) => {
                if list.get_ref().len() != masters {
                    return Err(self.err(
                        list.span(),
                        format!("`slots` needs one entry per master ({masters})"),
                    ));
                }
                let mut seen = SlotSet::default();
                let mut out = Vec::new();
                for entry in list.get_ref() {
                    let set = parse_slot_ranges(entry.get_ref())
                        .map_err(|m| self.err(entry.span(), m))?;
                    if let Some(dup) = set.iter().find(|&x| seen.contains(x)) {
                        return Err(self.err(
                            entry.span(),
                            format!("slot {dup} is assigned to two masters"),
                        ));
                    }
                    for x in set.iter() {
                        seen.insert(x);
                    }
                    out.push(set);
                }
                out
            }
        };
        let mut replica_of = vec![None; masters];
        let mut all = slots;
        for m in 0..masters {
            for _ in 0..replicas {
                replica_of.push(Some(m));
                all.push(SlotSet::default());
            }
        }
        Ok(ClusterPlan {
            slots: all,
            replica_of,
        })
    }

    fn fuzz_settings(
        &self,
        raw: &RawFuzz,
        duration: Micros,
    ) -> Result<FuzzSettings, ScenarioError> {
        let faults_stop = match &raw.faults_stop {
            Some(s) => self.time_in_run(s, duration)?,
            None => duration / 2,
        };
        let mut properties = Vec::new();
        for p in raw.properties.iter().flatten() {
            if !PROPERTIES.contains(&p.get_ref().as_str()) {
                let mut e = self.err(p.span(), format!("unknown property `{}`", p.get_ref()));
                e.hint = suggest(p.get_ref(), PROPERTIES)
                    .map(|c| format!("did you mean `{c}`?"))
                    .or_else(|| Some(format!("properties: {}", PROPERTIES.join(", "))));
                return Err(e);
            }
            properties.push(p.get_ref().clone());
        }
        let mut swarm = Vec::new();
        for (key, range) in &raw.swarm {
            let k = key.get_ref().as_str();
            if !SWARM_KEYS.contains(&k) {
                let mut e = self.err(key.span(), format!("`{k}` cannot be drawn in swarm mode"));
                e.hint = suggest(k, SWARM_KEYS)
                    .map(|c| format!("did you mean `{c}`?"))
                    .or_else(|| Some(format!("swarm keys: {}", SWARM_KEYS.join(", "))));
                return Err(e);
            }
            let bad = || {
                self.err(
                    range.span(),
                    format!(
                        "`{k}` takes a range [low, high], e.g. [1000, 30000] or [\"16kb\", \"4mb\"]"
                    ),
                )
            };
            let r = match range.get_ref().as_slice() {
                [toml::Value::Integer(a), toml::Value::Integer(b)] if a <= b => {
                    SwarmRange::Int(*a, *b)
                }
                [toml::Value::String(a), toml::Value::String(b)] => {
                    let (a, b) = match (
                        crate::sim::time::parse_duration(a),
                        crate::sim::time::parse_duration(b),
                    ) {
                        (Ok(a), Ok(b)) => (SwarmRange::Duration(a, b), a <= b),
                        _ => match (parse_size(a), parse_size(b)) {
                            (Ok(a), Ok(b)) => (SwarmRange::Size(a, b), a <= b),
                            _ => return Err(bad()),
                        },
                    };
                    if !b {
                        return Err(bad());
                    }
                    a
                }
                _ => return Err(bad()),
            };
            swarm.push((k.to_string(), r));
        }
        self.check_swarm_draws(&raw.swarm, &swarm)?;
        let bounds = Bounds {
            max_lost_acked_writes: raw.max_lost_acked_writes,
            max_unavailability: raw
                .max_unavailability
                .as_ref()
                .map(|d| self.duration(d))
                .transpose()?,
            converges_within: raw
                .converges_within
                .as_ref()
                .map(|d| self.duration(d))
                .transpose()?,
        };
        if let (Some(c), Some(span)) = (bounds.converges_within, raw.converges_within.as_ref())
            && faults_stop + c > duration
        {
            return Err(self.err(
                span.span(),
                "faults-stop + converges-within is after the end of the run",
            ));
        }
        Ok(FuzzSettings {
            faults_stop,
            max_faults: match &raw.max_faults {
                Some(m) => self.bounded(
                    &Spanned::new(m.span(), *m.get_ref() as u64),
                    "max-faults",
                    0,
                    limits::MAX_FUZZ_FAULTS as u64,
                    "each fault is a scheduled event; schedules are shrunk by hand-readable steps",
                )? as usize,
                None => 6,
            },
            properties,
            swarm,
            bounds,
        })
    }

    /// Every seed of a swarm run draws its configuration within the ranges
    /// and parses the result: a range whose end is invalid (a rate of 0,
    /// 100000 replicas) would fail every seed, so it is refused here. Each
    /// range is tried at both ends, then all ranges at their low and at
    /// their high ends together.
    fn check_swarm_draws(
        &self,
        raw: &IndexMap<Spanned<String>, Spanned<Vec<toml::Value>>>,
        swarm: &[(String, SwarmRange)],
    ) -> Result<(), ScenarioError> {
        let Ok(mut base) = toml::from_str::<toml::Table>(self.src.text) else {
            return Ok(());
        };
        base.remove("fuzz");
        let spans: Vec<Range<usize>> = raw.values().map(|r| r.span()).collect();
        let draw = |picks: &[(usize, bool)]| -> Result<(), String> {
            let mut doc = base.clone();
            for &(i, high) in picks {
                let (key, range) = &swarm[i];
                let (lo, hi) = range.bounds();
                swarm::set_swarm_value(&mut doc, key, range.value(if high { hi } else { lo }));
            }
            let text = toml::to_string(&doc).map_err(|e| e.to_string())?;
            parse("swarm.toml", &text)
                .map(|_| ())
                .map_err(|e| e.message)
        };
        for (i, (key, range)) in swarm.iter().enumerate() {
            let (lo, hi) = range.bounds();
            for (high, v) in [(false, lo), (true, hi)] {
                if let Err(m) = draw(&[(i, high)]) {
                    let shown = match range.value(v) {
                        toml::Value::String(s) => format!("\"{s}\""),
                        other => other.to_string(),
                    };
                    let mut e = self.err(
                        spans[i].clone(),
                        format!("`{key}` = {shown}, drawn from this range, is invalid: {m}"),
                    );
                    e.hint = Some(
                        "every seed draws a value in [low, high]: keep both ends valid".into(),
                    );
                    return Err(e);
                }
            }
        }
        if swarm.len() > 1 {
            for high in [false, true] {
                let picks: Vec<(usize, bool)> = (0..swarm.len()).map(|i| (i, high)).collect();
                if let Err(m) = draw(&picks) {
                    let end = if high { "high" } else { "low" };
                    return Err(self.err(
                        spans[0].clone(),
                        format!("drawing the {end} end of every swarm range together gives an invalid scenario: {m}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn sentinel_conf(&self, raw: &RawSentinel) -> Result<SentinelConf, ScenarioError> {
        let mut c = SentinelConf::new(0);
        if let Some(n) = &raw.master_name {
            limits::check_token("master-name", n.get_ref()).map_err(|m| self.err(n.span(), m))?;
            c.master_name = n.get_ref().as_str().into();
        }
        if let Some(q) = &raw.quorum {
            if *q.get_ref() == 0 {
                return Err(self.err(q.span(), "quorum must be at least 1"));
            }
            c.quorum = *q.get_ref();
        }
        if let Some(d) = &raw.down_after_milliseconds {
            if *d.get_ref() == 0 {
                return Err(self.err(d.span(), "down-after-milliseconds must be positive"));
            }
            self.bounded(d, "down-after-milliseconds", 1, YEAR_MS, "a year")?;
            c.down_after = *d.get_ref();
        }
        if let Some(t) = &raw.failover_timeout {
            if *t.get_ref() == 0 {
                return Err(self.err(t.span(), "failover-timeout must be positive"));
            }
            self.bounded(t, "failover-timeout", 1, YEAR_MS, "a year")?;
            c.failover_timeout = *t.get_ref();
        }
        if let Some(pass) = &raw.auth_pass {
            limits::check_token("auth-pass", pass.get_ref())
                .map_err(|m| self.err(pass.span(), m))?;
            c.auth_pass = Some(pass.get_ref().as_str().into());
        }
        if let Some(n) = &raw.parallel_syncs {
            c.parallel_syncs = (*n.get_ref()).max(1);
        }
        Ok(c)
    }

    fn link_params(
        &self,
        mut p: LinkParams,
        latency: Option<&Spanned<String>>,
        jitter: Option<&Spanned<String>>,
        bandwidth: Option<&Spanned<String>>,
        loss: Option<(f64, Range<usize>)>,
    ) -> Result<LinkParams, ScenarioError> {
        if let Some(l) = latency {
            p.latency = self.duration(l)?;
        }
        if let Some(j) = jitter {
            p.jitter = self.duration(j)?;
        }
        if let Some(b) = bandwidth {
            let text = b.get_ref().trim_end_matches("/s");
            p.bandwidth = parse_size(text).map_err(|m| {
                let mut e = self.err(b.span(), m);
                e.hint = Some("bandwidth is bytes per second, e.g. \"100mb\" or \"1gb/s\"".into());
                e
            })?;
        }
        if let Some((l, span)) = loss {
            if !(0.0..1.0).contains(&l) {
                return Err(self.err(span, "loss is a probability in [0, 1)"));
            }
            p.loss = l;
        }
        Ok(p)
    }

    fn action(
        &self,
        names: &[String],
        n_redis: usize,
        n_servers: usize,
        f: &RawFault,
    ) -> Result<Action, ScenarioError> {
        let redis = |s: &Spanned<String>| self.redis_node(names, n_redis, n_servers, s);
        // Processes of any kind can be killed, paused or restarted.
        let any = |s: &Spanned<String>| self.node(names, s);
        let group = |g: &[Spanned<String>]| -> Result<Vec<usize>, ScenarioError> {
            g.iter().map(|n| self.node(names, n)).collect()
        };
        let mut actions = Vec::new();
        if let Some(n) = &f.kill {
            actions.push(Action::Kill(any(n)?));
        }
        if let Some(n) = &f.crash {
            actions.push(Action::Crash(any(n)?));
        }
        if let Some(n) = &f.shutdown {
            actions.push(Action::Shutdown(any(n)?));
        }
        if let Some(n) = &f.restart {
            actions.push(Action::Restart(any(n)?));
        }
        if let Some(n) = &f.pause {
            actions.push(Action::Pause(any(n)?));
        }
        if let Some(n) = &f.resume {
            actions.push(Action::Resume(any(n)?));
        }
        if let Some(p) = &f.partition {
            if p.get_ref().len() < 2 {
                return Err(self.err(
                    p.span(),
                    "a partition needs at least two groups, e.g. [[\"master\"], [\"replica-1\"]]",
                ));
            }
            let groups: Result<Vec<_>, _> = p.get_ref().iter().map(|g| group(g)).collect();
            actions.push(Action::Partition(groups?));
        }
        if let Some(p) = &f.partition_oneway {
            let p = p.get_ref();
            actions.push(Action::PartitionOneWay {
                from: group(&p.from)?,
                to: group(&p.to)?,
            });
        }
        if let Some(h) = &f.heal {
            if !*h.get_ref() {
                return Err(self.err(h.span(), "write `heal = true` to heal every partition"));
            }
            actions.push(Action::Heal);
        }
        if let Some(l) = &f.link {
            let r = l.get_ref();
            let params = self.link_params(
                LinkParams::default(),
                r.latency.as_ref(),
                r.jitter.as_ref(),
                r.bandwidth.as_ref(),
                r.loss.map(|x| (x, l.span())),
            )?;
            actions.push(Action::Link {
                from: self.node(names, &r.from)?,
                to: self.node(names, &r.to)?,
                params,
                both_ways: r.both_ways,
            });
        }
        if let Some(c) = &f.clock_jump {
            let r = c.get_ref();
            let text = r.by.get_ref().trim();
            let (sign, rest) = match text.strip_prefix('-') {
                Some(rest) => (-1i64, rest),
                None => (1, text.strip_prefix('+').unwrap_or(text)),
            };
            let by = parse_duration(rest).map_err(|m| self.err(r.by.span(), m))? as i64 * sign;
            actions.push(Action::ClockJump {
                node: self.node(names, &r.node)?,
                by,
            });
        }
        if let Some(b) = &f.burst {
            let b = b.get_ref();
            let writes = self.bounded(
                &b.writes,
                "writes",
                1,
                u64::from(limits::MAX_BURST_WRITES),
                "every node holds every key written",
            )?;
            let value_size = self.value_size(&b.value_size)?;
            let total = u64::from(writes) * u64::from(value_size);
            if total > limits::MAX_BURST_BYTES {
                return Err(self.err(
                    b.writes.span(),
                    format!(
                        "a burst of {writes} SETs of {value_size} bytes writes {total} bytes: at most 1gb (1073741824 bytes) per burst (every node holds every key, and every full sync copies them)"
                    ),
                ));
            }
            actions.push(Action::Burst {
                node: redis(&b.node)?,
                writes,
                value_size,
            });
        }
        if let Some(r) = &f.replicaof {
            let r = r.get_ref();
            let node = redis(&r.node)?;
            let master = if r.master.get_ref().eq_ignore_ascii_case("no one") {
                None
            } else {
                Some(redis(&r.master)?)
            };
            actions.push(Action::ReplicaOf { node, master });
        }
        if let Some(r) = &f.reshard {
            let r = r.get_ref();
            let slots =
                parse_slot_ranges(r.slots.get_ref()).map_err(|m| self.err(r.slots.span(), m))?;
            let batch = match &r.batch {
                Some(b) => self.bounded(
                    b,
                    "batch",
                    1,
                    u64::from(limits::MAX_BATCH),
                    "keys per MIGRATE",
                )?,
                None => default_batch(),
            };
            actions.push(Action::Reshard {
                from: redis(&r.from)?,
                to: redis(&r.to)?,
                slots: slots.iter().collect(),
                batch,
            });
        }
        if let Some(cf) = &f.cluster_failover {
            let r = cf.get_ref();
            let mode = match r.mode.as_ref().map(|m| m.get_ref().to_ascii_lowercase()) {
                None => FailoverMode::Default,
                Some(m) if m == "force" => FailoverMode::Force,
                Some(m) if m == "takeover" => FailoverMode::Takeover,
                Some(_) => {
                    let span = r.mode.as_ref().map_or(cf.span(), |m| m.span());
                    return Err(self.err(span, "mode is `force` or `takeover` (or leave it out for a coordinated failover)"));
                }
            };
            actions.push(Action::ClusterFailover {
                node: redis(&r.node)?,
                mode,
            });
        }
        if let Some(n) = &f.client_kill_master {
            actions.push(Action::ClientKillMaster(redis(n)?));
        }
        if let Some(d) = &f.debug_sleep {
            let d = d.get_ref();
            let length =
                parse_duration(d.length.get_ref()).map_err(|m| self.err(d.length.span(), m))?;
            actions.push(Action::DebugSleep {
                node: redis(&d.node)?,
                length,
            });
        }
        match actions.len() {
            1 => Ok(actions.pop().expect("one")),
            0 => Err(self.err(f.at.span(), "this fault does nothing: add one of kill, crash, shutdown, restart, pause, resume, partition, partition-oneway, heal, link, clock-jump, replicaof, burst, cluster-failover, reshard, client-kill-master, debug-sleep")),
            _ => Err(self.err(f.at.span(), "one fault per [[fault]] table: split these into separate tables")),
        }
    }

    fn cmp(&self, s: &Spanned<String>) -> Result<Cmp, ScenarioError> {
        Cmp::parse(s.get_ref()).map_err(|m| self.err(s.span(), m))
    }

    fn expectation(
        &self,
        names: &[String],
        e: &Spanned<RawExpect>,
        duration: Micros,
        cluster: bool,
    ) -> Result<Expectation, ScenarioError> {
        let span = e.span();
        let r = e.get_ref();
        let node = r.node.as_ref().map(|n| self.node(names, n)).transpose()?;
        let need_node = |what: &str| {
            node.ok_or_else(|| self.err(span.clone(), format!("`{what}` needs `node`")))
        };
        let at =
            r.at.as_ref()
                .map(|s| self.time_in_run(s, duration))
                .transpose()?;
        let need_at =
            |what: &str| at.ok_or_else(|| self.err(span.clone(), format!("`{what}` needs `at`")));
        let after = r
            .after
            .as_ref()
            .map(|s| self.time_in_run(s, duration))
            .transpose()?;
        let before = r
            .before
            .as_ref()
            .map(|s| self.time_in_run(s, duration))
            .transpose()?;
        let count = r.count.as_ref().map(|c| self.cmp(c)).transpose()?;
        let mut found = Vec::new();
        if let Some(role) = &r.role {
            let want = role.get_ref().as_str();
            if want != "master" && want != "replica" {
                return Err(self.err(role.span(), "role is `master` or `replica`"));
            }
            found.push(Expectation::Role {
                at: need_at("role")?,
                node: need_node("role")?,
                role: want.to_string(),
            });
        }
        if let Some(field) = &r.info {
            let equals = match r.equals.as_ref().map(|v| v.get_ref()) {
                Some(toml::Value::String(s)) => s.clone(),
                Some(toml::Value::Integer(i)) => i.to_string(),
                _ => {
                    return Err(self.err(
                        field.span(),
                        "`info` needs `equals` (a string or an integer)",
                    ));
                }
            };
            found.push(Expectation::Info {
                at: need_at("info")?,
                node: need_node("info")?,
                field: field.get_ref().clone(),
                equals,
            });
        }
        if let Some(ev) = &r.event {
            found.push(Expectation::Event {
                node,
                name: ev.get_ref().clone(),
                count: count.clone().unwrap_or(Cmp::AtLeast(1)),
                after,
                before,
            });
        }
        if let Some(kind) = &r.resync {
            let kind = match kind.get_ref().as_str() {
                "partial" => ResyncKind::Partial,
                "full" => ResyncKind::Full,
                _ => return Err(self.err(kind.span(), "resync is `partial` or `full`")),
            };
            found.push(Expectation::Resync {
                node: need_node("resync")?,
                kind,
                count: count.clone().unwrap_or(Cmp::AtLeast(1)),
                after,
                before,
            });
        }
        if let Some(c) = &r.lost_acked_writes {
            found.push(Expectation::LostAckedWrites(self.cmp(c)?));
        }
        if let Some(c) = &r.lost_waited_writes {
            found.push(Expectation::LostWaitedWrites(self.cmp(c)?));
        }
        if let Some(d) = &r.max_unavailability {
            found.push(Expectation::MaxUnavailability(self.duration(d)?));
        }
        if let Some(c) = &r.converged {
            if !*c.get_ref() {
                return Err(self.err(c.span(), "write `converged = true` with `at`"));
            }
            found.push(Expectation::Converged {
                at: need_at("converged")?,
            });
        }
        if let Some(c) = &r.stale_reads {
            found.push(Expectation::StaleReads(self.cmp(c)?));
        }
        if let Some(c) = &r.acked_writes {
            found.push(Expectation::AckedWrites(self.cmp(c)?));
        }
        if let Some(prefix) = &r.client_errors {
            found.push(Expectation::ClientErrors {
                prefix: prefix.get_ref().clone(),
                count: count.clone().unwrap_or(Cmp::AtLeast(1)),
            });
        }
        if let Some(name) = &r.invariant {
            if !PROPERTIES.contains(&name.get_ref().as_str()) {
                let mut e = self.err(
                    name.span(),
                    format!("unknown invariant `{}`", name.get_ref()),
                );
                e.hint =
                    suggest(name.get_ref(), PROPERTIES).map(|c| format!("did you mean `{c}`?"));
                return Err(e);
            }
            found.push(Expectation::Invariant(name.get_ref().clone()));
        }
        if let Some(c) = &r.keys {
            found.push(Expectation::Keys {
                at: need_at("keys")?,
                node: need_node("keys")?,
                count: self.cmp(c)?,
            });
        }
        if let Some(c) = &r.bus_bytes_per_message {
            if !cluster {
                return Err(self.err(
                    c.span(),
                    "`bus-bytes-per-message` needs `cluster = true` in [topology]",
                ));
            }
            found.push(Expectation::BusBytesPerMessage {
                at: need_at("bus-bytes-per-message")?,
                node: need_node("bus-bytes-per-message")?,
                count: self.cmp(c)?,
            });
        }
        match found.len() {
            1 => Ok(found.pop().expect("one")),
            0 => Err(self.err(span, "this expectation checks nothing: use one of role, info, event, resync, lost-acked-writes, acked-writes, client-errors, keys, bus-bytes-per-message")),
            _ => Err(self.err(span, "one check per [[expect]] table: split these into separate tables")),
        }
    }
}
