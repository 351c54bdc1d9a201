//! What a Sentinel knows about each instance it watches: a master, its
//! replicas, and the other Sentinels (sentinel.c: sentinelRedisInstance,
//! instanceLink).

use std::collections::VecDeque;

use compact_str::CompactString;

use crate::sim::net::{ConnId, NodeId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Master,
    Replica,
    Sentinel,
}

/// A command sent on a command link whose reply is still expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    Auth,
    Ping,
    Info,
    Publish,
    IsMasterDown,
    SlaveOf,
}

/// The connections to one instance (`instanceLink`). Times are the
/// Sentinel's wall clock in milliseconds, as `mstime()`.
#[derive(Debug)]
pub struct Link {
    pub disconnected: bool,
    pub cc: Option<ConnId>,
    pub pc: Option<ConnId>,
    pub cc_conn_time: u64,
    pub pc_conn_time: u64,
    pub pc_last_activity: u64,
    pub last_avail_time: u64,
    /// Time of the oldest unanswered PING, 0 if none.
    pub act_ping_time: u64,
    pub last_ping_time: u64,
    pub last_pong_time: u64,
    pub last_reconn_time: u64,
    /// Replies expected on `cc`, in order.
    pub pending: VecDeque<Pending>,
}

impl Link {
    /// A new link: every time starts now, so an instance that never answers
    /// goes SDOWN after down-after-milliseconds (createInstanceLink()).
    pub fn new(now: u64) -> Self {
        Self {
            disconnected: true,
            cc: None,
            pc: None,
            cc_conn_time: 0,
            pc_conn_time: 0,
            pc_last_activity: 0,
            last_avail_time: now,
            act_ping_time: now,
            last_ping_time: 0,
            last_pong_time: now,
            last_reconn_time: 0,
            pending: VecDeque::new(),
        }
    }
}

/// Reconfiguration progress of a replica during a failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconf {
    None,
    Sent,
    InProgress,
    Done,
}

#[derive(Debug)]
pub struct Instance {
    pub kind: Kind,
    /// `ip:port` for replicas, the run id for Sentinels, the master's name.
    pub name: CompactString,
    pub host: CompactString,
    pub port: u16,
    pub node: NodeId,
    pub runid: Option<CompactString>,
    pub link: Link,
    pub s_down: bool,
    pub s_down_since: u64,
    pub o_down_since: u64,
    pub info_refresh: u64,
    /// The last INFO reply, as `SENTINEL INFO-CACHE` shows it.
    pub info: Option<String>,
    /// The role INFO reported, and since when.
    pub role_reported: Option<Kind>,
    pub role_reported_time: u64,
    pub slave_conf_change_time: u64,
    pub master_link_down_time: i64,
    pub slave_priority: u32,
    pub slave_repl_offset: u64,
    pub slave_master_host: Option<CompactString>,
    pub slave_master_port: u16,
    pub slave_master_link_up: bool,
    pub last_pub_time: u64,
    pub last_hello_time: u64,
    pub last_master_down_reply_time: u64,
    /// For a Sentinel: it said the master is down.
    pub master_down: bool,
    /// For a Sentinel: its reported vote and that vote's epoch.
    pub leader: Option<CompactString>,
    pub leader_epoch: u64,
    pub promoted: bool,
    pub reconf: Reconf,
    pub slave_reconf_sent_time: u64,
}

impl Instance {
    pub fn new(
        kind: Kind,
        name: CompactString,
        host: &str,
        port: u16,
        node: NodeId,
        now: u64,
    ) -> Self {
        Self {
            kind,
            name,
            host: host.into(),
            port,
            node,
            runid: None,
            link: Link::new(now),
            s_down: false,
            s_down_since: 0,
            o_down_since: 0,
            info_refresh: 0,
            info: None,
            role_reported: None,
            role_reported_time: now,
            slave_conf_change_time: now,
            master_link_down_time: 0,
            slave_priority: 100,
            slave_repl_offset: 0,
            slave_master_host: None,
            slave_master_port: 0,
            slave_master_link_up: false,
            last_pub_time: 0,
            last_hello_time: now,
            last_master_down_reply_time: 0,
            master_down: false,
            leader: None,
            leader_epoch: 0,
            promoted: false,
            reconf: Reconf::None,
            slave_reconf_sent_time: 0,
        }
    }

    /// `<type> <name> <ip> <port>`, the start of sentinelEvent()'s `%@`.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            Kind::Master => "master",
            Kind::Replica => "slave",
            Kind::Sentinel => "sentinel",
        };
        format!("{kind} {} {} {}", self.name, self.host, self.port)
    }

    /// sentinelRedisInstanceNoDownFor()
    pub fn no_down_for(&self, now: u64, ms: u64) -> bool {
        let recent = self.s_down_since.max(self.o_down_since);
        recent == 0 || now.saturating_sub(recent) > ms
    }
}

/// Failover states, in Redis's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailoverState {
    None,
    WaitStart,
    SelectSlave,
    SendSlaveofNoone,
    WaitPromotion,
    ReconfSlaves,
    UpdateConfig,
}

