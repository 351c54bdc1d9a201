//! `CLUSTER INFO` and `CLUSTER NODES` (clusterGenNodesDescription()), as a
//! node sees the cluster.

use std::fmt::Write as _;

use super::*;

impl ClusterState {
    /// `CLUSTER INFO` without the message statistics.
    pub fn info(&self) -> String {
        let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
        for slot in 0..slots::SLOTS as u16 {
            let Some(o) = self.slot_owner(slot) else {
                continue;
            };
            assigned += 1;
            let n = self.node(o);
            if n.failed() {
                fail += 1;
            } else if n.timed_out() {
                pfail += 1;
            } else {
                ok += 1;
            }
        }
        let my_epoch = match self.me().slaveof.filter(|_| self.me().is_slave()) {
            Some(m) => self.node(m).config_epoch,
            None => self.me().config_epoch,
        };
        let mut s = String::new();
        let state = if self.state_ok { "ok" } else { "fail" };
        let _ = write!(
            s,
            "cluster_state:{state}\r\ncluster_slots_assigned:{assigned}\r\ncluster_slots_ok:{ok}\r\n\
             cluster_slots_pfail:{pfail}\r\ncluster_slots_fail:{fail}\r\ncluster_known_nodes:{}\r\n\
             cluster_size:{}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:{my_epoch}\r\n",
            self.nodes.len(),
            self.size,
            self.current_epoch
        );
        s
    }

    /// `CLUSTER NODES`: one line per node, flags and slots as Redis prints
    /// them (migrating/importing slots included for this node).
    pub fn nodes_description(&self) -> String {
        let mut s = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let me = i as NodeId == self.myself;
            let mut flags = Vec::new();
            if me {
                flags.push("myself");
            }
            flags.push(if n.is_master() { "master" } else { "slave" });
            if n.timed_out() {
                flags.push("fail?");
            }
            if n.failed() {
                flags.push("fail");
            }
            if n.flags & NOFAILOVER != 0 {
                flags.push("nofailover");
            }
            let master = match n.slaveof.filter(|_| n.is_slave()) {
                Some(m) => self.node(m).id.to_string(),
                None => "-".into(),
            };
            let addr = &n.addr;
            let link = if me || n.link.is_some() {
                "connected"
            } else {
                "disconnected"
            };
            let (ping, pong) = if me {
                (0, 0)
            } else {
                (n.ping_sent, n.pong_received)
            };
            // clusterGenNodeDescription(): a replica shows its master's epoch.
            let epoch = match n.slaveof.filter(|_| n.is_slave()) {
                Some(m) => self.node(m).config_epoch,
                None => n.config_epoch,
            };
            let _ = write!(
                s,
                "{} {addr}@{} {} {master} {ping} {pong} {epoch} {link}",
                n.id,
                addr.cport,
                flags.join(",")
            );
            if n.is_master() {
                let ranges = n.slots.ranges_text();
                if !ranges.is_empty() {
                    let _ = write!(s, " {ranges}");
                }
            }
            if me {
                for (slot, to) in &self.migrating {
                    let _ = write!(s, " [{slot}->-{}]", self.node(*to).id);
                }
                for (slot, from) in &self.importing {
                    let _ = write!(s, " [{slot}-<-{}]", self.node(*from).id);
                }
            }
            s.push('\n');
        }
        s
    }
}
