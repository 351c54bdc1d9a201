//! One plain-words sentence per trace event that matters to a learner. The
//! event name picks a family; each family has one small function that reads
//! the event's detail. Events no family knows are left out (and counted).

use crate::trace::Event;
use crate::trace::names;

use super::context::{Context, thousands};
use super::line::Line;

/// The families of events the narration knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Fault,
    Detection,
    Election,
    Failover,
    SentinelConfig,
    Tilt,
    MasterSync,
    ReplicaSync,
    Link,
    Role,
    Persistence,
}

fn family(event: &str) -> Option<Family> {
    use Family::*;
    Some(match event {
        "kill" | "crash" | "shutdown" | "restart" | "pause" | "resume" | "partition" | "heal"
        | "link" | "clock-jump" | "replicaof" | "burst" | "fork-fail" | "fork-fail-end"
        | "disk-full" | "disk-full-end" | "disk-slow" | "disk-slow-end" | "rdb-corrupt"
        | "rdb-corrupt-end" | "fsync-fail" | "fsync-fail-end" => Fault,
        names::sentinel::SDOWN
        | names::sentinel::SDOWN_OFF
        | names::sentinel::ODOWN
        | names::sentinel::ODOWN_OFF
        | names::sentinel::REBOOT => Detection,
        names::sentinel::TRY_FAILOVER
        | names::sentinel::VOTE_FOR_LEADER
        | names::sentinel::ELECTED_LEADER
        | names::sentinel::FAILOVER_ABORT_NOT_ELECTED => Election,
        names::sentinel::SELECTED_SLAVE
        | names::sentinel::FAILOVER_STATE_SEND_SLAVEOF_NOONE
        | names::sentinel::PROMOTED_SLAVE
        | names::sentinel::SLAVE_RECONF_SENT
        | names::sentinel::FAILOVER_END
        | names::sentinel::FAILOVER_END_FOR_TIMEOUT
        | names::sentinel::FAILOVER_ABORT_NO_GOOD_SLAVE
        | names::sentinel::FAILOVER_ABORT_SLAVE_TIMEOUT
        | names::sentinel::SWITCH_MASTER => Failover,
        names::sentinel::CONVERT_TO_SLAVE
        | names::sentinel::CONFIG_UPDATE_FROM
        | names::sentinel::FIX_SLAVE_CONFIG => SentinelConfig,
        names::sentinel::TILT | names::sentinel::TILT_OFF => Tilt,
        names::redis::REPLID_MISMATCH
        | "Partial resynchronization not accepted: Requested offset for second ID"
        | names::redis::NO_BACKLOG_FOR_PSYNC
        | "Partial resynchronization request accepted"
        | "Starting BGSAVE for SYNC with target"
        | "Disconnecting timedout replica (streaming sync)"
        | names::redis::OUTPUT_BUFFER_LIMIT => MasterSync,
        names::redis::TRYING_PARTIAL_RESYNC
        | "Partial resynchronization not possible (no cached master)"
        | names::redis::FULL_RESYNC
        | "MASTER <-> REPLICA sync: Finished with success"
        | names::redis::PARTIAL_RESYNC_DONE
        | "Master replication ID changed" => ReplicaSync,
        "Connection with master lost."
        | "MASTER timeout: no data nor PING received..."
        | "Error condition on socket for SYNC"
        | "Timeout connecting to the MASTER..."
        | "Unable to AUTH to MASTER"
        | "Connection with replica lost." => Link,
        names::redis::SECONDARY_REPLID
        | names::redis::MASTER_MODE
        | names::redis::REPLICAOF_ENABLED => Role,
        "DB loaded from append only file"
        | "DB loaded from disk"
        | "Before turning into a replica, using my own master parameters to synthesize a cached master"
        | "Saving the final RDB snapshot before exiting."
        | "changes in seconds. Saving..."
        | "Can't save in background: fork"
        | "Can't rewrite append only file in background: fork"
        | "Write error saving DB on disk"
        | "Error writing to the AOF file"
        | "AOF write error looks solved, Redis can write again."
        | "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."
        | "BGSAVE for replication failed"
        | "SYNC failed. BGSAVE child returned an error"
        | "Guru Meditation: Replica was unable to write command to disk."
        | "Asynchronous AOF fsync is taking too long (disk is busy?)."
        | "Starting automatic rewriting of AOF on growth"
        | "Background AOF rewrite finished successfully"
        | "Background AOF rewrite terminated with error"
        | "Background AOF rewrite has repeatedly failed and triggered the limit"
        | "Wrong signature trying to load DB from file"
        | "Failed trying to load the MASTER synchronization DB from disk"
        | "Fatal error loading the DB"
        | "Wrong RDB checksum" => Persistence,
        _ => return None,
    })
}

