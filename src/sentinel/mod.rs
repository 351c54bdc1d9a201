//! Redis Sentinel 7.0 as a state machine (sentinel.c): monitoring with PING,
//! INFO and hello messages, SDOWN/ODOWN, leader election per epoch, the
//! failover state machine, configuration propagation and TILT.
//!
//! One Sentinel monitors one master (the scenario's). Times are the
//! Sentinel's wall clock in milliseconds, as `mstime()`, so a clock jump
//! shows up exactly where Redis would see it.

mod commands;
pub mod failover;
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

use std::rc::Rc;

use compact_str::{CompactString, format_compact};
use indexmap::IndexMap;
use rand::RngExt;

use crate::proto::addr::Directory;
use crate::proto::{Cmd, Ctx, Msg, Reply, RunId};
use crate::sim::net::{ConnId, NodeId};
use crate::sim::time::Micros;
use crate::sim::{Node, Timer};
use crate::trace::Level;
use crate::trace::names;
use instance::{FailoverState, Instance, Kind, Master, Pending, Reconf, period};
use pass::Pass;

pub const HELLO_CHANNEL: &str = "__sentinel__:hello";

/// sentinel.conf settings for the monitored master.
#[derive(Clone, Debug, PartialEq)]
pub struct SentinelConf {
    pub master_name: CompactString,
    pub master: NodeId,
    pub quorum: u32,
    pub down_after: u64,
    pub failover_timeout: u64,
    pub parallel_syncs: u32,
    /// `sentinel auth-pass`: the password sent to the master and replicas.
    pub auth_pass: Option<CompactString>,
    pub port: u16,
}

impl SentinelConf {
    pub fn new(master: NodeId) -> Self {
        Self {
            master_name: "mymaster".into(),
            master,
            quorum: 2,
            down_after: 30_000,
            failover_timeout: 180_000,
            parallel_syncs: 1,
            auth_pass: None,
            port: 26379,
        }
    }
}

/// What sentinel.conf holds after every flush, so a restarted Sentinel
/// resumes with its identity, epochs, vote and known instances.
#[derive(Clone, Debug)]
struct Saved {
    myid: CompactString,
    current_epoch: u64,
    master_node: NodeId,
    config_epoch: u64,
    leader: Option<CompactString>,
    leader_epoch: u64,
    replicas: Vec<NodeId>,
    sentinels: Vec<(NodeId, Option<CompactString>)>,
}

