//! Every kind of scripted fault, defined in one place: the [`Fault`] a plan
//! runs and its `[[fault]]` key ([`FaultKind`]), how its table reads (the
//! serde fields of [`RawFault`] and the checks in `Builder::fault`) and is
//! written back ([`Fault::table`]: the fuzzer's reproducers use it, and a
//! test round-trips every bundled fault), what it does to a process or to
//! the partitions ([`Fault::effect`], which [`super::liveness`] tracks),
//! and how the trace records it ([`Fault::describe`]).
//!
//! A new kind is defined here (a variant of [`Fault`] and of [`FaultKind`]
//! with its key, a field of [`RawFault`] read in `Builder::fault`, and an
//! arm in [`Fault::kind`], [`Fault::effect`], [`Fault::describe`] and
//! [`Fault::table`]: the compiler points at each match), applied in the
//! simulated world (`world/faults.rs`) and applied to real processes
//! (`conform/real.rs`). Everything else names a kind through this
//! definition (see docs/design.md, "Faults: one vocabulary").

use serde::Deserialize;
use toml::Spanned;

use crate::proto::addr::Directory;
use crate::redis::cluster::failover::FailoverMode;
pub use crate::redis::host_faults::{HostFault, RdbDamage};
use crate::sim::net::LinkParams;
use crate::time::{Micros, format_duration, parse_duration};

use super::builder::{Builder, Roster};
use super::liveness::{self, Acts, Effect, Liveness};
use super::{ScenarioError, limits, parse_slot_ranges};

/// A scripted fault or operator action: one `[[fault]]` table, validated.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// SIGKILL of the process.
    Kill(usize),
    /// The host loses power: the process dies and un-fsynced data is lost.
    Crash(usize),
    /// SIGTERM: a clean shutdown.
    Shutdown(usize),
    /// A process that was killed, crashed or shut down starts again.
    Restart(usize),
    /// SIGSTOP.
    Pause(usize),
    /// SIGCONT.
    Resume(usize),
    /// Nodes in different groups cannot reach each other; unlisted nodes
    /// reach everyone.
    Partition(Vec<Vec<usize>>),
    /// Traffic from `from` to `to` is dropped; the other way flows.
    PartitionOneWay { from: Vec<usize>, to: Vec<usize> },
    /// Every partition heals.
    Heal,
    /// A link's latency, jitter, bandwidth and loss change.
    Link {
        from: usize,
        to: usize,
        params: LinkParams,
        both_ways: bool,
    },
    /// A process's wall clock jumps by `by` µs (its timers are monotonic).
    ClockJump { node: usize, by: i64 },
    /// `REPLICAOF host port`, or `REPLICAOF NO ONE`.
    ReplicaOf { node: usize, master: Option<usize> },
    /// A bulk load of `writes` SETs of `value_size` bytes on a node.
    Burst {
        node: usize,
        writes: u32,
        value_size: u32,
    },
    /// `CLUSTER FAILOVER [FORCE|TAKEOVER]` sent to a replica.
    ClusterFailover { node: usize, mode: FailoverMode },
    /// `redis-cli --cluster reshard`, run by the `redis-cli` operator node.
    Reshard {
        from: usize,
        to: usize,
        slots: Vec<u16>,
        batch: u32,
    },
    /// `CLIENT KILL TYPE master` on a replica: it drops its master link.
    ClientKillMaster(usize),
    /// `DEBUG SLEEP`: the server runs nothing for `length`, as if stopped;
    /// the scenario parser adds the matching [`Fault::DebugSleepEnd`].
    DebugSleep { node: usize, length: Micros },
    /// The end of a DEBUG SLEEP, which the parser adds (it is no key of a
    /// `[[fault]]` table: files write the sleep's length).
    DebugSleepEnd(usize),
    /// The host under a Redis server fails some of its system calls for
    /// `length`; the parser adds the matching [`Fault::HostEnd`].
    Host {
        node: usize,
        fault: HostFault,
        length: Micros,
    },
    /// The end of a [`Fault::Host`], which the parser adds.
    HostEnd { node: usize, fault: HostFault },
}

/// The kind a host fault is.
fn host_kind(f: HostFault) -> FaultKind {
    match f {
        HostFault::ForkFail => FaultKind::ForkFail,
        HostFault::DiskFull => FaultKind::DiskFull,
        HostFault::SlowFsync(_) => FaultKind::DiskSlow,
        HostFault::RdbCorrupt(_) => FaultKind::RdbCorrupt,
        HostFault::FsyncFail => FaultKind::FsyncFail,
    }
}

/// The trace's event at a host fault's end (`fork-fail-end`, `disk-full-end`).
pub fn host_end_name(f: HostFault) -> &'static str {
    match f {
        HostFault::ForkFail => "fork-fail-end",
        HostFault::DiskFull => "disk-full-end",
        HostFault::SlowFsync(_) => "disk-slow-end",
        HostFault::RdbCorrupt(_) => "rdb-corrupt-end",
        HostFault::FsyncFail => "fsync-fail-end",
    }
}

/// The kinds of fault, one per key of the `[[fault]]` table. The fuzzer's
/// kinds are named the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    Kill,
    Crash,
    Shutdown,
    Restart,
    Pause,
    Resume,
    Partition,
    PartitionOneWay,
    Heal,
    Link,
    ClockJump,
    ReplicaOf,
    Burst,
    ClusterFailover,
    Reshard,
    ClientKillMaster,
    DebugSleep,
    ForkFail,
    DiskFull,
    DiskSlow,
    RdbCorrupt,
    FsyncFail,
}

