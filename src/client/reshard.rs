//! The operator's `redis-cli --cluster reshard`: moves slots one by one as
//! clusterManagerMoveSlot() does — IMPORTING on the target, MIGRATING on the
//! source, GETKEYSINSLOT + MIGRATE in batches until the slot is empty, then
//! SETSLOT NODE on the target, the source and every other master.

use std::collections::VecDeque;
use std::rc::Rc;

use super::link::Conns;
use super::operator::Sessions;
use crate::proto::addr::Directory;
use crate::proto::{Cmd, Ctx, Msg, Reply, SetSlot};
use crate::sim::Node;
use crate::sim::net::{ConnId, NodeId};
use crate::trace::Level;
use crate::trace::names;

/// One `reshard` request from the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct ReshardJob {
    pub from: NodeId,
    pub to: NodeId,
    pub slots: Vec<u16>,
    /// Keys per MIGRATE (`--cluster-pipeline`, 10 by default).
    pub batch: u32,
    /// Every master, to tell about the new owner of each slot.
    pub masters: Vec<NodeId>,
}

/// Where the move of the current slot is.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Importing,
    Migrating,
    GetKeys,
    Migrate,
    /// SETSLOT NODE to the i-th node of the notify list.
    Node(usize),
}

pub struct Resharder {
    dir: Rc<Directory>,
    jobs: VecDeque<ReshardJob>,
    /// The job in progress and the index of its current slot.
    current: Option<(ReshardJob, usize)>,
    step: Step,
    conns: Conns,
    /// The node the command in flight went to.
    waiting_on: Option<NodeId>,
    pub slots_moved: u32,
    pub keys_moved: u64,
    /// The command lines the scenario types into redis-cli.
    pub sessions: Sessions,
}

impl Resharder {
    pub fn new(dir: Rc<Directory>) -> Self {
        let n = dir.names.len();
        Self {
            sessions: Sessions::new(Rc::clone(&dir)),
            dir,
            jobs: VecDeque::new(),
            current: None,
            step: Step::Importing,
            conns: Conns::new(n),
            waiting_on: None,
            slots_moved: 0,
            keys_moved: 0,
        }
    }

    /// Queues a job; it starts at once if nothing else runs.
    pub fn submit(&mut self, ctx: &mut Ctx<'_>, job: ReshardJob) {
        self.jobs.push_back(job);
        if self.current.is_none() {
            self.next_job(ctx);
        }
    }

    fn next_job(&mut self, ctx: &mut Ctx<'_>) {
        self.current = self.jobs.pop_front().map(|j| (j, 0));
        if self.current.is_some() {
            self.start_slot(ctx);
        }
    }

    fn start_slot(&mut self, ctx: &mut Ctx<'_>) {
        let Some((job, i)) = &self.current else {
            return;
        };
        let Some(&slot) = job.slots.get(*i) else {
            let (from, to) = (job.from, job.to);
            ctx.log(
                Level::Notice,
                names::redis::RESHARDING_DONE,
                format!(
                    "Resharding done: {} slots moved from {} to {}",
                    job.slots.len(),
                    self.dir.addr(from),
                    self.dir.addr(to)
                ),
            );
            self.next_job(ctx);
            return;
        };
        let (from, to) = (job.from, job.to);
        ctx.log(
            Level::Notice,
            "Moving slot",
            format!(
                "Moving slot {slot} from {} to {}",
                self.dir.addr(from),
                self.dir.addr(to)
            ),
        );
        self.step = Step::Importing;
        self.send(
            ctx,
            to,
            Cmd::ClusterSetSlot {
                slot,
                action: SetSlot::Importing(from),
            },
        );
    }

    fn send(&mut self, ctx: &mut Ctx<'_>, node: NodeId, cmd: Cmd) {
        let conn = self.conns.to(ctx, node);
        self.waiting_on = Some(node);
        ctx.send(conn, Msg::Cmd(cmd));
    }

