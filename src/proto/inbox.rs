//! What a redis-cli session reads on one connection, sorted as redis-cli
//! sorts it: the reply to the oldest line still waiting, a RESP3 push
//! printed before that reply, or a message pushed to a subscriber.
//!
//! A line usually takes one frame. SUBSCRIBE and its siblings take one
//! confirmation per name, and UNSUBSCRIBE or PUNSUBSCRIBE without a name
//! one per subscription of its kind (or one, with a null name, when there
//! is none). The session counts its own subscriptions from the
//! confirmations, as a client library does, so it knows when such a reply
//! is complete. Both the simulated operator and the conformance harness's
//! real sessions read through this, so the two sort alike.

use std::collections::{BTreeSet, VecDeque};

use super::pubsub::frame_word;
use super::resp::Frame;

/// What one frame that arrived was.
#[derive(Debug, PartialEq)]
pub enum Arrival {
    /// A message pushed to a subscriber (`message`, `pmessage`).
    Message(Frame),
    /// The oldest waiting line's reply is complete: the RESP3 pushes that
    /// came while it waited, and its frames (one but for the SUBSCRIBEs).
    Reply {
        pushes: Vec<Frame>,
        frames: Vec<Frame>,
    },
    /// Part of a reply still coming, or a push kept for the next reply.
    Held,
    /// Nothing waits for it: dropped, as redis-cli never reads it.
    Dropped,
}

/// How many frames a waiting line takes.
#[derive(Clone, Debug)]
enum Expect {
    One,
    /// A confirmation per name given.
    Confirmations(usize),
    /// UNSUBSCRIBE (channels) or PUNSUBSCRIBE (patterns) of everything.
    AllOf {
        patterns: bool,
    },
}

/// One connection's reader.
#[derive(Clone, Debug, Default)]
pub struct Inbox {
    waiting: VecDeque<Expect>,
    pushes: Vec<Frame>,
    frames: Vec<Frame>,
    channels: BTreeSet<String>,
    patterns: BTreeSet<String>,
}

impl Inbox {
    /// A line was sent on the connection.
    pub fn sent(&mut self, argv: &[String]) {
        let word = argv
            .first()
            .map(|w| w.to_ascii_lowercase())
            .unwrap_or_default();
        let names = argv.len().saturating_sub(1);
        let expect = match word.as_str() {
            "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" if names > 0 => {
                Expect::Confirmations(names)
            }
            "unsubscribe" => Expect::AllOf { patterns: false },
            "punsubscribe" => Expect::AllOf { patterns: true },
            _ => Expect::One,
        };
        self.waiting.push_back(expect);
    }

    /// Whether the session listens on any channel or pattern (redis-cli's
    /// subscribed mode).
    pub fn subscribed(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty()
    }

    /// Sorts one frame that arrived.
    pub fn arrived(&mut self, frame: Frame) -> Arrival {
        if matches!(
            frame_word(&frame),
            Some("message" | "pmessage" | "smessage")
        ) {
            return Arrival::Message(frame);
        }
        let Some(expect) = self.waiting.front().cloned() else {
            return Arrival::Dropped;
        };
        if matches!(frame, Frame::Push(_)) && frame_word(&frame).is_none() {
            self.pushes.push(frame);
            return Arrival::Held;
        }
        let done = match (&expect, &frame) {
            (_, Frame::Error(_)) | (Expect::One, _) => true,
            (Expect::Confirmations(n), _) => {
                self.note(&frame);
                self.frames.len() + 1 >= *n
            }
            (Expect::AllOf { patterns }, _) => {
                let named = self.note(&frame);
                let left = if *patterns {
                    &self.patterns
                } else {
                    &self.channels
                };
                !named || left.is_empty()
            }
        };
        self.frames.push(frame);
        if !done {
            return Arrival::Held;
        }
        self.waiting.pop_front();
        Arrival::Reply {
            pushes: std::mem::take(&mut self.pushes),
            frames: std::mem::take(&mut self.frames),
        }
    }

