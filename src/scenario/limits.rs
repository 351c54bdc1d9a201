//! Limits on what a scenario may ask for. Every limit is documented in the
//! README's scenario reference, with the reason for it: what Redis itself
//! allows, or what a 24 GB machine can simulate in reasonable time. A value
//! beyond a limit is rejected at parse time with the file, line and column,
//! the limit and why, so that bad input never panics, aborts or runs away.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::redis::config::RedisConfig;
use crate::time::{MAX_DURATION, MAX_SIZE, MICROS_PER_MS, MICROS_PER_SEC, Micros};

/// A scenario file larger than this is refused before it is parsed: the
/// biggest bundled scenario is a few kilobytes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Redis Cluster has 16384 hash slots and every master serves at least one.
pub const MAX_CLUSTER_MASTERS: u32 = 16384;

/// Redis servers in one scenario (the master and its replicas, or every
/// cluster node). Redis Cluster's documented scale is 1000 nodes. The work
/// per simulated second grows faster than their number: every node pings
/// every other one each half node timeout with a tenth of the cluster as
/// gossip, so the bus carries O(nodes³) gossip entries; a 1000-node cluster
/// (500 masters with a replica each) simulates 60 s in about 66 s and 2.6 GB
/// on a 2-core machine, half of it the first two seconds, when every node meets every
/// other at once.
pub const MAX_REDIS_NODES: u64 = 1000;

/// Sentinels watching one master. Sentinel's hellos reach every Sentinel
/// through every Redis node, so the work grows with the square of their
/// number: 100 Sentinels already simulate 30 s in about 8 s of wall time
/// (real deployments run 3 or 5).
pub const MAX_SENTINELS: u32 = 100;

/// Workloads (client nodes) in one scenario.
pub const MAX_WORKLOADS: usize = 100;

/// Operations per second of one workload: a single Redis server serves on
/// the order of 100k simple operations per second.
pub const MAX_RATE: f64 = 100_000.0;

/// Keys a workload spreads its operations over (and the highest key
/// number, key-offset + keys).
pub const MAX_KEYS: u64 = 100_000_000;

/// Keys one MSET or MGET of a workload's mix names: Redis takes far more,
/// but a workload's requests stay of a size a scenario means.
pub const MAX_MULTI_KEYS: u64 = 1000;

/// Connections of one workload: each is a client the servers keep, and
/// Redis's default `maxclients` is 10000.
pub const MAX_CONNECTIONS: u64 = 1000;

/// Requests one connection may have in flight: enough to fill any
/// simulated link, and the client's queue of them stays small.
pub const MAX_PIPELINE: u64 = 10_000;

/// The size of one value: Redis's `proto-max-bulk-len` (512 MB).
pub const MAX_VALUE_SIZE: u32 = 512 * 1024 * 1024;

/// SETs in one `burst` fault: each key is held in memory by every node.
pub const MAX_BURST_WRITES: u32 = 1_000_000;

/// Bytes written by one `burst` fault (writes x value-size): 1 GiB.
pub const MAX_BURST_BYTES: u64 = 1 << 30;

/// Keys per MIGRATE in a `reshard` (redis-cli's `--cluster-pipeline`).
pub const MAX_BATCH: u32 = 1_000_000;

/// The run's simulated duration: a day. Failover stories play out in
/// seconds to minutes; the bundled scenarios run at most 240 s.
pub const MAX_RUN: Micros = 24 * 3600 * MICROS_PER_SEC;

/// The smallest client timeout: an operation that times out at once would
/// be retried at once, and a client could then pile up work without bound.
pub const MIN_CLIENT_DELAY: Micros = MICROS_PER_MS;

/// `[sim] max-events`: between 1000 and 10^9 events (at 100k to 1M events
/// per second, 10^9 events is up to three hours of wall time).
pub const MIN_MAX_EVENTS: u64 = 1_000;
pub const MAX_MAX_EVENTS: u64 = 1_000_000_000;

/// The event budget of a run that does not set `max-events`: ten times the
/// least it can need ([`Load::at_least`], half of a plain count, so about
/// five times that count; a write costs about 4.5 events where the count
/// has 2), so a runaway (a loop of events that never advances) is stopped
/// within a few times the run's honest cost; never less than 50 million,
/// which every bundled scenario fits, and at most [`MAX_MAX_EVENTS`].
pub fn event_budget(need: f64) -> u64 {
    const FLOOR: u64 = 50_000_000;
    ((need * 10.0).ceil() as u64).clamp(FLOOR, MAX_MAX_EVENTS)
}

/// `[fuzz] max-faults`: faults drawn per schedule.
pub const MAX_FUZZ_FAULTS: usize = 100;

/// The longest text values (names, passwords, descriptions).
pub const MAX_NAME_LEN: usize = 128;
pub const MAX_TEXT_LEN: usize = 16 * 1024;

/// The first invalid UTF-8 byte of a file, as an error message and offset.
pub fn utf8_error(bytes: &[u8]) -> Option<(usize, String)> {
    let e = std::str::from_utf8(bytes).err()?;
    let at = e.valid_up_to();
    Some((
        at,
        format!(
            "the file is not valid UTF-8: byte 0x{:02x} cannot start or continue a character (scenario files are UTF-8 text)",
            bytes[at]
        ),
    ))
}

