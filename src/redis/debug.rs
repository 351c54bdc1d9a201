//! DEBUG (debug.c: debugCommand()), the subcommands scenarios use: SLEEP
//! (the whole process busy, as in a slow command), SET-ACTIVE-EXPIRE and
//! PROTOCOL (one reply of each RESP type). Only with
//! `enable-debug-command yes` (Redis 7.0 refuses DEBUG by default; see
//! command.rs).

use crate::proto::resp::{Frame, Proto};
use crate::proto::{Ctx, Msg, Reply};
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
            ("protocol", 3) => Some(self.debug_protocol(ctx, conn, &argv[2])),
            _ => Some(Reply::Error(format!(
                "ERR redsim does not model 'debug {sub}' in this form yet"
            ))),
        }
    }

    /// `DEBUG PROTOCOL <type>`: one reply of that type, for clients to test
    /// their parsers (a RESP3 type is downgraded on a RESP2 connection as
    /// any reply is). `push` sends a push and then a bulk string, and is
    /// refused in RESP2. An attribute is not modelled in RESP3.
    fn debug_protocol(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, name: &str) -> Reply {
        let resp = self.proto(conn);
        let ints = || (0..3).map(Frame::Int).collect::<Vec<_>>();
        Reply::Frame(match name.to_ascii_lowercase().as_str() {
            "string" => Frame::bulk("Hello World"),
            "integer" => Frame::Int(12345),
            // addReplyDouble(3.141): "%.17g".
            "double" => Frame::Double("3.141".into()),
            "bignum" => Frame::BigNumber("1234567999999999999999999999999999999".into()),
            "null" => Frame::Bulk(None),
            "array" => Frame::Array(Some(ints())),
            "set" => Frame::Set(ints()),
            "map" => Frame::Map((0..3).map(|j| (Frame::Int(j), Frame::Bool(j == 1))).collect()),
            "attrib" if resp == Proto::Resp2 => {
                Frame::bulk("Some real reply following the attribute")
            }
            "attrib" => Frame::Error(
                "ERR redsim does not model RESP3 attributes ('debug protocol attrib') yet".into(),
            ),
            "push" if resp == Proto::Resp2 => {
                Frame::Error("ERR RESP2 is not supported by this command".into())
            }
            "push" => {
                let push = Frame::Push(vec![Frame::bulk("server-cpu-usage"), Frame::Int(42)]);
                ctx.send(conn, Msg::Reply(Reply::Frame(push)));
                Frame::bulk("Some real reply following the push reply")
            }
            "true" => Frame::Bool(true),
            "false" => Frame::Bool(false),
            "verbatim" => Frame::verbatim("This is a verbatim\nstring"),
            _ => Frame::Error(
                "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false".into(),
            ),
        })
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
    use crate::time::{ms, secs};

    #[test]
    fn c_number_parsing_reads_a_prefix() {
        assert_eq!(strtod("1.5"), 1.5);
        assert_eq!(strtod("2s"), 2.0);
        assert_eq!(strtod("x"), 0.0);
        assert_eq!(atoi("12abc"), 12);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("abc"), 0);
    }

    /// `DEBUG PROTOCOL <type>` in both protocols: the bytes a real Redis
    /// 7.0.15 sent, RESP2 first.
    #[test]
    fn debug_protocol_sends_each_type() {
        let mut cli = Cli::new(RedisConfig {
            enable_debug_command: super::super::config::ProtectedAction::Yes,
            ..RedisConfig::default()
        });
        let cases: &[(&str, &[u8], &[u8])] = &[
            (
                "string",
                b"$11\r\nHello World\r\n",
                b"$11\r\nHello World\r\n",
            ),
            ("integer", b":12345\r\n", b":12345\r\n"),
            ("double", b"$5\r\n3.141\r\n", b",3.141\r\n"),
            (
                "bignum",
                b"$37\r\n1234567999999999999999999999999999999\r\n",
                b"(1234567999999999999999999999999999999\r\n",
            ),
            ("null", b"$-1\r\n", b"_\r\n"),
            (
                "array",
                b"*3\r\n:0\r\n:1\r\n:2\r\n",
                b"*3\r\n:0\r\n:1\r\n:2\r\n",
            ),
            (
                "set",
                b"*3\r\n:0\r\n:1\r\n:2\r\n",
                b"~3\r\n:0\r\n:1\r\n:2\r\n",
            ),
            (
                "map",
                b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n",
                b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
            ),
            ("true", b":1\r\n", b"#t\r\n"),
            ("false", b":0\r\n", b"#f\r\n"),
            (
                "verbatim",
                b"$25\r\nThis is a verbatim\nstring\r\n",
                b"=29\r\ntxt:This is a verbatim\nstring\r\n",
            ),
        ];
        for resp3 in [false, true] {
            if resp3 {
                cli.send("HELLO 3");
            }
            for (name, two, three) in cases {
                let (f, size) = cli.reply_sized(&format!("DEBUG PROTOCOL {name}"));
                let want = if resp3 { three } else { two };
                assert_eq!(f.encode(), *want, "{name}");
                assert_eq!(size, want.len() as u64, "{name}");
            }
        }
        // A push, then the reply.
        let sent: Vec<Vec<u8>> = cli
            .replies("DEBUG PROTOCOL push")
            .into_iter()
            .map(|(f, _)| f.encode())
            .collect();
        assert_eq!(
            sent,
            [
                &b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"[..],
                b"$40\r\nSome real reply following the push reply\r\n"
            ]
        );
        cli.send("HELLO 2");
        assert_eq!(
            cli.send("DEBUG PROTOCOL push"),
            "(error) ERR RESP2 is not supported by this command"
        );
        assert_eq!(
            cli.send("DEBUG PROTOCOL attrib"),
            "\"Some real reply following the attribute\""
        );
        assert!(
            cli.send("DEBUG PROTOCOL x")
                .starts_with("(error) ERR Wrong protocol type name.")
        );
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
