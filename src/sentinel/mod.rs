//! Redis Sentinel 7.0 as a state machine (sentinel.c): monitoring with PING,
//! INFO and hello messages, SDOWN/ODOWN, leader election per epoch, the
//! failover state machine, configuration propagation and TILT.
//!
//! One Sentinel monitors a table of masters (sentinel.c's `sentinel.masters`
//! dict), each with its own settings, timers, replicas, Sentinels, votes
//! and failover; `current_epoch` and TILT are the Sentinel's. Times are the
//! Sentinel's wall clock in milliseconds, as `mstime()`, so a clock jump
//! shows up exactly where Redis would see it.

mod commands;
pub mod failover;
mod hello;
mod help;
pub mod instance;
mod line;
mod masters;
mod pass;
mod readout;
mod settings;
mod show;
#[cfg(test)]
mod testing;

use std::collections::BTreeMap;
use std::rc::Rc;

use compact_str::{CompactString, format_compact};
use indexmap::IndexMap;
use rand::RngExt;

use crate::proto::addr::Directory;
use crate::proto::resp::Proto;
use crate::proto::{Cmd, Ctx, Msg, Reply, RunId};
use crate::sim::net::{ConnId, NodeId};
use crate::sim::{Node, Timer};
use crate::time::{Micros, secs};
use crate::trace::Level;
use crate::trace::names;
use instance::{FailoverState, Instance, Kind, Master, MasterId, Pending, Reconf, period};
use pass::Pass;

pub const HELLO_CHANNEL: &str = "__sentinel__:hello";

/// sentinel.conf settings for one monitored master (`sentinel monitor
/// <name> ...` and the `sentinel <option> <name> ...` lines after it).
#[derive(Clone, Debug, PartialEq)]
pub struct MasterConf {
    pub master_name: CompactString,
    pub master: NodeId,
    pub quorum: u32,
    pub down_after: u64,
    pub failover_timeout: u64,
    pub parallel_syncs: u32,
    /// `sentinel auth-pass`: the password sent to the master and replicas.
    pub auth_pass: Option<CompactString>,
}

impl MasterConf {
    /// `sentinel monitor mymaster <master> 2` with every default.
    pub fn new(master: NodeId) -> Self {
        Self {
            master_name: "mymaster".into(),
            master,
            quorum: 2,
            down_after: 30_000,
            failover_timeout: 180_000,
            parallel_syncs: 1,
            auth_pass: None,
        }
    }
}

/// sentinel.conf: the Sentinel's port and every master it monitors, in
/// the file's order.
#[derive(Clone, Debug, PartialEq)]
pub struct SentinelConf {
    pub port: u16,
    pub masters: Vec<MasterConf>,
    /// `sentinel announce-ip` and `sentinel announce-port`: the address
    /// its hellos give, as behind a NAT.
    pub announce: Option<(CompactString, u16)>,
}

impl SentinelConf {
    /// One master, `mymaster` at `master`, with every default.
    pub fn new(master: NodeId) -> Self {
        Self {
            port: 26379,
            masters: vec![MasterConf::new(master)],
            announce: None,
        }
    }

    /// The first monitored master's settings (the only one in most
    /// scenarios).
    pub fn first(&self) -> Option<&MasterConf> {
        self.masters.first()
    }
}

/// What sentinel.conf holds about one master after every flush.
#[derive(Clone, Debug)]
struct SavedMaster {
    /// Its settings, with the current address as `master`.
    conf: MasterConf,
    config_epoch: u64,
    leader: Option<CompactString>,
    leader_epoch: u64,
    reboot_down_after: u64,
    replicas: Vec<NodeId>,
    sentinels: Vec<(NodeId, Option<CompactString>)>,
}

/// What sentinel.conf holds after every flush, so a restarted Sentinel
/// resumes with its identity, epochs, votes and known instances.
#[derive(Clone, Debug)]
struct Saved {
    myid: CompactString,
    current_epoch: u64,
    masters: Vec<SavedMaster>,
}

/// Who a connection belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// Our command link to an instance of a master (by node id).
    Cc(MasterId, NodeId),
    /// Our pub/sub link to a master or replica.
    Pc(MasterId, NodeId),
    /// A client or another Sentinel connected to us.
    Incoming,
}

/// The running Sentinel process: sentinel.c's global `struct sentinelState sentinel`.
pub struct SentinelState {
    pub myid: CompactString,
    pub current_epoch: u64,
    pub tilt: bool,
    tilt_start: u64,
    previous_time: u64,
    /// `sentinel.masters`: every monitored master, in the order they were
    /// added (sentinel.conf's order, then `SENTINEL MONITOR`'s).
    pub masters: Vec<Master>,
    /// The id the next added master gets.
    next_id: MasterId,
    conns: IndexMap<ConnId, Owner, rustc_hash::FxBuildHasher>,
    /// Clients subscribed to event channels (e.g. `+switch-master`) and
    /// patterns (`*`).
    pubsub: crate::proto::pubsub::PubSub,
    /// What each incoming connection's client has: its id, protocol and
    /// name.
    clients: BTreeMap<ConnId, Client>,
    /// The last client id handed out (the first is 3, as in Redis).
    next_client_id: u64,
}

/// A client connected to the Sentinel (or another Sentinel's link).
#[derive(Debug)]
struct Client {
    id: u64,
    resp: Proto,
    name: Option<String>,
}

impl SentinelState {
    /// The monitored master with this id.
    pub fn master(&self, id: MasterId) -> Option<&Master> {
        self.masters.iter().find(|m| m.id == id)
    }

    pub fn master_mut(&mut self, id: MasterId) -> Option<&mut Master> {
        self.masters.iter_mut().find(|m| m.id == id)
    }

    /// sentinelGetMasterByName(): dict lookups are case-sensitive.
    pub fn master_named(&self, name: &str) -> Option<&Master> {
        self.masters.iter().find(|m| m.inst.name == name)
    }

    /// The master that node `node` is the master of, if any.
    pub fn master_at_node(&self, node: NodeId) -> Option<&Master> {
        self.masters.iter().find(|m| m.inst.node == node)
    }
}

