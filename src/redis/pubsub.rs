//! Pub/Sub on one Redis node (pubsub.c): SUBSCRIBE, UNSUBSCRIBE,
//! PSUBSCRIBE, PUNSUBSCRIBE and PUBSUB typed by a client, and the local
//! delivery of PUBLISH. Sentinels subscribe to `__sentinel__:hello` on
//! masters and replicas and learn about each other from the hellos
//! published there. The subscriptions themselves are
//! [`crate::proto::pubsub::PubSub`], which Sentinels use too.

use crate::proto::pubsub::Kind;
use crate::proto::resp::{Frame, Proto};
use crate::proto::{Ctx, Msg, Reply};
use crate::sim::net::ConnId;

use super::Server;

/// pubsubCommand()'s help, as `PUBSUB HELP` prints it (addReplyHelp()).
const PUBSUB_HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

impl Server {
    /// Sentinel's typed `SUBSCRIBE <channel>`: confirmed in the
    /// connection's protocol.
    pub(super) fn subscribe(&mut self, conn: ConnId, channel: &str) -> Reply {
        let frame = self.pubsub.subscribe(conn, Kind::Channel, channel);
        Reply::Written(frame.for_proto(self.proto(conn)))
    }

    /// A typed SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE or PUNSUBSCRIBE
    /// (subscribeCommand() …): one confirmation per name, each its own
    /// frame on the wire. All but the last leave here; the last is the
    /// command's reply.
    pub(super) fn subscribe_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        conn: ConnId,
        name: &str,
        args: &[String],
    ) -> Reply {
        let mut frames = self.pubsub.command(conn, name, args);
        let proto = self.proto(conn);
        let last = frames.pop().expect("one confirmation at least");
        for frame in frames {
            let reply = Reply::Frame(frame.for_proto(proto));
            self.client_wrote(conn, &reply);
            ctx.send(conn, Msg::Reply(reply));
        }
        Reply::Written(last.for_proto(proto))
    }

    /// `PUBSUB CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP`
    /// (pubsubCommand()). Shard channels are not modelled, so none is
    /// active.
    pub(super) fn pubsub_command(&self, argv: &[String]) -> Reply {
        let sub = argv[1].to_ascii_lowercase();
        let args = &argv[2..];
        let frame = match sub.as_str() {
            "help" => {
                let header = format!(
                    "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    argv[0].to_ascii_uppercase()
                );
                let lines = std::iter::once(header)
                    .chain(PUBSUB_HELP.iter().map(|l| (*l).to_string()))
                    .map(Frame::Simple);
                Frame::Array(Some(lines.collect()))
            }
            "channels" if args.len() <= 1 => Frame::Array(Some(
                self.pubsub
                    .channel_names(args.first().map(String::as_str))
                    .into_iter()
                    .map(Frame::bulk)
                    .collect(),
            )),
            "shardchannels" if args.len() <= 1 => Frame::Array(Some(Vec::new())),
            "numsub" | "shardnumsub" => Frame::Array(Some(
                args.iter()
                    .flat_map(|ch| {
                        let n = match sub.as_str() {
                            "numsub" => self.pubsub.subscribers(ch),
                            _ => 0,
                        };
                        [Frame::bulk(ch.clone()), Frame::Int(n as i64)]
                    })
                    .collect(),
            )),
            "numpat" => Frame::Int(self.pubsub.pattern_count() as i64),
            // addReplySubcommandSyntaxError(): the subcommand as typed.
            _ => Frame::Error(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
                argv[1],
                argv[0].to_ascii_uppercase()
            )),
        };
        Reply::Frame(frame)
    }

    /// `PING` from a RESP2 client in subscribed mode: `pong` and the
    /// argument (or an empty string) as an array (pingCommand()).
    pub(super) fn subscribed_ping(&self, conn: ConnId, arg: Option<&str>) -> Option<Reply> {
        if self.pubsub.count(conn) == 0 || self.proto(conn) != Proto::Resp2 {
            return None;
        }
        Some(Reply::Frame(Frame::Array(Some(vec![
            Frame::bulk("pong"),
            Frame::bulk(arg.unwrap_or("")),
        ]))))
    }

    /// Pushes a message to the channel's subscribers on this node, and a
    /// `pmessage` to each subscriber of a matching pattern, each in its
    /// connection's protocol; returns how many received it.
    pub(super) fn deliver(&mut self, ctx: &mut Ctx<'_>, channel: &str, payload: &str) -> i64 {
        if !self.pubsub.has_receivers(channel) {
            return 0;
        }
        let out = self.pubsub.publish(channel, payload, |c| {
            self.clients.get(&c).map_or(Proto::Resp2, |c| c.resp)
        });
        let receivers = out.len() as i64;
        for (conn, message) in out {
            let reply = Reply::Message(Box::new(message));
            self.client_wrote(conn, &reply);
            ctx.send(conn, Msg::Reply(reply));
        }
        receivers
    }
}

#[cfg(test)]
mod tests {
    use crate::proto::resp::Frame;
    use crate::redis::config::RedisConfig;
    use crate::redis::testing::Cli;

    // Texts read off a real 7.0.15.
    #[test]
    fn pubsub_subcommand_errors_name_what_was_typed() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            cli.reply("pubsub channels a b"),
            Frame::Error(
                "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP."
                    .into()
            )
        );
        assert_eq!(cli.reply("PUBSUB NUMPAT"), Frame::Int(0));
        let Frame::Array(Some(help)) = cli.reply("pubsub help") else {
            panic!("an array")
        };
        assert_eq!(
            help[0],
            Frame::Simple("PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
        );
        assert_eq!(help.len(), 14);
    }
}
