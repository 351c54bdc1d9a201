//! The bundled scenarios, embedded at build time (build.rs), so that an
//! installed redsim lists and runs them from any directory. A file on disk
//! at the path given always wins.

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The bundled scenario a command-line argument names, by its path under
/// scenarios/ with or without that prefix and `.toml`
/// (`interview/how-sentinel-picks-the-new-master`): its name and text.
pub fn find(arg: &str) -> Option<(&'static str, &'static str)> {
    let key = key(arg);
    BUNDLED.iter().find(|(name, _)| *name == key).copied()
}

/// An argument as a bundled name: without `scenarios/` and `.toml`.
fn key(arg: &str) -> &str {
    let key = arg.strip_prefix("scenarios/").unwrap_or(arg);
    key.strip_suffix(".toml").unwrap_or(key)
}

/// The bundled scenario closest to a name that names none, for a hint.
pub fn closest(arg: &str) -> Option<&'static str> {
    let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
    super::error::suggest(key(arg), &names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under scenarios/ is embedded, with its text.
    fn toml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                toml_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }

    #[test]
    fn every_bundled_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files = Vec::new();
        toml_files(&root, &mut files);
        assert_eq!(files.len(), BUNDLED.len());
        for f in files {
            let rel = f.strip_prefix(&root).unwrap().with_extension("");
            let (_, text) = find(&rel.to_string_lossy()).expect("embedded");
            assert_eq!(text, std::fs::read_to_string(&f).unwrap());
        }
    }

    #[test]
    fn names_are_found_with_or_without_prefix_and_extension() {
        let name = "interview/how-sentinel-picks-the-new-master";
        for arg in [
            name.to_string(),
            format!("{name}.toml"),
            format!("scenarios/{name}.toml"),
        ] {
            assert_eq!(find(&arg).map(|(n, _)| n), Some(name), "{arg}");
        }
        assert_eq!(find("interview/nothing"), None);
        assert_eq!(
            closest("interview/how-sentinel-picks-the-new-mastr"),
            Some(name)
        );
    }
}
