//! A campaign spread over machines: the seeds a shard runs (with its index
//! read from the environment a batch engine sets), seeds derived from a
//! text such as a commit id so that every CI run explores new ground, and
//! the corpus of failing schedules that later runs check first, so a fixed
//! bug stays fixed.

use std::path::{Path, PathBuf};

use super::{MAX_SEEDS, Seeds, text_hash};

/// Where a shard's index can come from, in the order they are read:
/// redsim's own, a Kubernetes Indexed Job's, a Slurm job array's.
pub const INDEX_VARIABLES: [&str; 3] = [
    "REDSIM_SHARD_INDEX",
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
];

/// Where the number of shards can come from when `--shard env` gives none.
pub const COUNT_VARIABLES: [&str; 2] = ["REDSIM_SHARD_COUNT", "SLURM_ARRAY_TASK_COUNT"];

/// The seeds `--seeds` and `--shard` name. `--seeds a..b` is a range;
/// `--seeds @TEXT:N` is N seeds from a start derived from TEXT (a commit
/// id: each commit explores new seeds, and the summary names the range).
/// `--shard i/n` is shard i of n; `--shard env/n` or `--shard env` reads
/// the index (and the count) from `env`.
pub fn seeds(
    spec: &str,
    shard: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Seeds, String> {
    let (a, b) = match spec.strip_prefix('@') {
        Some(derived) => derived_range(derived)?,
        None => spec
            .split_once("..")
            .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
            .ok_or_else(|| {
                format!(
                    "--seeds: expected a range like 0..1000 (of numbers from 0 to {}), or @TEXT:COUNT (seeds derived from a commit id), got `{spec}`",
                    u64::MAX
                )
            })?,
    };
    if b < a {
        return Err(format!(
            "--seeds {spec}: the range is backwards (the end is excluded: 0..100 runs seeds 0 to 99)"
        ));
    }
    let shard = shard.map(|s| shard_of(s, env)).transpose()?;
    let set = Seeds {
        start: a,
        end: b,
        shard,
    };
    if b > i64::MAX as u64 + 1 {
        return Err(format!(
            "--seeds {spec}: seeds go up to {} (a reproducing scenario names its seed as a TOML integer)",
            i64::MAX
        ));
    }
    if set.len() > MAX_SEEDS {
        return Err(format!(
            "--seeds {spec}: {} seeds is more than one sweep takes (at most {MAX_SEEDS}): at some seeds a second per core it would never finish; split it with --shard i/n or bound it with --budget TIME",
            set.len(),
        ));
    }
    Ok(set)
}

/// `TEXT:COUNT` → a range of COUNT seeds starting at a point fixed by
/// TEXT (FNV-1a, below 2^62 so that any count fits).
fn derived_range(derived: &str) -> Result<(u64, u64), String> {
    let (text, count) = derived.rsplit_once(':').ok_or_else(|| {
        format!("--seeds @{derived}: expected @TEXT:COUNT, as in @$GITHUB_SHA:1000")
    })?;
    if text.is_empty() {
        return Err("--seeds @:COUNT: the text is empty (is the commit id variable set?)".into());
    }
    let count: u64 = count
        .parse()
        .map_err(|_| format!("--seeds @{derived}: `{count}` is not a number of seeds"))?;
    let h = u64::from_str_radix(&text_hash(text), 16).expect("a 64-bit hex hash");
    let start = h >> 2;
    Ok((start, start + count))
}

/// `i/n`, `env/n` or `env` → (i, n), with 0 <= i < n.
fn shard_of(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(u64, u64), String> {
    let (index, count) = match s.split_once('/') {
        Some((i, n)) => (i, Some(n)),
        None => (s, None),
    };
    let count = match count {
        Some(n) => n.to_string(),
        None if index == "env" => COUNT_VARIABLES.iter().find_map(|v| env(v)).ok_or_else(|| {
            format!(
                "--shard env: no shard count: write --shard env/N or set {}",
                COUNT_VARIABLES.join(" or ")
            )
        })?,
        None => return Err(format!("--shard: expected i/n, env/n or env, got `{s}`")),
    };
    let n: u64 = count
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            format!("--shard {s}: the shard count `{count}` is not a positive number")
        })?;
    let i: u64 = if index == "env" {
        let (var, value) = INDEX_VARIABLES
            .iter()
            .find_map(|v| env(v).map(|x| (*v, x)))
            .ok_or_else(|| {
                format!(
                    "--shard {s}: none of {} is set (a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX, a Slurm array SLURM_ARRAY_TASK_ID; elsewhere set REDSIM_SHARD_INDEX)",
                    INDEX_VARIABLES.join(", ")
                )
            })?;
        let raw: u64 = value
            .trim()
            .parse()
            .map_err(|_| format!("--shard {s}: {var}=`{value}` is not a shard index"))?;
        // A Slurm array may start at 1 (--array=1-8): count from its first.
        let first = match var {
            "SLURM_ARRAY_TASK_ID" => env("SLURM_ARRAY_TASK_MIN")
                .and_then(|m| m.trim().parse::<u64>().ok())
                .unwrap_or(0),
            _ => 0,
        };
        raw.checked_sub(first).ok_or_else(|| {
            format!("--shard {s}: {var}={raw} is below SLURM_ARRAY_TASK_MIN={first}")
        })?
    } else {
        index
            .parse()
            .map_err(|_| format!("--shard: expected i/n with 0 <= i < n, got `{s}`"))?
    };
    if i >= n {
        return Err(format!(
            "--shard {s}: shard index {i} is not below the shard count {n}"
        ));
    }
    Ok((i, n))
}

