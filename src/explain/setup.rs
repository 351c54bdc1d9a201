//! The setup paragraph: who runs, with the settings that decide the story
//! (down-after-milliseconds, quorum, backlog size, persistence), and what
//! the clients do.

use std::fmt::Write as _;

use crate::client::Discovery;
use crate::redis::config::{AppendFsync, RedisConfig};
use crate::scenario::NodeKind;

use super::context::{Context, thousands};

pub fn describe(cx: &Context) -> String {
    let plan = &cx.world.plan;
    let mut out = String::new();
    let (mut redis, mut clients) = (Vec::new(), Vec::new());
    for n in &plan.nodes {
        match &n.kind {
            NodeKind::Redis { conf, replicaof } => redis.push((n, &**conf, *replicaof)),
            NodeKind::Client(spec) => clients.push((n, spec)),
            NodeKind::Sentinel(_) | NodeKind::Operator => {}
        }
    }
    for (i, (n, conf, replicaof)) in redis.iter().enumerate() {
        let role = match (replicaof, &plan.cluster) {
            (_, Some(c)) => match c.replica_of[i] {
                Some(m) => format!("a cluster replica of {}", plan.nodes[m].name),
                None => format!("a cluster master of slots {}", c.slots[i].ranges_text()),
            },
            (Some(m), None) => format!("a replica of {}", plan.nodes[*m].name),
            (None, None) => "a master".to_string(),
        };
        let _ = writeln!(
            out,
            "- {} ({}:{}) starts as {role}; {}.",
            n.name,
            n.host,
            n.port,
            settings(conf)
        );
    }
    if let (Some(c), Some((_, conf, _))) = (&plan.cluster, redis.first()) {
        let size = c.slots.iter().filter(|s| !s.is_empty()).count();
        let cc = &conf.cluster;
        let _ = writeln!(
            out,
            "- The cluster has {size} slot-serving masters and no Sentinel: \
             cluster-node-timeout {} ms, cluster-require-full-coverage {}{}; a node flags a \
             peer PFAIL after node-timeout without an answer, and FAIL needs PFAIL reports \
             from {size}/2+1 = {} of the slot-serving masters.",
            thousands(cc.node_timeout),
            if cc.require_full_coverage {
                "yes"
            } else {
                "no"
            },
            if cc.replica_no_failover {
                ", cluster-replica-no-failover yes"
            } else {
                ""
            },
            size / 2 + 1
        );
    }
    if let Some(conf) = &cx.sentinel {
        for s in &conf.masters {
            // One master: "watch it"; several: each by its name and node.
            let it = if conf.masters.len() == 1 {
                "it".to_string()
            } else {
                format!("{} ({})", s.master_name, plan.nodes[s.master as usize].name)
            };
            let _ = writeln!(
                out,
                "- {} Sentinels watch {it}: quorum {}, down-after-milliseconds {} ms, failover-timeout \
                 {} ms, parallel-syncs {}.",
                cx.sentinels,
                s.quorum,
                thousands(s.down_after),
                thousands(s.failover_timeout),
                s.parallel_syncs
            );
        }
    }
    for (n, w) in clients {
        let target = match &w.discovery {
            Discovery::Direct(t) => format!("talks to {}", plan.nodes[*t as usize].name),
            Discovery::Sentinel { master_name, .. } => match &cx.sentinel {
                Some(c) if c.masters.len() > 1 => {
                    format!("finds master {master_name} through the Sentinels")
                }
                _ => "finds the master through the Sentinels".to_string(),
            },
            Discovery::Cluster(_) => {
                "sends each key to the master of its slot (following MOVED and ASK)".to_string()
            }
        };
        let wait = w.wait.map_or(String::new(), |(n, ms)| {
            format!(", then WAIT {n} {ms} after each write")
        });
        let _ = writeln!(
            out,
            "- {} {target}: {} operations/s ({}) on {} keys, from {} to {}{wait}.",
            n.name,
            w.rate,
            w.commands.mix.describe(),
            thousands(u64::from(w.commands.keys.len())),
            Context::secs(w.start),
            Context::secs(w.stop)
        );
    }
    out
}

/// The settings of a Redis node that shape HA stories.
fn settings(c: &RedisConfig) -> String {
    let mut s = vec![format!(
        "repl-backlog-size {} bytes, repl-timeout {} s",
        thousands(c.repl_backlog_size),
        c.repl_timeout
    )];
    s.push(if c.appendonly {
        format!(
            "AOF on (appendfsync {})",
            match c.appendfsync {
                AppendFsync::Always => "always",
                AppendFsync::Everysec => "everysec",
                AppendFsync::No => "no",
            }
        )
    } else if c.save.is_empty() {
        "no persistence (save \"\", appendonly no)".to_string()
    } else {
        "RDB save points, no AOF".to_string()
    });
    if c.min_replicas_to_write > 0 {
        s.push(format!(
            "min-replicas-to-write {} with min-replicas-max-lag {} s",
            c.min_replicas_to_write, c.min_replicas_max_lag
        ));
    }
    if c.replica_priority != 100 {
        s.push(format!("replica-priority {}", c.replica_priority));
    }
    if !c.replica_read_only {
        s.push("replica-read-only no".to_string());
    }
    s.join(", ")
}
