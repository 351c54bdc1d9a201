//! Behaviour of the replication model that matters to users, checked
//! against Redis's rules with arithmetic of its own rather than the model's.
use redsim::check::RunView as _;

use redsim::history::{OpKind, Outcome};
use redsim::redis::info::field;
use redsim::world::{self, World};

use super::common::Scenario;

fn info_u64(w: &World, node: usize, name: &str) -> u64 {
    let info = w.info(node).expect("running");
    field(&info, name)
        .unwrap_or_else(|| panic!("no {name} in\n{info}"))
        .parse()
        .expect("a number")
}

/// Redis 7.0 trims whole 20,440-byte blocks (jemalloc's class for a 16 KB
/// request, less the 40-byte header) while the backlog would still hold more
/// than repl-backlog-size without the head block.
#[test]
fn backlog_first_byte_follows_whole_block_trimming() {
    const C: u64 = 20_440;
    for size_kb in [16u64, 64] {
        let p = Scenario::new("30s", "masters = 1, replicas = 1")
            .redis(&format!(r#"repl-backlog-size = "{size_kb}kb""#))
            .workload(r#"target = "master", rate = 500, keys = 1000"#)
            .plan();
        let size = size_kb * 1024;
        let mut w = World::new(&p, 1);
        let mut checked = 0;
        for step in 1..=50 {
            w.run_until(step * 500_000).unwrap();
            let offset = info_u64(&w, 0, "master_repl_offset");
            if offset == 0 {
                continue;
            }
            // The backlog was created at offset 0, when the replica attached.
            let full_blocks = (offset - 1) / C;
            let trimmable = if offset > size {
                (offset - size).div_ceil(C) - 1
            } else {
                0
            };
            let k = trimmable.min(full_blocks);
            assert_eq!(
                info_u64(&w, 0, "repl_backlog_first_byte_offset"),
                1 + k * C,
                "size {size} offset {offset}"
            );
            assert_eq!(info_u64(&w, 0, "repl_backlog_histlen"), offset - k * C);
            checked += 1;
        }
        assert!(checked > 30);
    }
}

/// Every replica offset equals its master's once the stream is idle, and a
/// SET of a short key and value is exactly 27 bytes (plus 23 for the first
/// SELECT after the backlog is created).
#[test]
fn offsets_count_the_propagated_resp_bytes() {
    let p = Scenario::new("8s", "masters = 1, replicas = 2")
        .redis("repl-ping-replica-period = 3600")
        .workload(
            r#"target = "master", rate = 10, keys = 10, value-size = 1, start = "6s", stop = "7s""#,
        )
        .plan();
    let o = world::run(&p, 3).unwrap();
    let w = &o.world;
    let writes = w
        .history()
        .iter()
        .filter(|op| op.kind == OpKind::Set && op.outcome.is_ok())
        .count() as u64;
    assert!(writes >= 9);
    // SET key:N v: *3 $3 SET $5|$5 key:N $1 v = 4 + 9 + 11 + 7 = 31 bytes.
    let master = info_u64(w, 0, "master_repl_offset");
    // The first PING was fed when the first replica attached (cron loop 0
    // may or may not have had a replica); what remains is SELECT + SETs.
    let pings = (master - 23 - 31 * writes) / 14;
    assert_eq!(
        master,
        23 + 31 * writes + 14 * pings,
        "master offset {master}"
    );
    for r in [1, 2] {
        assert_eq!(info_u64(w, r, "master_repl_offset"), master);
        assert_eq!(info_u64(w, r, "slave_repl_offset"), master);
    }
}

#[test]
fn writes_to_a_replica_get_the_readonly_error() {
    let p = Scenario::new("3s", "masters = 1, replicas = 1")
        .workload(r#"target = "replica-1", rate = 20"#)
        .plan();
    let o = world::run(&p, 1).unwrap();
    let h = o.world.history();
    assert!(!h.is_empty());
    for op in h.iter() {
        if op.completed.is_some() {
            assert_eq!(
                op.outcome,
                Outcome::Error("READONLY You can't write against a read only replica.".into())
            );
        }
    }
}

/// A master cut off from its replicas keeps accepting writes until the last
/// ACK is more than min-replicas-max-lag whole seconds old on its own clock,
/// checked once a second. The last ACK came within the second before the
/// partition, and whole seconds tick over at the host clock's own phase,
/// so refusals start more than 10 s after that ACK and at most 13 s after
/// the partition: between 19 and 23 s.
#[test]
fn noreplicas_starts_between_max_lag_and_max_lag_plus_two_seconds() {
    let p = Scenario::new("30s", "masters = 1, replicas = 1")
        .redis("min-replicas-to-write = 1, min-replicas-max-lag = 10")
        .workload(r#"target = "master", rate = 100"#)
        .fault(
            "10s",
            r#"partition = [["master", "client-1"], ["replica-1"]]"#,
        )
        .plan();
    for seed in 1..6 {
        let o = world::run(&p, seed).unwrap();
        let h = o.world.history();
        // Before the first sync completes (about 5 s) there is no good replica
        // either; look at refusals after the partition.
        let first_refusal = h
            .iter()
            .filter(|op| op.invoked > 10_000_000)
            .find(|op| matches!(&op.outcome, Outcome::Error(e) if e == "NOREPLICAS Not enough good replicas to write."))
            .map(|op| op.invoked)
            .expect("writes are refused");
        assert!(
            (19_000_001..23_000_000).contains(&first_refusal),
            "seed {seed}: first NOREPLICAS at {first_refusal}"
        );
        let last_ok = h
            .iter()
            .filter(|op| op.outcome.is_ok() && op.invoked < first_refusal)
            .map(|op| op.invoked)
            .max()
            .unwrap();
        assert!(
            last_ok >= 19_000_000,
            "writes were accepted until the lag check"
        );
    }
}

/// WAIT returns the number of replicas that acknowledged the write; with one
/// replica cut off it times out and reports the one that did.
#[test]
fn wait_counts_acknowledging_replicas_and_times_out() {
    let p = Scenario::new("20s", "masters = 1, replicas = 2")
        .workload(r#"target = "master", rate = 20, wait-replicas = 2, wait-timeout = "200ms""#)
        .fault(
            "10s",
            r#"partition = [["master", "client-1", "replica-1"], ["replica-2"]]"#,
        )
        .plan();
    let o = world::run(&p, 2).unwrap();
    let h = o.world.history();
    let before: Vec<_> = h
        .iter()
        .filter(|op| op.outcome.is_ok() && op.invoked > 6_000_000 && op.invoked < 9_900_000)
        .collect();
    assert!(!before.is_empty());
    assert!(before.iter().all(|op| op.wait_acked == Some(2)));
    let after: Vec<_> = h
        .iter()
        .filter(|op| op.outcome.is_ok() && op.invoked > 10_500_000)
        .collect();
    assert!(!after.is_empty());
    for op in after {
        assert_eq!(op.wait_acked, Some(1));
        let took = op.completed.unwrap() - op.invoked;
        // The timeout is noticed at the next event-loop pass: at most one
        // serverCron period (100 ms) late.
        assert!((200_000..=310_000).contains(&took), "WAIT took {took} us");
    }
}

/// A replica restarted after a clean shutdown resumes from the replication ID
/// and offset saved in its RDB; one killed without an RDB of its own still
/// has the RDB its last full sync wrote (repl-diskless-load disabled).
#[test]
fn restarted_replica_resumes_partially_from_its_saved_offset() {
    let p = Scenario::new("30s", "masters = 1, replicas = 1")
        .redis(r#"save = """#)
        .workload(r#"target = "master", rate = 50"#)
        .fault("10s", r#"kill = "replica-1""#)
        .fault("12s", r#"restart = "replica-1""#)
        .plan();
    let o = world::run(&p, 4).unwrap();
    let t = &o.world.trace();
    let after = |name: &str| {
        t.named(name)
            .filter(|e| e.t > 12_000_000 && e.node == 1)
            .count()
    };
    assert_eq!(after("Trying a partial resynchronization"), 1);
    // The dump.rdb from the full sync at ~5 s holds the offset of that sync,
    // still inside the 1 MB backlog.
    assert_eq!(
        after("Successful partial resynchronization with master."),
        1
    );
    assert_eq!(after("Full resync from master"), 0);
}

/// With repl-diskless-sync no the master BGSAVEs to disk, sends `$<size>`
/// and the file, and the replica is online once the file is sent.
#[test]
fn disk_based_full_sync_goes_through_dump_rdb() {
    let p = Scenario::new("10s", "masters = 1, replicas = 1")
        .redis(r#"repl-diskless-sync = "no""#)
        .workload(r#"target = "master", rate = 100"#)
        .plan();
    let o = world::run(&p, 1).unwrap();
    let t = &o.world.trace();
    let details: Vec<&str> = t.events.iter().map(|e| e.detail.as_str()).collect();
    assert!(details.contains(&"Starting BGSAVE for SYNC with target: disk"));
    assert!(details.contains(&"Background saving terminated with success"));
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("MASTER <-> REPLICA sync: receiving ")
                && d.ends_with(" bytes from master to disk"))
    );
    assert!(details.contains(&"Synchronization with replica 10.0.0.2:6379 succeeded"));
    // No diskless delay: the sync starts right after the PSYNC.
    let started = t
        .named("Starting BGSAVE for SYNC with target")
        .next()
        .unwrap()
        .t;
    assert!(started < 2_000_000, "BGSAVE at {started}");
    assert_eq!(
        info_u64(&o.world, 1, "master_repl_offset"),
        info_u64(&o.world, 0, "master_repl_offset")
    );
}

fn persistence_run(fsync: &str, crash: &str) -> (usize, usize) {
    let p = Scenario::new("20s", "masters = 1, replicas = 0")
        .redis(&format!(
            r#"appendonly = "yes", appendfsync = "{fsync}", save = """#
        ))
        .workload(r#"target = "master", rate = 200, keys = 100000, stop = "10s""#)
        .fault("10s", &format!(r#"{crash} = "master""#))
        .fault("12s", r#"restart = "master""#)
        .plan();
    let o = world::run(&p, 5).unwrap();
    let acked = o
        .world
        .history()
        .iter()
        .filter(|op| op.outcome.is_ok())
        .count();
    (acked, o.world.lost_writes().len())
}

/// What a crash of a master without replicas loses, by appendfsync: a
/// process kill loses nothing (the OS has every write); a power loss loses
/// what was not fsynced: nothing with `always`, up to a second with
/// `everysec`, everything since the last OS flush with `no`.
#[test]
fn aof_loss_depends_on_fsync_policy_and_failure_kind() {
    let (acked, lost) = persistence_run("everysec", "kill");
    assert!(acked > 1500);
    assert_eq!(lost, 0);
    assert_eq!(persistence_run("always", "crash").1, 0);
    let (_, lost) = persistence_run("everysec", "crash");
    assert!((1..=201).contains(&lost), "everysec lost {lost}");
    let (_, lost) = persistence_run("no", "crash");
    assert!(lost > 201, "appendfsync no lost only {lost}");
}

/// Without masterauth the handshake's REPLCONFs and PSYNC get -NOAUTH; the
/// replica falls back to SYNC, which fails too, and reconnects at once after
/// the failure: a tight loop, as real Redis shows, never syncing.
#[test]
fn missing_masterauth_loops_without_syncing() {
    let p = Scenario::new("2s", "masters = 1, replicas = 1")
        .redis(r#"requirepass = "s3cret""#)
        .plan();
    let o = world::run(&p, 1).unwrap();
    let w = &o.world;
    let t = &w.trace();
    let count = |detail: &str| t.events.iter().filter(|e| e.detail == detail).count();
    let aborted =
        count("MASTER aborted replication with an error: NOAUTH Authentication required.");
    assert!(aborted > 100, "only {aborted} attempts in 2 s");
    assert_eq!(
        count("Unexpected reply to PSYNC from master: -NOAUTH Authentication required."),
        aborted
    );
    assert!(
        count(
            "(Non critical) Master does not understand REPLCONF capa: -NOAUTH Authentication required."
        ) >= aborted
    );
    let info = w.info(1).unwrap();
    assert_eq!(field(&info, "master_link_status"), Some("down"));
}

/// The soft limit of client-output-buffer-limit drops a replica whose buffer
/// stays above it for longer than its seconds (here: a full sync crawling
/// over a 2 KB/s link while writes accumulate).
#[test]
fn soft_output_buffer_limit_drops_a_slow_syncing_replica() {
    let p = Scenario::new("40s", "masters = 1, replicas = 1")
        .redis(r#"client-output-buffer-limit = "replica 0 16kb 2", repl-diskless-sync = "no", save = """#)
        .workload(r#"target = "master", rate = 100, keys = 200"#)
        .fault("0ms", r#"kill = "replica-1""#)
        .fault("1s", r#"link = { from = "master", to = "replica-1", bandwidth = "2kb", both-ways = false }"#)
        .fault("10s", r#"restart = "replica-1""#)
        .plan();
    let o = world::run(&p, 1).unwrap();
    let drops: Vec<u64> = o
        .world
        .sim
        .kernel
        .trace
        .named("scheduled to be closed ASAP for overcoming of output buffer limits.")
        .map(|e| e.t)
        .collect();
    assert!(drops.len() >= 2, "drops at {drops:?}");
    assert!(
        drops[0] > 12_000_000,
        "dropped before the soft limit's 2 s: {drops:?}"
    );
}

/// A stopped process does nothing: an operator command sent to it runs
/// only when it resumes.
#[test]
fn a_paused_node_runs_commands_only_after_resuming() {
    let p = Scenario::new("12s", "masters = 1, replicas = 1")
        .fault("6s", r#"pause = "replica-1""#)
        .fault(
            "7s",
            r#"replicaof = { node = "replica-1", master = "no one" }"#,
        )
        .fault("9s", r#"resume = "replica-1""#)
        .plan();
    let o = world::run(&p, 1).unwrap();
    let t = &o.world.trace();
    let promoted = t.named("MASTER MODE enabled").next().expect("promoted").t;
    assert_eq!(promoted, 9_000_000);
    assert!(
        t.events
            .iter()
            .filter(|e| e.node == 1 && e.t > 6_000_000 && e.t < 9_000_000)
            .all(|e| e.source == redsim::trace::Source::Sim)
    );
}

/// A scripted burst of writes lands in the stream: 2,000 SETs of 1,000
/// bytes overflow a 16 KB backlog while a replica is stopped, so it needs a
/// full resync when it resumes.
#[test]
fn a_write_burst_overflows_the_backlog() {
    let p = Scenario::new("30s", "masters = 1, replicas = 1")
        .redis(r#"repl-backlog-size = "16kb", repl-timeout = 2"#)
        .fault("8s", r#"pause = "replica-1""#)
        .fault(
            "12s",
            r#"burst = { node = "master", writes = 2000, value-size = 1000 }"#,
        )
        .fault("14s", r#"resume = "replica-1""#)
        .plan();
    let o = world::run(&p, 1).unwrap();
    let w = &o.world;
    assert_eq!(w.server(0).unwrap().data.len(), 2000);
    assert!(info_u64(w, 0, "master_repl_offset") > 2_000_000);
    let t = &w.trace();
    assert_eq!(
        t.named("Unable to partial resync with replica for lack of backlog")
            .count(),
        1
    );
    assert_eq!(
        info_u64(w, 1, "master_repl_offset"),
        info_u64(w, 0, "master_repl_offset")
    );
}

#[test]
fn debug_sleep_stops_the_server_for_its_length_and_client_kill_reconnects() {
    let p = Scenario::new("12s", "masters = 1, replicas = 1")
        .redis(r#"repl-diskless-sync-delay = 0, enable-debug-command = "yes""#)
        .node("master", "repl-timeout = 2")
        .fault("3s", r#"debug-sleep = { node = "replica-1", for = "4s" }"#)
        .fault("10s", r#"client-kill-master = "replica-1""#)
        .plan();
    use redsim::scenario::Fault;
    let secs = |s: u64| s * 1_000_000;
    assert!(p.faults.contains(&(
        secs(3),
        Fault::DebugSleep {
            node: 1,
            length: secs(4)
        }
    )));
    assert!(p.faults.contains(&(secs(7), Fault::DebugSleepEnd(1))));
    let out = world::run(&p, 1).unwrap();
    let ev = &out.world.trace().events;
    let at =
        |name: &str| -> Vec<u64> { ev.iter().filter(|e| e.event == name).map(|e| e.t).collect() };
    // Asleep past the master's repl-timeout: dropped, then back at 7 s.
    assert_eq!(
        at("Disconnecting timedout replica (streaming sync)").len(),
        1
    );
    assert_eq!(at("debug-sleep-end"), vec![secs(7)]);
    // Two partial resyncs: after the sleep, and after CLIENT KILL at 10 s.
    let partial = at("Partial resynchronization request accepted");
    assert_eq!(partial.len(), 2, "{partial:?}");
    assert!(partial[0] >= secs(7) && partial[1] >= secs(10));
}

/// Redis 7.0 refuses DEBUG unless enable-debug-command allows it, so a
/// debug-sleep without it is refused where the node is named.
#[test]
fn debug_sleep_needs_enable_debug_command() {
    let e = Scenario::new("12s", "masters = 1, replicas = 1")
        .fault("3s", r#"debug-sleep = { node = "replica-1", for = "4s" }"#)
        .error();
    assert!(
        e.contains("enable-debug-command = \"yes\" to [redis] or [node.replica-1]"),
        "{e}"
    );
}

/// The `omem` CLIENT LIST shows for the one replica.
fn replica_omem(list: &str) -> u64 {
    let line = list
        .lines()
        .find(|l| l.contains("flags=S"))
        .expect("a replica");
    let omem = line
        .split(' ')
        .find_map(|f| f.strip_prefix("omem="))
        .expect("omem");
    omem.parse().expect("a number")
}

/// A stopped replica under 2 MB/s of writes takes what its receive buffer
/// holds (464,611 bytes on a fresh connection: 228 whole SETs of a
/// 2,000-byte value) and the master's kernel what its send buffer holds
/// (3,915,668 bytes); the rest waits in the master's output buffer for
/// it, which CLIENT LIST shows growing. After SIGCONT the replica reads
/// the first part at once, the second a round trip later.
#[test]
fn a_stopped_replica_gets_what_tcp_holds_and_the_rest_waits_at_the_master() {
    const SET: u64 = 2_034; // *3 $3 SET $6 key:NN $2000 ...: 4+9+12+2009
    const RCVBUF: u64 = 464_611 / SET * SET;
    const SNDBUF: u64 = 3_915_668;
    let p = Scenario::new("12s", "masters = 1, replicas = 1")
        .redis(r#"save = "", repl-diskless-sync-delay = 0, repl-ping-replica-period = 3600"#)
        .workload(r#"target = "master", rate = 1000, keys = 90, value-size = 2000, start = "1s""#)
        .fault("4s", r#"pause = "replica-1""#)
        .fault("9s", r#"resume = "replica-1""#)
        .command("8.99s", "master", "CLIENT LIST", "paused")
        .command("11s", "master", "CLIENT LIST", "after")
        .plan();
    let mut w = World::new(&p, 1);
    w.run_until(4_000_000 - 1).unwrap();
    let before = info_u64(&w, 1, "master_repl_offset");
    w.run_until(9_000_000 - 1).unwrap();
    let master = info_u64(&w, 0, "master_repl_offset");
    assert!(master - before > 9_000_000, "5 s of 2 MB/s");
    w.run_until(9_000_000).unwrap();
    // Whatever was on its way at the pause (under 250 µs, one SET) is in
    // the receive buffer too; the buffer takes whole messages.
    let read = info_u64(&w, 1, "master_repl_offset") - before;
    assert!((RCVBUF - SET..=RCVBUF + SET).contains(&read), "{read}");
    w.run_until(9_000_600).unwrap();
    let read = info_u64(&w, 1, "master_repl_offset") - before;
    let window = RCVBUF + SNDBUF;
    assert!(
        (window - SET..=window + 2 * SET).contains(&read),
        "{read} vs {window}"
    );
    w.run_until(12_000_000).unwrap();
    assert_eq!(
        info_u64(&w, 1, "master_repl_offset"),
        info_u64(&w, 0, "master_repl_offset"),
        "it catches up"
    );
    let lists: Vec<String> = w
        .exchanges()
        .iter()
        .map(|x| {
            let (_, f) = x.reply.as_ref().expect("answered");
            redsim::proto::resp::shown(&x.command.argv, f)
        })
        .collect();
    // Everything written since the pause but the window, in 20,440-byte
    // blocks of 16 KB requests, each with 64 bytes of list node and header.
    let held = master - before - window;
    let omem = replica_omem(&lists[0]);
    let blocks = held.div_ceil(20_440);
    assert!(
        omem.abs_diff(blocks * 20_504) <= 2 * 20_504,
        "omem {omem} for {held} bytes held"
    );
    // Caught up, it references the tail block only.
    assert_eq!(replica_omem(&lists[1]), 20_504);
}

/// The output buffer limit counts what TCP did not take: with
/// `client-output-buffer-limit replica 8mb 0 0`, the master drops a
/// replica stopped under 2 MB/s of writes once 8 MiB wait in its output
/// buffer beyond the 4.38 MB TCP holds. The replica reads what its sockets
/// held after SIGCONT, finds the link closed, and needs a full resync
/// (the backlog is 1 MB).
#[test]
fn a_stopped_replica_is_dropped_at_the_output_buffer_limit_beyond_the_window() {
    let p = Scenario::new("20s", "masters = 1, replicas = 1")
        .redis(r#"save = "", repl-diskless-sync-delay = 0, client-output-buffer-limit = "replica 8mb 0 0""#)
        .workload(r#"target = "master", rate = 1000, keys = 90, value-size = 2000, start = "1s""#)
        .fault("4s", r#"pause = "replica-1""#)
        .fault("12s", r#"resume = "replica-1""#)
        .plan();
    let mut w = World::new(&p, 1);
    w.run_until(4_000_000 - 1).unwrap();
    let before = info_u64(&w, 1, "master_repl_offset");
    let limit_line = "scheduled to be closed ASAP for overcoming of output buffer limits";
    let mut dropped = None;
    for step in 1..=8000 {
        w.run_until(4_000_000 + step * 1000).unwrap();
        if w.trace()
            .events
            .iter()
            .any(|e| e.detail.contains(limit_line))
        {
            dropped = Some(info_u64(&w, 0, "master_repl_offset"));
            break;
        }
    }
    let at = dropped.expect("the limit is reached within 8 s") - before;
    // 4,377,954 bytes in the sockets and 8 MiB in whole 20,504-byte blocks.
    let expected = 4_377_954 + 8 * 1024 * 1024 * 20_440 / 20_504;
    assert!(
        at.abs_diff(expected) <= 3 * 20_440,
        "dropped {at} bytes into the pause, expected about {expected}"
    );
    w.run_until(20_000_000).unwrap();
    let full = w
        .trace()
        .events
        .iter()
        .filter(|e| e.t > 12_000_000)
        .filter(|e| {
            e.detail.starts_with("Unable to partial resync")
                || e.detail.starts_with("Full resync from master")
        })
        .map(|e| {
            e.detail
                .split(" with ")
                .next()
                .unwrap_or_default()
                .split(':')
                .next()
                .unwrap_or_default()
        })
        .collect::<Vec<_>>();
    assert_eq!(
        full,
        ["Unable to partial resync", "Full resync from master"],
        "the backlog no longer covers it"
    );
}

/// A BGSAVE child's end is noticed at the next serverCron
/// (checkChildrenDone(), every 100 ms at hz 10), not at once: with a tiny
/// dataset the child is done within a millisecond, and the master logs its
/// end, and starts sending the file, up to 100 ms later (real Redis 7.0.15:
/// 82 ms in one run).
#[test]
fn a_finished_bgsave_child_is_reaped_at_the_next_cron() {
    let p = Scenario::new("8s", "masters = 1, replicas = 1")
        .redis(r#"save = "", repl-diskless-sync = "no""#)
        .plan();
    let o = world::run(&p, 3).unwrap();
    let at = |what: &str| {
        o.world
            .trace()
            .events
            .iter()
            .find(|e| e.node == 0 && e.detail.starts_with(what))
            .map(|e| e.t)
            .unwrap_or_else(|| panic!("no {what}"))
    };
    let waited = at("Background saving terminated with success") - at("Background saving started");
    assert!((1_000..=100_000).contains(&waited), "{waited}");
}
