//! DEBUG (debug.c: debugCommand()), the subcommands scenarios use: SLEEP
//! (the whole process busy, as in a slow command) and SET-ACTIVE-EXPIRE.
//! Only with `enable-debug-command yes` (Redis 7.0 refuses DEBUG by
//! default; see command.rs).

use crate::proto::{Ctx, Reply};
use crate::sim::net::ConnId;

use super::Server;
use super::timer::RedisTimer;

impl Server {
    /// `DEBUG <subcommand> …`; `None` while a SLEEP runs (the reply comes
    /// when it is over).
    pub(super) fn debug_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        conn: ConnId,
        argv: &[String],
    ) -> Option<Reply> {
        let sub = argv[1].to_ascii_lowercase();
        match (sub.as_str(), argv.len()) {
            ("set-active-expire", 3) => {
                self.expiry.active = atoi(&argv[2]) != 0;
                Some(Reply::Ok)
            }
            ("sleep", 3) => {
                // nanosleep() of strtod(seconds): nothing runs meanwhile.
                let us = (strtod(&argv[2]) * 1e6) as i64;
                if us <= 0 {
                    return Some(Reply::Ok);
                }
                ctx.sleep(us as u64);
                ctx.set_timer(us as u64, RedisTimer::SleepOver(conn));
                None
            }
            _ => Some(Reply::Error(format!(
                "ERR redsim does not model 'debug {sub}' in this form yet"
            ))),
        }
    }
}

/// C's strtod(): the longest prefix that reads as a number, else 0.
fn strtod(s: &str) -> f64 {
    let s = s.trim_start();
    (1..=s.len())
        .rev()
        .filter(|&n| s.is_char_boundary(n))
        .find_map(|n| s[..n].parse::<f64>().ok().filter(|v| v.is_finite()))
        .unwrap_or(0.0)
}

/// C's atoi(): optional sign, then digits; anything else stops it.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg { -n } else { n }
}

#[cfg(test)]
mod tests {
    use super::super::config::RedisConfig;
    use super::super::testing::Cli;
    use super::*;
    use crate::sim::time::{ms, secs};

    #[test]
    fn c_number_parsing_reads_a_prefix() {
        assert_eq!(strtod("1.5"), 1.5);
        assert_eq!(strtod("2s"), 2.0);
        assert_eq!(strtod("x"), 0.0);
        assert_eq!(atoi("12abc"), 12);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("abc"), 0);
    }

    /// Redis 7.0's default `enable-debug-command no` refuses DEBUG, with
    /// processCommand()'s text.
    #[test]
    fn debug_is_refused_by_default() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            cli.send("DEBUG SET-ACTIVE-EXPIRE 0"),
            "(error) ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
        );
        assert!(cli.server().expiry.active);
    }

    /// DEBUG SLEEP answers when it is over, and nothing else is handled
    /// meanwhile: a PING sent during the sleep is answered after it.
    #[test]
    fn debug_sleep_holds_the_whole_process() {
        let mut cli = Cli::new(RedisConfig {
            enable_debug_command: super::super::config::ProtectedAction::Yes,
            ..RedisConfig::default()
        });
        let conn = cli.conn;
        let mark = cli.h.mark();
        cli.h.send(
            1,
            conn,
            crate::proto::Msg::Cmd(crate::proto::Cmd::Line(vec![
                "DEBUG".into(),
                "SLEEP".into(),
                "0.5".into(),
            ])),
        );
        cli.h.run_for(ms(100));
        let other = cli.h.connect(1, 0);
        cli.h
            .send(1, other, crate::proto::Msg::Cmd(crate::proto::Cmd::Ping));
        cli.h.run_for(ms(300));
        assert!(cli.h.sent_since(mark, 0).is_empty(), "asleep: no reply yet");
        cli.h.run_for(secs(1));
        let replies: Vec<_> = cli.h.sent_since(mark, 0);
        assert_eq!(replies.len(), 2, "{replies:?}");
    }
}
