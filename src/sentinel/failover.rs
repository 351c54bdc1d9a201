//! Agreement and failover: asking the other Sentinels, voting per epoch,
//! counting votes, and the failover state machine from the election to the
//! switch (sentinel.c: sentinelAskMasterStateToOtherSentinels(),
//! sentinelVoteLeader(), sentinelGetLeader(), sentinelFailoverStateMachine(),
//! sentinelSelectSlave()).

use std::cmp::Ordering;

use compact_str::CompactString;
use indexmap::IndexMap;
use rand::RngExt;

use super::SentinelNode;
use super::instance::{FailoverState, Instance, MasterId, Pending, Reconf, period};
use super::pass::Pass;
use crate::proto::{Cmd, Msg, Reply};
use crate::sim::net::NodeId;
use crate::trace::Level;
use crate::trace::names;

impl SentinelNode {
    /// sentinelAskMasterStateToOtherSentinels(): while the master is SDOWN
    /// here, ask each Sentinel (once a second, or now if `forced`); with a
    /// failover in progress the request carries our id, asking for a vote.
    pub(super) fn ask_master_state(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, forced: bool) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let (myid, current_epoch) = (p.myid.clone(), p.current_epoch);
        let m = p.master_mut(id).expect("monitored");
        let (ip, port) = (m.inst.host.clone(), m.inst.port);
        let runid = (m.failover_state > FailoverState::None).then(|| myid.clone());
        let master_sdown = m.inst.s_down;
        for s in &mut m.sentinels {
            let elapsed = now.saturating_sub(s.last_master_down_reply_time);
            if elapsed > period::ASK * 5 {
                s.master_down = false;
                s.leader = None;
            }
            if !master_sdown || s.link.disconnected {
                continue;
            }
            if !forced && elapsed < period::ASK {
                continue;
            }
            let Some(cc) = s.link.cc else { continue };
            ctx.send(
                cc,
                Msg::Cmd(Cmd::IsMasterDownByAddr {
                    ip: ip.clone(),
                    port,
                    epoch: current_epoch,
                    runid: runid.clone(),
                }),
            );
            s.link.pending.push_back(Pending::IsMasterDown);
        }
    }

    /// sentinelReceiveIsMasterDownReply()
    pub(super) fn is_master_down_reply(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
        node: NodeId,
        reply: Reply,
    ) {
        let Reply::MasterDown {
            down,
            leader,
            leader_epoch,
        } = reply
        else {
            return;
        };
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        let Some(m) = p.master_mut(id) else { return };
        let Some(s) = m.sentinels.iter_mut().find(|s| s.node == node) else {
            return;
        };
        s.last_master_down_reply_time = now;
        s.master_down = down;
        if let Some(l) = leader {
            if s.leader_epoch != leader_epoch {
                ctx.log(
                    Level::Warning,
                    "voted for",
                    format!("{} voted for {} {}", s.name, l, leader_epoch),
                );
            }
            s.leader = Some(l);
            s.leader_epoch = leader_epoch;
        }
    }

    /// The `is-master-down-by-addr` branch of sentinelCommand(): our view of
    /// the master (0 in TILT) and, when asked, our vote.
    pub(super) fn is_master_down_by_addr(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        ip: &str,
        port: u16,
        epoch: u64,
        runid: Option<CompactString>,
    ) -> Reply {
        let p = self.state.as_ref().expect("running");
        // getSentinelRedisInstanceByAddrAndRunID() over every master.
        let known = p
            .masters
            .iter()
            .find(|m| m.inst.host == ip && m.inst.port == port);
        let down = !p.tilt && known.is_some_and(|m| m.inst.s_down);
        let (leader, leader_epoch) = match (runid, known.map(|m| m.id)) {
            (Some(r), Some(id)) => self.vote_leader(ctx, id, epoch, &r),
            _ => (None, 0),
        };
        Reply::MasterDown {
            down,
            leader,
            leader_epoch,
        }
    }

    /// sentinelVoteLeader(): at most one vote per epoch, first come first
    /// served. Voting for another Sentinel blocks our own attempts.
    pub(super) fn vote_leader(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
        req_epoch: u64,
        req_runid: &str,
    ) -> (Option<CompactString>, u64) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        if req_epoch > p.current_epoch {
            p.current_epoch = req_epoch;
            Self::emit(
                ctx,
                Level::Warning,
                names::sentinel::NEW_EPOCH,
                req_epoch.to_string(),
            );
            self.flush_config();
        }
        let p = self.state.as_mut().expect("running");
        let current_epoch = p.current_epoch;
        let myid = p.myid.clone();
        let m = p.master_mut(id).expect("monitored");
        if m.leader_epoch < req_epoch && current_epoch <= req_epoch {
            m.leader = Some(req_runid.into());
            m.leader_epoch = current_epoch;
            let detail = format!("{req_runid} {current_epoch}");
            Self::emit(
                ctx,
                Level::Warning,
                names::sentinel::VOTE_FOR_LEADER,
                detail,
            );
            let name = m.inst.name.clone();
            self.votes.push((current_epoch, req_runid.into(), name));
            if req_runid != myid {
                let desync = ctx.rng().random_range(0..period::MAX_DESYNC);
                self.m(id).failover_start_time = now + desync;
            }
            self.flush_config();
        }
        let m = self.m_ref(id);
        (m.leader.clone(), m.leader_epoch)
    }

    /// sentinelStartFailoverIfNeeded() and sentinelStartFailover()
    pub(super) fn start_failover_if_needed(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
    ) -> bool {
        let now = ctx.mstime();
        let m = self.m(id);
        if !m.o_down || m.in_failover() {
            return false;
        }
        if now.saturating_sub(m.failover_start_time) < m.failover_timeout.saturating_mul(2) {
            if m.failover_delay_logged != m.failover_start_time {
                m.failover_delay_logged = m.failover_start_time;
                let next = m
                    .failover_start_time
                    .saturating_add(m.failover_timeout.saturating_mul(2));
                ctx.log(
                    Level::Warning,
                    "Next failover delay: I will not start a failover before",
                    format!(
                        "Next failover delay: I will not start a failover before {}",
                        crate::time::Secs(
                            next.saturating_mul(1000)
                                .saturating_sub(crate::time::WALL_CLOCK_START)
                        )
                    ),
                );
            }
            return false;
        }
        self.start_failover(ctx, id);
        self.flush_config();
        true
    }

    /// sentinelStartFailover(): WAIT_START in a new epoch, and the start
    /// time pushed by up to a second to desynchronise the Sentinels.
    pub(super) fn start_failover(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let p = self.state.as_mut().expect("running");
        p.current_epoch += 1;
        let epoch = p.current_epoch;
        let m = p.master_mut(id).expect("monitored");
        m.failover_state = FailoverState::WaitStart;
        m.failover_epoch = epoch;
        let at = m.inst.describe();
        Self::emit(
            ctx,
            Level::Warning,
            names::sentinel::NEW_EPOCH,
            epoch.to_string(),
        );
        Self::emit(ctx, Level::Warning, names::sentinel::TRY_FAILOVER, at);
        let desync = ctx.rng().random_range(0..period::MAX_DESYNC);
        let m = self.m(id);
        m.failover_start_time = now + desync;
        m.failover_state_change_time = now;
    }

    /// sentinelGetLeader(): tally the votes of this epoch, vote ourselves
    /// for the front runner (or for us), and require a majority of all known
    /// Sentinels and at least the quorum.
    fn get_leader(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
        epoch: u64,
    ) -> Option<CompactString> {
        let p = self.state.as_ref().expect("running");
        let m = p.master(id).expect("monitored");
        let voters = m.sentinels.len() as u32 + 1;
        let mut counters: IndexMap<CompactString, u32> = IndexMap::new();
        for s in &m.sentinels {
            if let Some(l) = &s.leader
                && s.leader_epoch == p.current_epoch
            {
                *counters.entry(l.clone()).or_default() += 1;
            }
        }
        let mut winner: Option<CompactString> = None;
        let mut max_votes = 0;
        for (l, v) in &counters {
            if *v > max_votes {
                max_votes = *v;
                winner = Some(l.clone());
            }
        }
        let myid = p.myid.clone();
        let candidate = winner.clone().unwrap_or(myid);
        let (myvote, vote_epoch) = self.vote_leader(ctx, id, epoch, &candidate);
        if let Some(v) = myvote
            && vote_epoch == epoch
        {
            let votes = counters.get(&v).copied().unwrap_or(0) + 1;
            if votes > max_votes {
                max_votes = votes;
                winner = Some(v);
            }
        }
        let majority = voters / 2 + 1;
        let quorum = self.m_ref(id).quorum;
        winner.filter(|_| max_votes >= majority && max_votes >= quorum)
    }

    /// sentinelFailoverStateMachine()
    pub(super) fn failover_state_machine(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let state = self.m_ref(id).failover_state;
        match state {
            FailoverState::WaitStart => self.failover_wait_start(ctx, id),
            FailoverState::SelectSlave => self.failover_select_slave(ctx, id),
            FailoverState::SendSlaveofNoone => self.failover_send_slaveof_noone(ctx, id),
            FailoverState::WaitPromotion => self.failover_wait_promotion(ctx, id),
            FailoverState::ReconfSlaves => self.failover_reconf_next_slave(ctx, id),
            FailoverState::None | FailoverState::UpdateConfig => {}
        }
    }

    fn set_state(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId, state: FailoverState) {
        let now = ctx.mstime();
        let m = self.m(id);
        m.failover_state = state;
        m.failover_state_change_time = now;
    }

    fn master_at(&self, id: MasterId) -> String {
        self.m_ref(id).inst.describe()
    }

    fn replica_at(&self, id: MasterId, idx: usize) -> String {
        let m = self.m_ref(id);
        m.at(&m.replicas[idx])
    }

    /// sentinelFailoverWaitStart()
    fn failover_wait_start(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let epoch = self.m_ref(id).failover_epoch;
        let leader = self.get_leader(ctx, id, epoch);
        let p = self.state.as_ref().expect("running");
        let is_leader = leader.as_deref() == Some(p.myid.as_str());
        let m = p.master(id).expect("monitored");
        if !is_leader && !m.force_failover {
            let timeout = period::ELECTION_TIMEOUT.min(m.failover_timeout);
            if now.saturating_sub(m.failover_start_time) > timeout {
                let at = self.master_at(id);
                Self::emit(
                    ctx,
                    Level::Warning,
                    names::sentinel::FAILOVER_ABORT_NOT_ELECTED,
                    at,
                );
                self.abort_failover(ctx, id);
            }
            return;
        }
        let at = self.master_at(id);
        Self::emit(
            ctx,
            Level::Warning,
            names::sentinel::ELECTED_LEADER,
            at.clone(),
        );
        // A forced failover (SENTINEL FAILOVER) goes on without winning.
        if is_leader {
            let name = self.m_ref(id).inst.name.clone();
            self.elections_won.push((epoch, ctx.sim_time(), name));
        }
        self.set_state(ctx, id, FailoverState::SelectSlave);
        Self::emit(
            ctx,
            Level::Warning,
            names::sentinel::FAILOVER_STATE_SELECT_SLAVE,
            at,
        );
    }

    /// sentinelFailoverSelectSlave()
    fn failover_select_slave(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let m = self.m_ref(id);
        let (chosen, candidates) = select_slave(m, now);
        self.selections.push(Selection {
            t: ctx.sim_time(),
            master: m.inst.name.clone(),
            epoch: m.failover_epoch,
            chosen: chosen.map(|i| m.replicas[i].name.clone()),
            candidates,
        });
        let Some(idx) = chosen else {
            let at = self.master_at(id);
            Self::emit(
                ctx,
                Level::Warning,
                names::sentinel::FAILOVER_ABORT_NO_GOOD_SLAVE,
                at,
            );
            self.abort_failover(ctx, id);
            return;
        };
        let at = self.replica_at(id, idx);
        Self::emit(
            ctx,
            Level::Warning,
            names::sentinel::SELECTED_SLAVE,
            at.clone(),
        );
        let m = self.m(id);
        m.replicas[idx].promoted = true;
        m.promoted = Some(idx);
        self.set_state(ctx, id, FailoverState::SendSlaveofNoone);
        Self::emit(
            ctx,
            Level::Notice,
            names::sentinel::FAILOVER_STATE_SEND_SLAVEOF_NOONE,
            at,
        );
    }

    /// sentinelFailoverSendSlaveOfNoOne()
    fn failover_send_slaveof_noone(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let m = self.m_ref(id);
        let idx = m.promoted.expect("selected");
        let r = &m.replicas[idx];
        if r.link.disconnected {
            if now.saturating_sub(m.failover_state_change_time) > m.failover_timeout {
                let at = self.master_at(id);
                Self::emit(
                    ctx,
                    Level::Warning,
                    names::sentinel::FAILOVER_ABORT_SLAVE_TIMEOUT,
                    at,
                );
                self.abort_failover(ctx, id);
            }
            return;
        }
        let node = r.node;
        if !self.send_slaveof(ctx, id, node, None) {
            return;
        }
        let at = self.replica_at(id, idx);
        Self::emit(
            ctx,
            Level::Notice,
            names::sentinel::FAILOVER_STATE_WAIT_PROMOTION,
            at,
        );
        self.set_state(ctx, id, FailoverState::WaitPromotion);
    }

    /// sentinelFailoverWaitPromotion(): the promotion is seen in INFO.
    fn failover_wait_promotion(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let m = self.m_ref(id);
        if now.saturating_sub(m.failover_state_change_time) > m.failover_timeout {
            let at = self.master_at(id);
            Self::emit(
                ctx,
                Level::Warning,
                names::sentinel::FAILOVER_ABORT_SLAVE_TIMEOUT,
                at,
            );
            self.abort_failover(ctx, id);
        }
    }

    /// sentinelFailoverReconfNextSlave(): point replicas at the promoted one,
    /// `parallel-syncs` at a time.
    fn failover_reconf_next_slave(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let m = self.m_ref(id);
        let promoted = m.promoted.expect("promoted");
        let target = (m.replicas[promoted].host.clone(), m.replicas[promoted].port);
        let mut in_progress = m
            .replicas
            .iter()
            .filter(|r| matches!(r.reconf, Reconf::Sent | Reconf::InProgress))
            .count() as u32;
        let parallel = m.parallel_syncs;
        for idx in 0..m.replicas.len() {
            if in_progress >= parallel {
                break;
            }
            let r = &self.m_ref(id).replicas[idx];
            if r.promoted || r.reconf == Reconf::Done {
                continue;
            }
            if r.reconf == Reconf::Sent
                && now.saturating_sub(r.slave_reconf_sent_time) > period::SLAVE_RECONF_TIMEOUT
            {
                let at = self.replica_at(id, idx);
                Self::emit(
                    ctx,
                    Level::Notice,
                    names::sentinel::SLAVE_RECONF_SENT_TIMEOUT,
                    at,
                );
                self.m(id).replicas[idx].reconf = Reconf::Done;
                continue;
            }
            if matches!(r.reconf, Reconf::Sent | Reconf::InProgress) || r.link.disconnected {
                continue;
            }
            let node = r.node;
            if self.send_slaveof(ctx, id, node, Some(target.clone())) {
                let r = &mut self.m(id).replicas[idx];
                r.reconf = Reconf::Sent;
                r.slave_reconf_sent_time = now;
                let at = self.replica_at(id, idx);
                Self::emit(ctx, Level::Notice, names::sentinel::SLAVE_RECONF_SENT, at);
                in_progress += 1;
            }
        }
        self.failover_detect_end(ctx, id);
    }

    /// sentinelFailoverDetectEnd()
    fn failover_detect_end(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let now = ctx.mstime();
        let m = self.m_ref(id);
        let Some(promoted) = m.promoted else { return };
        if m.replicas[promoted].s_down {
            return;
        }
        let mut not_reconfigured = m
            .replicas
            .iter()
            .filter(|r| !r.promoted && r.reconf != Reconf::Done && !r.s_down)
            .count();
        let mut timeout = false;
        if now.saturating_sub(m.failover_state_change_time) > m.failover_timeout {
            not_reconfigured = 0;
            timeout = true;
            let at = self.master_at(id);
            Self::emit(
                ctx,
                Level::Warning,
                names::sentinel::FAILOVER_END_FOR_TIMEOUT,
                at,
            );
        }
        if not_reconfigured == 0 {
            let at = self.master_at(id);
            Self::emit(ctx, Level::Warning, names::sentinel::FAILOVER_END, at);
            self.set_state(ctx, id, FailoverState::UpdateConfig);
        }
        if timeout {
            let m = self.m_ref(id);
            let target = (m.replicas[promoted].host.clone(), m.replicas[promoted].port);
            for idx in 0..m.replicas.len() {
                let r = &self.m_ref(id).replicas[idx];
                if r.promoted || r.reconf != Reconf::None || r.link.disconnected {
                    continue;
                }
                let node = r.node;
                if self.send_slaveof(ctx, id, node, Some(target.clone())) {
                    let at = self.replica_at(id, idx);
                    Self::emit(
                        ctx,
                        Level::Notice,
                        names::sentinel::SLAVE_RECONF_SENT_BE,
                        at,
                    );
                    self.m(id).replicas[idx].reconf = Reconf::Sent;
                }
            }
        }
    }

    /// sentinelAbortFailover(): `failover_start_time` stays, so this
    /// Sentinel waits 2 x failover-timeout before trying again; a forced
    /// failover is forced no more.
    fn abort_failover(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        self.set_state(ctx, id, FailoverState::None);
        let m = self.m(id);
        m.force_failover = false;
        if let Some(i) = m.promoted.take() {
            m.replicas[i].promoted = false;
        }
        for r in &mut m.replicas {
            r.reconf = Reconf::None;
        }
    }

    /// sentinelFailoverSwitchToPromotedSlave()
    pub(super) fn switch_to_promoted(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let m = self.m_ref(id);
        // The promoted replica's address as the Sentinel knows it (from
        // its master's INFO: its announced address).
        let to = m.promoted.map_or(&m.inst, |i| &m.replicas[i]);
        let (new, host, port) = (to.node, to.host.clone(), to.port);
        let detail = format!(
            "{} {} {} {host} {port}",
            m.inst.name, m.inst.host, m.inst.port,
        );
        Self::emit(ctx, Level::Warning, names::sentinel::SWITCH_MASTER, detail);
        self.reset_master_and_change_address(ctx, id, new);
    }
}

