//! `CONFIG GET`, `CONFIG SET` and `CONFIG REWRITE` over the redis.conf keys
//! the model runs with (config.c: configGetCommand(), configSetCommand(),
//! configRewriteCommand()).
//!
//! Each key is described as config.c's `static_configs[]` describes it: its
//! name and alias, its type (which fixes how a value is parsed, the error
//! texts and how the value is shown), whether it is immutable or refused
//! while loading, and its apply function. The keys redsim has only as a
//! host model (`fork-time-per-gb`, `rdb-save-rate`, `rdb-load-rate`) are no
//! Redis configs, so CONFIG does not know them either.
//!
//! CONFIG SET changes the running process's configuration only; the node's
//! redis.conf (what a restart reads) changes with CONFIG REWRITE.

use crate::proto::addr::Directory;
use crate::proto::resp::Frame;
use crate::proto::util::{string2ll, stringmatch};
use crate::proto::{Ctx, Reply};
use crate::trace::Level;

use super::config::{
    AppendFsync, OutputBufferLimit, ProtectedAction, REPL_BACKLOG_MIN_SIZE, RedisConfig,
};
use super::{ERR_LOADING, Host, Server};

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;

/// How a config's value is read and written: config.c's config types.
enum Kind {
    /// createBoolConfig(): `yes` or `no` in any case (yesnotoi()).
    Bool(fn(&RedisConfig) -> bool, fn(&mut RedisConfig, bool)),
    /// createIntConfig(), createLongLongConfig(), createTimeTConfig():
    /// INTEGER_CONFIG values parse with string2ll(), MEMORY_CONFIG ones
    /// with memtoull(); both show as plain decimals.
    Numeric {
        min: i64,
        max: i64,
        memory: bool,
        get: fn(&RedisConfig) -> i64,
        put: fn(&mut RedisConfig, i64),
    },
    /// createEnumConfig(): one of `names` in any case, shown as written
    /// there. `get` and `put` use the index in `names`.
    Enum {
        names: &'static [&'static str],
        get: fn(&RedisConfig) -> usize,
        put: fn(&mut RedisConfig, usize),
    },
    /// createSDSConfig() with EMPTY_STRING_IS_NULL: "" clears the value.
    Sds(
        fn(&RedisConfig) -> Option<&str>,
        fn(&mut RedisConfig, Option<String>),
    ),
    /// `save`: setConfigSaveOption(), getConfigSaveOption().
    Save,
    /// `client-output-buffer-limit`: updateClientOutputBufferLimit(),
    /// getConfigClientOutputBufferLimitOption().
    ClientOutputBufferLimit,
    /// `replicaof`: immutable; shows the master this process replicates
    /// from (getConfigReplicaOfOption()).
    ReplicaOf,
}

/// The apply functions the model runs after a CONFIG SET changed a value
/// (each once per command, in the order of the first key that needs it).
/// updateRequirePass() has nothing to do in the model (a connection's
/// authentication is checked against `requirepass` itself), nor has
/// updateClusterFlags() (the model gossips no NOFAILOVER flag for itself;
/// `cluster-replica-no-failover` is read at the next failover attempt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Apply {
    /// updateReplBacklogSize() → resizeReplicationBacklog().
    ReplBacklogSize,
    /// updateGoodSlaves() → refreshGoodSlavesCount().
    GoodSlaves,
    /// updateAppendonly() → startAppendOnly() / stopAppendOnly().
    Appendonly,
    /// updateHZ(): 1 to 500.
    Hz,
    /// updateClusterIp(), updateClusterAnnouncedPort(): the node's own
    /// entry takes the new address at once; the others learn it from its
    /// next PING.
    ClusterAnnounce,
}

/// One entry of config.c's `static_configs[]`.
struct Config {
    name: &'static str,
    alias: Option<&'static str>,
    kind: Kind,
    /// IMMUTABLE_CONFIG.
    immutable: bool,
    /// DENY_LOADING_CONFIG: refused with -LOADING while the dataset loads.
    deny_loading: bool,
    /// HIDDEN_CONFIG: matched only by its exact name, never by a pattern.
    hidden: bool,
    apply: Option<Apply>,
}

const fn config(name: &'static str, alias: Option<&'static str>, kind: Kind) -> Config {
    Config {
        name,
        alias,
        kind,
        immutable: false,
        deny_loading: false,
        hidden: false,
        apply: None,
    }
}

const fn int(
    min: i64,
    max: i64,
    get: fn(&RedisConfig) -> i64,
    put: fn(&mut RedisConfig, i64),
) -> Kind {
    Kind::Numeric {
        min,
        max,
        memory: false,
        get,
        put,
    }
}

impl Config {
    const fn apply(mut self, apply: Apply) -> Self {
        self.apply = Some(apply);
        self
    }

    const fn immutable(mut self) -> Self {
        self.immutable = true;
        self
    }

    const fn deny_loading(mut self) -> Self {
        self.deny_loading = true;
        self
    }

    const fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }
}

const APPENDFSYNC: &[&str] = &["everysec", "always", "no"];
const PROTECTED_ACTION: &[&str] = &["no", "yes", "local"];
const REPL_DISKLESS_LOAD: &[&str] = &["disabled", "on-empty-db", "swapdb"];

