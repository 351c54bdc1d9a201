//! The simulation kernel. It owns time, the network, randomness and faults,
//! and hands each node one input at a time. Nothing here knows about Redis.

pub mod net;
pub mod queue;
pub mod rng;
pub mod testkit;

pub mod timer;

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod keepalive_tests;

use std::borrow::Cow;
use std::fmt;

use crate::time::Micros;
use crate::trace::{Event, Level, Source, Trace};
use net::{ConnId, Delivery, LinkParams, Network, NodeId, Packet, SendTimes};
use queue::EventQueue;
use rng::Rng;
pub use timer::Timer;

/// A process in the simulation. Every method is a reaction to one input; the
/// node acts on the world only through the [`Ctx`].
///
/// A node must say how it boots and what it does with a message; every other
/// input has a default that does what a process with nothing to do there
/// would (as Stateright's `Actor` does), so a node writes only the handlers
/// it needs.
pub trait Node {
    type Msg: WireSize;
    /// Operator commands a scenario can script (e.g. `REPLICAOF`).
    type Admin;

    /// The process starts (at time zero, or on restart after a kill).
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self::Msg>);
    /// A timer this node set (with [`Ctx::set_timer`]) fired; the node's
    /// [`Timer`] type decodes the token. A node that sets none gets none.
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self::Msg>, _token: u64) {}
    /// A peer connected to us. By default the connection is closed: a process
    /// that serves nobody hangs up on whoever connects.
    fn on_accept(&mut self, ctx: &mut Ctx<'_, Self::Msg>, conn: ConnId, _peer: NodeId) {
        ctx.close(conn);
    }
    /// Our connect succeeded.
    fn on_connected(&mut self, _ctx: &mut Ctx<'_, Self::Msg>, _conn: ConnId) {}
    /// Our connect was refused. By default, as if the connection had closed.
    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_, Self::Msg>, conn: ConnId) {
        self.on_closed(ctx, conn);
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self::Msg>, conn: ConnId, msg: Self::Msg);
    /// The peer closed the connection (or its process died).
    fn on_closed(&mut self, _ctx: &mut Ctx<'_, Self::Msg>, _conn: ConnId) {}
    /// There is room again to write on `conn`, after [`Ctx::writable_room`]
    /// found too little (a writable event on the socket).
    fn on_writable(&mut self, _ctx: &mut Ctx<'_, Self::Msg>, _conn: ConnId) {}
    /// An operator command; ignored by default.
    fn on_admin(&mut self, _ctx: &mut Ctx<'_, Self::Msg>, _cmd: Self::Admin) {}
    /// The process is gone. `power_loss` is true when the host lost power, so
    /// data not yet fsynced is gone too; false for SIGKILL (the OS keeps what
    /// was written). Volatile state must be dropped here; the default suits a
    /// node that keeps none.
    fn on_kill(&mut self, _now: Micros, _power_loss: bool) {}
    /// A clean shutdown (SIGTERM): save what Redis saves, then the process is
    /// gone as after a kill. By default nothing is saved.
    fn on_shutdown(&mut self, _ctx: &mut Ctx<'_, Self::Msg>) {}
}

/// Watches the messages the network carries, for a recording of the run
/// (the dashboard). The kernel has none unless one is installed, so a plain
/// run pays one branch per packet; a wiretap only observes and cannot change
/// what happens.
pub trait Wiretap<M> {
    /// Message `id` leaves `from` for `to` at `now`.
    fn sent(&mut self, now: Micros, id: u32, from: NodeId, to: NodeId, msg: &M, bytes: u64);
    /// What happened to packet `id` at `now` (ids of packets that carry no
    /// message, such as SYNs, may be reported too).
    fn fate(&mut self, now: Micros, id: u32, fate: Fate);
}

/// Reads each node after every event it handled (a coverage recorder).
/// The kernel has none unless one is installed; a watcher only reads, so a
/// run is the same with or without one.
pub trait Watcher<N> {
    /// `node` (`process`) has just handled an input at `now`, or a fault
    /// changed it; `runs` is false while it is stopped (SIGSTOP, DEBUG
    /// SLEEP).
    fn touched(&mut self, now: Micros, node: NodeId, process: &N, runs: bool);
    /// The watcher itself, for its owner to take back by type.
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any>;
}

/// What became of a packet, as a [`Wiretap`] hears it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// A partition holds it (it may still arrive after the heal).
    Held,
    /// Handed to the receiving process.
    Delivered,
    /// Died with its sender, or TCP gave up retransmitting it.
    Lost,
    /// Nobody listened at the other end: the sender got a reset.
    Reset,
}

/// How many bytes a message occupies on the wire, for bandwidth.
pub trait WireSize {
    fn wire_size(&self) -> u64;
}

enum Ev<M> {
    Arrive {
        conn: ConnId,
        dir: usize,
        packet: Packet<M>,
        times: SendTimes,
    },
    Timer {
        node: NodeId,
        incarnation: u32,
        token: u64,
    },
    Script(usize),
    /// An operator command that waited for a stopped process.
    Admin {
        node: NodeId,
        id: u64,
    },
    /// A connection accepted by the OS, waiting to be handed to the process.
    Accepted {
        conn: ConnId,
        node: NodeId,
        peer: NodeId,
    },
    /// The end of a sleep the process itself started ([`Ctx::sleep`]).
    Wake {
        node: NodeId,
        incarnation: u32,
    },
    /// The process exits after the handler that asked ([`Ctx::exit`]).
    Exit {
        node: NodeId,
        incarnation: u32,
    },
    /// One end's keepalive timer: `probes` probes are out unanswered.
    Keepalive {
        conn: ConnId,
        end: u8,
        probes: u8,
    },
    /// The kernel dropped the process's end of a connection (keepalive
    /// gave up): the process reads an error on it.
    SocketError {
        conn: ConnId,
        node: NodeId,
        incarnation: u32,
    },
    /// The process's send buffer on `conn` has room again.
    Writable {
        conn: ConnId,
        node: NodeId,
        incarnation: u32,
    },
    /// The receiver of direction `dir` reads again: what stalled toward it
    /// comes through.
    WindowOpen {
        conn: ConnId,
        dir: u8,
    },
}

struct NodeMeta<M> {
    alive: bool,
    /// Stopped by a signal (SIGSTOP until SIGCONT).
    paused: bool,
    /// Busy in a sleep of its own (DEBUG SLEEP) until its [`Ev::Wake`].
    asleep: bool,
    incarnation: u32,
    clock_offset: i64,
    pending: Vec<Ev<M>>,
    conns: Vec<ConnId>,
    rng: Rng,
    /// Drawn from once, at the first start (see [`Ctx::boot_lead`]): a
    /// stream of its own, so that the draw shifts no other.
    boot_phase: Rng,
    /// Past deaths: (time, power loss). Packets the process had not yet
    /// pushed out may die with it.
    deaths: Vec<(Micros, bool)>,
    /// The host is powered off: packets to it vanish without a reset.
    host_down: bool,
}

impl<M> NodeMeta<M> {
    /// Neither stopped nor asleep: its input is handled as it arrives.
    fn runs(&self) -> bool {
        !self.paused && !self.asleep
    }
}

/// Everything but the nodes, so a node can act on it while borrowed mutably.
pub struct Kernel<M> {
    now: Micros,
    queue: EventQueue<Ev<M>>,
    net: Network<M>,
    meta: Vec<NodeMeta<M>>,
    pub trace: Trace,
    pub events_processed: u64,
    pub max_events: u64,
    /// Observes every message when installed (None by default).
    pub wiretap: Option<Box<dyn Wiretap<M>>>,
    /// The nodes handed an input since the watcher last read them (kept
    /// only while a watcher is installed).
    touched: Vec<NodeId>,
    watching: bool,
}

/// The view of the world a node gets while handling one input.
pub struct Ctx<'a, M> {
    k: &'a mut Kernel<M>,
    node: NodeId,
}

impl<M: WireSize> Ctx<'_, M> {
    /// The node's wall clock in microseconds (simulated time plus this node's
    /// clock offset, which a clock-jump fault changes).
    pub fn now(&self) -> Micros {
        self.k.local_time(self.node)
    }

    /// Milliseconds, as Redis's `mstime()`.
    pub fn mstime(&self) -> u64 {
        self.now() / 1000
    }

    /// Whole seconds, as Redis's cached `server.unixtime`.
    pub fn unixtime(&self) -> u64 {
        self.now() / 1_000_000
    }

    /// Simulated global time (monotonic, unaffected by clock jumps).
    pub fn sim_time(&self) -> Micros {
        self.k.now
    }

    pub fn id(&self) -> NodeId {
        self.node
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.k.meta[self.node as usize].rng
    }

    /// The process sleeps for `d` µs inside its own event loop (DEBUG
    /// SLEEP): nothing it receives is handled, and no timer of its fires,
    /// until it wakes; then what queued up is handled in arrival order.
    pub fn sleep(&mut self, d: Micros) {
        let (node, now) = (self.node, self.k.now);
        let m = &mut self.k.meta[node as usize];
        m.asleep = true;
        let incarnation = m.incarnation;
        self.k.queue.push(now + d, Ev::Wake { node, incarnation });
    }

    /// The process exits once this handler returns (SHUTDOWN: it has done
    /// what it does before exiting). Its kernel closes its sockets, and
    /// what it already sent still arrives.
    pub fn exit(&mut self) {
        let (node, now) = (self.node, self.k.now);
        let incarnation = self.k.meta[node as usize].incarnation;
        self.k.queue.push(now, Ev::Exit { node, incarnation });
    }

    /// On the process's first start, how long before time zero it was
    /// started, drawn from its `boot-phase/<name>` stream uniformly in
    /// `1..=cycle` µs; `None` on a restart.
    ///
    /// Every process starts at time zero, but real ones were started one
    /// after another, at instants unrelated to the scenario's clock, so their
    /// periodic timers beat out of step. A node runs its boot-time work at
    /// time zero and then times its periodic work as if it had booted this
    /// long before, so that a fault at a scripted instant meets each process
    /// at its own phase.
    pub fn boot_lead(&mut self, cycle: Micros) -> Option<Micros> {
        use rand::RngExt as _;
        let m = &mut self.k.meta[self.node as usize];
        (m.incarnation == 1).then(|| m.boot_phase.random_range(1..=cycle.max(1)))
    }

    /// Fires `timer` after `delay`, in this incarnation of the process only
    /// (a timer set before a kill never fires after the restart).
    pub fn set_timer(&mut self, delay: Micros, timer: impl Timer) {
        let m = &self.k.meta[self.node as usize];
        let ev = Ev::Timer {
            node: self.node,
            incarnation: m.incarnation,
            token: timer.encode(),
        };
        self.k.queue.push(self.k.now + delay, ev);
    }

    pub fn connect(&mut self, peer: NodeId) -> ConnId {
        self.connect_port(peer, net::PORT_MAIN)
    }

    /// Connects to one of the peer's listening ports ([`net::PORT_BUS`]).
    pub fn connect_port(&mut self, peer: NodeId, port: u8) -> ConnId {
        let conn = self.k.net.open_conn(self.node, peer, port);
        self.k.meta[self.node as usize].conns.push(conn);
        self.k.transmit(conn, 0, Packet::Syn, 64);
        conn
    }

    /// Sets TCP keepalive on this node's end of `conn` (SO_KEEPALIVE, as
    /// anetKeepAlive() does): a peer that cannot be heard from for `idle`
    /// plus every probe's interval is given up, and the node reads the
    /// connection as closed.
    pub fn keepalive(&mut self, conn: ConnId, ka: net::Keepalive) {
        let now = self.k.now;
        let c = &mut self.k.net.conns[conn as usize];
        let end = c.dir_from(self.node);
        if !c.open[end] {
            return;
        }
        c.keepalive[end] = Some(ka);
        c.heard[end] = c.heard[end].max(now);
        let at = c.heard[end] + ka.idle;
        let end = end as u8;
        self.k.queue.push(
            at,
            Ev::Keepalive {
                conn,
                end,
                probes: 0,
            },
        );
    }

    /// How many bytes this node may write on `conn` now without blocking:
    /// what its send buffer has free. When that is less than `wanted`,
    /// [`Node::on_writable`] is called once there is room again.
    pub fn writable_room(&mut self, conn: ConnId, wanted: u64) -> u64 {
        let end = self.k.net.conns[conn as usize].dir_from(self.node);
        self.k.net.room(conn, end, wanted)
    }

    /// The listening port a connection was opened to.
    pub fn conn_port(&self, conn: ConnId) -> u8 {
        self.k.net.conns[conn as usize].port
    }

    pub fn send(&mut self, conn: ConnId, msg: M) {
        let c = &self.k.net.conns[conn as usize];
        let dir = c.dir_from(self.node);
        if !c.open[dir] {
            return;
        }
        let bytes = msg.wire_size();
        self.k.transmit(conn, dir, Packet::Data(msg), bytes);
    }

    /// Sends a message whose bytes already crossed the link while it was
    /// being produced (a diskless RDB streamed by a child): it is ordered
    /// like any other but occupies only `bytes` of bandwidth now.
    pub fn send_sized(&mut self, conn: ConnId, msg: M, bytes: u64) {
        let c = &self.k.net.conns[conn as usize];
        let dir = c.dir_from(self.node);
        if !c.open[dir] {
            return;
        }
        self.k.transmit(conn, dir, Packet::Data(msg), bytes);
    }

    /// How long `bytes` take to cross the link from this node to the peer of
    /// `conn`, at the link's bandwidth.
    pub fn transfer_time(&self, conn: ConnId, bytes: u64) -> Micros {
        let c = &self.k.net.conns[conn as usize];
        let dir = c.dir_from(self.node);
        let bw = self
            .k
            .net
            .link_params(c.ends[dir], c.ends[1 - dir])
            .bandwidth;
        net::transfer_micros(bytes, bw)
    }

    pub fn close(&mut self, conn: ConnId) {
        self.k.close_end(conn, self.node);
    }

    pub fn log(&mut self, level: Level, event: &'static str, detail: String) {
        self.emit(Source::Log, level, Cow::Borrowed(event), detail);
    }

    pub fn emit(&mut self, source: Source, level: Level, event: Cow<'static, str>, detail: String) {
        let t = self.k.now;
        self.k.trace.push(Event {
            t,
            node: self.node,
            source,
            level,
            event,
            detail,
        });
    }
}

