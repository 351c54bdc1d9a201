//! clusterCron() and the bus links: connecting, pinging with gossip,
//! broadcasting.

use rand::RngExt;

use super::*;
use crate::proto::bus::{BusKind, BusMsg, Gossip};
use crate::proto::{Ctx, Msg};
use crate::redis::{Host, Server};
use crate::sim::net::PORT_BUS;
use crate::trace::Level;
use crate::trace::names;

/// Where a message goes: the outbound link to a node, or the connection a
/// request came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Via {
    Link(NodeId),
    Conn(ConnId),
}

impl Server {
    /// clusterCron(): every 100 ms.
    pub(in crate::redis) fn cluster_cron(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        let Some(mut c) = self.cluster.take() else {
            return;
        };
        self.cluster_cron_with(&mut c, ctx, host);
        self.cluster = Some(c);
    }

    fn cluster_cron_with(&mut self, c: &mut ClusterState, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        c.iteration += 1;
        let nt = self.cfg.cluster.node_timeout;
        let now = ctx.mstime();
        let n = c.nodes.len() as NodeId;
        c.pfail_nodes = 0;
        // clusterNodeCronHandleReconnect()
        for node in 0..n {
            if node == c.myself {
                continue;
            }
            if c.node(node).timed_out() {
                c.pfail_nodes += 1;
            }
            if c.node(node).link.is_none() {
                let conn = ctx.connect_port(node, PORT_BUS);
                c.set_link(node, Some(Link { conn, ctime: now }));
            }
        }
        // Once a second, ping the node with the oldest PONG among 5 random ones.
        if c.iteration.is_multiple_of(10) {
            let mut best: Option<NodeId> = None;
            for _ in 0..5 {
                let this = c.rng.random_range(0..n);
                let node = c.node(this);
                if node.link.is_none() || node.ping_sent != 0 || this == c.myself {
                    continue;
                }
                if best.is_none_or(|b| c.node(b).pong_received > node.pong_received) {
                    best = Some(this);
                }
            }
            if let Some(b) = best {
                self.send_ping(c, ctx, Via::Link(b), BusKind::Ping);
            }
        }
        let mut orphaned_masters = 0;
        let mut max_slaves = 0;
        let mut this_slaves = 0;
        let mut update_state = false;
        let i_am_slave = !c.i_am_master();
        // clusterCountNonFailingSlaves() of every master, counted in one
        // pass: Redis walks each master's own list of replicas, and a
        // walk of the node table per master would cost O(nodes²) a cron.
        let ok_replicas = if i_am_slave {
            c.non_failing_replica_counts()
        } else {
            Vec::new()
        };
        for node in 0..n {
            if node == c.myself {
                continue;
            }
            let now = ctx.mstime();
            if i_am_slave && c.node(node).is_master() && !c.node(node).failed() {
                let okslaves = ok_replicas[node as usize] as usize;
                if okslaves == 0
                    && c.node(node).numslots() > 0
                    && c.node(node).flags & MIGRATE_TO != 0
                {
                    orphaned_masters += 1;
                }
                max_slaves = max_slaves.max(okslaves);
                if c.me().slaveof == Some(node) {
                    this_slaves = okslaves;
                }
            }
            let peer = c.node(node);
            let ping_delay = now.saturating_sub(peer.ping_sent);
            let data_delay = now.saturating_sub(peer.data_received);
            if let Some(link) = peer.link
                && now.saturating_sub(link.ctime) > nt
                && peer.ping_sent != 0
                && ping_delay > nt / 2
                && data_delay > nt / 2
            {
                // No traffic for a while: reconnect, maybe the link is bad.
                ctx.close(link.conn);
                c.set_link(node, None);
            }
            let peer = c.node(node);
            if peer.link.is_some()
                && peer.ping_sent == 0
                && now.saturating_sub(peer.pong_received) > nt / 2
            {
                self.send_ping(c, ctx, Via::Link(node), BusKind::Ping);
                continue;
            }
            if c.mf_end != 0
                && c.i_am_master()
                && c.mf_slave == Some(node)
                && c.node(node).link.is_some()
            {
                self.send_ping(c, ctx, Via::Link(node), BusKind::Ping);
                continue;
            }
            let peer = c.node(node);
            if peer.ping_sent == 0 {
                continue;
            }
            let node_delay = ping_delay.min(data_delay);
            if node_delay > nt && peer.flags & (PFAIL | FAIL) == 0 {
                let name = c.name(node);
                ctx.log(
                    Level::Verbose,
                    names::redis::POSSIBLY_FAILING,
                    format!("*** NODE {name} possibly failing"),
                );
                c.node_mut(node).flags |= PFAIL;
                update_state = true;
            }
        }
        // A replica whose replication is off starts it.
        if i_am_slave
            && self.replica.is_none()
            && let Some(m) = c.me().slaveof
        {
            let at = c.node(m).addr.clone();
            self.replicaof(ctx, m, (&at.ip, at.port), "");
        }
        self.manual_failover_check_timeout(c, ctx);
        if !c.i_am_master() {
            self.handle_manual_failover(c, ctx);
            self.handle_slave_failover(c, ctx, host);
            if orphaned_masters > 0
                && max_slaves >= 2
                && this_slaves == max_slaves
                && self.cfg.cluster.allow_replica_migration
            {
                self.handle_slave_migration(c, ctx, max_slaves);
            }
        }
        if update_state || !c.state_ok {
            self.update_state(c, ctx);
        }
    }

