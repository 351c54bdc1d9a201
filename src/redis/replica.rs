//! The replica side of replication: the connection and handshake state
//! machine, PSYNC, loading a full-sync RDB, applying the stream, ACKs,
//! timeouts, and REPLICAOF (replication.c: connectWithMaster(),
//! syncWithMaster(), slaveTryPartialResynchronization(), readSyncBulkPayload(),
//! replicationCron(), replicaofCommand()).

use std::rc::Rc;

use compact_str::CompactString;

use crate::proto::{Cmd, Ctx, Msg, PsyncId, RdbPayload, Reply, RunId};
use crate::sim::net::{ConnId, NodeId};
use crate::trace::Level;
use crate::trace::names;

use super::backlog::Backlog;
use super::failover::FailoverState;
use super::host_faults::RdbDamage;
use super::persistence::AofFile;
use super::{ClientType, Host, RedisTimer, Server, apply_write};
use crate::proto::addr::Directory;

/// `repl_state`, in Redis's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connect,
    Connecting,
    ReceivePingReply,
    ReceiveAuthReply,
    ReceivePortReply,
    ReceiveIpReply,
    ReceiveCapaReply,
    ReceivePsyncReply,
    Transfer,
    Connected,
}

impl LinkState {
    /// server.h's `REPL_STATE_*` name, lower case, for readers of a
    /// recording (Redis prints none of them).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::ReceivePingReply => "receive_ping_reply",
            LinkState::ReceiveAuthReply => "receive_auth_reply",
            LinkState::ReceivePortReply => "receive_port_reply",
            LinkState::ReceiveIpReply => "receive_ip_reply",
            LinkState::ReceiveCapaReply => "receive_capa_reply",
            LinkState::ReceivePsyncReply => "receive_psync_reply",
            LinkState::Transfer => "transfer",
            LinkState::Connected => "connected",
        }
    }
}

#[derive(Debug)]
pub struct ReplicaSide {
    pub master: NodeId,
    /// `masterhost` and `masterport`: the master's address as it was
    /// given (REPLICAOF's arguments, or the configured `replicaof`).
    pub master_host: CompactString,
    pub master_port: u16,
    pub state: LinkState,
    /// The connection to the master (handshake, transfer or established).
    pub conn: Option<ConnId>,
    /// Unix seconds of the last I/O during connect/handshake/transfer.
    pub transfer_lastio: u64,
    /// Unix seconds when the link went down; 0 if it never was up.
    pub down_since: u64,
    /// Unix seconds of the last data from an established master link.
    pub lastinteraction: u64,
    /// The cached master: (replid, applied offset) to PSYNC with.
    pub cached: Option<(RunId, u64)>,
    /// `client->id` of the master client (the cached one, or the one the
    /// established link runs in): each createClient() takes the next id,
    /// so the ids clients see depend on it.
    pub master_client_id: Option<u64>,
    /// The master client's CLIENT LIST bookkeeping.
    pub(super) master_meta: Option<super::client_list::ClientMeta>,
    /// From +FULLRESYNC.
    master_replid: RunId,
    master_initial_offset: u64,
    /// Loading a full-sync RDB; stream data waits in the socket meanwhile.
    load_gen: u64,
    loading: Option<Rc<crate::proto::keyspace::Dataset>>,
    /// The file being loaded reads back with a wrong checksum
    /// (`rdb-corrupt`): the load ends in an exit, not a link.
    load_damaged: bool,
    deferred: Vec<Msg>,
    pub transfer_size: u64,
    /// The PSYNC reply was not understood: the old SYNC was sent.
    used_sync: bool,
}

impl ReplicaSide {
    pub fn new(master: NodeId, (host, port): (&str, u16)) -> Self {
        Self {
            master,
            master_host: host.into(),
            master_port: port,
            state: LinkState::Connect,
            conn: None,
            transfer_lastio: 0,
            down_since: 0,
            lastinteraction: 0,
            cached: None,
            master_client_id: None,
            master_meta: None,
            master_replid: RunId::ZERO,
            master_initial_offset: 0,
            load_gen: 0,
            loading: None,
            load_damaged: false,
            deferred: Vec::new(),
            transfer_size: 0,
            used_sync: false,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.state == LinkState::Connected
    }

    fn in_handshake(&self) -> bool {
        matches!(
            self.state,
            LinkState::ReceivePingReply
                | LinkState::ReceiveAuthReply
                | LinkState::ReceivePortReply
                | LinkState::ReceiveCapaReply
                | LinkState::ReceivePsyncReply
        )
    }
}

impl Server {
    fn side(&mut self) -> &mut ReplicaSide {
        self.replica.as_mut().expect("a replica")
    }

    /// connectWithMaster()
    pub(super) fn connect_with_master(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.unixtime();
        let master = self.side().master;
        let conn = ctx.connect(master);
        self.take_fd(conn);
        let side = self.side();
        side.conn = Some(conn);
        side.state = LinkState::Connecting;
        side.transfer_lastio = now;
        ctx.log(
            Level::Notice,
            "MASTER <-> REPLICA sync started",
            "MASTER <-> REPLICA sync started".into(),
        );
    }

    /// Drops the connection in progress, back to CONNECT; the cron retries
    /// within a second (the error path of syncWithMaster()).
    fn cancel_handshake(&mut self, ctx: &mut Ctx<'_>) {
        let side = self.side();
        if let Some(conn) = side.conn.take() {
            ctx.close(conn);
        }
        side.state = LinkState::Connect;
        side.loading = None;
        side.deferred.clear();
        side.used_sync = false;
        self.loading_until = None;
    }

