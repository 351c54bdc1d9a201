//! clusterProcessPacket(): what a node learns from each bus message.

use super::cron::Via;
use super::*;
use crate::proto::Ctx;
use crate::proto::bus::{BusKind, BusMsg};
use crate::redis::pause::{PauseType, Purpose};
use crate::redis::{Host, Server};
use crate::trace::Level;
use crate::trace::names;

impl Server {
    pub(in crate::redis) fn cluster_packet(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        msg: BusMsg,
    ) {
        let Some(mut c) = self.cluster.take() else {
            return;
        };
        self.process_packet(&mut c, ctx, host, conn, msg);
        self.cluster = Some(c);
    }

    fn process_packet(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        msg: BusMsg,
    ) {
        let now = ctx.mstime();
        let sender = msg.sender;
        if sender as usize >= c.nodes.len() || sender == c.myself {
            return;
        }
        let outbound = c.link_node(conn) == Some(sender);
        if let Some(from) = c.inbound.get_mut(&conn) {
            *from = Some(sender);
        }
        c.node_mut(sender).data_received = now;
        c.current_epoch = c.current_epoch.max(msg.current_epoch);
        if msg.config_epoch > c.node(sender).config_epoch {
            c.node_mut(sender).config_epoch = msg.config_epoch;
            c.todo_save = true;
        }
        c.node_mut(sender).repl_offset = msg.offset;
        if c.mf_end != 0
            && !c.i_am_master()
            && c.me().slaveof == Some(sender)
            && msg.paused
            && c.mf_master_offset == -1
        {
            c.mf_master_offset = msg.offset as i64;
            ctx.log(
                Level::Warning,
                "Received replication offset for paused master manual failover",
                format!(
                    "Received replication offset for paused master manual failover: {}",
                    msg.offset
                ),
            );
            self.handle_manual_failover(c, ctx);
        }
        match &msg.kind {
            BusKind::Ping | BusKind::Pong => {
                if msg.kind == BusKind::Ping {
                    self.send_ping(c, ctx, Via::Conn(conn), BusKind::Pong);
                }
                self.process_ping_pong(c, ctx, host, outbound, &msg);
            }
            BusKind::Fail(about) => {
                let about = *about;
                if (about as usize) < c.nodes.len() && about != c.myself && !c.node(about).failed()
                {
                    let (from, name) = (c.name(sender), c.name(about));
                    ctx.log(
                        Level::Notice,
                        "FAIL message received from",
                        format!("FAIL message received from {from} about {name}"),
                    );
                    let node = c.node_mut(about);
                    node.flags |= FAIL;
                    node.fail_time = now;
                    node.flags &= !PFAIL;
                    c.todo_update_state = true;
                    c.todo_save = true;
                }
            }
            BusKind::AuthRequest => self.send_failover_auth_if_needed(c, ctx, host, &msg),
            BusKind::AuthAck => {
                let s = c.node(sender);
                if s.is_master() && s.numslots() > 0 && msg.current_epoch >= c.failover_auth_epoch {
                    c.failover_auth_count += 1;
                    c.todo_handle_failover = true;
                }
            }
            BusKind::MfStart => {
                if c.node(sender).slaveof != Some(c.myself) || !c.i_am_master() {
                    return;
                }
                self.reset_manual_failover(c);
                c.mf_end = now + MF_TIMEOUT;
                c.mf_slave = Some(sender);
                self.pauses.pause(
                    Purpose::Failover,
                    (now + MF_TIMEOUT * MF_PAUSE_MULT) as i64,
                    PauseType::Write,
                    now as i64,
                );
                let name = c.name(sender);
                ctx.log(
                    Level::Warning,
                    "Manual failover requested by replica",
                    format!("Manual failover requested by replica {name}."),
                );
                self.send_ping(c, ctx, Via::Conn(conn), BusKind::Ping);
            }
            BusKind::Update {
                node,
                config_epoch,
                slots,
            } => {
                let node = *node;
                if node as usize >= c.nodes.len() || c.node(node).config_epoch >= *config_epoch {
                    return;
                }
                if c.node(node).is_slave() {
                    c.set_node_as_master(node);
                }
                c.node_mut(node).config_epoch = *config_epoch;
                c.todo_save = true;
                self.update_slots_config_with(c, ctx, node, *config_epoch, slots);
            }
        }
    }

