//! End-to-end tests of the `redsim` binary: the exit codes it documents
//! (0 ok, 1 an expectation failed or a golden/determinism mismatch, 2 bad
//! input, 3 a simulation error such as a runaway run) and the messages a user
//! sees on each error path. Scenario fixtures live in tests/fixtures/:
//! `ok/` holds short valid scenarios whose expectations hold, `invalid/` one
//! scenario per input error, and the top level the rest.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::common::{Out, invalid, redsim, redsim_command, rejects, root};

/// A fresh, empty directory for one test's output files.
fn scratch(name: &str) -> PathBuf {
    super::common::scratch("cli", name)
}

fn toml_files(dir: &str) -> usize {
    fs::read_dir(root().join(dir))
        .expect("directory is readable")
        .filter(|e| {
            e.as_ref()
                .expect("entry")
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count()
}

// ---------------------------------------------------------------------------
// Bad input: exit 2, with file:line:col and a hint where one helps.

#[test]
fn missing_scenario_file_is_bad_input_and_names_the_file() {
    let o = redsim(&["run", "tests/fixtures/no-such-scenario.toml"]);
    o.exits(2)
        .stderr_has("tests/fixtures/no-such-scenario.toml")
        .stderr_has("cannot read the scenario");
    assert!(o.stdout.is_empty(), "{o}");
    // The other subcommands that load a scenario say the same.
    redsim(&["check", "tests/fixtures/no-such-scenario.toml"])
        .exits(2)
        .stderr_has("tests/fixtures/no-such-scenario.toml");
    redsim(&[
        "info",
        "tests/fixtures/no-such-scenario.toml",
        "--node",
        "master",
        "--at",
        "1s",
    ])
    .exits(2)
    .stderr_has("tests/fixtures/no-such-scenario.toml");
}

#[test]
fn invalid_toml_reports_file_line_and_column() {
    let o = rejects("bad-toml", "replica-1\n", "string values must be quoted");
    assert!(
        o.stderr
            .starts_with("tests/fixtures/invalid/bad-toml.toml:20:9: ")
    );
}

#[test]
fn unknown_top_level_key_suggests_the_right_one() {
    let o = rejects(
        "unknown-top-level-key",
        "duraton",
        "unknown field `duraton`",
    );
    assert_eq!(o.hint(), Some("did you mean `duration`?"), "{o}");
}

#[test]
fn unknown_workload_key_suggests_the_right_one() {
    let o = rejects("unknown-workload-key", "rat =", "unknown field `rat`");
    assert_eq!(o.hint(), Some("did you mean `rate`?"), "{o}");
}

#[test]
fn unknown_fault_key_suggests_the_right_one() {
    let o = rejects("unknown-fault-key", "puase", "unknown field `puase`");
    assert_eq!(o.hint(), Some("did you mean `pause`?"), "{o}");
}

#[test]
fn unknown_keys_in_other_tables_suggest_the_right_one() {
    let o = rejects("unknown-expect-key", "evnet", "unknown field `evnet`");
    assert_eq!(o.hint(), Some("did you mean `event`?"), "{o}");
    let o = rejects("unknown-sim-key", "max-event", "unknown field `max-event`");
    assert_eq!(o.hint(), Some("did you mean `max-events`?"), "{o}");
}

#[test]
fn unknown_redis_conf_key_suggests_the_right_one() {
    let o = rejects(
        "unknown-redis-key",
        "repl-backlog-siz",
        "unknown redis.conf key `repl-backlog-siz`",
    );
    assert_eq!(o.hint(), Some("did you mean `repl-backlog-size`?"), "{o}");
}

#[test]
fn duration_with_an_unknown_unit_is_bad_input() {
    rejects(
        "duration-unknown-unit",
        "\"10 parsecs\"",
        "unknown unit `parsecs` in duration `10 parsecs`",
    );
}

#[test]
fn duration_without_a_unit_is_bad_input() {
    rejects(
        "duration-without-unit",
        "\"10\"",
        "duration `10` needs a unit",
    );
}

#[test]
fn fault_before_time_zero_is_bad_input() {
    rejects("fault-before-zero", "\"-5s\"", "`-5s` is before time zero");
}

#[test]
fn fault_after_the_end_of_the_run_is_bad_input() {
    let o = rejects(
        "fault-after-end",
        "\"10s\"",
        "`10s` is after the end of the run (duration = 5s)",
    );
    assert!(o.hint().is_some_and(|h| h.contains("duration")), "{o}");
}

#[test]
fn expectation_after_the_end_of_the_run_is_bad_input() {
    rejects(
        "expect-after-end",
        "\"6s\"",
        "`6s` is after the end of the run (duration = 5s)",
    );
}

#[test]
fn unknown_node_in_a_fault_suggests_a_near_miss() {
    let o = rejects(
        "unknown-fault-node",
        "\"replica-2\"",
        "unknown node `replica-2`",
    );
    assert_eq!(o.hint(), Some("did you mean `replica-1`?"), "{o}");
}

#[test]
fn unknown_workload_target_lists_the_nodes() {
    let o = rejects(
        "unknown-workload-target",
        "\"primary\"",
        "unknown node `primary`",
    );
    assert_eq!(
        o.hint(),
        Some("the nodes are: master, replica-1, client-1"),
        "{o}"
    );
}

#[test]
fn fault_with_two_actions_is_bad_input() {
    rejects(
        "fault-two-actions",
        "\"1s\"",
        "one fault per [[fault]] table",
    );
}

#[test]
fn fault_with_no_action_lists_the_actions() {
    let o = rejects("fault-no-action", "\"1s\"", "this fault does nothing");
    o.stderr_has("kill")
        .stderr_has("pause")
        .stderr_has("partition");
}

#[test]
fn expectation_with_a_bad_comparison_is_bad_input() {
    rejects("expect-bad-count", "\"lots\"", "`lots` is not a comparison");
}

/// Several replication groups: a monitored master's `node` must be a
/// group's master, and a Sentinel-aware workload must ask for a name the
/// Sentinels monitor; each error suggests the nearest name.
#[test]
fn bad_monitored_masters_are_located_with_a_suggestion() {
    let o = rejects(
        "sentinel-masters-unknown-node",
        "\"mastr-2\"",
        "`mastr-2` is not a group's master",
    );
    assert_eq!(o.hint(), Some("did you mean `master-2`?"));
    let o = rejects(
        "workload-unknown-master-name",
        "\"order\"",
        "the Sentinels monitor no master named `order`",
    );
    assert_eq!(o.hint(), Some("did you mean `orders`?"));
}

#[test]
fn other_invalid_scenarios_are_bad_input() {
    let cases = [
        ("zero-duration", "\"0s\"", "duration must be positive"),
        ("missing-duration", "# Invalid", "missing field `duration`"),
        (
            "two-masters",
            "2\nreplicas",
            "the Sentinels need to know each master's name",
        ),
        (
            "bad-redis-value",
            "\"lots\"",
            "repl-backlog-size: size `lots`",
        ),
        (
            "node-table-names-client",
            "client-1",
            "`client-1` is a client, not a Redis node",
        ),
        (
            "duplicate-node-name",
            "\"master\"\ntarget",
            "node name `master` is used twice",
        ),
        ("heal-false", "false\n", "write `heal = true`"),
        (
            "partition-one-group",
            "[[\"master\"]]",
            "a partition needs at least two groups",
        ),
        ("expect-role-without-at", "[[expect]]", "`role` needs `at`"),
        (
            "network-loss-out-of-range",
            "1.0",
            "loss is a probability in [0, 1)",
        ),
    ];
    for (name, needle, message) in cases {
        rejects(name, needle, message);
    }
}

#[test]
fn replicaof_on_a_client_is_bad_input() {
    redsim(&["run", "tests/fixtures/replicaof-client.toml"])
        .exits(2)
        .stderr_has("`client-1` is a client, not a Redis node");
}

#[test]
fn check_rejects_every_invalid_fixture() {
    let n = toml_files("tests/fixtures/invalid");
    let o = redsim(&["check", "tests/fixtures/invalid"]);
    o.exits(2).stdout_has(&format!("0 passed, {n} failed"));
    // One error per file, each naming it.
    for entry in fs::read_dir(root().join("tests/fixtures/invalid")).expect("readable") {
        let name = entry.expect("entry").file_name();
        let path = format!("tests/fixtures/invalid/{}", name.to_string_lossy());
        o.stderr_has(&format!("{path}:"));
    }
}

#[test]
fn usage_errors_are_bad_input() {
    redsim(&[]).exits(2);
    redsim(&["frobnicate"]).exits(2);
    redsim(&["check"]).exits(2);
    redsim(&["run", "tests/fixtures/ok/steady.toml", "--format", "xml"])
        .exits(2)
        .stderr_has("xml");
    redsim(&["run", "tests/fixtures/ok/steady.toml", "--seed", "many"]).exits(2);
    redsim(&["info", "tests/fixtures/ok/steady.toml", "--at", "1s"])
        .exits(2)
        .stderr_has("--node");
    redsim(&["--help"]).exits(0).stdout_has("check");
    redsim(&["--version"]).exits(0).stdout_has("redsim");
}

// ---------------------------------------------------------------------------
// `redsim check`

#[test]
fn check_passes_on_a_directory_of_valid_scenarios() {
    let n = toml_files("tests/fixtures/ok");
    assert!(n >= 2);
    let o = redsim(&["check", "tests/fixtures/ok"]);
    o.exits(0)
        .stdout_has(&format!("{n} passed, 0 failed"))
        .stdout_has("ok     tests/fixtures/ok/steady.toml (5 expectations)")
        .stdout_has("ok     tests/fixtures/ok/replica-paused-partial-resync.toml (5 expectations)");
    assert!(!o.stdout.contains("FAILED"), "{o}");
    assert!(o.stderr.is_empty(), "{o}");
}

#[test]
fn check_passes_on_the_bundled_scenarios() {
    let n = toml_files("scenarios/replication");
    redsim(&["check", "scenarios/replication"])
        .exits(0)
        .stdout_has(&format!("{n} passed, 0 failed"));
}

#[test]
fn check_fails_when_an_expectation_fails() {
    let o = redsim(&["check", "tests/fixtures/failing-expectation.toml"]);
    o.exits(1)
        .stdout_has("FAILED tests/fixtures/failing-expectation.toml")
        .stdout_has("replica-1 full resyncs = 1 after 3.000000s (observed: 0 times)")
        .stdout_has("0 passed, 1 failed");
    // Only the false expectation is listed.
    assert!(!o.stdout.contains("lost acknowledged writes"), "{o}");
}

#[test]
fn check_exits_with_the_worst_outcome() {
    redsim(&[
        "check",
        "tests/fixtures/ok",
        "tests/fixtures/failing-expectation.toml",
    ])
    .exits(1)
    .stdout_has(&format!(
        "{} passed, 1 failed",
        toml_files("tests/fixtures/ok")
    ));
    redsim(&[
        "check",
        "tests/fixtures/failing-expectation.toml",
        &invalid("zero-duration"),
    ])
    .exits(2)
    .stdout_has("0 passed, 2 failed");
    redsim(&[
        "check",
        "tests/fixtures/ok/steady.toml",
        "tests/fixtures/failing-expectation.toml",
        &invalid("zero-duration"),
        "tests/fixtures/runaway.toml",
    ])
    .exits(3)
    .stdout_has("ERROR  tests/fixtures/runaway.toml: runaway run")
    .stdout_has("1 passed, 3 failed");
}

#[test]
fn check_on_a_missing_path_is_bad_input() {
    redsim(&["check", "tests/fixtures/no-such-directory"])
        .exits(2)
        .stderr_has("tests/fixtures/no-such-directory");
}

// ---------------------------------------------------------------------------
// `redsim run`

#[test]
fn run_prints_a_text_trace_and_a_summary() {
    let o = redsim(&["run", "tests/fixtures/ok/steady.toml"]);
    o.exits(0);
    assert!(
        o.stdout
            .starts_with("# fixtures/steady — seed 7 — redsim-trace/1\n"),
        "{o}"
    );
    o.stdout_has("master:M 00:00:00.000 # Server initialized")
        .stdout_has("== summary: fixtures/steady")
        .stdout_has("expectations:");
    assert_eq!(o.stdout.matches("  [ok] ").count(), 5, "{o}");
    assert!(!o.stdout.contains("[FAILED]"), "{o}");
    assert!(o.stderr.is_empty(), "{o}");
}

#[test]
fn run_fails_when_an_expectation_fails() {
    let o = redsim(&["run", "tests/fixtures/failing-expectation.toml"]);
    o.exits(1)
        .stdout_has("  [FAILED] replica-1 full resyncs = 1 after 3.000000s (observed: 0 times)")
        .stdout_has("  [ok] lost acknowledged writes = 0");
}

/// Parses every stdout line as JSON; the first is the header.
fn jsonl(o: &Out) -> Vec<Value> {
    o.stdout
        .lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("stdout line {} is not JSON ({e}): {l}\n{o}", i + 1))
        })
        .collect()
}

