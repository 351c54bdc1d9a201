//! `redsim sweep`: byte-identical output for the same arguments (whatever
//! the job count), the expected rows, and the trade-off it is for: a longer
//! down-after-milliseconds means a longer failover.

use std::path::{Path, PathBuf};

use super::common::redsim_command;

fn scratch(name: &str) -> PathBuf {
    super::common::scratch("sweep", name)
}

fn sweep(args: &[&str], out: &Path) -> (i32, String, String) {
    let o = redsim_command()
        .arg("sweep")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("the binary runs");
    let (stdout, stderr) = (
        String::from_utf8(o.stdout).expect("utf-8"),
        String::from_utf8(o.stderr).expect("utf-8"),
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (o.status.code().unwrap_or(-1), stdout, stderr)
}

const SCENARIO: &str = "scenarios/sentinel/master-crash-failover.toml";

#[test]
fn sweep_output_is_deterministic_and_has_one_row_per_run() {
    let a = scratch("sweep-a");
    let b = scratch("sweep-b");
    let args = [
        SCENARIO,
        "--param",
        "down-after-milliseconds=2000..12000",
        "--steps",
        "3",
        "--seeds",
        "2",
    ];
    let (code, stdout, stderr) = sweep(&[&args[..], &["--jobs", "1"]].concat(), &a);
    assert_eq!(code, 0, "{stdout}");
    // Progress on standard error, which is not a terminal here: the last
    // line says every run finished.
    let last = stderr.lines().rfind(|l| l.starts_with("sweep: "));
    assert!(
        last.is_some_and(|l| l.starts_with("sweep: 6/6 runs, ")),
        "{stderr}"
    );
    let (code, _, _) = sweep(&[&args[..], &["--jobs", "3"]].concat(), &b);
    assert_eq!(code, 0);
    for f in ["runs.csv", "summary.csv", "plot.svg"] {
        let x = std::fs::read(a.join(f)).expect("written");
        let y = std::fs::read(b.join(f)).expect("written");
        assert_eq!(x, y, "{f} differs between --jobs 1 and --jobs 3");
    }
    let runs = std::fs::read_to_string(a.join("runs.csv")).unwrap();
    let rows: Vec<Vec<&str>> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 6, "{runs}");
    let keys: Vec<(&str, &str)> = rows.iter().map(|r| (r[1], r[2])).collect();
    assert_eq!(
        keys,
        [
            ("2000", "11"),
            ("2000", "12"),
            ("7000", "11"),
            ("7000", "12"),
            ("12000", "11"),
            ("12000", "12")
        ]
    );
    let summary = std::fs::read_to_string(a.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 4, "{summary}");
    let svg = std::fs::read_to_string(a.join("plot.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("down-after-milliseconds (ms)"));
    for panel in ["unavailability (s)", "seeds that failed over (%)"] {
        assert!(svg.contains(panel), "{panel}");
    }
}

/// Two settings make a grid: min-replicas-max-lag bounds what a master
/// cut off with its client goes on acknowledging (its writes stop once its
/// replicas' acknowledgements are older than the lag), so a shorter lag
/// loses fewer writes and leaves the clients longer without one; the
/// heat maps show both.
#[test]
fn two_settings_sweep_a_grid_into_heat_maps() {
    let out = scratch("sweep-grid");
    let (code, stdout, stderr) = sweep(
        &[
            "scenarios/sentinel/split-brain-min-replicas-bounds-loss.toml",
            "--param",
            "down-after-milliseconds=2000..10000",
            "--param",
            "min-replicas-max-lag=1..30",
            "--steps",
            "2",
            "--seeds",
            "2",
        ],
        &out,
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut r = ::csv::Reader::from_reader(summary.as_bytes());
    let head = r.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<::csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let points: Vec<(&str, &str)> = rows
        .iter()
        .map(|x| (&x[col("value")], &x[col("value2")]))
        .collect();
    assert_eq!(
        points,
        [
            ("2000", "1"),
            ("2000", "30"),
            ("10000", "1"),
            ("10000", "30")
        ]
    );
    let num = |x: &::csv::StringRecord, c: &str| x[col(c)].parse::<f64>().unwrap();
    for pair in rows.chunks(2) {
        // Lag 1 against lag 30, at the same down-after.
        assert!(num(&pair[0], "lost_median") < num(&pair[1], "lost_median"));
        assert!(num(&pair[0], "unavailable_median_s") > num(&pair[1], "unavailable_median_s"));
    }
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 4 * 2);
    let map = std::fs::read_to_string(out.join("heatmap.svg")).unwrap();
    assert!(map.contains("median lost acknowledged writes"));
    assert!(!out.join("plot.svg").exists());
    let (code, _, stderr) = sweep(
        &[SCENARIO, "--param", "quorum=1..2", "--param", "quorum=1..3"],
        &scratch("sweep-twice"),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("the same setting twice"), "{stderr}");
}

#[test]
fn failover_time_grows_with_down_after_milliseconds() {
    let out = scratch("sweep-grows");
    let (code, stdout, _) = sweep(
        &[
            SCENARIO,
            "--param",
            "down-after-milliseconds=1000..20000",
            "--steps",
            "4",
            "--seeds",
            "3",
        ],
        &out,
    );
    assert_eq!(code, 0, "{stdout}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let medians: Vec<f64> = summary
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .nth(4)
                .unwrap()
                .parse()
                .expect("every value fails over")
        })
        .collect();
    assert_eq!(medians.len(), 4);
    for w in medians.windows(2) {
        assert!(w[1] > w[0], "failover medians do not grow: {medians:?}");
    }
    // The failover can never be quicker than down-after-milliseconds.
    assert!(medians[3] > 20.0, "{medians:?}");
}

#[test]
fn bad_sweep_arguments_are_bad_input() {
    let out = scratch("sweep-bad");
    let cases: &[(&[&str], &str)] = &[
        (
            &[SCENARIO, "--param", "down-after-milisecond=1..2"],
            "did you mean `down-after-milliseconds`?",
        ),
        (&[SCENARIO, "--param", "appendonly=1..2"], "cannot be swept"),
        (&[SCENARIO, "--param", "quorum"], "expected KEY=a..b"),
        (&[SCENARIO, "--param", "quorum=3..1"], "is empty"),
        (&[SCENARIO, "--param", "fault.2.at=1s..2s"], "has 1 fault"),
        (
            &[SCENARIO, "--param", "quorum=1..2", "--seeds", "x"],
            "--seeds",
        ),
        (
            &[SCENARIO, "--param", "quorum=0..2"],
            "quorum must be at least 1",
        ),
        (&["missing.toml", "--param", "quorum=1..2"], "missing.toml"),
    ];
    for (args, needle) in cases {
        let (code, _, stderr) = sweep(args, &out);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
