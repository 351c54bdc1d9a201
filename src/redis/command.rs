//! Command lines from operators: looked up in Redis's command table,
//! parsed into the commands the model runs, and answered as RESP. The
//! commands themselves run in [`Server::process_command`], the same path a
//! workload's commands take.

use crate::proto::command::{CommandSpec, Table};
use crate::proto::keyspace::ERR_NOT_INTEGER;
use crate::proto::resp::{Frame, Proto};
use crate::proto::{Cmd, Ctx, Reply, Value};
use crate::sim::net::ConnId;

use super::replica::LinkState;
use super::{Host, Server};

impl Server {
    /// A command line a client sent (processCommand(): the table look-up
    /// and arity check, then the command as any other).
    pub(super) fn command_line(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        argv: Vec<String>,
    ) -> Option<Reply> {
        let in_multi = self.clients.get(&conn).is_some_and(|c| c.multi.is_some());
        let spec = match Table::Redis.lookup(&argv) {
            Ok(spec) => spec,
            Err(e) => {
                // An unknown command or a wrong arity aborts a transaction.
                self.flag_transaction(conn);
                return Some(Reply::Frame(Frame::Error(e)));
            }
        };
        // CMD_PROTECTED (processCommand(), right after the arity check):
        // DEBUG needs enable-debug-command; simulated clients are never on
        // a local connection.
        if spec.name == "debug"
            && self.cfg.enable_debug_command != super::config::ProtectedAction::Yes
        {
            self.flag_transaction(conn);
            return Some(Reply::Frame(Frame::Error(
                "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.".into(),
            )));
        }
        if in_multi && spec.flags.contains(crate::proto::command::Flags::NO_MULTI) {
            self.flag_transaction(conn);
            return Some(Reply::Frame(Frame::Error(
                "ERR Command not allowed inside a transaction".into(),
            )));
        }
        let cmd = match parse(spec, &argv) {
            Ok(cmd) => cmd,
            Err(e) if in_multi && !e.starts_with("ERR redsim") => {
                // The command's own function refuses its arguments at EXEC.
                if let Some(m) = self.clients.get_mut(&conn).and_then(|c| c.multi.as_mut()) {
                    m.queue_error(e);
                    m.queued_line(&argv);
                }
                return Some(Reply::Frame(Frame::Simple("QUEUED".into())));
            }
            Err(e) => return Some(Reply::Frame(Frame::Error(e))),
        };
        let role = matches!(cmd, Cmd::Role);
        let held = self.paused_writes.len();
        let Some(reply) = self.process_command(ctx, host, conn, cmd) else {
            if self.paused_writes.len() > held {
                // Postponed by a pause: answered as a line when served.
                self.paused_writes.last_mut().expect("pushed").2 = true;
            }
            return None;
        };
        if in_multi
            && matches!(&reply, Reply::Frame(Frame::Simple(q)) if q == "QUEUED")
            && let Some(m) = self.clients.get_mut(&conn).and_then(|c| c.multi.as_mut())
        {
            m.queued_line(&argv);
        }
        Some(self.line_reply(conn, role, reply))
    }

    /// A reply to a command line on `conn`, as that connection's protocol
    /// (RESP2, or RESP3 after `HELLO 3`) puts it on the wire.
    pub(super) fn line_reply(&self, conn: ConnId, role: bool, reply: Reply) -> Reply {
        let frame = match reply {
            Reply::Role(_) if role => self.role_frame(),
            // EXEC's array: each reply already in the protocol its command
            // ran under (a HELLO inside the transaction switches it).
            Reply::Written(f) => return Reply::Frame(f),
            r => r
                .to_frame()
                .unwrap_or_else(|| Frame::Error(format!("{r:?}"))),
        };
        Reply::Frame(frame.for_proto(self.proto(conn)))
    }

    /// The protocol `conn` speaks (`client->resp`).
    pub(super) fn proto(&self, conn: ConnId) -> Proto {
        self.clients.get(&conn).map_or(Proto::Resp2, |c| c.resp)
    }

