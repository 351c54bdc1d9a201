//! The setting a sweep varies: which scenario table it lives in, what kind
//! of value it takes, the range `a..b` parsed in that kind, and the scenario
//! text rewritten with one value of it.

use crate::scenario::error::suggest;
use crate::scenario::settings;
use crate::time::{parse_duration, parse_size};

pub use crate::scenario::settings::{Kind, Table};

/// Where a swept value goes: a setting's table, or `at` of the n-th
/// `[[fault]]` (0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Section {
    Table(Table),
    FaultAt(usize),
}

/// redis.conf keys that take no number, named in the error for them.
const NOT_NUMERIC: &[&str] = &[
    "port",
    "repl-diskless-sync",
    "repl-diskless-load",
    "client-output-buffer-limit",
    "appendonly",
    "appendfsync",
    "save",
    "requirepass",
    "masterauth",
    "replica-read-only",
    "replica-serve-stale-data",
    "stop-writes-on-bgsave-error",
    "replica-ignore-disk-write-errors",
];

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub key: String,
    pub section: Section,
    pub kind: Kind,
}

impl Param {
    /// Looks a sweep key up: a setting, or `fault.N.at` (N from 1).
    pub fn parse(key: &str, faults: usize) -> Result<Param, String> {
        if let Some(n) = key
            .strip_prefix("fault.")
            .and_then(|r| r.strip_suffix(".at"))
        {
            let n: usize = n
                .parse()
                .map_err(|_| format!("--param `{key}`: write fault.N.at with N a number from 1"))?;
            if n == 0 || n > faults {
                return Err(format!(
                    "--param `{key}`: the scenario has {faults} fault(s), numbered from 1"
                ));
            }
            return Ok(Param {
                key: key.to_string(),
                section: Section::FaultAt(n - 1),
                kind: Kind::Duration,
            });
        }
        if let Some(s) = settings::find(key) {
            return Ok(Param {
                key: s.key.to_string(),
                section: Section::Table(s.table),
                kind: s.kind,
            });
        }
        if NOT_NUMERIC.contains(&key) {
            return Err(format!(
                "--param `{key}` takes no number and cannot be swept; sweepable: {}, fault.N.at",
                names().join(", ")
            ));
        }
        let mut all = names();
        all.push("fault.1.at");
        Err(match suggest(key, &all) {
            Some(c) => format!("--param: unknown setting `{key}`; did you mean `{c}`?"),
            None => format!(
                "--param: unknown setting `{key}`; sweepable: {}, fault.N.at",
                all[..all.len() - 1].join(", ")
            ),
        })
    }

    /// One endpoint of a range in this parameter's kind.
    fn value(&self, s: &str) -> Result<f64, String> {
        let s = s.trim();
        let v = match self.kind {
            Kind::Int | Kind::Float => s.replace('_', "").parse::<f64>().ok(),
            Kind::Duration => parse_duration(s).ok().map(|v| v as f64),
            Kind::Size => parse_size(s).ok().map(|v| v as f64),
        };
        let hint = match self.kind {
            Kind::Int | Kind::Float => "a number",
            Kind::Duration => "a duration with a unit, e.g. 500ms or 20s",
            Kind::Size => "a size, e.g. 16kb or 1mb",
        };
        v.filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("`{s}` is not {hint}"))
    }

    /// `a..b` in this parameter's kind.
    pub fn range(&self, text: &str) -> Result<(f64, f64), String> {
        let (a, b) = text
            .split_once("..")
            .ok_or_else(|| format!("--param {}: expected a range a..b", self.key))?;
        let (a, b) = (self.value(a), self.value(b));
        let (a, b) = (
            a.map_err(|e| format!("--param {}: {e}", self.key))?,
            b.map_err(|e| format!("--param {}: {e}", self.key))?,
        );
        if a > b {
            return Err(format!("--param {}: the range {text} is empty", self.key));
        }
        Ok((a, b))
    }

    /// A value rounded as the parameter's kind stores it.
    pub fn round(&self, v: f64) -> f64 {
        match self.kind {
            Kind::Float => v,
            _ => v.round(),
        }
    }

    /// The value as a TOML value in the scenario.
    fn toml(&self, v: f64) -> toml::Value {
        match self.kind {
            Kind::Int => toml::Value::Integer(v.round() as i64),
            Kind::Float => toml::Value::Float(v),
            Kind::Duration => toml::Value::String(format!("{}us", v.round() as u64)),
            Kind::Size if self.section == Section::Table(Table::Network) => {
                toml::Value::String(format!("{}", v.round() as u64))
            }
            Kind::Size => toml::Value::Integer(v.round() as i64),
        }
    }

    /// The value as the CSV and the plot show it.
    pub fn display(&self, v: f64) -> String {
        match self.kind {
            Kind::Float => format!("{v:.3}"),
            Kind::Duration => format!("{:.3}", v.round() / 1e6),
            _ => format!("{}", v.round() as u64),
        }
    }

    /// A displayed value back as the number the sweep uses.
    pub fn plotted(&self, v: f64) -> f64 {
        match self.kind {
            Kind::Duration => v / 1e6,
            _ => v,
        }
    }

    /// The unit of displayed values.
    pub fn unit(&self) -> &'static str {
        match (&self.section, self.kind) {
            (_, Kind::Duration) => "s",
            (_, Kind::Size) => "bytes",
            (Section::Table(Table::Sentinel), _)
                if self.key != "quorum" && self.key != "parallel-syncs" =>
            {
                "ms"
            }
            _ => "",
        }
    }

    /// The scenario text with this parameter set to `v`.
    pub fn apply(&self, text: &str, v: f64) -> Result<String, String> {
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let value = self.toml(v);
        match self.section {
            Section::Table(table) => settings::write(&mut doc, table, &self.key, value)?,
            Section::FaultAt(n) => {
                let Some(toml::Value::Array(items)) = doc.get_mut("fault") else {
                    return Err("the scenario has no [[fault]] to set `at` in".into());
                };
                if let Some(toml::Value::Table(t)) = items.get_mut(n) {
                    t.insert("at".to_string(), value);
                }
            }
        }
        toml::to_string(&doc).map_err(|e| e.to_string())
    }
}

