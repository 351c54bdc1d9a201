//! Key expiry (db.c: lookupKey(), expireIfNeeded(), keyIsExpired(),
//! deleteExpiredKeyAndPropagate(); expire.c: activeExpireCycle()).
//!
//! A master deletes a key whose TTL has passed when a command touches it
//! (lazily) and when the active cycle samples it (every serverCron), and
//! propagates a DEL. A replica never deletes on its own: it waits for the
//! master's DEL, but answers reads of a logically expired key as if it were
//! gone. Nothing expires while clients are paused or the dataset loads.
//!
//! The active cycle walks `db->expires` bucket by bucket from a cursor, as
//! Redis does. Redis's buckets come from siphash with a seed drawn at
//! start; here a key's bucket is a hash seeded from the process's run ID,
//! so the order is fixed per process and seed but unrelated to insertion.
//! The table has Redis's size after inserting that many keys (the next
//! power of two, at least 4); its shrinking after mass deletes and the
//! cycle's CPU time limit are not modelled (the cycle stops only when at
//! most 10% of a sample was expired).

use std::hash::Hasher as _;

use crate::proto::{Cmd, Ctx, Key};

use super::Server;

/// ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP at the default effort.
const KEYS_PER_LOOP: usize = 20;
/// ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE at the default effort (percent).
const ACCEPTABLE_STALE: usize = 10;
/// DICT_HT_INITIAL_SIZE.
const DICT_INITIAL_SIZE: usize = 4;

/// The expiry state of one process.
#[derive(Clone, Debug)]
pub struct Expiry {
    /// `server.active_expire_enabled` (DEBUG SET-ACTIVE-EXPIRE).
    pub active: bool,
    /// `db->expires_cursor`.
    cursor: u64,
    /// `db->avg_ttl`: a running average of the sampled TTLs (INFO keyspace).
    pub avg_ttl: i64,
    /// Seeds the stand-in for the expires dict's hash function.
    seed: u64,
}

impl Expiry {
    pub fn new(seed: u64) -> Self {
        Self {
            active: true,
            cursor: 0,
            avg_ttl: 0,
            seed,
        }
    }

    fn bucket(&self, key: &str, mask: u64) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        h.write_u64(self.seed);
        h.write(key.as_bytes());
        // Fx mixes its low bits poorly: fold the high ones in.
        let x = h.finish();
        (x ^ (x >> 29) ^ (x >> 47)) & mask
    }
}

/// How lookupKey() was asked to treat the key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// lookupKeyRead(): counts a hit or a miss.
    Read,
    /// lookupKeyWrite(): deletes an expired key even on a writable replica.
    Write,
    /// expireIfNeeded() alone, as delGenericCommand() calls it: no hit or
    /// miss counted, nothing forced on a replica.
    Expire,
}

impl Server {
    /// iAmMaster(): what databasesCron() asks before expiring actively.
    pub(super) fn i_am_master(&self) -> bool {
        match &self.cluster {
            Some(c) => c.me().is_master(),
            None => self.replica.is_none(),
        }
    }

    /// keyIsExpired(): never while loading; expired once now passes the
    /// expire time (`now > when`).
    pub(super) fn key_is_expired(&self, ctx: &Ctx<'_>, key: &str) -> bool {
        match self.data.expire_at(key) {
            Some(when) => !self.is_loading(ctx.sim_time()) && ctx.mstime() as i64 > when,
            None => false,
        }
    }

    /// lookupKey(): whether the key exists for a client command, deleting
    /// it first if it has expired and this node may delete it.
    pub(super) fn lookup(&mut self, ctx: &Ctx<'_>, key: &str, how: Lookup) -> bool {
        let mut found = self.data.get(key).is_some();
        if found {
            let ro_replica = self.replica.is_some() && self.cfg.replica_read_only;
            let force = how == Lookup::Write && !ro_replica;
            if self.expire_if_needed(ctx, key, force) {
                found = false;
            }
        }
        if how == Lookup::Read {
            if found {
                self.stats.keyspace_hits += 1;
            } else {
                self.stats.keyspace_misses += 1;
            }
        }
        found
    }

