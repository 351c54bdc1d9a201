//! The scenario file as serde reads it: every table and key, with spans
//! for located errors (a `[[fault]]` table's keys are defined with the
//! kinds of fault, in `fault.rs`). Nothing here is validated.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::command::RawCommand;
use super::conform;
use super::connection::RawConnection;
use super::fault::RawFault;
use super::publish::RawPublish;

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
    /// The run ends here, before `duration` (a `redsim lab` recording ends
    /// where its session ended; the file's times are still checked against
    /// `duration`, as they were live).
    pub(super) stop: Option<Spanned<String>>,
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
    pub(super) command: Vec<RawCommand>,
    /// Outside connections (`redsim lab`'s clients).
    #[serde(default)]
    pub(super) connection: Vec<RawConnection>,
    #[serde(default)]
    pub(super) expect: Vec<Spanned<RawExpect>>,
    #[serde(default)]
    pub(super) fuzz: RawFuzz,
    /// The servers' ports published outside the deployment.
    pub(super) publish: Option<RawPublish>,
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
    pub(super) never_prints: Option<Vec<Spanned<String>>>,
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
    /// Whether replicas start replicating the master (the default). With
    /// `false` every server starts as a master, as separate redis-server
    /// processes do until a `REPLICAOF` links them.
    pub(super) linked: Option<Spanned<bool>>,
}

/// sentinel.conf settings for the monitored master (`sentinel monitor`,
/// `sentinel down-after-milliseconds`, ...), the defaults of every
/// monitored master when there are several.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawSentinel {
    pub(super) master_name: Option<Spanned<String>>,
    pub(super) quorum: Option<Spanned<u32>>,
    pub(super) down_after_milliseconds: Option<Spanned<u64>>,
    pub(super) failover_timeout: Option<Spanned<u64>>,
    pub(super) parallel_syncs: Option<Spanned<u32>>,
    pub(super) auth_pass: Option<Spanned<String>>,
    /// `[sentinel.masters.<name>]`: each monitored master by name, with
    /// its group's master node and its own settings.
    #[serde(default)]
    pub(super) masters: IndexMap<Spanned<String>, RawMonitor>,
}

/// One monitored master: `sentinel monitor <name> <node> <quorum>` and its
/// own options (unset ones come from `[sentinel]`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawMonitor {
    /// The group's master, e.g. `master-2` (optional with one group).
    pub(super) node: Option<Spanned<String>>,
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
    /// With `sentinel = true`: the monitored master's name to ask for
    /// (needed when the Sentinels monitor several).
    pub(super) master_name: Option<Spanned<String>>,
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
    /// Key names from a pattern: its `*` becomes the key number.
    pub(super) key_pattern: Option<Spanned<String>>,
    /// These key names, as written.
    pub(super) key_names: Option<Spanned<Vec<String>>>,
    /// Commands and their weights: `{ set = 6, get = 3, incr = 1 }`.
    pub(super) mix: Option<Spanned<std::collections::BTreeMap<String, f64>>>,
    /// How many keys an MSET or MGET of the mix names.
    pub(super) multi_keys: Option<Spanned<u32>>,
    /// The TTL an EXPIRE of the mix sets.
    pub(super) ttl: Option<Spanned<String>>,
    pub(super) start: Option<Spanned<String>>,
    pub(super) stop: Option<Spanned<String>>,
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) wait_replicas: Option<u32>,
    pub(super) wait_timeout: Option<Spanned<String>>,
    pub(super) reconnect_delay: Option<Spanned<String>>,
    pub(super) reconnect_max_delay: Option<Spanned<String>>,
    /// Connections the workload spreads its operations over.
    pub(super) connections: Option<Spanned<u32>>,
    /// Requests each connection may have in flight at once.
    pub(super) pipeline: Option<Spanned<u32>>,
}

pub(super) fn default_keys() -> u32 {
    1000
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
    pub(super) lost_acked_deletes: Option<Spanned<String>>,
    pub(super) lost_waited_writes: Option<Spanned<String>>,
    pub(super) acked_writes: Option<Spanned<String>>,
    pub(super) stale_reads: Option<Spanned<String>>,
    pub(super) max_unavailability: Option<Spanned<String>>,
    pub(super) converged: Option<Spanned<bool>>,
    pub(super) client_errors: Option<Spanned<String>>,
    pub(super) keys: Option<Spanned<String>>,
    pub(super) invariant: Option<Spanned<String>>,
    pub(super) bus_bytes_per_message: Option<Spanned<String>>,
    /// The name of a `[[command]]` whose reply is checked.
    pub(super) reply: Option<Spanned<String>>,
    /// With `reply`: a `field:value` line of the reply (INFO's form).
    pub(super) field: Option<Spanned<String>>,
    /// With `reply`: how the reply (or the field) starts.
    pub(super) prefix: Option<Spanned<String>>,
    /// With `reply`: a glob pattern the reply (or the field) matches.
    pub(super) matches: Option<Spanned<String>>,
    /// The name of a SUBSCRIBE or PSUBSCRIBE `[[command]]` whose session's
    /// messages are counted (`count`).
    pub(super) messages: Option<Spanned<String>>,
    /// With `messages`: count only those on this channel.
    pub(super) channel: Option<Spanned<String>>,
}
