//! Replication groups outside cluster mode, and the masters the Sentinels
//! monitor: `[topology] masters = N` makes N independent groups (a master
//! and its replicas each), and `[sentinel.masters.<name>]` tables name each
//! monitored master with its own sentinel.conf settings (`sentinel monitor
//! <name> ...` and the per-master options after it), as one sentinel.conf
//! lists several masters.

use toml::Spanned;

use crate::sentinel::{MasterConf, SentinelConf};

use super::builder::{Builder, Roster, YEAR_MS};
use super::error::suggest;
use super::plan::Group;
use super::raw::{RawMonitor, RawSentinel, RawTopology};
use super::{ScenarioError, limits};

/// The Redis servers' names of `masters` groups of `replicas` replicas
/// each, in the plan's order (each group's master, then its replicas): one
/// group keeps the names `master`, `replica-1`, ...; several are
/// `master-1`, `replica-1-1`, ..., `master-2`, `replica-2-1`, ...
pub(super) fn server_names(masters: u32, replicas: u32) -> Vec<String> {
    let mut names = Vec::new();
    if masters == 1 {
        names.push("master".to_string());
        names.extend((1..=replicas).map(|i| format!("replica-{i}")));
        return names;
    }
    for g in 1..=masters {
        names.push(format!("master-{g}"));
        names.extend((1..=replicas).map(|i| format!("replica-{g}-{i}")));
    }
    names
}

/// The Redis servers' names in the plan's order: [`server_names`]
/// outside cluster mode; in a cluster its masters first (`master-1`, ...),
/// then each master's replicas (`replica-1-1`, ..., `replica-2-1`, ...),
/// as `redis-cli --cluster create` takes masters first.
pub fn redis_names(masters: u32, replicas: u32, cluster: bool) -> Vec<String> {
    if !cluster {
        return server_names(masters, replicas);
    }
    let mut names: Vec<String> = (1..=masters).map(|i| format!("master-{i}")).collect();
    for m in 1..=masters {
        names.extend((1..=replicas).map(|r| format!("replica-{m}-{r}")));
    }
    names
}

/// The groups of a replication scenario: group `g` is its master's index
/// and its replicas', laid out as [`server_names`] lays them out.
pub(super) fn groups(masters: u32, replicas: u32) -> Vec<Group> {
    let size = 1 + replicas as usize;
    (0..masters as usize)
        .map(|g| Group {
            master: g * size,
            nodes: (g * size..(g + 1) * size).collect(),
        })
        .collect()
}

/// The master a Redis server starts replicating from: its group's master
/// (none for a master).
pub(super) fn replicaof(groups: &[Group], node: usize) -> Option<usize> {
    groups
        .iter()
        .find(|g| g.nodes.contains(&node))
        .map(|g| g.master)
        .filter(|&m| m != node)
}