impl FaultKind {
    /// Every kind, in the order the file format lists them.
    pub const ALL: [FaultKind; 22] = [
        FaultKind::Kill,
        FaultKind::Crash,
        FaultKind::Shutdown,
        FaultKind::Restart,
        FaultKind::Pause,
        FaultKind::Resume,
        FaultKind::Partition,
        FaultKind::PartitionOneWay,
        FaultKind::Heal,
        FaultKind::Link,
        FaultKind::ClockJump,
        FaultKind::ReplicaOf,
        FaultKind::Burst,
        FaultKind::ClusterFailover,
        FaultKind::Reshard,
        FaultKind::ClientKillMaster,
        FaultKind::DebugSleep,
        FaultKind::ForkFail,
        FaultKind::DiskFull,
        FaultKind::DiskSlow,
        FaultKind::RdbCorrupt,
        FaultKind::FsyncFail,
    ];

    /// The kind's key in a `[[fault]]` table: its one name.
    pub const fn key(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Crash => "crash",
            FaultKind::Shutdown => "shutdown",
            FaultKind::Restart => "restart",
            FaultKind::Pause => "pause",
            FaultKind::Resume => "resume",
            FaultKind::Partition => "partition",
            FaultKind::PartitionOneWay => "partition-oneway",
            FaultKind::Heal => "heal",
            FaultKind::Link => "link",
            FaultKind::ClockJump => "clock-jump",
            FaultKind::ReplicaOf => "replicaof",
            FaultKind::Burst => "burst",
            FaultKind::ClusterFailover => "cluster-failover",
            FaultKind::Reshard => "reshard",
            FaultKind::ClientKillMaster => "client-kill-master",
            FaultKind::DebugSleep => "debug-sleep",
            FaultKind::ForkFail => "fork-fail",
            FaultKind::DiskFull => "disk-full",
            FaultKind::DiskSlow => "disk-slow",
            FaultKind::RdbCorrupt => "rdb-corrupt",
            FaultKind::FsyncFail => "fsync-fail",
        }
    }

    /// The kind a key names.
    pub fn from_key(key: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// The keys of the `[[fault]]` table besides `at`, one per kind, in the
/// order the file format lists them.
pub const FAULT_KEYS: [&str; FaultKind::ALL.len()] = {
    let mut keys = [""; FaultKind::ALL.len()];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = FaultKind::ALL[i].key();
        i += 1;
    }
    keys
};

/// How the trace records a fault when it is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    /// The process it happened to, or the plan's node count for the
    /// network (the simulator's own node in the trace).
    pub node: usize,
    /// The event's name.
    pub event: &'static str,
    pub detail: String,
}

