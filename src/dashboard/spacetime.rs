//! The space-time (Lamport) diagram of the messages around the failover,
//! as SVG: one vertical line per process, time running down, each message
//! an arrow from its send to its delivery, and the trace's events as dots.
//! Time is compressed: the gap between two rows grows with the square root
//! of the time between them, so a 250 µs hop and a 1 s wait both stay
//! readable while the order of everything is kept.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::data::Recording;
use crate::time::{Micros, Secs};
use crate::trace::names;

/// Most messages drawn; a busier window is cut short at the last one.
pub const MAX_MESSAGES: usize = 400;
/// Most trace events drawn.
const MAX_EVENTS: usize = 200;

const TOP: f64 = 80.0;
const LEFT: f64 = 110.0;
const COLUMN: f64 = 150.0;

/// The default window: from shortly before the master was seen down to
/// shortly after `+switch-master`; without a failover, from the first PSYNC
/// after the first fault (how replication recovers) through the RDB
/// transfer it may lead to, or else the three seconds after the fault;
/// without a fault, the first two seconds.
pub fn default_window(rec: &Recording) -> (Micros, Micros) {
    let s = &rec.summary;
    let first = |name: &str, after: Micros, prefix: &str| {
        rec.events
            .iter()
            .find(|e| e.4 == name && e.0 >= after && e.5.starts_with(prefix))
            .map(|e| e.0)
    };
    // A cluster's failover ends when a replica wins its election; the
    // window opens as the first node sees the master PFAIL.
    let end = if s.cluster {
        s.election_won
    } else {
        s.switch_master
    };
    if let (true, Some(fault), Some(won)) = (s.cluster, s.fault, end) {
        let from = s
            .pfail
            .map_or(fault, |p| p.saturating_sub(500_000))
            .max(fault.saturating_sub(100_000));
        return (from, won + 500_000);
    }
    match (s.fault, s.switch_master) {
        (Some(fault), Some(switch)) => {
            let seen = first(names::sentinel::SDOWN, fault, "master").unwrap_or(fault);
            let from = if seen.saturating_sub(fault) <= 1_500_000 {
                fault.saturating_sub(100_000)
            } else {
                seen.saturating_sub(1_000_000)
            };
            (from, switch + 500_000)
        }
        (Some(fault), None) => {
            let psync = rec
                .messages
                .iter()
                .find(|m| m.sent > fault && m.kind == "PSYNC")
                .map(|m| m.sent);
            // Through the RDB transfer, if the PSYNC led to a full sync
            // (a diskless one waits repl-diskless-sync-delay first).
            let rdb = psync.and_then(|p| {
                rec.messages
                    .iter()
                    .find(|m| m.sent > p && m.kind == "RDB")
                    .and_then(|m| m.arrived)
                    .filter(|&a| a < p + 15_000_000)
            });
            match psync {
                Some(p) => (
                    p.saturating_sub(500_000).max(fault),
                    rdb.map_or(p + 2_000_000, |a| (a + 500_000).max(p + 2_000_000)),
                ),
                None => (fault.saturating_sub(100_000), fault + 3_000_000),
            }
        }
        _ => (0, rec.duration.min(2_000_000)),
    }
}