    /// `ROLE` (replication.c roleCommand()).
    fn role_frame(&self) -> Frame {
        let Some(side) = &self.replica else {
            let replicas = self
                .replicas
                .iter()
                .map(|r| {
                    Frame::Array(Some(vec![
                        Frame::bulk(r.ip.clone()),
                        Frame::bulk(r.port.to_string()),
                        Frame::bulk(r.ack_off.to_string()),
                    ]))
                })
                .collect();
            return Frame::Array(Some(vec![
                Frame::bulk("master"),
                Frame::Int(self.master_repl_offset as i64),
                Frame::Array(Some(replicas)),
            ]));
        };
        let state = match side.state {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
            _ => "handshake",
        };
        let offset = if side.state == LinkState::Connected {
            self.master_repl_offset as i64
        } else {
            -1
        };
        Frame::Array(Some(vec![
            Frame::bulk("slave"),
            Frame::bulk(side.master_host.to_string()),
            Frame::Int(i64::from(side.master_port)),
            Frame::bulk(state),
            Frame::Int(offset),
        ]))
    }

    /// `REPLICAOF host port | NO ONE` (replication.c replicaofCommand()).
    pub(super) fn replicaof_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        (ip, port): (&str, &str),
    ) -> Reply {
        if self.cluster.is_some() {
            return Reply::Error("ERR REPLICAOF not allowed in cluster mode.".into());
        }
        if self.failover.active() {
            return Reply::Error("ERR REPLICAOF not allowed while failing over.".into());
        }
        let by = self.client_info(host.dir, ctx.id(), conn, "replicaof");
        if ip.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
            self.replicaof_no_one(ctx, host, &by);
            return Reply::Ok;
        }
        // A replica's own link never gets here ("Command is not valid when
        // client is a replica"): its commands are replication traffic.
        let port = match port.parse::<i64>() {
            Ok(p) if (0..=65535).contains(&p) => p as u16,
            _ => return Reply::Error("ERR Invalid master port".into()),
        };
        let Some(master) = host.dir.lookup(ip, port) else {
            // Only simulated processes can be replicated from.
            return Reply::Error(format!(
                "ERR redsim: no simulated instance listens at {ip}:{port}"
            ));
        };
        let already = self
            .replica
            .as_ref()
            .is_some_and(|s| s.master_host.eq_ignore_ascii_case(ip) && s.master_port == port);
        // Logs that nothing is done when already attached.
        self.replicaof(ctx, master, (ip, port), &by);
        if already {
            return Reply::Frame(Frame::Simple(
                "OK Already connected to specified master".into(),
            ));
        }
        Reply::Ok
    }

    /// `INFO <section> …`: the sections the model keeps, in the order
    /// asked; a section it does not know is left out, as Redis leaves out
    /// one it has not got.
    pub(super) fn info_sections(&self, now: u64, loading: bool, sections: &[String]) -> String {
        let mut parts = Vec::new();
        for s in sections {
            match s.to_ascii_lowercase().as_str() {
                "server" => parts.push(super::info::server(self, now)),
                "replication" => parts.push(super::info::replication(self, now)),
                "stats" => parts.push(super::stats::section(self)),
                "keyspace" => parts.push(super::stats::keyspace(self)),
                "persistence" => parts.push(super::stats::persistence(self, loading)),
                "cluster" => parts.push(format!(
                    "# Cluster\r\ncluster_enabled:{}\r\n",
                    u8::from(self.cluster.is_some())
                )),
                "default" | "all" | "everything" => {
                    parts.push(super::info::full(self, now));
                }
                _ => {}
            }
        }
        parts.join("\r\n")
    }
}

