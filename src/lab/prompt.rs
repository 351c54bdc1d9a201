//! The lab's prompt: a fault in the scenario file's vocabulary (`kill
//! master`, `partition master | replica-1 replica-2`, `heal`, `clock-jump
//! sentinel-2 +30s` …) or one of the lab's own words (`save`, `speed`,
//! `nodes`, `help`, `quit`). A fault becomes the `[[fault]]` table the file
//! would hold, so the scenario parser checks it as it checks a file.

use std::path::PathBuf;

use toml::Value;

use crate::scenario::FaultKind;

/// What a line typed at the prompt asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A fault, as its `[[fault]]` table without `at`.
    Fault(toml::Table),
    /// Write the session so far (to this file, or the one given at start).
    Save(Option<PathBuf>),
    /// Run at this many times the wall clock's pace.
    Speed(f64),
    Nodes,
    /// The outside connections and what each last sent.
    Clients,
    Help,
    Quit,
    /// An empty line.
    Nothing,
}

pub const HELP: &str = "\
faults, as a scenario's [[fault]] tables name them:
  kill NODE | crash NODE | shutdown NODE | restart NODE | pause NODE | resume NODE
  partition A B | C D     (one group alone: cut off from every other node)
  partition-oneway A B -> C D
  heal
  clock-jump NODE +30s
  replicaof NODE MASTER | replicaof NODE no one
  debug-sleep NODE 5s
  client-kill-master NODE
  cluster-failover NODE [force|takeover]
  burst NODE WRITES [VALUE-SIZE]
  link FROM TO latency=200ms jitter=1ms bandwidth=1gbit loss=0.01 both-ways=true
  reshard FROM TO SLOTS [batch=N]
the lab:
  nodes          each node's address, for redis-cli and clients
  clients        the outside connections and what each last sent
  speed X        run at X times the wall clock (0.1 to 1000)
  save [FILE]    write the session so far as a scenario (`redsim run FILE` replays it)
  quit           stop (saving first if --save was given)";

/// Reads one prompt line; `nodes` are every node's name (to cut a lone
/// partition group off from the rest).
pub fn parse(line: &str, nodes: &[String]) -> Result<Action, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&first, args)) = words.split_first() else {
        return Ok(Action::Nothing);
    };
    match first.to_ascii_lowercase().as_str() {
        "help" | "?" => return Ok(Action::Help),
        "quit" | "exit" => return Ok(Action::Quit),
        "nodes" => return Ok(Action::Nodes),
        "clients" => return Ok(Action::Clients),
        "save" => {
            return match args {
                [] => Ok(Action::Save(None)),
                [file] => Ok(Action::Save(Some(PathBuf::from(file)))),
                _ => Err("save takes one file name".into()),
            };
        }
        "speed" => {
            let x = args
                .first()
                .and_then(|a| a.trim_end_matches('x').parse::<f64>().ok())
                .filter(|x| (0.1..=1000.0).contains(x))
                .ok_or("speed takes a factor from 0.1 to 1000, e.g. `speed 10`")?;
            return Ok(Action::Speed(x));
        }
        _ => {}
    }
    let kind = FaultKind::from_key(&first.to_ascii_lowercase()).ok_or_else(|| {
        let mut words: Vec<&str> = crate::scenario::FAULT_KEYS.to_vec();
        words.extend(["save", "speed", "nodes", "clients", "help", "quit"]);
        match crate::scenario::error::suggest(first, &words) {
            Some(s) => format!(
                "unknown fault or command `{first}`: did you mean `{s}`? (`help` lists them)"
            ),
            None => format!("unknown fault or command `{first}` (`help` lists them)"),
        }
    })?;
    let value = fault_value(kind, args, nodes)?;
    let mut table = toml::Table::new();
    table.insert(kind.key().into(), value);
    Ok(Action::Fault(table))
}

