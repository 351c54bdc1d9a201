//! The recording's wiretap: every message the network carries, kept one by
//! one for control traffic (Sentinel, handshakes, elections) and summed per
//! time bucket for bulk traffic (workload commands and replies, the
//! replication stream of writes), so a run at hundreds of writes per second
//! still makes a page of reasonable size.

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap;
use serde::{Serialize, Serializer};

use super::label::label;
use crate::proto::Msg;
use crate::sim::net::NodeId;
use crate::sim::{Fate, Wiretap};
use crate::time::Micros;

/// One control message. Serialised as an array:
/// `[from, to, kind, sent, arrived, fate, held, bytes, note]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub from: u32,
    pub to: u32,
    pub kind: String,
    pub sent: Micros,
    /// When it was delivered, lost or reset (None: still in flight or held
    /// at the end of the run).
    pub arrived: Option<Micros>,
    pub fate: &'static str,
    /// A partition held it for a while.
    pub held: bool,
    pub bytes: u64,
    pub note: String,
}

/// Bulk messages of one kind from one node to another, sent within one
/// bucket of time. Serialised as an array:
/// `[from, to, kind, t, count, bytes, undelivered, max_delay]`.
#[derive(Clone, Debug)]
pub struct Stream {
    pub from: u32,
    pub to: u32,
    pub kind: String,
    /// Start of the bucket.
    pub t: Micros,
    pub count: u32,
    pub bytes: u64,
    /// Lost or reset, or never arrived.
    pub undelivered: u32,
    /// The longest time one of them took to arrive (held ones take long).
    pub max_delay: Micros,
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (
            self.from,
            self.to,
            &self.kind,
            self.sent,
            self.arrived,
            self.fate,
            u8::from(self.held),
            self.bytes,
            &self.note,
        )
            .serialize(s)
    }
}

impl Serialize for Stream {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (
            self.from,
            self.to,
            &self.kind,
            self.t,
            self.count,
            self.bytes,
            self.undelivered,
            self.max_delay,
        )
            .serialize(s)
    }
}

/// Where an in-flight message's record lives.
#[derive(Clone, Copy)]
enum Slot {
    Message(usize),
    Stream(usize, Micros),
}

/// What the wiretap heard, shared with the recorder that reads it at the end.
#[derive(Default)]
pub struct Wire {
    pub messages: Vec<Message>,
    pub streams: Vec<Stream>,
    /// Control messages summed into streams because `cap` was reached.
    pub over_cap: u64,
    cap: usize,
    bucket: Micros,
    pending: FxHashMap<u32, Slot>,
    stream_index: FxHashMap<(u32, u32, String, Micros), usize>,
}

impl Wire {
    pub fn new(cap: usize, bucket: Micros) -> Self {
        Self {
            cap,
            bucket: bucket.max(1),
            ..Self::default()
        }
    }

    /// Marks everything still pending as never delivered (run ended).
    pub fn finish(&mut self) {
        let mut left: Vec<(u32, Slot)> = self.pending.drain().collect();
        left.sort_by_key(|(id, _)| *id);
        for (_, slot) in left {
            match slot {
                Slot::Message(i) => {
                    let m = &mut self.messages[i];
                    m.fate = if m.held { "held" } else { "in flight" };
                }
                Slot::Stream(i, _) => self.streams[i].undelivered += 1,
            }
        }
    }

    /// A copy of what was heard so far, for a page shown while the run
    /// goes on (messages in flight stay so).
    pub fn snapshot(&self) -> Wire {
        Wire {
            messages: self.messages.clone(),
            streams: self.streams.clone(),
            over_cap: self.over_cap,
            cap: self.cap,
            bucket: self.bucket,
            ..Wire::default()
        }
    }

    /// The first message whose fate is not known yet: from there on, a
    /// live page's copy may be out of date.
    pub fn first_pending_message(&self) -> Option<usize> {
        self.pending
            .values()
            .filter_map(|s| match s {
                Slot::Message(i) => Some(*i),
                Slot::Stream(..) => None,
            })
            .min()
    }

    fn stream_slot(&mut self, from: u32, to: u32, kind: String, now: Micros) -> usize {
        let t = now / self.bucket * self.bucket;
        let key = (from, to, kind, t);
        if let Some(&i) = self.stream_index.get(&key) {
            return i;
        }
        let i = self.streams.len();
        self.streams.push(Stream {
            from,
            to,
            kind: key.2.clone(),
            t,
            count: 0,
            bytes: 0,
            undelivered: 0,
            max_delay: 0,
        });
        self.stream_index.insert(key, i);
        i
    }
}

/// The [`Wiretap`] installed in the kernel while recording.
pub struct Tap {
    pub wire: Rc<RefCell<Wire>>,
    /// Which nodes are workload clients (replies to them are bulk).
    pub clients: Vec<bool>,
}

impl Wiretap<Msg> for Tap {
    fn sent(&mut self, now: Micros, id: u32, from: NodeId, to: NodeId, msg: &Msg, bytes: u64) {
        let to_client = self.clients.get(to as usize).copied().unwrap_or(false);
        let l = label(msg, to_client);
        let mut w = self.wire.borrow_mut();
        let individual = !l.bulk && w.messages.len() < w.cap;
        if !l.bulk && !individual {
            w.over_cap += 1;
        }
        let slot = if individual {
            w.messages.push(Message {
                from,
                to,
                kind: l.kind.into_owned(),
                sent: now,
                arrived: None,
                fate: "in flight",
                held: false,
                bytes,
                note: l.note,
            });
            Slot::Message(w.messages.len() - 1)
        } else {
            let i = w.stream_slot(from, to, l.kind.into_owned(), now);
            let s = &mut w.streams[i];
            s.count += 1;
            s.bytes += bytes;
            Slot::Stream(i, now)
        };
        w.pending.insert(id, slot);
    }

    fn fate(&mut self, now: Micros, id: u32, fate: Fate) {
        let mut w = self.wire.borrow_mut();
        let Some(&slot) = w.pending.get(&id) else {
            return;
        };
        if fate != Fate::Held {
            w.pending.remove(&id);
        }
        match slot {
            Slot::Message(i) => {
                let m = &mut w.messages[i];
                match fate {
                    Fate::Held => m.held = true,
                    Fate::Delivered => m.fate = "delivered",
                    Fate::Lost => m.fate = "lost",
                    Fate::Reset => m.fate = "reset",
                }
                if fate != Fate::Held {
                    m.arrived = Some(now);
                }
            }
            Slot::Stream(i, sent) => {
                let s = &mut w.streams[i];
                match fate {
                    Fate::Held => {}
                    Fate::Delivered => s.max_delay = s.max_delay.max(now - sent),
                    Fate::Lost | Fate::Reset => s.undelivered += 1,
                }
            }
        }
    }
}
