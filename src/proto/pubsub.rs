//! Pub/Sub subscriptions of one process, Redis server or Sentinel alike
//! (pubsub.c): who listens on which channel and pattern, the confirmations
//! SUBSCRIBE and its siblings reply, and the messages a PUBLISH pushes.
//!
//! Frames are built in RESP3 terms (a push); [`Frame::for_proto`] makes
//! each an array of the same length for a RESP2 connection, as
//! addReplyPubsub*() writes `*3` or `>3`.
//!
//! Redis keeps the server's channels and patterns in dicts, so PUBLISH
//! visits patterns, and UNSUBSCRIBE without arguments visits a client's
//! channels, in hash order. Here both follow the order of subscription:
//! the same set of frames, in an order that does not depend on a hash seed.

use std::rc::Rc;

use compact_str::CompactString;
use indexmap::IndexMap;

use crate::sim::net::ConnId;

use super::resp::{Frame, Proto};
use super::util::stringmatch;

/// The error a RESP2 connection in subscribed mode gets for other commands.
pub fn pubsub_context_error(cmd: &str) -> String {
    format!(
        "ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )
}

/// processCommand(): the commands a RESP2 client in subscribed mode may
/// still send (besides PING, a typed command of its own).
pub fn allowed_when_subscribed(full_name: &str) -> bool {
    matches!(
        full_name,
        "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// One client's subscriptions: `client->pubsub_channels` and
/// `client->pubsub_patterns`, in the order they were made.
#[derive(Clone, Debug, Default)]
struct Subs {
    channels: Vec<CompactString>,
    patterns: Vec<CompactString>,
}

impl Subs {
    /// clientSubscriptionsCount(): channels and patterns.
    fn count(&self) -> i64 {
        (self.channels.len() + self.patterns.len()) as i64
    }
}

/// Which of the two kinds a (un)subscription is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
}

impl Kind {
    fn word(self, subscribe: bool) -> &'static str {
        match (self, subscribe) {
            (Kind::Channel, true) => "subscribe",
            (Kind::Channel, false) => "unsubscribe",
            (Kind::Pattern, true) => "psubscribe",
            (Kind::Pattern, false) => "punsubscribe",
        }
    }
}

/// Every subscription on one process.
#[derive(Clone, Debug, Default)]
pub struct PubSub {
    /// `server.pubsub_channels`: each channel's subscribers, in order.
    channels: IndexMap<CompactString, Vec<ConnId>>,
    /// `server.pubsub_patterns`: each pattern's subscribers, in order.
    patterns: IndexMap<CompactString, Vec<ConnId>>,
    clients: IndexMap<ConnId, Subs>,
}

/// A confirmation: `subscribe <channel> <count>` and its siblings
/// (addReplyPubsubSubscribed() …), null for an UNSUBSCRIBE of nothing.
fn confirmation(word: &str, name: Option<&CompactString>, count: i64) -> Frame {
    Frame::Push(vec![
        Frame::bulk(word),
        name.map_or(Frame::Null, |n| Frame::bulk(n.to_string())),
        Frame::Int(count),
    ])
}

impl PubSub {
    /// How many channels and patterns `conn` listens on; non-zero makes it
    /// a pub/sub client (`CLIENT_PUBSUB`).
    pub fn count(&self, conn: ConnId) -> i64 {
        self.clients.get(&conn).map_or(0, Subs::count)
    }

    /// CLIENT LIST's `sub=` and `psub=`.
    pub fn counts(&self, conn: ConnId) -> (usize, usize) {
        self.clients
            .get(&conn)
            .map_or((0, 0), |s| (s.channels.len(), s.patterns.len()))
    }

    /// pubsubSubscribeChannel() / pubsubSubscribePattern(): joins the end
    /// of the subscriber list once, and confirms either way.
    pub fn subscribe(&mut self, conn: ConnId, kind: Kind, name: &str) -> Frame {
        let name = CompactString::from(name);
        let subs = self.clients.entry(conn).or_default();
        let (mine, server) = match kind {
            Kind::Channel => (&mut subs.channels, &mut self.channels),
            Kind::Pattern => (&mut subs.patterns, &mut self.patterns),
        };
        if !mine.contains(&name) {
            mine.push(name.clone());
            server.entry(name.clone()).or_default().push(conn);
        }
        confirmation(kind.word(true), Some(&name), subs.count())
    }

    /// pubsubUnsubscribeChannel() / pubsubUnsubscribePattern(): leaves if
    /// subscribed, and confirms either way.
    pub fn unsubscribe(&mut self, conn: ConnId, kind: Kind, name: &str) -> Frame {
        let name = CompactString::from(name);
        self.leave(conn, kind, &name);
        confirmation(kind.word(false), Some(&name), self.count(conn))
    }

    /// UNSUBSCRIBE or PUNSUBSCRIBE without arguments
    /// (pubsubUnsubscribeAllChannels(), pubsubUnsubscribeAllPatterns()):
    /// one confirmation per subscription left, or one with a null name
    /// when there was none.
    pub fn unsubscribe_all(&mut self, conn: ConnId, kind: Kind) -> Vec<Frame> {
        let names = match (self.clients.get(&conn), kind) {
            (Some(s), Kind::Channel) => s.channels.clone(),
            (Some(s), Kind::Pattern) => s.patterns.clone(),
            (None, _) => Vec::new(),
        };
        if names.is_empty() {
            return vec![confirmation(kind.word(false), None, self.count(conn))];
        }
        names
            .iter()
            .map(|name| {
                self.leave(conn, kind, name);
                confirmation(kind.word(false), Some(name), self.count(conn))
            })
            .collect()
    }

    fn leave(&mut self, conn: ConnId, kind: Kind, name: &CompactString) {
        let Some(subs) = self.clients.get_mut(&conn) else {
            return;
        };
        let (mine, server) = match kind {
            Kind::Channel => (&mut subs.channels, &mut self.channels),
            Kind::Pattern => (&mut subs.patterns, &mut self.patterns),
        };
        let Some(i) = mine.iter().position(|n| n == name) else {
            return;
        };
        mine.remove(i);
        if let Some(list) = server.get_mut(name) {
            list.retain(|&c| c != conn);
            if list.is_empty() {
                server.shift_remove(name);
            }
        }
        if subs.count() == 0 {
            self.clients.shift_remove(&conn);
        }
    }

    /// A typed SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE or PUNSUBSCRIBE
    /// (subscribeCommand() and its siblings), `name` in lower case: one
    /// confirmation per name given, each its own frame on the wire; the
    /// two UNSUBSCRIBEs without a name leave everything of their kind.
    pub fn command(&mut self, conn: ConnId, name: &str, args: &[String]) -> Vec<Frame> {
        let (kind, subscribe) = match name {
            "subscribe" => (Kind::Channel, true),
            "unsubscribe" => (Kind::Channel, false),
            "psubscribe" => (Kind::Pattern, true),
            _ => (Kind::Pattern, false),
        };
        if args.is_empty() {
            // The table's arity (-2) keeps the SUBSCRIBEs from here.
            return self.unsubscribe_all(conn, kind);
        }
        args.iter()
            .map(|a| match subscribe {
                true => self.subscribe(conn, kind, a),
                false => self.unsubscribe(conn, kind, a),
            })
            .collect()
    }

    /// The client is freed (freeClient()): it leaves everything, silently.
    pub fn forget(&mut self, conn: ConnId) {
        let Some(subs) = self.clients.get(&conn).cloned() else {
            return;
        };
        for name in &subs.channels {
            self.leave(conn, Kind::Channel, name);
        }
        for name in &subs.patterns {
            self.leave(conn, Kind::Pattern, name);
        }
    }

    /// pubsubPublishMessage(): the message for each subscriber of the
    /// channel, then a `pmessage` for each subscriber of each matching
    /// pattern, each in the protocol `proto` says its connection speaks.
    /// Its length is PUBLISH's reply.
    pub fn publish(
        &self,
        channel: &str,
        message: &str,
        proto: impl Fn(ConnId) -> Proto,
    ) -> Vec<(ConnId, PushedMessage)> {
        let mut out = Vec::new();
        let channel = CompactString::from(channel);
        let payload: Rc<str> = Rc::from(message);
        let mut push = |conn: ConnId, pattern: Option<&CompactString>| {
            out.push((
                conn,
                PushedMessage {
                    proto: proto(conn),
                    pattern: pattern.cloned(),
                    channel: channel.clone(),
                    payload: payload.clone(),
                },
            ));
        };
        if let Some(list) = self.channels.get(channel.as_str()) {
            for &conn in list {
                push(conn, None);
            }
        }
        for (pattern, list) in &self.patterns {
            if !stringmatch(pattern, &channel, false) {
                continue;
            }
            for &conn in list {
                push(conn, Some(pattern));
            }
        }
        out
    }

    /// Whether anyone would receive a message on `channel`.
    pub fn has_receivers(&self, channel: &str) -> bool {
        self.channels.contains_key(channel)
            || self.patterns.keys().any(|p| stringmatch(p, channel, false))
    }

    /// `dictSize(server.pubsub_channels)`: channels with a subscriber.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// `dictSize(server.pubsub_patterns)`: PUBSUB NUMPAT.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// PUBSUB CHANNELS [pattern] (channelList()).
    pub fn channel_names(&self, pattern: Option<&str>) -> Vec<String> {
        self.channels
            .keys()
            .filter(|c| pattern.is_none_or(|p| stringmatch(p, c, false)))
            .map(|c| c.to_string())
            .collect()
    }

    /// PUBSUB NUMSUB's count for one channel.
    pub fn subscribers(&self, channel: &str) -> usize {
        self.channels.get(channel).map_or(0, Vec::len)
    }
}

/// A message on its way to one subscriber: addReplyPubsubMessage()'s
/// `message <channel> <payload>`, or addReplyPubsubPatMessage()'s
/// `pmessage <pattern> <channel> <payload>`, in the subscriber's protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct PushedMessage {
    pub proto: Proto,
    pub pattern: Option<CompactString>,
    pub channel: CompactString,
    pub payload: Rc<str>,
}