    /// cancelReplicationHandshake(1): drop it and reconnect at once.
    /// readSyncBulkPayload(): the temp file of the transfer cannot be
    /// written (a full disk); the handshake is cancelled and the replica
    /// reconnects at once.
    fn transfer_write_failed(&mut self, ctx: &mut Ctx<'_>) {
        ctx.log(
            Level::Warning,
            "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization",
            format!(
                "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: {}",
                super::disk_errors::ENOSPC
            ),
        );
        self.cancel_and_reconnect(ctx);
    }

    pub(super) fn cancel_and_reconnect(&mut self, ctx: &mut Ctx<'_>) {
        self.cancel_handshake(ctx);
        let addr = self.master_addr.clone();
        ctx.log(
            Level::Notice,
            "Reconnecting to MASTER after failure",
            format!("Reconnecting to MASTER {addr} after failure"),
        );
        self.connect_with_master(ctx);
    }

    pub(super) fn replica_connected(
        &mut self,
        ctx: &mut Ctx<'_>,
        _host: &mut Host<'_>,
        conn: ConnId,
    ) {
        let Some(side) = self.replica.as_mut() else {
            return;
        };
        if side.conn != Some(conn) || side.state != LinkState::Connecting {
            return;
        }
        ctx.log(
            Level::Notice,
            "Non blocking connect for SYNC fired the event.",
            "Non blocking connect for SYNC fired the event.".into(),
        );
        side.state = LinkState::ReceivePingReply;
        side.transfer_lastio = ctx.unixtime();
        ctx.send(conn, Msg::Cmd(Cmd::Ping));
    }

    pub(super) fn replica_connect_failed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        let Some(side) = self.replica.as_mut() else {
            return;
        };
        if side.conn != Some(conn) {
            return;
        }
        side.conn = None;
        side.state = LinkState::Connect;
        ctx.log(
            Level::Warning,
            "Error condition on socket for SYNC",
            "Error condition on socket for SYNC: Connection refused".into(),
        );
    }

    /// Input on the connection to our master.
    pub(super) fn replica_input(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        msg: Msg,
    ) {
        let now = ctx.unixtime();
        let state = self.side().state;
        match (state, msg) {
            (LinkState::Connected, Msg::Stream(cmds)) => {
                self.side().lastinteraction = now;
                if let (Some(meta), Some(last)) = (self.side().master_meta.as_mut(), cmds.last()) {
                    let chunk = cmds.iter().map(Cmd::resp_len).sum();
                    meta.read(now, Some(last.full_name()));
                    meta.query_buf = super::client_list::QueryBuf::Trimmed(chunk);
                }
                self.apply_stream(ctx, cmds);
            }
            (LinkState::Connected, _) => {}
            (LinkState::Transfer, msg) if self.side().loading.is_some() => {
                self.side().deferred.push(msg)
            }
            (LinkState::Transfer, Msg::KeepAlive) => self.side().transfer_lastio = now,
            (LinkState::Transfer, Msg::RdbHeader { eof, bytes }) => {
                let side = self.side();
                side.transfer_lastio = now;
                side.transfer_size = bytes;
                if eof {
                    ctx.log(
                        Level::Notice,
                        "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk",
                        "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk"
                            .into(),
                    );
                } else {
                    ctx.log(
                        Level::Notice,
                        "MASTER <-> REPLICA sync: receiving bytes from master to disk",
                        format!(
                            "MASTER <-> REPLICA sync: receiving {bytes} bytes from master to disk"
                        ),
                    );
                }
                // The first bytes read go to the temp file at once.
                if host.disk.faults.disk_full() {
                    self.transfer_write_failed(ctx);
                }
            }
            (LinkState::Transfer, Msg::Rdb(_)) if host.disk.faults.disk_full() => {
                self.transfer_write_failed(ctx)
            }
            (LinkState::Transfer, Msg::Rdb(payload)) => self.receive_rdb(ctx, host, payload),
            (LinkState::Transfer, Msg::Reply(Reply::Error(e))) => {
                ctx.log(
                    Level::Warning,
                    "MASTER aborted replication with an error",
                    format!("MASTER aborted replication with an error: {e}"),
                );
                self.cancel_and_reconnect(ctx);
            }
            (LinkState::Transfer, Msg::Stream(_)) => {}
            (_, Msg::Reply(reply)) => self.handshake_reply(ctx, host, conn, reply),
            (LinkState::ReceivePsyncReply, Msg::KeepAlive) => self.side().transfer_lastio = now,
            _ => {}
        }
    }