impl Fault {
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Kill(_) => FaultKind::Kill,
            Fault::Crash(_) => FaultKind::Crash,
            Fault::Shutdown(_) => FaultKind::Shutdown,
            Fault::Restart(_) => FaultKind::Restart,
            Fault::Pause(_) => FaultKind::Pause,
            Fault::Resume(_) => FaultKind::Resume,
            Fault::Partition(_) => FaultKind::Partition,
            Fault::PartitionOneWay { .. } => FaultKind::PartitionOneWay,
            Fault::Heal => FaultKind::Heal,
            Fault::Link { .. } => FaultKind::Link,
            Fault::ClockJump { .. } => FaultKind::ClockJump,
            Fault::ReplicaOf { .. } => FaultKind::ReplicaOf,
            Fault::Burst { .. } => FaultKind::Burst,
            Fault::ClusterFailover { .. } => FaultKind::ClusterFailover,
            Fault::Reshard { .. } => FaultKind::Reshard,
            Fault::ClientKillMaster(_) => FaultKind::ClientKillMaster,
            Fault::DebugSleep { .. } | Fault::DebugSleepEnd(_) => FaultKind::DebugSleep,
            Fault::Host { fault, .. } | Fault::HostEnd { fault, .. } => host_kind(*fault),
        }
    }

    /// Whether the parser adds this fault after another (the end of a
    /// DEBUG SLEEP or of a host fault): files never write it.
    pub fn added_by_parser(&self) -> bool {
        matches!(self, Fault::DebugSleepEnd(_) | Fault::HostEnd { .. })
    }

    /// The fault's name in messages: its kind's key (`debug-sleep-end` for
    /// the end the parser adds to a DEBUG SLEEP).
    pub fn name(&self) -> &'static str {
        match self {
            Fault::DebugSleepEnd(_) => "debug-sleep-end",
            Fault::HostEnd { fault, .. } => host_end_name(*fault),
            f => f.kind().key(),
        }
    }

    /// What the fault changes in the state [`liveness`] tracks: the faults
    /// that start, stop or signal a process, and the partitions.
    pub fn effect(&self) -> Effect {
        use Liveness::*;
        let process = |node, from, to| Effect::Process { node, from, to };
        match *self {
            Fault::Kill(n) | Fault::Crash(n) | Fault::Shutdown(n) => {
                process(n, &[Running, Stopped], Down)
            }
            Fault::Restart(n) => process(n, &[Down], Running),
            Fault::Pause(n) | Fault::DebugSleep { node: n, .. } => process(n, &[Running], Stopped),
            Fault::Resume(n) | Fault::DebugSleepEnd(n) => process(n, &[Stopped], Running),
            Fault::Partition(_) | Fault::PartitionOneWay { .. } => Effect::Partition,
            Fault::Heal => Effect::Heal,
            Fault::Link { .. }
            | Fault::ClockJump { .. }
            | Fault::ReplicaOf { .. }
            | Fault::Burst { .. }
            | Fault::ClusterFailover { .. }
            | Fault::Reshard { .. }
            | Fault::ClientKillMaster(_)
            | Fault::HostEnd { .. } => Effect::Untracked,
            Fault::Host { node, .. } => Effect::MayExit { node },
        }
    }

    /// The trace event recording the fault in a run whose processes `dir`
    /// names, worded as the simulator logs it (the conformance harness
    /// records real runs' faults with it too).
    pub fn describe(&self, dir: &Directory) -> Described {
        let name = |n: usize| dir.names[n].as_str();
        let group = |g: &[usize]| {
            let names: Vec<&str> = g.iter().map(|&n| name(n)).collect();
            format!("{{{}}}", names.join(", "))
        };
        let network = dir.names.len();
        let (node, event, detail) = match *self {
            Fault::Kill(n) => (n, "kill", format!("SIGKILL {}", name(n))),
            Fault::Crash(n) => (n, "crash", format!("power loss on {}'s host", name(n))),
            Fault::Shutdown(n) => (n, "shutdown", format!("SIGTERM {}", name(n))),
            Fault::Restart(n) => (n, "restart", format!("{} started", name(n))),
            Fault::Pause(n) => (n, "pause", format!("SIGSTOP {}", name(n))),
            Fault::Resume(n) => (n, "resume", format!("SIGCONT {}", name(n))),
            Fault::Partition(ref groups) => {
                let desc: Vec<String> = groups.iter().map(|g| group(g)).collect();
                (network, "partition", desc.join(" | "))
            }
            Fault::PartitionOneWay { ref from, ref to } => (
                network,
                "partition",
                format!("{} -> {} dropped", group(from), group(to)),
            ),
            Fault::Heal => (network, "heal", "all partitions healed".into()),
            Fault::Link {
                from,
                to,
                ref params,
                both_ways,
            } => (
                network,
                "link",
                describe_link(name(from), name(to), params, both_ways),
            ),
            Fault::ClockJump { node, by } => (
                node,
                "clock-jump",
                crate::time::clock_jump_text(name(node), by),
            ),
            Fault::ReplicaOf { node, master } => {
                let d = match master {
                    None => format!("REPLICAOF NO ONE on {}", name(node)),
                    Some(m) => format!(
                        "REPLICAOF {} {} on {}",
                        dir.hosts[m],
                        dir.ports[m],
                        name(node)
                    ),
                };
                (node, "replicaof", d)
            }
            Fault::Burst {
                node,
                writes,
                value_size,
            } => (
                node,
                "burst",
                format!("{writes} SETs of {value_size} bytes on {}", name(node)),
            ),
            Fault::ClusterFailover { node, mode } => {
                let word = match mode {
                    FailoverMode::Default => "",
                    FailoverMode::Force => " FORCE",
                    FailoverMode::Takeover => " TAKEOVER",
                };
                (
                    node,
                    "cluster-failover",
                    format!("CLUSTER FAILOVER{word} on {}", name(node)),
                )
            }
            Fault::Reshard {
                from,
                to,
                ref slots,
                ..
            } => (
                // Recorded on the operator's redis-cli, which runs it.
                dir.names
                    .iter()
                    .position(|n| n == OPERATOR)
                    .unwrap_or(network),
                "reshard",
                format!(
                    "redis-cli --cluster reshard: {} slots from {} to {}",
                    slots.len(),
                    name(from),
                    name(to)
                ),
            ),
            Fault::ClientKillMaster(n) => (
                n,
                "client-kill",
                format!("CLIENT KILL TYPE master on {}", name(n)),
            ),
            Fault::DebugSleep { node, length } => (
                node,
                "debug-sleep",
                format!("DEBUG SLEEP {} on {}", format_duration(length), name(node)),
            ),
            Fault::DebugSleepEnd(n) => (
                n,
                "debug-sleep-end",
                format!("DEBUG SLEEP on {} returns", name(n)),
            ),
            Fault::Host {
                node,
                fault,
                length,
            } => {
                let what = match fault {
                    HostFault::ForkFail => "fork() fails (ENOMEM)".to_string(),
                    HostFault::DiskFull => "the disk is full (ENOSPC)".to_string(),
                    HostFault::SlowFsync(t) => {
                        format!("each fsync takes {}", format_duration(t))
                    }
                    HostFault::RdbCorrupt(part) => {
                        format!("the RDB file reads back with a wrong {}", part.name())
                    }
                    HostFault::FsyncFail => "fsync fails (EIO)".to_string(),
                };
                (
                    node,
                    host_kind(fault).key(),
                    format!(
                        "on {}'s host {what} for {}",
                        name(node),
                        format_duration(length)
                    ),
                )
            }
            Fault::HostEnd { node, fault } => {
                let what = match fault {
                    HostFault::ForkFail => "fork() works again",
                    HostFault::DiskFull => "the disk has space again",
                    HostFault::SlowFsync(_) => "fsync is fast again",
                    HostFault::RdbCorrupt(_) => "the RDB file reads back intact",
                    HostFault::FsyncFail => "fsync works again",
                };
                (
                    node,
                    host_end_name(fault),
                    format!("on {}'s host {what}", name(node)),
                )
            }
        };
        Described {
            node,
            event,
            detail,
        }
    }

    /// The fault at `at` as its `[[fault]]` table, the inverse of
    /// `Builder::fault` (node numbers index `names`).
    pub fn table<S: AsRef<str>>(&self, at: Micros, names: &[S]) -> toml::Table {
        use toml::Value;
        let name = |n: usize| Value::String(names[n].as_ref().to_string());
        let list = |g: &[usize]| Value::Array(g.iter().map(|&n| name(n)).collect());
        let fields = |pairs: Vec<(&str, Value)>| {
            Value::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let value = match self {
            Fault::Kill(n)
            | Fault::Crash(n)
            | Fault::Shutdown(n)
            | Fault::Restart(n)
            | Fault::Pause(n)
            | Fault::Resume(n)
            | Fault::ClientKillMaster(n)
            | Fault::DebugSleepEnd(n) => name(*n),
            Fault::Partition(groups) => Value::Array(groups.iter().map(|g| list(g)).collect()),
            Fault::PartitionOneWay { from, to } => {
                fields(vec![("from", list(from)), ("to", list(to))])
            }
            Fault::Heal => true.into(),
            Fault::Link {
                from,
                to,
                params,
                both_ways,
            } => fields(vec![
                ("from", name(*from)),
                ("to", name(*to)),
                ("latency", format_duration(params.latency).into()),
                ("jitter", format_duration(params.jitter).into()),
                ("bandwidth", params.bandwidth.to_string().into()),
                ("loss", params.loss.into()),
                ("both-ways", (*both_ways).into()),
            ]),
            Fault::ClockJump { node, by } => {
                let sign = if *by < 0 { "-" } else { "+" };
                let by = format!("{sign}{}", format_duration(by.unsigned_abs()));
                fields(vec![("node", name(*node)), ("by", by.into())])
            }
            Fault::ReplicaOf { node, master } => fields(vec![
                ("node", name(*node)),
                (
                    "master",
                    master.map_or(Value::String("no one".into()), name),
                ),
            ]),
            Fault::Burst {
                node,
                writes,
                value_size,
            } => fields(vec![
                ("node", name(*node)),
                ("writes", i64::from(*writes).into()),
                ("value-size", i64::from(*value_size).into()),
            ]),
            Fault::ClusterFailover { node, mode } => {
                let mut c = vec![("node", name(*node))];
                match mode {
                    FailoverMode::Default => {}
                    FailoverMode::Force => c.push(("mode", "force".into())),
                    FailoverMode::Takeover => c.push(("mode", "takeover".into())),
                }
                fields(c)
            }
            Fault::Reshard {
                from,
                to,
                slots,
                batch,
            } => {
                let mut set = crate::proto::slots::SlotSet::default();
                slots.iter().for_each(|&s| set.insert(s));
                fields(vec![
                    ("from", name(*from)),
                    ("to", name(*to)),
                    ("slots", set.ranges_text().into()),
                    ("batch", i64::from(*batch).into()),
                ])
            }
            Fault::Host {
                node,
                fault: HostFault::SlowFsync(t),
                length,
            } => fields(vec![
                ("node", name(*node)),
                ("fsync", format_duration(*t).into()),
                ("for", format_duration(*length).into()),
            ]),
            Fault::Host {
                node,
                fault: HostFault::RdbCorrupt(part),
                length,
            } => fields(vec![
                ("node", name(*node)),
                ("for", format_duration(*length).into()),
                ("part", part.name().into()),
            ]),
            Fault::DebugSleep { node, length } | Fault::Host { node, length, .. } => fields(vec![
                ("node", name(*node)),
                ("for", format_duration(*length).into()),
            ]),
            // Never written alone (see `added_by_parser`): the nearest
            // table is the fault it ends.
            Fault::HostEnd { node, .. } => {
                fields(vec![("node", name(*node)), ("for", "0s".into())])
            }
        };
        // The parser adds each DEBUG SLEEP's end itself; written alone,
        // the nearest fault is a resume.
        let key = match self {
            Fault::DebugSleepEnd(_) => FaultKind::Resume.key(),
            f => f.kind().key(),
        };
        let mut t = toml::Table::new();
        t.insert("at".into(), format_duration(at).into());
        t.insert(key.into(), value);
        t
    }
}

