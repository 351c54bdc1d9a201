//! JUnit XML reports (`--junit FILE`) for CI systems that show test
//! results: one `<testsuite>` with a `<testcase>` per scenario, golden file
//! or fuzz failure group.

use std::fmt::Write;

/// One test case: passed, failed (an expectation did not hold) or in
/// error (it could not run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Case {
    pub name: String,
    pub classname: String,
    pub failure: Option<Problem>,
    pub error: Option<Problem>,
    /// Skipped, with the reason.
    pub skipped: Option<String>,
}

/// A failure or error: a one-line message and the full text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Problem {
    pub message: String,
    pub text: String,
}

impl Case {
    pub fn passed(classname: &str, name: &str) -> Case {
        Case {
            name: name.into(),
            classname: classname.into(),
            ..Case::default()
        }
    }

    pub fn failed(classname: &str, name: &str, message: &str, text: &str) -> Case {
        Case {
            failure: Some(Problem {
                message: message.into(),
                text: text.into(),
            }),
            ..Case::passed(classname, name)
        }
    }

    pub fn errored(classname: &str, name: &str, message: &str) -> Case {
        Case {
            error: Some(Problem {
                message: message.into(),
                text: message.into(),
            }),
            ..Case::passed(classname, name)
        }
    }
}

/// The XML document for a suite named `suite`.
pub fn render(suite: &str, cases: &[Case]) -> String {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let errors = cases.iter().filter(|c| c.error.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"redsim\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        cases.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        escape(suite),
        cases.len()
    );
    for c in cases {
        let open = format!(
            "    <testcase name=\"{}\" classname=\"{}\"",
            escape(&c.name),
            escape(&c.classname)
        );
        let problem = |x: &mut String, tag: &str, p: &Problem| {
            let _ = writeln!(
                x,
                "      <{tag} message=\"{}\">{}</{tag}>",
                escape(&p.message),
                escape(&p.text)
            );
        };
        if c.failure.is_none() && c.error.is_none() && c.skipped.is_none() {
            let _ = writeln!(x, "{open}/>");
            continue;
        }
        let _ = writeln!(x, "{open}>");
        if let Some(p) = &c.failure {
            problem(&mut x, "failure", p);
        }
        if let Some(p) = &c.error {
            problem(&mut x, "error", p);
        }
        if let Some(why) = &c.skipped {
            let _ = writeln!(x, "      <skipped message=\"{}\"/>", escape(why));
        }
        let _ = writeln!(x, "    </testcase>");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Escapes text for XML content and attribute values. Characters XML 1.0
/// cannot carry at all (control characters other than tab, newline and
/// carriage return) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}&#10;"
        );
    }

    #[test]
    fn renders_counts_and_cases() {
        let x = render(
            "check",
            &[
                Case::passed("check", "ok.toml"),
                Case::failed("check", "bad <1>.toml", "lost writes", "1 > 0"),
                Case::errored("check", "err.toml", "runaway"),
            ],
        );
        assert!(x.contains("tests=\"3\" failures=\"1\" errors=\"1\""), "{x}");
        assert!(x.contains("<testcase name=\"ok.toml\" classname=\"check\"/>"));
        assert!(x.contains("name=\"bad &lt;1&gt;.toml\""), "{x}");
        assert!(x.contains("<failure message=\"lost writes\">1 &gt; 0</failure>"));
        assert!(x.contains("<error message=\"runaway\">runaway</error>"));
    }
}
