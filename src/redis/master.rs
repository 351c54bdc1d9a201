//! The master side of replication: PSYNC decisions, full syncs through an RDB
//! child, the shared stream, replica liveness, min-replicas and WAIT
//! (replication.c: syncCommand(), masterTryPartialResynchronization(),
//! startBgsaveForReplication(), replicationCron(); networking.c output limits).

use std::rc::Rc;

use crate::proto::{Cmd, Ctx, Msg, PsyncId, RdbPayload, Reply, RunId};
use crate::sim::net::{ConnId, NodeId};
use crate::time::Micros;
use crate::trace::Level;
use crate::trace::names;

use super::backlog::Backlog;
use super::host_faults::HostFaults;
use super::persistence::RdbFile;
use super::{Host, RedisTimer, Server};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplState {
    WaitBgsaveStart,
    WaitBgsaveEnd,
    SendBulk,
    Online,
}

impl ReplState {
    /// replstateToString()
    pub fn as_str(self) -> &'static str {
        match self {
            ReplState::WaitBgsaveStart | ReplState::WaitBgsaveEnd => "wait_bgsave",
            ReplState::SendBulk => "send_bulk",
            ReplState::Online => "online",
        }
    }
}

/// A connected replica, from the master's side.
#[derive(Debug)]
pub struct ReplicaClient {
    pub conn: ConnId,
    /// `client->id`, kept from the connection's life as a client.
    pub id: u64,
    pub peer: NodeId,
    /// `ip:listening-port`, as replicationGetSlaveName() prints it.
    pub name: String,
    pub ip: String,
    pub port: u16,
    pub state: ReplState,
    pub ack_off: u64,
    /// Unix seconds of the last REPLCONF ACK.
    pub ack_time: u64,
    pub psync_initial_offset: u64,
    /// The next stream offset this replica needs; it references the backlog
    /// block holding it, which pins that block.
    pub next_offset: u64,
    /// The backlog's number for the command at `next_offset`, as last
    /// served: the next serve finds its place there rather than by a
    /// search (see [`super::backlog::Backlog::since_within`]).
    pub next_cmd: u64,
    /// Diskless sync: the stream starts at the first REPLCONF ACK.
    pub start_stream_on_ack: bool,
    pub capa_eof: bool,
    /// Unix seconds of the replica's last command (its PSYNC while waiting).
    pub lastinteraction: u64,
    /// Its CLIENT LIST bookkeeping, kept from its life as a client.
    pub(super) meta: super::client_list::ClientMeta,
    pub soft_limit_since: Option<u64>,
}

impl ReplicaClient {
    pub(super) fn streaming(&self) -> bool {
        self.state == ReplState::Online && !self.start_stream_on_ack
    }

    fn fed(&self) -> bool {
        self.state != ReplState::WaitBgsaveStart
    }
}

#[derive(Debug)]
pub struct BlockedWait {
    pub conn: ConnId,
    pub woff: u64,
    pub replicas: u32,
    pub deadline: Option<Micros>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// A BGSAVE to dump.rdb: a save point's, or the BGSAVE command's.
    Bgsave,
    /// A BGSAVE for replicas: to disk, or straight to their sockets.
    Replication { socket: bool },
    /// The AOF rewrite that `CONFIG SET appendonly yes` starts (see
    /// [`super::aof`]).
    AofRewrite,
}

/// A forked child producing an RDB.
#[derive(Debug)]
pub struct Child {
    pub generation: u64,
    pub kind: ChildKind,
    pub snapshot: Rc<crate::proto::keyspace::Dataset>,
    pub repl: Option<(RunId, u64)>,
    pub dirty_at_fork: u64,
    /// Its work is done and it has exited; the server has not reaped it
    /// yet (that happens in serverCron, or at a waiting replica's ACK).
    pub exited: bool,
}

/// What `rdb-key-save-delay` adds to a child's work over `keys` keys
/// (rdbSaveKeyValuePair() calls debugDelay() after each): that many µs a
/// key, or with -N one µs every N keys on average.
fn key_save_delay(cfg: &super::config::RedisConfig, keys: usize) -> Micros {
    let keys = keys as u64;
    match cfg.rdb_key_save_delay {
        d if d > 0 => keys * d as u64,
        d if d < 0 => keys / d.unsigned_abs(),
        _ => 0,
    }
}

/// Memory a dataset takes in a Redis process, for the fork cost: the RDB size
/// plus dictEntry/robj/sds overheads of about 64 bytes per key.
fn memory_bytes(d: &crate::proto::keyspace::Dataset) -> u64 {
    d.rdb_bytes() + 64 * d.len() as u64
}

impl Server {
    /// The propagated form of a write enters the stream, after a SELECT if
    /// the stream's db differs (replicationFeedSlaves()).
    pub(super) fn propagate(&mut self, cmd: Cmd) {
        if self.in_call {
            self.also_propagate.push(cmd);
        } else {
            self.propagate_now(cmd);
        }
    }

    /// propagatePendingCommands(): what the command that just ran
    /// propagated, wrapped in MULTI/EXEC when it is more than one command.
    pub(super) fn propagate_pending(&mut self) {
        match self.also_propagate.len() {
            0 => {}
            1 => {
                let cmd = self.also_propagate.pop().expect("one");
                self.propagate_now(cmd);
            }
            _ => {
                let mut ops = std::mem::take(&mut self.also_propagate);
                self.propagate_now(Cmd::named(&["MULTI"]));
                for cmd in ops.drain(..) {
                    self.propagate_now(cmd);
                }
                self.propagate_now(Cmd::named(&["EXEC"]));
                self.also_propagate = ops;
            }
        }
    }

