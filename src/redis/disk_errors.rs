//! What Redis does when its host fails it: a fork() that fails with ENOMEM,
//! a disk that is full (ENOSPC), an fsync that fails (EIO). The statuses
//! INFO persistence shows, writeCommandsDeniedByDiskError() and its MISCONF
//! replies (server.c), the AOF write and fsync errors and their recovery
//! (aof.c flushAppendOnlyFile(), bio.c's BIO_AOF_FSYNC job), and the
//! save-point retry delay after a failed BGSAVE (serverCron()).

use crate::proto::{Ctx, Msg, Reply};
use crate::sim::net::ConnId;
use crate::time::Micros;
use crate::trace::Level;

use super::host_faults::HostFaults;
use super::persistence::Disk;
use super::{RedisTimer, Server};

pub use super::host_faults::{EIO, ENOSPC};

/// strerror(ENOMEM).
pub const ENOMEM: &str = "Cannot allocate memory";

/// `shared.bgsaveerr` (without its `-`).
pub const ERR_MISCONF_RDB: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// `CONFIG_BGSAVE_RETRY_DELAY`: seconds before a save point tries again
/// after a failed BGSAVE.
pub const BGSAVE_RETRY_DELAY: u64 = 5;

/// `AOF_WRITE_LOG_ERROR_RATE`: seconds between two logs of an AOF write
/// error.
const AOF_WRITE_LOG_ERROR_RATE: u64 = 30;

/// The AOF's background fsync (bio.c's BIO_AOF_FSYNC job) and the write
/// flushAppendOnlyFile() postpones behind it.
#[derive(Debug, Default)]
pub struct AofFsync {
    /// The fsync that runs: its generation, when it ends, how many AOF
    /// entries it makes durable, and whether it succeeds.
    running: Option<(u64, Micros, usize, bool)>,
    generation: u64,
    /// `aof_flush_postponed_start` (unix seconds, 0: none).
    postponed_start: u64,
    /// `aof_delayed_fsync`: writes made without waiting for the fsync.
    pub delayed: u64,
}

/// What flushAppendOnlyFile() does with the buffer on this pass.
#[derive(Debug, PartialEq, Eq)]
pub enum AofFlush {
    /// Write it now.
    Write,
    /// Keep it: an fsync runs and it has waited less than 2 s.
    Postpone,
    /// Write it after waiting this long for the fsync (the write blocks).
    WriteAfter(Micros),
}

impl AofFsync {
    /// aofFsyncInProgress() at `now`.
    pub fn in_progress(&self, now: Micros) -> bool {
        self.running.is_some_and(|(_, until, _, _)| until > now)
    }

    /// flushAppendOnlyFile() with appendfsync everysec and a buffer to
    /// write: postponed while an fsync runs, for up to 2 s (whole seconds
    /// of `unixtime`), then written, blocking until the fsync ends.
    pub fn everysec_flush(&mut self, now: Micros, unixtime: u64) -> AofFlush {
        let Some((_, until, _, _)) = self.running.filter(|r| r.1 > now) else {
            self.postponed_start = 0;
            return AofFlush::Write;
        };
        if self.postponed_start == 0 {
            self.postponed_start = unixtime;
            return AofFlush::Postpone;
        }
        if unixtime.saturating_sub(self.postponed_start) < 2 {
            return AofFlush::Postpone;
        }
        self.postponed_start = 0;
        self.delayed += 1;
        AofFlush::WriteAfter(until - now)
    }

    /// aof_background_fsync(): an fsync of the first `entries` that ends
    /// after `time`, and fails if `ok` is false. Returns its generation,
    /// for the timer that ends it.
    pub fn start(&mut self, now: Micros, time: Micros, entries: usize, ok: bool) -> u64 {
        self.generation += 1;
        self.running = Some((self.generation, now + time, entries, ok));
        self.generation
    }