/// The narration of one event, or None for events a learner can skip.
pub fn narrate(cx: &Context, e: &Event) -> Option<Line> {
    let who = cx.name(e.node).to_string();
    let line = |what: String| Line {
        t: e.t,
        who: who.clone(),
        what,
        merge: None,
        repeat: false,
    };
    let before_fault = cx.first_fault.is_none_or(|f| e.t < f);
    let Some(fam) = family(&e.event) else {
        return super::cluster::narrate(cx, e);
    };
    // A cluster's replicas attach to their masters at creation: each tries
    // a partial resync with its own fresh history and is refused. Only the
    // initial full sync is worth telling.
    if before_fault
        && cx.world.plan.cluster.is_some()
        && matches!(
            e.event.as_ref(),
            "Before turning into a replica, using my own master parameters to synthesize a cached master"
                | names::redis::TRYING_PARTIAL_RESYNC
                | names::redis::REPLID_MISMATCH
        )
    {
        return None;
    }
    let what = match fam {
        Family::Fault => fault(cx, e),
        Family::Detection => detection(cx, e),
        Family::Election => election(cx, e),
        Family::Failover => failover(cx, e),
        Family::SentinelConfig => sentinel_config(cx, e),
        Family::Tilt => tilt(e),
        Family::MasterSync => master_sync(cx, e)?,
        Family::ReplicaSync => replica_sync(e, before_fault)?,
        Family::Link => {
            let (what, repeat) = link(cx, e, before_fault)?;
            return Some(Line {
                repeat,
                ..line(what)
            });
        }
        Family::Role => role(cx, e)?,
        Family::Persistence => persistence(e)?,
    };
    let mut l = line(what);
    if e.event == names::sentinel::VOTE_FOR_LEADER {
        // "votes for itself" and "votes for sentinel-2" are different steps.
        l.merge = Some(format!("{} {}", e.event, l.what));
    } else if e.event.starts_with(['+', '-']) {
        // Sentinels act alike: tell the same step once, naming who followed.
        l.merge = Some(format!("{} {}", e.event, e.detail));
    }
    if e.event == "Unable to AUTH to MASTER" {
        l.repeat = true;
    }
    Some(l)
}