/// Keys whose strings may span lines (free text shown to a reader).
const MULTILINE_KEYS: &[&str] = &["description", "question", "answer"];

/// Walks every value of the document: integers must fit TOML's signed 64
/// bits (a larger `u64` is refused so that every scenario can be written
/// back, as fuzz repros and swarm draws do), and strings must be printable
/// text: one line (except free text) without control characters.
pub fn check_document(text: &str) -> Result<(), (Range<usize>, String)> {
    let Ok(doc) = DeTable::parse(text) else {
        // The deserializer reports syntax errors with their location.
        return Ok(());
    };
    walk_table(doc.get_ref(), None)
}

fn walk_table(t: &DeTable<'_>, _parent: Option<&str>) -> Result<(), (Range<usize>, String)> {
    for (k, v) in t {
        let key: &str = k.get_ref();
        check_string_key(key, k.span())?;
        walk_value(key, v)?;
    }
    Ok(())
}

fn check_string_key(key: &str, span: Range<usize>) -> Result<(), (Range<usize>, String)> {
    if key.chars().any(char::is_control) {
        return Err((span, "a key cannot contain control characters".into()));
    }
    Ok(())
}

fn walk_value(key: &str, v: &Spanned<DeValue<'_>>) -> Result<(), (Range<usize>, String)> {
    match v.get_ref() {
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
            let (neg, body) = match digits.strip_prefix('-') {
                Some(b) => (true, b.to_string()),
                None => (false, digits.trim_start_matches('+').to_string()),
            };
            let body = body
                .strip_prefix("0x")
                .or_else(|| body.strip_prefix("0o"))
                .or_else(|| body.strip_prefix("0b"))
                .unwrap_or(&body)
                .to_string();
            let ok = i128::from_str_radix(&body, i.radix())
                .ok()
                .map(|n| if neg { -n } else { n })
                .is_some_and(|n| i64::try_from(n).is_ok());
            if !ok {
                return Err((
                    v.span(),
                    format!(
                        "`{key}` = {} does not fit a TOML integer (-9223372036854775808 to 9223372036854775807)",
                        i.as_str()
                    ),
                ));
            }
        }
        DeValue::String(s) => {
            let multiline = MULTILINE_KEYS.contains(&key);
            let limit = if multiline { MAX_TEXT_LEN } else { 4096 };
            if s.len() > limit {
                return Err((
                    v.span(),
                    format!("`{key}` is {} bytes long: at most {limit}", s.len()),
                ));
            }
            let bad = s
                .chars()
                .find(|&c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
            if let Some(c) = bad {
                let what = match c {
                    '\n' | '\r' => "a line break".to_string(),
                    c => format!("the control character U+{:04X}", c as u32),
                };
                let allowed = if multiline {
                    ""
                } else {
                    " (only description, question and answer may span lines)"
                };
                return Err((
                    v.span(),
                    format!("`{key}` contains {what}: strings are printable text{allowed}"),
                ));
            }
        }
        DeValue::Array(a) => {
            for x in a {
                walk_value(key, x)?;
            }
        }
        DeValue::Table(t) => walk_table(t, Some(key))?,
        DeValue::Float(_) | DeValue::Boolean(_) | DeValue::Datetime(_) => {}
    }
    Ok(())
}

/// A scenario's name becomes file names (golden traces, fuzz repros,
/// dashboard pages): segments of letters, digits, `.`, `_` and `-`,
/// separated by `/`, none empty, `.` or `..`.
pub fn check_scenario_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "a scenario name has 1 to {MAX_NAME_LEN} characters, e.g. \"sentinel/failover-after-kill\""
        ));
    }
    for seg in name.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(format!(
                "scenario name `{name}`: each `/`-separated part must be a plain name (not empty, `.` or `..`): names become file names"
            ));
        }
        if let Some(c) = seg
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "scenario name `{}` contains {c:?}: use letters, digits, `.`, `_`, `-` and `/` (names become file names)",
                name.escape_debug()
            ));
        }
    }
    Ok(())
}

