//! The layers of the house, kept by a test: each top-level module of `src/`
//! may name only the modules listed for it (read from every `crate::` path
//! in its files, comments aside). Simulated time is a leaf; the kernel
//! knows no Redis; the shared
//! floor (`proto`: the wire, slots, keyspace and addresses) knows only the
//! kernel; the model's three kinds of process are siblings above it; the
//! checkers read a view of a run, never the world.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Room → the rooms it may use (itself always allowed).
const RULES: &[(&str, &[&str])] = &[
    // Simulated time and durations: a leaf under everything.
    ("time", &[]),
    ("sim", &["time", "trace"]),
    // The trace stamps events with simulated time, and knows no kernel.
    ("trace", &["time"]),
    ("proto", &["sim", "time"]),
    // What clients saw, read by checkers and tools without the client.
    ("history", &["proto", "sim", "time"]),
    ("redis", &["proto", "sim", "time", "trace"]),
    ("sentinel", &["proto", "sim", "time", "trace"]),
    ("client", &["history", "proto", "sim", "time", "trace"]),
    (
        "check",
        &[
            "history", "proto", "redis", "sentinel", "sim", "time", "trace",
        ],
    ),
    (
        "scenario",
        &[
            "check", "client", "history", "proto", "redis", "sentinel", "sim", "time", "trace",
        ],
    ),
    (
        "world",
        &[
            "check", "client", "history", "proto", "redis", "scenario", "sentinel", "sim", "time",
            "trace",
        ],
    ),
    // Coverage watches a world's processes through the kernel's watcher.
    (
        "coverage",
        &[
            "proto", "redis", "scenario", "sentinel", "sim", "time", "trace", "world",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/redis/cluster/mod.rs` →
/// `redis`, `src/trace.rs` → `trace`).
fn room(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src/");
    let first = rel.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// Every module named right after `crate::` in `code`, including each name
/// in a `crate::{a, b::c}` group.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names only: a nested group's names are below them.
            let mut depth = 0;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.extend(first_ident(&name));
                        name.clear();
                    }
                    _ if depth == 0 => name.push(c),
                    _ => {}
                }
            }
            out.extend(first_ident(&name));
        } else {
            out.extend(first_ident(rest));
        }
    }
    out
}

fn first_ident(s: &str) -> Option<String> {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| s[..end].to_string())
}

/// The code of a file without its `//` comments (doc comments included).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn each_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let from = room(&src, file);
        let Some((_, allowed)) = RULES.iter().find(|(r, _)| *r == from) else {
            continue;
        };
        checked += 1;
        let code = without_comments(&std::fs::read_to_string(file).expect("readable"));
        for to in crate_paths(&code) {
            if to != from && !allowed.contains(&to.as_str()) {
                broken.push(format!(
                    "{} uses crate::{to}, but {from} may use only {allowed:?}",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(checked > 40, "only {checked} files were checked");
    assert!(broken.is_empty(), "layers broken:\n{}", broken.join("\n"));
}

#[test]
fn the_path_reader_finds_grouped_and_plain_paths() {
    let code = "use crate::sim::net::NodeId;\n\
                use crate::{proto::{Msg, Reply}, trace};\n\
                let x = crate::world::World::new(p, 1);";
    let found: Vec<String> = crate_paths(code).into_iter().collect();
    assert_eq!(found, ["proto", "sim", "trace", "world"]);
    assert_eq!(
        without_comments("use a; // crate::world\n/// [`crate::check`]"),
        "use a; \n"
    );
}
