//! Testing one node on its own: the node under test runs on a real kernel
//! next to scripted peers ([`Probe`]s), and a [`Harness`] hands it inputs and
//! reads back what it did.
//!
//! A test reads as "given this node, when this input, then it sends,
//! schedules or logs that":
//!
//! ```text
//! let mut h = Harness::single("sentinel", sentinel, vec![("master", Probe::silent())]);
//! h.run_until(secs(5));                 // given: five quiet seconds
//! h.fire(0, SentinelTimer::Tick);       // when: a tick, now
//! assert_eq!(h.events(0, "+sdown").len(), 1); // then
//! ```
//!
//! The harness is a thin layer over [`Simulation`], so the node sees exactly
//! what it sees in a scenario run: the same `Ctx`, connections and timers.
//! [`Harness::single`] links every pair with zero latency, so an input and
//! everything it causes (a reply, the answer to the reply) happen at the
//! same instant and times in a test are the node's own.

use std::cell::RefCell;
use std::rc::Rc;

mod probe;

use super::net::{ConnId, LinkParams, NodeId, PORT_MAIN};
use super::timer::Timer;
use super::{Ctx, Ev, Node, Simulation, Wiretap};
use crate::time::Micros;
use crate::trace::Event;
pub use probe::{Answer, Probe, Seen, Step};

/// A node of a test: a real node, or a scripted peer.
pub enum TestNode<N: Node> {
    Real(Box<N>),
    Probe(Probe<N::Msg>),
}

macro_rules! each {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            TestNode::Real($p) => $e,
            TestNode::Probe($p) => $e,
        }
    };
}

impl<N: Node> Node for TestNode<N>
where
    N::Msg: Clone,
{
    type Msg = N::Msg;
    type Admin = N::Admin;

    fn on_start(&mut self, ctx: &mut Ctx<'_, N::Msg>) {
        each!(self, p => p.on_start(ctx))
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, N::Msg>, token: u64) {
        each!(self, p => p.on_timer(ctx, token))
    }
    fn on_accept(&mut self, ctx: &mut Ctx<'_, N::Msg>, conn: ConnId, peer: NodeId) {
        each!(self, p => p.on_accept(ctx, conn, peer))
    }
    fn on_connected(&mut self, ctx: &mut Ctx<'_, N::Msg>, conn: ConnId) {
        each!(self, p => p.on_connected(ctx, conn))
    }
    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_, N::Msg>, conn: ConnId) {
        each!(self, p => p.on_connect_failed(ctx, conn))
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, N::Msg>, conn: ConnId, msg: N::Msg) {
        each!(self, p => p.on_message(ctx, conn, msg))
    }
    fn on_closed(&mut self, ctx: &mut Ctx<'_, N::Msg>, conn: ConnId) {
        each!(self, p => p.on_closed(ctx, conn))
    }
    fn on_writable(&mut self, ctx: &mut Ctx<'_, N::Msg>, conn: ConnId) {
        each!(self, p => p.on_writable(ctx, conn))
    }
    fn on_admin(&mut self, ctx: &mut Ctx<'_, N::Msg>, cmd: N::Admin) {
        if let TestNode::Real(n) = self {
            n.on_admin(ctx, cmd);
        }
    }
    fn on_kill(&mut self, now: Micros, power_loss: bool) {
        each!(self, p => p.on_kill(now, power_loss))
    }
    fn on_shutdown(&mut self, ctx: &mut Ctx<'_, N::Msg>) {
        each!(self, p => p.on_shutdown(ctx))
    }
}

/// A message a node handed to the network.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent<M> {
    pub t: Micros,
    pub from: NodeId,
    pub to: NodeId,
    pub msg: M,
}

/// Records every message sent, for [`Harness::sent`].
struct Recorder<M>(Rc<RefCell<Vec<Sent<M>>>>);

impl<M: Clone> Wiretap<M> for Recorder<M> {
    fn sent(&mut self, now: Micros, _id: u32, from: NodeId, to: NodeId, msg: &M, _bytes: u64) {
        self.0.borrow_mut().push(Sent {
            t: now,
            from,
            to,
            msg: msg.clone(),
        });
    }
    fn fate(&mut self, _now: Micros, _id: u32, _fate: super::Fate) {}
}

/// A place in a run, to ask what happened after it.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    events: usize,
    sent: usize,
}

