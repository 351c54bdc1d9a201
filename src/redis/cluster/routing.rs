//! getNodeByQuery() for the keyed commands redsim models, one key or
//! several, and the redirection texts of clusterRedirectClient().

use super::*;
use crate::proto::{Cmd, Reply};
use crate::redis::Server;

pub const ERR_DOWN_STATE: &str = "CLUSTERDOWN The cluster is down";
pub const ERR_DOWN_RO_STATE: &str =
    "CLUSTERDOWN The cluster is down and only accepts read commands";
pub const ERR_DOWN_UNBOUND: &str = "CLUSTERDOWN Hash slot not served";
pub const ERR_CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";
pub const ERR_TRYAGAIN: &str = "TRYAGAIN Multiple keys request during rehashing of slot";

/// The keys a command addresses, in order (getKeysFromCommand()).
pub fn command_keys(cmd: &Cmd) -> Vec<&str> {
    match cmd {
        Cmd::Get(k) | Cmd::Set(k, _) | Cmd::Del(k) | Cmd::Incr(k) | Cmd::RestoreAsking(k, _) => {
            vec![k]
        }
        Cmd::MSet(pairs) => pairs.iter().map(|(k, _)| k.as_str()).collect(),
        Cmd::MGet(keys) => keys.iter().map(|k| k.as_str()).collect(),
        Cmd::Named { spec, argv } => spec
            .key_indexes(argv.len())
            .into_iter()
            .filter_map(|i| argv.get(i).map(String::as_str))
            .collect(),
        _ => Vec::new(),
    }
}

impl Server {
    /// The redirection a keyed command gets here, or `None` to serve it.
    pub(in crate::redis) fn cluster_redirect(
        &self,
        cmd: &Cmd,
        asking: bool,
        readonly: bool,
    ) -> Option<Reply> {
        let c = self.cluster.as_ref()?;
        let keys = command_keys(cmd);
        let first = *keys.first()?;
        let slot = slots::key_hash_slot(first.as_bytes());
        let Some(owner) = c.slot_owner(slot) else {
            return Some(Reply::Error(ERR_DOWN_UNBOUND.into()));
        };
        let migrating_to = c.migrating.get(&slot).filter(|_| owner == c.myself);
        let importing = migrating_to.is_none() && c.importing.contains_key(&slot);
        let (mut multiple_keys, mut missing, mut existing) = (false, 0, 0);
        for (i, key) in keys.iter().enumerate() {
            if i > 0 && *key != first {
                if slots::key_hash_slot(key.as_bytes()) != slot {
                    return Some(Reply::Error(ERR_CROSSSLOT.into()));
                }
                multiple_keys = true;
            }
            if migrating_to.is_some() || importing {
                if self.data.get(key).is_none() {
                    missing += 1;
                } else {
                    existing += 1;
                }
            }
        }
        let write = cmd.is_write();
        if !c.state_ok {
            if !self.cfg.cluster.allow_reads_when_down {
                return Some(Reply::Error(ERR_DOWN_STATE.into()));
            } else if write {
                return Some(Reply::Error(ERR_DOWN_RO_STATE.into()));
            }
        }
        if let Some(&to) = migrating_to
            && missing > 0
        {
            if existing > 0 {
                return Some(Reply::Error(ERR_TRYAGAIN.into()));
            }
            return Some(Reply::Error(format!("ASK {slot} {}", c.node(to).addr)));
        }
        if importing && asking {
            if multiple_keys && missing > 0 {
                return Some(Reply::Error(ERR_TRYAGAIN.into()));
            }
            return None;
        }
        if readonly && !write && c.node(c.myself).slaveof == Some(owner) {
            // READONLY: a replica serves reads of its master's slots.
            return None;
        }
        if owner != c.myself {
            return Some(Reply::Error(format!("MOVED {slot} {}", c.node(owner).addr)));
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
