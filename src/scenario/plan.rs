//! A validated scenario, ready to run: the processes, the scripted faults
//! (each a [`Fault`], defined in `fault.rs`) and the expectations.

use crate::check::Expectation;
use crate::client::WorkloadSpec;
use crate::history::CommandLine;
use crate::proto::addr::Directory;
use crate::proto::slots::SlotSet;
use crate::redis::config::RedisConfig;
use crate::sentinel::SentinelConf;
use crate::sim::net::LinkParams;
use crate::time::Micros;

use super::conform;
use super::fault::Fault;

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// The operator's redis-cli, which runs `reshard` faults.
    Operator,
    Redis {
        conf: Box<RedisConfig>,
        replicaof: Option<usize>,
    },
    Client(WorkloadSpec),
    Sentinel(SentinelConf),
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodePlan {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub kind: NodeKind,
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub question: Option<String>,
    pub answer: Option<String>,
    /// A subgroup for `redsim list` (e.g. "sentinel" within interview/).
    pub topic: Option<String>,
    pub seed: u64,
    /// When the run ends: the file's `stop` if it has one (a lab
    /// recording), else its `duration`.
    pub duration: Micros,
    pub max_events: u64,
    pub link: LinkParams,
    pub nodes: Vec<NodePlan>,
    pub faults: Vec<(Micros, Fault)>,
    /// Command lines the operator's redis-cli sends, in the file's order.
    pub commands: Vec<(Micros, CommandLine)>,
    /// Connections from outside the deployment (`[[connection]]`), that
    /// the command lines of their sessions go on.
    pub connections: Vec<super::connection::Connection>,
    /// Where the servers are published outside the deployment, if they are.
    pub publish: Option<Publish>,
    pub expects: Vec<Expectation>,
    pub fuzz: FuzzSettings,
    /// The `[conform]` table, if the scenario has one.
    pub conform: Option<conform::ConformSpec>,
    /// A Redis Cluster scenario: how the cluster was created.
    pub cluster: Option<ClusterPlan>,
    /// Outside cluster mode: the replication groups, each a master and its
    /// replicas (one group unless `[topology] masters` is more than 1).
    pub groups: Vec<Group>,
}

/// One replication group: its master and every Redis server in it (the
/// master first), by node index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub master: usize,
    pub nodes: Vec<usize>,
}

/// The cluster as created before the run: who serves which slots and who
/// replicates whom (indices are Redis node indices).
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterPlan {
    pub slots: Vec<SlotSet>,
    pub replica_of: Vec<Option<usize>>,
}

impl Plan {
    /// The scenario's name as one file name, `/` turned into `__`: the
    /// stem of its golden trace, fuzz reproducers and kept runs.
    pub fn file_stem(&self) -> String {
        self.name.replace('/', "__")
    }

    /// The address book of the run's processes, in the plan's order.
    pub fn directory(&self) -> Directory {
        Directory {
            names: self.nodes.iter().map(|n| n.name.clone()).collect(),
            hosts: self.nodes.iter().map(|n| n.host.clone()).collect(),
            ports: self.nodes.iter().map(|n| n.port).collect(),
            published: self
                .publish
                .as_ref()
                .map(|p| p.addresses(&self.nodes))
                .unwrap_or_default(),
        }
    }

    /// Adds the operator's redis-cli node (which runs reshards and sends
    /// command lines) if the plan has none.
    pub fn with_operator(&mut self) {
        if self.node_index(super::fault::OPERATOR).is_none() {
            self.nodes.push(NodePlan {
                name: super::fault::OPERATOR.into(),
                host: "10.0.3.1".into(),
                port: 40000,
                kind: NodeKind::Operator,
            });
        }
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

/// Fuzzing settings from the scenario's `[fuzz]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct FuzzSettings {
    /// Faults are drawn before this time; then everything heals.
    pub faults_stop: Micros,
    pub max_faults: usize,
    /// Properties checked besides the invariants.
    pub properties: Vec<String>,
    /// Kinds of log line or Sentinel event no run may print (a path taken
    /// that should not be).
    pub never_prints: Vec<String>,
    /// Swarm mode: configuration values each seed draws within a range.
    pub swarm: Vec<(String, SwarmRange)>,
    /// Bounds: at most this many lost acknowledged writes, at most this long
    /// without an acknowledged write, converged this long after the faults.
    pub bounds: Bounds,
}

/// Quantitative properties from `[fuzz]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bounds {
    pub max_lost_acked_writes: Option<u64>,
    pub max_unavailability: Option<Micros>,
    pub converges_within: Option<Micros>,
}

/// A range `[low, high]` of a configuration value in `[fuzz.swarm]`.
#[derive(Clone, Debug, PartialEq)]
pub enum SwarmRange {
    Int(i64, i64),
    /// Durations, drawn in microseconds.
    Duration(u64, u64),
    /// Sizes, drawn in bytes.
    Size(u64, u64),
}

impl SwarmRange {
    pub fn bounds(&self) -> (i64, i64) {
        match *self {
            SwarmRange::Int(a, b) => (a, b),
            SwarmRange::Duration(a, b) | SwarmRange::Size(a, b) => (a as i64, b as i64),
        }
    }

    /// A drawn value as it is written into a scenario.
    pub fn value(&self, v: i64) -> toml::Value {
        match self {
            SwarmRange::Int(..) | SwarmRange::Size(..) => toml::Value::Integer(v),
            SwarmRange::Duration(..) => toml::Value::String(format!("{v}us")),
        }
    }
}

/// Invariants and properties a run can be checked against.
pub const PROPERTIES: &[&str] = &[
    "converges",
    "no-lost-acked-writes",
    "no-split-brain",
    "one-leader-per-epoch",
    "one-vote-per-epoch",
    "epochs-monotonic",
    "offsets-monotonic",
];

/// Where the servers are published: Redis servers from `port_base` on, in
/// order, Sentinels from `port_base + 100`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    pub host: String,
    pub port_base: u16,
}

/// Sentinels are published this far above the Redis servers.
pub const SENTINEL_OFFSET: u16 = 100;

impl Publish {
    /// Each node's published address (`None` for clients and the
    /// operator), in node order.
    pub fn addresses(&self, nodes: &[NodePlan]) -> Vec<Option<(String, u16)>> {
        let (mut redis, mut sentinels) = (0u16, 0u16);
        nodes
            .iter()
            .map(|n| {
                let offset = match n.kind {
                    NodeKind::Redis { .. } => {
                        redis += 1;
                        redis - 1
                    }
                    NodeKind::Sentinel(_) => {
                        sentinels += 1;
                        SENTINEL_OFFSET + sentinels - 1
                    }
                    _ => return None,
                };
                Some((self.host.clone(), self.port_base + offset))
            })
            .collect()
    }
}
