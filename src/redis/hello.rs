//! `HELLO` on a Redis server (networking.c helloCommand()): the
//! connection's protocol, AUTH and SETNAME, and the map describing the
//! server. The parsing is shared with Sentinel ([`crate::proto::hello`]).
//! Also `AUTH <username> <password>`, which authenticates as HELLO's AUTH
//! does (acl.c authCommand()).

use crate::proto::Reply;
use crate::proto::hello::{self, Conn};
use crate::sim::net::ConnId;

use super::Server;

impl Server {
    /// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
    pub(super) fn hello_command(&mut self, conn: ConnId, argv: &[String]) -> Reply {
        let requirepass = self.cfg.requirepass.clone();
        let mode = if self.cluster.is_some() {
            "cluster"
        } else {
            "standalone"
        };
        // server.masterhost: set for a replica, connected or not.
        let role = if self.replica.is_some() {
            "replica"
        } else {
            "master"
        };
        let Some(c) = self.clients.get_mut(&conn) else {
            return Reply::Ok;
        };
        let done = hello::hello(
            argv,
            requirepass.as_deref(),
            Conn {
                resp: &mut c.resp,
                name: &mut c.name,
                authenticated: &mut c.authenticated,
            },
        );
        Reply::Frame(match done {
            Ok(()) => hello::hello_frame(c.resp, c.id, mode, Some(role)),
            Err(e) => e,
        })
    }

    /// `AUTH <username> <password>`: only the default user exists, with
    /// `requirepass` as its password (any password when none is set, unlike
    /// the one-argument form); more arguments are a syntax error.
    pub(super) fn auth_user_command(&mut self, conn: ConnId, argv: &[String]) -> Reply {
        if argv.len() > 3 {
            return Reply::Error("ERR syntax error".into());
        }
        let ok = hello::authenticate(self.cfg.requirepass.as_deref(), &argv[1], &argv[2]);
        match self.clients.get_mut(&conn) {
            Some(c) if ok => {
                c.authenticated = true;
                Reply::Ok
            }
            _ => Reply::Error(hello::ERR_WRONGPASS.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::proto::resp::Frame;
    use crate::redis::config::RedisConfig;
    use crate::redis::testing::Cli;

    /// HELLO's map for a master's first client (id 3, as on a fresh server).
    const HELLO3: &[u8] = b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
        $5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
        $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";

    fn bytes(cli: &mut Cli, line: &str) -> Vec<u8> {
        let (frame, size) = cli.reply_sized(line);
        let b = frame.encode();
        assert_eq!(
            size,
            b.len() as u64,
            "{line}: the simulated size is the byte count"
        );
        b
    }

    // Bytes read off a real Redis 7.0.15 (ids aside).
    #[test]
    fn hello_3_switches_the_connection_to_resp3() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(bytes(&mut cli, "GET missing"), b"$-1\r\n");
        assert_eq!(
            bytes(&mut cli, "CONFIG GET appendonly"),
            b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
        );
        let hello = bytes(&mut cli, "HELLO 3");
        assert_eq!(hello, HELLO3);
        assert_eq!(hello.len(), 145);
        assert_eq!(bytes(&mut cli, "GET missing"), b"_\r\n");
        assert_eq!(bytes(&mut cli, "MGET a b"), b"*2\r\n_\r\n_\r\n");
        assert_eq!(
            bytes(&mut cli, "CONFIG GET appendonly"),
            b"%1\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
        );
        assert_eq!(bytes(&mut cli, "CONFIG GET nosuchparameter"), b"%0\r\n");
        assert!(bytes(&mut cli, "INFO replication").starts_with(b"="));
        assert!(matches!(
            cli.reply("INFO replication"),
            Frame::Verbatim { format, text } if format == "txt" && text.starts_with("# Replication\r\nrole:master\r\n")
        ));
        // Without a version HELLO keeps the protocol.
        assert_eq!(bytes(&mut cli, "HELLO"), HELLO3);
        assert_eq!(bytes(&mut cli, "SET k v"), b"+OK\r\n");
        assert_eq!(bytes(&mut cli, "TTL k"), b":-1\r\n");
        let hello2 = bytes(&mut cli, "HELLO 2");
        assert!(hello2.starts_with(b"*14\r\n$6\r\nserver\r\n"));
        assert_eq!(hello2.len(), 146);
        assert_eq!(bytes(&mut cli, "GET missing"), b"$-1\r\n");
        assert_eq!(
            bytes(&mut cli, "HELLO 4"),
            b"-NOPROTO unsupported protocol version\r\n"
        );
    }

    #[test]
    fn hello_prints_as_redis_cli_does() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            cli.send("HELLO 3"),
            "1# \"server\" => \"redis\"\n2# \"version\" => \"7.0.15\"\n3# \"proto\" => (integer) 3\n\
             4# \"id\" => (integer) 3\n5# \"mode\" => \"standalone\"\n6# \"role\" => \"master\"\n\
             7# \"modules\" => (empty array)"
        );
        assert_eq!(cli.send("GET missing"), "(nil)");
        assert_eq!(
            cli.send("CONFIG GET appendonly"),
            "1# \"appendonly\" => \"no\""
        );
        assert_eq!(cli.send("CONFIG GET nosuchparameter"), "(empty hash)");
        let lines = [
            " 1) \"server\"",
            " 2) \"redis\"",
            " 3) \"version\"",
            " 4) \"7.0.15\"",
            " 5) \"proto\"",
            " 6) (integer) 2",
            " 7) \"id\"",
            " 8) (integer) 3",
            " 9) \"mode\"",
            "10) \"standalone\"",
            "11) \"role\"",
            "12) \"master\"",
            "13) \"modules\"",
            "14) (empty array)",
        ];
        assert_eq!(cli.send("HELLO 2"), lines.join("\n"));
    }