    /// The nodes told about the slot's new owner, in redis-cli's order.
    fn notify_list(job: &ReshardJob) -> Vec<NodeId> {
        let mut list = vec![job.to, job.from];
        list.extend(
            job.masters
                .iter()
                .filter(|&&m| m != job.to && m != job.from),
        );
        list
    }

    fn abort(&mut self, ctx: &mut Ctx<'_>, why: String) {
        ctx.log(
            Level::Warning,
            names::redis::RESHARDING_ABORTED,
            format!("Resharding aborted: {why}"),
        );
        self.waiting_on = None;
        self.next_job(ctx);
    }

    fn reply(&mut self, ctx: &mut Ctx<'_>, reply: Reply) {
        let Some((job, i)) = self.current.clone() else {
            return;
        };
        let slot = job.slots[i];
        match (&self.step, reply) {
            (Step::Importing, Reply::Ok) => {
                self.step = Step::Migrating;
                self.send(
                    ctx,
                    job.from,
                    Cmd::ClusterSetSlot {
                        slot,
                        action: SetSlot::Migrating(job.to),
                    },
                );
            }
            (Step::Migrating, Reply::Ok) | (Step::Migrate, Reply::Ok) => {
                self.step = Step::GetKeys;
                self.send(
                    ctx,
                    job.from,
                    Cmd::ClusterGetKeysInSlot {
                        slot,
                        count: job.batch,
                    },
                );
            }
            (Step::GetKeys, Reply::Keys(keys)) if keys.is_empty() => {
                self.step = Step::Node(0);
                self.send(
                    ctx,
                    job.to,
                    Cmd::ClusterSetSlot {
                        slot,
                        action: SetSlot::Node(job.to),
                    },
                );
            }
            (Step::GetKeys, Reply::Keys(keys)) => {
                self.keys_moved += keys.len() as u64;
                self.step = Step::Migrate;
                self.send(
                    ctx,
                    job.from,
                    Cmd::Migrate {
                        target: job.to,
                        keys,
                    },
                );
            }
            (Step::Node(k), reply) => {
                let list = Self::notify_list(&job);
                let acceptable = matches!(&reply, Reply::Ok)
                    || matches!(&reply, Reply::Error(e) if e == "ERR Please use SETSLOT only with masters." && list[*k] == job.from);
                if !acceptable {
                    return self.abort(ctx, format!("SETSLOT {slot} NODE failed: {reply:?}"));
                }
                let next = k + 1;
                if next < list.len() {
                    self.step = Step::Node(next);
                    self.send(
                        ctx,
                        list[next],
                        Cmd::ClusterSetSlot {
                            slot,
                            action: SetSlot::Node(job.to),
                        },
                    );
                } else {
                    self.slots_moved += 1;
                    self.current = Some((job, i + 1));
                    self.waiting_on = None;
                    self.start_slot(ctx);
                }
            }
            (step, reply) => {
                let why = format!("slot {slot}: {step:?} got {reply:?}");
                self.abort(ctx, why);
            }
        }
    }
}

impl Node for Resharder {
    type Msg = Msg;
    type Admin = ();

    /// Nothing runs until a job is submitted.
    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}
    fn on_message(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, msg: Msg) {
        let Msg::Reply(reply) = msg else { return };
        if self.sessions.owns(conn) {
            self.sessions.on_reply(ctx, conn, reply);
        } else if self.conns.node_of(conn) == self.waiting_on {
            self.reply(ctx, reply);
        }
    }
    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        if self.sessions.owns(conn) {
            self.sessions.on_lost(ctx, conn, true);
        }
    }
    fn on_closed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        if self.sessions.owns(conn) {
            self.sessions.on_lost(ctx, conn, false);
            return;
        }
        let Some(node) = self.conns.node_of(conn) else {
            return;
        };
        self.conns.take(node);
        if self.waiting_on == Some(node) {
            let name = self.dir.names[node as usize].clone();
            self.abort(ctx, format!("lost the connection to {name}"));
        }
    }
}
