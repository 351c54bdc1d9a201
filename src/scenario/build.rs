//! From the file's tables to a [`Plan`]: names resolved, values checked,
//! errors located. `build` goes table by table: the run's settings and the
//! processes here, the workloads in `workload.rs`, the faults in
//! `fault.rs`, the expectations in `expect.rs`, `[fuzz]` in `fuzz.rs`.

use std::ops::Range;

use toml::Spanned;

use crate::proto::slots::{SLOTS, SlotSet, even_split};
use crate::redis::config::{self, ConfValue, RedisConfig};
use crate::sentinel::SentinelConf;
use crate::sim::net::LinkParams;
use crate::time::{Micros, parse_size};

use super::builder::{Builder, Roster, RunSettings};
use super::error::suggest;
use super::fault::OPERATOR;
use super::plan::*;
use super::raw::Conf;
use super::raw::*;
use super::{ScenarioError, conform, limits, parse_slot_ranges};

impl Builder<'_> {
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
            if k.get_ref().starts_with("cluster-announce-") {
                // The simulated bus reaches a node by its identity: an
                // announced address that led elsewhere would not cut the
                // node off as it does in Redis.
                return Err(self.err(
                    k.span(),
                    format!(
                        "`{}` is set by [publish], to an address the host forwards to the node;                          redsim does not model a cluster node announcing an address of its choosing",
                        k.get_ref()
                    ),
                ));
            }
            conf.set(k.get_ref(), value)
                .and_then(|()| limits::check_redis_conf(k.get_ref(), conf))
                .map_err(|m| self.err(v.span(), format!("{}: {m}", k.get_ref())))?;
        }
        Ok(())
    }

    /// Every table to a [`Plan`], in the order its errors are reported:
    /// the run's settings, the processes (servers and Sentinels, then the
    /// workloads' clients), the faults, then what is checked.
    pub(super) fn build(&self, raw: RawScenario) -> Result<Plan, ScenarioError> {
        let run = self.run_settings(&raw)?;
        let (cluster, groups) = self.cluster_or_replication(&raw.topology, run.replicas)?;
        let roster = self.roster(&raw, cluster.as_ref(), &run)?;
        let sentinel_conf = self.sentinel_conf(
            &raw.sentinel,
            &raw.topology,
            &roster,
            &groups,
            run.sentinels,
        )?;
        let mut nodes = self.servers(&raw, &roster, cluster.is_some(), &groups, &sentinel_conf)?;
        let publish = self.publish(raw.publish.as_ref(), &mut nodes, cluster.is_some())?;
        for (i, w) in raw.workload.iter().enumerate() {
            nodes.push(self.workload(w, i, &roster, &run, cluster.is_some(), &sentinel_conf)?);
        }
        let commands = self.commands(&raw.command, &roster, run.duration)?;
        let at_spans: Vec<_> = raw.command.iter().map(|c| c.at_span()).collect();
        let connections =
            self.connections(&raw.connection, &roster, run.duration, &commands, &at_spans)?;
        let faults = self.faults(
            &raw.fault,
            &roster,
            run.duration,
            cluster.is_some(),
            &shutdown_lines(&commands),
        )?;
        self.check_debug_allowed(&raw.fault, &roster, &nodes)?;
        let max_events =
            self.check_event_budget(&nodes, run.duration, run.max_events, &raw, groups.len())?;
        let fuzz = self.fuzz_settings(&raw.fuzz, run.duration)?;
        let conform = raw
            .conform
            .as_ref()
            .map(|c| {
                conform::build(
                    c,
                    &roster.names,
                    roster.servers,
                    run.duration,
                    &|span, m| self.err(span, m),
                )
            })
            .transpose()?;
        let command_names: Vec<&str> = commands
            .iter()
            .filter_map(|(_, c)| c.name.as_deref())
            .collect();
        let mut expects = Vec::new();
        for e in &raw.expect {
            expects.push(self.expectation(
                &roster.names,
                e,
                run.duration,
                cluster.is_some(),
                &command_names,
            )?);
        }
        let end = match &raw.stop {
            Some(s) => {
                let t = self.time_in_run(s, run.duration)?;
                if t == 0 {
                    return Err(self.err(s.span(), "stop must be after zero"));
                }
                t
            }
            None => run.duration,
        };
        let operator = has_operator(&raw);
        let mut plan = Plan {
            name: raw.name.into_inner(),
            description: raw.description,
            question: raw.question,
            topic: raw.topic,
            answer: raw.answer,
            seed: raw.seed,
            duration: end,
            max_events,
            link: run.link,
            nodes,
            faults,
            commands,
            connections,
            publish,
            expects,
            fuzz,
            conform,
            cluster,
            groups,
        };
        if operator {
            plan.with_operator();
        }
        Ok(plan)
    }

    /// The run's own settings: its name, duration and event budget, how
    /// many replicas and Sentinels, and the network's links.
    fn run_settings(&self, raw: &RawScenario) -> Result<RunSettings, ScenarioError> {
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
            Some(m) => Some(self.bounded(
                m,
                "max-events",
                limits::MIN_MAX_EVENTS,
                limits::MAX_MAX_EVENTS,
                "10^9 events take up to hours of wall time",
            )?),
            None => None,
        };
        let replicas = match &raw.topology.replicas {
            Some(r) => self.bounded(
                r,
                "replicas",
                0,
                limits::MAX_REDIS_NODES - 1,
                "a scenario simulates at most 1000 Redis servers",
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
        Ok(RunSettings {
            duration,
            max_events,
            replicas,
            sentinels,
            link,
        })
    }

    /// A Redis Cluster's layout, or for a replication scenario its
    /// replication groups (`masters` independent masters, each with
    /// `replicas` replicas).
    fn cluster_or_replication(
        &self,
        t: &RawTopology,
        replicas: u32,
    ) -> Result<(Option<ClusterPlan>, Vec<Group>), ScenarioError> {
        if t.cluster.as_ref().is_some_and(|c| *c.get_ref()) {
            return Ok((Some(self.cluster_plan(t, replicas)?), Vec::new()));
        }
        if let Some(sl) = &t.slots {
            return Err(self.err(sl.span(), "`slots` needs `cluster = true`"));
        }
        let masters = self.group_count(t, replicas)?;
        Ok((None, super::groups::groups(masters, replicas)))
    }

    /// Every process's name: Redis servers first, then Sentinels, then
    /// clients, then the operator's redis-cli if a fault reshards.
    fn roster(
        &self,
        raw: &RawScenario,
        cluster: Option<&ClusterPlan>,
        run: &RunSettings,
    ) -> Result<Roster, ScenarioError> {
        let mut names = Vec::new();
        if let Some(cp) = cluster {
            let masters = cp.slots.iter().filter(|s| !s.is_empty()).count();
            names.extend(super::groups::redis_names(
                masters as u32,
                run.replicas,
                true,
            ));
            if run.sentinels > 0 {
                return Err(self.err(
                    raw.topology.masters.span(),
                    "Redis Cluster does its own failover: it cannot be monitored by Sentinels (sentinels = 0)",
                ));
            }
        } else {
            let masters = *raw.topology.masters.get_ref();
            names.extend(super::groups::server_names(masters, run.replicas));
        }
        let redis = names.len();
        for i in 1..=run.sentinels {
            names.push(format!("sentinel-{i}"));
        }
        let servers = names.len();
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
        if has_operator(raw) {
            names.push(OPERATOR.into());
        }
        Ok(Roster {
            names,
            redis,
            servers,
        })
    }

    /// The Redis servers (with redis.conf: `[redis]`, then each one's
    /// `[node.<name>]`) and the Sentinels.
    fn servers(
        &self,
        raw: &RawScenario,
        roster: &Roster,
        cluster: bool,
        groups: &[Group],
        sentinel_conf: &SentinelConf,
    ) -> Result<Vec<NodePlan>, ScenarioError> {
        let mut base = RedisConfig {
            cluster_enabled: cluster,
            ..RedisConfig::default()
        };
        self.apply_conf(&mut base, &raw.redis)?;
        if base.cluster_enabled != cluster {
            return Err(self.err(
                raw.topology.masters.span(),
                "set `cluster = true` in [topology] for a Redis Cluster (it sets cluster-enabled)",
            ));
        }
        let linked = match &raw.topology.linked {
            Some(l) if !*l.get_ref() && cluster => {
                return Err(self.err(
                    l.span(),
                    "`linked` is for a master and its replicas; a cluster's replicas are linked by `redis-cli --cluster create`",
                ));
            }
            Some(l) => *l.get_ref(),
            None => true,
        };
        let mut confs: Vec<RedisConfig> = vec![base; roster.redis];
        for (name, table) in &raw.node {
            let i = self.redis_node(roster, name)?;
            self.apply_conf(&mut confs[i], table)?;
        }
        let mut nodes = Vec::new();
        for (i, conf) in confs.into_iter().enumerate() {
            nodes.push(NodePlan {
                name: roster.names[i].clone(),
                host: format!("10.0.0.{}", i + 1),
                port: conf.port,
                kind: NodeKind::Redis {
                    conf: Box::new(conf),
                    replicaof: super::groups::replicaof(groups, i).filter(|_| linked),
                },
            });
        }
        for (i, name) in roster.names[roster.redis..roster.servers]
            .iter()
            .enumerate()
        {
            nodes.push(NodePlan {
                name: name.clone(),
                host: format!("10.0.2.{}", i + 1),
                port: sentinel_conf.port,
                kind: NodeKind::Sentinel(sentinel_conf.clone()),
            });
        }
        Ok(nodes)
    }

    /// The run's event budget: `max-events` when set, else sized to the
    /// scenario ([`limits::event_budget`]). Refuses a run that cannot fit
    /// it whatever happens in it: it would only stop at the budget after
    /// minutes of work.
    pub(super) fn check_event_budget(
        &self,
        nodes: &[NodePlan],
        duration: Micros,
        max_events: Option<u64>,
        raw: &RawScenario,
        groups: usize,
    ) -> Result<u64, ScenarioError> {
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
        // The replicas each write reaches: every other server of its
        // group, or in a cluster the replicas of the key's master.
        let cluster = raw.topology.cluster.as_ref().is_some_and(|c| *c.get_ref());
        let fanout = match &raw.topology.replicas {
            _ if !cluster => (n_redis / groups.max(1) as f64 - 1.0).max(0.0),
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
                    load.replicated += ops * w.commands.mix.writes() * fanout;
                }
                NodeKind::Operator => {}
            }
        }
        let secs = duration as f64 / 1e6;
        let need = load.at_least(secs);
        let max_events = max_events.unwrap_or_else(|| limits::event_budget(need));
        if need > max_events as f64 {
            let mut e = self.err(
                raw.duration.span(),
                format!(
                    "this run needs at least {:.0} events ({:.0} per simulated second from its servers and Sentinels over {}, plus 2 per client operation and 1 per write and replica): more than its event budget, [sim] max-events = {max_events}",
                    need,
                    load.per_sec() / 2.0,
                    crate::time::format_duration(duration)
                ),
            );
            e.hint = Some(
                "shorten `duration`, shrink the topology or the workload rates, or raise [sim] max-events (at most 1000000000)".into(),
            );
            return Err(e);
        }
        Ok(max_events)
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

