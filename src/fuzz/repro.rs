//! Reproducing scenario files: a failing run written out with every fault
//! spelled out, durations as people write them.

use crate::scenario::{Action, Plan};
use crate::sim::time::{Micros, format_duration};

use super::{Failure, FuzzConfig, actions};

/// The failing run as an explicit scenario file: the original scenario with
/// its seed set, every fault of the shrunk schedule spelled out, and the
/// violated property as an expectation, so `redsim run` reproduces it even
/// after the generator changes.
pub fn repro_toml(
    original: &str,
    plan: &Plan,
    cfg: &FuzzConfig,
    failure: &Failure,
) -> Result<String, String> {
    let original = failure.scenario.as_deref().unwrap_or(original);
    let mut doc: toml::Table = toml::from_str(original).map_err(|e| e.to_string())?;
    let seed = i64::try_from(failure.seed)
        .map_err(|_| format!("seed {} does not fit a TOML integer", failure.seed))?;
    doc.insert("seed".into(), toml::Value::Integer(seed));
    doc.insert(
        "name".into(),
        toml::Value::String(format!("{}/fuzz-seed-{}", plan.name, failure.seed)),
    );
    doc.remove("fuzz");
    let faults = doc
        .entry("fault")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    let toml::Value::Array(list) = faults else {
        return Err("`fault` is not an array of tables".into());
    };
    for (at, action) in actions(plan, cfg, &failure.schedule) {
        list.push(toml::Value::Table(action_table(plan, at, &action)));
    }
    let mut expect = toml::Table::new();
    match failure.property.as_str() {
        "no-lost-acked-writes" => {
            expect.insert("lost-acked-writes".into(), "= 0".into());
        }
        "max-lost-acked-writes" => {
            let max = cfg.bounds.max_lost_acked_writes.unwrap_or(0);
            expect.insert("lost-acked-writes".into(), format!("<= {max}").into());
        }
        "max-unavailability" => {
            let max = cfg.bounds.max_unavailability.unwrap_or(0);
            expect.insert("max-unavailability".into(), format_duration(max).into());
        }
        "converges-within" => {
            let at = cfg.faults_stop + cfg.bounds.converges_within.unwrap_or(0);
            expect.insert("at".into(), format_duration(at).into());
            expect.insert("converged".into(), true.into());
        }
        p => {
            expect.insert("invariant".into(), p.into());
        }
    }
    doc.insert(
        "expect".into(),
        toml::Value::Array(vec![toml::Value::Table(expect)]),
    );
    let body = toml::to_string(&doc).map_err(|e| e.to_string())?;
    let mut head = format!(
        "# Found by `redsim fuzz` (seed {}): {} — {}\n",
        failure.seed, failure.property, failure.detail
    );
    if !failure.signature.is_empty() {
        head.push_str(&format!("# Signature: {}\n", failure.signature));
    }
    if failure.shrunk {
        head.push_str(&format!(
            "# Shrunk from {} to {} faults.\n",
            failure.faults_drawn, failure.faults_after_shrinking
        ));
    } else {
        head.push_str(&format!(
            "# Not shrunk: {} faults as drawn.\n",
            failure.faults_drawn
        ));
    }
    Ok(format!("{head}{body}"))
}

