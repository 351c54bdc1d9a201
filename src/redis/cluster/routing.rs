//! getNodeByQuery() for the single-key commands redsim models, and the
//! redirection texts of clusterRedirectClient().

use super::*;
use crate::proto::addr::Directory;
use crate::proto::{Cmd, Reply};
use crate::redis::Server;

pub const ERR_DOWN_STATE: &str = "CLUSTERDOWN The cluster is down";
pub const ERR_DOWN_RO_STATE: &str =
    "CLUSTERDOWN The cluster is down and only accepts read commands";
pub const ERR_DOWN_UNBOUND: &str = "CLUSTERDOWN Hash slot not served";

/// The key a command addresses, if it has one.
pub fn command_key(cmd: &Cmd) -> Option<&str> {
    match cmd {
        Cmd::Get(k) | Cmd::Set(k, _) | Cmd::Del(k) | Cmd::Incr(k) | Cmd::RestoreAsking(k, _) => {
            Some(k)
        }
        _ => None,
    }
}

impl Server {
    /// The redirection a keyed command gets here, or `None` to serve it.
    pub(in crate::redis) fn cluster_redirect(
        &self,
        dir: &Directory,
        cmd: &Cmd,
        asking: bool,
    ) -> Option<Reply> {
        let c = self.cluster.as_ref()?;
        let key = command_key(cmd)?;
        let slot = slots::key_hash_slot(key.as_bytes());
        let Some(owner) = c.slot_owner(slot) else {
            return Some(Reply::Error(ERR_DOWN_UNBOUND.into()));
        };
        let migrating_to = c.migrating.get(&slot).filter(|_| owner == c.myself);
        let importing = owner != c.myself && c.importing.contains_key(&slot);
        let missing = (migrating_to.is_some() || importing) && self.data.get(key).is_none();
        let write = cmd.is_write();
        if !c.state_ok {
            if !self.cfg.cluster.allow_reads_when_down {
                return Some(Reply::Error(ERR_DOWN_STATE.into()));
            } else if write {
                return Some(Reply::Error(ERR_DOWN_RO_STATE.into()));
            }
        }
        if let Some(&to) = migrating_to
            && missing
        {
            return Some(Reply::Error(format!("ASK {slot} {}", dir.addr(to))));
        }
        if importing && asking {
            return None;
        }
        if owner != c.myself {
            return Some(Reply::Error(format!("MOVED {slot} {}", dir.addr(owner))));
        }
        None
    }

    /// `CLUSTER SLOTS`: each master's slot ranges with its address.
    pub(in crate::redis) fn cluster_slots(&self) -> Vec<(u16, u16, NodeId)> {
        let Some(c) = self.cluster.as_ref() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, n) in c.nodes.iter().enumerate() {
            if n.is_master() {
                for (lo, hi) in n.slots.ranges() {
                    out.push((lo, hi, i as NodeId));
                }
            }
        }
        out.sort_unstable();
        out
    }
}
