//! Turning the AOF on and off at runtime (`CONFIG SET appendonly`):
//! aof.c startAppendOnly(), stopAppendOnly() and the first rewrite that
//! turns `AOF_WAIT_REWRITE` into `AOF_ON`.
//!
//! The AOF starts with a rewrite child (the same fork and RDB-preamble
//! cost as a BGSAVE). Until it ends, writes go to a temporary incr file
//! that is not in the manifest, so a crash keeps whatever AOF the disk had
//! before; when the child ends, its snapshot becomes the base and the
//! writes since the fork the incr file (backgroundRewriteDoneHandler()).

use std::rc::Rc;

use crate::proto::resp::Frame;
use crate::proto::{Cmd, Ctx, Reply};
use crate::sim::net::ConnId;
use crate::trace::Level;

use super::host_faults::HostFaults;
use super::master::ChildKind;
use super::persistence::AofFile;
use super::{Host, Server};

/// `server.aof_state == AOF_WAIT_REWRITE`: `appendonly` is yes but the
/// first rewrite has not finished.
#[derive(Debug)]
pub(super) enum AofStart {
    /// `aof_rewrite_scheduled`: another child runs; serverCron starts the
    /// rewrite once it has ended. Writes meanwhile are in the dataset the
    /// rewrite will snapshot.
    Scheduled,
    /// The rewrite child of this generation runs; `incr` is the temporary
    /// incr file: the writes since its fork.
    Rewriting { generation: u64, incr: Vec<Cmd> },
}

