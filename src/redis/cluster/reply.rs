//! The cluster's shape as clients ask for it: `CLUSTER SLOTS`
//! (clusterReplyMultiBulkSlots()), `CLUSTER SHARDS` (clusterReplyShards()),
//! `CLUSTER NODES` and `CLUSTER MYID`. Every address is the one the node's
//! table holds (see `announce`), with `cluster-preferred-endpoint-type ip`.
//!
//! Redis walks its nodes dict for SHARDS and NODES, in an order its
//! per-process hash seed decides; the model lists nodes in the order the
//! cluster was created. The entries are Redis's, byte for byte.

use crate::proto::Reply;
use crate::proto::resp::Frame;
use crate::proto::slots::SLOTS;
use crate::sim::net::NodeId;

use super::{ClusterState, PeerNode};
use crate::redis::Server;

impl Server {
    /// `CLUSTER SLOTS`, `SHARDS`, `NODES` or `MYID` (by the command's full
    /// name), or the error outside cluster mode.
    pub(in crate::redis) fn cluster_topology_line(&self, name: &str) -> Reply {
        let Some(c) = self.cluster.as_ref() else {
            return Reply::Error("ERR This instance has cluster support disabled".into());
        };
        // Nodes do not update their own offset in the table.
        let my_offset = if c.i_am_master() {
            self.master_repl_offset
        } else {
            self.replication_get_slave_offset()
        };
        Reply::Frame(match name {
            "cluster|slots" => c.slots_reply(my_offset),
            "cluster|shards" => c.shards_reply(my_offset),
            "cluster|nodes" => Frame::Verbatim {
                format: "txt".into(),
                text: c.nodes_description(),
            },
            _ => Frame::bulk(c.me().id.to_string()),
        })
    }
}

impl ClusterState {
    fn offset_of(&self, n: NodeId, my_offset: u64) -> u64 {
        if n == self.myself {
            my_offset
        } else {
            self.node(n).repl_offset
        }
    }

    /// Runs of consecutive slots with one owner: `(start, end, owner)`,
    /// from the slot table (clusterGenNodesSlotsInfo()).
    fn slot_runs(&self) -> Vec<(u16, u16, NodeId)> {
        let mut runs: Vec<(u16, u16, NodeId)> = Vec::new();
        for slot in 0..SLOTS as u16 {
            let Some(owner) = self.slot_owner(slot) else {
                continue;
            };
            match runs.last_mut() {
                Some(run) if run.2 == owner && run.1 + 1 == slot => run.1 = slot,
                _ => runs.push((slot, slot, owner)),
            }
        }
        runs
    }

    /// addNodeToNodeReply(): ip, port, id, and a map of the endpoints that
    /// are not the preferred one (none: no hostname is announced).
    fn node_entry(node: &PeerNode) -> Frame {
        Frame::Array(Some(vec![
            Frame::bulk(&*node.addr.ip),
            Frame::Int(i64::from(node.addr.port)),
            Frame::bulk(node.id.to_string()),
            Frame::Map(Vec::new()),
        ]))
    }

    /// clusterReplyMultiBulkSlots(): each run of slots with its master,
    /// then the master's replicas that are available (isReplicaAvailable():
    /// not failed, and with some replication offset).
    fn slots_reply(&self, my_offset: u64) -> Frame {
        let entries = self.slot_runs().into_iter().map(|(start, end, owner)| {
            let mut entry = vec![
                Frame::Int(i64::from(start)),
                Frame::Int(i64::from(end)),
                Self::node_entry(self.node(owner)),
            ];
            entry.extend(
                self.replicas_of(owner)
                    .filter(|&r| !self.node(r).failed() && self.offset_of(r, my_offset) != 0)
                    .map(|r| Self::node_entry(self.node(r))),
            );
            Frame::Array(Some(entry))
        });
        Frame::Array(Some(entries.collect()))
    }

    /// clusterReplyShards(): for every master, its slot ranges as a flat
    /// list of starts and ends, and its nodes (the master, then its
    /// replicas), each described by addNodeDetailsToShardReply().
    fn shards_reply(&self, my_offset: u64) -> Frame {
        let runs = self.slot_runs();
        let shards = (0..self.nodes.len() as NodeId)
            .filter(|&n| self.node(n).is_master())
            .map(|m| {
                let slots = runs
                    .iter()
                    .filter(|r| r.2 == m)
                    .flat_map(|r| [Frame::Int(i64::from(r.0)), Frame::Int(i64::from(r.1))])
                    .collect();
                let nodes = std::iter::once(m)
                    .chain(self.replicas_of(m))
                    .map(|n| self.shard_node(n, my_offset))
                    .collect();
                Frame::Map(vec![
                    (Frame::bulk("slots"), Frame::Array(Some(slots))),
                    (Frame::bulk("nodes"), Frame::Array(Some(nodes))),
                ])
            });
        Frame::Array(Some(shards.collect()))
    }

