//! The `[[fault]]` table in both directions: each kind of scripted fault
//! read and checked, and written back (for the fuzzer's reproducers).

use toml::Spanned;

use crate::redis::cluster::failover::FailoverMode;
use crate::sim::net::LinkParams;
use crate::sim::time::{Micros, format_duration, parse_duration};

use super::build::{Builder, Roster};
use super::plan::*;
use super::raw::*;
use super::{ScenarioError, limits, liveness, parse_slot_ranges};

/// The kinds of `[[fault]]`, each a key of the table (besides `at`), in
/// the order the file format lists them.
pub const FAULT_KEYS: &[&str] = &[
    "kill",
    "crash",
    "shutdown",
    "restart",
    "pause",
    "resume",
    "partition",
    "partition-oneway",
    "heal",
    "link",
    "clock-jump",
    "replicaof",
    "burst",
    "cluster-failover",
    "reshard",
    "client-kill-master",
    "debug-sleep",
];

/// The name of the operator's node that runs `reshard` faults.
pub const OPERATOR: &str = "redis-cli";

impl Builder<'_> {
    /// Every `[[fault]]` table, as listed, each DEBUG SLEEP followed by its
    /// end. A fault that would change nothing is refused: the trace must
    /// never claim a restart or a SIGCONT that did not happen.
    pub(super) fn faults(
        &self,
        raw: &[RawFault],
        roster: &Roster,
        duration: Micros,
        cluster: bool,
    ) -> Result<Vec<(Micros, Action)>, ScenarioError> {
        let mut faults = Vec::new();
        let mut spans = Vec::new();
        for f in raw {
            let at = self.time_in_run(&f.at, duration)?;
            let action = self.action(roster, f)?;
            if let Action::DebugSleep { node, length } = action {
                faults.push((at + length, Action::DebugSleepEnd(node)));
                spans.push(None);
            }
            faults.push((at, action));
            spans.push(Some(f.at.span()));
        }
        for (i, effect) in liveness::effects(roster.names.len() + 1, &faults)
            .into_iter()
            .enumerate()
        {
            if let (Err(no), Some(span)) = (effect, &spans[i]) {
                let of = no
                    .node
                    .map_or(String::new(), |n| format!(" of {}", roster.names[n]));
                return Err(self.err(
                    span.clone(),
                    format!(
                        "{}{of} at {} does nothing: {}",
                        no.what,
                        format_duration(faults[i].0),
                        no.reason
                    ),
                ));
            }
        }
        if !cluster && let Some(f) = raw.iter().find(|f| f.reshard.is_some()) {
            return Err(self.err(
                f.at.span(),
                "`reshard` needs a cluster: `cluster = true` in [topology]",
            ));
        }
        Ok(faults)
    }

    /// One `[[fault]]` table: exactly one kind's key, its value checked
    /// and its nodes resolved.
    fn action(&self, roster: &Roster, f: &RawFault) -> Result<Action, ScenarioError> {
        let redis = |s: &Spanned<String>| self.redis_node(roster, s);
        // Processes of any kind can be killed, paused or restarted.
        let any = |s: &Spanned<String>| self.node(&roster.names, s);
        let group = |g: &[Spanned<String>]| -> Result<Vec<usize>, ScenarioError> {
            g.iter().map(|n| self.node(&roster.names, n)).collect()
        };
        let mut actions = Vec::new();
        if let Some(n) = &f.kill {
            actions.push(Action::Kill(any(n)?));
        }
        if let Some(n) = &f.crash {
            actions.push(Action::Crash(any(n)?));
        }
        if let Some(n) = &f.shutdown {
            actions.push(Action::Shutdown(any(n)?));
        }
        if let Some(n) = &f.restart {
            actions.push(Action::Restart(any(n)?));
        }
        if let Some(n) = &f.pause {
            actions.push(Action::Pause(any(n)?));
        }
        if let Some(n) = &f.resume {
            actions.push(Action::Resume(any(n)?));
        }
        if let Some(p) = &f.partition {
            if p.get_ref().len() < 2 {
                return Err(self.err(
                    p.span(),
                    "a partition needs at least two groups, e.g. [[\"master\"], [\"replica-1\"]]",
                ));
            }
            let groups: Result<Vec<_>, _> = p.get_ref().iter().map(|g| group(g)).collect();
            actions.push(Action::Partition(groups?));
        }
        if let Some(p) = &f.partition_oneway {
            let p = p.get_ref();
            actions.push(Action::PartitionOneWay {
                from: group(&p.from)?,
                to: group(&p.to)?,
            });
        }
        if let Some(h) = &f.heal {
            if !*h.get_ref() {
                return Err(self.err(h.span(), "write `heal = true` to heal every partition"));
            }
            actions.push(Action::Heal);
        }
        if let Some(l) = &f.link {
            let r = l.get_ref();
            let params = self.link_params(
                LinkParams::default(),
                r.latency.as_ref(),
                r.jitter.as_ref(),
                r.bandwidth.as_ref(),
                r.loss.map(|x| (x, l.span())),
            )?;
            actions.push(Action::Link {
                from: any(&r.from)?,
                to: any(&r.to)?,
                params,
                both_ways: r.both_ways,
            });
        }
        if let Some(c) = &f.clock_jump {
            let r = c.get_ref();
            let text = r.by.get_ref().trim();
            let (sign, rest) = match text.strip_prefix('-') {
                Some(rest) => (-1i64, rest),
                None => (1, text.strip_prefix('+').unwrap_or(text)),
            };
            let by = parse_duration(rest).map_err(|m| self.err(r.by.span(), m))? as i64 * sign;
            actions.push(Action::ClockJump {
                node: any(&r.node)?,
                by,
            });
        }
        if let Some(b) = &f.burst {
            let b = b.get_ref();
            let writes = self.bounded(
                &b.writes,
                "writes",
                1,
                u64::from(limits::MAX_BURST_WRITES),
                "every node holds every key written",
            )?;
            let value_size = self.value_size(&b.value_size)?;
            let total = u64::from(writes) * u64::from(value_size);
            if total > limits::MAX_BURST_BYTES {
                return Err(self.err(
                    b.writes.span(),
                    format!(
                        "a burst of {writes} SETs of {value_size} bytes writes {total} bytes: at most 1gb (1073741824 bytes) per burst (every node holds every key, and every full sync copies them)"
                    ),
                ));
            }
            actions.push(Action::Burst {
                node: redis(&b.node)?,
                writes,
                value_size,
            });
        }
        if let Some(r) = &f.replicaof {
            let r = r.get_ref();
            let node = redis(&r.node)?;
            let master = if r.master.get_ref().eq_ignore_ascii_case("no one") {
                None
            } else {
                Some(redis(&r.master)?)
            };
            actions.push(Action::ReplicaOf { node, master });
        }
        if let Some(r) = &f.reshard {
            let r = r.get_ref();
            let slots =
                parse_slot_ranges(r.slots.get_ref()).map_err(|m| self.err(r.slots.span(), m))?;
            let batch = match &r.batch {
                Some(b) => self.bounded(
                    b,
                    "batch",
                    1,
                    u64::from(limits::MAX_BATCH),
                    "keys per MIGRATE",
                )?,
                None => default_batch(),
            };
            actions.push(Action::Reshard {
                from: redis(&r.from)?,
                to: redis(&r.to)?,
                slots: slots.iter().collect(),
                batch,
            });
        }
        if let Some(cf) = &f.cluster_failover {
            let r = cf.get_ref();
            let mode = match r.mode.as_ref().map(|m| m.get_ref().to_ascii_lowercase()) {
                None => FailoverMode::Default,
                Some(m) if m == "force" => FailoverMode::Force,
                Some(m) if m == "takeover" => FailoverMode::Takeover,
                Some(_) => {
                    let span = r.mode.as_ref().map_or(cf.span(), |m| m.span());
                    return Err(self.err(span, "mode is `force` or `takeover` (or leave it out for a coordinated failover)"));
                }
            };
            actions.push(Action::ClusterFailover {
                node: redis(&r.node)?,
                mode,
            });
        }
        if let Some(n) = &f.client_kill_master {
            actions.push(Action::ClientKillMaster(redis(n)?));
        }
        if let Some(d) = &f.debug_sleep {
            let d = d.get_ref();
            let length =
                parse_duration(d.length.get_ref()).map_err(|m| self.err(d.length.span(), m))?;
            actions.push(Action::DebugSleep {
                node: redis(&d.node)?,
                length,
            });
        }
        match actions.len() {
            1 => Ok(actions.pop().expect("one")),
            0 => Err(self.err(
                f.at.span(),
                format!(
                    "this fault does nothing: add one of {}",
                    FAULT_KEYS.join(", ")
                ),
            )),
            _ => Err(self.err(
                f.at.span(),
                "one fault per [[fault]] table: split these into separate tables",
            )),
        }
    }
}

