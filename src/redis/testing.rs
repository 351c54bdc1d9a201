//! Fixtures for the Redis server's rule tests: one server (node 0) next to
//! probes at nodes 1, 2, ..., every node at `10.0.0.<id + 1>:6379`.

use std::rc::Rc;

use super::cluster::{ClusterState, Layout};
use super::config::{ClusterConfig, RedisConfig};
use super::{Host, RedisNode, Server};
use crate::proto::addr::Directory;
use crate::proto::bus::{BusKind, BusMsg};
use crate::proto::slots::{SlotSet, even_split};
use crate::proto::{Ctx, Msg, RunId};
use crate::sim::net::{NodeId, PORT_BUS};
use crate::sim::testkit::{Harness, Probe};

pub type H = Harness<RedisNode>;

fn dir(n: usize) -> Rc<Directory> {
    Rc::new(Directory {
        names: (0..n).map(|i| format!("node-{i}")).collect(),
        hosts: (1..=n).map(|i| format!("10.0.0.{i}")).collect(),
        ports: vec![6379; n],
        published: Vec::new(),
    })
}

/// A server with this redis.conf (replicating from `replicaof`), and its
/// peers, started at time zero.
pub fn node(conf: RedisConfig, replicaof: Option<NodeId>, peers: Vec<Probe<Msg>>) -> H {
    let dir = dir(peers.len() + 1);
    let s = RedisNode::new("node-0".into(), dir, conf, replicaof);
    let peers = peers.into_iter().map(|p| ("peer", p)).collect();
    Harness::single("node-0", s, peers)
}

/// Node timeout of every cluster fixture.
pub const NODE_TIMEOUT: u64 = 15_000;

/// A cluster node (node 0) among silent peers, as `redis-cli --cluster
/// create` left them: `replica_of[i]` is node i's master, and the masters
/// share the slots evenly, in node order. Replicas may fail over whatever
/// their data age (cluster-replica-validity-factor 0) unless `conf` says
/// otherwise.
pub fn cluster(replica_of: Vec<Option<NodeId>>, conf: RedisConfig) -> H {
    let n = replica_of.len();
    let mut rng = crate::sim::rng::stream(1, "cluster-node-ids");
    let masters: Vec<usize> = (0..n).filter(|&i| replica_of[i].is_none()).collect();
    let ranges = even_split(masters.len());
    let slots = (0..n)
        .map(|i| match masters.iter().position(|&m| m == i) {
            Some(k) => Rc::new(SlotSet::range(ranges[k].0, ranges[k].1)),
            None => Rc::new(SlotSet::default()),
        })
        .collect();
    let layout = Layout {
        ids: (0..n).map(|_| RunId::random(&mut rng)).collect(),
        slots,
        replica_of: replica_of.clone(),
        addrs: (0..n)
            .map(|i| super::cluster::NodeAddr::at(&format!("10.0.0.{}", i + 1), 6379))
            .collect(),
    };
    let conf = RedisConfig {
        cluster_enabled: true,
        ..conf
    };
    let mut s = RedisNode::new("node-0".into(), dir(n), conf, None);
    s.cluster_layout = Some(Rc::new(layout));
    let peers = (1..n).map(|_| ("peer", Probe::silent())).collect();
    Harness::single("node-0", s, peers)
}

/// [`cluster`]'s redis.conf: validity factor 0.
pub fn cluster_conf() -> RedisConfig {
    RedisConfig {
        cluster: ClusterConfig {
            replica_validity_factor: 0,
            ..ClusterConfig::default()
        },
        ..RedisConfig::default()
    }
}

pub fn server(h: &mut H) -> &mut Server {
    h.node_mut(0).server.as_mut().expect("running")
}

pub fn state(h: &mut H) -> &mut ClusterState {
    server(h).cluster.as_mut().expect("cluster mode")
}

/// Runs `f` on the server's process as a handler would, then settles.
pub fn call<R>(h: &mut H, f: impl FnOnce(&mut Server, &mut Ctx<'_>, &mut Host<'_>) -> R) -> R {
    h.call(0, |s, ctx| {
        let (p, mut host) = s.running().expect("running");
        f(p, ctx, &mut host)
    })
}

/// [`call`] with the cluster state taken out, as cluster.c's functions get it.
pub fn call_cluster<R>(
    h: &mut H,
    f: impl FnOnce(&mut Server, &mut ClusterState, &mut Ctx<'_>, &mut Host<'_>) -> R,
) -> R {
    call(h, |p, ctx, host| {
        let mut c = p.cluster.take().expect("cluster mode");
        let r = f(p, &mut c, ctx, host);
        p.cluster = Some(c);
        r
    })
}

