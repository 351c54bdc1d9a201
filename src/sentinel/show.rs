//! What `SENTINEL MASTER(S)`, `REPLICAS|SLAVES` and `SENTINELS` show of
//! an instance (sentinel.c addReplySentinelRedisInstance()): its fields in
//! Redis's order, every value a bulk string, as a map (a flat array in
//! RESP2). Times are the Sentinel's wall clock in milliseconds, as
//! `mstime()`.

use crate::proto::resp::Frame;

use super::SentinelNode;
use super::commands::no_such_master;
use super::instance::{Instance, Kind, Master, Reconf};
use super::pass::Pass;

/// The instance's flags as the `flags` field lists them, in Redis's order.
/// Only the master carries the failover flags; only a Sentinel says the
/// master is down.
fn flags(m: &Master, i: &Instance) -> String {
    let is_master = i.kind == Kind::Master;
    let set = [
        (i.s_down, "s_down"),
        (is_master && m.o_down, "o_down"),
        (is_master, "master"),
        (i.kind == Kind::Replica, "slave"),
        (i.kind == Kind::Sentinel, "sentinel"),
        (i.link.disconnected, "disconnected"),
        (i.kind == Kind::Sentinel && i.master_down, "master_down"),
        (is_master && m.in_failover(), "failover_in_progress"),
        (i.promoted, "promoted"),
        (i.reconf == Reconf::Sent, "reconf_sent"),
        (i.reconf == Reconf::InProgress, "reconf_inprog"),
        (i.reconf == Reconf::Done, "reconf_done"),
        (is_master && m.force_failover, "force_failover"),
    ];
    let names: Vec<&str> = set.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect();
    names.join(",")
}

/// addReplySentinelRedisInstance(): one instance of master `m` (the master
/// itself, one of its replicas or one of its Sentinels) at `now`.
pub fn instance_frame(m: &Master, i: &Instance, now: u64) -> Frame {
    let ago = |t: u64| (now as i64 - t as i64).to_string();
    let mut f: Vec<(&str, String)> = vec![
        ("name", i.name.to_string()),
        ("ip", i.host.to_string()),
        ("port", i.port.to_string()),
        ("runid", i.runid.as_deref().unwrap_or("").to_string()),
        ("flags", flags(m, i)),
        ("link-pending-commands", i.link.pending.len().to_string()),
        // Every instance has a link of its own (Redis shares one between a
        // Sentinel's instances under several masters).
        ("link-refcount", "1".into()),
    ];
    let is_master = i.kind == Kind::Master;
    if is_master && m.in_failover() {
        f.push(("failover-state", m.failover_state.as_str().into()));
    }
    let act = i.link.act_ping_time;
    f.push((
        "last-ping-sent",
        if act != 0 { ago(act) } else { "0".into() },
    ));
    f.push(("last-ok-ping-reply", ago(i.link.last_avail_time)));
    f.push(("last-ping-reply", ago(i.link.last_pong_time)));
    if i.s_down {
        f.push(("s-down-time", ago(i.s_down_since)));
    }
    if is_master && m.o_down {
        f.push(("o-down-time", ago(i.o_down_since)));
    }
    f.push(("down-after-milliseconds", m.down_after.to_string()));
    if i.kind != Kind::Sentinel {
        let refresh = if i.info_refresh != 0 {
            ago(i.info_refresh)
        } else {
            "0".into()
        };
        f.push(("info-refresh", refresh));
        let role = match i.role_reported {
            Some(Kind::Master) => "master",
            Some(_) => "slave",
            None if is_master => "master",
            None => "slave",
        };
        f.push(("role-reported", role.into()));
        f.push(("role-reported-time", ago(i.role_reported_time)));
    }
    match i.kind {
        Kind::Master => {
            f.push(("config-epoch", m.config_epoch.to_string()));
            f.push(("num-slaves", m.replicas.len().to_string()));
            f.push(("num-other-sentinels", m.sentinels.len().to_string()));
            f.push(("quorum", m.quorum.to_string()));
            f.push(("failover-timeout", m.failover_timeout.to_string()));
            f.push(("parallel-syncs", m.parallel_syncs.to_string()));
        }
        Kind::Replica => {
            f.push(("master-link-down-time", i.master_link_down_time.to_string()));
            let status = if i.slave_master_link_up { "ok" } else { "err" };
            f.push(("master-link-status", status.into()));
            let host = i.slave_master_host.as_deref().unwrap_or("?");
            f.push(("master-host", host.into()));
            f.push(("master-port", i.slave_master_port.to_string()));
            f.push(("slave-priority", i.slave_priority.to_string()));
            f.push(("slave-repl-offset", i.slave_repl_offset.to_string()));
            // The modelled replicas always announce themselves
            // (replica-announced yes).
            f.push(("replica-announced", "1".into()));
        }
        Kind::Sentinel => {
            f.push(("last-hello-message", ago(i.last_hello_time)));
            let leader = i.leader.as_deref().unwrap_or("?");
            f.push(("voted-leader", leader.into()));
            f.push(("voted-leader-epoch", i.leader_epoch.to_string()));
        }
    }
    Frame::map(f.into_iter().map(|(k, v)| (k, Frame::bulk(v))))
}