/// One replica as sentinelSelectSlave() saw it, for the run's report.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub name: CompactString,
    pub priority: u32,
    pub offset: u64,
    pub runid: Option<CompactString>,
    /// Why it was excluded, if it was.
    pub excluded: Option<&'static str>,
}

/// A replica selection: when, in which epoch, the table and the choice.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    pub t: u64,
    /// The master whose failover it was.
    pub master: CompactString,
    pub epoch: u64,
    pub candidates: Vec<Candidate>,
    pub chosen: Option<CompactString>,
}

/// sentinelSelectSlave(): exclude replicas that are down, disconnected,
/// silent, priority 0, stale, or too long cut off from the master; then
/// the best by priority, offset and run id. Returns the chosen index and
/// the table of every replica with its exclusion reason.
pub(super) fn select_slave(
    m: &super::instance::Master,
    now: u64,
) -> (Option<usize>, Vec<Candidate>) {
    // Saturating: `SENTINEL SET` takes any positive down-after.
    let mut max_master_down = m.down_after.saturating_mul(10);
    if m.inst.s_down {
        max_master_down = max_master_down.saturating_add(now.saturating_sub(m.inst.s_down_since));
    }
    let info_validity = if m.inst.s_down {
        period::PING * 5
    } else {
        period::INFO * 3
    };
    let exclusion = |r: &Instance| -> Option<&'static str> {
        if r.s_down {
            Some("SDOWN")
        } else if r.link.disconnected {
            Some("disconnected")
        } else if now.saturating_sub(r.link.last_avail_time) > period::PING * 5 {
            Some("no valid PING reply for 5 s")
        } else if r.slave_priority == 0 {
            Some("priority 0")
        } else if now.saturating_sub(r.info_refresh) > info_validity {
            Some("INFO too old")
        } else if r.master_link_down_time > i64::try_from(max_master_down).unwrap_or(i64::MAX) {
            Some("link to master down too long")
        } else {
            None
        }
    };
    let table: Vec<Candidate> = m
        .replicas
        .iter()
        .map(|r| Candidate {
            name: r.name.clone(),
            priority: r.slave_priority,
            offset: r.slave_repl_offset,
            runid: r.runid.clone(),
            excluded: exclusion(r),
        })
        .collect();
    let mut candidates: Vec<usize> = (0..m.replicas.len())
        .filter(|&i| table[i].excluded.is_none())
        .collect();
    candidates.sort_by(|&a, &b| compare_for_promotion(&m.replicas[a], &m.replicas[b]));
    (candidates.first().copied(), table)
}