/// A bus message of `kind` as node `from` would send it, from the server's
/// view of that node (its configEpoch, slots or master, and offset).
pub fn bus_from(h: &mut H, from: NodeId, kind: BusKind) -> BusMsg {
    let c = state(h);
    let node = c.node(from);
    let master = node.slaveof.filter(|_| node.is_slave());
    let owner = master.unwrap_or(from);
    BusMsg {
        kind,
        sender: from,
        current_epoch: c.current_epoch,
        config_epoch: c.node(owner).config_epoch,
        offset: node.repl_offset,
        myslots: c.node(owner).slots.clone(),
        slaveof: master,
        flags: node.flags,
        state_ok: true,
        paused: false,
        forceack: false,
        myip: None,
        port: node.addr.port,
        cport: node.addr.cport,
        gossip: Vec::new(),
    }
}

/// Peer `from` sends `msg` to the server on the bus: on the link the server
/// opened to it when there is one, else on a new connection to the bus port.
pub fn send_bus(h: &mut H, from: NodeId, msg: BusMsg) {
    let conn = match h.conn(from, 0, PORT_BUS) {
        Some(c) => c,
        None => h.connect_port(from, 0, PORT_BUS),
    };
    h.send(from, conn, Msg::Bus(Box::new(msg)));
}

/// A server (node 0) and a redis-cli connection from node 1.
pub struct Cli {
    pub h: H,
    pub conn: crate::sim::net::ConnId,
}

impl Cli {
    pub fn new(conf: RedisConfig) -> Self {
        Self::with(node(conf, None, vec![Probe::silent()]))
    }

    pub fn with(mut h: H) -> Self {
        let conn = h.connect(1, 0);
        Self { h, conn }
    }

    /// A server and two redis-cli clients, the second on node 2 ([`Cli::other`]).
    pub fn two(conf: RedisConfig) -> Self {
        Self::with(node(conf, None, vec![Probe::silent(), Probe::silent()]))
    }

    /// The reply to `line` sent by the second client (a [`Cli::two`]).
    pub fn other(&mut self, line: &str) -> crate::proto::resp::Frame {
        use crate::proto::Cmd;
        let conn = match self.h.probe(2).conn_with(0) {
            Some(c) => c,
            None => self.h.connect(2, 0),
        };
        let argv = crate::proto::resp::split_args(line).expect("balanced");
        let mark = self.h.mark();
        self.h.send(2, conn, Msg::Cmd(Cmd::Line(argv)));
        self.h
            .sent_since(mark, 0)
            .into_iter()
            .find_map(|s| match s.msg {
                Msg::Reply(r) if s.to == 2 => r.to_frame(),
                _ => None,
            })
            .expect("a reply")
    }

    /// The reply to `line`, as redis-cli prints it.
    pub fn send(&mut self, line: &str) -> String {
        let argv = crate::proto::resp::split_args(line).expect("balanced");
        crate::proto::resp::shown(&argv, &self.reply(line))
    }

    /// The reply to `line` as it goes on the wire, with its size as the
    /// simulated network counts it.
    pub fn reply_sized(&mut self, line: &str) -> (crate::proto::resp::Frame, u64) {
        let replies = self.replies(line);
        assert_eq!(replies.len(), 1, "{line}: {replies:?}");
        replies[0].clone()
    }

    /// Every frame sent back for `line` (a push before the reply, say), as
    /// they go on the wire, each with its simulated size.
    pub fn replies(&mut self, line: &str) -> Vec<(crate::proto::resp::Frame, u64)> {
        use crate::proto::Cmd;
        use crate::sim::WireSize as _;
        let argv = crate::proto::resp::split_args(line).expect("balanced");
        let mark = self.h.mark();
        self.h.send(1, self.conn, Msg::Cmd(Cmd::Line(argv)));
        self.h
            .sent_since(mark, 0)
            .into_iter()
            .filter_map(|s| {
                let size = s.msg.wire_size();
                match s.msg {
                    Msg::Reply(r) => r.to_frame().map(|f| (f, size)),
                    _ => None,
                }
            })
            .collect()
    }

    /// The reply to `line` as it goes on the wire.
    pub fn reply(&mut self, line: &str) -> crate::proto::resp::Frame {
        self.reply_sized(line).0
    }

    pub fn server(&mut self) -> &mut Server {
        server(&mut self.h)
    }
}