/// The name of the operator's node that runs `reshard` faults and sends
/// the command lines (`[[command]]` and the faults that are commands).
pub const OPERATOR: &str = "redis-cli";

/// The redis-cli session the faults that are commands are typed into.
pub const FAULT_SESSION: &str = "fault";

impl Fault {
    /// A fault that is really a Redis command (`replicaof`,
    /// `client-kill-master`, `cluster-failover`, `debug-sleep`): the node it
    /// is sent to and the line, as an operator would type it. (The
    /// `debug-sleep-end` that follows a `debug-sleep` only marks, in the
    /// trace, when the sleep is due to end.)
    pub fn command_line(&self, dir: &Directory) -> Option<(usize, String)> {
        match *self {
            Fault::ReplicaOf {
                node,
                master: Some(m),
            } => Some((node, format!("REPLICAOF {} {}", dir.hosts[m], dir.ports[m]))),
            Fault::ReplicaOf { node, master: None } => Some((node, "REPLICAOF NO ONE".into())),
            Fault::ClientKillMaster(n) => Some((n, "CLIENT KILL TYPE master".into())),
            // Seconds as the conformance harness sends them to real Redis.
            Fault::DebugSleep { node, length } => {
                Some((node, format!("DEBUG SLEEP {:.6}", length as f64 / 1e6)))
            }
            Fault::ClusterFailover { node, mode } => {
                let line = match mode {
                    FailoverMode::Default => "CLUSTER FAILOVER",
                    FailoverMode::Force => "CLUSTER FAILOVER FORCE",
                    FailoverMode::Takeover => "CLUSTER FAILOVER TAKEOVER",
                };
                Some((node, line.into()))
            }
            _ => None,
        }
    }
}

fn describe_link(from: &str, to: &str, p: &LinkParams, both: bool) -> String {
    let arrow = if both { "<->" } else { "->" };
    let bw = if p.bandwidth == 0 {
        "unlimited".to_string()
    } else {
        format!("{} bytes/s", p.bandwidth)
    };
    format!(
        "{from} {arrow} {to}: latency {} jitter {} bandwidth {bw} loss {}",
        format_duration(p.latency),
        format_duration(p.jitter),
        p.loss
    )
}

impl Acts for Fault {
    fn effect(&self) -> Effect {
        Fault::effect(self)
    }
    fn name(&self) -> &'static str {
        Fault::name(self)
    }
}

