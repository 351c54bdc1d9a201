//! The abstract state of a process: what decides its next steps, with the
//! numbers (offsets, epochs, times) replaced by where they stand against
//! the other processes'. Two runs that reach the same abstract states took
//! the same paths through Redis's and Sentinel's state machines, whatever
//! their timings.

use crate::redis::facts::{ChildKind, ClusterFacts, LinkState, RedisFacts};
use crate::sentinel::instance::FailoverState;

/// One process's abstract state (for a Sentinel: its state towards one
/// monitored master).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Abstract {
    /// Not running (killed, crashed, shut down, or exited).
    Down,
    /// Stopped: SIGSTOP, or inside DEBUG SLEEP.
    Stopped,
    Redis(RedisState),
    Sentinel(SentinelState),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RedisState {
    /// The replication link, for a replica (`None`: a master).
    pub link: Option<Link>,
    /// Where a replica's offset stands against its master's.
    pub offset: OffsetPlace,
    pub loading: bool,
    pub child: Option<Child>,
    pub misconf: bool,
    pub cluster: Option<ClusterState>,
}

/// A replica's link, with the handshake's steps in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Link {
    Connect,
    Connecting,
    Handshake,
    AwaitPsync,
    Transfer,
    Connected,
}

impl Link {
    pub const ALL: [Link; 6] = [
        Link::Connect,
        Link::Connecting,
        Link::Handshake,
        Link::AwaitPsync,
        Link::Transfer,
        Link::Connected,
    ];

    fn of(s: LinkState) -> Link {
        match s {
            LinkState::Connect => Link::Connect,
            LinkState::Connecting => Link::Connecting,
            LinkState::ReceivePingReply
            | LinkState::ReceiveAuthReply
            | LinkState::ReceivePortReply
            | LinkState::ReceiveIpReply
            | LinkState::ReceiveCapaReply => Link::Handshake,
            LinkState::ReceivePsyncReply => Link::AwaitPsync,
            LinkState::Transfer => Link::Transfer,
            LinkState::Connected => Link::Connected,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Link::Connect => "connect",
            Link::Connecting => "connecting",
            Link::Handshake => "handshake",
            Link::AwaitPsync => "psync-sent",
            Link::Transfer => "transfer",
            Link::Connected => "connected",
        }
    }
}

/// Where a replica's offset stands against the master it follows: what a
/// PSYNC from it would get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OffsetPlace {
    /// Not a replica.
    Master,
    /// The master is not running.
    MasterDown,
    /// Its replication ID is neither of the master's: a full resync.
    OtherHistory,
    /// Past the master's offset (it has what the master lost).
    Ahead,
    /// Equal to the master's.
    InSync,
    /// Behind, within the master's backlog: a partial resync.
    InBacklog,
    /// Behind the master's backlog, or the master has none: a full resync.
    BehindBacklog,
}

impl OffsetPlace {
    pub const ALL: [OffsetPlace; 7] = [
        OffsetPlace::Master,
        OffsetPlace::MasterDown,
        OffsetPlace::OtherHistory,
        OffsetPlace::Ahead,
        OffsetPlace::InSync,
        OffsetPlace::InBacklog,
        OffsetPlace::BehindBacklog,
    ];

    /// A replica's place, from its facts and its master's (`None`: down).
    pub fn of(replica: &RedisFacts, master: Option<&RedisFacts>) -> OffsetPlace {
        if replica.follows.is_none() {
            return OffsetPlace::Master;
        }
        let Some(m) = master else {
            return OffsetPlace::MasterDown;
        };
        if replica.replid != m.replid && replica.replid != m.replid2 {
            return OffsetPlace::OtherHistory;
        }
        if replica.offset > m.offset {
            return OffsetPlace::Ahead;
        }
        if replica.offset == m.offset {
            return OffsetPlace::InSync;
        }
        // masterTryPartialResynchronization(): the next byte it asks for
        // must be in the backlog.
        match m.backlog {
            Some((first, last)) if (first..=last + 1).contains(&(replica.offset + 1)) => {
                OffsetPlace::InBacklog
            }
            _ => OffsetPlace::BehindBacklog,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OffsetPlace::Master => "master",
            OffsetPlace::MasterDown => "master-down",
            OffsetPlace::OtherHistory => "other-history",
            OffsetPlace::Ahead => "ahead",
            OffsetPlace::InSync => "in-sync",
            OffsetPlace::InBacklog => "in-backlog",
            OffsetPlace::BehindBacklog => "behind-backlog",
        }
    }
}

