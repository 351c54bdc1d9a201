//! One Redis 7.0 server: dataset, commands, roles, replication, persistence.
//!
//! A [`RedisNode`] is one Redis host across restarts; the running process
//! is its [`Server`], which exists only while the process runs. What
//! outlives it (the [`Disk`], redis.conf, the cluster log) is lent to the
//! server's methods as a [`Host`], so a kill or a restart keeps exactly
//! what Redis would keep.

mod aof;
pub mod backlog;
mod bgsave;
mod client_command;
mod client_list;
pub mod cluster;
mod command;
pub(crate) mod command_info;
pub mod config;
mod config_command;
mod debug;
pub mod disk_errors;
mod expire;
pub mod facts;
mod failover;
mod hello;
pub mod host_faults;
pub mod info;
#[cfg(test)]
mod keepalive_tests;
mod master;
mod multi;
mod multikey;
mod pause;
pub mod persistence;
mod pubsub;
mod rdb_load;
mod replica;
pub mod stats;
mod strings;
#[cfg(test)]
mod testing;
pub mod timer;
mod watch;

use std::collections::BTreeMap;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::proto::addr::Directory;
use crate::proto::command::Flags;
use crate::proto::keyspace::Dataset;
use crate::proto::resp::Proto;
use crate::proto::{Cmd, Ctx, Msg, Reply, RunId, Value};
use crate::sim::net::{ConnId, NodeId};
use crate::sim::{Node, Timer};
use crate::time::{Micros, secs};
use crate::trace::Level;
use crate::trace::names;
use backlog::Backlog;
use config::{AppendFsync, RedisConfig};
use host_faults::RdbDamage;
use master::{BlockedWait, Child, ReplicaClient};
use persistence::{AofFile, Disk, RdbFile};
use replica::ReplicaSide;
pub use timer::RedisTimer;

/// Operator actions a scenario scripts on a Redis node.
#[derive(Clone, Debug, PartialEq)]
pub enum Admin {
    /// A burst of `writes` SETs of `value_size` bytes from a bulk loader
    /// (keys `burst:<n>`): enough of them overflow the replication backlog.
    Burst { writes: u32, value_size: u32 },
}

pub const ERR_READONLY: &str = "READONLY You can't write against a read only replica.";
pub const ERR_NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";
pub const ERR_MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
pub const ERR_LOADING: &str = "LOADING Redis is loading the dataset in memory";
pub const ERR_NOAUTH: &str = "NOAUTH Authentication required.";
pub const ERR_WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const ERR_EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const ERR_WAIT_REPLICA: &str = "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.";

/// A connection from a client (or a replica, before it becomes one).
#[derive(Debug)]
struct ClientConn {
    /// `client->id`: numbered per process, from the connections it accepted.
    id: u64,
    peer: NodeId,
    authenticated: bool,
    listening_port: u16,
    /// `slave_addr`: the address the replica announced (`REPLCONF
    /// ip-address`), shown instead of its socket's peer address.
    announced_ip: Option<compact_str::CompactString>,
    capa_eof: bool,
    /// The master offset right after this client's last propagated write.
    woff: u64,
    /// `CLIENT_ASKING`: set by ASKING, for the next command only.
    asking: bool,
    /// `CLIENT_READONLY`: READONLY lets a cluster replica serve reads of
    /// its master's slots.
    readonly: bool,
    /// `CLIENT_MULTI`: the transaction being queued, after MULTI.
    multi: Option<multi::Multi>,
    /// The keys this client WATCHes.
    watched: Vec<watch::Watched>,
    /// `CLIENT_DIRTY_CAS`: a watched key was modified; EXEC will fail.
    dirty_cas: bool,
    /// EXEC is running this client's queue (CLIENT_DENY_BLOCKING).
    in_exec: bool,
    /// `client->resp`: RESP2 until `HELLO 3`.
    resp: Proto,
    /// `client->name`: set by `CLIENT SETNAME` or `HELLO … SETNAME`.
    name: Option<String>,
    /// Its fd, times, last command and buffers, for CLIENT LIST.
    meta: client_list::ClientMeta,
}

/// The client types `CLIENT KILL TYPE` selects among client connections
/// (getClientType(); replica links and our master's link are other types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientType {
    Normal,
    PubSub,
}

impl Server {
    /// getClientType() for a client connection: a subscription makes it a
    /// pub/sub client (`CLIENT_PUBSUB`).
    fn client_type(&self, conn: ConnId) -> ClientType {
        if self.pubsub.count(conn) == 0 {
            ClientType::Normal
        } else {
            ClientType::PubSub
        }
    }
}

/// The running Redis process: Redis's global `struct redisServer server`.
pub struct Server {
    pub cfg: RedisConfig,
    pub run_id: RunId,
    pub replid: RunId,
    pub replid2: RunId,
    pub second_replid_offset: i64,
    pub master_repl_offset: u64,
    pub data: Dataset,
    slaveseldb: i32,
    pub backlog: Option<Backlog>,
    repl_no_slaves_since: u64,
    pub replicas: Vec<ReplicaClient>,
    clients: IndexMap<ConnId, ClientConn, rustc_hash::FxBuildHasher>,
    pub replica: Option<ReplicaSide>,
    cronloops: u64,
    /// After the boot-time serverCron of a first start: the delay to the
    /// next one and its cronloops (see [`cron_resume`]); taken once.
    cron_resume: Option<(Micros, u64)>,
    pub good_replicas: u32,
    dirty: u64,
    lastsave: u64,
    /// What failed writes and forks left (INFO persistence, MISCONF).
    pub(super) persist: disk_errors::DiskStatus,
    /// The AOF's background fsync and the write postponed behind it.
    aof_fsync: disk_errors::AofFsync,
    /// A rewrite of the AOF while it is on: its child's generation and
    /// how many log entries the old files held at its fork.
    aof_rewrite: Option<(u64, usize)>,
    /// `aof_rewrite_base_size`: the AOF's size after the last rewrite (or
    /// at load), which automatic rewrites measure growth against.
    aof_base_size: u64,
    /// `aof_rewrite_scheduled`: BGREWRITEAOF came while a child ran; the
    /// rewrite starts at the first serverCron without one.
    aof_rewrite_scheduled: bool,
    /// `rdb_bgsave_scheduled`: BGSAVE SCHEDULE (or BGSAVE inside EXEC)
    /// came while a child ran; serverCron starts it later.
    bgsave_scheduled: bool,
    /// Replies held until the AOF write or fsync of their pass returns
    /// (only while the disk is slow), and since when a pass blocks them.
    held_replies: Vec<(ConnId, Reply)>,
    aof_blocked: Option<Micros>,
    child: Option<Child>,
    child_gen: u64,
    /// Until when the process answers -LOADING.
    loading_until: Option<Micros>,
    blocked: Vec<BlockedWait>,
    get_ack_pending: bool,
    aof_last_fsync: u64,
    /// `aof_last_incr_fsync_offset != aof_last_incr_size`: the AOF got
    /// writes since the last fsync was started, so an empty pass still
    /// fsyncs.
    aof_unsynced: bool,
    /// Commands the AOF got this event-loop pass (written in beforeSleep).
    aof_pending: Vec<Cmd>,
    /// `appendonly` turned on at runtime, until the first rewrite ends.
    aof_start: Option<aof::AofStart>,
    /// `server.unixtime`: cached once per event-loop pass.
    unixtime: u64,
    /// The last client id handed out (Redis's ids start above its own
    /// internal clients).
    next_client_id: u64,
    /// The fd of each socket the server holds (clients, replicas, its
    /// master link): a new one takes the lowest free, as the kernel does.
    fds: BTreeMap<ConnId, i32>,
    /// Clients linked so far (the order CLIENT LIST shows them in).
    link_seq: u64,
    /// Replicas to drop for exceeding their output buffer limits.
    closing_for_limits: Vec<ConnId>,
    repl_cron_loops: u64,
    /// `ip:port` of the master this node replicates from, for log lines.
    master_addr: String,
    /// `server.stat_starttime`: unix seconds at boot, for INFO's uptime.
    start_time: u64,
    /// Channel and pattern subscriptions.
    pubsub: crate::proto::pubsub::PubSub,
    /// Clients written to in this pass of the event loop.
    pending_writes: Vec<ConnId>,
    /// `db->watched_keys`: each watched key's watchers, in order.
    watchers: BTreeMap<crate::proto::Key, Vec<ConnId>>,
    /// Cluster mode: this node's view of the cluster.
    pub cluster: Option<Box<cluster::ClusterState>>,
    /// Client pauses (CLIENT PAUSE, FAILOVER, a cluster manual failover).
    pauses: pause::Pauses,
    /// The FAILOVER command's state.
    failover: failover::Failover,
    /// Commands held while clients are paused or a MIGRATE is in flight,
    /// served when that ends; true for a command line (answered as RESP).
    paused_writes: Vec<(ConnId, Cmd, bool)>,
    /// Commands from the master link held by a pause, applied when it ends.
    paused_stream: Vec<Cmd>,
    /// Connections to close once their reply is sent (CLIENT KILL of the
    /// caller itself: CLIENT_CLOSE_AFTER_REPLY).
    close_after_reply: Vec<ConnId>,
    /// Cluster resharding: the MIGRATE in flight, and cached connections to
    /// targets.
    migrate_job: Option<cluster::migration::MigrateJob>,
    migrate_conns: Vec<(NodeId, ConnId)>,
    /// Key expiry: the active cycle's state (see [`expire`]).
    expiry: expire::Expiry,
    /// INFO's counters.
    pub stats: stats::Stats,
    /// `server.also_propagate`: what the running command propagates, sent
    /// at its end and wrapped in MULTI/EXEC when more than one (call(),
    /// propagatePendingCommands()). Kept between commands for its capacity.
    also_propagate: Vec<Cmd>,
    /// A command is running (propagation waits for its end).
    in_call: bool,
    /// The master link's transaction being read (MULTI seen, EXEC not yet):
    /// its commands run, and the offset moves, only at EXEC.
    stream_multi: Option<Vec<Cmd>>,
}

