//! The command table and the first checks of `processCommand()`: which
//! command a line names, and whether it has the right number of arguments.
//! Both Redis servers and Sentinels look commands up here, each in its own
//! table, so an unknown command, an unknown subcommand or a wrong arity gets
//! the reply text Redis 7.0.15 sends, byte for byte.

mod info;
pub mod reply;
mod table;

use std::fmt::Write as _;

/// Command flags, as `COMMAND` lists them (server.h `CMD_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags(u32);

impl Flags {
    pub const NONE: Flags = Flags(0);
    pub const WRITE: Flags = Flags(1);
    pub const READONLY: Flags = Flags(1 << 1);
    pub const DENYOOM: Flags = Flags(1 << 2);
    pub const ADMIN: Flags = Flags(1 << 3);
    pub const PUBSUB: Flags = Flags(1 << 4);
    pub const NOSCRIPT: Flags = Flags(1 << 5);
    pub const BLOCKING: Flags = Flags(1 << 6);
    pub const LOADING: Flags = Flags(1 << 7);
    pub const STALE: Flags = Flags(1 << 8);
    pub const SKIP_MONITOR: Flags = Flags(1 << 9);
    pub const SKIP_SLOWLOG: Flags = Flags(1 << 10);
    pub const ASKING: Flags = Flags(1 << 11);
    pub const FAST: Flags = Flags(1 << 12);
    pub const NO_AUTH: Flags = Flags(1 << 13);
    pub const MAY_REPLICATE: Flags = Flags(1 << 14);
    pub const NO_MANDATORY_KEYS: Flags = Flags(1 << 15);
    pub const NO_ASYNC_LOADING: Flags = Flags(1 << 16);
    pub const NO_MULTI: Flags = Flags(1 << 17);
    pub const MOVABLEKEYS: Flags = Flags(1 << 18);
    pub const ALLOW_BUSY: Flags = Flags(1 << 19);

    /// The flags' names in `COMMAND`'s order.
    pub const NAMES: [(Flags, &'static str); 20] = [
        (Flags::WRITE, "write"),
        (Flags::READONLY, "readonly"),
        (Flags::DENYOOM, "denyoom"),
        (Flags::ADMIN, "admin"),
        (Flags::PUBSUB, "pubsub"),
        (Flags::NOSCRIPT, "noscript"),
        (Flags::BLOCKING, "blocking"),
        (Flags::LOADING, "loading"),
        (Flags::STALE, "stale"),
        (Flags::SKIP_MONITOR, "skip_monitor"),
        (Flags::SKIP_SLOWLOG, "skip_slowlog"),
        (Flags::ASKING, "asking"),
        (Flags::FAST, "fast"),
        (Flags::NO_AUTH, "no_auth"),
        (Flags::MAY_REPLICATE, "may_replicate"),
        (Flags::NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (Flags::NO_ASYNC_LOADING, "no_async_loading"),
        (Flags::NO_MULTI, "no_multi"),
        (Flags::MOVABLEKEYS, "movablekeys"),
        (Flags::ALLOW_BUSY, "allow_busy"),
    ];

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// One entry of a command table (server.h `struct redisCommand`).
#[derive(Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// Lower case; `parent|sub` for a subcommand (Redis's `fullname`).
    pub name: &'static str,
    /// N exactly, or at least |N| when negative, counting the name.
    pub arity: i32,
    pub flags: Flags,
    /// The legacy key range: first key, last key (-1: the last argument,
    /// -2: the one before…) and step; 0 when the command takes no keys.
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
}

impl CommandSpec {
    /// Writes (CMD_WRITE) and commands that may replicate (PUBLISH, EVAL…):
    /// what `CLIENT PAUSE WRITE` holds back.
    pub fn may_replicate(&self) -> bool {
        self.flags.contains(Flags::WRITE) || self.flags.contains(Flags::MAY_REPLICATE)
    }

    /// The argument indexes that are keys, by the legacy key range
    /// (db.c `getKeysUsingKeySpecs()` for commands without movable keys).
    pub fn key_indexes(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let argc = argc as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key.min(argc - 1)
        };
        (self.first_key..=last)
            .step_by(self.key_step.max(1) as usize)
            .map(|i| i as usize)
            .collect()
    }
}

/// Flags by name, usable in a `static` (`f!(WRITE DENYOOM)`).
macro_rules! f {
    ($($name:ident)*) => {
        $crate::proto::command::Flags(0 $(| $crate::proto::command::Flags::$name.0)*)
    };
}
use f;

const fn c(
    name: &'static str,
    arity: i32,
    flags: Flags,
    first_key: i32,
    last_key: i32,
    key_step: i32,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key,
        last_key,
        key_step,
    }
}

/// What `COMMAND` says of a command beyond its [`CommandSpec`]: ACL
/// categories, tips and key specs (server.h `struct redisCommand`'s
/// `acl_categories`, `tips`, `key_specs`), as Redis 7.0.15 lists them.
#[derive(Debug, PartialEq, Eq)]
pub struct CommandInfo {
    /// The same full name as the [`CommandSpec`] it describes.
    pub name: &'static str,
    /// ACL categories, space separated, as addReplyCommandCategories()
    /// writes them (`"@read @string @fast"`).
    pub categories: &'static str,
    /// Command tips, space separated (`"nondeterministic_output"`).
    pub tips: &'static str,
    pub key_specs: &'static [KeySpec],
}