/// One Sentinel across restarts: sentinel.conf, its records, and [`SentinelState`] while it runs.
pub struct SentinelNode {
    pub name: String,
    dir: Rc<Directory>,
    conf: SentinelConf,
    saved: Option<Saved>,
    /// The running process; `None` while it is down.
    pub state: Option<SentinelState>,
    /// Every replica selection this Sentinel made, for the run's report.
    pub selections: Vec<failover::Selection>,
    /// Every vote this Sentinel cast: (epoch, run id voted for, the
    /// master's name), for the invariant checks. Votes are per master: one
    /// epoch may hold a vote for each.
    pub votes: Vec<(u64, CompactString, CompactString)>,
    /// Every election this Sentinel won: (epoch, simulated time, the
    /// master's name).
    pub elections_won: Vec<(u64, Micros, CompactString)>,
    /// What `SENTINEL CONFIG SET` changed, kept across restarts.
    globals: settings::Globals,
}

/// A Sentinel's one timer: sentinelTimer(), at a new random hz each time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentinelTimer {
    Tick,
}

impl Timer for SentinelTimer {
    fn encode(self) -> u64 {
        0
    }

    fn decode(token: u64) -> Option<Self> {
        (token == 0).then_some(SentinelTimer::Tick)
    }
}

impl SentinelNode {
    pub fn new(name: String, dir: Rc<Directory>, conf: SentinelConf) -> Self {
        let globals = settings::Globals {
            announce_ip: conf.announce.as_ref().map(|(ip, _)| ip.clone()),
            announce_port: conf.announce.as_ref().map_or(0, |(_, port)| *port),
            ..settings::Globals::default()
        };
        Self {
            name,
            dir,
            conf,
            saved: None,
            state: None,
            selections: Vec::new(),
            votes: Vec::new(),
            elections_won: Vec::new(),
            globals,
        }
    }

    /// The sentinel.conf this Sentinel was started with.
    pub fn conf(&self) -> &SentinelConf {
        &self.conf
    }

    /// A new instance of `kind` at `node`, named as sentinel.c names it:
    /// the master by `master_name`, a replica by `ip:port`.
    fn instance(&self, kind: Kind, node: NodeId, master_name: &str, now: u64) -> Instance {
        let (host, port) = self.dir.known_as(node);
        let name = match kind {
            Kind::Master => master_name.into(),
            _ => format_compact!("{host}:{port}"),
        };
        Instance::new(kind, name, host, port, node, now)
    }

    /// The running state's master `id`; every caller holds an id it just
    /// read from the running state.
    fn m(&mut self, id: MasterId) -> &mut Master {
        self.state
            .as_mut()
            .expect("running")
            .master_mut(id)
            .expect("monitored")
    }

    /// The same, read-only.
    fn m_ref(&self, id: MasterId) -> &Master {
        self.state
            .as_ref()
            .expect("running")
            .master(id)
            .expect("monitored")
    }

    /// Persists what sentinelFlushConfig() writes, master by master. The
    /// monitored address is the current one (the promoted replica once the
    /// failover reconfigures replicas), and that replica's line names the
    /// old master instead (rewriteConfigSentinelOption()).
    fn flush_config(&mut self) {
        let Some(p) = &self.state else { return };
        let masters = p
            .masters
            .iter()
            .map(|m| {
                let current = m.current_address().2;
                let old = m.inst.node;
                SavedMaster {
                    conf: MasterConf {
                        master_name: m.inst.name.clone(),
                        master: current,
                        quorum: m.quorum,
                        down_after: m.down_after,
                        failover_timeout: m.failover_timeout,
                        parallel_syncs: m.parallel_syncs,
                        auth_pass: m.auth_pass.clone(),
                    },
                    config_epoch: m.config_epoch,
                    leader: m.leader.clone(),
                    leader_epoch: m.leader_epoch,
                    reboot_down_after: m.reboot_down_after,
                    replicas: m
                        .replicas
                        .iter()
                        .map(|r| if r.node == current { old } else { r.node })
                        .collect(),
                    sentinels: m
                        .sentinels
                        .iter()
                        .map(|s| (s.node, s.runid.clone()))
                        .collect(),
                }
            })
            .collect();
        self.saved = Some(Saved {
            myid: p.myid.clone(),
            current_epoch: p.current_epoch,
            masters,
        });
    }

    /// A master as sentinel.conf describes it: its settings, and with a
    /// saved record its epochs, vote, replicas and Sentinels.
    fn load_master(
        &self,
        id: MasterId,
        conf: &MasterConf,
        saved: Option<&SavedMaster>,
        now: u64,
    ) -> Master {
        let name = conf.master_name.as_str();
        let inst = self.instance(Kind::Master, conf.master, name, now);
        let mut master = Master::new(id, inst, conf);
        if let Some(s) = saved {
            master.config_epoch = s.config_epoch;
            master.leader = s.leader.clone();
            master.leader_epoch = s.leader_epoch;
            master.reboot_down_after = s.reboot_down_after;
            for &r in &s.replicas {
                master
                    .replicas
                    .push(self.instance(Kind::Replica, r, name, now));
            }
            for (n, runid) in &s.sentinels {
                let mut i = self.instance(Kind::Sentinel, *n, name, now);
                if let Some(id) = runid {
                    i.name = id.clone();
                    i.runid = Some(id.clone());
                }
                master.sentinels.push(i);
            }
        }
        master
    }

    fn emit(ctx: &mut Pass<'_, '_>, level: Level, event: &'static str, detail: String) {
        ctx.event(level, event, detail);
    }

    /// Publishes the events this pass emitted to the clients subscribed to
    /// their channels (each event on the channel named after it, as
    /// sentinelEvent() does).
    fn publish_events(&self, ctx: &mut Pass<'_, '_>) {
        let events = std::mem::take(&mut ctx.events);
        let Some(p) = &self.state else { return };
        for (event, detail) in events {
            if !p.pubsub.has_receivers(event) {
                continue;
            }
            for (conn, message) in p.pubsub.publish(event, &detail, |c| self.proto(c)) {
                ctx.send(conn, Msg::Reply(Reply::Message(Box::new(message))));
            }
        }
    }

    fn schedule_tick(ctx: &mut Pass<'_, '_>) {
        // sentinelTimer(): server.hz = 10 + rand() % 10 desynchronises Sentinels.
        let hz: u64 = 10 + ctx.rng().random_range(0..10u64);
        ctx.set_timer(1_000_000 / hz / 1000 * 1000, SentinelTimer::Tick);
    }
}