fn names() -> Vec<&'static str> {
    settings::keys()
}

/// `steps` values from `a` to `b`, evenly spaced (geometrically with `log`).
pub fn values(a: f64, b: f64, steps: usize, log: bool) -> Result<Vec<f64>, String> {
    if steps == 0 {
        return Err("--steps must be at least 1".into());
    }
    if log && a <= 0.0 {
        return Err("--log needs a range above zero".into());
    }
    if steps == 1 {
        return Ok(vec![a]);
    }
    let n = (steps - 1) as f64;
    Ok((0..steps)
        .map(|i| {
            let f = i as f64 / n;
            if log {
                (a.ln() + (b.ln() - a.ln()) * f).exp()
            } else {
                a + (b - a) * f
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ranges_and_values() {
        let p = Param::parse("down-after-milliseconds", 0).unwrap();
        assert_eq!(p.section, Section::Table(Table::Sentinel));
        assert_eq!(p.range("1000..30000").unwrap(), (1000.0, 30000.0));
        assert!(p.range("30000..1000").is_err());
        let e = Param::parse("down-after-milisecond", 0).unwrap_err();
        assert!(e.contains("did you mean `down-after-milliseconds`"), "{e}");
        assert!(
            Param::parse("appendonly", 0)
                .unwrap_err()
                .contains("cannot be swept")
        );
        assert!(Param::parse("fault.2.at", 1).is_err());
        let f = Param::parse("fault.1.at", 1).unwrap();
        assert_eq!(f.range("10s..20s").unwrap(), (10e6, 20e6));
        let s = Param::parse("repl-backlog-size", 0).unwrap();
        assert_eq!(s.range("16kb..1mb").unwrap(), (16384.0, 1048576.0));
        assert_eq!(
            values(1000.0, 3000.0, 3, false).unwrap(),
            vec![1000.0, 2000.0, 3000.0]
        );
        let l = values(1.0, 100.0, 3, true).unwrap();
        assert!((l[1] - 10.0).abs() < 1e-9);
        assert!(values(0.0, 1.0, 3, true).is_err());
    }

    #[test]
    fn applying_rewrites_the_right_table() {
        let text = "name = \"x\"\nduration = \"10s\"\n[topology]\nmasters = 1\n\
                    [[workload]]\ntarget = \"master\"\nrate = 10\n[[fault]]\nat = \"5s\"\nkill = \"master\"\n";
        let p = Param::parse("down-after-milliseconds", 1).unwrap();
        let out = p.apply(text, 1500.0).unwrap();
        assert!(out.contains("down-after-milliseconds = 1500"), "{out}");
        let f = Param::parse("fault.1.at", 1).unwrap();
        assert!(f.apply(text, 6e6).unwrap().contains("at = \"6000000us\""));
        let r = Param::parse("rate", 1).unwrap();
        assert!(r.apply(text, 20.5).unwrap().contains("rate = 20.5"));
    }
}
