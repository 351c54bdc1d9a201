//! redis.conf settings the model honours, with Redis 7.0's defaults, parsed
//! from the same names and value syntax redis.conf uses.

use crate::time::{Micros, parse_duration, parse_size, secs};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendFsync {
    Always,
    Everysec,
    No,
}

/// `enable-debug-command` (config.c protected_action_enum): who may run
/// DEBUG. `local` means loopback connections, and simulated clients never
/// connect over loopback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectedAction {
    No,
    Yes,
    Local,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutputBufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RedisConfig {
    pub port: u16,
    pub repl_backlog_size: u64,
    pub repl_backlog_ttl: u64,
    pub repl_timeout: u64,
    /// `tcp-keepalive`: seconds of TCP keepalive on each client connection
    /// accepted from then on (createClient()); 0 disables it.
    pub tcp_keepalive: u64,
    pub repl_ping_replica_period: u64,
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay: u64,
    pub repl_diskless_sync_max_replicas: u32,
    pub replica_output_buffer_limit: OutputBufferLimit,
    /// `client-output-buffer-limit` of the normal and pubsub classes: kept
    /// for CONFIG GET/SET and CONFIG REWRITE; the model enforces only the
    /// replica class.
    pub normal_output_buffer_limit: OutputBufferLimit,
    pub pubsub_output_buffer_limit: OutputBufferLimit,
    pub min_replicas_to_write: u32,
    pub min_replicas_max_lag: u64,
    pub appendonly: bool,
    pub appendfsync: AppendFsync,
    pub enable_debug_command: ProtectedAction,
    /// `save` points as (seconds, changes); empty means `save ""`.
    pub save: Vec<(u64, u64)>,
    pub requirepass: Option<String>,
    pub masterauth: Option<String>,
    /// `replica-announce-ip`: the address a replica tells its master to
    /// list it at (REPLCONF ip-address), as behind a NAT.
    pub replica_announce_ip: Option<String>,
    /// `replica-announce-port`: the port it tells its master (0: its own).
    pub replica_announce_port: u16,
    pub replica_priority: u32,
    pub replica_read_only: bool,
    pub replica_serve_stale_data: bool,
    /// `auto-aof-rewrite-percentage`: rewrite the AOF once it grew this
    /// much over its size after the last rewrite (0: never).
    pub auto_aof_rewrite_percentage: u64,
    /// `auto-aof-rewrite-min-size`: and only once it is larger than this.
    pub auto_aof_rewrite_min_size: u64,
    /// `stop-writes-on-bgsave-error`: writes are refused (MISCONF) while
    /// the last BGSAVE failed and save points are set.
    pub stop_writes_on_bgsave_error: bool,
    /// `replica-ignore-disk-write-errors`: a replica that cannot persist
    /// applies its master's writes anyway instead of panicking.
    pub repl_ignore_disk_write_error: bool,
    pub hz: u64,
    /// `cluster-enabled`: the node runs the cluster bus and redirects keys.
    pub cluster_enabled: bool,
    pub cluster: ClusterConfig,
    /// `rdb-key-save-delay` (a hidden setting Redis's own tests use): µs a
    /// child sleeps after each key it writes, or with -N, 1 µs once in N.
    pub rdb_key_save_delay: i64,
    /// Host model: how long `fork()` blocks per GB of dataset memory.
    pub fork_time_per_gb: Micros,
    /// Host model: bytes per second an RDB child produces.
    pub rdb_save_rate: u64,
    /// Host model: bytes per second a replica or a restart loads an RDB.
    pub rdb_load_rate: u64,
}

/// The `cluster-*` settings of redis.conf, with 7.0's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterConfig {
    /// `cluster-node-timeout`, in milliseconds.
    pub node_timeout: u64,
    pub replica_validity_factor: u64,
    pub migration_barrier: u32,
    pub allow_replica_migration: bool,
    pub require_full_coverage: bool,
    pub replica_no_failover: bool,
    pub allow_reads_when_down: bool,
    /// `cluster-announce-ip`: the address the node gives the cluster for
    /// itself (in every bus message's header), as behind a NAT.
    pub announce_ip: Option<String>,
    /// `cluster-announce-port` (0: its own port).
    pub announce_port: u16,
    /// `cluster-announce-bus-port` (0: its port + 10000).
    pub announce_bus_port: u16,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            node_timeout: 15_000,
            replica_validity_factor: 10,
            migration_barrier: 1,
            allow_replica_migration: true,
            require_full_coverage: true,
            replica_no_failover: false,
            allow_reads_when_down: false,
            announce_ip: None,
            announce_port: 0,
            announce_bus_port: 0,
        }
    }
}

