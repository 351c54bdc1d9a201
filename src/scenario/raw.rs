//! The scenario file as serde reads it: every table and key, with spans
//! for located errors. Nothing here is validated.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::conform;

/// A table of redis.conf settings, keyed by name.
pub(super) type Conf = IndexMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawScenario {
    pub(super) name: Spanned<String>,
    pub(super) description: Option<String>,
    pub(super) question: Option<String>,
    pub(super) answer: Option<String>,
    /// A subgroup for `redsim list` within the scenario's directory.
    pub(super) topic: Option<String>,
    #[serde(default)]
    pub(super) seed: u64,
    pub(super) duration: Spanned<String>,
    #[serde(default)]
    pub(super) sim: RawSim,
    #[serde(default)]
    pub(super) network: RawNetwork,
    pub(super) topology: RawTopology,
    #[serde(default)]
    pub(super) redis: Conf,
    #[serde(default)]
    pub(super) sentinel: RawSentinel,
    #[serde(default)]
    pub(super) node: IndexMap<Spanned<String>, Conf>,
    #[serde(default)]
    pub(super) workload: Vec<RawWorkload>,
    #[serde(default)]
    pub(super) fault: Vec<RawFault>,
    #[serde(default)]
    pub(super) expect: Vec<Spanned<RawExpect>>,
    #[serde(default)]
    pub(super) fuzz: RawFuzz,
    /// Conformance against real Redis (`redsim conform`).
    pub(super) conform: Option<conform::RawConform>,
}