impl Node for SentinelNode {
    type Msg = Msg;
    type Admin = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        let ctx = &mut Pass::new(ctx);
        let now = ctx.mstime();
        let saved = self.saved.clone();
        let myid: CompactString = match &saved {
            Some(s) => s.myid.clone(),
            None => RunId::random(ctx.rng()).as_str().into(),
        };
        let masters: Vec<Master> = match &saved {
            Some(s) => s
                .masters
                .iter()
                .enumerate()
                .map(|(i, m)| self.load_master(i as MasterId, &m.conf, Some(m), now))
                .collect(),
            None => self
                .conf
                .masters
                .iter()
                .enumerate()
                .map(|(i, c)| self.load_master(i as MasterId, c, None, now))
                .collect(),
        };
        let details: Vec<String> = masters
            .iter()
            .map(|m| format!("{} quorum {}", m.inst.describe(), m.quorum))
            .collect();
        self.state = Some(SentinelState {
            myid,
            current_epoch: saved.as_ref().map_or(0, |s| s.current_epoch),
            tilt: false,
            tilt_start: 0,
            previous_time: now,
            next_id: masters.len() as MasterId,
            masters,
            conns: IndexMap::default(),
            pubsub: Default::default(),
            clients: BTreeMap::new(),
            next_client_id: 2,
        });
        for detail in details {
            Self::emit(ctx, Level::Warning, names::sentinel::MONITOR, detail);
        }
        self.flush_config();
        // A Sentinel started with the deployment runs its first
        // sentinelTimer() at its own phase of the second: its PINGs,
        // hellos and INFOs then beat out of step with every other
        // process's, as those of Sentinels started one after another do.
        match ctx.boot_lead(secs(1)) {
            Some(lead) => ctx.set_timer(secs(1) - lead, SentinelTimer::Tick),
            None => Self::schedule_tick(ctx),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, token: u64) {
        if SentinelTimer::decode(token) != Some(SentinelTimer::Tick) || self.state.is_none() {
            return;
        }
        let ctx = &mut Pass::new(ctx);
        self.timer(ctx);
        self.publish_events(ctx);
        Self::schedule_tick(ctx);
    }

    fn on_accept(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, _peer: NodeId) {
        if let Some(p) = self.state.as_mut() {
            // createClient(): a Sentinel is a server with tcp-keepalive's
            // default, 300 s.
            ctx.keepalive(conn, crate::sim::net::Keepalive::anet(300));
            p.conns.insert(conn, Owner::Incoming);
            p.next_client_id += 1;
            let client = Client {
                id: p.next_client_id,
                resp: Proto::Resp2,
                name: None,
            };
            p.clients.insert(conn, client);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, msg: Msg) {
        let ctx = &mut Pass::new(ctx);
        self.message(ctx, conn, msg);
        self.publish_events(ctx);
    }

    fn on_closed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        self.link_closed(&mut Pass::new(ctx), conn);
    }

    fn on_kill(&mut self, _now: Micros, _power_loss: bool) {
        // sentinel.conf was flushed on every change: `saved` is current.
        self.state = None;
    }

    fn on_shutdown(&mut self, _ctx: &mut Ctx<'_>) {
        self.flush_config();
        self.state = None;
    }
}

impl SentinelNode {
    /// A message on one of our connections.
    fn message(&mut self, ctx: &mut Pass<'_, '_>, conn: ConnId, msg: Msg) {
        let Some(p) = self.state.as_ref() else { return };
        match (p.conns.get(&conn).copied(), msg) {
            (Some(Owner::Incoming), Msg::Cmd(cmd)) => {
                let reply = match self.command(ctx, conn, cmd) {
                    // A line's reply, in the connection's protocol.
                    Reply::Frame(f) => Reply::Frame(f.for_proto(self.proto(conn))),
                    reply => reply,
                };
                ctx.send(conn, Msg::Reply(reply));
            }
            (Some(Owner::Cc(id, node)), Msg::Reply(reply)) => self.reply(ctx, id, node, reply),
            (Some(Owner::Pc(id, node)), Msg::Reply(reply)) => {
                self.pc_activity(ctx, id, node);
                // sentinelReceiveHelloMessages(): a `message` on the hello
                // channel.
                if let Some((HELLO_CHANNEL, payload)) = reply.message() {
                    self.process_hello(ctx, payload);
                }
            }
            _ => {}
        }
    }

    /// Anything on a pub/sub link keeps it alive.
    fn pc_activity(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, node: NodeId) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        if let Some(i) = p.master_mut(id).and_then(|m| m.instance_mut(node)) {
            i.link.pc_last_activity = now;
        }
    }
}

impl SentinelNode {
    /// `INFO sentinel`, with Redis's field names (genSentinelInfoString()):
    /// one `masterN:` line per monitored master.
    pub fn info(&self) -> Option<String> {
        let p = self.state.as_ref()?;
        let mut s = format!(
            "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\n\
             sentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\n\
             sentinel_simulate_failure_flags:0\r\n",
            p.masters.len(),
            u8::from(p.tilt),
        );
        for (i, m) in p.masters.iter().enumerate() {
            s.push_str(&master_info_line(i, m));
        }
        s.push_str(&format!(
            "# Failover (not part of Redis's INFO)\r\ncurrent_epoch:{}\r\n",
            p.current_epoch
        ));
        for (i, m) in p.masters.iter().enumerate() {
            // The first master's lines keep their plain names; the others'
            // end in the master's name (`config_epoch_sessions`).
            let n = if i == 0 {
                String::new()
            } else {
                format!("_{}", m.inst.name)
            };
            s.push_str(&format!(
                "config_epoch{n}:{}\r\nfailover_state{n}:{:?}\r\n",
                m.config_epoch, m.failover_state,
            ));
        }
        Some(s)
    }
}

impl SentinelNode {
    /// sentinelTimer() and sentinelHandleDictOfRedisInstances(): each
    /// master in turn, then its replicas and its Sentinels; at most one
    /// master (the last found in UPDATE_CONFIG) switches to its promoted
    /// replica per tick.
    fn timer(&mut self, ctx: &mut Pass<'_, '_>) {
        self.check_tilt(ctx);
        let ids: Vec<MasterId> = self
            .state
            .as_ref()
            .expect("running")
            .masters
            .iter()
            .map(|m| m.id)
            .collect();
        let mut switch_to_promoted = None;
        for id in ids {
            let master = self.m_ref(id).inst.node;
            self.handle_instance(ctx, id, master);
            let m = self.m_ref(id);
            let others: Vec<NodeId> = m
                .replicas
                .iter()
                .chain(m.sentinels.iter())
                .map(|i| i.node)
                .collect();
            for node in others {
                self.handle_instance(ctx, id, node);
            }
            if self.m_ref(id).failover_state == FailoverState::UpdateConfig {
                switch_to_promoted = Some(id);
            }
        }
        if let Some(id) = switch_to_promoted {
            self.switch_to_promoted(ctx, id);
        }
        let now = ctx.mstime();
        self.state.as_mut().expect("running").previous_time = now;
    }