/// Who a connection belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// Our command link to an instance (by node id).
    Cc(NodeId),
    /// Our pub/sub link to a master or replica.
    Pc(NodeId),
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
    pub master: Master,
    conns: IndexMap<ConnId, Owner, rustc_hash::FxBuildHasher>,
    /// Clients subscribed to event channels (e.g. `+switch-master`).
    subscribers: Vec<(ConnId, CompactString)>,
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
    /// Every vote this Sentinel cast: (epoch, run id voted for), for the
    /// invariant checks.
    pub votes: Vec<(u64, CompactString)>,
    /// Every election this Sentinel won: (epoch, simulated time).
    pub elections_won: Vec<(u64, Micros)>,
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
        Self {
            name,
            dir,
            conf,
            saved: None,
            state: None,
            selections: Vec::new(),
            votes: Vec::new(),
            elections_won: Vec::new(),
            globals: settings::Globals::default(),
        }
    }

    fn instance(&self, kind: Kind, node: NodeId, now: u64) -> Instance {
        let host = &self.dir.hosts[node as usize];
        let port = self.dir.ports[node as usize];
        let name = match kind {
            Kind::Master => self.conf.master_name.clone(),
            _ => format_compact!("{host}:{port}"),
        };
        Instance::new(kind, name, host, port, node, now)
    }

    /// Persists what sentinelFlushConfig() writes. The monitored address is
    /// the current one (the promoted replica once the failover reconfigures
    /// replicas), and that replica's line names the old master instead
    /// (rewriteConfigSentinelOption()).
    fn flush_config(&mut self) {
        let Some(p) = &self.state else { return };
        let current = p.master.current_address().2;
        let old = p.master.inst.node;
        self.saved = Some(Saved {
            myid: p.myid.clone(),
            current_epoch: p.current_epoch,
            master_node: current,
            config_epoch: p.master.config_epoch,
            leader: p.master.leader.clone(),
            leader_epoch: p.master.leader_epoch,
            replicas: p
                .master
                .replicas
                .iter()
                .map(|r| if r.node == current { old } else { r.node })
                .collect(),
            sentinels: p
                .master
                .sentinels
                .iter()
                .map(|s| (s.node, s.runid.clone()))
                .collect(),
        });
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
            for (conn, _) in p.subscribers.iter().filter(|(_, ch)| *ch == event) {
                ctx.send(
                    *conn,
                    Msg::Message {
                        channel: event.into(),
                        payload: detail.clone(),
                    },
                );
            }
        }
    }

    /// The `%@` of sentinelEvent(): the instance, plus its master for
    /// replicas and Sentinels.
    fn at(p: &SentinelState, inst: &Instance) -> String {
        match inst.kind {
            Kind::Master => inst.describe(),
            _ => format!(
                "{} @ {} {} {}",
                inst.describe(),
                p.master.inst.name,
                p.master.inst.host,
                p.master.inst.port
            ),
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
        let master_node = saved.as_ref().map_or(self.conf.master, |s| s.master_node);
        let mut master = Master {
            inst: self.instance(Kind::Master, master_node, now),
            quorum: self.conf.quorum,
            down_after: self.conf.down_after,
            failover_timeout: self.conf.failover_timeout,
            parallel_syncs: self.conf.parallel_syncs,
            config_epoch: 0,
            o_down: false,
            replicas: Vec::new(),
            sentinels: Vec::new(),
            leader: None,
            leader_epoch: 0,
            failover_state: FailoverState::None,
            failover_epoch: 0,
            failover_start_time: 0,
            failover_state_change_time: 0,
            failover_delay_logged: 0,
            force_failover: false,
            reboot_down_after: 0,
            promoted: None,
        };
        let mut current_epoch = 0;
        if let Some(s) = &saved {
            current_epoch = s.current_epoch;
            master.config_epoch = s.config_epoch;
            master.leader = s.leader.clone();
            master.leader_epoch = s.leader_epoch;
            for &r in &s.replicas {
                master.replicas.push(self.instance(Kind::Replica, r, now));
            }
            for (n, runid) in &s.sentinels {
                let mut i = self.instance(Kind::Sentinel, *n, now);
                if let Some(id) = runid {
                    i.name = id.clone();
                    i.runid = Some(id.clone());
                }
                master.sentinels.push(i);
            }
        }
        let detail = format!("{} quorum {}", master.inst.describe(), master.quorum);
        self.state = Some(SentinelState {
            myid,
            current_epoch,
            tilt: false,
            tilt_start: 0,
            previous_time: now,
            master,
            conns: IndexMap::default(),
            subscribers: Vec::new(),
        });
        Self::emit(ctx, Level::Warning, names::sentinel::MONITOR, detail);
        self.flush_config();
        Self::schedule_tick(ctx);
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

    fn on_accept(&mut self, _ctx: &mut Ctx<'_>, conn: ConnId, _peer: NodeId) {
        if let Some(p) = self.state.as_mut() {
            p.conns.insert(conn, Owner::Incoming);
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
                let reply = self.command(ctx, conn, cmd);
                ctx.send(conn, Msg::Reply(reply));
            }
            (Some(Owner::Cc(node)), Msg::Reply(reply)) => self.reply(ctx, node, reply),
            (Some(Owner::Pc(node)), Msg::Message { channel, payload }) => {
                let now = ctx.mstime();
                let p = self.state.as_mut().expect("running");
                if let Some(i) = instance_mut(&mut p.master, node) {
                    i.link.pc_last_activity = now;
                }
                if channel == HELLO_CHANNEL {
                    self.process_hello(ctx, &payload);
                }
            }
            (Some(Owner::Pc(node)), Msg::Reply(_)) => {
                let now = ctx.mstime();
                let p = self.state.as_mut().expect("running");
                if let Some(i) = instance_mut(&mut p.master, node) {
                    i.link.pc_last_activity = now;
                }
            }
            _ => {}
        }
    }
}

