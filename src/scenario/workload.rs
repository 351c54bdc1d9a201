//! The `[[workload]]` table: each workload read and checked into the
//! client node that runs it.

use toml::Spanned;

use compact_str::format_compact;

use crate::client::mix::{Commands, Mix};
use crate::client::{DEFAULT_RECONNECT_DELAY, Discovery, WorkloadSpec};
use crate::history::{KeySet, OpKind};
use crate::proto::Key;
use crate::sentinel::SentinelConf;
use crate::time::secs;

use super::builder::{Builder, Roster, RunSettings};
use super::error::suggest;
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
        let commands = self.workload_commands(w)?;
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
        let (connections, pipeline) = self.concurrency(w)?;
        Ok(NodePlan {
            name: roster.names[roster.servers + i].clone(),
            host: format!("10.0.1.{}", i + 1),
            port: 40000,
            kind: NodeKind::Client(WorkloadSpec {
                discovery,
                rate,
                commands,
                start,
                stop,
                timeout,
                wait,
                reconnect_delay,
                reconnect_max_delay,
                connections,
                pipeline,
            }),
        })
    }

    /// `connections` and `pipeline`: how many requests the workload can
    /// have in flight. The cluster client keeps one connection per node
    /// with one request in flight, so it takes neither.
    fn concurrency(&self, w: &RawWorkload) -> Result<(u32, u32), ScenarioError> {
        let connections = w
            .connections
            .as_ref()
            .map(|c| {
                self.bounded(
                    c,
                    "connections",
                    1,
                    limits::MAX_CONNECTIONS,
                    "each is a client the servers keep; Redis's default maxclients is 10000",
                )
            })
            .transpose()?;
        let pipeline = w
            .pipeline
            .as_ref()
            .map(|p| {
                self.bounded(
                    p,
                    "pipeline",
                    1,
                    limits::MAX_PIPELINE,
                    "requests one connection has in flight at once",
                )
            })
            .transpose()?;
        if w.cluster {
            let given = [
                w.connections.as_ref().map(|c| c.span()),
                w.pipeline.as_ref().map(|p| p.span()),
            ];
            if let Some(span) = given.into_iter().flatten().next() {
                return Err(self.err(
                    span,
                    "a cluster client keeps one connection per node with one request in flight; `connections` and `pipeline` are for `target` and `sentinel` workloads (use several workloads for more load)",
                ));
            }
        }
        Ok((connections.unwrap_or(1), pipeline.unwrap_or(1)))
    }

    /// Which commands a workload sends, on which keys.
    fn workload_commands(&self, w: &RawWorkload) -> Result<Commands, ScenarioError> {
        let mix = match (&w.reads, &w.mix) {
            (Some(r), _) if !(0.0..=1.0).contains(r.get_ref()) => {
                return Err(self.err(r.span(), "reads is a fraction between 0 and 1"));
            }
            (Some(r), Some(_)) => {
                return Err(self.err(
                    r.span(),
                    "use either `reads` or `mix`, not both (`reads = 0.3` is `mix = { set = 0.7, get = 0.3 }`)",
                ));
            }
            (Some(r), None) => Mix::Reads(*r.get_ref()),
            (None, Some(m)) => self.mix(m)?,
            (None, None) => Mix::Reads(0.0),
        };
        let multi_keys = match &w.multi_keys {
            Some(k) => self.bounded(
                k,
                "multi-keys",
                1,
                limits::MAX_MULTI_KEYS,
                "each MSET or MGET names that many keys, in one request",
            )?,
            None => 2,
        };
        let ttl = match &w.ttl {
            Some(t) => {
                let ttl = self.duration(t)?;
                if ttl < 1000 || !ttl.is_multiple_of(1000) {
                    return Err(self.err(
                        t.span(),
                        "a TTL is whole milliseconds, at least 1ms (EXPIRE takes seconds, PEXPIRE milliseconds)",
                    ));
                }
                ttl
            }
            None => secs(10),
        };
        Ok(Commands {
            keys: self.key_set(w)?,
            mix,
            multi_keys,
            ttl,
            value_size: self.value_size(&w.value_size)?,
        })
    }

    /// `mix = { set = 6, get = 3, … }`: each command of [`OpKind::ALL`]
    /// with its weight.
    fn mix(
        &self,
        m: &Spanned<std::collections::BTreeMap<String, f64>>,
    ) -> Result<Mix, ScenarioError> {
        let names: Vec<&str> = OpKind::ALL.iter().map(|k| k.key()).collect();
        for (name, weight) in m.get_ref() {
            if !names.contains(&name.as_str()) {
                let mut e = self.err(m.span(), format!("`{name}` is not a command of a mix"));
                e.hint = Some(match suggest(name, &names) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("a mix weighs these: {}", names.join(", ")),
                });
                return Err(e);
            }
            if !weight.is_finite() || *weight < 0.0 {
                return Err(self.err(
                    m.span(),
                    format!("the weight of `{name}` is {weight}: weights are numbers of 0 or more"),
                ));
            }
        }
        let weighted: Vec<(OpKind, f64)> = OpKind::ALL
            .into_iter()
            .filter_map(|k| m.get_ref().get(k.key()).map(|&w| (k, w)))
            .filter(|&(_, w)| w > 0.0)
            .collect();
        if weighted.is_empty() {
            return Err(self.err(m.span(), "a mix needs a command with a weight above 0"));
        }
        Ok(Mix::Weighted(weighted))
    }

    /// The keys: numbered names from `key-pattern` (or `key:*`, with a
    /// hash tag `{tag}key:*`), or the `key-names` list.
    fn key_set(&self, w: &RawWorkload) -> Result<KeySet, ScenarioError> {
        if let Some(names) = &w.key_names {
            let clash = [
                w.keys.as_ref().map(|k| ("keys", k.span())),
                w.key_offset.as_ref().map(|k| ("key-offset", k.span())),
                w.key_pattern.as_ref().map(|k| ("key-pattern", k.span())),
                w.hash_tag.as_ref().map(|k| ("hash-tag", k.span())),
            ];
            if let Some((what, span)) = clash.into_iter().flatten().next() {
                return Err(self.err(
                    span,
                    format!("`{what}` and `key-names` both say which keys; use one"),
                ));
            }
            let list = names.get_ref();
            if list.is_empty() {
                return Err(self.err(names.span(), "key-names needs at least one name"));
            }
            if list.len() as u64 > limits::MAX_KEYS {
                return Err(self.err(
                    names.span(),
                    format!(
                        "at most {} key names (operations spread over at most 100 million keys)",
                        limits::MAX_KEYS
                    ),
                ));
            }
            return Ok(KeySet::Names(
                list.iter().map(|k| k.as_str().into()).collect(),
            ));
        }
        let count = match &w.keys {
            Some(k) => self.bounded(
                k,
                "keys",
                1,
                limits::MAX_KEYS,
                "operations spread over at most 100 million keys",
            )?,
            None => default_keys(),
        };
        let offset = match &w.key_offset {
            Some(k) => self.bounded(
                k,
                "key-offset",
                0,
                u64::from(u32::MAX - count),
                "key numbers key-offset + keys must fit 32 bits",
            )?,
            None => 0,
        };
        let (prefix, suffix) = match (&w.key_pattern, &w.hash_tag) {
            (Some(p), Some(t)) => {
                return Err(self.err(
                    t.span(),
                    format!(
                        "`hash-tag` and `key-pattern` both shape the names; write the tag into the pattern, e.g. \"{{{}}}{}\"",
                        t.get_ref(),
                        p.get_ref()
                    ),
                ));
            }
            (Some(p), None) => match p.get_ref().split_once('*') {
                Some((pre, post)) if !post.contains('*') => (pre.into(), post.into()),
                _ => {
                    return Err(self.err(
                        p.span(),
                        "a key pattern has one `*`, where the key number goes, e.g. \"{user*}.following\"",
                    ));
                }
            },
            (None, Some(t)) if t.get_ref().is_empty() || t.get_ref().contains(['{', '}']) => {
                return Err(self.err(
                    t.span(),
                    "a hash tag is a non-empty string without braces, e.g. \"user1000\"",
                ));
            }
            (None, Some(t)) => (format_compact!("{{{}}}key:", t.get_ref()), Key::default()),
            (None, None) => ("key:".into(), Key::default()),
        };
        Ok(KeySet::Pattern {
            prefix,
            suffix,
            count,
            offset,
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