#[test]
fn run_jsonl_prints_a_header_and_one_json_object_per_line() {
    let o = redsim(&[
        "run",
        "tests/fixtures/ok/replica-paused-partial-resync.toml",
        "--format",
        "jsonl",
    ]);
    o.exits(0);
    let lines = jsonl(&o);
    assert!(lines.len() > 10, "{o}");
    let header = &lines[0];
    assert_eq!(header["schema"], "redsim-trace/1", "{o}");
    assert_eq!(header["seed"], 3, "{o}");
    assert_eq!(
        header["scenario"], "fixtures/replica-paused-partial-resync",
        "{o}"
    );
    let mut last = 0;
    for e in &lines[1..] {
        let t = e["t"].as_u64().unwrap_or_else(|| panic!("no time in {e}"));
        assert!(t >= last, "events out of order at {e}");
        last = t;
        assert!(e["node"].is_string(), "no node in {e}");
        assert!(e["event"].is_string(), "no event in {e}");
        assert!(e["detail"].is_string(), "no detail in {e}");
    }
    assert!(
        lines
            .iter()
            .any(|e| e["event"] == "Successful partial resynchronization with master."),
        "{o}"
    );
    // The summary goes to stderr so stdout stays pure JSONL.
    o.stderr_has("== summary: fixtures/replica-paused-partial-resync");
}