/// One key spec (server.h `keySpec`), as addReplyCommandKeySpecs()
/// shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub notes: Option<&'static str>,
    /// Key flags, space separated, in `COMMAND`'s order (`"RW access"`).
    pub flags: &'static str,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// Where the search for a spec's keys begins (`KSPEC_BS_*`).
#[derive(Debug, PartialEq, Eq)]
pub enum BeginSearch {
    Unknown,
    /// At this argument.
    Index(i32),
    /// After this keyword, searched from `startfrom` (from the end when
    /// negative).
    Keyword(&'static str, i32),
}

/// How a spec's keys are found from where the search began (`KSPEC_FK_*`).
#[derive(Debug, PartialEq, Eq)]
pub enum FindKeys {
    Unknown,
    /// `lastkey` (relative to the first key; from the end when negative),
    /// `keystep`, `limit`.
    Range(i32, i32, i32),
    /// `keynumidx`, `firstkey` (both relative to where the search began),
    /// `keystep`.
    Keynum(i32, i32, i32),
}

/// A [`CommandInfo`], usable in a `static`.
const fn i(
    name: &'static str,
    categories: &'static str,
    tips: &'static str,
    key_specs: &'static [KeySpec],
) -> CommandInfo {
    CommandInfo {
        name,
        categories,
        tips,
        key_specs,
    }
}

/// A [`KeySpec`] without notes.
const fn k(flags: &'static str, begin_search: BeginSearch, find_keys: FindKeys) -> KeySpec {
    KeySpec {
        notes: None,
        flags,
        begin_search,
        find_keys,
    }
}

/// A [`KeySpec`] with notes.
const fn kn(
    notes: &'static str,
    flags: &'static str,
    begin_search: BeginSearch,
    find_keys: FindKeys,
) -> KeySpec {
    KeySpec {
        notes: Some(notes),
        flags,
        begin_search,
        find_keys,
    }
}

/// Which process's table a line is looked up in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// A Redis server (`redisCommandTable`).
    Redis,
    /// A Sentinel (`sentinelcmds`: only its own few commands).
    Sentinel,
}

impl Table {
    pub fn specs(self) -> &'static [CommandSpec] {
        match self {
            Table::Redis => table::REDIS,
            Table::Sentinel => table::SENTINEL,
        }
    }

    /// Every command's [`CommandInfo`], in [`Table::specs`]'s order.
    pub fn infos(self) -> &'static [CommandInfo] {
        match self {
            Table::Redis => info::REDIS,
            Table::Sentinel => info::SENTINEL,
        }
    }

    /// The [`CommandInfo`] of a command in this table.
    pub fn info(self, spec: &CommandSpec) -> &'static CommandInfo {
        let infos = self.infos();
        let i = infos
            .binary_search_by(|i| i.name.cmp(spec.name))
            .expect("every command has its info");
        &infos[i]
    }

    /// A command by its full name, in any case.
    pub fn get(self, name: &str) -> Option<&'static CommandSpec> {
        let name = name.to_ascii_lowercase();
        let specs = self.specs();
        specs
            .binary_search_by(|s| s.name.cmp(name.as_str()))
            .ok()
            .map(|i| &specs[i])
    }

    /// Whether `name` has subcommands (server.c `isContainerCommandBySds()`).
    fn is_container(self, name: &str) -> bool {
        // Sorted by name: a container's first subcommand comes right where
        // `name|` would.
        let prefix = format!("{}|", name.to_ascii_lowercase());
        let specs = self.specs();
        let i = specs.partition_point(|s| s.name < prefix.as_str());
        specs.get(i).is_some_and(|s| s.name.starts_with(&prefix))
    }

    /// The command a line names, or the error `processCommand()` replies
    /// (server.c `lookupCommand()`, `commandCheckExistence()`,
    /// `commandCheckArity()`). The error is without its leading `-`.
    pub fn lookup<S: AsRef<str>>(self, argv: &[S]) -> Result<&'static CommandSpec, String> {
        let Some(first) = argv.first().map(|a| a.as_ref()) else {
            return Err("ERR unknown command '', with args beginning with: ".into());
        };
        let container = self.is_container(first);
        let spec = if container && argv.len() > 1 {
            self.get(&format!("{first}|{}", argv[1].as_ref()))
        } else {
            self.get(first)
        };
        let Some(spec) = spec else {
            if container {
                return Err(no_newlines(format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    truncate(argv[1].as_ref(), 128),
                    first.to_ascii_uppercase()
                )));
            }
            let mut args = String::new();
            for a in &argv[1..] {
                if args.len() >= 128 {
                    break;
                }
                let room = 128 - args.len();
                let _ = write!(args, "'{}' ", truncate(a.as_ref(), room));
            }
            return Err(no_newlines(format!(
                "ERR unknown command '{}', with args beginning with: {args}",
                truncate(first, 128)
            )));
        };
        let argc = argv.len() as i32;
        if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
            return Err(format!(
                "ERR wrong number of arguments for '{}' command",
                spec.name
            ));
        }
        Ok(spec)
    }
}