    /// syncWithMaster(): one reply of the handshake.
    fn handshake_reply(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        reply: Reply,
    ) {
        let now = ctx.unixtime();
        let masterauth = self.cfg.masterauth.clone();
        let port = match self.cfg.replica_announce_port {
            0 => self.cfg.port,
            announced => announced,
        };
        let announce_ip = self.cfg.replica_announce_ip.clone();
        let failover = self.failover.state == FailoverState::InProgress;
        let side = self.side();
        side.transfer_lastio = now;
        match side.state {
            LinkState::ReceivePingReply => {
                let ok = match &reply {
                    Reply::Error(e) => {
                        e.starts_with("NOAUTH")
                            || e.starts_with("NOPERM")
                            || e.starts_with("ERR operation not permitted")
                    }
                    _ => true,
                };
                if !ok {
                    let e = error_text(&reply);
                    ctx.log(
                        Level::Warning,
                        "Error reply to PING from master",
                        format!("Error reply to PING from master: '-{e}'"),
                    );
                    self.cancel_handshake(ctx);
                    return;
                }
                ctx.log(
                    Level::Notice,
                    "Master replied to PING, replication can continue...",
                    "Master replied to PING, replication can continue...".into(),
                );
                if let Some(pass) = &masterauth {
                    ctx.send(conn, Msg::Cmd(Cmd::Auth(pass.as_str().into())));
                }
                ctx.send(conn, Msg::Cmd(Cmd::ReplconfListeningPort(port)));
                if let Some(ip) = &announce_ip {
                    ctx.send(conn, Msg::Cmd(Cmd::ReplconfIpAddress(ip.as_str().into())));
                }
                ctx.send(conn, Msg::Cmd(Cmd::ReplconfCapa));
                side.state = if masterauth.is_some() {
                    LinkState::ReceiveAuthReply
                } else {
                    LinkState::ReceivePortReply
                };
            }
            LinkState::ReceiveAuthReply => {
                if let Reply::Error(e) = &reply {
                    ctx.log(
                        Level::Warning,
                        "Unable to AUTH to MASTER",
                        format!("Unable to AUTH to MASTER: -{e}"),
                    );
                    self.cancel_handshake(ctx);
                    return;
                }
                side.state = LinkState::ReceivePortReply;
            }
            LinkState::ReceivePortReply => {
                if let Reply::Error(e) = &reply {
                    ctx.log(
                        Level::Notice,
                        "(Non critical) Master does not understand REPLCONF listening-port",
                        format!(
                            "(Non critical) Master does not understand REPLCONF listening-port: -{e}"
                        ),
                    );
                }
                side.state = if announce_ip.is_some() {
                    LinkState::ReceiveIpReply
                } else {
                    LinkState::ReceiveCapaReply
                };
            }
            LinkState::ReceiveIpReply => {
                if let Reply::Error(e) = &reply {
                    ctx.log(
                        Level::Notice,
                        "(Non critical) Master does not understand REPLCONF ip-address",
                        format!(
                            "(Non critical) Master does not understand REPLCONF ip-address: -{e}"
                        ),
                    );
                }
                side.state = LinkState::ReceiveCapaReply;
            }
            LinkState::ReceiveCapaReply => {
                if let Reply::Error(e) = &reply {
                    ctx.log(
                        Level::Notice,
                        "(Non critical) Master does not understand REPLCONF capa",
                        format!("(Non critical) Master does not understand REPLCONF capa: -{e}"),
                    );
                }
                let (id, offset) = match side.cached {
                    Some((id, off)) => {
                        ctx.log(
                            Level::Notice,
                            names::redis::TRYING_PARTIAL_RESYNC,
                            format!(
                                "Trying a partial resynchronization (request {}:{}).",
                                id,
                                off + 1
                            ),
                        );
                        (PsyncId::Id(id), off as i64 + 1)
                    }
                    None => {
                        ctx.log(
                            Level::Notice,
                            "Partial resynchronization not possible (no cached master)",
                            "Partial resynchronization not possible (no cached master)".into(),
                        );
                        (PsyncId::Unknown, -1)
                    }
                };
                ctx.send(
                    conn,
                    Msg::Cmd(Cmd::Psync {
                        id,
                        offset,
                        failover,
                    }),
                );
                side.state = LinkState::ReceivePsyncReply;
            }
            LinkState::ReceivePsyncReply => self.psync_reply(ctx, host, conn, reply),
            _ => {}
        }
    }

    /// The master's answer to PSYNC (slaveTryPartialResynchronization()).
    fn psync_reply(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>, conn: ConnId, reply: Reply) {
        match reply {
            Reply::FullResync { replid, offset } => {
                ctx.log(
                    Level::Notice,
                    names::redis::FULL_RESYNC,
                    format!("Full resync from master: {replid}:{offset}"),
                );
                let side = self.side();
                side.master_replid = replid;
                side.master_initial_offset = offset;
                side.state = LinkState::Transfer;
                self.failover_psync_answered(ctx, host, true);
            }
            Reply::Continue { replid } => {
                ctx.log(
                    Level::Notice,
                    names::redis::PARTIAL_RESYNC_DONE,
                    names::redis::PARTIAL_RESYNC_DONE.into(),
                );
                let (cached_id, cached_off) = self.side().cached.take().expect("sent with cache");
                if replid != cached_id {
                    ctx.log(
                        Level::Warning,
                        "Master replication ID changed",
                        format!("Master replication ID changed to {replid}"),
                    );
                    self.replid2 = cached_id;
                    self.second_replid_offset = cached_off as i64 + 1;
                    self.disconnect_replicas(ctx);
                }
                self.replid = replid;
                self.master_repl_offset = cached_off;
                if self.backlog.is_none() {
                    self.backlog = Some(Backlog::new(self.cfg.repl_backlog_size, cached_off));
                }
                let now = ctx.unixtime();
                let fd = self.fds.get(&conn).copied().unwrap_or(-1);
                let fresh = self.new_client_meta(fd);
                let linked = fresh.linked;
                let side = self.side();
                side.state = LinkState::Connected;
                side.down_since = 0;
                side.lastinteraction = now;
                side.conn = Some(conn);
                // replicationResurrectCachedMaster(): the cached client, with
                // its id, age and last command, on the new socket.
                let meta = side.master_meta.get_or_insert(fresh);
                meta.fd = fd;
                meta.last_interaction = now;
                meta.linked = linked;
                ctx.log(
                    Level::Notice,
                    "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.",
                    "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.".into(),
                );
                self.failover_psync_answered(ctx, host, true);
            }
            Reply::Error(e) if e.starts_with("NOMASTERLINK") || e.starts_with("LOADING") => {
                ctx.log(
                    Level::Notice,
                    "Master is currently unable to PSYNC but should be in the future",
                    format!(
                        "Master is currently unable to PSYNC but should be in the future: -{e}"
                    ),
                );
                if self.failover_psync_answered(ctx, host, false) {
                    self.cancel_handshake(ctx);
                }
            }
            other => {
                let e = error_text(&other);
                if e.starts_with("ERR") {
                    ctx.log(
                        Level::Notice,
                        "Master does not support PSYNC or is in error state",
                        format!("Master does not support PSYNC or is in error state (reply: -{e})"),
                    );
                } else {
                    ctx.log(
                        Level::Warning,
                        "Unexpected reply to PSYNC from master",
                        format!("Unexpected reply to PSYNC from master: -{e}"),
                    );
                }
                if !self.failover_psync_answered(ctx, host, false) {
                    return;
                }
                ctx.log(
                    Level::Notice,
                    "Retrying with SYNC...",
                    "Retrying with SYNC...".into(),
                );
                ctx.send(conn, Msg::Cmd(Cmd::Sync));
                let side = self.side();
                side.cached = None;
                side.used_sync = true;
                side.state = LinkState::Transfer;
            }
        }
    }