fn action_table(plan: &Plan, at: Micros, a: &Action) -> toml::Table {
    let name = |n: usize| toml::Value::String(plan.nodes[n].name.clone());
    let mut t = toml::Table::new();
    t.insert("at".into(), format_duration(at).into());
    match a {
        Action::Kill(n) => drop(t.insert("kill".into(), name(*n))),
        Action::Crash(n) => drop(t.insert("crash".into(), name(*n))),
        Action::Shutdown(n) => drop(t.insert("shutdown".into(), name(*n))),
        Action::Restart(n) => drop(t.insert("restart".into(), name(*n))),
        Action::Pause(n) => drop(t.insert("pause".into(), name(*n))),
        Action::Resume(n) => drop(t.insert("resume".into(), name(*n))),
        Action::Heal => drop(t.insert("heal".into(), true.into())),
        Action::Reshard {
            from,
            to,
            slots,
            batch,
        } => {
            let mut r = toml::Table::new();
            r.insert("from".into(), name(*from));
            r.insert("to".into(), name(*to));
            let mut set = crate::proto::slots::SlotSet::default();
            slots.iter().for_each(|&s| set.insert(s));
            r.insert("slots".into(), set.ranges_text().into());
            r.insert("batch".into(), i64::from(*batch).into());
            t.insert("reshard".into(), toml::Value::Table(r));
        }
        Action::ClusterFailover { node, mode } => {
            let mut c = toml::Table::new();
            c.insert("node".into(), name(*node));
            match mode {
                crate::redis::cluster::failover::FailoverMode::Default => {}
                crate::redis::cluster::failover::FailoverMode::Force => {
                    c.insert("mode".into(), "force".into());
                }
                crate::redis::cluster::failover::FailoverMode::Takeover => {
                    c.insert("mode".into(), "takeover".into());
                }
            }
            t.insert("cluster-failover".into(), toml::Value::Table(c));
        }
        Action::Partition(groups) => {
            let g = groups
                .iter()
                .map(|g| toml::Value::Array(g.iter().map(|&n| name(n)).collect()))
                .collect();
            t.insert("partition".into(), toml::Value::Array(g));
        }
        Action::PartitionOneWay { from, to } => {
            let mut p = toml::Table::new();
            p.insert(
                "from".into(),
                toml::Value::Array(from.iter().map(|&n| name(n)).collect()),
            );
            p.insert(
                "to".into(),
                toml::Value::Array(to.iter().map(|&n| name(n)).collect()),
            );
            t.insert("partition-oneway".into(), toml::Value::Table(p));
        }
        Action::Link {
            from,
            to,
            params,
            both_ways,
        } => {
            let mut l = toml::Table::new();
            l.insert("from".into(), name(*from));
            l.insert("to".into(), name(*to));
            l.insert("latency".into(), format_duration(params.latency).into());
            l.insert("jitter".into(), format_duration(params.jitter).into());
            l.insert("bandwidth".into(), params.bandwidth.to_string().into());
            l.insert("loss".into(), params.loss.into());
            l.insert("both-ways".into(), (*both_ways).into());
            t.insert("link".into(), toml::Value::Table(l));
        }
        Action::ClockJump { node, by } => {
            let mut c = toml::Table::new();
            c.insert("node".into(), name(*node));
            let sign = if *by < 0 { "-" } else { "+" };
            c.insert(
                "by".into(),
                format!("{sign}{}", format_duration(by.unsigned_abs())).into(),
            );
            t.insert("clock-jump".into(), toml::Value::Table(c));
        }
        Action::Burst {
            node,
            writes,
            value_size,
        } => {
            let mut b = toml::Table::new();
            b.insert("node".into(), name(*node));
            b.insert("writes".into(), i64::from(*writes).into());
            b.insert("value-size".into(), i64::from(*value_size).into());
            t.insert("burst".into(), toml::Value::Table(b));
        }
        Action::ReplicaOf { node, master } => {
            let mut r = toml::Table::new();
            r.insert("node".into(), name(*node));
            r.insert(
                "master".into(),
                master.map_or(toml::Value::String("no one".into()), name),
            );
            t.insert("replicaof".into(), toml::Value::Table(r));
        }
        Action::ClientKillMaster(n) => drop(t.insert("client-kill-master".into(), name(*n))),
        Action::DebugSleep { node, length } => {
            let mut d = toml::Table::new();
            d.insert("node".into(), name(*node));
            d.insert("for".into(), format_duration(*length).into());
            t.insert("debug-sleep".into(), toml::Value::Table(d));
        }
        // Written by the parser with its DEBUG SLEEP; the nearest fault.
        Action::DebugSleepEnd(n) => drop(t.insert("resume".into(), name(*n))),
    }
    t
}