/// One Redis host across restarts: redis.conf, the disk, and the [`Server`] while it runs.
pub struct RedisNode {
    pub name: String,
    pub dir: Rc<Directory>,
    /// The configuration the process starts with (redis.conf).
    pub conf: RedisConfig,
    /// `replicaof` in redis.conf: where a (re)started process replicates from.
    pub conf_replicaof: Option<NodeId>,
    pub disk: Disk,
    /// The running process; `None` while it is down.
    pub server: Option<Server>,
    /// Cluster mode: the cluster this node was created in.
    pub cluster_layout: Option<Rc<cluster::Layout>>,
    /// Cluster mode: votes granted, over all restarts.
    pub cluster_log: cluster::ClusterLog,
}

impl RedisNode {
    pub fn new(
        name: String,
        dir: Rc<Directory>,
        conf: RedisConfig,
        replicaof: Option<NodeId>,
    ) -> Self {
        Self {
            name,
            dir,
            conf,
            conf_replicaof: replicaof,
            disk: Disk::default(),
            server: None,
            cluster_layout: None,
            cluster_log: cluster::ClusterLog::default(),
        }
    }

    /// The running process and the host it runs on; `None` while it is down.
    fn running(&mut self) -> Option<(&mut Server, Host<'_>)> {
        let server = self.server.as_mut()?;
        let host = Host {
            dir: &self.dir,
            conf: &mut self.conf,
            disk: &mut self.disk,
            conf_replicaof: &mut self.conf_replicaof,
            cluster_log: &mut self.cluster_log,
        };
        Some((server, host))
    }

    /// `M` for a master, `S` for a replica, as in Redis's log lines.
    pub fn role_char(&self) -> char {
        match &self.server {
            Some(p) if p.replica.is_some() => 'S',
            Some(_) => 'M',
            None => '-',
        }
    }
}

/// For a process started `lead` µs before time zero whose boot-time
/// serverCron ran at 1 ms: the delay to its next cron, on the grid of one
/// started at `-lead`, and the cronloops that cron has there.
/// run_with_period(ms) in serverCron(): every tick when the period is at
/// most a tick, else every period/tick ticks.
fn run_with_period(ms: u64, hz: u64, cronloops: u64) -> bool {
    let tick = 1000 / hz.max(1);
    ms <= tick || cronloops.is_multiple_of(ms / tick)
}

fn cron_resume(lead: Micros, period: Micros) -> (Micros, u64) {
    let loops = lead / period + 1;
    (loops * period - lead, loops)
}

/// TIME (timeCommand()): the server's wall clock, seconds and
/// microseconds, as two bulk strings.
fn time_reply(now: Micros) -> Reply {
    use crate::proto::resp::Frame;
    Reply::Frame(Frame::Array(Some(vec![
        Frame::bulk((now / 1_000_000).to_string()),
        Frame::bulk((now % 1_000_000).to_string()),
    ])))
}

/// Applies a write command to a dataset; true if it changed the dataset.
pub fn apply_write(d: &mut Dataset, cmd: &Cmd) -> bool {
    match cmd {
        Cmd::Set(k, v) => {
            d.set(k.clone(), v.clone());
            true
        }
        Cmd::Del(k) => d.del(k),
        Cmd::Incr(k) => d.incr(k).is_ok(),
        Cmd::MSet(pairs) => {
            for (k, v) in pairs {
                d.set(k.clone(), v.clone());
            }
            !pairs.is_empty()
        }
        Cmd::Named { spec, argv } => strings::apply(d, spec.name, argv),
        _ => false,
    }
}

