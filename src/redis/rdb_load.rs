//! What a server does when the RDB file it loads reads back damaged (the
//! `rdb-corrupt` host fault): the two checks of rdbLoadRio() that can fail
//! on a damaged file, and what rdbLoad()'s callers make of each, for a
//! replica's full sync (readSyncBulkPayload()) and at start-up
//! (loadDataFromDisk()).

use crate::proto::Ctx;
use crate::trace::Level;

use super::Server;
use super::host_faults::RdbDamage;

/// loading-process-events-interval-bytes (2 MB): rdbLoadProgressCallback()
/// moves `loading_loaded_bytes` on only when a read crosses a multiple.
const LOADING_STEP: u64 = 2 * 1024 * 1024;

/// The line of rdb.c (7.0.15) where rdbLoadRio() reports the CRC error,
/// which rdbReportError() prints.
const CRC_ERROR_LINE: u32 = 3216;

/// `strerror(EINVAL)`: rdbLoad()'s errno after a wrong signature.
const EINVAL: &str = "Invalid argument";

impl Server {
    /// rdbLoadRio(): the first 9 bytes are not "REDISnnnn". Nothing else is
    /// read; rdbLoad() returns an error with errno EINVAL.
    fn wrong_signature(&self, ctx: &mut Ctx<'_>) {
        ctx.log(
            Level::Warning,
            "Wrong signature trying to load DB from file",
            "Wrong signature trying to load DB from file".into(),
        );
    }

    /// A full sync's load found a wrong signature (readSyncBulkPayload()):
    /// the old data is gone already, the handshake is cancelled and the
    /// replica reconnects at once, to sync again.
    pub(super) fn sync_load_refused(&mut self, ctx: &mut Ctx<'_>) {
        self.wrong_signature(ctx);
        ctx.log(
            Level::Warning,
            "Failed trying to load the MASTER synchronization DB from disk",
            format!("Failed trying to load the MASTER synchronization DB from disk: {EINVAL}"),
        );
        self.cancel_and_reconnect(ctx);
    }

    /// A load of `bytes` read the whole file and found the CRC64 wrong.
    /// rdbReportError() runs redis-check-rdb on the file, which reads the
    /// same damage, prints its report to stdout and exits 1.
    pub(super) fn checksum_failed(&mut self, ctx: &mut Ctx<'_>, bytes: u64) {
        // The sums themselves are CRC64s of bytes the model does not keep.
        ctx.log(
            Level::Warning,
            "Wrong RDB checksum",
            "Wrong RDB checksum expected: (crc64 of the file) but got (the damaged crc64). Aborting now.".into(),
        );
        ctx.log(
            Level::Warning,
            "Internal error in RDB reading offset",
            format!(
                "Internal error in RDB reading offset {}, function at rdb.c:{CRC_ERROR_LINE} -> RDB CRC error",
                reported_offset(bytes)
            ),
        );
        ctx.exit();
    }

    /// loadDataFromDisk() at start-up, the RDB damaged by `damage`: a wrong
    /// signature exits at once; a wrong checksum exits once the file is
    /// read (`RedisTimer::BootLoadFailed`).
    pub(super) fn boot_load_damaged(&mut self, ctx: &mut Ctx<'_>, damage: RdbDamage) {
        match damage {
            RdbDamage::Signature => {
                self.wrong_signature(ctx);
                ctx.log(
                    Level::Warning,
                    "Fatal error loading the DB",
                    format!("Fatal error loading the DB: {EINVAL}. Exiting."),
                );
                ctx.exit();
            }
            RdbDamage::Checksum => {
                let end = self.loading_until.unwrap_or(ctx.sim_time());
                let wait = end.saturating_sub(ctx.sim_time()).max(1);
                ctx.set_timer(wait, super::timer::RedisTimer::BootLoadFailed);
            }
        }
    }
}

/// `loading_loaded_bytes` when a load of `bytes` fails at its end: the last
/// multiple of the 2 MB step the reads crossed (0 below it). Redis records
/// the bytes processed before the read that crossed it, so a real run may
/// print up to one key's size less.
fn reported_offset(bytes: u64) -> u64 {
    bytes / LOADING_STEP * LOADING_STEP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reported_offset_moves_in_steps_of_two_megabytes() {
        assert_eq!(reported_offset(0), 0);
        assert_eq!(reported_offset(LOADING_STEP - 1), 0);
        assert_eq!(reported_offset(LOADING_STEP), LOADING_STEP);
        assert_eq!(reported_offset(5 * LOADING_STEP + 7), 5 * LOADING_STEP);
    }
}
