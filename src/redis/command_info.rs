//! `COMMAND` on a Redis server: the reply is built by
//! [`crate::proto::command::reply`], over the server's command table (a
//! Sentinel answers with its own table the same way).

use crate::proto::Reply;
use crate::proto::command::Table;
use crate::proto::command::reply::command_frame;

use super::Server;

impl Server {
    /// `COMMAND [<subcommand> ...]` on a Redis server.
    pub(super) fn command_command(&self, argv: &[String]) -> Reply {
        Reply::Frame(command_frame(Table::Redis, argv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::resp::Frame;
    use crate::redis::config::RedisConfig;
    use crate::redis::testing::Cli;

    fn ints(v: &[i64]) -> Vec<Frame> {
        v.iter().map(|&n| Frame::Int(n)).collect()
    }

    fn simple(names: &[&str]) -> Vec<Frame> {
        names.iter().map(|n| Frame::Simple((*n).into())).collect()
    }

    fn names(f: &Frame) -> Vec<String> {
        let Frame::Array(Some(items)) = f else {
            panic!("an array: {f:?}")
        };
        items
            .iter()
            .map(|i| i.text().expect("a name").to_string())
            .collect()
    }

    #[test]
    fn count_is_the_number_of_top_level_commands() {
        let mut cli = Cli::new(RedisConfig::default());
        let top = Table::Redis
            .specs()
            .iter()
            .filter(|s| !s.name.contains('|'))
            .count();
        assert_eq!(cli.reply("COMMAND COUNT"), Frame::Int(top as i64));
        assert_eq!(top, 240);
        assert_eq!(
            command_frame(Table::Sentinel, &["command".into(), "count".into()]),
            Frame::Int(15)
        );
    }

    // The entry read off a real Redis 7.0.15 (`COMMAND INFO get`).
    #[test]
    fn info_of_get_is_redis_entry() {
        let mut cli = Cli::new(RedisConfig::default());
        cli.reply("HELLO 3");
        let key_spec = Frame::map([
            ("flags", Frame::Set(simple(&["RO", "access"]))),
            (
                "begin_search",
                Frame::map([
                    ("type", Frame::bulk("index")),
                    ("spec", Frame::map([("index", Frame::Int(1))])),
                ]),
            ),
            (
                "find_keys",
                Frame::map([
                    ("type", Frame::bulk("range")),
                    (
                        "spec",
                        Frame::map([
                            ("lastkey", Frame::Int(0)),
                            ("keystep", Frame::Int(1)),
                            ("limit", Frame::Int(0)),
                        ]),
                    ),
                ]),
            ),
        ]);
        let mut get = vec![Frame::bulk("get"), Frame::Int(2)];
        get.push(Frame::Set(simple(&["readonly", "fast"])));
        get.extend(ints(&[1, 1, 1]));
        get.push(Frame::Set(simple(&["@read", "@string", "@fast"])));
        get.push(Frame::Set(Vec::new()));
        get.push(Frame::Set(vec![key_spec]));
        get.push(Frame::Set(Vec::new()));
        let get = Frame::Array(Some(get));
        assert_eq!(cli.reply("COMMAND INFO GET"), Frame::Array(Some(vec![get])));
        // The bytes a real server sends.
        let wire = concat!(
            "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n",
            ":1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n",
            "~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n",
            "$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n",
            "$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n",
            "$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n",
            "$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n",
            "$5\r\nlimit\r\n:0\r\n~0\r\n",
        );
        assert_eq!(cli.reply("COMMAND INFO get").encode(), wire.as_bytes());
    }

    #[test]
    fn a_container_lists_its_subcommands_and_may_replicate_stays_hidden() {
        let f = command_frame(
            Table::Redis,
            &["command".into(), "info".into(), "config".into()],
        );
        let Frame::Array(Some(entries)) = f else {
            panic!("{f:?}")
        };
        let Frame::Array(Some(fields)) = &entries[0] else {
            panic!("{entries:?}")
        };
        let Frame::Array(Some(subs)) = &fields[9] else {
            panic!("{fields:?}")
        };
        let sub_names: Vec<&str> = subs
            .iter()
            .map(|s| match s {
                Frame::Array(Some(f)) => f[0].text().expect("a name"),
                f => panic!("{f:?}"),
            })
            .collect();
        assert_eq!(
            sub_names,
            [
                "config|get",
                "config|help",
                "config|resetstat",
                "config|rewrite",
                "config|set"
            ]
        );
        let publish = command_frame(
            Table::Redis,
            &["command".into(), "info".into(), "publish".into()],
        );
        assert!(!publish.to_cli().contains("may_replicate"));
    }

    #[test]
    fn an_unknown_name_is_a_null() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            cli.reply("COMMAND INFO nosuchcommand get|x config|get|x"),
            Frame::Array(Some(vec![Frame::Bulk(None); 3]))
        );
        cli.reply("HELLO 3");
        assert_eq!(
            cli.reply("COMMAND INFO nosuchcommand"),
            Frame::Array(Some(vec![Frame::Null]))
        );
    }

    // Names and order as redsim lists them; the same names as a real
    // Redis 7.0.15 gives (in its hash order).
    #[test]
    fn list_filters_by_glob_pattern_and_category() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            names(&cli.reply("COMMAND LIST FILTERBY PATTERN CONFIG*")),
            [
                "config",
                "config|get",
                "config|help",
                "config|resetstat",
                "config|rewrite",
                "config|set"
            ]
        );
        assert_eq!(
            names(&cli.reply("COMMAND LIST FILTERBY PATTERN *|get*")),
            [
                "acl|getuser",
                "client|getname",
                "client|getredir",
                "cluster|getkeysinslot",
                "command|getkeys",
                "command|getkeysandflags",
                "config|get",
                "slowlog|get"
            ]
        );
        let dangerous = names(&cli.reply("COMMAND LIST FILTERBY ACLCAT DANGEROUS"));
        assert_eq!(dangerous.len(), 75);
        assert!(dangerous.contains(&"client|kill".to_string()));
        assert_eq!(
            cli.reply("COMMAND LIST FILTERBY ACLCAT @dangerous"),
            Frame::Array(Some(Vec::new()))
        );
        assert_eq!(
            cli.reply("COMMAND LIST FILTERBY MODULE x"),
            Frame::Array(Some(Vec::new()))
        );
        assert_eq!(
            cli.reply("COMMAND LIST FILTERBY PATTERN a b"),
            Frame::Error("ERR syntax error".into())
        );
        let all = names(&cli.reply("COMMAND LIST"));
        assert_eq!(all.len(), Table::Redis.specs().len());
    }

    // Replies read off a real Redis 7.0.15.
    #[test]
    fn getkeys_follows_the_key_specs() {
        let mut cli = Cli::new(RedisConfig::default());
        let keys = |v: &[&str]| Frame::Array(Some(v.iter().map(|k| Frame::bulk(*k)).collect()));
        assert_eq!(cli.reply("COMMAND GETKEYS mset a 1 b 2"), keys(&["a", "b"]));
        assert_eq!(cli.reply("COMMAND GETKEYS mset a 1 b"), keys(&["a", "b"]));
        assert_eq!(cli.reply("COMMAND GETKEYS set k v"), keys(&["k"]));
        assert_eq!(
            cli.reply("COMMAND GETKEYS zunionstore d 2 a b"),
            keys(&["d", "a", "b"])
        );
        assert_eq!(cli.reply("COMMAND GETKEYS object encoding k"), keys(&["k"]));
        cli.reply("HELLO 3");
        assert_eq!(
            cli.reply("COMMAND GETKEYSANDFLAGS smove a b m"),
            Frame::Array(Some(vec![
                Frame::Array(Some(vec![
                    Frame::bulk("a"),
                    Frame::Set(simple(&["RW", "access", "delete"]))
                ])),
                Frame::Array(Some(vec![
                    Frame::bulk("b"),
                    Frame::Set(simple(&["RW", "insert"]))
                ])),
            ]))
        );
        for (line, err) in [
            ("COMMAND GETKEYS nosuch a", "ERR Invalid command specified"),
            (
                "COMMAND GETKEYS config nosuch x",
                "ERR Invalid command specified",
            ),
            (
                "COMMAND GETKEYS ping a",
                "ERR The command has no key arguments",
            ),
            (
                "COMMAND GETKEYS config get x",
                "ERR The command has no key arguments",
            ),
            (
                "COMMAND GETKEYS get a b",
                "ERR Invalid number of arguments specified for command",
            ),
        ] {
            assert_eq!(cli.reply(line), Frame::Error(err.into()), "{line}");
        }
    }

    #[test]
    fn getkeys_refuses_what_a_key_function_decides() {
        let mut cli = Cli::new(RedisConfig::default());
        for line in [
            "COMMAND GETKEYS sort k STORE d",
            "COMMAND GETKEYS eval s 0",
            "COMMAND GETKEYS zunionstore d 5 a b",
            "COMMAND GETKEYSANDFLAGS set k v GET",
        ] {
            let Frame::Error(e) = cli.reply(line) else {
                panic!("{line}")
            };
            assert!(
                e.starts_with("ERR redsim does not model 'command|getkeys"),
                "{e}"
            );
        }
        assert_eq!(
            cli.reply("COMMAND GETKEYS sort k STORE d"),
            Frame::Error(
                "ERR redsim does not model 'command|getkeys' for 'sort' yet (Redis finds its keys with a function of its own)"
                    .into()
            )
        );
    }

    #[test]
    fn help_and_docs() {
        let mut cli = Cli::new(RedisConfig::default());
        let Frame::Array(Some(lines)) = cli.reply("command help") else {
            panic!()
        };
        assert_eq!(lines.len(), 21);
        assert_eq!(
            lines[0],
            Frame::Simple(
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into()
            )
        );
        assert_eq!(lines[20], Frame::Simple("    Prints this help.".into()));
        assert_eq!(
            cli.reply("COMMAND DOCS get"),
            Frame::Error("ERR redsim does not model 'command|docs' in this form yet".into())
        );
    }
}