/// A child process at work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Child {
    SavePoint,
    ReplicationDisk,
    ReplicationSocket,
    AofRewrite,
}

impl Child {
    pub const ALL: [Child; 4] = [
        Child::SavePoint,
        Child::ReplicationDisk,
        Child::ReplicationSocket,
        Child::AofRewrite,
    ];

    fn of(k: ChildKind) -> Child {
        match k {
            ChildKind::Bgsave => Child::SavePoint,
            ChildKind::Replication { socket: false } => Child::ReplicationDisk,
            ChildKind::Replication { socket: true } => Child::ReplicationSocket,
            ChildKind::AofRewrite => Child::AofRewrite,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Child::SavePoint => "bgsave",
            Child::ReplicationDisk => "sync-rdb-disk",
            Child::ReplicationSocket => "sync-rdb-socket",
            Child::AofRewrite => "aof-rewrite",
        }
    }
}

/// A cluster node's own view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterState {
    pub ok: bool,
    pub master: bool,
    pub sees_pfail: bool,
    pub sees_fail: bool,
    pub election: bool,
    pub manual_failover: bool,
    /// Its current epoch against the highest any node has.
    pub epoch: EpochPlace,
}

/// A process's epoch against the highest of its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EpochPlace {
    Behind,
    Latest,
}

impl EpochPlace {
    pub fn of(mine: u64, highest: u64) -> EpochPlace {
        if mine < highest {
            EpochPlace::Behind
        } else {
            EpochPlace::Latest
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EpochPlace::Behind => "behind",
            EpochPlace::Latest => "latest",
        }
    }
}

/// A Sentinel's state towards one master.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SentinelState {
    pub sdown: bool,
    pub odown: bool,
    pub failover: FailoverStep,
    /// Its current epoch against the highest any Sentinel has.
    pub epoch: EpochPlace,
    pub tilt: bool,
}

/// sentinel.c's failover states, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FailoverStep(pub u8);

impl FailoverStep {
    pub const STATES: [FailoverState; 7] = [
        FailoverState::None,
        FailoverState::WaitStart,
        FailoverState::SelectSlave,
        FailoverState::SendSlaveofNoone,
        FailoverState::WaitPromotion,
        FailoverState::ReconfSlaves,
        FailoverState::UpdateConfig,
    ];

    pub fn of(s: FailoverState) -> FailoverStep {
        let i = Self::STATES.iter().position(|x| *x == s).unwrap_or(0);
        FailoverStep(i as u8)
    }

    pub fn name(self) -> &'static str {
        Self::STATES[self.0 as usize].as_str()
    }
}

impl RedisState {
    /// A server's abstract state from its facts, with its master's (for a
    /// replica) and the highest cluster epoch known.
    pub fn of(f: &RedisFacts, master: Option<&RedisFacts>, highest_epoch: u64) -> RedisState {
        RedisState {
            link: f.link.map(Link::of),
            offset: OffsetPlace::of(f, master),
            loading: f.loading,
            child: f.child.map(Child::of),
            misconf: f.misconf,
            cluster: f.cluster.map(|c: ClusterFacts| ClusterState {
                ok: c.state_ok,
                master: c.master,
                sees_pfail: c.sees_pfail,
                sees_fail: c.sees_fail,
                election: c.election_sent,
                manual_failover: c.manual_failover,
                epoch: EpochPlace::of(c.current_epoch, highest_epoch),
            }),
        }
    }
}