    /// sentinelCheckTiltCondition(): a timer gap below zero or above 2 s
    /// means the clock or the process is unreliable.
    fn check_tilt(&mut self, ctx: &mut Pass<'_, '_>) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let delta = now as i64 - p.previous_time as i64;
        if !(0..=period::TILT_TRIGGER).contains(&delta) {
            p.tilt = true;
            p.tilt_start = now;
            Self::emit(
                ctx,
                Level::Warning,
                names::sentinel::TILT,
                "#tilt mode entered".into(),
            );
        }
        p.previous_time = now;
    }

    /// sentinelHandleRedisInstance()
    fn handle_instance(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, node: NodeId) {
        self.reconnect_instance(ctx, id, node);
        self.send_periodic_commands(ctx, id, node);
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        if p.tilt {
            if now.saturating_sub(p.tilt_start) < period::TILT {
                return;
            }
            p.tilt = false;
            Self::emit(
                ctx,
                Level::Warning,
                names::sentinel::TILT_OFF,
                "#tilt mode exited".into(),
            );
        }
        self.check_subjectively_down(ctx, id, node);
        if self.m_ref(id).inst.node == node {
            self.check_objectively_down(ctx, id);
            if self.start_failover_if_needed(ctx, id) {
                self.ask_master_state(ctx, id, true);
            }
            self.failover_state_machine(ctx, id);
            self.ask_master_state(ctx, id, false);
        }
    }

    /// sentinelReconnectInstance(): at most once per ping period, open the
    /// command link (and the pub/sub link for masters and replicas).
    fn reconnect_instance(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, node: NodeId) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let Some(m) = p.masters.iter_mut().find(|m| m.id == id) else {
            return;
        };
        let auth = m.auth_pass.clone();
        let ping_period = m.ping_period();
        let Some(inst) = m.instance_mut(node) else {
            return;
        };
        if !inst.link.disconnected {
            return;
        }
        // auth-pass goes to masters and replicas, not to other Sentinels.
        let auth = auth.filter(|_| inst.kind != Kind::Sentinel);
        if now.saturating_sub(inst.link.last_reconn_time) < ping_period {
            return;
        }
        inst.link.last_reconn_time = now;
        let mut new_conns = Vec::new();
        if inst.link.cc.is_none() {
            let cc = ctx.connect(node);
            inst.link.cc = Some(cc);
            inst.link.cc_conn_time = now;
            inst.link.pending.clear();
            new_conns.push((cc, Owner::Cc(id, node)));
            if let Some(pass) = &auth {
                ctx.send(cc, Msg::Cmd(Cmd::Auth(pass.clone())));
                inst.link.pending.push_back(Pending::Auth);
            }
            // CLIENT SETNAME, then a PING that starts the SDOWN clock if
            // none was pending.
            send_ping(ctx, inst, cc, now);
        }
        if inst.kind != Kind::Sentinel && inst.link.pc.is_none() {
            let pc = ctx.connect(node);
            inst.link.pc = Some(pc);
            inst.link.pc_conn_time = now;
            inst.link.pc_last_activity = now;
            if let Some(pass) = &auth {
                ctx.send(pc, Msg::Cmd(Cmd::Auth(pass.clone())));
            }
            ctx.send(pc, Msg::Cmd(Cmd::Subscribe(HELLO_CHANNEL.into())));
            new_conns.push((pc, Owner::Pc(id, node)));
        }
        if inst.link.cc.is_some() && (inst.kind == Kind::Sentinel || inst.link.pc.is_some()) {
            inst.link.disconnected = false;
        }
        for (c, o) in new_conns {
            p.conns.insert(c, o);
        }
    }

    /// A link connection failed or dropped (instanceLinkCloseConnection()).
    fn link_closed(&mut self, _ctx: &mut Pass<'_, '_>, conn: ConnId) {
        let Some(p) = self.state.as_mut() else { return };
        p.pubsub.forget(conn);
        let Some(owner) = p.conns.swap_remove(&conn) else {
            return;
        };
        let (id, node) = match owner {
            Owner::Cc(id, n) | Owner::Pc(id, n) => (id, n),
            Owner::Incoming => {
                p.clients.remove(&conn);
                return;
            }
        };
        if let Some(inst) = p.master_mut(id).and_then(|m| m.instance_mut(node)) {
            if inst.link.cc == Some(conn) {
                inst.link.cc = None;
                inst.link.pending.clear();
            }
            if inst.link.pc == Some(conn) {
                inst.link.pc = None;
            }
            inst.link.disconnected = true;
        }
    }

    fn close_link(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, node: NodeId, cc: bool) {
        let p = self.state.as_mut().expect("running");
        let Some(inst) = p.master_mut(id).and_then(|m| m.instance_mut(node)) else {
            return;
        };
        let conn = if cc { inst.link.cc } else { inst.link.pc };
        if let Some(c) = conn {
            ctx.close(c);
            self.link_closed(ctx, c);
        }
    }

    /// sentinelSendPeriodicCommands(): INFO, PING and hello, each when due.
    fn send_periodic_commands(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, node: NodeId) {
        let now = ctx.mstime();
        let m = self.m(id);
        let master_odown_or_failover = m.o_down || m.in_failover();
        let ping_period = m.ping_period();
        let Some(inst) = m.instance_mut(node) else {
            return;
        };
        let Some(cc) = inst.link.cc.filter(|_| !inst.link.disconnected) else {
            return;
        };
        if inst.link.pending.len() >= period::MAX_PENDING_COMMANDS {
            return;
        }
        let info_period = if inst.kind == Kind::Replica
            && (master_odown_or_failover || inst.master_link_down_time != 0)
        {
            1000
        } else {
            period::INFO
        };
        if inst.kind != Kind::Sentinel
            && (inst.info_refresh == 0 || now.saturating_sub(inst.info_refresh) > info_period)
        {
            ctx.send(cc, Msg::Cmd(Cmd::Info));
            inst.link.pending.push_back(Pending::Info);
        }
        if inst.link.ping_due(now, ping_period) {
            send_ping(ctx, inst, cc, now);
        }
        if now.saturating_sub(inst.last_pub_time) > period::PUBLISH {
            self.send_hello(ctx, id, node);
        }
    }

    /// A reply on one of our command links.
    fn reply(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, node: NodeId, reply: Reply) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let Some(inst) = p.master_mut(id).and_then(|m| m.instance_mut(node)) else {
            return;
        };
        let Some(kind) = inst.link.pending.pop_front() else {
            return;
        };
        match kind {
            Pending::Ping => {
                // sentinelPingReplyCallback()
                let valid = match &reply {
                    Reply::Pong => true,
                    Reply::Error(e) => e.starts_with("LOADING") || e.starts_with("MASTERDOWN"),
                    _ => false,
                };
                if valid {
                    inst.link.last_avail_time = now;
                    inst.link.act_ping_time = 0;
                }
                inst.link.last_pong_time = now;
            }
            Pending::Info => {
                if let Reply::Info(text) = reply {
                    self.refresh_instance_info(ctx, id, node, &text);
                }
            }
            Pending::IsMasterDown => self.is_master_down_reply(ctx, id, node, reply),
            Pending::Publish | Pending::SlaveOf | Pending::Auth => {}
        }
    }

    /// sentinelRefreshInstanceInfo(): what INFO says about an instance.
    fn refresh_instance_info(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
        node: NodeId,
        info: &str,
    ) {
        let now = ctx.mstime();
        let dir = self.dir.clone();
        let m = self.m(id);
        let is_master = m.inst.node == node;
        let mut new_replicas = Vec::new();
        let mut rebooted = false;
        let inst = m.instance_mut(node).expect("known");
        inst.info = Some(info.to_string());
        inst.master_link_down_time = 0;
        let mut role = None;
        for l in info.split("\r\n") {
            if let Some(id) = l.strip_prefix("run_id:") {
                match &inst.runid {
                    None => inst.runid = Some(id.into()),
                    Some(old) if old != id => {
                        rebooted = true;
                        inst.runid = Some(id.into());
                    }
                    Some(_) => {}
                }
            }
            if is_master
                && l.starts_with("slave")
                && l.as_bytes().get(5).is_some_and(u8::is_ascii_digit)
                && let (Some(ip), Some(port)) = (info_value(l, "ip="), info_value(l, "port="))
                && let Ok(port) = port.parse::<u16>()
            {
                new_replicas.push((ip.to_string(), port));
            }
            if let Some(v) = l.strip_prefix("master_link_down_since_seconds:") {
                inst.master_link_down_time = v.trim().parse::<i64>().unwrap_or(0) * 1000;
            }
            if l == "role:master" {
                role = Some(Kind::Master);
            } else if l == "role:slave" {
                role = Some(Kind::Replica);
            }
            if role == Some(Kind::Replica) {
                if let Some(h) = l.strip_prefix("master_host:")
                    && inst.slave_master_host.as_deref() != Some(h)
                {
                    inst.slave_master_host = Some(h.into());
                    inst.slave_conf_change_time = now;
                }
                if let Some(v) = l.strip_prefix("master_port:") {
                    let port = v.parse().unwrap_or(0);
                    if inst.slave_master_port != port {
                        inst.slave_master_port = port;
                        inst.slave_conf_change_time = now;
                    }
                }
                if let Some(v) = l.strip_prefix("master_link_status:") {
                    inst.slave_master_link_up = v == "up";
                }
                if let Some(v) = l.strip_prefix("slave_priority:") {
                    inst.slave_priority = v.parse().unwrap_or(100);
                }
                if let Some(v) = l.strip_prefix("slave_repl_offset:") {
                    inst.slave_repl_offset = v.parse().unwrap_or(0);
                }
            }
        }
        inst.info_refresh = now;
        let inst_at = m.at_node(node);
        if rebooted {
            Self::emit(ctx, Level::Notice, names::sentinel::REBOOT, inst_at.clone());
        }
        let mut added = false;
        for (ip, port) in new_replicas {
            let known = m.replicas.iter().any(|r| r.host == ip && r.port == port);
            if !known && let Some(n) = dir.lookup(&ip, port) {
                let r = Instance::new(
                    Kind::Replica,
                    format_compact!("{ip}:{port}"),
                    &ip,
                    port,
                    n,
                    now,
                );
                m.replicas.push(r);
                let at = m.at_node(n);
                Self::emit(ctx, Level::Notice, names::sentinel::SLAVE, at);
                added = true;
            }
        }
        if added {
            self.flush_config();
        }
        let m = self.m(id);
        let inst = m.instance_mut(node).expect("known");
        if role.is_some() && role != inst.role_reported {
            inst.role_reported = role;
            inst.role_reported_time = now;
            if role == Some(Kind::Replica) {
                inst.slave_conf_change_time = now;
            }
            let plus = (inst.kind == Kind::Master) == (role == Some(Kind::Master));
            let at = m.at_node(node);
            Self::emit(
                ctx,
                Level::Verbose,
                if plus { "+role-change" } else { "-role-change" },
                format!(
                    "{at} new reported role is {}",
                    if role == Some(Kind::Master) {
                        "master"
                    } else {
                        "slave"
                    }
                ),
            );
        }
        if self.state.as_ref().expect("running").tilt {
            return;
        }
        if !is_master {
            self.replica_reported(ctx, id, node, role);
        }
    }

    /// The acting half of INFO processing for a replica: promotion seen,
    /// rogue masters converted, misconfigured replicas fixed, reconfiguration
    /// progress.
    fn replica_reported(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
        node: NodeId,
        role: Option<Kind>,
    ) {
        let now = ctx.mstime();
        let m = self.m(id);
        let looks_sane = master_looks_sane(m, now);
        let Some(idx) = m.replicas.iter().position(|r| r.node == node) else {
            return;
        };
        let (mhost, mport) = (m.inst.host.clone(), m.inst.port);
        let failover_timeout = m.failover_timeout;
        let r = &m.replicas[idx];
        if role == Some(Kind::Master) {
            if r.promoted && m.failover_state == FailoverState::WaitPromotion {
                m.config_epoch = m.failover_epoch;
                m.failover_state = FailoverState::ReconfSlaves;
                m.failover_state_change_time = now;
                let at = m.at_node(node);
                Self::emit(ctx, Level::Warning, names::sentinel::PROMOTED_SLAVE, at);
                let at = m.at(&m.inst);
                Self::emit(
                    ctx,
                    Level::Warning,
                    names::sentinel::FAILOVER_STATE_RECONF_SLAVES,
                    at,
                );
                self.flush_config();
                self.force_hello_update(id);
            } else {
                let wait = period::PUBLISH * 4;
                if !r.promoted
                    && looks_sane
                    && r.no_down_for(now, wait)
                    && now.saturating_sub(r.role_reported_time) > wait
                    && self.send_slaveof(ctx, id, node, Some((mhost, mport)))
                {
                    let at = self.m_ref(id).at_node(node);
                    Self::emit(ctx, Level::Notice, names::sentinel::CONVERT_TO_SLAVE, at);
                }
            }
            return;
        }
        if role != Some(Kind::Replica) {
            return;
        }
        let wrong_master =
            r.slave_master_port != mport || r.slave_master_host.as_deref() != Some(mhost.as_str());
        if wrong_master
            && looks_sane
            && r.no_down_for(now, failover_timeout)
            && now.saturating_sub(r.slave_conf_change_time) > failover_timeout
            && self.send_slaveof(ctx, id, node, Some((mhost, mport)))
        {
            let at = self.m_ref(id).at_node(node);
            Self::emit(ctx, Level::Notice, names::sentinel::FIX_SLAVE_CONFIG, at);
        }
        let m = self.m(id);
        let promoted = m
            .promoted
            .map(|i| (m.replicas[i].host.clone(), m.replicas[i].port));
        let r = &mut m.replicas[idx];
        if let Some((phost, pport)) = promoted {
            if r.reconf == Reconf::Sent
                && r.slave_master_host.as_deref() == Some(phost.as_str())
                && r.slave_master_port == pport
            {
                r.reconf = Reconf::InProgress;
                let at = m.at_node(node);
                Self::emit(ctx, Level::Notice, names::sentinel::SLAVE_RECONF_INPROG, at);
            }
            let r = &mut m.replicas[idx];
            if r.reconf == Reconf::InProgress && r.slave_master_link_up {
                r.reconf = Reconf::Done;
                let at = m.at_node(node);
                Self::emit(ctx, Level::Notice, names::sentinel::SLAVE_RECONF_DONE, at);
            }
        }
    }

    /// sentinelSendSlaveOf(): the reconfiguration transaction.
    fn send_slaveof(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
        node: NodeId,
        master: Option<(CompactString, u16)>,
    ) -> bool {
        let Some(inst) = self.m(id).instance_mut(node) else {
            return false;
        };
        let Some(cc) = inst.link.cc.filter(|_| !inst.link.disconnected) else {
            return false;
        };
        ctx.send(cc, Msg::Cmd(Cmd::SentinelSlaveOf { master }));
        inst.link.pending.push_back(Pending::SlaveOf);
        true
    }

    /// sentinelCheckSubjectivelyDown()
    fn check_subjectively_down(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, node: NodeId) {
        let now = ctx.mstime();
        let m = self.m(id);
        let down_after = m.down_after;
        let is_master = m.inst.node == node;
        let inst = m.instance_mut(node).expect("known");
        let link = &inst.link;
        let elapsed = link
            .unreachable_since()
            .map_or(0, |since| now.saturating_sub(since));
        // Links that look stuck are reconnected.
        let close_cc = link.cc.is_some()
            && now.saturating_sub(link.cc_conn_time) > period::MIN_LINK_RECONNECT
            && link.act_ping_time != 0
            && now.saturating_sub(link.act_ping_time) > down_after / 2
            && now.saturating_sub(link.last_pong_time) > down_after / 2;
        let close_pc = link.pc.is_some()
            && now.saturating_sub(link.pc_conn_time) > period::MIN_LINK_RECONNECT
            && now.saturating_sub(link.pc_last_activity) > period::PUBLISH * 3;
        let reports_replica = is_master
            && inst.role_reported == Some(Kind::Replica)
            && now.saturating_sub(inst.role_reported_time)
                > down_after.saturating_add(2 * period::INFO);
        let down = elapsed > down_after || reports_replica;
        if down && !inst.s_down {
            inst.s_down = true;
            inst.s_down_since = now;
            let at = m.at_node(node);
            Self::emit(ctx, Level::Warning, names::sentinel::SDOWN, at);
        } else if !down && inst.s_down {
            inst.s_down = false;
            let at = m.at_node(node);
            Self::emit(ctx, Level::Warning, names::sentinel::SDOWN_OFF, at);
        }
        if close_cc {
            self.close_link(ctx, id, node, true);
        }
        if close_pc {
            self.close_link(ctx, id, node, false);
        }
    }

    /// sentinelCheckObjectivelyDown(): SDOWN here and enough Sentinels that
    /// said so recently.
    fn check_objectively_down(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let m = self.m(id);
        let mut votes = 0;
        let mut odown = false;
        if m.inst.s_down {
            votes = 1 + m.sentinels.iter().filter(|s| s.master_down).count() as u32;
            odown = votes >= m.quorum;
        }
        if odown && !m.o_down {
            m.o_down = true;
            m.inst.o_down_since = now;
            let detail = format!("{} #quorum {}/{}", m.inst.describe(), votes, m.quorum);
            Self::emit(ctx, Level::Warning, names::sentinel::ODOWN, detail);
        } else if !odown && m.o_down {
            m.o_down = false;
            let detail = m.inst.describe();
            Self::emit(ctx, Level::Warning, names::sentinel::ODOWN_OFF, detail);
        }
    }

    /// Answers a command from a client or another Sentinel.
    fn command(&mut self, ctx: &mut Pass<'_, '_>, conn: ConnId, cmd: Cmd) -> Reply {
        match cmd {
            Cmd::Ping => Reply::Pong,
            Cmd::Subscribe(channel) => {
                let p = self.state.as_mut().expect("running");
                let frame = p
                    .pubsub
                    .subscribe(conn, crate::proto::pubsub::Kind::Channel, &channel);
                Reply::Written(frame.for_proto(self.proto(conn)))
            }
            Cmd::Publish { channel, message } if channel == HELLO_CHANNEL => {
                self.process_hello(ctx, &message);
                Reply::Int(1)
            }
            Cmd::IsMasterDownByAddr {
                ip,
                port,
                epoch,
                runid,
            } => self.is_master_down_by_addr(ctx, &ip, port, epoch, runid),
            Cmd::GetMasterAddrByName(name) => {
                let p = self.state.as_ref().expect("running");
                match p.master_named(&name) {
                    Some(m) => {
                        let (h, port, _) = m.current_address();
                        Reply::MasterAddr(Some((h, port)))
                    }
                    None => Reply::MasterAddr(None),
                }
            }
            Cmd::Role => Reply::Role("sentinel"),
            Cmd::Line(argv) => Reply::Frame(self.command_line(ctx, conn, argv)),
            other => Reply::Error(format!(
                "ERR unknown command '{}'",
                other.name().to_ascii_lowercase()
            )),
        }
    }
}

