//! The `[[fault]]` table: each kind of scripted fault, read and checked.

use toml::Spanned;

use crate::redis::cluster::failover::FailoverMode;
use crate::sim::net::LinkParams;
use crate::sim::time::parse_duration;

use super::build::Builder;
use super::plan::*;
use super::raw::*;
use super::{ScenarioError, limits, parse_slot_ranges};

impl Builder<'_> {
    pub(super) fn action(
        &self,
        names: &[String],
        n_redis: usize,
        n_servers: usize,
        f: &RawFault,
    ) -> Result<Action, ScenarioError> {
        let redis = |s: &Spanned<String>| self.redis_node(names, n_redis, n_servers, s);
        // Processes of any kind can be killed, paused or restarted.
        let any = |s: &Spanned<String>| self.node(names, s);
        let group = |g: &[Spanned<String>]| -> Result<Vec<usize>, ScenarioError> {
            g.iter().map(|n| self.node(names, n)).collect()
        };
        let mut actions = Vec::new();
        if let Some(n) = &f.kill {
            actions.push(Action::Kill(any(n)?));
        }
        if let Some(n) = &f.crash {
            actions.push(Action::Crash(any(n)?));
        }
        if let Some(n) = &f.shutdown {
            actions.push(Action::Shutdown(any(n)?));
        }
        if let Some(n) = &f.restart {
            actions.push(Action::Restart(any(n)?));
        }
        if let Some(n) = &f.pause {
            actions.push(Action::Pause(any(n)?));
        }
        if let Some(n) = &f.resume {
            actions.push(Action::Resume(any(n)?));
        }
        if let Some(p) = &f.partition {
            if p.get_ref().len() < 2 {
                return Err(self.err(
                    p.span(),
                    "a partition needs at least two groups, e.g. [[\"master\"], [\"replica-1\"]]",
                ));
            }
            let groups: Result<Vec<_>, _> = p.get_ref().iter().map(|g| group(g)).collect();
            actions.push(Action::Partition(groups?));
        }
        if let Some(p) = &f.partition_oneway {
            let p = p.get_ref();
            actions.push(Action::PartitionOneWay {
                from: group(&p.from)?,
                to: group(&p.to)?,
            });
        }
        if let Some(h) = &f.heal {
            if !*h.get_ref() {
                return Err(self.err(h.span(), "write `heal = true` to heal every partition"));
            }
            actions.push(Action::Heal);
        }
        if let Some(l) = &f.link {
            let r = l.get_ref();
            let params = self.link_params(
                LinkParams::default(),
                r.latency.as_ref(),
                r.jitter.as_ref(),
                r.bandwidth.as_ref(),
                r.loss.map(|x| (x, l.span())),
            )?;
            actions.push(Action::Link {
                from: self.node(names, &r.from)?,
                to: self.node(names, &r.to)?,
                params,
                both_ways: r.both_ways,
            });
        }
        if let Some(c) = &f.clock_jump {
            let r = c.get_ref();
            let text = r.by.get_ref().trim();
            let (sign, rest) = match text.strip_prefix('-') {
                Some(rest) => (-1i64, rest),
                None => (1, text.strip_prefix('+').unwrap_or(text)),
            };
            let by = parse_duration(rest).map_err(|m| self.err(r.by.span(), m))? as i64 * sign;
            actions.push(Action::ClockJump {
                node: self.node(names, &r.node)?,
                by,
            });
        }
        if let Some(b) = &f.burst {
            let b = b.get_ref();
            let writes = self.bounded(
                &b.writes,
                "writes",
                1,
                u64::from(limits::MAX_BURST_WRITES),
                "every node holds every key written",
            )?;
            let value_size = self.value_size(&b.value_size)?;
            let total = u64::from(writes) * u64::from(value_size);
            if total > limits::MAX_BURST_BYTES {
                return Err(self.err(
                    b.writes.span(),
                    format!(
                        "a burst of {writes} SETs of {value_size} bytes writes {total} bytes: at most 1gb (1073741824 bytes) per burst (every node holds every key, and every full sync copies them)"
                    ),
                ));
            }
            actions.push(Action::Burst {
                node: redis(&b.node)?,
                writes,
                value_size,
            });
        }
        if let Some(r) = &f.replicaof {
            let r = r.get_ref();
            let node = redis(&r.node)?;
            let master = if r.master.get_ref().eq_ignore_ascii_case("no one") {
                None
            } else {
                Some(redis(&r.master)?)
            };
            actions.push(Action::ReplicaOf { node, master });
        }
        if let Some(r) = &f.reshard {
            let r = r.get_ref();
            let slots =
                parse_slot_ranges(r.slots.get_ref()).map_err(|m| self.err(r.slots.span(), m))?;
            let batch = match &r.batch {
                Some(b) => self.bounded(
                    b,
                    "batch",
                    1,
                    u64::from(limits::MAX_BATCH),
                    "keys per MIGRATE",
                )?,
                None => default_batch(),
            };
            actions.push(Action::Reshard {
                from: redis(&r.from)?,
                to: redis(&r.to)?,
                slots: slots.iter().collect(),
                batch,
            });
        }
        if let Some(cf) = &f.cluster_failover {
            let r = cf.get_ref();
            let mode = match r.mode.as_ref().map(|m| m.get_ref().to_ascii_lowercase()) {
                None => FailoverMode::Default,
                Some(m) if m == "force" => FailoverMode::Force,
                Some(m) if m == "takeover" => FailoverMode::Takeover,
                Some(_) => {
                    let span = r.mode.as_ref().map_or(cf.span(), |m| m.span());
                    return Err(self.err(span, "mode is `force` or `takeover` (or leave it out for a coordinated failover)"));
                }
            };
            actions.push(Action::ClusterFailover {
                node: redis(&r.node)?,
                mode,
            });
        }
        if let Some(n) = &f.client_kill_master {
            actions.push(Action::ClientKillMaster(redis(n)?));
        }
        if let Some(d) = &f.debug_sleep {
            let d = d.get_ref();
            let length =
                parse_duration(d.length.get_ref()).map_err(|m| self.err(d.length.span(), m))?;
            actions.push(Action::DebugSleep {
                node: redis(&d.node)?,
                length,
            });
        }
        match actions.len() {
            1 => Ok(actions.pop().expect("one")),
            0 => Err(self.err(f.at.span(), "this fault does nothing: add one of kill, crash, shutdown, restart, pause, resume, partition, partition-oneway, heal, link, clock-jump, replicaof, burst, cluster-failover, reshard, client-kill-master, debug-sleep")),
            _ => Err(self.err(f.at.span(), "one fault per [[fault]] table: split these into separate tables")),
        }
    }
}