#[test]
fn run_jsonl_header_carries_the_seed_given_on_the_command_line() {
    let default = redsim(&["run", "tests/fixtures/ok/steady.toml", "--format", "jsonl"]);
    let seeded = redsim(&[
        "run",
        "tests/fixtures/ok/steady.toml",
        "--format",
        "jsonl",
        "--seed",
        "77",
    ]);
    default.exits(0);
    seeded.exits(0);
    assert_eq!(jsonl(&default)[0]["seed"], 7);
    assert_eq!(jsonl(&seeded)[0]["seed"], 77);
    assert_ne!(default.stdout, seeded.stdout, "the seed changes the run");
}

#[test]
fn separate_runs_print_identical_traces() {
    let args = [
        "run",
        "tests/fixtures/ok/replica-paused-partial-resync.toml",
        "--format",
        "jsonl",
    ];
    let a = redsim(&args);
    let b = redsim(&args);
    a.exits(0);
    b.exits(0);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn run_writes_the_trace_to_a_file_and_the_summary_to_stdout() {
    let dir = scratch("trace-file");
    let file = dir.join("trace.jsonl");
    let o = redsim(&[
        "run",
        "tests/fixtures/ok/steady.toml",
        "--format",
        "jsonl",
        "--trace",
        file.to_str().expect("UTF-8 path"),
    ]);
    o.exits(0);
    assert!(o.stdout.starts_with("== summary: fixtures/steady"), "{o}");
    let trace = fs::read_to_string(&file).expect("the trace file is written");
    let header: Value =
        serde_json::from_str(trace.lines().next().expect("a header")).expect("JSON header");
    assert_eq!(header["schema"], "redsim-trace/1");
}

/// `--trace /dev/stdout` with stdout sent to a file: the trace and then
/// the summary, whole, as when stdout is a pipe (a second opening of the
/// file would have written the trace from its start, under the summary).
#[test]
fn a_trace_to_dev_stdout_redirected_to_a_file_keeps_both() {
    let dir = scratch("trace-stdout-file");
    let out = dir.join("out.txt");
    let args = [
        "run",
        "tests/fixtures/ok/steady.toml",
        "--trace",
        "/dev/stdout",
    ];
    let status = redsim_command()
        .args(args)
        .stdout(fs::File::create(&out).expect("a file"))
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert!(status.success());
    let piped = redsim(&args);
    piped.exits(0);
    let written = fs::read_to_string(&out).expect("written");
    assert!(written.starts_with("# fixtures/steady"), "{written}");
    assert!(written.contains("== summary: fixtures/steady"));
    assert_eq!(written, piped.stdout);
}

#[test]
fn run_with_an_unwritable_trace_file_is_bad_input() {
    let dir = scratch("trace-unwritable");
    let file = dir.join("no-such-directory").join("trace.jsonl");
    redsim(&[
        "run",
        "tests/fixtures/ok/steady.toml",
        "--trace",
        file.to_str().expect("UTF-8 path"),
    ])
    .exits(2)
    .stderr_has("cannot write the trace");
}

#[test]
fn run_stats_go_to_stderr() {
    let o = redsim(&["run", "tests/fixtures/ok/steady.toml", "--stats"]);
    o.exits(0)
        .stderr_has("stats: ")
        .stderr_has("5.000000s simulated");
}

#[test]
fn check_determinism_passes() {
    redsim(&[
        "run",
        "tests/fixtures/ok/replica-paused-partial-resync.toml",
        "--check-determinism",
    ])
    .exits(0)
    .stdout_has("deterministic: two runs of seed 3 produced identical traces");
    redsim(&[
        "run",
        "scenarios/replication/replica-paused-partial-resync.toml",
        "--check-determinism",
        "--seed",
        "5",
    ])
    .exits(0)
    .stdout_has("deterministic: two runs of seed 5 produced identical traces");
}

// ---------------------------------------------------------------------------
// Simulation errors: exit 3

#[test]
fn runaway_run_is_a_simulation_error() {
    let o = redsim(&["run", "tests/fixtures/runaway.toml"]);
    o.exits(3)
        .stderr_has("tests/fixtures/runaway.toml: runaway run")
        .stderr_has("more than 1000 events")
        .stderr_has("max-events");
    assert!(o.stdout.is_empty(), "no trace after a runaway run\n{o}");

    redsim(&["run", "tests/fixtures/runaway.toml", "--check-determinism"])
        .exits(3)
        .stderr_has("max-events");
    redsim(&["check", "tests/fixtures/runaway.toml"])
        .exits(3)
        .stdout_has("max-events")
        .stdout_has("0 passed, 1 failed");
    redsim(&[
        "info",
        "tests/fixtures/runaway.toml",
        "--node",
        "master",
        "--at",
        "4s",
    ])
    .exits(3)
    .stderr_has("max-events");
}

// ---------------------------------------------------------------------------
// `redsim info`

const BACKLOG: &str = "scenarios/replication/backlog-large-enough-partial-resync.toml";

#[test]
fn info_prints_a_replicas_info_replication() {
    let o = redsim(&["info", BACKLOG, "--node", "replica-1", "--at", "30s"]);
    o.exits(0);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"# Replication"), "{o}");
    assert!(lines.contains(&"role:slave"), "{o}");
    assert!(lines.contains(&"master_link_status:up"), "{o}");
    assert!(!o.stdout.contains('\r'), "CRLF is turned into LF\n{o}");
}

