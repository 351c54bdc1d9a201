//! A fuzz campaign split the way the recipes under `examples/` split it:
//! each shard reads its index from the variable its engine sets (a
//! Kubernetes Indexed Job's JOB_COMPLETION_INDEX, a Slurm array's
//! SLURM_ARRAY_TASK_ID with its first index and count, REDSIM_SHARD_INDEX
//! on a GitHub Actions matrix), and `fuzz merge` of the shards equals the
//! unsharded sweep: seeds, failures, groups and coverage.

use std::path::Path;

use serde_json::Value;

use super::common::{redsim_command, root, scratch};

const SCENARIO: &str = "scenarios/fuzz/master-restart-without-persistence.toml";
const SEEDS: &str = "0..12";
const VARIABLES: [&str; 6] = [
    "REDSIM_SHARD_INDEX",
    "REDSIM_SHARD_COUNT",
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_COUNT",
];

/// Runs one sweep with `env` set (and no other shard variable) and returns
/// its summary.
fn sweep(out: &Path, shard: Option<&str>, env: &[(&str, String)]) -> Value {
    let mut c = redsim_command();
    c.args([
        "fuzz",
        SCENARIO,
        "--seeds",
        SEEDS,
        "--no-shrink",
        "--jobs",
        "1",
    ]);
    if let Some(s) = shard {
        c.args(["--shard", s]);
    }
    c.arg("--out").arg(out);
    for v in VARIABLES {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("redsim runs");
    let code = o.status.code().expect("an exit code");
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary written");
    serde_json::from_str(&text).expect("a summary")
}

fn merge(files: &[String]) -> Value {
    let o = redsim_command()
        .args(["fuzz", "merge"])
        .args(files)
        .output()
        .expect("redsim runs");
    serde_json::from_slice(&o.stdout).expect("a merged summary")
}

/// What must equal between the merged shards and the whole sweep.
fn outcome(s: &Value) -> Value {
    let failures: Vec<Value> = s["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| serde_json::json!([f["seed"], f["signature"]]))
        .collect();
    let groups: Vec<Value> = s["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| serde_json::json!([g["signature"], g["count"], g["seeds"]]))
        .collect();
    serde_json::json!({
        "seeds": s["seeds"],
        "runs": s["runs"],
        "failures": failures,
        "groups": groups,
        "per_property": s["per_property"],
        "coverage": s["coverage"],
        "states": s["states"],
    })
}

#[test]
fn shards_indexed_by_each_engine_merge_to_the_whole_sweep() {
    let dir = scratch("campaign", "engines");
    let whole = outcome(&sweep(&dir.join("whole"), None, &[]));
    assert!(
        !whole["failures"].as_array().unwrap().is_empty(),
        "the sweep should find the scenario's known data loss"
    );
    type Engine = (
        &'static str,
        &'static str,
        fn(u64) -> Vec<(&'static str, String)>,
    );
    let engines: [Engine; 3] = [
        ("kubernetes", "env/3", |i| {
            vec![("JOB_COMPLETION_INDEX", i.to_string())]
        }),
        // An array --array=1-3: tasks count from 1.
        ("slurm", "env", |i| {
            vec![
                ("SLURM_ARRAY_TASK_ID", (i + 1).to_string()),
                ("SLURM_ARRAY_TASK_MIN", "1".into()),
                ("SLURM_ARRAY_TASK_COUNT", "3".into()),
            ]
        }),
        ("github-actions", "env/3", |i| {
            vec![("REDSIM_SHARD_INDEX", i.to_string())]
        }),
    ];
    for (name, shard, env) in engines {
        let files: Vec<String> = (0..3)
            .map(|i| {
                let out = dir.join(format!("{name}-{i}"));
                let s = sweep(&out, Some(shard), &env(i));
                assert_eq!(s["campaign"]["shard"], format!("{i}/3"), "{name}");
                out.join("summary.json").display().to_string()
            })
            .collect();
        assert_eq!(outcome(&merge(&files)), whole, "{name}");
    }
}

/// The recipes run the commands this test checks: each names the shard
/// flag and the variable it relies on, and seeds derived from the commit.
#[test]
fn the_recipes_use_the_shard_variables_tested_here() {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).expect("recipe");
    let gha = read("examples/github-actions/fuzz.yml");
    assert!(gha.contains("REDSIM_SHARD_INDEX: ${{ matrix.shard }}"));
    assert!(gha.contains("--shard \"env/${SHARDS}\""));
    assert!(gha.contains("--seeds \"@${GITHUB_SHA}:"));
    assert!(gha.contains("fuzz merge shards/*/summary.json"));
    let k8s = read("examples/kubernetes/fuzz-job.yaml");
    assert!(k8s.contains("completionMode: Indexed"));
    assert!(k8s.contains("completions: 8") && k8s.contains("--shard env/8"));
    let slurm = read("examples/slurm/fuzz.sbatch");
    assert!(slurm.contains("#SBATCH --array=0-7"));
    assert!(slurm.contains("--shard env "));
}

/// `--corpus`: the reproducing scenarios kept from a sweep are run first
/// by the next one (here the bug is still there, so they still fail and
/// the exit status says so), and a sweep adds its new ones.
#[test]
fn a_corpus_is_rechecked_first_and_grows() {
    let dir = scratch("campaign", "corpus");
    let corpus = dir.join("corpus");
    let run = |out: &str| {
        redsim_command()
            .args(["fuzz", SCENARIO, "--seeds", "8..12", "--jobs", "1"])
            .arg("--corpus")
            .arg(&corpus)
            .arg("--out")
            .arg(dir.join(out))
            .output()
            .expect("redsim runs")
    };
    let first = run("first");
    let text = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(text.contains("corpus: 0 reproducing scenarios"), "{text}");
    let kept = std::fs::read_dir(&corpus).expect("corpus written").count();
    assert!(kept >= 1, "a failure group's reproducer is kept");
    let second = run("second");
    assert_eq!(second.status.code(), Some(1));
    let text = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(
        text.contains(&format!(
            "corpus: {kept} reproducing scenarios, {kept} still fail, 0 pass"
        )),
        "{text}"
    );
}

/// `fuzz merge --baseline`: failure groups the baseline summary already
/// has do not fail the merge; one it lacks does, and is named.
#[test]
fn a_merge_fails_only_on_a_failure_group_the_baseline_lacks() {
    let dir = scratch("campaign", "baseline");
    let failing = dir.join("failing");
    sweep(&failing, None, &[]);
    let clean = dir.join("clean");
    let o = redsim_command()
        .args(["fuzz", SCENARIO, "--seeds", "0..6", "--no-shrink", "--out"])
        .arg(&clean)
        .output()
        .expect("redsim runs");
    assert_eq!(o.status.code(), Some(0), "seeds 0..6 find nothing");
    let merge_with = |baseline: &Path| {
        redsim_command()
            .args(["fuzz", "merge"])
            .arg(failing.join("summary.json"))
            .arg("--baseline")
            .arg(baseline.join("summary.json"))
            .output()
            .expect("redsim runs")
    };
    let known = merge_with(&failing);
    assert_eq!(known.status.code(), Some(0));
    let new = merge_with(&clean);
    assert_eq!(new.status.code(), Some(1));
    let err = String::from_utf8_lossy(&new.stderr);
    assert!(err.contains("1 failure group not in the baseline"), "{err}");
    assert!(err.contains("new: no-lost-acked-writes"), "{err}");
}