/// At most `n` bytes of `s`, as `%.*s` prints it (cut at a char boundary).
fn truncate(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `rejectCommandFormat()` turns newlines into spaces so the error stays
/// one protocol line.
fn no_newlines(s: String) -> String {
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(t: Table, line: &str) -> String {
        let argv: Vec<&str> = line.split(' ').collect();
        t.lookup(&argv).unwrap_err()
    }

    // Reply texts below were read off a real Redis 7.0.15 and Sentinel.
    #[test]
    fn unknown_command_quotes_each_argument_with_a_trailing_space() {
        assert_eq!(
            err(Table::Redis, "FOO a b"),
            "ERR unknown command 'FOO', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            err(Table::Redis, "FOO"),
            "ERR unknown command 'FOO', with args beginning with: "
        );
    }

    #[test]
    fn unknown_command_arguments_stop_after_128_characters() {
        let long = "x".repeat(200);
        let e = err(Table::Redis, &format!("FOO {long} b"));
        assert_eq!(
            e,
            format!(
                "ERR unknown command 'FOO', with args beginning with: '{}' ",
                "x".repeat(128)
            )
        );
    }

    #[test]
    fn a_container_with_an_unknown_subcommand_points_to_help() {
        assert_eq!(
            err(Table::Redis, "config FOO"),
            "ERR unknown subcommand 'FOO'. Try CONFIG HELP."
        );
        assert_eq!(
            err(Table::Sentinel, "sentinel FOO"),
            "ERR unknown subcommand 'FOO'. Try SENTINEL HELP."
        );
    }

    #[test]
    fn wrong_arity_names_the_full_command() {
        assert_eq!(
            err(Table::Redis, "SET a"),
            "ERR wrong number of arguments for 'set' command"
        );
        assert_eq!(
            err(Table::Redis, "CONFIG"),
            "ERR wrong number of arguments for 'config' command"
        );
        assert_eq!(
            err(Table::Redis, "CLIENT KILL"),
            "ERR wrong number of arguments for 'client|kill' command"
        );
        assert_eq!(
            err(Table::Redis, "REPLICAOF no one x"),
            "ERR wrong number of arguments for 'replicaof' command"
        );
        assert_eq!(
            err(Table::Sentinel, "SENTINEL MASTERS x"),
            "ERR wrong number of arguments for 'sentinel|masters' command"
        );
    }

    #[test]
    fn each_process_knows_only_its_own_commands() {
        assert_eq!(
            err(Table::Redis, "SENTINEL FOO"),
            "ERR unknown command 'SENTINEL', with args beginning with: 'FOO' "
        );
        assert_eq!(
            err(Table::Sentinel, "SET a b"),
            "ERR unknown command 'SET', with args beginning with: 'a' 'b' "
        );
        assert!(Table::Sentinel.lookup(&["ping"]).is_ok());
    }

    #[test]
    fn lookup_ignores_case_and_reads_flags() {
        let set = Table::Redis.lookup(&["sEt", "k", "v"]).unwrap();
        assert_eq!(set.name, "set");
        assert!(set.flags.contains(Flags::WRITE | Flags::DENYOOM));
        let ping = Table::Redis.get("PING").unwrap();
        assert!(!ping.flags.contains(Flags::STALE));
        assert!(!ping.flags.contains(Flags::LOADING));
        assert!(Table::Redis.get("publish").unwrap().may_replicate());
        assert!(
            Table::Redis
                .get("info")
                .unwrap()
                .flags
                .contains(Flags::LOADING | Flags::STALE)
        );
    }

    #[test]
    fn key_ranges_follow_first_last_step() {
        let mset = Table::Redis.get("mset").unwrap();
        assert_eq!(mset.key_indexes(5), vec![1, 3]);
        let del = Table::Redis.get("del").unwrap();
        assert_eq!(del.key_indexes(4), vec![1, 2, 3]);
        assert_eq!(
            Table::Redis.get("ping").unwrap().key_indexes(1),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for t in [Table::Redis, Table::Sentinel] {
            assert!(t.specs().windows(2).all(|w| w[0].name < w[1].name));
        }
    }

    #[test]
    fn every_command_has_its_info_in_the_same_order() {
        for t in [Table::Redis, Table::Sentinel] {
            let specs: Vec<&str> = t.specs().iter().map(|s| s.name).collect();
            let infos: Vec<&str> = t.infos().iter().map(|i| i.name).collect();
            assert_eq!(specs, infos);
        }
        let get = Table::Redis.info(Table::Redis.get("get").unwrap());
        assert_eq!(get.categories, "@read @string @fast");
        assert_eq!(
            get.key_specs,
            &[k(
                "RO access",
                BeginSearch::Index(1),
                FindKeys::Range(0, 1, 0)
            )]
        );
    }
}
