//! The three views a fault-injection tool shows for a run, drawn as SVG
//! with plotters: each operation's latency over time coloured by outcome,
//! latency quantiles over time, and throughput over time. Every view
//! shades the fault windows and marks the failover's milestones, so the
//! eye goes from a fault to what the clients saw.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::series::{Class, Point, Quantiles, Rate, Span};
use crate::time::Micros;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 300;
const FONT: &str = "sans-serif";

/// At most this many operations that succeeded are drawn one by one;
/// beyond it every n-th is (every other outcome always is), so that an
/// hour at 10,000 operations a second is still a page a browser opens.
pub const MAX_OK_POINTS: usize = 20_000;

/// What every view shares: the run's length, its fault spans and
/// milestones.
pub struct Frame<'a> {
    pub end: Micros,
    pub spans: &'a [Span],
    pub milestones: &'a [(Micros, &'static str)],
}

pub fn colour(c: Class) -> RGBColor {
    match c {
        Class::Ok => RGBColor(37, 99, 235),
        Class::Error => RGBColor(225, 29, 72),
        Class::Indeterminate => RGBColor(245, 158, 11),
        Class::Lost => RGBColor(17, 24, 39),
    }
}

fn secs(t: Micros) -> f64 {
    t as f64 / 1e6
}

/// A latency on the log axis: in µs, at least 1 (plotters labels a log
/// axis from 1 up).
fn us(t: Micros) -> f64 {
    (t as f64).max(1.0)
}

/// A log axis's label: `100µs`, `10ms`, `2s`.
fn latency_label(v: &f64) -> String {
    match *v {
        v if v >= 1e6 => format!("{}s", v / 1e6),
        v if v >= 1e3 => format!("{}ms", v / 1e3),
        v => format!("{v}µs"),
    }
}

type Error = String;

fn err<E: std::fmt::Display>(e: E) -> Error {
    format!("cannot draw the plot: {e}")
}

/// Shades each fault span (a thin bar for an instant) and draws each
/// milestone as a dashed line labelled at the top, over `y` from `lo` to
/// `hi`.
fn backdrop<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    f: &Frame,
    lo: f64,
    hi: f64,
) -> Result<(), Error> {
    let shade = RGBColor(220, 38, 38).mix(0.10).filled();
    let edge = RGBColor(220, 38, 38).mix(0.6);
    let width = secs(f.end) / 400.0;
    chart
        .draw_series(f.spans.iter().map(|s| {
            let to = if s.to > s.from {
                secs(s.to)
            } else {
                secs(s.from) + width
            };
            Rectangle::new([(secs(s.from), lo), (to, hi)], shade)
        }))
        .map_err(err)?;
    chart
        .draw_series(f.spans.iter().map(|s| {
            EmptyElement::at((secs(s.from), hi))
                + Text::new(s.label.clone(), (2, 2), (FONT, 10).into_font().color(&edge))
        }))
        .map_err(err)?;
    let dash = RGBColor(22, 101, 52);
    for (i, (t, label)) in f.milestones.iter().enumerate() {
        let x = secs(*t);
        chart
            .draw_series(DashedLineSeries::new(
                [(x, lo), (x, hi)],
                4,
                3,
                dash.stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, hi))
                    + Text::new(
                        label.to_string(),
                        (3, 14 + 11 * (i as i32 % 3)),
                        (FONT, 10).into_font().color(&dash),
                    ),
            ))
            .map_err(err)?;
    }
    Ok(())
}

/// The series' legend, in the upper right corner.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), Error> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT, 11))
        .draw()
        .map_err(err)
}

/// A log axis from `lo` to `hi` widened to whole powers of ten, at least
/// one decade, so that it always has labelled ticks (simulated latencies
/// are often all alike).
pub fn decades(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return (1.0, 1e6);
    }
    let lo = 10f64.powf((lo / 1.5).log10().floor());
    let hi = 10f64.powf((hi * 1.5).log10().ceil()).max(lo * 10.0);
    (lo, hi)
}

type LatencyChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::combinators::LogCoord<f64>,
    >,
>;

/// A white chart of latency (log scale, from `lo` to `hi` µs) against
/// seconds of the run, its axes drawn.
fn latency_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    x_desc: &str,
    end: Micros,
    (lo, hi): (f64, f64),
) -> Result<LatencyChart<'a, 'b>, Error> {
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 15))
        .margin(10)
        .margin_right(28)
        .x_label_area_size(32)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..secs(end).max(0.001), (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("latency")
        .y_label_formatter(&latency_label)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

fn area(svg: &mut String) -> DrawingArea<SVGBackend<'_>, Shift> {
    SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area()
}

