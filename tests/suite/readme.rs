//! Every example in the README, extracted and run. Each `sh` block's
//! commands run in order in one scratch directory (with `scenarios/`
//! linked in), as a reader at the top of the repository would type them,
//! and must succeed; a `text` block after one is an excerpt of its last
//! command's output (`...` stands for lines left out) and must appear in
//! it, in order; a `toml` block is a scenario (or a table of one) and must
//! parse, and a whole scenario must pass its expectations. The commands
//! that are not run here are listed in [`NOT_RUN`] with where they are
//! tested, so a new example cannot slip by untested.

use std::path::Path;
use std::process::Command;

use super::common::root;

/// Commands the README shows that this test does not run, and why.
const NOT_RUN: &[(&str, &str)] = &[
    ("cargo test --release", "the command running this test"),
    ("cargo build --release", "what building this test did"),
    (
        "cargo run --release --example mutation_sweep",
        "thousands of mutants; tests/suite/input_mutations.rs runs the sweep on 200",
    ),
    ("apt-get install", "installs packages; CI installs them"),
    (
        "redis-cli",
        "talks to real or lab servers; tests/suite/lab.rs and interop.rs do",
    ),
    (
        "lab-files/start.sh",
        "starts real servers; tests/suite/interop.rs runs the exported scripts",
    ),
    ("lab-files/stop.sh", "as start.sh"),
    (
        "redsim lab",
        "runs in real time until stopped; tests/suite/lab.rs drives it",
    ),
    (
        "redsim conform",
        "needs real Redis; CI runs the whole suite (.ci/run)",
    ),
];

#[derive(Debug)]
struct Block {
    lang: String,
    body: String,
    line: usize,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, l)) = lines.next() {
        let Some(lang) = l.strip_prefix("```") else {
            continue;
        };
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l == "```" {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        out.push(Block {
            lang: lang.trim().to_string(),
            body,
            line: i + 1,
        });
    }
    out
}

/// The commands of an `sh` block: continuations joined, comments cut.
fn commands(body: &str) -> Vec<String> {
    let joined = body.replace("\\\n", " ");
    joined
        .lines()
        .map(|l| match l.find(" #") {
            Some(at) => l[..at].trim(),
            None => l.trim(),
        })
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// A command's redsim arguments, if it runs redsim.
fn redsim_args(cmd: &str) -> Option<Vec<String>> {
    let rest = cmd
        .strip_prefix("cargo run --release -- ")
        .or_else(|| cmd.strip_prefix("redsim "))?;
    Some(rest.split(' ').map(String::from).collect())
}

fn not_run(cmd: &str) -> Option<&'static str> {
    let as_redsim = redsim_args(cmd).map(|a| format!("redsim {}", a.join(" ")));
    NOT_RUN
        .iter()
        .find(|(prefix, _)| {
            cmd.starts_with(prefix) || as_redsim.as_deref().is_some_and(|r| r.starts_with(prefix))
        })
        .map(|(_, why)| *why)
}

/// Whether every line of `excerpt` but `...` appears in `output`, in order.
fn in_order(excerpt: &str, output: &str) -> Result<(), String> {
    let mut rest = output;
    for want in excerpt.lines().filter(|l| l.trim() != "...") {
        match rest.lines().position(|l| l == want) {
            Some(i) => {
                let skip: usize = rest.lines().take(i + 1).map(|l| l.len() + 1).sum();
                rest = &rest[skip.min(rest.len())..];
            }
            None => return Err(format!("not in the output (in order): {want}")),
        }
    }
    Ok(())
}

#[test]
fn every_readme_example_runs_as_shown() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let scratch = tempfile::tempdir().expect("scratch");
    std::os::unix::fs::symlink(root().join("scenarios"), scratch.path().join("scenarios"))
        .expect("link scenarios/");
    let (mut ran, mut excerpts, mut scenarios) = (0, 0, 0);
    // The last command run, with its output, and whether the last `sh`
    // block's last command was not run (its output cannot be checked).
    let mut last: Option<(String, String)> = None;
    let mut last_skipped = false;
    for b in blocks(&readme) {
        let at = format!("README.md:{}", b.line);
        match b.lang.as_str() {
            "sh" => {
                last = None;
                last_skipped = false;
                for cmd in commands(&b.body) {
                    if let Some(_why) = not_run(&cmd) {
                        last_skipped = true;
                        continue;
                    }
                    let args = redsim_args(&cmd).unwrap_or_else(|| {
                        panic!("{at}: `{cmd}` is neither run here nor listed in NOT_RUN")
                    });
                    let out = Command::new(env!("CARGO_BIN_EXE_redsim"))
                        .args(&args)
                        .current_dir(scratch.path())
                        .output()
                        .expect("redsim runs");
                    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                    assert!(
                        out.status.success(),
                        "{at}: `{cmd}` exited {:?}\n{stdout}\n{}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stderr)
                    );
                    ran += 1;
                    last_skipped = false;
                    last = Some((cmd, stdout));
                }
            }
            "text" => {
                let (cmd, output) = last
                    .as_ref()
                    .unwrap_or_else(|| panic!("{at}: an excerpt with no command run before it"));
                in_order(&b.body, output).unwrap_or_else(|e| panic!("{at}: `{cmd}`: {e}"));
                excerpts += 1;
            }
            "toml" => {
                let doc: toml::Table =
                    toml::from_str(&b.body).unwrap_or_else(|e| panic!("{at}: not TOML: {e}"));
                if doc.contains_key("name") {
                    let plan = redsim::scenario::parse(&at, &b.body)
                        .unwrap_or_else(|e| panic!("{at}: {e}"));
                    let run = redsim::world::run(&plan, plan.seed).expect("runs");
                    for v in &run.verdicts {
                        assert!(v.holds, "{at}: {} ({})", v.description, v.observed);
                    }
                    scenarios += 1;
                }
            }
            "" => assert!(
                last_skipped,
                "{at}: an untagged block; tag it `text` after the command it shows the output of"
            ),
            other => panic!("{at}: a `{other}` block: tag examples sh, text or toml"),
        }
    }
    assert!(
        ran >= 15 && excerpts >= 3 && scenarios >= 1,
        "{ran} commands, {excerpts} excerpts, {scenarios} scenarios"
    );
}

#[test]
fn the_extraction_reads_blocks_and_commands_as_written() {
    let text = "a\n```sh\ncargo run --release -- run x.toml \\\n    --seed 2   # why\n# a comment\nredsim list\n```\n```text\nout\n```\n";
    let b = blocks(text);
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].lang.as_str(), b[0].line), ("sh", 2));
    assert_eq!(
        commands(&b[0].body),
        ["cargo run --release -- run x.toml --seed 2", "redsim list"]
    );
    assert_eq!(
        redsim_args("cargo run --release -- run x.toml --seed 2").unwrap(),
        ["run", "x.toml", "--seed", "2"]
    );
    assert!(not_run("cargo run --release -- lab s.toml --http").is_some());
    assert!(not_run("redsim run s.toml").is_none());
    assert_eq!(in_order("b\n...\nd\n", "a\nb\nc\nd\n"), Ok(()));
    assert!(in_order("d\nb\n", "a\nb\nc\nd\n").is_err());
    assert!(Path::new(&root().join("README.md")).exists());
}
