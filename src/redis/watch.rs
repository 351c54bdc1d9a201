//! WATCH and UNWATCH: optimistic locking for MULTI/EXEC (multi.c
//! watchForKey(), touchWatchedKey(), isWatchedKeyExpired()). A client
//! watching a key that anyone modifies before its EXEC gets a null reply
//! instead of the transaction's results.
//!
//! The keyspace records which keys are modified while anyone watches
//! ([`crate::proto::keyspace::Dataset::track`]); the server reads that
//! record after each command, each command of the master's stream and
//! each pass of the event loop, and marks the watchers dirty.

use crate::proto::resp::Frame;
use crate::proto::{Ctx, Key, Reply};
use crate::sim::net::ConnId;

use super::Server;

/// One key a client watches (`watchedKey`).
#[derive(Clone, Debug)]
pub(super) struct Watched {
    key: Key,
    /// The key had already expired when WATCH was called.
    expired: bool,
}

impl Server {
    /// `WATCH key [key …]` (watchCommand()).
    pub(super) fn watch_command(&mut self, ctx: &Ctx<'_>, conn: ConnId, keys: &[String]) -> Reply {
        let Some(c) = self.clients.get(&conn) else {
            return Reply::Ok;
        };
        if c.multi.is_some() {
            return Reply::Frame(Frame::Error("ERR WATCH inside MULTI is not allowed".into()));
        }
        // No point in watching if the client is already dirty.
        if c.dirty_cas {
            return Reply::Ok;
        }
        for key in keys {
            let expired = self.key_is_expired(ctx, key);
            let c = self.clients.get_mut(&conn).expect("checked");
            if c.watched.iter().any(|w| w.key == key.as_str()) {
                continue;
            }
            c.watched.push(Watched {
                key: key.as_str().into(),
                expired,
            });
            self.watchers
                .entry(key.as_str().into())
                .or_default()
                .push(conn);
        }
        self.data.track(true);
        Reply::Ok
    }

    /// `UNWATCH` (unwatchCommand()): forgets every watched key and a
    /// modification already seen.
    pub(super) fn unwatch_command(&mut self, conn: ConnId) -> Reply {
        self.unwatch_all(conn);
        if let Some(c) = self.clients.get_mut(&conn) {
            c.dirty_cas = false;
        }
        Reply::Ok
    }

    /// unwatchAllKeys().
    pub(super) fn unwatch_all(&mut self, conn: ConnId) {
        let Some(c) = self.clients.get_mut(&conn) else {
            return;
        };
        for w in std::mem::take(&mut c.watched) {
            if let Some(list) = self.watchers.get_mut(&w.key) {
                list.retain(|&x| x != conn);
                if list.is_empty() {
                    self.watchers.remove(&w.key);
                }
            }
        }
        if self.watchers.is_empty() {
            self.data.track(false);
        }
    }

    /// `RESET` (resetCommand(), clearClientConnectionState()): the
    /// connection as new, save its id: no transaction, watch or
    /// subscription, RESP2, no name, and authenticated only if the default
    /// user needs no password.
    pub(super) fn reset_command(&mut self, conn: ConnId) -> Reply {
        self.unwatch_all(conn);
        self.pubsub.forget(conn);
        let nopass = self.cfg.requirepass.is_none();
        if let Some(c) = self.clients.get_mut(&conn) {
            c.multi = None;
            c.dirty_cas = false;
            c.resp = crate::proto::resp::Proto::Resp2;
            c.name = None;
            c.asking = false;
            c.readonly = false;
            c.authenticated = nopass;
        }
        Reply::Frame(Frame::Simple("RESET".into()))
    }

    /// touchWatchedKey() for every key modified since the last call.
    pub(super) fn touch_watched(&mut self) {
        if self.watchers.is_empty() {
            return;
        }
        for key in self.data.take_touched() {
            let Some(list) = self.watchers.get(&key).cloned() else {
                continue;
            };
            let exists = self.data.get(&key).is_some();
            for conn in list {
                let Some(c) = self.clients.get_mut(&conn) else {
                    continue;
                };
                let Some(w) = c.watched.iter_mut().find(|w| w.key == key) else {
                    continue;
                };
                if w.expired {
                    if !exists {
                        // An already expired key deleted: logically no
                        // change. Deleted keys are not flagged as expired.
                        w.expired = false;
                        continue;
                    }
                    // Redis 7.0.15 leaves the loop here: neither this
                    // client nor the ones after it are marked.
                    break;
                }
                c.dirty_cas = true;
                self.unwatch_all(conn);
            }
        }
    }

