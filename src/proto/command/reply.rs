//! `COMMAND` and its subcommands (server.c commandCommand() and the
//! functions next to it), answered from the command table of the process
//! (a Redis server's, or a Sentinel's) and the [`CommandInfo`] next to each
//! entry: every reply is built as Redis 7.0.15 builds it, field by field.
//!
//! One difference is on purpose. Redis walks its commands dict, and each
//! container's subcommands dict, in hash order, which depends on a seed
//! each process draws at start: `COMMAND`, `COMMAND INFO` with no names,
//! `COMMAND LIST` and the subcommands of a container come in an order that
//! changes from one real process to the next. redsim lists them in the
//! table's order, sorted by full name, a container's subcommands right
//! after it; the entries themselves are Redis's, byte for byte.
//!
//! `COMMAND DOCS` (summaries, arguments, history) is not modelled, and
//! `COMMAND GETKEYS` / `GETKEYSANDFLAGS` answer only what the key specs
//! decide: a command whose keys Redis finds with a function of its own
//! (`getkeys_proc`) is refused with an error saying so.
//!
//! [`CommandInfo`]: super::CommandInfo

use super::{BeginSearch, CommandSpec, FindKeys, Flags, KeySpec, Table};
use crate::proto::resp::Frame;
use crate::proto::util::{string2ll, stringmatch};

/// commandHelpCommand()'s lines; addReplyHelp() adds the header and the
/// `HELP` lines.
const COMMAND_HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// The reply to a `COMMAND` line that `table` already looked up (its
/// subcommand known, its arity right), in RESP3 terms: the caller puts it
/// in the connection's protocol.
pub fn command_frame(table: Table, argv: &[String]) -> Frame {
    let args = argv.get(2..).unwrap_or_default();
    let sub = argv.get(1).map(|s| s.to_ascii_lowercase());
    match sub.as_deref() {
        // commandCommand()
        None => all(table),
        // commandCountCommand()
        Some("count") => Frame::Int(top_level(table).count() as i64),
        Some("info") => info(table, args),
        Some("list") => list(table, args),
        Some("getkeys") => getkeys(table, args, false),
        Some("getkeysandflags") => getkeys(table, args, true),
        Some("help") => help(&argv[0]),
        Some(other) => Frame::Error(format!(
            "ERR redsim does not model 'command|{other}' in this form yet"
        )),
    }
}

/// The top-level commands (`server.commands`), in table order.
fn top_level(table: Table) -> impl Iterator<Item = &'static CommandSpec> {
    table.specs().iter().filter(|s| !s.name.contains('|'))
}

/// A container's subcommands (`cmd->subcommands_dict`), in table order.
fn subcommands(table: Table, name: &str) -> &'static [CommandSpec] {
    let specs = table.specs();
    let prefix = format!("{name}|");
    let start = specs.partition_point(|s| s.name < prefix.as_str());
    let len = specs[start..]
        .iter()
        .take_while(|s| s.name.starts_with(&prefix))
        .count();
    &specs[start..start + len]
}

/// Every top-level command's entry (commandCommand(), and commandInfoCommand()
/// without names).
fn all(table: Table) -> Frame {
    Frame::Array(Some(top_level(table).map(|s| entry(table, s)).collect()))
}

/// One command's entry (addReplyCommandInfo()): name, arity, flags, the
/// legacy key range, ACL categories, tips, key specs and subcommands.
fn entry(table: Table, spec: &CommandSpec) -> Frame {
    let info = table.info(spec);
    let subs = subcommands(table, spec.name);
    // addReplyCommandSubCommands(): an empty set when there are none.
    let subs = if subs.is_empty() {
        Frame::Set(Vec::new())
    } else {
        Frame::Array(Some(subs.iter().map(|s| entry(table, s)).collect()))
    };
    Frame::Array(Some(vec![
        Frame::bulk(spec.name),
        Frame::Int(i64::from(spec.arity)),
        flags_frame(spec.flags),
        Frame::Int(i64::from(spec.first_key)),
        Frame::Int(i64::from(spec.last_key)),
        Frame::Int(i64::from(spec.key_step)),
        // addReplyCommandCategories()
        Frame::Set(statuses(info.categories)),
        // addReplyCommandTips()
        Frame::Set(info.tips.split_whitespace().map(Frame::bulk).collect()),
        Frame::Set(info.key_specs.iter().map(key_spec_frame).collect()),
        subs,
    ]))
}

/// Space-separated names as status replies (addReplyCommandFlags()).
fn statuses(names: &str) -> Vec<Frame> {
    names
        .split_whitespace()
        .map(|n| Frame::Simple(n.to_string()))
        .collect()
}

/// addReplyFlagsForCommand(): `may_replicate` is hidden on purpose.
fn flags_frame(flags: Flags) -> Frame {
    Frame::Set(
        Flags::NAMES
            .iter()
            .filter(|(f, _)| *f != Flags::MAY_REPLICATE && flags.contains(*f))
            .map(|(_, name)| Frame::Simple((*name).to_string()))
            .collect(),
    )
}