impl SentinelNode {
    /// `INFO sentinel`, with Redis's field names (genSentinelInfoString()).
    pub fn info(&self) -> Option<String> {
        let p = self.state.as_ref()?;
        let m = &p.master;
        let status = m.status();
        Some(format!(
            "# Sentinel\r\nsentinel_masters:1\r\nsentinel_tilt:{}\r\n\
             sentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\n\
             sentinel_simulate_failure_flags:0\r\n\
             master0:name={},status={status},address={}:{},slaves={},sentinels={}\r\n\
             # Failover (not part of Redis's INFO)\r\ncurrent_epoch:{}\r\nconfig_epoch:{}\r\nfailover_state:{:?}\r\n",
            u8::from(p.tilt),
            m.inst.name,
            m.inst.host,
            m.inst.port,
            m.replicas.len(),
            m.sentinels.len() + 1,
            p.current_epoch,
            m.config_epoch,
            m.failover_state,
        ))
    }
}

/// The instance with this node id among the master, its replicas and the
/// Sentinels.
fn instance_mut(m: &mut Master, node: NodeId) -> Option<&mut Instance> {
    if m.inst.node == node {
        return Some(&mut m.inst);
    }
    m.replicas
        .iter_mut()
        .chain(m.sentinels.iter_mut())
        .find(|i| i.node == node)
}