    fn process_ping_pong(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        outbound: bool,
        msg: &BusMsg,
    ) {
        let sender = msg.sender;
        let now = ctx.mstime();
        let node = c.node_mut(sender);
        node.flags = (node.flags & !NOFAILOVER) | (msg.flags & NOFAILOVER);
        if msg.kind == BusKind::Ping && !outbound {
            self.update_address_if_needed(c, ctx, host, msg);
        }
        let node = c.node_mut(sender);
        if outbound && msg.kind == BusKind::Pong {
            node.pong_received = now;
            node.ping_sent = 0;
            if node.timed_out() {
                node.flags &= !PFAIL;
                c.todo_save = true;
                c.todo_update_state = true;
            } else if node.failed() {
                self.clear_node_failure_if_needed(c, ctx, sender);
            }
        }
        // Role switch: master -> replica or replica -> master.
        match msg.slaveof {
            None => c.set_node_as_master(sender),
            Some(master) => {
                if c.node(sender).is_master() {
                    let owned: Vec<u16> = c.node(sender).slots.iter().collect();
                    for slot in owned {
                        c.owner[slot as usize] = NO_OWNER;
                    }
                    let node = c.node_mut(sender);
                    node.slots = Rc::new(SlotSet::default());
                    node.flags &= !(MASTER | MIGRATE_TO);
                    node.flags |= SLAVE;
                    c.todo_save = true;
                    c.todo_update_state = true;
                }
                if (master as usize) < c.nodes.len() && c.node(sender).slaveof != Some(master) {
                    c.set_slaveof(sender, Some(master));
                    c.todo_save = true;
                }
            }
        }
        let sender_master = if c.node(sender).is_master() {
            Some(sender)
        } else {
            c.node(sender).slaveof
        };
        let dirty_slots = sender_master.is_some_and(|m| *c.node(m).slots != *msg.myslots);
        if c.node(sender).is_master() && dirty_slots {
            self.update_slots_config_with(c, ctx, sender, msg.config_epoch, &msg.myslots);
        }
        if dirty_slots {
            // The sender claims slots someone newer owns: tell it (UPDATE).
            for slot in msg.myslots.iter() {
                let Some(owner) = c.slot_owner(slot) else {
                    continue;
                };
                if owner == sender {
                    continue;
                }
                if c.node(owner).config_epoch > msg.config_epoch {
                    let (s, o) = (c.name(sender), c.name(owner));
                    ctx.log(
                        Level::Verbose,
                        "has old slots configuration, sending an UPDATE message",
                        format!(
                            "Node {s} has old slots configuration, sending an UPDATE message about {o}"
                        ),
                    );
                    let mut update = self.bus_header(
                        c,
                        BusKind::Update {
                            node: owner,
                            config_epoch: c.node(owner).config_epoch,
                            slots: c.node(owner).slots.clone(),
                        },
                    );
                    update.gossip.clear();
                    self.bus_send(c, ctx, Via::Link(sender), update);
                    break;
                }
            }
        }
        if c.i_am_master() && c.node(sender).is_master() && msg.config_epoch == c.me().config_epoch
        {
            self.handle_config_epoch_collision(c, ctx, sender);
        }
        self.process_gossip_section(c, ctx, msg);
    }

    /// clusterHandleConfigEpochCollision(): of two masters with the same
    /// configEpoch, the one with the smaller node ID takes a new epoch.
    fn handle_config_epoch_collision(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        sender: NodeId,
    ) {
        if c.node(sender).id.0 <= c.me().id.0 {
            return;
        }
        c.current_epoch += 1;
        let epoch = c.current_epoch;
        c.me_mut().config_epoch = epoch;
        c.todo_save = true;
        let name = c.name(sender);
        ctx.log(
            Level::Verbose,
            names::redis::CONFIG_EPOCH_COLLISION,
            format!("WARNING: configEpoch collision with node {name}. configEpoch set to {epoch}"),
        );
    }