impl Node for RedisNode {
    type Msg = Msg;
    type Admin = Admin;

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        let mut server = Server::boot(self, ctx);
        // initServer() schedules the first serverCron 1 ms after start; its
        // cronloops starts at 0, so replicationCron runs right away (a
        // replica connects to its master at once) and then once a second.
        // On the first start the crons after it keep the phase of a process
        // started up to a second (replicationCron's period) before time zero.
        server.cron_resume = ctx
            .boot_lead(secs(1))
            .map(|lead| cron_resume(lead, server.cfg.cron_period()));
        self.server = Some(server);
        ctx.set_timer(1_000, RedisTimer::Cron);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, token: u64) {
        let Some((server, mut host)) = self.running() else {
            return;
        };
        server.unixtime = ctx.unixtime();
        match RedisTimer::decode(token) {
            Some(RedisTimer::Cron) => {
                // run_with_period(100) tests cronloops before serverCron
                // increments it.
                let cluster_every = (server.cfg.hz / 10).max(1);
                let cluster_due = server.cronloops.is_multiple_of(cluster_every);
                server.server_cron(ctx, &mut host);
                if server.cfg.cluster_enabled && cluster_due {
                    server.cluster_cron(ctx, &mut host);
                }
                let next = match server.cron_resume.take() {
                    Some((delay, loops)) => {
                        server.cronloops = loops;
                        if let Some(c) = server.cluster.as_mut() {
                            c.resume_cron(loops.div_ceil(cluster_every));
                        }
                        delay
                    }
                    None => server.cfg.cron_period(),
                };
                ctx.set_timer(next, RedisTimer::Cron);
            }
            Some(RedisTimer::ChildDone(generation)) => server.child_exited(ctx, generation),
            Some(RedisTimer::BulkSent(conn)) => server.bulk_sent(ctx, &mut host, conn),
            Some(RedisTimer::LoadDone(generation)) => {
                server.sync_load_done(ctx, &mut host, generation)
            }
            Some(RedisTimer::SleepOver(conn)) => {
                ctx.send(conn, Msg::Reply(Reply::Ok));
            }
            Some(RedisTimer::FsyncDone(generation)) => {
                if let Some((n, ok)) = server.aof_fsync.done(generation) {
                    server.aof_fsync_ended(ctx, ok);
                    if let Some(aof) = host.disk.aof.as_mut().filter(|_| ok) {
                        aof.fsynced = aof.fsynced.max(n.min(aof.log.len()));
                    }
                }
            }
            Some(RedisTimer::FsyncBlock) => server.fsync_block(ctx, host.disk),
            Some(RedisTimer::FlushReplies) => server.flush_held_replies(ctx, host.disk),
            Some(RedisTimer::BootLoadFailed) => {
                let bytes = host.disk.rdb.as_ref().map_or(0, |r| r.data.rdb_bytes());
                server.checksum_failed(ctx, bytes)
            }
            None => {}
        }
        server.before_sleep(ctx, &mut host);
    }

    fn on_accept(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, peer: NodeId) {
        let Some(server) = self.server.as_mut() else {
            return;
        };
        server.unixtime = ctx.unixtime();
        if ctx.conn_port(conn) == crate::sim::net::PORT_BUS {
            match server.cluster.as_mut() {
                Some(c) => {
                    // clusterAcceptHandler(): keepalive at twice the node
                    // timeout, in whole seconds.
                    let secs = server.cfg.cluster.node_timeout / 1000 * 2;
                    ctx.keepalive(conn, crate::sim::net::Keepalive::anet(secs));
                    c.inbound.insert(conn, None);
                }
                None => ctx.close(conn),
            }
            return;
        }
        // createClient(): `tcp-keepalive` seconds, 0 for none.
        if server.cfg.tcp_keepalive > 0 {
            ctx.keepalive(
                conn,
                crate::sim::net::Keepalive::anet(server.cfg.tcp_keepalive),
            );
        }
        let authenticated = server.cfg.requirepass.is_none();
        server.stats.connections_received += 1;
        let id = server.take_client_id();
        let fd = server.take_fd(conn);
        let meta = server.new_client_meta(fd);
        server.clients.insert(
            conn,
            ClientConn {
                id,
                peer,
                authenticated,
                listening_port: 0,
                announced_ip: None,
                capa_eof: false,
                woff: 0,
                asking: false,
                readonly: false,
                multi: None,
                watched: Vec::new(),
                dirty_cas: false,
                in_exec: false,
                resp: Proto::Resp2,
                name: None,
                meta,
            },
        );
    }

    fn on_connected(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        let Some((server, mut host)) = self.running() else {
            return;
        };
        server.unixtime = ctx.unixtime();
        if server.cluster.as_ref().is_some_and(|c| c.is_bus_conn(conn)) {
            server.cluster_link_connected(ctx, conn);
            server.before_sleep(ctx, &mut host);
            return;
        }
        server.replica_connected(ctx, &mut host, conn);
    }

    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        let Some((server, mut host)) = self.running() else {
            return;
        };
        server.unixtime = ctx.unixtime();
        if server.cluster_link_closed(conn) || server.migrate_conn_lost(ctx, conn) {
            server.before_sleep(ctx, &mut host);
            return;
        }
        server.replica_connect_failed(ctx, conn);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, msg: Msg) {
        let Some((server, mut host)) = self.running() else {
            return;
        };
        server.unixtime = ctx.unixtime();
        if let Msg::Bus(bus) = msg {
            if server.cluster.as_ref().is_some_and(|c| c.is_bus_conn(conn)) {
                server.cluster_packet(ctx, &mut host, conn, *bus);
            }
        } else if server
            .replica
            .as_ref()
            .is_some_and(|r| r.conn == Some(conn))
        {
            server.replica_input(ctx, &mut host, conn, msg);
        } else if let Msg::Reply(reply) = msg {
            server.migrate_reply(ctx, conn, reply);
        } else if let Msg::Cmd(Cmd::Line(argv)) = msg {
            server.client_read(conn, client_list::line_name(&argv));
            if let Some(reply) = server.command_line(ctx, &mut host, conn, argv) {
                server.client_wrote(conn, &reply);
                server.reply(ctx, host.disk.faults, conn, reply);
            }
            for conn in std::mem::take(&mut server.close_after_reply) {
                ctx.close(conn);
                server.free_client(ctx, conn);
            }
        } else if let Msg::Cmd(cmd) = msg {
            server.client_read(conn, Some(cmd.full_name()));
            if let Some(reply) = server.process_command(ctx, &mut host, conn, cmd) {
                server.client_wrote(conn, &reply);
                server.reply(ctx, host.disk.faults, conn, reply);
            }
        }
        server.before_sleep(ctx, &mut host);
    }

    /// sendReplyToClient(): a replica's socket takes more of its output
    /// buffer.
    fn on_writable(&mut self, ctx: &mut Ctx<'_>, _conn: ConnId) {
        let Some((server, mut host)) = self.running() else {
            return;
        };
        server.unixtime = ctx.unixtime();
        server.before_sleep(ctx, &mut host);
    }

    fn on_closed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        let Some((server, mut host)) = self.running() else {
            return;
        };
        server.unixtime = ctx.unixtime();
        if server.cluster_link_closed(conn) || server.migrate_conn_lost(ctx, conn) {
            server.before_sleep(ctx, &mut host);
            return;
        }
        if server
            .replica
            .as_ref()
            .is_some_and(|r| r.conn == Some(conn))
        {
            server.master_link_lost(ctx, &mut host);
        } else {
            server.free_client(ctx, conn);
        }
        server.before_sleep(ctx, &mut host);
    }

    fn on_admin(&mut self, ctx: &mut Ctx<'_>, cmd: Admin) {
        let Some((server, mut host)) = self.running() else {
            return;
        };
        server.unixtime = ctx.unixtime();
        match cmd {
            Admin::Burst { writes, value_size } => server.burst(writes, value_size),
        }
        server.before_sleep(ctx, &mut host);
    }

    fn on_kill(&mut self, _now: Micros, power_loss: bool) {
        self.server = None;
        if power_loss {
            self.disk.lose_unsynced();
        }
    }

    fn on_shutdown(&mut self, ctx: &mut Ctx<'_>) {
        let Some((server, mut host)) = self.running() else {
            return;
        };
        server.prepare_for_shutdown(ctx, &mut host);
        self.server = None;
    }
}

/// What outlives the process (directory, disk, redis.conf, cluster log), lent to a [`Server`].
pub struct Host<'a> {
    pub dir: &'a Directory,
    /// redis.conf ([`RedisNode::conf`]): what CONFIG REWRITE writes.
    pub conf: &'a mut RedisConfig,
    pub disk: &'a mut Disk,
    /// `replicaof` in redis.conf ([`RedisNode::conf_replicaof`]).
    pub conf_replicaof: &'a mut Option<NodeId>,
    /// What the cluster code records for the invariant checkers.
    pub cluster_log: &'a mut cluster::ClusterLog,
}

/// Commands Redis flags `CMD_STALE`: a replica whose link is down serves
/// them even with replica-serve-stale-data no (every command of Sentinel's
/// transaction has the flag).
fn serves_stale(cmd: &Cmd) -> bool {
    matches!(
        cmd,
        Cmd::Info
            | Cmd::InfoSections(_)
            | Cmd::ReplicaOf { .. }
            | Cmd::Auth(_)
            | Cmd::Role
            | Cmd::Subscribe(_)
            | Cmd::Publish { .. }
            | Cmd::SentinelSlaveOf { .. }
            | Cmd::Config(_)
    ) || matches!(cmd, Cmd::Named { spec, .. } if spec.flags.contains(Flags::STALE))
}

