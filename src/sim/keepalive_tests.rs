//! TCP keepalive in the kernel: a socket that cannot hear its peer for its
//! idle time plus every probe's interval is dropped and its process reads
//! the connection as closed; an answered probe, any segment from the peer,
//! or data of its own still unacknowledged keeps it.

use super::net::{ConnId, Keepalive, NodeId};
use super::testkit::{Harness, Probe};
use super::{Ctx, Node, WireSize};
use crate::time::{Micros, ms, secs};

#[derive(Clone, Debug, PartialEq)]
struct Word(&'static str);

impl WireSize for Word {
    fn wire_size(&self) -> u64 {
        self.0.len() as u64
    }
}

/// Accepts connections with keepalive (idle 10 s, a probe every 3 s, 3
/// probes: `anet(10)`), and notes what it read and when each connection
/// was closed on it.
#[derive(Default)]
struct Server {
    read: Vec<&'static str>,
    closed: Vec<(ConnId, Micros)>,
}

impl Node for Server {
    type Msg = Word;
    type Admin = ();

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Word>) {}
    fn on_accept(&mut self, ctx: &mut Ctx<'_, Word>, conn: ConnId, _peer: NodeId) {
        ctx.keepalive(conn, Keepalive::anet(10));
    }
    fn on_message(&mut self, _ctx: &mut Ctx<'_, Word>, _conn: ConnId, msg: Word) {
        self.read.push(msg.0);
    }
    fn on_closed(&mut self, ctx: &mut Ctx<'_, Word>, conn: ConnId) {
        self.closed.push((conn, ctx.sim_time()));
    }
}

fn harness() -> (Harness<Server>, ConnId) {
    let mut h = Harness::single(
        "server",
        Server::default(),
        vec![("client", Probe::silent())],
    );
    h.run_until(secs(1));
    let conn = h.connect(1, 0);
    h.settle();
    (h, conn)
}

fn partition(h: &mut Harness<Server>, blocked: bool) {
    h.sim.set_blocked(0, 1, blocked);
    h.sim.set_blocked(1, 0, blocked);
}

#[test]
fn anet_keepalive_is_redis_s_settings() {
    let k = Keepalive::anet(10);
    assert_eq!((k.idle, k.interval, k.probes), (secs(10), secs(3), 3));
    // Twice a 2500 ms node timeout: 4 s, a probe every second.
    assert_eq!(Keepalive::anet(4).interval, secs(1));
    // Under 3 s the interval is still a whole second.
    assert_eq!(Keepalive::anet(2).interval, secs(1));
    // 0 s is refused by the kernel: Linux's defaults stay.
    assert_eq!(Keepalive::anet(0).idle, secs(7200));
}

#[test]
fn a_peer_cut_off_is_given_up_after_idle_plus_three_probes() {
    let (mut h, conn) = harness();
    partition(&mut h, true);
    // Last heard at 1 s: probes at 11, 14 and 17 s go unanswered, and at
    // 20 s the kernel drops the connection.
    h.run_until(secs(20) - 1);
    assert!(h.node(0).closed.is_empty());
    h.run_until(secs(20));
    assert_eq!(h.node(0).closed, vec![(conn, secs(20))]);
    // Nothing told the peer (its packets are held): it still has it open.
    assert!(!h.probe(1).closed());
}

#[test]
fn a_quiet_peer_that_answers_probes_is_kept() {
    let (mut h, _) = harness();
    h.run_until(secs(120));
    assert!(h.node(0).closed.is_empty(), "the probes were answered");
}

#[test]
fn a_partition_healed_before_the_last_probe_keeps_the_connection() {
    let (mut h, _) = harness();
    partition(&mut h, true);
    // Probes at 11 and 14 s are lost; the one at 17 s gets through.
    h.run_until(secs(16));
    partition(&mut h, false);
    h.run_until(secs(60));
    assert!(h.node(0).closed.is_empty());
}

#[test]
fn hearing_from_the_peer_starts_the_idle_time_again() {
    let (mut h, conn) = harness();
    h.run_until(secs(8));
    h.send(1, conn, Word("hello"));
    partition(&mut h, true);
    // Heard at 8 s: given up at 8 + 10 + 9 = 27 s.
    h.run_until(secs(27) - 1);
    assert!(h.node(0).closed.is_empty());
    h.run_until(secs(27));
    assert_eq!(h.node(0).closed, vec![(conn, secs(27))]);
}

#[test]
fn data_held_after_the_receiver_gave_up_is_never_read() {
    let (mut h, conn) = harness();
    partition(&mut h, true);
    h.run_until(ms(1_500));
    // Sent into the partition: held, retransmitted after the heal.
    h.send(1, conn, Word("stale"));
    h.run_until(secs(30));
    assert_eq!(h.node(0).closed, vec![(conn, secs(20))]);
    partition(&mut h, false);
    h.run_until(secs(60));
    // The retransmission finds no socket: a reset, which the sender reads
    // as the connection closing.
    assert!(h.probe(1).closed());
    assert!(h.node(0).read.is_empty(), "{:?}", h.node(0).read);
}
