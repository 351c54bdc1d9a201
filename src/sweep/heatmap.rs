//! The heat maps of a sweep of two settings, drawn with plotters: one
//! cell per pair of values, coloured from white (none) to dark red (the
//! most in the sweep) and labelled with its number, for the median lost
//! acknowledged writes, the median longest time without an acknowledged
//! write, and the share of seeds that failed over.

use plotters::prelude::*;

use super::Param;
use super::stats::Summary;

const WIDTH: u32 = 820;
const PANEL: u32 = 380;
const FONT: &str = "sans-serif";

/// What a panel shows of one point, and how its number is written.
struct Measure {
    title: &'static str,
    of: fn(&Summary) -> Option<f64>,
    digits: usize,
}

const MEASURES: [Measure; 3] = [
    Measure {
        title: "median lost acknowledged writes",
        of: |s| s.lost.map(|l| l.median),
        digits: 1,
    },
    Measure {
        title: "median longest time without an acknowledged write (s)",
        of: |s| s.unavailable.map(|u| u.median),
        digits: 2,
    },
    Measure {
        title: "seeds that failed over (%)",
        of: |s| s.failover_share().map(|f| 100.0 * f),
        digits: 0,
    },
];

/// White for 0, dark red for `max`.
fn heat(v: f64, max: f64) -> RGBColor {
    let f = if max > 0.0 {
        (v / max).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mix = |from: f64, to: f64| (from + (to - from) * f).round() as u8;
    RGBColor(mix(255.0, 165.0), mix(255.0, 15.0), mix(255.0, 21.0))
}

/// The SVG of the heat maps; `sums` holds one summary per pair, the first
/// setting's values outside, the second's inside (as the sweep runs them).
pub fn svg(
    title: &str,
    params: &[Param],
    first: &[f64],
    second: &[f64],
    sums: &[Summary],
    seeds: usize,
) -> Result<String, String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw the heat map: {e}");
    let (p1, p2) = match params {
        [a, b] => (a, b),
        _ => return Err("a heat map needs two settings".into()),
    };
    let (n1, n2) = (first.len(), second.len());
    let cell = |i: usize, j: usize| sums.get(i * n2 + j);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, 40 + PANEL * 3)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let (head, body) = root.split_vertically(40);
        head.titled(&format!("{title} ({seeds} seed(s) per cell)"), (FONT, 15))
            .map_err(|e| err(&e))?;
        for (m, area) in MEASURES.iter().zip(body.split_evenly((3, 1))) {
            let max = sums.iter().filter_map(m.of).fold(0.0, f64::max);
            let mut chart = ChartBuilder::on(&area)
                .caption(m.title, (FONT, 13))
                .margin(8)
                .margin_right(24)
                .x_label_area_size(40)
                .y_label_area_size(80)
                // A segmented 0..n has a segment past n: its last value is n - 1.
                .build_cartesian_2d(
                    (0..n1.max(1) - 1).into_segmented(),
                    (0..n2.max(1) - 1).into_segmented(),
                )
                .map_err(|e| err(&e))?;
            let name = |p: &Param, values: &[f64], v: &SegmentValue<usize>| match v {
                SegmentValue::CenterOf(i) => {
                    values.get(*i).map_or(String::new(), |x| p.display(*x))
                }
                _ => String::new(),
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(p1.key.as_str())
                .y_desc(p2.key.as_str())
                .x_labels(n1)
                .y_labels(n2)
                .x_label_formatter(&|v| name(p1, first, v))
                .y_label_formatter(&|v| name(p2, second, v))
                .label_style((FONT, 10))
                .draw()
                .map_err(|e| err(&e))?;
            let cells: Vec<(usize, usize, Option<f64>)> = (0..n1)
                .flat_map(|i| (0..n2).map(move |j| (i, j)))
                .map(|(i, j)| (i, j, cell(i, j).and_then(m.of)))
                .collect();
            chart
                .draw_series(cells.iter().map(|&(i, j, v)| {
                    let fill = v.map_or(RGBColor(230, 230, 230), |v| heat(v, max));
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(i), SegmentValue::Exact(j)),
                            (SegmentValue::Exact(i + 1), SegmentValue::Exact(j + 1)),
                        ],
                        fill.filled(),
                    )
                }))
                .map_err(|e| err(&e))?;
            chart
                .draw_series(cells.iter().map(|&(i, j, _)| {
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(i), SegmentValue::Exact(j)),
                            (SegmentValue::Exact(i + 1), SegmentValue::Exact(j + 1)),
                        ],
                        RGBColor(200, 200, 200).stroke_width(1),
                    )
                }))
                .map_err(|e| err(&e))?;
            chart
                .draw_series(cells.iter().map(|&(i, j, v)| {
                    let dark = v.is_some_and(|v| max > 0.0 && v / max > 0.55);
                    let text = v.map_or("-".to_string(), |v| format!("{v:.*}", m.digits));
                    Text::new(
                        text,
                        (SegmentValue::CenterOf(i), SegmentValue::CenterOf(j)),
                        (FONT, 10)
                            .into_font()
                            .color(if dark { &WHITE } else { &BLACK })
                            .pos(plotters::style::text_anchor::Pos::new(
                                plotters::style::text_anchor::HPos::Center,
                                plotters::style::text_anchor::VPos::Center,
                            )),
                    )
                }))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::stats::Spread;

    fn spread(v: f64) -> Option<Spread> {
        Some(Spread {
            min: v,
            q1: v,
            median: v,
            q3: v,
            max: v,
        })
    }

    fn sum(value: f64, value2: f64, lost: f64, failovers: usize) -> Summary {
        Summary {
            value,
            value2: Some(value2),
            runs: 4,
            failovers,
            failover: None,
            lost: spread(lost),
            unavailable: spread(lost / 10.0),
        }
    }

    #[test]
    fn colours_run_from_white_to_dark_red() {
        assert_eq!(heat(0.0, 10.0), RGBColor(255, 255, 255));
        assert_eq!(heat(10.0, 10.0), RGBColor(165, 15, 21));
        assert_eq!(heat(3.0, 0.0), RGBColor(255, 255, 255));
    }

    /// A 2 x 3 grid: each panel has six cells, each labelled with its
    /// number, the largest in the darkest red.
    #[test]
    fn every_cell_is_drawn_with_its_number() {
        let params = [
            Param::parse("down-after-milliseconds", 0).unwrap(),
            Param::parse("failover-timeout", 0).unwrap(),
        ];
        let first = [1000.0, 2000.0];
        let second = [10000.0, 20000.0, 30000.0];
        let sums: Vec<Summary> = first
            .iter()
            .flat_map(|&a| second.iter().map(move |&b| (a, b)))
            .enumerate()
            .map(|(k, (a, b))| sum(a, b, k as f64 * 10.0, k % 5))
            .collect();
        let svg = svg("t", &params, &first, &second, &sums, 4).unwrap();
        // The lost-writes panel's numbers: 0.0, 10.0, ..., 50.0.
        for k in 0..6 {
            assert!(
                svg.contains(&format!(">\n{:.1}\n<", k as f64 * 10.0)),
                "{k}"
            );
        }
        // Failover shares: 0, 25, 50, 75, 100, 0 (%).
        assert!(svg.contains(">\n75\n<") && svg.contains(">\n100\n<"));
        assert!(svg.contains("fill=\"#A50F15\""), "the largest is darkest");
        assert_eq!(svg.matches("fill=\"#A50F15\"").count(), 3, "one per panel");
        assert!(svg.contains("down-after-milliseconds") && svg.contains("failover-timeout"));
    }
}