/// The `master<i>:` line of `INFO sentinel` (genSentinelInfoString()).
fn master_info_line(i: usize, m: &Master) -> String {
    format!(
        "master{i}:name={},status={},address={}:{},slaves={},sentinels={}\r\n",
        m.inst.name,
        m.status(),
        m.inst.host,
        m.inst.port,
        m.replicas.len(),
        m.sentinels.len() + 1,
    )
}

/// sentinelMasterLooksSane()
fn master_looks_sane(m: &Master, now: u64) -> bool {
    m.inst.role_reported == Some(Kind::Master)
        && !m.inst.s_down
        && !m.o_down
        && now.saturating_sub(m.inst.info_refresh) < period::INFO * 2
}

/// sentinelSendPing()
fn send_ping(ctx: &mut Pass<'_, '_>, inst: &mut Instance, cc: ConnId, now: u64) {
    ctx.send(cc, Msg::Cmd(Cmd::Ping));
    inst.link.pending.push_back(Pending::Ping);
    inst.link.last_ping_time = now;
    if inst.link.act_ping_time == 0 {
        inst.link.act_ping_time = now;
    }
}

/// The value after `key` in an INFO `slaveN:` line, up to the next comma.
fn info_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(key)? + key.len();
    let rest = &line[start..];
    Some(rest.split(',').next().unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::testing::{MASTER, Peer, sentinel, state};
    use super::*;
    use crate::sim::testkit::{Harness, Seen};
    use crate::time::ms;

    const MASTER_AT: &str = "master mymaster 10.0.0.2 6379";

    /// sentinelCheckSubjectivelyDown(): SDOWN once the oldest unanswered
    /// PING is more than down-after-milliseconds old. The clock starts when
    /// the link is created (createInstanceLink() sets act_ping_time), here at
    /// the Sentinel's start at 0 ms; the master never answers. down-after is
    /// 5000 ms: a check at 5000 ms finds 5000 ms elapsed, not more, so no
    /// SDOWN; a check at 5001 ms finds 5001 > 5000.
    #[test]
    fn sdown_comes_one_ms_after_down_after_and_not_before() {
        let mut h = sentinel(2, vec![Peer::SilentMaster]);
        h.run_until(ms(5000));
        h.fire(0, SentinelTimer::Tick);
        assert!(h.events(0, "+sdown").is_empty());
        h.run_until(ms(5001));
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(h.events(0, "+sdown"), vec![(ms(5001), MASTER_AT.into())]);
    }

    /// sentinelPingReplyCallback(): +PONG, -LOADING and -MASTERDOWN are
    /// valid PING replies and clear act_ping_time; any other error only
    /// moves last_pong_time, so the SDOWN clock keeps running from the start
    /// and the master is SDOWN at the first tick after 5000 ms (ticks are at
    /// most 100 ms apart).
    #[test]
    fn loading_is_a_valid_ping_reply_and_err_is_not() {
        let loading = Reply::Error("LOADING Redis is loading the dataset in memory".into());
        let mut h = sentinel(2, vec![Peer::MasterPingReply(loading)]);
        h.run_until(ms(20_000));
        assert!(h.events(0, "+sdown").is_empty());

        let err = Reply::Error("ERR something else".into());
        let mut h = sentinel(2, vec![Peer::MasterPingReply(err)]);
        h.run_until(ms(20_000));
        let sdown = h.events(0, "+sdown");
        assert_eq!(sdown.len(), 1);
        assert!(sdown[0].0 > ms(5000) && sdown[0].0 <= ms(5100), "{sdown:?}");
    }

    /// sentinelCheckSubjectivelyDown(), the second SDOWN reason: a master
    /// that has reported `role:slave` for longer than down-after + 2 x the
    /// 10 s INFO period (5000 + 20 000 = 25 000 ms) is SDOWN, even though it
    /// answers every PING.
    #[test]
    fn a_master_reporting_slave_for_25_s_is_sdown() {
        let replica_info = Peer::Replica {
            priority: 100,
            offset: 0,
            runid: "r",
        };
        let mut h = sentinel(2, vec![replica_info]);
        h.run_until(ms(1000));
        let now = h.mstime(0);
        let m = &mut state(&mut h).masters[0].inst;
        assert_eq!(m.role_reported, Some(instance::Kind::Replica));
        m.role_reported_time = now - 25_000;
        h.fire(0, SentinelTimer::Tick);
        assert!(h.events(0, "+sdown").is_empty());
        state(&mut h).masters[0].inst.role_reported_time = now - 25_001;
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(h.events(0, "+sdown"), vec![(ms(1000), MASTER_AT.into())]);
    }

    /// Puts the master's command link in the state the reconnect rule reads:
    /// connected `age` ms ago, and its oldest unanswered PING and last reply
    /// both `idle` ms ago.
    fn given_cc(h: &mut Harness<SentinelNode>, age: u64, idle: u64) -> ConnId {
        let now = h.mstime(0);
        let link = &mut state(h).masters[0].inst.link;
        link.cc_conn_time = now - age;
        link.act_ping_time = now - idle;
        link.last_pong_time = now - idle;
        link.cc.expect("connected")
    }

    /// sentinelCheckSubjectivelyDown()'s act-ping rule: a command link older
    /// than 15 s whose pending PING and last reply are both more than
    /// down-after/2 (2500 ms) old is closed, to be reconnected. At 2500 ms it
    /// is kept; at 2501 ms it is closed.
    #[test]
    fn a_stuck_command_link_is_closed_after_half_down_after() {
        let mut h = sentinel(2, vec![Peer::Master(vec![])]);
        h.run_until(ms(20_000));
        let cc = given_cc(&mut h, 15_001, 2500);
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).masters[0].inst.link.cc, Some(cc));
        let cc = given_cc(&mut h, 15_001, 2501);
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).masters[0].inst.link.cc, None);
        let closed = |s: &Seen<Msg>| matches!(s, Seen::Closed(c) if *c == cc);
        assert!(h.probe(MASTER).seen.iter().any(|(_, s)| closed(s)));
        assert!(h.events(0, "+sdown").is_empty());
    }

    /// The same rule's first condition (SENTINEL_MIN_LINK_RECONNECT_PERIOD):
    /// a command link is only closed once it is more than 15 000 ms old,
    /// however long its PING has been pending.
    #[test]
    fn a_command_link_younger_than_15_s_is_kept() {
        let mut h = sentinel(2, vec![Peer::Master(vec![])]);
        h.run_until(ms(20_000));
        let cc = given_cc(&mut h, 15_000, 4000);
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).masters[0].inst.link.cc, Some(cc));
        given_cc(&mut h, 15_001, 4000);
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).masters[0].inst.link.cc, None);
    }

    /// sentinelCheckSubjectivelyDown(): a pub/sub link older than 15 s with
    /// no activity for more than 3 x the 2000 ms hello period (6000 ms) is
    /// closed.
    #[test]
    fn a_silent_pubsub_link_is_closed_after_6_s() {
        let mut h = sentinel(2, vec![Peer::Master(vec![])]);
        h.run_until(ms(20_000));
        let now = h.mstime(0);
        let link = &mut state(&mut h).masters[0].inst.link;
        let pc = link.pc.expect("connected");
        link.pc_conn_time = now - 15_001;
        link.pc_last_activity = now - 6000;
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).masters[0].inst.link.pc, Some(pc));
        state(&mut h).masters[0].inst.link.pc_last_activity = now - 6001;
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).masters[0].inst.link.pc, None);
    }

    /// sentinelCheckObjectivelyDown(): ODOWN when this Sentinel sees SDOWN
    /// and 1 + (Sentinels that said down) reaches the quorum. Quorum 3, both
    /// other Sentinels say down: 1 + 2 = 3, ODOWN at the tick after they
    /// answered (they are asked in the tick that found SDOWN).
    #[test]
    fn odown_at_quorum() {
        let peers = vec![
            Peer::SilentMaster,
            Peer::Sentinel {
                runid: "s2",
                down: true,
            },
            Peer::Sentinel {
                runid: "s3",
                down: true,
            },
        ];
        let mut h = sentinel(3, peers);
        h.run_until(ms(6000));
        let sdown = h.events(0, "+sdown");
        let odown = h.events(0, "+odown");
        assert_eq!(odown.len(), 1);
        assert!(odown[0].0 > sdown[0].0);
        assert_eq!(odown[0].1, format!("{MASTER_AT} #quorum 3/3"));
    }

    /// sentinelCheckObjectivelyDown(), below the quorum: quorum 3 and only
    /// one other Sentinel says down: 1 + 1 = 2 < 3, never ODOWN.
    #[test]
    fn no_odown_below_quorum() {
        let peers = vec![
            Peer::SilentMaster,
            Peer::Sentinel {
                runid: "s2",
                down: true,
            },
            Peer::Sentinel {
                runid: "s3",
                down: false,
            },
        ];
        let mut h = sentinel(3, peers);
        h.run_until(ms(15_000));
        assert_eq!(h.events(0, "+sdown").len(), 1);
        let agreeing = state(&mut h).masters[0]
            .sentinels
            .iter()
            .filter(|s| s.master_down)
            .count();
        assert_eq!(agreeing, 1);
        assert!(h.events(0, "+odown").is_empty());
    }

    /// sentinelCheckTiltCondition(): TILT when the time since the previous
    /// tick is negative or more than 2000 ms (a clock jump, or a process that
    /// was stopped). A gap of exactly 2000 ms is fine; 2001 ms, or -1 ms,
    /// enters TILT.
    #[test]
    fn tilt_after_a_timer_gap_over_2_s_or_below_zero() {
        let mut h = sentinel(2, vec![Peer::Master(vec![])]);
        h.run_until(ms(3000));
        let now = h.mstime(0);
        state(&mut h).previous_time = now - 2000;
        h.fire(0, SentinelTimer::Tick);
        assert!(!state(&mut h).tilt);
        state(&mut h).previous_time = now - 2001;
        h.fire(0, SentinelTimer::Tick);
        assert!(state(&mut h).tilt);
        assert_eq!(
            h.events(0, "+tilt"),
            vec![(ms(3000), "#tilt mode entered".into())]
        );

        let mut h = sentinel(2, vec![Peer::Master(vec![])]);
        h.run_until(ms(3000));
        let now = h.mstime(0);
        state(&mut h).previous_time = now + 1;
        h.fire(0, SentinelTimer::Tick);
        assert!(state(&mut h).tilt);
    }

    /// sentinelProcessHelloMessage(): a hello is about the master it
    /// names. With a second master `other` monitored, a hello from a
    /// Sentinel at node 2 naming `other` adds that Sentinel to `other`
    /// only; one naming a master not monitored here is skipped, although
    /// its epoch is higher; a hello for `mymaster` then adds the same
    /// Sentinel there too, and raises current_epoch (the Sentinel's own)
    /// while each master keeps its own config epoch.
    #[test]
    fn a_hello_reaches_only_the_master_it_names() {
        let mut h = sentinel(2, vec![Peer::Master(vec![]), Peer::Client, Peer::Client]);
        h.run_until(ms(500));
        let now = h.mstime(0);
        let conf = MasterConf {
            master_name: "other".into(),
            ..MasterConf::new(3)
        };
        let inst = Instance::new(Kind::Master, "other".into(), "10.0.0.4", 6379, 3, now);
        state(&mut h).masters.push(Master::new(9, inst, &conf));
        let conn = h.connect(2, 0);
        let hello = |h: &mut Harness<SentinelNode>, text: &str| {
            let cmd = Cmd::Publish {
                channel: HELLO_CHANNEL.into(),
                message: text.into(),
            };
            h.send(2, conn, Msg::Cmd(cmd));
        };
        hello(&mut h, "10.0.0.3,6379,s2,4,other,10.0.0.4,6379,3");
        hello(&mut h, "10.0.0.3,6379,s2,9,unknown,10.0.0.9,6379,8");
        let p = state(&mut h);
        assert!(p.masters[0].sentinels.is_empty());
        assert_eq!(p.masters[1].sentinels.len(), 1);
        assert_eq!(p.masters[1].sentinels[0].runid.as_deref(), Some("s2"));
        assert_eq!((p.current_epoch, p.masters[1].config_epoch), (4, 3));
        hello(&mut h, "10.0.0.3,6379,s2,5,mymaster,10.0.0.2,6379,0");
        let p = state(&mut h);
        assert_eq!(p.masters[0].sentinels.len(), 1);
        assert_eq!((p.current_epoch, p.masters[0].config_epoch), (5, 0));
        let added: Vec<String> = h.events(0, "+sentinel").into_iter().map(|e| e.1).collect();
        assert_eq!(
            added,
            [
                "sentinel s2 10.0.0.3 6379 @ other 10.0.0.4 6379",
                "sentinel s2 10.0.0.3 6379 @ mymaster 10.0.0.2 6379"
            ]
        );
    }

    #[test]
    fn the_tick_survives_the_token() {
        let token = SentinelTimer::Tick.encode();
        assert_eq!(SentinelTimer::decode(token), Some(SentinelTimer::Tick));
        assert_eq!(SentinelTimer::decode(1), None);
    }
}
