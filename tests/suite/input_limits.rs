//! Bad input never hurts: absurd sizes, zero and negative values, huge
//! durations, strange strings, invalid UTF-8, symlink loops and unwritable
//! outputs are refused with exit 2 and `file:line:col: error: ...` (or a
//! message naming the path), before any work starts, and never panic,
//! abort or run away. Fixtures live in tests/fixtures/invalid/.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::common::{Out, location, redsim, root};

fn scratch(name: &str) -> PathBuf {
    super::common::scratch("input_limits", name)
}

/// `redsim run` on an invalid fixture: rejected as bad input before
/// anything runs (see [`super::common::rejects`]), and quickly.
fn rejects(name: &str, needle: &str, message: &str) -> Out {
    let o = super::common::rejects(name, needle, message);
    assert!(
        o.took < Duration::from_secs(10),
        "rejecting took {:?}",
        o.took
    );
    o
}

#[test]
fn cluster_masters_are_at_most_the_slot_count() {
    rejects(
        "cluster-masters-16385",
        "16385\n",
        "at most 16384 (Redis Cluster has 16384 hash slots",
    );
}

#[test]
fn replica_and_sentinel_counts_are_bounded() {
    rejects(
        "replicas-65536",
        "65536\n",
        "replicas = 65536 is out of range: 0 to 999",
    );
    rejects("replicas-10000", "10000\n", "at most 1000 Redis servers");
    rejects(
        "sentinels-65536",
        "65536\n",
        "sentinels = 65536 is out of range: 0 to 100",
    );
    rejects(
        "sentinels-1000",
        "1000\n",
        "grows with the square of their number",
    );
}

#[test]
fn a_client_timeout_of_zero_is_refused() {
    rejects("workload-timeout-zero", "\"0s\"", "at least 1ms");
}

#[test]
fn swarm_ranges_are_valid_at_both_ends() {
    rejects(
        "swarm-replicas-100000",
        "[1, 100000]",
        "`replicas` = 100000, drawn from this range, is invalid",
    );
    rejects(
        "swarm-rate-zero",
        "[0, 100]",
        "`rate` = 0, drawn from this range, is invalid: rate must be a positive",
    );
}

#[test]
fn fuzz_settings_that_fail_every_seed_are_refused_at_parse_time() {
    rejects(
        "fuzz-max-lost-u64-max",
        "18446744073709551615",
        "does not fit a TOML integer",
    );
    rejects(
        "fuzz-max-faults-huge",
        "1000000000",
        "max-faults = 1000000000 is out of range",
    );
}

#[test]
fn durations_are_bounded() {
    rejects("duration-huge", "\"100000h\"", "at most 365 days");
    rejects(
        "duration-over-a-day",
        "\"25h\"",
        "at most 24h of simulated time",
    );
}

#[test]
fn names_and_strings_cannot_be_paths_or_break_lines() {
    rejects("name-path-like", "\"../../x\"", "names become file names");
    rejects("workload-name-newline", "\"app\\n", "contains a line break");
    rejects(
        "workload-name-quote",
        "'app\"x'",
        "without spaces, quotes or backslashes",
    );
}

