//! What the lab takes in from the real processes: their readings
//! ([`super::poll`]), their logs as they grow (a Sentinel's events as it
//! publishes them, a server's lines named as the simulator names their
//! kind), the clients' operations and the last count of lost writes; and
//! the events it prints.

use std::io::Read as _;

use super::RealLab;
use super::fields;
use super::poll::{Reading, Seen};
use crate::conform::real as harness;
use crate::scenario::NodeKind;
use crate::trace::{Event, Source};

/// Events are shown once they are this old: a log line is read a little
/// after it is written, and the page reads events in time order.
const SETTLE: crate::time::Micros = 300_000;

impl RealLab {
    /// Takes in what the threads and the logs have to say.
    pub(super) fn gather(&mut self) {
        self.read_logs();
        for n in 0..self.plan.nodes.len() {
            // Reaps a process that ended by itself (SHUTDOWN from a client).
            let _ = self.deployment.procs.exited(n);
        }
        let now = self.now();
        let settled = now.saturating_sub(SETTLE);
        let (ready, later): (Vec<Event>, Vec<Event>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|e| e.t <= settled);
        self.pending = later;
        if !ready.is_empty() {
            let from = self.follow.events().len();
            self.follow.push_events(ready);
            if !self.quiet {
                self.print_events(from);
            }
        }
        let readings: Vec<Reading> = self.readings.try_iter().collect();
        for r in readings {
            self.take_reading(r);
        }
        for op in self.ops.try_iter() {
            self.follow.push_op(op);
        }
        if let Some(h) = self.lost_count.take_if(|h| h.is_finished())
            && let Ok((node, lost)) = h.join()
        {
            self.follow.set_lost(node, lost);
        }
        self.follow.set_now(now.saturating_sub(SETTLE));
    }

    pub(super) fn print_events(&self, from: usize) {
        for line in self.event_lines(from) {
            crate::outln!("{line}");
        }
    }

    /// The events from index `from` on, in Redis's log format (as the
    /// simulated lab prints its trace).
    pub(super) fn event_lines(&self, from: usize) -> Vec<String> {
        let names: Vec<String> = self.plan.nodes.iter().map(|n| n.name.clone()).collect();
        (self.follow.events()[from..].iter())
            .map(|e| {
                let n = e.node as usize;
                let role = match &self.plan.nodes[n].kind {
                    NodeKind::Sentinel(_) => 'X',
                    NodeKind::Redis { .. } => self.log_roles[n],
                    _ => 'C',
                };
                crate::trace::event_text(e, &names, role)
            })
            .collect()
    }

    /// New lines of every server's log, as named events.
    pub(super) fn read_logs(&mut self) {
        for (node, sentinel, path, offset, partial) in &mut self.logs {
            let Ok(mut f) = std::fs::File::open(&*path) else {
                continue;
            };
            use std::io::Seek as _;
            if f.seek(std::io::SeekFrom::Start(*offset)).is_err() {
                continue;
            }
            let mut buf = Vec::new();
            if f.read_to_end(&mut buf).is_err() || buf.is_empty() {
                continue;
            }
            *offset += buf.len() as u64;
            partial.extend_from_slice(&buf);
            let Some(end) = partial.iter().rposition(|&b| b == b'\n') else {
                continue;
            };
            let lines: Vec<u8> = partial.drain(..=end).collect();
            let text = String::from_utf8_lossy(&lines);
            // `pid:R …`: the role the server logged as.
            if let Some(role) = (text.lines().rev())
                .find_map(|l| l.split(' ').next()?.split_once(':')?.1.chars().next())
            {
                self.log_roles[*node] = role;
            }
            for mut e in harness::parse_log(&text, *node as u32, self.t0_wall) {
                match sentinel_event(&e.detail) {
                    Some((event, detail)) if *sentinel => {
                        e.source = Source::Sentinel;
                        e.event = event.to_string().into();
                        e.detail = detail.to_string();
                    }
                    _ => e.event = harness::log_line_name(&e.detail).into(),
                }
                self.pending.push(e);
            }
        }
    }

    /// One node's reading, as the page's fields.
    pub(super) fn take_reading(&mut self, r: Reading) {
        let fields = match r.seen {
            Seen::Fields(mut f, myid) => {
                if let Some(id) = myid {
                    self.myids[r.node] = Some(id);
                }
                if matches!(self.plan.nodes[r.node].kind, NodeKind::Sentinel(_)) {
                    self.sentinel_own_fields(r.node, &mut f);
                }
                f
            }
            Seen::Down => [("status".to_string(), "down".to_string())]
                .into_iter()
                .collect(),
            Seen::Silent => {
                let mut f = self.follow.fields(r.node).cloned().unwrap_or_default();
                f.insert("answering".into(), "no".into());
                f
            }
        };
        self.follow.sample(r.node, r.t, fields);
    }

    /// A Sentinel's current epoch and vote, from what it published.
    pub(super) fn sentinel_own_fields(&self, n: usize, f: &mut crate::dashboard::snapshot::Fields) {
        let published = (self.follow.events().iter())
            .filter(|e| e.node as usize == n && e.source == Source::Sentinel)
            .map(|e| (e.event.as_ref(), e.detail.as_str()));
        let name_of_id = |id: &str| {
            let n = self.myids.iter().position(|m| m.as_deref() == Some(id))?;
            Some(self.plan.nodes[n].name.clone())
        };
        fields::from_events(published, &name_of_id, f);
    }
}

/// A Sentinel's log line that is one of its events (`+sdown master
/// mymaster …`), as the event's name and its detail, as its pub/sub
/// channel and message carry them: sentinelEvent() logs the one and
/// publishes the other. The log has every event from the process's start
/// on; a subscription would miss those before it.
fn sentinel_event(line: &str) -> Option<(&str, &str)> {
    let (event, detail) = line.split_once(' ').unwrap_or((line, ""));
    let named = event.len() > 1
        && (event.starts_with('+') || event.starts_with('-'))
        && event[1..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-');
    named.then_some((event, detail))
}

#[cfg(test)]
mod tests {
    use super::sentinel_event;

    #[test]
    fn a_sentinels_logged_events_read_as_published() {
        assert_eq!(
            sentinel_event("+sdown master mymaster 127.0.0.1 7000"),
            Some(("+sdown", "master mymaster 127.0.0.1 7000"))
        );
        assert_eq!(
            sentinel_event("-odown master mymaster 127.0.0.1 7000")
                .unwrap()
                .0,
            "-odown"
        );
        assert_eq!(
            sentinel_event("+tilt #tilt mode entered").unwrap().0,
            "+tilt"
        );
        assert_eq!(sentinel_event("+new-epoch 1"), Some(("+new-epoch", "1")));
        assert_eq!(sentinel_event("Sentinel ID is 0123abcd"), None);
        assert_eq!(sentinel_event("+"), None);
    }
}
