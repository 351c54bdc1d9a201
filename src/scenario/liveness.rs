//! Which scripted faults change something. A process is running, stopped
//! (SIGSTOP or DEBUG SLEEP) or down; partitions are in force or not. A fault
//! that would change nothing (restart of a running process, resume of one
//! that is not stopped, heal with no partition) is refused in a scenario
//! file and never emitted by the fuzzer, so the trace never claims what did
//! not happen.

use crate::sim::time::Micros;

use super::Action;

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

/// A fault that would change nothing, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoEffect {
    /// The fault's key in a scenario file (`restart`, `resume`, `heal`...).
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

/// The state of every process and of the network, as faults change them.
#[derive(Clone, Debug)]
pub struct Tracker {
    procs: Vec<Liveness>,
    partitioned: bool,
}

impl Tracker {
    /// Every process running, no partition: the state at time zero.
    pub fn new(nodes: usize) -> Tracker {
        Tracker {
            procs: vec![Liveness::Running; nodes],
            partitioned: false,
        }
    }

    pub fn liveness(&self, node: usize) -> Liveness {
        self.procs[node]
    }

    /// Applies `action`: `Ok(())` when it changes something (and the state
    /// now reflects it), or why it would change nothing (the state is left
    /// as it was).
    pub fn apply(&mut self, action: &Action) -> Result<(), NoEffect> {
        match action {
            Action::Partition(_) | Action::PartitionOneWay { .. } => {
                self.partitioned = true;
                Ok(())
            }
            Action::Heal if self.partitioned => {
                self.partitioned = false;
                Ok(())
            }
            Action::Heal => Err(NoEffect {
                what: "heal",
                node: None,
                reason: "no partition is in force".into(),
            }),
            _ => match process_target(action) {
                Some(node) => {
                    self.procs[node] = judge(self.procs[node], action)?;
                    Ok(())
                }
                None => Ok(()),
            },
        }
    }
}

/// The process a start, stop or signal fault acts on.
pub fn process_target(action: &Action) -> Option<usize> {
    match *action {
        Action::Kill(n)
        | Action::Crash(n)
        | Action::Shutdown(n)
        | Action::Restart(n)
        | Action::Pause(n)
        | Action::Resume(n)
        | Action::DebugSleepEnd(n)
        | Action::DebugSleep { node: n, .. } => Some(n),
        _ => None,
    }
}

/// What a start, stop or signal fault does to a process in state `now`:
/// its new state, or why it changes nothing. Other actions leave it as is.
pub fn judge(now: Liveness, action: &Action) -> Result<Liveness, NoEffect> {
    use Liveness::*;
    let (allowed, to, what): (&[Liveness], Liveness, &'static str) = match *action {
        Action::Kill(_) => (&[Running, Stopped], Down, "kill"),
        Action::Crash(_) => (&[Running, Stopped], Down, "crash"),
        Action::Shutdown(_) => (&[Running, Stopped], Down, "shutdown"),
        Action::Restart(_) => (&[Down], Running, "restart"),
        Action::Pause(_) => (&[Running], Stopped, "pause"),
        Action::Resume(_) => (&[Stopped], Running, "resume"),
        Action::DebugSleep { .. } => (&[Running], Stopped, "debug-sleep"),
        Action::DebugSleepEnd(_) => (&[Stopped], Running, "debug-sleep-end"),
        _ => return Ok(now),
    };
    if allowed.contains(&now) {
        return Ok(to);
    }
    let needs = match to {
        Down => "a running or stopped process",
        Running if what == "restart" => "a process that was killed, crashed or shut down",
        Running => "a process stopped by pause or debug-sleep",
        Stopped => "a running process",
    };
    Err(NoEffect {
        what,
        node: process_target(action),
        reason: format!("the process is {} ({what} needs {needs})", now.describe()),
    })
}

/// For faults in the order they are applied (by time, then as listed),
/// whether each changes something: `Err(reason)` for one that would not.
pub fn effects(nodes: usize, faults: &[(Micros, Action)]) -> Vec<Result<(), NoEffect>> {
    let mut order: Vec<usize> = (0..faults.len()).collect();
    order.sort_by_key(|&i| faults[i].0);
    let mut tracker = Tracker::new(nodes);
    let mut out = vec![Ok(()); faults.len()];
    for i in order {
        out[i] = tracker.apply(&faults[i].1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_needs_a_stopped_process_and_resume_a_paused_one() {
        let mut t = Tracker::new(2);
        let e = t.apply(&Action::Restart(0)).unwrap_err().to_string();
        assert!(
            e.starts_with("restart does nothing: the process is running"),
            "{e}"
        );
        assert!(t.apply(&Action::Resume(0)).is_err());
        assert_eq!(t.apply(&Action::Pause(0)), Ok(()));
        assert!(t.apply(&Action::Pause(0)).is_err());
        // A stopped process can be killed; then only restart brings it back.
        assert_eq!(t.apply(&Action::Kill(0)), Ok(()));
        assert!(t.apply(&Action::Resume(0)).is_err());
        assert!(t.apply(&Action::Kill(0)).is_err());
        assert_eq!(t.apply(&Action::Restart(0)), Ok(()));
        assert_eq!(t.liveness(0), Liveness::Running);
        assert_eq!(t.liveness(1), Liveness::Running);
    }

    #[test]
    fn heal_needs_a_partition() {
        let mut t = Tracker::new(2);
        assert!(t.apply(&Action::Heal).is_err());
        assert_eq!(t.apply(&Action::Partition(vec![vec![0], vec![1]])), Ok(()));
        assert_eq!(t.apply(&Action::Heal), Ok(()));
        assert!(t.apply(&Action::Heal).is_err());
    }

    #[test]
    fn faults_are_judged_in_time_order_then_as_listed() {
        let faults = vec![
            (20, Action::Restart(0)),
            (10, Action::Kill(0)),
            (20, Action::Restart(0)),
        ];
        let e = effects(1, &faults);
        assert_eq!(e[0], Ok(()));
        assert_eq!(e[1], Ok(()));
        assert!(e[2].is_err());
    }
}