    #[test]
    fn a_replica_says_so() {
        use crate::redis::testing::node;
        use crate::sim::testkit::Probe;
        let h = node(RedisConfig::default(), Some(1), vec![Probe::silent()]);
        let mut cli = Cli::with(h);
        let f = cli.reply("HELLO 3");
        let Frame::Map(pairs) = f else {
            panic!("{f:?}")
        };
        assert_eq!(pairs[5], (Frame::bulk("role"), Frame::bulk("replica")));
    }

    /// A cluster node says `cluster`, and a cluster replica `replica`.
    #[test]
    fn a_cluster_node_says_so() {
        use crate::redis::testing::{cluster, cluster_conf};
        let mut h = cluster(vec![Some(1), None, None, None], cluster_conf());
        h.run_until(crate::time::ms(100));
        let mut cli = Cli::with(h);
        let Frame::Map(pairs) = cli.reply("HELLO 3") else {
            panic!("a map")
        };
        assert_eq!(pairs[4], (Frame::bulk("mode"), Frame::bulk("cluster")));
        assert_eq!(pairs[5], (Frame::bulk("role"), Frame::bulk("replica")));
    }

    #[test]
    fn hello_authenticates_where_requirepass_is_set() {
        let mut cli = Cli::new(RedisConfig {
            requirepass: Some("pw".into()),
            ..RedisConfig::default()
        });
        assert_eq!(cli.send("GET k"), "(error) NOAUTH Authentication required.");
        assert_eq!(
            cli.send("HELLO 3"),
            "(error) NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
        );
        assert_eq!(
            cli.send("HELLO 3 AUTH default nope"),
            "(error) WRONGPASS invalid username-password pair or user is disabled."
        );
        assert!(
            cli.send("HELLO 3 AUTH default pw")
                .starts_with("1# \"server\"")
        );
        assert_eq!(bytes(&mut cli, "GET k"), b"_\r\n");
    }

    // Texts read off a real Redis 7.0.15.
    #[test]
    fn auth_with_a_username() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(cli.send("AUTH default x"), "OK");
        assert_eq!(
            cli.send("AUTH bob x"),
            "(error) WRONGPASS invalid username-password pair or user is disabled."
        );
        assert_eq!(cli.send("AUTH a b c"), "(error) ERR syntax error");
        assert_eq!(
            cli.send("AUTH x"),
            "(error) ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
        );
        let mut cli = Cli::new(RedisConfig {
            requirepass: Some("pw".into()),
            ..RedisConfig::default()
        });
        assert_eq!(
            cli.send("AUTH default x"),
            "(error) WRONGPASS invalid username-password pair or user is disabled."
        );
        assert_eq!(cli.send("GET k"), "(error) NOAUTH Authentication required.");
        assert_eq!(cli.send("AUTH default pw"), "OK");
        assert_eq!(cli.send("GET k"), "(nil)");
    }

    #[test]
    fn client_names() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(bytes(&mut cli, "CLIENT GETNAME"), b"$-1\r\n");
        assert_eq!(cli.send("CLIENT SETNAME a"), "OK");
        assert_eq!(cli.send("CLIENT GETNAME"), "\"a\"");
        assert_eq!(
            cli.send("CLIENT SETNAME \"a b\""),
            "(error) ERR Client names cannot contain spaces, newlines or special characters."
        );
        assert_eq!(
            cli.send("HELLO 3 SETNAME b x"),
            "(error) ERR Syntax error in HELLO option 'x'"
        );
        // The name was set before the bad option; the protocol was not.
        assert_eq!(bytes(&mut cli, "CLIENT GETNAME"), b"$1\r\nb\r\n");
        assert_eq!(cli.send("CLIENT SETNAME \"\""), "OK");
        cli.send("HELLO 3");
        assert_eq!(bytes(&mut cli, "CLIENT GETNAME"), b"_\r\n");
    }

    /// EXEC's replies are written as their commands run: a HELLO inside
    /// the transaction switches the protocol between two of them.
    #[test]
    fn hello_inside_a_transaction() {
        let mut cli = Cli::new(RedisConfig::default());
        for line in ["MULTI", "GET a", "HELLO 3", "GET a"] {
            cli.send(line);
        }
        let exec = bytes(&mut cli, "EXEC");
        let mut want = b"*3\r\n$-1\r\n".to_vec();
        want.extend_from_slice(HELLO3);
        want.extend_from_slice(b"_\r\n");
        assert_eq!(exec, want);
    }
}
