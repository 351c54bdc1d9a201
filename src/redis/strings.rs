//! The string and TTL commands with their options (t_string.c:
//! setCommand(), setnxCommand(), setexCommand(), psetexCommand(),
//! getexCommand(), getdelCommand(), incrDecrCommand(), appendCommand(),
//! strlenCommand(), getsetCommand(); expire.c: expireGenericCommand(),
//! ttlGenericCommand(), persistCommand(); db.c: typeCommand()).
//!
//! A command decides on the master, with expired keys already deleted by
//! its lookups, what it propagates, exactly as Redis rewrites it (`SET k v
//! PXAT <ms>`, `PEXPIREAT k <ms>`, `DEL k`, `PERSIST k`); the dataset then
//! changes by applying that line, the same way a replica applies it from
//! the stream ([`apply`]).

use crate::proto::command::CommandSpec;
use crate::proto::keyspace::{Dataset, ERR_NOT_INTEGER};
use crate::proto::resp::Frame;
use crate::proto::util::string2ll;
use crate::proto::{Cmd, Ctx, Reply, Value};

use super::Server;
use super::expire::Lookup;

pub(super) const ERR_SYNTAX: &str = "ERR syntax error";

/// The commands this module runs.
pub fn handles(name: &str) -> bool {
    matches!(
        name,
        "set"
            | "setnx"
            | "setex"
            | "psetex"
            | "getex"
            | "getdel"
            | "expire"
            | "pexpire"
            | "expireat"
            | "pexpireat"
            | "ttl"
            | "pttl"
            | "expiretime"
            | "pexpiretime"
            | "persist"
            | "decr"
            | "incrby"
            | "decrby"
            | "append"
            | "strlen"
            | "getset"
            | "type"
    )
}

/// `OBJ_*` flags of parseExtendedStringArgumentsOrReply().
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct SetFlags {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// EX, PX, EXAT or PXAT and the index of its argument.
    expire: Option<(ExpireKind, usize)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireKind {
    fn seconds(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::ExAt)
    }
    fn relative(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::Px)
    }
}

/// parseExtendedStringArgumentsOrReply(): options from argv[3] (SET) or
/// argv[2] (GETEX), each refused when it conflicts with one before it.
fn parse_options(argv: &[String], set: bool) -> Result<SetFlags, &'static str> {
    let mut f = SetFlags::default();
    let mut j = if set { 3 } else { 2 };
    while j < argv.len() {
        let opt = argv[j].to_ascii_lowercase();
        let has_next = j + 1 < argv.len();
        let any_expire = f.expire.is_some();
        match opt.as_str() {
            "nx" if !f.xx && set => f.nx = true,
            "xx" if !f.nx && set => f.xx = true,
            "get" if set => f.get = true,
            "keepttl" if !f.persist && !any_expire && set => f.keepttl = true,
            "persist" if !set && !any_expire && !f.keepttl => f.persist = true,
            "ex" | "px" | "exat" | "pxat" if !f.keepttl && !f.persist && has_next => {
                let kind = match opt.as_str() {
                    "ex" => ExpireKind::Ex,
                    "px" => ExpireKind::Px,
                    "exat" => ExpireKind::ExAt,
                    _ => ExpireKind::PxAt,
                };
                // The same option again is allowed (the last one wins).
                if f.expire.is_some_and(|(k, _)| k != kind) {
                    return Err(ERR_SYNTAX);
                }
                f.expire = Some((kind, j + 1));
                j += 1;
            }
            _ => return Err(ERR_SYNTAX),
        }
        j += 1;
    }
    Ok(f)
}

/// getExpireMillisecondsOrReply(): the absolute expire time in ms.
fn expire_ms(arg: &str, kind: ExpireKind, now_ms: i64, cmd: &str) -> Result<i64, String> {
    let invalid = || format!("ERR invalid expire time in '{cmd}' command");
    let mut ms = string2ll(arg).ok_or_else(|| ERR_NOT_INTEGER.to_string())?;
    if ms <= 0 || (kind.seconds() && ms > i64::MAX / 1000) {
        return Err(invalid());
    }
    if kind.seconds() {
        ms *= 1000;
    }
    if kind.relative() {
        ms = ms.wrapping_add(now_ms);
    }
    if ms <= 0 {
        return Err(invalid());
    }
    Ok(ms)
}

