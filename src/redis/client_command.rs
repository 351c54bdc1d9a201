//! `CLIENT PAUSE`, `CLIENT UNPAUSE`, `CLIENT KILL`, `CLIENT ID` and
//! `CLIENT SETNAME` / `GETNAME`
//! (networking.c clientCommand()), and the pause they set
//! (pauseClients(), unpauseClients()).

use crate::proto::resp::Frame;
use crate::proto::{Ctx, Reply};
use crate::sim::net::ConnId;

use super::pause::{PauseType, Purpose};
use super::{ClientType, Host, Server};

/// What one `CLIENT KILL` filter set selects (all filters ANDed).
#[derive(Debug, Default, PartialEq)]
struct KillFilter {
    addr: Option<String>,
    laddr: Option<String>,
    kind: Option<TypeName>,
    id: Option<u64>,
    skipme: bool,
}

/// getClientTypeByName()'s types, which `CLIENT KILL TYPE` and `CLIENT
/// LIST TYPE` select: client connections by kind, replicas, our master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TypeName {
    Client(ClientType),
    Master,
    Replica,
}

impl TypeName {
    /// getClientTypeByName().
    pub(super) fn parse(name: &str) -> Option<TypeName> {
        Some(match name.to_ascii_lowercase().as_str() {
            "normal" => TypeName::Client(ClientType::Normal),
            "pubsub" => TypeName::Client(ClientType::PubSub),
            "master" => TypeName::Master,
            "replica" | "slave" => TypeName::Replica,
            _ => return None,
        })
    }
}

/// One connection CLIENT KILL can see.
struct Candidate {
    conn: ConnId,
    id: Option<u64>,
    addr: String,
    laddr: String,
    kind: TypeName,
}

fn syntax_error() -> Reply {
    Reply::Error("ERR syntax error".into())
}

/// The `CLIENT KILL <option> <value> …` filters, or the error reply.
fn parse_kill(args: &[String]) -> Result<KillFilter, Reply> {
    if args.len() == 1 {
        // The old form kills by address and may kill the caller.
        return Ok(KillFilter {
            addr: Some(args[0].clone()),
            ..KillFilter::default()
        });
    }
    let mut f = KillFilter {
        skipme: true,
        ..KillFilter::default()
    };
    let mut i = 0;
    while i < args.len() {
        let Some(value) = args.get(i + 1) else {
            return Err(syntax_error());
        };
        match args[i].to_ascii_lowercase().as_str() {
            "id" => match value.parse::<i64>() {
                Ok(id) if id >= 1 => f.id = Some(id as u64),
                _ => {
                    return Err(Reply::Error(
                        "ERR client-id should be greater than 0".into(),
                    ));
                }
            },
            "type" => match TypeName::parse(value) {
                Some(t) => f.kind = Some(t),
                None => return Err(Reply::Error(format!("ERR Unknown client type '{value}'"))),
            },
            "addr" => f.addr = Some(value.clone()),
            "laddr" => f.laddr = Some(value.clone()),
            // Only the default user exists.
            "user" if value == "default" => {}
            "user" => return Err(Reply::Error(format!("ERR No such user '{value}'"))),
            "skipme" if value.eq_ignore_ascii_case("yes") => f.skipme = true,
            "skipme" if value.eq_ignore_ascii_case("no") => f.skipme = false,
            _ => return Err(syntax_error()),
        }
        i += 2;
    }
    Ok(f)
}