    /// The RDB arrived: flush the old data and load it (readSyncBulkPayload()).
    fn receive_rdb(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>, payload: RdbPayload) {
        // replicationAttachToNewMaster(), once the whole payload is read:
        // the cached master (kept until now, so a transfer that fails can
        // still be followed by a partial resync), sub-replicas and our
        // backlog go.
        if self.side().cached.take().is_some() {
            ctx.log(
                Level::Notice,
                "Discarding previously cached master state.",
                "Discarding previously cached master state.".into(),
            );
        }
        self.disconnect_replicas(ctx);
        self.backlog = None;
        ctx.log(
            Level::Notice,
            names::redis::FLUSHING_OLD_DATA,
            names::redis::FLUSHING_OLD_DATA.into(),
        );
        self.data.clear();
        ctx.log(
            Level::Notice,
            "MASTER <-> REPLICA sync: Loading DB in memory",
            "MASTER <-> REPLICA sync: Loading DB in memory".into(),
        );
        // The temp file is fsynced, then replaces dump.rdb with the
        // master's replication aux fields (repl-diskless-load disabled).
        if host.disk.faults.fsync_fails() {
            ctx.log(
                Level::Warning,
                "Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization",
                format!(
                    "Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization: {}",
                    super::disk_errors::EIO
                ),
            );
            self.cancel_and_reconnect(ctx);
            return;
        }
        let side = self.side();
        host.disk.rdb = Some(super::persistence::RdbFile {
            data: payload.data.clone(),
            repl: Some((side.master_replid, side.master_initial_offset)),
        });
        let damage = host.disk.faults.rdb_damage();
        if damage == Some(RdbDamage::Signature) {
            self.sync_load_refused(ctx);
            return;
        }
        let load = payload.bytes * 1_000_000 / self.cfg.rdb_load_rate;
        let side = self.side();
        side.transfer_size = payload.bytes;
        side.load_gen += 1;
        side.loading = Some(payload.data);
        side.load_damaged = damage == Some(RdbDamage::Checksum);
        let generation = side.load_gen;
        self.loading_until = Some(ctx.sim_time() + load);
        ctx.set_timer(load.max(1), RedisTimer::LoadDone(generation));
    }

    /// Loading finished: the link is up at the FULLRESYNC offset.
    pub(super) fn sync_load_done(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        generation: u64,
    ) {
        let Some(side) = self.replica.as_mut() else {
            return;
        };
        if side.load_gen != generation {
            return;
        }
        let Some(data) = side.loading.take() else {
            return;
        };
        if side.load_damaged {
            let bytes = side.transfer_size;
            self.checksum_failed(ctx, bytes);
            return;
        }
        let deferred = std::mem::take(&mut side.deferred);
        let offset = side.master_initial_offset;
        let replid = side.master_replid;
        let now = ctx.unixtime();
        side.state = LinkState::Connected;
        side.down_since = 0;
        side.lastinteraction = now;
        let conn = side.conn.expect("transfer has a connection");
        let eof = !side.used_sync;
        side.used_sync = false;
        self.loading_until = None;
        self.data = (*data).clone();
        // Loading touches nothing; emptying the old data did.
        self.data.track(!self.watchers.is_empty());
        self.replid = replid;
        self.master_repl_offset = offset;
        self.replid2 = RunId::ZERO;
        self.second_replid_offset = -1;
        self.backlog = Some(Backlog::new(self.cfg.repl_backlog_size, offset));
        if self.cfg.appendonly {
            self.aof_rebuilt_after_sync();
            host.disk.aof = Some(AofFile::new(Rc::new(self.data.clone())));
        }
        // replicationCreateMasterClient(): a new client, with the next id.
        let id = self.take_client_id();
        let fd = self.fds.get(&conn).copied().unwrap_or(-1);
        let meta = self.new_client_meta(fd);
        let side = self.side();
        side.master_client_id = Some(id);
        side.master_meta = Some(meta);
        ctx.log(
            Level::Notice,
            "MASTER <-> REPLICA sync: Finished with success",
            "MASTER <-> REPLICA sync: Finished with success".into(),
        );
        if eof {
            self.master_client_wrote(Cmd::ReplconfAck(offset).resp_len());
            ctx.send(conn, Msg::Cmd(Cmd::ReplconfAck(offset)));
        }
        for msg in deferred {
            if let Msg::Stream(cmds) = msg {
                self.apply_stream(ctx, cmds);
            }
        }
    }

