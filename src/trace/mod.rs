//! The trace: what happened, one event per line, worded as Redis logs or
//! publishes it. JSONL for machines (fields in a fixed order, integer µs
//! time) and a Redis-log-style text rendering for people.

pub mod catalogue;
pub mod names;

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::time::{MICROS_PER_MS, MICROS_PER_SEC, Micros};

/// The trace schema version written in the header line.
pub const SCHEMA: &str = "redsim-trace/1";

/// Redis log levels, shown as Redis shows them: `.` debug, `-` verbose,
/// `*` notice, `#` warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Verbose,
    Notice,
    Warning,
}

impl Level {
    pub fn mark(self) -> char {
        match self {
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }
}

/// Who produced an event: a Redis server log line, a Sentinel event (name plus
/// payload, as published), or the simulator itself (faults, client outcomes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Log,
    Sentinel,
    Sim,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub t: Micros,
    pub node: u32,
    pub source: Source,
    pub level: Level,
    /// A stable name to match on: the fixed part of the Redis log line, or the
    /// Sentinel event name.
    pub event: Cow<'static, str>,
    /// The full log line for Redis events; the payload for Sentinel events.
    pub detail: String,
}

#[derive(Default)]
pub struct Trace {
    pub events: Vec<Event>,
}

impl Trace {
    pub fn push(&mut self, e: Event) {
        self.events.push(e);
    }

    /// Events with this exact name, in order.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| e.event == name)
    }
}

/// Writes the header line of a JSONL trace.
pub fn header_json(scenario: &str, seed: u64) -> String {
    let mut s = String::new();
    s.push_str("{\"schema\":");
    push_json_str(&mut s, SCHEMA);
    s.push_str(",\"scenario\":");
    push_json_str(&mut s, scenario);
    let _ = write!(s, ",\"seed\":{seed}}}");
    s
}

/// One event as a JSON line with fields in a fixed order.
pub fn event_json(e: &Event, names: &[String]) -> String {
    let mut s = String::with_capacity(96 + e.detail.len());
    let _ = write!(s, "{{\"t\":{},\"node\":", e.t);
    push_json_str(&mut s, &names[e.node as usize]);
    s.push_str(",\"event\":");
    push_json_str(&mut s, &e.event);
    s.push_str(",\"detail\":");
    push_json_str(&mut s, &e.detail);
    s.push('}');
    s
}

/// One event in Redis's log style: `<node>:<role> <time> <level> <message>`.
/// Time is simulated time since the start, `HH:MM:SS.mmm`.
pub fn event_text(e: &Event, names: &[String], role: char) -> String {
    let t = e.t;
    let total_s = t / MICROS_PER_SEC;
    let msg: Cow<str> = match e.source {
        Source::Sentinel if e.detail.is_empty() => Cow::Borrowed(&e.event),
        Source::Sentinel => Cow::Owned(format!("{} {}", e.event, e.detail)),
        _ => Cow::Borrowed(&e.detail),
    };
    format!(
        "{}:{} {:02}:{:02}:{:02}.{:03} {} {}",
        names[e.node as usize],
        role,
        total_s / 3600,
        (total_s / 60) % 60,
        total_s % 60,
        (t % MICROS_PER_SEC) / MICROS_PER_MS,
        e.level.mark(),
        msg
    )
}

/// Appends `s` as a JSON string, escaped by serde_json.
fn push_json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("a string serializes"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_have_fixed_field_order_and_escape() {
        let names = vec!["sentinel-1".to_string()];
        let e = Event {
            t: 10_000_512,
            node: 0,
            source: Source::Sentinel,
            level: Level::Warning,
            event: "+sdown".into(),
            detail: "master mymaster \"10.0.0.1\" 6379".into(),
        };
        assert_eq!(
            event_json(&e, &names),
            r#"{"t":10000512,"node":"sentinel-1","event":"+sdown","detail":"master mymaster \"10.0.0.1\" 6379"}"#
        );
        assert_eq!(
            event_text(&e, &names, 'X'),
            "sentinel-1:X 00:00:10.000 # +sdown master mymaster \"10.0.0.1\" 6379"
        );
        let v: serde_json::Value = serde_json::from_str(&header_json("a/b", 7)).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["seed"], 7);
    }
}
