//! Moving an experiment between redsim and real Redis: `redsim export`
//! writes a scenario's deployment as the redis.conf and sentinel.conf
//! files (and the scripts) that run it on real processes, and `redsim
//! import` reads such files back into a scenario. Export then import
//! gives back the scenario's plan, so the run's trace is the same.

pub mod cli;
mod conf_file;
pub mod export;
pub mod import;
#[cfg(test)]
mod tests;

pub use export::{Exported, export};
pub use import::{ImportOptions, Imported, import};

/// The file beside the configuration files that holds the rest of the
/// scenario: workload, faults, network, expectations, duration.
pub const EXPERIMENT: &str = "redsim.toml";

/// The scenario tables the configuration files carry.
fn is_server_table(key: &str) -> bool {
    matches!(key, "redis" | "sentinel" | "node")
}