    /// expireIfNeeded(): true if the key is logically expired. A replica
    /// deletes nothing unless `force` (a write on a writable replica);
    /// while clients are paused nothing is deleted either.
    pub(super) fn expire_if_needed(&mut self, ctx: &Ctx<'_>, key: &str, force: bool) -> bool {
        let now = ctx.mstime() as i64;
        if !self.key_is_expired(ctx, key) {
            return false;
        }
        if self.replica.is_some() && !force {
            return true;
        }
        if self.pauses.check(now).0 {
            return true;
        }
        self.delete_expired_key(key);
        true
    }

    /// rdbLoad() on a master: keys whose time passed before the load
    /// (`expiretime < now`) are not loaded; they are counted in
    /// `rdb_last_load_keys_expired` and returned, for their DELs.
    pub(super) fn drop_expired_on_load(&mut self, now_ms: i64) -> Vec<Key> {
        let expired: Vec<Key> = self
            .data
            .expires()
            .filter(|&(_, when)| when < now_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &expired {
            self.data.del(k);
        }
        self.stats.rdb_last_load_keys_expired = expired.len() as u64;
        expired
    }

    /// deleteExpiredKeyAndPropagate(): the key goes, a DEL is propagated
    /// (`lazyfree-lazy-expire no`), and `expired_keys` counts it.
    fn delete_expired_key(&mut self, key: &str) {
        self.data.del(key);
        self.dirty += 1;
        self.stats.expired_keys += 1;
        self.propagate(del_line(key));
    }

    /// activeExpireCycle(ACTIVE_EXPIRE_CYCLE_SLOW), from databasesCron() on
    /// a master. Samples up to 20 keys with a TTL per loop, bucket by
    /// bucket from the cursor, deletes the expired ones, and loops again
    /// while more than 10% of a sample had expired. Its DELs are not
    /// wrapped in MULTI/EXEC.
    pub(super) fn active_expire_cycle(&mut self, ctx: &Ctx<'_>) {
        let now = ctx.mstime() as i64;
        if !self.expiry.active || self.pauses.check(now).0 || self.data.expires_len() == 0 {
            return;
        }
        let size = self
            .data
            .expires_len()
            .next_power_of_two()
            .max(DICT_INITIAL_SIZE);
        let mask = size as u64 - 1;
        // Chains newest first, as dictAdd() links a new entry at the head.
        let mut buckets: std::collections::BTreeMap<u64, Vec<(Key, i64)>> = Default::default();
        for (k, when) in self.data.expires() {
            buckets
                .entry(self.expiry.bucket(k, mask))
                .or_default()
                .insert(0, (k.clone(), when));
        }
        let mut total_sampled = 0usize;
        let mut total_expired = 0usize;
        loop {
            let num = self.data.expires_len().min(KEYS_PER_LOOP);
            if num == 0 {
                self.expiry.avg_ttl = 0;
                break;
            }
            let max_buckets = num * 20;
            let (mut sampled, mut expired, mut checked) = (0, 0, 0);
            let (mut ttl_sum, mut ttl_samples) = (0i64, 0i64);
            while sampled < num && checked < max_buckets {
                checked += 1;
                let idx = self.expiry.cursor & mask;
                if let Some(chain) = buckets.get_mut(&idx) {
                    let entries = std::mem::take(chain);
                    for (key, when) in entries {
                        sampled += 1;
                        let ttl = when - now;
                        if now > when {
                            self.delete_expired_key(&key);
                            expired += 1;
                        } else {
                            chain.push((key, when));
                            if ttl > 0 {
                                ttl_sum += ttl;
                                ttl_samples += 1;
                            }
                        }
                    }
                }
                self.expiry.cursor = self.expiry.cursor.wrapping_add(1);
            }
            total_sampled += sampled;
            total_expired += expired;
            if ttl_samples > 0 {
                let avg = ttl_sum / ttl_samples;
                if self.expiry.avg_ttl == 0 {
                    self.expiry.avg_ttl = avg;
                }
                self.expiry.avg_ttl = (self.expiry.avg_ttl / 50) * 49 + avg / 50;
            }
            if sampled != 0 && expired * 100 / sampled <= ACCEPTABLE_STALE {
                break;
            }
        }
        let perc = if total_sampled > 0 {
            total_expired as f64 / total_sampled as f64
        } else {
            0.0
        };
        self.stats.expired_stale_perc = perc * 0.05 + self.stats.expired_stale_perc * 0.95;
    }
}

/// `DEL <key>`, as deleteExpiredKeyAndPropagate() propagates it.
pub fn del_line(key: &str) -> Cmd {
    Cmd::named(&["DEL", key])
}

#[cfg(test)]
mod tests {
    use super::super::config::RedisConfig;
    use super::super::testing::Cli;
    use crate::proto::Cmd;
    use crate::time::secs;

