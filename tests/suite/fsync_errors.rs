//! A host whose fsync() fails with EIO (`fsync-fail`): what Redis 7.0.15
//! logs, replies and refuses, with texts from its source (bio.c's
//! BIO_AOF_FSYNC job, aof.c flushAppendOnlyFile() and
//! writeAofManifestFile(), rdb.c rdbSave(), replication.c
//! readSyncBulkPayload()), each checked against a real 7.0.15 under
//! redsim's host shim.

use redsim::check::RunView as _;

use super::common::{Scenario, logged, named_replies as replies, reply};

const MISCONF_EIO: &str = "(error) MISCONF Errors writing to the AOF file: Input/output error";

/// appendfsync everysec: the background fsync fails, so writes and PING
/// are refused. The status clears only when a later fsync succeeds, and an
/// fsync starts only when the AOF got something since the last one
/// (`aof_last_incr_fsync_offset`): with writes refused, the master stays
/// refusing after the disk recovers, until a key's expiry writes a DEL.
/// Real 7.0.15 did the same: MISCONF after the window, OK once the key
/// with a TTL had expired.
#[test]
fn a_failed_aof_fsync_refuses_writes_until_an_fsync_succeeds() {
    let s = Scenario::new("12s", "masters = 1")
        .redis(r#"save = "", appendonly = "yes""#)
        .command("1.2s", "master", "SET e 1 PX 6000", "ttl")
        .fault("2s", r#"fsync-fail = { node = "master", for = "3s" }"#)
        .command("2.5s", "master", "SET a 1", "first")
        .command("3.5s", "master", "SET b 2", "refused")
        .command("3.5s", "master", "PING", "ping")
        .command("3.5s", "master", "GET a", "read")
        .command("3.5s", "master", "INFO persistence", "info")
        .command("6s", "master", "SET c 3", "still-refused")
        .command("8s", "master", "SET d 4", "after-expiry")
        .command("8s", "master", "INFO persistence", "info-after");
    let (r, w) = replies(&s);
    // Acknowledged before beforeSleep's fsync of it failed.
    assert_eq!(reply(&r, "first"), "OK");
    assert_eq!(reply(&r, "refused"), MISCONF_EIO);
    assert_eq!(reply(&r, "ping"), MISCONF_EIO);
    assert_eq!(reply(&r, "read"), "\"1\"");
    assert!(reply(&r, "info").contains("aof_last_write_status:err"));
    assert_eq!(reply(&r, "still-refused"), MISCONF_EIO);
    assert_eq!(reply(&r, "after-expiry"), "OK");
    assert!(reply(&r, "info-after").contains("aof_last_write_status:ok"));
    let failed = logged(&w, 0, "Fail to fsync the AOF file: Input/output error");
    assert_eq!(failed.len(), 1, "logged when the status turns: {failed:?}");
    assert!((2_500_000..2_600_000).contains(&failed[0]), "{failed:?}");
}

/// With appendfsync always a failed fdatasync cannot be recovered from:
/// the process exits at the first write.
#[test]
fn a_failed_fsync_with_appendfsync_always_exits() {
    let s = Scenario::new("6s", "masters = 1")
        .redis(r#"save = "", appendonly = "yes", appendfsync = "always""#)
        .fault("2s", r#"fsync-fail = { node = "master", for = "2s" }"#)
        .command("2.5s", "master", "GET a", "read")
        .command("3s", "master", "SET a 1", "write")
        .command("4.5s", "master", "GET a", "gone");
    let (r, w) = replies(&s);
    assert_eq!(reply(&r, "read"), "(nil)", "a read needs no fsync");
    assert_eq!(reply(&r, "write"), "<no reply>", "never acknowledged");
    assert_eq!(reply(&r, "gone"), "<no reply>");
    let exit = "Can't persist AOF for fsync error when the AOF fsync policy is 'always': Input/output error. Exiting...";
    assert_eq!(logged(&w, 0, exit).len(), 1);
    assert_eq!(w.role(0), None, "the process is gone");
}

/// A BGSAVE child's closing fsync fails: "Write error saving DB on
/// disk(fsync)", the parent's "Background saving error", and
/// `rdb_last_bgsave_status:err`. A BGREWRITEAOF does not even start: the
/// manifest naming its new incr file cannot be fsynced.
#[test]
fn children_and_the_aof_manifest_fail_their_fsync() {
    let s = Scenario::new("8s", "masters = 1")
        .redis(r#"save = "", appendonly = "yes""#)
        .command("1s", "master", "SET a 1", "write")
        .fault("2s", r#"fsync-fail = { node = "master", for = "4s" }"#)
        .command("2.5s", "master", "BGSAVE", "bgsave")
        .command("3.5s", "master", "INFO persistence", "info")
        .command("4s", "master", "BGREWRITEAOF", "rewrite")
        .command("4.5s", "master", "INFO persistence", "info-after");
    let (r, w) = replies(&s);
    assert_eq!(reply(&r, "bgsave"), "Background saving started");
    assert!(reply(&r, "info").contains("rdb_last_bgsave_status:err"));
    assert_eq!(
        reply(&r, "rewrite"),
        "(error) ERR Can't execute an AOF background rewriting. Please check the server logs for more information."
    );
    assert!(reply(&r, "info-after").contains("aof_last_bgrewrite_status:err"));
    for line in [
        "Write error saving DB on disk(fsync): Input/output error",
        "Background saving error",
        "Fail to fsync the temp AOF file temp-appendonly.aof.manifest: Input/output error.",
    ] {
        assert_eq!(logged(&w, 0, line).len(), 1, "{line}");
    }
    assert!(
        logged(
            &w,
            0,
            "Creating AOF incr file appendonly.aof.2.incr.aof on background rewrite"
        )
        .is_empty()
    );
}

/// A replica cannot fsync a full sync's transfer file: its old data is
/// already flushed, it logs the failure and reconnects at once for another
/// full sync, and syncs once fsync works.
#[test]
fn a_replica_that_cannot_fsync_the_transfer_file_syncs_again() {
    let s = Scenario::new("12s", "masters = 1, replicas = 1")
        .redis(r#"save = "", repl-diskless-sync-delay = 0"#)
        .command("1s", "master", "SET a 1", "write")
        .fault("2s", r#"fsync-fail = { node = "replica-1", for = "3s" }"#)
        .fault(
            "3s",
            r#"replicaof = { node = "replica-1", master = "no one" }"#,
        )
        .fault(
            "3.5s",
            r#"replicaof = { node = "replica-1", master = "master" }"#,
        )
        .command("4.5s", "replica-1", "DBSIZE", "during")
        .command("11s", "replica-1", "GET a", "after");
    let (r, w) = replies(&s);
    let failed = "Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization: Input/output error";
    let when = logged(&w, 1, failed);
    assert!(when.len() > 1, "it tries again: {when:?}");
    assert!(
        when.iter().all(|&t| (3_500_000..5_000_000).contains(&t)),
        "{when:?}"
    );
    assert_eq!(
        reply(&r, "during"),
        "(integer) 0",
        "flushed before the fsync"
    );
    assert_eq!(reply(&r, "after"), "\"1\"");
}
