//! What a Redis server's host does when a scenario faults it: fork()
//! failing, a full disk, a stalling or failing fsync, an RDB file that
//! reads back damaged. It belongs to the node's disk
//! (it outlives the process); what Redis makes of it is in
//! [`super::disk_errors`].

use crate::time::Micros;

/// strerror(ENOSPC).
pub const ENOSPC: &str = "No space left on device";
/// strerror(EIO).
pub const EIO: &str = "Input/output error";

/// A fault of the host under a process: some of its system calls fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostFault {
    /// fork() fails with ENOMEM: no BGSAVE, no full sync, no AOF rewrite.
    ForkFail,
    /// The disk is full: writes to files fail with ENOSPC (the RDB, the
    /// AOF).
    DiskFull,
    /// The disk stalls: each fsync takes this long, and a write to a file
    /// being fsynced waits for it.
    SlowFsync(Micros),
    /// fsync() and fdatasync() of files fail with EIO (a disk that lost a
    /// write back): the AOF, an RDB child's file, a replica's transfer file.
    FsyncFail,
    /// The RDB file (`dbfilename`) reads back damaged: a load that starts
    /// while the window is open (a full sync's, or at start-up) finds this
    /// part wrong.
    RdbCorrupt(RdbDamage),
}

/// Which part of an RDB file reads back wrong, and so which of
/// rdbLoadRio()'s checks fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RdbDamage {
    /// The first bytes: "Wrong signature trying to load DB from file" at
    /// once. rdbLoad() returns an error, so a replica retries the sync and a
    /// starting server exits.
    Signature,
    /// The trailing CRC64: the whole file loads, then "Wrong RDB checksum"
    /// ends in rdbReportError(), which runs redis-check-rdb and exits.
    Checksum,
}

impl RdbDamage {
    pub const ALL: [RdbDamage; 2] = [RdbDamage::Signature, RdbDamage::Checksum];

    /// Its name in a scenario's `part`.
    pub const fn name(self) -> &'static str {
        match self {
            RdbDamage::Signature => "signature",
            RdbDamage::Checksum => "checksum",
        }
    }

    pub fn from_name(name: &str) -> Option<RdbDamage> {
        RdbDamage::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// What the host's system calls do now. Each is a count of the windows
/// open on it, so overlapping windows of one kind end with the last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostFaults {
    fork_fails: u32,
    disk_full: u32,
    slow_fsync: u32,
    fsync_fails: u32,
    rdb_signature: u32,
    rdb_checksum: u32,
    /// How long an fsync takes while `slow_fsync` windows are open: the
    /// latest window's.
    fsync_time: Micros,
}

impl HostFaults {
    pub fn set(&mut self, fault: HostFault, on: bool) {
        let n = match fault {
            HostFault::ForkFail => &mut self.fork_fails,
            HostFault::DiskFull => &mut self.disk_full,
            HostFault::SlowFsync(t) => {
                if on {
                    self.fsync_time = t;
                }
                &mut self.slow_fsync
            }
            HostFault::FsyncFail => &mut self.fsync_fails,
            HostFault::RdbCorrupt(RdbDamage::Signature) => &mut self.rdb_signature,
            HostFault::RdbCorrupt(RdbDamage::Checksum) => &mut self.rdb_checksum,
        };
        *n = if on { *n + 1 } else { n.saturating_sub(1) };
    }

    /// How long an fsync takes now (0: at once, as the model has it on a
    /// healthy disk).
    pub fn fsync_time(&self) -> Micros {
        if self.slow_fsync > 0 {
            self.fsync_time
        } else {
            0
        }
    }

    /// fork() fails (ENOMEM).
    pub fn fork_fails(&self) -> bool {
        self.fork_fails > 0
    }

    /// Writes to files fail (ENOSPC).
    pub fn disk_full(&self) -> bool {
        self.disk_full > 0
    }

    /// fsync() and fdatasync() of files fail (EIO).
    pub fn fsync_fails(&self) -> bool {
        self.fsync_fails > 0
    }

    /// Why a child's file could not be made durable, as rdbSave() and
    /// rewriteAppendOnlyFile() see it when the child ends: its writes fail
    /// first on a full disk, else its closing fsync() may fail.
    /// (operation, strerror(errno)).
    pub fn child_file_error(&self, bytes: u64) -> Option<(&'static str, &'static str)> {
        if self.disk_full() {
            // stdio's 4 KB buffer fails at the first write(2) of a larger
            // file, else at fflush().
            let op = if bytes > 4096 { "rdbSaveRio" } else { "fflush" };
            Some((op, ENOSPC))
        } else if self.fsync_fails() {
            Some(("fsync", EIO))
        } else {
            None
        }
    }

    /// What an RDB load that starts now finds wrong (the signature first:
    /// rdbLoadRio() reads it before anything else).
    pub fn rdb_damage(&self) -> Option<RdbDamage> {
        if self.rdb_signature > 0 {
            Some(RdbDamage::Signature)
        } else if self.rdb_checksum > 0 {
            Some(RdbDamage::Checksum)
        } else {
            None
        }
    }
}