/// A run stopped with an error rather than finishing.
#[derive(Debug, Clone, PartialEq)]
pub enum SimError {
    /// More events than the limit: a runaway run (e.g. a reconnect storm).
    TooManyEvents { limit: u64, at: Micros },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::TooManyEvents { limit, at } => write!(
                f,
                "runaway run: more than {limit} events processed by simulated time {} \
                 (raise max-events in [sim] if the scenario really needs it)",
                crate::time::Secs(*at)
            ),
        }
    }
}

impl<M: WireSize> Kernel<M> {
    pub fn now(&self) -> Micros {
        self.now
    }

    /// A process that runs again handles what queued up, in arrival order.
    fn release_pending(&mut self, node: NodeId) {
        let m = &mut self.meta[node as usize];
        if !m.runs() {
            return;
        }
        let pending = std::mem::take(&mut m.pending);
        for ev in pending {
            self.queue.push(self.now, ev);
        }
        // Reading again opens its windows: what stalled comes through.
        for i in 0..self.meta[node as usize].conns.len() {
            let conn = self.meta[node as usize].conns[i];
            let c = &self.net.conns[conn as usize];
            let dir = 1 - c.dir_from(node);
            if !c.stalled[dir].is_empty() {
                let at = self.net.window_reopens(conn, dir, self.now);
                let dir = dir as u8;
                self.queue.push(at, Ev::WindowOpen { conn, dir });
            }
        }
    }