/// One `[[fault]]` table as serde reads it: `at` and one key per kind
/// (the kebab-case field names are [`FAULT_KEYS`], in that order). A kind
/// whose value is more than a node's name reads it into its own table,
/// next to its reader below.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawFault {
    pub(super) at: Spanned<String>,
    kill: Option<Spanned<String>>,
    crash: Option<Spanned<String>>,
    shutdown: Option<Spanned<String>>,
    restart: Option<Spanned<String>>,
    pause: Option<Spanned<String>>,
    resume: Option<Spanned<String>>,
    partition: Option<Spanned<Vec<Vec<Spanned<String>>>>>,
    partition_oneway: Option<Spanned<RawOneWay>>,
    heal: Option<Spanned<bool>>,
    link: Option<Spanned<RawLink>>,
    clock_jump: Option<Spanned<RawClockJump>>,
    replicaof: Option<Spanned<RawReplicaOf>>,
    burst: Option<Spanned<RawBurst>>,
    cluster_failover: Option<Spanned<RawClusterFailover>>,
    pub(super) reshard: Option<Spanned<RawReshard>>,
    client_kill_master: Option<Spanned<String>>,
    debug_sleep: Option<Spanned<RawDebugSleep>>,
    fork_fail: Option<Spanned<RawDebugSleep>>,
    disk_full: Option<Spanned<RawDebugSleep>>,
    disk_slow: Option<Spanned<RawDiskSlow>>,
    rdb_corrupt: Option<Spanned<RawRdbCorrupt>>,
    fsync_fail: Option<Spanned<RawDebugSleep>>,
}

impl Builder<'_> {
    /// Every `[[fault]]` table, as listed, each DEBUG SLEEP followed by its
    /// end. A fault that would change nothing is refused: the trace must
    /// never claim a restart or a SIGCONT that did not happen.
    pub(super) fn faults(
        &self,
        raw: &[RawFault],
        roster: &Roster,
        duration: Micros,
        cluster: bool,
        shutdown_lines: &[(Micros, usize)],
    ) -> Result<Vec<(Micros, Fault)>, ScenarioError> {
        let mut faults = Vec::new();
        let mut spans = Vec::new();
        // A SHUTDOWN typed on a node stops it as SIGTERM would: it counts for
        // the liveness check, and is not itself judged (its line is not a
        // fault; at one instant, faults come before command lines).
        let mut typed = Vec::new();
        for f in raw {
            let at = self.time_in_run(&f.at, duration)?;
            let fault = self.fault(roster, f)?;
            if let Some(end) = fault.end() {
                faults.push((at + end.0, end.1));
                spans.push(None);
            }
            faults.push((at, fault));
            spans.push(Some(f.at.span()));
        }
        for &(at, node) in shutdown_lines {
            typed.push((at, Fault::Shutdown(node)));
        }
        let listed = faults.len();
        let mut judged = faults.clone();
        judged.extend(typed);
        let mut effects = liveness::effects(roster.names.len() + 1, &judged);
        effects.truncate(listed);
        for (i, effect) in effects.into_iter().enumerate() {
            if let (Err(no), Some(span)) = (effect, &spans[i]) {
                let of = no
                    .node
                    .map_or(String::new(), |n| format!(" of {}", roster.names[n]));
                return Err(self.err(
                    span.clone(),
                    format!(
                        "{}{of} at {} does nothing: {}",
                        no.what,
                        format_duration(faults[i].0),
                        no.reason
                    ),
                ));
            }
        }
        if !cluster && let Some(f) = raw.iter().find(|f| f.reshard.is_some()) {
            return Err(self.err(
                f.at.span(),
                "`reshard` needs a cluster: `cluster = true` in [topology]",
            ));
        }
        Ok(faults)
    }

    /// One `[[fault]]` table: exactly one kind's key, its value checked
    /// and its nodes resolved.
    fn fault(&self, roster: &Roster, f: &RawFault) -> Result<Fault, ScenarioError> {
        let r = roster;
        // Processes of any kind can be killed, paused or restarted.
        let any = |s: &Spanned<String>| self.node(&r.names, s);
        let mut found = Vec::new();
        if let Some(n) = &f.kill {
            found.push(Fault::Kill(any(n)?));
        }
        if let Some(n) = &f.crash {
            found.push(Fault::Crash(any(n)?));
        }
        if let Some(n) = &f.shutdown {
            found.push(Fault::Shutdown(any(n)?));
        }
        if let Some(n) = &f.restart {
            found.push(Fault::Restart(any(n)?));
        }
        if let Some(n) = &f.pause {
            found.push(Fault::Pause(any(n)?));
        }
        if let Some(n) = &f.resume {
            found.push(Fault::Resume(any(n)?));
        }
        if let Some(p) = &f.partition {
            found.push(self.partition(r, p)?);
        }
        if let Some(p) = &f.partition_oneway {
            found.push(self.partition_oneway(r, p)?);
        }
        if let Some(h) = &f.heal {
            if !*h.get_ref() {
                return Err(self.err(h.span(), "write `heal = true` to heal every partition"));
            }
            found.push(Fault::Heal);
        }
        if let Some(l) = &f.link {
            found.push(self.link(r, l)?);
        }
        if let Some(c) = &f.clock_jump {
            found.push(self.clock_jump(r, c)?);
        }
        if let Some(b) = &f.burst {
            found.push(self.burst(r, b)?);
        }
        if let Some(c) = &f.replicaof {
            found.push(self.replicaof(r, c)?);
        }
        if let Some(c) = &f.reshard {
            found.push(self.reshard(r, c)?);
        }
        if let Some(c) = &f.cluster_failover {
            found.push(self.cluster_failover(r, c)?);
        }
        if let Some(n) = &f.client_kill_master {
            found.push(Fault::ClientKillMaster(self.redis_node(r, n)?));
        }
        if let Some(d) = &f.debug_sleep {
            found.push(self.debug_sleep(r, d)?);
        }
        for (raw, fault) in [
            (&f.fork_fail, HostFault::ForkFail),
            (&f.disk_full, HostFault::DiskFull),
            (&f.fsync_fail, HostFault::FsyncFail),
        ] {
            if let Some(d) = raw {
                let (node, length) = self.node_for(r, d)?;
                found.push(Fault::Host {
                    node,
                    fault,
                    length,
                });
            }
        }
        if let Some(d) = &f.disk_slow {
            found.push(self.disk_slow(r, d)?);
        }
        if let Some(d) = &f.rdb_corrupt {
            found.push(self.rdb_corrupt(r, d)?);
        }
        match found.len() {
            1 => Ok(found.pop().expect("one")),
            0 => Err(self.err(
                f.at.span(),
                format!(
                    "this fault does nothing: add one of {}",
                    FAULT_KEYS.join(", ")
                ),
            )),
            _ => Err(self.err(
                f.at.span(),
                "one fault per [[fault]] table: split these into separate tables",
            )),
        }
    }

    fn group(&self, r: &Roster, g: &[Spanned<String>]) -> Result<Vec<usize>, ScenarioError> {
        g.iter().map(|n| self.node(&r.names, n)).collect()
    }

    /// `partition = [["master"], ["replica-1", "replica-2"]]`
    fn partition(
        &self,
        r: &Roster,
        p: &Spanned<Vec<Vec<Spanned<String>>>>,
    ) -> Result<Fault, ScenarioError> {
        if p.get_ref().len() < 2 {
            return Err(self.err(
                p.span(),
                "a partition needs at least two groups, e.g. [[\"master\"], [\"replica-1\"]]",
            ));
        }
        let groups: Result<Vec<_>, _> = p.get_ref().iter().map(|g| self.group(r, g)).collect();
        Ok(Fault::Partition(groups?))
    }
}

