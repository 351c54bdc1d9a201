//! TCP flow control in the kernel: a writer's data counts against its send
//! buffer until the reader's kernel takes it, a reader that does not run
//! takes only what its receive buffer holds, and a writer told there is
//! no room keeps the rest in its own memory until it is told there is.

use super::net::{ConnId, LinkParams, NodeId, RCVBUF_FRESH, SNDBUF_DATA};
use super::testkit::{Harness, TestNode};
use super::timer::Timer;
use super::{Ctx, Node, WireSize};
use crate::time::{ms, secs};

/// Bytes `from..from + len` of the writer's stream.
#[derive(Clone, Debug, PartialEq)]
struct Chunk {
    from: u64,
    len: u64,
}

impl WireSize for Chunk {
    fn wire_size(&self) -> u64 {
        self.len
    }
}

struct Tick;

impl Timer for Tick {
    fn encode(self) -> u64 {
        0
    }
    fn decode(_token: u64) -> Option<Self> {
        Some(Tick)
    }
}

/// What the writer produces each millisecond: 2 MB/s.
const PER_MS: u64 = 2_000;

/// The writer (node 0) connects to the reader (node 1), produces
/// [`PER_MS`] bytes a millisecond and writes as much as its socket takes,
/// as a Redis master writes a replica's output buffer; the reader checks
/// that bytes come in order.
#[derive(Default)]
struct Pipe {
    writer: bool,
    conn: Option<ConnId>,
    produced: u64,
    written: u64,
    read: u64,
    told_writable: u32,
    closed: bool,
}

impl Pipe {
    fn flush(&mut self, ctx: &mut Ctx<'_, Chunk>) {
        let Some(conn) = self.conn else { return };
        let wanted = self.produced - self.written;
        if wanted == 0 {
            return;
        }
        let len = ctx.writable_room(conn, wanted).min(wanted);
        if len > 0 {
            let from = self.written;
            ctx.send(conn, Chunk { from, len });
            self.written += len;
        }
    }
}

impl Node for Pipe {
    type Msg = Chunk;
    type Admin = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Chunk>) {
        if self.writer {
            self.conn = Some(ctx.connect(1));
            ctx.set_timer(ms(1), Tick);
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Chunk>, _token: u64) {
        self.produced += PER_MS;
        self.flush(ctx);
        ctx.set_timer(ms(1), Tick);
    }
    fn on_accept(&mut self, _ctx: &mut Ctx<'_, Chunk>, conn: ConnId, _peer: NodeId) {
        self.conn = Some(conn);
    }
    fn on_message(&mut self, _ctx: &mut Ctx<'_, Chunk>, _conn: ConnId, msg: Chunk) {
        assert_eq!(msg.from, self.read, "bytes arrive in order");
        self.read += msg.len;
    }
    fn on_closed(&mut self, _ctx: &mut Ctx<'_, Chunk>, _conn: ConnId) {
        self.closed = true;
    }
    fn on_writable(&mut self, ctx: &mut Ctx<'_, Chunk>, _conn: ConnId) {
        self.told_writable += 1;
        self.flush(ctx);
    }
}

const WRITER: NodeId = 0;
const READER: NodeId = 1;

/// A writer and a reader on 250 µs links (and `link`'s other parameters).
fn pipe(link: LinkParams) -> Harness<Pipe> {
    let writer = Pipe {
        writer: true,
        ..Pipe::default()
    };
    let nodes = vec![
        ("writer", TestNode::Real(Box::new(writer))),
        ("reader", TestNode::Real(Box::new(Pipe::default()))),
    ];
    let mut h = Harness::new(1, nodes, link);
    h.start_all();
    h
}

/// The receive buffer of a fresh connection holds whole 2,000-byte writes
/// up to its 464,611 bytes: 232 of them.
const RCVBUF_TAKES: u64 = RCVBUF_FRESH / PER_MS * PER_MS;