    /// clusterProcessGossipSection(): failure reports from masters, and
    /// fresher PONG times.
    fn process_gossip_section(&mut self, c: &mut ClusterState, ctx: &mut Ctx<'_>, msg: &BusMsg) {
        let sender = msg.sender;
        let now = ctx.mstime();
        let nt = self.cfg.cluster.node_timeout;
        // Each entry names a node of the table: in a large cluster, ask
        // for the entries a few ahead (see ClusterState::prefetch).
        let ahead = if c.nodes.len() >= super::cron::PREFETCH_FROM_NODES {
            super::cron::PREFETCH_AHEAD
        } else {
            0
        };
        for g in msg.gossip.iter().take(ahead) {
            c.prefetch(NodeId::from(g.node));
        }
        for (i, g) in msg.gossip.iter().enumerate() {
            if let Some(next) = msg.gossip.get(i + ahead).filter(|_| ahead > 0) {
                c.prefetch(NodeId::from(next.node));
            }
            let node = NodeId::from(g.node);
            if node as usize >= c.nodes.len() {
                continue;
            }
            if c.node(sender).is_master() && node != c.myself {
                if g.flags & (FAIL | PFAIL) != 0 {
                    let reports = &mut c.node_mut(node).fail_reports;
                    match reports.iter_mut().find(|(r, _)| *r == sender) {
                        Some(r) => r.1 = now,
                        None => {
                            reports.push((sender, now));
                            let (s, n) = (c.name(sender), c.name(node));
                            ctx.log(
                                Level::Verbose,
                                "reported node as not reachable",
                                format!("Node {s} reported node {n} as not reachable."),
                            );
                        }
                    }
                    self.mark_node_as_failing_if_needed(c, ctx, node);
                } else {
                    c.failure_reports(node, now, nt);
                    let reports = &mut c.node_mut(node).fail_reports;
                    if let Some(i) = reports.iter().position(|(r, _)| *r == sender) {
                        reports.remove(i);
                        let (s, n) = (c.name(sender), c.name(node));
                        ctx.log(
                            Level::Verbose,
                            "reported node is back online",
                            format!("Node {s} reported node {n} is back online."),
                        );
                    }
                }
            }
            if g.flags & (FAIL | PFAIL) == 0
                && c.node(node).ping_sent == 0
                && c.failure_reports(node, now, nt) == 0
            {
                let pongtime = u64::from(g.pong_received) * 1000;
                if pongtime <= now + 500 && pongtime > c.node(node).pong_received {
                    c.node_mut(node).pong_received = pongtime;
                }
            }
        }
    }

    /// markNodeAsFailingIfNeeded(): PFAIL becomes FAIL once a majority of
    /// slot-serving masters (myself included, if a master) reports it.
    pub(super) fn mark_node_as_failing_if_needed(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        node: NodeId,
    ) {
        let needed = c.size / 2 + 1;
        if !c.node(node).timed_out() || c.node(node).failed() {
            return;
        }
        let now = ctx.mstime();
        let mut failures = c.failure_reports(node, now, self.cfg.cluster.node_timeout);
        if c.i_am_master() {
            failures += 1;
        }
        if failures < needed {
            return;
        }
        let name = c.name(node);
        ctx.log(
            Level::Notice,
            names::redis::MARKED_FAILING,
            format!("Marking node {name} as failing (quorum reached)."),
        );
        let n = c.node_mut(node);
        n.flags &= !PFAIL;
        n.flags |= FAIL;
        n.fail_time = now;
        let mut fail = self.bus_header(c, BusKind::Fail(node));
        fail.gossip.clear();
        self.broadcast(c, ctx, &fail);
        c.todo_update_state = true;
        c.todo_save = true;
    }