/// `partition-oneway = { from = ["master"], to = ["replica-1"] }`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOneWay {
    from: Vec<Spanned<String>>,
    to: Vec<Spanned<String>>,
}

impl Builder<'_> {
    fn partition_oneway(&self, r: &Roster, p: &Spanned<RawOneWay>) -> Result<Fault, ScenarioError> {
        let p = p.get_ref();
        Ok(Fault::PartitionOneWay {
            from: self.group(r, &p.from)?,
            to: self.group(r, &p.to)?,
        })
    }
}

/// `link = { from, to, latency, jitter, bandwidth, loss, both-ways }`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLink {
    from: Spanned<String>,
    to: Spanned<String>,
    latency: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    bandwidth: Option<Spanned<String>>,
    loss: Option<f64>,
    #[serde(default = "yes")]
    both_ways: bool,
}

fn yes() -> bool {
    true
}

impl Builder<'_> {
    fn link(&self, r: &Roster, l: &Spanned<RawLink>) -> Result<Fault, ScenarioError> {
        let raw = l.get_ref();
        let params = self.link_params(
            LinkParams::default(),
            raw.latency.as_ref(),
            raw.jitter.as_ref(),
            raw.bandwidth.as_ref(),
            raw.loss.map(|x| (x, l.span())),
        )?;
        Ok(Fault::Link {
            from: self.node(&r.names, &raw.from)?,
            to: self.node(&r.names, &raw.to)?,
            params,
            both_ways: raw.both_ways,
        })
    }
}

/// `clock-jump = { node = "sentinel-1", by = "+10s" }`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawClockJump {
    node: Spanned<String>,
    by: Spanned<String>,
}

impl Builder<'_> {
    fn clock_jump(&self, r: &Roster, c: &Spanned<RawClockJump>) -> Result<Fault, ScenarioError> {
        let c = c.get_ref();
        let text = c.by.get_ref().trim();
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => (-1i64, rest),
            None => (1, text.strip_prefix('+').unwrap_or(text)),
        };
        let by = parse_duration(rest).map_err(|m| self.err(c.by.span(), m))? as i64 * sign;
        Ok(Fault::ClockJump {
            node: self.node(&r.names, &c.node)?,
            by,
        })
    }
}

impl RawFault {
    /// Whether this fault is carried out by the operator's redis-cli: a
    /// reshard, or a fault that is a command.
    pub(super) fn needs_operator(&self) -> bool {
        self.reshard.is_some()
            || self.replicaof.is_some()
            || self.client_kill_master.is_some()
            || self.cluster_failover.is_some()
            || self.debug_sleep.is_some()
    }

    /// The node a `debug-sleep` names, where it is written.
    pub(super) fn debug_sleep_node(&self) -> Option<&Spanned<String>> {
        self.debug_sleep.as_ref().map(|d| &d.get_ref().node)
    }
}

/// `replicaof = { node = "replica-1", master = "no one" }`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawReplicaOf {
    node: Spanned<String>,
    master: Spanned<String>,
}

impl Builder<'_> {
    fn replicaof(&self, r: &Roster, c: &Spanned<RawReplicaOf>) -> Result<Fault, ScenarioError> {
        let c = c.get_ref();
        let node = self.redis_node(r, &c.node)?;
        let master = if c.master.get_ref().eq_ignore_ascii_case("no one") {
            None
        } else {
            Some(self.redis_node(r, &c.master)?)
        };
        Ok(Fault::ReplicaOf { node, master })
    }
}

/// `burst = { node = "master", writes = 1000, value-size = 100 }`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawBurst {
    node: Spanned<String>,
    writes: Spanned<u32>,
    value_size: Option<Spanned<u32>>,
}

impl Builder<'_> {
    fn burst(&self, r: &Roster, b: &Spanned<RawBurst>) -> Result<Fault, ScenarioError> {
        let b = b.get_ref();
        let writes = self.bounded(
            &b.writes,
            "writes",
            1,
            u64::from(limits::MAX_BURST_WRITES),
            "every node holds every key written",
        )?;
        let value_size = self.value_size(&b.value_size)?;
        let total = u64::from(writes) * u64::from(value_size);
        if total > limits::MAX_BURST_BYTES {
            return Err(self.err(
                b.writes.span(),
                format!(
                    "a burst of {writes} SETs of {value_size} bytes writes {total} bytes: at most 1gb (1073741824 bytes) per burst (every node holds every key, and every full sync copies them)"
                ),
            ));
        }
        Ok(Fault::Burst {
            node: self.redis_node(r, &b.node)?,
            writes,
            value_size,
        })
    }
}