/// compareSlavesForPromotion(): lower priority, then larger offset, then
/// the smaller run id (case-insensitive), a missing run id last.
fn compare_for_promotion(a: &Instance, b: &Instance) -> Ordering {
    a.slave_priority
        .cmp(&b.slave_priority)
        .then(b.slave_repl_offset.cmp(&a.slave_repl_offset))
        .then_with(|| match (&a.runid, &b.runid) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
        })
}

#[cfg(test)]
mod tests {
    use super::super::SentinelTimer;
    use super::super::testing::{MASTER, Peer, host, sentinel, state};
    use super::*;
    use crate::sim::testkit::Harness;
    use crate::time::ms;

    const CLIENT: NodeId = 2;

    /// A master that answers, and a client (node 2) that speaks for another
    /// Sentinel.
    fn voter() -> Harness<SentinelNode> {
        let mut h = sentinel(2, vec![Peer::Master(vec![]), Peer::Client]);
        h.run_until(ms(1000));
        h
    }

    /// `SENTINEL is-master-down-by-addr <master> <epoch> <runid|*>` from the
    /// client; the reply.
    fn ask(h: &mut Harness<SentinelNode>, epoch: u64, runid: Option<&str>) -> Reply {
        let conn = match h.probe(CLIENT).conn_with(0) {
            Some(c) => c,
            None => h.connect(CLIENT, 0),
        };
        let cmd = Cmd::IsMasterDownByAddr {
            ip: host(MASTER).into(),
            port: 6379,
            epoch,
            runid: runid.map(Into::into),
        };
        h.send(CLIENT, conn, Msg::Cmd(cmd));
        match h.probe(CLIENT).received().last() {
            Some(Msg::Reply(r)) => r.clone(),
            other => panic!("no reply: {other:?}"),
        }
    }

