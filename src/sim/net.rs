//! The simulated network: TCP-like connections over links with latency,
//! jitter, bandwidth and loss, and partitions that stall traffic silently.
//!
//! A connection delivers in order in each direction. A partition does not drop
//! bytes: like TCP under a firewall DROP rule, segments are retransmitted until
//! the path heals, so held packets arrive after the heal unless an endpoint
//! closed meanwhile. Loss delays a segment by retransmission timeouts.
//!
//! Each direction has TCP's flow control: data a process writes counts
//! against its send buffer until the peer's kernel takes it, and a process
//! that does not read (stopped, asleep) takes only what its receive buffer
//! holds. The rest waits in the sender's kernel ([`Conn::stalled`]), and a
//! writer that asks for room ([`Network::room`]) finds none once its send
//! buffer is full, so what it still has to send stays in its own memory.

use std::collections::VecDeque;

use rand::RngExt;

use super::rng::Rng;
use crate::time::{Micros, ms};

pub type NodeId = u32;
pub type ConnId = u32;

/// Parameters of one directed link.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkParams {
    /// One-way latency.
    pub latency: Micros,
    /// Extra latency drawn uniformly from `0..=jitter` for each segment.
    pub jitter: Micros,
    /// Bytes per second; 0 means unlimited.
    pub bandwidth: u64,
    /// Probability that a segment is lost once and retransmitted.
    pub loss: f64,
}

impl Default for LinkParams {
    fn default() -> Self {
        Self {
            latency: 250,
            jitter: 0,
            bandwidth: 0,
            loss: 0.0,
        }
    }
}

/// TCP's minimum retransmission timeout on Linux.
const RTO_MIN: Micros = ms(200);
/// TCP's maximum retransmission timeout on Linux.
const RTO_MAX: Micros = ms(120_000);
/// The initial SYN retransmission timeout (doubling from there).
const SYN_RTO: Micros = ms(1_000);

/// The first retransmission at or after `now` of a segment first sent at
/// `sent`, with an initial timeout `rto` doubling up to [`RTO_MAX`].
fn next_retransmission(sent: Micros, now: Micros, mut rto: Micros) -> Micros {
    let mut t = sent + rto;
    while t < now {
        rto = (rto * 2).min(RTO_MAX);
        t += rto;
    }
    t
}

#[derive(Debug)]
pub enum Packet<M> {
    Syn,
    Accept,
    Refuse,
    Data(M),
    Fin,
}

/// A node's client port (6379, 26379).
pub const PORT_MAIN: u8 = 0;
/// A cluster node's bus port (client port + 10000).
pub const PORT_BUS: u8 = 1;

pub(crate) struct Conn<M> {
    pub ends: [NodeId; 2],
    /// Which of the listener's ports it connected to ([`PORT_MAIN`] or
    /// [`PORT_BUS`]).
    pub port: u8,
    pub open: [bool; 2],
    last_arrival: [Micros; 2],
    /// Held packets: (packet, bytes, packet id).
    held: [VecDeque<(Packet<M>, u64, u32)>; 2],
    /// When the oldest held packet in each direction was first sent.
    held_since: [Micros; 2],
    /// Each end's TCP keepalive (SO_KEEPALIVE), if its process set one.
    pub keepalive: [Option<Keepalive>; 2],
    /// When each end last heard from the other: a segment arrived, or one
    /// it sent was delivered (and so acknowledged).
    pub heard: [Micros; 2],
    /// Data bytes each end wrote that the peer's kernel has not taken yet:
    /// in flight, held by a partition, or stalled on a full receive buffer.
    unacked: [u64; 2],
    /// Data bytes each end sent that sit in the peer's receive buffer,
    /// unread because the peer's process does not run.
    unread: [u64; 2],
    /// The data capacity of the receive buffer for what each end sends.
    rcvbuf: [u64; 2],
    /// Packets that found the receive buffer full, in order: they wait in
    /// the sender's kernel until the receiver reads and opens its window.
    pub(crate) stalled: [VecDeque<(Packet<M>, SendTimes)>; 2],
    /// The end asked for more room than it had and waits to be told when
    /// there is some.
    want_write: [bool; 2],
}

