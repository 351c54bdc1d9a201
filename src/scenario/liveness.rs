//! Which scripted faults change something. A process is running, stopped
//! (SIGSTOP or DEBUG SLEEP) or down; partitions are in force or not. A fault
//! that would change nothing (restart of a running process, resume of one
//! that is not stopped, heal with no partition) is refused in a scenario
//! file and never emitted by the fuzzer, so the trace never claims what did
//! not happen. Each kind of fault says what it changes in its definition
//! ([`Fault::effect`]); the rules for when that changes nothing are here,
//! one table for the parser, the fuzzer and the world.

use crate::time::Micros;

/// A process's state as the faults see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    Running,
    Stopped,
    Down,
}

impl Liveness {
    fn describe(self) -> &'static str {
        match self {
            Liveness::Running => "running",
            Liveness::Stopped => "stopped (SIGSTOP or DEBUG SLEEP)",
            Liveness::Down => "not running",
        }
    }
}

/// What a fault changes in the state tracked here; each kind of fault says
/// which in its definition ([`Fault::effect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Moves process `node` from one of the states `from` to `to`; in any
    /// other state it would change nothing.
    Process {
        node: usize,
        from: &'static [Liveness],
        to: Liveness,
    },
    /// Puts a partition in force.
    Partition,
    /// Heals every partition: changes nothing when none is in force.
    Heal,
    /// A fault of `node`'s host: from now on its process may exit by
    /// itself (a full disk under appendfsync always, an RDB that does not
    /// load), which only the run can tell.
    MayExit { node: usize },
    /// Changes nothing tracked here (links, clocks, operator commands).
    Untracked,
}

/// A fault that would change nothing, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoEffect {
    /// The fault's name ([`Fault::name`]: `restart`, `resume`, `heal`...).
    pub what: &'static str,
    /// The process it targets, if any.
    pub node: Option<usize>,
    pub reason: String,
}

impl std::fmt::Display for NoEffect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} does nothing: {}", self.what, self.reason)
    }
}

/// What the rules here read of a fault: what it changes and its name
/// ([`Fault`](super::Fault) in the scenario's vocabulary).
pub trait Acts {
    fn effect(&self) -> Effect;
    fn name(&self) -> &'static str;
}

/// The state of every process and of the network, as faults change them.
#[derive(Clone, Debug)]
pub struct Tracker {
    procs: Vec<Liveness>,
    /// Processes a host fault may have ended: a start or signal they seem
    /// not to need is let through, and the run applies it only if it does
    /// change something (`world/faults.rs` judges the real state).
    may_have_exited: Vec<bool>,
    partitioned: bool,
}

impl Tracker {
    /// Every process running, no partition: the state at time zero.
    pub fn new(nodes: usize) -> Tracker {
        Tracker {
            procs: vec![Liveness::Running; nodes],
            may_have_exited: vec![false; nodes],
            partitioned: false,
        }
    }

    pub fn liveness(&self, node: usize) -> Liveness {
        self.procs[node]
    }

    /// Applies `fault`: `Ok(())` when it changes something (and the state
    /// now reflects it), or why it would change nothing (the state is left
    /// as it was).
    pub fn apply(&mut self, fault: &impl Acts) -> Result<(), NoEffect> {
        match fault.effect() {
            Effect::Partition => {
                self.partitioned = true;
                Ok(())
            }
            Effect::Heal if self.partitioned => {
                self.partitioned = false;
                Ok(())
            }
            Effect::Heal => Err(NoEffect {
                what: fault.name(),
                node: None,
                reason: "no partition is in force".into(),
            }),
            Effect::Process { node, to, .. } => {
                self.procs[node] = match judge(self.procs[node], fault) {
                    Err(_) if self.may_have_exited[node] => to,
                    judged => judged?,
                };
                Ok(())
            }
            Effect::MayExit { node } => {
                self.may_have_exited[node] = true;
                Ok(())
            }
            Effect::Untracked => Ok(()),
        }
    }
}

/// The process a start, stop or signal fault acts on.
pub fn process_target(fault: &impl Acts) -> Option<usize> {
    match fault.effect() {
        Effect::Process { node, .. } => Some(node),
        _ => None,
    }
}

/// What a start, stop or signal fault does to a process in state `now`:
/// its new state, or why it changes nothing. Other faults leave it as is.
pub fn judge(now: Liveness, fault: &impl Acts) -> Result<Liveness, NoEffect> {
    use Liveness::*;
    let Effect::Process { node, from, to } = fault.effect() else {
        return Ok(now);
    };
    if from.contains(&now) {
        return Ok(to);
    }
    let needs = match from {
        [Running, Stopped] => "a running or stopped process".to_string(),
        [Down] => "a process that was killed, crashed or shut down".to_string(),
        [Stopped] => "a process stopped by pause or debug-sleep".to_string(),
        [Running] => "a running process".to_string(),
        _ => {
            let states: Vec<&str> = from.iter().map(|l| l.describe()).collect();
            format!("a process that is {}", states.join(" or "))
        }
    };
    let what = fault.name();
    Err(NoEffect {
        what,
        node: Some(node),
        reason: format!("the process is {} ({what} needs {needs})", now.describe()),
    })
}

/// For faults in the order they are applied (by time, then as listed),
/// whether each changes something: `Err(reason)` for one that would not.
pub fn effects<F: Acts>(nodes: usize, faults: &[(Micros, F)]) -> Vec<Result<(), NoEffect>> {
    let mut order: Vec<usize> = (0..faults.len()).collect();
    order.sort_by_key(|&i| faults[i].0);
    let mut tracker = Tracker::new(nodes);
    let mut out = vec![Ok(()); faults.len()];
    for i in order {
        out[i] = tracker.apply(&faults[i].1);
    }
    out
}
