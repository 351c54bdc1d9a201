//! Cluster bus messages (cluster.h: clusterMsg): a header every message
//! carries, and a body per type.

use std::rc::Rc;

use super::slots::SlotSet;
use crate::sim::net::NodeId;

/// `sizeof(clusterMsg)` without the data union: the fixed header.
pub const HEADER_BYTES: u64 = 2256;
/// `sizeof(clusterMsgDataGossip)`.
pub const GOSSIP_BYTES: u64 = 104;

#[derive(Clone, Debug, PartialEq)]
pub enum BusKind {
    Ping,
    Pong,
    /// `FAIL` about a node.
    Fail(NodeId),
    AuthRequest,
    AuthAck,
    /// `UPDATE`: another node's configuration (epoch and slots).
    Update {
        node: NodeId,
        config_epoch: u64,
        slots: Rc<SlotSet>,
    },
    MfStart,
}

impl BusKind {
    pub fn name(&self) -> &'static str {
        match self {
            BusKind::Ping => "ping",
            BusKind::Pong => "pong",
            BusKind::Fail(_) => "fail",
            BusKind::AuthRequest => "auth-req",
            BusKind::AuthAck => "auth-ack",
            BusKind::Update { .. } => "update",
            BusKind::MfStart => "mfstart",
        }
    }
}

/// One gossip entry (clusterMsgDataGossip): what the sender knows of a node.
#[derive(Clone, Debug, PartialEq)]
pub struct Gossip {
    /// The node's index in the tables: a cluster has at most 1000 nodes
    /// (the wire names it by its 40-byte ID).
    pub node: u16,
    pub flags: u16,
    /// In seconds, in 32 bits, as the wire carries them (`uint32_t`):
    /// a big cluster has millions of entries in flight at once, 12 bytes
    /// each.
    pub ping_sent: u32,
    pub pong_received: u32,
}

/// A bus message: the header fields redsim uses, and the body.
#[derive(Clone, Debug, PartialEq)]
pub struct BusMsg {
    pub kind: BusKind,
    pub sender: NodeId,
    pub current_epoch: u64,
    /// The sender's configEpoch, or its master's if it is a replica.
    pub config_epoch: u64,
    /// master_repl_offset of a master; the processed offset of a replica.
    pub offset: u64,
    /// The slots of the sender, or of its master.
    pub myslots: Rc<SlotSet>,
    pub slaveof: Option<NodeId>,
    pub flags: u16,
    pub state_ok: bool,
    /// `CLUSTERMSG_FLAG0_PAUSED`: a master paused for a manual failover.
    pub paused: bool,
    /// `CLUSTERMSG_FLAG0_FORCEACK`: vote even though the master is up.
    pub forceack: bool,
    /// `hdr->myip`: the sender's `cluster-announce-ip`, if set (otherwise
    /// the receiver takes the connection's source address).
    pub myip: Option<Rc<str>>,
    /// `hdr->port`, `hdr->cport`: the ports the sender announces.
    pub port: u16,
    pub cport: u16,
    pub gossip: Vec<Gossip>,
}

impl BusMsg {
    pub fn wire_size(&self) -> u64 {
        HEADER_BYTES
            + match &self.kind {
                BusKind::Ping | BusKind::Pong => GOSSIP_BYTES * self.gossip.len() as u64,
                BusKind::Fail(_) => 40,
                BusKind::Update { .. } => 8 + 40 + 2048,
                BusKind::AuthRequest | BusKind::AuthAck | BusKind::MfStart => 0,
            }
    }
}
