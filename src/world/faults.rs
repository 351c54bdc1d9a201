//! Scripted faults applied to a running world: the one place where a fault
//! from the scenario meets the kernel's primitives.

use crate::check::RunView as _;
use crate::client::reshard::ReshardJob;
use crate::redis;
use crate::redis::cluster::failover::FailoverMode;
use crate::scenario::Action;
use crate::scenario::liveness::{self, Liveness};
use crate::sim::net::{LinkParams, NodeId};
use crate::sim::time::{Secs, format_duration};

use super::{Admin, World};

impl World {
    fn name(&self, n: usize) -> &str {
        &self.plan.nodes[n].name
    }

    fn group_names(&self, g: &[usize]) -> String {
        let names: Vec<&str> = g.iter().map(|&n| self.name(n)).collect();
        format!("{{{}}}", names.join(", "))
    }

    /// Applies one scripted fault: the one place where a fault meets the
    /// kernel.
    pub fn apply(&mut self, action: &Action) {
        if let Some(n) = liveness::process_target(action) {
            let now = match self.sim.process_state(n as NodeId) {
                (false, _) => Liveness::Down,
                (true, true) => Liveness::Stopped,
                (true, false) => Liveness::Running,
            };
            if let Err(no) = liveness::judge(now, action) {
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
        let k = |s: &mut Self, node: usize, event: &'static str, detail: String| {
            s.sim.kernel.log_sim(node as u32, event, detail);
        };
        match *action {
            Action::Kill(n) => {
                k(self, n, "kill", format!("SIGKILL {}", self.name(n)));
                self.sim.kill(n as NodeId, false);
            }
            Action::Crash(n) => {
                k(
                    self,
                    n,
                    "crash",
                    format!("power loss on {}'s host", self.name(n)),
                );
                self.sim.kill(n as NodeId, true);
            }
            Action::Shutdown(n) => {
                k(self, n, "shutdown", format!("SIGTERM {}", self.name(n)));
                self.sim.shutdown(n as NodeId);
            }
            Action::Restart(n) => {
                k(self, n, "restart", format!("{} started", self.name(n)));
                self.sim.start(n as NodeId);
            }
            Action::Pause(n) => {
                k(self, n, "pause", format!("SIGSTOP {}", self.name(n)));
                self.sim.pause(n as NodeId);
            }
            Action::Resume(n) => {
                k(self, n, "resume", format!("SIGCONT {}", self.name(n)));
                self.sim.resume(n as NodeId);
            }
            Action::Partition(ref groups) => {
                let desc: Vec<String> = groups.iter().map(|g| self.group_names(g)).collect();
                let s = self.sim_node() as usize;
                k(self, s, "partition", desc.join(" | "));
                for (i, a) in groups.iter().enumerate() {
                    for (j, b) in groups.iter().enumerate() {
                        if i != j {
                            self.block(a, b, true);
                        }
                    }
                }
            }
            Action::PartitionOneWay { ref from, ref to } => {
                let s = self.sim_node() as usize;
                let d = format!(
                    "{} -> {} dropped",
                    self.group_names(from),
                    self.group_names(to)
                );
                k(self, s, "partition", d);
                self.block(from, to, true);
            }
            Action::Heal => {
                let s = self.sim_node() as usize;
                k(self, s, "heal", "all partitions healed".into());
                let all: Vec<usize> = (0..self.plan.nodes.len()).collect();
                self.block(&all, &all, false);
            }
            Action::Link {
                from,
                to,
                ref params,
                both_ways,
            } => {
                let d = describe_link(self.name(from), self.name(to), params, both_ways);
                let s = self.sim_node() as usize;
                k(self, s, "link", d);
                self.sim
                    .set_link(from as NodeId, to as NodeId, params.clone());
                if both_ways {
                    self.sim
                        .set_link(to as NodeId, from as NodeId, params.clone());
                }
            }
            Action::ClockJump { node, by } => {
                let d = crate::sim::time::clock_jump_text(self.name(node), by);
                k(self, node, "clock-jump", d);
                self.sim.clock_jump(node as NodeId, by);
            }
            Action::Burst {
                node,
                writes,
                value_size,
            } => {
                let d = format!("{writes} SETs of {value_size} bytes on {}", self.name(node));
                k(self, node, "burst", d);
                self.sim.admin(
                    node as NodeId,
                    Admin::Redis(redis::Admin::Burst { writes, value_size }),
                );
            }
            Action::Reshard {
                from,
                to,
                ref slots,
                batch,
            } => {
                let Some(op) = self.plan.nodes.iter().position(|n| n.name == "redis-cli") else {
                    return;
                };
                let d = format!(
                    "redis-cli --cluster reshard: {} slots from {} to {}",
                    slots.len(),
                    self.name(from),
                    self.name(to)
                );
                k(self, op, "reshard", d);
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
            Action::ClusterFailover { node, mode } => {
                let word = match mode {
                    FailoverMode::Default => "",
                    FailoverMode::Force => " FORCE",
                    FailoverMode::Takeover => " TAKEOVER",
                };
                let d = format!("CLUSTER FAILOVER{word} on {}", self.name(node));
                k(self, node, "cluster-failover", d);
                self.sim.admin(
                    node as NodeId,
                    Admin::Redis(redis::Admin::ClusterFailover(mode)),
                );
            }
            Action::DebugSleep { node, length } => {
                let d = format!(
                    "DEBUG SLEEP {} on {}",
                    format_duration(length),
                    self.name(node)
                );
                k(self, node, "debug-sleep", d);
                self.sim.pause(node as NodeId);
            }
            Action::DebugSleepEnd(n) => {
                k(
                    self,
                    n,
                    "debug-sleep-end",
                    format!("DEBUG SLEEP on {} returns", self.name(n)),
                );
                self.sim.resume(n as NodeId);
            }
            Action::ClientKillMaster(n) => {
                k(
                    self,
                    n,
                    "client-kill",
                    format!("CLIENT KILL TYPE master on {}", self.name(n)),
                );
                self.sim
                    .admin(n as NodeId, Admin::Redis(redis::Admin::ClientKillMaster));
            }
            Action::ReplicaOf { node, master } => {
                let d = match master {
                    None => format!("REPLICAOF NO ONE on {}", self.name(node)),
                    Some(m) => format!(
                        "REPLICAOF {} {} on {}",
                        self.plan.nodes[m].host,
                        self.plan.nodes[m].port,
                        self.name(node)
                    ),
                };
                k(self, node, "replicaof", d);
                self.sim.admin(
                    node as NodeId,
                    Admin::Redis(redis::Admin::ReplicaOf(master.map(|m| m as NodeId))),
                );
            }
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
