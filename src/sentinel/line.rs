//! Command lines sent to a Sentinel: looked up in Sentinel's own command
//! table (sentinel.c `sentinelcmds`), so a Redis command gets Sentinel's
//! `unknown command` reply, and answered as RESP.

use crate::proto::command::Table;
use crate::proto::hello;
use crate::proto::pubsub;
use crate::proto::resp::{Frame, Proto};
use crate::proto::{Cmd, Msg, Reply};
use crate::sim::net::ConnId;

use super::pass::Pass;
use super::{Client, SentinelNode};

impl SentinelNode {
    /// The protocol `conn`'s client speaks (RESP2 until `HELLO 3`).
    pub(super) fn proto(&self, conn: ConnId) -> Proto {
        self.state
            .as_ref()
            .and_then(|p| p.clients.get(&conn))
            .map_or(Proto::Resp2, |c| c.resp)
    }

    fn client_mut(&mut self, conn: ConnId) -> Option<&mut Client> {
        self.state.as_mut()?.clients.get_mut(&conn)
    }

    /// `HELLO` on a Sentinel (helloCommand() in sentinel mode): mode
    /// `sentinel` and no role. The Sentinel has no password of its own in
    /// the model, so every client is authenticated.
    fn hello(&mut self, conn: ConnId, argv: &[String]) -> Frame {
        let Some(c) = self.client_mut(conn) else {
            return Frame::ok();
        };
        let mut authenticated = true;
        let done = hello::hello(
            argv,
            None,
            hello::Conn {
                resp: &mut c.resp,
                name: &mut c.name,
                authenticated: &mut authenticated,
            },
        );
        match done {
            Ok(()) => hello::hello_frame(c.resp, c.id, "sentinel", None),
            Err(e) => e,
        }
    }

    /// A command line from a client (processCommand() with Sentinel's
    /// table, then sentinelCommand() and the few others it has).
    pub(super) fn command_line(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        conn: ConnId,
        argv: Vec<String>,
    ) -> Frame {
        let spec = match Table::Sentinel.lookup(&argv) {
            Ok(spec) => spec,
            Err(e) => return Frame::Error(e),
        };
        // processCommand(): a RESP2 client in subscribed mode may send only
        // the pub/sub commands and PING.
        let subscribed = self.subscriptions(conn) > 0 && self.proto(conn) == Proto::Resp2;
        if subscribed && !pubsub::allowed_when_subscribed(spec.name) {
            return Frame::Error(pubsub::pubsub_context_error(spec.name));
        }
        let cmd = match spec.name {
            // pingCommand() in subscribed mode: `pong` and the argument.
            "ping" if subscribed => {
                return Frame::Array(Some(vec![
                    Frame::bulk("pong"),
                    Frame::bulk(argv.get(1).cloned().unwrap_or_default()),
                ]));
            }
            "ping" if argv.len() == 1 => Cmd::Ping,
            "ping" if argv.len() == 2 => return Frame::bulk(argv[1].clone()),
            name @ ("subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe") => {
                return self.subscribe_line(ctx, conn, name, &argv[1..]);
            }
            // sentinelPublishCommand(): hellos only.
            "publish" if argv[1] != super::HELLO_CHANNEL => {
                return Frame::Error(
                    "ERR Only HELLO messages are accepted by Sentinel instances.".into(),
                );
            }
            "publish" => Cmd::Publish {
                channel: argv[1].as_str().into(),
                message: argv[2].clone(),
            },
            "role" => return self.role_frame(),
            "hello" => return self.hello(conn, &argv),
            "client|setname" => {
                let Some(c) = self.client_mut(conn) else {
                    return Frame::ok();
                };
                return match hello::set_name(&mut c.name, &argv[2]) {
                    Ok(()) => Frame::ok(),
                    Err(e) => e,
                };
            }
            // addReplyNull() when unnamed.
            "client|getname" => {
                return Frame::Bulk(self.client_mut(conn).and_then(|c| c.name.clone()));
            }
            "info" => return self.info_frame(ctx, &argv[1..]),
            "sentinel|get-master-addr-by-name" => Cmd::GetMasterAddrByName(argv[2].as_str().into()),
            "sentinel|ckquorum" => return self.ckquorum(&argv[2]),
            "sentinel|failover" => return self.force_failover(ctx, &argv[2]),
            "sentinel|master" => return self.show_master(ctx, &argv[2]),
            "sentinel|masters" => return self.show_masters(ctx),
            "sentinel|replicas" | "sentinel|slaves" => return self.show_replicas(ctx, &argv[2]),
            "sentinel|sentinels" => return self.show_sentinels(ctx, &argv[2]),
            "sentinel|set" => return self.sentinel_set(ctx, &argv),
            "sentinel|reset" => return self.reset_by_pattern(ctx, &argv[2]),
            "sentinel|monitor" => return self.monitor(ctx, &argv),
            "sentinel|remove" => return self.remove(ctx, &argv[2]),
            "sentinel|info-cache" => return self.info_cache(ctx, &argv[2..]),
            "sentinel|config" => return self.sentinel_config(&argv),
            "sentinel|is-master-down-by-addr" => return self.is_master_down_line(ctx, &argv),
            "sentinel|help" => return super::help::help_frame(),
            // Scripts are not run, so none is ever pending.
            "sentinel|pending-scripts" => return Frame::Array(Some(Vec::new())),
            "sentinel|flushconfig" => {
                self.flush_config();
                return Frame::ok();
            }
            "sentinel|myid" => {
                let p = self.state.as_ref().expect("running");
                return Frame::bulk(p.myid.to_string());
            }
            // commandCommand() and its subcommands, over Sentinel's table.
            name if name.split('|').next() == Some("command") => {
                return crate::proto::command::reply::command_frame(Table::Sentinel, &argv);
            }
            name => {
                return Frame::Error(format!(
                    "ERR redsim does not model '{name}' in this form yet"
                ));
            }
        };
        let reply = self.command(ctx, conn, cmd);
        reply
            .to_frame()
            .unwrap_or_else(|| Frame::Error(format!("{reply:?}")))
    }

