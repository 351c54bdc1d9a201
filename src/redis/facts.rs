//! What a server shows of itself to a coverage recorder: the few values
//! that decide what it does next (its role and replication link, a load or
//! a child under way, whether it refuses writes for its disk, where its
//! offset and backlog stand, its view of a cluster), read without touching
//! anything.

use crate::proto::RunId;
use crate::sim::net::NodeId;
use crate::time::Micros;

pub use super::master::ChildKind;
pub use super::replica::LinkState;
use super::{RedisNode, Server};

/// A server's state as a coverage recorder reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RedisFacts {
    /// The replication link to its master, for a replica.
    pub link: Option<LinkState>,
    /// The node it replicates from, for a replica.
    pub follows: Option<NodeId>,
    pub loading: bool,
    pub child: Option<ChildKind>,
    /// Writes (and PING) are refused with -MISCONF.
    pub misconf: bool,
    /// `master_repl_offset`.
    pub offset: u64,
    /// `replid` and `replid2` (ZERO when there is none), by their first 16
    /// hex digits: 64 random bits tell histories apart.
    pub replid: u64,
    pub replid2: u64,
    /// The first and last offsets the backlog holds, if it has one.
    pub backlog: Option<(u64, u64)>,
    pub cluster: Option<ClusterFacts>,
}

/// A cluster node's own view, as a coverage recorder reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClusterFacts {
    pub state_ok: bool,
    pub master: bool,
    /// Some node is flagged PFAIL, or FAIL, in this node's table.
    pub sees_pfail: bool,
    pub sees_fail: bool,
    /// A replica's failover: it asked for votes in the current epoch.
    pub election_sent: bool,
    /// A manual failover is under way.
    pub manual_failover: bool,
    pub current_epoch: u64,
}

/// A replication ID's first 16 hex digits.
pub fn short_id(id: &RunId) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&id.0[..8]);
    u64::from_le_bytes(b)
}

impl RedisNode {
    /// The running server's facts at `now`, or `None` while it is down.
    pub fn facts(&self, now: Micros) -> Option<RedisFacts> {
        self.server.as_ref().map(|s| s.facts(now))
    }
}

impl Server {
    fn facts(&self, now: Micros) -> RedisFacts {
        let side = self.replica.as_ref();
        RedisFacts {
            link: side.map(|s| s.state),
            follows: side.map(|s| s.master),
            loading: self.is_loading(now),
            child: self.child.as_ref().filter(|c| !c.exited).map(|c| c.kind),
            misconf: self.disk_write_denial().is_some(),
            offset: self.master_repl_offset,
            replid: short_id(&self.replid),
            replid2: short_id(&self.replid2),
            backlog: self
                .backlog
                .as_ref()
                .map(|b| (b.first_byte, b.first_byte + b.histlen)),
            cluster: self.cluster.as_deref().map(|c| {
                let others = c
                    .nodes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != c.myself as usize);
                ClusterFacts {
                    state_ok: c.state_ok,
                    master: c.me().is_master(),
                    sees_pfail: others.clone().any(|(_, n)| n.timed_out()),
                    sees_fail: others.clone().any(|(_, n)| n.failed()),
                    election_sent: c.failover_auth_sent,
                    manual_failover: c.mf_end != 0,
                    current_epoch: c.current_epoch,
                }
            }),
        }
    }
}
