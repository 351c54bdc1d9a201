//! Redis Cluster 7.0 (cluster.c): the node table each cluster node keeps,
//! the bus, failure detection, replica elections, the cluster state and
//! key routing. The code follows cluster.c's functions; their names are in
//! the doc comments.

mod announce;
mod cron;
pub mod failover;
mod info;
pub mod migration;
mod packet;
mod reply;
pub mod routing;
mod state;

use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::proto::RunId;
use crate::proto::slots::{self, SLOTS, SlotSet};
use crate::sim::net::{ConnId, NodeId};
use crate::sim::rng::Rng;

// CLUSTER_NODE_* flags.
pub const MASTER: u16 = 1;
pub const SLAVE: u16 = 2;
pub const PFAIL: u16 = 4;
pub const FAIL: u16 = 8;
pub const MYSELF: u16 = 16;
pub const MIGRATE_TO: u16 = 256;
pub const NOFAILOVER: u16 = 512;

/// `CLUSTER_FAIL_REPORT_VALIDITY_MULT`, `CLUSTER_FAIL_UNDO_TIME_MULT`.
pub const FAIL_REPORT_VALIDITY_MULT: u64 = 2;
pub const FAIL_UNDO_TIME_MULT: u64 = 2;
/// `CLUSTER_MF_TIMEOUT`, `CLUSTER_MF_PAUSE_MULT`.
pub const MF_TIMEOUT: u64 = 5000;
pub const MF_PAUSE_MULT: u64 = 2;
/// `CLUSTER_WRITABLE_DELAY`, `CLUSTER_{MIN,MAX}_REJOIN_DELAY`.
pub const WRITABLE_DELAY: u64 = 2000;
pub const MIN_REJOIN_DELAY: u64 = 500;
pub const MAX_REJOIN_DELAY: u64 = 5000;
/// `CLUSTER_SLAVE_MIGRATION_DELAY`.
pub const SLAVE_MIGRATION_DELAY: u64 = 5000;
/// `CLUSTER_CANT_FAILOVER_RELOG_PERIOD` (seconds).
pub const CANT_FAILOVER_RELOG_PERIOD: u64 = 10;

const NO_OWNER: u16 = u16::MAX;

/// The cluster as `redis-cli --cluster create` leaves it: every node knows
/// every other, masters own their slot ranges, and each node got its own
/// configEpoch (1, 2, ... in creation order).
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub ids: Vec<RunId>,
    /// Per node: the slots it serves (empty for replicas), shared by every
    /// node's nodes.conf until one changes it.
    pub slots: Vec<Rc<SlotSet>>,
    /// Per node: its master, for replicas.
    pub replica_of: Vec<Option<NodeId>>,
    /// Per node: the address `redis-cli --cluster create` met it at.
    pub addrs: Vec<NodeAddr>,
}

/// Where the cluster says a node is (`node->ip`, `node->port`,
/// `node->cport`): what CLUSTER NODES, SLOTS and SHARDS print and MOVED
/// and ASK name. Nodes reach each other by node id in the simulation, so
/// the address is what a client is told, learnt as Redis learns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeAddr {
    pub ip: Rc<str>,
    pub port: u16,
    pub cport: u16,
}

impl NodeAddr {
    /// `ip:port`, with cport `port + 10000` (CLUSTER_PORT_INCR).
    pub fn at(ip: &str, port: u16) -> NodeAddr {
        NodeAddr {
            ip: ip.into(),
            port,
            cport: port.wrapping_add(10000),
        }
    }
}

impl std::fmt::Display for NodeAddr {
    /// `ip:port`, as MOVED and ASK name it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.ip, self.port)
    }
}