impl SentinelNode {
    /// sentinelTimer()
    fn timer(&mut self, ctx: &mut Pass<'_, '_>) {
        self.check_tilt(ctx);
        let master = self.state.as_ref().expect("running").master.inst.node;
        self.handle_instance(ctx, master);
        let p = self.state.as_ref().expect("running");
        let others: Vec<NodeId> = p
            .master
            .replicas
            .iter()
            .chain(p.master.sentinels.iter())
            .map(|i| i.node)
            .collect();
        for node in others {
            self.handle_instance(ctx, node);
        }
        let p = self.state.as_ref().expect("running");
        if p.master.failover_state == FailoverState::UpdateConfig {
            self.switch_to_promoted(ctx);
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
    fn handle_instance(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId) {
        self.reconnect_instance(ctx, node);
        self.send_periodic_commands(ctx, node);
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
        self.check_subjectively_down(ctx, node);
        let p = self.state.as_ref().expect("running");
        if p.master.inst.node == node {
            self.check_objectively_down(ctx);
            if self.start_failover_if_needed(ctx) {
                self.ask_master_state(ctx, true);
            }
            self.failover_state_machine(ctx);
            self.ask_master_state(ctx, false);
        }
    }

    /// sentinelReconnectInstance(): at most once per ping period, open the
    /// command link (and the pub/sub link for masters and replicas).
    fn reconnect_instance(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId) {
        let now = ctx.mstime();
        let auth = self.conf.auth_pass.clone();
        let p = self.state.as_mut().expect("running");
        let ping_period = p.master.ping_period();
        let Some(inst) = instance_mut(&mut p.master, node) else {
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
            new_conns.push((cc, Owner::Cc(node)));
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
            new_conns.push((pc, Owner::Pc(node)));
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
        p.subscribers.retain(|(c, _)| *c != conn);
        let Some(owner) = p.conns.swap_remove(&conn) else {
            return;
        };
        let node = match owner {
            Owner::Cc(n) | Owner::Pc(n) => n,
            Owner::Incoming => return,
        };
        if let Some(inst) = instance_mut(&mut p.master, node) {
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

    fn close_link(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId, cc: bool) {
        let p = self.state.as_mut().expect("running");
        let Some(inst) = instance_mut(&mut p.master, node) else {
            return;
        };
        let conn = if cc { inst.link.cc } else { inst.link.pc };
        if let Some(c) = conn {
            ctx.close(c);
            self.link_closed(ctx, c);
        }
    }

    /// sentinelSendPeriodicCommands(): INFO, PING and hello, each when due.
    fn send_periodic_commands(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let master_odown_or_failover = p.master.o_down || p.master.in_failover();
        let ping_period = p.master.ping_period();
        let Some(inst) = instance_mut(&mut p.master, node) else {
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
            self.send_hello(ctx, node);
        }
    }

    /// sentinelSendHello(): our address, id and epoch, and the master's
    /// current address and config epoch, published on the hello channel.
    fn send_hello(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId) {
        let now = ctx.mstime();
        let me = ctx.id();
        let (my_host, my_port) = (self.dir.hosts[me as usize].clone(), self.conf.port);
        let p = self.state.as_mut().expect("running");
        let (mhost, mport, _) = p.master.current_address();
        let payload = format!(
            "{my_host},{my_port},{},{},{},{mhost},{mport},{}",
            p.myid, p.current_epoch, p.master.inst.name, p.master.config_epoch
        );
        let Some(inst) = instance_mut(&mut p.master, node) else {
            return;
        };
        let Some(cc) = inst.link.cc.filter(|_| !inst.link.disconnected) else {
            return;
        };
        ctx.send(
            cc,
            Msg::Cmd(Cmd::Publish {
                channel: HELLO_CHANNEL.into(),
                message: payload,
            }),
        );
        inst.link.pending.push_back(Pending::Publish);
        inst.last_pub_time = now;
    }

    /// sentinelForceHelloUpdateForMaster(): hellos go out at the next tick.
    fn force_hello_update(&mut self) {
        let p = self.state.as_mut().expect("running");
        let m = &mut p.master;
        let back = period::PUBLISH + 1;
        m.inst.last_pub_time = m.inst.last_pub_time.saturating_sub(back);
        for i in m.replicas.iter_mut().chain(m.sentinels.iter_mut()) {
            i.last_pub_time = i.last_pub_time.saturating_sub(back);
        }
    }

    /// A reply on one of our command links.
    fn reply(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId, reply: Reply) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let Some(inst) = instance_mut(&mut p.master, node) else {
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
                    self.refresh_instance_info(ctx, node, &text);
                }
            }
            Pending::IsMasterDown => self.is_master_down_reply(ctx, node, reply),
            Pending::Publish | Pending::SlaveOf | Pending::Auth => {}
        }
    }

    /// sentinelRefreshInstanceInfo(): what INFO says about an instance.
    fn refresh_instance_info(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId, info: &str) {
        let now = ctx.mstime();
        let dir = self.dir.clone();
        let p = self.state.as_mut().expect("running");
        let is_master = p.master.inst.node == node;
        let mut new_replicas = Vec::new();
        let mut rebooted = false;
        let inst = instance_mut(&mut p.master, node).expect("known");
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
        let inst_at = Self::at_node(p, node);
        if rebooted {
            Self::emit(ctx, Level::Notice, names::sentinel::REBOOT, inst_at.clone());
        }
        let mut added = false;
        for (ip, port) in new_replicas {
            let known = p
                .master
                .replicas
                .iter()
                .any(|r| r.host == ip && r.port == port);
            if !known && let Some(n) = dir.lookup(&ip, port) {
                let r = Instance::new(
                    Kind::Replica,
                    format_compact!("{ip}:{port}"),
                    &ip,
                    port,
                    n,
                    now,
                );
                p.master.replicas.push(r);
                let at = Self::at_node(p, n);
                Self::emit(ctx, Level::Notice, names::sentinel::SLAVE, at);
                added = true;
            }
        }
        if added {
            self.flush_config();
        }
        let p = self.state.as_mut().expect("running");
        let inst = instance_mut(&mut p.master, node).expect("known");
        if role.is_some() && role != inst.role_reported {
            inst.role_reported = role;
            inst.role_reported_time = now;
            if role == Some(Kind::Replica) {
                inst.slave_conf_change_time = now;
            }
            let plus = (inst.kind == Kind::Master) == (role == Some(Kind::Master));
            let at = Self::at_node(p, node);
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
        if p.tilt {
            return;
        }
        if !is_master {
            self.replica_reported(ctx, node, role);
        }
    }

    fn at_node(p: &SentinelState, node: NodeId) -> String {
        let m = &p.master;
        if m.inst.node == node {
            return Self::at(p, &m.inst);
        }
        m.replicas
            .iter()
            .chain(m.sentinels.iter())
            .find(|i| i.node == node)
            .map_or_else(String::new, |i| Self::at(p, i))
    }

    /// The acting half of INFO processing for a replica: promotion seen,
    /// rogue masters converted, misconfigured replicas fixed, reconfiguration
    /// progress.
    fn replica_reported(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId, role: Option<Kind>) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let looks_sane = master_looks_sane(&p.master, now);
        let Some(idx) = p.master.replicas.iter().position(|r| r.node == node) else {
            return;
        };
        let (mhost, mport) = (p.master.inst.host.clone(), p.master.inst.port);
        let failover_timeout = p.master.failover_timeout;
        let r = &p.master.replicas[idx];
        if role == Some(Kind::Master) {
            if r.promoted && p.master.failover_state == FailoverState::WaitPromotion {
                let m = &mut p.master;
                m.config_epoch = m.failover_epoch;
                m.failover_state = FailoverState::ReconfSlaves;
                m.failover_state_change_time = now;
                let at = Self::at_node(p, node);
                Self::emit(ctx, Level::Warning, names::sentinel::PROMOTED_SLAVE, at);
                let at = Self::at(p, &p.master.inst);
                Self::emit(
                    ctx,
                    Level::Warning,
                    names::sentinel::FAILOVER_STATE_RECONF_SLAVES,
                    at,
                );
                self.flush_config();
                self.force_hello_update();
            } else {
                let wait = period::PUBLISH * 4;
                if !r.promoted
                    && looks_sane
                    && r.no_down_for(now, wait)
                    && now.saturating_sub(r.role_reported_time) > wait
                    && self.send_slaveof(ctx, node, Some((mhost, mport)))
                {
                    let at = Self::at_node(self.state.as_ref().expect("running"), node);
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
            && self.send_slaveof(ctx, node, Some((mhost, mport)))
        {
            let at = Self::at_node(self.state.as_ref().expect("running"), node);
            Self::emit(ctx, Level::Notice, names::sentinel::FIX_SLAVE_CONFIG, at);
        }
        let p = self.state.as_mut().expect("running");
        let promoted = p
            .master
            .promoted
            .map(|i| (p.master.replicas[i].host.clone(), p.master.replicas[i].port));
        let r = &mut p.master.replicas[idx];
        if let Some((phost, pport)) = promoted {
            if r.reconf == Reconf::Sent
                && r.slave_master_host.as_deref() == Some(phost.as_str())
                && r.slave_master_port == pport
            {
                r.reconf = Reconf::InProgress;
                let at = Self::at_node(p, node);
                Self::emit(ctx, Level::Notice, names::sentinel::SLAVE_RECONF_INPROG, at);
            }
            let r = &mut p.master.replicas[idx];
            if r.reconf == Reconf::InProgress && r.slave_master_link_up {
                r.reconf = Reconf::Done;
                let at = Self::at_node(p, node);
                Self::emit(ctx, Level::Notice, names::sentinel::SLAVE_RECONF_DONE, at);
            }
        }
    }

    /// sentinelSendSlaveOf(): the reconfiguration transaction.
    fn send_slaveof(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        node: NodeId,
        master: Option<(CompactString, u16)>,
    ) -> bool {
        let p = self.state.as_mut().expect("running");
        let Some(inst) = instance_mut(&mut p.master, node) else {
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
    fn check_subjectively_down(&mut self, ctx: &mut Pass<'_, '_>, node: NodeId) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let down_after = p.master.down_after;
        let is_master = p.master.inst.node == node;
        let inst = instance_mut(&mut p.master, node).expect("known");
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
            let at = Self::at_node(p, node);
            Self::emit(ctx, Level::Warning, names::sentinel::SDOWN, at);
        } else if !down && inst.s_down {
            inst.s_down = false;
            let at = Self::at_node(p, node);
            Self::emit(ctx, Level::Warning, names::sentinel::SDOWN_OFF, at);
        }
        if close_cc {
            self.close_link(ctx, node, true);
        }
        if close_pc {
            self.close_link(ctx, node, false);
        }
    }

    /// sentinelCheckObjectivelyDown(): SDOWN here and enough Sentinels that
    /// said so recently.
    fn check_objectively_down(&mut self, ctx: &mut Pass<'_, '_>) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let m = &mut p.master;
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
                if !p
                    .subscribers
                    .iter()
                    .any(|(c, ch)| *c == conn && *ch == channel)
                {
                    p.subscribers.push((conn, channel));
                }
                Reply::Subscribed
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
                if name == p.master.inst.name {
                    let (h, port, _) = p.master.current_address();
                    Reply::MasterAddr(Some((h, port)))
                } else {
                    Reply::MasterAddr(None)
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

    /// sentinelProcessHelloMessage()
    fn process_hello(&mut self, ctx: &mut Pass<'_, '_>, payload: &str) {
        let t: Vec<&str> = payload.split(',').collect();
        if t.len() != 8 {
            return;
        }
        let now = ctx.mstime();
        let dir = self.dir.clone();
        let p = self.state.as_mut().expect("running");
        let (ip, runid, name) = (t[0], t[2], t[4]);
        let (Ok(port), Ok(epoch), Ok(mport), Ok(mepoch)) = (
            t[1].parse::<u16>(),
            t[3].parse::<u64>(),
            t[6].parse::<u16>(),
            t[7].parse::<u64>(),
        ) else {
            return;
        };
        if runid == p.myid || name != p.master.inst.name {
            return;
        }
        let Some(node) = dir.lookup(ip, port) else {
            return;
        };
        let known = p
            .master
            .sentinels
            .iter()
            .position(|s| s.node == node && s.runid.as_deref() == Some(runid));
        if known.is_none() {
            // A Sentinel with this run id at another address moved; another
            // run id at this address is stale.
            let before = p.master.sentinels.len();
            p.master
                .sentinels
                .retain(|s| s.runid.as_deref() != Some(runid));
            let switched = p.master.sentinels.len() != before;
            if switched {
                let detail = format!("{} {} {}", p.master.inst.describe(), ip, port);
                Self::emit(
                    ctx,
                    Level::Notice,
                    names::sentinel::SENTINEL_ADDRESS_SWITCH,
                    detail,
                );
            } else if let Some(i) = p.master.sentinels.iter().position(|s| s.node == node) {
                let at = Self::at(p, &p.master.sentinels[i]);
                Self::emit(
                    ctx,
                    Level::Notice,
                    names::sentinel::SENTINEL_INVALID_ADDR,
                    at,
                );
                let old = p.master.sentinels.remove(i);
                for c in [old.link.cc, old.link.pc].into_iter().flatten() {
                    ctx.close(c);
                    p.conns.swap_remove(&c);
                }
            }
            let mut s = Instance::new(Kind::Sentinel, runid.into(), ip, port, node, now);
            s.runid = Some(runid.into());
            p.master.sentinels.push(s);
            if !switched {
                let at = Self::at(p, p.master.sentinels.last().expect("pushed"));
                Self::emit(ctx, Level::Notice, names::sentinel::SENTINEL, at);
            }
            self.flush_config();
        }
        let p = self.state.as_mut().expect("running");
        if epoch > p.current_epoch {
            p.current_epoch = epoch;
            Self::emit(
                ctx,
                Level::Warning,
                names::sentinel::NEW_EPOCH,
                epoch.to_string(),
            );
            self.flush_config();
        }
        let p = self.state.as_mut().expect("running");
        if p.master.config_epoch < mepoch {
            p.master.config_epoch = mepoch;
            let (oh, op) = (p.master.inst.host.clone(), p.master.inst.port);
            if oh != t[5] || op != mport {
                let si = p
                    .master
                    .sentinels
                    .iter()
                    .find(|s| s.node == node)
                    .expect("added");
                let at = Self::at(p, si);
                Self::emit(ctx, Level::Warning, names::sentinel::CONFIG_UPDATE_FROM, at);
                let detail = format!("{} {oh} {op} {} {mport}", p.master.inst.name, t[5]);
                Self::emit(ctx, Level::Warning, names::sentinel::SWITCH_MASTER, detail);
                if let Some(n) = dir.lookup(t[5], mport) {
                    self.reset_master_and_change_address(ctx, n);
                }
            }
            self.flush_config();
        }
        let p = self.state.as_mut().expect("running");
        if let Some(s) = p.master.sentinels.iter_mut().find(|s| s.node == node) {
            s.last_hello_time = now;
        }
    }

    /// sentinelResetMasterAndChangeAddress(): the master is now `new`; the
    /// other replicas and the old master become its replicas.
    fn reset_master_and_change_address(&mut self, ctx: &mut Pass<'_, '_>, new: NodeId) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let old_master = p.master.inst.node;
        let mut replicas: Vec<NodeId> = p
            .master
            .replicas
            .iter()
            .map(|r| r.node)
            .filter(|&n| n != new)
            .collect();
        if old_master != new {
            replicas.push(old_master);
        }
        // Drop every link of the master and its replicas.
        let dropped: Vec<ConnId> = std::iter::once(&p.master.inst)
            .chain(p.master.replicas.iter())
            .flat_map(|i| [i.link.cc, i.link.pc])
            .flatten()
            .collect();
        for c in dropped {
            ctx.close(c);
            p.conns.swap_remove(&c);
        }
        let name = p.master.inst.name.clone();
        let host = &self.dir.hosts[new as usize];
        let port = self.dir.ports[new as usize];
        p.master.inst = Instance::new(Kind::Master, name, host, port, new, now);
        let m = &mut p.master;
        m.replicas.clear();
        m.o_down = false;
        m.failover_state = FailoverState::None;
        m.force_failover = false;
        m.failover_start_time = 0;
        m.failover_state_change_time = 0;
        m.promoted = None;
        m.leader = None;
        for s in &mut m.sentinels {
            s.master_down = false;
            s.leader = None;
            s.last_master_down_reply_time = 0;
        }
        for n in replicas {
            let r = self.instance(Kind::Replica, n, now);
            let p = self.state.as_mut().expect("running");
            p.master.replicas.push(r);
            let at = Self::at(p, p.master.replicas.last().expect("pushed"));
            Self::emit(ctx, Level::Notice, names::sentinel::SLAVE, at);
        }
        self.flush_config();
    }
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
    use crate::sim::time::ms;

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
        let m = &mut state(&mut h).master.inst;
        assert_eq!(m.role_reported, Some(instance::Kind::Replica));
        m.role_reported_time = now - 25_000;
        h.fire(0, SentinelTimer::Tick);
        assert!(h.events(0, "+sdown").is_empty());
        state(&mut h).master.inst.role_reported_time = now - 25_001;
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(h.events(0, "+sdown"), vec![(ms(1000), MASTER_AT.into())]);
    }

    /// Puts the master's command link in the state the reconnect rule reads:
    /// connected `age` ms ago, and its oldest unanswered PING and last reply
    /// both `idle` ms ago.
    fn given_cc(h: &mut Harness<SentinelNode>, age: u64, idle: u64) -> ConnId {
        let now = h.mstime(0);
        let link = &mut state(h).master.inst.link;
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
        assert_eq!(state(&mut h).master.inst.link.cc, Some(cc));
        let cc = given_cc(&mut h, 15_001, 2501);
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).master.inst.link.cc, None);
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
        assert_eq!(state(&mut h).master.inst.link.cc, Some(cc));
        given_cc(&mut h, 15_001, 4000);
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).master.inst.link.cc, None);
    }

    /// sentinelCheckSubjectivelyDown(): a pub/sub link older than 15 s with
    /// no activity for more than 3 x the 2000 ms hello period (6000 ms) is
    /// closed.
    #[test]
    fn a_silent_pubsub_link_is_closed_after_6_s() {
        let mut h = sentinel(2, vec![Peer::Master(vec![])]);
        h.run_until(ms(20_000));
        let now = h.mstime(0);
        let link = &mut state(&mut h).master.inst.link;
        let pc = link.pc.expect("connected");
        link.pc_conn_time = now - 15_001;
        link.pc_last_activity = now - 6000;
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).master.inst.link.pc, Some(pc));
        state(&mut h).master.inst.link.pc_last_activity = now - 6001;
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(state(&mut h).master.inst.link.pc, None);
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
        let agreeing = state(&mut h)
            .master
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

    #[test]
    fn the_tick_survives_the_token() {
        let token = SentinelTimer::Tick.encode();
        assert_eq!(SentinelTimer::decode(token), Some(SentinelTimer::Tick));
        assert_eq!(SentinelTimer::decode(1), None);
    }
}