    /// The receiver's kernel took a data packet of `bytes` sent in `dir`:
    /// a sender that waited for room is told once the acknowledgement
    /// reaches it.
    fn take(&mut self, conn: ConnId, dir: usize, bytes: u64, unread: bool) {
        let c = &mut self.net.conns[conn as usize];
        if c.take(dir, bytes, unread) {
            let (node, peer) = (c.ends[dir], c.ends[1 - dir]);
            let at = self.now + self.net.link_params(peer, node).latency;
            let incarnation = self.meta[node as usize].incarnation;
            self.queue.push(
                at,
                Ev::Writable {
                    conn,
                    node,
                    incarnation,
                },
            );
        }
    }

    /// A node's wall clock: simulated time plus its clock offset.
    #[inline]
    pub fn local_time(&self, node: NodeId) -> Micros {
        let off = self.meta[node as usize].clock_offset;
        (crate::time::WALL_CLOCK_START as i64 + self.now as i64 + off).max(0) as Micros
    }

    fn transmit(&mut self, conn: ConnId, dir: usize, packet: Packet<M>, bytes: u64) {
        if self.wiretap.is_some() {
            return self.transmit_tapped(conn, dir, packet, bytes);
        }
        if let Some(d) = self.net.transmit(self.now, conn, dir, packet, bytes) {
            self.deliver_later(d);
        }
    }