impl Layout {
    /// The nodes.conf every node starts from.
    pub fn nodes_conf(&self) -> NodesConf {
        let n = self.ids.len();
        NodesConf {
            current_epoch: n as u64,
            last_vote_epoch: 0,
            nodes: (0..n)
                .map(|i| SavedNode {
                    flags: if self.replica_of[i].is_some() {
                        SLAVE
                    } else {
                        MASTER
                    },
                    config_epoch: i as u64 + 1,
                    slots: self.slots[i].clone(),
                    slaveof: self.replica_of[i],
                    addr: self.addrs[i].clone(),
                })
                .collect(),
        }
    }
}

/// `nodes.conf` (clusterSaveConfig()): what survives a restart.
#[derive(Clone, Debug, PartialEq)]
pub struct NodesConf {
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    pub nodes: Vec<SavedNode>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SavedNode {
    pub flags: u16,
    pub config_epoch: u64,
    /// Shared with the table it was saved from: each of N nodes holds N
    /// entries, and a slot bitmap is 2 KiB.
    pub slots: Rc<SlotSet>,
    pub slaveof: Option<NodeId>,
    pub addr: NodeAddr,
}

/// The outbound bus link to a node (`node->link`).
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub conn: ConnId,
    /// When it was created, in ms.
    pub ctime: u64,
}

/// What this node knows of one node of the cluster (clusterNode): the
/// fields clusterCron() reads of every node ten times a second and gossip
/// reads of nodes picked at random, with the rest behind a pointer
/// ([`PeerDetails`], reached through `Deref`), so that a thousand-node
/// table is a thousand short entries instead of long ones.
#[derive(Clone, Debug)]
pub struct PeerNode {
    pub flags: u16,
    /// The clusterSendPing() call that last put this node in a message's
    /// gossip (`node->last_in_ping_gossip`), so one message names it once.
    pub last_in_ping_gossip: u64,
    /// Times in ms of the node's own wall clock (mstime()).
    pub ping_sent: u64,
    pub pong_received: u64,
    pub data_received: u64,
    /// Set only through [`ClusterState::set_link`], which indexes it.
    pub link: Option<Link>,
    /// (reporting master, time of its last report). Every gossip entry
    /// received asks whether there are any.
    pub fail_reports: Vec<(NodeId, u64)>,
    pub slots: Rc<SlotSet>,
    pub slaveof: Option<NodeId>,
    details: Box<PeerDetails>,
}

/// The rest of a [`PeerNode`]: what only some messages and commands read.
#[derive(Clone, Debug)]
pub struct PeerDetails {
    pub id: RunId,
    pub config_epoch: u64,
    /// Times in ms of the node's own wall clock (mstime()).
    pub fail_time: u64,
    pub voted_time: u64,
    pub repl_offset: u64,
    pub orphaned_time: u64,
    pub addr: NodeAddr,
}

impl std::ops::Deref for PeerNode {
    type Target = PeerDetails;
    fn deref(&self) -> &PeerDetails {
        &self.details
    }
}

impl std::ops::DerefMut for PeerNode {
    fn deref_mut(&mut self) -> &mut PeerDetails {
        &mut self.details
    }
}

impl PeerNode {
    pub fn is_master(&self) -> bool {
        self.flags & MASTER != 0
    }
    pub fn is_slave(&self) -> bool {
        self.flags & SLAVE != 0
    }
    pub fn failed(&self) -> bool {
        self.flags & FAIL != 0
    }
    pub fn timed_out(&self) -> bool {
        self.flags & PFAIL != 0
    }
    pub fn numslots(&self) -> usize {
        self.slots.len()
    }
}

/// The votes a node granted, kept across restarts for the checkers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterLog {
    /// (epoch, candidate) for every FAILOVER_AUTH_ACK this node sent.
    pub votes: Vec<(u64, NodeId)>,
}

/// Why a replica is not failing over (CLUSTER_CANT_FAILOVER_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CantFailover {
    None,
    DataAge,
    WaitingDelay,
    Expired,
    WaitingVotes,
}

