//! Hello messages on `__sentinel__:hello`, and the configuration they
//! spread (sentinel.c sentinelSendHello(), sentinelProcessHelloMessage(),
//! sentinelResetMasterAndChangeAddress()). Each hello is about one master:
//! it carries that master's name, current address and config epoch, and
//! reaches only the master of that name here.

use super::instance::{FailoverState, Instance, Kind, MasterId, Pending, period};
use super::pass::Pass;
use super::{HELLO_CHANNEL, SentinelNode};
use crate::proto::{Cmd, Msg};
use crate::sim::net::{ConnId, NodeId};
use crate::trace::Level;
use crate::trace::names;

impl SentinelNode {
    /// sentinelSendHello(): our address, id and epoch, and the master's
    /// current address and config epoch, published on the hello channel.
    pub(super) fn send_hello(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, node: NodeId) {
        let now = ctx.mstime();
        let me = ctx.id();
        // announceSentinelAddr(): the announced address, else the link's.
        let my_host = match &self.globals.announce_ip {
            Some(ip) => ip.to_string(),
            None => self.dir.hosts[me as usize].clone(),
        };
        let my_port = match self.globals.announce_port {
            0 => self.conf.port,
            announced => announced,
        };
        let p = self.state.as_mut().expect("running");
        let (myid, epoch) = (p.myid.clone(), p.current_epoch);
        let m = p.master_mut(id).expect("monitored");
        let (mhost, mport, _) = m.current_address();
        let payload = format!(
            "{my_host},{my_port},{myid},{epoch},{},{mhost},{mport},{}",
            m.inst.name, m.config_epoch
        );
        let Some(inst) = m.instance_mut(node) else {
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
    pub(super) fn force_hello_update(&mut self, id: MasterId) {
        let m = self.m(id);
        let back = period::PUBLISH + 1;
        m.inst.last_pub_time = m.inst.last_pub_time.saturating_sub(back);
        for i in m.replicas.iter_mut().chain(m.sentinels.iter_mut()) {
            i.last_pub_time = i.last_pub_time.saturating_sub(back);
        }
    }

    /// sentinelProcessHelloMessage()
    pub(super) fn process_hello(&mut self, ctx: &mut Pass<'_, '_>, payload: &str) {
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
        if runid == p.myid {
            return;
        }
        // The hello names its master: one we do not monitor is skipped.
        let Some(id) = p.master_named(name).map(|m| m.id) else {
            return;
        };
        let Some(node) = dir.lookup(ip, port) else {
            return;
        };
        let p = self.state.as_mut().expect("running");
        let m = p.masters.iter_mut().find(|m| m.id == id).expect("named");
        let known = m
            .sentinels
            .iter()
            .position(|s| s.node == node && s.runid.as_deref() == Some(runid));
        if known.is_none() {
            // A Sentinel with this run id at another address moved; another
            // run id at this address is stale.
            let before = m.sentinels.len();
            m.sentinels.retain(|s| s.runid.as_deref() != Some(runid));
            let switched = m.sentinels.len() != before;
            if switched {
                let detail = format!("{} {} {}", m.inst.describe(), ip, port);
                Self::emit(
                    ctx,
                    Level::Notice,
                    names::sentinel::SENTINEL_ADDRESS_SWITCH,
                    detail,
                );
            } else if let Some(i) = m.sentinels.iter().position(|s| s.node == node) {
                let at = m.at(&m.sentinels[i]);
                Self::emit(
                    ctx,
                    Level::Notice,
                    names::sentinel::SENTINEL_INVALID_ADDR,
                    at,
                );
                let old = m.sentinels.remove(i);
                for c in [old.link.cc, old.link.pc].into_iter().flatten() {
                    ctx.close(c);
                    p.conns.swap_remove(&c);
                }
            }
            let m = p.masters.iter_mut().find(|m| m.id == id).expect("named");
            let mut s = Instance::new(Kind::Sentinel, runid.into(), ip, port, node, now);
            s.runid = Some(runid.into());
            m.sentinels.push(s);
            if !switched {
                let at = m.at(m.sentinels.last().expect("pushed"));
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
        let m = self.m(id);
        if m.config_epoch < mepoch {
            m.config_epoch = mepoch;
            let (oh, op) = (m.inst.host.clone(), m.inst.port);
            if oh != t[5] || op != mport {
                let si = m.sentinels.iter().find(|s| s.node == node).expect("added");
                let at = m.at(si);
                Self::emit(ctx, Level::Warning, names::sentinel::CONFIG_UPDATE_FROM, at);
                let detail = format!("{} {oh} {op} {} {mport}", m.inst.name, t[5]);
                Self::emit(ctx, Level::Warning, names::sentinel::SWITCH_MASTER, detail);
                if let Some(n) = dir.lookup(t[5], mport) {
                    self.reset_master_and_change_address(ctx, id, n);
                }
            }
            self.flush_config();
        }
        if let Some(s) = self.m(id).sentinels.iter_mut().find(|s| s.node == node) {
            s.last_hello_time = now;
        }
    }

    /// sentinelResetMasterAndChangeAddress(): the master is now `new`; the
    /// other replicas and the old master become its replicas.
    pub(super) fn reset_master_and_change_address(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
        new: NodeId,
    ) {
        let now = ctx.mstime();
        let (host, port) = self.dir.known_as(new);
        let host = host.to_string();
        let p = self.state.as_mut().expect("running");
        let m = p
            .masters
            .iter_mut()
            .find(|m| m.id == id)
            .expect("monitored");
        let old_master = m.inst.node;
        let mut replicas: Vec<NodeId> = m
            .replicas
            .iter()
            .map(|r| r.node)
            .filter(|&n| n != new)
            .collect();
        if old_master != new {
            replicas.push(old_master);
        }
        // Drop every link of the master and its replicas.
        let dropped: Vec<ConnId> = std::iter::once(&m.inst)
            .chain(m.replicas.iter())
            .flat_map(|i| [i.link.cc, i.link.pc])
            .flatten()
            .collect();
        let name = m.inst.name.clone();
        m.inst = Instance::new(Kind::Master, name.clone(), &host, port, new, now);
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
        for c in dropped {
            ctx.close(c);
            p.conns.swap_remove(&c);
        }
        for n in replicas {
            let r = self.instance(Kind::Replica, n, &name, now);
            let m = self.m(id);
            m.replicas.push(r);
            let at = m.at(m.replicas.last().expect("pushed"));
            Self::emit(ctx, Level::Notice, names::sentinel::SLAVE, at);
        }
        self.flush_config();
    }
}
