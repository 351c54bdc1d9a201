//! Every kind of log line a simulated Redis server prints and every event a
//! simulated Sentinel publishes: the names a coverage report counts, and
//! lists when no run printed them. `log_lines.txt` is read from the
//! model's source by a test, which fails when the two differ (and rewrites
//! the file when `REDSIM_WRITE_CATALOGUE=1` is set).

/// The catalogue, one name a line, sorted.
const LINES: &str = include_str!("log_lines.txt");

/// Every line kind the model can print.
pub fn all() -> impl Iterator<Item = &'static str> {
    LINES.lines().filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// `names.rs`'s constants: `module::NAME` → text (a definition may
    /// run over two lines).
    fn constants(names: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut module = String::new();
        let mut pending: Option<String> = None;
        for line in names.lines().map(str::trim) {
            if let Some(m) = line.strip_prefix("pub mod ") {
                module = m.trim_end_matches(" {").trim().to_string();
                continue;
            }
            let text = match pending.take() {
                Some(start) => format!("{start} {line}"),
                None if line.starts_with("pub const ") => line.to_string(),
                None => continue,
            };
            if !text.ends_with(';') {
                pending = Some(text);
                continue;
            }
            let rest = text.trim_start_matches("pub const ");
            if let Some((name, value)) = rest.split_once(": &str =")
                && let Some(v) = literals(value).into_iter().next()
            {
                out.insert(format!("{module}::{name}"), v);
            }
        }
        out
    }

    /// The string literals in `code`, unescaped.
    fn literals(code: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut chars = code.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                continue;
            }
            let mut text = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            text.push(n);
                        }
                    }
                    '"' => break,
                    _ => text.push(c),
                }
            }
            out.push(text);
        }
        out
    }

    /// The event argument after each `Level::X,` in `code`: a string
    /// literal, a path to a `names` constant, or `if c { "a" } else { "b" }`.
    /// Other arguments (a variable) are not names and are skipped.
    fn events(code: &str, consts: &BTreeMap<String, String>) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = code;
        while let Some(i) = rest.find("Level::") {
            rest = &rest[i + "Level::".len()..];
            let Some(comma) = rest.find(',') else { break };
            let level = &rest[..comma];
            if !level.chars().all(char::is_alphanumeric) {
                continue;
            }
            let arg = rest[comma + 1..].trim_start();
            if arg.starts_with('"') {
                out.extend(literals(arg).into_iter().take(1));
            } else if arg.starts_with("if ")
                && let Some(e) = arg.find("else {")
                && let Some(close) = arg[e..].find('}')
            {
                out.extend(literals(&arg[..e + close]));
            } else if let Some(path) = arg.strip_prefix("names::") {
                let end = path
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(path.len());
                if let Some(v) = consts.get(&path[..end]) {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    /// What the source of the Redis and Sentinel models can print.
    fn scanned() -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let names = std::fs::read_to_string(root.join("trace/names.rs")).expect("names.rs");
        let consts = constants(&names);
        let mut files = Vec::new();
        rust_files(&root.join("redis"), &mut files);
        rust_files(&root.join("sentinel"), &mut files);
        files.sort();
        let mut out = BTreeSet::new();
        for f in files {
            let name = f.file_name().map(|n| n.to_string_lossy().to_string());
            if name.is_some_and(|n| n.contains("test")) {
                continue;
            }
            let code = std::fs::read_to_string(&f).expect("readable");
            // A file's own test module prints nothing the model prints.
            let code = code.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            out.extend(events(code, &consts));
        }
        out
    }

    #[test]
    fn the_catalogue_is_what_the_model_can_print() {
        let scanned = scanned();
        let listed: BTreeSet<String> = super::all().map(str::to_string).collect();
        if scanned != listed && std::env::var_os("REDSIM_WRITE_CATALOGUE").is_some() {
            let text: String = scanned.iter().map(|l| format!("{l}\n")).collect();
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/trace/log_lines.txt");
            std::fs::write(path, text).expect("writable");
            return;
        }
        let missing: Vec<&String> = scanned.difference(&listed).collect();
        let extra: Vec<&String> = listed.difference(&scanned).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "src/trace/log_lines.txt is out of date (rewrite it with \
             REDSIM_WRITE_CATALOGUE=1 cargo test --lib trace::catalogue):\n\
             not listed: {missing:?}\nno longer printed: {extra:?}"
        );
        assert!(listed.len() > 150, "only {} kinds", listed.len());
    }

    #[test]
    fn the_scanner_reads_literals_and_named_constants() {
        let consts = constants("pub mod redis {\n    pub const READY: &str = \"Ready\";\n}");
        let code = r#"ctx.log(Level::Notice, "A \"quoted\" line", x); ctx.log(
            Level::Warning,
            names::redis::READY,
            y);
            ctx.log(level, event, z); Self::emit(ctx, Level::Notice, name, w);
            Self::emit(ctx, Level::Verbose, if plus { "+up" } else { "-up" }, v);"#;
        assert_eq!(
            events(code, &consts),
            ["A \"quoted\" line", "Ready", "+up", "-up"]
        );
        let two_lines =
            "pub mod sentinel {\n    pub const LONG: &str =\n        \"a long one\";\n}";
        assert_eq!(constants(two_lines)["sentinel::LONG"], "a long one");
    }
}