    /// Applies commands from the master, advancing the offset by their bytes
    /// and proxying them to our own backlog and sub-replicas.
    pub(super) fn apply_stream(&mut self, ctx: &mut Ctx<'_>, cmds: Vec<Cmd>) {
        let mut cmds = cmds.into_iter();
        while let Some(cmd) = cmds.next() {
            // The master link is not exempt from a pause (processCommand()):
            // its commands wait, and everything read after them.
            if !self.paused_stream.is_empty() || self.pauses.postpones(cmd.may_replicate()) {
                self.paused_stream.push(cmd);
                self.paused_stream.extend(cmds);
                return;
            }
            let ping = matches!(cmd, Cmd::Ping);
            if (ping || cmd.is_write()) && self.replica_disk_error(ctx, ping) {
                return;
            }
            if let Cmd::ReplconfGetack = cmd {
                // Answered before this command's own bytes are counted.
                if let Some(conn) = self.replica.as_ref().and_then(|s| s.conn) {
                    self.master_client_wrote(Cmd::ReplconfAck(self.master_repl_offset).resp_len());
                    ctx.send(conn, Msg::Cmd(Cmd::ReplconfAck(self.master_repl_offset)));
                }
            }
            // A transaction from the master (several commands one call
            // propagated) runs at EXEC, and only then do the offsets move
            // (commandProcessed() skips the reploff update while
            // CLIENT_MULTI is set).
            let name = match &cmd {
                Cmd::Named { spec, .. } => spec.name,
                _ => "",
            };
            match (name, self.stream_multi.as_mut()) {
                ("multi", _) => self.stream_multi = Some(vec![cmd]),
                ("exec", Some(_)) => {
                    let mut tx = self.stream_multi.take().expect("matched");
                    tx.push(cmd);
                    for cmd in tx {
                        self.apply_from_master(ctx, cmd);
                    }
                }
                (_, Some(tx)) => tx.push(cmd),
                (_, None) => self.apply_from_master(ctx, cmd),
            }
        }
    }

    /// One command of the master's stream: run as the master client (keys
    /// never count as expired), then fed to our own backlog and replicas.
    fn apply_from_master(&mut self, ctx: &mut Ctx<'_>, cmd: Cmd) {
        self.stats.commands_processed += 1;
        // publishCommand() run by the master client reaches our own
        // subscribers too (a Sentinel subscribed to a replica hears the
        // hellos published on its master).
        if let Cmd::Publish { channel, message } = &cmd {
            self.deliver(ctx, channel, message);
        }
        if apply_write(&mut self.data, &cmd) {
            self.dirty += 1;
            if self.cfg.appendonly {
                self.aof_pending.push(cmd.clone());
            }
        }
        self.touch_watched();
        let pinned = self.lowest_pin();
        match self.backlog.as_mut() {
            Some(b) => {
                if b.feed(cmd, &mut self.master_repl_offset, pinned) {
                    self.check_output_limits();
                }
            }
            None => self.master_repl_offset += cmd.resp_len(),
        }
    }

    /// The link to the master dropped. An established link is cached and
    /// we reconnect at once (replicationCacheMaster(),
    /// replicationHandleMasterDisconnection()); a transfer is retried at once;
    /// a handshake waits for the cron.
    pub(super) fn master_link_lost(&mut self, ctx: &mut Ctx<'_>, _host: &mut Host<'_>) {
        match self.side().state {
            LinkState::Connected => {
                ctx.log(
                    Level::Warning,
                    "Connection with master lost.",
                    "Connection with master lost.".into(),
                );
                self.cache_master_and_reconnect(ctx);
            }
            LinkState::Transfer => {
                ctx.log(
                    Level::Warning,
                    "I/O error trying to sync with MASTER",
                    "I/O error trying to sync with MASTER: connection lost".into(),
                );
                self.cancel_and_reconnect(ctx);
            }
            _ => {
                ctx.log(
                    Level::Warning,
                    "Master did not respond to command during SYNC handshake",
                    "Master did not respond to command during SYNC handshake".into(),
                );
                self.cancel_handshake(ctx);
            }
        }
    }

    /// `CLIENT KILL TYPE master`: freeClient() of the master client caches
    /// it and reconnects at once, as a lost link does. Before the link is
    /// established there is no master client, and nothing happens.
    pub(super) fn client_kill_master(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        if self
            .replica
            .as_ref()
            .is_some_and(|r| r.state == LinkState::Connected)
        {
            self.master_link_lost(ctx, host);
        }
    }

    /// Drops an established master link, keeping it as the cached master.
    fn cache_master(&mut self, ctx: &mut Ctx<'_>) {
        // A transaction half read is discarded with the master client.
        self.stream_multi = None;
        let (replid, offset, now) = (self.replid, self.master_repl_offset, ctx.unixtime());
        // A master client blocked by a pause is freed without caching
        // (freeClient() caches only an unblocked one).
        let blocked = !std::mem::take(&mut self.paused_stream).is_empty();
        let side = self.side();
        if let Some(conn) = side.conn.take() {
            ctx.close(conn);
        }
        side.cached = None;
        if !blocked {
            ctx.log(
                Level::Notice,
                "Caching the disconnected master state.",
                "Caching the disconnected master state.".into(),
            );
            side.cached = Some((replid, offset));
        }
        side.state = LinkState::Connect;
        side.down_since = now;
    }