#[test]
fn rates_events_and_bursts_are_bounded() {
    rejects(
        "workload-rate-negative",
        "-5",
        "rate must be a positive number",
    );
    rejects(
        "workload-rate-huge",
        "1e12",
        "at most 100000 operations per second",
    );
    rejects("event-budget", "\"24h\"", "more than its event budget");
    rejects("max-events-zero", "0\n", "max-events = 0 is out of range");
    rejects(
        "burst-writes-huge",
        "4294967295",
        "writes = 4294967295 is out of range",
    );
    rejects(
        "redis-repl-timeout-huge",
        "9223372036854775807",
        "at most 31536000",
    );
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let path = "tests/fixtures/invalid/not-utf8.toml";
    let o = redsim(&["run", path]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let want = format!("{path}:{}: error: ", location(path, b"\xe9"));
    assert_eq!(want, format!("{path}:4:19: error: "));
    assert!(o.stderr.starts_with(&want), "{}", o.stderr);
    assert!(
        o.stderr.contains("not valid UTF-8: byte 0xe9"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_symlink_loop_is_walked_once() {
    let dir = scratch("loop");
    fs::copy(
        root().join("tests/fixtures/ok/steady.toml"),
        dir.join("steady.toml"),
    )
    .expect("copy");
    std::os::unix::fs::symlink(&dir, dir.join("self")).expect("symlink");
    std::os::unix::fs::symlink(&dir, dir.join("again")).expect("symlink");
    let d = dir.display().to_string();
    let o = redsim(&["list", &d]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout.matches("steady").count(), 1, "{}", o.stdout);
    assert!(o.took < Duration::from_secs(10), "took {:?}", o.took);
    let o = redsim(&["check", &d]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("1 passed"), "{}", o.stdout);
}

#[test]
fn an_unwritable_dashboard_page_is_reported_before_the_run() {
    // The runaway fixture stops with exit 3 once run: exit 2 shows that the
    // destination was checked first.
    let o = redsim(&[
        "dashboard",
        "tests/fixtures/runaway.toml",
        "-o",
        "/nonexistent-dir/page.html",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("/nonexistent-dir/page.html"),
        "{}",
        o.stderr
    );
}

#[test]
fn dashboard_pages_are_written_whole() {
    let dir = scratch("dashboard");
    let page = dir.join("page.html");
    let o = redsim(&[
        "dashboard",
        "tests/fixtures/ok/steady.toml",
        "-o",
        page.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let names: Vec<_> = fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("page.html")]);
    assert!(
        fs::read_to_string(&page)
            .expect("page")
            .trim_end()
            .ends_with("</html>")
    );
}

#[test]
fn an_unwritable_sweep_folder_is_reported_before_the_runs() {
    let dir = scratch("sweep");
    let file = dir.join("a-file");
    fs::write(&file, "x").expect("write");
    let out = file.join("out");
    let o = redsim(&[
        "sweep",
        "tests/fixtures/runaway.toml",
        "--param",
        "rate=10..20",
        "--steps",
        "2",
        "--seeds",
        "1",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("cannot create"), "{}", o.stderr);
    assert!(o.took < Duration::from_secs(10));
}

/// `run --plots` and `--out` into a folder that cannot be made are
/// refused before the run: nothing is printed as if it had run.
#[test]
fn an_unwritable_plots_or_out_folder_is_reported_before_the_run() {
    let dir = scratch("run-plots");
    let file = dir.join("a-file");
    fs::write(&file, "x").expect("write");
    let inside = file.join("plots");
    for flag in ["--plots", "--out"] {
        let o = redsim(&[
            "run",
            "scenarios/replication/backlog-too-small-full-resync.toml",
            flag,
            inside.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(o.code, 2, "{}", o.stderr);
        assert!(
            o.stderr.starts_with(&format!("{flag}: cannot create")),
            "{}",
            o.stderr
        );
        assert!(o.stderr.contains("so nothing ran"), "{}", o.stderr);
        assert!(o.stdout.is_empty(), "{}", o.stdout);
    }
}

#[test]
fn too_many_dashboard_samples_are_refused() {
    let o = redsim(&[
        "dashboard",
        "tests/fixtures/ok/steady.toml",
        "-o",
        "/tmp/never-written.html",
        "--sample-every",
        "1us",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--sample-every"), "{}", o.stderr);
}

#[test]
fn a_scenario_file_larger_than_a_mebibyte_is_refused_unread() {
    let dir = scratch("big");
    let f = dir.join("big.toml");
    let mut text = String::from("name = \"x\"\nduration = \"10s\"\n");
    while text.len() <= 1 << 20 {
        text.push_str("# padding padding padding padding padding padding padding\n");
    }
    fs::write(&f, text).expect("write");
    let p = f.display().to_string();
    let o = redsim(&["run", &p]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.starts_with(&format!("{p}: error: ")),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("larger than 1048576 bytes"),
        "{}",
        o.stderr
    );
}

/// Without `max-events` the budget grows with the scenario: an hour at
/// 10,000 writes/s needs at least 36 million events (the lower bound the
/// parser estimates) and gets ten times that, 360 million, where the old
/// fixed budget of 50 million would have stopped it within minutes (a write
/// costs about 4.5 events: 162 million for the hour); a scenario that sets
/// `max-events` below what it needs is still refused.
#[test]
fn the_event_budget_scales_with_the_scenario_unless_set() {
    let hour = |sim: &str| {
        format!(
            "name = \"long\"\nduration = \"1h\"\n{sim}\n[topology]\nmasters = 1\n\n[[workload]]\ntarget = \"master\"\nrate = 10000\nkeys = 1000\n"
        )
    };
    let plan = redsim::scenario::parse("long.toml", &hour("")).expect("sized to the run");
    assert!(
        (360_000_000..361_000_000).contains(&plan.max_events),
        "{}",
        plan.max_events
    );
    let small =
        redsim::scenario::parse("small.toml", &hour("").replace("1h", "10s")).expect("a short run");
    assert_eq!(small.max_events, 50_000_000, "never below the old default");
    let set = redsim::scenario::parse("set.toml", &hour("[sim]\nmax-events = 30000000\n"));
    let e = set.expect_err("below what it needs").to_string();
    assert!(e.contains("more than its event budget"), "{e}");
}
