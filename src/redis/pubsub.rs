//! Pub/Sub on one node: SUBSCRIBE and the local delivery of PUBLISH
//! (pubsub.c: pubsubSubscribeChannel(), pubsubPublishMessage(),
//! pubsubUnsubscribeAllChannels()). Sentinels subscribe to
//! `__sentinel__:hello` on masters and replicas and learn about each other
//! from the hellos published there.

use compact_str::CompactString;

use crate::proto::{Ctx, Msg, Reply};
use crate::sim::net::ConnId;

use super::Server;

/// The error a RESP2 connection in subscribed mode gets for other commands.
pub fn pubsub_context_error(cmd: &str) -> String {
    format!(
        "ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )
}

impl Server {
    /// `SUBSCRIBE <channel>`: the connection joins the end of the channel's
    /// subscriber list, once.
    pub(super) fn subscribe(&mut self, conn: ConnId, channel: CompactString) -> Reply {
        let client = self.clients.get_mut(&conn).expect("a client");
        if !client.channels.contains(&channel) {
            client.channels.push(channel.clone());
            self.pubsub_channels.entry(channel).or_default().push(conn);
        }
        Reply::Subscribed
    }

    /// Pushes a message to the channel's subscribers on this node, in
    /// subscription order; returns how many received it.
    pub(super) fn deliver(&self, ctx: &mut Ctx<'_>, channel: &CompactString, payload: &str) -> i64 {
        let Some(subscribers) = self.pubsub_channels.get(channel) else {
            return 0;
        };
        for &conn in subscribers {
            let msg = Msg::Message {
                channel: channel.clone(),
                payload: payload.to_string(),
            };
            ctx.send(conn, msg);
        }
        subscribers.len() as i64
    }

    /// `dictSize(server.pubsub_channels)`: channels with a subscriber.
    pub(super) fn pubsub_channel_count(&self) -> usize {
        self.pubsub_channels.len()
    }

    /// A subscriber went away: it leaves every channel it joined, and a
    /// channel left without subscribers is forgotten.
    pub(super) fn unsubscribe_all(&mut self, conn: ConnId, channels: &[CompactString]) {
        for channel in channels {
            if let Some(subs) = self.pubsub_channels.get_mut(channel) {
                subs.retain(|&c| c != conn);
                if subs.is_empty() {
                    self.pubsub_channels.remove(channel);
                }
            }
        }
    }
}