/// Commands Redis flags `CMD_LOADING`: served while the dataset loads.
fn serves_loading(cmd: &Cmd) -> bool {
    matches!(
        cmd,
        Cmd::Info
            | Cmd::InfoSections(_)
            | Cmd::Role
            | Cmd::Subscribe(_)
            | Cmd::Publish { .. }
            | Cmd::Config(_)
    ) || matches!(cmd, Cmd::Named { spec, .. } if spec.flags.contains(Flags::LOADING))
}

impl Server {
    /// createClient()'s `client->id = atomicIncr(server.next_client_id)`:
    /// every client takes one, connections and the master client alike.
    pub(super) fn take_client_id(&mut self) -> u64 {
        self.next_client_id += 1;
        self.next_client_id
    }

    /// The lowest free fd, for a new socket.
    pub(super) fn take_fd(&mut self, conn: ConnId) -> i32 {
        let used: std::collections::BTreeSet<i32> = self.fds.values().copied().collect();
        let fd = client_list::lowest_free_fd(&used);
        self.fds.insert(conn, fd);
        fd
    }

    /// Process start: load from disk as `loadDataFromDisk()` does.
    fn boot(node: &mut RedisNode, ctx: &mut Ctx<'_>) -> Server {
        let cfg = node.conf.clone();
        let now_s = ctx.unixtime();
        let run_id = RunId::random(ctx.rng());
        let replid = RunId::random(ctx.rng());
        let mut p = Server {
            cfg,
            run_id,
            replid,
            replid2: RunId::ZERO,
            second_replid_offset: -1,
            master_repl_offset: 0,
            data: Dataset::default(),
            slaveseldb: -1,
            backlog: None,
            repl_no_slaves_since: now_s,
            replicas: Vec::new(),
            clients: IndexMap::default(),
            replica: None,
            cronloops: 0,
            cron_resume: None,
            good_replicas: 0,
            dirty: 0,
            lastsave: now_s,
            persist: disk_errors::DiskStatus::default(),
            aof_fsync: disk_errors::AofFsync::default(),
            aof_rewrite: None,
            aof_base_size: 0,
            aof_rewrite_scheduled: false,
            bgsave_scheduled: false,
            held_replies: Vec::new(),
            aof_blocked: None,
            child: None,
            child_gen: 0,
            loading_until: None,
            blocked: Vec::new(),
            get_ack_pending: false,
            aof_last_fsync: now_s,
            aof_unsynced: false,
            aof_pending: Vec::new(),
            aof_start: None,
            unixtime: now_s,
            // initServer() creates the Lua client and another before any
            // connection: the first client a server accepts is id 3.
            next_client_id: 2,
            fds: BTreeMap::new(),
            link_seq: 0,
            closing_for_limits: Vec::new(),
            repl_cron_loops: 0,
            master_addr: node
                .conf_replicaof
                .map(|m| {
                    let (host, port) = node.dir.known_as(m);
                    format!("{host}:{port}")
                })
                .unwrap_or_default(),
            start_time: now_s,
            pubsub: Default::default(),
            pending_writes: Vec::new(),
            watchers: BTreeMap::new(),
            cluster: None,
            pauses: pause::Pauses::default(),
            failover: failover::Failover::default(),
            paused_writes: Vec::new(),
            paused_stream: Vec::new(),
            close_after_reply: Vec::new(),
            migrate_job: None,
            migrate_conns: Vec::new(),
            expiry: expire::Expiry::new(run_id.seed()),
            stats: stats::Stats::default(),
            also_propagate: Vec::new(),
            in_call: false,
            stream_multi: None,
        };
        ctx.log(
            Level::Warning,
            names::redis::SERVER_INITIALIZED,
            names::redis::SERVER_INITIALIZED.into(),
        );
        let cluster_replica = p.cfg.cluster_enabled && p.boot_cluster(node, ctx);
        let mut cached = None;
        let mut cached_client = None;
        let mut loaded_bytes = 0;
        let mut boot_damage = None;
        if let Some(aof) = node.disk.aof.as_ref().filter(|_| p.cfg.appendonly) {
            p.data = aof.replay();
            loaded_bytes = p.data.rdb_bytes();
            ctx.log(
                Level::Notice,
                "DB loaded from append only file",
                format!(
                    "DB loaded from append only file: {} keys ({} commands after the base)",
                    p.data.len(),
                    aof.log.len()
                ),
            );
        } else if let Some(damage) = node.disk.rdb.as_ref().and(node.disk.faults.rdb_damage()) {
            // The file reads back damaged: nothing usable is loaded.
            let bytes = node.disk.rdb.as_ref().map_or(0, |r| r.data.rdb_bytes());
            loaded_bytes = if damage == RdbDamage::Checksum {
                bytes
            } else {
                0
            };
            boot_damage = Some(damage);
        } else if let Some(rdb) = &node.disk.rdb {
            p.data = (*rdb.data).clone();
            loaded_bytes = p.data.rdb_bytes();
            let master = node.conf_replicaof.is_none() && !cluster_replica;
            let expired = if master {
                p.drop_expired_on_load(ctx.mstime() as i64)
            } else {
                Vec::new()
            };
            p.stats.rdb_last_load_keys_loaded = p.data.len() as u64;
            ctx.log(
                Level::Notice,
                "DB loaded from disk",
                format!("DB loaded from disk: {} keys", p.data.len()),
            );
            // A master feeds the DELs of the keys it dropped to a backlog made
            // for them, rebased on the file's offset when it has one, and
            // dropped when it has none (loadDataFromDisk()).
            if master && !expired.is_empty() {
                let off = rdb.repl.map_or(0, |(_, off)| off);
                p.master_repl_offset = off;
                p.backlog = Some(Backlog::new(p.cfg.repl_backlog_size, off));
                for key in &expired {
                    p.propagate(expire::del_line(key));
                }
                if rdb.repl.is_none() {
                    p.backlog = None;
                }
            }
            if let Some((id, off)) = rdb.repl {
                if !master {
                    p.replid = id;
                    p.master_repl_offset = off;
                    cached = Some((id, off)).filter(|_| !cluster_replica);
                    cached_client = Some(p.take_client_id());
                    ctx.log(
                        Level::Notice,
                        "Before turning into a replica, using my own master parameters to synthesize a cached master",
                        "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.".into(),
                    );
                } else {
                    // 7.0: a master keeps the saved history as replid2.
                    p.replid2 = id;
                    p.second_replid_offset = off as i64 + 1;
                    if expired.is_empty() {
                        p.master_repl_offset = off;
                        p.backlog = Some(Backlog::new(p.cfg.repl_backlog_size, off));
                    }
                }
            }
        }
        if p.cfg.appendonly && node.disk.aof.is_none() {
            node.disk.aof = Some(AofFile::new(Rc::new(p.data.clone())));
        }
        p.aof_base_size = node.disk.aof.as_ref().map_or(0, AofFile::size);
        if loaded_bytes > 0 {
            let t = loaded_bytes * 1_000_000 / p.cfg.rdb_load_rate;
            if t > 0 {
                p.loading_until = Some(ctx.sim_time() + t);
            }
        }
        if let Some(m) = node.conf_replicaof {
            let mut side = ReplicaSide::new(m, node.dir.known_as(m));
            side.cached = cached;
            side.master_client_id = cached_client;
            p.replica = Some(side);
        }
        if let Some(damage) = boot_damage {
            p.boot_load_damaged(ctx, damage);
            return p;
        }
        ctx.log(
            Level::Notice,
            names::redis::READY,
            "Ready to accept connections tcp".into(),
        );
        p
    }