impl Server {
    /// `CLIENT <subcommand> …` (clientCommand(), the subcommands the model
    /// has). `args` starts at the subcommand.
    pub(super) fn client_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        args: &[String],
    ) -> Reply {
        let sub = args[0].to_ascii_lowercase();
        let now = ctx.mstime() as i64;
        match (sub.as_str(), args.len()) {
            ("id", 1) => Reply::Int(self.clients.get(&conn).map_or(0, |c| c.id as i64)),
            ("setname", 2) => match self.clients.get_mut(&conn) {
                Some(c) => match crate::proto::hello::set_name(&mut c.name, &args[1]) {
                    Ok(()) => Reply::Ok,
                    Err(e) => Reply::Frame(e),
                },
                None => Reply::Ok,
            },
            // addReplyNull() when unnamed.
            ("getname", 1) => Reply::Frame(Frame::Bulk(
                self.clients.get(&conn).and_then(|c| c.name.clone()),
            )),
            ("unpause", 1) => {
                self.pauses.unpause(Purpose::ClientCommand);
                Reply::Ok
            }
            ("pause", 2 | 3) => {
                let kind = match args.get(2).map(|m| m.to_ascii_lowercase()) {
                    None => PauseType::All,
                    Some(m) if m == "write" => PauseType::Write,
                    Some(m) if m == "all" => PauseType::All,
                    Some(_) => {
                        return Reply::Error("ERR CLIENT PAUSE mode must be WRITE or ALL".into());
                    }
                };
                // getTimeoutFromObjectOrReply(UNIT_MILLISECONDS).
                let end = match args[1].parse::<i64>() {
                    Err(_) => {
                        return Reply::Error(
                            "ERR timeout is not an integer or out of range".into(),
                        );
                    }
                    Ok(t) if t < 0 => return Reply::Error("ERR timeout is negative".into()),
                    Ok(0) => 0,
                    Ok(t) => t.saturating_add(now),
                };
                self.pauses.pause(Purpose::ClientCommand, end, kind, now);
                Reply::Ok
            }
            ("list", _) | ("info", 1) => {
                let argv: Vec<String> = std::iter::once("CLIENT".to_string())
                    .chain(args.iter().cloned())
                    .collect();
                self.client_list_command(host, ctx.id(), conn, &argv)
            }
            ("kill", _) => match parse_kill(&args[1..]) {
                Ok(filter) => self.client_kill(ctx, host, conn, &filter, args.len() == 2),
                Err(e) => e,
            },
            _ => Reply::Error(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
                args[0]
            )),
        }
    }

    /// Every connection CLIENT KILL sees: clients, replicas, the master link.
    fn kill_candidates(&self, host: &Host<'_>, me: crate::sim::net::NodeId) -> Vec<Candidate> {
        let laddr = host.dir.addr(me);
        let mut all: Vec<Candidate> = self
            .clients
            .iter()
            .map(|(&conn, c)| Candidate {
                conn,
                id: Some(c.id),
                addr: client_addr(host, c.peer, conn),
                laddr: laddr.clone(),
                kind: TypeName::Client(self.client_type(conn)),
            })
            .collect();
        all.extend(self.replicas.iter().map(|r| Candidate {
            conn: r.conn,
            id: Some(r.id),
            addr: client_addr(host, r.peer, r.conn),
            laddr: laddr.clone(),
            kind: TypeName::Replica,
        }));
        // The master link is a client only once established (the handshake
        // runs on a bare socket, replicationCreateMasterClient() comes after).
        if let Some(side) = &self.replica
            && let Some(conn) = side.conn
            && side.is_connected()
        {
            all.push(Candidate {
                conn,
                id: side.master_client_id,
                addr: self.master_addr.clone(),
                laddr: laddr.clone(),
                kind: TypeName::Master,
            });
        }
        all
    }

    /// The kill itself: frees every match (the caller after its reply).
    fn client_kill(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        caller: ConnId,
        f: &KillFilter,
        old_form: bool,
    ) -> Reply {
        let victims: Vec<(ConnId, TypeName)> = self
            .kill_candidates(host, ctx.id())
            .into_iter()
            .filter(|c| {
                f.addr.as_ref().is_none_or(|a| *a == c.addr)
                    && f.laddr.as_ref().is_none_or(|a| *a == c.laddr)
                    && f.kind.is_none_or(|k| k == c.kind)
                    && f.id.is_none_or(|id| Some(id) == c.id)
                    && !(f.skipme && c.conn == caller)
            })
            .map(|c| (c.conn, c.kind))
            .collect();
        let killed = victims.len();
        for (conn, kind) in victims {
            if conn == caller {
                self.close_after_reply.push(conn);
                continue;
            }
            match kind {
                TypeName::Master => self.client_kill_master(ctx, host),
                _ => {
                    ctx.close(conn);
                    self.free_client(ctx, conn);
                }
            }
        }
        match (old_form, killed) {
            (true, 0) => Reply::Error("ERR No such client".into()),
            (true, _) => Reply::Ok,
            (false, n) => Reply::Frame(Frame::Int(n as i64)),
        }
    }
}

/// A connection's address on its client's side, as `CLIENT LIST` shows
/// it: the model keeps no client ports, so one from Linux's ephemeral range
/// stands in, derived from the connection so that both ends (a replica's
/// `addr` on its master, the master client's `laddr` on the replica) agree.
pub(super) fn client_addr(
    host: &Host<'_>,
    peer: crate::sim::net::NodeId,
    conn: crate::sim::net::ConnId,
) -> String {
    let ip = &host.dir.hosts[peer as usize];
    format!("{ip}:{}", ephemeral_port(conn))
}

/// The stand-in ephemeral port of a connection (Linux's 32768–60999).
pub(super) fn ephemeral_port(conn: crate::sim::net::ConnId) -> u32 {
    32768 + conn % 28232
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    /// clientKillCommand(): the old form matches an address and may kill
    /// the caller; the new one ANDs its filters and skips the caller.
    #[test]
    fn kill_filters_parse_as_client_kill_does() {
        assert_eq!(
            parse_kill(&args("10.0.0.9:40000")),
            Ok(KillFilter {
                addr: Some("10.0.0.9:40000".into()),
                skipme: false,
                ..KillFilter::default()
            })
        );
        assert_eq!(
            parse_kill(&args("TYPE slave SKIPME no")),
            Ok(KillFilter {
                kind: Some(TypeName::Replica),
                skipme: false,
                ..KillFilter::default()
            })
        );
        let err = |e: &str| Err(Reply::Error(e.into()));
        assert_eq!(
            parse_kill(&args("TYPE bogus")),
            err("ERR Unknown client type 'bogus'")
        );
        assert_eq!(
            parse_kill(&args("ID 0")),
            err("ERR client-id should be greater than 0")
        );
        assert_eq!(parse_kill(&args("MAXAGE 10")), err("ERR syntax error"));
        assert_eq!(
            parse_kill(&args("TYPE master SKIPME maybe")),
            err("ERR syntax error")
        );
        assert_eq!(parse_kill(&args("TYPE master ID")), err("ERR syntax error"));
        assert_eq!(parse_kill(&args("USER bob")), err("ERR No such user 'bob'"));
    }
}