fn fault_value(kind: FaultKind, args: &[&str], nodes: &[String]) -> Result<Value, String> {
    let key = kind.key();
    let s = |w: &str| Value::String(w.to_string());
    let one = || match args {
        [node] => Ok(s(node)),
        _ => Err(format!("usage: {key} NODE")),
    };
    let names = |ws: &[&str]| Value::Array(ws.iter().map(|w| s(w)).collect());
    let table = |pairs: Vec<(&str, Value)>| {
        Value::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    Ok(match kind {
        FaultKind::Kill
        | FaultKind::Crash
        | FaultKind::Shutdown
        | FaultKind::Restart
        | FaultKind::Pause
        | FaultKind::Resume
        | FaultKind::ClientKillMaster => one()?,
        FaultKind::Heal if args.is_empty() => Value::Boolean(true),
        FaultKind::Heal => return Err("heal takes nothing: it heals every partition".into()),
        FaultKind::Partition => {
            let mut groups: Vec<Vec<&str>> =
                args.split(|w| *w == "|").map(<[&str]>::to_vec).collect();
            if groups.iter().any(Vec::is_empty) {
                return Err("usage: partition A B | C D (no empty group)".into());
            }
            if groups.len() == 1 {
                let rest: Vec<&str> = nodes
                    .iter()
                    .map(String::as_str)
                    .filter(|n| !groups[0].contains(n))
                    .collect();
                groups.push(rest);
            }
            Value::Array(groups.iter().map(|g| names(g)).collect())
        }
        FaultKind::PartitionOneWay => {
            let Some(i) = args.iter().position(|w| *w == "->") else {
                return Err(format!("usage: {key} A B -> C D"));
            };
            table(vec![
                ("from", names(&args[..i])),
                ("to", names(&args[i + 1..])),
            ])
        }
        FaultKind::ClockJump => match args {
            [node, by] => table(vec![("node", s(node)), ("by", s(by))]),
            _ => return Err(format!("usage: {key} NODE +30s")),
        },
        FaultKind::ReplicaOf => match args {
            [node, no, one] if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") => {
                table(vec![("node", s(node)), ("master", s("no one"))])
            }
            [node, master] => table(vec![("node", s(node)), ("master", s(master))]),
            _ => return Err(format!("usage: {key} NODE MASTER, or {key} NODE no one")),
        },
        FaultKind::DiskSlow => match args {
            [node, fsync, length] => table(vec![
                ("node", s(node)),
                ("fsync", s(fsync)),
                ("for", s(length)),
            ]),
            _ => {
                return Err(format!(
                    "usage: {key} NODE FSYNC-TIME FOR (e.g. {key} master 3s 20s)"
                ));
            }
        },
        FaultKind::RdbCorrupt => match args {
            [node, length] => table(vec![("node", s(node)), ("for", s(length))]),
            [node, length, part] => table(vec![
                ("node", s(node)),
                ("for", s(length)),
                ("part", s(part)),
            ]),
            _ => return Err(format!("usage: {key} NODE 30s [checksum|signature]")),
        },
        FaultKind::DebugSleep
        | FaultKind::ForkFail
        | FaultKind::DiskFull
        | FaultKind::FsyncFail => match args {
            [node, length] => table(vec![("node", s(node)), ("for", s(length))]),
            _ => return Err(format!("usage: {key} NODE 5s")),
        },
        FaultKind::ClusterFailover => match args {
            [node] => table(vec![("node", s(node))]),
            [node, mode] => table(vec![("node", s(node)), ("mode", s(mode))]),
            _ => return Err(format!("usage: {key} NODE [force|takeover]")),
        },
        FaultKind::Burst => {
            let number = |w: &str| {
                w.parse::<i64>()
                    .map(Value::Integer)
                    .map_err(|_| format!("`{w}` is not a number"))
            };
            match args {
                [node, writes] => table(vec![("node", s(node)), ("writes", number(writes)?)]),
                [node, writes, size] => table(vec![
                    ("node", s(node)),
                    ("writes", number(writes)?),
                    ("value-size", number(size)?),
                ]),
                _ => return Err(format!("usage: {key} NODE WRITES [VALUE-SIZE]")),
            }
        }
        FaultKind::Link => {
            let [from, to, settings @ ..] = args else {
                return Err(format!("usage: {key} FROM TO latency=200ms …"));
            };
            let mut pairs = vec![("from", s(from)), ("to", s(to))];
            for kv in settings {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("`{kv}`: settings are written key=value"))?;
                let value = match k {
                    "loss" => Value::Float(
                        v.parse()
                            .map_err(|_| format!("loss `{v}` is not a number"))?,
                    ),
                    "both-ways" => Value::Boolean(
                        v.parse()
                            .map_err(|_| format!("both-ways `{v}` is true or false"))?,
                    ),
                    _ => s(v),
                };
                pairs.push((k, value));
            }
            table(pairs)
        }
        FaultKind::Reshard => {
            let [from, to, rest @ ..] = args else {
                return Err(format!("usage: {key} FROM TO SLOTS [batch=N]"));
            };
            let mut pairs = vec![("from", s(from)), ("to", s(to))];
            let mut slots = Vec::new();
            for w in rest {
                match w.strip_prefix("batch=") {
                    Some(n) => pairs.push((
                        "batch",
                        Value::Integer(
                            n.parse()
                                .map_err(|_| format!("batch `{n}` is not a number"))?,
                        ),
                    )),
                    None => slots.push(*w),
                }
            }
            pairs.push(("slots", s(&slots.join(" "))));
            table(pairs)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<String> {
        ["master", "replica-1", "replica-2", "sentinel-1"]
            .map(String::from)
            .into()
    }

    fn fault(line: &str) -> String {
        match parse(line, &nodes()) {
            Ok(Action::Fault(t)) => toml::to_string(&t).unwrap(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn faults_read_as_their_tables() {
        assert_eq!(fault("kill master"), "kill = \"master\"\n");
        assert_eq!(fault("heal"), "heal = true\n");
        assert_eq!(
            fault("partition master | replica-1 replica-2"),
            "partition = [[\"master\"], [\"replica-1\", \"replica-2\"]]\n"
        );
        assert_eq!(
            fault("clock-jump sentinel-1 +30s"),
            "[clock-jump]\nby = \"+30s\"\nnode = \"sentinel-1\"\n"
        );
        assert_eq!(
            fault("replicaof replica-1 no one"),
            "[replicaof]\nmaster = \"no one\"\nnode = \"replica-1\"\n"
        );
    }

    #[test]
    fn a_lone_partition_group_is_cut_off_from_the_rest() {
        assert_eq!(
            fault("partition master"),
            "partition = [[\"master\"], [\"replica-1\", \"replica-2\", \"sentinel-1\"]]\n"
        );
    }

    #[test]
    fn the_labs_own_words() {
        let n = nodes();
        assert_eq!(parse("  ", &n), Ok(Action::Nothing));
        assert_eq!(parse("speed 10", &n), Ok(Action::Speed(10.0)));
        assert_eq!(
            parse("save s.toml", &n),
            Ok(Action::Save(Some("s.toml".into())))
        );
        assert_eq!(parse("QUIT", &n), Ok(Action::Quit));
        assert_eq!(parse("clients", &n), Ok(Action::Clients));
        assert!(parse("speed 0", &n).is_err());
    }

    #[test]
    fn a_misspelt_fault_gets_a_suggestion() {
        let e = parse("kil master", &nodes()).unwrap_err();
        assert!(e.contains("did you mean `kill`?"), "{e}");
        assert_eq!(parse("kill", &nodes()).unwrap_err(), "usage: kill NODE");
    }
}
