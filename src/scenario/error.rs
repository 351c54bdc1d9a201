//! Errors in scenario files: every one names the file, line and column, what
//! was expected, and a suggestion when a name looks misspelt.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not about a place in the file (e.g. it cannot be read).
            write!(f, "{}: error: {}", self.file, self.message)?;
        } else {
            write!(
                f,
                "{}:{}:{}: error: {}",
                self.file, self.line, self.col, self.message
            )?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Turns byte offsets into 1-based line and column numbers.
pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, col) = self.line_col(span.start);
        ScenarioError {
            file: self.file.to_string(),
            line,
            col,
            message: message.into(),
            hint: None,
        }
    }

    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.chars().count(), |i| before[i + 1..].chars().count())
            + 1;
        (line, col)
    }

    /// Converts a TOML/serde error, adding "did you mean" for unknown keys.
    pub fn from_toml(&self, e: &toml::de::Error) -> ScenarioError {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_string();
        let mut err = self.error(span, message.clone());
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some((name, expected)) = rest.split_once('`')
        {
            let candidates: Vec<&str> = expected
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|s| !s.is_empty())
                .collect();
            err.hint = suggest(name, &candidates).map(|s| format!("did you mean `{s}`?"));
        }
        err
    }
}

/// The closest candidate to a misspelt name, if any is close enough.
pub fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let s = Source {
            file: "x.toml",
            text: "a = 1\nbb = 2\n",
        };
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(6), (2, 1));
        assert_eq!(s.line_col(8), (2, 3));
    }

    #[test]
    fn suggestions_find_near_misses() {
        assert_eq!(
            suggest("repl-backlog-siz", &["repl-backlog-size", "repl-timeout"]),
            Some("repl-backlog-size")
        );
        assert_eq!(suggest("zzz", &["repl-backlog-size"]), None);
    }
}
