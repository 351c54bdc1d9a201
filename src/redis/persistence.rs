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
}

impl AofFile {
    pub fn new(base: Rc<Dataset>) -> Self {
        Self {
            base,
            log: Vec::new(),
            fsynced: 0,
        }
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
        }
    }
}