/// clusterState: one node's view of the cluster.
pub struct ClusterState {
    pub myself: NodeId,
    pub nodes: Vec<PeerNode>,
    /// Slot → owner (`NO_OWNER` when unassigned).
    owner: Box<[u16; SLOTS]>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    pub state_ok: bool,
    /// Masters serving at least one slot.
    pub size: usize,
    pub failover_auth_time: u64,
    pub failover_auth_count: u32,
    pub failover_auth_sent: bool,
    pub failover_auth_rank: u32,
    pub failover_auth_epoch: u64,
    pub cant_failover_reason: CantFailover,
    cant_failover_lastlog: u64,
    pub mf_end: u64,
    pub mf_slave: Option<NodeId>,
    pub mf_master_offset: i64,
    pub mf_can_start: bool,
    among_minority_time: u64,
    first_call_time: u64,
    todo_update_state: bool,
    todo_handle_failover: bool,
    todo_save: bool,
    iteration: u64,
    pfail_nodes: usize,
    /// `migrating_slots_to` and `importing_slots_from`.
    pub migrating: std::collections::BTreeMap<u16, NodeId>,
    pub importing: std::collections::BTreeMap<u16, NodeId>,
    /// Inbound bus connections and the node each one is from, once known.
    /// Looked up on every bus message; never iterated, so its order is
    /// no part of a run.
    pub inbound: FxHashMap<ConnId, Option<NodeId>>,
    /// Which node each outbound link (`node->link`) goes to: every bus
    /// message asks, and a scan of the node table would cost O(nodes).
    /// Kept by [`ClusterState::set_link`]; never iterated.
    link_nodes: FxHashMap<ConnId, NodeId>,
    /// Counts clusterSendPing() calls, to keep gossip entries distinct.
    pings_sent: u64,
    /// Bus messages sent and their wire bytes (stats_bus_messages_sent,
    /// summed over the message types, plus the bytes they took).
    pub stats_bus_sent: std::cell::Cell<(u64, u64)>,
    /// The bus's own random stream (dictGetRandomKey(), election delays).
    pub rng: Rng,
    /// `cluster-announce-ip`, as every message's header carries it.
    pub announce_ip: Option<Rc<str>>,
}

impl ClusterState {
    /// Sets clusterCron()'s call count, for a process whose crons resume on
    /// the grid of an earlier start (see `cron_resume`).
    pub(in crate::redis) fn resume_cron(&mut self, calls: u64) {
        self.iteration = calls;
    }