/// TCP keepalive on one socket: after `idle` without hearing from the
/// peer (and with nothing of its own unacknowledged), the kernel sends a
/// probe every `interval`; after `probes` unanswered ones it resets the
/// connection and the process reads an error (ETIMEDOUT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    pub idle: Micros,
    pub interval: Micros,
    pub probes: u8,
}

impl Keepalive {
    /// What anetKeepAlive() sets for `interval` seconds: the first probe
    /// after `interval`, then one every `interval / 3` (at least 1 s), and
    /// the connection dropped after three unanswered. An interval of 0 is
    /// refused by TCP_KEEPIDLE after SO_KEEPALIVE was set, which leaves
    /// Linux's defaults (tcp_keepalive_time 7200 s, intvl 75 s, probes 9).
    pub fn anet(interval: u64) -> Self {
        if interval == 0 {
            return Self {
                idle: 7200 * 1_000_000,
                interval: 75 * 1_000_000,
                probes: 9,
            };
        }
        Self {
            idle: interval * 1_000_000,
            interval: (interval / 3).max(1) * 1_000_000,
            probes: 3,
        }
    }
}

impl<M> Conn<M> {
    /// Which direction a packet sent by `node` travels in.
    pub fn dir_from(&self, node: NodeId) -> usize {
        if self.ends[0] == node { 0 } else { 1 }
    }

    /// Whether `bytes` more sent in direction `dir` fit in the receive
    /// buffer of a process that does not read (an empty buffer takes one
    /// message of any size, as the kernel takes part of a larger write).
    pub fn fits(&self, dir: usize, bytes: u64) -> bool {
        self.unread[dir] == 0 || self.unread[dir] + bytes <= self.rcvbuf[dir]
    }

    /// The receiver's kernel took `bytes` sent in direction `dir` into its
    /// buffer (`unread` when its process does not read them yet). Returns
    /// true when the sender waited for room and now has enough to be told:
    /// its queued data fell to two thirds of the send buffer, as
    /// sk_stream_write_space() wakes a writer once the free space is half
    /// of what is queued.
    pub fn take(&mut self, dir: usize, bytes: u64, unread: bool) -> bool {
        self.unacked[dir] = self.unacked[dir].saturating_sub(bytes);
        if unread {
            self.unread[dir] += bytes;
        }
        if self.want_write[dir] && self.unacked[dir] <= SNDBUF_DATA / 3 * 2 {
            self.want_write[dir] = false;
            return true;
        }
        false
    }

    /// The receiving process read `bytes` sent in direction `dir`, out of
    /// its buffer if `buffered`. Reading a burst larger than the buffer
    /// grows it, as receive-buffer autotuning (tcp_rcv_space_adjust())
    /// grows it to what the reader consumes, up to [`RCVBUF_GROWN`].
    pub fn read(&mut self, dir: usize, bytes: u64, buffered: bool) {
        if buffered {
            self.unread[dir] = self.unread[dir].saturating_sub(bytes);
        }
        if bytes > self.rcvbuf[dir] {
            self.rcvbuf[dir] = bytes.min(RCVBUF_GROWN);
        }
    }

    /// The end toward `dir`'s receiver closed: nothing there reads again.
    pub fn drop_unread(&mut self, dir: usize) {
        self.stalled[dir].clear();
        self.unread[dir] = 0;
    }
}

struct Link {
    params: LinkParams,
    blocked: bool,
    busy_until: Micros,
}

pub struct Network<M> {
    n: usize,
    links: Vec<Link>,
    pub(crate) conns: Vec<Conn<M>>,
    rng: Rng,
    /// Packets transmitted so far: the next packet's id.
    pub(crate) packets: u32,
}

/// A packet the network wants delivered at a time.
pub struct Delivery<M> {
    pub at: Micros,
    pub conn: ConnId,
    pub dir: usize,
    pub packet: Packet<M>,
    pub times: SendTimes,
}

