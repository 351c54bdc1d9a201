//! Replica elections (clusterHandleSlaveFailover()), votes
//! (clusterSendFailoverAuthIfNeeded()), promotion, manual failover and
//! replica migration.

use rand::RngExt;

use super::cron::Via;
use super::*;
use crate::proto::Ctx;
use crate::proto::bus::{BusKind, BusMsg};
use crate::redis::pause::Purpose;
use crate::redis::{Host, Server};
use crate::trace::Level;
use crate::trace::names;

/// `CLUSTER FAILOVER [FORCE|TAKEOVER]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverMode {
    Default,
    Force,
    Takeover,
}

impl Server {
    /// clusterHandleSlaveFailover(): schedule, request votes, count them,
    /// and take over the master's slots on a majority.
    pub(super) fn handle_slave_failover(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
    ) {
        c.todo_handle_failover = false;
        let now = ctx.mstime();
        let nt = self.cfg.cluster.node_timeout;
        let auth_age = now.saturating_sub(c.failover_auth_time);
        let needed_quorum = c.size / 2 + 1;
        let manual = c.mf_end != 0 && c.mf_can_start;
        let auth_timeout = (nt * 2).max(2000);
        let auth_retry_time = auth_timeout * 2;
        let me = c.me();
        let master = me.slaveof;
        if me.is_master()
            || master.is_none_or(|m| (!c.node(m).failed() && !manual) || c.node(m).numslots() == 0)
            || (self.cfg.cluster.replica_no_failover && !manual)
        {
            c.cant_failover_reason = CantFailover::None;
            return;
        }
        let unixtime = ctx.unixtime();
        let mut data_age = match &self.replica {
            Some(r) if r.is_connected() => unixtime.saturating_sub(r.lastinteraction) * 1000,
            Some(r) => unixtime.saturating_sub(r.down_since) * 1000,
            None => unixtime * 1000,
        };
        if data_age > nt {
            data_age -= nt;
        }
        let factor = self.cfg.cluster.replica_validity_factor;
        if factor > 0
            && data_age > self.cfg.repl_ping_replica_period * 1000 + nt * factor
            && !manual
        {
            self.log_cant_failover(c, ctx, CantFailover::DataAge);
            return;
        }
        if auth_age > auth_retry_time {
            let jitter = c.rng.random_range(0..500u64);
            c.failover_auth_time = now + 500 + jitter;
            c.failover_auth_count = 0;
            c.failover_auth_sent = false;
            c.failover_auth_rank = self.slave_rank(c);
            c.failover_auth_time += u64::from(c.failover_auth_rank) * 1000;
            if c.mf_end != 0 {
                c.failover_auth_time = now;
                c.failover_auth_rank = 0;
                c.todo_handle_failover = true;
            }
            ctx.log(
                Level::Warning,
                "Start of election delayed for",
                format!(
                    "Start of election delayed for {} milliseconds (rank #{}, offset {}).",
                    c.failover_auth_time as i64 - now as i64,
                    c.failover_auth_rank,
                    self.replication_get_slave_offset()
                ),
            );
            self.broadcast_pong(c, ctx, true);
            return;
        }
        if !c.failover_auth_sent && c.mf_end == 0 {
            let newrank = self.slave_rank(c);
            if newrank > c.failover_auth_rank {
                let added = u64::from(newrank - c.failover_auth_rank) * 1000;
                c.failover_auth_time += added;
                c.failover_auth_rank = newrank;
                ctx.log(
                    Level::Warning,
                    names::redis::REPLICA_RANK_UPDATED,
                    format!(
                        "Replica rank updated to #{newrank}, added {added} milliseconds of delay."
                    ),
                );
            }
        }
        if now < c.failover_auth_time {
            self.log_cant_failover(c, ctx, CantFailover::WaitingDelay);
            return;
        }
        if auth_age > auth_timeout {
            self.log_cant_failover(c, ctx, CantFailover::Expired);
            return;
        }
        if !c.failover_auth_sent {
            c.current_epoch += 1;
            c.failover_auth_epoch = c.current_epoch;
            ctx.log(
                Level::Warning,
                names::redis::ELECTION_STARTED,
                format!(
                    "Starting a failover election for epoch {}.",
                    c.current_epoch
                ),
            );
            let mut req = self.bus_header(c, BusKind::AuthRequest);
            req.forceack = c.mf_end != 0;
            self.broadcast(c, ctx, &req);
            c.failover_auth_sent = true;
            c.todo_save = true;
            c.todo_update_state = true;
            return;
        }
        if c.failover_auth_count as usize >= needed_quorum {
            ctx.log(
                Level::Warning,
                names::redis::ELECTION_WON,
                names::redis::ELECTION_WON.into(),
            );
            if c.me().config_epoch < c.failover_auth_epoch {
                let epoch = c.failover_auth_epoch;
                c.me_mut().config_epoch = epoch;
                ctx.log(
                    Level::Warning,
                    "configEpoch set to after successful failover",
                    format!("configEpoch set to {epoch} after successful failover"),
                );
            }
            self.failover_replace_your_master(c, ctx, host);
        } else {
            self.log_cant_failover(c, ctx, CantFailover::WaitingVotes);
        }
    }

