//! The commands Sentinel and Sentinel-aware clients send to Redis: SUBSCRIBE
//! and PUBLISH (locally and through the replication stream), ROLE, INFO, and
//! Sentinel's reconfiguration transaction (SLAVEOF, CONFIG REWRITE, CLIENT
//! KILL). Redis servers run on the kernel next to scripted probe clients that
//! send exactly these commands and record what comes back.

use redsim::proto::addr::Directory;
use redsim::proto::resp::Frame;
use redsim::proto::{Cmd, Msg, Reply};
use redsim::redis::config::RedisConfig;
use redsim::redis::info::field;
use redsim::redis::{RedisNode, Server};
use redsim::sim::net::{LinkParams, NodeId};
use redsim::sim::testkit::{Harness, Step, TestNode};
use redsim::time::{Micros, ms, secs};
use std::rc::Rc;

const HELLO: &str = "__sentinel__:hello";

type Probe = redsim::sim::testkit::Probe<Msg>;
type Sim = Harness<RedisNode>;

/// What a probe received, as the commands' replies and pub/sub messages.
trait Received {
    fn replies(&self) -> Vec<Reply>;
    /// (channel, payload) of each pub/sub message.
    fn messages(&self) -> Vec<(String, String)>;
}

impl Received for Probe {
    /// Replies, without the messages pushed to a subscriber.
    fn replies(&self) -> Vec<Reply> {
        self.received()
            .filter_map(|m| match m {
                Msg::Reply(r) if message(r).is_none() => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    fn messages(&self) -> Vec<(String, String)> {
        self.received()
            .filter_map(|m| match m {
                Msg::Reply(r) => message(r),
                _ => None,
            })
            .collect()
    }
}

/// The channel and payload of a pushed `message`.
fn message(r: &Reply) -> Option<(String, String)> {
    let f = r.to_frame()?;
    let (ch, m) = redsim::proto::pubsub::read_message(&f)?;
    Some((ch.to_string(), m.to_string()))
}

/// SUBSCRIBE's confirmation to a RESP2 client: `subscribe <ch> <count>`.
fn subscribed(channel: &str, count: i64) -> Reply {
    Reply::Written(Frame::Array(Some(vec![
        Frame::bulk("subscribe"),
        Frame::bulk(channel),
        Frame::Int(count),
    ])))
}

/// A Redis node of the test: its name, the master it starts replicating
/// from, and its redis.conf.
struct Node(&'static str, Option<NodeId>, RedisConfig);

/// Fast syncs and no keep-alive PINGs in the stream, so offsets are exact.
fn conf() -> RedisConfig {
    RedisConfig {
        repl_diskless_sync_delay: 0,
        repl_ping_replica_period: 3600,
        ..RedisConfig::default()
    }
}

/// Redis nodes first (10.0.0.1, ...:6379), then probes (port 26379).
fn build(redis: Vec<Node>, probes: Vec<(&str, Probe)>) -> Sim {
    let names: Vec<String> = redis
        .iter()
        .map(|s| s.0.to_string())
        .chain(probes.iter().map(|p| p.0.to_string()))
        .collect();
    let n = names.len();
    let mut ports: Vec<u16> = redis.iter().map(|s| s.2.port).collect();
    ports.resize(n, 26379);
    let dir = Rc::new(Directory {
        names: names.clone(),
        hosts: (1..=n).map(|i| format!("10.0.0.{i}")).collect(),
        ports,
        published: Vec::new(),
    });
    let nodes = redis
        .into_iter()
        .map(|Node(name, replicaof, conf)| {
            let r = RedisNode::new(name.into(), dir.clone(), conf, replicaof);
            (name, TestNode::Real(Box::new(r)))
        })
        .chain(
            probes
                .into_iter()
                .map(|(name, p)| (name, TestNode::Probe(p))),
        )
        .collect();
    let mut sim = Harness::new(1, nodes, LinkParams::default());
    sim.start_all();
    sim
}

fn run(sim: &mut Sim, until: Micros) {
    sim.run_until(until);
}

fn node(sim: &Sim, n: usize) -> &RedisNode {
    sim.node(n as NodeId)
}

fn server(sim: &Sim, n: usize) -> &Server {
    node(sim, n).server.as_ref().expect("running")
}

fn probe(sim: &Sim, n: usize) -> &Probe {
    sim.probe(n as NodeId)
}

/// Log lines of one node with this event name, after a time.
fn events(sim: &Sim, node: usize, name: &str, after: Micros) -> Vec<String> {
    sim.events(node as NodeId, name)
        .into_iter()
        .filter(|(t, _)| *t >= after)
        .map(|(_, detail)| detail)
        .collect()
}

fn publish(channel: &str, message: &str) -> Cmd {
    Cmd::Publish {
        channel: channel.into(),
        message: message.into(),
    }
}

/// A scripted step that sends a command.
fn send(cmd: Cmd) -> Step<Msg> {
    Step::Send(Msg::Cmd(cmd))
}

fn slaveof(master: Option<(&str, u16)>) -> Cmd {
    Cmd::SentinelSlaveOf {
        master: master.map(|(h, p)| (h.into(), p)),
    }
}

/// A probe that connects at `at` and sends `cmds` 10 ms apart.
fn sends(target: NodeId, at: Micros, cmds: Vec<Cmd>) -> Probe {
    let mut script = vec![(at, Step::Connect)];
    for (i, cmd) in cmds.into_iter().enumerate() {
        script.push((at + ms(10) * (i as u64 + 1), send(cmd)));
    }
    Probe::scripted(target, script)
}

fn is_connected_replica_of(p: &Server, master: NodeId) -> bool {
    p.replica
        .as_ref()
        .is_some_and(|s| s.master == master && s.is_connected())
}

/// A hello published on the master reaches the master's subscribers at once
/// and the replica's through the stream; the stream grows by exactly the
/// PUBLISH's RESP bytes (47 + digits(L) + L on `__sentinel__:hello`, plus a
/// SELECT before the first one after the full sync), and the replica's offset
/// follows. A PUBLISH on the replica stays there.
#[test]
fn publish_reaches_subscribers_on_the_master_and_through_the_stream() {
    let hello1 = "a".repeat(9);
    let hello2 = "b".repeat(90);
    let mut sim = build(
        vec![
            Node("master", None, conf()),
            Node("replica", Some(0), conf()),
        ],
        vec![
            (
                "sub-master",
                sends(0, secs(1), vec![Cmd::Subscribe(HELLO.into())]),
            ),
            (
                "sub-replica",
                sends(1, secs(1), vec![Cmd::Subscribe(HELLO.into())]),
            ),
            (
                "publisher",
                Probe::scripted(
                    0,
                    vec![
                        (secs(1), Step::Connect),
                        (secs(3), send(publish(HELLO, &hello1))),
                        (secs(4), send(publish(HELLO, &hello2))),
                        (secs(5), send(publish("other", "x"))),
                    ],
                ),
            ),
            (
                "replica-publisher",
                sends(1, secs(6), vec![publish(HELLO, "local")]),
            ),
        ],
    );
    run(&mut sim, secs(2) + ms(900));
    assert!(is_connected_replica_of(server(&sim, 1), 0));
    let before = server(&sim, 0).master_repl_offset;
    run(&mut sim, secs(3) + ms(500));
    let first = server(&sim, 0).master_repl_offset;
    assert_eq!(first - before, 23 + 47 + 1 + 9, "SELECT + first hello");
    run(&mut sim, secs(4) + ms(500));
    let second = server(&sim, 0).master_repl_offset;
    assert_eq!(second - first, 47 + 2 + 90);
    assert_eq!(server(&sim, 1).master_repl_offset, second);
    run(&mut sim, secs(7));
    let end = server(&sim, 0).master_repl_offset;
    // *3 $7 PUBLISH $5 other $1 x: nobody listens, still replicated.
    assert_eq!(end - second, 4 + 13 + 11 + 7);
    assert_eq!(server(&sim, 1).master_repl_offset, end);

    let hellos = |n| {
        probe(&sim, n)
            .messages()
            .into_iter()
            .map(|(c, p)| {
                assert_eq!(c, HELLO);
                p
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(hellos(2), vec![hello1.clone(), hello2.clone()]);
    assert_eq!(hellos(3), vec![hello1, hello2, "local".to_string()]);
    assert_eq!(
        probe(&sim, 4).replies(),
        vec![Reply::Int(1), Reply::Int(1), Reply::Int(0)]
    );
    assert_eq!(probe(&sim, 5).replies(), vec![Reply::Int(1)]);
    for n in [2, 3] {
        assert_eq!(probe(&sim, n).replies(), vec![subscribed(HELLO, 1)]);
    }
}

/// Subscribing twice to a channel counts once; a subscriber is limited to
/// the pub/sub commands (RESP2); once its connection closes it is dropped.
#[test]
fn subscribers_are_counted_once_restricted_and_dropped_on_close() {
    let mut sim = build(
        vec![Node("master", None, conf())],
        vec![
            (
                "subscriber",
                Probe::scripted(
                    0,
                    vec![
                        (secs(1), Step::Connect),
                        (ms(1010), send(Cmd::Subscribe(HELLO.into()))),
                        (ms(1020), send(Cmd::Subscribe(HELLO.into()))),
                        (ms(1030), send(Cmd::Get("k".into()))),
                        (ms(1040), send(Cmd::Ping)),
                        (secs(3), Step::Close),
                    ],
                ),
            ),
            (
                "publisher",
                Probe::scripted(
                    0,
                    vec![
                        (secs(1), Step::Connect),
                        (secs(2), send(publish(HELLO, "one"))),
                        (secs(4), send(publish(HELLO, "two"))),
                    ],
                ),
            ),
        ],
    );
    run(&mut sim, secs(5));
    let sub = probe(&sim, 1);
    assert_eq!(
        sub.replies(),
        vec![
            subscribed(HELLO, 1),
            subscribed(HELLO, 1),
            Reply::Error(
                "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context".into()
            ),
            // pingCommand() in subscribed mode (RESP2): `pong` and "".
            Reply::Frame(Frame::Array(Some(vec![Frame::bulk("pong"), Frame::bulk("")]))),
        ]
    );
    assert_eq!(sub.messages(), vec![(HELLO.to_string(), "one".to_string())]);
    assert_eq!(probe(&sim, 2).replies(), vec![Reply::Int(1), Reply::Int(0)]);
}

/// ROLE says master or slave; INFO starts with `# Server` (Sentinel reads
/// run_id there), then Stats and Replication.
#[test]
fn role_and_info() {
    let cmds = || vec![Cmd::Role, Cmd::Info];
    let mut sim = build(
        vec![
            Node("master", None, conf()),
            Node("replica", Some(0), conf()),
        ],
        vec![
            ("to-master", sends(0, secs(3), cmds())),
            ("to-replica", sends(1, secs(3), cmds())),
        ],
    );
    run(&mut sim, secs(4));
    for (n, role) in [(0, "master"), (1, "slave")] {
        let replies = probe(&sim, 2 + n).replies();
        assert_eq!(replies[0], Reply::Role(role));
        let Reply::Info(info) = &replies[1] else {
            panic!("INFO gave {:?}", replies[1]);
        };
        assert!(
            info.starts_with("# Server\r\nredis_version:7.0.15\r\n"),
            "{info}"
        );
        assert_eq!(field(info, "run_id"), Some(server(&sim, n).run_id.as_str()));
        assert_eq!(field(info, "tcp_port"), Some("6379"));
        assert_eq!(field(info, "redis_mode"), Some("standalone"));
        assert_eq!(field(info, "uptime_in_seconds"), Some("3"));
        assert_eq!(field(info, "role"), Some(role));
        let server = info.find("run_id:").unwrap();
        let uptime = info.find("uptime_in_seconds:").unwrap();
        assert!(server < info.find("tcp_port:").unwrap() && uptime > server);
        // Redis 7.0's default order: Server, …, Stats, Replication, …
        assert!(info.contains("io_threads_active:0\r\n\r\n# Stats\r\n"));
        let stats = info.find("# Stats").unwrap();
        assert!(info.find("\r\n# Replication\r\nrole:").unwrap() > stats);
        assert!(info.ends_with("\r\n"));
    }
}

/// Sentinel's failover: `SLAVEOF NO ONE` promotes replica-1 (its history
/// becomes replid2), `SLAVEOF replica-1` demotes the old master and moves
/// replica-2; both continue by partial resync. CONFIG REWRITE persisted each
/// change: killed and restarted, every node comes back in its new role.
#[test]
fn sentinel_transaction_promotes_demotes_and_survives_restarts() {
    let new_master = Some(("10.0.0.2", 6379));
    let mut sim = build(
        vec![
            Node("master", None, conf()),
            Node("replica-1", Some(0), conf()),
            Node("replica-2", Some(0), conf()),
        ],
        vec![
            ("sentinel-r1", sends(1, secs(3), vec![slaveof(None)])),
            ("sentinel-m", sends(0, secs(4), vec![slaveof(new_master)])),
            ("sentinel-r2", sends(2, secs(4), vec![slaveof(new_master)])),
        ],
    );
    run(&mut sim, secs(3));
    let (old_id, old_off) = (server(&sim, 1).replid, server(&sim, 1).master_repl_offset);
    assert_eq!(old_id, server(&sim, 0).replid);
    run(&mut sim, secs(3) + ms(500));
    let p1 = server(&sim, 1);
    assert!(p1.replica.is_none());
    assert_eq!(p1.replid2, old_id);
    assert_eq!(p1.second_replid_offset, old_off as i64 + 1);
    assert_ne!(p1.replid, old_id);
    assert_eq!(node(&sim, 1).conf_replicaof, None);
    let promoted = events(&sim, 1, "MASTER MODE enabled", 0);
    assert_eq!(promoted.len(), 1);
    assert!(
        promoted[0].starts_with("MASTER MODE enabled (user request from 'id=")
            && promoted[0].contains(" addr=10.0.0.4:")
            && promoted[0].contains(" laddr=10.0.0.2:6379 cmd=slaveof user=default"),
        "{}",
        promoted[0]
    );
    assert_eq!(
        events(&sim, 1, "CONFIG REWRITE executed with success.", 0).len(),
        1
    );

    run(&mut sim, secs(7));
    for n in [0, 2] {
        assert!(is_connected_replica_of(server(&sim, n), 1), "node {n}");
        assert_eq!(node(&sim, n).conf_replicaof, Some(1));
        assert_eq!(
            events(
                &sim,
                n,
                "Successful partial resynchronization with master.",
                secs(4)
            )
            .len(),
            1,
            "node {n}"
        );
        assert_eq!(server(&sim, n).replid, server(&sim, 1).replid);
        let enabled = events(&sim, n, "REPLICAOF enabled", secs(4));
        assert!(enabled[0].starts_with("REPLICAOF 10.0.0.2:6379 enabled (user request from 'id="));
    }
    for n in [0, 1, 2] {
        assert!(probe(&sim, 3 + n).replies() == vec![Reply::Ok]);
    }

    // Kill everyone; each comes back as redis.conf now says.
    for n in 0..3 {
        sim.kill(n, false);
    }
    run(&mut sim, secs(8));
    for n in 0..3 {
        sim.start(n);
    }
    run(&mut sim, secs(12));
    assert!(server(&sim, 1).replica.is_none());
    for n in [0, 2] {
        assert!(is_connected_replica_of(server(&sim, n), 1), "node {n}");
    }
}

/// A REPLICAOF without CONFIG REWRITE (the operator's) is forgotten on
/// restart: the process comes back with redis.conf's replicaof.
#[test]
fn plain_replicaof_is_not_persisted() {
    let no_one = Cmd::ReplicaOf {
        host: "NO".into(),
        port: "ONE".into(),
    };
    let mut sim = build(
        vec![
            Node("master", None, conf()),
            Node("replica", Some(0), conf()),
        ],
        vec![("operator", sends(1, secs(3), vec![no_one]))],
    );
    run(&mut sim, secs(3) + 100_000);
    assert!(server(&sim, 1).replica.is_none());
    sim.kill(1, false);
    run(&mut sim, secs(4));
    sim.start(1);
    run(&mut sim, secs(8));
    assert!(is_connected_replica_of(server(&sim, 1), 0));
}

/// CLIENT KILL TYPE normal and pubsub close plain clients and subscribers,
/// never the sender, the replicas, or the link to our own master; a SLAVEOF
/// naming the current master changes nothing else.
#[test]
fn client_kill_closes_normal_and_pubsub_clients_only() {
    let master = Some(("10.0.0.1", 6379));
    let mut sim = build(
        vec![
            Node("master", None, conf()),
            Node("replica", Some(0), conf()),
        ],
        vec![
            ("client-m", sends(0, secs(1), vec![Cmd::Ping])),
            (
                "sub-m",
                sends(0, secs(1), vec![Cmd::Subscribe(HELLO.into())]),
            ),
            ("client-r", sends(1, secs(1), vec![Cmd::Ping])),
            (
                "sub-r",
                sends(1, secs(1), vec![Cmd::Subscribe(HELLO.into())]),
            ),
            ("sentinel-m", sends(0, secs(3), vec![slaveof(None)])),
            (
                "sentinel-r",
                sends(1, secs(4), vec![slaveof(master), Cmd::Role]),
            ),
        ],
    );
    run(&mut sim, secs(6));
    for n in 2..6 {
        assert!(probe(&sim, n).closed(), "probe {n} still open");
    }
    for n in [6, 7] {
        assert!(!probe(&sim, n).closed());
    }
    assert_eq!(probe(&sim, 6).replies(), vec![Reply::Ok]);
    assert_eq!(
        probe(&sim, 7).replies(),
        vec![Reply::Ok, Reply::Role("slave")]
    );
    // Killed clients: 2 on the master at 3 s, 2 on the replica at 4 s.
    let closed: Vec<Micros> = (2..6)
        .map(|n| probe(&sim, n).seen.last().unwrap().0)
        .collect();
    assert!(closed[..2].iter().all(|&t| t > secs(3) && t < secs(4)));
    assert!(closed[2..].iter().all(|&t| t > secs(4)));
    // The replication link survived both transactions.
    assert_eq!(server(&sim, 0).replicas.len(), 1);
    assert!(is_connected_replica_of(server(&sim, 1), 0));
    assert!(events(&sim, 1, "Connection with master lost.", 0).is_empty());
    assert!(events(&sim, 0, "MASTER MODE enabled", 0).is_empty());
    assert_eq!(
        events(
            &sim,
            1,
            "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.",
            0
        )
        .len(),
        1
    );
    assert_eq!(node(&sim, 1).conf_replicaof, Some(0));
}

/// An address no simulated process listens at is refused and nothing
/// changes: no role change, no rewrite, no client killed.
#[test]
fn slaveof_an_unknown_address_changes_nothing() {
    let mut sim = build(
        vec![Node("master", None, conf())],
        vec![
            ("client", sends(0, secs(1), vec![Cmd::Ping])),
            (
                "sentinel",
                sends(0, secs(2), vec![slaveof(Some(("10.9.9.9", 6379)))]),
            ),
        ],
    );
    run(&mut sim, secs(3));
    let replies = probe(&sim, 2).replies();
    assert!(matches!(&replies[..], [Reply::Error(e)] if e.starts_with("ERR ")));
    assert!(server(&sim, 0).replica.is_none());
    assert!(!probe(&sim, 1).closed());
    assert!(events(&sim, 0, "CONFIG REWRITE executed with success.", 0).is_empty());
}

/// Writes to a node Sentinel turned into a replica get -READONLY; the writer
/// connected before the switch was disconnected by CLIENT KILL.
#[test]
fn writes_after_demotion_get_readonly() {
    let set = || Cmd::Set("k".into(), redsim::proto::Value::Text("v".into()));
    let mut sim = build(
        vec![Node("old", None, conf()), Node("new", None, conf())],
        vec![
            ("writer-before", sends(0, secs(1), vec![set()])),
            (
                "sentinel",
                sends(0, secs(2), vec![slaveof(Some(("10.0.0.2", 6379)))]),
            ),
            ("writer-after", sends(0, secs(5), vec![set(), Cmd::Role])),
        ],
    );
    run(&mut sim, secs(6));
    let before = probe(&sim, 2);
    assert_eq!(before.replies(), vec![Reply::Ok]);
    assert!(before.closed());
    assert!(is_connected_replica_of(server(&sim, 0), 1));
    assert_eq!(
        probe(&sim, 4).replies(),
        vec![
            Reply::Error("READONLY You can't write against a read only replica.".into()),
            Reply::Role("slave"),
        ]
    );
}

/// While a restarted process loads its RDB, SLAVEOF is refused, so EXEC
/// aborts the whole transaction; ROLE, INFO, SUBSCRIBE and PUBLISH are served.
#[test]
fn the_transaction_aborts_while_loading() {
    let slow = RedisConfig {
        rdb_load_rate: 1,
        ..conf()
    };
    let mut sim = build(
        vec![Node("loading", None, slow), Node("other", None, conf())],
        vec![
            (
                "writer",
                sends(
                    0,
                    secs(1),
                    vec![Cmd::Set("k".into(), redsim::proto::Value::Text("v".into()))],
                ),
            ),
            (
                "sentinel",
                sends(
                    0,
                    secs(3),
                    vec![
                        slaveof(Some(("10.0.0.2", 6379))),
                        Cmd::Role,
                        Cmd::Subscribe(HELLO.into()),
                        Cmd::Ping,
                    ],
                ),
            ),
        ],
    );
    run(&mut sim, secs(2));
    sim.shutdown(0);
    sim.start(0);
    run(&mut sim, secs(4));
    assert_eq!(
        probe(&sim, 3).replies(),
        vec![
            Reply::Error("EXECABORT Transaction discarded because of previous errors.".into()),
            Reply::Role("master"),
            subscribed(HELLO, 1),
            Reply::Error("LOADING Redis is loading the dataset in memory".into()),
        ]
    );
    assert!(server(&sim, 0).replica.is_none());
    assert_eq!(node(&sim, 0).conf_replicaof, None);
}