/// Applies a write line as propagated (on the master after deciding it, on
/// a replica from the stream, from the AOF): no expiry checks, as for the
/// master client. True when the dataset changed. MSET and DEL of several
/// keys (multikey.rs) apply here too.
pub fn apply(d: &mut Dataset, name: &str, argv: &[String]) -> bool {
    match name {
        "mset" => {
            for pair in argv[1..].chunks_exact(2) {
                d.set(
                    pair[0].as_str().into(),
                    Value::Text(pair[1].as_str().into()),
                );
            }
            true
        }
        "del" => {
            // Every key is deleted: no short-circuit.
            let deleted = argv[1..].iter().filter(|k| d.del(k)).count();
            deleted > 0
        }
        "set" => {
            let Ok(f) = parse_options(argv, true) else {
                return false;
            };
            let found = d.get(&argv[1]).is_some();
            if (f.nx && found) || (f.xx && !found) {
                return false;
            }
            let (key, value) = (
                argv[1].as_str().into(),
                Value::Text(argv[2].as_str().into()),
            );
            if f.keepttl {
                d.set_keep_ttl(key, value);
            } else {
                d.set(key, value);
            }
            // Masters propagate only absolute times.
            if let Some((kind, i)) = f.expire
                && !kind.relative()
                && let Some(t) = string2ll(&argv[i])
            {
                let ms = if kind.seconds() {
                    t.saturating_mul(1000)
                } else {
                    t
                };
                d.set_expire(&argv[1], ms);
            }
            true
        }
        "setnx" => {
            if d.get(&argv[1]).is_some() {
                return false;
            }
            d.set(
                argv[1].as_str().into(),
                Value::Text(argv[2].as_str().into()),
            );
            true
        }
        "pexpireat" => match (string2ll(&argv[2]), ExpireOptions::parse(&argv[3..])) {
            (Some(when), Ok(opts)) if d.get(&argv[1]).is_some() => {
                if opts.refuse(d.expire_at(&argv[1]), when) {
                    return false;
                }
                d.set_expire(&argv[1], when);
                true
            }
            _ => false,
        },
        "persist" => d.remove_expire(&argv[1]),
        "decr" | "incrby" | "decrby" => match incr_of(name, argv) {
            Ok(by) => match incremented(d.get(&argv[1]), by) {
                Ok(v) => {
                    // dbOverwrite(): the TTL stays.
                    d.set_keep_ttl(argv[1].as_str().into(), Value::Int(v));
                    true
                }
                Err(_) => false,
            },
            Err(_) => false,
        },
        "append" => {
            let v = match d.get(&argv[1]) {
                Some(old) => format!("{old}{}", argv[2]),
                None => argv[2].clone(),
            };
            d.set_keep_ttl(argv[1].as_str().into(), Value::Text(v.as_str().into()));
            true
        }
        _ => false,
    }
}

/// The increment of DECR, INCRBY or DECRBY (incrbyCommand(),
/// decrbyCommand()).
fn incr_of(name: &str, argv: &[String]) -> Result<i64, &'static str> {
    match name {
        "decr" => Ok(-1),
        "incrby" => string2ll(&argv[2]).ok_or(ERR_NOT_INTEGER),
        _ => match string2ll(&argv[2]) {
            None => Err(ERR_NOT_INTEGER),
            Some(i64::MIN) => Err("ERR decrement would overflow"),
            Some(v) => Ok(-v),
        },
    }
}

/// incrDecrCommand(): the value after adding `by` to a string holding an
/// integer (a missing key counts as 0).
fn incremented(old: Option<&Value>, by: i64) -> Result<i64, &'static str> {
    let value = match old {
        None => 0,
        Some(Value::Int(i)) => *i,
        Some(Value::Text(t)) => string2ll(t).ok_or(ERR_NOT_INTEGER)?,
        Some(Value::Blob { .. }) => return Err(ERR_NOT_INTEGER),
    };
    value
        .checked_add(by)
        .ok_or("ERR increment or decrement would overflow")
}

/// EXPIRE's NX, XX, GT and LT (parseExtendedExpireArgumentsOrReply()).
#[derive(Clone, Copy, Default)]
struct ExpireOptions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireOptions {
    fn parse(opts: &[String]) -> Result<Self, String> {
        let mut o = ExpireOptions::default();
        for opt in opts {
            match opt.to_ascii_lowercase().as_str() {
                "nx" => o.nx = true,
                "xx" => o.xx = true,
                "gt" => o.gt = true,
                "lt" => o.lt = true,
                _ => return Err(format!("ERR Unsupported option {opt}")),
            }
        }
        if o.nx && (o.xx || o.gt || o.lt) {
            return Err(
                "ERR NX and XX, GT or LT options at the same time are not compatible".into(),
            );
        }
        if o.gt && o.lt {
            return Err("ERR GT and LT options at the same time are not compatible".into());
        }
        Ok(o)
    }