#[test]
fn info_follows_simulated_time() {
    let f = "tests/fixtures/ok/replica-killed.toml";
    redsim(&["info", f, "--node", "master", "--at", "1s"])
        .exits(0)
        .stdout_has("role:master")
        .stdout_has("connected_slaves:1");
    redsim(&["info", f, "--node", "replica-1", "--at", "1s"])
        .exits(0)
        .stdout_has("role:slave");
    redsim(&["info", f, "--node", "replica-1", "--at", "3s"])
        .exits(0)
        .stdout_has("replica-1 is not running at 3.000000s");
}

#[test]
fn info_on_an_unknown_node_lists_the_nodes() {
    let o = redsim(&["info", BACKLOG, "--node", "replica-9", "--at", "30s"]);
    o.exits(2).stderr_has(
        "unknown node `replica-9`; the nodes are: master, replica-1, replica-2, client-1",
    );
    assert!(o.stdout.is_empty(), "{o}");
}

#[test]
fn info_on_a_client_is_bad_input() {
    redsim(&["info", BACKLOG, "--node", "client-1", "--at", "3s"])
        .exits(2)
        .stderr_has("`client-1` is a client, not a Redis node");
}

#[test]
fn info_with_a_bad_time_is_bad_input() {
    let o = redsim(&["info", BACKLOG, "--node", "replica-1", "--at", "nonsense"]);
    o.exits(2).stderr_has("--at: ").stderr_has("nonsense");
    assert!(o.stdout.is_empty(), "{o}");
    redsim(&["info", BACKLOG, "--node", "replica-1", "--at", "30"])
        .exits(2)
        .stderr_has("needs a unit");
    // A negative time is refused, though the message only says
    // "duration `-1s` does not start with a number".
    redsim(&["info", BACKLOG, "--node", "replica-1", "--at=-1s"])
        .exits(2)
        .stderr_has("-1s");
}

#[test]
fn info_on_an_invalid_scenario_is_bad_input() {
    let path = invalid("fault-after-end");
    redsim(&["info", &path, "--node", "master", "--at", "1s"])
        .exits(2)
        .stderr_has(&format!("{path}:"));
}

// ---------------------------------------------------------------------------
// `redsim golden`

#[test]
fn golden_update_then_compare() {
    let dir = scratch("golden");
    let d = dir.to_str().expect("UTF-8 path");
    let scenario = "tests/fixtures/ok/steady.toml";
    let golden = dir.join("fixtures__steady.jsonl");

    redsim(&["golden", "--dir", d, "--update", scenario])
        .exits(0)
        .stdout_has("wrote");
    let text = fs::read_to_string(&golden).expect("the golden file is written");
    assert!(text.starts_with("{\"schema\":\"redsim-trace/1\""), "{text}");

    redsim(&["golden", "--dir", d, scenario])
        .exits(0)
        .stdout_has("same");

    // Change the third line: the comparison fails and points at it.
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"t\":0}";
    fs::write(&golden, lines.join("\n") + "\n").expect("rewrite the golden file");
    redsim(&["golden", "--dir", d, scenario])
        .exits(1)
        .stdout_has("DIFFER")
        .stdout_has("line 3:");

    fs::remove_file(&golden).expect("remove the golden file");
    redsim(&["golden", "--dir", d, scenario])
        .exits(1)
        .stdout_has("MISSING");
}

#[test]
fn golden_on_an_invalid_scenario_is_bad_input() {
    let dir = scratch("golden-invalid");
    let path = invalid("zero-duration");
    redsim(&["golden", "--dir", dir.to_str().expect("UTF-8 path"), &path])
        .exits(2)
        .stderr_has(&format!("{path}:"));
}

#[test]
fn golden_on_a_runaway_run_is_a_simulation_error() {
    let dir = scratch("golden-runaway");
    redsim(&[
        "golden",
        "--dir",
        dir.to_str().expect("UTF-8 path"),
        "tests/fixtures/runaway.toml",
    ])
    .exits(3)
    .stderr_has("max-events");
}

// ---------------------------------------------------------------------------

/// Every fixture through every subcommand: whatever the verdict, a
/// documented exit code and never a panic (which `redsim` itself checks).
#[test]
fn no_command_panics_on_any_fixture() {
    let mut files = Vec::new();
    for dir in [
        "tests/fixtures",
        "tests/fixtures/ok",
        "tests/fixtures/invalid",
    ] {
        for entry in fs::read_dir(root().join(dir)).expect("readable") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|x| x == "toml") {
                let rel = path.strip_prefix(root()).expect("under the root");
                files.push(rel.to_str().expect("UTF-8 path").to_string());
            }
        }
    }
    assert!(files.len() > 30, "fixtures found: {files:?}");
    let sweep_out = scratch("no-panic-sweep");
    let sweep_out = sweep_out.to_str().expect("UTF-8 path");
    for f in &files {
        for args in [
            vec!["explain", f.as_str()],
            vec![
                "sweep",
                f,
                "--param",
                "quorum=1..2",
                "--steps",
                "2",
                "--seeds",
                "1",
                "--out",
                sweep_out,
            ],
            vec!["run", f.as_str()],
            vec!["run", f, "--format", "jsonl", "--stats"],
            vec!["run", f, "--check-determinism"],
            vec!["check", f],
            vec!["info", f, "--node", "master", "--at", "2s"],
            vec!["info", f, "--node", "replica-1", "--at", "5s"],
        ] {
            let o = redsim(&args);
            assert!(
                (0..=3).contains(&o.code),
                "`redsim {}` exited with {}\n{o}",
                args.join(" "),
                o.code
            );
        }
    }
}

