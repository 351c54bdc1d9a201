//! The `[[workload]]` table: each workload read and checked into the
//! client node that runs it.

use toml::Spanned;

use crate::client::{DEFAULT_RECONNECT_DELAY, Discovery, WorkloadSpec};
use crate::sentinel::SentinelConf;
use crate::sim::time::secs;

use super::builder::{Builder, Roster, RunSettings};
use super::plan::*;
use super::raw::*;
use super::{ScenarioError, limits};

impl Builder<'_> {
    /// The `i`th workload's client node.
    pub(super) fn workload(
        &self,
        w: &RawWorkload,
        i: usize,
        roster: &Roster,
        run: &RunSettings,
        cluster: bool,
        sentinel_conf: &SentinelConf,
    ) -> Result<NodePlan, ScenarioError> {
        let duration = run.duration;
        let discovery = self.discovery(w, roster, run, cluster, sentinel_conf)?;
        let rate = self.rate(&w.rate)?;
        let reads = match &w.reads {
            Some(r) if !(0.0..=1.0).contains(r.get_ref()) => {
                return Err(self.err(r.span(), "reads is a fraction between 0 and 1"));
            }
            Some(r) => *r.get_ref(),
            None => 0.0,
        };
        let start = w
            .start
            .as_ref()
            .map(|s| self.time_in_run(s, duration))
            .transpose()?
            .unwrap_or(0);
        let stop = w
            .stop
            .as_ref()
            .map(|s| self.time_in_run(s, duration))
            .transpose()?
            .unwrap_or(duration);
        let keys = match &w.keys {
            Some(k) => self.bounded(
                k,
                "keys",
                1,
                limits::MAX_KEYS,
                "operations spread over at most 100 million keys",
            )?,
            None => default_keys(),
        };
        let key_offset = match &w.key_offset {
            Some(k) => self.bounded(
                k,
                "key-offset",
                0,
                u64::from(u32::MAX - keys),
                "key numbers key-offset + keys must fit 32 bits",
            )?,
            None => 0,
        };
        let value_size = self.value_size(&w.value_size)?;
        let timeout = w
            .timeout
            .as_ref()
            .map(|s| self.client_delay(s, "timeout"))
            .transpose()?
            .unwrap_or(secs(1));
        let wait = match (w.wait_replicas, &w.wait_timeout) {
            (Some(n), t) => Some((
                n,
                t.as_ref()
                    .map(|s| self.duration(s))
                    .transpose()?
                    .unwrap_or(0)
                    / 1000,
            )),
            (None, Some(t)) => {
                return Err(self.err(t.span(), "wait-timeout needs wait-replicas"));
            }
            (None, None) => None,
        };
        let reconnect_delay = w
            .reconnect_delay
            .as_ref()
            .map(|s| self.client_delay(s, "reconnect-delay"))
            .transpose()?
            .unwrap_or(DEFAULT_RECONNECT_DELAY);
        let reconnect_max_delay = w
            .reconnect_max_delay
            .as_ref()
            .map(|s| self.client_delay(s, "reconnect-max-delay"))
            .transpose()?
            .unwrap_or(secs(1));
        Ok(NodePlan {
            name: roster.names[roster.servers + i].clone(),
            host: format!("10.0.1.{}", i + 1),
            port: 40000,
            kind: NodeKind::Client(WorkloadSpec {
                discovery,
                rate,
                keys,
                key_offset,
                reads,
                value_size,
                hash_tag: match &w.hash_tag {
                    Some(t) if t.get_ref().is_empty() || t.get_ref().contains(['{', '}']) => {
                        return Err(self.err(
                            t.span(),
                            "a hash tag is a non-empty string without braces, e.g. \"user1000\"",
                        ));
                    }
                    Some(t) => Some(t.get_ref().as_str().into()),
                    None => None,
                },
                start,
                stop,
                timeout,
                wait,
                reconnect_delay,
                reconnect_max_delay,
            }),
        })
    }

    /// How a workload finds the node it writes to: a fixed target, the
    /// Sentinels, or the cluster's slot map.
    fn discovery(
        &self,
        w: &RawWorkload,
        roster: &Roster,
        run: &RunSettings,
        cluster: bool,
        sentinel_conf: &SentinelConf,
    ) -> Result<Discovery, ScenarioError> {
        let discovery = match (&w.target, w.sentinel || w.cluster) {
            (None, true) if w.cluster && cluster => {
                Discovery::Cluster((0..roster.redis as u32).collect())
            }
            (None, true) if w.cluster => {
                return Err(self.err(
                    w.rate.span(),
                    "`cluster = true` needs a cluster: `cluster = true` in [topology]",
                ));
            }
            (Some(t), false) => {
                let target = self.node(&roster.names, t)?;
                if target >= roster.redis {
                    return Err(self.err(t.span(), "a workload targets a Redis node"));
                }
                Discovery::Direct(target as u32)
            }
            (None, true) if run.sentinels > 0 => Discovery::Sentinel {
                sentinels: (roster.redis..roster.servers).map(|n| n as u32).collect(),
                master_name: self.asked_master(w, sentinel_conf)?,
            },
            (None, true) => {
                return Err(self.err(
                    w.rate.span(),
                    "`sentinel = true` needs sentinels in [topology]",
                ));
            }
            (Some(t), true) => {
                return Err(self.err(
                    t.span(),
                    "use either `target` or `sentinel = true`, not both",
                ));
            }
            (None, false) => {
                return Err(self.err(
                    w.rate.span(),
                    "a workload needs `target = \"<node>\"` or `sentinel = true`",
                ));
            }
        };
        if w.cluster && w.sentinel {
            return Err(self.err(
                w.rate.span(),
                "a workload uses either `sentinel = true` or `cluster = true`",
            ));
        }
        if let Some(n) = w.master_name.as_ref().filter(|_| !w.sentinel) {
            return Err(self.err(n.span(), "`master-name` needs `sentinel = true`"));
        }
        Ok(discovery)
    }

    /// The master name a Sentinel-aware workload asks for: its
    /// `master-name`, which the Sentinels must monitor, or the one master
    /// they monitor.
    fn asked_master(
        &self,
        w: &RawWorkload,
        conf: &SentinelConf,
    ) -> Result<compact_str::CompactString, ScenarioError> {
        let names: Vec<&str> = conf
            .masters
            .iter()
            .map(|m| m.master_name.as_str())
            .collect();
        match (&w.master_name, names.as_slice()) {
            (None, [one]) => Ok((*one).into()),
            (None, _) => {
                let mut e = self.err(
                    w.rate.span(),
                    "the Sentinels monitor several masters: name the one this workload writes to",
                );
                e.hint = Some(format!(
                    "add master-name = \"{}\" (or {})",
                    names[0],
                    names[1..].join(", ")
                ));
                Err(e)
            }
            (Some(n), _) if names.contains(&n.get_ref().as_str()) => {
                Ok(n.get_ref().as_str().into())
            }
            (Some(n), _) => {
                let mut e = self.err(
                    n.span(),
                    format!("the Sentinels monitor no master named `{}`", n.get_ref()),
                );
                e.hint = Some(match super::error::suggest(n.get_ref(), &names) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("they monitor: {}", names.join(", ")),
                });
                Err(e)
            }
        }
    }

    /// Operations per second: positive, and within what one server serves.
    fn rate(&self, rate: &Spanned<f64>) -> Result<f64, ScenarioError> {
        let r = *rate.get_ref();
        if !(r > 0.0 && r.is_finite()) {
            return Err(self.err(
                rate.span(),
                "rate must be a positive number of operations per second",
            ));
        }
        if r > limits::MAX_RATE {
            return Err(self.err(
                rate.span(),
                format!(
                    "rate = {r} is out of range: at most 100000 operations per second per workload (what one Redis server serves)"
                ),
            ));
        }
        if r < 0.001 {
            return Err(self.err(
                rate.span(),
                format!(
                    "rate = {r} is out of range: at least 0.001 operations per second (one every 1000 s)"
                ),
            ));
        }
        Ok(r)
    }
}