    /// Builds the table from nodes.conf (clusterLoadConfig()).
    pub fn load(myself: NodeId, ids: &[RunId], conf: &NodesConf, rng: Rng) -> ClusterState {
        let mut owner = Box::new([NO_OWNER; SLOTS]);
        let nodes = conf
            .nodes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if s.flags & MASTER != 0 {
                    for slot in s.slots.iter() {
                        owner[slot as usize] = i as u16;
                    }
                }
                PeerNode {
                    flags: s.flags | if i as NodeId == myself { MYSELF } else { 0 },
                    slots: s.slots.clone(),
                    slaveof: s.slaveof,
                    ping_sent: 0,
                    pong_received: 0,
                    data_received: 0,
                    link: None,
                    fail_reports: Vec::new(),
                    last_in_ping_gossip: 0,
                    details: Box::new(PeerDetails {
                        id: ids[i],
                        config_epoch: s.config_epoch,
                        fail_time: 0,
                        voted_time: 0,
                        repl_offset: 0,
                        orphaned_time: 0,
                        addr: s.addr.clone(),
                    }),
                }
            })
            .collect::<Vec<_>>();
        let n = nodes.len();
        let mut nodes = nodes;
        // clusterNodeAddSlave(): a master with replicas is a valid target
        // for replica migration.
        for i in 0..n {
            if let Some(m) = nodes[i].slaveof.filter(|_| nodes[i].is_slave()) {
                nodes[m as usize].flags |= MIGRATE_TO;
            }
        }
        ClusterState {
            myself,
            nodes,
            owner,
            current_epoch: conf.current_epoch,
            last_vote_epoch: conf.last_vote_epoch,
            state_ok: false,
            size: 0,
            failover_auth_time: 0,
            failover_auth_count: 0,
            failover_auth_sent: false,
            failover_auth_rank: 0,
            failover_auth_epoch: 0,
            cant_failover_reason: CantFailover::None,
            cant_failover_lastlog: 0,
            mf_end: 0,
            mf_slave: None,
            mf_master_offset: -1,
            mf_can_start: false,
            among_minority_time: 0,
            first_call_time: 0,
            todo_update_state: true,
            todo_handle_failover: false,
            todo_save: false,
            iteration: 0,
            pfail_nodes: 0,
            migrating: Default::default(),
            importing: Default::default(),
            inbound: FxHashMap::default(),
            link_nodes: FxHashMap::default(),
            pings_sent: 0,
            stats_bus_sent: Default::default(),
            rng,
            announce_ip: None,
        }
    }

    /// clusterUpdateMyselfAnnouncedPorts() and clusterUpdateMyselfIp():
    /// this node's own entry takes the announced address, or its own port
    /// (and port + 10000 for the bus) and, when the announced IP is
    /// cleared, the address it is reached at (`inside_ip`). True when the
    /// IP changed that way.
    pub fn update_myself_address(
        &mut self,
        cfg: &crate::redis::config::ClusterConfig,
        port: u16,
        inside_ip: &str,
    ) -> bool {
        let announced: Option<Rc<str>> = cfg.announce_ip.as_deref().map(Rc::from);
        let cleared = self.announce_ip.is_some() && announced.is_none();
        let me = self.me_mut();
        me.addr.port = if cfg.announce_port != 0 {
            cfg.announce_port
        } else {
            port
        };
        me.addr.cport = if cfg.announce_bus_port != 0 {
            cfg.announce_bus_port
        } else {
            port.wrapping_add(10000)
        };
        if let Some(ip) = &announced {
            me.addr.ip = ip.clone();
        } else if cleared {
            me.addr.ip = inside_ip.into();
        }
        self.announce_ip = announced;
        cleared
    }

    /// What clusterSaveConfig() writes.
    pub fn save(&self) -> NodesConf {
        NodesConf {
            current_epoch: self.current_epoch,
            last_vote_epoch: self.last_vote_epoch,
            nodes: self
                .nodes
                .iter()
                .map(|n| SavedNode {
                    flags: n.flags & !(MYSELF | PFAIL),
                    config_epoch: n.config_epoch,
                    slots: n.slots.clone(),
                    slaveof: n.slaveof,
                    addr: n.addr.clone(),
                })
                .collect(),
        }
    }

    pub fn me(&self) -> &PeerNode {
        &self.nodes[self.myself as usize]
    }

    fn me_mut(&mut self) -> &mut PeerNode {
        let i = self.myself as usize;
        &mut self.nodes[i]
    }

    pub fn node(&self, n: NodeId) -> &PeerNode {
        &self.nodes[n as usize]
    }

    /// Asks the CPU for node `n`'s entry ahead of its use. A bus message
    /// reads entries picked at random (clusterSendPing()'s choice) or named
    /// by its gossip, so at hundreds of nodes each read is a cache miss;
    /// asked for a few reads ahead, the misses overlap. Reads nothing and
    /// changes nothing, so the run is the same.
    #[inline(always)]
    pub(super) fn prefetch(&self, n: NodeId) {
        #[cfg(target_arch = "x86_64")]
        if let Some(p) = self.nodes.get(n as usize) {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let at = (p as *const PeerNode).cast::<i8>();
            // SAFETY: a prefetch is a hint that never faults or reads into
            // the program, whatever the address; SSE, which it needs, is
            // part of every x86_64. An entry spans two cache lines.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(at);
                _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(64));
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = n;
    }

    fn node_mut(&mut self, n: NodeId) -> &mut PeerNode {
        &mut self.nodes[n as usize]
    }

    /// Sets (or, with `None`, frees) the outbound link to `n`, keeping the
    /// index from connections to nodes.
    pub(super) fn set_link(&mut self, n: NodeId, link: Option<Link>) {
        if let Some(old) = self.node(n).link {
            self.link_nodes.remove(&old.conn);
        }
        if let Some(new) = link {
            self.link_nodes.insert(new.conn, n);
        }
        self.node_mut(n).link = link;
    }

    pub fn i_am_master(&self) -> bool {
        self.me().is_master()
    }

    /// The owner of a slot, if any.
    pub fn slot_owner(&self, slot: u16) -> Option<NodeId> {
        match self.owner[slot as usize] {
            NO_OWNER => None,
            n => Some(NodeId::from(n)),
        }
    }

    /// clusterDelSlot() + clusterAddSlot().
    fn bind_slot(&mut self, slot: u16, to: NodeId) {
        if let Some(old) = self.slot_owner(slot) {
            Rc::make_mut(&mut self.node_mut(old).slots).remove(slot);
        }
        self.owner[slot as usize] = to as u16;
        Rc::make_mut(&mut self.node_mut(to).slots).insert(slot);
        // clusterNodeSetSlotBit(): a master's first slot makes it a target
        // for replica migration if some master has replicas.
        if self.node(to).numslots() == 1
            && self
                .nodes
                .iter()
                .enumerate()
                .any(|(i, n)| n.is_master() && self.replicas_of(i as NodeId).next().is_some())
        {
            self.node_mut(to).flags |= MIGRATE_TO;
        }
    }

    /// For each node, how many replicas in this table name it as their
    /// master and are not failed (clusterCountNonFailingSlaves()).
    pub(super) fn non_failing_replica_counts(&self) -> Vec<u32> {
        let mut counts = vec![0; self.nodes.len()];
        for r in &self.nodes {
            if let Some(m) = r.slaveof
                && r.is_slave()
                && !r.failed()
            {
                counts[m as usize] += 1;
            }
        }
        counts
    }

    /// The replicas of a master in this table (`master->slaves`).
    pub fn replicas_of(&self, master: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as NodeId).filter(move |&n| {
            self.nodes[n as usize].slaveof == Some(master) && self.nodes[n as usize].is_slave()
        })
    }

    /// Makes `slave` a replica of `master` in the table (clusterNodeRemoveSlave()
    /// from the old master, clusterNodeAddSlave() to the new one).
    fn set_slaveof(&mut self, slave: NodeId, master: Option<NodeId>) {
        let old = self.node(slave).slaveof;
        if old == master {
            return;
        }
        self.node_mut(slave).slaveof = master;
        if let Some(o) = old
            && self.replicas_of(o).next().is_none()
        {
            self.node_mut(o).flags &= !MIGRATE_TO;
        }
        if let Some(m) = master {
            self.node_mut(m).flags |= MIGRATE_TO;
        }
    }

    /// clusterSetNodeAsMaster().
    fn set_node_as_master(&mut self, n: NodeId) {
        let me = self.myself;
        if self.node(n).is_master() {
            return;
        }
        let was_replica = self.node(n).slaveof.is_some();
        self.set_slaveof(n, None);
        let node = self.node_mut(n);
        if was_replica && n != me {
            node.flags |= MIGRATE_TO;
        }
        node.flags &= !SLAVE;
        node.flags |= MASTER;
        self.todo_save = true;
        self.todo_update_state = true;
    }

    /// clusterNodeFailureReportsCount() after pruning stale reports.
    fn failure_reports(&mut self, n: NodeId, now: u64, node_timeout: u64) -> usize {
        let maxtime = node_timeout * FAIL_REPORT_VALIDITY_MULT;
        let node = self.node_mut(n);
        if node.fail_reports.is_empty() {
            return 0;
        }
        node.fail_reports
            .retain(|&(_, t)| now.saturating_sub(t) <= maxtime);
        node.fail_reports.len()
    }

    /// Node name as Redis logs it.
    pub fn name(&self, n: NodeId) -> String {
        self.node(n).id.to_string()
    }
}