fn fault(cx: &Context, e: &Event) -> String {
    let name = cx.name(e.node);
    match e.event.as_ref() {
        "kill" => "is killed (SIGKILL): its kernel closes its sockets, so peers see the \
                   connections drop at once; what was already in its socket buffers still \
                   leaves, nothing else does"
            .to_string(),
        "crash" => format!(
            "loses power: nothing more leaves {name}'s host and no connection is closed, so \
             peers notice only through their own timeouts; un-fsynced AOF data is gone"
        ),
        "shutdown" => "is stopped cleanly (SIGTERM): it saves an RDB if save points are set and \
                       fsyncs its AOF before exiting"
            .to_string(),
        "restart" => "is started again, with only what its disk kept".to_string(),
        "pause" => "is paused (SIGSTOP): its connections stay open but it answers nothing; input \
                    queues up"
            .to_string(),
        "resume" => "resumes (SIGCONT) and processes everything that queued up".to_string(),
        "partition" => format!(
            "is cut into groups that cannot reach each other: {}; packets are silently dropped, \
             so both sides only notice through timeouts",
            e.detail
        ),
        "heal" => "heals every partition: retransmitted packets get through again".to_string(),
        "link" => format!("changes a link: {}", e.detail),
        "clock-jump" => format!(
            "has its wall clock jump {} (timers are monotonic; Sentinel compares wall-clock \
             times and notices)",
            e.detail.rsplit(' ').next().unwrap_or("")
        ),
        "replicaof" => {
            let cmd = e.detail.split(" on ").next().unwrap_or(&e.detail);
            match cmd.split_whitespace().nth(1) {
                Some(ip) if cmd != "REPLICAOF NO ONE" => {
                    format!("is pointed at {} by an operator ({cmd})", cx.at(ip))
                }
                _ => format!("is made a master by an operator ({cmd})"),
            }
        }
        "burst" => format!(
            "gets a bulk load of {}",
            e.detail.split(" on ").next().unwrap_or(&e.detail)
        ),
        "fork-fail" => format!(
            "can no longer fork: fork() fails with ENOMEM on its host for {}; every BGSAVE, \
             full sync and AOF rewrite fails to start",
            e.detail.rsplit(' ').next().unwrap_or("")
        ),
        "fork-fail-end" => "can fork again".to_string(),
        "disk-full" => format!(
            "runs out of disk: every write to a file fails with ENOSPC on its host for {}",
            e.detail.rsplit(' ').next().unwrap_or("")
        ),
        "disk-full-end" => "has disk space again".to_string(),
        "disk-slow" => format!(
            "gets a stalling disk: {}; a write to a file being fsynced waits for the fsync",
            e.detail.split("host ").nth(1).unwrap_or(&e.detail)
        ),
        "disk-slow-end" => "has a fast disk again".to_string(),
        "rdb-corrupt" => format!(
            "gets a damaged RDB file: {}; any load of it that starts meanwhile fails",
            e.detail.split("host ").nth(1).unwrap_or(&e.detail)
        ),
        "rdb-corrupt-end" => "has an RDB file that reads back intact again".to_string(),
        "fsync-fail" => format!(
            "gets a disk that fails its fsyncs with EIO for {}: the AOF's fsync fails (with \
             appendfsync always the server exits; with everysec writes are refused until an \
             fsync succeeds), and so does every RDB and transfer file's",
            e.detail.rsplit(' ').next().unwrap_or("")
        ),
        "fsync-fail-end" => "has a disk whose fsyncs succeed again".to_string(),
        _ => e.detail.clone(),
    }
}

fn detection(cx: &Context, e: &Event) -> String {
    let inst = cx.instance(&e.detail);
    let down_after = cx.monitor(&e.detail).map_or(30_000, |c| c.down_after);
    match e.event.as_ref() {
        names::sentinel::SDOWN => format!(
            "marks {inst} subjectively down (+sdown): its PINGs have had no valid reply for \
             down-after-milliseconds = {} ms{}",
            thousands(down_after),
            cx.since_fault(e.t, cx.instance_node(&e.detail).as_deref())
        ),
        names::sentinel::SDOWN_OFF => format!("hears from {inst} again (-sdown)"),
        names::sentinel::ODOWN => {
            let (votes, quorum) = e
                .detail
                .split("#quorum ")
                .nth(1)
                .and_then(|q| q.split_once('/'))
                .unwrap_or(("?", "?"));
            format!(
                "marks {inst} objectively down (+odown): {votes} Sentinels, itself included, say \
                 it is down, and the quorum is {quorum}; only now may a failover start{}",
                cx.since_fault(e.t, cx.instance_node(&e.detail).as_deref())
            )
        }
        names::sentinel::ODOWN_OFF => {
            format!("no longer counts {inst} as objectively down (-odown)")
        }
        names::sentinel::REBOOT => {
            format!("notices that {inst} restarted: its run id changed (+reboot)")
        }
        _ => e.detail.clone(),
    }
}