    fn vote(leader: &str, epoch: u64) -> Reply {
        Reply::MasterDown {
            down: false,
            leader: Some(leader.into()),
            leader_epoch: epoch,
        }
    }

    /// sentinelVoteLeader(): one vote per epoch, first come first served.
    /// The first request for epoch 5 gets the vote; a second candidate in
    /// the same epoch is told the vote already cast.
    #[test]
    fn one_vote_per_epoch_first_come_first_served() {
        let mut h = voter();
        assert_eq!(ask(&mut h, 5, Some("aaa")), vote("aaa", 5));
        assert_eq!(ask(&mut h, 5, Some("bbb")), vote("aaa", 5));
        let votes: Vec<String> = h
            .events(0, "+vote-for-leader")
            .into_iter()
            .map(|e| e.1)
            .collect();
        assert_eq!(votes, ["aaa 5"]);
        assert_eq!(h.node(0).votes, vec![(5, "aaa".into(), "mymaster".into())]);
    }

    /// sentinelVoteLeader(): a request in a higher epoch first raises
    /// current_epoch (+new-epoch), then replaces the vote.
    #[test]
    fn a_higher_epoch_replaces_the_vote() {
        let mut h = voter();
        assert_eq!(ask(&mut h, 5, Some("aaa")), vote("aaa", 5));
        assert_eq!(ask(&mut h, 6, Some("bbb")), vote("bbb", 6));
        let epochs: Vec<String> = h.events(0, "+new-epoch").into_iter().map(|e| e.1).collect();
        assert_eq!(epochs, ["5", "6"]);
        assert_eq!(state(&mut h).current_epoch, 6);
    }