    /// addNodeDetailsToShardReply(), without TLS or a hostname.
    fn shard_node(&self, n: NodeId, my_offset: u64) -> Frame {
        let node = self.node(n);
        let offset = self.offset_of(n, my_offset);
        let health = if node.failed() {
            "fail"
        } else if node.is_slave() && offset == 0 {
            "loading"
        } else {
            "online"
        };
        let field = |k: &str, v: Frame| (Frame::bulk(k), v);
        Frame::Map(vec![
            field("id", Frame::bulk(node.id.to_string())),
            field("port", Frame::Int(i64::from(node.addr.port))),
            field("ip", Frame::bulk(&*node.addr.ip)),
            field("endpoint", Frame::bulk(&*node.addr.ip)),
            field(
                "role",
                Frame::bulk(if node.is_slave() { "replica" } else { "master" }),
            ),
            field("replication-offset", Frame::Int(offset as i64)),
            field("health", Frame::bulk(health)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use crate::redis::testing::{Cli, cluster, cluster_conf, state};
    use crate::time::ms;

    use super::super::FAIL;
    use super::*;

    /// Node 0 (this one) and masters 1 and 2 serve 0-5460, 5461-10922 and
    /// 10923-16383; replicas 3, 4, 5 follow them. Node 3 has no offset yet,
    /// node 4 has processed 100 bytes, node 5 is FAIL. The client speaks
    /// RESP3.
    fn six() -> Cli {
        let mut h = cluster(
            vec![None, None, None, Some(0), Some(1), Some(2)],
            cluster_conf(),
        );
        h.run_until(ms(500));
        let c = state(&mut h);
        c.nodes[3].repl_offset = 0;
        c.nodes[4].repl_offset = 100;
        c.nodes[5].repl_offset = 100;
        c.nodes[5].flags |= FAIL;
        // RESP3, so the maps, sets and verbatim text read as such.
        let mut cli = Cli::with(h);
        cli.reply("HELLO 3");
        cli
    }

    fn int(i: i64) -> Frame {
        Frame::Int(i)
    }

    fn id(cli: &mut Cli, n: usize) -> Frame {
        Frame::bulk(state(&mut cli.h).nodes[n].id.to_string())
    }

    /// addNodeToNodeReply(): ip, port, id and an empty map.
    fn entry(cli: &mut Cli, n: usize) -> Frame {
        Frame::Array(Some(vec![
            Frame::bulk(format!("10.0.0.{}", n + 1)),
            int(6379),
            id(cli, n),
            Frame::Map(Vec::new()),
        ]))
    }

    /// clusterReplyMultiBulkSlots(): one entry per run of slots; a replica
    /// with no offset yet (node 3) or FAIL (node 5) is left out.
    #[test]
    fn cluster_slots_lists_the_available_replicas_of_each_run() {
        let mut cli = six();
        let want = Frame::Array(Some(vec![
            Frame::Array(Some(vec![int(0), int(5460), entry(&mut cli, 0)])),
            Frame::Array(Some(vec![
                int(5461),
                int(10922),
                entry(&mut cli, 1),
                entry(&mut cli, 4),
            ])),
            Frame::Array(Some(vec![int(10923), int(16383), entry(&mut cli, 2)])),
        ]));
        assert_eq!(cli.reply("CLUSTER SLOTS"), want);
    }

    /// clusterReplyShards(): each master's slots as start/end pairs and its
    /// nodes, each with its health: `loading` for a replica with no
    /// offset, `fail` for a FAIL one.
    #[test]
    fn cluster_shards_describes_every_node_of_each_shard() {
        let mut cli = six();
        let Frame::Array(Some(shards)) = cli.reply("CLUSTER SHARDS") else {
            panic!("an array")
        };
        assert_eq!(shards.len(), 3);
        let node = |cli: &mut Cli, n: usize, role: &str, offset: i64, health: &str| {
            let pair = |k: &str, v: Frame| (Frame::bulk(k), v);
            Frame::Map(vec![
                pair("id", id(cli, n)),
                pair("port", int(6379)),
                pair("ip", Frame::bulk(format!("10.0.0.{}", n + 1))),
                pair("endpoint", Frame::bulk(format!("10.0.0.{}", n + 1))),
                pair("role", Frame::bulk(role)),
                pair("replication-offset", int(offset)),
                pair("health", Frame::bulk(health)),
            ])
        };
        let shard = |slots: [i64; 2], nodes: Vec<Frame>| {
            Frame::Map(vec![
                (
                    Frame::bulk("slots"),
                    Frame::Array(Some(slots.map(int).to_vec())),
                ),
                (Frame::bulk("nodes"), Frame::Array(Some(nodes))),
            ])
        };
        let mine = cli.server().master_repl_offset as i64;
        let first = vec![
            node(&mut cli, 0, "master", mine, "online"),
            node(&mut cli, 3, "replica", 0, "loading"),
        ];
        assert_eq!(shards[0], shard([0, 5460], first));
        let last = vec![
            node(&mut cli, 2, "master", 0, "online"),
            node(&mut cli, 5, "replica", 100, "fail"),
        ];
        assert_eq!(shards[2], shard([10923, 16383], last));
    }

    /// CLUSTER NODES is a verbatim text; CLUSTER MYID the node's id; each
    /// refused outside cluster mode.
    #[test]
    fn cluster_nodes_and_myid() {
        let mut cli = six();
        let Frame::Verbatim { format, text } = cli.reply("CLUSTER NODES") else {
            panic!("verbatim")
        };
        assert_eq!(format, "txt");
        let me = state(&mut cli.h).nodes[0].id.to_string();
        assert!(
            text.starts_with(&format!(
                "{me} 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460\n"
            )),
            "{text}"
        );
        assert_eq!(cli.reply("CLUSTER MYID"), Frame::bulk(me));
        let mut plain = Cli::new(crate::redis::config::RedisConfig::default());
        assert_eq!(
            plain.send("CLUSTER SLOTS"),
            "(error) ERR This instance has cluster support disabled"
        );
    }
}