    /// How many channels and patterns `conn` listens on.
    fn subscriptions(&self, conn: ConnId) -> i64 {
        self.state.as_ref().map_or(0, |p| p.pubsub.count(conn))
    }

    /// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE or PUNSUBSCRIBE on a Sentinel
    /// (pubsub.c, as on a Redis server): each name confirmed in its own
    /// frame; all but the last are sent here, the last is the reply.
    fn subscribe_line(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        conn: ConnId,
        name: &str,
        args: &[String],
    ) -> Frame {
        let proto = self.proto(conn);
        let Some(p) = self.state.as_mut() else {
            return Frame::ok();
        };
        let mut frames = p.pubsub.command(conn, name, args);
        let last = frames.pop().expect("one confirmation at least");
        for frame in frames {
            ctx.send(conn, Msg::Reply(Reply::Frame(frame.for_proto(proto))));
        }
        last
    }

    /// `INFO sentinel` (sentinelInfoCommand() with the one section a
    /// Sentinel adds): the masters count, TILT, and one `masterN:` line per
    /// monitored master. The server sections are not modelled.
    fn info_frame(&self, ctx: &Pass<'_, '_>, sections: &[String]) -> Frame {
        if !matches!(sections, [s] if s.eq_ignore_ascii_case("sentinel")) {
            return Frame::Error(
                "ERR redsim does not model 'info' in this form yet (INFO sentinel is)".into(),
            );
        }
        let p = self.state.as_ref().expect("running");
        let tilt_since = if p.tilt {
            (ctx.mstime() as i64 - p.tilt_start as i64) / 1000
        } else {
            -1
        };
        let mut s = format!(
            "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\n\
             sentinel_tilt_since_seconds:{tilt_since}\r\nsentinel_running_scripts:0\r\n\
             sentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:0\r\n",
            p.masters.len(),
            u8::from(p.tilt),
        );
        for (i, m) in p.masters.iter().enumerate() {
            s.push_str(&super::master_info_line(i, m));
        }
        Frame::bulk(s)
    }