/// When a packet was handed to the sender's kernel, began transmission, and
/// left the sender completely. A sender that dies meanwhile may take it with
/// it: a power loss loses what had not left; a killed process loses what was
/// still in its own buffers beyond the kernel's send buffer.
#[derive(Clone, Copy, Debug, Default)]
pub struct SendTimes {
    pub sent: Micros,
    pub start: Micros,
    pub departed: Micros,
    /// How long the kernel's send buffer takes to drain at the link's
    /// bandwidth (`Micros::MAX`: unlimited bandwidth, it never fills).
    pub sndbuf_drain: Micros,
    /// Retransmissions so far (a powered-off receiver answers nothing).
    pub retries: u8,
    /// Taken into the receiver's buffer already, while its process did not
    /// read (so it is counted in `unread`, not `unacked`).
    pub buffered: bool,
    /// The packet's number in sending order, for a [`super::Wiretap`]
    /// (32 bits fit in this struct's padding; they wrap after 2^32 packets).
    pub id: u32,
    /// The data bytes it counts for in flow control (0 for control
    /// packets; saturated at 4 GiB, the same way when added and taken).
    pub bytes: u32,
}

/// What a data packet of `bytes` counts for in flow control (saturated at
/// what [`SendTimes::bytes`] holds).
fn window_bytes(bytes: u64) -> u64 {
    bytes.min(u64::from(u32::MAX))
}

/// How long `bytes` take at `bandwidth` bytes per second (0: unlimited).
pub fn transfer_micros(bytes: u64, bandwidth: u64) -> Micros {
    bytes
        .saturating_mul(1_000_000)
        .checked_div(bandwidth)
        .unwrap_or(0)
}

/// Linux's default maximum TCP send buffer (net.ipv4.tcp_wmem).
pub const SNDBUF: u64 = 4 * 1024 * 1024;

/// The data a full send buffer holds: measured on Linux 6 with real Redis
/// 7.0.15 as the master's Send-Q toward a SIGSTOPped replica, which levels
/// off at 3,915,668 bytes (tcp_wmem's 4 MiB maximum, less the per-segment
/// overhead the kernel charges to it).
pub const SNDBUF_DATA: u64 = 3_915_668;
/// The data a receive buffer holds before autotuning grows it: the Recv-Q
/// of a SIGSTOPped replica that had only streamed small writes levels off
/// at 464,611 bytes.
pub const RCVBUF_FRESH: u64 = 464_611;
/// The most a receive buffer was measured to hold after autotuning grew
/// it (a replica that had read a full resync): 7,433,066 bytes.
pub const RCVBUF_GROWN: u64 = 7_433_066;

impl SendTimes {
    /// When the sender retransmits a segment nobody answered, or `None`
    /// once TCP gives up (6 tries for a SYN, 15 for data).
    pub fn retransmit_after(&self, syn: bool) -> Option<Micros> {
        let (base, max_tries) = if syn { (SYN_RTO, 6) } else { (RTO_MIN, 15) };
        (self.retries < max_tries).then(|| (base << self.retries.min(20)).min(RTO_MAX))
    }

    /// Is the packet lost if its sender died at `death`?
    pub fn lost_on_death(&self, death: Micros, power_loss: bool) -> bool {
        if self.sent > death {
            return false;
        }
        if power_loss {
            self.departed > death
        } else {
            self.start > death.saturating_add(self.sndbuf_drain)
        }
    }
}

impl<M> Network<M> {
    pub fn new(n: usize, defaults: LinkParams, rng: Rng) -> Self {
        let links = (0..n * n)
            .map(|_| Link {
                params: defaults.clone(),
                blocked: false,
                busy_until: 0,
            })
            .collect();
        Self {
            n,
            links,
            conns: Vec::new(),
            rng,
            packets: 0,
        }
    }

    fn link(&mut self, from: NodeId, to: NodeId) -> &mut Link {
        &mut self.links[from as usize * self.n + to as usize]
    }

    pub fn set_link(&mut self, from: NodeId, to: NodeId, params: LinkParams) {
        self.link(from, to).params = params;
    }

    pub fn link_params(&self, from: NodeId, to: NodeId) -> &LinkParams {
        &self.links[from as usize * self.n + to as usize].params
    }

    pub fn open_conn(&mut self, from: NodeId, to: NodeId, port: u8) -> ConnId {
        let id = self.conns.len() as ConnId;
        self.conns.push(Conn {
            ends: [from, to],
            port,
            open: [true, true],
            last_arrival: [0, 0],
            held: [VecDeque::new(), VecDeque::new()],
            held_since: [0, 0],
            keepalive: [None, None],
            heard: [0, 0],
            unacked: [0, 0],
            unread: [0, 0],
            rcvbuf: [RCVBUF_FRESH, RCVBUF_FRESH],
            stalled: [VecDeque::new(), VecDeque::new()],
            want_write: [false, false],
        });
        id
    }

