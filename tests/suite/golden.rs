//! Every bundled scenario's trace matches its committed golden file byte for
//! byte, and running a scenario twice gives the same trace. Goldens change
//! only through `redsim golden --update` (see the README).

use std::path::{Path, PathBuf};

use redsim::golden;
use redsim::scenario;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bundled() -> Vec<PathBuf> {
    golden::scenario_files(&[root().join("scenarios")]).expect("scenarios/ is readable")
}

#[test]
fn bundled_traces_match_their_golden_files() {
    let report = golden::compare_all(
        &root().join("tests/golden"),
        &[root().join("scenarios")],
        false,
    )
    .expect("scenarios load");
    assert_eq!(
        report.mismatches, 0,
        "golden traces differ (if the change is intended, review it and run \
         `cargo run --release -- golden --update`):\n{}",
        report.text
    );
}

#[test]
fn every_bundled_scenario_has_a_golden_file() {
    for file in bundled() {
        let plan = scenario::load(&file).expect("bundled scenarios are valid");
        let golden = golden::golden_path(&root().join("tests/golden"), &plan);
        assert!(
            golden.exists(),
            "{} has no golden trace {}",
            file.display(),
            golden.display()
        );
    }
}

#[test]
fn bundled_scenarios_are_deterministic_within_one_process() {
    for file in bundled() {
        let plan = scenario::load(&file).expect("bundled scenarios are valid");
        let diff = golden::determinism(&plan, plan.seed).expect("runs finish");
        assert_eq!(diff, None, "{} is not deterministic", file.display());
    }
}

#[test]
fn bundled_scenario_expectations_hold() {
    for file in bundled() {
        let plan = scenario::load(&file).expect("bundled scenarios are valid");
        let outcome = redsim::world::run(&plan, plan.seed).expect("runs finish");
        for v in &outcome.verdicts {
            assert!(
                v.holds,
                "{}: {} (observed: {})",
                file.display(),
                v.description,
                v.observed
            );
        }
    }
}