    /// sentinelVoteLeader(): a request from an older epoch changes nothing
    /// and is answered with the vote of the current one.
    #[test]
    fn an_older_epoch_gets_the_current_vote() {
        let mut h = voter();
        ask(&mut h, 6, Some("bbb"));
        assert_eq!(ask(&mut h, 4, Some("aaa")), vote("bbb", 6));
        assert_eq!(h.events(0, "+vote-for-leader").len(), 1);
    }

    /// sentinelVoteLeader(): voting for another Sentinel sets
    /// failover_start_time = now + rand() % 1000, which keeps this Sentinel
    /// from starting its own failover for 2 x failover-timeout. The draw is
    /// the next one of the Sentinel's stream.
    #[test]
    fn voting_for_another_sentinel_restarts_the_failover_clock() {
        let mut h = voter();
        let desync = h.rng(0).random_range(0..period::MAX_DESYNC);
        let now = h.mstime(0);
        ask(&mut h, 1, Some("aaa"));
        assert_eq!(state(&mut h).masters[0].failover_start_time, now + desync);
    }

    /// sentinelVoteLeader() keeps one vote per epoch *per master*
    /// (`master->leader_epoch`), while the epoch it raises is the
    /// Sentinel's own. A second master is monitored at node 3's address:
    /// a vote for `aaa` in epoch 5 on it leaves the first master free to
    /// vote for `bbb` in the same epoch 5; current_epoch is 5 once, and a
    /// request naming an address no master has gets no vote.
    #[test]
    fn votes_are_per_master_and_the_epoch_is_shared() {
        let mut h = sentinel(2, vec![Peer::Master(vec![]), Peer::Client, Peer::Client]);
        h.run_until(ms(1000));
        let now = h.mstime(0);
        let conf = crate::sentinel::MasterConf {
            master_name: "other".into(),
            ..crate::sentinel::MasterConf::new(3)
        };
        let inst = Instance::new(
            super::super::instance::Kind::Master,
            "other".into(),
            &host(3),
            6379,
            3,
            now,
        );
        let other = super::super::instance::Master::new(7, inst, &conf);
        state(&mut h).masters.push(other);
        let conn = h.connect(CLIENT, 0);
        let ask_at = |h: &mut Harness<SentinelNode>, node: NodeId, runid: &str| {
            let cmd = Cmd::IsMasterDownByAddr {
                ip: host(node).into(),
                port: 6379,
                epoch: 5,
                runid: Some(runid.into()),
            };
            h.send(CLIENT, conn, Msg::Cmd(cmd));
            match h.probe(CLIENT).received().last() {
                Some(Msg::Reply(r)) => r.clone(),
                other => panic!("no reply: {other:?}"),
            }
        };
        assert_eq!(ask_at(&mut h, 3, "aaa"), vote("aaa", 5));
        assert_eq!(ask_at(&mut h, MASTER, "bbb"), vote("bbb", 5));
        assert_eq!(ask_at(&mut h, 3, "ccc"), vote("aaa", 5));
        let none = Reply::MasterDown {
            down: false,
            leader: None,
            leader_epoch: 0,
        };
        assert_eq!(ask_at(&mut h, 2, "ddd"), none);
        let p = state(&mut h);
        assert_eq!(p.current_epoch, 5);
        assert_eq!(p.masters[0].leader.as_deref(), Some("bbb"));
        assert_eq!(p.masters[1].leader.as_deref(), Some("aaa"));
        assert_eq!(h.events(0, "+new-epoch").len(), 1);
    }

