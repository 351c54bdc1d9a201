//! clusterUpdateState() and clusterBeforeSleep().

use super::*;
use crate::proto::Ctx;
use crate::redis::{Host, Server};
use crate::trace::Level;

impl Server {
    /// clusterUpdateState(): FAIL when a slot is unserved (with full
    /// coverage required) or when a majority of slot-serving masters is
    /// unreachable; a master back from the minority waits the rejoin delay.
    pub(super) fn update_state(&mut self, c: &mut ClusterState, ctx: &mut Ctx<'_>) {
        c.todo_update_state = false;
        let now = ctx.mstime();
        if c.first_call_time == 0 {
            c.first_call_time = now;
        }
        if c.i_am_master() && !c.state_ok && now.saturating_sub(c.first_call_time) < WRITABLE_DELAY
        {
            return;
        }
        let mut ok = true;
        if self.cfg.cluster.require_full_coverage {
            // Every slot has an owner (the owners' slot sets add up to all
            // of them) and no owner is FAIL.
            let owned: usize = c.nodes.iter().map(PeerNode::numslots).sum();
            let failed_owner = c.nodes.iter().any(|n| n.failed() && n.numslots() > 0);
            ok = owned == slots::SLOTS && !failed_owner;
        }
        c.size = 0;
        let mut reachable = 0;
        for n in &c.nodes {
            if n.is_master() && n.numslots() > 0 {
                c.size += 1;
                if n.flags & (FAIL | PFAIL) == 0 {
                    reachable += 1;
                }
            }
        }
        if reachable < c.size / 2 + 1 {
            ok = false;
            c.among_minority_time = now;
        }
        if ok != c.state_ok {
            let rejoin_delay = self
                .cfg
                .cluster
                .node_timeout
                .clamp(MIN_REJOIN_DELAY, MAX_REJOIN_DELAY);
            if ok && c.i_am_master() && now.saturating_sub(c.among_minority_time) < rejoin_delay {
                return;
            }
            let word = if ok { "ok" } else { "fail" };
            ctx.log(
                Level::Warning,
                "Cluster state changed",
                format!("Cluster state changed: {word}"),
            );
            c.state_ok = ok;
        }
    }

    /// clusterBeforeSleep(): what message handlers asked to be done before
    /// the event loop sleeps.
    pub(in crate::redis) fn cluster_before_sleep(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
    ) {
        let Some(mut c) = self.cluster.take() else {
            return;
        };
        if c.todo_handle_failover {
            if !c.i_am_master() {
                self.handle_manual_failover(&mut c, ctx);
                self.handle_slave_failover(&mut c, ctx, host);
            }
            c.todo_handle_failover = false;
        }
        if c.todo_update_state {
            self.update_state(&mut c, ctx);
        }
        if c.todo_save {
            c.todo_save = false;
            host.disk.nodes_conf = Some(c.save());
        }
        self.cluster = Some(c);
    }
}
