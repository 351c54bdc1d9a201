//! `redsim explain`: the narration names what happened and why, with the
//! numbers from the run, and it is the same text every time.

use std::path::Path;

use redsim::{explain, golden, scenario, world};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn narrate(rel: &str) -> (scenario::Plan, String) {
    let plan = scenario::load(&root().join(rel)).expect("bundled scenarios are valid");
    let text = explain::explain(&plan, plan.seed).expect("the run finishes");
    (plan, text)
}

#[test]
fn failover_names_the_promoted_replica_and_why() {
    let (_, text) = narrate("scenarios/interview/how-sentinel-picks-the-new-master.toml");
    let line = text
        .lines()
        .find(|l| l.contains("(+selected-slave)"))
        .expect("the selection is narrated");
    assert!(line.contains("selects replica-3 for promotion"), "{line}");
    assert!(
        line.contains("replica-1 was excluded (replica-priority 0 means never promote)"),
        "{line}"
    );
    assert!(
        line.contains("replica-2 lost on replication offset"),
        "{line}"
    );
    // The answer closes with the measured failover times.
    let answer = text.split("## Answer").nth(1).expect("an answer section");
    assert!(answer.contains("+switch-master after"), "{answer}");
    assert!(answer.contains("chose replica-3"), "{answer}");
}

#[test]
fn a_crash_failover_is_told_step_by_step_with_times() {
    let (_, text) = narrate("scenarios/sentinel/master-crash-failover.toml");
    for needle in [
        "at 20.000 s master is killed (SIGKILL)",
        "subjectively down (+sdown): its PINGs have had no valid reply for \
         down-after-milliseconds = 5,000 ms",
        "objectively down (+odown)",
        "and the quorum is 2",
        "wins the election (+elected-leader)",
        "(+switch-master)",
        "Question: What happens when the master crashes under Sentinel?",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[test]
fn a_backlog_overrun_names_the_full_resync_reason_with_offsets() {
    let (plan, text) = narrate("scenarios/interview/backlog-too-small.toml");
    // The offset the replica asked for, as the master logged it.
    let o = world::run(&plan, plan.seed).expect("the run finishes");
    let refusal = o
        .world
        .sim
        .kernel
        .trace
        .named("Unable to partial resync with replica for lack of backlog")
        .next()
        .expect("the master refuses once");
    let asked: u64 = refusal
        .detail
        .rsplit(": ")
        .next()
        .and_then(|s| s.trim_end_matches(").").parse().ok())
        .expect("the request offset");
    let line = text
        .lines()
        .find(|l| l.contains("cannot serve replica-1 a partial resync"))
        .expect("the refusal is narrated");
    assert!(
        line.contains(&format!(
            "it asked to continue at offset {}",
            explain::thousands(asked)
        )),
        "{line}"
    );
    assert!(line.contains("but the 16,384 byte backlog"), "{line}");
    assert!(line.contains("now holds only offsets"), "{line}");
    assert!(line.contains("so it gets a full resync"), "{line}");
    assert!(text.contains("replica-1 gets +FULLRESYNC"), "{text}");
}

#[test]
fn explaining_every_bundled_scenario_is_deterministic() {
    for file in golden::scenario_files(&[root().join("scenarios")]).expect("readable") {
        let plan = scenario::load(&file).expect("valid");
        let a = explain::explain(&plan, plan.seed).expect("finishes");
        let b = explain::explain(&plan, plan.seed).expect("finishes");
        assert_eq!(a, b, "{} narrates differently twice", file.display());
        assert!(a.contains("## What happens"), "{}", file.display());
        assert!(a.contains("## Answer"), "{}", file.display());
    }
}