    /// A master with a backlog (as if a replica had attached), so what it
    /// propagates can be read back in order.
    fn master() -> Cli {
        let mut cli = Cli::new(RedisConfig {
            enable_debug_command: super::super::config::ProtectedAction::Yes,
            ..RedisConfig::default()
        });
        let p = cli.server();
        p.backlog = Some(super::super::backlog::Backlog::new(1 << 20, 0));
        cli
    }

    /// The lines propagated so far, as typed.
    fn stream(cli: &mut Cli) -> Vec<String> {
        let b = cli.server().backlog.as_ref().expect("a backlog");
        b.since(b.first_byte)
            .0
            .into_iter()
            .map(|c| match c {
                Cmd::Named { argv, .. } => argv.join(" "),
                Cmd::Set(k, v) => format!("SET {k} {v}"),
                other => other.name().to_string(),
            })
            .collect()
    }

    #[test]
    fn a_read_of_an_expired_key_on_a_master_deletes_it_and_propagates_a_del() {
        let mut cli = master();
        cli.send("DEBUG SET-ACTIVE-EXPIRE 0");
        assert_eq!(cli.send("SET k v PX 100"), "OK");
        cli.h.run_for(secs(1));
        assert_eq!(cli.server().data.len(), 1, "nothing deleted it yet");
        assert_eq!(cli.send("GET k"), "(nil)");
        assert_eq!(cli.server().data.len(), 0);
        assert_eq!(cli.server().stats.expired_keys, 1);
        let s = stream(&mut cli);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[1].starts_with("SET k v PXAT "), "{s:?}");
        assert_eq!(s[2], "DEL k");
    }

    /// call() propagates the expiry's DEL and the SET as one transaction.
    #[test]
    fn a_write_over_an_expired_key_propagates_multi_del_set_exec() {
        let mut cli = master();
        cli.send("DEBUG SET-ACTIVE-EXPIRE 0");
        cli.send("SET k v PX 100");
        cli.h.run_for(secs(1));
        assert_eq!(cli.send("SET k w"), "OK");
        let s = stream(&mut cli);
        assert_eq!(&s[2..], ["MULTI", "DEL k", "SET k w", "EXEC"]);
    }

    /// The active cycle deletes without MULTI, within a cron tick (100 ms at
    /// hz 10) of the expire time, and not while clients are paused.
    #[test]
    fn the_active_cycle_deletes_expired_keys_unless_clients_are_paused() {
        let mut cli = master();
        cli.send("SET a 1 PX 500");
        cli.send("SET b 2 PX 500");
        cli.send("SET c 3 EX 100");
        cli.send("CLIENT PAUSE 2000 WRITE");
        cli.h.run_for(secs(1));
        assert_eq!(cli.server().data.len(), 3, "paused: nothing expires");
        cli.h.run_for(secs(2));
        assert_eq!(cli.server().data.len(), 1);
        assert_eq!(cli.server().stats.expired_keys, 2);
        let s = stream(&mut cli);
        let dels: Vec<_> = s.iter().filter(|l| l.starts_with("DEL")).collect();
        assert_eq!(dels.len(), 2);
        assert!(!s.iter().any(|l| l == "MULTI"), "{s:?}");
    }

    /// TTL rounds to the nearest second; -1 without a TTL, -2 when missing.
    #[test]
    fn ttl_replies_as_ttl_generic_command() {
        let mut cli = master();
        cli.send("SET k v PX 1499");
        assert_eq!(cli.send("TTL k"), "(integer) 1");
        assert_eq!(cli.send("PTTL k"), "(integer) 1499");
        cli.send("SET k v PX 1500");
        assert_eq!(cli.send("TTL k"), "(integer) 2");
        cli.send("SET p v");
        assert_eq!(cli.send("TTL p"), "(integer) -1");
        assert_eq!(cli.send("TTL nokey"), "(integer) -2");
        assert_eq!(cli.send("EXPIRE p -1"), "(integer) 1");
        assert_eq!(cli.send("EXISTS p"), "(integer) 0", "a past time deletes");
        assert_eq!(stream(&mut cli).last().map(String::as_str), Some("DEL p"));
    }
}