    /// clusterBuildMessageHdr(): the header of every message.
    pub(super) fn bus_header(&self, c: &ClusterState, kind: BusKind) -> BusMsg {
        let me = c.me();
        let master = if me.is_slave() { me.slaveof } else { None };
        let (config_epoch, myslots) = match master {
            Some(m) => (c.node(m).config_epoch, c.node(m).slots.clone()),
            None => (me.config_epoch, me.slots.clone()),
        };
        let offset = if me.is_master() {
            self.master_repl_offset
        } else {
            self.replication_get_slave_offset()
        };
        BusMsg {
            kind,
            sender: c.myself,
            current_epoch: c.current_epoch,
            config_epoch,
            offset,
            myslots,
            slaveof: master,
            flags: me.flags,
            state_ok: c.state_ok,
            paused: me.is_master() && c.mf_end != 0,
            forceack: false,
            myip: c.announce_ip.clone(),
            port: me.addr.port,
            cport: me.addr.cport,
            gossip: Vec::new(),
        }
    }

    /// `replicationGetSlaveOffset()`: what a replica has processed.
    pub(in crate::redis) fn replication_get_slave_offset(&self) -> u64 {
        match &self.replica {
            Some(r) if r.is_connected() => self.master_repl_offset,
            Some(r) => r.cached.map_or(0, |(_, off)| off),
            None => 0,
        }
    }

    /// Sends a message; false when there is no link to send it on.
    pub(super) fn bus_send(
        &self,
        c: &ClusterState,
        ctx: &mut Ctx<'_>,
        via: Via,
        msg: BusMsg,
    ) -> bool {
        let conn = match via {
            Via::Conn(conn) => conn,
            Via::Link(n) => match c.node(n).link {
                Some(l) => l.conn,
                None => return false,
            },
        };
        let bytes = msg.wire_size();
        let (msgs, total) = c.stats_bus_sent.get();
        c.stats_bus_sent.set((msgs + 1, total + bytes));
        ctx.send_sized(conn, Msg::Bus(Box::new(msg)), bytes);
        true
    }

    /// clusterSendPing(): a PING or PONG with gossip about other nodes.
    pub(super) fn send_ping(
        &self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        via: Via,
        kind: BusKind,
    ) {
        c.pings_sent += 1;
        let n = c.nodes.len();
        let wanted = ((n / 10).max(3) as i64).min(n as i64 - 2);
        let mut pfail_wanted = c.pfail_nodes;
        if let (Via::Link(to), BusKind::Ping) = (via, &kind) {
            c.node_mut(to).ping_sent = ctx.mstime();
        }
        let mut msg = self.bus_header(c, kind);
        msg.gossip
            .reserve_exact(wanted.max(0) as usize + pfail_wanted);
        pick_gossip(c, &mut msg.gossip, wanted, n >= PREFETCH_FROM_NODES);
        for node in 0..n as NodeId {
            if pfail_wanted == 0 {
                break;
            }
            if c.node(node).timed_out() {
                msg.gossip.push(gossip_entry(c, node));
                pfail_wanted -= 1;
            }
        }
        self.bus_send(c, ctx, via, msg);
    }