/// addReplyCommandKeySpecs(): one key spec as a map.
fn key_spec_frame(k: &KeySpec) -> Frame {
    let typed = |kind: &str, spec: Vec<(&str, Frame)>| {
        Frame::map([("type", Frame::bulk(kind)), ("spec", Frame::map(spec))])
    };
    let int = |n: i32| Frame::Int(i64::from(n));
    let begin = match k.begin_search {
        BeginSearch::Unknown => typed("unknown", Vec::new()),
        BeginSearch::Index(pos) => typed("index", vec![("index", int(pos))]),
        BeginSearch::Keyword(keyword, startfrom) => typed(
            "keyword",
            vec![
                ("keyword", Frame::bulk(keyword)),
                ("startfrom", int(startfrom)),
            ],
        ),
    };
    let find = match k.find_keys {
        FindKeys::Unknown => typed("unknown", Vec::new()),
        FindKeys::Range(lastkey, keystep, limit) => typed(
            "range",
            vec![
                ("lastkey", int(lastkey)),
                ("keystep", int(keystep)),
                ("limit", int(limit)),
            ],
        ),
        FindKeys::Keynum(keynumidx, firstkey, keystep) => typed(
            "keynum",
            vec![
                ("keynumidx", int(keynumidx)),
                ("firstkey", int(firstkey)),
                ("keystep", int(keystep)),
            ],
        ),
    };
    let mut fields = Vec::with_capacity(4);
    if let Some(notes) = k.notes {
        fields.push(("notes", Frame::bulk(notes)));
    }
    fields.push(("flags", Frame::Set(statuses(k.flags))));
    fields.push(("begin_search", begin));
    fields.push(("find_keys", find));
    Frame::map(fields)
}

/// `COMMAND INFO [<command-name> ...]` (commandInfoCommand()): a null for
/// a name that is not a command (lookupCommandBySds(): `parent|sub` names a
/// subcommand, any case).
fn info(table: Table, names: &[String]) -> Frame {
    if names.is_empty() {
        return all(table);
    }
    Frame::Array(Some(
        names
            .iter()
            .map(|n| match table.get(n) {
                Some(spec) => entry(table, spec),
                None => Frame::Bulk(None),
            })
            .collect(),
    ))
}

/// `COMMAND LIST [FILTERBY MODULE <name> | ACLCAT <cat> | PATTERN <pat>]`
/// (commandListCommand()): each command's name, then its subcommands'.
/// No module is loaded, so `MODULE` matches nothing; a category Redis does
/// not know matches nothing either.
fn list(table: Table, args: &[String]) -> Frame {
    let matches: Box<dyn Fn(&CommandSpec) -> bool> = match args {
        [] => Box::new(|_| true),
        [filterby, kind, arg] if filterby.eq_ignore_ascii_case("filterby") => {
            let arg = arg.clone();
            match kind.to_ascii_lowercase().as_str() {
                "module" => Box::new(|_| false),
                // shouldFilterFromCommandList(): ACLGetCommandCategoryFlagByName().
                "aclcat" => Box::new(move |s| {
                    table.info(s).categories.split_whitespace().any(|c| {
                        c.strip_prefix('@')
                            .is_some_and(|c| c.eq_ignore_ascii_case(&arg))
                    })
                }),
                "pattern" => Box::new(move |s| stringmatch(&arg, s.name, true)),
                _ => return Frame::Error("ERR syntax error".into()),
            }
        }
        _ => return Frame::Error("ERR syntax error".into()),
    };
    let mut names = Vec::new();
    for spec in top_level(table) {
        for s in std::iter::once(spec).chain(subcommands(table, spec.name)) {
            if matches(s) {
                names.push(Frame::bulk(s.name));
            }
        }
    }
    Frame::Array(Some(names))
}

/// `COMMAND HELP` (commandHelpCommand() through addReplyHelp()).
fn help(command: &str) -> Frame {
    let header = format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        command.to_ascii_uppercase()
    );
    Frame::Array(Some(
        std::iter::once(header)
            .chain(COMMAND_HELP.iter().map(|l| (*l).to_string()))
            .map(Frame::Simple)
            .collect(),
    ))
}

