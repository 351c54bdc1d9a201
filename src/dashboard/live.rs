//! A recording that follows a run while it goes (`redsim lab --http`):
//! the page for the run so far, then what changed since the last update,
//! as one JSON object the page merges into its copy. Appended lists are
//! sent from where the page's copy ends; what can still change is sent
//! again from the first entry that may have changed (messages from the
//! first one that was in flight at the last update; traffic and client
//! buckets from a little before it); the outcome is sent whole. Following
//! a run never changes it: the recorder only observes.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Serialize;

use super::data::{self, ClientView, EventRow, NetState, Summary};
use super::recorder::{Recorder, Sample, Tape};
use super::tap::{Message, Stream, Wire};
use super::{page, spacetime};
use crate::time::Micros;
use crate::world::{Observer as _, World};

/// Traffic and client buckets are resent from this much simulated time
/// back: the fates of bulk messages and late completions land within it.
const RESEND: Micros = 2_000_000;

/// The recorder of a live run and how far each page's copy goes.
pub struct Live {
    tape: Rc<RefCell<Tape>>,
    wire: Rc<RefCell<Wire>>,
    every: Micros,
    seed: u64,
    sent: Sent,
    /// The milestones the last space-time diagram was drawn for.
    drawn_for: Option<[Option<Micros>; 3]>,
}

/// What the pages have: lengths of the append-only lists, and the time
/// of the last update.
#[derive(Default)]
struct Sent {
    events: usize,
    samples: Vec<usize>,
    /// The first message still in flight at the last update: every one
    /// before it had its fate already.
    messages_settled: usize,
    /// Client buckets before this instant were final at the last full
    /// update.
    buckets_back: Micros,
    now: Micros,
}

/// One update, as the page merges it (`dashboard.js` `merge()`).
#[derive(Serialize)]
pub struct Update {
    /// Simulated time now: the page's end of the run.
    pub now: Micros,
    /// Simulated seconds per wall-clock second, as the lab runs now.
    pub speed: f64,
    /// Events from index `events_from` on (new ones only).
    pub events_from: usize,
    pub events: Vec<EventRow>,
    /// Messages from index `messages_from` on, replacing the page's.
    pub messages_from: usize,
    pub messages: Vec<Message>,
    pub streams_from: usize,
    pub streams: Vec<Stream>,
    pub messages_over_cap: u64,
    /// Per node, the samples from index `samples_from[n]` on.
    pub samples_from: Vec<usize>,
    pub samples: Vec<Vec<Sample>>,
    pub network: Vec<NetState>,
    /// The client view, its buckets from index `buckets_from` on, and the
    /// outcome; both only in a full update (they cost a pass over every
    /// client operation).
    pub buckets_from: usize,
    pub client: Option<ClientView>,
    pub summary: Option<Summary>,
    /// A new space-time diagram, when the failover's milestones moved.
    pub spacetime: Option<String>,
}

impl Live {
    /// Starts recording `world` (before its first event), sampling every
    /// node each `every` of simulated time.
    pub fn attach(world: &mut World, seed: u64, every: Micros) -> Self {
        let every = every.max(1);
        let tape = Rc::new(RefCell::new(Tape::default()));
        let wire = Rc::new(RefCell::new(Wire::new(50_000, every)));
        let mut rec = Recorder {
            tape: tape.clone(),
            wire: wire.clone(),
            every,
            instants: Vec::new(),
        };
        rec.attach(world);
        world.observer = Some(Box::new(rec));
        Self {
            tape,
            wire,
            every,
            seed,
            sent: Sent::default(),
            drawn_for: None,
        }
    }

    /// The page for the run so far; a page loaded now then takes every
    /// update from the next one.
    pub fn page(&self, world: &World) -> String {
        let mut rec = data::build_world(
            world,
            &[],
            self.seed,
            self.tape.borrow().samples.clone(),
            self.wire.borrow().snapshot(),
            self.every,
        );
        rec.live = true;
        rec.faults = vec!["kill", "crash", "pause", "partition"];
        rec.duration = world.sim.now();
        // Pages loaded earlier get this diagram with the next full update
        // if its milestones are new to them.
        page::html(&rec, spacetime::default_window(&rec))
    }

    /// What changed since the last update (or since the page), or `None`
    /// when simulated time has not moved. A `full` update also carries
    /// the client view and the outcome (lost writes, unavailability),
    /// whose cost grows with the session's history: the lab asks for one
    /// a second.
    pub fn update(&mut self, world: &World, full: bool, speed: f64) -> Option<String> {
        let now = world.sim.now();
        if now == self.sent.now && self.sent.events == world.trace().events.len() {
            return None;
        }
        let back = self.sent.now.saturating_sub(RESEND);
        let (mut client, summary) = match full {
            true => {
                let (c, s) = data::client_and_summary(world, &[], self.every);
                (Some(c), Some(s))
            }
            false => (None, None),
        };
        let spacetime = summary
            .as_ref()
            .filter(|s| self.drawn_for != Some(milestones(s)))
            .map(|_| self.diagram(world));
        let wire = self.wire.borrow();
        let messages_from = self.sent.messages_settled;
        let streams_from = wire.streams.partition_point(|s| s.t < back);
        let tape = self.tape.borrow();
        let nodes = tape.samples.len();
        self.sent.samples.resize(nodes, 0);
        let samples_from = self.sent.samples.clone();
        let samples = (0..nodes)
            .map(|n| tape.samples[n][samples_from[n].min(tape.samples[n].len())..].to_vec())
            .collect();
        let buckets_from = client.as_mut().map_or(0, |c| {
            let from = c.buckets.partition_point(|b| b.0 < self.sent.buckets_back);
            c.buckets.drain(..from);
            from
        });
        if full {
            self.sent.buckets_back = back;
        }
        let update = Update {
            now,
            speed,
            events_from: self.sent.events,
            events: data::events_from(world, self.sent.events),
            messages_from,
            messages: wire.messages[messages_from..].to_vec(),
            streams_from,
            streams: wire.streams[streams_from..].to_vec(),
            messages_over_cap: wire.over_cap,
            samples_from,
            samples,
            network: data::network(world),
            buckets_from,
            client,
            summary,
            spacetime,
        };
        self.sent.events = world.trace().events.len();
        self.sent.messages_settled = wire.first_pending_message().unwrap_or(wire.messages.len());
        self.sent.samples = tape.samples.iter().map(Vec::len).collect();
        self.sent.now = now;
        Some(serde_json::to_string(&update).expect("an update serialises"))
    }

    /// The space-time diagram of the failover so far.
    fn diagram(&mut self, world: &World) -> String {
        let rec = data::build_world(
            world,
            &[],
            self.seed,
            Vec::new(),
            self.wire.borrow().snapshot(),
            self.every,
        );
        self.drawn_for = Some(milestones(&rec.summary));
        spacetime::svg(&rec, spacetime::default_window(&rec), false)
    }
}

/// The milestones the space-time window is chosen by.
fn milestones(s: &Summary) -> [Option<Micros>; 3] {
    [s.fault, s.switch_master, s.election_won]
}