/// What re-running a corpus of reproducing scenarios found.
#[derive(Debug, Default, PartialEq)]
pub struct Recheck {
    /// Scenarios whose expectation still fails: the bug is still there.
    pub failing: Vec<(PathBuf, String)>,
    /// Scenarios that now pass: the bug is fixed (and stays checked).
    pub passing: Vec<PathBuf>,
}

/// Runs every `*.toml` in `dir` (the reproducing scenarios earlier sweeps
/// wrote), in name order, as `redsim run` would.
pub fn recheck(dir: &Path) -> Result<Recheck, String> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    files.sort();
    let mut out = Recheck::default();
    for f in files {
        let plan = crate::scenario::load(&f).map_err(|e| e.to_string())?;
        let run = crate::world::run(&plan, plan.seed)
            .map_err(|e| format!("{}: the run stopped: {e}", f.display()))?;
        match run.verdicts.iter().find(|v| !v.holds) {
            Some(v) => out
                .failing
                .push((f, format!("{} (observed: {})", v.description, v.observed))),
            None => out.passing.push(f),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_shard_reads_its_index_from_the_engines_variable() {
        let none = env(&[]);
        assert_eq!(shard_of("2/8", &none), Ok((2, 8)));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
        assert_eq!(shard_of("env/4", &k8s), Ok((3, 4)));
        // redsim's own variable first.
        let both = env(&[("JOB_COMPLETION_INDEX", "3"), ("REDSIM_SHARD_INDEX", "1")]);
        assert_eq!(shard_of("env/4", &both), Ok((1, 4)));
        // A Slurm array --array=1-8 counts from 1, and gives the count.
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "8"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(shard_of("env", &slurm), Ok((7, 8)));
        let e = shard_of("env/4", &none).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX"), "{e}");
        let e = shard_of("env", &k8s).unwrap_err();
        assert!(e.contains("no shard count"), "{e}");
        let e = shard_of("env/2", &k8s).unwrap_err();
        assert!(
            e.contains("shard index 3 is not below the shard count 2"),
            "{e}"
        );
        let bad = env(&[("REDSIM_SHARD_INDEX", "x")]);
        assert!(shard_of("env/2", &bad).unwrap_err().contains("`x`"));
        assert!(shard_of("1/0", &none).is_err());
    }

    #[test]
    fn seeds_derived_from_a_commit_id_are_fixed_by_it_and_differ_between_commits() {
        let none = env(&[]);
        let a = seeds("@4f2c9e1:1000", None, &none).expect("derived");
        let again = seeds("@4f2c9e1:1000", None, &none).expect("derived");
        let b = seeds("@9d0e3b7:1000", None, &none).expect("derived");
        assert_eq!((a.start, a.end), (again.start, again.end));
        assert_eq!(a.end - a.start, 1000);
        assert_ne!(a.start, b.start);
        assert!(a.end <= i64::MAX as u64 + 1);
        assert!(seeds("@:10", None, &none).unwrap_err().contains("empty"));
        assert!(
            seeds("@abc", None, &none)
                .unwrap_err()
                .contains("@TEXT:COUNT")
        );
        assert!(seeds("@abc:x", None, &none).unwrap_err().contains("`x`"));
        let sharded = seeds("@4f2c9e1:1000", Some("1/4"), &none).expect("sharded");
        assert_eq!(sharded.len(), 250);
    }
}