/// addReplyDictOfRedisInstances(): one map per instance.
pub fn instances_frame<'a>(
    m: &Master,
    instances: impl Iterator<Item = &'a Instance>,
    now: u64,
) -> Frame {
    Frame::Array(Some(instances.map(|i| instance_frame(m, i, now)).collect()))
}

impl SentinelNode {
    /// `SENTINEL MASTER <name>`
    pub(super) fn show_master(&self, ctx: &Pass<'_, '_>, name: &str) -> Frame {
        match self.master_named(name) {
            Some(m) => instance_frame(m, &m.inst, ctx.mstime()),
            None => no_such_master(),
        }
    }

    /// `SENTINEL MASTERS`: every monitored master, in the table's order.
    pub(super) fn show_masters(&self, ctx: &Pass<'_, '_>) -> Frame {
        let p = self.state.as_ref().expect("running");
        let now = ctx.mstime();
        Frame::Array(Some(
            p.masters
                .iter()
                .map(|m| instance_frame(m, &m.inst, now))
                .collect(),
        ))
    }

    /// `SENTINEL REPLICAS|SLAVES <name>`
    pub(super) fn show_replicas(&self, ctx: &Pass<'_, '_>, name: &str) -> Frame {
        match self.master_named(name) {
            Some(m) => instances_frame(m, m.replicas.iter(), ctx.mstime()),
            None => no_such_master(),
        }
    }

    /// `SENTINEL SENTINELS <name>`
    pub(super) fn show_sentinels(&self, ctx: &Pass<'_, '_>, name: &str) -> Frame {
        match self.master_named(name) {
            Some(m) => instances_frame(m, m.sentinels.iter(), ctx.mstime()),
            None => no_such_master(),
        }
    }

    /// `SENTINEL INFO-CACHE <name> ...`: for each named master (unknown
    /// names ignored, each master once, in the order first named), its
    /// name and the age and text of the last INFO of the master and of
    /// each replica (nil if none yet). As Redis does, a replica's age is 0
    /// whenever the *master* has no INFO yet, and `now` minus 0 when only
    /// the replica has none.
    pub(super) fn info_cache(&self, ctx: &Pass<'_, '_>, names: &[String]) -> Frame {
        let now = ctx.mstime();
        let p = self.state.as_ref().expect("running");
        let mut chosen: Vec<&Master> = Vec::new();
        for n in names {
            if let Some(m) = p.master_named(n)
                && !chosen.iter().any(|c| c.id == m.id)
            {
                chosen.push(m);
            }
        }
        Frame::Array(Some(
            chosen
                .into_iter()
                .flat_map(|m| info_cache_entry(m, now))
                .collect(),
        ))
    }
}

/// One master's two elements of `SENTINEL INFO-CACHE`: its name, and the
/// age and text of each INFO.
fn info_cache_entry(m: &Master, now: u64) -> [Frame; 2] {
    let entry = |i: &Instance| {
        let age = if m.inst.info_refresh != 0 {
            now as i64 - i.info_refresh as i64
        } else {
            0
        };
        Frame::Array(Some(vec![Frame::Int(age), Frame::Bulk(i.info.clone())]))
    };
    let infos = std::iter::once(&m.inst)
        .chain(m.replicas.iter())
        .map(entry)
        .collect();
    [
        Frame::bulk(m.inst.name.to_string()),
        Frame::Array(Some(infos)),
    ]
}