    /// EXEC's check (execCommand(), isWatchedKeyExpired()): a watched key
    /// that has expired since WATCH makes the transaction fail.
    pub(super) fn watch_broken(&mut self, ctx: &Ctx<'_>, conn: ConnId) -> bool {
        self.touch_watched();
        let Some(c) = self.clients.get(&conn) else {
            return false;
        };
        c.dirty_cas
            || c.watched
                .iter()
                .any(|w| !w.expired && self.key_is_expired(ctx, &w.key))
    }
}

#[cfg(test)]
mod tests {
    use crate::proto::resp::Frame;
    use crate::redis::config::RedisConfig;
    use crate::redis::testing::Cli;
    use crate::time::ms;

    /// MULTI, PING, EXEC: EXEC's reply.
    fn exec_ping(cli: &mut Cli) -> Frame {
        cli.reply("MULTI");
        cli.reply("PING");
        cli.reply("EXEC")
    }

    fn debug_on() -> RedisConfig {
        RedisConfig {
            enable_debug_command: crate::redis::config::ProtectedAction::Yes,
            ..RedisConfig::default()
        }
    }

    // multi.tcl "EXEC fails if there are errors while queueing commands #1"
    // and "EXEC fail on WATCHed key modified (1 key of 1 watched)".
    #[test]
    fn a_watched_key_modified_by_another_client_fails_exec() {
        let mut cli = Cli::two(RedisConfig::default());
        cli.reply("SET x 30");
        assert_eq!(cli.reply("WATCH x"), Frame::ok());
        cli.other("SET x 40");
        assert_eq!(exec_ping(&mut cli), Frame::Array(None));
        // The transaction ran nothing, and the client watches nothing now.
        assert_eq!(
            exec_ping(&mut cli),
            Frame::Array(Some(vec![Frame::Simple("PONG".into())]))
        );
    }

    #[test]
    fn unwatch_forgets_a_modification_and_watch_in_multi_is_refused() {
        let mut cli = Cli::two(RedisConfig::default());
        cli.reply("WATCH x");
        cli.other("SET x 1");
        assert_eq!(cli.reply("UNWATCH"), Frame::ok());
        cli.reply("MULTI");
        assert_eq!(
            cli.reply("WATCH y"),
            Frame::Error("ERR WATCH inside MULTI is not allowed".into())
        );
        cli.reply("GET x");
        assert_eq!(
            cli.reply("EXEC"),
            Frame::Array(Some(vec![Frame::bulk("1")]))
        );
    }

    // RESET, as a real 7.0.15 answers it after HELLO 3, SETNAME, SUBSCRIBE
    // and WATCH: `+RESET`, then a plain RESP2 connection.
    #[test]
    fn reset_makes_the_connection_new() {
        let mut cli = Cli::two(RedisConfig::default());
        cli.reply("HELLO 3 SETNAME app");
        cli.reply("WATCH x");
        cli.reply("SUBSCRIBE ch");
        assert_eq!(cli.reply("RESET"), Frame::Simple("RESET".into()));
        assert_eq!(cli.reply("CLIENT GETNAME"), Frame::Bulk(None));
        assert_eq!(
            cli.reply("GET x"),
            Frame::Bulk(None),
            "RESP2, not subscribed"
        );
        cli.other("SET x 1");
        assert_eq!(
            exec_ping(&mut cli),
            Frame::Array(Some(vec![Frame::Simple("PONG".into())]))
        );
    }

    // "EXEC fail on lazy expired WATCHed key": the key expires between
    // WATCH and EXEC, nobody touches it.
    #[test]
    fn a_watched_key_that_expires_before_exec_fails_it() {
        let mut cli = Cli::two(RedisConfig::default());
        cli.reply("SET x 1 PX 100");
        cli.reply("WATCH x");
        let now = cli.h.now();
        cli.h.run_until(now + ms(200));
        assert_eq!(exec_ping(&mut cli), Frame::Array(None));
    }

    // "No WATCH fail for an already expired key deleted": the key had
    // expired when WATCH ran; its deletion is no change.
    #[test]
    fn an_already_expired_watched_key_deleted_is_no_change() {
        let mut cli = Cli::two(debug_on());
        cli.reply("DEBUG SET-ACTIVE-EXPIRE 0");
        cli.reply("SET x 1 PX 1");
        let now = cli.h.now();
        cli.h.run_until(now + ms(10));
        cli.reply("WATCH x");
        cli.other("DEL x");
        assert_eq!(
            exec_ping(&mut cli),
            Frame::Array(Some(vec![Frame::Simple("PONG".into())]))
        );
    }
}
