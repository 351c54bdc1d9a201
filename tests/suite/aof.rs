//! The append-only file's automatic rewrite (serverCron() and
//! rewriteAppendOnlyFileBackground() in Redis 7.0.15): when it starts, and
//! what a kill in the middle of it keeps.

use redsim::check::RunView as _;
use redsim::world::{self, World};

use super::common::{Scenario, logged, named_replies, reply};

/// When each automatic rewrite started, and the growth it logged.
fn rewrites(w: &World) -> Vec<(u64, i64)> {
    w.trace()
        .events
        .iter()
        .filter(|e| e.node == 0)
        .filter_map(|e| {
            let growth = e
                .detail
                .strip_prefix("Starting automatic rewriting of AOF on ")?
                .strip_suffix("% growth")?;
            Some((e.t, growth.parse().expect("a percentage")))
        })
        .collect()
}

fn writing(min_size: &str) -> Scenario {
    Scenario::new("40s", "masters = 1")
        .redis(&format!(
            r#"save = "", appendonly = "yes", auto-aof-rewrite-min-size = "{min_size}""#
        ))
        .workload(r#"target = "master", rate = 1000, keys = 100, value-size = 100, start = "1s""#)
}

/// The first rewrite starts once the AOF passes auto-aof-rewrite-min-size:
/// 1 MB of SETs of 100-byte values (133 bytes each in the AOF) at about
/// 1,000 a second is about 8 s of writes. Its growth is measured against
/// the AOF at startup (an empty RDB base), so it is enormous. After it the
/// AOF is a base of 100 keys (about 24 KB): doubling that comes long before
/// the minimum, so each later rewrite again waits for 1 MB, another 8 s.
#[test]
fn the_aof_is_rewritten_once_it_passes_the_minimum_and_doubled() {
    let p = writing("1mb").plan();
    let o = world::run(&p, 1).unwrap();
    let r = rewrites(&o.world);
    assert!(r.len() >= 3, "{r:?}");
    let (first, growth) = r[0];
    assert!((7_000_000..11_000_000).contains(&first), "{r:?}");
    assert!(growth > 1_000, "{r:?}");
    for pair in r.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!((7_000_000..9_000_000).contains(&gap), "{r:?}");
        assert!(pair[1].1 > 1_000, "{r:?}");
    }
    let finished = o
        .world
        .trace()
        .events
        .iter()
        .filter(|e| e.detail == "Background AOF rewrite finished successfully")
        .count();
    assert_eq!(finished, r.len());
}

