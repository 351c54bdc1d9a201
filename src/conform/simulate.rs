//! Runs a scenario on the simulator for one seed and records what the run
//! showed, as [`Observed`], taking INFO samples at the checkpoints.

use crate::check::RunView as _;
use crate::scenario::Plan;
use crate::sim::SimError;
use crate::trace::Source;
use crate::world::World;

use super::observe::{Addresses, Observed, Sample, sample_fields};

/// The simulator's addresses (10.0.x.y and the configured ports).
pub fn addresses(plan: &Plan) -> Addresses {
    Addresses::new(
        plan.nodes
            .iter()
            .map(|n| (n.host.clone(), n.port, n.name.clone()))
            .collect(),
    )
}

/// Error replies with addresses replaced by node names (`-MOVED 12182
/// master-3`), so real and simulated texts compare.
pub fn normalize_errors(
    mut history: Vec<crate::history::Op>,
    addrs: &Addresses,
) -> Vec<crate::history::Op> {
    for o in &mut history {
        if let crate::history::Outcome::Error(t) = &mut o.outcome {
            *t = addrs.normalize(t);
        }
    }
    history
}

/// One simulated run of `plan` with `seed`.
pub fn observe(plan: &Plan, seed: u64) -> Result<Observed, SimError> {
    let addrs = addresses(plan);
    let mut w = World::new(plan, seed);
    let mut samples = Vec::new();
    let checkpoints = plan
        .conform
        .as_ref()
        .map(|c| c.checkpoints.clone())
        .unwrap_or_default();
    for c in &checkpoints {
        w.run_until(c.at)?;
        // A server's INFO replication, or a Sentinel's INFO sentinel.
        let info = w
            .info(c.node)
            .or_else(|| w.sentinel(c.node).and_then(|s| s.info()));
        let master_info = |name: &str| plan.node_index(name).and_then(|m| w.info(m));
        samples.push(Sample {
            at: c.at,
            node: c.node,
            fields: sample_fields(info.as_deref(), master_info, &c.fields, &addrs),
        });
    }
    w.run_until(plan.duration)?;
    let mut events = w.trace().events.clone();
    for e in &mut events {
        if e.source != Source::Sim {
            e.detail = addrs.normalize(&e.detail);
        }
    }
    Ok(Observed {
        names: plan.nodes.iter().map(|n| n.name.clone()).collect(),
        events,
        samples,
        history: normalize_errors(w.history().to_vec(), &addrs),
        lost_writes: w.lost_writes().len() as u64,
        replies: w.exchanges().to_vec(),
    })
}