/// The redis.conf keys the model runs with, in the order of config.c's
/// `static_configs[]`, with their Redis 7.0.15 types, ranges and flags.
static CONFIGS: &[Config] = &[
    config(
        "repl-diskless-sync",
        None,
        Kind::Bool(|c| c.repl_diskless_sync, |c, v| c.repl_diskless_sync = v),
    ),
    config(
        "cluster-require-full-coverage",
        None,
        Kind::Bool(
            |c| c.cluster.require_full_coverage,
            |c, v| c.cluster.require_full_coverage = v,
        ),
    ),
    config(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        Kind::Bool(
            |c| c.cluster.replica_no_failover,
            |c, v| c.cluster.replica_no_failover = v,
        ),
    ),
    config(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        Kind::Bool(
            |c| c.replica_serve_stale_data,
            |c, v| c.replica_serve_stale_data = v,
        ),
    ),
    config(
        "auto-aof-rewrite-percentage",
        None,
        int(
            0,
            INT_MAX,
            |c| c.auto_aof_rewrite_percentage as i64,
            |c, v| c.auto_aof_rewrite_percentage = v as u64,
        ),
    ),
    config(
        "auto-aof-rewrite-min-size",
        None,
        Kind::Numeric {
            min: 0,
            max: i64::MAX,
            memory: true,
            get: |c| c.auto_aof_rewrite_min_size as i64,
            put: |c, v| c.auto_aof_rewrite_min_size = v as u64,
        },
    ),
    config(
        "rdb-key-save-delay",
        None,
        int(
            INT_MIN,
            INT_MAX,
            |c| c.rdb_key_save_delay,
            |c, v| c.rdb_key_save_delay = v,
        ),
    )
    .hidden(),
    config(
        "stop-writes-on-bgsave-error",
        None,
        Kind::Bool(
            |c| c.stop_writes_on_bgsave_error,
            |c, v| c.stop_writes_on_bgsave_error = v,
        ),
    ),
    config(
        "replica-ignore-disk-write-errors",
        None,
        Kind::Bool(
            |c| c.repl_ignore_disk_write_error,
            |c, v| c.repl_ignore_disk_write_error = v,
        ),
    ),
    config(
        "replica-read-only",
        Some("slave-read-only"),
        Kind::Bool(|c| c.replica_read_only, |c, v| c.replica_read_only = v),
    ),
    config(
        "cluster-enabled",
        None,
        Kind::Bool(|c| c.cluster_enabled, |c, v| c.cluster_enabled = v),
    )
    .immutable(),
    config(
        "appendonly",
        None,
        Kind::Bool(|c| c.appendonly, |c, v| c.appendonly = v),
    )
    .deny_loading()
    .apply(Apply::Appendonly),
    config(
        "cluster-allow-reads-when-down",
        None,
        Kind::Bool(
            |c| c.cluster.allow_reads_when_down,
            |c, v| c.cluster.allow_reads_when_down = v,
        ),
    ),
    config(
        "cluster-allow-replica-migration",
        None,
        Kind::Bool(
            |c| c.cluster.allow_replica_migration,
            |c, v| c.cluster.allow_replica_migration = v,
        ),
    ),
    config(
        "replica-announce-ip",
        Some("slave-announce-ip"),
        Kind::Sds(
            |c| c.replica_announce_ip.as_deref(),
            |c, v| c.replica_announce_ip = v,
        ),
    ),
    config(
        "cluster-announce-ip",
        None,
        Kind::Sds(
            |c| c.cluster.announce_ip.as_deref(),
            |c, v| c.cluster.announce_ip = v,
        ),
    )
    .apply(Apply::ClusterAnnounce),
    config(
        "masterauth",
        None,
        Kind::Sds(|c| c.masterauth.as_deref(), |c, v| c.masterauth = v),
    ),
    config(
        "requirepass",
        None,
        Kind::Sds(|c| c.requirepass.as_deref(), |c, v| c.requirepass = v),
    ),
    // Only `disabled` is modelled; the others are refused (see refusal()).
    config(
        "repl-diskless-load",
        None,
        Kind::Enum {
            names: REPL_DISKLESS_LOAD,
            get: |_| 0,
            put: |_, _| {},
        },
    )
    .deny_loading(),
    config(
        "appendfsync",
        None,
        Kind::Enum {
            names: APPENDFSYNC,
            get: |c| match c.appendfsync {
                AppendFsync::Everysec => 0,
                AppendFsync::Always => 1,
                AppendFsync::No => 2,
            },
            put: |c, i| {
                c.appendfsync = [AppendFsync::Everysec, AppendFsync::Always, AppendFsync::No][i]
            },
        },
    ),
    config(
        "enable-debug-command",
        None,
        Kind::Enum {
            names: PROTECTED_ACTION,
            get: |c| c.enable_debug_command as usize,
            put: |c, i| {
                c.enable_debug_command = [
                    ProtectedAction::No,
                    ProtectedAction::Yes,
                    ProtectedAction::Local,
                ][i]
            },
        },
    )
    .immutable(),
    // A new port is refused (see refusal()).
    config(
        "port",
        None,
        int(0, 65535, |c| i64::from(c.port), |c, v| c.port = v as u16),
    ),
    config(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        int(
            0,
            INT_MAX,
            |c| c.cluster.replica_validity_factor as i64,
            |c, v| c.cluster.replica_validity_factor = v as u64,
        ),
    ),
    config(
        "cluster-migration-barrier",
        None,
        int(
            0,
            INT_MAX,
            |c| i64::from(c.cluster.migration_barrier),
            |c, v| c.cluster.migration_barrier = v as u32,
        ),
    ),
    config(
        "replica-priority",
        Some("slave-priority"),
        int(
            0,
            INT_MAX,
            |c| i64::from(c.replica_priority),
            |c, v| c.replica_priority = v as u32,
        ),
    ),
    config(
        "repl-diskless-sync-delay",
        None,
        int(
            0,
            INT_MAX,
            |c| c.repl_diskless_sync_delay as i64,
            |c, v| c.repl_diskless_sync_delay = v as u64,
        ),
    ),
    config(
        "replica-announce-port",
        Some("slave-announce-port"),
        int(
            0,
            65535,
            |c| i64::from(c.replica_announce_port),
            |c, v| c.replica_announce_port = v as u16,
        ),
    ),
    config(
        "cluster-announce-bus-port",
        None,
        int(
            0,
            65535,
            |c| i64::from(c.cluster.announce_bus_port),
            |c, v| c.cluster.announce_bus_port = v as u16,
        ),
    )
    .apply(Apply::ClusterAnnounce),
    config(
        "cluster-announce-port",
        None,
        int(
            0,
            65535,
            |c| i64::from(c.cluster.announce_port),
            |c, v| c.cluster.announce_port = v as u16,
        ),
    )
    .apply(Apply::ClusterAnnounce),
    config(
        "repl-timeout",
        None,
        int(
            1,
            INT_MAX,
            |c| c.repl_timeout as i64,
            |c, v| c.repl_timeout = v as u64,
        ),
    ),
    config(
        "tcp-keepalive",
        None,
        int(
            0,
            INT_MAX,
            |c| c.tcp_keepalive as i64,
            |c, v| c.tcp_keepalive = v as u64,
        ),
    ),
    config(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        int(
            1,
            INT_MAX,
            |c| c.repl_ping_replica_period as i64,
            |c, v| c.repl_ping_replica_period = v as u64,
        ),
    ),
    config(
        "hz",
        None,
        int(0, INT_MAX, |c| c.hz as i64, |c, v| c.hz = v as u64),
    )
    .apply(Apply::Hz),
    config(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        int(
            0,
            INT_MAX,
            |c| i64::from(c.min_replicas_to_write),
            |c, v| c.min_replicas_to_write = v as u32,
        ),
    )
    .apply(Apply::GoodSlaves),
    config(
        "min-replicas-max-lag",
        Some("min-slaves-max-lag"),
        int(
            0,
            INT_MAX,
            |c| c.min_replicas_max_lag as i64,
            |c, v| c.min_replicas_max_lag = v as u64,
        ),
    )
    .apply(Apply::GoodSlaves),
    config(
        "repl-diskless-sync-max-replicas",
        None,
        int(
            0,
            INT_MAX,
            |c| i64::from(c.repl_diskless_sync_max_replicas),
            |c, v| c.repl_diskless_sync_max_replicas = v as u32,
        ),
    ),
    config(
        "cluster-node-timeout",
        None,
        int(
            0,
            i64::MAX,
            |c| c.cluster.node_timeout as i64,
            |c, v| c.cluster.node_timeout = v as u64,
        ),
    ),
    config(
        "repl-backlog-size",
        None,
        Kind::Numeric {
            min: 1,
            max: i64::MAX,
            memory: true,
            get: |c| c.repl_backlog_size as i64,
            put: |c, v| c.repl_backlog_size = v as u64,
        },
    )
    .apply(Apply::ReplBacklogSize),
    config(
        "repl-backlog-ttl",
        None,
        int(
            0,
            i64::MAX,
            |c| c.repl_backlog_ttl as i64,
            |c, v| c.repl_backlog_ttl = v as u64,
        ),
    ),
    config("save", None, Kind::Save),
    config(
        "client-output-buffer-limit",
        None,
        Kind::ClientOutputBufferLimit,
    ),
    config("replicaof", Some("slaveof"), Kind::ReplicaOf).immutable(),
];

