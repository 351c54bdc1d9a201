//! Live resharding: `CLUSTER SETSLOT` (clusterCommand()), `CLUSTER
//! GETKEYSINSLOT`, `MIGRATE` and `RESTORE-ASKING` (cluster.c:
//! migrateCommand(), restoreCommand()).
//!
//! MIGRATE blocks a real Redis for the round trip to the target; here the
//! source keeps its event loop but holds every client command until the
//! target has acknowledged, which clients observe the same way.

use super::*;
use crate::proto::{Cmd, Ctx, Key, Msg, Reply, SetSlot};
use crate::redis::Server;
use crate::trace::Level;
use crate::trace::names;

/// A MIGRATE waiting for the target's replies.
#[derive(Debug)]
pub struct MigrateJob {
    pub caller: ConnId,
    pub conn: ConnId,
    pub keys: Vec<Key>,
    pub pending: usize,
}

impl Server {
    /// `CLUSTER SETSLOT`.
    pub(in crate::redis) fn cluster_setslot(
        &mut self,
        ctx: &mut Ctx<'_>,
        slot: u16,
        action: SetSlot,
    ) -> Reply {
        let Some(mut c) = self.cluster.take() else {
            return Reply::Error("ERR This instance has cluster support disabled".into());
        };
        let r = self.setslot_with(&mut c, ctx, slot, action);
        self.cluster = Some(c);
        match r {
            Ok(()) => Reply::Ok,
            Err(e) => Reply::Error(e),
        }
    }

    fn setslot_with(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        slot: u16,
        action: SetSlot,
    ) -> Result<(), String> {
        if !c.i_am_master() {
            return Err("ERR Please use SETSLOT only with masters.".into());
        }
        let target_is_master = |c: &ClusterState, n: NodeId| {
            if c.node(n).is_slave() {
                Err("ERR Target node is not a master".to_string())
            } else {
                Ok(())
            }
        };
        match action {
            SetSlot::Migrating(n) => {
                if c.slot_owner(slot) != Some(c.myself) {
                    return Err(format!("ERR I'm not the owner of hash slot {slot}"));
                }
                target_is_master(c, n)?;
                c.migrating.insert(slot, n);
            }
            SetSlot::Importing(n) => {
                if c.slot_owner(slot) == Some(c.myself) {
                    return Err(format!("ERR I'm already the owner of hash slot {slot}"));
                }
                target_is_master(c, n)?;
                c.importing.insert(slot, n);
            }
            SetSlot::Stable => {
                c.importing.remove(&slot);
                c.migrating.remove(&slot);
            }
            SetSlot::Node(n) => {
                target_is_master(c, n)?;
                let keys = self.count_keys_in_slot(slot);
                if c.slot_owner(slot) == Some(c.myself) && n != c.myself && keys != 0 {
                    return Err(format!(
                        "ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."
                    ));
                }
                if keys == 0 {
                    c.migrating.remove(&slot);
                }
                let was_mine = c.slot_owner(slot) == Some(c.myself);
                c.bind_slot(slot, n);
                if was_mine
                    && n != c.myself
                    && c.me().numslots() == 0
                    && self.cfg.cluster.allow_replica_migration
                {
                    let name = c.name(n);
                    ctx.log(
                        Level::Warning,
                        names::redis::RECONFIGURED_AS_REPLICA,
                        format!(
                            "Configuration change detected. Reconfiguring myself as a replica of {name}"
                        ),
                    );
                    self.cluster_set_master(c, ctx, n);
                }
                if n == c.myself && c.importing.contains_key(&slot) {
                    if self.bump_epoch_without_consensus(c, ctx) {
                        ctx.log(
                            Level::Warning,
                            "configEpoch updated after importing slot",
                            format!("configEpoch updated after importing slot {slot}"),
                        );
                    }
                    c.importing.remove(&slot);
                    self.broadcast_pong(c, ctx, false);
                }
            }
        }
        c.todo_save = true;
        c.todo_update_state = true;
        Ok(())
    }

    pub(in crate::redis) fn count_keys_in_slot(&self, slot: u16) -> usize {
        self.data
            .keys()
            .filter(|k| slots::key_hash_slot(k.as_bytes()) == slot)
            .count()
    }

    /// `CLUSTER GETKEYSINSLOT`.
    pub(in crate::redis) fn get_keys_in_slot(&self, slot: u16, count: u32) -> Reply {
        Reply::Keys(
            self.data
                .keys()
                .filter(|k| slots::key_hash_slot(k.as_bytes()) == slot)
                .take(count as usize)
                .cloned()
                .collect(),
        )
    }

    /// `MIGRATE`: sends the keys to the target as RESTORE-ASKING and holds
    /// client commands until it acknowledges them all.
    pub(in crate::redis) fn migrate_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        caller: ConnId,
        target: NodeId,
        keys: Vec<Key>,
    ) -> Option<Reply> {
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|k| self.data.get(k).is_some())
            .collect();
        if keys.is_empty() {
            return Some(Reply::Error("NOKEY".into()));
        }
        let conn = match self.migrate_conns.iter().find(|(n, _)| *n == target) {
            Some(&(_, conn)) => conn,
            None => {
                let conn = ctx.connect(target);
                self.migrate_conns.push((target, conn));
                conn
            }
        };
        for k in &keys {
            let v = self.data.get(k).cloned().expect("filtered above");
            ctx.send(conn, Msg::Cmd(Cmd::RestoreAsking(k.clone(), v)));
        }
        self.migrate_job = Some(MigrateJob {
            caller,
            conn,
            pending: keys.len(),
            keys,
        });
        None
    }

    /// A reply from a MIGRATE target; true if `conn` is a MIGRATE link.
    pub(in crate::redis) fn migrate_reply(
        &mut self,
        ctx: &mut Ctx<'_>,
        conn: ConnId,
        reply: Reply,
    ) -> bool {
        if !self.migrate_conns.iter().any(|&(_, c)| c == conn) {
            return false;
        }
        let Some(job) = self.migrate_job.as_mut().filter(|j| j.conn == conn) else {
            return true;
        };
        match reply {
            Reply::Ok => {
                job.pending -= 1;
                if job.pending == 0 {
                    let job = self.migrate_job.take().expect("present");
                    for k in job.keys {
                        if self.data.del(&k) {
                            self.dirty += 1;
                            self.propagate(Cmd::Del(k));
                        }
                    }
                    ctx.send(job.caller, Msg::Reply(Reply::Ok));
                }
            }
            other => {
                let job = self.migrate_job.take().expect("present");
                let e = match other {
                    Reply::Error(e) => format!("ERR Target instance replied with error: {e}"),
                    _ => "ERR Target instance replied with an unexpected reply".into(),
                };
                ctx.send(job.caller, Msg::Reply(Reply::Error(e)));
            }
        }
        true
    }

    /// A MIGRATE link failed; true if `conn` was one.
    pub(in crate::redis) fn migrate_conn_lost(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) -> bool {
        let before = self.migrate_conns.len();
        self.migrate_conns.retain(|&(_, c)| c != conn);
        if before == self.migrate_conns.len() {
            return false;
        }
        if let Some(job) = self.migrate_job.take_if(|j| j.conn == conn) {
            ctx.send(
                job.caller,
                Msg::Reply(Reply::Error(
                    "IOERR error or timeout reading to target instance".into(),
                )),
            );
        }
        true
    }
}