    /// Whether the options keep `when` from replacing the `current` expire
    /// time (no TTL counts as infinite: GT always fails on it).
    fn refuse(self, current: Option<i64>, when: i64) -> bool {
        (self.nx && current.is_some())
            || (self.xx && current.is_none())
            || (self.gt && current.is_none_or(|c| when <= c))
            || (self.lt && current.is_some_and(|c| when >= c))
    }
}

/// A line the server composes.
fn line(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

impl Server {
    /// One of [`handles`]' commands, after the admission checks.
    pub(super) fn string_command(
        &mut self,
        ctx: &Ctx<'_>,
        spec: &'static CommandSpec,
        argv: &[String],
    ) -> Reply {
        let now = ctx.mstime() as i64;
        let name = spec.name;
        let frame = match name {
            "set" => self.set_command(ctx, argv, now),
            "setnx" => {
                if self.lookup(ctx, &argv[1], Lookup::Write) {
                    Frame::Int(0)
                } else {
                    self.write(argv.to_vec());
                    Frame::Int(1)
                }
            }
            "setex" | "psetex" => {
                let kind = if name == "setex" {
                    ExpireKind::Ex
                } else {
                    ExpireKind::Px
                };
                match expire_ms(&argv[2], kind, now, name) {
                    Err(e) => Frame::Error(e),
                    Ok(ms) => {
                        self.lookup(ctx, &argv[1], Lookup::Write);
                        let ms = ms.to_string();
                        self.write(line(&["SET", &argv[1], &argv[3], "PXAT", &ms]));
                        Frame::ok()
                    }
                }
            }
            "getdel" => {
                let old = self.read_string(ctx, &argv[1]);
                if old.is_some() {
                    self.write(line(&["DEL", &argv[1]]));
                }
                bulk(old)
            }
            "getex" => self.getex_command(ctx, argv, now),
            "decr" | "incrby" | "decrby" => {
                let by = match incr_of(name, argv) {
                    Ok(by) => by,
                    Err(e) => return Reply::Error(e.into()),
                };
                self.lookup(ctx, &argv[1], Lookup::Write);
                match incremented(self.data.get(&argv[1]), by) {
                    Ok(v) => {
                        self.write(argv.to_vec());
                        Frame::Int(v)
                    }
                    Err(e) => Frame::Error(e.into()),
                }
            }
            "append" => {
                self.lookup(ctx, &argv[1], Lookup::Write);
                self.write(argv.to_vec());
                let len = self.data.get(&argv[1]).map_or(0, Value::byte_len);
                Frame::Int(len as i64)
            }
            "strlen" => {
                let len = self.read_string(ctx, &argv[1]).map_or(0, |v| v.byte_len());
                Frame::Int(len as i64)
            }
            "getset" => {
                let old = self.read_string(ctx, &argv[1]);
                self.lookup(ctx, &argv[1], Lookup::Write);
                // Propagated as SET (getsetCommand()).
                self.write(line(&["SET", &argv[1], &argv[2]]));
                bulk(old)
            }
            "type" => {
                let kind = if self.lookup(ctx, &argv[1], Lookup::Read) {
                    "string"
                } else {
                    "none"
                };
                Frame::Simple(kind.into())
            }
            "expire" | "pexpire" | "expireat" | "pexpireat" => {
                self.expire_command(ctx, name, argv, now)
            }
            "ttl" | "pttl" | "expiretime" | "pexpiretime" => {
                if !self.lookup(ctx, &argv[1], Lookup::Read) {
                    Frame::Int(-2)
                } else {
                    match self.data.expire_at(&argv[1]) {
                        None => Frame::Int(-1),
                        Some(when) => {
                            let abs = name.ends_with("expiretime");
                            let ttl = (if abs { when } else { when - now }).max(0);
                            let ms = name.starts_with('p');
                            Frame::Int(if ms { ttl } else { (ttl + 500) / 1000 })
                        }
                    }
                }
            }
            "persist" => {
                if self.lookup(ctx, &argv[1], Lookup::Write)
                    && self.data.expire_at(&argv[1]).is_some()
                {
                    self.write(argv.to_vec());
                    Frame::Int(1)
                } else {
                    Frame::Int(0)
                }
            }
            _ => Frame::Error(format!(
                "ERR redsim does not model '{name}' in this form yet"
            )),
        };
        Reply::Frame(frame)
    }

    /// Decides a change by its propagated line: applied, then propagated.
    fn write(&mut self, argv: Vec<String>) {
        let cmd = Cmd::named(&argv);
        let Cmd::Named { spec, argv } = &cmd else {
            unreachable!("Cmd::named gives a named line")
        };
        let changed = apply(&mut self.data, spec.name, argv);
        if changed {
            self.dirty += 1;
            self.propagate(cmd);
        }
    }

    /// getGenericCommand(): the value, or `None` when the key is missing.
    fn read_string(&mut self, ctx: &Ctx<'_>, key: &str) -> Option<Value> {
        if self.lookup(ctx, key, Lookup::Read) {
            self.data.get(key).cloned()
        } else {
            None
        }
    }

    /// setCommand() and setGenericCommand().
    fn set_command(&mut self, ctx: &Ctx<'_>, argv: &[String], now: i64) -> Frame {
        let f = match parse_options(argv, true) {
            Ok(f) => f,
            Err(e) => return Frame::Error(e.into()),
        };
        let expire = match f.expire {
            Some((kind, i)) => match expire_ms(&argv[i], kind, now, "set") {
                Ok(ms) => Some(ms),
                Err(e) => return Frame::Error(e),
            },
            None => None,
        };
        let old = f.get.then(|| self.read_string(ctx, &argv[1]));
        let found = self.lookup(ctx, &argv[1], Lookup::Write);
        let reply = |ok: Frame| match &old {
            Some(v) => bulk(v.clone()),
            None => ok,
        };
        if (f.nx && found) || (f.xx && !found) {
            return reply(Frame::Bulk(None));
        }
        let propagated = match expire {
            Some(ms) => line(&["SET", &argv[1], &argv[2], "PXAT", &ms.to_string()]),
            None if f.get => argv
                .iter()
                .enumerate()
                .filter(|(j, a)| *j < 3 || !a.eq_ignore_ascii_case("get"))
                .map(|(_, a)| a.clone())
                .collect(),
            None => argv.to_vec(),
        };
        // NX/XX were decided above, with expired keys gone; the line keeps
        // them, and applying it decides the same.
        self.write(propagated);
        reply(Frame::ok())
    }

    /// getexCommand().
    fn getex_command(&mut self, ctx: &Ctx<'_>, argv: &[String], now: i64) -> Frame {
        let f = match parse_options(argv, false) {
            Ok(f) => f,
            Err(e) => return Frame::Error(e.into()),
        };
        let Some(value) = self.read_string(ctx, &argv[1]) else {
            return Frame::Bulk(None);
        };
        let expire = match f.expire {
            Some((kind, i)) => match expire_ms(&argv[i], kind, now, "getex") {
                Ok(ms) => Some((kind, ms)),
                Err(e) => return Frame::Error(e),
            },
            None => None,
        };
        match expire {
            Some((kind, ms)) if !kind.relative() && self.already_expired(ms, now) => {
                self.write(line(&["DEL", &argv[1]]));
            }
            Some((_, ms)) => {
                self.write(line(&["PEXPIREAT", &argv[1], &ms.to_string()]));
            }
            None if f.persist => self.write(line(&["PERSIST", &argv[1]])),
            None => {}
        }
        bulk(Some(value))
    }

    /// checkAlreadyExpired(): a time not after now deletes the key, except
    /// on a replica (which waits for the master's DEL) or while loading
    /// (these commands are refused then: -LOADING).
    fn already_expired(&self, when: i64, now: i64) -> bool {
        when <= now && self.replica.is_none()
    }

    /// expireGenericCommand(). Propagated as PEXPIREAT with the options
    /// kept, or as DEL when the time has already passed.
    fn expire_command(&mut self, ctx: &Ctx<'_>, name: &str, argv: &[String], now: i64) -> Frame {
        let opts = match ExpireOptions::parse(&argv[3..]) {
            Ok(o) => o,
            Err(e) => return Frame::Error(e),
        };
        let Some(mut when) = string2ll(&argv[2]) else {
            return Frame::Error(ERR_NOT_INTEGER.into());
        };
        let invalid = || Frame::Error(format!("ERR invalid expire time in '{name}' command"));
        if !name.starts_with('p') {
            if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
                return invalid();
            }
            when *= 1000;
        }
        let basetime = if name.ends_with("at") { 0 } else { now };
        if when > i64::MAX - basetime {
            return invalid();
        }
        when += basetime;
        if !self.lookup(ctx, &argv[1], Lookup::Write) {
            return Frame::Int(0);
        }
        if opts.refuse(self.data.expire_at(&argv[1]), when) {
            return Frame::Int(0);
        }
        if self.already_expired(when, now) {
            self.write(line(&["DEL", &argv[1]]));
        } else {
            let mut propagated = argv.to_vec();
            propagated[0] = "PEXPIREAT".into();
            propagated[2] = when.to_string();
            self.write(propagated);
        }
        Frame::Int(1)
    }
}

