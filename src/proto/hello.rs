//! `HELLO [protover [AUTH username password] [SETNAME clientname]]` and
//! the client name, as Redis servers and Sentinels both answer them
//! (networking.c helloCommand(), clientSetNameOrReply()): a connection's
//! protocol, name and authentication, and HELLO's map of the server.

use super::resp::{Frame, Proto};
use super::util::string2ll;

/// REDIS_VERSION.
pub const VERSION: &str = "7.0.15";

pub const ERR_WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// What one connection has for HELLO to read and change (`client->resp`,
/// `client->name`, `client->authenticated`).
pub struct Conn<'a> {
    pub resp: &'a mut Proto,
    pub name: &'a mut Option<String>,
    pub authenticated: &'a mut bool,
}

/// clientSetNameOrReply(): an empty name clears the name; a name with a
/// space, a line break or another character outside `!`..`~` is refused.
pub fn set_name(name: &mut Option<String>, new: &str) -> Result<(), Frame> {
    if new.is_empty() {
        *name = None;
        return Ok(());
    }
    if !new.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        return Err(Frame::Error(
            "ERR Client names cannot contain spaces, newlines or special characters.".into(),
        ));
    }
    *name = Some(new.to_string());
    Ok(())
}

/// ACLAuthenticateUser() with the one user the model has: `default`,
/// whose password is `requirepass` (any password when none is set).
pub fn authenticate(requirepass: Option<&str>, user: &str, pass: &str) -> bool {
    user == "default" && requirepass.is_none_or(|p| p == pass)
}

/// helloCommand() up to its reply: the protocol version, then each option
/// in turn (a SETNAME before a failing option keeps its effect, as in
/// Redis), then the authentication check; on success the connection
/// speaks the version asked (or keeps its own when none was given).
pub fn hello(argv: &[String], requirepass: Option<&str>, c: Conn<'_>) -> Result<(), Frame> {
    let err = |s: &str| Err(Frame::Error(s.into()));
    let mut ver = None;
    let mut next = 1;
    if let Some(v) = argv.get(1) {
        next = 2;
        ver = match string2ll(v) {
            Some(2) => Some(Proto::Resp2),
            Some(3) => Some(Proto::Resp3),
            Some(_) => return err("NOPROTO unsupported protocol version"),
            None => return err("ERR Protocol version is not an integer or out of range"),
        };
    }
    let mut j = next;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j];
        if opt.eq_ignore_ascii_case("auth") && more >= 2 {
            if !authenticate(requirepass, &argv[j + 1], &argv[j + 2]) {
                return err(ERR_WRONGPASS);
            }
            *c.authenticated = true;
            j += 2;
        } else if opt.eq_ignore_ascii_case("setname") && more >= 1 {
            set_name(c.name, &argv[j + 1])?;
            j += 1;
        } else {
            return Err(Frame::Error(format!(
                "ERR Syntax error in HELLO option '{opt}'"
            )));
        }
        j += 1;
    }
    if !*c.authenticated {
        return err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        );
    }
    if let Some(v) = ver {
        *c.resp = v;
    }
    Ok(())
}

/// The server as HELLO describes it: `mode` is `standalone`, `cluster` or
/// `sentinel`; `role` (`master` or `replica`) is left out by a Sentinel.
/// No module is ever loaded.
pub fn hello_frame(resp: Proto, id: u64, mode: &str, role: Option<&str>) -> Frame {
    let mut fields = vec![
        ("server", Frame::bulk("redis")),
        ("version", Frame::bulk(VERSION)),
        ("proto", Frame::Int(resp.version())),
        ("id", Frame::Int(id as i64)),
        ("mode", Frame::bulk(mode)),
    ];
    if let Some(role) = role {
        fields.push(("role", Frame::bulk(role)));
    }
    fields.push(("modules", Frame::Array(Some(Vec::new()))));
    Frame::map(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    struct State {
        resp: Proto,
        name: Option<String>,
        authenticated: bool,
    }

    impl State {
        fn new(authenticated: bool) -> Self {
            State {
                resp: Proto::Resp2,
                name: None,
                authenticated,
            }
        }

        fn hello(&mut self, line: &str, requirepass: Option<&str>) -> Result<(), Frame> {
            hello(
                &args(line),
                requirepass,
                Conn {
                    resp: &mut self.resp,
                    name: &mut self.name,
                    authenticated: &mut self.authenticated,
                },
            )
        }
    }

    fn error(r: Result<(), Frame>) -> String {
        match r {
            Err(Frame::Error(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    // Texts read off a real Redis 7.0.15.
    #[test]
    fn options_apply_in_order_until_one_fails() {
        let mut s = State::new(true);
        assert_eq!(
            error(s.hello("HELLO 4", None)),
            "NOPROTO unsupported protocol version"
        );
        assert_eq!(
            error(s.hello("HELLO x", None)),
            "ERR Protocol version is not an integer or out of range"
        );
        assert_eq!(s.resp, Proto::Resp2);
        // The name is set before the option after it fails.
        assert_eq!(
            error(s.hello("HELLO 3 SETNAME a b", None)),
            "ERR Syntax error in HELLO option 'b'"
        );
        assert_eq!((s.resp, s.name.as_deref()), (Proto::Resp2, Some("a")));
        assert_eq!(
            error(s.hello("HELLO 3 SETNAME", None)),
            "ERR Syntax error in HELLO option 'SETNAME'"
        );
        assert_eq!(
            error(s.hello("HELLO 3 SETNAME a\tb", None)),
            "ERR Client names cannot contain spaces, newlines or special characters."
        );
        assert_eq!(s.hello("HELLO 3", None), Ok(()));
        assert_eq!(s.resp, Proto::Resp3);
        // No version: the protocol stays.
        assert_eq!(s.hello("HELLO", None), Ok(()));
        assert_eq!(s.resp, Proto::Resp3);
        assert_eq!(s.hello("HELLO 2", None), Ok(()));
        assert_eq!((s.resp, s.name.as_deref()), (Proto::Resp2, Some("a")));
        // An empty name clears it.
        assert_eq!(set_name(&mut s.name, ""), Ok(()));
        assert_eq!(s.name, None);
    }

    #[test]
    fn auth_inside_hello_is_the_default_users() {
        let mut s = State::new(false);
        assert!(error(s.hello("HELLO 3", Some("pw"))).starts_with("NOAUTH HELLO must be called"));
        assert_eq!(
            error(s.hello("HELLO 3 AUTH default nope", Some("pw"))),
            ERR_WRONGPASS
        );
        assert_eq!(
            error(s.hello("HELLO 3 AUTH bob pw", Some("pw"))),
            ERR_WRONGPASS
        );
        assert_eq!(s.resp, Proto::Resp2);
        assert_eq!(s.hello("HELLO 3 AUTH default pw", Some("pw")), Ok(()));
        assert!(s.authenticated);
        assert_eq!(s.resp, Proto::Resp3);
        // Without requirepass the default user takes any password.
        assert!(authenticate(None, "default", "anything"));
        assert!(!authenticate(None, "Default", "anything"));
    }

    #[test]
    fn the_map_redis_sends() {
        let f = hello_frame(Proto::Resp3, 3, "standalone", Some("master"));
        let bytes = b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
                      $5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
                      $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
        assert_eq!(f.encode(), bytes);
        assert_eq!(f.wire_len(), 145);
        let sentinel = hello_frame(Proto::Resp2, 3, "sentinel", None).for_proto(Proto::Resp2);
        assert_eq!(sentinel.wire_len(), 121);
        assert!(sentinel.encode().starts_with(b"*12\r\n"));
    }
}
