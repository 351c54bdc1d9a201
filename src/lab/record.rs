//! A lab session as a scenario file: the scenario's deployment (topology,
//! settings, workloads) without its script, then every step the session
//! took (outside connections, their command lines, the faults typed at the
//! prompt), each at its simulated instant. `redsim run` on the file replays
//! the session to the same trace.

use crate::scenario::Plan;
use crate::time::{Micros, format_duration};

/// The tables that script a run rather than describe a deployment: a lab
/// session is its own script, so the file's are left out.
const SCRIPT_TABLES: [&str; 6] = [
    "fault",
    "command",
    "connection",
    "expect",
    "conform",
    "fuzz",
];

/// The tables the lab writes itself.
const LAB_TABLES: [&str; 1] = ["publish"];

/// The top-level keys that tell the scenario's own story: a session is
/// another run on the same deployment, so its file says that instead.
const STORY_KEYS: [&str; 4] = ["name", "description", "question", "answer"];

/// The deployment part of a session's file, split where `stop` goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    /// The top-level keys up to and including `duration`.
    head: String,
    /// Everything after: the rest of the top level and the tables.
    tail: String,
}

impl Deployment {
    /// `text` without its script tables, with `seed` and `duration` set
    /// (the lab runs until `horizon` at most), any `stop` removed, its
    /// name, description, question and answer replaced by the session's,
    /// and the servers published on 127.0.0.1 from `port_base`, if given.
    pub fn from_scenario(
        text: &str,
        seed: u64,
        horizon: Micros,
        port_base: Option<u16>,
    ) -> Result<Self, String> {
        let original = text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("name").and_then(|n| n.as_str()).map(str::to_string))
            .unwrap_or_else(|| "scenario".into());
        let mut head = format!(
            "name = {}\ndescription = {}\n",
            toml::Value::from(format!("lab/{original}")),
            toml::Value::from(format!(
                "A redsim lab session on the deployment of {original}: the connections, commands \
                 and faults below are the session's, at the instants they happened."
            )),
        );
        let mut tail = String::new();
        let mut top_level = true;
        let mut dropping = false;
        // A story key's value, while its multi-line string runs on.
        let mut skipping = false;
        let mut seen_duration = false;
        let mut open_string: Option<&str> = None;
        for line in text.split_inclusive('\n') {
            if let Some(delim) = open_string {
                if line.matches(delim).count() % 2 == 1 {
                    open_string = None;
                }
                if !dropping && !skipping {
                    (if seen_duration { &mut tail } else { &mut head }).push_str(line);
                }
                continue;
            }
            skipping = false;
            let trimmed = line.trim_start();
            if let Some(name) = table_name(trimmed) {
                top_level = false;
                let table = name.split('.').next().unwrap_or(name);
                dropping = SCRIPT_TABLES.contains(&table) || LAB_TABLES.contains(&table);
            }
            for delim in ["\"\"\"", "'''"] {
                if line.matches(delim).count() % 2 == 1 {
                    open_string = Some(delim);
                }
            }
            if dropping {
                continue;
            }
            let key = top_level.then(|| top_key(trimmed)).flatten();
            if key.is_some_and(|k| STORY_KEYS.contains(&k)) {
                skipping = true;
                continue;
            }
            match key {
                Some("duration") => {
                    head.push_str(&format!(
                        "duration = \"{}\"\nseed = {seed}\n",
                        format_duration(horizon)
                    ));
                    seen_duration = true;
                }
                Some("seed" | "stop") => {}
                _ if seen_duration => tail.push_str(line),
                _ => head.push_str(line),
            }
        }
        if !seen_duration {
            return Err("the scenario has no top-level `duration`".into());
        }
        if let Some(base) = port_base {
            if !tail.ends_with('\n') {
                tail.push('\n');
            }
            tail.push_str(&format!(
                "\n# Published on this host by redsim lab, as `docker run -p` would.\n[publish]\nhost = \"127.0.0.1\"\nport-base = {base}\n"
            ));
        }
        Ok(Self { head, tail })
    }

    /// The session's file: the deployment, `stop` at the session's end,
    /// then the session's steps (TOML tables).
    pub fn session(&self, stop: Micros, steps: &str) -> String {
        let mut out = format!(
            "{}stop = \"{}\"\n{}",
            self.head,
            format_duration(stop),
            self.tail
        );
        if !out.ends_with('\n') {
            out.push('\n');
        }
        if !steps.is_empty() {
            out.push_str("\n# The lab session's steps, at their simulated instants.\n");
            out.push_str(steps);
        }
        out
    }

    /// The deployment alone: what the lab starts from.
    pub fn text(&self) -> String {
        format!("{}{}", self.head, self.tail)
    }
}

