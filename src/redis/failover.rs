//! The FAILOVER command: a coordinated hand-over from a master to one of
//! its replicas (replication.c failoverCommand(), updateFailoverStatus(),
//! abortFailover(), clearFailoverState()).
//!
//! The master pauses writes, waits until a replica has acknowledged its
//! whole offset (or, with FORCE, until the timeout), then turns itself into
//! a replica of it and sends `PSYNC <replid> <offset> FAILOVER`, which
//! makes the replica a master (see [`Server::sync_command`]). The pause
//! ends when the PSYNC is answered.

use crate::proto::Ctx;
use crate::proto::keyspace::ERR_NOT_INTEGER;
use crate::trace::Level;

use super::master::ReplState;
use super::pause::{FOREVER, PauseType, Purpose};
use super::{Host, Reply, Server};

/// `server.failover_state`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailoverState {
    #[default]
    NoFailover,
    WaitForSync,
    InProgress,
}

impl FailoverState {
    /// getFailoverStateString(): INFO's `master_failover_state`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverState::NoFailover => "no-failover",
            FailoverState::WaitForSync => "waiting-for-sync",
            FailoverState::InProgress => "failover-in-progress",
        }
    }
}

/// The failover in progress: its state, `failover_end_time` (ms, 0 for
/// none), `force_failover` and the target replica's address.
#[derive(Clone, Debug, Default)]
pub struct Failover {
    pub state: FailoverState,
    end_time: i64,
    force: bool,
    target: Option<(String, u16)>,
}

impl Failover {
    pub fn active(&self) -> bool {
        self.state != FailoverState::NoFailover
    }

    /// True while a FAILOVER with a TIMEOUT waits: replicationCron() then
    /// sends no keep-alive PING while writes are paused.
    pub fn has_timeout(&self) -> bool {
        self.end_time != 0
    }
}

/// What FAILOVER's arguments ask for.
#[derive(Debug, PartialEq)]
enum Request {
    Abort,
    Start {
        timeout_ms: i64,
        force: bool,
        target: Option<(String, i64)>,
    },
}

/// failoverCommand()'s parsing, left to right: TIMEOUT once (while still
/// 0), TO once, FORCE once; anything else is a syntax error.
fn parse(args: &[String]) -> Result<Request, String> {
    if args.len() == 1 && args[0].eq_ignore_ascii_case("abort") {
        return Ok(Request::Abort);
    }
    let (mut timeout_ms, mut force, mut target) = (0i64, false, None);
    let mut j = 0;
    while j < args.len() {
        let a = &args[j];
        if a.eq_ignore_ascii_case("timeout") && j + 1 < args.len() && timeout_ms == 0 {
            timeout_ms = args[j + 1].parse().map_err(|_| ERR_NOT_INTEGER)?;
            if timeout_ms <= 0 {
                return Err("ERR FAILOVER timeout must be greater than 0".into());
            }
            j += 2;
        } else if a.eq_ignore_ascii_case("to") && j + 2 < args.len() && target.is_none() {
            let port: i64 = args[j + 2].parse().map_err(|_| ERR_NOT_INTEGER)?;
            target = Some((args[j + 1].clone(), port));
            j += 3;
        } else if a.eq_ignore_ascii_case("force") && !force {
            force = true;
            j += 1;
        } else {
            return Err("ERR syntax error".into());
        }
    }
    Ok(Request::Start {
        timeout_ms,
        force,
        target,
    })
}