fn election(cx: &Context, e: &Event) -> String {
    let name = cx.name(e.node);
    match e.event.as_ref() {
        names::sentinel::TRY_FAILOVER if forced(cx, e.node, e.t) => {
            "starts the failover the operator asked for with SENTINEL FAILOVER \
             (+try-failover): it bumps the epoch but asks no other Sentinel, as the master \
             is not down and a forced failover needs no election"
                .to_string()
        }
        names::sentinel::TRY_FAILOVER => format!(
            "starts a failover attempt (+try-failover){}: it bumps the epoch and asks every \
             other Sentinel for its vote (is-master-down-by-addr with its run id)",
            cx.since_fault(e.t, cx.instance_node(&e.detail).as_deref())
        ),
        names::sentinel::ELECTED_LEADER if forced(cx, e.node, e.t) => {
            "goes on as if elected (+elected-leader): a failover forced with SENTINEL \
             FAILOVER needs no majority of votes"
                .to_string()
        }
        names::sentinel::VOTE_FOR_LEADER => {
            let mut it = e.detail.split_whitespace();
            let (id, epoch) = (it.next().unwrap_or(""), it.next().unwrap_or("?"));
            let whom = if cx.runid_of(name) == Some(id) {
                "itself".to_string()
            } else {
                cx.runid(id)
            };
            format!(
                "votes for {whom} in epoch {epoch} (one vote per epoch, first asker wins) \
                 (+vote-for-leader)"
            )
        }
        names::sentinel::ELECTED_LEADER => {
            let n = cx.sentinels.max(1);
            let quorum = cx.monitor(&e.detail).map_or(2, |c| c.quorum as usize);
            let needed = quorum.max(n / 2 + 1);
            let votes = cx.runid_of(name).map(|id| votes_for(cx, id, e.t));
            format!(
                "wins the election (+elected-leader){}; a leader needs max(quorum {quorum}, a \
                 majority of the {n} Sentinels) = {needed} votes{}",
                votes.map_or(String::new(), |v| format!(" with {v} votes")),
                cx.since_fault(e.t, cx.instance_node(&e.detail).as_deref())
            )
        }
        names::sentinel::FAILOVER_ABORT_NOT_ELECTED => {
            "gives up: it did not collect a majority of votes before the election timeout \
             (-failover-abort-not-elected) and waits 2 x failover-timeout before trying again"
                .to_string()
        }
        _ => e.detail.clone(),
    }
}

/// Whether the failover attempt of Sentinel `node` under way at `t` was
/// forced with SENTINEL FAILOVER: its latest +try-failover came with the
/// user-requested log line.
fn forced(cx: &Context, node: u32, t: u64) -> bool {
    let trace = &cx.world.sim.kernel.trace;
    let Some(start) = trace
        .named(names::sentinel::TRY_FAILOVER)
        .filter(|v| v.node == node && v.t <= t)
        .last()
    else {
        return false;
    };
    trace
        .named(names::sentinel_log::USER_REQUESTED_FAILOVER)
        .any(|v| v.node == node && v.t == start.t)
}

