//! What every table's reader shares: the source text errors point into,
//! the run's settings read first, the roster of process names, and reading
//! times, sizes and node names with located errors.

use std::ops::Range;

use toml::Spanned;

use crate::sim::net::LinkParams;
use crate::time::{Micros, parse_time};

use super::error::{ScenarioError, Source, suggest};
use super::limits;

/// A year in milliseconds: the longest Sentinel timeout.
pub(super) const YEAR_MS: u64 = crate::time::MAX_DURATION / 1000;

/// Reads a scenario's raw tables against its source text, so every error
/// points at the key or value that caused it.
pub(super) struct Builder<'a> {
    pub(super) src: &'a Source<'a>,
}

/// The run's own settings, read first.
pub(super) struct RunSettings {
    pub(super) duration: Micros,
    /// `[sim] max-events` when the file sets it; otherwise the budget is
    /// sized to the scenario ([`limits::event_budget`]).
    pub(super) max_events: Option<u64>,
    /// Replicas (of the master, or of each master in a cluster).
    pub(super) replicas: u32,
    pub(super) sentinels: u32,
    /// The network's links.
    pub(super) link: LinkParams,
}

/// Every process's name, in the plan's order: Redis servers, then
/// Sentinels, then clients, then the operator's redis-cli (when a fault
/// reshards).
pub(super) struct Roster {
    pub(super) names: Vec<String>,
    /// Redis servers are `0..redis`, Sentinels `redis..servers`, clients
    /// from `servers` on.
    pub(super) redis: usize,
    pub(super) servers: usize,
}

impl Builder<'_> {
    pub(super) fn err(&self, span: Range<usize>, msg: impl Into<String>) -> ScenarioError {
        self.src.error(span, msg)
    }

    pub(super) fn duration(&self, s: &Spanned<String>) -> Result<Micros, ScenarioError> {
        parse_time(s.get_ref()).map_err(|m| self.err(s.span(), m))
    }

    /// A time within the run: from zero to the scenario's duration.
    pub(super) fn time_in_run(
        &self,
        s: &Spanned<String>,
        duration: Micros,
    ) -> Result<Micros, ScenarioError> {
        let t = self.duration(s)?;
        if t > duration {
            let mut e = self.err(
                s.span(),
                format!(
                    "`{}` is after the end of the run (duration = {})",
                    s.get_ref(),
                    crate::time::format_duration(duration)
                ),
            );
            e.hint = Some("raise `duration` or move this earlier".into());
            return Err(e);
        }
        Ok(t)
    }

    /// A count within `1..=max` (or `0..=max` when `zero_ok`), with the
    /// limit and why in the message.
    /// A workload's or a burst's `value-size`, bounded by Redis's largest
    /// bulk string.
    pub(super) fn value_size(&self, v: &Option<Spanned<u32>>) -> Result<u32, ScenarioError> {
        match v {
            Some(v) => self.bounded(
                v,
                "value-size",
                0,
                u64::from(limits::MAX_VALUE_SIZE),
                "Redis's proto-max-bulk-len is 512mb",
            ),
            None => Ok(default_value_size()),
        }
    }

    pub(super) fn bounded<T: Copy + Into<u64>>(
        &self,
        v: &Spanned<T>,
        what: &str,
        min: u64,
        max: u64,
        why: &str,
    ) -> Result<T, ScenarioError> {
        let n: u64 = (*v.get_ref()).into();
        if n < min || n > max {
            return Err(self.err(
                v.span(),
                format!("{what} = {n} is out of range: {min} to {max} ({why})"),
            ));
        }
        Ok(*v.get_ref())
    }

    /// A delay that must be at least [`limits::MIN_CLIENT_DELAY`].
    pub(super) fn client_delay(
        &self,
        s: &Spanned<String>,
        what: &str,
    ) -> Result<Micros, ScenarioError> {
        let d = self.duration(s)?;
        if d < limits::MIN_CLIENT_DELAY {
            return Err(self.err(
                s.span(),
                format!(
                    "{what} `{}` is too short: at least 1ms (a client that gives up or retries at once piles up work without bound)",
                    s.get_ref()
                ),
            ));
        }
        Ok(d)
    }

    pub(super) fn node(
        &self,
        names: &[String],
        s: &Spanned<String>,
    ) -> Result<usize, ScenarioError> {
        names.iter().position(|n| n == s.get_ref()).ok_or_else(|| {
            let mut e = self.err(s.span(), format!("unknown node `{}`", s.get_ref()));
            let cands: Vec<&str> = names.iter().map(String::as_str).collect();
            e.hint = Some(match suggest(s.get_ref(), &cands) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("the nodes are: {}", cands.join(", ")),
            });
            e
        })
    }

    /// A node name that must be a Redis server (nodes are ordered: Redis
    /// servers, then Sentinels, then clients).
    pub(super) fn redis_node(
        &self,
        roster: &Roster,
        s: &Spanned<String>,
    ) -> Result<usize, ScenarioError> {
        let i = self.node(&roster.names, s)?;
        if i >= roster.redis {
            let kind = if i >= roster.servers {
                "a client"
            } else {
                "a Sentinel"
            };
            return Err(self.err(
                s.span(),
                format!("`{}` is {kind}, not a Redis node", s.get_ref()),
            ));
        }
        Ok(i)
    }
}

/// A workload's (and a burst's) value size when the table sets none.
fn default_value_size() -> u32 {
    100
}