    /// propagateNow(): to the AOF, and to the replication stream on a
    /// master.
    fn propagate_now(&mut self, cmd: Cmd) {
        if self.cfg.appendonly && cmd.is_write() {
            self.aof_pending.push(cmd.clone());
        }
        if self.replica.is_some() {
            return;
        }
        if self.backlog.is_none() && self.replicas.is_empty() {
            return;
        }
        if self.slaveseldb != 0 {
            self.feed(Cmd::Select(0));
            self.slaveseldb = 0;
        }
        self.feed(cmd);
    }

    /// Appends one command to the replication buffer (backlog and replica
    /// output buffers), checking output limits when a block is added.
    pub(super) fn feed(&mut self, cmd: Cmd) {
        let pinned = self.lowest_pin();
        let Some(backlog) = self.backlog.as_mut() else {
            return;
        };
        let new_block = backlog.feed(cmd, &mut self.master_repl_offset, pinned);
        if new_block {
            self.check_output_limits();
        }
    }

    /// The lowest offset any fed replica still references.
    pub(super) fn lowest_pin(&self) -> Option<u64> {
        self.replicas
            .iter()
            .filter(|r| r.fed())
            .map(|r| r.next_offset)
            .min()
    }

    /// closeClientOnOutputBufferLimitReached(): hard limit at once, soft limit
    /// when exceeded continuously for longer than its seconds.
    pub(super) fn check_output_limits(&mut self) {
        let Some(backlog) = self.backlog.as_ref() else {
            return;
        };
        let hard = self.cfg.replica_hard_limit();
        let soft = self.cfg.replica_output_buffer_limit.soft;
        let soft_secs = self.cfg.replica_output_buffer_limit.soft_seconds;
        let now = self.unixtime;
        let mut over = Vec::new();
        for r in self.replicas.iter_mut().filter(|r| r.fed()) {
            let usage = backlog.buffer_usage(r.next_offset);
            let mut hit = hard > 0 && usage >= hard;
            if soft > 0 && usage >= soft {
                match r.soft_limit_since {
                    None => r.soft_limit_since = Some(now),
                    Some(since) if now.saturating_sub(since) > soft_secs => hit = true,
                    Some(_) => {}
                }
            } else {
                r.soft_limit_since = None;
            }
            if hit {
                over.push(r.conn);
            }
        }
        self.closing_for_limits.extend(over);
    }

    /// Sends each streaming replica what it has not seen yet, as far as
    /// its socket takes it (writeToClient()); what does not fit stays in
    /// its output buffer until the socket is writable again. Then trims
    /// the backlog now that they moved on.
    pub(super) fn write_to_replicas(&mut self, ctx: &mut Ctx<'_>) {
        for conn in std::mem::take(&mut self.closing_for_limits) {
            if let Some(r) = self.replicas.iter().find(|r| r.conn == conn) {
                ctx.log(
                    Level::Warning,
                    names::redis::OUTPUT_BUFFER_LIMIT,
                    format!(
                        "Client id={} addr={} flags=S scheduled to be closed ASAP for overcoming of output buffer limits.",
                        conn, r.name
                    ),
                );
                ctx.close(conn);
                self.remove_replica(ctx, conn);
            }
        }
        let Some(backlog) = self.backlog.as_ref() else {
            return;
        };
        let end = self.master_repl_offset + 1;
        for r in self.replicas.iter_mut().filter(|r| r.streaming()) {
            if r.next_offset < end {
                let room = ctx.writable_room(r.conn, end - r.next_offset);
                if room == 0 {
                    continue;
                }
                let (cmds, left) = backlog.since_within(r.next_offset, room, &mut r.next_cmd);
                r.next_offset = left.unwrap_or(end);
                ctx.send(r.conn, Msg::Stream(cmds));
            }
        }
        let pinned = self.lowest_pin();
        if let Some(b) = self.backlog.as_mut() {
            b.trim(self.master_repl_offset, pinned);
        }
    }

    /// Replicas whose acknowledged offset reached `woff`.
    pub(super) fn replicas_acked(&self, woff: u64) -> u32 {
        self.replicas
            .iter()
            .filter(|r| r.state == ReplState::Online && r.ack_off >= woff)
            .count() as u32
    }

    pub(super) fn serve_blocked_waits(&mut self, ctx: &mut Ctx<'_>) {
        if self.blocked.is_empty() {
            return;
        }
        let now = ctx.now();
        let mut i = 0;
        while i < self.blocked.len() {
            let w = &self.blocked[i];
            let acked = self.replicas_acked(w.woff);
            if acked >= w.replicas || w.deadline.is_some_and(|d| now >= d) {
                let w = self.blocked.remove(i);
                ctx.send(w.conn, Msg::Reply(Reply::Int(i64::from(acked))));
            } else {
                i += 1;
            }
        }
    }

    /// refreshGoodSlavesCount()
    pub(super) fn refresh_good_replicas(&mut self, now: u64) {
        let lag = self.cfg.min_replicas_max_lag;
        if self.cfg.min_replicas_to_write == 0 || lag == 0 {
            return;
        }
        self.good_replicas = self
            .replicas
            .iter()
            .filter(|r| r.state == ReplState::Online && now.saturating_sub(r.ack_time) <= lag)
            .count() as u32;
    }

