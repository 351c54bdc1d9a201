//! From the file's tables to a [`Plan`]: names resolved, values checked,
//! errors located.

use std::ops::Range;

use toml::Spanned;

use crate::client::{DEFAULT_RECONNECT_DELAY, Discovery, WorkloadSpec};
use crate::proto::slots::{SLOTS, SlotSet, even_split};
use crate::redis::config::{self, ConfValue, RedisConfig};
use crate::sentinel::SentinelConf;
use crate::sim::net::LinkParams;
use crate::sim::time::{Micros, parse_size, parse_time, secs};

use super::error::{Source, suggest};
use super::plan::*;
use super::raw::Conf;
use super::raw::*;
use super::{ScenarioError, conform, limits, liveness, parse_slot_ranges};

/// A year in milliseconds: the longest Sentinel timeout.
pub(super) const YEAR_MS: u64 = crate::sim::time::MAX_DURATION / 1000;

/// Reads a scenario's raw tables against its source text, so every error
/// points at the key or value that caused it.
pub(super) struct Builder<'a> {
    pub(super) src: &'a Source<'a>,
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
                    crate::sim::time::format_duration(duration)
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
        names: &[String],
        n_redis: usize,
        n_servers: usize,
        s: &Spanned<String>,
    ) -> Result<usize, ScenarioError> {
        let i = self.node(names, s)?;
        if i >= n_redis {
            let kind = if i >= n_servers {
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

    pub(super) fn apply_conf(
        &self,
        conf: &mut RedisConfig,
        table: &Conf,
    ) -> Result<(), ScenarioError> {
        for (k, v) in table {
            let value = match v.get_ref() {
                toml::Value::String(s) => ConfValue::Text(s),
                toml::Value::Integer(i) => ConfValue::Int(*i),
                toml::Value::Boolean(b) => ConfValue::Bool(*b),
                _ => {
                    return Err(self.err(
                        v.span(),
                        format!("`{}` takes a string, integer or boolean", k.get_ref()),
                    ));
                }
            };
            if !config::KEYS.contains(&k.get_ref().as_str()) {
                let mut e = self.err(
                    k.span(),
                    format!("unknown redis.conf key `{}`", k.get_ref()),
                );
                e.hint = suggest(k.get_ref(), config::KEYS)
                    .map(|c| format!("did you mean `{c}`?"))
                    .or_else(|| Some(format!("supported keys: {}", config::KEYS.join(", "))));
                return Err(e);
            }
            conf.set(k.get_ref(), value)
                .and_then(|()| limits::check_redis_conf(k.get_ref(), conf))
                .map_err(|m| self.err(v.span(), format!("{}: {m}", k.get_ref())))?;
        }
        Ok(())
    }

    pub(super) fn build(&self, raw: RawScenario) -> Result<Plan, ScenarioError> {
        limits::check_scenario_name(raw.name.get_ref())
            .map_err(|m| self.err(raw.name.span(), m))?;
        let duration = self.duration(&raw.duration)?;
        if duration == 0 {
            return Err(self.err(raw.duration.span(), "duration must be positive"));
        }
        if duration > limits::MAX_RUN {
            return Err(self.err(
                raw.duration.span(),
                format!(
                    "duration `{}` is too long: at most 24h of simulated time (failovers play out in seconds to minutes; a longer run exceeds any event budget)",
                    raw.duration.get_ref()
                ),
            ));
        }
        let max_events = match &raw.sim.max_events {
            Some(m) => self.bounded(
                m,
                "max-events",
                limits::MIN_MAX_EVENTS,
                limits::MAX_MAX_EVENTS,
                "10^9 events take up to hours of wall time",
            )?,
            None => 50_000_000,
        };
        let replicas = match &raw.topology.replicas {
            Some(r) => self.bounded(
                r,
                "replicas",
                0,
                limits::MAX_REDIS_NODES - 1,
                "a scenario simulates at most 500 Redis servers",
            )?,
            None => 0,
        };
        let sentinels = match &raw.topology.sentinels {
            Some(r) => self.bounded(
                r,
                "sentinels",
                0,
                u64::from(limits::MAX_SENTINELS),
                "Sentinel traffic grows with the square of their number; deployments run 3 or 5",
            )?,
            None => 0,
        };
        if raw.workload.len() > limits::MAX_WORKLOADS {
            let w = &raw.workload[limits::MAX_WORKLOADS];
            return Err(self.err(
                w.rate.span(),
                format!(
                    "{} workloads: at most {} (each is a client node)",
                    raw.workload.len(),
                    limits::MAX_WORKLOADS
                ),
            ));
        }
        let link = self.link_params(
            LinkParams::default(),
            raw.network.latency.as_ref(),
            raw.network.jitter.as_ref(),
            raw.network.bandwidth.as_ref(),
            raw.network.loss.as_ref().map(|l| (*l.get_ref(), l.span())),
        )?;

        // Nodes: redis servers first, then Sentinels, then clients.
        let is_cluster = raw.topology.cluster.as_ref().is_some_and(|c| *c.get_ref());
        let cluster_plan = if is_cluster {
            Some(self.cluster_plan(&raw.topology, replicas)?)
        } else {
            if *raw.topology.masters.get_ref() != 1 {
                let mut e = self.err(
                    raw.topology.masters.span(),
                    "replication scenarios have exactly one master (masters = 1)",
                );
                e.hint =
                    Some("for several masters, make it a Redis Cluster: `cluster = true`".into());
                return Err(e);
            }
            if let Some(sl) = &raw.topology.slots {
                return Err(self.err(sl.span(), "`slots` needs `cluster = true`"));
            }
            None
        };
        let mut names = Vec::new();
        if let Some(cp) = &cluster_plan {
            let masters = cp.slots.iter().filter(|s| !s.is_empty()).count();
            for i in 1..=masters {
                names.push(format!("master-{i}"));
            }
            for m in 1..=masters {
                for r in 1..=replicas {
                    names.push(format!("replica-{m}-{r}"));
                }
            }
            if sentinels > 0 {
                return Err(self.err(
                    raw.topology.masters.span(),
                    "Redis Cluster does its own failover: it cannot be monitored by Sentinels (sentinels = 0)",
                ));
            }
        } else {
            names.push("master".to_string());
            for i in 1..=replicas {
                names.push(format!("replica-{i}"));
            }
        }
        let n_redis = names.len();
        for i in 1..=sentinels {
            names.push(format!("sentinel-{i}"));
        }
        let n_servers = names.len();
        for (i, w) in raw.workload.iter().enumerate() {
            let name = match &w.name {
                Some(n) => {
                    limits::check_token("a workload name", n.get_ref())
                        .map_err(|m| self.err(n.span(), m))?;
                    n.get_ref().clone()
                }
                None => format!("client-{}", i + 1),
            };
            if names.contains(&name) {
                let span = w.name.as_ref().map_or(w.rate.span(), |n| n.span());
                return Err(self.err(span, format!("node name `{name}` is used twice")));
            }
            names.push(name);
        }
        let has_reshard = raw.fault.iter().any(|f| f.reshard.is_some());
        if has_reshard {
            names.push("redis-cli".into());
        }

        let sentinel_conf = self.sentinel_conf(&raw.sentinel)?;
        let mut base = RedisConfig {
            cluster_enabled: is_cluster,
            ..RedisConfig::default()
        };
        self.apply_conf(&mut base, &raw.redis)?;
        if base.cluster_enabled != is_cluster {
            return Err(self.err(
                raw.topology.masters.span(),
                "set `cluster = true` in [topology] for a Redis Cluster (it sets cluster-enabled)",
            ));
        }
        let mut confs: Vec<RedisConfig> = vec![base; n_redis];
        for (name, table) in &raw.node {
            let i = self.redis_node(&names, n_redis, n_servers, name)?;
            self.apply_conf(&mut confs[i], table)?;
        }

        let mut nodes = Vec::new();
        for (i, conf) in confs.into_iter().enumerate() {
            nodes.push(NodePlan {
                name: names[i].clone(),
                host: format!("10.0.0.{}", i + 1),
                port: conf.port,
                kind: NodeKind::Redis {
                    conf: Box::new(conf),
                    replicaof: (i > 0 && cluster_plan.is_none()).then_some(0),
                },
            });
        }
        for (i, name) in names[n_redis..n_servers].iter().enumerate() {
            nodes.push(NodePlan {
                name: name.clone(),
                host: format!("10.0.2.{}", i + 1),
                port: sentinel_conf.port,
                kind: NodeKind::Sentinel(sentinel_conf.clone()),
            });
        }
        for (i, w) in raw.workload.iter().enumerate() {
            let discovery = match (&w.target, w.sentinel || w.cluster) {
                (None, true) if w.cluster && cluster_plan.is_some() => {
                    Discovery::Cluster((0..n_redis as u32).collect())
                }
                (None, true) if w.cluster => {
                    return Err(self.err(
                        w.rate.span(),
                        "`cluster = true` needs a cluster: `cluster = true` in [topology]",
                    ));
                }
                (Some(t), false) => {
                    let target = self.node(&names, t)?;
                    if target >= n_redis {
                        return Err(self.err(t.span(), "a workload targets a Redis node"));
                    }
                    Discovery::Direct(target as u32)
                }
                (None, true) if sentinels > 0 => Discovery::Sentinel {
                    sentinels: (n_redis..n_servers).map(|n| n as u32).collect(),
                    master_name: sentinel_conf.master_name.clone(),
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
            if !(*w.rate.get_ref() > 0.0 && w.rate.get_ref().is_finite()) {
                return Err(self.err(
                    w.rate.span(),
                    "rate must be a positive number of operations per second",
                ));
            }
            if *w.rate.get_ref() > limits::MAX_RATE {
                return Err(self.err(
                    w.rate.span(),
                    format!(
                        "rate = {} is out of range: at most 100000 operations per second per workload (what one Redis server serves)",
                        w.rate.get_ref()
                    ),
                ));
            }
            if *w.rate.get_ref() < 0.001 {
                return Err(self.err(
                    w.rate.span(),
                    format!(
                        "rate = {} is out of range: at least 0.001 operations per second (one every 1000 s)",
                        w.rate.get_ref()
                    ),
                ));
            }
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
            nodes.push(NodePlan {
                name: names[n_servers + i].clone(),
                host: format!("10.0.1.{}", i + 1),
                port: 40000,
                kind: NodeKind::Client(WorkloadSpec {
                    discovery,
                    rate: *w.rate.get_ref(),
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
            });
        }

        let mut faults = Vec::new();
        let mut fault_spans = Vec::new();
        for f in &raw.fault {
            let at = self.time_in_run(&f.at, duration)?;
            let action = self.action(&names, n_redis, n_servers, f)?;
            if let Action::DebugSleep { node, length } = action {
                faults.push((at + length, Action::DebugSleepEnd(node)));
                fault_spans.push(None);
            }
            faults.push((at, action));
            fault_spans.push(Some(f.at.span()));
        }
        // A scripted fault that would change nothing is refused: the trace
        // must never claim a restart or a SIGCONT that did not happen.
        for (i, effect) in liveness::effects(names.len() + 1, &faults)
            .into_iter()
            .enumerate()
        {
            if let (Err(no), Some(span)) = (effect, &fault_spans[i]) {
                let of = no
                    .node
                    .map_or(String::new(), |n| format!(" of {}", names[n]));
                return Err(self.err(
                    span.clone(),
                    format!(
                        "{}{of} at {} does nothing: {}",
                        no.what,
                        crate::sim::time::format_duration(faults[i].0),
                        no.reason
                    ),
                ));
            }
        }
        if has_reshard {
            if cluster_plan.is_none() {
                let f = raw
                    .fault
                    .iter()
                    .find(|f| f.reshard.is_some())
                    .expect("a reshard");
                return Err(self.err(
                    f.at.span(),
                    "`reshard` needs a cluster: `cluster = true` in [topology]",
                ));
            }
            nodes.push(NodePlan {
                name: "redis-cli".into(),
                host: "10.0.3.1".into(),
                port: 40000,
                kind: NodeKind::Operator,
            });
        }
        self.check_event_budget(&nodes, duration, max_events, &raw)?;
        let fuzz = self.fuzz_settings(&raw.fuzz, duration)?;
        let conform = raw
            .conform
            .as_ref()
            .map(|c| conform::build(c, &names, n_servers, duration, &|span, m| self.err(span, m)))
            .transpose()?;
        let mut expects = Vec::new();
        for e in &raw.expect {
            expects.push(self.expectation(&names, e, duration, cluster_plan.is_some())?);
        }
        Ok(Plan {
            name: raw.name.into_inner(),
            description: raw.description,
            question: raw.question,
            topic: raw.topic,
            answer: raw.answer,
            seed: raw.seed,
            duration,
            max_events,
            link,
            nodes,
            faults,
            expects,
            fuzz,
            conform,
            cluster: cluster_plan,
        })
    }

    /// Refuses a run that cannot fit its event budget whatever happens in
    /// it: it would only stop at `max-events` after minutes of work.
    pub(super) fn check_event_budget(
        &self,
        nodes: &[NodePlan],
        duration: Micros,
        max_events: u64,
        raw: &RawScenario,
    ) -> Result<(), ScenarioError> {
        let mut load = limits::Load {
            redis: 0,
            sentinels: 0,
            cluster_node_timeout_ms: None,
            cron_per_sec: 0.0,
            ops: 0.0,
            replicated: 0.0,
        };
        let n_redis = nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Redis { .. }))
            .count() as f64;
        // The replicas each write reaches: every other server, or in a
        // cluster the replicas of the key's master.
        let cluster = raw.topology.cluster.as_ref().is_some_and(|c| *c.get_ref());
        let fanout = match &raw.topology.replicas {
            _ if !cluster => (n_redis - 1.0).max(0.0),
            Some(r) => f64::from(*r.get_ref()),
            None => 0.0,
        };
        for n in nodes {
            match &n.kind {
                NodeKind::Redis { conf, .. } => {
                    load.redis += 1;
                    load.cron_per_sec += conf.hz as f64;
                    if conf.cluster_enabled {
                        let nt = conf.cluster.node_timeout;
                        load.cluster_node_timeout_ms =
                            Some(load.cluster_node_timeout_ms.map_or(nt, |m: u64| m.max(nt)));
                    }
                }
                NodeKind::Sentinel(_) => load.sentinels += 1,
                NodeKind::Client(w) => {
                    let ops = w.rate * (w.stop.saturating_sub(w.start)) as f64 / 1e6;
                    load.ops += ops;
                    load.replicated += ops * (1.0 - w.reads) * fanout;
                }
                NodeKind::Operator => {}
            }
        }
        let secs = duration as f64 / 1e6;
        let need = load.at_least(secs);
        if need > max_events as f64 {
            let mut e = self.err(
                raw.duration.span(),
                format!(
                    "this run needs at least {:.0} events ({:.0} per simulated second from its servers and Sentinels over {}, plus 2 per client operation and 1 per write and replica): more than its event budget, [sim] max-events = {max_events}",
                    need,
                    load.per_sec() / 2.0,
                    crate::sim::time::format_duration(duration)
                ),
            );
            e.hint = Some(
                "shorten `duration`, shrink the topology or the workload rates, or raise [sim] max-events (at most 1000000000)".into(),
            );
            return Err(e);
        }
        Ok(())
    }

    /// The cluster's slot assignment: explicit ranges per master, or an
    /// even split; replicas follow the masters in order.
    pub(super) fn cluster_plan(
        &self,
        t: &RawTopology,
        replicas: u32,
    ) -> Result<ClusterPlan, ScenarioError> {
        let masters = *t.masters.get_ref() as usize;
        if masters == 0 {
            return Err(self.err(t.masters.span(), "a cluster needs at least one master"));
        }
        if *t.masters.get_ref() > limits::MAX_CLUSTER_MASTERS {
            return Err(self.err(
                t.masters.span(),
                format!(
                    "masters = {masters} is out of range: at most {} (Redis Cluster has {} hash slots and each master serves at least one)",
                    limits::MAX_CLUSTER_MASTERS,
                    SLOTS
                ),
            ));
        }
        let total = masters as u64 * (1 + u64::from(replicas));
        if total > limits::MAX_REDIS_NODES {
            return Err(self.err(
                t.masters.span(),
                format!(
                    "{masters} masters with {replicas} replicas each make {total} Redis servers: at most {} (simulation work grows with the square of their number)",
                    limits::MAX_REDIS_NODES
                ),
            ));
        }
        let slots: Vec<SlotSet> = match &t.slots {
            None => even_split(masters)
                .into_iter()
                .map(|(lo, hi)| SlotSet::range(lo, hi))
                .collect(),
            Some(list) => {
                if list.get_ref().len() != masters {
                    return Err(self.err(
                        list.span(),
                        format!("`slots` needs one entry per master ({masters})"),
                    ));
                }
                let mut seen = SlotSet::default();
                let mut out = Vec::new();
                for entry in list.get_ref() {
                    let set = parse_slot_ranges(entry.get_ref())
                        .map_err(|m| self.err(entry.span(), m))?;
                    if let Some(dup) = set.iter().find(|&x| seen.contains(x)) {
                        return Err(self.err(
                            entry.span(),
                            format!("slot {dup} is assigned to two masters"),
                        ));
                    }
                    for x in set.iter() {
                        seen.insert(x);
                    }
                    out.push(set);
                }
                out
            }
        };
        let mut replica_of = vec![None; masters];
        let mut all = slots;
        for m in 0..masters {
            for _ in 0..replicas {
                replica_of.push(Some(m));
                all.push(SlotSet::default());
            }
        }
        Ok(ClusterPlan {
            slots: all,
            replica_of,
        })
    }

    pub(super) fn sentinel_conf(&self, raw: &RawSentinel) -> Result<SentinelConf, ScenarioError> {
        let mut c = SentinelConf::new(0);
        if let Some(n) = &raw.master_name {
            limits::check_token("master-name", n.get_ref()).map_err(|m| self.err(n.span(), m))?;
            c.master_name = n.get_ref().as_str().into();
        }
        if let Some(q) = &raw.quorum {
            if *q.get_ref() == 0 {
                return Err(self.err(q.span(), "quorum must be at least 1"));
            }
            c.quorum = *q.get_ref();
        }
        if let Some(d) = &raw.down_after_milliseconds {
            if *d.get_ref() == 0 {
                return Err(self.err(d.span(), "down-after-milliseconds must be positive"));
            }
            self.bounded(d, "down-after-milliseconds", 1, YEAR_MS, "a year")?;
            c.down_after = *d.get_ref();
        }
        if let Some(t) = &raw.failover_timeout {
            if *t.get_ref() == 0 {
                return Err(self.err(t.span(), "failover-timeout must be positive"));
            }
            self.bounded(t, "failover-timeout", 1, YEAR_MS, "a year")?;
            c.failover_timeout = *t.get_ref();
        }
        if let Some(pass) = &raw.auth_pass {
            limits::check_token("auth-pass", pass.get_ref())
                .map_err(|m| self.err(pass.span(), m))?;
            c.auth_pass = Some(pass.get_ref().as_str().into());
        }
        if let Some(n) = &raw.parallel_syncs {
            c.parallel_syncs = (*n.get_ref()).max(1);
        }
        Ok(c)
    }

    pub(super) fn link_params(
        &self,
        mut p: LinkParams,
        latency: Option<&Spanned<String>>,
        jitter: Option<&Spanned<String>>,
        bandwidth: Option<&Spanned<String>>,
        loss: Option<(f64, Range<usize>)>,
    ) -> Result<LinkParams, ScenarioError> {
        if let Some(l) = latency {
            p.latency = self.duration(l)?;
        }
        if let Some(j) = jitter {
            p.jitter = self.duration(j)?;
        }
        if let Some(b) = bandwidth {
            let text = b.get_ref().trim_end_matches("/s");
            p.bandwidth = parse_size(text).map_err(|m| {
                let mut e = self.err(b.span(), m);
                e.hint = Some("bandwidth is bytes per second, e.g. \"100mb\" or \"1gb/s\"".into());
                e
            })?;
        }
        if let Some((l, span)) = loss {
            if !(0.0..1.0).contains(&l) {
                return Err(self.err(span, "loss is a probability in [0, 1)"));
            }
            p.loss = l;
        }
        Ok(p)
    }
}