/// Which colour class a message kind gets.
fn category(kind: &str) -> &'static str {
    match kind {
        "PING" | "+PONG" => "ping",
        "INFO" | "INFO reply" => "info",
        "hello" | "stream PUBLISH" => "hello",
        "is-master-down-by-addr" | "is-master-down reply" => "vote",
        "SLAVEOF" | "SLAVEOF NO ONE" => "slaveof",
        k if k.starts_with("PSYNC")
            || k.starts_with("+FULLRESYNC")
            || k.starts_with("+CONTINUE")
            || k.starts_with("RDB")
            || k.starts_with("REPLCONF")
            || k.starts_with("stream") =>
        {
            "repl"
        }
        "get-master-addr-by-name" | "master-addr reply" | "ROLE" | "ROLE reply" | "SUBSCRIBE" => {
            "client"
        }
        k if k.starts_with("message") => "client",
        _ => "other",
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The diagram's style. A `<style>` in an SVG inside a page styles the
/// whole page, so the rule for text is scoped to the diagram (the page's
/// plots keep their own fonts).
const STYLE: &str = "\
svg.spacetime text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:10px;fill:#1f2933}\
.title{font-size:13px;font-weight:bold}.sub{fill:#52606d}\
.col{stroke:#9aa5b1;stroke-width:1.5}.name{font-size:12px;font-weight:bold}\
.redis{fill:#b42318}.sentinel{fill:#175cd3}.client{fill:#027a48}\
line.m{stroke-width:1.2;fill:none}\
.ping{stroke:#9aa5b1}.info{stroke:#2e90fa}.hello{stroke:#12b76a}.vote{stroke:#7a5af8}\
.slaveof{stroke:#f04438;stroke-width:2}.repl{stroke:#f79009}.client-m{stroke:#0e9384}.other{stroke:#667085}\
.bad{stroke-dasharray:4 3}.t{fill:#7b8794;font-size:9px}.lbl{font-size:9px;fill:#3e4c59}\
.ev{fill:#1f2933}.evs{fill:#175cd3}.evf{fill:#d92d20}.grid{stroke:#e4e7eb;stroke-width:1}\
.net{stroke:#d92d20;stroke-width:1;stroke-dasharray:6 4}";

/// The diagram of the messages sent within `[from, to]`. `standalone`
/// adds the XML namespace a separate `.svg` file needs (HTML does not).
pub fn svg(rec: &Recording, window: (Micros, Micros), standalone: bool) -> String {
    let (from, mut to) = window;
    let mut msgs: Vec<usize> = (0..rec.messages.len())
        .filter(|&i| (from..=to).contains(&rec.messages[i].sent))
        .collect();
    // Too many to read: leave out first what does not arrive within the
    // window (retries held by a partition), then PINGs, then cut the window.
    let before = msgs.len();
    if msgs.len() > MAX_MESSAGES {
        msgs.retain(|&i| rec.messages[i].arrived.is_some_and(|a| a <= to));
    }
    if msgs.len() > MAX_MESSAGES {
        msgs.retain(|&i| category(&rec.messages[i].kind) != "ping");
    }
    let omitted = before - msgs.len();
    let mut cut = false;
    if msgs.len() > MAX_MESSAGES {
        msgs.truncate(MAX_MESSAGES);
        to = rec.messages[msgs[MAX_MESSAGES - 1]].sent;
        cut = true;
    }
    let sim = rec.nodes.len() as u32;
    // Columns: Redis nodes, Sentinels, then clients that talk in the window.
    let talks = |n: u32| {
        msgs.iter()
            .any(|&i| rec.messages[i].from == n || rec.messages[i].to == n)
    };
    let mut cols: Vec<u32> = Vec::new();
    for kind in ["redis", "sentinel", "client"] {
        for (i, n) in rec.nodes.iter().enumerate() {
            if n.kind == kind && (kind != "client" || talks(i as u32)) {
                cols.push(i as u32);
            }
        }
    }
    let x_of = |n: u32| {
        cols.iter()
            .position(|&c| c == n)
            .map(|p| LEFT + COLUMN * p as f64)
    };
    let events: Vec<usize> = (0..rec.events.len())
        .filter(|&i| {
            let e = &rec.events[i];
            (from..=to).contains(&e.0)
                && e.3 != '-'
                && (e.1 == sim || x_of(e.1).is_some())
                && e.4 != "outcome"
        })
        .take(MAX_EVENTS)
        .collect();
    // Rows: every instant something happens, spaced by elapsed time.
    // Rows are keyed by (time, k): the k-th event at one instant gets a row
    // of its own so labels never overlap; messages use row (time, 0).
    let mut instants: BTreeMap<(Micros, u32), bool> = BTreeMap::new();
    for &i in &msgs {
        let m = &rec.messages[i];
        instants.entry((m.sent, 0)).or_insert(false);
        if let Some(a) = m.arrived.filter(|&a| a <= to) {
            instants.entry((a, 0)).or_insert(false);
        }
    }
    let mut event_row: Vec<(Micros, u32)> = Vec::with_capacity(events.len());
    for &i in &events {
        let t = rec.events[i].0;
        let k = match event_row.last() {
            Some(&(pt, pk)) if pt == t => pk + 1,
            _ => 0,
        };
        event_row.push((t, k));
        instants.insert((t, k), true);
    }
    let mut y_of: BTreeMap<(Micros, u32), f64> = BTreeMap::new();
    let (mut y, mut prev) = (TOP + 20.0, None::<Micros>);
    for (&(t, k), &labelled) in &instants {
        if let Some(p) = prev {
            let dt = (t - p) as f64;
            let mut step = 4.0 + (dt.sqrt() / 5.0).min(36.0);
            if labelled {
                step = step.max(13.0);
            }
            y += step;
        }
        y_of.insert((t, k), y);
        prev = Some(t);
    }
    let bottom = y + 30.0;
    let width = (LEFT + COLUMN * cols.len().max(1) as f64 + 160.0).max(960.0);
    let mut s = String::new();
    let ns = if standalone {
        " xmlns=\"http://www.w3.org/2000/svg\""
    } else {
        ""
    };
    // In the page, the rows' times and heights let the player move a
    // cursor down the diagram as the run plays.
    let rows = if standalone {
        String::new()
    } else {
        let pairs: Vec<String> = y_of
            .iter()
            .filter(|((_, k), _)| *k == 0)
            .map(|((t, _), y)| format!("{t}:{y:.1}"))
            .collect();
        format!(" data-rows=\"{}\"", pairs.join(","))
    };
    let _ = write!(
        s,
        "<svg{ns} class=\"spacetime\" width=\"{width:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {width:.0} {h:.0}\"{rows}>",
        h = bottom + 20.0
    );
    let _ = write!(
        s,
        "<style>{STYLE}</style><defs><marker id=\"st-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0L10,5L0,10z\" fill=\"#52606d\"/></marker></defs>"
    );
    let _ = write!(
        s,
        "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\
         <text class=\"title\" x=\"10\" y=\"20\">Space-time diagram: {} (seed {}), {} to {}</text>\
         <text class=\"sub\" x=\"10\" y=\"36\">Time runs down, compressed (row gaps grow with the square root of elapsed time). \
         {} message{}{}{}; workload traffic and the stream of writes are not drawn.</text>",
        esc(&rec.scenario),
        rec.seed,
        Secs(from),
        Secs(to),
        msgs.len(),
        if msgs.len() == 1 { "" } else { "s" },
        if omitted > 0 {
            format!(" ({omitted} more left out: first those arriving after the window, then PINGs)")
        } else {
            String::new()
        },
        if cut {
            format!(" (cut at the first {MAX_MESSAGES})")
        } else {
            String::new()
        }
    );
    // Columns and names.
    for &c in &cols {
        let x = x_of(c).expect("a column");
        let n = &rec.nodes[c as usize];
        let _ = write!(
            s,
            "<line class=\"col\" x1=\"{x:.1}\" y1=\"{t:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/>\
             <text class=\"name {k}\" x=\"{x:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">{}</text>",
            esc(&n.name),
            t = TOP,
            ty = TOP - 8.0,
            k = n.kind
        );
    }
    // Time labels at labelled rows, at least 14 px apart.
    let mut last_label = f64::MIN;
    for (&(t, k), &labelled) in &instants {
        let y = y_of[&(t, k)];
        if labelled && k == 0 && y - last_label >= 14.0 {
            let _ = write!(
                s,
                "<line class=\"grid\" x1=\"{gx:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\"/>\
                 <text class=\"t\" x=\"8\" y=\"{ty:.1}\">{}</text>",
                Secs(t),
                gx = LEFT - 30.0,
                x2 = width - 10.0,
                ty = y + 3.0
            );
            last_label = y;
        }
    }
    // Messages.
    let mut labelled_bands = std::collections::BTreeSet::new();
    for &i in &msgs {
        let m = &rec.messages[i];
        let (Some(x1), Some(x2)) = (x_of(m.from), x_of(m.to)) else {
            continue;
        };
        let y1 = y_of[&(m.sent, 0)];
        // A message that arrives after the window (held by a partition, or
        // never) is a short barred stub towards its receiver.
        let arrived = m.arrived.filter(|&a| a <= to);
        let (x2, y2) = match arrived {
            Some(a) => (x2, y_of[&(a, 0)]),
            None => (x1 + (x2 - x1) * 0.2, y1 + 12.0),
        };
        let cat = match category(&m.kind) {
            "client" => "client-m",
            c => c,
        };
        let bad = if m.fate == "delivered" && !m.held {
            ""
        } else {
            " bad"
        };
        let fate = match (m.fate, m.held) {
            ("delivered", true) => "held by a partition, then delivered".to_string(),
            (f, _) => f.to_string(),
        };
        let when = m
            .arrived
            .map_or("never".to_string(), |a| Secs(a).to_string());
        let arrow = if arrived.is_some() {
            " marker-end=\"url(#st-arrow)\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<line class=\"m {cat}{bad}\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\"{arrow}>\
             <title>{} {} → {}: sent {}, {fate} at {when} {}</title></line>",
            esc(&m.kind),
            esc(&rec.nodes[m.from as usize].name),
            esc(&rec.nodes[m.to as usize].name),
            Secs(m.sent),
            esc(&m.note)
        );
        if arrived.is_none() {
            let _ = write!(
                s,
                "<line class=\"net\" x1=\"{a:.1}\" y1=\"{y2:.1}\" x2=\"{b:.1}\" y2=\"{y2:.1}\"/>",
                a = x2 - 4.0,
                b = x2 + 4.0
            );
            continue;
        }
        if m.fate == "lost" || m.fate == "reset" {
            let _ = write!(
                s,
                "<text class=\"evf\" x=\"{x2:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">✕</text>",
                ty = y2 + 4.0
            );
        }
        // Label the arrows that tell the story, one label per sender and
        // band of rows so fan-outs (a hello to everyone) stay legible.
        let band = (m.from, (y1 / 24.0) as i64, m.kind.as_str());
        if !matches!(cat, "ping" | "hello" | "info") && labelled_bands.insert(band) {
            let (lx, ly) = (x1 + (x2 - x1) * 0.25, y1 + (y2 - y1) * 0.25 - 2.0);
            let _ = write!(
                s,
                "<text class=\"lbl\" x=\"{lx:.1}\" y=\"{ly:.1}\">{}</text>",
                esc(&m.kind)
            );
        }
    }
    // Events.
    for (&i, row) in events.iter().zip(&event_row) {
        let e = &rec.events[i];
        let y = y_of[row];
        let class = match e.2 {
            "sim" => "evf",
            "sentinel" => "evs",
            _ => "ev",
        };
        let label: String = e.4.chars().take(44).collect();
        if e.1 == sim {
            let _ = write!(
                s,
                "<line class=\"net\" x1=\"{LEFT:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\"/>\
                 <text class=\"evf\" x=\"{tx:.1}\" y=\"{ty:.1}\">{} <title>{}</title></text>",
                esc(&label),
                esc(&e.5),
                x2 = width - 160.0,
                tx = width - 155.0,
                ty = y + 3.0
            );
            continue;
        }
        let x = x_of(e.1).expect("filtered to columns");
        let _ = write!(
            s,
            "<circle class=\"{class}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\"><title>{}</title></circle>\
             <text class=\"{class}\" x=\"{tx:.1}\" y=\"{ty:.1}\">{}</text>",
            esc(&e.5),
            esc(&label),
            tx = x + 6.0,
            ty = y + 3.5
        );
    }
    if !standalone {
        let _ = write!(
            s,
            "<line id=\"st-cursor\" x1=\"0\" y1=\"-10\" x2=\"{width:.0}\" y2=\"-10\" \
             stroke=\"#102a43\" stroke-width=\"1.5\" opacity=\"0.6\"/>"
        );
    }
    s.push_str("</svg>");
    s
}