#[test]
fn list_groups_scenarios_by_topic_with_their_questions() {
    redsim(&["list", "scenarios"])
        .exits(0)
        .stdout_has("replication/\n")
        .stdout_has("sentinel/\n")
        .stdout_has("How does Sentinel avoid split brain, and where does it still lose writes?");
}

#[test]
fn list_groups_the_interview_library_by_topic_with_questions() {
    let o = redsim(&["list", "scenarios/interview"]);
    o.exits(0)
        .stdout_has("interview/\n")
        .stdout_has("  sentinel:\n")
        .stdout_has("    how-sentinel-picks-the-new-master")
        .stdout_has("How does Sentinel pick the new master?")
        .stdout_has("  claims in the notes:\n");
}

#[test]
fn a_reader_that_stops_early_ends_redsim_quietly() {
    // `redsim run … | head -1`: the pipe closes while redsim still writes.
    let mut child = redsim_command()
        .args(["run", "scenarios/sentinel/master-crash-failover.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the redsim binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("redsim ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// Faults that would change nothing are refused, located, so the trace
// never claims a restart or a SIGCONT that did not happen.

#[test]
fn restart_of_a_running_process_is_refused() {
    rejects(
        "restart-running",
        "\"12s\"",
        "restart of master at 12s does nothing: the process is running \
         (restart needs a process that was killed, crashed or shut down)",
    );
}

#[test]
fn resume_of_a_process_that_is_not_stopped_is_refused() {
    rejects(
        "resume-not-paused",
        "\"8s\"",
        "resume of replica-1 at 8s does nothing: the process is not running",
    );
}

#[test]
fn heal_without_a_partition_is_refused() {
    rejects(
        "heal-without-partition",
        "\"8s\"",
        "heal at 8s does nothing: no partition is in force",
    );
}

// ---------------------------------------------------------------------------
// Machine-readable results and fuzz as a tool.

const FUZZ_SCENARIO: &str = "scenarios/fuzz/master-restart-without-persistence.toml";

#[test]
fn run_json_prints_one_verdict() {
    let o = redsim(&["run", "tests/fixtures/failing-expectation.toml", "--json"]);
    o.exits(1);
    let v: Value = serde_json::from_str(o.stdout.trim()).expect("one JSON object");
    assert_eq!(v["passed"], false);
    assert!(v["scenario"].is_string() && v["seed"].is_u64(), "{v}");
    assert!(v["lost_writes"].is_u64(), "{v}");
    let e = v["expectations"].as_array().expect("expectations");
    assert!(
        e.iter().any(|x| x["holds"] == false
            && x["description"] == "replica-1 full resyncs = 1 after 3.000000s"
            && x["observed"] == "0 times"),
        "{v}"
    );
    let ok = redsim(&["run", "tests/fixtures/ok/steady.toml", "--json"]);
    ok.exits(0);
    let v: Value = serde_json::from_str(ok.stdout.trim()).expect("one JSON object");
    assert_eq!(v["passed"], true);
    assert!(v.get("unavailability").is_some(), "{v}");
}

#[test]
fn check_json_prints_a_verdict_per_scenario() {
    let o = redsim(&["check", "tests/fixtures/ok", "--json"]);
    o.exits(0);
    let lines: Vec<Value> = o
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), toml_files("tests/fixtures/ok"));
    assert!(lines.iter().all(|v| v["passed"] == true), "{o}");
}

#[test]
fn check_junit_has_a_testcase_per_scenario() {
    let dir = scratch("check-junit");
    let xml = dir.join("check.xml");
    let o = redsim(&[
        "check",
        "tests/fixtures/ok",
        "tests/fixtures/failing-expectation.toml",
        "--junit",
        xml.to_str().unwrap(),
    ]);
    o.exits(1);
    let x = fs::read_to_string(&xml).expect("written");
    let n = toml_files("tests/fixtures/ok") + 1;
    assert!(x.starts_with("<?xml"), "{x}");
    assert_eq!(x.matches("<testcase ").count(), n, "{x}");
    assert!(x.contains("failures=\"1\""), "{x}");
    assert!(
        x.contains("<failure message=\"1 of"),
        "the failing scenario has a failure message\n{x}"
    );
    let bad = redsim(&["check", "tests/fixtures/ok", "--junit", "no/such/dir/x.xml"]);
    bad.exits(2)
        .stderr_has("--junit: cannot write no/such/dir/x.xml");
    assert!(bad.stdout.is_empty(), "{bad}");
}

#[test]
fn golden_junit_has_a_testcase_per_golden_file() {
    let dir = scratch("golden-junit");
    let gold = dir.join("gold");
    fs::create_dir_all(&gold).unwrap();
    let scenario = "tests/fixtures/ok/steady.toml";
    redsim(&[
        "golden",
        "--dir",
        gold.to_str().unwrap(),
        "--update",
        scenario,
    ])
    .exits(0);
    let xml = dir.join("golden.xml");
    let args = [
        "golden",
        "--dir",
        gold.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
        scenario,
    ];
    redsim(&args).exits(0).stdout_has("same   ");
    let x = fs::read_to_string(&xml).expect("written");
    assert!(x.contains("tests=\"1\" failures=\"0\""), "{x}");
    // Edit the golden file: the testcase fails with the first difference.
    let file = fs::read_dir(&gold).unwrap().next().unwrap().unwrap().path();
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replacen('}', ", \"edited\": \"<&>\"}", 1)).unwrap();
    redsim(&args).exits(1).stdout_has("DIFFER ");
    let x = fs::read_to_string(&xml).expect("written");
    assert!(x.contains("failures=\"1\""), "{x}");
    assert!(x.contains("&lt;&amp;&gt;"), "escaped\n{x}");
}

#[test]
fn fuzz_refuses_absurd_input_before_running() {
    let o = redsim(&["fuzz", FUZZ_SCENARIO, "--seeds", "0..18446744073709551615"]);
    o.exits(2).stderr_has("seeds go up to");
    let o = redsim(&["fuzz", FUZZ_SCENARIO, "--seeds", "0..9223372036854775807"]);
    o.exits(2).stderr_has("at most 4294967296");
    let o = redsim(&["fuzz", FUZZ_SCENARIO, "--max-faults", "100000"]);
    o.exits(2).stderr_has("at most 100 faults per schedule");
    let o = redsim(&[
        "fuzz",
        FUZZ_SCENARIO,
        "--seeds",
        "9223372036854775807..9223372036854775809",
    ]);
    o.exits(2).stderr_has("seeds go up to 9223372036854775807");
    let o = redsim(&["fuzz", FUZZ_SCENARIO, "--seeds", "9..3"]);
    o.exits(2).stderr_has("backwards");
    let o = redsim(&["fuzz", FUZZ_SCENARIO, "--out", "Cargo.toml/out"]);
    o.exits(2).stderr_has("--out: cannot create Cargo.toml/out");
    assert!(!o.stderr.contains("seeds,"), "no seed ran\n{o}");
}

