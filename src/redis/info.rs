//! `INFO`: the `# Server` and `# Replication` sections, with Redis 7.0's
//! field names and order (server.c: genRedisInfoString()).

use std::fmt::Write as _;

use crate::time::Micros;

use super::Server;
use super::replica::LinkState;

/// The version the model follows, as INFO reports it.
pub const REDIS_VERSION: &str = "7.0.15";

/// `INFO` as a client (Sentinel) gets it: `# Server` (where Sentinel reads
/// `run_id`), then `# Replication`. The other default sections are not
/// modelled.
pub fn full(p: &Server, now: Micros) -> String {
    let mut s = server(p, now);
    s.push_str("\r\n");
    s.push_str(&super::stats::section(p));
    s.push_str("\r\n");
    s.push_str(&replication(p, now));
    let enabled = u8::from(p.cluster.is_some());
    s.push_str(&format!("\r\n# Cluster\r\ncluster_enabled:{enabled}\r\n"));
    s.push_str("\r\n");
    s.push_str(&super::stats::keyspace(p));
    s
}

/// `INFO server`. Fields about the build and the host (os, gcc_version,
/// process_id, executable, ...) are left out rather than made up; `hz` is
/// `configured_hz`, as dynamic-hz keeps it with few clients.
pub fn server(p: &Server, now: Micros) -> String {
    let unixtime = now / 1_000_000;
    // A clock jumped back makes it negative, as in Redis.
    let uptime = unixtime as i64 - p.start_time as i64;
    // getLRUClock(): seconds, on 24 bits.
    let lru_clock = unixtime & ((1 << 24) - 1);
    format!(
        "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\n\
         redis_git_dirty:0\r\nredis_mode:{mode}\r\narch_bits:64\r\n\
         process_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{now}\r\n\
         uptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{hz}\r\n\
         configured_hz:{hz}\r\nlru_clock:{lru_clock}\r\nio_threads_active:0\r\n",
        p.run_id,
        p.cfg.port,
        uptime / (3600 * 24),
        hz = p.cfg.hz,
        mode = if p.cluster.is_some() {
            "cluster"
        } else {
            "standalone"
        },
    )
}

/// `INFO replication`.
pub fn replication(p: &Server, now: Micros) -> String {
    let unixtime = now / 1_000_000;
    let mut s = String::from("# Replication\r\n");
    match &p.replica {
        None => s.push_str("role:master\r\n"),
        Some(side) => {
            s.push_str("role:slave\r\n");
            let (host, port) = (&side.master_host, side.master_port);
            let connected = side.state == LinkState::Connected;
            let offset: i64 = if connected {
                p.master_repl_offset as i64
            } else if let Some((_, off)) = side.cached {
                off as i64
            } else {
                1
            };
            let last_io: i64 = if connected {
                unixtime.saturating_sub(side.lastinteraction) as i64
            } else {
                -1
            };
            let _ = write!(
                s,
                "master_host:{host}\r\nmaster_port:{port}\r\nmaster_link_status:{}\r\n\
                 master_last_io_seconds_ago:{last_io}\r\nmaster_sync_in_progress:{}\r\n\
                 slave_read_repl_offset:{offset}\r\nslave_repl_offset:{offset}\r\n",
                if connected { "up" } else { "down" },
                u8::from(side.state == LinkState::Transfer),
            );
            if side.state == LinkState::Transfer {
                let _ = write!(
                    s,
                    "master_sync_total_bytes:{t}\r\nmaster_sync_read_bytes:0\r\n\
                     master_sync_left_bytes:{t}\r\nmaster_sync_perc:0.00\r\n\
                     master_sync_last_io_seconds_ago:{}\r\n",
                    unixtime.saturating_sub(side.transfer_lastio),
                    t = side.transfer_size,
                );
            }
            if !connected {
                let down: i64 = if side.down_since > 0 {
                    unixtime.saturating_sub(side.down_since) as i64
                } else {
                    -1
                };
                let _ = write!(s, "master_link_down_since_seconds:{down}\r\n");
            }
            let _ = write!(
                s,
                "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:1\r\n",
                p.cfg.replica_priority,
                u8::from(p.cfg.replica_read_only)
            );
        }
    }
    let _ = write!(s, "connected_slaves:{}\r\n", p.replicas.len());
    if p.cfg.min_replicas_to_write > 0 && p.cfg.min_replicas_max_lag > 0 {
        let _ = write!(s, "min_slaves_good_slaves:{}\r\n", p.good_replicas);
    }
    for (i, r) in p.replicas.iter().enumerate() {
        let lag = if r.state == super::master::ReplState::Online {
            unixtime.saturating_sub(r.ack_time)
        } else {
            0
        };
        let _ = write!(
            s,
            "slave{i}:ip={},port={},state={},offset={},lag={lag}\r\n",
            r.ip,
            r.port,
            r.state.as_str(),
            r.ack_off
        );
    }
    let (active, first, hist) = match &p.backlog {
        Some(b) => (1, b.first_byte, b.histlen),
        None => (0, 0, 0),
    };
    let _ = write!(
        s,
        "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\n\
         master_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{active}\r\n\
         repl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{first}\r\n\
         repl_backlog_histlen:{hist}\r\n",
        p.failover.state.as_str(),
        p.replid,
        p.replid2,
        p.master_repl_offset,
        p.second_replid_offset,
        p.cfg.repl_backlog_size,
    );
    s
}

/// Looks a field up in an INFO text.
pub fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim_end)
    })
}