    /// Cluster mode: loads nodes.conf (or the cluster as created) into the
    /// node table. True if this node is a replica in it.
    fn boot_cluster(&mut self, node: &RedisNode, ctx: &mut Ctx<'_>) -> bool {
        use rand::Rng as _;
        let Some(layout) = &node.cluster_layout else {
            return false;
        };
        let conf = node
            .disk
            .nodes_conf
            .clone()
            .unwrap_or_else(|| layout.nodes_conf());
        let rng = crate::sim::rng::stream(ctx.rng().next_u64(), "cluster-bus");
        let c = cluster::ClusterState::load(ctx.id(), &layout.ids, &conf, rng);
        ctx.log(
            Level::Notice,
            "Node configuration loaded, I'm",
            format!("Node configuration loaded, I'm {}", c.me().id),
        );
        let replica = c.me().is_slave();
        self.cluster = Some(Box::new(c));
        let inside = node.dir.hosts[ctx.id() as usize].clone();
        self.cluster_update_myself_address(ctx, &inside);
        replica
    }

    /// Executes a burst of writes as one pipelined batch; on a replica they
    /// are refused (READONLY) and change nothing.
    fn burst(&mut self, writes: u32, value_size: u32) {
        if self.replica.is_some() && self.cfg.replica_read_only {
            return;
        }
        for i in 0..writes {
            let key = compact_str::format_compact!("burst:{i}");
            let value = crate::proto::Value::Blob {
                tag: crate::proto::WriteTag { client: 0, seq: i },
                len: value_size,
            };
            self.data.set(key.clone(), value.clone());
            self.dirty += 1;
            self.propagate(Cmd::Set(key, value));
        }
    }

    /// replicationCron(): once per second.
    fn replication_cron(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        self.update_failover_status(ctx, host);
        if self.replica.is_some() {
            self.replica_cron(ctx);
        }
        let loops = self.repl_cron_loops;
        self.master_cron(ctx, host.disk.faults, loops);
        self.repl_cron_loops += 1;
    }

    fn is_loading(&self, now: Micros) -> bool {
        self.loading_until.is_some_and(|t| now < t)
    }