    /// Whether a probe from `end` of `conn` gets through and an answer comes
    /// back: both directions of the path are open and nothing is held on
    /// it (the peer's host being up is the caller's to check).
    pub fn path_open(&mut self, conn: ConnId, end: usize) -> bool {
        let c = &self.conns[conn as usize];
        let (a, b) = (c.ends[end], c.ends[1 - end]);
        !self.link(a, b).blocked && !self.link(b, a).blocked
    }

    /// Whether `end` of `conn` has sent something the peer has not had yet
    /// (held by a partition, or still on its way at `now`): the keepalive
    /// timer then waits, as Linux's does while packets are out.
    pub fn unacknowledged(&self, conn: ConnId, end: usize, now: Micros) -> bool {
        let c = &self.conns[conn as usize];
        !c.held[end].is_empty() || !c.stalled[end].is_empty() || c.last_arrival[end] > now
    }

    /// Whether direction `dir` of `conn` carries packets (no partition).
    pub fn direction_open(&mut self, conn: ConnId, dir: usize) -> bool {
        let c = &self.conns[conn as usize];
        let (a, b) = (c.ends[dir], c.ends[1 - dir]);
        !self.link(a, b).blocked
    }

    /// Holds a packet that found the path blocked, behind any held
    /// already, to be retransmitted when the partition heals.
    pub fn hold(
        &mut self,
        conn: ConnId,
        dir: usize,
        now: Micros,
        packet: Packet<M>,
        times: SendTimes,
    ) {
        let c = &mut self.conns[conn as usize];
        if c.held[dir].is_empty() {
            c.held_since[dir] = now;
        }
        c.held[dir].push_back((packet, u64::from(times.bytes), times.id));
    }

    /// How many bytes `end` of `conn` may write now: what its send buffer
    /// has free. When that is less than `wanted`, the end is told once
    /// there is room again (see [`Conn::take`]).
    pub fn room(&mut self, conn: ConnId, end: usize, wanted: u64) -> u64 {
        let c = &mut self.conns[conn as usize];
        let room = SNDBUF_DATA.saturating_sub(c.unacked[end]);
        if room < wanted {
            c.want_write[end] = true;
        }
        room
    }

    /// When packets stalled toward a receiver that reads again get through:
    /// its window update reaches the sender and the data comes back, one
    /// round trip (without jitter, which would draw from the stream).
    pub fn window_reopens(&self, conn: ConnId, dir: usize, now: Micros) -> Micros {
        let c = &self.conns[conn as usize];
        let (from, to) = (c.ends[dir], c.ends[1 - dir]);
        now + self.link_params(from, to).latency + self.link_params(to, from).latency
    }

    /// Sends a packet of `bytes` bytes on `conn` in direction `dir` at `now`.
    /// Returns the delivery to schedule, or `None` when the path is blocked and
    /// the packet is held until the partition heals.
    pub fn transmit(
        &mut self,
        now: Micros,
        conn: ConnId,
        dir: usize,
        packet: Packet<M>,
        bytes: u64,
    ) -> Option<Delivery<M>> {
        let id = self.packets;
        self.packets = self.packets.wrapping_add(1);
        if let Packet::Data(_) = packet {
            self.conns[conn as usize].unacked[dir] += window_bytes(bytes);
        }
        let c = &self.conns[conn as usize];
        let (from, to) = (c.ends[dir], c.ends[1 - dir]);
        if self.link(from, to).blocked || !self.conns[conn as usize].held[dir].is_empty() {
            let c = &mut self.conns[conn as usize];
            if c.held[dir].is_empty() {
                c.held_since[dir] = now;
            }
            c.held[dir].push_back((packet, bytes, id));
            return None;
        }
        Some(self.schedule(now, conn, dir, packet, bytes, id))
    }

