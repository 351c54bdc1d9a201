//! Reading a run: the processes' state and the trace, for the checkers
//! (through [`RunView`]) and the tools.

use crate::check::RunView;
use crate::check::groups::Group;
use crate::check::invariants::Violation;
use crate::check::windows::Window;
use crate::client::Discovery;
use crate::history::{Exchange, History};
use crate::redis::{self, RedisNode};
use crate::scenario::{Fault, NodeKind};
use crate::sentinel::SentinelNode;
use crate::sim::net::NodeId;
use crate::time::Micros;
use crate::trace::Trace;

use super::{Process, World};

impl World {
    pub fn sentinel(&self, n: usize) -> Option<&SentinelNode> {
        match &self.sim.nodes[n] {
            Process::Sentinel(s) => Some(s),
            _ => None,
        }
    }

    /// Everything logged so far.
    pub fn trace(&self) -> &Trace {
        &self.sim.kernel.trace
    }

    /// Events the kernel has handled so far (a run's cost).
    pub fn events_processed(&self) -> u64 {
        self.sim.kernel.events_processed
    }

    /// A node's wall clock now: simulated time plus its clock offset.
    pub fn local_time(&self, n: usize) -> Micros {
        self.sim.kernel.local_time(n as NodeId)
    }

    /// Each workload client's ticks so far, for
    /// [`crate::check::rates::shortfalls`], with what the summary says of
    /// it.
    pub fn workload_ticks(&self) -> Vec<WorkloadTicks> {
        let end = self.sim.kernel.now().min(self.plan.duration);
        (self.sim.nodes.iter().enumerate())
            .filter_map(|(node, p)| {
                let (id, spec, ticks) = match p {
                    Process::Client(c) => (c.id, &c.spec, c.ticks),
                    Process::ClusterClient(c) => (c.id, &c.spec, c.ticks),
                    _ => return None,
                };
                let window = spec.stop.min(end).saturating_sub(spec.start);
                Some(WorkloadTicks {
                    node,
                    ticks: (id, spec.rate, ticks, window),
                    in_flight: spec.connections.max(1) * spec.pipeline.max(1),
                    cluster: matches!(p, Process::ClusterClient(_)),
                })
            })
            .collect()
    }
}

/// A workload client's ticks, as [`World::workload_ticks`] gives them.
pub struct WorkloadTicks {
    /// The client's node.
    pub node: usize,
    /// Client id, asked rate, ticks so far and active window (from its
    /// start to its stop or the run's end).
    pub ticks: (u32, f64, crate::history::Ticks, Micros),
    /// Requests it may have in flight: connections x pipeline.
    pub in_flight: u32,
    /// A cluster client (one connection per node, one request in flight).
    pub cluster: bool,
}

impl RunView for World {
    fn now(&self) -> Micros {
        self.sim.now()
    }

    fn duration(&self) -> Micros {
        self.plan.duration
    }

    fn names(&self) -> &[String] {
        &self.names
    }

    fn node_count(&self) -> usize {
        self.plan.nodes.len()
    }

    fn is_cluster(&self) -> bool {
        self.plan.cluster.is_some()
    }

    fn trace(&self) -> &Trace {
        World::trace(self)
    }

    fn sentinels(&self) -> Vec<(usize, &SentinelNode)> {
        self.sim
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Process::Sentinel(s) => Some((i, &**s)),
                _ => None,
            })
            .collect()
    }

    fn redis(&self, n: usize) -> Option<&RedisNode> {
        match &self.sim.nodes[n] {
            Process::Redis(r) => Some(r),
            _ => None,
        }
    }

    fn info(&self, n: usize) -> Option<String> {
        let p = self.server(n)?;
        let mut s = redis::info::replication(p, self.local_time(n));
        if let Some(c) = &p.cluster {
            s.push_str("\r\n# CLUSTER INFO\r\n");
            s.push_str(&c.info());
            s.push_str("\r\n# CLUSTER NODES\r\n");
            s.push_str(&c.nodes_description());
        }
        Some(s)
    }

    fn history(&self) -> History<'_> {
        History::new(self.sim.nodes.iter().filter_map(|p| match p {
            Process::Client(c) => Some(&c.history),
            Process::ClusterClient(c) => Some(&c.history),
            _ => None,
        }))
    }

    fn write_workloads(&self) -> Vec<Window> {
        self.plan
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                NodeKind::Client(w) if w.commands.mix.writes() > 0.0 => Some(Window {
                    from: w.start,
                    to: w.stop,
                }),
                _ => None,
            })
            .collect()
    }

    fn operator(&self) -> Option<usize> {
        self.plan.node_index("redis-cli")
    }

    fn exchanges(&self) -> &[Exchange] {
        match self.operator().map(|n| &self.sim.nodes[n]) {
            Some(Process::Resharder(r)) => &r.sessions.exchanges,
            _ => &[],
        }
    }

    fn is_outside(&self, session: &str) -> bool {
        match self.operator().map(|n| &self.sim.nodes[n]) {
            Some(Process::Resharder(r)) => r.sessions.is_outside(session),
            _ => false,
        }
    }

    fn reshards(&self) -> Vec<(Vec<u16>, Micros)> {
        self.plan
            .faults
            .iter()
            .filter_map(|(at, a)| match a {
                Fault::Reshard { slots, .. } => Some((slots.clone(), *at)),
                _ => None,
            })
            .collect()
    }

    fn violations(&self) -> &[Violation] {
        &self.violations
    }

    fn groups(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = self
            .plan
            .groups
            .iter()
            .map(|g| Group {
                master: g.master,
                nodes: g.nodes.clone(),
                ..Group::default()
            })
            .collect();
        // Clients are numbered from 1 in the plan's order, as the world
        // creates them.
        let clients = self.plan.nodes.iter().filter_map(|n| match &n.kind {
            NodeKind::Client(w) => Some(w),
            _ => None,
        });
        for (i, w) in clients.enumerate() {
            let Some(g) = self.group_of(&w.discovery) else {
                continue;
            };
            let group = &mut groups[g];
            group.clients.push(i as u32 + 1);
            if w.commands.mix.writes() > 0.0 {
                group.writes.push(Window {
                    from: w.start,
                    to: w.stop,
                });
            }
        }
        groups
    }
}

impl World {
    /// The replication group a client works on: the one holding its
    /// target, or the one whose master the Sentinels monitor under the
    /// name it asks for. With one group, every client's.
    fn group_of(&self, discovery: &Discovery) -> Option<usize> {
        let groups = &self.plan.groups;
        if groups.len() == 1 {
            return Some(0);
        }
        let node = match discovery {
            Discovery::Direct(n) => *n as usize,
            Discovery::Sentinel { master_name, .. } => {
                let conf = self.plan.nodes.iter().find_map(|n| match &n.kind {
                    NodeKind::Sentinel(c) => Some(c),
                    _ => None,
                })?;
                let m = conf
                    .masters
                    .iter()
                    .find(|m| m.master_name == *master_name)?;
                m.master as usize
            }
            Discovery::Cluster(_) => return None,
        };
        groups.iter().position(|g| g.nodes.contains(&node))
    }
}