    /// The fsync of this generation ended: how many entries it covered,
    /// and whether it succeeded.
    pub fn done(&mut self, generation: u64) -> Option<(usize, bool)> {
        let (g, _, entries, ok) = self.running?;
        (g == generation).then(|| {
            self.running = None;
            (entries, ok)
        })
    }
}

/// The persistence statuses a server keeps (server.h).
#[derive(Debug, Default)]
pub struct DiskStatus {
    /// `lastbgsave_status == C_ERR`.
    pub bgsave_failed: bool,
    /// `lastbgsave_try`: unix seconds of the last BGSAVE attempt.
    pub bgsave_try: u64,
    /// `aof_lastbgrewrite_status == C_ERR`.
    pub aof_rewrite_failed: bool,
    /// `aof_last_write_status == C_ERR`, with strerror(aof_last_write_errno).
    pub aof_write_error: Option<&'static str>,
    /// `aof_bio_fsync_status == C_ERR`, with strerror(aof_bio_fsync_errno):
    /// the last background fsync of the AOF failed.
    pub aof_fsync_error: Option<&'static str>,
    /// When an AOF write error was last logged (unix seconds).
    aof_error_logged: u64,
    /// When a replica last logged applying a write it cannot persist (ms).
    replica_error_logged_ms: u64,
    /// `stat_aofrw_consecutive_failures`, and aofRewriteLimited()'s state:
    /// the delay it set last (minutes) and until when it holds (unix s).
    pub aofrw_failures: u32,
    aofrw_delay_minutes: u64,
    aofrw_next_time: u64,
}

/// `AOF_REWRITE_LIMITE_THRESHOLD` failures in a row start the back-off.
const AOF_REWRITE_LIMIT_THRESHOLD: u32 = 3;
/// `AOF_REWRITE_LIMITE_MAX_MINUTES`: the longest back-off.
const AOF_REWRITE_LIMIT_MAX_MINUTES: u64 = 60;

impl DiskStatus {
    /// aofRewriteLimited(): after 3 failed rewrites in a row, automatic
    /// and scheduled rewrites wait 1 minute, then 2, 4, ... up to an hour.
    pub fn aof_rewrite_limited(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if self.aofrw_failures < AOF_REWRITE_LIMIT_THRESHOLD {
            self.aofrw_delay_minutes = 0;
            self.aofrw_next_time = 0;
            return false;
        }
        let now = ctx.unixtime();
        if self.aofrw_next_time != 0 {
            if now < self.aofrw_next_time {
                return true;
            }
            self.aofrw_next_time = 0;
            return false;
        }
        self.aofrw_delay_minutes =
            (self.aofrw_delay_minutes * 2).clamp(1, AOF_REWRITE_LIMIT_MAX_MINUTES);
        self.aofrw_next_time = now + self.aofrw_delay_minutes * 60;
        ctx.log(
            Level::Warning,
            "Background AOF rewrite has repeatedly failed and triggered the limit",
            format!(
                "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
                self.aofrw_delay_minutes
            ),
        );
        true
    }
}

impl DiskStatus {
    /// "ok" or "err", as INFO persistence prints a status.
    pub fn word(failed: bool) -> &'static str {
        if failed { "err" } else { "ok" }
    }

    /// INFO persistence's `aof_last_write_status`: err after a failed
    /// write or a failed background fsync.
    pub fn aof_status_failed(&self) -> bool {
        self.aof_write_error.is_some() || self.aof_fsync_error.is_some()
    }
}

impl Server {
    /// writeCommandsDeniedByDiskError() with its message
    /// (writeCommandsGetDiskErrorMessage()): a failed BGSAVE when save
    /// points are set and stop-writes-on-bgsave-error is yes, else an AOF
    /// write error while the AOF is on.
    pub(super) fn disk_write_denial(&self) -> Option<String> {
        if self.cfg.stop_writes_on_bgsave_error
            && !self.cfg.save.is_empty()
            && self.persist.bgsave_failed
        {
            return Some(ERR_MISCONF_RDB.into());
        }
        if self.cfg.appendonly
            && let Some(e) = self
                .persist
                .aof_write_error
                .or(self.persist.aof_fsync_error)
        {
            return Some(format!("MISCONF Errors writing to the AOF file: {e}"));
        }
        None
    }