    /// [`Self::transmit`] with a wiretap listening; kept out of line so a
    /// plain run's hot path stays as it was.
    #[cold]
    #[inline(never)]
    fn transmit_tapped(&mut self, conn: ConnId, dir: usize, packet: Packet<M>, bytes: u64) {
        let id = self.net.packets;
        if let (Some(tap), Packet::Data(msg)) = (self.wiretap.as_mut(), &packet) {
            let c = &self.net.conns[conn as usize];
            tap.sent(self.now, id, c.ends[dir], c.ends[1 - dir], msg, bytes);
        }
        match self.net.transmit(self.now, conn, dir, packet, bytes) {
            Some(d) => self.deliver_later(d),
            None => self.tap_fate(id, Fate::Held),
        }
    }

    #[inline]
    fn tap_fate(&mut self, id: u32, fate: Fate) {
        if self.wiretap.is_some() {
            self.tell_tap(id, fate);
        }
    }

    #[cold]
    #[inline(never)]
    fn tell_tap(&mut self, id: u32, fate: Fate) {
        if let Some(tap) = self.wiretap.as_mut() {
            tap.fate(self.now, id, fate);
        }
    }

    fn deliver_later(&mut self, d: Delivery<M>) {
        self.queue.push(
            d.at,
            Ev::Arrive {
                conn: d.conn,
                dir: d.dir,
                packet: d.packet,
                times: d.times,
            },
        );
    }

    /// Closes `node`'s end of `conn` and sends a FIN to the peer.
    fn close_end(&mut self, conn: ConnId, node: NodeId) {
        let c = &mut self.net.conns[conn as usize];
        let dir = c.dir_from(node);
        if !c.open[dir] {
            return;
        }
        c.open[dir] = false;
        c.drop_unread(1 - dir);
        let peer_open = c.open[1 - dir];
        if peer_open {
            self.transmit(conn, dir, Packet::Fin, 64);
        }
    }

    /// How many connections have been opened so far (attempts included).
    pub fn connections_opened(&self) -> usize {
        self.net.conns.len()
    }

    /// The keepalive `node` set on its end of `conn`, if any.
    #[cfg(test)]
    pub fn keepalive_of(&self, conn: ConnId, node: NodeId) -> Option<net::Keepalive> {
        let c = &self.net.conns[conn as usize];
        c.keepalive[c.dir_from(node)]
    }