/// `cluster-failover = { node = "replica-1-1", mode = "force" }`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawClusterFailover {
    node: Spanned<String>,
    /// `force` or `takeover`; default: a coordinated manual failover.
    mode: Option<Spanned<String>>,
}

impl Builder<'_> {
    fn cluster_failover(
        &self,
        r: &Roster,
        cf: &Spanned<RawClusterFailover>,
    ) -> Result<Fault, ScenarioError> {
        let c = cf.get_ref();
        let mode = match c.mode.as_ref().map(|m| m.get_ref().to_ascii_lowercase()) {
            None => FailoverMode::Default,
            Some(m) if m == "force" => FailoverMode::Force,
            Some(m) if m == "takeover" => FailoverMode::Takeover,
            Some(_) => {
                let span = c.mode.as_ref().map_or(cf.span(), |m| m.span());
                return Err(self.err(
                    span,
                    "mode is `force` or `takeover` (or leave it out for a coordinated failover)",
                ));
            }
        };
        Ok(Fault::ClusterFailover {
            node: self.redis_node(r, &c.node)?,
            mode,
        })
    }
}

/// `redis-cli --cluster reshard`: move `slots` from one master to another,
/// `reshard = { from = "master-1", to = "master-2", slots = "0-99" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawReshard {
    from: Spanned<String>,
    to: Spanned<String>,
    slots: Spanned<String>,
    /// Keys per MIGRATE (redis-cli's `--cluster-pipeline`).
    batch: Option<Spanned<u32>>,
}

/// Keys per MIGRATE when a reshard does not say.
const DEFAULT_BATCH: u32 = 10;

impl Builder<'_> {
    fn reshard(&self, r: &Roster, c: &Spanned<RawReshard>) -> Result<Fault, ScenarioError> {
        let c = c.get_ref();
        let slots =
            parse_slot_ranges(c.slots.get_ref()).map_err(|m| self.err(c.slots.span(), m))?;
        let batch = match &c.batch {
            Some(b) => self.bounded(
                b,
                "batch",
                1,
                u64::from(limits::MAX_BATCH),
                "keys per MIGRATE",
            )?,
            None => DEFAULT_BATCH,
        };
        Ok(Fault::Reshard {
            from: self.redis_node(r, &c.from)?,
            to: self.redis_node(r, &c.to)?,
            slots: slots.iter().collect(),
            batch,
        })
    }
}

/// `debug-sleep = { node = "master", for = "5s" }`, and the same for
/// `fork-fail` and `disk-full`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDebugSleep {
    node: Spanned<String>,
    #[serde(rename = "for")]
    length: Spanned<String>,
}

impl Builder<'_> {
    fn debug_sleep(&self, r: &Roster, d: &Spanned<RawDebugSleep>) -> Result<Fault, ScenarioError> {
        let (node, length) = self.node_for(r, d)?;
        Ok(Fault::DebugSleep { node, length })
    }

    /// A Redis server and a length of more than zero.
    fn node_for(
        &self,
        r: &Roster,
        d: &Spanned<RawDebugSleep>,
    ) -> Result<(usize, Micros), ScenarioError> {
        let d = d.get_ref();
        self.window(r, &d.node, &d.length)
    }

    /// A window on a Redis server: its `node` and its `for`, longer than 0.
    fn window(
        &self,
        r: &Roster,
        node: &Spanned<String>,
        length: &Spanned<String>,
    ) -> Result<(usize, Micros), ScenarioError> {
        let l = parse_duration(length.get_ref()).map_err(|m| self.err(length.span(), m))?;
        if l == 0 {
            return Err(self.err(length.span(), "`for` must be longer than 0s"));
        }
        Ok((self.redis_node(r, node)?, l))
    }
}

/// `disk-slow = { node = "master", fsync = "3s", for = "20s" }`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDiskSlow {
    node: Spanned<String>,
    fsync: Spanned<String>,
    #[serde(rename = "for")]
    length: Spanned<String>,
}

impl Builder<'_> {
    fn disk_slow(&self, r: &Roster, d: &Spanned<RawDiskSlow>) -> Result<Fault, ScenarioError> {
        let raw = d.get_ref();
        let (node, length) = self.window(r, &raw.node, &raw.length)?;
        let fsync =
            parse_duration(raw.fsync.get_ref()).map_err(|m| self.err(raw.fsync.span(), m))?;
        if fsync == 0 {
            return Err(self.err(raw.fsync.span(), "`fsync` must be longer than 0s"));
        }
        Ok(Fault::Host {
            node,
            fault: HostFault::SlowFsync(fsync),
            length,
        })
    }
}

/// `rdb-corrupt = { node = "replica-1", for = "30s", part = "checksum" }`;
/// `part` is `checksum` unless given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRdbCorrupt {
    node: Spanned<String>,
    #[serde(rename = "for")]
    length: Spanned<String>,
    part: Option<Spanned<String>>,
}

impl Builder<'_> {
    fn rdb_corrupt(&self, r: &Roster, d: &Spanned<RawRdbCorrupt>) -> Result<Fault, ScenarioError> {
        let raw = d.get_ref();
        let (node, length) = self.window(r, &raw.node, &raw.length)?;
        let part = match &raw.part {
            None => RdbDamage::Checksum,
            Some(p) => RdbDamage::from_name(p.get_ref()).ok_or_else(|| {
                let names: Vec<&str> = RdbDamage::ALL.iter().map(|d| d.name()).collect();
                self.err(
                    p.span(),
                    format!(
                        "unknown part `{}`: expected one of {}",
                        p.get_ref(),
                        names.join(", ")
                    ),
                )
            })?,
        };
        Ok(Fault::Host {
            node,
            fault: HostFault::RdbCorrupt(part),
            length,
        })
    }
}

