//! What a Sentinel shows of its master and links: the status word, and when
//! each of its timers will next act. Each rule is written once here and
//! used both by the cron that acts on it and by whoever reads it (the
//! dashboard), so the two cannot drift apart. Times are the Sentinel's wall
//! clock in milliseconds, as `mstime()`.

use super::instance::{FailoverState, Link, Master, period};

impl Link {
    /// Since when the instance counts as unreachable for
    /// sentinelCheckSubjectivelyDown(): its oldest unanswered PING, or, with
    /// none pending, the last time a disconnected link was available.
    pub fn unreachable_since(&self) -> Option<u64> {
        if self.act_ping_time != 0 {
            Some(self.act_ping_time)
        } else if self.disconnected {
            Some(self.last_avail_time)
        } else {
            None
        }
    }

    /// sentinelSendPeriodicCommands(): a PING is due once the last PONG is
    /// older than the ping period and the last PING older than half of it.
    pub fn ping_due(&self, now: u64, ping_period: u64) -> bool {
        now.saturating_sub(self.last_pong_time) > ping_period
            && now.saturating_sub(self.last_ping_time) > ping_period / 2
    }

    /// The first instant at which [`Self::ping_due`] holds.
    pub fn next_ping_at(&self, ping_period: u64) -> u64 {
        (self.last_pong_time + ping_period).max(self.last_ping_time + ping_period / 2) + 1
    }
}

impl Master {
    /// How often instances are PINGed: down-after-milliseconds, at most once
    /// a second (sentinelSendPeriodicCommands()).
    pub fn ping_period(&self) -> u64 {
        self.down_after.min(period::PING)
    }

    /// The master's status as `INFO sentinel` words it
    /// (genSentinelInfoString()).
    pub fn status(&self) -> &'static str {
        if self.o_down {
            "odown"
        } else if self.inst.s_down {
            "sdown"
        } else {
            "ok"
        }
    }

    /// The Sentinel's timers about its master, each with the instant it
    /// next acts: the next PING, SDOWN if nothing answers, and the
    /// failover's deadlines.
    pub fn deadlines(&self) -> Vec<(&'static str, u64)> {
        let mut out = Vec::new();
        let link = &self.inst.link;
        if link.cc.is_some() && !link.disconnected {
            out.push(("next-ping", link.next_ping_at(self.ping_period())));
        }
        if let Some(since) = link.unreachable_since().filter(|_| !self.inst.s_down) {
            out.push((
                "down-after",
                since.saturating_add(self.down_after).saturating_add(1),
            ));
        }
        if self.failover_state == FailoverState::WaitStart {
            let timeout = period::ELECTION_TIMEOUT.min(self.failover_timeout);
            out.push(("election-timeout", self.failover_start_time + timeout + 1));
        }
        if self.in_failover() {
            out.push((
                "failover-timeout",
                self.failover_start_time
                    .saturating_add(self.failover_timeout),
            ));
        } else if self.failover_start_time > 0 {
            out.push((
                "next-failover-allowed",
                self.failover_start_time
                    .saturating_add(self.failover_timeout.saturating_mul(2)),
            ));
        }
        out
    }
}
