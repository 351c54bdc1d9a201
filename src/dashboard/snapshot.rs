//! A node's state at one instant as a generic list of named fields, so the
//! page shows any kind of node the same way: a new node kind contributes
//! its own fields. Redis nodes give their `INFO replication` fields (with
//! Redis's names) plus a few of their own; Sentinels their epochs, votes,
//! flags and failover state; clients where they send. Fields named
//! `timer:<what>` hold a simulated time in µs (when the timer fires), which
//! the page shows relative to the instant being viewed.

use indexmap::IndexMap;

use crate::check::RunView as _;
use crate::history::Outcome;
use crate::redis::{RedisNode, info};
use crate::sentinel::SentinelNode;

use crate::time::Micros;
use crate::world::{Process, World};

pub type Fields = IndexMap<String, String>;

/// The state of node `n` now. Each kind of process contributes its own
/// fields; a kind without a branch here shows only its name.
pub fn fields(world: &World, n: usize) -> Fields {
    let mut f = Fields::new();
    if let Some(r) = world.redis(n) {
        redis_fields(world, n, r, &mut f);
    } else if let Some(s) = world.sentinel(n) {
        sentinel_fields(world, n, s, &mut f);
    } else if let Process::Client(c) = &world.sim.nodes[n] {
        client_fields(world, &c.history, &mut f);
    } else if let Process::ClusterClient(c) = &world.sim.nodes[n] {
        client_fields(world, &c.history, &mut f);
    } else if let Process::Resharder(r) = &world.sim.nodes[n] {
        operator_fields(world, &r.sessions, &mut f);
    }
    f
}

/// The operator's redis-cli: running, and what each of its sessions (the
/// scenario's, and outside connections') last sent and got back.
fn operator_fields(world: &World, sessions: &crate::client::operator::Sessions, f: &mut Fields) {
    put(f, "status", "running".into());
    put(f, "role", "redis-cli".into());
    for (session, x) in sessions.latest() {
        let reply = match &x.reply {
            None => "waiting".to_string(),
            Some((_, frame)) => {
                crate::history::shown_reply(&x.command.argv, &x.pushes, frame, &x.more)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string()
            }
        };
        put(
            f,
            &format!("session:{session}"),
            format!(
                "{} > {}: {reply}",
                world.names[x.command.node as usize], x.command.line
            ),
        );
    }
}

fn put(f: &mut Fields, k: &str, v: String) {
    f.insert(k.to_string(), v);
}

/// `INFO replication` with Redis's field names, plus the node's run id,
/// key count, replication link state and `repl-timeout` deadline.
fn redis_fields(world: &World, n: usize, r: &RedisNode, f: &mut Fields) {
    match &r.server {
        None => put(f, "status", "down".into()),
        Some(p) => {
            put(f, "status", "running".into());
            let local = world.local_time(n);
            let text = info::replication(p, local);
            for line in text.lines().skip(1) {
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    put(f, k, v.to_string());
                }
            }
            put(f, "run_id", p.run_id.as_str()[..8].to_string());
            put(f, "keys", p.data.len().to_string());
            if let Some(side) = &p.replica {
                put(f, "master_node", world.names[side.master as usize].clone());
                put(f, "link_state", side.state.as_str().into());
                if f.get("master_link_status").is_some_and(|s| s == "up") {
                    let deadline = (side.lastinteraction + p.cfg.repl_timeout) * 1_000_000;
                    put(f, "timer:repl-timeout", sim_time(world, n, deadline));
                }
            }
            if let Some(c) = &p.cluster {
                cluster_fields(world, n, c, f);
            }
            for r in &p.replicas {
                if let Some(node) = world.dir.lookup(&r.ip, r.port) {
                    put(
                        f,
                        &format!("replica_node:{}", world.names[node as usize]),
                        r.state.as_str().to_string(),
                    );
                }
            }
        }
    }
}

/// A cluster node's `CLUSTER INFO`, its view of every other node (flags as
/// CLUSTER NODES prints them), and its election timers.
fn cluster_fields(
    world: &World,
    n: usize,
    c: &crate::redis::cluster::ClusterState,
    f: &mut Fields,
) {
    use crate::redis::cluster::{FAIL, PFAIL};
    for line in c.info().lines() {
        if let Some((k, v)) = line.trim_end().split_once(':') {
            put(f, k, v.to_string());
        }
    }
    let me = c.me();
    if me.is_master() {
        put(f, "cluster_slots", me.slots.ranges_text());
    }
    for (i, peer) in c.nodes.iter().enumerate() {
        if i == n {
            continue;
        }
        let mut flags = vec![if peer.is_master() { "master" } else { "slave" }];
        if peer.flags & PFAIL != 0 {
            flags.push("fail?");
        }
        if peer.flags & FAIL != 0 {
            flags.push("fail");
        }
        put(f, &format!("view:{}", world.names[i]), flags.join(","));
    }
    if c.failover_auth_time > 0 && !me.is_master() {
        let t = c.failover_auth_time * 1000;
        put(f, "timer:election", sim_time(world, n, t));
        put(f, "election_rank", c.failover_auth_rank.to_string());
        put(f, "election_votes", c.failover_auth_count.to_string());
    }
}

