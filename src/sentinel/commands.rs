//! The operator's SENTINEL subcommands that act on a master by name
//! (sentinel.c sentinelCommand()): CKQUORUM, FAILOVER and RESET, and
//! IS-MASTER-DOWN-BY-ADDR typed by an operator. Each answers with Redis
//! 7.0.15's reply texts.

use crate::proto::Reply;
use crate::proto::resp::Frame;
use crate::proto::util::{string2ll, stringmatch};
use crate::trace::Level;
use crate::trace::names;

use super::SentinelNode;
use super::instance::{FailoverState, Kind, Master, MasterId};
use super::pass::Pass;

/// sentinelGetMasterByNameOrReplyError()'s reply for an unknown name.
pub(super) fn no_such_master() -> Frame {
    Frame::Error("ERR No such master with that name".into())
}

/// What sentinelIsQuorumReachable() finds: the usable Sentinels (this one
/// included) and which of the two thresholds they miss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuorumCheck {
    pub usable: u32,
    pub no_quorum: bool,
    pub no_auth: bool,
}

/// sentinelIsQuorumReachable(): every known Sentinel not SDOWN counts, plus
/// this one; the quorum and a majority of all known Sentinels (plus this
/// one) must both be reachable. A disconnected link does not matter until
/// the peer is SDOWN.
pub fn quorum_reachable(m: &Master) -> QuorumCheck {
    let usable = 1 + m.sentinels.iter().filter(|s| !s.s_down).count() as u32;
    let voters = m.sentinels.len() as u32 + 1;
    QuorumCheck {
        usable,
        no_quorum: usable < m.quorum,
        no_auth: usable < voters / 2 + 1,
    }
}

impl QuorumCheck {
    /// The reply of `SENTINEL CKQUORUM` (sentinelCommand()'s `ckquorum`
    /// branch): `+OK …` or `-NOQUORUM …` naming what is missing.
    pub fn frame(self) -> Frame {
        let usable = self.usable;
        if !self.no_quorum && !self.no_auth {
            return Frame::Simple(format!(
                "OK {usable} usable Sentinels. Quorum and failover authorization can be reached"
            ));
        }
        let mut e = format!("NOQUORUM {usable} usable Sentinels. ");
        if self.no_quorum {
            e.push_str(
                "Not enough available Sentinels to reach the specified quorum for this master",
            );
        }
        if self.no_auth {
            if self.no_quorum {
                e.push_str(". ");
            }
            e.push_str(
                "Not enough available Sentinels to reach the majority and authorize a failover",
            );
        }
        Frame::Error(e)
    }
}

impl SentinelNode {
    /// The monitored master called `name` (sentinelGetMasterByName():
    /// dict lookups are case-sensitive).
    pub(super) fn master_named(&self, name: &str) -> Option<&Master> {
        self.state.as_ref()?.master_named(name)
    }

    /// `SENTINEL CKQUORUM <name>`
    pub(super) fn ckquorum(&self, name: &str) -> Frame {
        match self.master_named(name) {
            Some(m) => quorum_reachable(m).frame(),
            None => no_such_master(),
        }
    }

    /// `SENTINEL FAILOVER <name>`: refused while a failover runs or when no
    /// replica could be promoted now (sentinelSelectSlave() with the master
    /// usually not SDOWN: INFO valid for 30 s, master link down for at most
    /// 10 x down-after); otherwise sentinelStartFailover() with
    /// SRI_FORCE_FAILOVER, which skips ODOWN, the retry delay and the need
    /// to win the election.
    pub(super) fn force_failover(&mut self, ctx: &mut Pass<'_, '_>, name: &str) -> Frame {
        let now = ctx.mstime();
        let Some(m) = self.master_named(name) else {
            return no_such_master();
        };
        let id = m.id;
        if m.in_failover() {
            return Frame::Error("INPROG Failover already in progress".into());
        }
        if super::failover::select_slave(m, now).0.is_none() {
            return Frame::Error("NOGOODSLAVE No suitable replica to promote".into());
        }
        let text = format!("Executing user requested FAILOVER of '{name}'");
        ctx.log(
            Level::Warning,
            names::sentinel_log::USER_REQUESTED_FAILOVER,
            text,
        );
        self.start_failover(ctx, id);
        self.m(id).force_failover = true;
        Frame::ok()
    }