impl FailoverState {
    /// sentinelFailoverStateStr(): how Redis names the state.
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverState::None => "none",
            FailoverState::WaitStart => "wait_start",
            FailoverState::SelectSlave => "select_slave",
            FailoverState::SendSlaveofNoone => "send_slaveof_noone",
            FailoverState::WaitPromotion => "wait_promotion",
            FailoverState::ReconfSlaves => "reconf_slaves",
            FailoverState::UpdateConfig => "update_config",
        }
    }
}

/// A monitored master's handle, stable while it is monitored: links
/// carry it, so a reply finds its master even after another one is
/// added or removed.
pub type MasterId = u32;

/// A monitored master with everything attached to it (a
/// sentinelRedisInstance with SRI_MASTER, and its `slaves` and `sentinels`
/// dicts). Each master has its own settings, timers, epochs and failover.
#[derive(Debug)]
pub struct Master {
    pub id: MasterId,
    pub inst: Instance,
    pub quorum: u32,
    pub down_after: u64,
    pub failover_timeout: u64,
    pub parallel_syncs: u32,
    pub config_epoch: u64,
    pub o_down: bool,
    pub replicas: Vec<Instance>,
    pub sentinels: Vec<Instance>,
    /// This Sentinel's vote and its epoch.
    pub leader: Option<CompactString>,
    pub leader_epoch: u64,
    pub failover_state: FailoverState,
    pub failover_epoch: u64,
    pub failover_start_time: u64,
    pub failover_state_change_time: u64,
    pub failover_delay_logged: u64,
    /// SRI_FORCE_FAILOVER: `SENTINEL FAILOVER` started the failover, which
    /// goes on without winning the election.
    pub force_failover: bool,
    /// `master-reboot-down-after-period` as set by `SENTINEL SET`: kept and
    /// validated, but reboots are not acted on.
    pub reboot_down_after: u64,
    /// Index in `replicas` of the replica being promoted.
    pub promoted: Option<usize>,
    /// `sentinel auth-pass <name>`: the password sent to the master and its
    /// replicas.
    pub auth_pass: Option<CompactString>,
}

impl Master {
    /// A master just added (createSentinelRedisInstance() with SRI_MASTER):
    /// no replicas, Sentinels, vote or failover yet.
    pub fn new(id: MasterId, inst: Instance, conf: &crate::sentinel::MasterConf) -> Self {
        Self {
            id,
            inst,
            quorum: conf.quorum,
            down_after: conf.down_after,
            failover_timeout: conf.failover_timeout,
            parallel_syncs: conf.parallel_syncs,
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
            auth_pass: conf.auth_pass.clone(),
        }
    }

    /// The instance with this node id among the master, its replicas and
    /// its Sentinels.
    pub fn instance_mut(&mut self, node: NodeId) -> Option<&mut Instance> {
        if self.inst.node == node {
            return Some(&mut self.inst);
        }
        self.replicas
            .iter_mut()
            .chain(self.sentinels.iter_mut())
            .find(|i| i.node == node)
    }

    /// The same, read-only.
    pub fn instance(&self, node: NodeId) -> Option<&Instance> {
        std::iter::once(&self.inst)
            .chain(self.replicas.iter())
            .chain(self.sentinels.iter())
            .find(|i| i.node == node)
    }

    /// The `%@` of sentinelEvent(): the instance, plus this master for
    /// replicas and Sentinels.
    pub fn at(&self, inst: &Instance) -> String {
        match inst.kind {
            Kind::Master => inst.describe(),
            _ => format!(
                "{} @ {} {} {}",
                inst.describe(),
                self.inst.name,
                self.inst.host,
                self.inst.port
            ),
        }
    }

    /// [`Self::at`] of the instance with this node id ("" if unknown).
    pub fn at_node(&self, node: NodeId) -> String {
        self.instance(node).map_or_else(String::new, |i| self.at(i))
    }

    pub fn in_failover(&self) -> bool {
        self.failover_state != FailoverState::None
    }

    /// sentinelGetCurrentMasterAddress(): the promoted replica once the
    /// failover reconfigures replicas.
    pub fn current_address(&self) -> (CompactString, u16, NodeId) {
        if self.failover_state >= FailoverState::ReconfSlaves
            && let Some(p) = self.promoted.map(|i| &self.replicas[i])
        {
            return (p.host.clone(), p.port, p.node);
        }
        (self.inst.host.clone(), self.inst.port, self.inst.node)
    }
}

/// Durations a Sentinel uses, in milliseconds.
pub mod period {
    pub const PING: u64 = 1000;
    pub const INFO: u64 = 10_000;
    pub const ASK: u64 = 1000;
    pub const PUBLISH: u64 = 2000;
    pub const TILT_TRIGGER: i64 = 2000;
    pub const TILT: u64 = 30_000;
    pub const SLAVE_RECONF_TIMEOUT: u64 = 10_000;
    pub const MIN_LINK_RECONNECT: u64 = 15_000;
    pub const ELECTION_TIMEOUT: u64 = 10_000;
    pub const MAX_DESYNC: u64 = 1000;
    pub const MAX_PENDING_COMMANDS: usize = 100;
}
