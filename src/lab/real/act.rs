//! What the lab does when told: a prompt line (typed, or sent by the
//! page) checked as a scenario file's fault and caused in the real
//! processes, and the session's schedule saved as a scenario.

use std::path::Path;

use super::RealLab;
use crate::conform::deploy::Deployment;
use crate::conform::net::Net;
use crate::conform::real as harness;
use crate::dashboard::data::NetState;
use crate::lab::prompt::{self, Action};
use crate::lab::record;
use crate::scenario::Fault;
use crate::time::{Secs, format_duration};
use crate::trace::{Event, Level, Source};

impl RealLab {
    /// Does what a prompt line asks, saying what it did in `out`; true on
    /// `quit`.
    pub(super) fn act(&mut self, line: &str, out: &mut Vec<String>) -> bool {
        let names: Vec<String> = self.plan.nodes.iter().map(|n| n.name.clone()).collect();
        match prompt::parse(line, &names) {
            Err(e) => out.push(format!("lab: {e}")),
            Ok(Action::Nothing) => {}
            Ok(Action::Help) => {
                out.push(prompt::HELP.to_string());
                out.push(
                    "With --real: crash, link and clock-jump cannot be caused in real processes, partitions need --netns, and speed stays 1."
                        .into(),
                );
            }
            Ok(Action::Nodes) => out.extend(self.node_lines()),
            Ok(Action::Clients) => out.push(
                "lab: outside clients connect to the real processes directly; `CLIENT LIST` on a server lists them"
                    .into(),
            ),
            Ok(Action::Quit) => return true,
            Ok(Action::Speed(_)) => {
                out.push("lab: real processes run at the wall clock's pace only".into());
            }
            Ok(Action::Save(file)) => {
                let path = file.unwrap_or_else(|| self.save_to.clone());
                match self.save(&path) {
                    Ok(()) => {
                        self.save_to = path;
                        self.save_on_exit = true;
                    }
                    Err(e) => out.push(format!("lab: {e}")),
                }
            }
            Ok(Action::Fault(table)) => self.fault(table, out),
        }
        false
    }

    /// Checks a typed fault as a scenario file's, then causes it in the
    /// real processes now.
    pub(super) fn fault(&mut self, mut table: toml::Table, out: &mut Vec<String>) {
        let at = self.now().max(1);
        table.insert("at".into(), format_duration(at).into());
        let mut tables = self.fault_tables.clone();
        tables.push(table);
        let text = record::session_file(&self.session_text, &self.plan, at, &tables);
        let parsed = match crate::scenario::parse("lab", &text) {
            Ok(p) => p,
            Err(e) => {
                out.push(format!("lab: {}", e.message));
                if let Some(h) = e.hint {
                    out.push(format!("  hint: {h}"));
                }
                return;
            }
        };
        let known = self.plan.faults.len();
        let new: Vec<Fault> = parsed.faults[known..]
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        for f in &new {
            if let Some(why) = self.refused(f) {
                out.push(format!("lab: {why}"));
                return;
            }
        }
        for f in new {
            let (node, name, detail) = harness::describe(&self.plan, &f);
            self.pending.push(Event {
                t: self.now(),
                node,
                source: Source::Sim,
                level: Level::Notice,
                event: name.into(),
                detail,
            });
            let Deployment {
                procs,
                shims,
                net,
                nodes,
                ..
            } = &mut self.deployment;
            let real = |n: usize| nodes.iter().find(|r| r.node == n);
            if let Err(e) = harness::apply(&self.plan, &f, procs, net, shims, &real, &self.env) {
                out.push(format!("lab: {e}"));
                return;
            }
            self.network_changed(&f);
            self.plan.faults.push((at, f));
        }
        self.fault_tables = tables;
    }

    /// Why a fault cannot be caused here, if it cannot.
    pub(super) fn refused(&mut self, f: &Fault) -> Option<String> {
        if let Some(why) = crate::conform::deploy::unsupported(&self.plan, f) {
            return Some(format!("not with real processes: {why}"));
        }
        let partition = matches!(
            f,
            Fault::Partition(_) | Fault::PartitionOneWay { .. } | Fault::Heal
        );
        if partition && matches!(self.deployment.net, Net::Loopback) {
            return Some(
                "partitions of real processes need network namespaces: start the lab with --real --netns (root and iproute2)".into(),
            );
        }
        if let Fault::Restart(n) = *f
            && self.deployment.procs.exited(n).is_none()
            && self.deployment.procs.pid(n).is_some()
        {
            return Some(format!(
                "{} is running: kill or shut it down first",
                self.plan.nodes[n].name
            ));
        }
        None
    }

    /// Records the blocked links after a partition or heal.
    pub(super) fn network_changed(&mut self, f: &Fault) {
        let mut block = |from: &[usize], to: &[usize]| {
            for &a in from {
                for &b in to.iter().filter(|&&b| b != a) {
                    self.blocked.insert((a as u32, b as u32));
                }
            }
        };
        let detail = match f {
            Fault::Partition(groups) => {
                for (i, a) in groups.iter().enumerate() {
                    for (j, b) in groups.iter().enumerate() {
                        if i != j {
                            block(a, b);
                        }
                    }
                }
                "partition"
            }
            Fault::PartitionOneWay { from, to } => {
                block(from, to);
                "one-way partition"
            }
            Fault::Heal => {
                self.blocked.clear();
                "heal"
            }
            _ => return,
        };
        self.follow.network(NetState {
            t: self.now(),
            blocked: self.blocked.iter().copied().collect(),
            detail: detail.into(),
        });
    }

    /// Writes the session's faults, at their instants, as a scenario on
    /// the same deployment: `redsim run` plays that schedule on the
    /// simulator, `redsim conform` on real processes again.
    pub(super) fn save(&self, path: &Path) -> Result<(), String> {
        let stop = self.now().max(1);
        let text = record::session_file(&self.session_text, &self.plan, stop, &self.fault_tables);
        crate::out::write_atomic(path, text.as_bytes())
            .map_err(|e| format!("cannot save the session to {}: {e}", path.display()))?;
        crate::outln!(
            "lab: saved {} ({} faults to {}); `redsim run {}` plays the same schedule on the simulator",
            path.display(),
            self.fault_tables.len(),
            Secs(stop),
            path.display()
        );
        Ok(())
    }
}
