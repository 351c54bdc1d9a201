//! Numbers the log lines do not carry: when a master refuses a partial
//! resync for lack of backlog, what its backlog held at that instant. The run
//! is deterministic, so a second run stopped at the refusal's time sees the
//! same state and reads it from `INFO replication`.

use std::collections::BTreeMap;

use crate::check::RunView as _;
use crate::redis::info::field;
use crate::scenario::Plan;
use crate::sim::SimError;
use crate::time::Micros;
use crate::trace::Event;
use crate::trace::names;
use crate::world::World;

use super::context::BacklogProbe;

const REFUSAL: &str = names::redis::NO_BACKLOG_FOR_PSYNC;

/// The backlog of each master at each "lack of backlog" refusal.
pub fn backlogs(
    plan: &Plan,
    seed: u64,
    events: &[Event],
) -> Result<BTreeMap<(Micros, u32), BacklogProbe>, SimError> {
    let mut out = BTreeMap::new();
    let at: Vec<(Micros, u32)> = events
        .iter()
        .filter(|e| e.event == REFUSAL)
        .map(|e| (e.t, e.node))
        .collect();
    if at.is_empty() {
        return Ok(out);
    }
    let mut w = World::new(plan, seed);
    for (t, node) in at {
        w.run_until(t)?;
        let Some(info) = w.info(node as usize) else {
            continue;
        };
        let num = |name: &str| field(&info, name).and_then(|v| v.parse::<u64>().ok());
        out.insert(
            (t, node),
            BacklogProbe {
                master_repl_offset: num("master_repl_offset").unwrap_or(0),
                first_byte: num("repl_backlog_first_byte_offset").unwrap_or(0),
                histlen: num("repl_backlog_histlen").unwrap_or(0),
                size: num("repl_backlog_size").unwrap_or(0),
            },
        );
    }
    Ok(out)
}