    /// `SENTINEL RESET <pattern>` (sentinelResetMastersByPattern()): the
    /// number of masters whose name matches the glob (case-sensitive),
    /// each reset, in the table's order. sentinel.conf is not rewritten.
    pub(super) fn reset_by_pattern(&mut self, ctx: &mut Pass<'_, '_>, pattern: &str) -> Frame {
        let p = self.state.as_ref().expect("running");
        let matching: Vec<MasterId> = p
            .masters
            .iter()
            .filter(|m| stringmatch(pattern, &m.inst.name, false))
            .map(|m| m.id)
            .collect();
        for &id in &matching {
            self.reset_master(ctx, id);
        }
        Frame::Int(matching.len() as i64)
    }

    /// sentinelResetMaster() with SENTINEL_GENERATE_EVENT: every replica and
    /// Sentinel forgotten (their links closed), the master's links closed
    /// (they reconnect), its runtime flags, vote and failover state
    /// cleared, `failover_start_time` 0 so a failover may start at once,
    /// its run id forgotten and its ping times restarted. Kept: the name,
    /// address, settings, config epoch and `leader_epoch`.
    fn reset_master(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let m = p
            .masters
            .iter_mut()
            .find(|m| m.id == id)
            .expect("monitored");
        let links: Vec<_> = std::iter::once(&m.inst)
            .chain(m.replicas.iter())
            .chain(m.sentinels.iter())
            .flat_map(|i| [i.link.cc, i.link.pc])
            .flatten()
            .collect();
        for c in links {
            ctx.close(c);
            p.conns.swap_remove(&c);
        }
        m.replicas.clear();
        m.sentinels.clear();
        let link = &mut m.inst.link;
        link.cc = None;
        link.pc = None;
        link.pending.clear();
        link.disconnected = true;
        link.act_ping_time = now;
        link.last_ping_time = 0;
        link.last_avail_time = now;
        link.last_pong_time = now;
        m.inst.s_down = false;
        m.o_down = false;
        m.force_failover = false;
        m.leader = None;
        m.failover_state = FailoverState::None;
        m.failover_state_change_time = 0;
        m.failover_start_time = 0;
        m.promoted = None;
        m.inst.runid = None;
        m.inst.slave_master_host = None;
        m.inst.role_reported_time = now;
        m.inst.role_reported = Some(Kind::Master);
        let at = m.inst.describe();
        Self::emit(ctx, Level::Warning, names::sentinel::RESET_MASTER, at);
    }

    /// `SENTINEL IS-MASTER-DOWN-BY-ADDR <ip> <port> <epoch> <runid|*>` as a
    /// command line: the port and the epoch must be integers; then the same
    /// answer (and, with a run id, the same vote) another Sentinel gets:
    /// down (0 in TILT), the vote or `*`, and the vote's epoch.
    pub(super) fn is_master_down_line(&mut self, ctx: &mut Pass<'_, '_>, argv: &[String]) -> Frame {
        let (Some(port), Some(epoch)) = (string2ll(&argv[3]), string2ll(&argv[4])) else {
            return Frame::Error("ERR value is not an integer or out of range".into());
        };
        let runid = (!argv[5].eq_ignore_ascii_case("*")).then(|| argv[5].as_str().into());
        let (down, leader, leader_epoch) = match u16::try_from(port) {
            Ok(port) => match self.is_master_down_by_addr(ctx, &argv[2], port, epoch as u64, runid)
            {
                Reply::MasterDown {
                    down,
                    leader,
                    leader_epoch,
                } => (down, leader, leader_epoch),
                _ => (false, None, 0),
            },
            Err(_) => (false, None, 0),
        };
        Frame::Array(Some(vec![
            Frame::Int(i64::from(down)),
            Frame::bulk(leader.as_deref().unwrap_or("*")),
            Frame::Int(leader_epoch as i64),
        ]))
    }
}