/// A name as config.c's `configs` dict has it: a config, typed by its name
/// or by its alias (an alias is registered as a config of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    index: usize,
    alias: bool,
}

impl Entry {
    fn config(self) -> &'static Config {
        &CONFIGS[self.index]
    }

    /// The name registered for this entry (the alias for an alias).
    fn name(self) -> &'static str {
        let c = self.config();
        if self.alias {
            c.alias.expect("has an alias")
        } else {
            c.name
        }
    }
}

/// Every registered name in table order, each name before its alias.
fn entries() -> impl Iterator<Item = Entry> {
    CONFIGS.iter().enumerate().flat_map(|(index, c)| {
        std::iter::once(Entry {
            index,
            alias: false,
        })
        .chain(c.alias.map(|_| Entry { index, alias: true }))
    })
}

/// lookupConfig(): a name or an alias, in any case.
fn lookup(name: &str) -> Option<Entry> {
    entries().find(|e| e.name().eq_ignore_ascii_case(name))
}

impl Kind {
    /// The value as CONFIG GET shows it (the config type's get function).
    fn get(&self, c: &RedisConfig) -> String {
        match self {
            Kind::Bool(get, _) => yes_no(get(c)).into(),
            Kind::Numeric { get, .. } => get(c).to_string(),
            Kind::Enum { names, get, .. } => names[get(c)].into(),
            Kind::Sds(get, _) => get(c).unwrap_or("").into(),
            Kind::Save => c
                .save
                .iter()
                .map(|(secs, changes)| format!("{secs} {changes}"))
                .collect::<Vec<_>>()
                .join(" "),
            Kind::ClientOutputBufferLimit => {
                let class = |name: &str, l: &OutputBufferLimit| {
                    format!("{name} {} {} {}", l.hard, l.soft, l.soft_seconds)
                };
                [
                    class("normal", &c.normal_output_buffer_limit),
                    class("slave", &c.replica_output_buffer_limit),
                    class("pubsub", &c.pubsub_output_buffer_limit),
                ]
                .join(" ")
            }
            // Shown from the running process, see config_get().
            Kind::ReplicaOf => String::new(),
        }
    }

    /// Sets a value from its text (the config type's set function): true
    /// if the value changed, which is when its apply function runs.
    fn set(&self, c: &mut RedisConfig, value: &str) -> Result<bool, String> {
        match self {
            Kind::Bool(get, put) => {
                let v = yesnotoi(value).ok_or("argument must be 'yes' or 'no'")?;
                let changed = get(c) != v;
                put(c, v);
                Ok(changed)
            }
            Kind::Numeric {
                min,
                max,
                memory,
                get,
                put,
            } => {
                let v = if *memory {
                    memtoull(value).ok_or("argument must be a memory value")? as i64
                } else {
                    string2ll(value).ok_or("argument couldn't be parsed into an integer")?
                };
                if v < *min || v > *max {
                    return Err(format!(
                        "argument must be between {min} and {max} inclusive"
                    ));
                }
                let changed = get(c) != v;
                put(c, v);
                Ok(changed)
            }
            Kind::Enum { names, get, put } => {
                let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(value)) else {
                    return Err(format!(
                        "argument(s) must be one of the following: {}",
                        names.join(", ")
                    ));
                };
                let changed = get(c) != i;
                put(c, i);
                Ok(changed)
            }
            Kind::Sds(get, put) => {
                let v = (!value.is_empty()).then(|| value.to_string());
                let changed = get(c) != v.as_deref();
                put(c, v);
                Ok(changed)
            }
            Kind::Save => {
                c.save = save_points(&split_args(value)).ok_or("Invalid save parameters")?;
                Ok(true)
            }
            Kind::ClientOutputBufferLimit => {
                output_buffer_limits(c, &split_args(value))?;
                Ok(true)
            }
            Kind::ReplicaOf => Err("can't set immutable config".into()),
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// yesnotoi().
fn yesnotoi(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// memtoull(): digits and an optional unit (`b`, `k`, `kb`, `m`, `mb`,
/// `g`, `gb`, any case; `k` is 1000 and `kb` 1024). Digits beyond the
/// range saturate as strtoull() does, and the product wraps as in C.
fn memtoull(s: &str) -> Option<u64> {
    if s.starts_with('-') {
        return None;
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    // strtoull() of no digits is 0.
    let val = digits.bytes().fold(0u64, |v, d| {
        v.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX)
    });
    Some(val.wrapping_mul(mul))
}

/// strtoll() of a whole argument: leading white space, an optional sign,
/// decimal digits saturating at the long long range; `None` when anything
/// is left over. No digits at all reads as 0, as strtoll() leaves the end
/// pointer at the start (an empty argument passes, a sign alone does not).
fn strtoll(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if end == 0 {
        return s.is_empty().then_some(0);
    }
    if end != rest.len() {
        return None;
    }
    let mut v: i128 = 0;
    for d in rest.bytes() {
        v = (v * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let v = if negative { -v } else { v };
    Some(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// The arguments of a multi-argument config (MULTI_ARG_CONFIG): the value
/// split at each single space (sdssplitlen()), none for an empty value.
fn split_args(value: &str) -> Vec<&str> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').collect()
    }
}

/// setConfigSaveOption(): pairs of seconds (at least 1) and changes (at
/// least 0); `""` clears the save points.
fn save_points(args: &[&str]) -> Option<Vec<(u64, u64)>> {
    if !args.len().is_multiple_of(2) {
        return None;
    }
    let nums: Vec<i64> = args.iter().map(|a| strtoll(a)).collect::<Option<_>>()?;
    if nums.chunks(2).any(|pair| pair[0] < 1 || pair[1] < 0) {
        return None;
    }
    Some(
        nums.chunks(2)
            .map(|pair| (pair[0] as u64, pair[1] as u64))
            .collect(),
    )
}

/// updateClientOutputBufferLimit(): groups of `<class> <hard> <soft>
/// <soft seconds>`, all checked before any is set.
fn output_buffer_limits(c: &mut RedisConfig, args: &[&str]) -> Result<(), String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = Vec::new();
    for group in args.chunks(4) {
        // getClientTypeByName(); the master class cannot be limited.
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into());
            }
        };
        let (hard, soft, secs) = (memtoull(group[1]), memtoull(group[2]), strtoll(group[3]));
        match (hard, soft, secs) {
            (Some(hard), Some(soft), Some(secs)) if secs >= 0 => limits.push((
                class,
                OutputBufferLimit {
                    hard,
                    soft,
                    soft_seconds: secs as u64,
                },
            )),
            _ => {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                );
            }
        }
    }
    for (class, limit) in limits {
        *match class {
            0 => &mut c.normal_output_buffer_limit,
            1 => &mut c.replica_output_buffer_limit,
            _ => &mut c.pubsub_output_buffer_limit,
        } = limit;
    }
    Ok(())
}

