//! What a Redis process leaves on disk, and so what a kill, a power loss or a
//! clean shutdown keeps: the RDB file (with its replication aux fields) and
//! the AOF (a base plus the commands written since, of which only the
//! fsynced prefix survives a power loss).

use std::rc::Rc;

use crate::proto::{Cmd, RunId};

use crate::proto::keyspace::Dataset;

/// An RDB file: the dataset at the fork, and `repl-id`/`repl-offset` when the
/// node had replication context (rdbPopulateSaveInfo()).
#[derive(Clone, Debug)]
pub struct RdbFile {
    pub data: Rc<Dataset>,
    pub repl: Option<(RunId, u64)>,
}

/// The append-only file: a base dataset and the write commands after it.
#[derive(Clone, Debug, Default)]
pub struct AofFile {
    pub base: Rc<Dataset>,
    pub log: Vec<Cmd>,
    /// How many entries of `log` reached the disk (the rest are in the OS
    /// page cache, lost on power loss only).
    pub fsynced: usize,
    /// The base file's bytes (an RDB preamble) and the log's.
    base_bytes: u64,
    log_bytes: u64,
    /// The manifest's number of the incr file being written
    /// (`appendonly.aof.<n>.incr.aof`).
    pub incr_seq: u32,
}

impl AofFile {
    pub fn new(base: Rc<Dataset>) -> Self {
        Self::rewritten(base, Vec::new(), 0, 1)
    }

    /// A rewrite's result: a new base and the writes since its fork.
    pub fn rewritten(base: Rc<Dataset>, log: Vec<Cmd>, fsynced: usize, incr_seq: u32) -> Self {
        let base_bytes = base.rdb_bytes();
        let log_bytes = log.iter().map(Cmd::resp_len).sum();
        Self {
            base,
            log,
            fsynced,
            base_bytes,
            log_bytes,
            incr_seq,
        }
    }

    /// Appends written commands (they are in the page cache, not yet
    /// fsynced).
    pub fn append(&mut self, cmds: &mut Vec<Cmd>) {
        self.log_bytes += cmds.iter().map(Cmd::resp_len).sum::<u64>();
        self.log.append(cmds);
    }

    /// `aof_current_size`: the base file and the incr files.
    pub fn size(&self) -> u64 {
        self.base_bytes + self.log_bytes
    }

    /// Replays the file into a dataset, as loading an AOF does.
    pub fn replay(&self) -> Dataset {
        let mut d = (*self.base).clone();
        for cmd in &self.log {
            super::apply_write(&mut d, cmd);
        }
        d
    }
}

/// The files of one node. They outlive its process.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub rdb: Option<RdbFile>,
    pub aof: Option<AofFile>,
    /// Cluster mode: `nodes.conf`.
    pub nodes_conf: Option<super::cluster::NodesConf>,
    /// What the host's system calls do now (scripted host faults).
    pub faults: super::host_faults::HostFaults,
}

impl Disk {
    /// A power loss keeps only what was fsynced.
    pub fn lose_unsynced(&mut self) {
        if let Some(aof) = &mut self.aof {
            aof.log.truncate(aof.fsynced);
            aof.log_bytes = aof.log.iter().map(Cmd::resp_len).sum();
        }
    }
}