/// The operator's redis-cli runs when a fault reshards or a command line is
/// sent.
impl Builder<'_> {
    /// A `debug-sleep` sends DEBUG SLEEP, which Redis 7.0 refuses unless
    /// the node's redis.conf has `enable-debug-command yes`.
    fn check_debug_allowed(
        &self,
        raw: &[super::fault::RawFault],
        r: &Roster,
        nodes: &[NodePlan],
    ) -> Result<(), ScenarioError> {
        for name in raw.iter().filter_map(|f| f.debug_sleep_node()) {
            let node = self.redis_node(r, name)?;
            let allowed = matches!(
                &nodes[node].kind,
                NodeKind::Redis { conf, .. }
                    if conf.enable_debug_command == config::ProtectedAction::Yes
            );
            if !allowed {
                return Err(self.err(
                    name.span(),
                    format!(
                        "debug-sleep sends DEBUG SLEEP, which Redis 7.0 refuses unless enable-debug-command is yes: add enable-debug-command = \"yes\" to [redis] or [node.{}]",
                        name.get_ref()
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn has_operator(raw: &RawScenario) -> bool {
    raw.fault.iter().any(|f| f.needs_operator())
        || !raw.command.is_empty()
        || !raw.connection.is_empty()
}

/// The `[[command]]` lines that shut a process down (SHUTDOWN without
/// ABORT), as the faults' liveness check must see them: a restart after
/// one does something.
fn shutdown_lines(commands: &[(Micros, crate::history::CommandLine)]) -> Vec<(Micros, usize)> {
    commands
        .iter()
        .filter(|(_, c)| {
            c.argv
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("shutdown"))
                && !c.argv.iter().any(|a| a.eq_ignore_ascii_case("abort"))
        })
        .map(|(at, c)| (*at, c.node as usize))
        .collect()
}
