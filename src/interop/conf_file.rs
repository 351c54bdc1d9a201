//! Reading a redis.conf or sentinel.conf as Redis's own loader does
//! (config.c `loadServerConfigFromString()`): one directive per line,
//! arguments split by `sdssplitargs()`, the directive's name matched
//! without regard to case, `#` lines skipped. redsim's own settings,
//! which Redis skips as comments, are read from their
//! [`SIMULATED_ONLY`] lines.

use std::path::{Path, PathBuf};

use crate::conform::topology::SIMULATED_ONLY;
use crate::proto::resp::split_args;

/// The most a configuration file may hold: configuration files are small.
pub const MAX_CONF_BYTES: u64 = 1024 * 1024;

/// One directive: its line, its name in lower case, its arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub line: usize,
    pub name: String,
    pub args: Vec<String>,
    /// Read from a [`SIMULATED_ONLY`] comment.
    pub simulated: bool,
}

/// A configuration file's directives, in order.
#[derive(Clone, Debug)]
pub struct ConfFile {
    pub path: PathBuf,
    pub lines: Vec<Line>,
}

impl ConfFile {
    pub fn read(path: &Path) -> Result<Self, String> {
        use std::io::Read;
        let shown = path.display();
        let f = std::fs::File::open(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
        let mut bytes = Vec::new();
        f.take(MAX_CONF_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{shown}: cannot read: {e}"))?;
        if bytes.len() as u64 > MAX_CONF_BYTES {
            return Err(format!(
                "{shown}: larger than {MAX_CONF_BYTES} bytes (1 MiB); configuration files are small text files"
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{shown}: not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        Self::parse(path, &text)
    }

    /// The directives of `text`, or the first line that cannot be split
    /// (Redis refuses it too: "Unbalanced quotes in configuration line").
    pub fn parse(path: &Path, text: &str) -> Result<Self, String> {
        let mut lines = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let trimmed = raw.trim();
            let (body, simulated) = match trimmed.strip_prefix(SIMULATED_ONLY.trim_end()) {
                Some(rest) => (rest, true),
                None if trimmed.is_empty() || trimmed.starts_with('#') => continue,
                None => (trimmed, false),
            };
            let mut args = split_args(body).ok_or_else(|| {
                format!(
                    "{}:{}:1: unbalanced quotes in configuration line",
                    path.display(),
                    i + 1
                )
            })?;
            if args.is_empty() {
                continue;
            }
            let name = args.remove(0).to_ascii_lowercase();
            lines.push(Line {
                line: i + 1,
                name,
                args,
                simulated,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            lines,
        })
    }

    /// `file:line:1` of a directive, for messages.
    pub fn at(&self, l: &Line) -> String {
        format!("{}:{}:1", self.path.display(), l.line)
    }

    /// A Sentinel's file: it monitors a master.
    pub fn is_sentinel(&self) -> bool {
        self.lines.iter().any(|l| {
            l.name == "sentinel"
                && l.args
                    .first()
                    .is_some_and(|a| a.eq_ignore_ascii_case("monitor"))
        })
    }

    /// The port it listens on (Redis's default 6379 or Sentinel's 26379
    /// when the file sets none).
    pub fn port(&self) -> Result<u16, String> {
        let default = if self.is_sentinel() { 26379 } else { 6379 };
        match self
            .lines
            .iter()
            .rev()
            .find(|l| l.name == "port" && !l.simulated)
        {
            None => Ok(default),
            Some(l) => match l.args.as_slice() {
                [p] => p
                    .parse()
                    .map_err(|_| format!("{}: `port {p}`: expected a port number", self.at(l))),
                _ => Err(format!("{}: `port` takes one number", self.at(l))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_split_as_redis_reads_them() {
        let f = ConfFile::parse(
            Path::new("r.conf"),
            "# a comment\n\n  PORT 7001\nrequirepass \"a b\\x41\"\n# redsim: fork-time-per-gb 5ms\nsave \"\"\n",
        )
        .unwrap();
        let got: Vec<(usize, &str, Vec<&str>, bool)> = f
            .lines
            .iter()
            .map(|l| {
                (
                    l.line,
                    l.name.as_str(),
                    l.args.iter().map(String::as_str).collect(),
                    l.simulated,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (3, "port", vec!["7001"], false),
                (4, "requirepass", vec!["a bA"], false),
                (5, "fork-time-per-gb", vec!["5ms"], true),
                (6, "save", vec![""], false),
            ]
        );
        assert_eq!(f.port(), Ok(7001));
        assert!(!f.is_sentinel());
    }

    #[test]
    fn an_unbalanced_quote_is_located() {
        let e = ConfFile::parse(Path::new("r.conf"), "port 1\nrequirepass \"x\n").unwrap_err();
        assert_eq!(e, "r.conf:2:1: unbalanced quotes in configuration line");
    }

    #[test]
    fn a_sentinel_file_is_known_by_its_monitor_line() {
        let f = ConfFile::parse(
            Path::new("s.conf"),
            "sentinel MONITOR mymaster 127.0.0.1 6379 2\n",
        )
        .unwrap();
        assert!(f.is_sentinel());
        assert_eq!(f.port(), Ok(26379));
    }
}
