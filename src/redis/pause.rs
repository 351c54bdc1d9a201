//! Client pauses (networking.c pauseClients(), unpauseClients(),
//! updateClientPauseTypeAndEndTime(), checkClientPauseTimeoutAndReturnIfPaused()).
//!
//! Each purpose (a `CLIENT PAUSE`, a failover: the FAILOVER
//! command's and Redis Cluster's manual failover share one) holds its own
//! pause, a type and an end time. The pause in force is the most
//! restrictive of them, until the latest end among those of that type. It
//! is recomputed when a purpose pauses or unpauses, and lazily otherwise:
//! an expired pause stays in force until someone checks it (serverCron
//! every tick, replicationCron, beforeSleep's GETACK test), never at
//! command time.

/// `pause_type`, ordered from the least to the most restrictive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseType {
    Off,
    /// CLIENT_PAUSE_WRITE: commands flagged write or may-replicate wait.
    Write,
    /// CLIENT_PAUSE_ALL: every command of every non-replica client waits.
    All,
}

/// `pause_purpose`. (PAUSE_DURING_SHUTDOWN is not modelled: a shutdown
/// does not wait for lagging replicas.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    ClientCommand = 0,
    Failover = 1,
}

/// The end time of a pause that only an unpause lifts (`LLONG_MAX`).
pub const FOREVER: i64 = i64::MAX;

/// `server.client_pause_per_purpose`, `client_pause_type` and
/// `client_pause_end_time`.
#[derive(Clone, Debug)]
pub struct Pauses {
    per_purpose: [Option<(PauseType, i64)>; 2],
    kind: PauseType,
    end: i64,
    /// The latest mstime seen (a pause, an unpause or a check): what an
    /// unpause recomputes against, as Redis uses `server.mstime`.
    now: i64,
}

impl Default for Pauses {
    fn default() -> Self {
        Self {
            per_purpose: [None; 2],
            kind: PauseType::Off,
            end: 0,
            now: 0,
        }
    }
}

impl Pauses {
    /// The pause in force (as last recomputed).
    #[cfg(test)]
    pub fn kind(&self) -> PauseType {
        self.kind
    }

    /// When the pause in force ends, in ms (0 when none is).
    #[cfg(test)]
    pub fn end(&self) -> i64 {
        self.end
    }

    /// The pause one purpose holds, if any.
    #[cfg(test)]
    pub fn held(&self, purpose: Purpose) -> Option<(PauseType, i64)> {
        self.per_purpose[purpose as usize]
    }

    /// pauseClients(): a purpose's pause can only be extended and
    /// tightened, never shortened or relaxed. True when the pause in force
    /// became less restrictive (an expired one was dropped).
    pub fn pause(&mut self, purpose: Purpose, end: i64, kind: PauseType, now: i64) -> bool {
        self.now = self.now.max(now);
        let slot = &mut self.per_purpose[purpose as usize];
        *slot = Some(match *slot {
            None => (kind, end),
            Some((k, e)) => (k.max(kind), e.max(end)),
        });
        self.update(now)
    }

    /// unpauseClients(): drops one purpose's pause. True when the pause in
    /// force became less restrictive.
    pub fn unpause(&mut self, purpose: Purpose) -> bool {
        if self.per_purpose[purpose as usize].take().is_none() {
            return false;
        }
        self.update(self.now)
    }

    /// checkClientPauseTimeoutAndReturnIfPaused(): recomputes when the
    /// pause in force has ended. Returns (paused, relaxed).
    pub fn check(&mut self, now: i64) -> (bool, bool) {
        self.now = self.now.max(now);
        if self.kind == PauseType::Off {
            return (false, false);
        }
        let relaxed = self.end < now && self.update(now);
        (self.kind != PauseType::Off, relaxed)
    }

    /// processCommand()'s test: does a command from a non-replica client
    /// wait? `may_replicate` is the command's write or may-replicate flag.
    pub fn postpones(&self, may_replicate: bool) -> bool {
        match self.kind {
            PauseType::Off => false,
            PauseType::Write => may_replicate,
            PauseType::All => true,
        }
    }

    /// updateClientPauseTypeAndEndTime(); true when the type relaxed.
    fn update(&mut self, now: i64) -> bool {
        let old = self.kind;
        let mut kind = PauseType::Off;
        for slot in &mut self.per_purpose {
            match *slot {
                Some((_, end)) if end < now => *slot = None,
                Some((k, _)) => kind = kind.max(k),
                None => {}
            }
        }
        self.end = self
            .per_purpose
            .iter()
            .flatten()
            .filter(|(k, _)| *k == kind)
            .map(|&(_, e)| e)
            .max()
            .unwrap_or(0);
        self.kind = kind;
        kind < old
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pauseClients(): a second pause of the same purpose only extends and
    /// tightens (max of types, max of ends).
    #[test]
    fn a_second_pause_only_extends_and_tightens() {
        let mut p = Pauses::default();
        p.pause(Purpose::ClientCommand, 5_000, PauseType::All, 0);
        p.pause(Purpose::ClientCommand, 1_000, PauseType::Write, 0);
        assert_eq!(
            p.held(Purpose::ClientCommand),
            Some((PauseType::All, 5_000))
        );
        assert_eq!((p.kind(), p.end()), (PauseType::All, 5_000));
    }

    /// updateClientPauseTypeAndEndTime(): the most restrictive type wins,
    /// and the end is the latest among the pauses of that type only.
    #[test]
    fn the_most_restrictive_purpose_sets_type_and_end() {
        let mut p = Pauses::default();
        p.pause(Purpose::Failover, FOREVER, PauseType::Write, 0);
        p.pause(Purpose::ClientCommand, 2_000, PauseType::All, 0);
        assert_eq!((p.kind(), p.end()), (PauseType::All, 2_000));
        // CLIENT UNPAUSE lifts only its own purpose: writes stay paused.
        assert!(p.unpause(Purpose::ClientCommand));
        assert_eq!((p.kind(), p.end()), (PauseType::Write, FOREVER));
        assert!(p.postpones(true) && !p.postpones(false));
    }

    /// checkClientPauseTimeoutAndReturnIfPaused(): a pause ending at
    /// `end` holds while `end >= now` and is dropped when checked after.
    #[test]
    fn an_expired_pause_ends_when_checked_after_its_end() {
        let mut p = Pauses::default();
        p.pause(Purpose::ClientCommand, 1_000, PauseType::Write, 0);
        assert_eq!(p.check(1_000), (true, false));
        // Not checked: still in force past its end.
        assert!(p.postpones(true));
        assert_eq!(p.check(1_001), (false, true));
        assert!(!p.postpones(true));
    }

    /// `CLIENT PAUSE 0` (an end time of 0): a pause ending before now is
    /// dropped at once.
    #[test]
    fn a_pause_that_already_ended_has_no_effect() {
        let mut p = Pauses::default();
        p.pause(Purpose::ClientCommand, 0, PauseType::All, 5);
        assert_eq!(p.kind(), PauseType::Off);
        assert_eq!(p.held(Purpose::ClientCommand), None);
    }
}
