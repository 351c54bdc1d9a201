//! Guided search (`fuzz --guided`) and the `[fuzz] never-prints` property
//! it is measured with: results that do not depend on `--jobs`, failures
//! that name the line, shrink and reproduce, and bad settings refused.

use redsim::fuzz;

use super::common::{Scenario, fuzz_config, redsim, scratch};

/// A Sentinel deployment whose `never-prints` line is printed by any
/// completed failover: every schedule with a kill of the master fails.
fn switch_never_printed() -> Scenario {
    Scenario::new("60s", "masters = 1, replicas = 2, sentinels = 3")
        .sentinel("down-after-milliseconds = 2000, failover-timeout = 10000")
        .workload(r#"sentinel = true, rate = 20, keys = 50"#)
        .fuzz(r#"faults-stop = "30s", max-faults = 3, never-prints = ["+switch-master"]"#)
}

fn guided(
    plan: &redsim::scenario::Plan,
    text: &str,
    seeds: std::ops::Range<u64>,
    jobs: usize,
) -> fuzz::Summary {
    let mut cfg = fuzz_config(plan, true);
    cfg.kinds = vec![
        redsim::scenario::FaultKind::Kill,
        redsim::scenario::FaultKind::Pause,
    ];
    fuzz::guided::sweep(
        plan,
        text,
        &cfg,
        &fuzz::Seeds::range(seeds),
        jobs,
        &|_| true,
        &|_| {},
    )
}

/// The corpus grows batch by batch in seed order, so one thread and two
/// give the same failures, groups and coverage; the failures name the line
/// printed, and each group's representative is shrunk.
#[test]
fn a_guided_sweep_is_the_same_on_any_number_of_threads() {
    let s = switch_never_printed();
    let (plan, text) = (s.plan(), s.text());
    let one = guided(&plan, &text, 0..40, 1);
    let two = guided(&plan, &text, 0..40, 2);
    assert!(one.campaign.guided);
    let seeds = |s: &fuzz::Summary| s.failures.iter().map(|f| f.seed).collect::<Vec<_>>();
    assert_eq!(seeds(&one), seeds(&two));
    assert!(!one.failures.is_empty());
    let sigs = |s: &fuzz::Summary| {
        s.groups
            .iter()
            .map(|g| g.signature.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(sigs(&one), sigs(&two));
    assert_eq!(one.states, two.states);
    let f = &one.failures[0];
    assert_eq!(f.property, "never-prints");
    assert!(
        f.detail
            .starts_with("printed `+switch-master` (first on sentinel-"),
        "{}",
        f.detail
    );
    for g in &one.groups {
        assert!(
            g.signature
                .starts_with("never-prints `+switch-master`; faults: "),
            "{}",
            g.signature
        );
        assert!(g.representative.shrunk);
        assert!(g.representative.faults_after_shrinking <= g.representative.faults_drawn);
    }
}

/// A `never-prints` failure's reproducing scenario expects the line never
/// to be printed, so `redsim run` of it fails while the path is taken.
#[test]
fn a_never_prints_reproducer_fails_while_the_line_is_printed() {
    let dir = scratch("guided", "repro");
    let file = dir.join("switch.toml");
    std::fs::write(&file, switch_never_printed().text()).unwrap();
    let out = dir.join("out");
    let o = redsim(&[
        "fuzz",
        file.to_str().unwrap(),
        "--seeds",
        "0..20",
        "--faults",
        "kill",
        "--guided",
        "--out",
        out.to_str().unwrap(),
    ]);
    o.exits(1).stdout_has("never-prints `+switch-master`");
    let repro = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "toml"))
        .expect("a reproducer");
    let text = std::fs::read_to_string(&repro).unwrap();
    assert!(text.contains("event = \"+switch-master\""), "{text}");
    assert!(text.contains("count = \"= 0\""), "{text}");
    redsim(&["run", repro.to_str().unwrap()])
        .exits(1)
        .stdout_has("+switch-master");
}

/// Lines that are no kind the model prints are refused where written, with
/// the nearest kind; `--guided` refuses shards and swarm scenarios.
#[test]
fn bad_guided_settings_are_refused() {
    let e = Scenario::new("10s", "masters = 1")
        .fuzz(r#"never-prints = ["+switch-mastr"]"#)
        .error();
    assert!(
        e.contains("`+switch-mastr` is not a kind of line") && e.contains("+switch-master"),
        "{e}"
    );
    let dir = scratch("guided", "refused");
    redsim(&[
        "fuzz",
        "scenarios/fuzz/master-restart-without-persistence.toml",
        "--guided",
        "--shard",
        "0/2",
        "--out",
        dir.to_str().unwrap(),
    ])
    .exits(2)
    .stderr_has("--guided with --shard");
    redsim(&[
        "fuzz",
        "scenarios/fuzz/sentinel-invariants.toml",
        "--guided",
        "--out",
        dir.to_str().unwrap(),
    ])
    .exits(2)
    .stderr_has("[fuzz.swarm]");
}