    /// Follows a confirmation's subscription; false when it names nothing
    /// (an UNSUBSCRIBE of nothing).
    fn note(&mut self, frame: &Frame) -> bool {
        let (Some(word), Frame::Push(items) | Frame::Array(Some(items))) =
            (frame_word(frame), frame)
        else {
            return false;
        };
        let Some(Frame::Bulk(Some(name))) = items.get(1) else {
            return false;
        };
        let name = name.clone();
        match word {
            "subscribe" => self.channels.insert(name),
            "unsubscribe" => self.channels.remove(&name),
            "psubscribe" => self.patterns.insert(name),
            "punsubscribe" => self.patterns.remove(&name),
            _ => false,
        };
        true
    }
}

/// The words redis-cli prints before a subscription's confirmations
/// (cliSendCommand(): SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE enter
/// subscribed mode).
pub fn enters_subscribed_mode(argv: &[String]) -> bool {
    argv.first().is_some_and(|w| {
        ["subscribe", "psubscribe", "ssubscribe"]
            .iter()
            .any(|s| w.eq_ignore_ascii_case(s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::pubsub::{PubSub, PushedMessage};
    use crate::proto::resp::Proto;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    /// A session and a server's registry side by side, RESP2.
    fn both(line: &str, inbox: &mut Inbox, ps: &mut PubSub) -> Vec<Arrival> {
        let a = argv(line);
        inbox.sent(&a);
        let frames = ps.command(1, &a[0].to_ascii_lowercase(), &a[1..]);
        frames
            .into_iter()
            .map(|f| inbox.arrived(f.for_proto(Proto::Resp2)))
            .collect()
    }

    #[test]
    fn a_subscription_reply_is_complete_after_its_last_confirmation() {
        let (mut inbox, mut ps) = (Inbox::default(), PubSub::default());
        let got = both("SUBSCRIBE a b", &mut inbox, &mut ps);
        assert_eq!(got[0], Arrival::Held);
        assert!(matches!(&got[1], Arrival::Reply { frames, .. } if frames.len() == 2));
        assert!(inbox.subscribed());
        both("PSUBSCRIBE *", &mut inbox, &mut ps);
        // A message is a message, whatever waits.
        let m = PushedMessage {
            proto: Proto::Resp2,
            pattern: None,
            channel: "a".into(),
            payload: "hi".into(),
        }
        .frame();
        assert_eq!(inbox.arrived(m.clone()), Arrival::Message(m));
        // UNSUBSCRIBE of every channel: two confirmations, patterns stay.
        let got = both("UNSUBSCRIBE", &mut inbox, &mut ps);
        assert_eq!(got.len(), 2);
        assert!(matches!(&got[1], Arrival::Reply { frames, .. } if frames.len() == 2));
        assert!(inbox.subscribed());
        // Nothing of that kind left: one confirmation with a null name.
        let got = both("UNSUBSCRIBE", &mut inbox, &mut ps);
        assert!(matches!(&got[..], [Arrival::Reply { frames, .. }] if frames.len() == 1));
        let got = both("PUNSUBSCRIBE", &mut inbox, &mut ps);
        assert!(matches!(&got[..], [Arrival::Reply { .. }]));
        assert!(!inbox.subscribed());
    }

    #[test]
    fn an_error_ends_a_line_and_pushes_wait_for_the_reply() {
        let mut inbox = Inbox::default();
        inbox.sent(&argv("SUBSCRIBE a b"));
        let e = Frame::Error("ERR x".into());
        assert!(matches!(inbox.arrived(e), Arrival::Reply { .. }));
        inbox.sent(&argv("GET k"));
        let push = Frame::Push(vec![Frame::bulk("invalidate"), Frame::Null]);
        assert_eq!(inbox.arrived(push.clone()), Arrival::Held);
        assert_eq!(
            inbox.arrived(Frame::Bulk(None)),
            Arrival::Reply {
                pushes: vec![push],
                frames: vec![Frame::Bulk(None)]
            }
        );
        assert_eq!(inbox.arrived(Frame::ok()), Arrival::Dropped);
    }
}