    /// clusterBroadcastPong(): to every node, or only to the replicas of
    /// my master (`local_slaves`).
    pub(super) fn broadcast_pong(
        &self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        local_slaves: bool,
    ) {
        for node in 0..c.nodes.len() as NodeId {
            if node == c.myself || c.node(node).link.is_none() {
                continue;
            }
            if local_slaves {
                let peer = c.node(node);
                let mine = peer.slaveof.is_some()
                    && (peer.slaveof == Some(c.myself) || peer.slaveof == c.me().slaveof);
                if !(peer.is_slave() && mine) {
                    continue;
                }
            }
            self.send_ping(c, ctx, Via::Link(node), BusKind::Pong);
        }
    }

    /// clusterBroadcastMessage(): to every node we have a link to.
    pub(super) fn broadcast(&self, c: &ClusterState, ctx: &mut Ctx<'_>, msg: &BusMsg) {
        for node in 0..c.nodes.len() as NodeId {
            if node != c.myself {
                self.bus_send(c, ctx, Via::Link(node), msg.clone());
            }
        }
    }

    /// Our outbound link connected (clusterLinkConnectHandler()): ping at
    /// once, keeping the time of a ping still pending from before.
    pub(in crate::redis) fn cluster_link_connected(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        let Some(mut c) = self.cluster.take() else {
            return;
        };
        if let Some(node) = c.link_node(conn) {
            let old = c.node(node).ping_sent;
            self.send_ping(&mut c, ctx, Via::Link(node), BusKind::Ping);
            if old != 0 {
                c.node_mut(node).ping_sent = old;
            }
        }
        self.cluster = Some(c);
    }

    /// A bus connection failed or closed (freeClusterLink()); the cron
    /// reconnects outbound links.
    pub(in crate::redis) fn cluster_link_closed(&mut self, conn: ConnId) -> bool {
        let Some(c) = self.cluster.as_mut() else {
            return false;
        };
        if let Some(node) = c.link_node(conn) {
            c.set_link(node, None);
            return true;
        }
        c.inbound.remove(&conn).is_some()
    }
}

/// clusterSendPing()'s random choice of up to `wanted` nodes to gossip
/// about: three tries per entry, skipping myself, PFAIL nodes, nodes with
/// neither a link nor slots, and nodes already in this message.
///
/// In a large cluster every pick is a cache miss; with `lookahead`, a copy
/// of the generator runs a few draws ahead, so that each pick's entry is
/// asked for before the loop reads it. The loop's own draws, and so the
/// run, are the same either way. A small table stays in cache, where the
/// copy would only cost.
fn pick_gossip(c: &mut ClusterState, gossip: &mut Vec<Gossip>, wanted: i64, lookahead: bool) {
    let n = c.nodes.len();
    let mut freshnodes = n as i64 - 2;
    let mut maxiterations = wanted * 3;
    let mut ahead = lookahead.then(|| {
        let mut copy = c.rng.clone();
        for _ in 0..PREFETCH_AHEAD.min(maxiterations.max(0) as usize) {
            c.prefetch(copy.random_range(0..n as NodeId));
        }
        copy
    });
    while freshnodes > 0 && (gossip.len() as i64) < wanted && maxiterations > 0 {
        maxiterations -= 1;
        if let Some(copy) = ahead.as_mut()
            && maxiterations >= PREFETCH_AHEAD as i64
        {
            c.prefetch(copy.random_range(0..n as NodeId));
        }
        let this = c.rng.random_range(0..n as NodeId);
        if this == c.myself || c.node(this).timed_out() {
            continue;
        }
        if c.node(this).link.is_none() && c.node(this).numslots() == 0 {
            freshnodes -= 1;
            continue;
        }
        if c.node(this).last_in_ping_gossip == c.pings_sent {
            continue;
        }
        let sent = c.pings_sent;
        c.node_mut(this).last_in_ping_gossip = sent;
        gossip.push(gossip_entry(c, this));
        freshnodes -= 1;
    }
}

/// How many entries ahead a bus message's reads ask for.
pub(super) const PREFETCH_AHEAD: usize = 8;

/// From this many nodes a PING's random picks are asked for ahead (below
/// it the nodes' table stays in cache).
pub(super) const PREFETCH_FROM_NODES: usize = 400;

