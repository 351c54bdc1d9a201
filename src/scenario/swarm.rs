//! Where `[fuzz.swarm]` values go in a scenario file: the swarm's draws and
//! the parser's check of each range's ends write them the same way.

/// Writes a drawn swarm value into a scenario document: into every
/// workload for workload keys, else into the key's table.
pub fn set_swarm_value(doc: &mut toml::Table, key: &str, value: toml::Value) {
    let section = swarm_section(key);
    if section == "workload" {
        if let Some(toml::Value::Array(ws)) = doc.get_mut("workload") {
            for w in ws.iter_mut() {
                if let toml::Value::Table(t) = w {
                    t.insert(key.into(), value.clone());
                }
            }
        }
        return;
    }
    let mut t = match doc.remove(section) {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    t.insert(key.into(), value);
    doc.insert(section.into(), toml::Value::Table(t));
}

/// Where a swarm key lives in a scenario.
pub fn swarm_section(key: &str) -> &'static str {
    match key {
        "down-after-milliseconds" | "failover-timeout" | "quorum" | "parallel-syncs" => "sentinel",
        "latency" | "jitter" | "bandwidth" | "loss" => "network",
        "rate" | "value-size" => "workload",
        "replicas" | "sentinels" => "topology",
        _ => "redis",
    }
}
