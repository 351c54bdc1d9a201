//! The dashboard page in a real browser: headless Chromium loads the page,
//! plays the run to the end (`#autoplay&speed=max`), and the DOM it dumps
//! must show what the simulator computed (the promoted node, the lost
//! writes). The tests that need Chromium are ignored by default, so a plain
//! `cargo test` lists them as skipped; CI installs Chromium and runs them
//! with `--include-ignored`, where a missing Chromium is a failure.
use redsim::check::RunView as _;

use std::path::{Path, PathBuf};
use std::process::Command;

use redsim::dashboard::{self, Options, spacetime};
use redsim::scenario;

use super::common::redsim_command;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDSIM_CHROMIUM").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Chromium; an ignored test run on purpose fails without it.
fn browser() -> PathBuf {
    chromium().expect("this test needs chromium in PATH (apt-get install -y chromium)")
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redsim-dashboard-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The page's DOM after playing the run to the end.
fn played_dom(browser: &Path, page: &Path, profile: &Path) -> String {
    let url = format!("file://{}#autoplay&speed=max", page.display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=30000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

/// The text of the element with this id (no nested elements).
fn text_of(dom: &str, id: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in the DOM"));
    let start = at + dom[at..].find('>').expect("tag ends") + 1;
    let end = start + dom[start..].find('<').expect("element ends");
    dom[start..end].to_string()
}

fn check_scenario(browser: &Path, path: &str, expect_lost: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let plan = scenario::load(&root.join(path)).expect("a bundled scenario");
    // What the simulator says, from a plain run.
    let run = redsim::world::run(&plan, plan.seed).expect("runs");
    let w = &run.world;
    let final_master = w
        .final_node()
        .map(|n| w.names[n].clone())
        .expect("a master");
    let lost = w.lost_writes().len();
    assert_eq!(lost > 0, expect_lost, "{path}: lost writes {lost}");
    let (_, rec) = dashboard::record(&plan, &Options::new(plan.seed)).expect("records");
    let dir = scratch_dir(&plan.name.replace('/', "_"));
    let page = dir.join("page.html");
    let html = dashboard::page::html(&rec, spacetime::default_window(&rec));
    std::fs::write(&page, html).expect("page written");
    let dom = played_dom(browser, &page, &dir.join("profile"));
    assert_eq!(text_of(&dom, "playback-state"), "ended", "{path}");
    // The whole run's unavailability, from World::write_unavailability.
    let shown = text_of(&dom, "unavailable");
    match w.write_unavailability() {
        Some(gap) => assert!(
            shown.contains(&format!("{:.3}", gap.from as f64 / 1e6)),
            "{path}: {shown} for {gap:?}"
        ),
        None => assert_eq!(shown, "none", "{path}"),
    }
    assert_eq!(text_of(&dom, "promoted"), final_master, "{path}");
    assert_eq!(text_of(&dom, "masters"), final_master, "{path}");
    assert_eq!(text_of(&dom, "lost-writes"), lost.to_string(), "{path}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs chromium"]
fn page_plays_a_crash_failover_to_the_end() {
    let browser = browser();
    check_scenario(
        &browser,
        "scenarios/sentinel/master-crash-failover.toml",
        false,
    );
}

#[test]
#[ignore = "needs chromium"]
fn page_plays_a_split_brain_to_the_end() {
    let browser = browser();
    check_scenario(
        &browser,
        "scenarios/sentinel/split-brain-partition-loses-writes.toml",
        true,
    );
}

#[test]
#[ignore = "needs chromium"]
fn page_plays_a_manual_promotion_that_loses_writes() {
    let browser = browser();
    // No Sentinel: the page finds the promotion in the replica's own log.
    check_scenario(
        &browser,
        "scenarios/replication/master-killed-everysec-loses-unreplicated-writes.toml",
        true,
    );
}

#[test]
fn cli_writes_the_page_and_the_diagram() {
    let dir = scratch_dir("cli");
    let (page, svg) = (dir.join("f.html"), dir.join("f.svg"));
    let out = redsim_command()
        .args([
            "dashboard",
            "scenarios/replication/replica-paused-partial-resync.toml",
        ])
        .arg("-o")
        .arg(&page)
        .arg("--svg")
        .arg(&svg)
        .output()
        .expect("redsim runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).expect("page");
    let diagram = std::fs::read_to_string(&svg).expect("svg");
    assert!(html.contains("replication/replica-paused-partial-resync"));
    assert!(diagram.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(diagram.ends_with("</svg>"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_rejects_bad_input_with_exit_code_2() {
    let run = |args: &[&str]| redsim_command().args(args).output().expect("redsim runs");
    let missing = run(&["dashboard", "no/such/scenario.toml", "-o", "x.html"]);
    assert_eq!(missing.status.code(), Some(2));
    let scenario = "scenarios/sentinel/master-crash-failover.toml";
    let no_output = run(&["dashboard", scenario]);
    assert_eq!(no_output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_output.stderr).contains("-o"));
    let bad_window = run(&["dashboard", scenario, "--svg", "x.svg", "--window", "5s"]);
    assert_eq!(bad_window.status.code(), Some(2));
    let backwards = run(&[
        "dashboard",
        scenario,
        "--svg",
        "x.svg",
        "--window",
        "5s..2s",
    ]);
    assert_eq!(backwards.status.code(), Some(2));
    let too_fine = run(&[
        "dashboard",
        scenario,
        "--svg",
        "x.svg",
        "--sample-every",
        "500us",
    ]);
    assert_eq!(too_fine.status.code(), Some(2));
    assert!(!Path::new(env!("CARGO_MANIFEST_DIR")).join("x.svg").exists());
}

#[test]
#[ignore = "needs chromium"]
fn page_plays_a_cluster_failover_to_the_end() {
    let browser = browser();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = "scenarios/cluster/minority-master-loses-writes.toml";
    let plan = scenario::load(&root.join(path)).expect("a bundled scenario");
    let run = redsim::world::run(&plan, plan.seed).expect("runs");
    let lost = run.world.lost_writes().len();
    assert!(lost > 0, "the minority master's writes are lost");
    let (_, rec) = dashboard::record(&plan, &Options::new(plan.seed)).expect("records");
    let dir = scratch_dir("cluster_minority");
    let page = dir.join("page.html");
    let html = dashboard::page::html(&rec, spacetime::default_window(&rec));
    std::fs::write(&page, html).expect("page written");
    let dom = played_dom(&browser, &page, &dir.join("profile"));
    assert_eq!(text_of(&dom, "playback-state"), "ended");
    assert_eq!(text_of(&dom, "promoted"), "replica-1-1");
    assert_eq!(text_of(&dom, "lost-writes"), lost.to_string());
    // A master per shard is no alarm once the old master stepped down; the
    // milestones are the cluster's own.
    let masters = text_of(&dom, "masters");
    assert_eq!(masters.split(", ").count(), 3, "{masters}");
    assert!(!masters.contains("(!)"), "{masters}");
    let milestones = text_of(&dom, "milestones");
    for step in ["PFAIL +", "FAIL +", "election +", "won +"] {
        assert!(milestones.contains(step), "{milestones}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The plots panel in Chromium: the three drawings are laid out and
/// visible, the latency plot has one dot per operation that did not lose
/// its write (plus the legend's four), and a recorded page shows no live
/// bar. `REDSIM_SCREENSHOT=FILE` also saves the panel (the README's
/// picture).
#[test]
#[ignore = "needs chromium"]
fn page_draws_the_plots_with_every_operation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = "scenarios/sentinel/master-paused-returns-as-replica.toml";
    let plan = scenario::load(&root.join(path)).expect("a bundled scenario");
    let (outcome, rec) = dashboard::record(&plan, &Options::new(plan.seed)).expect("records");
    let w = &outcome.world;
    let lost: Vec<(u32, u32)> = w.lost_writes().iter().map(|l| (l.client, l.seq)).collect();
    let points = redsim::plots::series::points(&w.history(), &lost);
    let dots = points
        .iter()
        .filter(|p| p.class != redsim::plots::series::Class::Lost)
        .count();
    assert!(points.len() > dots, "the scenario loses writes");
    let dir = scratch_dir("plots");
    let page = dir.join("page.html");
    let html = dashboard::page::html(&rec, spacetime::default_window(&rec));
    std::fs::write(&page, html).expect("page written");
    let mut browser = crate::browser::Browser::start();
    let tab = browser.open(&format!("file://{}", page.display()));
    // Parsed to the end (about:blank is complete before the file loads).
    browser.wait_until(
        &tab,
        "document.readyState === 'complete' && !!document.getElementById('spacetime-box')",
        100,
    );
    let plots = browser.eval(
        &tab,
        "[...document.querySelectorAll('#plots-box svg.plot')].map(s => \
           [s.dataset.plot, Math.round(s.getBoundingClientRect().width) > 300])",
    );
    assert_eq!(
        plots,
        serde_json::json!([
            ["latency.svg", true],
            ["latency-quantiles.svg", true],
            ["throughput.svg", true]
        ])
    );
    let drawn = browser.eval(
        &tab,
        "document.querySelector('svg[data-plot=\"latency.svg\"]').querySelectorAll('circle').length",
    );
    assert_eq!(drawn, serde_json::json!(dots + 4));
    let live = browser.eval(
        &tab,
        "getComputedStyle(document.getElementById('live-bar')).display",
    );
    assert_eq!(live, serde_json::json!("none"), "a recording is not live");
    if let Ok(file) = std::env::var("REDSIM_SCREENSHOT") {
        // Below the sticky header.
        browser.eval(
            &tab,
            "scrollTo(0, document.getElementById('plots-panel').getBoundingClientRect().top \
               + scrollY - document.querySelector('header').offsetHeight - 8)",
        );
        std::fs::write(file, browser.screenshot(&tab)).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