fn gossip_entry(c: &ClusterState, node: NodeId) -> Gossip {
    let n = c.node(node);
    Gossip {
        node: u16::try_from(node).expect("at most 1000 cluster nodes"),
        // htonl(n->ping_sent/1000): the seconds, cut to 32 bits.
        ping_sent: (n.ping_sent / 1000) as u32,
        pong_received: (n.pong_received / 1000) as u32,
        flags: n.flags & !MYSELF,
    }
}

impl ClusterState {
    /// The node whose outbound link is `conn`.
    pub(super) fn link_node(&self, conn: ConnId) -> Option<NodeId> {
        self.link_nodes.get(&conn).copied()
    }

    pub fn is_bus_conn(&self, conn: ConnId) -> bool {
        self.link_node(conn).is_some() || self.inbound.contains_key(&conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::RedisTimer;
    use crate::redis::testing::{H, NODE_TIMEOUT, cluster, cluster_conf, state};
    use crate::time::ms;

    /// Master 0 among masters 1 and 2, each with a replica (3, 4, 5).
    fn master_0() -> H {
        let mut h = cluster(
            vec![None, None, None, Some(0), Some(1), Some(2)],
            cluster_conf(),
        );
        h.run_until(ms(500));
        h
    }

    /// Looking ahead with a copy of the generator picks the same gossip and
    /// leaves the generator where picking without it does, in a table
    /// large enough that the PINGs look ahead (450 nodes), and in one
    /// where nothing qualifies but a few (links down, no slots).
    #[test]
    fn looking_ahead_picks_the_same_gossip() {
        let n = PREFETCH_FROM_NODES + 50;
        let build = || {
            let mut h = cluster(vec![None; n], cluster_conf());
            h.run_until(ms(500));
            h
        };
        let (mut with, mut without) = (build(), build());
        for round in 0..3 {
            let (a, b) = (state(&mut with), state(&mut without));
            if round == 2 {
                for s in [&mut *a, &mut *b] {
                    for i in 1..n as NodeId {
                        s.set_link(i, None);
                    }
                }
            }
            a.pings_sent += 1;
            b.pings_sent += 1;
            let (mut ga, mut gb) = (Vec::new(), Vec::new());
            pick_gossip(a, &mut ga, (n / 10) as i64, true);
            pick_gossip(b, &mut gb, (n / 10) as i64, false);
            assert_eq!(ga, gb, "round {round}");
            assert!(
                round == 2 || ga.len() == n / 10,
                "round {round}: {}",
                ga.len()
            );
            assert_eq!(a.rng, b.rng, "round {round}");
        }
    }

    /// clusterCron(): a node with a PING pending is PFAIL once both the
    /// PING and the last data from it are more than node-timeout
    /// (15 000 ms) old.
    #[test]
    fn pfail_once_a_ping_is_unanswered_for_more_than_the_node_timeout() {
        let mut h = master_0();
        let given = |h: &mut H, age: u64| {
            let now = h.mstime(0);
            let n = &mut state(h).nodes[2];
            n.ping_sent = now - age;
            n.data_received = now - age;
        };
        given(&mut h, NODE_TIMEOUT);
        h.fire(0, RedisTimer::Cron);
        assert!(!state(&mut h).nodes[2].timed_out());
        given(&mut h, NODE_TIMEOUT + 1);
        h.fire(0, RedisTimer::Cron);
        assert!(state(&mut h).nodes[2].timed_out());
        assert_eq!(h.events(0, "*** NODE possibly failing").len(), 1);
    }

    /// clusterCron(): a node with no PING pending is pinged once its last
    /// PONG is more than node-timeout / 2 (7500 ms) old.
    #[test]
    fn a_ping_goes_out_when_the_last_pong_is_half_a_node_timeout_old() {
        let mut h = master_0();
        let pinged = |h: &mut H, pong_age: u64| {
            let now = h.mstime(0);
            let c = state(h);
            // Not a tenth call: no ping to a random node this time.
            c.iteration = 0;
            c.nodes[2].ping_sent = 0;
            c.nodes[2].pong_received = now - pong_age;
            let mark = h.mark();
            h.fire(0, RedisTimer::Cron);
            h.sent_since(mark, 0).iter().any(|s| {
                s.to == 2 && matches!(&s.msg, crate::proto::Msg::Bus(b) if b.kind == BusKind::Ping)
            })
        };
        assert!(!pinged(&mut h, NODE_TIMEOUT / 2));
        assert!(pinged(&mut h, NODE_TIMEOUT / 2 + 1));
    }
}
