//! A Redis server's timers: serverCron() and the ends of work Redis hands to
//! a child process, a socket or the loader.

use crate::sim::net::ConnId;
use crate::sim::timer::{self, Timer};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisTimer {
    /// serverCron(), every 1000/hz ms.
    Cron,
    /// The RDB child of this generation exits (a newer fork makes the
    /// timer of an older one stale).
    ChildDone(u64),
    /// A disk RDB has been written to this replica's socket.
    BulkSent(ConnId),
    /// The full-sync RDB of this load generation is in memory.
    LoadDone(u64),
    /// DEBUG SLEEP is over: its reply goes to this connection.
    SleepOver(ConnId),
    /// The AOF's background fsync of this generation ends.
    FsyncDone(u64),
    /// End of the instant's work: the appendfsync-always fdatasync of what
    /// this instant wrote blocks the server now.
    FsyncBlock,
    /// A blocking AOF write or fsync returned: the replies held behind it
    /// leave.
    FlushReplies,
    /// The RDB read at start-up ended at a wrong checksum.
    BootLoadFailed,
}

const CRON: u8 = 0;
const CHILD_DONE: u8 = 1;
const BULK_SENT: u8 = 2;
const LOAD_DONE: u8 = 3;
const SLEEP_OVER: u8 = 4;
const FSYNC_DONE: u8 = 5;
const FSYNC_BLOCK: u8 = 6;
const FLUSH_REPLIES: u8 = 7;
const BOOT_LOAD_FAILED: u8 = 8;

impl Timer for RedisTimer {
    fn encode(self) -> u64 {
        match self {
            RedisTimer::Cron => timer::pack(CRON, 0),
            RedisTimer::ChildDone(generation) => timer::pack(CHILD_DONE, generation),
            RedisTimer::BulkSent(conn) => timer::pack(BULK_SENT, u64::from(conn)),
            RedisTimer::LoadDone(generation) => timer::pack(LOAD_DONE, generation),
            RedisTimer::SleepOver(conn) => timer::pack(SLEEP_OVER, u64::from(conn)),
            RedisTimer::FsyncDone(generation) => timer::pack(FSYNC_DONE, generation),
            RedisTimer::FsyncBlock => timer::pack(FSYNC_BLOCK, 0),
            RedisTimer::FlushReplies => timer::pack(FLUSH_REPLIES, 0),
            RedisTimer::BootLoadFailed => timer::pack(BOOT_LOAD_FAILED, 0),
        }
    }

    fn decode(token: u64) -> Option<Self> {
        match timer::unpack(token) {
            (CRON, 0) => Some(RedisTimer::Cron),
            (CHILD_DONE, generation) => Some(RedisTimer::ChildDone(generation)),
            (BULK_SENT, conn) => ConnId::try_from(conn).ok().map(RedisTimer::BulkSent),
            (LOAD_DONE, generation) => Some(RedisTimer::LoadDone(generation)),
            (SLEEP_OVER, conn) => ConnId::try_from(conn).ok().map(RedisTimer::SleepOver),
            (FSYNC_DONE, generation) => Some(RedisTimer::FsyncDone(generation)),
            (FSYNC_BLOCK, 0) => Some(RedisTimer::FsyncBlock),
            (FLUSH_REPLIES, 0) => Some(RedisTimer::FlushReplies),
            (BOOT_LOAD_FAILED, 0) => Some(RedisTimer::BootLoadFailed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_timer_survives_the_token() {
        for t in [
            RedisTimer::Cron,
            RedisTimer::ChildDone(1),
            RedisTimer::ChildDone(timer::MAX_ARG),
            RedisTimer::BulkSent(0),
            RedisTimer::BulkSent(ConnId::MAX),
            RedisTimer::LoadDone(0),
            RedisTimer::LoadDone(timer::MAX_ARG),
            RedisTimer::SleepOver(7),
            RedisTimer::FsyncDone(3),
            RedisTimer::FsyncBlock,
            RedisTimer::FlushReplies,
            RedisTimer::BootLoadFailed,
        ] {
            assert_eq!(RedisTimer::decode(t.encode()), Some(t));
        }
    }

    #[test]
    fn tokens_no_redis_timer_makes_are_refused() {
        assert_eq!(RedisTimer::decode(9), None);
        assert_eq!(RedisTimer::decode(timer::pack(CRON, 1)), None);
        let too_wide = timer::pack(BULK_SENT, u64::from(ConnId::MAX) + 1);
        assert_eq!(RedisTimer::decode(too_wide), None);
    }
}