/// `CONFIG_REPL_BACKLOG_MIN_SIZE`.
pub const REPL_BACKLOG_MIN_SIZE: u64 = 16 * 1024;

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            port: 6379,
            repl_backlog_size: 1024 * 1024,
            repl_backlog_ttl: 3600,
            repl_timeout: 60,
            tcp_keepalive: 300,
            repl_ping_replica_period: 10,
            repl_diskless_sync: true,
            repl_diskless_sync_delay: 5,
            repl_diskless_sync_max_replicas: 0,
            replica_output_buffer_limit: OutputBufferLimit {
                hard: 256 * 1024 * 1024,
                soft: 64 * 1024 * 1024,
                soft_seconds: 60,
            },
            normal_output_buffer_limit: OutputBufferLimit {
                hard: 0,
                soft: 0,
                soft_seconds: 0,
            },
            pubsub_output_buffer_limit: OutputBufferLimit {
                hard: 32 * 1024 * 1024,
                soft: 8 * 1024 * 1024,
                soft_seconds: 60,
            },
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            appendonly: false,
            appendfsync: AppendFsync::Everysec,
            enable_debug_command: ProtectedAction::No,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            requirepass: None,
            masterauth: None,
            replica_announce_ip: None,
            replica_announce_port: 0,
            replica_priority: 100,
            replica_read_only: true,
            replica_serve_stale_data: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * 1024 * 1024,
            rdb_key_save_delay: 0,
            stop_writes_on_bgsave_error: true,
            repl_ignore_disk_write_error: false,
            hz: 10,
            cluster_enabled: false,
            cluster: ClusterConfig::default(),
            fork_time_per_gb: 10_000,
            rdb_save_rate: 300 * 1024 * 1024,
            rdb_load_rate: 500 * 1024 * 1024,
        }
    }
}

/// Every key [`RedisConfig::set`] accepts, for "did you mean" suggestions.
pub const KEYS: &[&str] = &[
    "port",
    "repl-backlog-size",
    "repl-backlog-ttl",
    "repl-timeout",
    "repl-ping-replica-period",
    "tcp-keepalive",
    "repl-diskless-sync",
    "repl-diskless-sync-delay",
    "repl-diskless-sync-max-replicas",
    "repl-diskless-load",
    "client-output-buffer-limit",
    "min-replicas-to-write",
    "min-replicas-max-lag",
    "appendonly",
    "appendfsync",
    "auto-aof-rewrite-percentage",
    "auto-aof-rewrite-min-size",
    "rdb-key-save-delay",
    "enable-debug-command",
    "save",
    "requirepass",
    "masterauth",
    "replica-announce-ip",
    "replica-announce-port",
    "replica-priority",
    "replica-read-only",
    "replica-serve-stale-data",
    "stop-writes-on-bgsave-error",
    "replica-ignore-disk-write-errors",
    "hz",
    "cluster-enabled",
    "cluster-node-timeout",
    "cluster-replica-validity-factor",
    "cluster-migration-barrier",
    "cluster-allow-replica-migration",
    "cluster-require-full-coverage",
    "cluster-replica-no-failover",
    "cluster-allow-reads-when-down",
    "cluster-announce-ip",
    "cluster-announce-port",
    "cluster-announce-bus-port",
    "fork-time-per-gb",
    "rdb-save-rate",
    "rdb-load-rate",
];

/// A value from the scenario, already reduced to redis.conf's text form.
pub enum ConfValue<'a> {
    Text(&'a str),
    Int(i64),
    Bool(bool),
}