fn bulk(v: Option<Value>) -> Frame {
    match v {
        Some(v) => Frame::bulk(v.to_string()),
        None => Frame::Bulk(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn set_options_conflict_as_redis_parses_them() {
        assert!(parse_options(&argv("SET k v NX XX"), true).is_err());
        assert!(parse_options(&argv("SET k v EX 1 PX 1"), true).is_err());
        assert!(parse_options(&argv("SET k v KEEPTTL EX 1"), true).is_err());
        assert!(parse_options(&argv("SET k v EX"), true).is_err());
        assert!(parse_options(&argv("SET k v PERSIST"), true).is_err());
        assert!(parse_options(&argv("GETEX k KEEPTTL"), false).is_err());
        assert!(parse_options(&argv("GETEX k NX"), false).is_err());
        let f = parse_options(&argv("SET k v nx get px 100"), true).unwrap();
        assert!(f.nx && f.get && f.expire == Some((ExpireKind::Px, 6)));
        // The same option twice: the last value counts.
        let f = parse_options(&argv("SET k v EX 1 EX 2"), true).unwrap();
        assert_eq!(f.expire, Some((ExpireKind::Ex, 6)));
    }

    #[test]
    fn expire_times_are_checked_as_redis_checks_them() {
        assert_eq!(expire_ms("10", ExpireKind::Ex, 5, "set"), Ok(10_005));
        assert_eq!(expire_ms("10", ExpireKind::PxAt, 5, "set"), Ok(10));
        assert_eq!(
            expire_ms("0", ExpireKind::Px, 5, "set"),
            Err("ERR invalid expire time in 'set' command".into())
        );
        assert_eq!(
            expire_ms("x", ExpireKind::Px, 5, "setex"),
            Err(ERR_NOT_INTEGER.into())
        );
        assert_eq!(
            expire_ms(
                &(i64::MAX / 1000 + 1).to_string(),
                ExpireKind::Ex,
                5,
                "setex"
            ),
            Err("ERR invalid expire time in 'setex' command".into())
        );
    }

    /// incrDecrCommand()'s checks: integers only, no overflow either way.
    #[test]
    fn increments_check_the_value_and_overflow() {
        assert_eq!(incremented(None, -1), Ok(-1));
        assert_eq!(incremented(Some(&Value::Text("41".into())), 1), Ok(42));
        assert_eq!(
            incremented(Some(&Value::Text("4x".into())), 1),
            Err(ERR_NOT_INTEGER)
        );
        assert_eq!(
            incremented(Some(&Value::Int(i64::MAX)), 1),
            Err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            incr_of("decrby", &argv("DECRBY k -9223372036854775808")),
            Err("ERR decrement would overflow")
        );
        assert_eq!(incr_of("decrby", &argv("DECRBY k 3")), Ok(-3));
    }

    #[test]
    fn a_replica_applies_the_propagated_forms() {
        let mut d = Dataset::default();
        assert!(apply(&mut d, "set", &argv("SET k v PXAT 5000")));
        assert_eq!(d.expire_at("k"), Some(5000));
        assert!(apply(&mut d, "set", &argv("SET k w KEEPTTL")));
        assert_eq!(d.expire_at("k"), Some(5000));
        assert!(!apply(&mut d, "set", &argv("SET k x NX")));
        assert!(apply(&mut d, "persist", &argv("PERSIST k")));
        assert_eq!(d.expire_at("k"), None);
        assert!(apply(&mut d, "pexpireat", &argv("PEXPIREAT k 7")));
        assert!(!apply(&mut d, "pexpireat", &argv("PEXPIREAT nokey 7")));
        // A plain SET drops the TTL (setKey() without KEEPTTL).
        assert!(apply(&mut d, "set", &argv("SET k y")));
        assert_eq!(d.expire_at("k"), None);
        // INCRBY and APPEND overwrite in place: the TTL stays.
        assert!(apply(&mut d, "incrby", &argv("INCRBY n 5")));
        assert!(apply(&mut d, "pexpireat", &argv("PEXPIREAT n 9")));
        assert!(apply(&mut d, "append", &argv("APPEND n x")));
        assert_eq!(d.get("n").map(Value::to_string).as_deref(), Some("5x"));
        assert_eq!(d.expire_at("n"), Some(9));
    }
}