    /// `processCommand()` then `call()` for a client command. `None` when the
    /// reply comes later (blocked WAIT) or was already sent (PSYNC). What
    /// the command propagates goes out at its end, and the client's write
    /// offset (for WAIT) moves if the replication offset did.
    fn process_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        cmd: Cmd,
    ) -> Option<Reply> {
        let outer = !self.in_call;
        self.in_call = true;
        let before = self.master_repl_offset;
        let in_multi =
            !multi::is_control(&cmd) && self.clients.get(&conn).is_some_and(|c| c.multi.is_some());
        let reply = self.process_command_inner(ctx, host, conn, cmd);
        if in_multi && matches!(reply, Some(Reply::Error(_))) {
            // rejectCommand() → flagTransaction(): EXEC will abort.
            self.flag_transaction(conn);
        }
        if outer {
            self.in_call = false;
            self.propagate_pending();
        }
        if self.master_repl_offset != before
            && let Some(c) = self.clients.get_mut(&conn)
        {
            c.woff = self.master_repl_offset;
        }
        reply
    }

    fn process_command_inner(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        cmd: Cmd,
    ) -> Option<Reply> {
        let Some(client) = self.clients.get(&conn) else {
            // A replica's REPLCONF ACK arrives on its replica connection.
            if let Cmd::ReplconfAck(off) = cmd {
                self.replconf_ack(ctx, host, conn, off);
            }
            return None;
        };
        // authRequired(): once requirepass is cleared no one needs AUTH;
        // AUTH and HELLO (CMD_NO_AUTH) run without it.
        let no_auth = match &cmd {
            Cmd::Auth(_) => true,
            Cmd::Named { spec, .. } => spec.flags.contains(Flags::NO_AUTH),
            _ => false,
        };
        if !client.authenticated && self.cfg.requirepass.is_some() && !no_auth {
            return Some(Reply::Error(ERR_NOAUTH.into()));
        }
        if client.multi.is_some() && multi::denied_in_multi(&cmd) {
            return Some(Reply::Error(
                "ERR Command not allowed inside a transaction".into(),
            ));
        }
        let client_asking = client.asking;
        let client_readonly = client.readonly;
        let subscribed = self.pubsub.count(conn) > 0;
        let client_resp = client.resp;
        if self.migrate_job.is_some() {
            // Held: MIGRATE blocks the server.
            self.paused_writes.push((conn, cmd, false));
            return None;
        }
        let asking = client_asking || matches!(cmd, Cmd::RestoreAsking(..));
        if client_asking && !matches!(cmd, Cmd::Asking) {
            self.clients.get_mut(&conn).expect("exists").asking = false;
        }
        if let Some(redirect) = self.cluster_redirect(&cmd, asking, client_readonly) {
            return Some(redirect);
        }
        let is_master = self.replica.is_none();
        let write = self.is_write_for(conn, &cmd);
        // writeCommandsDeniedByDiskError(): writes and PING are refused.
        if (write || matches!(cmd, Cmd::Ping | Cmd::PingWith(_)))
            && let Some(e) = self.disk_write_denial()
        {
            return Some(Reply::Error(e));
        }
        if write
            && is_master
            && self.cfg.min_replicas_to_write > 0
            && self.cfg.min_replicas_max_lag > 0
            && self.good_replicas < self.cfg.min_replicas_to_write
        {
            return Some(Reply::Error(ERR_NOREPLICAS.into()));
        }
        if write && !is_master && self.cfg.replica_read_only {
            return Some(Reply::Error(ERR_READONLY.into()));
        }
        // Only a RESP2 connection is limited to the pub/sub commands.
        if subscribed
            && client_resp == Proto::Resp2
            && !matches!(cmd, Cmd::Subscribe(_) | Cmd::Ping | Cmd::PingWith(_))
            && !crate::proto::pubsub::allowed_when_subscribed(cmd.full_name())
        {
            return Some(Reply::Error(crate::proto::pubsub::pubsub_context_error(
                cmd.full_name(),
            )));
        }
        if let Some(r) = &self.replica
            && !r.is_connected()
            && !self.cfg.replica_serve_stale_data
            && !serves_stale(&cmd)
        {
            return Some(Reply::Error(ERR_MASTERDOWN.into()));
        }
        if self.is_loading(ctx.sim_time()) && !serves_loading(&cmd) {
            // SLAVEOF is refused while loading, so EXEC aborts the transaction.
            let e = match cmd {
                Cmd::SentinelSlaveOf { .. } => ERR_EXECABORT,
                _ => ERR_LOADING,
            };
            return Some(Reply::Error(e.into()));
        }
        if self.pauses.postpones(self.may_replicate_for(conn, &cmd)) {
            // blockClient(BLOCKED_POSTPONE) until the pause ends.
            self.paused_writes.push((conn, cmd, false));
            return None;
        }
        if let Some(m) = self.clients.get_mut(&conn).and_then(|c| c.multi.as_mut())
            && !multi::is_control(&cmd)
        {
            // queueMultiCommand(): runs at EXEC.
            m.queue(cmd);
            return Some(Reply::Frame(crate::proto::resp::Frame::Simple(
                "QUEUED".into(),
            )));
        }
        self.stats.commands_processed += 1;
        let reply = self.execute(ctx, host, conn, cmd);
        self.touch_watched();
        reply
    }

    /// call(): runs an admitted command (from processCommand(), or queued
    /// by MULTI and run by EXEC).
    fn execute(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        cmd: Cmd,
    ) -> Option<Reply> {
        let is_master = self.replica.is_none();
        let reply = match cmd {
            Cmd::Ping => self.subscribed_ping(conn, None).unwrap_or(Reply::Pong),
            Cmd::Auth(pass) => match &self.cfg.requirepass {
                Some(p) if *p == pass.as_str() => {
                    self.clients.get_mut(&conn).expect("exists").authenticated = true;
                    Reply::Ok
                }
                Some(_) => Reply::Error(ERR_WRONGPASS.into()),
                None => Reply::Error(
                    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".into(),
                ),
            },
            Cmd::Get(k) => {
                if self.lookup(ctx, &k, expire::Lookup::Read) {
                    Reply::Bulk(self.data.get(&k).cloned())
                } else {
                    Reply::Bulk(None)
                }
            }
            Cmd::MGet(keys) => Reply::Values(
                keys.iter()
                    .map(|k| {
                        self.lookup(ctx, k, expire::Lookup::Read)
                            .then(|| self.data.get(k).cloned())
                            .flatten()
                    })
                    .collect(),
            ),
            Cmd::MSet(pairs) => {
                // msetGenericCommand(): setKey()'s lookupKeyWrite() of each.
                for (k, _) in &pairs {
                    self.lookup(ctx, k, expire::Lookup::Write);
                }
                for (k, v) in &pairs {
                    self.data.set(k.clone(), v.clone());
                }
                self.dirty += pairs.len() as u64;
                self.propagate(Cmd::MSet(pairs));
                Reply::Ok
            }
            Cmd::Select(_) if self.cluster.is_some() => {
                Reply::Error("ERR SELECT is not allowed in cluster mode".into())
            }
            Cmd::Select(0) => Reply::Ok,
            Cmd::Select(_) => Reply::Error("ERR DB index is out of range".into()),
            Cmd::Set(..) | Cmd::Del(_) | Cmd::Incr(_) => {
                if let Cmd::Set(k, _) | Cmd::Del(k) | Cmd::Incr(k) = &cmd {
                    // setKey()'s and incrDecrCommand()'s lookupKeyWrite();
                    // delGenericCommand()'s expireIfNeeded().
                    let force = !matches!(cmd, Cmd::Del(_));
                    self.lookup(ctx, k, if force { expire::Lookup::Write } else { expire::Lookup::Expire });
                }
                let reply = match &cmd {
                    Cmd::Set(k, v) => {
                        self.data.set(k.clone(), v.clone());
                        Reply::Ok
                    }
                    Cmd::Del(k) => Reply::Int(i64::from(self.data.del(k))),
                    Cmd::Incr(k) => match self.data.incr(k) {
                        Ok(n) => Reply::Int(n),
                        Err(e) => return Some(Reply::Error(e.into())),
                    },
                    _ => unreachable!(),
                };
                let changed = !matches!(reply, Reply::Int(0)) || matches!(cmd, Cmd::Incr(_));
                if changed {
                    self.dirty += 1;
                    self.propagate(cmd);
                }
                reply
            }
            Cmd::Wait {
                replicas,
                timeout_ms,
            } => {
                if !is_master {
                    return Some(Reply::Error(ERR_WAIT_REPLICA.into()));
                }
                let woff = self.clients[&conn].woff;
                let acked = self.replicas_acked(woff);
                // Inside EXEC it replies at once (CLIENT_DENY_BLOCKING).
                if acked >= replicas || self.in_exec(conn) {
                    Reply::Int(i64::from(acked))
                } else {
                    let deadline = (timeout_ms > 0).then(|| ctx.now() + timeout_ms * 1000);
                    self.blocked.push(BlockedWait {
                        conn,
                        woff,
                        replicas,
                        deadline,
                    });
                    self.get_ack_pending = true;
                    return None;
                }
            }
            Cmd::Publish { channel, message } => {
                let receivers = self.deliver(ctx, &channel, &message);
                if is_master {
                    self.propagate(Cmd::Publish { channel, message });
                }
                Reply::Int(receivers)
            }
            Cmd::ReplconfListeningPort(port) => {
                self.clients.get_mut(&conn).expect("exists").listening_port = port;
                Reply::Ok
            }
            Cmd::ReplconfIpAddress(ip) => {
                // NET_HOST_STR_LEN, with its terminating zero.
                if ip.len() >= 256 {
                    return Some(Reply::Error(format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        ip.len()
                    )));
                }
                self.clients.get_mut(&conn).expect("exists").announced_ip = Some(ip);
                Reply::Ok
            }
            Cmd::ReplconfCapa => {
                let c = self.clients.get_mut(&conn).expect("exists");
                c.capa_eof = true;
                Reply::Ok
            }
            Cmd::ReplconfAck(off) => {
                self.replconf_ack(ctx, host, conn, off);
                return None;
            }
            Cmd::ReplconfGetack => return None,
            Cmd::Psync {
                id,
                offset,
                failover,
            } => {
                self.sync_command(ctx, host, conn, Some((id, offset)), failover);
                return None;
            }
            Cmd::Sync => {
                self.sync_command(ctx, host, conn, None, false);
                return None;
            }
            Cmd::Info => Reply::Info(info::full(self, ctx.now())),
            Cmd::InfoSections(sections) => {
                Reply::Info(self.info_sections(
                ctx.now(),
                self.is_loading(ctx.sim_time()),
                &sections,
            ))
            }
            Cmd::PingWith(m) if let Some(r) = self.subscribed_ping(conn, Some(&m)) => r,
            Cmd::PingWith(m) | Cmd::Echo(m) => Reply::Bulk(Some(Value::Text(m.into()))),
            Cmd::Dbsize => Reply::Int(self.data.len() as i64),
            Cmd::ReplicaOf { host: ip, port } => {
                self.replicaof_command(ctx, host, conn, (&ip, &port))
            }
            // Parsed before it gets here (see command_line()).
            Cmd::Line(_) => Reply::Error("ERR a command line inside a command".into()),
            Cmd::Role => Reply::Role(if is_master { "master" } else { "slave" }),
            Cmd::ClusterSlots => match self.cluster {
                Some(_) => Reply::ClusterSlots(self.cluster_slots()),
                None => Reply::Error("ERR This instance has cluster support disabled".into()),
            },
            Cmd::Asking => match self.cluster {
                Some(_) => {
                    self.clients.get_mut(&conn).expect("exists").asking = true;
                    Reply::Ok
                }
                None => Reply::Error("ERR This instance has cluster support disabled".into()),
            },
            Cmd::ClusterSetSlot { slot, action } => self.cluster_setslot(ctx, slot, action),
            Cmd::ClusterGetKeysInSlot { slot, count } => self.get_keys_in_slot(slot, count),
            Cmd::Migrate { target, keys } => return self.migrate_command(ctx, conn, target, keys),
            Cmd::RestoreAsking(k, v) => {
                self.data.set(k.clone(), v.clone());
                self.dirty += 1;
                self.propagate(Cmd::Set(k, v));
                Reply::Ok
            }
            Cmd::Subscribe(channel) => self.subscribe(conn, &channel),
            Cmd::SentinelSlaveOf { master } => self.sentinel_slaveof(ctx, host, conn, master),
            Cmd::Config(args) => self.config_command(ctx, host, &args),
            Cmd::Named { spec, argv } => match spec.name.split('|').next() {
                Some("failover") => self.failover_command(ctx, host, &argv[1..]),
                Some("shutdown") => return self.shutdown_command(ctx, host, &argv),
                Some("watch") => self.watch_command(ctx, conn, &argv[1..]),
                Some("unwatch") => self.unwatch_command(conn),
                Some("reset") => self.reset_command(conn),
                Some("bgrewriteaof") => self.bgrewriteaof_command(ctx, host, conn),
                Some("bgsave") => self.bgsave_command(ctx, host, conn, &argv[1..]),
                Some(name @ ("subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe")) => {
                    self.subscribe_command(ctx, conn, name, &argv[1..])
                }
                Some("pubsub") => self.pubsub_command(&argv),
                Some("client") => self.client_command(ctx, host, conn, &argv[1..]),
                Some("hello") => self.hello_command(conn, &argv),
                Some("command") => self.command_command(&argv),
                Some("time") => time_reply(ctx.now()),
                Some("auth") => self.auth_user_command(conn, &argv),
                _ if spec.name == "cluster|failover" => self.cluster_failover_line(ctx, host, &argv),
                _ if matches!(
                    spec.name,
                    "cluster|slots" | "cluster|shards" | "cluster|nodes" | "cluster|myid"
                ) =>
                {
                    self.cluster_topology_line(spec.name)
                }
                Some("debug") => return self.debug_command(ctx, conn, &argv),
                Some(name @ ("multi" | "exec" | "discard")) => {
                    self.multi_command(ctx, host, conn, name)
                }
                Some(name) if strings::handles(name) => self.string_command(ctx, spec, &argv),
                _ => self.multikey_command(ctx, conn, spec.name, &argv),
            },
            Cmd::IsMasterDownByAddr { .. } | Cmd::GetMasterAddrByName(_) => Reply::Error(format!(
                "ERR unknown command '{}'",
                cmd.name().to_ascii_lowercase()
            )),
        };
        Some(reply)
    }

    /// Serves the commands that waited for a pause that is over (they may
    /// be postponed again), and the master link's held stream.
    fn serve_unpaused_writes(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        if self.migrate_job.is_some() {
            return;
        }
        if !self.paused_stream.is_empty()
            && !self.pauses.postpones(self.paused_stream[0].may_replicate())
        {
            let held = std::mem::take(&mut self.paused_stream);
            self.apply_stream(ctx, held);
        }
        if self.paused_writes.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.paused_writes);
        let (ready, still): (Vec<_>, Vec<_>) = held
            .into_iter()
            .partition(|(conn, cmd, _)| !self.pauses.postpones(self.may_replicate_for(*conn, cmd)));
        self.paused_writes = still;
        for (conn, cmd, line) in ready {
            if !self.clients.contains_key(&conn) {
                continue;
            }
            let role = matches!(cmd, Cmd::Role);
            let held = self.paused_writes.len();
            let reply = self.process_command(ctx, host, conn, cmd);
            if line && self.paused_writes.len() > held {
                self.paused_writes.last_mut().expect("pushed").2 = true;
            }
            if let Some(reply) = reply {
                let reply = if line {
                    self.line_reply(conn, role, reply)
                } else {
                    reply
                };
                self.reply(ctx, host.disk.faults, conn, reply);
            }
        }
    }

    /// `CLIENT KILL TYPE <kind>` with SKIPME yes: closes every client
    /// connection of that type but the caller's (clientKillCommand()).
    fn kill_clients(&mut self, ctx: &mut Ctx<'_>, caller: ConnId, kind: ClientType) {
        let victims: Vec<ConnId> = self
            .clients
            .iter()
            .filter(|(c, _)| **c != caller && self.client_type(**c) == kind)
            .map(|(&c, _)| c)
            .collect();
        for conn in victims {
            ctx.close(conn);
            self.free_client(ctx, conn);
        }
    }

    /// Per event-loop pass: AOF write/fsync, then the replication stream and
    /// WAIT replies (server.c: beforeSleep()).
    fn before_sleep(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        self.cluster_before_sleep(ctx, host);
        self.serve_unpaused_writes(ctx, host);
        // No GETACK while clients are paused: it would move the offset.
        if self.get_ack_pending && !self.pauses.check(ctx.mstime() as i64).0 {
            self.get_ack_pending = false;
            if self.replica.is_none() && !self.replicas.is_empty() {
                self.feed(Cmd::ReplconfGetack);
            }
        }
        self.update_failover_status(ctx, host);
        if self.flush_aof(ctx, host.disk) {
            return;
        }
        if self.aof_blocked.is_none() {
            self.send_held_replies(ctx);
        }
        self.write_to_replicas(ctx);
        self.serve_blocked_waits(ctx);
        self.touch_watched();
        self.flush_client_writes();
    }

    /// flushAppendOnlyFile(): true when the process exits (a write or
    /// fsync error with appendfsync always). On a full disk what is buffered stays
    /// buffered, and is written once a write succeeds.
    fn flush_aof(&mut self, ctx: &mut Ctx<'_>, disk: &mut Disk) -> bool {
        if !self.cfg.appendonly {
            self.aof_pending.clear();
            return false;
        }
        if self.flush_aof_starting() {
            return false;
        }
        let Some(aof) = disk.aof.as_mut() else {
            return false;
        };
        let wrote = !self.aof_pending.is_empty();
        let (t, now) = (ctx.sim_time(), ctx.unixtime());
        let faults = disk.faults;
        if !wrote {
            // An empty buffer still fsyncs what earlier passes wrote, once a
            // second with everysec (and always, after a policy switch).
            let retry = match self.cfg.appendfsync {
                AppendFsync::Everysec => {
                    self.aof_unsynced && now > self.aof_last_fsync && !self.aof_fsync.in_progress(t)
                }
                AppendFsync::Always => self.aof_unsynced,
                AppendFsync::No => false,
            };
            if !retry {
                return false;
            }
        } else {
            if self.cfg.appendfsync == AppendFsync::Everysec && !self.everysec_write_due(ctx) {
                return false;
            }
            if faults.disk_full() {
                return self.aof_write_failed(ctx, self.cfg.appendfsync == AppendFsync::Always);
            }
            self.aof_write_ok(ctx);
            aof.append(&mut self.aof_pending);
            self.aof_unsynced = true;
        }
        // try_fsync:
        let fsync_time = faults.fsync_time();
        match self.cfg.appendfsync {
            AppendFsync::Always => {
                if faults.fsync_fails() {
                    return self.aof_fsync_always_failed(ctx);
                }
                if fsync_time == 0 {
                    aof.fsynced = aof.log.len();
                } else if wrote && self.aof_blocked.is_none() {
                    // The fdatasync blocks the server once this instant's
                    // passes have written (one fsync for them all).
                    self.aof_blocked = Some(t);
                    ctx.set_timer(0, RedisTimer::FsyncBlock);
                }
                self.aof_unsynced = false;
                self.aof_last_fsync = now;
            }
            AppendFsync::Everysec if now > self.aof_last_fsync => {
                if !self.aof_fsync.in_progress(t) {
                    // aof_background_fsync(): the bio thread's fsync.
                    let ok = !faults.fsync_fails();
                    if fsync_time == 0 {
                        self.aof_fsync_ended(ctx, ok);
                        if ok {
                            aof.fsynced = aof.log.len();
                        }
                    } else {
                        let g = self.aof_fsync.start(t, fsync_time, aof.log.len(), ok);
                        ctx.set_timer(fsync_time, RedisTimer::FsyncDone(g));
                    }
                    self.aof_unsynced = false;
                }
                self.aof_last_fsync = now;
            }
            AppendFsync::Everysec | AppendFsync::No => {}
        }
        false
    }

    /// serverCron(): every 1000/hz ms.
    fn server_cron(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        // run_with_period() tests cronloops before serverCron increments it.
        let loops = self.cronloops;
        self.cronloops += 1;
        if self.is_loading(ctx.sim_time()) {
            return;
        }
        if run_with_period(100, self.cfg.hz, loops) {
            self.stats.track_ops(ctx.mstime() as i64);
        }
        self.clients_cron(ctx.mstime());
        // databasesCron(): only a master expires keys actively.
        if self.i_am_master() {
            self.active_expire_cycle(ctx);
        }
        self.start_scheduled_aof_rewrite(ctx, host);
        // checkChildrenDone() while a child runs, the save points only when
        // none did at this tick.
        let had_child = self.child.is_some();
        self.reap_child(ctx, host);
        self.pauses.check(ctx.mstime() as i64);
        // replicationCron() runs every 100 ms while a FAILOVER goes on.
        let period = if self.failover.active() { 100 } else { 1000 };
        if run_with_period(period, self.cfg.hz, loops) {
            self.replication_cron(ctx, host);
        }
        if !had_child {
            self.save_points(ctx, host.disk.faults);
            self.auto_aof_rewrite(ctx, host);
        }
        self.start_scheduled_bgsave(ctx, host.disk.faults);
        // appendfsync no: the OS writes dirty pages back about every 30 s.
        if self.cfg.appendfsync == AppendFsync::No
            && loops.is_multiple_of(30 * self.cfg.hz)
            && let Some(aof) = host.disk.aof.as_mut()
        {
            aof.fsynced = aof.log.len();
        }
    }

    /// The save points of redis.conf (`save <secs> <changes>`).
    fn save_points(&mut self, ctx: &mut Ctx<'_>, faults: host_faults::HostFaults) {
        if self.child.is_some() {
            return;
        }
        let now = ctx.unixtime();
        let retry = self.bgsave_may_retry(now);
        let hit = self
            .cfg
            .save
            .iter()
            .find(|(secs, changes)| {
                self.dirty >= *changes && now.saturating_sub(self.lastsave) > *secs && retry
            })
            .copied();
        if let Some((secs, changes)) = hit {
            // serverCron() prints the save point's own numbers.
            ctx.log(
                Level::Notice,
                "changes in seconds. Saving...",
                format!("{changes} changes in {secs} seconds. Saving..."),
            );
            self.start_bgsave(ctx, faults, master::ChildKind::Bgsave);
        }
    }

    fn prepare_for_shutdown(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>) {
        self.shut_down(ctx, host, None);
    }

    /// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]` (shutdownCommand()):
    /// the checks, then prepareForShutdown() and exit. Nothing is replied:
    /// the connection closes. The wait for lagging replicas (NOW skips it)
    /// is not modelled, as for SIGTERM.
    fn shutdown_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        argv: &[String],
    ) -> Option<Reply> {
        let (mut nosave, mut save, mut abort, mut others) = (false, false, false, false);
        for a in &argv[1..] {
            match a.to_ascii_lowercase().as_str() {
                "nosave" => nosave = true,
                "save" => save = true,
                "now" | "force" => others = true,
                "abort" => abort = true,
                _ => return Some(Reply::Error(strings::ERR_SYNTAX.into())),
            }
        }
        if (abort && (nosave || save || others)) || (nosave && save) {
            return Some(Reply::Error(strings::ERR_SYNTAX.into()));
        }
        if abort {
            return Some(Reply::Error("ERR No shutdown in progress.".into()));
        }
        let force_save = match (nosave, save) {
            (true, _) => Some(false),
            (_, true) => Some(true),
            _ => None,
        };
        self.shut_down(ctx, host, force_save);
        ctx.exit();
        None
    }

    /// prepareForShutdown(): the final save when `save` says so, or, left
    /// to the configuration, when there are save points.
    fn shut_down(&mut self, ctx: &mut Ctx<'_>, host: &mut Host<'_>, save: Option<bool>) {
        ctx.log(
            Level::Warning,
            "User requested shutdown...",
            "User requested shutdown...".into(),
        );
        // 7.0 waits up to shutdown-timeout for lagging replicas to catch up.
        // The stream already sent reaches them in order before the FIN, so
        // they end with every byte; the wait is not modelled further.
        if !self.replicas.is_empty() {
            let lagging = self
                .replicas
                .iter()
                .any(|r| r.ack_off != self.master_repl_offset);
            if lagging && self.replica.is_none() {
                self.feed(Cmd::ReplconfGetack);
            }
            self.write_to_replicas(ctx);
            let n = self.replicas.len();
            ctx.log(
                Level::Notice,
                "replicas are in sync when shutting down.",
                format!("{n} of {n} replicas are in sync when shutting down."),
            );
        }
        if save.unwrap_or(!self.cfg.save.is_empty()) {
            ctx.log(
                Level::Notice,
                "Saving the final RDB snapshot before exiting.",
                "Saving the final RDB snapshot before exiting.".into(),
            );
            host.disk.rdb = Some(RdbFile {
                data: Rc::new(self.data.clone()),
                repl: self.repl_save_info(),
            });
            ctx.log(Level::Notice, "DB saved on disk", "DB saved on disk".into());
        }
        if self.cfg.appendonly {
            let _ = self.flush_aof(ctx, host.disk);
            if let Some(aof) = host.disk.aof.as_mut() {
                aof.fsynced = aof.log.len();
            }
        }
        ctx.log(
            Level::Warning,
            "Redis is now ready to exit, bye bye...",
            "Redis is now ready to exit, bye bye...".into(),
        );
    }

    /// rdbPopulateSaveInfo(): the replication aux fields an RDB gets.
    fn repl_save_info(&self) -> Option<(RunId, u64)> {
        match &self.replica {
            None => self
                .backlog
                .as_ref()
                .map(|_| (self.replid, self.master_repl_offset)),
            Some(r) => {
                if r.is_connected() {
                    Some((self.replid, self.master_repl_offset))
                } else {
                    r.cached
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cron_resume;
    use crate::proto::resp::Frame;
    use crate::redis::config::RedisConfig;
    use crate::redis::testing::Cli;
    use crate::time::ms;

    // shutdownCommand()'s checks, with a real 7.0.15's texts.
    #[test]
    fn shutdown_checks_its_arguments_then_exits_without_a_reply() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            cli.reply("SHUTDOWN NOSAVE SAVE"),
            Frame::Error("ERR syntax error".into())
        );
        assert_eq!(
            cli.reply("SHUTDOWN ABORT NOW"),
            Frame::Error("ERR syntax error".into())
        );
        assert_eq!(
            cli.reply("SHUTDOWN ABORT"),
            Frame::Error("ERR No shutdown in progress.".into())
        );
        assert!(cli.replies("SHUTDOWN NOSAVE").is_empty());
        let now = cli.h.now();
        cli.h.run_until(now + 1);
        assert_eq!(cli.h.sim.process_state(0), (false, false));
    }

    // timeCommand(): the wall clock as two bulk strings.
    #[test]
    fn time_answers_the_servers_own_clock() {
        let mut cli = Cli::new(RedisConfig::default());
        cli.h.run_until(ms(2_500));
        let now = crate::time::WALL_CLOCK_START + ms(2_500);
        assert_eq!(
            cli.reply("TIME"),
            Frame::Array(Some(vec![
                Frame::bulk((now / 1_000_000).to_string()),
                Frame::bulk("500000"),
            ]))
        );
        cli.h.sim.clock_jump(0, 1_234);
        assert_eq!(cli.send("TIME").lines().nth(1), Some("2) \"501234\""));
        assert_eq!(
            cli.reply("TIME now"),
            Frame::Error("ERR wrong number of arguments for 'time' command".into())
        );
    }

    #[test]
    fn crons_resume_on_the_grid_of_an_earlier_start() {
        // Started 350 ms before time zero: crons at -349, -249, -149, -49
        // (cronloops 0..=3), so after the boot-time run at 1 ms the next one
        // is at 51 ms with cronloops 4, and replicationCron (cronloops 10)
        // comes at 651 ms.
        assert_eq!(cron_resume(ms(350), ms(100)), (ms(50), 4));
        // A whole second before: the grid of a start at zero, one second on.
        assert_eq!(cron_resume(ms(1000), ms(100)), (ms(100), 11));
        // Just before: the next cron is almost a full period away.
        assert_eq!(cron_resume(1, ms(100)), (ms(100) - 1, 1));
    }
}
