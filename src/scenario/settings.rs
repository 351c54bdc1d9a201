//! One registry of the settings a tool may vary in a scenario: the table
//! each lives in, the kind of value it takes, and whether `[fuzz.swarm]`
//! may draw it. `sweep --param`, the `[fuzz.swarm]` check and the swarm's
//! writer all read this table, so a new setting is added in one place.

/// The scenario table a setting lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Redis,
    Sentinel,
    Network,
    /// Every `[[workload]]`.
    Workload,
    Topology,
}

impl Table {
    /// The table's name in a scenario file.
    pub fn name(self) -> &'static str {
        match self {
            Table::Redis => "redis",
            Table::Sentinel => "sentinel",
            Table::Network => "network",
            Table::Workload => "workload",
            Table::Topology => "topology",
        }
    }
}

/// How a value is written into the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    /// Microseconds, written as `<n>us`.
    Duration,
    /// Bytes, written as a plain number.
    Size,
}

/// One setting a tool may vary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    pub key: &'static str,
    pub table: Table,
    pub kind: Kind,
    /// `[fuzz.swarm]` may draw it.
    pub swarm: bool,
}

const fn s(key: &'static str, table: Table, kind: Kind, swarm: bool) -> Setting {
    Setting {
        key,
        table,
        kind,
        swarm,
    }
}

use Kind::{Duration, Float, Int, Size};
use Table::{Network, Redis, Sentinel, Topology, Workload};

/// Every variable setting, in the order tools list them.
pub const SETTINGS: &[Setting] = &[
    s("down-after-milliseconds", Sentinel, Int, true),
    s("failover-timeout", Sentinel, Int, true),
    s("quorum", Sentinel, Int, true),
    s("parallel-syncs", Sentinel, Int, true),
    s("repl-backlog-size", Redis, Size, true),
    s("repl-backlog-ttl", Redis, Int, false),
    s("repl-timeout", Redis, Int, true),
    s("repl-ping-replica-period", Redis, Int, false),
    s("tcp-keepalive", Redis, Int, false),
    s("repl-diskless-sync-delay", Redis, Int, true),
    s("repl-diskless-sync-max-replicas", Redis, Int, false),
    s("min-replicas-to-write", Redis, Int, false),
    s("min-replicas-max-lag", Redis, Int, true),
    s("replica-priority", Redis, Int, false),
    s("hz", Redis, Int, false),
    s("fork-time-per-gb", Redis, Duration, false),
    s("rdb-save-rate", Redis, Size, false),
    s("rdb-load-rate", Redis, Size, false),
    s("cluster-node-timeout", Redis, Int, true),
    s("cluster-replica-validity-factor", Redis, Int, true),
    s("cluster-migration-barrier", Redis, Int, true),
    s("latency", Network, Duration, true),
    s("jitter", Network, Duration, true),
    s("bandwidth", Network, Size, false),
    s("loss", Network, Float, false),
    s("rate", Workload, Float, true),
    s("value-size", Workload, Int, true),
    s("keys", Workload, Int, false),
    s("timeout", Workload, Duration, false),
    s("wait-timeout", Workload, Duration, false),
    s("replicas", Topology, Int, true),
    s("sentinels", Topology, Int, true),
];

/// The setting named `key`.
pub fn find(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// Every setting's name.
pub fn keys() -> Vec<&'static str> {
    SETTINGS.iter().map(|s| s.key).collect()
}

/// The names `[fuzz.swarm]` may draw.
pub fn swarm_keys() -> Vec<&'static str> {
    SETTINGS.iter().filter(|s| s.swarm).map(|s| s.key).collect()
}

/// Writes a value of the setting named `key` (see [`write`]).
pub fn write_key(doc: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let setting = find(key).ok_or_else(|| format!("`{key}` is not a variable setting"))?;
    write(doc, setting.table, key, value)
}

/// Writes `value` for `key` into a scenario document: into every
/// `[[workload]]` for a workload setting, else into the setting's table
/// (created if the scenario has none).
pub fn write(
    doc: &mut toml::Table,
    table: Table,
    key: &str,
    value: toml::Value,
) -> Result<(), String> {
    if table == Table::Workload {
        let Some(toml::Value::Array(items)) = doc.get_mut("workload") else {
            return Err(format!(
                "the scenario has no [[workload]] to set `{key}` in"
            ));
        };
        for item in items.iter_mut() {
            if let toml::Value::Table(t) = item {
                t.insert(key.to_string(), value.clone());
            }
        }
        return Ok(());
    }
    let name = table.name();
    let mut t = match doc.remove(name) {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    t.insert(key.to_string(), value);
    doc.insert(name.into(), toml::Value::Table(t));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_once() {
        let mut keys = keys();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }

    #[test]
    fn writes_into_the_table_or_every_workload() {
        let mut doc: toml::Table =
            toml::from_str("[[workload]]\nrate = 1.0\n[[workload]]\nrate = 2.0\n").unwrap();
        write(&mut doc, Table::Workload, "rate", toml::Value::Float(5.0)).unwrap();
        write(&mut doc, Table::Sentinel, "quorum", toml::Value::Integer(3)).unwrap();
        assert_eq!(
            toml::to_string(&doc).unwrap(),
            "[sentinel]\nquorum = 3\n\n[[workload]]\nrate = 5.0\n\n[[workload]]\nrate = 5.0\n"
        );
        let mut empty = toml::Table::new();
        assert_eq!(
            write(&mut empty, Table::Workload, "rate", toml::Value::Float(1.0)),
            Err("the scenario has no [[workload]] to set `rate` in".into())
        );
    }
}