/// A Sentinel's epochs, vote, flags, failover state and timers: the
/// first monitored master's under plain names, each other's with its name
/// after a colon (`config_epoch:orders`).
fn sentinel_fields(world: &World, n: usize, s: &SentinelNode, f: &mut Fields) {
    match &s.state {
        None => put(f, "status", "down".into()),
        Some(p) => {
            put(f, "status", "running".into());
            put(f, "role", "sentinel".into());
            put(f, "myid", p.myid[..p.myid.len().min(8)].to_string());
            put(f, "current_epoch", p.current_epoch.to_string());
            for (k, m) in p.masters.iter().enumerate() {
                let suffix = if k == 0 {
                    String::new()
                } else {
                    format!(":{}", m.inst.name)
                };
                master_fields(world, n, p, m, &suffix, f);
            }
        }
    }
}

/// One monitored master's fields, each name followed by `suffix`.
fn master_fields(
    world: &World,
    n: usize,
    p: &crate::sentinel::SentinelState,
    m: &crate::sentinel::instance::Master,
    suffix: &str,
    f: &mut Fields,
) {
    let mut put = |k: &str, v: String| {
        f.insert(format!("{k}{suffix}"), v);
    };
    let name_of = |runid: &str| -> String {
        world
            .sentinels()
            .into_iter()
            .find(|(_, s)| s.state.as_ref().is_some_and(|q| q.myid == runid))
            .map_or_else(
                || runid[..runid.len().min(8)].to_string(),
                |(i, _)| world.names[i].clone(),
            )
    };
    put("config_epoch", m.config_epoch.to_string());
    put("master_node", world.names[m.inst.node as usize].clone());
    put("master_status", m.status().into());
    put("tilt", u8::from(p.tilt).to_string());
    let vote = m.leader.as_ref().map_or("none".to_string(), |l| {
        format!("{} in epoch {}", name_of(l), m.leader_epoch)
    });
    put("vote", vote);
    put("failover_state", m.failover_state.as_str().into());
    if m.in_failover() {
        put("failover_epoch", m.failover_epoch.to_string());
        if let Some(i) = m.promoted {
            put(
                "promoting",
                world.names[m.replicas[i].node as usize].clone(),
            );
        }
    }
    let sdown: Vec<&str> = std::iter::once(&m.inst)
        .chain(&m.replicas)
        .chain(&m.sentinels)
        .filter(|i| i.s_down)
        .map(|i| world.names[i.node as usize].as_str())
        .collect();
    put("sees_sdown", sdown.join(","));
    let replicas: Vec<&str> = m
        .replicas
        .iter()
        .map(|i| world.names[i.node as usize].as_str())
        .collect();
    put("known_replicas", replicas.join(","));
    put("known_sentinels", m.sentinels.len().to_string());
    for (name, at) in m.deadlines() {
        put(&format!("timer:{name}"), sim_time(world, n, at * 1000));
    }
}

/// Where a workload client sends and how its last request went.
fn client_fields(world: &World, history: &crate::history::OpLog, f: &mut Fields) {
    put(f, "status", "running".into());
    put(f, "role", "client".into());
    if let Some(op) = history.last() {
        put(f, "target", world.names[op.node as usize].clone());
        let last = match &op.outcome {
            Outcome::Pending => "waiting".to_string(),
            Outcome::Ok => "ok".to_string(),
            Outcome::Error(e) => e.split_whitespace().next().unwrap_or("ERR").to_string(),
            Outcome::Timeout => "timeout".to_string(),
            Outcome::ConnectionLost => "connection lost".to_string(),
        };
        put(f, "last_reply", last);
    }
    put(f, "ops", history.len().to_string());
}

/// Converts a time on node `n`'s wall clock (µs) to simulated time.
fn sim_time(world: &World, n: usize, wall: Micros) -> String {
    let local = world.local_time(n) as i128;
    let now = world.sim.now() as i128;
    (now + wall as i128 - local).max(0).to_string()
}
