//! `redsim export` and `redsim import`: a bundled scenario exported and
//! imported back runs to the same trace; the exported scripts start a real
//! deployment (a Sentinel one on ports 27100 to 27106 and a cluster on
//! 21110 to 21115, whose bus ports 31110 to 31115 lie below Linux's
//! ephemeral range, so no outgoing connection of another test can hold one;
//! on 127.0.0.1, in a private temporary directory, stopped by the PIDs the
//! script recorded whatever the test's outcome).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::redsim;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Exports `scenario` into `dir` (servers from `port_base`) and imports
/// it back into `dir/../back.toml`.
fn round_trip(scenario: &str, dir: &Path, port_base: u16) -> PathBuf {
    let out = redsim(&[
        "export",
        scenario,
        "--dir",
        s(dir),
        "--port-base",
        &port_base.to_string(),
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("start it with"), "{out}");
    let back = dir.with_file_name("back.toml");
    let _ = std::fs::remove_file(&back);
    let out = redsim(&["import", s(dir), "--out", s(&back)]);
    assert_eq!(out.code, 0, "{out}");
    back
}

fn trace(scenario: &str) -> String {
    let out = redsim(&["run", scenario]);
    assert_eq!(out.code, 0, "{out}");
    out.stdout
}

#[test]
fn an_exported_scenario_imported_back_gives_the_same_trace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for scenario in [
        "interview/how-sentinel-picks-the-new-master",
        "scenarios/replication/backlog-too-small-full-resync.toml",
        "cluster/master-killed-replica-promoted",
    ] {
        let dir = tmp.path().join("export");
        let _ = std::fs::remove_dir_all(&dir);
        let back = round_trip(scenario, &dir, 7000);
        assert_eq!(trace(s(&back)), trace(scenario), "{scenario}");
    }
}

#[test]
fn import_refuses_to_replace_a_file_and_export_a_full_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("export");
    let back = round_trip("interview/how-sentinel-picks-the-new-master", &dir, 7000);
    let out = redsim(&["import", s(&dir), "--out", s(&back)]);
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr.contains("already exists; it is left as it is"),
        "{out}"
    );
    let out = redsim(&[
        "export",
        "cluster/master-killed-replica-promoted",
        "--dir",
        s(&dir),
    ]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("is not empty"), "{out}");
    let out = redsim(&["import", s(tmp.path().join("nothing-here").as_path())]);
    assert_eq!(out.code, 2, "{out}");
}

/// Runs the exported `stop.sh` when dropped, so that a failed assertion
/// leaves no server running.
struct Started<'a>(&'a Path);

impl<'a> Started<'a> {
    fn start(dir: &'a Path) -> Self {
        let out = Command::new(dir.join("start.sh"))
            .output()
            .expect("start.sh runs");
        let started = Started(dir);
        assert!(
            out.status.success(),
            "start.sh: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        started
    }
}

impl Drop for Started<'_> {
    fn drop(&mut self) {
        let _ = Command::new(self.0.join("stop.sh")).output();
    }
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

#[test]
#[ignore = "needs redis-server, redis-sentinel and redis-cli"]
fn the_exported_scripts_start_the_deployment_on_real_redis() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sentinel");
    let scenario = "interview/how-sentinel-picks-the-new-master";
    let port = 27100;
    let before = trace(scenario);
    {
        round_trip(scenario, &dir, port);
        let _up = Started::start(&dir);
        // Three replicas attach; replica-1 keeps its priority of 0; the
        // Sentinels find the master.
        let mut linked = String::new();
        for _ in 0..100 {
            linked = cli(port, &["INFO", "replication"]);
            if linked.contains("connected_slaves:3") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(linked.contains("connected_slaves:3"), "{linked}");
        assert_eq!(
            cli(port + 1, &["CONFIG", "GET", "replica-priority"]),
            "replica-priority\n0\n"
        );
        assert_eq!(
            cli(
                port + 4,
                &["SENTINEL", "get-master-addr-by-name", "mymaster"]
            ),
            format!("127.0.0.1\n{port}\n")
        );
    }
    assert!(!dir.join("pids").exists(), "stop.sh removed its PID file");
    // The real Sentinels rewrote their files (myid, known replicas and
    // Sentinels); imported again, the scenario is still the same.
    let again = tmp.path().join("again.toml");
    let out = redsim(&["import", s(&dir), "--out", s(&again)]);
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stderr.contains("not carried over"), "{out}");
    assert_eq!(trace(s(&again)), before);

    let dir = tmp.path().join("cluster");
    let port = 21110;
    round_trip("cluster/master-killed-replica-promoted", &dir, port);
    let _up = Started::start(&dir);
    let nodes = cli(port, &["CLUSTER", "NODES"]);
    assert_eq!(nodes.matches(" slave ").count(), 3, "{nodes}");
    assert_eq!(nodes.matches(" connected 0-").count(), 1, "{nodes}");
    assert!(cli(port + 5, &["CLUSTER", "INFO"]).contains("cluster_state:ok"));
}

#[test]
#[ignore = "needs shellcheck"]
fn the_exported_scripts_pass_shellcheck() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, scenario) in [
        "interview/how-sentinel-picks-the-new-master",
        "cluster/master-killed-replica-promoted",
    ]
    .iter()
    .enumerate()
    {
        let dir = tmp.path().join(i.to_string());
        round_trip(scenario, &dir, 7000);
        let out = Command::new("shellcheck")
            .arg(dir.join("start.sh"))
            .arg(dir.join("stop.sh"))
            .output()
            .expect("shellcheck runs");
        assert!(
            out.status.success(),
            "{scenario}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