    pub fn log_sim(&mut self, node: NodeId, event: &'static str, detail: String) {
        self.trace.push(Event {
            t: self.now,
            node,
            source: Source::Sim,
            level: Level::Warning,
            event: Cow::Borrowed(event),
            detail,
        });
    }
}

/// The kernel plus the nodes it drives.
pub struct Simulation<N: Node> {
    pub kernel: Kernel<N::Msg>,
    pub nodes: Vec<N>,
    /// Operator commands waiting for a stopped process, by id.
    admin_queue: Vec<(u64, N::Admin)>,
    next_admin: u64,
    watcher: Option<Box<dyn Watcher<N>>>,
}

impl<N: Node> Simulation<N>
where
    N::Msg: WireSize,
{
    /// `names[i]` names `nodes[i]`; every random stream derives from `seed`.
    pub fn new(seed: u64, nodes: Vec<N>, names: Vec<String>, link: LinkParams) -> Self {
        let n = nodes.len();
        let meta = names
            .into_iter()
            .map(|name| NodeMeta {
                rng: rng::stream(seed, &format!("node/{name}")),
                boot_phase: rng::stream(seed, &format!("boot-phase/{name}")),
                alive: false,
                paused: false,
                asleep: false,
                incarnation: 0,
                clock_offset: 0,
                pending: Vec::new(),
                conns: Vec::new(),
                deaths: Vec::new(),
                host_down: false,
            })
            .collect();
        Self {
            kernel: Kernel {
                now: 0,
                queue: EventQueue::default(),
                net: Network::new(n, link, rng::stream(seed, "net")),
                meta,
                trace: Trace::default(),
                events_processed: 0,
                max_events: 50_000_000,
                wiretap: None,
                touched: Vec::new(),
                watching: false,
            },
            nodes,
            admin_queue: Vec::new(),
            next_admin: 0,
            watcher: None,
        }
    }

    pub fn now(&self) -> Micros {
        self.kernel.now
    }

    fn ctx(&mut self, node: NodeId) -> (&mut N, Ctx<'_, N::Msg>) {
        if self.kernel.watching {
            self.kernel.touched.push(node);
        }
        (
            &mut self.nodes[node as usize],
            Ctx {
                k: &mut self.kernel,
                node,
            },
        )
    }

    /// The instant of the earliest queued event, if any.
    pub fn next_event(&self) -> Option<Micros> {
        self.kernel.queue.peek_time()
    }

    /// Queues a scripted action to be handed back by [`Self::run_until`] at `at`.
    pub fn schedule_script(&mut self, at: Micros, index: usize) {
        self.kernel.queue.push(at, Ev::Script(index));
    }

    /// Starts a stopped process (at time zero, or a restart after a kill).
    pub fn start(&mut self, node: NodeId) {
        let m = &mut self.kernel.meta[node as usize];
        if m.alive {
            return;
        }
        m.alive = true;
        m.host_down = false;
        m.paused = false;
        m.asleep = false;
        m.incarnation += 1;
        m.pending.clear();
        let (n, mut ctx) = self.ctx(node);
        n.on_start(&mut ctx);
    }

    /// Whether the process runs (`alive`) and whether it is stopped
    /// (SIGSTOP or DEBUG SLEEP).
    pub fn process_state(&self, node: NodeId) -> (bool, bool) {
        let m = &self.kernel.meta[node as usize];
        (m.alive, !m.runs())
    }

    /// SIGKILL, or a power loss of the host when `power_loss`: the process is
    /// gone and its kernel closes its sockets (peers see FIN after a latency).
    pub fn kill(&mut self, node: NodeId, power_loss: bool) {
        if !self.kernel.meta[node as usize].alive {
            return;
        }
        let now = self.kernel.local_time(node);
        self.nodes[node as usize].on_kill(now, power_loss);
        let t = self.kernel.now;
        let m = &mut self.kernel.meta[node as usize];
        m.deaths.push((t, power_loss));
        self.kernel.net.sender_died(node, t, power_loss);
        let m = &mut self.kernel.meta[node as usize];
        if power_loss {
            // No FIN leaves a host without power: peers find out by timeout,
            // or by a reset once it is back.
            m.host_down = true;
            for c in std::mem::take(&mut m.conns) {
                let conn = &mut self.kernel.net.conns[c as usize];
                let dir = conn.dir_from(node);
                conn.open[dir] = false;
            }
        }
        self.bury(node);
    }

    /// SIGTERM: the node saves what Redis saves on shutdown, then exits.
    pub fn shutdown(&mut self, node: NodeId) {
        if !self.kernel.meta[node as usize].alive {
            return;
        }
        let (n, mut ctx) = self.ctx(node);
        n.on_shutdown(&mut ctx);
        self.bury(node);
    }

    fn bury(&mut self, node: NodeId) {
        let m = &mut self.kernel.meta[node as usize];
        m.alive = false;
        m.paused = false;
        m.asleep = false;
        m.incarnation += 1;
        m.pending.clear();
        let conns = std::mem::take(&mut m.conns);
        for c in conns {
            self.kernel.close_end(c, node);
        }
    }

    /// SIGSTOP: nothing is processed; input queues up until resume.
    pub fn pause(&mut self, node: NodeId) {
        let m = &mut self.kernel.meta[node as usize];
        if m.alive {
            m.paused = true;
        }
    }

    /// SIGCONT: everything that queued up is handled now, in arrival order
    /// (unless the process is in a sleep of its own, which goes on).
    pub fn resume(&mut self, node: NodeId) {
        let m = &mut self.kernel.meta[node as usize];
        if !m.paused {
            return;
        }
        m.paused = false;
        self.kernel.release_pending(node);
    }

    pub fn set_blocked(&mut self, from: NodeId, to: NodeId, blocked: bool) {
        let now = self.kernel.now;
        for d in self.kernel.net.set_blocked(now, from, to, blocked) {
            self.kernel.deliver_later(d);
        }
    }

    pub fn set_link(&mut self, from: NodeId, to: NodeId, params: LinkParams) {
        self.kernel.net.set_link(from, to, params);
    }

    /// Moves one node's wall clock by `delta` µs (timers are monotonic and
    /// keep firing on schedule, as Redis's event loop timers do).
    pub fn clock_jump(&mut self, node: NodeId, delta: i64) {
        self.kernel.meta[node as usize].clock_offset += delta;
    }

    /// Hands an operator command to a node (dropped if the node is down;
    /// queued if it is paused, as a command to a stopped process would be).
    pub fn admin(&mut self, node: NodeId, cmd: N::Admin) -> bool {
        let m = &mut self.kernel.meta[node as usize];
        if !m.alive {
            return false;
        }
        if !m.runs() {
            let id = self.next_admin;
            self.next_admin += 1;
            m.pending.push(Ev::Admin { node, id });
            self.admin_queue.push((id, cmd));
            return true;
        }
        let (n, mut ctx) = self.ctx(node);
        n.on_admin(&mut ctx, cmd);
        true
    }

    /// Runs events up to and including time `until`. Returns `Some(index)` when
    /// a scripted action is due (the caller performs it and calls again), or
    /// `None` once nothing is left before `until` (time is then `until`).
    pub fn run_until(&mut self, until: Micros) -> Result<Option<usize>, SimError> {
        while let Some(t) = self.kernel.queue.peek_time() {
            if t > until {
                break;
            }
            let (t, ev) = self.kernel.queue.pop().expect("peeked");
            self.kernel.now = t;
            self.kernel.events_processed += 1;
            if self.kernel.events_processed > self.kernel.max_events {
                return Err(SimError::TooManyEvents {
                    limit: self.kernel.max_events,
                    at: t,
                });
            }
            if let Ev::Script(i) = ev {
                return Ok(Some(i));
            }
            self.dispatch(ev);
            if self.kernel.watching {
                self.show_touched();
            }
        }
        self.kernel.now = self.kernel.now.max(until);
        Ok(None)
    }

    /// Installs `watcher` (or removes it with `None`) and shows it every
    /// node as it is now.
    pub fn set_watcher(&mut self, watcher: Option<Box<dyn Watcher<N>>>) {
        self.kernel.watching = watcher.is_some();
        self.watcher = watcher;
        self.show_all();
    }

    /// Takes the watcher back.
    pub fn take_watcher(&mut self) -> Option<Box<dyn Watcher<N>>> {
        self.kernel.watching = false;
        self.kernel.touched.clear();
        self.watcher.take()
    }

    /// Shows the watcher every node: after a fault, which may change a
    /// node without handing it an input.
    pub fn show_all(&mut self) {
        if let Some(w) = self.watcher.as_mut() {
            for (i, n) in self.nodes.iter().enumerate() {
                w.touched(self.kernel.now, i as NodeId, n, self.kernel.meta[i].runs());
            }
        }
    }

    fn show_touched(&mut self) {
        let Some(w) = self.watcher.as_mut() else {
            return;
        };
        for &node in &self.kernel.touched {
            let i = node as usize;
            w.touched(
                self.kernel.now,
                node,
                &self.nodes[i],
                self.kernel.meta[i].runs(),
            );
        }
        self.kernel.touched.clear();
    }

    /// Whether an event for `incarnation` of `node` is handled now: not
    /// once that incarnation is gone, and later (`later` is queued) while
    /// the process is stopped or asleep.
    #[inline]
    fn handled_now(
        &mut self,
        node: NodeId,
        incarnation: u32,
        later: impl FnOnce() -> Ev<N::Msg>,
    ) -> bool {
        let m = &mut self.kernel.meta[node as usize];
        if !m.alive || m.incarnation != incarnation {
            return false;
        }
        if !m.runs() {
            m.pending.push(later());
            return false;
        }
        true
    }

    fn dispatch(&mut self, ev: Ev<N::Msg>) {
        match ev {
            Ev::Script(_) => unreachable!("handled by run_until"),
            Ev::Timer {
                node,
                incarnation,
                token,
            } => {
                let later = || Ev::Timer {
                    node,
                    incarnation,
                    token,
                };
                if self.handled_now(node, incarnation, later) {
                    let (n, mut ctx) = self.ctx(node);
                    n.on_timer(&mut ctx, token);
                }
            }
            Ev::Arrive {
                conn,
                dir,
                packet,
                times,
            } => self.arrive(conn, dir, packet, times),
            Ev::Admin { node, id } => {
                let Some(i) = self.admin_queue.iter().position(|(x, _)| *x == id) else {
                    return;
                };
                let (_, cmd) = self.admin_queue.remove(i);
                self.admin(node, cmd);
            }
            Ev::Exit { node, incarnation } => {
                let m = &self.kernel.meta[node as usize];
                if m.alive && m.incarnation == incarnation {
                    let now = self.kernel.local_time(node);
                    self.nodes[node as usize].on_kill(now, false);
                    self.bury(node);
                }
            }
            Ev::Keepalive { conn, end, probes } => self.keepalive(conn, end as usize, probes),
            Ev::WindowOpen { conn, dir } => {
                let dir = dir as usize;
                let c = &mut self.kernel.net.conns[conn as usize];
                let stalled = std::mem::take(&mut c.stalled[dir]);
                // A partition since then holds them until it heals.
                let blocked = !self.kernel.net.direction_open(conn, dir);
                for (packet, times) in stalled {
                    if blocked {
                        let now = self.kernel.now;
                        self.kernel.net.hold(conn, dir, now, packet, times);
                    } else {
                        self.arrive(conn, dir, packet, times);
                    }
                }
            }
            Ev::Writable {
                conn,
                node,
                incarnation,
            } => {
                let later = || Ev::Writable {
                    conn,
                    node,
                    incarnation,
                };
                if self.handled_now(node, incarnation, later) {
                    let (n, mut ctx) = self.ctx(node);
                    n.on_writable(&mut ctx, conn);
                }
            }
            Ev::SocketError {
                conn,
                node,
                incarnation,
            } => {
                let later = || Ev::SocketError {
                    conn,
                    node,
                    incarnation,
                };
                if self.handled_now(node, incarnation, later) {
                    let (n, mut ctx) = self.ctx(node);
                    n.on_closed(&mut ctx, conn);
                }
            }
            Ev::Wake { node, incarnation } => {
                let m = &mut self.kernel.meta[node as usize];
                if m.alive && m.incarnation == incarnation && m.asleep {
                    m.asleep = false;
                    self.kernel.release_pending(node);
                }
            }
            Ev::Accepted { conn, node, peer } => {
                let m = &mut self.kernel.meta[node as usize];
                if !m.alive {
                    return;
                }
                if !m.runs() {
                    m.pending.push(Ev::Accepted { conn, node, peer });
                    return;
                }
                let c = &self.kernel.net.conns[conn as usize];
                if !c.open[c.dir_from(node)] {
                    return;
                }
                let (n, mut ctx) = self.ctx(node);
                n.on_accept(&mut ctx, conn, peer);
            }
        }
    }

    /// A keepalive timer of `end` of `conn` fired with `probes` probes out:
    /// waits again while the peer was heard from or data is outstanding
    /// (tcp_keepalive_timer()), else probes; a probe through an open path to
    /// a live host is answered (by a reset when the peer's end is closed),
    /// and after the last unanswered one the kernel drops the connection.
    fn keepalive(&mut self, conn: ConnId, end: usize, probes: u8) {
        let now = self.kernel.now;
        let c = &self.kernel.net.conns[conn as usize];
        let (Some(ka), true) = (c.keepalive[end], c.open[end]) else {
            return;
        };
        let (node, peer, heard, peer_open) =
            (c.ends[end], c.ends[1 - end], c.heard[end], c.open[1 - end]);
        let push = |k: &mut Kernel<N::Msg>, at: Micros, probes: u8| {
            let end = end as u8;
            k.queue.push(at, Ev::Keepalive { conn, end, probes });
        };
        // Heard from within `idle` (after a probe went out, too): the idle
        // time starts again from then.
        if heard + ka.idle > now {
            return push(&mut self.kernel, heard + ka.idle, 0);
        }
        if self.kernel.net.unacknowledged(conn, end, now) {
            return push(&mut self.kernel, now + ka.idle, 0);
        }
        if probes >= ka.probes {
            self.socket_error(conn, end, node);
            return;
        }
        let answered =
            !self.kernel.meta[peer as usize].host_down && self.kernel.net.path_open(conn, end);
        match (answered, peer_open) {
            (true, true) => {
                self.kernel.net.conns[conn as usize].heard[end] = now;
                push(&mut self.kernel, now + ka.idle, 0);
            }
            // The peer's kernel has no socket for it: a reset.
            (true, false) => self.socket_error(conn, end, node),
            (false, _) => push(&mut self.kernel, now + ka.interval, probes + 1),
        }
    }

    /// The kernel drops `node`'s end of `conn`; the process reads an error
    /// on it once it runs.
    fn socket_error(&mut self, conn: ConnId, end: usize, node: NodeId) {
        self.kernel.net.conns[conn as usize].open[end] = false;
        let incarnation = self.kernel.meta[node as usize].incarnation;
        self.dispatch(Ev::SocketError {
            conn,
            node,
            incarnation,
        });
    }

    fn arrive(&mut self, conn: ConnId, dir: usize, packet: Packet<N::Msg>, times: SendTimes) {
        let c = &self.kernel.net.conns[conn as usize];
        let (sender, receiver) = (c.ends[dir], c.ends[1 - dir]);
        let recv_open = c.open[1 - dir];
        let lost = self.kernel.meta[sender as usize]
            .deaths
            .iter()
            .any(|&(t, power)| times.lost_on_death(t, power));
        let (alive, paused, host_down) = {
            let m = &self.kernel.meta[receiver as usize];
            (m.alive, !m.runs(), m.host_down)
        };
        if lost {
            self.kernel.tap_fate(times.id, Fate::Lost);
            return;
        }
        if !host_down {
            // The receiving end hears the segment; the sender hears its
            // acknowledgement (or the reset).
            let now = self.kernel.now;
            self.kernel.net.conns[conn as usize].heard = [now, now];
        }
        if host_down {
            // Nothing answers: the sender retransmits with backoff, and a
            // retry that finds the host back up gets through (or a reset).
            let syn = matches!(packet, Packet::Syn);
            if let Some(delay) = times.retransmit_after(syn) {
                let times = SendTimes {
                    retries: times.retries + 1,
                    ..times
                };
                let at = self.kernel.now + delay;
                self.kernel.queue.push(
                    at,
                    Ev::Arrive {
                        conn,
                        dir,
                        packet,
                        times,
                    },
                );
            } else {
                self.kernel.tap_fate(times.id, Fate::Lost);
            }
            return;
        }
        if !alive || !recv_open {
            self.kernel.tap_fate(times.id, Fate::Reset);
            // Nobody listens on this end: a SYN is refused, data gets a reset.
            match packet {
                Packet::Syn => {
                    let c = &mut self.kernel.net.conns[conn as usize];
                    c.open[1 - dir] = false;
                    self.kernel.transmit(conn, 1 - dir, Packet::Refuse, 64);
                }
                Packet::Data(_) | Packet::Accept => {
                    let c = &mut self.kernel.net.conns[conn as usize];
                    if c.open[dir] {
                        c.open[1 - dir] = false;
                        self.kernel.transmit(conn, 1 - dir, Packet::Fin, 64);
                    }
                }
                Packet::Fin | Packet::Refuse => {}
            }
            return;
        }
        if let Packet::Syn = packet {
            // The OS accepts even for a stopped process.
            self.kernel.meta[receiver as usize].conns.push(conn);
            self.kernel.transmit(conn, 1 - dir, Packet::Accept, 64);
            self.dispatch(Ev::Accepted {
                conn,
                node: receiver,
                peer: sender,
            });
            return;
        }
        let bytes = u64::from(times.bytes);
        if !times.buffered {
            // Behind what waits for the window, or finding the receive
            // buffer of a process that does not read full: it waits in the
            // sender's kernel.
            let c = &mut self.kernel.net.conns[conn as usize];
            if !c.stalled[dir].is_empty() || (paused && !c.fits(dir, bytes)) {
                c.stalled[dir].push_back((packet, times));
                return;
            }
            self.kernel.take(conn, dir, bytes, paused);
        }
        if paused {
            let times = SendTimes {
                buffered: true,
                ..times
            };
            self.kernel.meta[receiver as usize]
                .pending
                .push(Ev::Arrive {
                    conn,
                    dir,
                    packet,
                    times,
                });
            return;
        }
        if bytes > 0 {
            self.kernel.net.conns[conn as usize].read(dir, bytes, times.buffered);
        }
        let (n, mut ctx) = self.ctx(receiver);
        match packet {
            Packet::Syn => unreachable!("accepted above"),
            Packet::Accept => n.on_connected(&mut ctx, conn),
            Packet::Refuse => {
                ctx.k.net.conns[conn as usize].open[1 - dir] = false;
                n.on_connect_failed(&mut ctx, conn)
            }
            Packet::Data(msg) => {
                ctx.k.tap_fate(times.id, Fate::Delivered);
                n.on_message(&mut ctx, conn, msg)
            }
            Packet::Fin => {
                ctx.k.net.conns[conn as usize].open[1 - dir] = false;
                n.on_closed(&mut ctx, conn)
            }
        }
    }
}