    /// The is-master-down-by-addr branch of sentinelCommand(): in TILT the
    /// answer is "not down" even when this Sentinel sees the master SDOWN.
    #[test]
    fn in_tilt_the_master_is_reported_up() {
        let mut h = sentinel(2, vec![Peer::SilentMaster, Peer::Client]);
        h.run_until(ms(6000));
        assert!(state(&mut h).masters[0].inst.s_down);
        let down = |down| Reply::MasterDown {
            down,
            leader: None,
            leader_epoch: 0,
        };
        assert_eq!(ask(&mut h, 0, None), down(true));
        state(&mut h).tilt = true;
        assert_eq!(ask(&mut h, 0, None), down(false));
    }

    /// sentinelStartFailoverIfNeeded(): with the master ODOWN, a new attempt
    /// waits until 2 x failover-timeout (2 x 180 000 ms) after the previous
    /// failover_start_time; at exactly that much it starts (+try-failover).
    #[test]
    fn a_new_failover_waits_twice_the_failover_timeout() {
        let peers = vec![
            Peer::SilentMaster,
            Peer::Sentinel {
                runid: "s2",
                down: true,
            },
        ];
        let mut h = sentinel(2, peers);
        h.run_until(ms(6000));
        assert_eq!(h.events(0, "+odown").len(), 1);
        let tries = h.events(0, "+try-failover").len();
        let now = h.mstime(0);
        let m = &mut state(&mut h).masters[0];
        m.failover_state = FailoverState::None;
        m.failover_start_time = now - 2 * 180_000 + 1;
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(h.events(0, "+try-failover").len(), tries);
        state(&mut h).masters[0].failover_start_time = now - 2 * 180_000;
        h.fire(0, SentinelTimer::Tick);
        assert_eq!(h.events(0, "+try-failover").len(), tries + 1);
    }