/// Nothing is rewritten below the minimum, or with the percentage at 0.
#[test]
fn no_rewrite_below_the_minimum_or_with_the_percentage_at_zero() {
    let o = world::run(&writing("64mb").plan(), 1).unwrap();
    assert!(rewrites(&o.world).is_empty());
    let p = writing("1mb")
        .redis(r#"auto-aof-rewrite-percentage = 0"#)
        .plan();
    let o = world::run(&p, 1).unwrap();
    assert!(rewrites(&o.world).is_empty());
}

/// A kill while the rewrite child runs keeps everything: Redis 7.0 adds
/// the new incr file to the manifest when the rewrite starts, so the old
/// base and every incr file still hold every write. With appendfsync
/// always no acknowledged write is lost, whenever the kill comes.
#[test]
fn a_kill_during_an_aof_rewrite_loses_no_acknowledged_write() {
    // A slow disk for the child (10 KB/s) keeps the rewrite running ~2 s.
    let base = writing("1mb").redis(r#"appendfsync = "always", rdb-save-rate = "10kb""#);
    let o = world::run(&base.plan(), 1).unwrap();
    let (start, _) = rewrites(&o.world)[0];
    let at = |t: u64| format!("{}ms", t / 1000);
    let p = base
        .fault(&at(start + 500_000), r#"kill = "master""#)
        .fault(&at(start + 1_500_000), r#"restart = "master""#)
        .plan();
    let o = world::run(&p, 1).unwrap();
    let w = &o.world;
    let done = w
        .trace()
        .events
        .iter()
        .find(|e| e.detail == "Background AOF rewrite finished successfully")
        .map(|e| e.t);
    assert!(
        done.is_none_or(|t| t > start + 1_500_000),
        "the kill came first"
    );
    assert!(w.lost_writes().is_empty(), "{:?}", w.lost_writes());
}

/// A rewrite whose child cannot write its base (a full disk) fails and,
/// for the first rewrite, is scheduled again at once; after three failures
/// in a row Redis backs off for a minute (aofRewriteLimited()), then two.
#[test]
fn failed_rewrites_back_off_after_three_in_a_row() {
    let p = Scenario::new("200s", "masters = 1")
        .redis(r#"save = """#)
        .fault("1s", r#"disk-full = { node = "master", for = "190s" }"#)
        .command("2s", "master", "CONFIG SET appendonly yes", "on")
        .plan();
    let o = world::run(&p, 1).unwrap();
    let failed = logged(&o.world, 0, "Background AOF rewrite terminated with error");
    let limited = logged(
        &o.world,
        0,
        "Background AOF rewrite has repeatedly failed and triggered the limit",
    );
    assert_eq!(limited.len(), 3, "{limited:?}");
    // Three failures within a second (a fork every other cron tick: the
    // tick that reaps a child starts no rewrite), then one a minute after
    // the limit, then two minutes after the next (the limit counts in
    // whole seconds of the clock, so up to a second less).
    assert!(failed[2] - failed[0] < 1_000_000, "{failed:?}");
    assert_eq!(failed.len(), 5, "{failed:?}");
    let after = |i: usize, j: usize| failed[i] - limited[j];
    assert!(
        (59_000_000..60_300_000).contains(&after(3, 0)),
        "{failed:?} {limited:?}"
    );
    assert!(
        (119_000_000..120_300_000).contains(&after(4, 1)),
        "{failed:?} {limited:?}"
    );
}

/// bgrewriteaofCommand(): while another child runs the rewrite is only
/// scheduled (and inside MULTI/EXEC too), and serverCron starts it once
/// that child is reaped; a fork that fails is an error; with the AOF off a
/// child still writes a base, and the AOF stays off.
#[test]
fn bgrewriteaof_starts_schedules_or_refuses_as_redis_does() {
    let s = Scenario::new("12s", "masters = 1")
        .redis(r#"save = "1 1", appendonly = "yes", auto-aof-rewrite-percentage = 0, rdb-key-save-delay = 10000"#)
        .fault("0.5s", r#"burst = { node = "master", writes = 100, value-size = 10 }"#)
        .command("2.5s", "master", "BGREWRITEAOF", "scheduled")
        .fault("6s", r#"fork-fail = { node = "master", for = "1s" }"#)
        .command("6.5s", "master", "BGREWRITEAOF", "no-fork")
        .command("8s", "master", "MULTI", "multi")
        .command("8s", "master", "BGREWRITEAOF", "queued")
        .command("8s", "master", "EXEC", "exec");
    let (r, w) = named_replies(&s);
    assert_eq!(
        reply(&r, "scheduled"),
        "Background append only file rewriting scheduled"
    );
    assert_eq!(
        reply(&r, "no-fork"),
        "(error) ERR Can't execute an AOF background rewriting. Please check the server logs for more information."
    );
    assert_eq!(
        reply(&r, "exec"),
        "1) Background append only file rewriting scheduled"
    );
    // The save point forks once a whole second has passed since the last
    // save (serverCron compares whole unix seconds); 100 keys at 10 ms a
    // key keep its child 1 s; the scheduled rewrite starts at the first
    // cron after the reap, and no sooner.
    let saved = logged(&w, 0, "Background saving terminated with success");
    let started = logged(&w, 0, "Background append only file rewriting started");
    assert!(
        !saved.is_empty() && !started.is_empty(),
        "{saved:?} {started:?}"
    );
    assert!(started[0] >= saved[0], "{saved:?} {started:?}");
    assert!(started[0] - saved[0] <= 100_000, "{saved:?} {started:?}");
}

/// With the AOF off, BGREWRITEAOF's child writes a base and the AOF stays
/// off; `rdb-key-save-delay` is a hidden setting: CONFIG GET finds it by
/// name, never by a pattern.
#[test]
fn bgrewriteaof_with_the_aof_off_and_the_hidden_delay_setting() {
    let s = Scenario::new("6s", "masters = 1")
        .redis(r#"save = """#)
        .command("1s", "master", "BGREWRITEAOF", "off")
        .command("3s", "master", "CONFIG GET appendonly", "still-off")
        .command("3s", "master", "CONFIG SET rdb-key-save-delay -10", "set")
        .command("3s", "master", "CONFIG GET rdb-key-save-delay", "by-name")
        .command("3s", "master", "CONFIG GET rdb-key-*", "by-pattern");
    let (r, w) = named_replies(&s);
    assert_eq!(
        reply(&r, "off"),
        "Background append only file rewriting started"
    );
    assert_eq!(reply(&r, "still-off"), "1) \"appendonly\"\n2) \"no\"");
    assert_eq!(reply(&r, "set"), "OK");
    assert_eq!(
        reply(&r, "by-name"),
        "1) \"rdb-key-save-delay\"\n2) \"-10\""
    );
    assert_eq!(reply(&r, "by-pattern"), "(empty array)");
    assert_eq!(
        logged(&w, 0, "Background AOF rewrite finished successfully").len(),
        1
    );
}

/// BGSAVE (bgsaveCommand()): refused while an RDB child runs; while an AOF
/// rewrite runs refused unless SCHEDULE, then started at the first cron
/// after the rewrite's child is reaped; scheduled inside EXEC; any other
/// argument is a syntax error. Real 7.0.15 gave these texts.
#[test]
fn bgsave_starts_schedules_or_refuses_as_redis_does() {
    let s = Scenario::new("10s", "masters = 1")
        .redis(r#"save = "", rdb-key-save-delay = 10000"#)
        .fault(
            "0.5s",
            r#"burst = { node = "master", writes = 100, value-size = 10 }"#,
        )
        .command("1s", "master", "BGSAVE", "started")
        .command("1.5s", "master", "BGSAVE", "in-progress")
        .command("1.5s", "master", "BGSAVE foo", "syntax")
        .command("3s", "master", "BGREWRITEAOF", "rewrite")
        .command("3.5s", "master", "BGSAVE", "busy")
        .command("3.5s", "master", "BGSAVE SCHEDULE", "scheduled")
        .command("7s", "master", "MULTI", "multi")
        .command("7s", "master", "BGSAVE", "queued")
        .command("7s", "master", "EXEC", "exec");
    let (r, w) = named_replies(&s);
    assert_eq!(reply(&r, "started"), "Background saving started");
    assert_eq!(
        reply(&r, "in-progress"),
        "(error) ERR Background save already in progress"
    );
    assert_eq!(reply(&r, "syntax"), "(error) ERR syntax error");
    assert_eq!(
        reply(&r, "busy"),
        "(error) ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
    );
    assert_eq!(reply(&r, "scheduled"), "Background saving scheduled");
    assert_eq!(reply(&r, "exec"), "1) Background saving scheduled");
    let rewritten = logged(&w, 0, "Background AOF rewrite terminated with success");
    let saves = logged(&w, 0, "Background saving started");
    assert_eq!(saves.len(), 3, "{saves:?}");
    // The scheduled one starts at the cron that reaps the rewrite.
    assert!(
        saves[1] >= rewritten[0] && saves[1] - rewritten[0] < 100_000,
        "{saves:?} {rewritten:?}"
    );
}