/// What the model cannot do for a value CONFIG SET was given, checked once
/// every value parsed (where Redis would run the apply function): the
/// command is refused and nothing changes.
fn refusal(entry: Entry, old: &str, value: &str) -> Option<String> {
    match entry.config().name {
        // updatePort() would listen on the new port; every simulated
        // address is fixed.
        "port" if string2ll(value).map(|v| v.to_string()).as_deref() != Some(old) => Some(
            "ERR redsim does not model CONFIG SET port to a new port: a node's address is fixed"
                .into(),
        ),
        "repl-diskless-load" if !value.eq_ignore_ascii_case("disabled") => Some(format!(
            "ERR redsim does not model repl-diskless-load {}: a replica loads the RDB once it is received (disabled)",
            value.to_ascii_lowercase()
        )),
        _ => None,
    }
}

impl Server {
    /// `CONFIG GET`, `CONFIG SET` or `CONFIG REWRITE` (config.c
    /// configCommand()'s subcommands); `args` starts with the subcommand.
    pub(super) fn config_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        args: &[String],
    ) -> Reply {
        match args[0].to_ascii_lowercase().as_str() {
            "get" => Reply::Frame(self.config_get(host.dir, &args[1..])),
            "set" => match self.config_set(ctx, host, &args[1..]) {
                Ok(()) => Reply::Ok,
                Err(e) => Reply::Error(e),
            },
            "rewrite" => {
                self.config_rewrite(ctx, host);
                Reply::Ok
            }
            sub => Reply::Error(format!(
                "ERR redsim does not model 'config|{sub}' in this form yet"
            )),
        }
    }

    /// configGetCommand(): each argument without `[`, `*` or `?` is looked
    /// up as a name or alias in any case and shown under the name typed;
    /// the others are matched (any case, stringmatch()) against every name
    /// and alias. A name already in the reply is not repeated.
    ///
    /// Order: Redis replies in the order of a dict whose hash function has
    /// a random seed per process, so two real servers order `CONFIG GET
    /// repl-*` differently. The model must be deterministic: it replies in
    /// the order the names were found, each argument in turn, a pattern's
    /// matches in config.c's table order with each name before its alias.
    /// For one exact name the reply is byte for byte Redis's.
    fn config_get(&self, dir: &Directory, patterns: &[String]) -> Frame {
        let mut found: Vec<(String, Entry)> = Vec::new();
        let seen = |found: &[(String, Entry)], name: &str| {
            found.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        for pattern in patterns {
            if !pattern.contains(['[', '*', '?']) {
                if !seen(&found, pattern)
                    && let Some(e) = lookup(pattern)
                {
                    found.push((pattern.clone(), e));
                }
                continue;
            }
            for e in entries() {
                if e.config().hidden {
                    continue;
                }
                if !seen(&found, e.name()) && stringmatch(pattern, e.name(), true) {
                    found.push((e.name().to_string(), e));
                }
            }
        }
        // addReplyMapLen(): a map in RESP3, a flat array in RESP2.
        Frame::map(found.into_iter().map(|(name, e)| {
            let value = match e.config().kind {
                Kind::ReplicaOf => self.replicaof_value(dir),
                ref kind => kind.get(&self.cfg),
            };
            (name, Frame::bulk(value))
        }))
    }

    /// getConfigReplicaOfOption(): `<host> <port>` of the master, or "".
    fn replicaof_value(&self, dir: &Directory) -> String {
        self.replica.as_ref().map_or(String::new(), |r| {
            let m = r.master as usize;
            format!("{} {}", dir.hosts[m], dir.ports[m])
        })
    }

    /// configSetCommand(): all the pairs or none. First every name is
    /// looked up (unknown, immutable, refused while loading, given twice),
    /// then every value is set, restoring the old values if one does not
    /// parse; then the apply functions of the values that changed run.
    /// What the model cannot do is refused where an apply function would
    /// fail, with everything restored.
    fn config_set(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        args: &[String],
    ) -> Result<(), String> {
        if !args.len().is_multiple_of(2) {
            return Err("ERR syntax error".into());
        }
        let pairs: Vec<(&str, &str)> = args
            .chunks(2)
            .map(|p| (p[0].as_str(), p[1].as_str()))
            .collect();
        let loading = self.is_loading(ctx.sim_time());
        let mut entries: Vec<Entry> = Vec::with_capacity(pairs.len());
        let mut unknown: Option<&str> = None;
        let mut failed: Option<(&str, &str)> = None;
        let mut deny_loading = false;
        for &(name, _) in &pairs {
            let invalid = unknown.is_some() || failed.is_some() || deny_loading;
            let Some(e) = lookup(name) else {
                if !invalid {
                    unknown = Some(name);
                }
                continue;
            };
            if invalid {
                continue;
            }
            if e.config().immutable {
                failed = Some((name, "can't set immutable config"));
            } else if loading && e.config().deny_loading {
                deny_loading = true;
            } else if entries.contains(&e) {
                failed = Some((name, "duplicate parameter"));
            } else {
                entries.push(e);
            }
        }
        if deny_loading {
            return Err(ERR_LOADING.into());
        }
        if let Some(name) = unknown {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        }
        if let Some((name, why)) = failed {
            return Err(set_failed(name, why));
        }
        let old: Vec<String> = entries
            .iter()
            .map(|e| e.config().kind.get(&self.cfg))
            .collect();
        let restore = |cfg: &mut RedisConfig, upto: usize| {
            for (e, value) in entries.iter().zip(&old).take(upto) {
                let _ = e.config().kind.set(cfg, value);
            }
        };
        let mut applies: Vec<Apply> = Vec::new();
        for (i, (e, &(_, value))) in entries.iter().zip(&pairs).enumerate() {
            match e.config().kind.set(&mut self.cfg, value) {
                Err(why) => {
                    restore(&mut self.cfg, i + 1);
                    return Err(set_failed(e.name(), &why));
                }
                Ok(true) => {
                    if let Some(a) = e.config().apply
                        && !applies.contains(&a)
                    {
                        applies.push(a);
                    }
                }
                Ok(false) => {}
            }
        }
        for (i, (e, &(_, value))) in entries.iter().zip(&pairs).enumerate() {
            if let Some(refused) = refusal(*e, &old[i], value) {
                restore(&mut self.cfg, entries.len());
                return Err(refused);
            }
        }
        if applies.contains(&Apply::ClusterAnnounce)
            && let Err(refused) = self.announce_reaches_me(host.dir, ctx.id())
        {
            restore(&mut self.cfg, entries.len());
            return Err(refused);
        }
        for a in applies {
            match a {
                Apply::ReplBacklogSize => self.resize_backlog(),
                Apply::GoodSlaves => self.refresh_good_replicas(ctx.unixtime()),
                Apply::Appendonly => {
                    if let Err(why) = self.update_appendonly(ctx, host) {
                        restore(&mut self.cfg, entries.len());
                        return Err(set_failed("appendonly", why));
                    }
                }
                Apply::Hz => self.cfg.hz = self.cfg.hz.clamp(1, 500),
                Apply::ClusterAnnounce => {
                    let inside = host.dir.hosts[ctx.id() as usize].clone();
                    self.cluster_update_myself_address(ctx, &inside);
                }
            }
        }
        Ok(())
    }

    /// resizeReplicationBacklog(): at least 16 KB
    /// (CONFIG_REPL_BACKLOG_MIN_SIZE), and an existing backlog trimmed to
    /// its new size ([`Backlog::resize`](super::backlog::Backlog::resize)).
    /// Redis frees at most 64 surplus blocks there and the rest at later
    /// trims (as writes come); the model's beforeSleep trims in full, so the
    /// rest goes in the same event-loop pass.
    fn resize_backlog(&mut self) {
        self.cfg.repl_backlog_size = self.cfg.repl_backlog_size.max(REPL_BACKLOG_MIN_SIZE);
        let pinned = self.lowest_pin();
        let offset = self.master_repl_offset;
        if let Some(b) = self.backlog.as_mut() {
            b.resize(self.cfg.repl_backlog_size, offset, pinned);
        }
    }

    /// configRewriteCommand(): redis.conf gets the running configuration,
    /// so a restarted process starts with it, and the current replication
    /// target (rewriteConfigReplicaOfOption(): none on a master or in
    /// cluster mode). Every modelled node has a config file.
    pub(super) fn config_rewrite(&self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        *host.conf = self.cfg.clone();
        *host.conf_replicaof = if self.cfg.cluster_enabled {
            None
        } else {
            self.replica.as_ref().map(|s| s.master)
        };
        ctx.log(
            Level::Warning,
            "CONFIG REWRITE executed with success.",
            "CONFIG REWRITE executed with success.".into(),
        );
    }
}