    /// A write (or a PING) from its master on a replica that cannot write
    /// to disk: Redis panics on a write unless replica-ignore-disk-write-errors
    /// is yes, and otherwise logs it at most every 10 s (processCommand()).
    /// True when the process dies.
    pub(super) fn replica_disk_error(&mut self, ctx: &mut Ctx<'_>, ping: bool) -> bool {
        if self.disk_write_denial().is_none() {
            return false;
        }
        if !self.cfg.repl_ignore_disk_write_error && !ping {
            ctx.log(
                Level::Warning,
                "Guru Meditation: Replica was unable to write command to disk.",
                "Guru Meditation: Replica was unable to write command to disk. #server.c:3890"
                    .into(),
            );
            ctx.exit();
            return true;
        }
        let now = ctx.mstime();
        if now > self.persist.replica_error_logged_ms + 10_000 {
            self.persist.replica_error_logged_ms = now;
            ctx.log(
                Level::Warning,
                "Replica is applying a command even though it is unable to write to disk.",
                "Replica is applying a command even though it is unable to write to disk.".into(),
            );
        }
        false
    }

    /// flushAppendOnlyFile()'s write on a full disk: the write error is
    /// logged (at most every 30 s) and writes are refused until a write
    /// succeeds; with appendfsync always the process exits instead. True
    /// when the process exits.
    pub(super) fn aof_write_failed(&mut self, ctx: &mut Ctx<'_>, always: bool) -> bool {
        let now = ctx.unixtime();
        if now.saturating_sub(self.persist.aof_error_logged) > AOF_WRITE_LOG_ERROR_RATE {
            self.persist.aof_error_logged = now;
            ctx.log(
                Level::Warning,
                "Error writing to the AOF file",
                format!("Error writing to the AOF file: {ENOSPC}"),
            );
        }
        if always {
            ctx.log(
                Level::Warning,
                "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
                "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."
                    .into(),
            );
            ctx.exit();
            return true;
        }
        self.persist.aof_write_error = Some(ENOSPC);
        false
    }

    /// The BIO_AOF_FSYNC job ended (bioProcessBackgroundJobs()): a failure
    /// is logged when the status turns to err, and writes are refused; a
    /// success clears it, silently.
    pub(super) fn aof_fsync_ended(&mut self, ctx: &mut Ctx<'_>, ok: bool) {
        if ok {
            self.persist.aof_fsync_error = None;
            return;
        }
        if self.persist.aof_fsync_error.replace(EIO).is_none() {
            ctx.log(
                Level::Warning,
                "Fail to fsync the AOF file",
                format!("Fail to fsync the AOF file: {EIO}"),
            );
        }
    }

    /// flushAppendOnlyFile() with appendfsync always: a failed fdatasync
    /// cannot be recovered from, so the process exits before any reply of
    /// its pass leaves.
    pub(super) fn aof_fsync_always_failed(&mut self, ctx: &mut Ctx<'_>) -> bool {
        ctx.log(
            Level::Warning,
            "Can't persist AOF for fsync error when the AOF fsync policy is 'always'",
            format!(
                "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {EIO}. Exiting..."
            ),
        );
        ctx.exit();
        true
    }

    /// flushAppendOnlyFile(): a write that succeeds clears the error.
    pub(super) fn aof_write_ok(&mut self, ctx: &mut Ctx<'_>) {
        if self.persist.aof_write_error.take().is_some() {
            ctx.log(
                Level::Warning,
                "AOF write error looks solved, Redis can write again.",
                "AOF write error looks solved, Redis can write again.".into(),
            );
        }
    }

    /// serverCron(): a save point may start a BGSAVE once the last one
    /// succeeded, or more than [`BGSAVE_RETRY_DELAY`] seconds after the
    /// last try.
    pub(super) fn bgsave_may_retry(&self, now: u64) -> bool {
        !self.persist.bgsave_failed
            || now.saturating_sub(self.persist.bgsave_try) > BGSAVE_RETRY_DELAY
    }
}