/// `COMMAND GETKEYS` / `GETKEYSANDFLAGS <full-command>`
/// (getKeysSubcommandImpl() and getKeysFromCommandWithSpecs()).
///
/// Redis prefers the key specs, unless one has the `variable_flags` flag;
/// when they fail (a missing keyword, a bad key count, an `incomplete`
/// spec) it falls back to the command's own key function. Of the commands
/// of 7.0.15 that have one, all but SET and BITFIELD are `movablekeys`, and
/// those two have `variable_flags` specs. So: the key specs answer exactly
/// whenever Redis uses them; a command without `movablekeys` whose specs
/// fail has no key function and no keys; SET and BITFIELD give argument 1
/// (setGetKeys() and bitfieldGetKeys()), with flags that depend on the
/// arguments; a `movablekeys` command Redis would hand to its function is
/// refused, as are the flags of SET and BITFIELD.
fn getkeys(table: Table, args: &[String], with_flags: bool) -> Frame {
    let sub = if with_flags {
        "command|getkeysandflags"
    } else {
        "command|getkeys"
    };
    // lookupCommand(): a top-level command, or a container's subcommand
    // when one is named.
    let top = |name: &str| table.get(name).filter(|s| !s.name.contains('|'));
    let spec = match args {
        [] => None,
        [first, rest @ ..] => match (top(first), rest.first()) {
            (Some(base), Some(second)) if !subcommands(table, base.name).is_empty() => {
                if second.contains('|') {
                    None
                } else {
                    table.get(&format!("{}|{second}", base.name))
                }
            }
            (base, _) => base,
        },
    };
    let Some(spec) = spec else {
        return Frame::Error("ERR Invalid command specified".into());
    };
    let refuse = || {
        Frame::Error(format!(
            "ERR redsim does not model '{sub}' for '{}' yet (Redis finds its keys with a function of its own)",
            spec.name
        ))
    };
    let specs = table.info(spec).key_specs;
    let movable = spec.flags.contains(Flags::MOVABLEKEYS);
    // doesCommandHaveKeys()
    if !specs.iter().any(|k| !has_flag(k, "not_key")) {
        if movable {
            return refuse();
        }
        return Frame::Error("ERR The command has no key arguments".into());
    }
    let argc = args.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return Frame::Error("ERR Invalid number of arguments specified for command".into());
    }
    let keys: Vec<(usize, &str)> = if !specs.iter().any(|k| has_flag(k, "variable_flags")) {
        match keys_by_specs(specs, args) {
            Ok(keys) => keys,
            Err(()) if movable => return refuse(),
            Err(()) => Vec::new(),
        }
    } else if !movable && !with_flags && matches!(spec.name, "set" | "bitfield") {
        vec![(1, "")]
    } else {
        return refuse();
    };
    if keys.is_empty() {
        if spec.flags.contains(Flags::NO_MANDATORY_KEYS) {
            return Frame::Array(Some(Vec::new()));
        }
        return Frame::Error("ERR Invalid arguments specified for command".into());
    }
    Frame::Array(Some(
        keys.into_iter()
            .map(|(pos, flags)| {
                let key = Frame::bulk(args[pos].clone());
                if with_flags {
                    Frame::Array(Some(vec![key, Frame::Set(statuses(flags))]))
                } else {
                    key
                }
            })
            .collect(),
    ))
}

fn has_flag(k: &KeySpec, flag: &str) -> bool {
    k.flags.split_whitespace().any(|f| f == flag)
}

/// db.c getKeysUsingKeySpecs() with `GET_KEYSPEC_DEFAULT`: the position
/// of each key and its spec's flags, or `Err` where Redis gives up on the
/// specs (and turns to the command's key function).
fn keys_by_specs(specs: &[KeySpec], argv: &[String]) -> Result<Vec<(usize, &'static str)>, ()> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for spec in specs {
        if has_flag(spec, "not_key") {
            continue;
        }
        let mut first = match spec.begin_search {
            BeginSearch::Index(pos) => i64::from(pos),
            BeginSearch::Keyword(keyword, startfrom) => {
                let startfrom = i64::from(startfrom);
                let (start, end) = if startfrom > 0 {
                    (startfrom, argc - 1)
                } else {
                    (argc + startfrom, 1)
                };
                let mut found = 0;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(keyword) {
                        found = i + 1;
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                if found == 0 {
                    // The keyword is not there: this spec has no keys.
                    continue;
                }
                found
            }
            BeginSearch::Unknown => return Err(()),
        };
        let (last, step) = match spec.find_keys {
            FindKeys::Range(lastkey, keystep, limit) => {
                let (lastkey, limit) = (i64::from(lastkey), i64::from(limit));
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, i64::from(keystep))
            }
            FindKeys::Keynum(keynumidx, firstkey, keystep) => {
                let at = first + i64::from(keynumidx);
                if i64::from(keynumidx) >= argc || at >= argc {
                    return Err(());
                }
                let numkeys = match string2ll(&argv[at as usize]) {
                    Some(n) if n >= 0 => n,
                    _ => return Err(()),
                };
                first += i64::from(firstkey);
                (first + numkeys - 1, i64::from(keystep))
            }
            FindKeys::Unknown => return Err(()),
        };
        if last >= argc || last < first || first >= argc || step < 1 {
            return Err(());
        }
        let mut i = first;
        while i <= last {
            keys.push((i as usize, spec.flags));
            i += step;
        }
        if has_flag(spec, "incomplete") {
            return Err(());
        }
    }
    Ok(keys)
}
