//! Fixtures for the Sentinel's rule tests: one Sentinel (node 0) watching a
//! master (node 1) and whatever replicas and other Sentinels a test needs,
//! all of them probes that answer as Redis and Sentinel would.

use std::rc::Rc;

use compact_str::CompactString;

use super::instance::{Instance, Kind};
use super::{MasterConf, SentinelConf, SentinelNode};
use crate::proto::addr::Directory;
use crate::proto::{Cmd, Msg, Reply};
use crate::sim::net::NodeId;
use crate::sim::testkit::{Harness, Probe};

pub const MASTER: NodeId = 1;
/// `down-after-milliseconds` of every fixture.
pub const DOWN_AFTER: u64 = 5000;

/// A peer of the Sentinel under test.
pub enum Peer {
    /// The master: answers PING and INFO (listing these replicas).
    Master(Vec<NodeId>),
    /// A master that never answers anything.
    SilentMaster,
    /// A master that answers PING with this reply and INFO as a master.
    MasterPingReply(Reply),
    /// A replica of the master with its `slave_priority`,
    /// `slave_repl_offset` and run id.
    Replica {
        priority: u32,
        offset: u64,
        runid: &'static str,
    },
    /// Another Sentinel, known by its run id, that says the master is down
    /// (or not) when asked.
    Sentinel { runid: &'static str, down: bool },
    /// A client that says nothing unless the test speaks for it.
    Client,
}

pub fn host(node: NodeId) -> String {
    format!("10.0.0.{}", node + 1)
}

/// INFO of a master with these replicas (`slaveN:ip=...,port=...`).
fn master_info(replicas: &[NodeId]) -> String {
    let mut s = format!(
        "# Server\r\nrun_id:{}\r\n# Replication\r\nrole:master\r\nconnected_slaves:{}\r\n",
        "m".repeat(40),
        replicas.len()
    );
    for (i, r) in replicas.iter().enumerate() {
        s.push_str(&format!(
            "slave{i}:ip={},port=6379,state=online,offset=0,lag=0\r\n",
            host(*r)
        ));
    }
    s
}

fn replica_info(priority: u32, offset: u64, runid: &str) -> String {
    format!(
        "# Server\r\nrun_id:{runid}\r\n# Replication\r\nrole:slave\r\nmaster_host:{}\r\n\
         master_port:6379\r\nmaster_link_status:up\r\nslave_repl_offset:{offset}\r\n\
         slave_priority:{priority}\r\n",
        host(MASTER)
    )
}

/// How a Redis instance answers what a Sentinel sends it.
fn redis_answer(ping: Reply, info: String) -> impl FnMut(&Msg) -> Option<Msg> {
    move |m| {
        let Msg::Cmd(cmd) = m else { return None };
        Some(Msg::Reply(match cmd {
            Cmd::Ping => ping.clone(),
            Cmd::Info => Reply::Info(info.clone()),
            Cmd::Subscribe(ch) => {
                Reply::Written(crate::proto::pubsub::PubSub::default().subscribe(
                    0,
                    crate::proto::pubsub::Kind::Channel,
                    ch,
                ))
            }
            Cmd::Publish { .. } => Reply::Int(1),
            _ => Reply::Ok,
        }))
    }
}

fn sentinel_answer(down: bool) -> impl FnMut(&Msg) -> Option<Msg> {
    move |m| {
        let Msg::Cmd(cmd) = m else { return None };
        Some(Msg::Reply(match cmd {
            Cmd::Ping => Reply::Pong,
            Cmd::IsMasterDownByAddr { .. } => Reply::MasterDown {
                down,
                leader: None,
                leader_epoch: 0,
            },
            Cmd::Publish { .. } => Reply::Int(1),
            _ => Reply::Ok,
        }))
    }
}

/// A Sentinel with `down-after-milliseconds` [`DOWN_AFTER`] and this quorum,
/// started at time zero with its peers (nodes 1, 2, ... in order; node 1 is
/// the master). Other Sentinels are known from the start, as if from
/// sentinel.conf.
pub fn sentinel(quorum: u32, peers: Vec<Peer>) -> Harness<SentinelNode> {
    let n = peers.len() + 1;
    let ports = std::iter::once(26379)
        .chain(peers.iter().map(|p| match p {
            Peer::Sentinel { .. } => 26379,
            _ => 6379,
        }))
        .collect();
    let dir = Rc::new(Directory {
        names: (0..n).map(|i| format!("node-{i}")).collect(),
        hosts: (0..n as NodeId).map(host).collect(),
        ports,
        published: Vec::new(),
    });
    let conf = SentinelConf {
        port: 26379,
        masters: vec![MasterConf {
            quorum,
            down_after: DOWN_AFTER,
            ..MasterConf::new(MASTER)
        }],
        announce: None,
    };
    let mut known = Vec::new();
    let probes = peers
        .into_iter()
        .enumerate()
        .map(|(i, peer)| {
            let probe = match peer {
                Peer::Master(replicas) => {
                    Probe::answering(redis_answer(Reply::Pong, master_info(&replicas)))
                }
                Peer::SilentMaster | Peer::Client => Probe::silent(),
                Peer::MasterPingReply(r) => Probe::answering(redis_answer(r, master_info(&[]))),
                Peer::Replica {
                    priority,
                    offset,
                    runid,
                } => Probe::answering(redis_answer(
                    Reply::Pong,
                    replica_info(priority, offset, runid),
                )),
                Peer::Sentinel { runid, down } => {
                    known.push((i as NodeId + 1, runid));
                    Probe::answering(sentinel_answer(down))
                }
            };
            ("peer", probe)
        })
        .collect();
    let s = SentinelNode::new("sentinel".into(), dir, conf);
    let mut h = Harness::single("sentinel", s, probes);
    let now = h.mstime(0);
    let p = h.node_mut(0).state.as_mut().expect("running");
    for (node, runid) in known {
        let mut s = Instance::new(Kind::Sentinel, runid.into(), &host(node), 26379, node, now);
        s.runid = Some(CompactString::from(runid));
        p.masters[0].sentinels.push(s);
    }
    h
}

/// The running Sentinel's state.
pub fn state(h: &mut Harness<SentinelNode>) -> &mut super::SentinelState {
    h.node_mut(0).state.as_mut().expect("running")
}