/// Nodes under test and their probes on a real kernel, with the verbs a test
/// needs: run, hand an input to one node now, and read what it sent,
/// scheduled and logged.
pub struct Harness<N: Node>
where
    N::Msg: Clone,
{
    pub sim: Simulation<TestNode<N>>,
    sent: Rc<RefCell<Vec<Sent<N::Msg>>>>,
}

impl<N: Node> Harness<N>
where
    N::Msg: Clone + 'static,
{
    /// Named nodes on links with `link`'s parameters, none started yet; node
    /// ids are positions in `nodes`.
    pub fn new(seed: u64, nodes: Vec<(&str, TestNode<N>)>, link: LinkParams) -> Self {
        let (names, nodes): (Vec<String>, Vec<_>) =
            nodes.into_iter().map(|(n, x)| (n.to_string(), x)).unzip();
        let mut sim = Simulation::new(seed, nodes, names, link);
        let sent = Rc::new(RefCell::new(Vec::new()));
        sim.kernel.wiretap = Some(Box::new(Recorder(sent.clone())));
        Self { sim, sent }
    }

    /// One node under test (node 0) and its peers (nodes 1, 2, ...), on
    /// zero-latency links, all started at time zero (seed 1).
    pub fn single(name: &str, node: N, peers: Vec<(&str, Probe<N::Msg>)>) -> Self {
        let link = LinkParams {
            latency: 0,
            ..LinkParams::default()
        };
        let nodes = std::iter::once((name, TestNode::Real(Box::new(node))))
            .chain(peers.into_iter().map(|(n, p)| (n, TestNode::Probe(p))))
            .collect();
        let mut h = Self::new(1, nodes, link);
        h.start_all();
        h
    }

    pub fn start_all(&mut self) {
        for n in 0..self.sim.nodes.len() {
            self.sim.start(n as NodeId);
        }
        self.settle();
    }

    pub fn now(&self) -> Micros {
        self.sim.now()
    }

    /// A node's wall clock in milliseconds (its `ctx.mstime()`).
    pub fn mstime(&self, node: NodeId) -> u64 {
        self.sim.kernel.local_time(node) / 1000
    }

    /// Runs every event up to and including `t`.
    pub fn run_until(&mut self, t: Micros) {
        let r = self
            .sim
            .run_until(t)
            .expect("the run stays within its budget");
        assert_eq!(r, None, "a test harness schedules no scripted actions");
    }

    pub fn run_for(&mut self, d: Micros) {
        self.run_until(self.now() + d);
    }

    /// Runs what is due now: what the last input caused at this instant.
    pub fn settle(&mut self) {
        self.run_until(self.now());
    }

    /// Fires `timer` on `node` now, whatever it has scheduled, then settles.
    /// Its own scheduled timers stay queued.
    pub fn fire(&mut self, node: NodeId, timer: impl Timer) {
        let (alive, paused) = self.sim.process_state(node);
        assert!(alive && !paused, "node {node} does not run");
        let (n, mut ctx) = self.sim.ctx(node);
        n.on_timer(&mut ctx, timer.encode());
        self.settle();
    }

    /// Runs `f` on the real node `node` with the context a handler gets, then
    /// settles: for a rule Redis runs as one step of a larger handler (one
    /// function of a cron), taken alone.
    pub fn call<R>(
        &mut self,
        node: NodeId,
        f: impl FnOnce(&mut N, &mut Ctx<'_, N::Msg>) -> R,
    ) -> R {
        let (n, mut ctx) = self.sim.ctx(node);
        let TestNode::Real(n) = n else {
            panic!("node {node} is a probe");
        };
        let r = f(n, &mut ctx);
        self.settle();
        r
    }

    /// A copy of `node`'s random stream as it stands: its next draws, worked
    /// out ahead.
    pub fn rng(&self, node: NodeId) -> super::rng::Rng {
        self.sim.kernel.meta[node as usize].rng.clone()
    }

    /// The timers `node` has pending (this incarnation's), in firing order.
    pub fn timers<T: Timer>(&self, node: NodeId) -> Vec<(Micros, T)> {
        let incarnation = self.sim.kernel.meta[node as usize].incarnation;
        self.sim
            .kernel
            .queue
            .entries()
            .into_iter()
            .filter_map(|(t, ev)| match ev {
                Ev::Timer {
                    node: n,
                    incarnation: i,
                    token,
                } if *n == node && *i == incarnation => T::decode(*token).map(|x| (t, x)),
                _ => None,
            })
            .collect()
    }

    /// Probe `probe` connects to `to`'s main port; settled, so the connection
    /// is accepted (or refused) when this returns.
    pub fn connect(&mut self, probe: NodeId, to: NodeId) -> ConnId {
        self.connect_port(probe, to, PORT_MAIN)
    }

    /// [`Self::connect`] to one of `to`'s listening ports.
    pub fn connect_port(&mut self, probe: NodeId, to: NodeId, port: u8) -> ConnId {
        let (_, mut ctx) = self.sim.ctx(probe);
        let conn = ctx.connect_port(to, port);
        self.probe_mut(probe).conns.push((conn, to));
        self.settle();
        conn
    }

    /// The open connection between probe `probe` and `peer` to one of the
    /// listener's ports (whichever end listens), the latest if several.
    pub fn conn(&self, probe: NodeId, peer: NodeId, port: u8) -> Option<ConnId> {
        let conns = &self.sim.kernel.net.conns;
        self.probe(probe)
            .conns
            .iter()
            .rev()
            .find(|&&(c, p)| p == peer && conns[c as usize].port == port)
            .map(|c| c.0)
    }

    /// Probe `probe` sends `msg` on `conn` now; settled, so the receiver has
    /// handled it (and any answer has come back) when this returns.
    pub fn send(&mut self, probe: NodeId, conn: ConnId, msg: N::Msg) {
        let (_, mut ctx) = self.sim.ctx(probe);
        ctx.send(conn, msg);
        self.settle();
    }

    /// Probe `probe` closes `conn`; settled.
    pub fn close(&mut self, probe: NodeId, conn: ConnId) {
        let (_, mut ctx) = self.sim.ctx(probe);
        ctx.close(conn);
        self.probe_mut(probe).forget(conn);
        self.settle();
    }

    /// The real node `n`.
    pub fn node(&self, n: NodeId) -> &N {
        match &self.sim.nodes[n as usize] {
            TestNode::Real(x) => x,
            TestNode::Probe(_) => panic!("node {n} is a probe"),
        }
    }

    pub fn node_mut(&mut self, n: NodeId) -> &mut N {
        match &mut self.sim.nodes[n as usize] {
            TestNode::Real(x) => x,
            TestNode::Probe(_) => panic!("node {n} is a probe"),
        }
    }

    pub fn probe(&self, n: NodeId) -> &Probe<N::Msg> {
        match &self.sim.nodes[n as usize] {
            TestNode::Probe(p) => p,
            TestNode::Real(_) => panic!("node {n} is not a probe"),
        }
    }

    pub fn probe_mut(&mut self, n: NodeId) -> &mut Probe<N::Msg> {
        match &mut self.sim.nodes[n as usize] {
            TestNode::Probe(p) => p,
            TestNode::Real(_) => panic!("node {n} is not a probe"),
        }
    }

    /// Now, to ask later what happened since.
    pub fn mark(&self) -> Mark {
        Mark {
            events: self.sim.kernel.trace.events.len(),
            sent: self.sent.borrow().len(),
        }
    }

    /// Every message `from` sent, in order.
    pub fn sent(&self, from: NodeId) -> Vec<Sent<N::Msg>> {
        self.sent_since(Mark { events: 0, sent: 0 }, from)
    }

    /// The messages `from` sent since `mark`.
    pub fn sent_since(&self, mark: Mark, from: NodeId) -> Vec<Sent<N::Msg>> {
        self.sent.borrow()[mark.sent..]
            .iter()
            .filter(|s| s.from == from)
            .cloned()
            .collect()
    }

    /// `node`'s trace events named `name`: (time, detail).
    pub fn events(&self, node: NodeId, name: &str) -> Vec<(Micros, String)> {
        self.sim
            .kernel
            .trace
            .named(name)
            .filter(|e| e.node == node)
            .map(|e| (e.t, e.detail.clone()))
            .collect()
    }

    /// Every trace event of `node` since `mark`.
    pub fn events_since(&self, mark: Mark, node: NodeId) -> Vec<&Event> {
        self.sim.kernel.trace.events[mark.events..]
            .iter()
            .filter(|e| e.node == node)
            .collect()
    }

    /// SIGKILL (or a power loss) of a node; see [`Simulation::kill`].
    pub fn kill(&mut self, node: NodeId, power_loss: bool) {
        self.sim.kill(node, power_loss);
    }

    /// (Re)starts a node; see [`Simulation::start`].
    pub fn start(&mut self, node: NodeId) {
        self.sim.start(node);
    }

    /// SIGTERM; see [`Simulation::shutdown`].
    pub fn shutdown(&mut self, node: NodeId) {
        self.sim.shutdown(node);
    }

    /// An operator command to a node; see [`Simulation::admin`].
    pub fn admin(&mut self, node: NodeId, cmd: N::Admin) -> bool {
        self.sim.admin(node, cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::WireSize;
    use crate::time::ms;

    #[derive(Clone, Debug, PartialEq)]
    struct Word(&'static str);

    impl WireSize for Word {
        fn wire_size(&self) -> u64 {
            self.0.len() as u64
        }
    }

    /// Answers "ping" with "pong", and says "tick" to everyone connected
    /// every 100 ms.
    #[derive(Default)]
    struct Echo {
        conns: Vec<ConnId>,
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Tick;

    impl Timer for Tick {
        fn encode(self) -> u64 {
            0
        }
        fn decode(token: u64) -> Option<Self> {
            (token == 0).then_some(Tick)
        }
    }

    impl Node for Echo {
        type Msg = Word;
        type Admin = ();

        fn on_start(&mut self, ctx: &mut Ctx<'_, Word>) {
            ctx.set_timer(ms(100), Tick);
        }
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Word>, _token: u64) {
            for &c in &self.conns {
                ctx.send(c, Word("tick"));
            }
            ctx.set_timer(ms(100), Tick);
        }
        fn on_accept(&mut self, _ctx: &mut Ctx<'_, Word>, conn: ConnId, _peer: NodeId) {
            self.conns.push(conn);
        }
        fn on_message(&mut self, ctx: &mut Ctx<'_, Word>, conn: ConnId, msg: Word) {
            if msg == Word("ping") {
                ctx.send(conn, Word("pong"));
            }
        }
    }

    #[test]
    fn an_input_and_its_answer_happen_at_the_same_instant() {
        let mut h = Harness::single("echo", Echo::default(), vec![("p", Probe::silent())]);
        h.run_until(ms(50));
        let conn = h.connect(1, 0);
        h.send(1, conn, Word("ping"));
        let sent = h.sent(0);
        assert_eq!(
            sent,
            vec![Sent {
                t: ms(50),
                from: 0,
                to: 1,
                msg: Word("pong")
            }]
        );
        assert_eq!(h.probe(1).received().collect::<Vec<_>>(), [&Word("pong")]);
    }

    #[test]
    fn timers_are_listed_and_can_be_fired_early() {
        let mut h = Harness::single("echo", Echo::default(), vec![("p", Probe::silent())]);
        assert_eq!(h.timers::<Tick>(0), vec![(ms(100), Tick)]);
        h.connect(1, 0);
        let mark = h.mark();
        h.fire(0, Tick);
        assert_eq!(h.sent_since(mark, 0).len(), 1);
        // The fired tick set another; the scheduled one is still there.
        assert_eq!(h.timers::<Tick>(0), vec![(ms(100), Tick), (ms(100), Tick)]);
        h.run_until(ms(100));
        assert_eq!(h.sent(0).len(), 3);
    }

    #[test]
    fn an_answering_probe_replies_on_the_connection_it_was_asked_on() {
        let answer = |m: &Word| (m == &Word("tick")).then_some(Word("tock"));
        let mut h = Harness::single(
            "echo",
            Echo::default(),
            vec![("p", Probe::answering(answer))],
        );
        let conn = h.connect(1, 0);
        h.run_until(ms(100));
        assert_eq!(h.probe(1).conn_with(0), Some(conn));
        assert_eq!(
            h.sent(1),
            vec![Sent {
                t: ms(100),
                from: 1,
                to: 0,
                msg: Word("tock")
            }]
        );
    }

    #[test]
    fn a_scripted_probe_connects_sends_and_closes_on_time() {
        let script = vec![
            (ms(10), Step::Connect),
            (ms(20), Step::Send(Word("ping"))),
            (ms(30), Step::Close),
        ];
        let mut h = Harness::single(
            "echo",
            Echo::default(),
            vec![("p", Probe::scripted(0, script))],
        );
        h.run_until(ms(40));
        let p = h.probe(1);
        assert!(matches!(p.seen[0], (t, Seen::Connected(_)) if t == ms(10)));
        assert_eq!(p.received().collect::<Vec<_>>(), [&Word("pong")]);
        assert_eq!(p.conn, None);
        assert!(
            !p.closed(),
            "the probe closed it; nobody closed it on the probe"
        );
    }
}