#[test]
fn fuzz_runs_seeds_at_the_top_of_the_range() {
    let dir = scratch("fuzz-top");
    let o = redsim(&[
        "fuzz",
        FUZZ_SCENARIO,
        "--seeds",
        "9223372036854775806..9223372036854775808",
        "--no-shrink",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.code == 0 || o.code == 1, "{o}");
    o.stdout_has("2 seeds in");
}

#[test]
fn fuzz_groups_failures_reports_progress_and_writes_junit() {
    let dir = scratch("fuzz-groups");
    let xml = dir.join("fuzz.xml");
    let o = redsim(&[
        "fuzz",
        FUZZ_SCENARIO,
        "--seeds",
        "0..30",
        "--jobs",
        "2",
        "--out",
        dir.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    o.exits(1)
        .stdout_has("failure groups")
        .stdout_has("never reached")
        .stdout_has("not applicable to this scenario")
        .stderr_has("fuzz: 30/30 seeds, ");
    let s: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let groups = s["groups"].as_array().expect("groups");
    let failures = s["failures"].as_array().expect("failures").len();
    assert!(!groups.is_empty() && groups.len() < failures, "{s}");
    let repros = fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    assert_eq!(repros, groups.len(), "one reproducer per group");
    assert_eq!(
        s["coverage"].as_array().unwrap().len(),
        16,
        "every probe listed: {}",
        s["coverage"]
    );
    assert_eq!(s["campaign"]["seeds"], "0..30");
    assert!(s["campaign"]["scenario_hash"].is_string());
    let x = fs::read_to_string(&xml).expect("junit written");
    assert!(x.contains("<failure message="), "{x}");
    assert!(x.contains("one-vote-per-epoch (30 seeds)"), "{x}");
}

#[test]
fn fuzz_merge_refuses_the_same_shard_twice_and_other_scenarios() {
    let dir = scratch("fuzz-merge");
    let run = |name: &str, scenario: &str, shard: &str| {
        let out = dir.join(name);
        let o = redsim(&[
            "fuzz",
            scenario,
            "--seeds",
            "0..4",
            "--shard",
            shard,
            "--no-shrink",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.code == 0 || o.code == 1, "{o}");
        out.join("summary.json").display().to_string()
    };
    let a = run("a", FUZZ_SCENARIO, "0/2");
    let b = run("b", FUZZ_SCENARIO, "1/2");
    let c = run(
        "c",
        "scenarios/fuzz/min-replicas-still-loses-writes.toml",
        "1/2",
    );
    let merged = redsim(&["fuzz", "merge", &a, &b]);
    assert!(merged.code == 0 || merged.code == 1, "{merged}");
    let m: Value = serde_json::from_str(&merged.stdout).unwrap();
    assert_eq!(m["runs"], 4);
    redsim(&["fuzz", "merge", &a, &a])
        .exits(2)
        .stderr_has("in two summaries");
    redsim(&["fuzz", "merge", &a, &c])
        .exits(2)
        .stderr_has("different scenarios");
}

/// `fuzz coverage` prints a campaign's whole coverage from its summary,
/// compares two, and refuses a file that is not a summary.
#[test]
fn fuzz_coverage_reports_and_compares_campaigns() {
    let dir = scratch("fuzz-coverage");
    let run = |name: &str, seeds: &str| {
        let out = dir.join(name);
        let o = redsim(&[
            "fuzz",
            FUZZ_SCENARIO,
            "--seeds",
            seeds,
            "--no-shrink",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.code == 0 || o.code == 1, "{o}");
        o.stdout_has("abstract states");
        out.join("summary.json").display().to_string()
    };
    let a = run("a", "0..3");
    let b = run("b", "3..6");
    let shown = redsim(&["fuzz", "coverage", &a]);
    shown
        .exits(0)
        .stdout_has("coverage over 3 runs")
        .stdout_has("log line kinds never printed (");
    redsim(&["fuzz", "coverage", &a, &a])
        .exits(0)
        .stdout_has("0 only in");
    redsim(&["fuzz", "coverage", &a, &b])
        .exits(0)
        .stdout_has("states: ");
    let bad = dir.join("bad.json");
    fs::write(&bad, "{}").unwrap();
    redsim(&["fuzz", "coverage", bad.to_str().unwrap()])
        .exits(2)
        .stderr_has("not a fuzz summary");
}

#[cfg(unix)]
#[test]
fn fuzz_stops_on_sigint_and_writes_what_finished() {
    let dir = scratch("fuzz-sigint");
    let child = redsim_command()
        .args([
            "fuzz",
            FUZZ_SCENARIO,
            "--seeds",
            "0..100000",
            "--jobs",
            "1",
            "--out",
            dir.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // Wait until a few seeds have run, then interrupt.
    std::thread::sleep(std::time::Duration::from_millis(3000));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = child.wait_with_output().expect("exits");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("INTERRUPTED by SIGINT"), "{stdout}");
    let s: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["interrupted"], true);
    assert!(s["runs"].as_u64().unwrap() < 100000);
    assert_eq!(
        s["seeds"].as_array().unwrap().len() as u64,
        s["runs"].as_u64().unwrap()
    );
}

#[test]
fn a_full_or_closed_stderr_does_not_panic() {
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full exists on Linux")
    };
    for args in [
        &["run", "scenarios/no-such-scenario.toml"][..],
        &[
            "fuzz",
            "scenarios/fuzz/sentinel-invariants.toml",
            "--seeds",
            "0..2",
            "--no-shrink",
            "--out",
        ][..],
    ] {
        let mut cmd = redsim_command();
        cmd.args(args);
        if args[0] == "fuzz" {
            cmd.arg(scratch("stderr-full"));
        }
        let out = cmd
            .stdout(Stdio::null())
            .stderr(full())
            .status()
            .expect("runs");
        assert_ne!(
            out.code(),
            Some(101),
            "`redsim {}` panicked",
            args.join(" ")
        );
        assert!(
            out.code().is_some(),
            "`redsim {}` was killed",
            args.join(" ")
        );
    }
}

#[test]
fn an_unwritable_trace_file_is_refused_before_the_run() {
    let o = redsim(&[
        "run",
        "scenarios/sentinel/master-crash-failover.toml",
        "--trace",
        "Cargo.toml/trace.jsonl",
    ]);
    o.exits(2).stderr_has(
        "--trace: cannot write the trace, so nothing ran: cannot write Cargo.toml/trace.jsonl",
    );
    assert!(o.stdout.is_empty(), "no run, no summary\n{o}");
    // A trace written over an older one replaces it whole.
    let dir = scratch("trace-whole");
    let f = dir.join("trace.jsonl");
    fs::write(&f, "an older trace, cut mid-li").unwrap();
    let o = redsim(&[
        "run",
        "scenarios/sentinel/master-crash-failover.toml",
        "--format",
        "jsonl",
        "--trace",
        f.to_str().unwrap(),
    ]);
    o.exits(0);
    let text = fs::read_to_string(&f).unwrap();
    assert!(
        text.starts_with("{\"schema\":"),
        "{}",
        &text[..40.min(text.len())]
    );
    assert!(text.ends_with('\n'));
    assert_eq!(
        fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left"
    );
}

/// The README's scenario reference is a scenario file that parses, every
/// table in it (the `[[command]]` included) read as documented.
#[test]
fn the_readme_scenario_reference_parses() {
    let readme = std::fs::read_to_string(super::common::root().join("README.md")).expect("README");
    let from = readme
        .find("## Scenario files")
        .expect("the reference section");
    let start = readme[from..].find("```toml\n").expect("a toml block") + from + 8;
    let end = readme[start..].find("```").expect("the block's end") + start;
    let plan = redsim::scenario::parse("README.md", &readme[start..end])
        .unwrap_or_else(|e| panic!("the README's scenario reference does not parse: {e}"));
    assert_eq!(plan.commands.len(), 1);
    assert_eq!(plan.commands[0].1.argv, ["INFO", "replication"]);
}

/// `redsim bench` measures the three canonical runs, each with the bare
/// loop's rate beside it and their ratio; only how long it spends is the
/// user's to set.
#[test]
fn bench_prints_each_canonical_run_with_its_ratio_to_the_bare_loop() {
    let out = redsim(&["bench", "--seconds", "1ms"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].contains("seeds/min/core") && lines[0].ends_with("ratio"),
        "{}",
        out.stdout
    );
    for (line, name) in lines[1..].iter().zip([
        "sentinel-failover",
        "cluster-failover",
        "steady-replication",
    ]) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[0], name, "{line}");
        let runs: u64 = fields[1].parse().expect("runs");
        let ratio: f64 = fields[6].parse().expect("a ratio");
        assert!(runs >= 1 && ratio > 0.0, "{line}");
    }
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    let bad = redsim(&["bench", "--seconds", "0s"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("between 1us and 10m"), "{}", bad.stderr);
}

// ---------------------------------------------------------------------------
// Version, completions and manual pages, generated from the argument
// definitions.

#[test]
fn version_names_the_package_version() {
    let o = redsim(&["--version"]);
    o.exits(0);
    assert_eq!(
        o.stdout.trim(),
        format!("redsim {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Every shell's script names the subcommands and their options, and
/// bash's parses.
#[test]
fn completion_scripts_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = redsim(&["completions", shell]);
        o.exits(0);
        for word in [
            "explain",
            "fuzz",
            "dashboard",
            "check-determinism",
            "guided",
        ] {
            assert!(o.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    let script = redsim(&["completions", "bash"]).stdout;
    let dir = scratch("completions");
    let path = dir.join("redsim.bash");
    fs::write(&path, script).unwrap();
    let parsed = Command::new("bash").arg("-n").arg(&path).status();
    if let Ok(status) = parsed {
        assert!(status.success(), "bash -n {}", path.display());
    }
    let o = redsim(&["completions", "tcsh"]);
    o.exits(2);
    assert!(o.stderr.contains("possible values"), "{o}");
}

/// `redsim man --dir` writes redsim.1 and a page per subcommand, each with
/// its name, synopsis and options; `redsim man` prints redsim.1.
#[test]
fn manual_pages_are_written_for_every_subcommand() {
    let dir = scratch("man");
    let o = redsim(&["man", "--dir", dir.to_str().unwrap()]);
    o.exits(0);
    let main = fs::read_to_string(dir.join("redsim.1")).unwrap();
    assert!(main.contains(".SH SUBCOMMANDS"), "{main}");
    assert_eq!(redsim(&["man"]).stdout, main);
    for sub in ["run", "check", "explain", "fuzz", "explore", "sweep", "lab"] {
        let page = fs::read_to_string(dir.join(format!("redsim-{sub}.1"))).unwrap();
        assert!(page.contains(&format!(".TH redsim-{sub} 1")), "{page}");
        assert!(page.contains(&format!("\\fBredsim {sub}\\fR")), "{page}");
        assert!(page.contains(".SH OPTIONS"), "{page}");
    }
    let run = fs::read_to_string(dir.join("redsim-run.1")).unwrap();
    assert!(run.contains("check\\-determinism"), "{run}");
}

// ---------------------------------------------------------------------------
// --set: one run's change to a scenario, checked as the file is.

/// A shorter down-after-milliseconds makes the Sentinels agree sooner
/// that the killed master is down; the run without it is unchanged.
#[test]
fn set_overrides_a_setting_for_one_run() {
    const FILE: &str = "scenarios/sentinel/master-crash-failover.toml";
    let odown = |args: &[&str]| -> String {
        // The scenario's expectations are about its own timing, so a
        // changed run may fail them (exit 1); it still runs.
        let o = redsim(&[&["run", FILE][..], args].concat());
        assert!(o.code == 0 || o.code == 1, "{o}");
        o.stdout
            .lines()
            .find(|l| l.contains("+odown"))
            .and_then(|l| l.split_whitespace().nth(1))
            .expect("an +odown")
            .to_string()
    };
    let default = odown(&[]);
    let sooner = odown(&["--set", "down-after-milliseconds=2000"]);
    assert!(sooner < default, "{sooner} vs {default}");
    assert_eq!(
        odown(&["--set", "sentinel.down-after-milliseconds=2000"]),
        sooner
    );
    let o = redsim(&["explain", FILE, "--set", "down-after-milliseconds=2000"]);
    o.exits(0);
    assert!(
        o.stdout.contains("down-after-milliseconds = 2,000 ms"),
        "{o}"
    );
}

#[test]
fn a_bad_set_is_bad_input_naming_it() {
    const FILE: &str = "scenarios/sentinel/master-crash-failover.toml";
    let o = redsim(&["run", FILE, "--set", "sentinel.quorom=2"]);
    o.exits(2);
    assert!(o.stdout.is_empty(), "{o}");
    assert!(
        o.stderr.starts_with(&format!(
            "{FILE}: --set sentinel.quorom=2: error: unknown field `quorom`"
        )),
        "{o}"
    );
    assert!(o.stderr.contains("hint: did you mean `quorum`?"), "{o}");
    let o = redsim(&["check", FILE, "--set", "workload.2.rate=5"]);
    o.exits(2);
    assert!(
        o.stderr
            .contains("the scenario has 1 [[workload]], numbered from 1"),
        "{o}"
    );
}

// ---------------------------------------------------------------------------
// Bundled scenarios embedded in the binary: an installed redsim lists and
// runs them from any directory.

#[test]
fn bundled_scenarios_run_and_list_from_any_directory() {
    let elsewhere = scratch("elsewhere");
    let run_in = |dir: &std::path::Path, args: &[&str]| {
        let o = redsim_command()
            .current_dir(dir)
            .args(args)
            .output()
            .expect("runs");
        (
            o.status.code(),
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };
    let name = "interview/how-sentinel-picks-the-new-master";
    let here = run_in(root(), &["run", &format!("scenarios/{name}.toml")]);
    assert_eq!(here.0, Some(0), "{}", here.2);
    for arg in [name.to_string(), format!("scenarios/{name}.toml")] {
        assert_eq!(run_in(&elsewhere, &["run", &arg]), here, "{arg}");
    }
    let listed = run_in(root(), &["list"]);
    assert_eq!(listed.0, Some(0));
    assert!(listed.1.contains("how-sentinel-picks-the-new-master"));
    assert_eq!(run_in(&elsewhere, &["list"]), listed);
    // A name that is close to a bundled one says which.
    let (code, _, err) = run_in(&elsewhere, &["run", &format!("{name}s")]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(&format!("did you mean the bundled scenario `{name}`?")),
        "{err}"
    );
}

/// `redsim new` writes a starting scenario of each kind that `check`
/// passes, under the name asked, and never replaces a file.
#[test]
fn new_writes_starting_scenarios_that_pass() {
    let dir = scratch("new");
    let d = dir.to_str().unwrap();
    for kind in ["sentinel", "cluster", "replication"] {
        let name = format!("mine/{kind}-first");
        let o = redsim(&["new", &name, "--template", kind, "--dir", d]);
        o.exits(0);
        let file = dir.join(format!("{name}.toml"));
        let text = fs::read_to_string(&file).expect("written");
        assert!(text.contains(&format!("name = \"{name}\"")), "{text}");
        redsim(&["check", file.to_str().unwrap()])
            .exits(0)
            .stdout_has("1 passed, 0 failed");
    }
    let o = redsim(&[
        "new",
        "mine/sentinel-first",
        "--template",
        "sentinel",
        "--dir",
        d,
    ]);
    o.exits(2);
    assert!(
        o.stderr.contains("already exists; it is left as it is"),
        "{o}"
    );
    let o = redsim(&["new", "../escape", "--dir", d]);
    o.exits(2);
    assert!(o.stderr.contains("plain name"), "{o}");
    assert!(!dir.join("../escape.toml").exists());
}

/// `run --out DIR` keeps each run in DIR/<scenario>/<seed>-<n>/: the trace
/// as printed and as JSONL, the summary, the verdict and the dashboard
/// page; DIR/latest points at the newest, and standard output is as
/// without --out.
#[test]
fn run_out_keeps_each_run_in_its_own_folder() {
    const FILE: &str = "scenarios/replication/backlog-too-small-full-resync.toml";
    let dir = scratch("store");
    let d = dir.to_str().unwrap();
    let plain = redsim(&["run", FILE]);
    plain.exits(0);
    for n in 1..=2 {
        let o = redsim(&["run", FILE, "--out", d]);
        o.exits(0);
        assert_eq!(o.stdout, plain.stdout);
        let folder = dir.join(format!("replication__backlog-too-small-full-resync/1-{n}"));
        assert!(
            o.stderr.contains(&format!("kept in {}", folder.display())),
            "{o}"
        );
    }
    let latest = dir.join("latest");
    assert_eq!(
        fs::canonicalize(&latest).unwrap(),
        fs::canonicalize(dir.join("replication__backlog-too-small-full-resync/1-2")).unwrap()
    );
    let read = |f: &str| fs::read_to_string(latest.join(f)).unwrap();
    assert_eq!(
        format!("{}\n{}", read("trace.txt"), read("summary.txt")),
        plain.stdout
    );
    let verdict: Value = serde_json::from_str(&read("verdict.json")).unwrap();
    assert_eq!(verdict["passed"], Value::Bool(true));
    assert!(read("trace.jsonl").starts_with("{\"schema\":"));
    assert!(read("dashboard.html").contains("<html"));
    // The plots, the same drawings `run --plots` writes.
    let plots = scratch("store-plots");
    redsim(&["run", FILE, "--plots", plots.to_str().unwrap()]).exits(0);
    for f in ["latency.svg", "latency-quantiles.svg", "throughput.svg"] {
        let kept = read(f);
        assert!(kept.starts_with("<svg"), "{f}");
        assert_eq!(kept, fs::read_to_string(plots.join(f)).unwrap(), "{f}");
    }
    assert!(read("dashboard.html").contains("data-plot=\"latency.svg\""));
}

/// Help is styled on a terminal, and plain with `NO_COLOR` set
/// (no-color.org). util-linux's `script` gives the binary a terminal.
#[test]
#[ignore = "needs script (util-linux)"]
fn no_color_turns_off_the_help_styling_on_a_terminal() {
    let bin = env!("CARGO_BIN_EXE_redsim");
    let help = |no_color: bool| {
        let mut c = std::process::Command::new("script");
        c.args(["-qc", &format!("{bin} run --help"), "/dev/null"]);
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        let out = c.output().expect("script runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(help(false).contains("\u{1b}["), "styled on a terminal");
    let plain = help(true);
    assert!(plain.contains("Usage: redsim run"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "{plain}");
}
