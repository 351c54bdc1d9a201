//! Clock jumps on real processes: a process the plan jumps runs with a small
//! preloaded library (`clock_shift.c`, built here with the system's C
//! compiler) whose `gettimeofday()` and `time()` add an offset the harness
//! writes to a file of that process's own; the monotonic clock is left
//! alone. Writing the file moves that process's wall clock, and only its, as
//! the simulator's `clock-jump` does (Redis 7.0 times its event loop with
//! the monotonic clock and reads the wall clock for `mstime()`).
//! libfaketime would do, but Debian's 0.9.10 deadlocks at startup in a
//! jemalloc-linked Redis (its initialisation allocates from inside
//! jemalloc's own first `clock_gettime()` call).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::scenario::{Fault, NodeKind, Plan};

use super::preload::{Library, compiler, process, rewrite, targets};
use super::topology::RealNode;

const SHIM_SOURCE: &str = include_str!("clock_shift.c");

/// Why the plan's clock jump `a` cannot be applied to real processes here,
/// if it cannot.
pub fn unsupported(plan: &Plan, a: &Fault) -> Option<String> {
    let Fault::ClockJump { node, .. } = *a else {
        return None;
    };
    if !matches!(plan.nodes[node].kind, NodeKind::Sentinel(_)) {
        return Some(format!(
            "only a Sentinel's clock is jumped for real ({}'s log times would follow its moved clock)",
            plan.nodes[node].name
        ));
    }
    compiler()
        .is_none()
        .then(|| "clock jumps need a C compiler (cc) to build redsim's clock shim".to_string())
}

/// The offset file of each process whose clock the plan jumps, and its
/// offset so far in µs.
#[derive(Debug, Default)]
pub struct FakeClocks {
    clocks: BTreeMap<usize, (PathBuf, i64)>,
}

impl FakeClocks {
    /// Builds the shim under `root` if the plan jumps a clock, and preloads
    /// it into every process the plan jumps, with an offset file at zero.
    pub fn prepare(plan: &Plan, nodes: &mut [RealNode], root: &Path) -> Result<Self, String> {
        let mut clocks = BTreeMap::new();
        let mut shim = Library::new(root, "clock_shift", SHIM_SOURCE);
        let jumped = targets(plan, |a| match *a {
            Fault::ClockJump { node, .. } => Some(node),
            _ => None,
        });
        for node in jumped {
            let r = process(plan, nodes, node)?;
            let file = shim.attach(r, "clock-offset", &0i64.to_ne_bytes(), "REDSIM_CLOCK_FILE")?;
            clocks.insert(node, (file, 0));
        }
        Ok(Self { clocks })
    }

    /// Moves `node`'s wall clock by `by` µs (forward if positive).
    pub fn jump(&mut self, node: usize, by: i64) -> Result<(), String> {
        let (file, offset) = self
            .clocks
            .get_mut(&node)
            .ok_or("clock jump on a process started without the clock shim")?;
        *offset += by;
        rewrite(file, &offset.to_ne_bytes())
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// The shim, built and preloaded into a probe that prints
    /// gettimeofday() and time(), moves that process's wall clock by what
    /// the file says at the moment of the call.
    #[test]
    fn the_shim_moves_a_wall_clock_by_the_offset_file() {
        let Some(cc) = compiler() else {
            crate::errln!("skipped: no C compiler");
            return;
        };
        let root = std::env::temp_dir().join(format!("redsim-clock-shim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("scratch directory");
        let lib = super::super::preload::build_library(&root, "clock_shift", SHIM_SOURCE)
            .expect("the shim builds");
        let probe_src = root.join("probe.c");
        std::fs::write(
            &probe_src,
            "#include <stdio.h>\n#include <sys/time.h>\n#include <time.h>\n\
             int main(void) { struct timeval tv; gettimeofday(&tv, 0);\n\
             printf(\"%ld %ld\\n\", (long)tv.tv_sec, (long)time(0)); return 0; }\n",
        )
        .expect("probe source");
        let probe = root.join("probe");
        let built = Command::new(cc)
            .arg("-o")
            .arg(&probe)
            .arg(&probe_src)
            .status()
            .expect("cc runs");
        assert!(built.success());
        let file = root.join("offset");
        let clock = |offset: i64| -> (i64, i64) {
            std::fs::write(&file, offset.to_ne_bytes()).expect("offset file");
            let out = Command::new(&probe)
                .env("LD_PRELOAD", &lib)
                .env("REDSIM_CLOCK_FILE", &file)
                .output()
                .expect("the probe runs");
            let text = String::from_utf8_lossy(&out.stdout);
            let mut it = text
                .split_whitespace()
                .map(|w| w.parse::<i64>().expect("seconds"));
            (it.next().expect("gettimeofday"), it.next().expect("time"))
        };
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_secs() as i64
        };
        let before = now();
        let ahead = clock(3_600_000_000);
        let behind = clock(-86_400_000_000);
        let after = now();
        for t in [ahead.0, ahead.1] {
            assert!((before + 3600..=after + 3600).contains(&t), "{ahead:?}");
        }
        for t in [behind.0, behind.1] {
            assert!(
                (before - 86_400..=after - 86_400).contains(&t),
                "{behind:?}"
            );
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