    fn cache_master_and_reconnect(&mut self, ctx: &mut Ctx<'_>) {
        self.cache_master(ctx);
        let addr = self.master_addr.clone();
        ctx.log(
            Level::Notice,
            "Reconnecting to MASTER",
            format!("Reconnecting to MASTER {addr}"),
        );
        self.connect_with_master(ctx);
    }

    /// The replica half of replicationCron().
    pub(super) fn replica_cron(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.unixtime();
        let timeout = self.cfg.repl_timeout;
        let side = self.side();
        if (side.state == LinkState::Connecting || side.in_handshake())
            && now.saturating_sub(side.transfer_lastio) > timeout
        {
            ctx.log(
                Level::Warning,
                "Timeout connecting to the MASTER...",
                "Timeout connecting to the MASTER...".into(),
            );
            self.cancel_and_reconnect(ctx);
        } else if side.state == LinkState::Transfer
            && side.loading.is_none()
            && now.saturating_sub(side.transfer_lastio) > timeout
        {
            ctx.log(
                Level::Warning,
                "Timeout receiving bulk data from MASTER...",
                "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.".into(),
            );
            self.cancel_and_reconnect(ctx);
        } else if side.state == LinkState::Connected
            && now.saturating_sub(side.lastinteraction) > timeout
        {
            ctx.log(
                Level::Warning,
                "MASTER timeout: no data nor PING received...",
                "MASTER timeout: no data nor PING received...".into(),
            );
            self.cache_master_and_reconnect(ctx);
        }
        if self.side().state == LinkState::Connect {
            let addr = self.master_addr.clone();
            ctx.log(
                Level::Notice,
                names::redis::CONNECTING_TO_MASTER,
                format!("Connecting to MASTER {addr}"),
            );
            self.connect_with_master(ctx);
        }
        let side = self.side();
        if side.state == LinkState::Connected
            && let Some(conn) = side.conn
        {
            self.master_client_wrote(Cmd::ReplconfAck(self.master_repl_offset).resp_len());
            ctx.send(conn, Msg::Cmd(Cmd::ReplconfAck(self.master_repl_offset)));
        }
    }

    /// `REPLICAOF NO ONE` (replicationUnsetMaster()); `by` describes the
    /// client that asked, for the log line.
    pub(super) fn replicaof_no_one(&mut self, ctx: &mut Ctx<'_>, _host: &mut Host<'_>, by: &str) {
        if self.replica.is_none() {
            return;
        }
        if self.side().is_connected() {
            self.cache_master(ctx);
        } else {
            self.cancel_handshake(ctx);
        }
        if self.side().cached.take().is_some() {
            ctx.log(
                Level::Notice,
                "Discarding previously cached master state.",
                "Discarding previously cached master state.".into(),
            );
        }
        self.replica = None;
        self.loading_until = None;
        // shiftReplicationId()
        self.replid2 = self.replid;
        self.second_replid_offset = self.master_repl_offset as i64 + 1;
        self.replid = RunId::random(ctx.rng());
        ctx.log(
            Level::Warning,
            names::redis::SECONDARY_REPLID,
            format!(
                "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
                self.replid2, self.second_replid_offset, self.replid
            ),
        );
        self.disconnect_replicas(ctx);
        self.slaveseldb = -1;
        self.repl_no_slaves_since = ctx.unixtime();
        if !by.is_empty() {
            ctx.log(
                Level::Notice,
                names::redis::MASTER_MODE,
                format!("MASTER MODE enabled (user request from '{by}')"),
            );
        }
    }

    /// `REPLICAOF host port` (replicationSetMaster()); `by` describes the
    /// client that asked, for the log line.
    pub(super) fn replicaof(
        &mut self,
        ctx: &mut Ctx<'_>,
        master: NodeId,
        (ip, port): (&str, u16),
        by: &str,
    ) {
        if self
            .replica
            .as_ref()
            .is_some_and(|s| s.master_host.eq_ignore_ascii_case(ip) && s.master_port == port)
        {
            // +OK Already connected to specified master
            ctx.log(
                Level::Notice,
                "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.",
                "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.".into(),
            );
            return;
        }
        let cached = match &self.replica {
            None => {
                // Clients blocked in WAIT are disconnected.
                for w in std::mem::take(&mut self.blocked) {
                    ctx.close(w.conn);
                    self.clients.swap_remove(&w.conn);
                }
                ctx.log(
                    Level::Notice,
                    "Before turning into a replica, using my own master parameters to synthesize a cached master",
                    "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.".into(),
                );
                let id = self.take_client_id();
                Some((self.replid, self.master_repl_offset, Some(id)))
            }
            Some(_) => {
                if self.side().is_connected() {
                    self.cache_master(ctx);
                } else {
                    self.cancel_handshake(ctx);
                }
                let side = self.side();
                side.cached
                    .map(|(id, off)| (id, off, side.master_client_id))
            }
        };
        self.loading_until = None;
        let mut side = ReplicaSide::new(master, (ip, port));
        side.cached = cached.map(|(id, off, _)| (id, off));
        side.master_client_id = cached.and_then(|(_, _, client)| client);
        self.replica = Some(side);
        let addr = format!("{ip}:{port}");
        self.master_addr = addr.clone();
        ctx.log(
            Level::Notice,
            names::redis::CONNECTING_TO_MASTER,
            format!("Connecting to MASTER {addr}"),
        );
        self.connect_with_master(ctx);
        if !by.is_empty() {
            ctx.log(
                Level::Notice,
                names::redis::REPLICAOF_ENABLED,
                format!("REPLICAOF {addr} enabled (user request from '{by}')"),
            );
        }
    }