impl Builder<'_> {
    /// How many replication groups a scenario outside cluster mode has,
    /// checked against the limit on Redis servers.
    pub(super) fn group_count(&self, t: &RawTopology, replicas: u32) -> Result<u32, ScenarioError> {
        let masters = *t.masters.get_ref();
        if masters == 0 {
            return Err(self.err(t.masters.span(), "masters must be at least 1"));
        }
        let total = u64::from(masters) * (1 + u64::from(replicas));
        if total > limits::MAX_REDIS_NODES {
            return Err(self.err(
                t.masters.span(),
                format!(
                    "{masters} masters with {replicas} replicas each make {total} Redis servers: at most {} (simulation work grows with the square of their number)",
                    limits::MAX_REDIS_NODES
                ),
            ));
        }
        Ok(masters)
    }

    /// sentinel.conf for every Sentinel: the masters they monitor, each
    /// with `[sentinel]`'s settings overridden by its own table. With one
    /// group and no `[sentinel.masters]` table, the one master is named by
    /// `master-name` (default `mymaster`), as before; with several groups
    /// each monitored master is named by its table and says which group's
    /// master it is (`node = "master-2"`); masters are listed in their
    /// groups' order.
    pub(super) fn sentinel_conf(
        &self,
        raw: &RawSentinel,
        topology: &RawTopology,
        roster: &Roster,
        groups: &[Group],
        sentinels: u32,
    ) -> Result<SentinelConf, ScenarioError> {
        let base = self.monitor_settings(raw)?;
        let mut conf = SentinelConf {
            port: 26379,
            masters: Vec::new(),
            announce: None,
        };
        if raw.masters.is_empty() {
            if groups.len() > 1 && sentinels > 0 {
                let mut e = self.err(
                    topology.masters.span(),
                    format!(
                        "with masters = {} the Sentinels need to know each master's name",
                        groups.len()
                    ),
                );
                e.hint = Some(
                    "add a [sentinel.masters.<name>] table with `node = \"master-1\"` for each master they monitor"
                        .into(),
                );
                return Err(e);
            }
            let mut m = base;
            if let Some(n) = &raw.master_name {
                limits::check_token("master-name", n.get_ref())
                    .map_err(|m| self.err(n.span(), m))?;
                m.master_name = n.get_ref().as_str().into();
            }
            m.master = groups.first().map_or(0, |g| g.master as u32);
            conf.masters.push(m);
            return Ok(conf);
        }
        if let Some(n) = &raw.master_name {
            let mut e = self.err(
                n.span(),
                "`master-name` names the one master of [sentinel]; with [sentinel.masters.<name>] tables each table names its master",
            );
            e.hint = Some("remove `master-name` and name the master in its table".into());
            return Err(e);
        }
        let masters: Vec<&str> = groups
            .iter()
            .map(|g| roster.names[g.master].as_str())
            .collect();
        for (name, table) in &raw.masters {
            limits::check_token("a master name", name.get_ref())
                .map_err(|m| self.err(name.span(), m))?;
            let node = self.monitored_node(name, table, roster, groups, &masters)?;
            if let Some(prev) = conf.masters.iter().find(|m| m.master == node as u32) {
                let span = table.node.as_ref().map_or(name.span(), |n| n.span());
                return Err(self.err(
                    span,
                    format!(
                        "`{}` is already monitored as `{}`",
                        roster.names[node], prev.master_name
                    ),
                ));
            }
            let mut m = self.override_settings(base.clone(), table)?;
            m.master_name = name.get_ref().as_str().into();
            m.master = node as u32;
            conf.masters.push(m);
        }
        // sentinel.conf lists the masters in their groups' order, whatever
        // order the tables come in.
        conf.masters.sort_by_key(|m| m.master);
        Ok(conf)
    }

    /// The group master a `[sentinel.masters.<name>]` table monitors: its
    /// `node`, or with one group the one master.
    fn monitored_node(
        &self,
        name: &Spanned<String>,
        table: &RawMonitor,
        roster: &Roster,
        groups: &[Group],
        masters: &[&str],
    ) -> Result<usize, ScenarioError> {
        let Some(node) = &table.node else {
            if let [g] = groups {
                return Ok(g.master);
            }
            let mut e = self.err(
                name.span(),
                format!("[sentinel.masters.{}] needs `node`", name.get_ref()),
            );
            e.hint = Some(format!(
                "the group masters are: {} (e.g. node = \"{}\")",
                masters.join(", "),
                masters[0]
            ));
            return Err(e);
        };
        match groups
            .iter()
            .find(|g| roster.names[g.master] == *node.get_ref())
        {
            Some(g) => Ok(g.master),
            None => {
                let mut e = self.err(
                    node.span(),
                    format!("`{}` is not a group's master", node.get_ref()),
                );
                e.hint = Some(match suggest(node.get_ref(), masters) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("the group masters are: {}", masters.join(", ")),
                });
                Err(e)
            }
        }
    }

    /// `[sentinel]`'s own settings, the defaults of every monitored master.
    fn monitor_settings(&self, raw: &RawSentinel) -> Result<MasterConf, ScenarioError> {
        let c = MasterConf::new(0);
        let table = RawMonitor {
            node: None,
            quorum: raw.quorum.clone(),
            down_after_milliseconds: raw.down_after_milliseconds.clone(),
            failover_timeout: raw.failover_timeout.clone(),
            parallel_syncs: raw.parallel_syncs.clone(),
            auth_pass: raw.auth_pass.clone(),
        };
        self.override_settings(c, &table)
    }

    /// A master's settings with a table's keys applied, each checked.
    fn override_settings(
        &self,
        mut c: MasterConf,
        raw: &RawMonitor,
    ) -> Result<MasterConf, ScenarioError> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_group_keeps_the_old_names() {
        assert_eq!(server_names(1, 2), ["master", "replica-1", "replica-2"]);
        let g = groups(1, 2);
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].master, g[0].nodes.clone()), (0, vec![0, 1, 2]));
        assert_eq!(replicaof(&g, 0), None);
        assert_eq!(replicaof(&g, 2), Some(0));
    }

    #[test]
    fn two_groups_are_numbered_and_replicate_within() {
        assert_eq!(
            server_names(2, 1),
            ["master-1", "replica-1-1", "master-2", "replica-2-1"]
        );
        let g = groups(2, 1);
        assert_eq!(g[1].master, 2);
        assert_eq!(g[1].nodes, [2, 3]);
        assert_eq!(replicaof(&g, 1), Some(0));
        assert_eq!(replicaof(&g, 3), Some(2));
        assert_eq!(replicaof(&g, 2), None);
    }
}