    #[inline(always)]
    fn schedule(
        &mut self,
        now: Micros,
        conn: ConnId,
        dir: usize,
        packet: Packet<M>,
        bytes: u64,
        id: u32,
    ) -> Delivery<M> {
        let (from, to) = {
            let c = &self.conns[conn as usize];
            (c.ends[dir], c.ends[1 - dir])
        };
        let idx = from as usize * self.n + to as usize;
        let (latency, jitter, bandwidth, loss) = {
            let p = &self.links[idx].params;
            (p.latency, p.jitter, p.bandwidth, p.loss)
        };
        let mut delay = latency;
        if jitter > 0 {
            delay += self.rng.random_range(0..=jitter);
        }
        if loss > 0.0 {
            let mut rto = RTO_MIN;
            while self.rng.random_bool(loss.min(0.95)) {
                delay += rto;
                rto = (rto * 2).min(RTO_MAX);
            }
        }
        // Bandwidth serialises the segments of a link one after another.
        let link = &mut self.links[idx];
        let (start, tx) = if bandwidth > 0 {
            let start = now.max(link.busy_until);
            let tx = transfer_micros(bytes, bandwidth);
            link.busy_until = start + tx;
            (start, tx)
        } else {
            (now, 0)
        };
        let c = &mut self.conns[conn as usize];
        let at = (start + tx + delay).max(c.last_arrival[dir]);
        c.last_arrival[dir] = at;
        let sndbuf_drain = SNDBUF
            .saturating_mul(1_000_000)
            .checked_div(bandwidth)
            .unwrap_or(Micros::MAX);
        let data = matches!(packet, Packet::Data(_));
        Delivery {
            at,
            conn,
            dir,
            packet,
            times: SendTimes {
                sent: now,
                start,
                departed: start + tx,
                sndbuf_drain,
                retries: 0,
                buffered: false,
                id,
                bytes: if data { window_bytes(bytes) as u32 } else { 0 },
            },
        }
    }

    /// A sender died: its links stop carrying what died with it. After a
    /// kill the kernel still drains the socket buffer; after a power loss
    /// nothing more leaves.
    pub fn sender_died(&mut self, node: NodeId, now: Micros, power_loss: bool) {
        if power_loss {
            // What waited in its kernel for the peer's window is gone.
            for c in self.conns.iter_mut() {
                for dir in 0..2 {
                    if c.ends[dir] == node {
                        c.stalled[dir].clear();
                    }
                }
            }
        }
        for to in 0..self.n {
            let link = &mut self.links[node as usize * self.n + to];
            let drain = if power_loss || link.params.bandwidth == 0 {
                0
            } else {
                SNDBUF.saturating_mul(1_000_000) / link.params.bandwidth
            };
            link.busy_until = link.busy_until.min(now + drain);
        }
    }

    /// Blocks or unblocks the directed link `from → to`. Unblocking releases
    /// the packets held on it, in order, at the sender's next retransmission
    /// (SYNs back off from 1 s, data from the 200 ms minimum RTO).
    pub fn set_blocked(
        &mut self,
        now: Micros,
        from: NodeId,
        to: NodeId,
        blocked: bool,
    ) -> Vec<Delivery<M>> {
        self.link(from, to).blocked = blocked;
        let mut out = Vec::new();
        if blocked {
            return out;
        }
        for id in 0..self.conns.len() {
            for dir in 0..2 {
                let c = &self.conns[id];
                if c.ends[dir] == from && c.ends[1 - dir] == to && !c.held[dir].is_empty() {
                    let held = std::mem::take(&mut self.conns[id].held[dir]);
                    let since = self.conns[id].held_since[dir];
                    let rto = match held.front() {
                        Some((Packet::Syn, _, _)) => SYN_RTO,
                        _ => RTO_MIN,
                    };
                    let resend = next_retransmission(since, now, rto);
                    for (packet, bytes, packet_id) in held {
                        out.push(self.schedule(
                            resend,
                            id as ConnId,
                            dir,
                            packet,
                            bytes,
                            packet_id,
                        ));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmissions_back_off_exponentially() {
        // SYN sent at 0: retries at 1 s, 3 s, 7 s, 15 s.
        assert_eq!(next_retransmission(0, 2_500_000, SYN_RTO), 3_000_000);
        assert_eq!(next_retransmission(0, 7_000_000, SYN_RTO), 7_000_000);
        // Data sent at 10 s: retries at +0.2, +0.6, +1.4, +3.0 s.
        assert_eq!(
            next_retransmission(10_000_000, 11_000_000, RTO_MIN),
            11_400_000
        );
        assert_eq!(next_retransmission(0, 0, RTO_MIN), 200_000);
    }
}