/// The command a looked-up line asks for, with its arguments checked as
/// the command's own function checks them.
fn parse(spec: &'static CommandSpec, argv: &[String]) -> Result<Cmd, String> {
    let arg = |i: usize| argv[i].clone();
    let key = |i: usize| argv[i].as_str().into();
    Ok(match spec.name {
        "ping" if argv.len() == 1 => Cmd::Ping,
        "ping" if argv.len() == 2 => Cmd::PingWith(arg(1)),
        "ping" => return Err("ERR wrong number of arguments for 'ping' command".into()),
        "echo" => Cmd::Echo(arg(1)),
        "get" => Cmd::Get(key(1)),
        "set" if argv.len() == 3 => Cmd::Set(key(1), Value::Text(argv[2].as_str().into())),
        "del" if argv.len() == 2 => Cmd::Del(key(1)),
        name if super::strings::handles(name) => Cmd::Named {
            spec,
            argv: argv.to_vec(),
        },
        "debug"
        | "time"
        | "del"
        | "mset"
        | "mget"
        | "exists"
        | "readonly"
        | "readwrite"
        | "cluster|keyslot"
        | "cluster|failover"
        | "cluster|countkeysinslot"
        | "command"
        | "command|count"
        | "command|docs"
        | "command|getkeys"
        | "command|getkeysandflags"
        | "command|help"
        | "command|info"
        | "command|list"
        | "cluster|slots"
        | "cluster|shards"
        | "cluster|nodes"
        | "cluster|myid" => Cmd::Named {
            spec,
            argv: argv.to_vec(),
        },
        "incr" => Cmd::Incr(key(1)),
        "select" => match argv[1].parse::<i64>() {
            Ok(db) if (0..=i64::from(i32::MAX)).contains(&db) => Cmd::Select(db as u32),
            Ok(_) => return Err("ERR DB index is out of range".into()),
            Err(_) => return Err(ERR_NOT_INTEGER.into()),
        },
        "info" if argv.len() == 1 => Cmd::Info,
        "info" => Cmd::InfoSections(argv[1..].to_vec()),
        "role" => Cmd::Role,
        "dbsize" => Cmd::Dbsize,
        "replicaof" | "slaveof" => Cmd::ReplicaOf {
            host: arg(1),
            port: arg(2),
        },
        "wait" => {
            let replicas = argv[1].parse::<i64>().map_err(|_| ERR_NOT_INTEGER)?;
            let timeout = argv[2]
                .parse::<i64>()
                .map_err(|_| "ERR timeout is not an integer or out of range")?;
            if timeout < 0 {
                return Err("ERR timeout is negative".into());
            }
            Cmd::Wait {
                replicas: replicas.clamp(0, i64::from(u32::MAX)) as u32,
                timeout_ms: timeout as u64,
            }
        }
        "publish" => Cmd::Publish {
            channel: argv[1].as_str().into(),
            message: arg(2),
        },
        "auth" if argv.len() == 2 => Cmd::Auth(argv[1].as_str().into()),
        // `AUTH <username> <password>` (and the syntax error beyond).
        "auth" => Cmd::Named {
            spec,
            argv: argv.to_vec(),
        },
        "config|get" | "config|set" | "config|rewrite" => Cmd::Config(argv[1..].to_vec()),
        "failover"
        | "client|pause"
        | "client|unpause"
        | "client|kill"
        | "client|id"
        | "client|list"
        | "client|info"
        | "client|setname"
        | "client|getname"
        | "hello"
        | "multi"
        | "exec"
        | "discard"
        | "subscribe"
        | "unsubscribe"
        | "psubscribe"
        | "punsubscribe"
        | "pubsub|channels"
        | "pubsub|numsub"
        | "pubsub|numpat"
        | "pubsub|shardchannels"
        | "pubsub|shardnumsub"
        | "pubsub|help"
        | "shutdown"
        | "watch"
        | "unwatch"
        | "reset"
        | "bgrewriteaof"
        | "bgsave" => Cmd::Named {
            spec,
            argv: argv.to_vec(),
        },
        name => {
            return Err(format!(
                "ERR redsim does not model '{name}' in this form yet"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Result<Cmd, String> {
        let argv: Vec<String> = line.split(' ').map(String::from).collect();
        Table::Redis
            .lookup(&argv)
            .and_then(|spec| parse(spec, &argv))
    }

    #[test]
    fn lines_become_the_commands_the_model_runs() {
        assert_eq!(parsed("ping"), Ok(Cmd::Ping));
        assert_eq!(parsed("PING hi"), Ok(Cmd::PingWith("hi".into())));
        assert_eq!(
            parsed("slaveof NO ONE"),
            Ok(Cmd::ReplicaOf {
                host: "NO".into(),
                port: "ONE".into()
            })
        );
        assert_eq!(
            parsed("INFO replication"),
            Ok(Cmd::InfoSections(vec!["replication".into()]))
        );
    }

    // Texts read off a real Redis 7.0.15.
    #[test]
    fn bad_arguments_get_the_command_functions_errors() {
        assert_eq!(
            parsed("SELECT x"),
            Err("ERR value is not an integer or out of range".into())
        );
        assert_eq!(
            parsed("SELECT -1"),
            Err("ERR DB index is out of range".into())
        );
        assert_eq!(parsed("WAIT 1 -5"), Err("ERR timeout is negative".into()));
        assert_eq!(
            parsed("WAIT 1 x"),
            Err("ERR timeout is not an integer or out of range".into())
        );
    }

    #[test]
    fn known_commands_outside_the_model_say_so() {
        assert_eq!(
            parsed("HSET h f v"),
            Err("ERR redsim does not model 'hset' in this form yet".into())
        );
    }
}
