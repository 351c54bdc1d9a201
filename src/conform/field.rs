//! One compared field of a run's outcome: what the signature (the
//! scenario's named outcomes) and the command replies are both made of.

use crate::time::Micros;

/// One field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Compared exactly.
    Exact(String),
    /// Compared against the simulator's range over seeds.
    Timing(Option<Micros>),
}

/// A field: its name, the group it belongs to (a `compare` entry) and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub group: &'static str,
    pub name: String,
    pub value: Value,
}