impl PushedMessage {
    /// The frame as it goes on the wire (`>3`/`>4` in RESP3, `*3`/`*4` in
    /// RESP2).
    pub fn frame(&self) -> Frame {
        let mut items = Vec::with_capacity(4);
        match &self.pattern {
            None => items.push(Frame::bulk("message")),
            Some(p) => {
                items.push(Frame::bulk("pmessage"));
                items.push(Frame::bulk(p.to_string()));
            }
        }
        items.push(Frame::bulk(self.channel.to_string()));
        items.push(Frame::bulk(self.payload.to_string()));
        Frame::Push(items).for_proto(self.proto)
    }

    /// The frame's length in bytes, without building it.
    pub fn wire_len(&self) -> u64 {
        let bulk = |n: usize| (5 + super::decimal_len_u64(n as u64) + n) as u64;
        match &self.pattern {
            None => 4 + bulk(7) + bulk(self.channel.len()) + bulk(self.payload.len()),
            Some(p) => {
                4 + bulk(8) + bulk(p.len()) + bulk(self.channel.len()) + bulk(self.payload.len())
            }
        }
    }
}

/// The channel and payload of a `message` (a push in RESP3, an array in
/// RESP2): what a subscriber that follows one channel reads.
pub fn read_message(frame: &Frame) -> Option<(&str, &str)> {
    let items = match frame {
        Frame::Push(items) | Frame::Array(Some(items)) => items,
        _ => return None,
    };
    match items.as_slice() {
        [
            Frame::Bulk(Some(kind)),
            Frame::Bulk(Some(ch)),
            Frame::Bulk(Some(m)),
        ] if kind == "message" => Some((ch, m)),
        [
            Frame::Bulk(Some(kind)),
            _,
            Frame::Bulk(Some(ch)),
            Frame::Bulk(Some(m)),
        ] if kind == "pmessage" => Some((ch, m)),
        _ => None,
    }
}