impl Server {
    /// updateAppendonly(), run when CONFIG SET changed `appendonly`: the
    /// reason when the AOF cannot be turned on.
    pub(super) fn update_appendonly(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
    ) -> Result<(), &'static str> {
        if !self.cfg.appendonly {
            self.stop_append_only(ctx, host);
        } else if !self.start_append_only(ctx, host.disk.faults) {
            return Err("Unable to turn on AOF. Check server logs.");
        }
        Ok(())
    }

    /// startAppendOnly(): the rewrite now, or once the running child ends.
    /// False when its fork failed (the AOF stays off).
    fn start_append_only(&mut self, ctx: &mut Ctx<'_>, faults: HostFaults) -> bool {
        self.aof_pending.clear();
        if self.child.is_some() {
            self.aof_start = Some(AofStart::Scheduled);
            ctx.log(
                Level::Warning,
                "AOF was enabled but there is already another background operation.",
                "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.".into(),
            );
        } else if !self.rewrite_aof_background(ctx, faults) {
            ctx.log(
                Level::Warning,
                "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation.",
                "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.".into(),
            );
            return false;
        }
        self.aof_last_fsync = ctx.unixtime();
        if self.persist.aof_fsync_error.take().is_some() {
            ctx.log(
                Level::Warning,
                "AOF reopen, just ignore the AOF fsync error in bio job",
                "AOF reopen, just ignore the AOF fsync error in bio job".into(),
            );
        }
        if self.persist.aof_write_error.take().is_some() {
            ctx.log(
                Level::Warning,
                "AOF reopen, just ignore the last error.",
                "AOF reopen, just ignore the last error.".into(),
            );
        }
        true
    }

    /// rewriteAppendOnlyFileBackground() for the first rewrite: false when
    /// the fork failed.
    fn rewrite_aof_background(&mut self, ctx: &mut Ctx<'_>, faults: HostFaults) -> bool {
        ctx.log(
            Level::Notice,
            "Creating AOF incr file on background rewrite",
            "Creating AOF incr file temp-appendonly.aof.incr on background rewrite".into(),
        );
        if !self.start_bgsave(ctx, faults, ChildKind::AofRewrite) {
            return false;
        }
        self.aof_start = Some(AofStart::Rewriting {
            generation: self.child_gen,
            incr: Vec::new(),
        });
        true
    }

    /// stopAppendOnly(): what is buffered is written and fsynced; a
    /// rewrite child is killed (killAppendOnlyChild()).
    fn stop_append_only(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        match self.aof_start.take() {
            None => {
                if let Some(aof) = host.disk.aof.as_mut() {
                    aof.append(&mut self.aof_pending);
                    if host.disk.faults.fsync_fails() {
                        ctx.log(
                            Level::Warning,
                            "Fail to fsync the AOF file",
                            format!("Fail to fsync the AOF file: {}", super::disk_errors::EIO),
                        );
                    } else {
                        aof.fsynced = aof.log.len();
                        self.aof_last_fsync = ctx.unixtime();
                    }
                }
                self.aof_unsynced = false;
            }
            Some(AofStart::Scheduled) => {}
            Some(AofStart::Rewriting { generation, .. }) => {
                if self.child.take_if(|c| c.generation == generation).is_some() {
                    ctx.log(
                        Level::Notice,
                        "Killing running AOF rewrite child",
                        format!("Killing running AOF rewrite child: {}", 1000 + generation),
                    );
                }
            }
        }
        self.aof_pending.clear();
    }

    /// flushAppendOnlyFile() while the AOF starts: the writes of this pass
    /// go to the temporary incr file of a running rewrite, or nowhere while
    /// the rewrite waits for another child. False when the AOF is on.
    pub(super) fn flush_aof_starting(&mut self) -> bool {
        match self.aof_start.as_mut() {
            None => return false,
            Some(AofStart::Scheduled) => self.aof_pending.clear(),
            Some(AofStart::Rewriting { incr, .. }) => incr.append(&mut self.aof_pending),
        }
        true
    }

    /// serverCron(): a scheduled rewrite starts once no child runs.
    /// A failed fork leaves it scheduled, to try again at the next cron.
    pub(super) fn start_scheduled_aof_rewrite(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        let waiting = matches!(self.aof_start, Some(AofStart::Scheduled));
        if (waiting || self.aof_rewrite_scheduled)
            && self.child.is_none()
            && !self.persist.aof_rewrite_limited(ctx)
        {
            if waiting {
                self.rewrite_aof_background(ctx, host.disk.faults);
            } else {
                self.aof_rewrite_scheduled = !self.rewrite_aof_now(ctx, host);
            }
        }
    }

    /// bgrewriteaofCommand(): a rewrite now, or once the running child is
    /// reaped (also inside a transaction: EXEC must not fork).
    pub(super) fn bgrewriteaof_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
    ) -> Reply {
        let status = |s: &str| Reply::Frame(Frame::Simple(s.into()));
        if self
            .child
            .as_ref()
            .is_some_and(|c| c.kind == ChildKind::AofRewrite)
        {
            return Reply::Error(
                "ERR Background append only file rewriting already in progress".into(),
            );
        }
        if self.child.is_some() || self.in_exec(conn) {
            self.aof_rewrite_scheduled = true;
            // A rewrite asked for by hand is not held back by failures.
            self.persist.aofrw_failures = 0;
            return status("Background append only file rewriting scheduled");
        }
        if self.rewrite_aof_now(ctx, host) {
            status("Background append only file rewriting started")
        } else {
            Reply::Error(
                "ERR Can't execute an AOF background rewriting. Please check the server logs for more information."
                    .into(),
            )
        }
    }

    /// rewriteAppendOnlyFileBackground() asked for by hand or scheduled:
    /// with the AOF on, as an automatic rewrite; with it off, a child
    /// writes a base file nothing reads until the AOF is turned on. False
    /// when the fork failed.
    fn rewrite_aof_now(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) -> bool {
        self.aof_rewrite_scheduled = false;
        if self.cfg.appendonly && self.aof_start.is_none() {
            self.rewrite_aof_on(ctx, host)
        } else {
            self.start_bgsave(ctx, host.disk.faults, ChildKind::AofRewrite)
        }
    }

    /// rewriteAppendOnlyFile() in a child whose file could not be written
    /// or fsynced (`op` is not logged: the function names no step), then
    /// the parent's handling of its exit code 1.
    pub(super) fn aof_rewrite_child_failed(
        &mut self,
        ctx: &mut Ctx<'_>,
        (_op, err): (&str, &str),
        generation: u64,
    ) {
        ctx.log(
            Level::Warning,
            "Write error writing append only file on disk",
            format!("Write error writing append only file on disk: {err}"),
        );
        self.aof_rewrite_failed(ctx, generation);
    }

    /// backgroundRewriteDoneHandler() for a child that failed (its new base
    /// could not be written): the old files stay; a first rewrite is
    /// scheduled again.
    pub(super) fn aof_rewrite_failed(&mut self, ctx: &mut Ctx<'_>, generation: u64) {
        self.persist.aof_rewrite_failed = true;
        self.persist.aofrw_failures += 1;
        ctx.log(
            Level::Warning,
            "Background AOF rewrite terminated with error",
            "Background AOF rewrite terminated with error".into(),
        );
        self.aof_rewrite.take_if(|(g, _)| *g == generation);
        if matches!(self.aof_start, Some(AofStart::Rewriting { generation: g, .. }) if g == generation)
        {
            self.aof_start = Some(AofStart::Scheduled);
        }
    }

    /// backgroundRewriteDoneHandler(): the snapshot is the new base, the
    /// temporary incr file the incr file, and the AOF is on. The incr file
    /// counts as fsynced when it is renamed into the manifest.
    pub(super) fn aof_rewrite_done(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        generation: u64,
        snapshot: Rc<crate::proto::keyspace::Dataset>,
    ) {
        self.persist.aof_rewrite_failed = false;
        self.persist.aofrw_failures = 0;
        ctx.log(
            Level::Notice,
            "Background AOF rewrite terminated with success",
            "Background AOF rewrite terminated with success".into(),
        );
        // With the AOF on, only the writes since the fork stay in incr
        // files; for the first rewrite, the temporary incr file's.
        let aof = if let Some((_, from)) = self.aof_rewrite.take_if(|(g, _)| *g == generation) {
            let Some(old) = host.disk.aof.take() else {
                return;
            };
            let log = old.log.get(from..).unwrap_or_default().to_vec();
            AofFile::rewritten(
                snapshot,
                log,
                old.fsynced.saturating_sub(from),
                old.incr_seq,
            )
        } else if let Some(AofStart::Rewriting { incr, .. }) = self
            .aof_start
            .take_if(|s| matches!(s, AofStart::Rewriting { generation: g, .. } if *g == generation))
        {
            let fsynced = incr.len();
            AofFile::rewritten(snapshot, incr, fsynced, 1)
        } else {
            // BGREWRITEAOF with the AOF off: its base is written, and no
            // AOF is on to take it.
            if !self.cfg.appendonly {
                ctx.log(
                    Level::Notice,
                    "Background AOF rewrite finished successfully",
                    "Background AOF rewrite finished successfully".into(),
                );
            }
            return;
        };
        self.aof_base_size = aof.size();
        host.disk.aof = Some(aof);
        ctx.log(
            Level::Notice,
            "Background AOF rewrite finished successfully",
            "Background AOF rewrite finished successfully".into(),
        );
    }

    /// A full sync on a replica rebuilt the AOF from the new dataset
    /// (readSyncBulkPayload(): stopAppendOnly(), then restartAOFAfterSYNC()):
    /// a rewrite still waiting or running is dropped.
    pub(super) fn aof_rebuilt_after_sync(&mut self) {
        if let Some(AofStart::Rewriting { generation, .. }) = self.aof_start.take() {
            self.child.take_if(|c| c.generation == generation);
        }
        if let Some((generation, _)) = self.aof_rewrite.take() {
            self.child.take_if(|c| c.generation == generation);
        }
    }

    /// serverCron(): with the AOF on and no child, an automatic rewrite once
    /// the AOF is larger than auto-aof-rewrite-min-size and has grown by
    /// auto-aof-rewrite-percentage over its size after the last rewrite.
    pub(super) fn auto_aof_rewrite(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        let perc = self.cfg.auto_aof_rewrite_percentage;
        if !self.cfg.appendonly || self.aof_start.is_some() || self.child.is_some() || perc == 0 {
            return;
        }
        let Some(size) = host.disk.aof.as_ref().map(AofFile::size) else {
            return;
        };
        if size <= self.cfg.auto_aof_rewrite_min_size {
            return;
        }
        let growth = (size * 100 / self.aof_base_size.max(1)) as i64 - 100;
        if growth < perc as i64 || self.persist.aof_rewrite_limited(ctx) {
            return;
        }
        ctx.log(
            Level::Notice,
            "Starting automatic rewriting of AOF on growth",
            format!("Starting automatic rewriting of AOF on {growth}% growth"),
        );
        self.rewrite_aof_on(ctx, host);
    }

    /// rewriteAppendOnlyFileBackground() with the AOF on: what is buffered
    /// is written first, a new incr file is opened and enters the manifest
    /// at once (so a crash before the rewrite ends keeps the old base and
    /// every incr file: nothing is lost), and the child writes a new base.
    fn rewrite_aof_on(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) -> bool {
        let faults = host.disk.faults;
        let Some(aof) = host.disk.aof.as_mut() else {
            return false;
        };
        if !faults.disk_full() {
            aof.append(&mut self.aof_pending);
        }
        // openNewIncrAofForAppend(): the manifest naming the new incr file
        // is written and fsynced first (writeAofManifestFile()); if that
        // fails the rewrite does not start.
        if manifest_write_failed(ctx, faults) {
            self.persist.aof_rewrite_failed = true;
            return false;
        }
        // The old incr file is fsynced and closed in the background
        // (aof_background_fsync_and_close(), which ignores a failure).
        if !faults.fsync_fails() {
            aof.fsynced = aof.log.len();
        }
        self.aof_unsynced = false;
        let next = aof.incr_seq + 1;
        ctx.log(
            Level::Notice,
            "Creating AOF incr file on background rewrite",
            format!("Creating AOF incr file appendonly.aof.{next}.incr.aof on background rewrite"),
        );
        let from = aof.log.len();
        aof.incr_seq = next;
        if !self.start_bgsave(ctx, faults, ChildKind::AofRewrite) {
            return false;
        }
        self.aof_rewrite = Some((self.child_gen, from));
        true
    }
}

/// writeAofManifestFile() for `temp-appendonly.aof.manifest` on this host:
/// its write(2) fails on a full disk, its fsync when fsyncs fail. True
/// (and logged) when it fails.
fn manifest_write_failed(ctx: &mut Ctx<'_>, faults: HostFaults) -> bool {
    const TEMP: &str = "temp-appendonly.aof.manifest";
    if faults.disk_full() {
        ctx.log(
            Level::Warning,
            "Error trying to write the temporary AOF manifest file",
            format!(
                "Error trying to write the temporary AOF manifest file {TEMP}: {}",
                super::disk_errors::ENOSPC
            ),
        );
    } else if faults.fsync_fails() {
        ctx.log(
            Level::Warning,
            "Fail to fsync the temp AOF file",
            format!(
                "Fail to fsync the temp AOF file {TEMP}: {}.",
                super::disk_errors::EIO
            ),
        );
    } else {
        return false;
    }
    true
}