    /// clusterGetSlaveRank(): how many sibling replicas that may fail over
    /// advertise a larger offset than mine.
    fn slave_rank(&self, c: &ClusterState) -> u32 {
        let Some(master) = c.me().slaveof else {
            return 0;
        };
        let mine = self.replication_get_slave_offset();
        c.replicas_of(master)
            .filter(|&r| r != c.myself)
            .filter(|&r| c.node(r).flags & NOFAILOVER == 0 && c.node(r).repl_offset > mine)
            .count() as u32
    }

    /// clusterLogCantFailover(): at most every 10 s per reason, and not in
    /// the first node-timeout + 5 s after the master failed.
    fn log_cant_failover(&mut self, c: &mut ClusterState, ctx: &mut Ctx<'_>, reason: CantFailover) {
        let unixtime = ctx.unixtime();
        if reason == c.cant_failover_reason
            && unixtime.saturating_sub(c.cant_failover_lastlog) < CANT_FAILOVER_RELOG_PERIOD
        {
            return;
        }
        c.cant_failover_reason = reason;
        let nolog_fail_time = self.cfg.cluster.node_timeout + 5000;
        if let Some(m) = c.me().slaveof
            && c.node(m).failed()
            && ctx.mstime().saturating_sub(c.node(m).fail_time) < nolog_fail_time
        {
            return;
        }
        let msg = match reason {
            CantFailover::DataAge => {
                "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option."
            }
            CantFailover::WaitingDelay => "Waiting the delay before I can start a new failover.",
            CantFailover::Expired => "Failover attempt expired.",
            CantFailover::WaitingVotes => "Waiting for votes, but majority still not reached.",
            CantFailover::None => "Unknown reason code.",
        };
        c.cant_failover_lastlog = unixtime;
        ctx.log(
            Level::Warning,
            names::redis::UNABLE_TO_FAILOVER,
            format!("Currently unable to failover: {msg}"),
        );
    }

    /// clusterFailoverReplaceYourMaster(): become a master and take every
    /// slot of the old one, then tell everybody.
    fn failover_replace_your_master(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
    ) {
        let Some(old) = c.me().slaveof.filter(|_| !c.i_am_master()) else {
            return;
        };
        c.set_node_as_master(c.myself);
        self.replicaof_no_one(ctx, host, "");
        let slots: Vec<u16> = c.node(old).slots.iter().collect();
        for slot in slots {
            c.bind_slot(slot, c.myself);
        }
        self.update_state(c, ctx);
        c.todo_save = true;
        self.broadcast_pong(c, ctx, false);
        self.reset_manual_failover(c);
    }