    /// clearNodeFailureIfNeeded(): a reachable replica or slotless master
    /// is cleared at once; a master still serving slots only when nobody
    /// failed it over for 2 × node-timeout.
    fn clear_node_failure_if_needed(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        node: NodeId,
    ) {
        let now = ctx.mstime();
        let name = c.name(node);
        let n = c.node(node);
        if n.is_slave() || n.numslots() == 0 {
            let what = if n.is_slave() {
                "replica"
            } else {
                "master without slots"
            };
            ctx.log(
                Level::Notice,
                "Clear FAIL state for node: is reachable again.",
                format!("Clear FAIL state for node {name}: {what} is reachable again."),
            );
            c.node_mut(node).flags &= !FAIL;
            c.todo_update_state = true;
            c.todo_save = true;
        }
        let n = c.node(node);
        if n.is_master()
            && n.numslots() > 0
            && now.saturating_sub(n.fail_time) > self.cfg.cluster.node_timeout * FAIL_UNDO_TIME_MULT
        {
            ctx.log(
                Level::Notice,
                names::redis::FAIL_CLEARED_NO_SERVER,
                format!("Clear FAIL state for node {name}: is reachable again and nobody is serving its slots after some time."),
            );
            c.node_mut(node).flags &= !FAIL;
            c.todo_update_state = true;
            c.todo_save = true;
        }
    }

    /// clusterUpdateSlotsConfigWith(): rebinds slots a sender claims with a
    /// newer configEpoch; a master that lost its last slot replicates from
    /// the sender.
    pub(super) fn update_slots_config_with(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        sender: NodeId,
        sender_epoch: u64,
        slots: &SlotSet,
    ) {
        if sender == c.myself {
            ctx.log(
                Level::Warning,
                "Discarding UPDATE message about myself.",
                "Discarding UPDATE message about myself.".into(),
            );
            return;
        }
        let curmaster = if c.i_am_master() {
            Some(c.myself)
        } else {
            c.me().slaveof
        };
        let mut newmaster = None;
        let mut sender_slots = 0;
        let mut migrated_our_slots = 0;
        let mut dirty: Vec<u16> = Vec::new();
        let mut my_key_slots: Option<SlotSet> = None;
        for slot in slots.iter() {
            sender_slots += 1;
            let owner = c.slot_owner(slot);
            if owner == Some(sender) || c.importing.contains_key(&slot) {
                continue;
            }
            if owner.is_none_or(|o| c.node(o).config_epoch < sender_epoch) {
                if owner == Some(c.myself) {
                    let keyed = my_key_slots.get_or_insert_with(|| self.slots_with_keys());
                    if keyed.contains(slot) {
                        dirty.push(slot);
                    }
                }
                if owner.is_some() && owner == curmaster {
                    newmaster = Some(sender);
                    migrated_our_slots += 1;
                }
                c.bind_slot(slot, sender);
                c.todo_save = true;
                c.todo_update_state = true;
            }
        }
        let cur_empty = curmaster.is_some_and(|m| c.node(m).numslots() == 0);
        if newmaster.is_some()
            && cur_empty
            && (self.cfg.cluster.allow_replica_migration || sender_slots == migrated_our_slots)
        {
            let name = c.name(sender);
            ctx.log(
                Level::Warning,
                names::redis::RECONFIGURED_AS_REPLICA,
                format!(
                    "Configuration change detected. Reconfiguring myself as a replica of {name}"
                ),
            );
            self.cluster_set_master(c, ctx, sender);
        } else if let Some(m) = c.me().slaveof
            && let Some(grand) = c.node(m).slaveof.filter(|_| c.node(m).is_slave())
            && grand != c.myself
        {
            let name = c.name(grand);
            ctx.log(
                Level::Warning,
                "I'm a sub-replica! Reconfiguring myself as a replica of grandmaster",
                format!(
                    "I'm a sub-replica! Reconfiguring myself as a replica of grandmaster {name}"
                ),
            );
            self.cluster_set_master(c, ctx, grand);
        } else if !dirty.is_empty() {
            for slot in dirty {
                self.del_keys_in_slot(slot);
            }
        }
    }