    pub(super) fn replconf_ack(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        off: u64,
    ) {
        // An ACK may come before the cron noticed that the streaming child
        // is done: replconfCommand() checks at once.
        if self
            .child
            .as_ref()
            .is_some_and(|c| c.kind == ChildKind::Replication { socket: true })
            && self
                .replicas
                .iter()
                .any(|r| r.conn == conn && r.state == ReplState::WaitBgsaveEnd)
        {
            self.reap_child(ctx, host);
        }
        let now = ctx.unixtime();
        let Some(r) = self.replicas.iter_mut().find(|r| r.conn == conn) else {
            return;
        };
        r.ack_off = r.ack_off.max(off);
        r.ack_time = now;
        r.lastinteraction = now;
        r.meta.read(now, Some("replconf"));
        if r.state == ReplState::Online && r.start_stream_on_ack {
            r.start_stream_on_ack = false;
            let name = r.name.clone();
            ctx.log(
                Level::Notice,
                "Synchronization with replica succeeded",
                format!("Synchronization with replica {name} succeeded"),
            );
        }
    }

    /// syncCommand(): `psync` is `None` for the old SYNC.
    pub(super) fn sync_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        psync: Option<(PsyncId, i64)>,
        failover: bool,
    ) {
        if self.replicas.iter().any(|r| r.conn == conn) {
            return;
        }
        if failover && !self.psync_failover(ctx, host, conn, psync.map(|p| p.0)) {
            return;
        }
        if self.failover.active() {
            ctx.send(
                conn,
                Msg::Reply(Reply::Error(
                    "NOMASTERLINK Can't SYNC while failing over".into(),
                )),
            );
            return;
        }
        if let Some(r) = &self.replica
            && !r.is_connected()
        {
            ctx.send(
                conn,
                Msg::Reply(Reply::Error(
                    "NOMASTERLINK Can't SYNC while not connected with my master".into(),
                )),
            );
            return;
        }
        let client = self.clients.swap_remove(&conn).expect("a client");
        let ip = match &client.announced_ip {
            Some(ip) => ip.to_string(),
            None => host.dir.hosts[client.peer as usize].clone(),
        };
        let name = format!("{}:{}", ip, client.listening_port);
        let now = ctx.unixtime();
        ctx.log(
            Level::Notice,
            "Replica asks for synchronization",
            format!("Replica {name} asks for synchronization"),
        );
        let mut replica = ReplicaClient {
            conn,
            id: client.id,
            peer: client.peer,
            name: name.clone(),
            ip,
            port: client.listening_port,
            state: ReplState::WaitBgsaveStart,
            ack_off: 0,
            ack_time: now,
            psync_initial_offset: 0,
            next_offset: 0,
            next_cmd: 0,
            start_stream_on_ack: false,
            capa_eof: client.capa_eof,
            lastinteraction: now,
            soft_limit_since: None,
            meta: client.meta,
        };
        if let Some((id, offset)) = psync {
            if self.try_partial_resync(ctx, &mut replica, id, offset) {
                self.stats.sync_partial_ok += 1;
                self.replicas.push(replica);
                self.refresh_good_replicas(now);
                return;
            }
            // A `?` asks for a full resync on purpose.
            if id != PsyncId::Unknown {
                self.stats.sync_partial_err += 1;
            }
        }
        // Full resync.
        self.stats.sync_full += 1;
        if self.replicas.is_empty() && self.backlog.is_none() {
            self.replid = RunId::random(ctx.rng());
            self.replid2 = RunId::ZERO;
            self.second_replid_offset = -1;
            self.backlog = Some(Backlog::new(
                self.cfg.repl_backlog_size,
                self.master_repl_offset,
            ));
            ctx.log(
                Level::Notice,
                "Replication backlog created",
                format!(
                    "Replication backlog created, my new replication IDs are '{}' and '{}'",
                    self.replid, self.replid2
                ),
            );
        }
        self.replicas.push(replica);
        match self.child.as_ref().map(|c| c.kind) {
            Some(ChildKind::Replication { socket: false }) => {
                // Attach to the running disk BGSAVE through a replica waiting for it.
                let donor = self
                    .replicas
                    .iter()
                    .find(|r| r.state == ReplState::WaitBgsaveEnd)
                    .map(|r| r.psync_initial_offset);
                if let Some(offset) = donor {
                    let r = self.replicas.last_mut().expect("pushed");
                    r.psync_initial_offset = offset;
                    r.next_offset = offset + 1;
                    r.state = ReplState::WaitBgsaveEnd;
                    let replid = self.replid;
                    ctx.send(conn, Msg::Reply(Reply::FullResync { replid, offset }));
                    ctx.log(
                        Level::Notice,
                        "Waiting for end of BGSAVE for SYNC",
                        "Waiting for end of BGSAVE for SYNC".into(),
                    );
                } else {
                    ctx.log(
                        Level::Notice,
                        "Can't attach the replica to the current BGSAVE.",
                        "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC".into(),
                    );
                }
            }
            Some(ChildKind::Replication { socket: true }) => ctx.log(
                Level::Notice,
                "Current BGSAVE has socket target.",
                "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC".into(),
            ),
            Some(ChildKind::Bgsave) => ctx.log(
                Level::Notice,
                "Can't attach the replica to the current BGSAVE.",
                "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC"
                    .into(),
            ),
            kind @ (None | Some(ChildKind::AofRewrite)) => {
                if self.cfg.repl_diskless_sync
                    && client.capa_eof
                    && self.cfg.repl_diskless_sync_delay > 0
                {
                    ctx.log(
                        Level::Notice,
                        "Delay next BGSAVE for diskless SYNC",
                        "Delay next BGSAVE for diskless SYNC".into(),
                    );
                } else if kind.is_some() {
                    ctx.log(
                        Level::Notice,
                        "No BGSAVE in progress, but another BG operation is active.",
                        "No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed".into(),
                    );
                } else {
                    self.start_bgsave_for_replication(ctx, host.disk.faults);
                }
            }
        }
    }

    /// masterTryPartialResynchronization()
    fn try_partial_resync(
        &mut self,
        ctx: &mut Ctx<'_>,
        r: &mut ReplicaClient,
        id: PsyncId,
        offset: i64,
    ) -> bool {
        let name = &r.name;
        let id = match id {
            PsyncId::Unknown => {
                ctx.log(
                    Level::Notice,
                    "Full resync requested by replica",
                    format!("Full resync requested by replica {name}"),
                );
                return false;
            }
            PsyncId::Id(id) => id,
        };
        if id != self.replid && (id != self.replid2 || offset > self.second_replid_offset) {
            if id != self.replid && id != self.replid2 {
                ctx.log(
                    Level::Notice,
                    names::redis::REPLID_MISMATCH,
                    format!(
                        "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')",
                        id, self.replid, self.replid2
                    ),
                );
            } else {
                ctx.log(
                    Level::Notice,
                    "Partial resynchronization not accepted: Requested offset for second ID",
                    format!(
                        "Partial resynchronization not accepted: Requested offset for second ID was {}, but I can reply up to {}",
                        offset, self.second_replid_offset
                    ),
                );
            }
            return false;
        }
        let covered = offset >= 0
            && self
                .backlog
                .as_ref()
                .is_some_and(|b| b.covers(offset as u64));
        if !covered {
            ctx.log(
                Level::Notice,
                names::redis::NO_BACKLOG_FOR_PSYNC,
                format!(
                    "Unable to partial resync with replica {name} for lack of backlog (Replica request was: {offset})."
                ),
            );
            if offset > self.master_repl_offset as i64 {
                ctx.log(
                    Level::Warning,
                    "tried to PSYNC with an offset that is greater than the master replication offset.",
                    format!("Warning: replica {name} tried to PSYNC with an offset that is greater than the master replication offset."),
                );
            }
            return false;
        }
        let offset = offset as u64;
        r.state = ReplState::Online;
        r.ack_time = ctx.unixtime();
        r.next_offset = offset;
        let replid = self.replid;
        // Every modelled replica announces capa psync2, so +CONTINUE
        // always carries the replication ID.
        ctx.send(r.conn, Msg::Reply(Reply::Continue { replid }));
        let bytes = self.master_repl_offset + 1 - offset;
        ctx.log(
            Level::Notice,
            "Partial resynchronization request accepted",
            format!(
                "Partial resynchronization request from {name} accepted. Sending {bytes} bytes of backlog starting from offset {offset}."
            ),
        );
        true
    }

    /// startBgsaveForReplication(): fork a child for the replicas waiting.
    pub(super) fn start_bgsave_for_replication(&mut self, ctx: &mut Ctx<'_>, faults: HostFaults) {
        let waiting: Vec<usize> = (0..self.replicas.len())
            .filter(|&i| self.replicas[i].state == ReplState::WaitBgsaveStart)
            .collect();
        if waiting.is_empty() || self.child.is_some() {
            return;
        }
        let socket =
            self.cfg.repl_diskless_sync && waiting.iter().all(|&i| self.replicas[i].capa_eof);
        ctx.log(
            Level::Notice,
            "Starting BGSAVE for SYNC with target",
            format!(
                "Starting BGSAVE for SYNC with target: {}",
                if socket { "replicas sockets" } else { "disk" }
            ),
        );
        let offset = self.master_repl_offset;
        let replid = self.replid;
        // rdbSaveToSlavesSockets() answers +FULLRESYNC before it forks;
        // for a disk target it comes once the child runs.
        let forks = !faults.fork_fails();
        for &i in &waiting {
            let r = &mut self.replicas[i];
            if socket || forks {
                ctx.send(r.conn, Msg::Reply(Reply::FullResync { replid, offset }));
            }
            if forks {
                r.psync_initial_offset = offset;
                r.next_offset = offset + 1;
                r.state = ReplState::WaitBgsaveEnd;
            }
        }
        if !self.start_bgsave(ctx, faults, ChildKind::Replication { socket }) {
            ctx.log(
                Level::Warning,
                "BGSAVE for replication failed",
                "BGSAVE for replication failed".into(),
            );
            for r in self
                .replicas
                .extract_if(.., |r| r.state == ReplState::WaitBgsaveStart)
            {
                ctx.send(
                    r.conn,
                    Msg::Reply(Reply::Error(
                        "ERR BGSAVE failed, replication can't continue".into(),
                    )),
                );
                // CLIENT_CLOSE_AFTER_REPLY.
                ctx.close(r.conn);
            }
            return;
        }
        self.slaveseldb = -1;
    }

    /// Forks an RDB child. It finishes after the fork, plus the time to
    /// produce the RDB (and for sockets, to push it through the slowest link).
    /// False when fork() fails, as the host's faults may make it: logged,
    /// and for a BGSAVE to disk `lastbgsave_status` is set to err
    /// (rdbSaveBackground(), rewriteAppendOnlyFileBackground()).
    pub(super) fn start_bgsave(
        &mut self,
        ctx: &mut Ctx<'_>,
        faults: HostFaults,
        kind: ChildKind,
    ) -> bool {
        if !matches!(
            kind,
            ChildKind::Replication { socket: true } | ChildKind::AofRewrite
        ) {
            self.persist.bgsave_try = ctx.unixtime();
        }
        if faults.fork_fails() {
            let e = super::disk_errors::ENOMEM;
            match kind {
                ChildKind::AofRewrite => {
                    self.persist.aof_rewrite_failed = true;
                    ctx.log(
                        Level::Warning,
                        "Can't rewrite append only file in background: fork",
                        format!("Can't rewrite append only file in background: fork: {e}"),
                    );
                }
                ChildKind::Replication { socket: true } => ctx.log(
                    Level::Warning,
                    "Can't save in background: fork",
                    format!("Can't save in background: fork: {e}"),
                ),
                _ => {
                    self.persist.bgsave_failed = true;
                    ctx.log(
                        Level::Warning,
                        "Can't save in background: fork",
                        format!("Can't save in background: fork: {e}"),
                    );
                }
            }
            return false;
        }
        self.child_gen += 1;
        let snapshot = Rc::new(self.data.clone());
        let bytes = snapshot.rdb_bytes();
        let fork = memory_bytes(&snapshot) * self.cfg.fork_time_per_gb / (1 << 30);
        let mut duration =
            bytes * 1_000_000 / self.cfg.rdb_save_rate + key_save_delay(&self.cfg, snapshot.len());
        if let ChildKind::Replication { socket: true } = kind {
            for r in self
                .replicas
                .iter()
                .filter(|r| r.state == ReplState::WaitBgsaveEnd)
            {
                duration = duration.max(ctx.transfer_time(r.conn, bytes));
            }
        }
        if let ChildKind::Replication { socket: true } = kind {
            for r in self
                .replicas
                .iter()
                .filter(|r| r.state == ReplState::WaitBgsaveEnd)
            {
                ctx.send(r.conn, Msg::RdbHeader { eof: true, bytes });
            }
        }
        let pid = 1000 + self.child_gen;
        match kind {
            ChildKind::Replication { socket: true } => ctx.log(
                Level::Notice,
                "Background RDB transfer started",
                format!("Background RDB transfer started by pid {pid}"),
            ),
            ChildKind::AofRewrite => ctx.log(
                Level::Notice,
                "Background append only file rewriting started",
                format!("Background append only file rewriting started by pid {pid}"),
            ),
            _ => ctx.log(
                Level::Notice,
                "Background saving started",
                format!("Background saving started by pid {pid}"),
            ),
        }
        self.child = Some(Child {
            generation: self.child_gen,
            kind,
            snapshot,
            repl: self.repl_save_info(),
            dirty_at_fork: self.dirty,
            exited: false,
        });
        ctx.set_timer(
            fork + duration.max(1),
            RedisTimer::ChildDone(self.child_gen),
        );
        true
    }

    /// The child of `generation` finished and exited. A streamed RDB's end
    /// reaches the replicas now (the parent relays the child's pipe as it
    /// reads it); everything else waits until the server reaps the child:
    /// serverCron's checkChildrenDone(), or a waiting replica's REPLCONF
    /// ACK ([`Self::reap_child`]).
    pub(super) fn child_exited(&mut self, ctx: &mut Ctx<'_>, generation: u64) {
        let Some(child) = self.child.as_mut().filter(|c| c.generation == generation) else {
            return;
        };
        child.exited = true;
        if child.kind != (ChildKind::Replication { socket: true }) {
            return;
        }
        let payload = RdbPayload {
            data: child.snapshot.clone(),
            bytes: child.snapshot.rdb_bytes(),
        };
        for r in self
            .replicas
            .iter()
            .filter(|r| r.state == ReplState::WaitBgsaveEnd)
        {
            // Already streamed while the child ran: only its end is new.
            ctx.send_sized(r.conn, Msg::Rdb(payload.clone()), 0);
        }
    }

    /// checkChildrenDone(): reaps a child that has exited. True if one was.
    pub(super) fn reap_child(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) -> bool {
        match self.child.as_ref() {
            Some(c) if c.exited => {
                let generation = c.generation;
                self.child_done(ctx, host, generation);
                true
            }
            _ => false,
        }
    }

    /// The child was reaped: install the RDB and move waiting replicas
    /// along (backgroundSaveDoneHandler(), updateSlavesWaitingBgsave()).
    fn child_done(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>, generation: u64) {
        let Some(child) = self.child.take_if(|c| c.generation == generation) else {
            return;
        };
        let bytes = child.snapshot.rdb_bytes();
        let file_error = host.disk.faults.child_file_error(bytes);
        match child.kind {
            ChildKind::AofRewrite if let Some(error) = file_error => {
                self.aof_rewrite_child_failed(ctx, error, generation);
            }
            ChildKind::AofRewrite => {
                self.aof_rewrite_done(ctx, host, generation, child.snapshot.clone());
            }
            ChildKind::Replication { socket: true } => {
                ctx.log(
                    Level::Notice,
                    "Background RDB transfer terminated with success",
                    "Background RDB transfer terminated with success".into(),
                );
            }
            _ if let Some(error) = file_error => {
                self.bgsave_write_failed(ctx, error);
                // updateSlavesWaitingBgsave(C_ERR)
                let failed: Vec<ConnId> = (self.replicas.iter())
                    .filter(|r| r.state == ReplState::WaitBgsaveEnd)
                    .map(|r| r.conn)
                    .collect();
                for conn in failed {
                    ctx.log(
                        Level::Warning,
                        "SYNC failed. BGSAVE child returned an error",
                        "SYNC failed. BGSAVE child returned an error".into(),
                    );
                    ctx.close(conn);
                    self.remove_replica(ctx, conn);
                }
            }
            _ => {
                self.persist.bgsave_failed = false;
                host.disk.rdb = Some(RdbFile {
                    data: child.snapshot.clone(),
                    repl: child.repl,
                });
                self.dirty = self.dirty.saturating_sub(child.dirty_at_fork);
                self.lastsave = ctx.unixtime();
                ctx.log(
                    Level::Notice,
                    "Background saving terminated with success",
                    "Background saving terminated with success".into(),
                );
            }
        }
        let now = ctx.unixtime();
        for i in 0..self.replicas.len() {
            if self.replicas[i].state != ReplState::WaitBgsaveEnd {
                continue;
            }
            let conn = self.replicas[i].conn;
            let payload = RdbPayload {
                data: child.snapshot.clone(),
                bytes,
            };
            match child.kind {
                ChildKind::Replication { socket: true } => {
                    // Its end reached the replica when the child exited.
                    let r = &mut self.replicas[i];
                    r.state = ReplState::Online;
                    r.start_stream_on_ack = true;
                    r.ack_time = now;
                    let name = r.name.clone();
                    ctx.log(
                        Level::Notice,
                        "Streamed RDB transfer with replica succeeded (socket).",
                        format!("Streamed RDB transfer with replica {name} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming"),
                    );
                }
                _ => {
                    ctx.send(conn, Msg::RdbHeader { eof: false, bytes });
                    ctx.send(conn, Msg::Rdb(payload));
                    self.replicas[i].state = ReplState::SendBulk;
                    let t = ctx.transfer_time(conn, bytes);
                    ctx.set_timer(t.max(1), RedisTimer::BulkSent(conn));
                }
            }
        }
        self.refresh_good_replicas(now);
        // replicationStartPendingFork()
        if self.should_start_child(now) {
            self.start_bgsave_for_replication(ctx, host.disk.faults);
        }
    }

    /// The disk RDB was sent: the replica is online (replicaPutOnline()).
    pub(super) fn bulk_sent(&mut self, ctx: &mut Ctx<'_>, _host: &mut Host<'_>, conn: ConnId) {
        let now = ctx.unixtime();
        let Some(r) = self
            .replicas
            .iter_mut()
            .find(|r| r.conn == conn && r.state == ReplState::SendBulk)
        else {
            return;
        };
        r.state = ReplState::Online;
        r.ack_time = now;
        let name = r.name.clone();
        ctx.log(
            Level::Notice,
            "Synchronization with replica succeeded",
            format!("Synchronization with replica {name} succeeded"),
        );
        self.refresh_good_replicas(now);
    }

    /// shouldStartChildReplication()
    fn should_start_child(&self, now: u64) -> bool {
        if self.child.is_some() {
            return false;
        }
        let waiting: Vec<&ReplicaClient> = self
            .replicas
            .iter()
            .filter(|r| r.state == ReplState::WaitBgsaveStart)
            .collect();
        if waiting.is_empty() {
            return false;
        }
        if !self.cfg.repl_diskless_sync {
            return true;
        }
        let max_idle = waiting
            .iter()
            .map(|r| now.saturating_sub(r.lastinteraction))
            .max()
            .unwrap_or(0);
        let max = self.cfg.repl_diskless_sync_max_replicas;
        (max > 0 && waiting.len() as u32 >= max) || max_idle >= self.cfg.repl_diskless_sync_delay
    }

    /// The master half of replicationCron().
    pub(super) fn master_cron(&mut self, ctx: &mut Ctx<'_>, faults: HostFaults, loops: u64) {
        let now = ctx.unixtime();
        // A master paused for a cluster manual failover (or a FAILOVER with a
        // timeout) sends no PING, so its offset stays where the replica
        // must reach.
        let manual_failover_in_progress = (self.cluster.as_ref().is_some_and(|c| c.mf_end != 0)
            || self.failover.has_timeout())
            && self.pauses.check(ctx.mstime() as i64).0;
        if self.replica.is_none()
            && loops.is_multiple_of(self.cfg.repl_ping_replica_period)
            && !self.replicas.is_empty()
            && !manual_failover_in_progress
        {
            // The keep-alive goes in the stream's current db: no SELECT.
            self.feed(Cmd::Ping);
        }
        let socket_child = matches!(
            self.child.as_ref().map(|c| c.kind),
            Some(ChildKind::Replication { socket: true })
        );
        for r in &self.replicas {
            let presync = r.state == ReplState::WaitBgsaveStart
                || (r.state == ReplState::WaitBgsaveEnd && !socket_child);
            // A socket transfer keeps the link busy with RDB bytes instead.
            let streaming_rdb = r.state == ReplState::WaitBgsaveEnd && socket_child;
            if presync || streaming_rdb {
                ctx.send(r.conn, Msg::KeepAlive);
            }
        }
        let timeout = self.cfg.repl_timeout;
        let timed_out: Vec<(ConnId, String)> = self
            .replicas
            .iter()
            .filter(|r| r.state == ReplState::Online && now.saturating_sub(r.ack_time) > timeout)
            .map(|r| (r.conn, r.name.clone()))
            .collect();
        for (conn, name) in timed_out {
            ctx.log(
                Level::Warning,
                "Disconnecting timedout replica (streaming sync)",
                format!("Disconnecting timedout replica (streaming sync): {name}"),
            );
            ctx.close(conn);
            self.remove_replica(ctx, conn);
        }
        if self.replicas.is_empty()
            && self.cfg.repl_backlog_ttl > 0
            && self.backlog.is_some()
            && self.replica.is_none()
            && now.saturating_sub(self.repl_no_slaves_since) > self.cfg.repl_backlog_ttl
        {
            self.replid = RunId::random(ctx.rng());
            self.replid2 = RunId::ZERO;
            self.second_replid_offset = -1;
            self.backlog = None;
            ctx.log(
                Level::Notice,
                "Replication backlog freed after seconds without connected replicas.",
                format!(
                    "Replication backlog freed after {} seconds without connected replicas.",
                    self.cfg.repl_backlog_ttl
                ),
            );
        }
        if self.should_start_child(now) {
            self.start_bgsave_for_replication(ctx, faults);
        }
        self.refresh_good_replicas(now);
    }

    /// `PSYNC <replid> <offset> FAILOVER` (syncCommand()): a replica whose
    /// replication ID is the one asked for becomes a master, then answers
    /// the PSYNC as any master would. False when it refused (and replied).
    fn psync_failover(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        id: Option<PsyncId>,
    ) -> bool {
        let asked = match id {
            Some(PsyncId::Id(r)) => r.to_string(),
            _ => "?".to_string(),
        };
        ctx.log(
            Level::Warning,
            "Failover request received for replid",
            format!("Failover request received for replid {asked}."),
        );
        let refuse = if self.replica.is_none() {
            Some("ERR PSYNC FAILOVER can't be sent to a master.")
        } else if !asked.eq_ignore_ascii_case(&self.replid.to_string()) {
            Some("ERR PSYNC FAILOVER replid must match my replid.")
        } else {
            None
        };
        if let Some(e) = refuse {
            ctx.send(conn, Msg::Reply(Reply::Error(e.into())));
            return false;
        }
        self.replicaof_no_one(ctx, host, "");
        let by = self.client_info(host.dir, ctx.id(), conn, "psync");
        ctx.log(
            Level::Notice,
            names::redis::MASTER_MODE,
            format!("MASTER MODE enabled (failover request from '{by}')"),
        );
        true
    }

    /// A replica's connection is gone (freeClient()).
    pub(super) fn remove_replica(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        let Some(i) = self.replicas.iter().position(|r| r.conn == conn) else {
            return;
        };
        let r = self.replicas.remove(i);
        ctx.log(
            Level::Warning,
            "Connection with replica lost.",
            format!("Connection with replica {} lost.", r.name),
        );
        let now = ctx.unixtime();
        if self.replicas.is_empty() {
            self.repl_no_slaves_since = now;
        }
        self.refresh_good_replicas(now);
        let pinned = self.lowest_pin();
        if let Some(b) = self.backlog.as_mut() {
            b.trim(self.master_repl_offset, pinned);
        }
    }

    /// Closes every replica connection (disconnectSlaves()): they reconnect
    /// and PSYNC again.
    pub(super) fn disconnect_replicas(&mut self, ctx: &mut Ctx<'_>) {
        let conns: Vec<ConnId> = self.replicas.iter().map(|r| r.conn).collect();
        for conn in conns {
            ctx.close(conn);
            self.remove_replica(ctx, conn);
        }
    }

    /// A client connection closed.
    pub(super) fn free_client(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        self.unwatch_all(conn);
        self.clients.swap_remove(&conn);
        self.pubsub.forget(conn);
        self.fds.remove(&conn);
        self.blocked.retain(|w| w.conn != conn);
        self.remove_replica(ctx, conn);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{H, call, node, server};
    use super::*;
    use crate::proto::Value;
    use crate::redis::config::RedisConfig;
    use crate::sim::testkit::Probe;
    use crate::time::secs;

    const REPLICA: crate::sim::net::NodeId = 1;

    /// `SET k v`: *3 $3 SET $1 k $1 v = 4 + 9 + 7 + 7 bytes.
    fn set_k_v() -> Cmd {
        let set = Cmd::Set("k".into(), Value::Text("v".into()));
        assert_eq!(set.resp_len(), 27);
        set
    }

    /// A master whose backlog holds one `SET k v`: master_repl_offset 27,
    /// the backlog from offset 1 with 27 bytes (it covers PSYNC offsets 1
    /// to 28), and the replica probe at node 1.
    fn master_with_backlog() -> H {
        let mut h = node(RedisConfig::default(), None, vec![Probe::silent()]);
        let p = server(&mut h);
        let mut backlog = Backlog::new(1 << 20, p.master_repl_offset);
        backlog.feed(set_k_v(), &mut p.master_repl_offset, None);
        p.backlog = Some(backlog);
        assert_eq!((p.master_repl_offset, 1, 27), {
            let b = p.backlog.as_ref().expect("set");
            (27, b.first_byte, b.histlen)
        });
        h
    }

    /// The replica probe sends `PSYNC <id> <offset>` on a new connection;
    /// the master's answer.
    fn psync(h: &mut H, id: PsyncId, offset: i64) -> Reply {
        let conn = h.connect(REPLICA, 0);
        let mark = h.mark();
        h.send(
            REPLICA,
            conn,
            Msg::Cmd(Cmd::Psync {
                id,
                offset,
                failover: false,
            }),
        );
        let replies: Vec<Reply> = h
            .sent_since(mark, 0)
            .into_iter()
            .filter_map(|s| match s.msg {
                Msg::Reply(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(replies.len(), 1, "{replies:?}");
        replies[0].clone()
    }

    fn is_continue(r: &Reply) -> bool {
        matches!(r, Reply::Continue { .. })
    }

    fn is_full(r: &Reply) -> bool {
        matches!(r, Reply::FullResync { offset: 27, .. })
    }

    /// masterTryPartialResynchronization(), the backlog's head: offset 1,
    /// the first byte held, continues (all 27 bytes follow); offset 0, one
    /// byte before it, needs a full resync.
    #[test]
    fn psync_at_the_first_byte_of_the_backlog_continues_one_before_is_full() {
        let mut h = master_with_backlog();
        let replid = server(&mut h).replid;
        let r = psync(&mut h, PsyncId::Id(replid), 1);
        assert_eq!(r, Reply::Continue { replid });
        let accepted = h.events(0, "Partial resynchronization request accepted");
        assert!(
            accepted[0]
                .1
                .ends_with("Sending 27 bytes of backlog starting from offset 1.")
        );

        let mut h = master_with_backlog();
        let replid = server(&mut h).replid;
        assert!(is_full(&psync(&mut h, PsyncId::Id(replid), 0)));
        let lack = "Unable to partial resync with replica for lack of backlog";
        assert_eq!(h.events(0, lack).len(), 1);
    }

    /// masterTryPartialResynchronization(), the backlog's tail: offset 28 =
    /// master_repl_offset + 1 (a replica with every byte) continues with 0
    /// bytes; offset 29 is past what the master has: full resync, with the
    /// warning that the replica is ahead.
    #[test]
    fn psync_right_after_the_last_byte_continues_one_past_is_full() {
        let mut h = master_with_backlog();
        let replid = server(&mut h).replid;
        assert!(is_continue(&psync(&mut h, PsyncId::Id(replid), 28)));
        let accepted = h.events(0, "Partial resynchronization request accepted");
        assert!(accepted[0].1.contains("Sending 0 bytes"));

        let mut h = master_with_backlog();
        let replid = server(&mut h).replid;
        assert!(is_full(&psync(&mut h, PsyncId::Id(replid), 29)));
        let ahead =
            "tried to PSYNC with an offset that is greater than the master replication offset.";
        assert_eq!(h.events(0, ahead).len(), 1);
    }

    /// masterTryPartialResynchronization(), the ID check: the previous
    /// history (replid2) is accepted up to second_replid_offset, the first
    /// offset the new history does not share; one byte further is refused.
    #[test]
    fn psync_on_replid2_is_accepted_up_to_second_replid_offset() {
        let old = RunId([b'a'; 40]);
        let given = |h: &mut H| {
            let p = server(h);
            p.replid2 = old;
            p.second_replid_offset = 20;
        };
        let mut h = master_with_backlog();
        given(&mut h);
        assert!(is_continue(&psync(&mut h, PsyncId::Id(old), 20)));

        let mut h = master_with_backlog();
        given(&mut h);
        assert!(is_full(&psync(&mut h, PsyncId::Id(old), 21)));
        let refused = h.events(
            0,
            "Partial resynchronization not accepted: Requested offset for second ID",
        );
        assert!(refused[0].1.ends_with("was 21, but I can reply up to 20"));
    }

    /// masterTryPartialResynchronization(): `PSYNC ? -1` (no cached master)
    /// and an unknown replication ID both get a full resync, whatever the
    /// offset.
    #[test]
    fn psync_with_no_or_an_unknown_id_is_full() {
        let mut h = master_with_backlog();
        assert!(is_full(&psync(&mut h, PsyncId::Unknown, -1)));
        assert_eq!(h.events(0, "Full resync requested by replica").len(), 1);
        assert!(is_full(&psync(&mut h, PsyncId::Id(RunId([b'b'; 40])), 1)));
        let mismatch = "Partial resynchronization not accepted: Replication ID mismatch";
        assert_eq!(h.events(0, mismatch).len(), 1);
    }

    /// replicationCron() on a master: an online replica whose last REPLCONF
    /// ACK is more than repl-timeout (60 s) old is disconnected; at exactly
    /// 60 s it stays.
    #[test]
    fn a_replica_silent_for_more_than_repl_timeout_is_dropped() {
        let mut h = master_with_backlog();
        let replid = server(&mut h).replid;
        assert!(is_continue(&psync(&mut h, PsyncId::Id(replid), 28)));
        h.run_until(secs(1));
        let now = h.mstime(0) / 1000;
        server(&mut h).replicas[0].ack_time = now - 60;
        call(&mut h, |p, ctx, _| {
            p.master_cron(ctx, Default::default(), 1)
        });
        assert_eq!(server(&mut h).replicas.len(), 1);
        server(&mut h).replicas[0].ack_time = now - 61;
        call(&mut h, |p, ctx, _| {
            p.master_cron(ctx, Default::default(), 1)
        });
        assert!(server(&mut h).replicas.is_empty());
        let dropped = h.events(0, "Disconnecting timedout replica (streaming sync)");
        assert_eq!(
            dropped,
            vec![(
                secs(1),
                "Disconnecting timedout replica (streaming sync): 10.0.0.2:0".into()
            )]
        );
    }

    /// refreshGoodSlavesCount(): with min-replicas-to-write set, an online
    /// replica counts as good while its last ACK is at most
    /// min-replicas-max-lag (10 s) old.
    #[test]
    fn a_replica_is_good_while_its_ack_is_at_most_max_lag_old() {
        let mut h = master_with_backlog();
        server(&mut h).cfg.min_replicas_to_write = 1;
        let replid = server(&mut h).replid;
        psync(&mut h, PsyncId::Id(replid), 28);
        let now = h.mstime(0) / 1000;
        let p = server(&mut h);
        p.replicas[0].ack_time = now - 10;
        p.refresh_good_replicas(now);
        assert_eq!(p.good_replicas, 1);
        p.replicas[0].ack_time = now - 11;
        p.refresh_good_replicas(now);
        assert_eq!(p.good_replicas, 0);
    }

    /// replconfCommand(): an announced address of 255 bytes is kept; one
    /// of NET_HOST_STR_LEN (256) bytes or more is refused with its length.
    #[test]
    fn replconf_ip_address_is_refused_from_256_bytes() {
        let mut h = node(RedisConfig::default(), None, vec![Probe::silent()]);
        let conn = h.connect(REPLICA, 0);
        let mut reply = |ip: String| {
            let mark = h.mark();
            h.send(REPLICA, conn, Msg::Cmd(Cmd::ReplconfIpAddress(ip.into())));
            h.sent_since(mark, 0)
                .into_iter()
                .find_map(|s| match s.msg {
                    Msg::Reply(r) => Some(r),
                    _ => None,
                })
                .expect("a reply")
        };
        assert_eq!(reply("a".repeat(255)), Reply::Ok);
        assert_eq!(
            reply("a".repeat(256)),
            Reply::Error(
                "ERR REPLCONF ip-address provided by replica instance is too long: 256 bytes"
                    .into()
            )
        );
        let kept = server(&mut h)
            .clients
            .values()
            .find_map(|c| c.announced_ip.clone());
        assert_eq!(kept.map(|ip| ip.len()), Some(255));
    }
}