impl Abstract {
    /// Its name in a report: the kind and each part that differs from a
    /// quiet process's (`replica connected in-sync`, `sentinel odown
    /// failover=wait_promotion epoch=latest`).
    pub fn label(&self) -> String {
        match self {
            Abstract::Down => "down".into(),
            Abstract::Stopped => "stopped".into(),
            Abstract::Redis(r) => {
                let mut out = match r.link {
                    None => "master".to_string(),
                    Some(l) => format!("replica {} {}", l.name(), r.offset.name()),
                };
                if r.loading {
                    out.push_str(" loading");
                }
                if let Some(c) = r.child {
                    out.push_str(&format!(" child={}", c.name()));
                }
                if r.misconf {
                    out.push_str(" misconf");
                }
                if let Some(c) = r.cluster {
                    out.push_str(if c.ok { " cluster=ok" } else { " cluster=fail" });
                    if c.sees_pfail {
                        out.push_str(" sees-pfail");
                    }
                    if c.sees_fail {
                        out.push_str(" sees-fail");
                    }
                    if c.election {
                        out.push_str(" election");
                    }
                    if c.manual_failover {
                        out.push_str(" manual-failover");
                    }
                    out.push_str(&format!(" epoch={}", c.epoch.name()));
                }
                out
            }
            Abstract::Sentinel(s) => {
                let down = match (s.odown, s.sdown) {
                    (true, _) => "odown",
                    (false, true) => "sdown",
                    _ => "up",
                };
                let mut out = format!(
                    "sentinel {down} failover={} epoch={}",
                    s.failover.name(),
                    s.epoch.name()
                );
                if s.tilt {
                    out.push_str(" tilt");
                }
                out
            }
        }
    }

    /// The values it takes in each dimension a report lists: `(dimension,
    /// value)`, so that values never reached can be named.
    pub fn dimensions(&self) -> Vec<(&'static str, &'static str)> {
        match self {
            Abstract::Down | Abstract::Stopped => vec![("process", self.process_name())],
            Abstract::Redis(r) => {
                let mut d = vec![
                    ("process", "running"),
                    ("redis link", r.link.map_or("master", Link::name)),
                    ("redis offset", r.offset.name()),
                ];
                if let Some(c) = r.child {
                    d.push(("redis child", c.name()));
                }
                if r.loading {
                    d.push(("redis flag", "loading"));
                }
                if r.misconf {
                    d.push(("redis flag", "misconf"));
                }
                if let Some(c) = r.cluster {
                    d.push(("cluster state", if c.ok { "ok" } else { "fail" }));
                    for (on, name) in [
                        (c.sees_pfail, "sees-pfail"),
                        (c.sees_fail, "sees-fail"),
                        (c.election, "election"),
                        (c.manual_failover, "manual-failover"),
                    ] {
                        if on {
                            d.push(("cluster flag", name));
                        }
                    }
                    d.push(("cluster epoch", c.epoch.name()));
                }
                d
            }
            Abstract::Sentinel(s) => {
                let mut d = vec![
                    ("process", "running"),
                    ("sentinel failover", s.failover.name()),
                    ("sentinel epoch", s.epoch.name()),
                ];
                if s.sdown {
                    d.push(("sentinel flag", "sdown"));
                }
                if s.odown {
                    d.push(("sentinel flag", "odown"));
                }
                if s.tilt {
                    d.push(("sentinel flag", "tilt"));
                }
                d
            }
        }
    }

    fn process_name(&self) -> &'static str {
        match self {
            Abstract::Down => "down",
            Abstract::Stopped => "stopped",
            _ => "running",
        }
    }
}