    /// clusterSetMaster(): become a replica of `n`.
    pub(super) fn cluster_set_master(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        n: NodeId,
    ) {
        if c.i_am_master() {
            let me = c.me_mut();
            me.flags &= !(MASTER | MIGRATE_TO);
            me.flags |= SLAVE;
            // clusterCloseAllSlots()
            c.migrating.clear();
            c.importing.clear();
        }
        let me = c.myself;
        c.set_slaveof(me, Some(n));
        let at = c.node(n).addr.clone();
        self.replicaof(ctx, n, (&at.ip, at.port), "");
        self.reset_manual_failover(c);
    }

    /// The slots this node holds keys in.
    fn slots_with_keys(&self) -> SlotSet {
        let mut s = SlotSet::default();
        for key in self.data.keys() {
            s.insert(slots::key_hash_slot(key.as_bytes()));
        }
        s
    }

    /// delKeysInSlot(): drops the keys of a slot this node lost.
    fn del_keys_in_slot(&mut self, slot: u16) {
        let keys: Vec<_> = self
            .data
            .keys()
            .filter(|k| slots::key_hash_slot(k.as_bytes()) == slot)
            .cloned()
            .collect();
        for k in keys {
            self.data.del(&k);
            self.propagate(crate::proto::Cmd::Del(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Msg;
    use crate::proto::bus::Gossip;
    use crate::redis::testing::{
        H, NODE_TIMEOUT, bus_from, call_cluster, cluster, cluster_conf, send_bus, state,
    };
    use crate::time::ms;

    /// Node 0 is a master serving slots with masters 1 and 2; nodes 3, 4, 5
    /// replicate masters 0, 1, 2. Three slot-serving masters: a FAIL needs
    /// 3 / 2 + 1 = 2 voices.
    fn master_0() -> H {
        let mut h = cluster(
            vec![None, None, None, Some(0), Some(1), Some(2)],
            cluster_conf(),
        );
        h.run_until(ms(500));
        state(&mut h).size = 3;
        h
    }

    /// A PING from `from` whose gossip says node 2 is PFAIL.
    fn gossip_pfail_about_2(h: &mut H, from: NodeId) {
        let mut ping = bus_from(h, from, BusKind::Ping);
        ping.gossip.push(Gossip {
            node: 2,
            ping_sent: 0,
            pong_received: 0,
            flags: MASTER | PFAIL,
        });
        send_bus(h, from, ping);
    }

    /// clusterProcessGossipSection(): a master's gossip that a node is
    /// PFAIL is a failure report, time-stamped now; a replica's is ignored.
    #[test]
    fn failure_reports_come_from_masters_only() {
        let mut h = master_0();
        gossip_pfail_about_2(&mut h, 3);
        assert!(state(&mut h).nodes[2].fail_reports.is_empty());
        gossip_pfail_about_2(&mut h, 1);
        let now = h.mstime(0);
        assert_eq!(state(&mut h).nodes[2].fail_reports, [(1, now)]);
    }

    /// markNodeAsFailingIfNeeded() after clusterNodeCleanupFailureReports():
    /// a report is valid for node-timeout x 2 = 30 000 ms. Node 2 is PFAIL
    /// here; master 0 counts itself, so master 1's report makes 2 = the
    /// quorum while it is 30 000 ms old, and 1 once it is 30 001 ms old.
    #[test]
    fn a_failure_report_expires_after_twice_the_node_timeout() {
        let mark_2 = |h: &mut H| {
            call_cluster(h, |p, c, ctx, _| {
                p.mark_node_as_failing_if_needed(c, ctx, 2)
            });
        };
        let mut h = master_0();
        let now = h.mstime(0);
        let c = state(&mut h);
        c.nodes[2].flags |= PFAIL;
        c.nodes[2].fail_reports = vec![(1, now - 2 * NODE_TIMEOUT - 1)];
        mark_2(&mut h);
        assert!(!state(&mut h).nodes[2].failed());
        assert!(state(&mut h).nodes[2].fail_reports.is_empty(), "pruned");

        state(&mut h).nodes[2].fail_reports = vec![(1, now - 2 * NODE_TIMEOUT)];
        let mark = h.mark();
        mark_2(&mut h);
        assert!(state(&mut h).nodes[2].failed());
        let name = state(&mut h).name(2);
        let line = format!("Marking node {name} as failing (quorum reached).");
        assert_eq!(
            h.events(0, "Marking node as failing (quorum reached)")[0].1,
            line
        );
        // The FAIL is broadcast to the five other nodes.
        let fails = h
            .sent_since(mark, 0)
            .into_iter()
            .filter(|s| matches!(&s.msg, Msg::Bus(b) if b.kind == BusKind::Fail(2)))
            .count();
        assert_eq!(fails, 5);
    }

    /// markNodeAsFailingIfNeeded(): a replica does not count itself. Node 0
    /// replicates master 1; with one valid report 1 < 2, with two FAIL.
    #[test]
    fn a_replica_does_not_count_itself() {
        let mut h = cluster(vec![Some(1), None, None, None], cluster_conf());
        h.run_until(ms(500));
        let now = h.mstime(0);
        let c = state(&mut h);
        c.size = 3;
        c.nodes[3].flags |= PFAIL;
        c.nodes[3].fail_reports = vec![(1, now)];
        call_cluster(&mut h, |p, c, ctx, _| {
            p.mark_node_as_failing_if_needed(c, ctx, 3)
        });
        assert!(!state(&mut h).nodes[3].failed());
        state(&mut h).nodes[3].fail_reports.push((2, now));
        call_cluster(&mut h, |p, c, ctx, _| {
            p.mark_node_as_failing_if_needed(c, ctx, 3)
        });
        assert!(state(&mut h).nodes[3].failed());
    }

    /// A PONG on node 0's link to `node`.
    fn pong_from(h: &mut H, node: NodeId) {
        let pong = bus_from(h, node, BusKind::Pong);
        send_bus(h, node, pong);
    }

    /// clearNodeFailureIfNeeded(): a master that still serves slots and
    /// answers again is cleared of FAIL only once nobody failed it over
    /// for node-timeout x 2 = 30 000 ms after the FAIL.
    #[test]
    fn a_reachable_master_with_slots_is_cleared_after_twice_the_node_timeout() {
        let mut h = master_0();
        let now = h.mstime(0);
        let n = &mut state(&mut h).nodes[2];
        n.flags |= FAIL;
        n.fail_time = now - 2 * NODE_TIMEOUT;
        pong_from(&mut h, 2);
        assert!(state(&mut h).nodes[2].failed());
        state(&mut h).nodes[2].fail_time = now - 2 * NODE_TIMEOUT - 1;
        pong_from(&mut h, 2);
        assert!(!state(&mut h).nodes[2].failed());
    }

    /// clearNodeFailureIfNeeded(): a replica that answers is cleared at once.
    #[test]
    fn a_reachable_replica_is_cleared_at_once() {
        let mut h = master_0();
        let now = h.mstime(0);
        let n = &mut state(&mut h).nodes[4];
        n.flags |= FAIL;
        n.fail_time = now;
        pong_from(&mut h, 4);
        assert!(!state(&mut h).nodes[4].failed());
        let what = h.events(0, "Clear FAIL state for node: is reachable again.");
        assert!(what[0].1.ends_with(": replica is reachable again."));
    }

    /// clusterProcessPacket(), FAILOVER_AUTH_ACK: a vote counts only from a
    /// master serving slots, sent in the election's epoch or later. Node 0
    /// replicates master 1 and asked in epoch 8.
    #[test]
    fn only_slot_serving_masters_acks_of_this_epoch_count() {
        let mut h = cluster(vec![Some(1), None, None, None, Some(1)], cluster_conf());
        h.run_until(ms(500));
        state(&mut h).failover_auth_epoch = 8;
        let ack = |h: &mut H, from: NodeId, epoch: u64| {
            let mut m = bus_from(h, from, BusKind::AuthAck);
            m.current_epoch = epoch;
            send_bus(h, from, m);
            state(h).failover_auth_count
        };
        assert_eq!(ack(&mut h, 2, 7), 0, "an older epoch");
        assert_eq!(ack(&mut h, 4, 8), 0, "a replica");
        assert_eq!(ack(&mut h, 2, 8), 1);
        assert_eq!(ack(&mut h, 3, 9), 2);
    }
}