/// Each operation at the time it was sent, at the height of its latency
/// (log scale), coloured by how it ended.
pub fn latency(points: &[Point], f: &Frame) -> Result<String, Error> {
    let ok = points.iter().filter(|p| p.class == Class::Ok).count();
    let every = ok.div_ceil(MAX_OK_POINTS).max(1);
    let (lo, hi) = points.iter().fold((f64::MAX, 0f64), |(lo, hi), p| {
        let l = us(p.latency);
        (lo.min(l), hi.max(l))
    });
    let (lo, hi) = decades(lo, hi);
    let caption = if every > 1 {
        format!("Latency of each operation (1 in {every} ok ones drawn)")
    } else {
        "Latency of each operation".to_string()
    };
    let mut svg = String::new();
    {
        let root = area(&mut svg);
        let mut chart = latency_chart(
            &root,
            &caption,
            "time the operation was sent (s)",
            f.end,
            (lo, hi),
        )?;
        backdrop(&mut chart, f, lo, hi)?;
        for class in Class::ALL {
            let style = colour(class);
            let mut n = 0usize;
            let chosen = points.iter().filter(|p| p.class == class).filter(|_| {
                n += 1;
                class != Class::Ok || (n - 1).is_multiple_of(every)
            });
            let at = |p: &Point| (secs(p.invoked), us(p.latency));
            let series = if class == Class::Lost {
                chart.draw_series(chosen.map(|p| Cross::new(at(p), 4, style.stroke_width(2))))
            } else {
                chart.draw_series(chosen.map(|p| Circle::new(at(p), 2, style.mix(0.7).filled())))
            }
            .map_err(err)?;
            series
                .label(class.label())
                .legend(move |(x, y)| Circle::new((x + 5, y), 3, style.filled()));
        }
        legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// p50, p95, p99 and the maximum latency of the operations that succeeded
/// in each bucket (log scale).
pub fn quantiles(rows: &[Quantiles], bucket: Micros, f: &Frame) -> Result<String, Error> {
    let (lo, hi) = rows.iter().fold((f64::MAX, 0f64), |(lo, hi), (_, q)| {
        (lo.min(us(q[0])), hi.max(us(q[3])))
    });
    let (lo, hi) = decades(lo, hi);
    let mut svg = String::new();
    {
        let root = area(&mut svg);
        let caption = format!(
            "Latency quantiles of successful operations, per {} s",
            secs(bucket)
        );
        let mut chart = latency_chart(
            &root,
            &caption,
            "time the operation completed (s)",
            f.end,
            (lo, hi),
        )?;
        backdrop(&mut chart, f, lo, hi)?;
        let lines: [(&str, RGBColor); 4] = [
            ("p50", RGBColor(37, 99, 235)),
            ("p95", RGBColor(124, 58, 237)),
            ("p99", RGBColor(219, 39, 119)),
            ("max", RGBColor(75, 85, 99)),
        ];
        for (i, (name, c)) in lines.into_iter().enumerate() {
            let mid = |t: Micros| secs(t) + secs(bucket) / 2.0;
            chart
                .draw_series(LineSeries::new(
                    rows.iter().map(|(t, q)| (mid(*t), us(q[i]))),
                    c.stroke_width(if i == 3 { 1 } else { 2 }),
                ))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], c.stroke_width(2)));
        }
        legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Operations per second in each bucket: succeeded, failed with an error,
/// and ended indeterminate.
pub fn throughput(rows: &[Rate], bucket: Micros, f: &Frame) -> Result<String, Error> {
    let hi = rows
        .iter()
        .flat_map(|(_, r)| r.iter().copied())
        .fold(1f64, f64::max)
        * 1.15;
    let mut svg = String::new();
    {
        let root = area(&mut svg);
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("Throughput, per {} s", secs(bucket)), (FONT, 15))
            .margin(10)
            .margin_right(28)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..secs(f.end).max(0.001), 0f64..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time the operation completed (s)")
            .y_desc("operations per second")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        backdrop(&mut chart, f, 0.0, hi)?;
        for (i, class) in [Class::Ok, Class::Error, Class::Indeterminate]
            .into_iter()
            .enumerate()
        {
            let c = colour(class);
            chart
                .draw_series(LineSeries::new(
                    rows.iter()
                        .map(|(t, r)| (secs(*t) + secs(bucket) / 2.0, r[i])),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(class.label())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], c.stroke_width(2)));
        }
        legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(invoked: Micros, latency: Micros, class: Class) -> Point {
        Point {
            invoked,
            latency,
            class,
        }
    }

    const FRAME: Frame<'static> = Frame {
        end: 10_000_000,
        spans: &[],
        milestones: &[],
    };

    #[test]
    fn a_log_axis_spans_whole_decades_with_room() {
        // 400µs..2ms (with half again of room) spans 100µs..10ms.
        assert_eq!(decades(400.0, 2_000.0), (100.0, 10_000.0));
        // One value alike everywhere still gets a decade of its own.
        assert_eq!(decades(500.0, 500.0), (100.0, 1_000.0));
        // A timeout of exactly 1 s is drawn below the top, not on it.
        assert_eq!(decades(500.0, 1e6), (100.0, 1e7));
        assert_eq!(decades(f64::MAX, 0.0), (1.0, 1e6));
    }

    #[test]
    fn latency_labels_read_as_times() {
        assert_eq!(latency_label(&100.0), "100µs");
        assert_eq!(latency_label(&10_000.0), "10ms");
        assert_eq!(latency_label(&2e6), "2s");
    }

    /// Each operation is one mark: a dot by outcome, a cross for a lost
    /// write (two strokes), besides the legend's four dots.
    #[test]
    fn every_operation_is_drawn_once() {
        let without = [
            p(1_000_000, 500, Class::Ok),
            p(2_000_000, 600, Class::Ok),
            p(3_000_000, 400, Class::Error),
            p(4_000_000, 1_000_000, Class::Indeterminate),
        ];
        let mut with = without.to_vec();
        with.extend([
            p(5_000_000, 500, Class::Lost),
            p(6_000_000, 500, Class::Lost),
        ]);
        let a = latency(&without, &FRAME).unwrap();
        let b = latency(&with, &FRAME).unwrap();
        assert_eq!(a.matches("<circle").count(), 4 + 4);
        assert_eq!(b.matches("<circle").count(), 4 + 4);
        assert_eq!(
            b.matches("<line").count() - a.matches("<line").count(),
            2 * 2
        );
        assert!(a.contains("timeout or connection lost"));
    }

    #[test]
    fn a_long_history_draws_a_share_of_its_successes_and_every_failure() {
        let mut pts: Vec<Point> = (0..50_000).map(|i| p(i * 100, 500, Class::Ok)).collect();
        pts.push(p(1_000, 900, Class::Error));
        let svg = latency(&pts, &FRAME).unwrap();
        // 1 in ceil(50,000 / 20,000) = 3: 16,667 successes, the error, the
        // legend's four.
        assert_eq!(svg.matches("<circle").count(), 16_667 + 1 + 4);
        assert!(svg.contains("1 in 3 ok ones drawn"));
    }

    #[test]
    fn faults_and_milestones_are_on_every_view() {
        let spans = [Span {
            from: 2_000_000,
            to: 6_000_000,
            label: "kill master".into(),
        }];
        let milestones = [(4_000_000, "+switch-master")];
        let f = Frame {
            end: 10_000_000,
            spans: &spans,
            milestones: &milestones,
        };
        let pts = [p(1_000_000, 500, Class::Ok)];
        let views = |f: &Frame| {
            [
                latency(&pts, f).unwrap(),
                quantiles(&[(0, [500, 500, 500, 500])], 1_000_000, f).unwrap(),
                throughput(&[(0, [1.0, 0.0, 0.0])], 1_000_000, f).unwrap(),
            ]
        };
        for (with, without) in views(&f).iter().zip(views(&FRAME).iter()) {
            assert!(with.contains("kill master") && with.contains("+switch-master"));
            assert!(!without.contains("kill master"));
            // The shaded window is one more rectangle; the milestone's
            // dashes are more strokes.
            let count = |svg: &str, tag: &str| svg.matches(tag).count();
            assert_eq!(count(with, "<rect"), count(without, "<rect") + 1);
            assert!(count(with, "stroke=\"#166534\"") > 10, "the dashes");
            assert_eq!(count(without, "stroke=\"#166534\""), 0);
        }
    }
}