impl Server {
    /// `FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]`
    /// (failoverCommand()), checks in Redis's order.
    pub(super) fn failover_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        args: &[String],
    ) -> Reply {
        if self.cluster.is_some() {
            return Reply::Error(
                "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead."
                    .into(),
            );
        }
        let (timeout_ms, force, target) = match parse(args) {
            Err(e) => return Reply::Error(e),
            Ok(Request::Abort) => {
                if !self.failover.active() {
                    return Reply::Error("ERR No failover in progress.".into());
                }
                self.abort_failover(ctx, host, "Failover manually aborted");
                return Reply::Ok;
            }
            Ok(Request::Start {
                timeout_ms,
                force,
                target,
            }) => (timeout_ms, force, target),
        };
        if self.failover.active() {
            return Reply::Error("ERR FAILOVER already in progress.".into());
        }
        if self.replica.is_some() {
            return Reply::Error("ERR FAILOVER is not valid when server is a replica.".into());
        }
        if self.replicas.is_empty() {
            return Reply::Error("ERR FAILOVER requires connected replicas.".into());
        }
        if force && (timeout_ms == 0 || target.is_none()) {
            return Reply::Error(
                "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
                    .into(),
            );
        }
        let target = match target {
            Some((ip, port)) => {
                let Some(r) = self.find_replica(&ip, port) else {
                    return Reply::Error(
                        "ERR FAILOVER target HOST and PORT is not a replica.".into(),
                    );
                };
                if r.state != ReplState::Online {
                    return Reply::Error("ERR FAILOVER target replica is not online.".into());
                }
                ctx.log(
                    Level::Notice,
                    "FAILOVER requested to",
                    format!("FAILOVER requested to {ip}:{port}."),
                );
                // The port was checked against a listening port.
                Some((ip, port as u16))
            }
            None => {
                ctx.log(
                    Level::Notice,
                    "FAILOVER requested to any replica.",
                    "FAILOVER requested to any replica.".into(),
                );
                None
            }
        };
        let now = ctx.mstime() as i64;
        self.failover = Failover {
            state: FailoverState::WaitForSync,
            end_time: if timeout_ms > 0 { now + timeout_ms } else { 0 },
            force,
            target,
        };
        self.pauses
            .pause(Purpose::Failover, FOREVER, PauseType::Write, now);
        Reply::Ok
    }

    /// findReplica(): a replica by its announced (or peer) address and its
    /// listening port; the host compares case-insensitively.
    fn find_replica(&self, ip: &str, port: i64) -> Option<&super::ReplicaClient> {
        self.replicas
            .iter()
            .find(|r| r.ip.eq_ignore_ascii_case(ip) && i64::from(r.port) == port)
    }

    /// updateFailoverStatus(): at the start of replicationCron() and in
    /// every beforeSleep(); acts only while waiting for a replica to sync.
    pub(super) fn update_failover_status(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        if self.failover.state != FailoverState::WaitForSync {
            return;
        }
        let now = ctx.mstime() as i64;
        if self.failover.end_time != 0 && self.failover.end_time <= now {
            if self.failover.force {
                let (ip, port) = self.failover.target.clone().expect("FORCE needs TO");
                ctx.log(
                    Level::Notice,
                    "FAILOVER to time out exceeded, failing over.",
                    format!("FAILOVER to {ip}:{port} time out exceeded, failing over."),
                );
                self.failover.state = FailoverState::InProgress;
                self.hand_over(ctx, host, &ip, port);
            } else {
                self.abort_failover(ctx, host, "Replica never caught up before timeout");
            }
            return;
        }
        let offset = self.master_repl_offset;
        let synced = match &self.failover.target {
            Some((ip, port)) => self
                .find_replica(ip, i64::from(*port))
                .is_some_and(|r| r.ack_off == offset),
            None => match self.replicas.iter().find(|r| r.ack_off == offset) {
                Some(r) => {
                    self.failover.target = Some((r.ip.clone(), r.port));
                    true
                }
                None => false,
            },
        };
        if synced {
            let (ip, port) = self.failover.target.clone().expect("set above");
            self.failover.state = FailoverState::InProgress;
            ctx.log(
                Level::Notice,
                "Failover target is synced, failing over.",
                format!("Failover target {ip}:{port} is synced, failing over."),
            );
            self.hand_over(ctx, host, &ip, port);
        }
    }

    /// replicationSetMaster(target): this master becomes a replica of the
    /// target, offering its own history for a partial resync.
    fn hand_over(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>, ip: &str, port: u16) {
        match host.dir.lookup(ip, port) {
            Some(node) => self.replicaof(ctx, node, (ip, port), ""),
            // A replica's address always names a simulated instance.
            None => self.abort_failover(ctx, host, "Write error to failover target"),
        }
    }

    /// The target's answer to `PSYNC … FAILOVER` (syncWithMaster()):
    /// accepted (+CONTINUE or +FULLRESYNC) ends the failover; anything
    /// else aborts it. True when the handshake goes on.
    pub(super) fn failover_psync_answered(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        accepted: bool,
    ) -> bool {
        if self.failover.state != FailoverState::InProgress {
            return true;
        }
        if accepted {
            self.clear_failover_state();
            true
        } else {
            self.abort_failover(ctx, host, "Failover target rejected psync request");
            false
        }
    }

    /// abortFailover(err): a failover in progress makes this node a master
    /// again (with a new replication ID).
    pub(super) fn abort_failover(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>, err: &str) {
        if !self.failover.active() {
            return;
        }
        match &self.failover.target {
            Some((ip, port)) => ctx.log(
                Level::Notice,
                "FAILOVER aborted",
                format!("FAILOVER to {ip}:{port} aborted: {err}"),
            ),
            None => ctx.log(
                Level::Notice,
                "FAILOVER aborted",
                format!("FAILOVER to any replica aborted: {err}"),
            ),
        }
        if self.failover.state == FailoverState::InProgress {
            self.replicaof_no_one(ctx, host, "");
        }
        self.clear_failover_state();
    }

    /// clearFailoverState(): forgets the failover and lifts its pause.
    fn clear_failover_state(&mut self) {
        self.failover = Failover::default();
        self.pauses.unpause(Purpose::Failover);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    /// failoverCommand()'s parser: each option once, TIMEOUT > 0, a port
    /// that is an integer (not range-checked), ABORT only alone.
    #[test]
    fn failover_arguments_parse_as_failover_command_does() {
        assert_eq!(parse(&args("abort")), Ok(Request::Abort));
        assert_eq!(
            parse(&args("TO 10.0.0.2 6379 FORCE TIMEOUT 500")),
            Ok(Request::Start {
                timeout_ms: 500,
                force: true,
                target: Some(("10.0.0.2".into(), 6379)),
            })
        );
        assert_eq!(
            parse(&args("TO h 99999")),
            Ok(Request::Start {
                timeout_ms: 0,
                force: false,
                target: Some(("h".into(), 99999)),
            })
        );
        let syntax = Err("ERR syntax error".to_string());
        assert_eq!(parse(&args("abort timeout 5")), syntax);
        assert_eq!(parse(&args("force force")), syntax);
        assert_eq!(parse(&args("timeout 5 timeout 6")), syntax);
        assert_eq!(parse(&args("to h")), syntax);
        assert_eq!(parse(&args("bogus")), syntax);
        assert_eq!(
            parse(&args("timeout 0")),
            Err("ERR FAILOVER timeout must be greater than 0".into())
        );
        assert_eq!(parse(&args("timeout x")), Err(ERR_NOT_INTEGER.into()));
        assert_eq!(parse(&args("to h port")), Err(ERR_NOT_INTEGER.into()));
    }
}
