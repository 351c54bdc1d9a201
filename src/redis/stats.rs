//! The counters behind INFO's `# Stats` and `# Keyspace` sections
//! (server.c: genRedisInfoString(), trackInstantaneousMetric()). Fields
//! about the host and memory (net bytes, forks' microseconds, defrag…) are
//! left out rather than made up; every field printed is counted where
//! Redis counts it.

use std::fmt::Write as _;

use super::Server;
use super::disk_errors::DiskStatus;

/// STATS_METRIC_SAMPLES: instantaneous_ops_per_sec averages this many
/// samples, one per 100 ms.
const METRIC_SAMPLES: usize = 16;

/// `server.stat_*` counters.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// `stat_numconnections`: connections accepted.
    pub connections_received: u64,
    /// `stat_numcommands`: commands run by call(), the master link's too.
    pub commands_processed: u64,
    /// `stat_sync_full`: full resyncs served as a master.
    pub sync_full: u64,
    /// `stat_sync_partial_ok`: partial resyncs accepted.
    pub sync_partial_ok: u64,
    /// `stat_sync_partial_err`: PSYNCs with a replication ID that ended in a
    /// full resync (a `?` asks for one on purpose and is not counted).
    pub sync_partial_err: u64,
    /// `stat_expiredkeys`: keys deleted because their TTL passed.
    pub expired_keys: u64,
    /// `stat_expired_stale_perc`: the active expire cycle's running
    /// estimate of the share of logically expired keys.
    pub expired_stale_perc: f64,
    /// `stat_keyspace_hits` / `stat_keyspace_misses`: lookups by reads.
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    /// `rdb_last_load_keys_expired` / `_loaded` (INFO persistence).
    pub rdb_last_load_keys_expired: u64,
    pub rdb_last_load_keys_loaded: u64,
    ops: Metric,
}

/// trackInstantaneousMetric(): a ring of per-second rates.
#[derive(Clone, Debug, Default)]
struct Metric {
    last_sample_ms: i64,
    last_sample_count: u64,
    samples: [u64; METRIC_SAMPLES],
    idx: usize,
}

impl Stats {
    /// The 100 ms sample of `stat_numcommands` (serverCron's
    /// run_with_period(100)).
    pub fn track_ops(&mut self, now_ms: i64) {
        let m = &mut self.ops;
        let t = now_ms - m.last_sample_ms;
        let ops = self.commands_processed - m.last_sample_count;
        let per_sec = if t > 0 { ops * 1000 / t as u64 } else { 0 };
        m.samples[m.idx] = per_sec;
        m.idx = (m.idx + 1) % METRIC_SAMPLES;
        m.last_sample_ms = now_ms;
        m.last_sample_count = self.commands_processed;
    }

    /// getInstantaneousMetric(): the mean of the samples.
    pub fn instantaneous_ops(&self) -> u64 {
        self.ops.samples.iter().sum::<u64>() / METRIC_SAMPLES as u64
    }
}

/// `INFO stats`, the modelled fields in Redis 7.0's order.
pub fn section(p: &Server) -> String {
    let s = &p.stats;
    let mut out = String::from("# Stats\r\n");
    let _ = write!(
        out,
        "total_connections_received:{}\r\ntotal_commands_processed:{}\r\n\
         instantaneous_ops_per_sec:{}\r\nrejected_connections:0\r\n\
         sync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\n\
         expired_keys:{}\r\nexpired_stale_perc:{:.2}\r\nevicted_keys:0\r\n\
         keyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\n\
         pubsub_patterns:{}\r\n",
        s.connections_received,
        s.commands_processed,
        s.instantaneous_ops(),
        s.sync_full,
        s.sync_partial_ok,
        s.sync_partial_err,
        s.expired_keys,
        s.expired_stale_perc * 100.0,
        s.keyspace_hits,
        s.keyspace_misses,
        p.pubsub.channel_count(),
        p.pubsub.pattern_count(),
    );
    out
}

/// `INFO persistence`, the modelled fields in Redis 7.0's order.
pub fn persistence(p: &Server, loading: bool) -> String {
    use super::master::ChildKind;
    let kind = p.child.as_ref().map(|c| c.kind);
    let rdb = matches!(
        kind,
        Some(ChildKind::Bgsave | ChildKind::Replication { .. })
    );
    let aof_rewrite = matches!(kind, Some(ChildKind::AofRewrite));
    format!(
        "# Persistence\r\nloading:{}\r\nrdb_changes_since_last_save:{}\r\n\
         rdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\n\
         rdb_last_bgsave_status:{}\r\n\
         rdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n\
         aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\n\
         aof_last_bgrewrite_status:{}\r\naof_last_write_status:{}\r\n",
        u8::from(loading),
        p.dirty,
        u8::from(rdb),
        p.lastsave,
        DiskStatus::word(p.persist.bgsave_failed),
        p.stats.rdb_last_load_keys_expired,
        p.stats.rdb_last_load_keys_loaded,
        u8::from(p.cfg.appendonly),
        u8::from(aof_rewrite),
        DiskStatus::word(p.persist.aof_rewrite_failed),
        DiskStatus::word(p.persist.aof_status_failed()),
    )
}

/// `INFO keyspace`: `db0:keys=…,expires=…,avg_ttl=…` when db 0 has keys.
pub fn keyspace(p: &Server) -> String {
    let mut out = String::from("# Keyspace\r\n");
    if !p.data.is_empty() {
        let _ = write!(
            out,
            "db0:keys={},expires={},avg_ttl={}\r\n",
            p.data.len(),
            p.data.expires_len(),
            p.expiry.avg_ttl
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 commands in each of two 100 ms samples: 100/s in 2 of 16 slots.
    #[test]
    fn instantaneous_ops_averages_sixteen_samples() {
        let mut s = Stats::default();
        s.track_ops(0);
        s.commands_processed = 10;
        s.track_ops(100);
        s.commands_processed = 20;
        s.track_ops(200);
        assert_eq!(s.instantaneous_ops(), 200 / 16);
    }
}