/// The file of a session that stopped at `stop`: the deployment, then the
/// plan's outside connections and command lines and the typed faults
/// (`[[fault]]` tables, `at` included), in the order they happened.
pub fn session_file(
    deployment: &Deployment,
    plan: &Plan,
    stop: Micros,
    faults: &[toml::Table],
) -> String {
    let name = |n: usize| toml::Value::from(plan.nodes[n].name.clone());
    let time = |t: Micros| toml::Value::from(format_duration(t));
    let mut steps: Vec<(Micros, &str, toml::Table)> = Vec::new();
    for c in &plan.connections {
        let mut t = toml::Table::new();
        t.insert("session".into(), c.session.clone().into());
        t.insert("node".into(), name(c.node));
        t.insert("open".into(), time(c.open));
        if let Some(close) = c.close.filter(|&t| t <= stop) {
            t.insert("close".into(), time(close));
        }
        steps.push((c.open, "connection", t));
    }
    for (at, c) in &plan.commands {
        let mut t = toml::Table::new();
        t.insert("at".into(), time(*at));
        t.insert("node".into(), name(c.node as usize));
        t.insert("session".into(), c.session.clone().into());
        t.insert("send".into(), c.line.clone().into());
        steps.push((*at, "command", t));
    }
    for f in faults {
        let at = f
            .get("at")
            .and_then(toml::Value::as_str)
            .and_then(|a| crate::time::parse_time(a).ok())
            .unwrap_or(0);
        steps.push((at, "fault", f.clone()));
    }
    steps.sort_by_key(|(at, _, _)| *at);
    let text: Vec<String> = steps
        .into_iter()
        .map(|(_, key, table)| {
            let mut doc = toml::Table::new();
            doc.insert(key.into(), toml::Value::Array(vec![table.into()]));
            toml::to_string(&doc).expect("tables of strings serialize")
        })
        .collect();
    deployment.session(stop, &text.join("\n"))
}

/// One line per outside connection: where it goes, since when, how many
/// lines it sent and the last one, and when its client hung up.
pub fn clients(plan: &Plan) -> Vec<String> {
    plan.connections
        .iter()
        .map(|c| {
            let lines: Vec<&(Micros, crate::history::CommandLine)> = (plan.commands.iter())
                .filter(|(_, l)| l.session == c.session)
                .collect();
            let mut s = format!(
                "{} -> {}, connected at {}, {} command{}",
                c.session,
                plan.nodes[c.node].name,
                crate::time::Secs(c.open),
                lines.len(),
                if lines.len() == 1 { "" } else { "s" }
            );
            if let Some((at, l)) = lines.last() {
                s.push_str(&format!(
                    ", last `{}` at {}",
                    l.line,
                    crate::time::Secs(*at)
                ));
            }
            if let Some(close) = c.close {
                s.push_str(&format!(", hung up at {}", crate::time::Secs(close)));
            }
            s
        })
        .collect()
}

/// `[name]` or `[[name]]` (with an optional comment after it).
fn table_name(line: &str) -> Option<&str> {
    let inner = line.strip_prefix('[')?;
    let inner = inner.strip_prefix('[').unwrap_or(inner);
    let end = inner.find(']')?;
    let name = inner[..end].trim();
    (!name.is_empty()).then_some(name)
}

/// The bare key a top-level `key = value` line sets.
fn top_key(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"name = "x"
description = """
A made-up deployment.
[not a table] inside a string
"""
question = "What happens?"
answer = """
Something."""
seed = 4
duration = "20s"
stop = "10s"

[topology]
masters = 1
replicas = 1

[[fault]]
at = "3s"
kill = "master"

[[workload]]
target = "master"
rate = 10

[[expect]]
event = "+switch-master"

[conform]
exact-offsets = false

[[conform.checkpoint]]
at = "5s"
node = "master"
fields = ["role"]

[redis]
save = ""
"#;

    #[test]
    fn the_deployment_keeps_settings_and_drops_the_script() {
        let d = Deployment::from_scenario(SCENARIO, 9, 3_600_000_000, None).unwrap();
        assert_eq!(
            d.text(),
            r#"name = "lab/x"
description = "A redsim lab session on the deployment of x: the connections, commands and faults below are the session's, at the instants they happened."
duration = "3600s"
seed = 9

[topology]
masters = 1
replicas = 1

[[workload]]
target = "master"
rate = 10

[redis]
save = ""
"#
        );
        let file = d.session(7_500_000, "[[fault]]\nat = \"2s\"\nkill = \"master\"\n");
        assert!(file.contains("duration = \"3600s\"\nseed = 9\nstop = \"7500ms\"\n\n[topology]"));
        assert!(file.ends_with(
            "save = \"\"\n\n# The lab session's steps, at their simulated instants.\n[[fault]]\nat = \"2s\"\nkill = \"master\"\n"
        ));
        crate::scenario::parse("session.toml", &file).expect("the session's file parses");
    }

    #[test]
    fn a_scenario_without_duration_is_refused() {
        assert!(Deployment::from_scenario("name = \"x\"\n", 1, 1, None).is_err());
    }
}