/// The error of a CONFIG SET that named a config it could not set.
fn set_failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Cli, call, node, server};
    use super::*;
    use crate::proto::{Cmd, Msg, PsyncId};
    use crate::redis::backlog::Backlog;
    use crate::sim::testkit::Probe;
    use crate::time::secs;

    /// CONFIG GET's value of one parameter.
    trait ConfigGet {
        fn get(&mut self, name: &str) -> String;
    }

    impl ConfigGet for Cli {
        fn get(&mut self, name: &str) -> String {
            let reply = self.send(&format!("CONFIG GET {name}"));
            let value = reply.split_once("\n2) ").expect("one pair").1;
            value.trim_matches('"').to_string()
        }
    }

    fn pair(name: &str, value: &str) -> String {
        format!("1) \"{name}\"\n2) \"{value}\"")
    }

    // Reply texts below were read off a real Redis 7.0.15.
    #[test]
    fn get_shows_values_as_redis_formats_them() {
        let mut cli = Cli::new(RedisConfig::default());
        for (name, value) in [
            ("repl-backlog-size", "1048576"),
            ("repl-diskless-sync", "yes"),
            ("repl-diskless-load", "disabled"),
            ("appendfsync", "everysec"),
            ("save", "3600 1 300 100 60 10000"),
            (
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            ),
            ("requirepass", ""),
            ("replicaof", ""),
            ("cluster-node-timeout", "15000"),
            ("hz", "10"),
        ] {
            assert_eq!(cli.send(&format!("CONFIG GET {name}")), pair(name, value));
        }
        assert_eq!(cli.send("CONFIG GET nope"), "(empty array)");
    }

    #[test]
    fn get_echoes_the_name_as_typed_and_names_each_config_once() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            cli.send("CONFIG GET SLAVE-READ-ONLY"),
            pair("SLAVE-READ-ONLY", "yes")
        );
        assert_eq!(
            cli.send("CONFIG GET repl-timeout REPL-TIMEOUT"),
            pair("repl-timeout", "60")
        );
        assert_eq!(
            cli.send("CONFIG GET REPL-TIMEOUT repl-t*"),
            pair("REPL-TIMEOUT", "60")
        );
        assert_eq!(
            cli.send("CONFIG GET repl-t* REPL-TIMEOUT"),
            pair("repl-timeout", "60")
        );
    }

    /// A pattern matches names and aliases alike, in any case; the model
    /// lists them in config.c's table order, each name before its alias.
    #[test]
    fn get_matches_patterns_over_names_and_aliases() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            cli.send("CONFIG GET *read-only"),
            "1) \"replica-read-only\"\n2) \"yes\"\n3) \"slave-read-only\"\n4) \"yes\""
        );
        assert_eq!(
            cli.send("CONFIG GET REPL-B?CKLOG-[st]*"),
            "1) \"repl-backlog-size\"\n2) \"1048576\"\n3) \"repl-backlog-ttl\"\n4) \"3600\""
        );
        assert_eq!(
            cli.send("CONFIG GET repl-ping-*"),
            "1) \"repl-ping-replica-period\"\n2) \"10\"\n3) \"repl-ping-slave-period\"\n4) \"10\""
        );
    }

    // Every text read off a real Redis 7.0.15.
    #[test]
    fn set_refuses_with_config_set_errors() {
        let mut cli = Cli::new(RedisConfig::default());
        let failed = |name: &str, why: &str| {
            format!("(error) ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
        };
        for (line, reply) in [
            ("CONFIG SET hz 10 x", "(error) ERR syntax error".to_string()),
            (
                "CONFIG SET hz",
                "(error) ERR wrong number of arguments for 'config|set' command".into(),
            ),
            (
                "CONFIG SET nope 1",
                "(error) ERR Unknown option or number of arguments for CONFIG SET - 'nope'".into(),
            ),
            (
                "CONFIG SET hz 10 nope 1",
                "(error) ERR Unknown option or number of arguments for CONFIG SET - 'nope'".into(),
            ),
            (
                "CONFIG SET replicaof 1.2.3.4 5",
                "(error) ERR syntax error".into(),
            ),
            (
                "CONFIG SET slaveof \"1.2.3.4 5\"",
                failed("slaveof", "can't set immutable config"),
            ),
            (
                "CONFIG SET cluster-enabled yes nope 1",
                failed("cluster-enabled", "can't set immutable config"),
            ),
            (
                "CONFIG SET hz 10 HZ 11",
                failed("HZ", "duplicate parameter"),
            ),
            (
                "CONFIG SET appendonly maybe",
                failed("appendonly", "argument must be 'yes' or 'no'"),
            ),
            (
                "CONFIG SET slave-read-only maybe",
                failed("slave-read-only", "argument must be 'yes' or 'no'"),
            ),
            (
                "CONFIG SET hz x",
                failed("hz", "argument couldn't be parsed into an integer"),
            ),
            (
                "CONFIG SET hz 010",
                failed("hz", "argument couldn't be parsed into an integer"),
            ),
            (
                "CONFIG SET hz -1",
                failed("hz", "argument must be between 0 and 2147483647 inclusive"),
            ),
            (
                "CONFIG SET REPL-TIMEOUT 0",
                failed(
                    "repl-timeout",
                    "argument must be between 1 and 2147483647 inclusive",
                ),
            ),
            (
                "CONFIG SET port 70000",
                failed("port", "argument must be between 0 and 65535 inclusive"),
            ),
            (
                "CONFIG SET repl-backlog-size 1x",
                failed("repl-backlog-size", "argument must be a memory value"),
            ),
            (
                "CONFIG SET repl-backlog-size -1",
                failed("repl-backlog-size", "argument must be a memory value"),
            ),
            (
                "CONFIG SET repl-backlog-size 1.5mb",
                failed("repl-backlog-size", "argument must be a memory value"),
            ),
            (
                "CONFIG SET repl-backlog-size 0",
                failed(
                    "repl-backlog-size",
                    "argument must be between 1 and 9223372036854775807 inclusive",
                ),
            ),
            (
                "CONFIG SET repl-backlog-size 99999999999999999999",
                failed(
                    "repl-backlog-size",
                    "argument must be between 1 and 9223372036854775807 inclusive",
                ),
            ),
            (
                "CONFIG SET appendfsync sometimes",
                failed(
                    "appendfsync",
                    "argument(s) must be one of the following: everysec, always, no",
                ),
            ),
            (
                "CONFIG SET repl-diskless-load foo",
                failed(
                    "repl-diskless-load",
                    "argument(s) must be one of the following: disabled, on-empty-db, swapdb",
                ),
            ),
            (
                "CONFIG SET save \"1 2 3\"",
                failed("save", "Invalid save parameters"),
            ),
            (
                "CONFIG SET save \"0 1\"",
                failed("save", "Invalid save parameters"),
            ),
            (
                "CONFIG SET save \"10  1\"",
                failed("save", "Invalid save parameters"),
            ),
            (
                "CONFIG SET client-output-buffer-limit \"master 1 2 3\"",
                failed(
                    "client-output-buffer-limit",
                    "Invalid client class specified in buffer limit configuration.",
                ),
            ),
            (
                "CONFIG SET client-output-buffer-limit \"slave 1 2\"",
                failed(
                    "client-output-buffer-limit",
                    "Wrong number of arguments in buffer limit configuration.",
                ),
            ),
            (
                "CONFIG SET client-output-buffer-limit \"slave 1x 2 3\"",
                failed(
                    "client-output-buffer-limit",
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
                ),
            ),
        ] {
            assert_eq!(cli.send(line), reply, "{line}");
        }
        assert_eq!(cli.server().cfg, RedisConfig::default());
    }

    #[test]
    fn set_parses_values_as_redis_does() {
        let mut cli = Cli::new(RedisConfig::default());
        for (line, name, value) in [
            ("CONFIG SET replica-read-only NO", "replica-read-only", "no"),
            ("CONFIG SET appendfsync ALWAYS", "appendfsync", "always"),
            (
                "CONFIG SET repl-backlog-size 2MB",
                "repl-backlog-size",
                "2097152",
            ),
            (
                "CONFIG SET repl-backlog-size 2m",
                "repl-backlog-size",
                "2000000",
            ),
            (
                "CONFIG SET repl-backlog-size 20kb",
                "repl-backlog-size",
                "20480",
            ),
            ("CONFIG SET slave-priority 5", "replica-priority", "5"),
            ("CONFIG SET save \"+10 0\"", "save", "10 0"),
            ("CONFIG SET save \"\"", "save", ""),
            ("CONFIG SET masterauth s3cret", "masterauth", "s3cret"),
            ("CONFIG SET masterauth \"\"", "masterauth", ""),
            (
                "CONFIG SET client-output-buffer-limit \"replica 1mb 2mb 3 pubsub 1 2 3\"",
                "client-output-buffer-limit",
                "normal 0 0 0 slave 1048576 2097152 3 pubsub 1 2 3",
            ),
        ] {
            assert_eq!(cli.send(line), "OK", "{line}");
            assert_eq!(cli.get(name), value, "{line}");
        }
        // An alias is a config of its own: no duplicate, the last one wins.
        assert_eq!(
            cli.send("CONFIG SET replica-read-only yes slave-read-only no"),
            "OK"
        );
        assert_eq!(cli.get("replica-read-only"), "no");
    }

    /// configSetCommand() is all or nothing: a value that does not parse,
    /// or one the model refuses, leaves every earlier one as it was.
    #[test]
    fn set_is_atomic() {
        let mut cli = Cli::new(RedisConfig::default());
        assert!(
            cli.send("CONFIG SET hz 20 repl-timeout 0")
                .starts_with("(error) ERR CONFIG SET failed")
        );
        assert_eq!(cli.get("hz"), "10");
        assert_eq!(
            cli.send("CONFIG SET hz 20 port 7000"),
            "(error) ERR redsim does not model CONFIG SET port to a new port: a node's address is fixed"
        );
        assert_eq!(cli.get("hz"), "10");
        assert_eq!(
            cli.send("CONFIG SET repl-diskless-load swapdb"),
            "(error) ERR redsim does not model repl-diskless-load swapdb: a replica loads the RDB once it is received (disabled)"
        );
        // The same port, or `disabled`, changes nothing and is accepted.
        assert_eq!(
            cli.send("CONFIG SET port 6379 repl-diskless-load DISABLED hz 20"),
            "OK"
        );
        assert_eq!(cli.get("hz"), "20");
    }

    /// updateHZ() caps hz to 1..500, and runs only when the value changed.
    #[test]
    fn hz_is_capped_when_it_changes() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(cli.send("CONFIG SET hz 1000"), "OK");
        assert_eq!(cli.get("hz"), "500");
        assert_eq!(cli.send("CONFIG SET hz 0"), "OK");
        assert_eq!(cli.get("hz"), "1");
        cli.server().cfg.hz = 700;
        assert_eq!(cli.send("CONFIG SET hz 700"), "OK");
        assert_eq!(cli.get("hz"), "700");
    }

    /// A master whose backlog holds `writes` 100-byte SETs.
    fn filled(size: u64, writes: u32) -> Cli {
        let mut cli = Cli::new(RedisConfig {
            repl_backlog_size: size,
            ..RedisConfig::default()
        });
        let p = cli.server();
        let mut b = Backlog::new(size, p.master_repl_offset);
        for i in 0..writes {
            let cmd = Cmd::Set(
                format!("key:{i:06}").into(),
                crate::proto::Value::Blob {
                    tag: crate::proto::WriteTag { client: 0, seq: i },
                    len: 100,
                },
            );
            b.feed(cmd, &mut p.master_repl_offset, None);
        }
        p.backlog = Some(b);
        cli
    }

    /// resizeReplicationBacklog(): under 16 KB is raised to 16 KB; shrinking
    /// trims whole head blocks of 20,440 bytes, keeping at least the new size.
    #[test]
    fn backlog_resize_has_a_16kb_floor_and_trims_history() {
        let mut cli = filled(1 << 20, 5_000);
        let offset = cli.server().master_repl_offset;
        assert_eq!(cli.server().backlog.as_ref().expect("set").first_byte, 1);
        assert_eq!(cli.send("CONFIG SET repl-backlog-size 1000"), "OK");
        assert_eq!(cli.get("repl-backlog-size"), "16384");
        let b = cli.server().backlog.as_ref().expect("set");
        assert_eq!(b.size, 16_384);
        assert!(
            b.histlen > 16_384 && b.histlen <= 16_384 + 20_440,
            "{}",
            b.histlen
        );
        assert_eq!((b.first_byte - 1) % 20_440, 0);
        assert_eq!(b.first_byte + b.histlen, offset + 1);
        // Growing keeps what is held.
        let (first, histlen) = (b.first_byte, b.histlen);
        assert_eq!(cli.send("CONFIG SET repl-backlog-size 1mb"), "OK");
        let b = cli.server().backlog.as_ref().expect("set");
        assert_eq!((b.size, b.first_byte, b.histlen), (1 << 20, first, histlen));
    }

    /// updateGoodSlaves(): min-replicas-to-write counts the good replicas at
    /// once, without waiting for replicationCron().
    #[test]
    fn min_replicas_settings_refresh_the_good_replica_count() {
        let mut h = node(
            RedisConfig::default(),
            None,
            vec![Probe::silent(), Probe::silent()],
        );
        let p = server(&mut h);
        p.backlog = Some(Backlog::new(1 << 20, 0));
        let replid = p.replid;
        let conn = h.connect(2, 0);
        h.send(
            2,
            conn,
            Msg::Cmd(Cmd::Psync {
                id: PsyncId::Id(replid),
                offset: 1,
                failover: false,
            }),
        );
        assert_eq!(server(&mut h).good_replicas, 0);
        let mut cli = Cli::with(h);
        assert_eq!(cli.send("CONFIG SET min-replicas-to-write 1"), "OK");
        assert_eq!(cli.server().good_replicas, 1);
        assert_eq!(cli.send("SET k v"), "OK");
        assert_eq!(cli.send("CONFIG SET min-replicas-to-write 2"), "OK");
        assert_eq!(
            cli.send("SET k v"),
            "(error) NOREPLICAS Not enough good replicas to write."
        );
    }

    /// CONFIG SET changes the process only; CONFIG REWRITE writes redis.conf,
    /// which a restart reads.
    #[test]
    fn set_values_outlive_a_restart_only_once_rewritten() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(cli.send("CONFIG SET hz 20 repl-backlog-size 2mb"), "OK");
        assert_eq!(cli.h.node(0).conf, RedisConfig::default());
        cli.h.kill(0, false);
        cli.h.start(0);
        cli.h.settle();
        let mut cli = Cli::with(cli.h);
        assert_eq!(cli.get("hz"), "10");
        assert_eq!(cli.send("CONFIG SET hz 20 repl-backlog-size 2mb"), "OK");
        assert_eq!(cli.send("CONFIG REWRITE"), "OK");
        assert_eq!(
            cli.h
                .events(0, "CONFIG REWRITE executed with success.")
                .len(),
            1
        );
        assert_eq!(cli.h.node(0).conf.hz, 20);
        cli.h.kill(0, false);
        cli.h.start(0);
        cli.h.settle();
        let mut cli = Cli::with(cli.h);
        assert_eq!(cli.get("hz"), "20");
        assert_eq!(cli.get("repl-backlog-size"), "2097152");
    }

    /// CONFIG is flagged `loading`: served while the dataset loads, except
    /// the DENY_LOADING configs, which get -LOADING before any other error.
    #[test]
    fn a_loading_server_answers_config() {
        let mut cli = Cli::new(RedisConfig::default());
        cli.server().loading_until = Some(secs(100));
        assert_eq!(
            cli.send("PING"),
            "(error) LOADING Redis is loading the dataset in memory"
        );
        assert_eq!(cli.send("CONFIG GET hz"), pair("hz", "10"));
        assert_eq!(cli.send("CONFIG SET hz 20"), "OK");
        assert_eq!(
            cli.send("CONFIG SET hz x appendonly yes"),
            "(error) LOADING Redis is loading the dataset in memory"
        );
        assert_eq!(
            cli.send("CONFIG SET repl-diskless-load swapdb"),
            "(error) LOADING Redis is loading the dataset in memory"
        );
        assert_eq!(cli.send("CONFIG REWRITE"), "OK");
    }

    /// CONFIG is flagged `stale`: a replica whose link is down answers it
    /// even with replica-serve-stale-data no.
    #[test]
    fn a_stale_replica_answers_config() {
        let conf = RedisConfig {
            replica_serve_stale_data: false,
            ..RedisConfig::default()
        };
        let mut cli = Cli::with(node(conf, Some(1), vec![Probe::silent()]));
        assert!(cli.send("PING").starts_with("(error) MASTERDOWN"));
        assert_eq!(
            cli.send("CONFIG GET replicaof"),
            pair("replicaof", "10.0.0.2 6379")
        );
        assert_eq!(cli.send("CONFIG SET replica-serve-stale-data yes"), "OK");
        assert_eq!(cli.send("PING"), "PONG");
    }

    /// A password set at runtime holds for new connections; once cleared,
    /// no one needs AUTH (authRequired()).
    #[test]
    fn requirepass_applies_to_new_connections() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(cli.send("CONFIG SET requirepass s3cret"), "OK");
        assert_eq!(cli.send("PING"), "PONG");
        let mut other = Cli::with(cli.h);
        assert_eq!(
            other.send("PING"),
            "(error) NOAUTH Authentication required."
        );
        assert_eq!(other.send("AUTH s3cret"), "OK");
        assert_eq!(other.send("CONFIG SET requirepass \"\""), "OK");
        let mut third = Cli::with(other.h);
        assert_eq!(third.send("PING"), "PONG");
    }

    /// A child that takes about a second per 100 bytes of dataset.
    fn slow_child() -> RedisConfig {
        RedisConfig {
            rdb_save_rate: 100,
            save: Vec::new(),
            ..RedisConfig::default()
        }
    }

    /// startAppendOnly(): a rewrite child snapshots the dataset; writes
    /// meanwhile go to the temporary incr file; when the child ends they
    /// form the AOF, which takes every write from then on.
    #[test]
    fn appendonly_starts_with_a_rewrite_child() {
        let mut cli = Cli::new(slow_child());
        assert_eq!(cli.send("SET a 1"), "OK");
        assert_eq!(cli.send("CONFIG SET appendonly yes"), "OK");
        let started = cli
            .h
            .events(0, "Background append only file rewriting started");
        assert_eq!(
            started[0].1,
            "Background append only file rewriting started by pid 1001"
        );
        assert_eq!(cli.send("SET b 2"), "OK");
        assert!(cli.h.node(0).disk.aof.is_none());
        cli.h.run_for(secs(3));
        let done = "Background AOF rewrite finished successfully";
        assert_eq!(cli.h.events(0, done).len(), 1);
        assert_eq!(cli.send("SET c 3"), "OK");
        let aof = cli
            .h
            .node(0)
            .disk
            .aof
            .as_ref()
            .expect("the rewrite made one");
        assert_eq!(aof.base.len(), 1);
        let keys: Vec<String> = aof
            .log
            .iter()
            .map(|c| match c {
                Cmd::Set(k, _) => k.to_string(),
                c => panic!("{c:?}"),
            })
            .collect();
        assert_eq!(keys, ["b", "c"]);
        assert_eq!(aof.replay().len(), 3);
    }

    /// Until the first rewrite ends the new AOF is not in the manifest: a
    /// crash then restarts from what the disk had before.
    #[test]
    fn a_crash_before_the_first_rewrite_ends_keeps_no_aof() {
        let mut cli = Cli::new(slow_child());
        assert_eq!(cli.send("SET a 1"), "OK");
        assert_eq!(cli.send("CONFIG SET appendonly yes"), "OK");
        assert_eq!(cli.send("CONFIG REWRITE"), "OK");
        cli.h.kill(0, false);
        assert!(cli.h.node(0).disk.aof.is_none());
        cli.h.start(0);
        cli.h.settle();
        let mut cli = Cli::with(cli.h);
        assert_eq!(cli.get("appendonly"), "yes");
        assert_eq!(cli.send("DBSIZE"), "(integer) 0");
    }

    /// stopAppendOnly() kills a rewrite that is still running.
    #[test]
    fn appendonly_no_kills_the_first_rewrite() {
        let mut cli = Cli::new(slow_child());
        assert_eq!(cli.send("SET a 1"), "OK");
        assert_eq!(cli.send("CONFIG SET appendonly yes"), "OK");
        assert_eq!(cli.send("CONFIG SET appendonly no"), "OK");
        let killed = cli.h.events(0, "Killing running AOF rewrite child");
        assert_eq!(killed[0].1, "Killing running AOF rewrite child: 1001");
        cli.h.run_for(secs(3));
        assert!(cli.h.node(0).disk.aof.is_none());
        assert!(
            cli.h
                .events(0, "Background AOF rewrite finished successfully")
                .is_empty()
        );
    }

    /// With another child running the rewrite is scheduled; serverCron
    /// starts it once that child has ended.
    #[test]
    fn appendonly_waits_for_a_running_child() {
        let mut cli = Cli::new(slow_child());
        assert_eq!(cli.send("SET a 1"), "OK");
        call(&mut cli.h, |p, ctx, _| {
            p.start_bgsave(
                ctx,
                Default::default(),
                super::super::master::ChildKind::Bgsave,
            )
        });
        assert_eq!(cli.send("CONFIG SET appendonly yes"), "OK");
        assert_eq!(
            cli.h
                .events(
                    0,
                    "AOF was enabled but there is already another background operation."
                )
                .len(),
            1
        );
        let started = "Background append only file rewriting started";
        assert!(cli.h.events(0, started).is_empty());
        cli.h.run_for(secs(6));
        assert_eq!(cli.h.events(0, started).len(), 1);
        assert!(cli.h.node(0).disk.aof.is_some());
    }
}