impl Server {
    /// A BGSAVE child's rdbSave() that could not write or fsync its file
    /// (`op` failed with `err`, [`HostFaults::child_file_error`]): the
    /// child logs it and exits 1, and the parent records the failure
    /// (backgroundSaveDoneHandlerDisk()).
    pub(super) fn bgsave_write_failed(&mut self, ctx: &mut Ctx<'_>, (op, err): (&str, &str)) {
        ctx.log(
            Level::Warning,
            "Write error saving DB on disk",
            format!("Write error saving DB on disk({op}): {err}"),
        );
        ctx.log(
            Level::Warning,
            "Background saving error",
            "Background saving error".into(),
        );
        self.persist.bgsave_failed = true;
    }
}

impl Server {
    /// A reply to a client: sent at once, unless the AOF is on and the
    /// disk is slow or appendfsync is always, when it waits for its pass's
    /// AOF write (and with appendfsync always its fsync), as Redis writes
    /// replies in beforeSleep() after flushAppendOnlyFile(): a process that
    /// exits there on a write or fsync error never sends them.
    pub(super) fn reply(
        &mut self,
        ctx: &mut Ctx<'_>,
        faults: HostFaults,
        conn: ConnId,
        reply: Reply,
    ) {
        let waits = self.cfg.appendfsync == super::config::AppendFsync::Always
            || faults.fsync_time() > 0
            || !self.held_replies.is_empty();
        if self.cfg.appendonly && waits {
            self.held_replies.push((conn, reply));
        } else {
            ctx.send(conn, Msg::Reply(reply));
        }
    }

    pub(super) fn send_held_replies(&mut self, ctx: &mut Ctx<'_>) {
        for (conn, reply) in std::mem::take(&mut self.held_replies) {
            ctx.send(conn, Msg::Reply(reply));
        }
    }

    /// flushAppendOnlyFile() with appendfsync everysec: false while the
    /// write is postponed behind a running fsync; after 2 s it is made
    /// anyway, logged, and blocks the server until the fsync ends.
    pub(super) fn everysec_write_due(&mut self, ctx: &mut Ctx<'_>) -> bool {
        match self
            .aof_fsync
            .everysec_flush(ctx.sim_time(), ctx.unixtime())
        {
            AofFlush::Write => true,
            AofFlush::Postpone => false,
            AofFlush::WriteAfter(wait) => {
                ctx.log(
                    Level::Notice,
                    "Asynchronous AOF fsync is taking too long (disk is busy?).",
                    "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.".into(),
                );
                self.block_on_disk(ctx, wait);
                true
            }
        }
    }

    /// The server blocks in a write or fsync for `wait`: nothing runs, and
    /// the replies of its pass leave when it returns.
    fn block_on_disk(&mut self, ctx: &mut Ctx<'_>, wait: Micros) {
        self.aof_blocked = Some(ctx.sim_time());
        ctx.sleep(wait);
        ctx.set_timer(wait, RedisTimer::FlushReplies);
    }

    /// appendfsync always on a slow disk: the fdatasync of everything this
    /// instant wrote blocks the server for the disk's fsync time.
    pub(super) fn fsync_block(&mut self, ctx: &mut Ctx<'_>, disk: &Disk) {
        let wait = disk.faults.fsync_time().max(1);
        self.block_on_disk(ctx, wait);
    }

    /// A blocking write or fsync returned: with appendfsync always what it
    /// wrote is durable now, and the held replies leave.
    pub(super) fn flush_held_replies(&mut self, ctx: &mut Ctx<'_>, disk: &mut Disk) {
        self.aof_blocked = None;
        if self.cfg.appendfsync == super::config::AppendFsync::Always
            && let Some(aof) = disk.aof.as_mut()
        {
            aof.fsynced = aof.log.len();
        }
        self.send_held_replies(ctx);
    }
}
