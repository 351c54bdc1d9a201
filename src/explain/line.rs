//! The unit of a narration: one step, told in words.

/// One narrated step.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub t: u64,
    /// Who did it (a node name, or `the network`).
    pub who: String,
    /// What happened, in words, without the subject.
    pub what: String,
    /// The same step taken by several nodes is told once when this key
    /// matches the previous line's.
    pub merge: Option<String>,
    /// A step a node repeats (a refused connect every second) is told once
    /// with a count while this key matches the node's previous line.
    pub repeat: bool,
}
