//! The `[fuzz]` table read and checked: how `redsim fuzz` treats a
//! scenario.

use std::ops::Range;

use indexmap::IndexMap;
use toml::Spanned;

use crate::time::{Micros, parse_size};

use super::builder::Builder;
use super::error::suggest;
use super::plan::*;
use super::raw::*;
use super::{ScenarioError, limits, parse, settings};

impl Builder<'_> {
    pub(super) fn fuzz_settings(
        &self,
        raw: &RawFuzz,
        duration: Micros,
    ) -> Result<FuzzSettings, ScenarioError> {
        let faults_stop = match &raw.faults_stop {
            Some(s) => self.time_in_run(s, duration)?,
            None => duration / 2,
        };
        let mut properties = Vec::new();
        for p in raw.properties.iter().flatten() {
            if !PROPERTIES.contains(&p.get_ref().as_str()) {
                let mut e = self.err(p.span(), format!("unknown property `{}`", p.get_ref()));
                e.hint = suggest(p.get_ref(), PROPERTIES)
                    .map(|c| format!("did you mean `{c}`?"))
                    .or_else(|| Some(format!("properties: {}", PROPERTIES.join(", "))));
                return Err(e);
            }
            properties.push(p.get_ref().clone());
        }
        let mut never_prints = Vec::new();
        for p in raw.never_prints.iter().flatten() {
            let line = p.get_ref().as_str();
            if !crate::trace::catalogue::all().any(|l| l == line) {
                let kinds: Vec<&str> = crate::trace::catalogue::all().collect();
                let mut e = self.err(
                    p.span(),
                    format!("`{line}` is not a kind of line a Redis server or a Sentinel prints"),
                );
                e.hint = suggest(line, &kinds).map(|c| format!("did you mean `{c}`?"));
                return Err(e);
            }
            never_prints.push(line.to_string());
        }
        let mut swarm = Vec::new();
        for (key, range) in &raw.swarm {
            let k = key.get_ref().as_str();
            let swarm_keys = settings::swarm_keys();
            if !swarm_keys.contains(&k) {
                let mut e = self.err(key.span(), format!("`{k}` cannot be drawn in swarm mode"));
                e.hint = suggest(k, &swarm_keys)
                    .map(|c| format!("did you mean `{c}`?"))
                    .or_else(|| Some(format!("swarm keys: {}", swarm_keys.join(", "))));
                return Err(e);
            }
            let bad = || {
                self.err(
                    range.span(),
                    format!(
                        "`{k}` takes a range [low, high], e.g. [1000, 30000] or [\"16kb\", \"4mb\"]"
                    ),
                )
            };
            let r = match range.get_ref().as_slice() {
                [toml::Value::Integer(a), toml::Value::Integer(b)] if a <= b => {
                    SwarmRange::Int(*a, *b)
                }
                [toml::Value::String(a), toml::Value::String(b)] => {
                    let (a, b) = match (
                        crate::time::parse_duration(a),
                        crate::time::parse_duration(b),
                    ) {
                        (Ok(a), Ok(b)) => (SwarmRange::Duration(a, b), a <= b),
                        _ => match (parse_size(a), parse_size(b)) {
                            (Ok(a), Ok(b)) => (SwarmRange::Size(a, b), a <= b),
                            _ => return Err(bad()),
                        },
                    };
                    if !b {
                        return Err(bad());
                    }
                    a
                }
                _ => return Err(bad()),
            };
            swarm.push((k.to_string(), r));
        }
        self.check_swarm_draws(&raw.swarm, &swarm)?;
        let bounds = Bounds {
            max_lost_acked_writes: raw.max_lost_acked_writes,
            max_unavailability: raw
                .max_unavailability
                .as_ref()
                .map(|d| self.duration(d))
                .transpose()?,
            converges_within: raw
                .converges_within
                .as_ref()
                .map(|d| self.duration(d))
                .transpose()?,
        };
        if let (Some(c), Some(span)) = (bounds.converges_within, raw.converges_within.as_ref())
            && faults_stop + c > duration
        {
            return Err(self.err(
                span.span(),
                "faults-stop + converges-within is after the end of the run",
            ));
        }
        Ok(FuzzSettings {
            faults_stop,
            max_faults: match &raw.max_faults {
                Some(m) => self.bounded(
                    &Spanned::new(m.span(), *m.get_ref() as u64),
                    "max-faults",
                    0,
                    limits::MAX_FUZZ_FAULTS as u64,
                    "each fault is a scheduled event; schedules are shrunk by hand-readable steps",
                )? as usize,
                None => 6,
            },
            properties,
            never_prints,
            swarm,
            bounds,
        })
    }

    /// Every seed of a swarm run draws its configuration within the ranges
    /// and parses the result: a range whose end is invalid (a rate of 0,
    /// 100000 replicas) would fail every seed, so it is refused here. Each
    /// range is tried at both ends, then all ranges at their low and at
    /// their high ends together.
    pub(super) fn check_swarm_draws(
        &self,
        raw: &IndexMap<Spanned<String>, Spanned<Vec<toml::Value>>>,
        swarm: &[(String, SwarmRange)],
    ) -> Result<(), ScenarioError> {
        let Ok(mut base) = toml::from_str::<toml::Table>(self.src.text) else {
            return Ok(());
        };
        base.remove("fuzz");
        let spans: Vec<Range<usize>> = raw.values().map(|r| r.span()).collect();
        let draw = |picks: &[(usize, bool)]| -> Result<(), String> {
            let mut doc = base.clone();
            for &(i, high) in picks {
                let (key, range) = &swarm[i];
                let (lo, hi) = range.bounds();
                settings::write_key(&mut doc, key, range.value(if high { hi } else { lo }))?;
            }
            let text = toml::to_string(&doc).map_err(|e| e.to_string())?;
            parse("swarm.toml", &text)
                .map(|_| ())
                .map_err(|e| e.message)
        };
        for (i, (key, range)) in swarm.iter().enumerate() {
            let (lo, hi) = range.bounds();
            for (high, v) in [(false, lo), (true, hi)] {
                if let Err(m) = draw(&[(i, high)]) {
                    let shown = match range.value(v) {
                        toml::Value::String(s) => format!("\"{s}\""),
                        other => other.to_string(),
                    };
                    let mut e = self.err(
                        spans[i].clone(),
                        format!("`{key}` = {shown}, drawn from this range, is invalid: {m}"),
                    );
                    e.hint = Some(
                        "every seed draws a value in [low, high]: keep both ends valid".into(),
                    );
                    return Err(e);
                }
            }
        }
        if swarm.len() > 1 {
            for high in [false, true] {
                let picks: Vec<(usize, bool)> = (0..swarm.len()).map(|i| (i, high)).collect();
                if let Err(m) = draw(&picks) {
                    let end = if high { "high" } else { "low" };
                    return Err(self.err(
                        spans[0].clone(),
                        format!("drawing the {end} end of every swarm range together gives an invalid scenario: {m}"),
                    ));
                }
            }
        }
        Ok(())
    }
}