/// Every value of every dimension a deployment can reach: Redis's always,
/// Sentinel's with Sentinels, the cluster's in cluster mode.
pub fn universe(sentinels: bool, cluster: bool) -> Vec<(&'static str, &'static str)> {
    let mut u = vec![
        ("process", "running"),
        ("process", "down"),
        ("process", "stopped"),
        ("redis flag", "loading"),
        ("redis flag", "misconf"),
    ];
    u.extend(
        std::iter::once("master")
            .chain(Link::ALL.iter().map(|l| l.name()))
            .map(|v| ("redis link", v)),
    );
    u.extend(OffsetPlace::ALL.iter().map(|o| ("redis offset", o.name())));
    u.extend(Child::ALL.iter().map(|c| ("redis child", c.name())));
    if sentinels {
        // UPDATE_CONFIG is set and left within one sentinelTimer() pass
        // (the switch to the promoted replica follows at once), so no
        // watcher between events can see it.
        u.extend(
            FailoverStep::STATES
                .iter()
                .filter(|s| **s != FailoverState::UpdateConfig)
                .map(|s| ("sentinel failover", s.as_str())),
        );
        u.extend(
            [EpochPlace::Behind, EpochPlace::Latest]
                .iter()
                .map(|e| ("sentinel epoch", e.name())),
        );
        u.extend(["sdown", "odown", "tilt"].map(|f| ("sentinel flag", f)));
    }
    if cluster {
        u.extend(["ok", "fail"].map(|s| ("cluster state", s)));
        u.extend(
            ["sees-pfail", "sees-fail", "election", "manual-failover"].map(|f| ("cluster flag", f)),
        );
        u.extend(
            [EpochPlace::Behind, EpochPlace::Latest]
                .iter()
                .map(|e| ("cluster epoch", e.name())),
        );
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::net::NodeId;

    fn id(n: u8) -> u64 {
        u64::from(n) + 1
    }

    fn facts(follows: Option<NodeId>, replid: u64, offset: u64) -> RedisFacts {
        RedisFacts {
            link: follows.map(|_| LinkState::Connected),
            follows,
            loading: false,
            child: None,
            misconf: false,
            offset,
            replid,
            replid2: 0,
            backlog: None,
            cluster: None,
        }
    }

    /// Each place, worked out by hand: a master with history `a` at offset
    /// 1000 whose backlog holds bytes 501..=1000, and before that history
    /// `b` up to offset 400.
    #[test]
    fn a_replicas_offset_is_placed_against_its_masters_backlog() {
        let master = RedisFacts {
            replid2: id(1),
            backlog: Some((501, 1000)),
            ..facts(None, id(0), 1000)
        };
        let place =
            |replid, offset| OffsetPlace::of(&facts(Some(0), replid, offset), Some(&master));
        assert_eq!(OffsetPlace::of(&master, None), OffsetPlace::Master);
        assert_eq!(
            OffsetPlace::of(&facts(Some(0), id(0), 5), None),
            OffsetPlace::MasterDown
        );
        assert_eq!(place(id(2), 1000), OffsetPlace::OtherHistory);
        assert_eq!(place(id(0), 1001), OffsetPlace::Ahead);
        assert_eq!(place(id(0), 1000), OffsetPlace::InSync);
        // The next byte it asks for, 501, is the backlog's first.
        assert_eq!(place(id(0), 500), OffsetPlace::InBacklog);
        assert_eq!(place(id(0), 499), OffsetPlace::BehindBacklog);
        // The old history counts as the master's too (PSYNC with replid2).
        assert_eq!(place(id(1), 700), OffsetPlace::InBacklog);
        let no_backlog = RedisFacts {
            backlog: None,
            ..master
        };
        assert_eq!(
            OffsetPlace::of(&facts(Some(0), id(0), 999), Some(&no_backlog)),
            OffsetPlace::BehindBacklog
        );
    }

    #[test]
    fn labels_name_what_differs_from_a_quiet_process() {
        let r = RedisState {
            link: Some(Link::Transfer),
            offset: OffsetPlace::OtherHistory,
            loading: true,
            child: None,
            misconf: false,
            cluster: None,
        };
        assert_eq!(
            Abstract::Redis(r).label(),
            "replica transfer other-history loading"
        );
        let s = SentinelState {
            sdown: true,
            odown: true,
            failover: FailoverStep::of(FailoverState::WaitPromotion),
            epoch: EpochPlace::Latest,
            tilt: false,
        };
        assert_eq!(
            Abstract::Sentinel(s).label(),
            "sentinel odown failover=wait_promotion epoch=latest"
        );
        assert!(!universe(true, false).contains(&("sentinel failover", "update_config")));
        assert!(universe(true, false).contains(&("sentinel failover", "wait_promotion")));
        assert!(
            !universe(false, false)
                .iter()
                .any(|(d, _)| d.starts_with("sentinel"))
        );
    }
}