/// A fault as its `[[fault]]` table, the inverse of the reader above: the
/// fuzzer writes reproducers with it.
pub fn fault_table(plan: &Plan, at: Micros, a: &Action) -> toml::Table {
    let name = |n: usize| toml::Value::String(plan.nodes[n].name.clone());
    let mut t = toml::Table::new();
    t.insert("at".into(), format_duration(at).into());
    match a {
        Action::Kill(n) => drop(t.insert("kill".into(), name(*n))),
        Action::Crash(n) => drop(t.insert("crash".into(), name(*n))),
        Action::Shutdown(n) => drop(t.insert("shutdown".into(), name(*n))),
        Action::Restart(n) => drop(t.insert("restart".into(), name(*n))),
        Action::Pause(n) => drop(t.insert("pause".into(), name(*n))),
        Action::Resume(n) => drop(t.insert("resume".into(), name(*n))),
        Action::Heal => drop(t.insert("heal".into(), true.into())),
        Action::Reshard {
            from,
            to,
            slots,
            batch,
        } => {
            let mut r = toml::Table::new();
            r.insert("from".into(), name(*from));
            r.insert("to".into(), name(*to));
            let mut set = crate::proto::slots::SlotSet::default();
            slots.iter().for_each(|&s| set.insert(s));
            r.insert("slots".into(), set.ranges_text().into());
            r.insert("batch".into(), i64::from(*batch).into());
            t.insert("reshard".into(), toml::Value::Table(r));
        }
        Action::ClusterFailover { node, mode } => {
            let mut c = toml::Table::new();
            c.insert("node".into(), name(*node));
            match mode {
                FailoverMode::Default => {}
                FailoverMode::Force => {
                    c.insert("mode".into(), "force".into());
                }
                FailoverMode::Takeover => {
                    c.insert("mode".into(), "takeover".into());
                }
            }
            t.insert("cluster-failover".into(), toml::Value::Table(c));
        }
        Action::Partition(groups) => {
            let g = groups
                .iter()
                .map(|g| toml::Value::Array(g.iter().map(|&n| name(n)).collect()))
                .collect();
            t.insert("partition".into(), toml::Value::Array(g));
        }
        Action::PartitionOneWay { from, to } => {
            let mut p = toml::Table::new();
            p.insert(
                "from".into(),
                toml::Value::Array(from.iter().map(|&n| name(n)).collect()),
            );
            p.insert(
                "to".into(),
                toml::Value::Array(to.iter().map(|&n| name(n)).collect()),
            );
            t.insert("partition-oneway".into(), toml::Value::Table(p));
        }
        Action::Link {
            from,
            to,
            params,
            both_ways,
        } => {
            let mut l = toml::Table::new();
            l.insert("from".into(), name(*from));
            l.insert("to".into(), name(*to));
            l.insert("latency".into(), format_duration(params.latency).into());
            l.insert("jitter".into(), format_duration(params.jitter).into());
            l.insert("bandwidth".into(), params.bandwidth.to_string().into());
            l.insert("loss".into(), params.loss.into());
            l.insert("both-ways".into(), (*both_ways).into());
            t.insert("link".into(), toml::Value::Table(l));
        }
        Action::ClockJump { node, by } => {
            let mut c = toml::Table::new();
            c.insert("node".into(), name(*node));
            let sign = if *by < 0 { "-" } else { "+" };
            c.insert(
                "by".into(),
                format!("{sign}{}", format_duration(by.unsigned_abs())).into(),
            );
            t.insert("clock-jump".into(), toml::Value::Table(c));
        }
        Action::Burst {
            node,
            writes,
            value_size,
        } => {
            let mut b = toml::Table::new();
            b.insert("node".into(), name(*node));
            b.insert("writes".into(), i64::from(*writes).into());
            b.insert("value-size".into(), i64::from(*value_size).into());
            t.insert("burst".into(), toml::Value::Table(b));
        }
        Action::ReplicaOf { node, master } => {
            let mut r = toml::Table::new();
            r.insert("node".into(), name(*node));
            r.insert(
                "master".into(),
                master.map_or(toml::Value::String("no one".into()), name),
            );
            t.insert("replicaof".into(), toml::Value::Table(r));
        }
        Action::ClientKillMaster(n) => drop(t.insert("client-kill-master".into(), name(*n))),
        Action::DebugSleep { node, length } => {
            let mut d = toml::Table::new();
            d.insert("node".into(), name(*node));
            d.insert("for".into(), format_duration(*length).into());
            t.insert("debug-sleep".into(), toml::Value::Table(d));
        }
        // Written by the parser with its DEBUG SLEEP; the nearest fault.
        Action::DebugSleepEnd(n) => drop(t.insert("resume".into(), name(*n))),
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listed kinds are exactly the table's keys, as serde reads them.
    #[test]
    fn the_fault_keys_are_the_tables_keys() {
        let err = toml::from_str::<RawFault>("at = \"1s\"\nnope = 1\n")
            .err()
            .expect("an unknown key is refused")
            .to_string();
        let expected = err.split("expected one of ").nth(1).expect("a key list");
        let keys: Vec<&str> = expected
            .split(',')
            .map(|k| k.trim().trim_matches('`'))
            .filter(|k| !k.is_empty() && *k != "at")
            .collect();
        assert_eq!(keys, FAULT_KEYS, "{err}");
    }

    /// Every fault of every bundled scenario, written back and read again,
    /// is the same fault.
    #[test]
    fn every_bundled_fault_survives_a_round_trip() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    files(&p, out);
                } else if p.extension().is_some_and(|x| x == "toml") {
                    out.push(p);
                }
            }
        }
        let mut all = Vec::new();
        files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
            &mut all,
        );
        all.sort();
        let mut faults = 0;
        for path in all {
            let text = std::fs::read_to_string(&path).unwrap();
            let Ok(plan) = crate::scenario::parse("x.toml", &text) else {
                continue;
            };
            let mut doc: toml::Table = toml::from_str(&text).unwrap();
            // The parser adds each DEBUG SLEEP's end itself.
            let written: Vec<(Micros, Action)> = plan
                .faults
                .iter()
                .filter(|(_, a)| !matches!(a, Action::DebugSleepEnd(_)))
                .cloned()
                .collect();
            let list = written
                .iter()
                .map(|(at, a)| toml::Value::Table(fault_table(&plan, *at, a)))
                .collect();
            doc.insert("fault".into(), toml::Value::Array(list));
            let again = crate::scenario::parse("x.toml", &toml::to_string(&doc).unwrap())
                .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
            assert_eq!(again.faults, plan.faults, "{}", path.display());
            faults += written.len();
        }
        assert!(faults > 100, "only {faults} faults were read");
    }
}
