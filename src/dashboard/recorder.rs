//! The recorder: a [`world::Observer`](crate::world::Observer) that installs
//! the wiretap when the run starts and samples every node's fields at a
//! fixed period of simulated time and at the instant of every trace event
//! (known from a first, unrecorded run of the same deterministic scenario),
//! so the state shown next to an event is the state that event left. A
//! sample keeps only the fields that changed since the node's previous one
//! (and `null` for a field that went away), so a long steady stretch costs
//! little.

use std::cell::RefCell;
use std::rc::Rc;

use indexmap::IndexMap;
use serde::{Serialize, Serializer};

use super::snapshot::{Fields, fields};
use super::tap::{Tap, Wire};
use crate::scenario::NodeKind;
use crate::time::Micros;
use crate::world::{Observer, World};

/// One sample of one node: the time and the fields that changed.
/// Serialised as `[t, {field: value or null}]`.
#[derive(Clone, Debug)]
pub struct Sample {
    pub t: Micros,
    pub changed: IndexMap<String, Option<String>>,
}

impl Serialize for Sample {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.t, &self.changed).serialize(s)
    }
}

/// Everything recorded while the run went; shared between the observer
/// (inside the world) and the code that builds the page afterwards.
#[derive(Default)]
pub struct Tape {
    /// Per node, its samples in time order.
    pub samples: Vec<Vec<Sample>>,
    last: Vec<Fields>,
}

impl Tape {
    fn sample(&mut self, world: &World) {
        let t = world.sim.now();
        for n in 0..world.plan.nodes.len() {
            let now = fields(world, n);
            let changed = changed(&self.last[n], &now);
            if !changed.is_empty() || self.samples[n].is_empty() {
                self.samples[n].push(Sample { t, changed });
            }
            self.last[n] = now;
        }
    }
}

/// The fields of `now` that differ from `last`, and `None` for each field
/// of `last` that `now` no longer has.
pub fn changed(last: &Fields, now: &Fields) -> IndexMap<String, Option<String>> {
    let mut changed: IndexMap<String, Option<String>> = IndexMap::new();
    for (k, v) in now {
        if last.get(k) != Some(v) {
            changed.insert(k.clone(), Some(v.clone()));
        }
    }
    for k in last.keys() {
        if !now.contains_key(k) {
            changed.insert(k.clone(), None);
        }
    }
    changed
}

/// The observer handed to [`crate::world::run_observed`].
pub struct Recorder {
    pub tape: Rc<RefCell<Tape>>,
    pub wire: Rc<RefCell<Wire>>,
    pub every: Micros,
    /// The instants of the run's trace events, sorted, without repeats.
    pub instants: Vec<Micros>,
}

impl Observer for Recorder {
    fn attach(&mut self, world: &mut World) {
        let n = world.plan.nodes.len();
        {
            let mut tape = self.tape.borrow_mut();
            tape.samples = vec![Vec::new(); n];
            tape.last = vec![Fields::new(); n];
            tape.sample(world);
        }
        let clients = world
            .plan
            .nodes
            .iter()
            .map(|p| matches!(p.kind, NodeKind::Client(_)))
            .collect();
        world.set_wiretap(Some(Box::new(Tap {
            wire: self.wire.clone(),
            clients,
        })));
    }

    fn next_sample(&self, now: Micros) -> Micros {
        let periodic = (now / self.every + 1) * self.every;
        let i = self.instants.partition_point(|&t| t <= now);
        self.instants.get(i).map_or(periodic, |&t| t.min(periodic))
    }

    fn sample(&mut self, world: &World) {
        self.tape.borrow_mut().sample(world);
    }
}