#[test]
fn a_stopped_reader_takes_its_receive_buffer_and_the_writer_keeps_the_rest() {
    let mut h = pipe(LinkParams::default());
    h.run_until(secs(1));
    let read_before = h.node(READER).read;
    assert_eq!(h.node(WRITER).written, h.node(WRITER).produced);
    h.sim.pause(READER);
    h.run_until(secs(6));
    let w = h.node(WRITER);
    // 464,000 bytes in the reader's buffer, 3,915,668 in the writer's
    // kernel; everything else it produced (10 MB in 5 s) is its own.
    assert_eq!(w.written - read_before, RCVBUF_TAKES + SNDBUF_DATA);
    assert_eq!(w.produced, 6_000 * PER_MS);
    assert_eq!(w.told_writable, 0);
    assert_eq!(h.node(READER).read, read_before);

    h.sim.resume(READER);
    h.settle();
    // SIGCONT: the reader reads its buffer at once...
    assert_eq!(h.node(READER).read, read_before + RCVBUF_TAKES);
    // ...and what waited in the writer's kernel one round trip later.
    h.run_until(secs(6) + 500);
    assert_eq!(
        h.node(READER).read,
        read_before + RCVBUF_TAKES + SNDBUF_DATA
    );
    // Then the writer is told, writes on, and the reader catches up.
    h.run_until(secs(7));
    assert!(h.node(WRITER).told_writable >= 1);
    let (w, r) = (h.node(WRITER), h.node(READER));
    assert_eq!(w.written, w.produced);
    assert!(w.produced - r.read <= PER_MS, "{} {}", w.produced, r.read);
}

#[test]
fn a_reader_that_keeps_up_never_holds_the_writer_back() {
    let mut h = pipe(LinkParams::default());
    h.run_until(secs(10));
    let (w, r) = (h.node(WRITER), h.node(READER));
    assert_eq!(w.written, w.produced);
    assert_eq!(w.told_writable, 0);
    assert!(w.produced - r.read <= PER_MS);
}

#[test]
fn a_partition_fills_the_send_buffer_and_no_more() {
    let mut h = pipe(LinkParams::default());
    h.run_until(secs(1));
    let read_before = h.node(READER).read;
    h.sim.set_blocked(WRITER, READER, true);
    h.sim.set_blocked(READER, WRITER, true);
    h.run_until(secs(4));
    // Nothing sent since reaches the reader's kernel (the write already on
    // its way at 1 s did): only the send buffer fills.
    let read = h.node(READER).read;
    assert!(read - read_before <= PER_MS);
    assert_eq!(h.node(WRITER).written - read, SNDBUF_DATA);
    h.sim.set_blocked(WRITER, READER, false);
    h.sim.set_blocked(READER, WRITER, false);
    h.run_until(secs(6));
    let (w, r) = (h.node(WRITER), h.node(READER));
    assert_eq!(w.written, w.produced);
    assert!(w.produced - r.read <= PER_MS);
}

#[test]
fn a_slow_link_holds_the_writer_to_its_send_buffer() {
    // 1 MB/s for 2 MB/s of writes: the kernel holds at most its send
    // buffer and the writer's own backlog grows by the difference.
    let mut h = pipe(LinkParams {
        bandwidth: 1_000_000,
        ..LinkParams::default()
    });
    h.run_until(secs(10));
    let (w, r) = (h.node(WRITER), h.node(READER));
    assert!(w.written - r.read <= SNDBUF_DATA);
    // 20 MB produced, about 10 MB across, 3.9 MB in the kernel.
    let backlog = w.produced - w.written;
    assert!((5_000_000..7_000_000).contains(&backlog), "{backlog}");
}

#[test]
fn what_waited_for_a_reader_that_is_killed_is_never_read() {
    let mut h = pipe(LinkParams::default());
    h.run_until(secs(1));
    h.sim.pause(READER);
    h.run_until(secs(4));
    let read = h.node(READER).read;
    h.kill(READER, false);
    h.run_until(secs(5));
    assert!(
        h.node(WRITER).closed,
        "the kernel of the dead reader resets"
    );
    h.start(READER);
    h.run_until(secs(6));
    assert_eq!(h.node(READER).read, read, "nothing stalled is read after");
}

#[test]
fn a_stopped_writer_is_told_of_room_once_it_runs() {
    let mut h = pipe(LinkParams::default());
    h.run_until(secs(1));
    h.sim.pause(READER);
    h.run_until(secs(4));
    // Both stopped; the reader resumes first, the writer a second later.
    h.sim.pause(WRITER);
    h.sim.resume(READER);
    h.run_until(secs(5));
    assert_eq!(h.node(WRITER).told_writable, 0);
    h.sim.resume(WRITER);
    h.run_until(secs(6));
    assert_eq!(h.node(WRITER).told_writable, 1);
    let (w, r) = (h.node(WRITER), h.node(READER));
    assert_eq!(w.written, w.produced);
    assert!(w.produced - r.read <= PER_MS);
}
