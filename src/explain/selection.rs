//! Why Sentinel promoted the replica it promoted: the selection table the
//! leader recorded (sentinelSelectSlave()), turned into reasons a learner
//! can follow — who was excluded and why, and what decided between the rest
//! (priority, then offset, then run id, as compareSlavesForPromotion()).

use crate::sentinel::failover::{Candidate, Selection};
use crate::trace::Event;

use super::context::{Context, thousands};

/// The selection behind a `+selected-slave` event, in words.
pub fn why(cx: &Context, e: &Event) -> Option<String> {
    let sel = selection(cx, e)?;
    let chosen = sel
        .candidates
        .iter()
        .find(|c| sel.chosen.as_ref() == Some(&c.name))?;
    let mut reasons = Vec::new();
    for c in &sel.candidates {
        if c.name == chosen.name {
            continue;
        }
        let other = cx.at(&c.name);
        reasons.push(match c.excluded {
            Some(why) => format!("{other} was excluded ({})", exclusion(why)),
            None => format!("{other} lost on {}", versus(chosen, c)),
        });
    }
    let head = format!(
        ": replica-priority {}, offset {}",
        chosen.priority,
        thousands(chosen.offset)
    );
    Some(if reasons.is_empty() {
        format!("{head}; it was the only replica")
    } else {
        format!("{head}; {}", reasons.join("; "))
    })
}

/// Why no replica qualified, for `-failover-abort-no-good-slave`.
pub fn none_qualified(cx: &Context, e: &Event) -> String {
    match selection(cx, e) {
        Some(sel) if sel.candidates.is_empty() => {
            ": it knows of no replica yet (Sentinel learns the replicas from the master's INFO, \
             which it asks for every 10 s)"
                .to_string()
        }
        Some(sel) => {
            let why: Vec<String> = sel
                .candidates
                .iter()
                .map(|c| match c.excluded {
                    Some(r) => format!("{} was excluded ({})", cx.at(&c.name), exclusion(r)),
                    None => format!("{} was eligible", cx.at(&c.name)),
                })
                .collect();
            format!(": {}", why.join("; "))
        }
        None => String::new(),
    }
}

fn selection<'a>(cx: &'a Context, e: &Event) -> Option<&'a Selection> {
    let s = cx.world.sentinel(e.node as usize)?;
    s.selections.iter().rev().find(|s| s.t <= e.t)
}

/// What decided between the chosen replica and another eligible one.
fn versus(chosen: &Candidate, other: &Candidate) -> String {
    if chosen.priority != other.priority {
        format!(
            "replica-priority ({} vs {}: the lower number wins, whatever the offsets — {})",
            chosen.priority,
            other.priority,
            if other.offset > chosen.offset {
                format!(
                    "it had {} more bytes of the stream",
                    thousands(other.offset - chosen.offset)
                )
            } else {
                "it was not ahead anyway".to_string()
            }
        )
    } else if chosen.offset != other.offset {
        format!(
            "replication offset ({} vs {}: {} bytes behind)",
            thousands(chosen.offset),
            thousands(other.offset),
            thousands(chosen.offset - other.offset)
        )
    } else {
        format!(
            "run id (same priority and offset; {} sorts before {})",
            short(&chosen.runid),
            short(&other.runid)
        )
    }
}

fn short(id: &Option<compact_str::CompactString>) -> String {
    id.as_ref().map_or("none".to_string(), |r| {
        format!("{}…", r.chars().take(8).collect::<String>())
    })
}

fn exclusion(why: &str) -> &'static str {
    match why {
        "SDOWN" => "the Sentinel itself considers it down",
        "disconnected" => "the Sentinel has no connection to it",
        "no valid PING reply for 5 s" => "no valid PING reply for 5 s",
        "priority 0" => "replica-priority 0 means never promote",
        "INFO too old" => "its last INFO reply is too old",
        "link to master down too long" => {
            "its link to the master was down longer than 10 x down-after-milliseconds plus the \
             time the master has been down: its data is too old"
        }
        _ => "not eligible",
    }
}
