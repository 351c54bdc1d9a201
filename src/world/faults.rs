//! Scripted faults applied to a running world: the one place where a fault
//! from the scenario meets the kernel's primitives.

use crate::check::RunView as _;
use crate::client::reshard::ReshardJob;
use crate::history::CommandLine;
use crate::proto::resp::split_args;
use crate::redis;
use crate::scenario::Fault;
use crate::scenario::fault::HostFault;
use crate::scenario::fault::{FAULT_SESSION, OPERATOR};
use crate::scenario::liveness::{self, Liveness};
use crate::sim::net::NodeId;
use crate::time::Secs;

use super::{Admin, World};

impl World {
    fn name(&self, n: usize) -> &str {
        &self.plan.nodes[n].name
    }

    /// Applies one scripted fault: the one place where a fault meets the
    /// kernel. It is traced as its definition describes it
    /// ([`Fault::describe`]), then applied.
    pub fn apply(&mut self, fault: &Fault) {
        if let Some(n) = liveness::process_target(fault) {
            let now = match self.sim.process_state(n as NodeId) {
                (false, _) => Liveness::Down,
                (true, true) => Liveness::Stopped,
                (true, false) => Liveness::Running,
            };
            if let Err(no) = liveness::judge(now, fault) {
                // Scenario files cannot script this and the fuzzer never
                // draws it; a fault that does nothing is not logged as done.
                self.warnings.push(format!(
                    "{} of {} at {} does nothing: {}; not applied",
                    no.what,
                    self.name(n),
                    Secs(self.sim.now()),
                    no.reason
                ));
                return;
            }
        }
        // A reshard is run by the operator's redis-cli, if the plan has one.
        let operator = self.plan.node_index(OPERATOR);
        if matches!(fault, Fault::Reshard { .. }) && operator.is_none() {
            return;
        }
        let d = fault.describe(&self.dir);
        self.sim.kernel.log_sim(d.node as u32, d.event, d.detail);
        if let Some((node, line)) = fault.command_line(&self.dir) {
            // Typed into the operator's redis-cli, as a person would.
            if let Some(op) = operator {
                let command = CommandLine {
                    name: None,
                    session: FAULT_SESSION.into(),
                    node: node as NodeId,
                    argv: split_args(&line).expect("a line the fault composes splits"),
                    line,
                };
                self.sim.admin(op as NodeId, Admin::FaultCommand(command));
            }
            return;
        }
        match *fault {
            Fault::Kill(n) => self.sim.kill(n as NodeId, false),
            Fault::Crash(n) => self.sim.kill(n as NodeId, true),
            Fault::Shutdown(n) => self.sim.shutdown(n as NodeId),
            Fault::Restart(n) => self.sim.start(n as NodeId),
            Fault::Pause(n) => self.sim.pause(n as NodeId),
            Fault::Resume(n) => self.sim.resume(n as NodeId),
            // The server wakes by itself (DEBUG SLEEP).
            Fault::DebugSleepEnd(_) => {}
            Fault::Host { node, fault, .. } => self.host_fault(node, fault, true),
            Fault::HostEnd { node, fault } => self.host_fault(node, fault, false),
            Fault::Partition(ref groups) => {
                for (i, a) in groups.iter().enumerate() {
                    for (j, b) in groups.iter().enumerate() {
                        if i != j {
                            self.block(a, b, true);
                        }
                    }
                }
            }
            Fault::PartitionOneWay { ref from, ref to } => self.block(from, to, true),
            Fault::Heal => {
                let all: Vec<usize> = (0..self.plan.nodes.len()).collect();
                self.block(&all, &all, false);
            }
            Fault::Link {
                from,
                to,
                ref params,
                both_ways,
            } => {
                self.sim
                    .set_link(from as NodeId, to as NodeId, params.clone());
                if both_ways {
                    self.sim
                        .set_link(to as NodeId, from as NodeId, params.clone());
                }
            }
            Fault::ClockJump { node, by } => self.sim.clock_jump(node as NodeId, by),
            Fault::Burst {
                node,
                writes,
                value_size,
            } => {
                self.sim.admin(
                    node as NodeId,
                    Admin::Redis(redis::Admin::Burst { writes, value_size }),
                );
            }
            Fault::Reshard {
                from,
                to,
                ref slots,
                batch,
            } => {
                let op = operator.expect("checked above");
                let masters = (0..self.plan.nodes.len())
                    .filter(|&n| self.role(n) == Some("master"))
                    .map(|n| n as NodeId)
                    .collect();
                let job = ReshardJob {
                    from: from as NodeId,
                    to: to as NodeId,
                    slots: slots.clone(),
                    batch,
                    masters,
                };
                self.sim.admin(op as NodeId, Admin::Reshard(job));
            }
            Fault::ClusterFailover { .. }
            | Fault::ClientKillMaster(_)
            | Fault::ReplicaOf { .. }
            | Fault::DebugSleep { .. } => {
                unreachable!("sent as commands above")
            }
        }
    }

    /// A host fault starts or ends under a Redis server: what its system
    /// calls do changes, whether its process runs or not.
    fn host_fault(&mut self, node: usize, fault: HostFault, on: bool) {
        if let super::Process::Redis(r) = &mut self.sim.nodes[node] {
            r.disk.faults.set(fault, on);
        }
    }

    fn block(&mut self, from: &[usize], to: &[usize], blocked: bool) {
        for &a in from {
            for &b in to {
                if a != b {
                    self.sim.set_blocked(a as NodeId, b as NodeId, blocked);
                }
            }
        }
    }
}