    /// Sentinel's transaction `MULTI; SLAVEOF host port | NO ONE; CONFIG
    /// REWRITE; CLIENT KILL TYPE normal; CLIENT KILL TYPE pubsub; EXEC`
    /// (sentinelSendSlaveOf()). Sentinel ignores the reply and watches INFO.
    pub(super) fn sentinel_slaveof(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        master: Option<(CompactString, u16)>,
    ) -> Reply {
        let target = match &master {
            None => None,
            Some((ip, port)) => match host.dir.lookup(ip, *port) {
                Some(node) => Some(node),
                // Only simulated processes can be replicated from.
                None => return Reply::Error(format!("ERR no instance listens at {ip}:{port}")),
            },
        };
        let by = self.client_info(host.dir, ctx.id(), conn, "slaveof");
        match (target, &master) {
            (Some(node), Some((ip, port))) => self.replicaof(ctx, node, (ip, *port), &by),
            _ => self.replicaof_no_one(ctx, host, &by),
        }
        self.config_rewrite(ctx, host);
        self.kill_clients(ctx, conn, ClientType::Normal);
        self.kill_clients(ctx, conn, ClientType::PubSub);
        Reply::Ok
    }

    /// How a client appears in "user request from" log lines
    /// (catClientInfoString(), abridged as for [`OPERATOR`]). Client ports
    /// are not modelled: one from Linux's ephemeral range stands in.
    pub(super) fn client_info(
        &self,
        dir: &Directory,
        me: NodeId,
        conn: ConnId,
        cmd: &str,
    ) -> String {
        let client = &self.clients[&conn];
        let host = &dir.hosts[client.peer as usize];
        let port = super::client_command::ephemeral_port(conn);
        format!(
            "id={} addr={host}:{port} laddr={} cmd={cmd} user=default",
            client.id,
            dir.addr(me)
        )
    }
}