/// A node name (workloads), a Sentinel master name, a password: a token of
/// printable characters without spaces or quotes.
pub fn check_token(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > MAX_NAME_LEN {
        return Err(format!("{what} has 1 to {MAX_NAME_LEN} characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\'))
    {
        return Err(format!(
            "{what} `{}` contains {c:?}: use printable characters without spaces, quotes or backslashes",
            s.escape_debug()
        ));
    }
    Ok(())
}

/// Values redis.conf accepts but the simulator cannot represent: times
/// beyond a year (they overflow when turned into microseconds) and sizes
/// beyond 1 TiB.
pub fn check_redis_conf(key: &str, c: &RedisConfig) -> Result<(), String> {
    let year_s = MAX_DURATION / MICROS_PER_SEC;
    let year_ms = MAX_DURATION / MICROS_PER_MS;
    let secs = |v: u64| {
        if v > year_s {
            Err(format!(
                "{v} seconds is out of range: at most {year_s} (a year; longer times overflow simulated microseconds)"
            ))
        } else {
            Ok(())
        }
    };
    let size = |v: u64| {
        if v > MAX_SIZE {
            Err(format!(
                "{v} bytes is out of range: at most 1tb (1099511627776 bytes), far more than any simulated node holds"
            ))
        } else {
            Ok(())
        }
    };
    match key {
        "repl-backlog-size" => size(c.repl_backlog_size),
        "repl-backlog-ttl" => secs(c.repl_backlog_ttl),
        "repl-timeout" => secs(c.repl_timeout),
        "repl-ping-replica-period" => secs(c.repl_ping_replica_period),
        "tcp-keepalive" => secs(c.tcp_keepalive),
        "repl-diskless-sync-delay" => secs(c.repl_diskless_sync_delay),
        "min-replicas-max-lag" => secs(c.min_replicas_max_lag),
        "client-output-buffer-limit" => {
            let l = &c.replica_output_buffer_limit;
            size(l.hard)?;
            size(l.soft)?;
            secs(l.soft_seconds)
        }
        "save" => {
            for &(s, _) in &c.save {
                secs(s)?;
            }
            Ok(())
        }
        "rdb-save-rate" => size(c.rdb_save_rate),
        "rdb-load-rate" => size(c.rdb_load_rate),
        "cluster-node-timeout" => {
            if c.cluster.node_timeout > year_ms {
                Err(format!(
                    "{} ms is out of range: at most {year_ms} (a year)",
                    c.cluster.node_timeout
                ))
            } else {
                Ok(())
            }
        }
        "cluster-replica-validity-factor" => {
            if c.cluster.replica_validity_factor > 1_000_000 {
                Err(format!(
                    "{} is out of range: at most 1000000 (0 disables the check; it multiplies cluster-node-timeout)",
                    c.cluster.replica_validity_factor
                ))
            } else {
                Ok(())
            }
        }
        "fork-time-per-gb" => {
            if c.fork_time_per_gb > 3600 * MICROS_PER_SEC {
                Err("fork-time-per-gb is at most 1h".into())
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// A rough lower bound on the events a run takes, from its shape: every
/// Redis server's cron (hz, 10 by default), every Sentinel's PING to every
/// instance each second and its hello to every Redis node every 2 s (each
/// delivered to every Sentinel), every cluster node's PING to each other
/// node at least every node-timeout / 2, two deliveries per client
/// operation, and one delivery of every write to every replica that copies
/// it. Halved, to stay a lower bound whatever the details.
pub struct Load {
    pub redis: u64,
    pub sentinels: u64,
    /// `cluster-node-timeout` in ms, for a cluster.
    pub cluster_node_timeout_ms: Option<u64>,
    /// serverCron runs per simulated second, summed over Redis servers.
    pub cron_per_sec: f64,
    /// Client operations over the whole run.
    pub ops: f64,
    /// Client writes over the whole run times the replicas each reaches.
    pub replicated: f64,
}

impl Load {
    pub fn per_sec(&self) -> f64 {
        let r = self.redis as f64;
        let s = self.sentinels as f64;
        let sentinel_pings = 2.0 * s * (r + s - 1.0).max(0.0);
        let hellos = s * s * r / 2.0;
        let bus = match self.cluster_node_timeout_ms {
            Some(nt) => {
                let half = (nt as f64 / 2000.0).max(0.001);
                2.0 * r * (r - 1.0).max(0.0) / half
            }
            None => 0.0,
        };
        self.cron_per_sec + sentinel_pings + hellos + bus
    }

    /// Events over a run of `secs` simulated seconds, at least.
    pub fn at_least(&self, secs: f64) -> f64 {
        (self.per_sec() * secs + 2.0 * self.ops + self.replicated) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_paths_are_refused() {
        assert!(check_scenario_name("sentinel/failover-after-kill").is_ok());
        assert!(check_scenario_name("fuzz/x/fuzz-seed-3").is_ok());
        for bad in [
            "../../x", "/abs", "a//b", "a/./b", "a b", "x\ny", "a\"b", "",
        ] {
            assert!(check_scenario_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn integers_must_fit_i64() {
        assert!(check_document("a = 9223372036854775807").is_ok());
        assert!(check_document("a = -9223372036854775808").is_ok());
        assert!(check_document("a = 18446744073709551615").is_err());
        assert!(check_document("a = 0xffffffffffffffff").is_err());
        assert!(check_document("a = 1_000").is_ok());
    }

    #[test]
    fn strings_are_printable() {
        assert!(check_document("description = \"a\\nb\"").is_ok());
        assert!(check_document("name = \"a\\nb\"").is_err());
        assert!(check_document("[x]\nname = \"a\\u0000b\"").is_err());
    }

    #[test]
    fn invalid_utf8_is_located() {
        let (at, msg) = utf8_error(b"name = \"\xff\"").expect("invalid");
        assert_eq!(at, 8);
        assert!(msg.contains("0xff"), "{msg}");
        assert!(utf8_error("é".as_bytes()).is_none());
    }
}