impl RedisConfig {
    /// Applies one redis.conf setting. Errors say what was expected.
    pub fn set(&mut self, key: &str, value: ConfValue<'_>) -> Result<(), String> {
        match key {
            "port" => self.port = int(&value, 1, 65535)? as u16,
            "repl-backlog-size" => {
                self.repl_backlog_size = size(&value)?.max(REPL_BACKLOG_MIN_SIZE);
            }
            "repl-backlog-ttl" => self.repl_backlog_ttl = seconds(&value)?,
            "repl-timeout" => self.repl_timeout = int(&value, 1, i64::MAX)? as u64,
            "tcp-keepalive" => self.tcp_keepalive = int(&value, 0, i64::from(i32::MAX))? as u64,
            "repl-ping-replica-period" => {
                self.repl_ping_replica_period = int(&value, 1, i64::MAX)? as u64
            }
            "repl-diskless-sync" => self.repl_diskless_sync = yes_no(&value)?,
            "repl-diskless-sync-delay" => {
                self.repl_diskless_sync_delay = int(&value, 0, i64::MAX)? as u64
            }
            "repl-diskless-sync-max-replicas" => {
                self.repl_diskless_sync_max_replicas = int(&value, 0, i64::from(u32::MAX))? as u32
            }
            "repl-diskless-load" => match text(&value)? {
                "disabled" => {}
                other => {
                    return Err(format!(
                        "repl-diskless-load `{other}` is not modelled; only `disabled` (the default) is"
                    ));
                }
            },
            "client-output-buffer-limit" => {
                let v = text(&value)?;
                let parts: Vec<&str> = v.split_whitespace().collect();
                match parts.as_slice() {
                    ["replica" | "slave", hard, soft, secs] => {
                        self.replica_output_buffer_limit = OutputBufferLimit {
                            hard: parse_size(hard)?,
                            soft: parse_size(soft)?,
                            soft_seconds: secs
                                .parse()
                                .map_err(|_| format!("`{secs}` is not a number of seconds"))?,
                        }
                    }
                    _ => {
                        return Err(
                            "expected `replica <hard limit> <soft limit> <soft seconds>`, \
                             e.g. \"replica 256mb 64mb 60\""
                                .into(),
                        );
                    }
                }
            }
            "min-replicas-to-write" => {
                self.min_replicas_to_write = int(&value, 0, i64::from(u32::MAX))? as u32
            }
            "min-replicas-max-lag" => self.min_replicas_max_lag = int(&value, 0, i64::MAX)? as u64,
            "appendonly" => self.appendonly = yes_no(&value)?,
            "appendfsync" => {
                self.appendfsync = match text(&value)? {
                    "always" => AppendFsync::Always,
                    "everysec" => AppendFsync::Everysec,
                    "no" => AppendFsync::No,
                    other => {
                        return Err(format!(
                            "appendfsync `{other}`: expected always, everysec or no"
                        ));
                    }
                }
            }
            "save" => {
                let v = text(&value)?;
                let nums: Result<Vec<u64>, _> = v.split_whitespace().map(str::parse).collect();
                let nums = nums.map_err(|_| {
                    format!("save `{v}`: expected pairs of numbers like \"3600 1 300 100\" or \"\"")
                })?;
                if nums.len() % 2 != 0 {
                    return Err(format!("save `{v}`: expected pairs of <seconds> <changes>"));
                }
                self.save = nums.chunks(2).map(|p| (p[0], p[1])).collect();
            }
            "enable-debug-command" => {
                self.enable_debug_command = match text(&value)? {
                    "no" => ProtectedAction::No,
                    "yes" => ProtectedAction::Yes,
                    "local" => ProtectedAction::Local,
                    other => {
                        return Err(format!(
                            "enable-debug-command `{other}`: expected no, yes or local"
                        ));
                    }
                }
            }
            "requirepass" => self.requirepass = non_empty(text(&value)?),
            "masterauth" => self.masterauth = non_empty(text(&value)?),
            "replica-announce-ip" => self.replica_announce_ip = non_empty(text(&value)?),
            "replica-announce-port" => self.replica_announce_port = int(&value, 0, 65535)? as u16,
            "replica-priority" => {
                self.replica_priority = int(&value, 0, i64::from(u32::MAX))? as u32
            }
            "replica-read-only" => self.replica_read_only = yes_no(&value)?,
            "replica-serve-stale-data" => self.replica_serve_stale_data = yes_no(&value)?,
            "stop-writes-on-bgsave-error" => self.stop_writes_on_bgsave_error = yes_no(&value)?,
            "auto-aof-rewrite-percentage" => {
                self.auto_aof_rewrite_percentage = int(&value, 0, i64::from(i32::MAX))? as u64
            }
            "auto-aof-rewrite-min-size" => self.auto_aof_rewrite_min_size = size(&value)?,
            "rdb-key-save-delay" => {
                self.rdb_key_save_delay = int(&value, i64::from(i32::MIN), i64::from(i32::MAX))?
            }
            "replica-ignore-disk-write-errors" => {
                self.repl_ignore_disk_write_error = yes_no(&value)?
            }
            "hz" => self.hz = int(&value, 1, 500)? as u64,
            "cluster-enabled" => self.cluster_enabled = yes_no(&value)?,
            "cluster-node-timeout" => self.cluster.node_timeout = int(&value, 1, i64::MAX)? as u64,
            "cluster-replica-validity-factor" => {
                self.cluster.replica_validity_factor = int(&value, 0, i64::MAX)? as u64
            }
            "cluster-migration-barrier" => {
                self.cluster.migration_barrier = int(&value, 0, i64::from(u32::MAX))? as u32
            }
            "cluster-allow-replica-migration" => {
                self.cluster.allow_replica_migration = yes_no(&value)?
            }
            "cluster-require-full-coverage" => self.cluster.require_full_coverage = yes_no(&value)?,
            "cluster-replica-no-failover" => self.cluster.replica_no_failover = yes_no(&value)?,
            "cluster-allow-reads-when-down" => self.cluster.allow_reads_when_down = yes_no(&value)?,
            "cluster-announce-ip" => self.cluster.announce_ip = non_empty(text(&value)?),
            "cluster-announce-port" => self.cluster.announce_port = int(&value, 0, 65535)? as u16,
            "cluster-announce-bus-port" => {
                self.cluster.announce_bus_port = int(&value, 0, 65535)? as u16
            }
            "fork-time-per-gb" => self.fork_time_per_gb = parse_duration(text(&value)?)?,
            "rdb-save-rate" => self.rdb_save_rate = size(&value)?.max(1),
            "rdb-load-rate" => self.rdb_load_rate = size(&value)?.max(1),
            _ => return Err(format!("unknown redis.conf key `{key}`")),
        }
        Ok(())
    }

