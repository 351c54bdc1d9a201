//! A quick mutation sweep on every test run: 200 seeded mutants of the
//! bundled scenarios through `redsim run`, none of which may panic, abort,
//! run past 60 s or exit 2 without `file:line:col`. The full sweep (3000
//! mutants and more) is `cargo run --release --example mutation_sweep`.

#[allow(dead_code)]
#[path = "../../examples/mutation_sweep.rs"]
mod mutation_sweep;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mutation_sweep::{Config, Limits, sweep};

#[test]
fn two_hundred_mutants_are_handled_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = Config {
        count: 200,
        seed: 7,
        jobs: 2,
        limits: Limits {
            timeout: Duration::from_secs(60),
            recheck: Duration::from_secs(600),
            mem: 4 << 30,
        },
        redsim: PathBuf::from(env!("CARGO_BIN_EXE_redsim")),
        scenarios: root.join("scenarios"),
        work: Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutants"),
        keep: false,
        verbose: false,
    };
    let report = sweep(&cfg);
    assert!(
        report.bad.iter().all(|b| !b.1.bad()),
        "{:?}\n{:#?}",
        report.counts,
        report.bad
    );
    // The mutants exercise both sides: some are refused, some run.
    assert!(report.counts.get("Rejected").copied().unwrap_or(0) > 50);
    assert!(report.counts.get("Ran").copied().unwrap_or(0) > 5);
}