impl Fault {
    /// The fault the parser adds after this one, and how long after.
    pub fn end(&self) -> Option<(Micros, Fault)> {
        match *self {
            Fault::DebugSleep { node, length } => Some((length, Fault::DebugSleepEnd(node))),
            Fault::Host {
                node,
                fault,
                length,
            } => Some((length, Fault::HostEnd { node, fault })),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listed kinds are exactly the table's keys, as serde reads them.
    #[test]
    fn the_fault_keys_are_the_tables_keys() {
        let err = toml::from_str::<RawFault>("at = \"1s\"\nnope = 1\n")
            .err()
            .expect("an unknown key is refused")
            .to_string();
        let expected = err.split("expected one of ").nth(1).expect("a key list");
        let keys: Vec<&str> = expected
            .split(',')
            .map(|k| k.trim().trim_matches('`'))
            .filter(|k| !k.is_empty() && *k != "at")
            .collect();
        assert_eq!(keys, FAULT_KEYS, "{err}");
    }

    /// Each kind is named by its key, and only by it.
    #[test]
    fn every_kind_has_one_key() {
        for k in FaultKind::ALL {
            assert_eq!(FaultKind::from_key(k.key()), Some(k));
        }
        let mut keys = FAULT_KEYS.to_vec();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), FaultKind::ALL.len());
        assert_eq!(FaultKind::from_key("debug-sleep-end"), None);
    }

    /// Every fault of every bundled scenario, written back and read again,
    /// is the same fault.
    #[test]
    fn every_bundled_fault_survives_a_round_trip() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    files(&p, out);
                } else if p.extension().is_some_and(|x| x == "toml") {
                    out.push(p);
                }
            }
        }
        let mut all = Vec::new();
        files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
            &mut all,
        );
        all.sort();
        let mut faults = 0;
        for path in all {
            let text = std::fs::read_to_string(&path).unwrap();
            let Ok(plan) = crate::scenario::parse("x.toml", &text) else {
                continue;
            };
            let mut doc: toml::Table = toml::from_str(&text).unwrap();
            // The parser adds each DEBUG SLEEP's end itself.
            let written: Vec<(Micros, Fault)> = plan
                .faults
                .iter()
                .filter(|(_, f)| !f.added_by_parser())
                .cloned()
                .collect();
            let names = plan.directory().names;
            let list = written
                .iter()
                .map(|(at, f)| toml::Value::Table(f.table(*at, &names)))
                .collect();
            doc.insert("fault".into(), toml::Value::Array(list));
            let again = crate::scenario::parse("x.toml", &toml::to_string(&doc).unwrap())
                .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
            assert_eq!(again.faults, plan.faults, "{}", path.display());
            faults += written.len();
        }
        assert!(faults > 100, "only {faults} faults were read");
    }
}

/// The liveness rules (`liveness.rs`) as the faults meet them.
#[cfg(test)]
mod liveness_rules {
    use super::*;
    use crate::scenario::liveness::*;

    #[test]
    fn restart_needs_a_stopped_process_and_resume_a_paused_one() {
        let mut t = Tracker::new(2);
        let e = t.apply(&Fault::Restart(0)).unwrap_err().to_string();
        assert!(
            e.starts_with("restart does nothing: the process is running"),
            "{e}"
        );
        assert!(t.apply(&Fault::Resume(0)).is_err());
        assert_eq!(t.apply(&Fault::Pause(0)), Ok(()));
        assert!(t.apply(&Fault::Pause(0)).is_err());
        // A stopped process can be killed; then only restart brings it back.
        assert_eq!(t.apply(&Fault::Kill(0)), Ok(()));
        assert!(t.apply(&Fault::Resume(0)).is_err());
        assert!(t.apply(&Fault::Kill(0)).is_err());
        assert_eq!(t.apply(&Fault::Restart(0)), Ok(()));
        assert_eq!(t.liveness(0), Liveness::Running);
        assert_eq!(t.liveness(1), Liveness::Running);
    }

    /// After a fault of its host a process may have exited by itself, so a
    /// restart of it is let through (the run applies it only if it is
    /// down); other processes are judged as before.
    #[test]
    fn a_host_fault_lets_a_restart_of_a_seemingly_running_process_through() {
        let mut t = Tracker::new(2);
        let damaged = Fault::Host {
            node: 0,
            fault: HostFault::RdbCorrupt(RdbDamage::Signature),
            length: 1,
        };
        assert_eq!(t.apply(&damaged), Ok(()));
        assert_eq!(t.apply(&Fault::Restart(0)), Ok(()));
        assert_eq!(t.liveness(0), Liveness::Running);
        assert!(t.apply(&Fault::Restart(1)).is_err());
    }

    #[test]
    fn heal_needs_a_partition() {
        let mut t = Tracker::new(2);
        assert!(t.apply(&Fault::Heal).is_err());
        assert_eq!(t.apply(&Fault::Partition(vec![vec![0], vec![1]])), Ok(()));
        assert_eq!(t.apply(&Fault::Heal), Ok(()));
        assert!(t.apply(&Fault::Heal).is_err());
    }

    #[test]
    fn faults_are_judged_in_time_order_then_as_listed() {
        let faults = vec![
            (20, Fault::Restart(0)),
            (10, Fault::Kill(0)),
            (20, Fault::Restart(0)),
        ];
        let e = effects(1, &faults);
        assert_eq!(e[0], Ok(()));
        assert_eq!(e[1], Ok(()));
        assert!(e[2].is_err());
    }
}