    /// The hard limit actually enforced: 7.0 raises a hard limit smaller than
    /// the backlog to the backlog size.
    pub fn replica_hard_limit(&self) -> u64 {
        let h = self.replica_output_buffer_limit.hard;
        if h == 0 {
            0
        } else {
            h.max(self.repl_backlog_size)
        }
    }

    /// serverCron's period.
    pub fn cron_period(&self) -> Micros {
        secs(1) / self.hz
    }
}

fn text<'a>(v: &'a ConfValue<'a>) -> Result<&'a str, String> {
    match v {
        ConfValue::Text(s) => Ok(s),
        ConfValue::Int(_) => Err("expected a string".into()),
        ConfValue::Bool(_) => Err("expected a string".into()),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn int(v: &ConfValue<'_>, min: i64, max: i64) -> Result<i64, String> {
    let n = match v {
        ConfValue::Int(i) => *i,
        ConfValue::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an integer"))?,
        ConfValue::Bool(_) => return Err("expected an integer".into()),
    };
    if n < min || n > max {
        return Err(format!("{n} is out of range ({min}..={max})"));
    }
    Ok(n)
}

fn size(v: &ConfValue<'_>) -> Result<u64, String> {
    match v {
        ConfValue::Int(i) if *i >= 0 => Ok(*i as u64),
        ConfValue::Text(s) => parse_size(s),
        _ => Err("expected a size such as 1mb or 16384".into()),
    }
}

fn seconds(v: &ConfValue<'_>) -> Result<u64, String> {
    int(v, 0, i64::MAX).map(|n| n as u64)
}

fn yes_no(v: &ConfValue<'_>) -> Result<bool, String> {
    match v {
        ConfValue::Bool(b) => Ok(*b),
        ConfValue::Text("yes") => Ok(true),
        ConfValue::Text("no") => Ok(false),
        ConfValue::Text(s) => Err(format!("`{s}`: expected yes or no")),
        ConfValue::Int(_) => Err("expected yes or no".into()),
    }
}
