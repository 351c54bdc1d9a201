//! `--set KEY=VALUE`: one run's change to a scenario, checked as the file
//! is. The key names where the value goes: a setting by its own name
//! (`down-after-milliseconds`, `appendfsync`, `rate`: into its table, or
//! every `[[workload]]`), a top-level key (`duration`, `seed`), a table's
//! key (`sentinel.quorum`, `network.latency`, `topology.replicas`), a
//! node's (`node.replica-1.replica-priority`) or one entry of an array of
//! tables, numbered from 1 (`workload.2.rate`, `fault.1.at`). The value is
//! read as TOML when it is TOML (`3000`, `true`, `"x y"`), else as text
//! (`30s`, `always`).

use super::error::ScenarioError;
use super::settings;

/// The arrays of tables a key may index into.
const ARRAYS: &[&str] = &["workload", "fault", "expect", "command", "connection"];

/// `text` with every `--set` applied in order. Each is checked as soon as
/// it is applied, by parsing the whole scenario again, so that an error
/// names the `--set` that caused it (the file itself parsed before).
pub fn apply(file: &str, text: &str, sets: &[String]) -> Result<String, ScenarioError> {
    let mut text = text.to_string();
    for set in sets {
        let refuse = |message: String, hint: Option<String>| ScenarioError {
            file: format!("{file}: --set {set}"),
            line: 0,
            col: 0,
            message,
            hint,
        };
        let (key, value) = set.split_once('=').ok_or_else(|| {
            refuse(
                "expected KEY=VALUE, e.g. --set down-after-milliseconds=3000".into(),
                None,
            )
        })?;
        let mut doc: toml::Table =
            toml::from_str(&text).map_err(|e| refuse(e.message().to_string(), None))?;
        put(&mut doc, key.trim(), value_of(value.trim())).map_err(|m| refuse(m, None))?;
        text = toml::to_string(&doc).map_err(|e| refuse(e.to_string(), None))?;
        if let Err(e) = super::parse(file, &text) {
            return Err(refuse(e.message, e.hint));
        }
    }
    Ok(text)
}

/// A value as TOML reads it, or as text.
fn value_of(s: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {s}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(s.into())),
        Err(_) => toml::Value::String(s.into()),
    }
}

/// Writes `value` at `key` in the document.
fn put(doc: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{key}` has an empty part"));
    }
    match parts.as_slice() {
        [one] => match settings::find(one) {
            Some(s) => settings::write(doc, s.table, one, value),
            None => {
                doc.insert((*one).to_string(), value);
                Ok(())
            }
        },
        [array, n, k] if ARRAYS.contains(array) => {
            let items = match doc.get_mut(*array) {
                Some(toml::Value::Array(items)) => items,
                _ => return Err(format!("the scenario has no [[{array}]]")),
            };
            let count = items.len();
            let index = n
                .parse::<usize>()
                .ok()
                .filter(|&i| (1..=count).contains(&i))
                .ok_or_else(|| {
                    format!("`{n}`: the scenario has {count} [[{array}]], numbered from 1")
                })?;
            match &mut items[index - 1] {
                toml::Value::Table(t) => {
                    t.insert((*k).to_string(), value);
                    Ok(())
                }
                _ => Err(format!("[[{array}]] {index} is not a table")),
            }
        }
        [array, ..] if ARRAYS.contains(array) => Err(format!(
            "write {array}.N.KEY, with N the {array}'s number from 1"
        )),
        [tables @ .., last] => {
            let mut t = doc;
            for name in tables {
                let entry = t
                    .entry((*name).to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                t = match entry {
                    toml::Value::Table(inner) => inner,
                    _ => return Err(format!("`{name}` is not a table")),
                };
            }
            t.insert((*last).to_string(), value);
            Ok(())
        }
        [] => Err("an empty key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
name = "t"
duration = "30s"
[topology]
masters = 1
replicas = 2
sentinels = 3
[sentinel]
quorum = 2
[[workload]]
sentinel = true
rate = 10
[[workload]]
target = "master"
rate = 20
[[fault]]
at = "10s"
kill = "master"
"#;

    fn set(sets: &[&str]) -> Result<super::super::Plan, ScenarioError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let text = apply("t.toml", BASE, &sets)?;
        super::super::parse("t.toml", &text)
    }

    #[test]
    fn each_form_of_key_lands_where_it_names() {
        let p = set(&[
            "duration=40s",
            "down-after-milliseconds=3000",
            "sentinel.failover-timeout=20000",
            "topology.replicas=3",
            "workload.2.rate=50",
            "fault.1.at=12s",
            "node.replica-1.replica-priority=0",
        ])
        .expect("valid");
        assert_eq!(p.duration, 40_000_000);
        let conf = p
            .nodes
            .iter()
            .find_map(|n| match &n.kind {
                crate::scenario::NodeKind::Sentinel(c) => Some(c),
                _ => None,
            })
            .expect("a Sentinel");
        assert_eq!(conf.masters[0].down_after, 3000);
        assert_eq!(conf.masters[0].failover_timeout, 20000);
        let rates: Vec<f64> = p
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                crate::scenario::NodeKind::Client(w) => Some(w.rate),
                _ => None,
            })
            .collect();
        assert_eq!(rates, [10.0, 50.0]);
        assert_eq!(p.faults[0].0, 12_000_000);
        assert_eq!(
            p.nodes
                .iter()
                .filter(|n| n.name.starts_with("replica-"))
                .count(),
            3
        );
        // A workload setting by its own name goes to every workload.
        let p = set(&["rate=7"]).expect("valid");
        assert!(p.nodes.iter().all(|n| match &n.kind {
            crate::scenario::NodeKind::Client(w) => w.rate == 7.0,
            _ => true,
        }));
    }

    #[test]
    fn bad_overrides_are_refused_with_the_set_named() {
        let e = set(&["sentinel.quorom=2"]).unwrap_err();
        assert_eq!(e.file, "t.toml: --set sentinel.quorom=2");
        assert!(e.message.contains("unknown field `quorom`"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `quorum`?"));
        let e = set(&["duration=forever"]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.toml: --set duration=forever: error: "),
            "{e}"
        );
        let e = set(&["workload.3.rate=5"]).unwrap_err();
        assert!(
            e.message
                .contains("the scenario has 2 [[workload]], numbered from 1"),
            "{e}"
        );
        let e = set(&["rate"]).unwrap_err();
        assert!(e.message.contains("expected KEY=VALUE"), "{e}");
        let e = set(&["workload.rate=5"]).unwrap_err();
        assert!(e.message.contains("write workload.N.KEY"), "{e}");
        let e = set(&["topology.masters=0"]).unwrap_err();
        assert!(e.message.contains("masters"), "{e}");
    }

    #[test]
    fn values_are_toml_when_they_are_toml() {
        assert_eq!(value_of("3000"), toml::Value::Integer(3000));
        assert_eq!(value_of("0.5"), toml::Value::Float(0.5));
        assert_eq!(value_of("true"), toml::Value::Boolean(true));
        assert_eq!(value_of("\"a b\""), toml::Value::String("a b".into()));
        assert_eq!(value_of("30s"), toml::Value::String("30s".into()));
        assert_eq!(value_of("always"), toml::Value::String("always".into()));
    }
}