    /// `ROLE` on a Sentinel: `sentinel` and the names of the masters it
    /// monitors (sentinel.c `sentinelRoleCommand()`).
    fn role_frame(&self) -> Frame {
        let p = self.state.as_ref().expect("running");
        let names = p
            .masters
            .iter()
            .map(|m| Frame::bulk(m.inst.name.to_string()))
            .collect();
        Frame::Array(Some(vec![
            Frame::bulk("sentinel"),
            Frame::Array(Some(names)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use crate::proto::resp::{Frame, split_args};
    use crate::proto::{Cmd, Msg, Reply};
    use crate::sentinel::SentinelNode;
    use crate::sentinel::testing::{Peer, sentinel};
    use crate::sim::WireSize as _;
    use crate::sim::testkit::Harness;
    use crate::time::ms;

    const CLIENT: crate::sim::net::NodeId = 2;

    /// The reply to `line` from a client (node 2) on its one connection,
    /// as it goes on the wire, checked against its simulated size.
    fn send(h: &mut Harness<SentinelNode>, line: &str) -> Frame {
        let conn = match h.probe(CLIENT).conn_with(0) {
            Some(c) => c,
            None => h.connect(CLIENT, 0),
        };
        let argv = split_args(line).expect("balanced");
        h.send(CLIENT, conn, Msg::Cmd(Cmd::Line(argv)));
        let msg = h.probe(CLIENT).received().last().cloned().expect("a reply");
        let size = msg.wire_size();
        let Msg::Reply(Reply::Frame(f)) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(size, f.encode().len() as u64, "{line}");
        f
    }

    // sentinelPublishCommand() and the pub/sub commands on a Sentinel.
    #[test]
    fn a_sentinel_takes_subscriptions_and_only_hellos_published() {
        let mut h = sentinel(1, vec![Peer::Master(vec![]), Peer::Client]);
        h.run_until(ms(1000));
        assert_eq!(
            send(&mut h, "PUBLISH news x"),
            Frame::Error("ERR Only HELLO messages are accepted by Sentinel instances.".into())
        );
        assert_eq!(
            send(&mut h, "PSUBSCRIBE *").encode(),
            b"*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n"
        );
        // Subscribed (RESP2): only the pub/sub commands and PING.
        assert_eq!(
            send(&mut h, "SENTINEL MASTERS"),
            Frame::Error("ERR Can't execute 'sentinel|masters': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context".into())
        );
        assert_eq!(
            send(&mut h, "PING"),
            Frame::Array(Some(vec![Frame::bulk("pong"), Frame::bulk("")]))
        );
    }

    // Bytes read off a real Sentinel 7.0.15 (ids aside: the first client
    // of a fresh one is 3 there and here).
    // sentinelConfigSetCommand(): announce-ip and announce-port are kept
    // and shown; a port out of range is refused.
    #[test]
    fn a_sentinel_keeps_its_announced_address() {
        let mut h = sentinel(1, vec![Peer::Master(vec![]), Peer::Client]);
        h.run_until(ms(1000));
        assert_eq!(
            send(&mut h, "SENTINEL CONFIG SET announce-ip 127.0.0.1"),
            Frame::ok()
        );
        assert_eq!(
            send(&mut h, "SENTINEL CONFIG SET announce-port 7100"),
            Frame::ok()
        );
        assert_eq!(
            send(&mut h, "SENTINEL CONFIG SET announce-port 70000"),
            Frame::Error("ERR Invalid value '70000' to SENTINEL CONFIG SET 'announce-port'".into())
        );
        assert_eq!(
            send(&mut h, "SENTINEL CONFIG GET announce-*").encode(),
            b"*6\r\n$18\r\nannounce-hostnames\r\n$2\r\nno\r\n$11\r\nannounce-ip\r\n\
              $9\r\n127.0.0.1\r\n$13\r\nannounce-port\r\n$4\r\n7100\r\n"
        );
        // An empty address clears it.
        assert_eq!(
            send(&mut h, "SENTINEL CONFIG SET announce-ip \"\""),
            Frame::ok()
        );
        assert_eq!(
            send(&mut h, "SENTINEL CONFIG GET announce-ip").encode(),
            b"*2\r\n$11\r\nannounce-ip\r\n$0\r\n\r\n"
        );
    }

    #[test]
    fn hello_3_on_a_sentinel() {
        let mut h = sentinel(1, vec![Peer::Master(vec![]), Peer::Client]);
        h.run_until(ms(1000));
        assert_eq!(send(&mut h, "CLIENT GETNAME").encode(), b"$-1\r\n");
        let hello = send(&mut h, "HELLO 3 SETNAME x").encode();
        assert_eq!(
            hello,
            b"%6\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
              $5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$8\r\nsentinel\r\n\
              $7\r\nmodules\r\n*0\r\n"
        );
        assert_eq!(send(&mut h, "CLIENT GETNAME").encode(), b"$1\r\nx\r\n");
        assert_eq!(
            send(&mut h, "SENTINEL GET-MASTER-ADDR-BY-NAME nosuch").encode(),
            b"_\r\n"
        );
        assert_eq!(
            send(&mut h, "SENTINEL CONFIG GET announce-*").encode(),
            b"%3\r\n$18\r\nannounce-hostnames\r\n$2\r\nno\r\n$11\r\nannounce-ip\r\n$0\r\n\r\n\
              $13\r\nannounce-port\r\n$1\r\n0\r\n"
        );
        let Frame::Map(fields) = send(&mut h, "SENTINEL MASTER mymaster") else {
            panic!("a map")
        };
        assert_eq!(fields[0], (Frame::bulk("name"), Frame::bulk("mymaster")));
        // INFO is a plain bulk string on a Sentinel (addReplyBulkSds()).
        assert!(matches!(
            send(&mut h, "INFO sentinel"),
            Frame::Bulk(Some(_))
        ));
        let back = send(&mut h, "HELLO 2");
        assert_eq!(back.wire_len(), 121);
        assert!(matches!(
            send(&mut h, "SENTINEL MASTER mymaster"),
            Frame::Array(Some(items)) if items.len() % 2 == 0 && items[0] == Frame::bulk("name")
        ));
        assert_eq!(
            send(&mut h, "HELLO 3 AUTH nobody x"),
            Frame::Error("WRONGPASS invalid username-password pair or user is disabled.".into())
        );
    }
}