/// How `redsim fuzz` treats this scenario.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawFuzz {
    pub(super) faults_stop: Option<Spanned<String>>,
    pub(super) max_faults: Option<Spanned<usize>>,
    pub(super) properties: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) swarm: IndexMap<Spanned<String>, Spanned<Vec<toml::Value>>>,
    pub(super) max_lost_acked_writes: Option<u64>,
    pub(super) max_unavailability: Option<Spanned<String>>,
    pub(super) converges_within: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawSim {
    pub(super) max_events: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawNetwork {
    pub(super) latency: Option<Spanned<String>>,
    pub(super) jitter: Option<Spanned<String>>,
    pub(super) bandwidth: Option<Spanned<String>>,
    pub(super) loss: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawTopology {
    pub(super) masters: Spanned<u32>,
    /// Replicas (of the master, or of each master in a cluster).
    pub(super) replicas: Option<Spanned<u32>>,
    pub(super) sentinels: Option<Spanned<u32>>,
    /// A Redis Cluster: `masters` shards of `replicas` replicas each.
    #[serde(default)]
    pub(super) cluster: Option<Spanned<bool>>,
    /// Cluster slot ranges per master, e.g. ["0-8191", "8192-16383"];
    /// default: split evenly as `redis-cli --cluster create` does.
    pub(super) slots: Option<Spanned<Vec<Spanned<String>>>>,
}

/// sentinel.conf settings for the monitored master (`sentinel monitor`,
/// `sentinel down-after-milliseconds`, ...).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawSentinel {
    pub(super) master_name: Option<Spanned<String>>,
    pub(super) quorum: Option<Spanned<u32>>,
    pub(super) down_after_milliseconds: Option<Spanned<u64>>,
    pub(super) failover_timeout: Option<Spanned<u64>>,
    pub(super) parallel_syncs: Option<Spanned<u32>>,
    pub(super) auth_pass: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawWorkload {
    pub(super) name: Option<Spanned<String>>,
    pub(super) target: Option<Spanned<String>>,
    /// Discover the master through the Sentinels instead of a fixed target.
    #[serde(default)]
    pub(super) sentinel: bool,
    /// A cluster client: routes each key by its slot and follows MOVED.
    #[serde(default)]
    pub(super) cluster: bool,
    pub(super) rate: Spanned<f64>,
    pub(super) keys: Option<Spanned<u32>>,
    pub(super) key_offset: Option<Spanned<u32>>,
    pub(super) reads: Option<Spanned<f64>>,
    pub(super) value_size: Option<Spanned<u32>>,
    /// Keys become `{tag}key:<n>`: all in the tag's hash slot.
    pub(super) hash_tag: Option<Spanned<String>>,
    pub(super) start: Option<Spanned<String>>,
    pub(super) stop: Option<Spanned<String>>,
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) wait_replicas: Option<u32>,
    pub(super) wait_timeout: Option<Spanned<String>>,
    pub(super) reconnect_delay: Option<Spanned<String>>,
    pub(super) reconnect_max_delay: Option<Spanned<String>>,
}

pub(super) fn default_keys() -> u32 {
    1000
}
pub(super) fn default_value_size() -> u32 {
    100
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawFault {
    pub(super) at: Spanned<String>,
    pub(super) kill: Option<Spanned<String>>,
    pub(super) crash: Option<Spanned<String>>,
    pub(super) shutdown: Option<Spanned<String>>,
    pub(super) restart: Option<Spanned<String>>,
    pub(super) pause: Option<Spanned<String>>,
    pub(super) resume: Option<Spanned<String>>,
    pub(super) partition: Option<Spanned<Vec<Vec<Spanned<String>>>>>,
    pub(super) partition_oneway: Option<Spanned<RawOneWay>>,
    pub(super) heal: Option<Spanned<bool>>,
    pub(super) link: Option<Spanned<RawLink>>,
    pub(super) clock_jump: Option<Spanned<RawClockJump>>,
    pub(super) replicaof: Option<Spanned<RawReplicaOf>>,
    pub(super) burst: Option<Spanned<RawBurst>>,
    pub(super) cluster_failover: Option<Spanned<RawClusterFailover>>,
    pub(super) reshard: Option<Spanned<RawReshard>>,
    pub(super) client_kill_master: Option<Spanned<String>>,
    pub(super) debug_sleep: Option<Spanned<RawDebugSleep>>,
}

/// `redis-cli --cluster reshard`: move `slots` from one master to another.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawReshard {
    pub(super) from: Spanned<String>,
    pub(super) to: Spanned<String>,
    pub(super) slots: Spanned<String>,
    /// Keys per MIGRATE (redis-cli's `--cluster-pipeline`).
    pub(super) batch: Option<Spanned<u32>>,
}

pub(super) fn default_batch() -> u32 {
    10
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawClusterFailover {
    pub(super) node: Spanned<String>,
    /// `force` or `takeover`; default: a coordinated manual failover.
    pub(super) mode: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDebugSleep {
    pub(super) node: Spanned<String>,
    #[serde(rename = "for")]
    pub(super) length: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawOneWay {
    pub(super) from: Vec<Spanned<String>>,
    pub(super) to: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawLink {
    pub(super) from: Spanned<String>,
    pub(super) to: Spanned<String>,
    pub(super) latency: Option<Spanned<String>>,
    pub(super) jitter: Option<Spanned<String>>,
    pub(super) bandwidth: Option<Spanned<String>>,
    pub(super) loss: Option<f64>,
    #[serde(default = "yes")]
    pub(super) both_ways: bool,
}

pub(super) fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawClockJump {
    pub(super) node: Spanned<String>,
    pub(super) by: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawBurst {
    pub(super) node: Spanned<String>,
    pub(super) writes: Spanned<u32>,
    pub(super) value_size: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawReplicaOf {
    pub(super) node: Spanned<String>,
    pub(super) master: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawExpect {
    pub(super) at: Option<Spanned<String>>,
    pub(super) after: Option<Spanned<String>>,
    pub(super) before: Option<Spanned<String>>,
    pub(super) node: Option<Spanned<String>>,
    pub(super) role: Option<Spanned<String>>,
    pub(super) info: Option<Spanned<String>>,
    pub(super) equals: Option<Spanned<toml::Value>>,
    pub(super) event: Option<Spanned<String>>,
    pub(super) count: Option<Spanned<String>>,
    pub(super) resync: Option<Spanned<String>>,
    pub(super) lost_acked_writes: Option<Spanned<String>>,
    pub(super) lost_waited_writes: Option<Spanned<String>>,
    pub(super) acked_writes: Option<Spanned<String>>,
    pub(super) stale_reads: Option<Spanned<String>>,
    pub(super) max_unavailability: Option<Spanned<String>>,
    pub(super) converged: Option<Spanned<bool>>,
    pub(super) client_errors: Option<Spanned<String>>,
    pub(super) keys: Option<Spanned<String>>,
    pub(super) invariant: Option<Spanned<String>>,
    pub(super) bus_bytes_per_message: Option<Spanned<String>>,
}