fn error_text(r: &Reply) -> String {
    match r {
        Reply::Error(e) => e.clone(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{H, call, node, server};
    use super::*;
    use crate::proto::Value;
    use crate::redis::config::RedisConfig;
    use crate::sim::net::PORT_MAIN;
    use crate::sim::testkit::Probe;
    use crate::time::{ms, secs};

    const MASTER: NodeId = 1;
    const X: RunId = RunId([b'x'; 40]);
    const Y: RunId = RunId([b'y'; 40]);

    /// A master that goes through the handshake and answers PSYNC with
    /// `psync`.
    fn master(psync: Reply) -> Probe<Msg> {
        Probe::answering(move |m| match m {
            Msg::Cmd(Cmd::Ping) => Some(Msg::Reply(Reply::Pong)),
            Msg::Cmd(Cmd::Psync { .. }) => Some(Msg::Reply(psync.clone())),
            Msg::Cmd(Cmd::ReplconfListeningPort(_) | Cmd::ReplconfCapa) => {
                Some(Msg::Reply(Reply::Ok))
            }
            _ => None,
        })
    }

    /// A replica of node 1, holding `cached` as its cached master before its
    /// first cron (at 1 ms) connects.
    fn replica(cached: Option<(RunId, u64)>, psync: Reply) -> H {
        let mut h = node(RedisConfig::default(), Some(MASTER), vec![master(psync)]);
        server(&mut h).replica.as_mut().expect("a replica").cached = cached;
        h
    }

    fn psyncs_sent(h: &H) -> Vec<(PsyncId, i64)> {
        h.sent(0)
            .into_iter()
            .filter_map(|s| match s.msg {
                Msg::Cmd(Cmd::Psync { id, offset, .. }) => Some((id, offset)),
                _ => None,
            })
            .collect()
    }

    fn full() -> Reply {
        Reply::FullResync {
            replid: Y,
            offset: 500,
        }
    }

    /// slaveTryPartialResynchronization(): with no cached master the
    /// replica asks for a full sync, `PSYNC ? -1`.
    #[test]
    fn without_a_cached_master_the_replica_sends_psync_unknown() {
        let mut h = replica(None, full());
        h.run_until(ms(10));
        assert_eq!(psyncs_sent(&h), [(PsyncId::Unknown, -1)]);
    }

    /// readSyncBulkPayload(): the cached master is discarded only by
    /// replicationAttachToNewMaster(), once the whole payload has been
    /// read. A transfer cut after the +FULLRESYNC and the payload's first
    /// line leaves it, so the next attempt still asks `PSYNC X 101`.
    #[test]
    fn a_transfer_cut_short_keeps_the_cached_master() {
        let mut h = replica(Some((X, 100)), full());
        h.run_until(ms(10));
        let conn = h.conn(MASTER, 0, PORT_MAIN).expect("the master link");
        h.send(
            MASTER,
            conn,
            Msg::RdbHeader {
                eof: true,
                bytes: 0,
            },
        );
        assert_eq!(
            server(&mut h).replica.as_ref().expect("replica").cached,
            Some((X, 100))
        );
        h.close(MASTER, conn);
        h.run_for(ms(10));
        assert_eq!(
            psyncs_sent(&h),
            [(PsyncId::Id(X), 101), (PsyncId::Id(X), 101)]
        );
        assert!(
            h.events(0, "Discarding previously cached master state.")
                .is_empty()
        );
    }

    /// slaveTryPartialResynchronization(): with a cached master (X, 100) the
    /// replica asks for the byte after its last one, `PSYNC X 101`.
    #[test]
    fn a_cached_master_is_asked_for_the_next_byte() {
        let mut h = replica(Some((X, 100)), full());
        h.run_until(ms(10));
        assert_eq!(psyncs_sent(&h), [(PsyncId::Id(X), 101)]);
    }

    /// replicationCacheMasterUsingMyself(): a master told to replicate
    /// offers its own history, so a demoted master at offset 50 sends
    /// `PSYNC <its replid> 51`.
    #[test]
    fn a_demoted_master_offers_its_own_history() {
        let mut h = node(RedisConfig::default(), None, vec![master(full())]);
        server(&mut h).master_repl_offset = 50;
        let own = server(&mut h).replid;
        call(&mut h, |p, ctx, host| {
            let at = host.dir.known_as(MASTER);
            let at = (at.0.to_string(), at.1);
            p.replicaof(ctx, MASTER, (&at.0, at.1), "")
        });
        h.settle();
        assert_eq!(psyncs_sent(&h), [(PsyncId::Id(own), 51)]);
    }

    /// slaveTryPartialResynchronization(), `+CONTINUE <new id>`: the master
    /// switched histories (it was promoted). The replica takes the new id
    /// and keeps the cached one as replid2, valid up to cached offset + 1 =
    /// 101, so its own replicas can still continue.
    #[test]
    fn continue_with_a_new_id_keeps_the_old_one_as_replid2() {
        let mut h = replica(Some((X, 100)), Reply::Continue { replid: Y });
        h.run_until(ms(10));
        let p = server(&mut h);
        assert!(p.replica.as_ref().expect("replica").is_connected());
        assert_eq!((p.replid, p.replid2, p.second_replid_offset), (Y, X, 101));
        assert_eq!(p.master_repl_offset, 100);
        assert_eq!(h.events(0, "Master replication ID changed").len(), 1);
    }

    /// The same with `+CONTINUE <same id>`: nothing shifts.
    #[test]
    fn continue_with_the_same_id_shifts_nothing() {
        let mut h = replica(Some((X, 100)), Reply::Continue { replid: X });
        h.run_until(ms(10));
        let p = server(&mut h);
        assert_eq!(
            (p.replid, p.replid2, p.second_replid_offset),
            (X, RunId::ZERO, -1)
        );
    }

    /// A replica's processing of the stream: `REPLCONF GETACK *` (37 bytes:
    /// *3 $8 REPLCONF $6 GETACK $1 *) is answered with the offset before its
    /// own bytes are counted. From 100: SET k v (27) → 127, the ACK says
    /// 127, then 127 + 37 + 27 = 191.
    #[test]
    fn getack_is_answered_with_the_offset_before_itself() {
        let mut h = replica(Some((X, 100)), Reply::Continue { replid: X });
        h.run_until(ms(10));
        let set = Cmd::Set("k".into(), Value::Text("v".into()));
        assert_eq!(Cmd::ReplconfGetack.resp_len(), 37);
        let conn = h.conn(MASTER, 0, PORT_MAIN).expect("linked");
        let mark = h.mark();
        let stream = vec![set.clone(), Cmd::ReplconfGetack, set];
        h.send(MASTER, conn, Msg::Stream(stream));
        let acks: Vec<Msg> = h.sent_since(mark, 0).into_iter().map(|s| s.msg).collect();
        assert!(
            matches!(acks[..], [Msg::Cmd(Cmd::ReplconfAck(127))]),
            "{acks:?}"
        );
        assert_eq!(server(&mut h).master_repl_offset, 191);
    }

    /// replicationCron() on a replica: a master link with no data for more
    /// than repl-timeout (60 s) is dropped, and the master cached for a
    /// PSYNC; at exactly 60 s it stays.
    #[test]
    fn a_master_silent_for_more_than_repl_timeout_is_dropped() {
        let mut h = replica(Some((X, 100)), Reply::Continue { replid: X });
        h.run_until(secs(1));
        let now = h.mstime(0) / 1000;
        server(&mut h)
            .replica
            .as_mut()
            .expect("replica")
            .lastinteraction = now - 60;
        call(&mut h, |p, ctx, _| p.replica_cron(ctx));
        assert!(
            h.events(0, "MASTER timeout: no data nor PING received...")
                .is_empty()
        );
        server(&mut h)
            .replica
            .as_mut()
            .expect("replica")
            .lastinteraction = now - 61;
        call(&mut h, |p, ctx, _| p.replica_cron(ctx));
        assert_eq!(
            h.events(0, "MASTER timeout: no data nor PING received...")
                .len(),
            1
        );
        assert_eq!(
            h.events(0, "Caching the disconnected master state.").len(),
            1
        );
        let side = server(&mut h).replica.as_ref().expect("replica");
        assert_eq!(side.cached, None, "handed to the PSYNC of the reconnect");
        assert_eq!(psyncs_sent(&h).last(), Some(&(PsyncId::Id(X), 101)));
    }

    /// replicationUnsetMaster() → shiftReplicationId(): a promoted replica
    /// at offset 100 keeps its history as replid2, valid up to 101, under a
    /// new replication id.
    #[test]
    fn replicaof_no_one_shifts_the_replication_id() {
        let mut h = replica(Some((X, 100)), Reply::Continue { replid: X });
        h.run_until(ms(10));
        call(&mut h, |p, ctx, host| p.replicaof_no_one(ctx, host, ""));
        let p = server(&mut h);
        assert!(p.replica.is_none());
        assert_eq!((p.replid2, p.second_replid_offset), (X, 101));
        assert_ne!(p.replid, X);
    }
}
