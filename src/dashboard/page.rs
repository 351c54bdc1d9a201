//! Puts the page together: the HTML skeleton, its CSS and JavaScript, the
//! recording as JSON and the space-time diagram, all inline, so the file
//! opens anywhere without a network or a build step.

use super::data::Recording;
use super::spacetime;
use crate::time::Micros;

const TEMPLATE: &str = include_str!("assets/page.html");
const CSS: &str = include_str!("assets/dashboard.css");
const JS: &str = include_str!("assets/dashboard.js");

/// What the space-time panel says for real processes, whose messages no
/// one taps.
const REAL_SPACETIME: &str = "<p class=\"muted\">Real processes: their messages are not tapped, so there is no space-time diagram. The timeline shows what they published and logged, and the node panels what INFO and SENTINEL MASTER said.</p>";

/// The whole page for a recording, with the space-time diagram of `window`.
pub fn html(rec: &Recording, window: (Micros, Micros)) -> String {
    let json = serde_json::to_string(rec).expect("a recording serialises");
    // `<` only occurs inside JSON strings: escaping it keeps `</script>` in
    // a log line from ending the script element.
    let json = json.replace('<', "\\u003c");
    let (title, svg) = if rec.real {
        (
            format!("redsim lab --real: {}", rec.scenario),
            REAL_SPACETIME.to_string(),
        )
    } else {
        (
            format!("redsim: {} (seed {})", rec.scenario, rec.seed),
            spacetime::svg(rec, window, false),
        )
    };
    fill(
        TEMPLATE,
        &[
            ("TITLE", &escape(&title)),
            ("CSS", CSS),
            ("JS", JS),
            ("DATA", &json),
            ("SPACETIME", &svg),
            ("PLOTS", &plots(rec)),
        ],
    )
}

/// The plots panel: a finished run's three drawings, or why there are
/// none yet.
fn plots(rec: &Recording) -> String {
    match &rec.plots {
        Some(p) => p
            .files()
            .iter()
            .map(|(name, svg)| {
                // Inline in HTML an SVG needs no namespace, and the page
                // names no address at all.
                let svg = svg
                    .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
                    .replacen(
                        "<svg ",
                        &format!("<svg class=\"plot\" data-plot=\"{name}\" "),
                        1,
                    );
                format!("<figure>{svg}</figure>")
            })
            .collect(),
        None => "<p class=\"muted\">The plots are drawn when a run ends: <code>redsim dashboard</code> or <code>redsim run --plots DIR</code> on the scenario, or on the session a lab saves.</p>".into(),
    }
}

/// Replaces each `{{NAME}}` of the template in one pass, so text put in
/// never gets replaced again.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| {
            values
                .iter()
                .find(|(k, _)| *k == &after[..end])
                .map(|(_, v)| (end, v))
        }) {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn placeholders_are_filled_once() {
        let out = fill("a{{X}}b{{Y}}c{{Z}}", &[("X", "{{Y}}"), ("Y", "1")]);
        assert_eq!(out, "a{{Y}}b1c{{Z}}");
    }
}
