//! Faults of the host under a Redis server (`fork-fail`, `disk-full`):
//! what Redis 7.0.15 logs, replies and refuses, with texts from its
//! source (rdb.c rdbSaveBackground(), aof.c flushAppendOnlyFile(),
//! server.c writeCommandsDeniedByDiskError(), replication.c
//! startBgsaveForReplication()).

use redsim::check::RunView as _;
use redsim::world::{self, World};

use super::common::{Scenario, logged, named_replies as replies, reply};

const MISCONF_RDB: &str = "(error) MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
const MISCONF_AOF: &str = "(error) MISCONF Errors writing to the AOF file: No space left on device";

/// replica-1 made a master by hand, then pointed at the master again:
/// its replication ID changed, so it takes a full sync.
const DETACH: &str = r#"replicaof = { node = "replica-1", master = "no one" }"#;
const REATTACH: &str = r#"replicaof = { node = "replica-1", master = "master" }"#;

/// fork() fails while a save point is due: the BGSAVE is not started
/// (`lastbgsave_status` err), so writes and PING get the RDB MISCONF text
/// while reads still work. The save point tries again only more than 5 s
/// after the last try (CONFIG_BGSAVE_RETRY_DELAY), and once a BGSAVE
/// succeeds writes are accepted again.
#[test]
fn a_failed_fork_refuses_writes_until_a_bgsave_succeeds() {
    let s = Scenario::new("20s", "masters = 1")
        .redis(r#"save = "1 1""#)
        .fault("0.5s", r#"fork-fail = { node = "master", for = "6s" }"#)
        .command("1s", "master", "SET k v", "before")
        .command("4s", "master", "SET k w", "refused")
        .command("4s", "master", "PING", "ping")
        .command("4s", "master", "GET k", "read")
        .command("4s", "master", "INFO persistence", "info")
        .command("18s", "master", "SET k x", "after");
    let (r, w) = replies(&s);
    assert_eq!(reply(&r, "before"), "OK");
    assert_eq!(reply(&r, "refused"), MISCONF_RDB);
    assert_eq!(reply(&r, "ping"), MISCONF_RDB);
    assert_eq!(reply(&r, "read"), "\"v\"");
    assert!(reply(&r, "info").contains("rdb_last_bgsave_status:err"));
    assert_eq!(reply(&r, "after"), "OK");
    let failed = logged(
        &w,
        0,
        "Can't save in background: fork: Cannot allocate memory",
    );
    assert!(!failed.is_empty());
    // Tries at least 5 whole seconds apart while the fork fails.
    for pair in failed.windows(2) {
        assert!(pair[1] - pair[0] > 5_000_000, "{failed:?}");
    }
    assert!(!logged(&w, 0, "Background saving terminated with success").is_empty());
}

/// With `stop-writes-on-bgsave-error no`, a failed BGSAVE refuses nothing.
#[test]
fn stop_writes_on_bgsave_error_no_keeps_accepting_writes() {
    let s = Scenario::new("10s", "masters = 1")
        .redis(r#"save = "1 1", stop-writes-on-bgsave-error = "no""#)
        .fault("0.5s", r#"fork-fail = { node = "master", for = "6s" }"#)
        .command("1s", "master", "SET k v", "before")
        .command("4s", "master", "SET k w", "during")
        .command("4s", "master", "INFO persistence", "info");
    let (r, _) = replies(&s);
    assert_eq!(reply(&r, "during"), "OK");
    assert!(reply(&r, "info").contains("rdb_last_bgsave_status:err"));
}

/// A full disk under the AOF (appendfsync everysec): the write whose AOF
/// write fails was acknowledged (it ran before beforeSleep's flush), every
/// later write and PING gets the AOF MISCONF text, and once the disk has
/// space the buffered commands are written and writes are accepted again.
#[test]
fn a_full_disk_under_the_aof_refuses_writes_until_the_aof_is_written() {
    let s = Scenario::new("12s", "masters = 1")
        .redis(r#"save = "", appendonly = "yes""#)
        .fault("2s", r#"disk-full = { node = "master", for = "6s" }"#)
        .command("3s", "master", "SET a 1", "first")
        .command("4s", "master", "SET b 2", "second")
        .command("4s", "master", "PING", "ping")
        .command("4s", "master", "INFO persistence", "info")
        .command("10s", "master", "SET c 3", "after")
        .command("10s", "master", "INFO persistence", "info-after");
    let (r, w) = replies(&s);
    assert_eq!(reply(&r, "first"), "OK");
    assert_eq!(reply(&r, "second"), MISCONF_AOF);
    assert_eq!(reply(&r, "ping"), MISCONF_AOF);
    assert!(reply(&r, "info").contains("aof_last_write_status:err"));
    assert_eq!(reply(&r, "after"), "OK");
    assert!(reply(&r, "info-after").contains("aof_last_write_status:ok"));
    assert_eq!(
        logged(
            &w,
            0,
            "Error writing to the AOF file: No space left on device"
        )
        .len(),
        1,
        "logged at most every 30 s"
    );
    let solved = logged(
        &w,
        0,
        "AOF write error looks solved, Redis can write again.",
    );
    // The disk has space at 8 s; the next pass (a cron tick) writes.
    assert_eq!(solved.len(), 1);
    assert!((8_000_000..8_200_000).contains(&solved[0]), "{solved:?}");
}

/// With appendfsync always a write error cannot be recovered: the write
/// would be acknowledged without being on disk, so Redis exits. Redis
/// writes the reply after the AOF in beforeSleep, so it never leaves.
#[test]
fn a_full_disk_with_appendfsync_always_exits() {
    let s = Scenario::new("6s", "masters = 1")
        .redis(r#"save = "", appendonly = "yes", appendfsync = "always""#)
        .fault("2s", r#"disk-full = { node = "master", for = "2s" }"#)
        .command("3s", "master", "SET a 1", "write")
        .command("4s", "master", "GET a", "gone");
    let (r, w) = replies(&s);
    assert_eq!(reply(&r, "write"), "<no reply>", "never acknowledged");
    assert_eq!(reply(&r, "gone"), "<no reply>", "the process is gone");
    let exit =
        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...";
    assert_eq!(logged(&w, 0, exit).len(), 1);
    assert_eq!(w.role(0), None, "the process is gone");
}

/// A replica whose AOF write failed panics on its master's next write
/// (processCommand(): it cannot refuse its master); with
/// replica-ignore-disk-write-errors yes it logs and applies it.
#[test]
fn a_replica_that_cannot_persist_panics_on_its_masters_next_write() {
    let panic = "Guru Meditation: Replica was unable to write command to disk. #server.c:3890";
    for (ignore, dies) in [("no", true), ("yes", false)] {
        let s = Scenario::new("14s", "masters = 1, replicas = 1")
            .redis(&format!(
                r#"save = "", appendonly = "yes", repl-diskless-sync-delay = 0, replica-ignore-disk-write-errors = "{ignore}""#
            ))
            .fault("8s", r#"disk-full = { node = "replica-1", for = "4s" }"#)
            .command("9s", "master", "SET a 1", "one")
            .command("10s", "master", "SET b 2", "two")
            .command("13s", "replica-1", "GET b", "read");
        let (r, w) = replies(&s);
        assert_eq!(
            logged(&w, 1, panic).len(),
            usize::from(dies),
            "ignore {ignore}"
        );
        if dies {
            assert_eq!(w.role(1), None);
        } else {
            assert_eq!(reply(&r, "read"), "\"2\"");
            assert_eq!(
                logged(
                    &w,
                    1,
                    "Replica is applying a command even though it is unable to write to disk."
                )
                .len(),
                1
            );
        }
    }
}

/// A full sync that cannot fork: the replica got +FULLRESYNC (diskless:
/// answered before the fork) and then "-ERR BGSAVE failed, replication
/// can't continue"; it reconnects and syncs once fork() works again.
#[test]
fn a_full_sync_that_cannot_fork_is_refused_and_retried() {
    let s = Scenario::new("20s", "masters = 1, replicas = 1")
        .redis(r#"save = "", repl-diskless-sync-delay = 0"#)
        .fault("0s", r#"fork-fail = { node = "master", for = "8s" }"#)
        .command("19s", "replica-1", "INFO replication", "info");
    let (r, w) = replies(&s);
    assert!(!logged(&w, 0, "BGSAVE for replication failed").is_empty());
    let aborted =
        "MASTER aborted replication with an error: ERR BGSAVE failed, replication can't continue";
    assert!(!logged(&w, 1, aborted).is_empty());
    assert!(reply(&r, "info").contains("master_link_status:up"));
}

/// CONFIG SET appendonly yes cannot fork its first rewrite: the AOF stays
/// off and CONFIG SET fails with the reason updateAppendonly() gives.
#[test]
fn appendonly_yes_without_a_fork_fails() {
    let s = Scenario::new("6s", "masters = 1")
        .redis(r#"save = """#)
        .fault("1s", r#"fork-fail = { node = "master", for = "3s" }"#)
        .command("2s", "master", "CONFIG SET appendonly yes", "set")
        .command("2s", "master", "CONFIG GET appendonly", "get")
        .command("2s", "master", "INFO persistence", "info");
    let (r, _) = replies(&s);
    assert_eq!(
        reply(&r, "set"),
        "(error) ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs."
    );
    assert_eq!(reply(&r, "get"), "1) \"appendonly\"\n2) \"no\"");
    assert!(reply(&r, "info").contains("aof_last_bgrewrite_status:err"));
}

/// Latencies (invoked, µs taken) of the acknowledged writes.
fn write_latencies(w: &World) -> Vec<(u64, u64)> {
    w.history()
        .iter()
        .filter(|op| op.kind.is_write() && op.outcome.is_ok())
        .map(|op| (op.invoked, op.completed.expect("acknowledged") - op.invoked))
        .collect()
}

/// appendfsync everysec on a disk whose fsync takes 4 s: the background
/// fsync starts with the first write of a second; the next write waits
/// for it, for 2 whole seconds at most, then is made anyway and blocks
/// the server until the fsync ends. Starting right after a second begins,
/// the fsync ends about 2 s after that write began: a client waits about
/// 2 s, over and over, while the disk stalls, and not before or after.
#[test]
fn a_stalling_fsync_under_everysec_blocks_the_server_for_about_two_seconds() {
    let p = Scenario::new("24s", "masters = 1")
        .redis(r#"save = "", appendonly = "yes""#)
        .workload(r#"target = "master", rate = 100, keys = 10, start = "1s", timeout = "5s""#)
        .fault(
            "5s",
            r#"disk-slow = { node = "master", fsync = "4s", for = "10s" }"#,
        )
        .plan();
    let out = world::run(&p, 1).expect("runs");
    let w = &out.world;
    let lat = write_latencies(w);
    let worst = |from: u64, to: u64| {
        lat.iter()
            .filter(|(t, _)| (from..to).contains(t))
            .map(|&(_, l)| l)
            .max()
            .unwrap_or(0)
    };
    assert!(worst(1_000_000, 5_000_000) < 10_000);
    let stalled = worst(5_000_000, 15_000_000);
    assert!((1_900_000..2_200_000).contains(&stalled), "{stalled}");
    // The last fsync started before 15 s ends by 19 s.
    assert!(worst(20_000_000, 24_000_000) < 10_000);
    let slow = "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.";
    let logged = logged(w, 0, slow);
    assert!(logged.len() >= 2, "{logged:?}");
    assert!(logged.iter().all(|&t| (5_000_000..19_000_000).contains(&t)));
}

/// appendfsync always on a disk whose fsync takes 1 s: every write waits
/// for its fdatasync, so a client with one request in flight gets one
/// write acknowledged a second.
#[test]
fn a_stalling_fsync_under_always_makes_every_write_wait_for_it() {
    let p = Scenario::new("12s", "masters = 1")
        .redis(r#"save = "", appendonly = "yes", appendfsync = "always""#)
        .workload(r#"target = "master", rate = 100, keys = 10, start = "1s", timeout = "5s""#)
        .fault(
            "4s",
            r#"disk-slow = { node = "master", fsync = "1s", for = "5s" }"#,
        )
        .plan();
    let out = world::run(&p, 1).expect("runs");
    let lat = write_latencies(&out.world);
    let during: Vec<u64> = lat
        .iter()
        .filter(|(t, _)| (4_100_000..8_900_000).contains(t))
        .map(|&(_, l)| l)
        .collect();
    assert!((4..=5).contains(&during.len()), "{during:?}");
    assert!(
        during.iter().all(|l| (1_000_000..1_010_000).contains(l)),
        "{during:?}"
    );
}

/// A power loss while a slow background fsync runs loses what it was
/// making durable: the write at 2.5 s is in the page cache only.
#[test]
fn a_power_loss_during_a_stalling_fsync_loses_what_it_was_syncing() {
    for (slow, kept) in [(true, "(nil)"), (false, "\"1\"")] {
        let mut s = Scenario::new("10s", "masters = 1")
            .redis(r#"save = "", appendonly = "yes""#)
            .command("2.5s", "master", "SET a 1", "write")
            .fault("6s", r#"crash = "master""#)
            .fault("7s", r#"restart = "master""#)
            // A new connection: the old one died with the host.
            .command_in("after", "9s", "master", "GET a", "read");
        if slow {
            s = s.fault(
                "2s",
                r#"disk-slow = { node = "master", fsync = "5s", for = "6s" }"#,
            );
        }
        let (r, _) = replies(&s);
        assert_eq!(reply(&r, "write"), "OK");
        assert_eq!(reply(&r, "read"), kept, "slow disk: {slow}");
    }
}

/// A replica whose disk is full cannot write the full sync's transfer file
/// (repl-diskless-load disabled): it logs the write error, cancels the
/// handshake and reconnects at once, and syncs once the disk has space.
/// The retries are paced by the master, which reaps each finished child
/// at its next serverCron (100 ms): real Redis 7.0.15 failed 25 times in
/// 2.5 s, 101 ms apart, under redsim's disk shim.
#[test]
fn a_replica_with_a_full_disk_cannot_take_a_full_sync_until_it_has_space() {
    let s = Scenario::new("12s", "masters = 1, replicas = 1")
        .redis(r#"save = "", repl-diskless-sync-delay = 0"#)
        .fault("2s", r#"disk-full = { node = "replica-1", for = "4s" }"#)
        .fault("3s", DETACH)
        .fault("3.5s", REATTACH)
        .command("11s", "replica-1", "INFO replication", "info");
    let (r, w) = replies(&s);
    let failed = "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: No space left on device";
    let when = logged(&w, 1, failed);
    assert!((23..=27).contains(&when.len()), "{when:?}");
    for gap in when.windows(2).skip(1).map(|p| p[1] - p[0]) {
        assert_eq!(gap, 100_000, "{when:?}");
    }
    assert!(
        when.iter().all(|&t| (3_500_000..6_000_000).contains(&t)),
        "{when:?}"
    );
    assert!(reply(&r, "info").contains("master_link_status:up"));
}

/// A host fault names a Redis server and lasts a while; anything else is
/// refused where it is written.
#[test]
fn bad_host_faults_are_refused_with_their_place() {
    let s = |fault: &str| {
        Scenario::new("10s", "masters = 1, sentinels = 1")
            .fault("1s", fault)
            .error()
    };
    let e = s(r#"disk-full = { node = "master", for = "0s" }"#);
    assert!(e.contains("`for` must be longer than 0s"), "{e}");
    let e = s(r#"disk-slow = { node = "master", fsync = "0s", for = "5s" }"#);
    assert!(e.contains("`fsync` must be longer than 0s"), "{e}");
    let e = s(r#"fork-fail = { node = "sentinel-1", for = "5s" }"#);
    assert!(e.contains("sentinel-1"), "{e}");
    let e = s(r#"disk-slow = { node = "master", for = "5s" }"#);
    assert!(e.contains("fsync"), "{e}");
    let e = s(r#"disk-full = { node = "mastr", for = "5s" }"#);
    assert!(e.contains("did you mean"), "{e}");
}

/// A full sync's RDB reads back with a wrong signature (`rdb-corrupt`,
/// part signature): rdbLoad() fails at once, after the replica flushed its
/// data, so it reconnects for another full sync (readSyncBulkPayload()) and
/// serves an empty dataset meanwhile. The master's next diskless transfer
/// waits its 5 s delay; after the window it loads.
#[test]
fn a_wrong_signature_fails_the_load_and_the_replica_syncs_again() {
    let s = Scenario::new("14s", "masters = 1, replicas = 1")
        .redis(r#"save = """#)
        .command("0.2s", "master", "SET a 1", "write")
        .fault(
            "0.5s",
            r#"rdb-corrupt = { node = "replica-1", for = "7.5s", part = "signature" }"#,
        )
        .command("7s", "replica-1", "GET a", "during")
        .command("7s", "replica-1", "INFO replication", "info")
        .command("13s", "replica-1", "GET a", "after");
    let (r, w) = replies(&s);
    let wrong = logged(&w, 1, "Wrong signature trying to load DB from file");
    assert_eq!(wrong.len(), 1, "one sync ran inside the window");
    let failed = logged(
        &w,
        1,
        "Failed trying to load the MASTER synchronization DB from disk: Invalid argument",
    );
    assert_eq!(failed, wrong);
    let reconnect = logged(&w, 1, "Reconnecting to MASTER 10.0.0.1:6379 after failure");
    assert_eq!(
        reconnect, wrong,
        "cancelReplicationHandshake(1) reconnects at once"
    );
    assert_eq!(reply(&r, "during"), "(nil)", "the old data was flushed");
    assert!(reply(&r, "info").contains("master_link_status:down"));
    assert_eq!(reply(&r, "after"), "\"1\"");
    assert_eq!(
        logged(&w, 1, "MASTER <-> REPLICA sync: Finished with success").len(),
        1
    );
}

/// A full sync's RDB reads back with a wrong checksum: the whole file is
/// read (its load takes its time), then rdbReportError() runs
/// redis-check-rdb, which exits. The offset it reports is
/// `loading_loaded_bytes`, moved on in 2 MB steps.
#[test]
fn a_wrong_checksum_ends_the_replica_after_the_whole_load() {
    let s = Scenario::new("10s", "masters = 1, replicas = 1")
        .redis(r#"save = "", repl-diskless-sync-delay = 0"#)
        .fault(
            "1s",
            r#"burst = { node = "master", writes = 1000, value-size = 10000 }"#,
        )
        .fault("2s", r#"rdb-corrupt = { node = "replica-1", for = "6s" }"#)
        .fault("3s", DETACH)
        .fault("3.5s", REATTACH);
    let (_, w) = replies(&s);
    let loading = logged(&w, 1, "MASTER <-> REPLICA sync: Loading DB in memory");
    assert_eq!(loading.len(), 2);
    let wrong = logged(&w, 1, "Wrong RDB checksum");
    assert_eq!(wrong.len(), 1);
    // About 10 MB at rdb-load-rate's 500 MB/s: some 20 ms after it began.
    let took = wrong[0] - loading[1];
    assert!((15_000..30_000).contains(&took), "{took} µs");
    let internal = w
        .trace()
        .events
        .iter()
        .find(|e| e.node == 1 && e.detail.starts_with("Internal error in RDB reading offset"))
        .expect("rdbReportError()")
        .detail
        .clone();
    assert_eq!(
        internal,
        "Internal error in RDB reading offset 8388608, function at rdb.c:3216 -> RDB CRC error"
    );
    assert_eq!(w.role(1), None, "the process is gone");
}

/// At start-up the RDB reads back damaged: a wrong signature makes
/// loadDataFromDisk() exit at once ("Fatal error loading the DB"); a wrong
/// checksum answers -LOADING while the file is read, then exits. Neither
/// becomes ready.
#[test]
fn a_server_whose_rdb_reads_back_damaged_does_not_start() {
    for part in ["signature", "checksum"] {
        // SIGTERM saves the RDB, as the save point asks.
        let s = Scenario::new("8s", "masters = 1")
            .redis(r#"save = "3600 1""#)
            .fault(
                "0.5s",
                r#"burst = { node = "master", writes = 1000, value-size = 10000 }"#,
            )
            .fault("2s", r#"shutdown = "master""#)
            .fault(
                "2.5s",
                &format!(r#"rdb-corrupt = {{ node = "master", for = "5s", part = "{part}" }}"#),
            )
            .fault("3s", r#"restart = "master""#)
            .command("3.01s", "master", "GET burst:1", "loading");
        let (r, w) = replies(&s);
        let ready = logged(&w, 0, "Ready to accept connections");
        assert_eq!(ready.len(), 1, "{part}: only the first start became ready");
        assert_eq!(w.role(0), None, "{part}: the process is gone");
        match part {
            "signature" => {
                let fatal = logged(
                    &w,
                    0,
                    "Fatal error loading the DB: Invalid argument. Exiting.",
                );
                assert_eq!(fatal, vec![3_000_000]);
                assert_eq!(reply(&r, "loading"), "<no reply>");
            }
            _ => {
                assert_eq!(
                    reply(&r, "loading"),
                    "(error) LOADING Redis is loading the dataset in memory"
                );
                let wrong = logged(&w, 0, "Wrong RDB checksum");
                assert_eq!(wrong.len(), 1);
                assert!((3_015_000..3_030_000).contains(&wrong[0]), "{wrong:?}");
            }
        }
    }
}

/// A damage window that closed before the load reads nothing wrong, and
/// `part` names one of the two parts, `checksum` unless given.
#[test]
fn rdb_corrupt_takes_a_part_and_a_window() {
    let s = |fault: &str| {
        Scenario::new("10s", "masters = 1")
            .fault("1s", fault)
            .error()
    };
    let e = s(r#"rdb-corrupt = { node = "master", for = "5s", part = "header" }"#);
    assert!(
        e.contains("unknown part `header`: expected one of signature, checksum"),
        "{e}"
    );
    let e = s(r#"rdb-corrupt = { node = "master", for = "0s" }"#);
    assert!(e.contains("`for` must be longer than 0s"), "{e}");
    let s = Scenario::new("8s", "masters = 1")
        .redis(r#"save = "3600 1""#)
        .command("0.5s", "master", "SET a 1", "write")
        .fault("1.5s", r#"rdb-corrupt = { node = "master", for = "1s" }"#)
        .fault("3s", r#"shutdown = "master""#)
        .fault("4s", r#"restart = "master""#)
        .command("5s", "master", "GET a", "read");
    let (r, w) = replies(&s);
    assert_eq!(reply(&r, "read"), "\"1\"");
    let described = w
        .trace()
        .events
        .iter()
        .find(|e| e.event == "rdb-corrupt")
        .expect("the fault is in the trace")
        .detail
        .clone();
    assert!(described.contains("wrong checksum"), "{described}");
}