/// Votes cast for a run id in the epoch of its latest `+vote-for-leader`
/// events before `t`.
fn votes_for(cx: &Context, id: &str, t: u64) -> usize {
    let votes: Vec<&str> = cx
        .world
        .sim
        .kernel
        .trace
        .named(names::sentinel::VOTE_FOR_LEADER)
        .filter(|v| v.t <= t && v.detail.starts_with(id))
        .map(|v| v.detail.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    let Some(epoch) = votes.last() else { return 0 };
    votes.iter().filter(|e| *e == epoch).count()
}

fn failover(cx: &Context, e: &Event) -> String {
    let inst = cx.instance(&e.detail);
    match e.event.as_ref() {
        names::sentinel::SELECTED_SLAVE => format!(
            "selects {inst} for promotion (+selected-slave){}",
            super::selection::why(cx, e).unwrap_or_default()
        ),
        names::sentinel::FAILOVER_STATE_SEND_SLAVEOF_NOONE => {
            format!("sends REPLICAOF NO ONE to {inst}")
        }
        names::sentinel::PROMOTED_SLAVE => {
            format!("sees {inst} report role master: it is promoted")
        }
        names::sentinel::SLAVE_RECONF_SENT => {
            format!("tells {inst} to replicate from the new master (+slave-reconf-sent)")
        }
        names::sentinel::FAILOVER_END => {
            "ends the failover: every replica follows the new master".to_string()
        }
        names::sentinel::FAILOVER_END_FOR_TIMEOUT => {
            "ends the failover after failover-timeout, although not \
                                        every replica confirmed the new master"
                .to_string()
        }
        names::sentinel::FAILOVER_ABORT_NO_GOOD_SLAVE => format!(
            "aborts the failover: no replica qualifies for promotion \
             (-failover-abort-no-good-slave){}",
            super::selection::none_qualified(cx, e)
        ),
        names::sentinel::FAILOVER_ABORT_SLAVE_TIMEOUT => {
            "aborts the failover: the selected replica did not \
                                            turn into a master in time"
                .to_string()
        }
        names::sentinel::SWITCH_MASTER => {
            let parts: Vec<&str> = e.detail.split_whitespace().collect();
            let (old, new) = match parts.as_slice() {
                [_, old, _, new, _] => (cx.at(old), cx.at(new)),
                _ => ("?".into(), "?".into()),
            };
            format!(
                "switches its configuration from {old} to {new} (+switch-master): clients \
                 asking it for the master now get {new}, and subscribers hear the change{}",
                cx.since_fault(e.t, Some(old.as_str()))
            )
        }
        _ => e.detail.clone(),
    }
}

fn sentinel_config(cx: &Context, e: &Event) -> String {
    let inst = cx.instance(&e.detail);
    match e.event.as_ref() {
        names::sentinel::CONVERT_TO_SLAVE => {
            let new = e
                .detail
                .split(" @ ")
                .nth(1)
                .and_then(|m| m.split_whitespace().nth(1))
                .map(|ip| cx.at(ip))
                .unwrap_or_else(|| "the new master".into());
            format!(
                "sees {inst} claim to be a master although the configuration says it is a \
                 replica, and sends it REPLICAOF {new} (+convert-to-slave): it will full-resync \
                 and drop whatever it accepted on its own"
            )
        }
        names::sentinel::CONFIG_UPDATE_FROM => format!(
            "learns a newer configuration (a higher config epoch) from a hello of {inst} \
             (+config-update-from)"
        ),
        names::sentinel::FIX_SLAVE_CONFIG => {
            format!("repoints {inst}, which follows the wrong master (+fix-slave-config)")
        }
        _ => e.detail.clone(),
    }
}

fn tilt(e: &Event) -> String {
    if e.event == names::sentinel::TILT {
        "enters TILT mode: its timer ran with a time difference that is negative or over 2 s, \
         so it distrusts its view of the others and acts on nothing for 30 s"
            .to_string()
    } else {
        "leaves TILT mode after 30 s of normal timer ticks (-tilt)".to_string()
    }
}

fn master_sync(cx: &Context, e: &Event) -> Option<String> {
    let d = &e.detail;
    // "Replica 10.0.0.2:6379" / "replica 10.0.0.2:6379" in the detail.
    let replica = d
        .split_whitespace()
        .map(|w| w.trim_start_matches("addr="))
        .find(|w| w.contains(':') && w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|a| cx.at(a.trim_end_matches(|c: char| !c.is_ascii_digit())))
        .unwrap_or_else(|| "a replica".into());
    Some(match e.event.as_ref() {
        names::redis::REPLID_MISMATCH => format!(
            "refuses a partial resync: the replica asked to continue a replication history \
             (replication ID) that is neither {}'s current one nor its previous one, so only \
             a full resync can make them match",
            cx.name(e.node)
        ),
        "Partial resynchronization not accepted: Requested offset for second ID" => {
            let nums: Vec<u64> = numbers(d);
            match nums.as_slice() {
                [asked, upto, ..] => format!(
                    "refuses a partial resync: the replica asks for the old history from offset \
                     {}, but {} shares that history only up to offset {}: the replica holds {} \
                     bytes nobody else has, so it must full-resync and lose them",
                    thousands(*asked),
                    cx.name(e.node),
                    thousands(*upto),
                    thousands(asked.saturating_sub(*upto))
                ),
                _ => format!("refuses a partial resync: {d}"),
            }
        }
        names::redis::NO_BACKLOG_FOR_PSYNC => {
            let asked = numbers(d).last().copied().unwrap_or(0);
            let conf = cx.redis_conf(cx.name(e.node));
            let size = conf.map_or(0, |c| c.repl_backlog_size);
            match cx.probes.get(&(e.t, e.node)) {
                Some(p) if p.histlen > 0 => format!(
                    "cannot serve {replica} a partial resync: it asked to continue at offset {}, \
                     but the {} byte backlog (repl-backlog-size) now holds only offsets {}..{} \
                     ({} bytes); the replica missed {} bytes, so it gets a full resync",
                    thousands(asked),
                    thousands(p.size.max(size)),
                    thousands(p.first_byte),
                    thousands(p.first_byte + p.histlen - 1),
                    thousands(p.histlen),
                    thousands((p.master_repl_offset + 1).saturating_sub(asked))
                ),
                _ => format!(
                    "cannot serve {replica} a partial resync: offset {} is no longer in its {} \
                     byte backlog, so it gets a full resync",
                    thousands(asked),
                    thousands(size)
                ),
            }
        }
        "Partial resynchronization request accepted" => {
            let nums = numbers(d);
            match nums.as_slice() {
                [.., bytes, from] => format!(
                    "accepts {replica}'s partial resync: offset {} is still in its backlog, so it \
                     sends just the {} bytes the replica missed",
                    thousands(*from),
                    thousands(*bytes)
                ),
                _ => format!("accepts {replica}'s partial resync"),
            }
        }
        "Starting BGSAVE for SYNC with target" => {
            if d.ends_with("disk") {
                "forks a child that writes an RDB file to disk for the waiting replicas".into()
            } else {
                "forks a child that streams an RDB snapshot straight to the waiting replicas' \
                 sockets (diskless sync): no RDB file is written"
                    .into()
            }
        }
        "Disconnecting timedout replica (streaming sync)" => format!(
            "drops {replica}: it has not acknowledged anything for repl-timeout ({} s)",
            cx.redis_conf(cx.name(e.node))
                .map_or(60, |c| c.repl_timeout)
        ),
        names::redis::OUTPUT_BUFFER_LIMIT => format!(
            "drops {replica}: its output buffer went over client-output-buffer-limit while it \
             was syncing"
        ),
        _ => return None,
    })
}

fn replica_sync(e: &Event, before_fault: bool) -> Option<String> {
    let d = &e.detail;
    Some(match e.event.as_ref() {
        names::redis::TRYING_PARTIAL_RESYNC => {
            let off = d
                .rsplit(':')
                .next()
                .map(|s| s.trim_end_matches(").").to_string())
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            format!(
                "asks to continue its replication history at offset {} (PSYNC <replid> {})",
                thousands(off),
                thousands(off)
            )
        }
        "Partial resynchronization not possible (no cached master)" if !before_fault => {
            "has no replication ID and offset to resume from, so it asks for a full sync \
             (PSYNC ? -1)"
                .into()
        }
        names::redis::FULL_RESYNC => {
            let off = d.rsplit(':').next().unwrap_or("?").trim();
            let off = off.parse::<u64>().map_or(off.to_string(), thousands);
            if before_fault {
                format!(
                    "starts its initial full sync: it will load an RDB snapshot of the master \
                     as of offset {off}"
                )
            } else {
                format!(
                    "gets +FULLRESYNC: it will flush its dataset and load an RDB snapshot of the \
                     master as of offset {off}"
                )
            }
        }
        "MASTER <-> REPLICA sync: Finished with success" => {
            "has loaded the snapshot and now applies the master's stream".into()
        }
        names::redis::PARTIAL_RESYNC_DONE => {
            "resumes with a partial resync: it keeps its data and only receives what it missed"
                .into()
        }
        "Master replication ID changed" => "sees its master's replication ID change (its master \
                                            was promoted) and continues without a resync"
            .into(),
        _ => return None,
    })
}

/// Connection troubles; repeated ones are told once with a count.
fn link(cx: &Context, e: &Event, before_fault: bool) -> Option<(String, bool)> {
    Some(match e.event.as_ref() {
        "Connection with master lost." => ("loses its connection to its master".into(), false),
        "MASTER timeout: no data nor PING received..." => (
            format!(
                "has heard nothing from its master for repl-timeout ({} s) and drops the link",
                cx.redis_conf(cx.name(e.node))
                    .map_or(60, |c| c.repl_timeout)
            ),
            false,
        ),
        "Error condition on socket for SYNC" => (
            format!(
                "cannot connect to its master ({}) and retries every second",
                e.detail
                    .rsplit(": ")
                    .next()
                    .unwrap_or("error")
                    .to_lowercase()
            ),
            true,
        ),
        "Timeout connecting to the MASTER..." => (
            "times out connecting to its master and retries".into(),
            true,
        ),
        "Unable to AUTH to MASTER" => (
            "is refused by its master: wrong password (masterauth) — it retries every second"
                .into(),
            true,
        ),
        "Connection with replica lost." if !before_fault => {
            let addr = e
                .detail
                .split_whitespace()
                .find(|w| w.contains(':'))
                .unwrap_or("?");
            (
                format!("loses its connection with {}", cx.replica(addr)),
                false,
            )
        }
        _ => return None,
    })
}

fn role(cx: &Context, e: &Event) -> Option<String> {
    Some(match e.event.as_ref() {
        names::redis::SECONDARY_REPLID => {
            let upto = e
                .detail
                .split("offset: ")
                .nth(1)
                .and_then(|s| s.split('.').next())
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            format!(
                "becomes a master with a new replication ID, and keeps the old ID as replid2 \
                 valid up to offset {}, so replicas that followed the old master can continue \
                 with a partial resync",
                thousands(upto)
            )
        }
        names::redis::REPLICAOF_ENABLED => {
            let addr = e.detail.split_whitespace().nth(1).unwrap_or("?");
            format!("now replicates from {}", cx.at(addr))
        }
        _ => return None,
    })
}

fn persistence(e: &Event) -> Option<String> {
    Some(match e.event.as_ref() {
        "DB loaded from append only file" => format!(
            "loads its AOF ({}); the AOF carries no replication ID or offset",
            e.detail.split(": ").nth(1).unwrap_or("")
        ),
        "DB loaded from disk" => format!(
            "loads its RDB file ({})",
            e.detail.split(": ").nth(1).unwrap_or("")
        ),
        "Before turning into a replica, using my own master parameters to synthesize a cached master" => {
            "turns its own replication ID and offset into a cached master, so it can try a \
             partial resync with its (new) master"
                .into()
        }
        "Saving the final RDB snapshot before exiting." => {
            "saves a final RDB snapshot, with its replication ID and offset, before exiting".into()
        }
        "changes in seconds. Saving..." => {
            format!("reaches a save point ({}) and forks an RDB save", e.detail)
        }
        "Can't save in background: fork" => "cannot fork for a BGSAVE; with save points set \
            and stop-writes-on-bgsave-error yes it now refuses writes, and PING, with \
            -MISCONF until a BGSAVE succeeds (a save point retries 5 s after the last try)"
            .into(),
        "Wrong signature trying to load DB from file" => {
            "cannot load its RDB file: it does not start with \"REDIS\"".into()
        }
        "Failed trying to load the MASTER synchronization DB from disk" => {
            "gives the full sync up: its old data is already flushed, so it serves an empty \
             dataset while it reconnects at once for another full sync"
                .into()
        }
        "Fatal error loading the DB" => {
            "exits at start-up: it will not serve without the dataset it could not load".into()
        }
        "Wrong RDB checksum" => "reads its whole RDB file and finds the checksum wrong: Redis \
            7.0 runs redis-check-rdb on it and the process exits"
            .into(),
        "Can't rewrite append only file in background: fork" => {
            "cannot fork for an AOF rewrite".into()
        }
        "Write error saving DB on disk" => format!(
            "has its RDB child fail to write ({}): the BGSAVE fails",
            e.detail.split(": ").nth(1).unwrap_or("")
        ),
        "Error writing to the AOF file" => "fails to write its AOF: it keeps the commands in \
            its buffer and refuses writes, and PING, with -MISCONF until a write succeeds; \
            Sentinels take a master that refuses PING for down"
            .into(),
        "AOF write error looks solved, Redis can write again." => {
            "writes its AOF buffer again and accepts writes (and PING) again".into()
        }
        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..." => {
            "exits: with appendfsync always it has acknowledged writes it cannot persist".into()
        }
        "BGSAVE for replication failed" => "cannot start a full sync: the waiting replicas get \
            -ERR BGSAVE failed and are disconnected, and retry"
            .into(),
        "SYNC failed. BGSAVE child returned an error" => {
            "drops a replica waiting for an RDB that could not be written".into()
        }
        "Starting automatic rewriting of AOF on growth" => format!(
            "starts an AOF rewrite ({}): a child writes the dataset as a new base, and \
             until it is done the old files stay, so a crash meanwhile keeps every write",
            e.detail
                .strip_prefix("Starting automatic rewriting of AOF on ")
                .unwrap_or("")
        ),
        "Background AOF rewrite finished successfully" => {
            "finishes its AOF rewrite: the snapshot is the new base, and the writes since the \
             rewrite began are its only incr file"
                .into()
        }
        "Background AOF rewrite terminated with error" => {
            "fails its AOF rewrite: the old files stay as they were".into()
        }
        "Background AOF rewrite has repeatedly failed and triggered the limit" => format!(
            "stops retrying the AOF rewrite for a while ({})",
            e.detail.rsplit(", ").next().unwrap_or("")
        ),
        "Asynchronous AOF fsync is taking too long (disk is busy?)." => "has waited 2 s for \
            its background fsync to finish before writing its AOF buffer, and now writes \
            anyway: the write blocks behind the fsync, and the server answers nobody until it \
            returns"
            .into(),
        "Guru Meditation: Replica was unable to write command to disk." => "crashes: a \
            replica that cannot persist panics on its master's next write (unless \
            replica-ignore-disk-write-errors is yes)"
            .into(),
        _ => return None,
    })
}

/// Every unsigned number in a text, in order.
fn numbers(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_in_order() {
        assert_eq!(
            numbers("Sending 304108 bytes of backlog starting from offset 257843."),
            vec![304108, 257843]
        );
        assert!(numbers("none here").is_empty());
    }

    #[test]
    fn unknown_events_have_no_family() {
        assert_eq!(
            family("Non blocking connect for SYNC fired the event."),
            None
        );
        assert_eq!(family("+sdown"), Some(Family::Detection));
    }
}