    /// clusterSendFailoverAuthIfNeeded(): a slot-serving master votes once
    /// per epoch, for a replica of a FAIL master (or FORCEACK), not twice
    /// for the same master within 2 × node-timeout, and only if no claimed
    /// slot has a newer owner.
    pub(super) fn send_failover_auth_if_needed(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        req: &BusMsg,
    ) {
        let node = req.sender;
        if !c.i_am_master() || c.me().numslots() == 0 {
            return;
        }
        let name = c.name(node);
        let deny = |ctx: &mut Ctx<'_>, why: String| {
            ctx.log(
                Level::Warning,
                names::redis::AUTH_DENIED,
                format!("Failover auth denied to {name}: {why}"),
            );
        };
        if req.current_epoch < c.current_epoch {
            deny(
                ctx,
                format!(
                    "reqEpoch ({}) < curEpoch({})",
                    req.current_epoch, c.current_epoch
                ),
            );
            return;
        }
        if c.last_vote_epoch == c.current_epoch {
            deny(ctx, format!("already voted for epoch {}", c.current_epoch));
            return;
        }
        let master = c.node(node).slaveof;
        if c.node(node).is_master() {
            deny(ctx, "it is a master node".into());
            return;
        }
        let Some(master) = master else {
            deny(ctx, "I don't know its master".into());
            return;
        };
        if !c.node(master).failed() && !req.forceack {
            deny(ctx, "its master is up".into());
            return;
        }
        let now = ctx.mstime();
        let nt = self.cfg.cluster.node_timeout;
        let since = now.saturating_sub(c.node(master).voted_time);
        if since < nt * 2 {
            deny(
                ctx,
                format!(
                    "can't vote about this master before {} milliseconds",
                    nt * 2 - since
                ),
            );
            return;
        }
        for slot in req.myslots.iter() {
            let Some(owner) = c.slot_owner(slot) else {
                continue;
            };
            let epoch = c.node(owner).config_epoch;
            if epoch > req.config_epoch {
                deny(
                    ctx,
                    format!(
                        "slot {slot} epoch ({epoch}) > reqEpoch ({})",
                        req.config_epoch
                    ),
                );
                return;
            }
        }
        c.last_vote_epoch = c.current_epoch;
        host.cluster_log.votes.push((c.current_epoch, node));
        c.node_mut(master).voted_time = now;
        c.todo_save = true;
        let mut ack = self.bus_header(c, BusKind::AuthAck);
        ack.gossip.clear();
        self.bus_send(c, ctx, Via::Link(node), ack);
        ctx.log(
            Level::Warning,
            names::redis::AUTH_GRANTED,
            format!(
                "Failover auth granted to {name} for epoch {}",
                c.current_epoch
            ),
        );
    }

    /// resetManualFailover(): a master in a manual failover unpauses.
    pub(super) fn reset_manual_failover(&mut self, c: &mut ClusterState) {
        if c.mf_slave.is_some() {
            self.pauses.unpause(Purpose::Failover);
        }
        c.mf_end = 0;
        c.mf_can_start = false;
        c.mf_slave = None;
        c.mf_master_offset = -1;
    }

    /// manualFailoverCheckTimeout().
    pub(super) fn manual_failover_check_timeout(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
    ) {
        if c.mf_end != 0 && c.mf_end < ctx.mstime() {
            ctx.log(
                Level::Warning,
                "Manual failover timed out.",
                "Manual failover timed out.".into(),
            );
            self.reset_manual_failover(c);
        }
    }

    /// clusterHandleManualFailover(): the replica may start once it has
    /// processed the paused master's whole stream.
    pub(super) fn handle_manual_failover(&mut self, c: &mut ClusterState, ctx: &mut Ctx<'_>) {
        if c.mf_end == 0 || c.mf_can_start || c.mf_master_offset == -1 {
            return;
        }
        if c.mf_master_offset == self.replication_get_slave_offset() as i64 {
            c.mf_can_start = true;
            ctx.log(
                Level::Warning,
                "All master replication stream processed, manual failover can start.",
                "All master replication stream processed, manual failover can start.".into(),
            );
            c.todo_handle_failover = true;
        }
    }

    /// `CLUSTER FAILOVER [FORCE|TAKEOVER]` as typed (clusterCommand()):
    /// another argument, or more than one, is a syntax error.
    pub(in crate::redis) fn cluster_failover_line(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        argv: &[String],
    ) -> crate::proto::Reply {
        use crate::proto::Reply;
        let mode = match argv.get(2).map(|a| a.to_ascii_lowercase()) {
            _ if argv.len() > 3 => return Reply::Error("ERR syntax error".into()),
            None => FailoverMode::Default,
            Some(m) if m == "force" => FailoverMode::Force,
            Some(m) if m == "takeover" => FailoverMode::Takeover,
            Some(_) => return Reply::Error("ERR syntax error".into()),
        };
        match self.cluster_failover_command(ctx, host, mode) {
            Ok(()) => Reply::Ok,
            Err(e) => Reply::Error(e.into()),
        }
    }

    /// `CLUSTER FAILOVER [FORCE|TAKEOVER]` sent to this node.
    fn cluster_failover_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        mode: FailoverMode,
    ) -> Result<(), &'static str> {
        let Some(mut c) = self.cluster.take() else {
            return Err("ERR This instance has cluster support disabled");
        };
        let r = self.cluster_failover_with(&mut c, ctx, host, mode);
        self.cluster = Some(c);
        r
    }

    fn cluster_failover_with(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        mode: FailoverMode,
    ) -> Result<(), &'static str> {
        if c.i_am_master() {
            return Err("ERR You should send CLUSTER FAILOVER to a replica");
        }
        let Some(master) = c.me().slaveof else {
            return Err("ERR I'm a replica but my master is unknown to me");
        };
        if mode == FailoverMode::Default
            && (c.node(master).failed() || c.node(master).link.is_none())
        {
            return Err("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE");
        }
        self.reset_manual_failover(c);
        c.mf_end = ctx.mstime() + MF_TIMEOUT;
        match mode {
            FailoverMode::Takeover => {
                ctx.log(
                    Level::Warning,
                    "Taking over the master (user request).",
                    "Taking over the master (user request).".into(),
                );
                self.bump_epoch_without_consensus(c, ctx);
                self.failover_replace_your_master(c, ctx, host);
            }
            FailoverMode::Force => {
                ctx.log(
                    Level::Warning,
                    "Forced failover user request accepted.",
                    "Forced failover user request accepted.".into(),
                );
                c.mf_can_start = true;
            }
            FailoverMode::Default => {
                ctx.log(
                    Level::Warning,
                    "Manual failover user request accepted.",
                    "Manual failover user request accepted.".into(),
                );
                let mut start = self.bus_header(c, BusKind::MfStart);
                start.gossip.clear();
                self.bus_send(c, ctx, Via::Link(master), start);
            }
        }
        Ok(())
    }

    /// clusterBumpConfigEpochWithoutConsensus(): true if it took a new epoch.
    pub(super) fn bump_epoch_without_consensus(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let max_epoch = c
            .nodes
            .iter()
            .map(|n| n.config_epoch)
            .max()
            .unwrap_or(0)
            .max(c.current_epoch);
        let mine = c.me().config_epoch;
        if mine == 0 || mine != max_epoch {
            c.current_epoch += 1;
            let epoch = c.current_epoch;
            c.me_mut().config_epoch = epoch;
            c.todo_save = true;
            ctx.log(
                Level::Warning,
                "New configEpoch set to",
                format!("New configEpoch set to {epoch}"),
            );
            return true;
        }
        false
    }

    /// clusterHandleSlaveMigration(): a replica of the best-covered master
    /// moves to an orphaned master after 5 s.
    pub(super) fn handle_slave_migration(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        max_slaves: usize,
    ) {
        if !c.state_ok {
            return;
        }
        let Some(mymaster) = c.me().slaveof else {
            return;
        };
        let okslaves = c
            .replicas_of(mymaster)
            .filter(|&r| c.node(r).flags & (FAIL | PFAIL) == 0)
            .count();
        if okslaves <= self.cfg.cluster.migration_barrier as usize {
            return;
        }
        let now = ctx.mstime();
        let mut candidate = c.myself;
        let mut target = None;
        for node in 0..c.nodes.len() as NodeId {
            let n = c.node(node);
            let mut ok = 0;
            let mut is_orphaned = !(n.is_slave() || n.failed());
            if n.flags & MIGRATE_TO == 0 {
                is_orphaned = false;
            }
            if n.is_master() {
                ok = c.replicas_of(node).filter(|&r| !c.node(r).failed()).count();
            }
            if ok > 0 {
                is_orphaned = false;
            }
            if is_orphaned {
                if target.is_none() && n.numslots() > 0 {
                    target = Some(node);
                }
                if c.node(node).orphaned_time == 0 {
                    c.node_mut(node).orphaned_time = now;
                }
            } else {
                c.node_mut(node).orphaned_time = 0;
            }
            if ok == max_slaves {
                for r in c.replicas_of(node).collect::<Vec<_>>() {
                    if c.node(r).id.0 < c.node(candidate).id.0 {
                        candidate = r;
                    }
                }
            }
        }
        if let Some(t) = target
            && candidate == c.myself
            && now.saturating_sub(c.node(t).orphaned_time) > SLAVE_MIGRATION_DELAY
        {
            let name = c.name(t);
            ctx.log(
                Level::Warning,
                "Migrating to orphaned master",
                format!("Migrating to orphaned master {name}"),
            );
            self.cluster_set_master(c, ctx, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Msg, RunId};
    use crate::redis::testing::{
        H, NODE_TIMEOUT, bus_from, call_cluster, cluster, cluster_conf, send_bus, server, state,
    };
    use crate::time::ms;

    /// Node 0 replicates master 1 with siblings 4 and 5; masters 1, 2, 3
    /// serve a third of the slots each; node 6 replicates master 2.
    fn replica_of_1() -> H {
        let mut h = cluster(
            vec![Some(1), None, None, None, Some(1), Some(1), Some(2)],
            cluster_conf(),
        );
        h.run_until(ms(500));
        h
    }

    /// Master 1 is FAIL in node 0's view, the cluster has 3 slot-serving
    /// masters, and node 0 has processed 50 bytes of its master's stream.
    fn given_master_failed(h: &mut H) {
        let side = server(h).replica.as_mut().expect("replicating");
        side.cached = Some((RunId([b'x'; 40]), 50));
        let c = state(h);
        c.nodes[1].flags |= FAIL;
        c.size = 3;
    }

    fn handle_failover(h: &mut H) {
        call_cluster(h, |p, c, ctx, host| p.handle_slave_failover(c, ctx, host));
    }

    /// clusterHandleSlaveFailover() and clusterGetSlaveRank(): the first call
    /// after the master FAILs schedules the election at now + 500 ms +
    /// random() % 500 + rank x 1000 ms. Rank 1: sibling 4 advertises offset
    /// 100 > 50; sibling 5's equal offset shares the rank; node 6 replicates
    /// another master. The random draw is the next of the bus stream.
    #[test]
    fn the_election_waits_500_ms_plus_jitter_plus_1_s_per_rank() {
        let mut h = replica_of_1();
        given_master_failed(&mut h);
        for (node, offset) in [(4, 100), (5, 50), (6, 999)] {
            state(&mut h).nodes[node].repl_offset = offset;
        }
        let jitter = state(&mut h).rng.clone().random_range(0..500u64);
        let now = h.mstime(0);
        handle_failover(&mut h);
        let delay = 500 + jitter + 1000;
        assert_eq!(state(&mut h).failover_auth_time, now + delay);
        assert_eq!(state(&mut h).failover_auth_rank, 1);
        let line =
            format!("Start of election delayed for {delay} milliseconds (rank #1, offset 50).");
        assert_eq!(
            h.events(0, "Start of election delayed for"),
            vec![(ms(500), line)]
        );
    }

    /// clusterGetSlaveRank(): a sibling flagged NOFAILOVER does not count,
    /// whatever its offset.
    #[test]
    fn a_nofailover_sibling_does_not_push_the_rank() {
        let mut h = replica_of_1();
        given_master_failed(&mut h);
        let c = state(&mut h);
        c.nodes[4].repl_offset = 100;
        c.nodes[4].flags |= NOFAILOVER;
        handle_failover(&mut h);
        assert_eq!(state(&mut h).failover_auth_rank, 0);
    }

    /// clusterHandleSlaveFailover(): until the request is sent, a worse rank
    /// adds 1000 ms per step to the scheduled time (it never gets earlier).
    #[test]
    fn a_worse_rank_before_the_request_adds_1_s_per_step() {
        let mut h = replica_of_1();
        given_master_failed(&mut h);
        handle_failover(&mut h);
        let scheduled = state(&mut h).failover_auth_time;
        state(&mut h).nodes[4].repl_offset = 100;
        state(&mut h).nodes[5].repl_offset = 100;
        handle_failover(&mut h);
        assert_eq!(state(&mut h).failover_auth_time, scheduled + 2000);
        let line = "Replica rank updated to #2, added 2000 milliseconds of delay.";
        assert_eq!(h.events(0, "Replica rank updated")[0].1, line);
    }

    /// clusterHandleSlaveFailover(): the vote request goes out once now
    /// reaches failover_auth_time, not a millisecond before; it takes a new
    /// epoch (currentEpoch 7 → 7 + 1, the cluster was created at 7) and is
    /// broadcast to the six other nodes.
    #[test]
    fn the_request_goes_out_at_the_scheduled_time() {
        let mut h = replica_of_1();
        given_master_failed(&mut h);
        handle_failover(&mut h);
        let now = h.mstime(0);
        state(&mut h).failover_auth_time = now + 1;
        handle_failover(&mut h);
        assert_eq!(
            state(&mut h).cant_failover_reason,
            CantFailover::WaitingDelay
        );
        assert!(!state(&mut h).failover_auth_sent);
        state(&mut h).failover_auth_time = now;
        let mark = h.mark();
        handle_failover(&mut h);
        assert_eq!(state(&mut h).current_epoch, 8);
        assert_eq!(state(&mut h).failover_auth_epoch, 8);
        let requests = h
            .sent_since(mark, 0)
            .into_iter()
            .filter(|s| matches!(&s.msg, Msg::Bus(b) if b.kind == BusKind::AuthRequest))
            .count();
        assert_eq!(requests, 6);
    }

    /// clusterHandleSlaveFailover(): an attempt expires once more than
    /// auth_timeout = max(2 x node-timeout, 2000) = 30 000 ms have passed
    /// since its scheduled time without a request.
    #[test]
    fn an_unsent_attempt_expires_after_twice_the_node_timeout() {
        let mut h = replica_of_1();
        given_master_failed(&mut h);
        handle_failover(&mut h);
        let now = h.mstime(0);
        state(&mut h).failover_auth_time = now - 2 * NODE_TIMEOUT - 1;
        handle_failover(&mut h);
        assert_eq!(state(&mut h).cant_failover_reason, CantFailover::Expired);
        state(&mut h).failover_auth_time = now - 2 * NODE_TIMEOUT;
        handle_failover(&mut h);
        assert!(state(&mut h).failover_auth_sent);
    }

    /// clusterHandleSlaveFailover()'s data-age check: with
    /// cluster-replica-validity-factor 10, a replica whose link has been
    /// down for more than repl-ping-replica-period x 1000 + node-timeout x
    /// 10 = 160 000 ms (after subtracting one node-timeout) does not fail
    /// over. Down 175 s: 175 000 - 15 000 = 160 000, still allowed; 176 s
    /// is not.
    #[test]
    fn a_replica_cut_off_too_long_does_not_fail_over() {
        let mut h = replica_of_1();
        given_master_failed(&mut h);
        server(&mut h).cfg.cluster.replica_validity_factor = 10;
        let unixtime = h.mstime(0) / 1000;
        server(&mut h).replica.as_mut().expect("replica").down_since = unixtime - 176;
        handle_failover(&mut h);
        assert_eq!(state(&mut h).cant_failover_reason, CantFailover::DataAge);
        assert_eq!(state(&mut h).failover_auth_time, 0);
        server(&mut h).replica.as_mut().expect("replica").down_since = unixtime - 175;
        handle_failover(&mut h);
        assert_ne!(state(&mut h).failover_auth_time, 0);
    }

    /// Node 0 is a master serving slots 0-5460 with masters 1 and 2;
    /// nodes 3, 4, 5 replicate masters 0, 1, 2. Master 1 is FAIL.
    fn voter() -> H {
        let mut h = cluster(
            vec![None, None, None, Some(0), Some(1), Some(2)],
            cluster_conf(),
        );
        h.run_until(ms(500));
        state(&mut h).nodes[1].flags |= FAIL;
        h
    }

    /// Replica `from` asks node 0 for its vote in `epoch`; whether node 0
    /// acknowledged.
    fn request(h: &mut H, from: NodeId, epoch: u64, forceack: bool) -> bool {
        let mut req = bus_from(h, from, BusKind::AuthRequest);
        req.current_epoch = epoch;
        req.forceack = forceack;
        let mark = h.mark();
        send_bus(h, from, req);
        h.sent_since(mark, 0)
            .iter()
            .any(|s| s.to == from && matches!(&s.msg, Msg::Bus(b) if b.kind == BusKind::AuthAck))
    }

    fn denials(h: &H) -> Vec<String> {
        h.events(0, "Failover auth denied to")
            .into_iter()
            .map(|(_, d)| d.split(": ").nth(1).expect("reason").to_string())
            .collect()
    }

    /// clusterSendFailoverAuthIfNeeded(): one vote per epoch. The cluster
    /// was created at epoch 6; replica 4 asks in epoch 7 and gets the vote;
    /// replica 5 (its master 2 FAIL too) asking in epoch 7 is refused, and
    /// in epoch 8 granted.
    #[test]
    fn a_master_votes_once_per_epoch() {
        let mut h = voter();
        state(&mut h).nodes[2].flags |= FAIL;
        assert!(request(&mut h, 4, 7, false));
        assert!(!request(&mut h, 5, 7, false));
        assert_eq!(denials(&h), ["already voted for epoch 7"]);
        assert!(request(&mut h, 5, 8, false));
        assert_eq!(state(&mut h).last_vote_epoch, 8);
        assert_eq!(h.node(0).cluster_log.votes, [(7, 4), (8, 5)]);
    }

    /// clusterSendFailoverAuthIfNeeded(): no second vote about the same
    /// master within 2 x node-timeout (30 000 ms) of the last one.
    #[test]
    fn no_second_vote_for_a_master_within_twice_the_node_timeout() {
        let mut h = voter();
        let now = h.mstime(0);
        state(&mut h).nodes[1].voted_time = now - 2 * NODE_TIMEOUT + 1;
        assert!(!request(&mut h, 4, 7, false));
        assert_eq!(
            denials(&h),
            ["can't vote about this master before 1 milliseconds"]
        );
        state(&mut h).nodes[1].voted_time = now - 2 * NODE_TIMEOUT;
        assert!(request(&mut h, 4, 8, false));
    }

    /// clusterSendFailoverAuthIfNeeded(): a replica whose master is not FAIL
    /// gets no vote, unless the request carries FORCEACK (a manual
    /// failover).
    #[test]
    fn no_vote_while_the_master_is_up_unless_forced() {
        let mut h = voter();
        state(&mut h).nodes[1].flags &= !FAIL;
        assert!(!request(&mut h, 4, 7, false));
        assert_eq!(denials(&h), ["its master is up"]);
        assert!(request(&mut h, 4, 8, true));
    }

    /// clusterSendFailoverAuthIfNeeded(): no vote if a slot the request
    /// claims has an owner with a newer configEpoch. Master 1 (slots from
    /// 5461) has configEpoch 2; node 0 has seen 3 for it.
    #[test]
    fn no_vote_for_slots_with_a_newer_owner() {
        let mut h = voter();
        let req = bus_from(&mut h, 4, BusKind::AuthRequest);
        assert_eq!(req.config_epoch, 2);
        state(&mut h).nodes[1].config_epoch = 3;
        let mut req = req;
        req.current_epoch = 7;
        send_bus(&mut h, 4, req);
        assert_eq!(denials(&h), ["slot 5461 epoch (3) > reqEpoch (2)"]);
    }
}