/// The first word of a pub/sub frame (`message`, `subscribe` …), if the
/// frame is one: a client in subscribed mode tells pushed messages from
/// confirmations by it.
pub fn frame_word(frame: &Frame) -> Option<&str> {
    let items = match frame {
        Frame::Push(items) | Frame::Array(Some(items)) => items,
        _ => return None,
    };
    match items.first() {
        Some(Frame::Bulk(Some(w)))
            if matches!(
                w.as_str(),
                "message"
                    | "pmessage"
                    | "smessage"
                    | "subscribe"
                    | "psubscribe"
                    | "ssubscribe"
                    | "unsubscribe"
                    | "punsubscribe"
                    | "sunsubscribe"
            ) =>
        {
            Some(w)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::resp::Proto;

    fn text(f: &Frame) -> String {
        String::from_utf8(f.clone().for_proto(Proto::Resp2).encode()).unwrap()
    }

    // Confirmations as a real 7.0.15 writes them to a RESP2 client.
    #[test]
    fn confirmations_count_channels_and_patterns() {
        let mut ps = PubSub::default();
        let a = 1;
        assert_eq!(
            text(&ps.subscribe(a, Kind::Channel, "news")),
            "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
        );
        // Twice is once, but confirmed again.
        assert_eq!(
            text(&ps.subscribe(a, Kind::Channel, "news")),
            "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
        );
        assert_eq!(
            text(&ps.subscribe(a, Kind::Pattern, "n*")),
            "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:2\r\n"
        );
        assert_eq!(ps.count(a), 2);
        // Unsubscribing from what was never subscribed still confirms.
        assert_eq!(
            text(&ps.unsubscribe(a, Kind::Channel, "other")),
            "*3\r\n$11\r\nunsubscribe\r\n$5\r\nother\r\n:2\r\n"
        );
        let all = ps.unsubscribe_all(a, Kind::Channel);
        assert_eq!(all.len(), 1);
        assert_eq!(
            text(&all[0]),
            "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n"
        );
        // Nothing left of that kind: one confirmation with a null name.
        let none = ps.unsubscribe_all(a, Kind::Channel);
        assert_eq!(text(&none[0]), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:1\r\n");
        assert_eq!(
            String::from_utf8(none[0].clone().for_proto(Proto::Resp3).encode()).unwrap(),
            ">3\r\n$11\r\nunsubscribe\r\n_\r\n:1\r\n"
        );
    }

    #[test]
    fn publish_reaches_channel_then_pattern_subscribers() {
        let mut ps = PubSub::default();
        let (a, b, c) = (1, 2, 3);
        ps.subscribe(b, Kind::Pattern, "+*");
        ps.subscribe(a, Kind::Channel, "+sdown");
        ps.subscribe(c, Kind::Pattern, "*");
        ps.subscribe(c, Kind::Channel, "+odown");
        let resp2 = |_| Proto::Resp2;
        let out = ps.publish("+sdown", "master m 10.0.0.1 6379", resp2);
        let to: Vec<ConnId> = out.iter().map(|(c, _)| *c).collect();
        assert_eq!(to, [a, b, c]);
        let frames: Vec<Frame> = out.iter().map(|(_, m)| m.frame()).collect();
        assert_eq!(
            text(&frames[1]),
            "*4\r\n$8\r\npmessage\r\n$2\r\n+*\r\n$6\r\n+sdown\r\n$22\r\nmaster m 10.0.0.1 6379\r\n"
        );
        for ((_, m), f) in out.iter().zip(&frames) {
            assert_eq!(m.wire_len(), f.encode().len() as u64);
            assert_eq!(read_message(f), Some(("+sdown", "master m 10.0.0.1 6379")));
        }
        let resp3 = ps.publish("+sdown", "x", |_| Proto::Resp3);
        let pushed = resp3[0].1.frame().encode();
        assert_eq!(pushed[0], b'>');
        assert_eq!(resp3[0].1.wire_len(), pushed.len() as u64);
        assert!(
            ps.publish("-sdown", "x", resp2)
                .iter()
                .all(|(c, _)| *c != a)
        );
        ps.forget(c);
        assert_eq!(ps.pattern_count(), 1);
        assert_eq!(ps.channel_names(None), ["+sdown"]);
        assert_eq!(ps.count(c), 0);
        assert!(!ps.has_receivers("zzz"));
        assert!(ps.has_receivers("+zzz"));
    }
}