    /// A master (node 1) with replicas at nodes 2, 3, ...: `(priority,
    /// offset, run id)` each; run until the Sentinel has INFO from all of
    /// them.
    fn with_replicas(replicas: &[(u32, u64, &'static str)]) -> Harness<SentinelNode> {
        let nodes = (2..2 + replicas.len() as NodeId).collect();
        let peers = std::iter::once(Peer::Master(nodes))
            .chain(
                replicas
                    .iter()
                    .map(|&(priority, offset, runid)| Peer::Replica {
                        priority,
                        offset,
                        runid,
                    }),
            )
            .collect();
        let mut h = sentinel(2, peers);
        h.run_until(ms(3000));
        assert!(
            state(&mut h).masters[0]
                .replicas
                .iter()
                .all(|r| r.info_refresh != 0)
        );
        h
    }

    /// The failover reaches SELECT_SLAVE: the next tick picks a replica.
    fn select(h: &mut Harness<SentinelNode>) -> Selection {
        let m = &mut state(h).masters[0];
        m.failover_state = FailoverState::SelectSlave;
        m.failover_epoch = 1;
        h.fire(0, SentinelTimer::Tick);
        h.node(0).selections.last().expect("selected").clone()
    }

    fn excluded(s: &Selection) -> Vec<Option<&'static str>> {
        s.candidates.iter().map(|c| c.excluded).collect()
    }

    /// compareSlavesForPromotion(): the lower slave_priority wins, whatever
    /// the offsets.
    #[test]
    fn select_slave_prefers_the_lower_priority() {
        let mut h = with_replicas(&[(20, 999, "r1"), (10, 100, "r2")]);
        assert_eq!(select(&mut h).chosen.as_deref(), Some("10.0.0.4:6379"));
        let at = "slave 10.0.0.4:6379 10.0.0.4 6379 @ mymaster 10.0.0.2 6379";
        assert_eq!(h.events(0, "+selected-slave"), vec![(ms(3000), at.into())]);
    }

    /// compareSlavesForPromotion(): at equal priority, the larger
    /// slave_repl_offset wins.
    #[test]
    fn select_slave_prefers_the_larger_offset_at_equal_priority() {
        let mut h = with_replicas(&[(100, 100, "r1"), (100, 200, "r2")]);
        assert_eq!(select(&mut h).chosen.as_deref(), Some("10.0.0.4:6379"));
    }

    /// compareSlavesForPromotion(): at equal priority and offset, the
    /// smaller run id, compared case-insensitively ("a..." before "B...").
    #[test]
    fn select_slave_breaks_ties_by_run_id_ignoring_case() {
        let mut h = with_replicas(&[(100, 100, "Bbbb"), (100, 100, "aaaa")]);
        assert_eq!(select(&mut h).chosen.as_deref(), Some("10.0.0.4:6379"));
    }

    /// sentinelSelectSlave(): a replica with priority 0 is never promoted,
    /// even with the best offset.
    #[test]
    fn select_slave_excludes_priority_zero() {
        let mut h = with_replicas(&[(0, 999, "r1"), (100, 100, "r2")]);
        let s = select(&mut h);
        assert_eq!(s.chosen.as_deref(), Some("10.0.0.4:6379"));
        assert_eq!(excluded(&s), [Some("priority 0"), None]);
    }

    /// sentinelSelectSlave(): a replica whose link is disconnected is
    /// excluded.
    #[test]
    fn select_slave_excludes_a_disconnected_replica() {
        let mut h = with_replicas(&[(100, 999, "r1"), (100, 100, "r2")]);
        h.kill(2, false);
        h.settle();
        let s = select(&mut h);
        assert_eq!(s.chosen.as_deref(), Some("10.0.0.4:6379"));
        assert_eq!(excluded(&s), [Some("disconnected"), None]);
    }

    /// sentinelSelectSlave(): with the master not SDOWN, INFO is valid for
    /// 3 x the 10 s INFO period: a replica last refreshed 30 000 ms ago is a
    /// candidate, one refreshed 30 001 ms ago is not. With none left the
    /// failover aborts.
    #[test]
    fn select_slave_excludes_info_older_than_30_s() {
        let mut h = with_replicas(&[(100, 100, "r1")]);
        let now = h.mstime(0);
        state(&mut h).masters[0].replicas[0].info_refresh = now - 30_000;
        assert_eq!(excluded(&select(&mut h)), [None]);

        let mut h = with_replicas(&[(100, 100, "r1")]);
        state(&mut h).masters[0].replicas[0].info_refresh = now - 30_001;
        let s = select(&mut h);
        assert_eq!(excluded(&s), [Some("INFO too old")]);
        assert_eq!(s.chosen, None);
        assert_eq!(h.events(0, "-failover-abort-no-good-slave").len(), 1);
    }
}
