//! A hand-written SVG of a sweep: four panels sharing the x axis (the
//! swept setting) — failover time, lost acknowledged writes, the longest
//! time without an acknowledged write, and the share of seeds that failed
//! over — each with the median as a line, the interquartile range as a dark band and
//! min–max as a light band. No dependencies; numbers are printed with fixed
//! decimals so the file is byte-identical for the same sweep.

use std::fmt::Write as _;

use super::Param;
use super::stats::{Spread, Summary};

const W: f64 = 760.0;
const PANEL_H: f64 = 250.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 80.0;
const GAP: f64 = 70.0;
/// Failover time, lost writes, unavailability, and the share of seeds
/// that failed over.
const PANELS: usize = 4;

struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    fn pos(&self, v: f64, from: f64, to: f64) -> f64 {
        let f = if self.hi <= self.lo {
            0.5
        } else if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        from + (to - from) * f
    }
}

/// Tick positions at 1, 2 or 5 times a power of ten, about `n` of them.
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// Ticks of a logarithmic axis: 1, 2 and 5 times each power of ten.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut p = 10f64.powf(lo.log10().floor());
    while p <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = p * m;
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
        p *= 10.0;
    }
    out
}

fn label(v: f64) -> String {
    if v == v.round() && v.abs() < 1e15 {
        let n = v as i64;
        if n.abs() >= 1000 && n % 1000 == 0 {
            format!("{}k", n / 1000)
        } else {
            n.to_string()
        }
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_string()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The plot of a sweep.
pub fn plot(title: &str, p: &Param, sums: &[Summary], seeds: usize, log: bool) -> String {
    let h = TOP + PANELS as f64 * PANEL_H + (PANELS - 1) as f64 * GAP + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {W:.0} {h:.0}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        s,
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{:.1}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n\
         <text x=\"{:.1}\" y=\"42\" text-anchor=\"middle\" fill=\"#555\">median (line), \
         interquartile range (dark band), min–max (light band) over {seeds} seed(s) per value</text>",
        W / 2.0,
        esc(title),
        W / 2.0
    );
    let xs: Vec<f64> = sums.iter().map(|x| p.plotted(x.value)).collect();
    let (lo, hi) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let x = Axis {
        lo: if sums.is_empty() { 0.0 } else { lo },
        hi: if sums.is_empty() { 1.0 } else { hi },
        log,
    };
    let unit = match p.unit() {
        "" => String::new(),
        u => format!(" ({u})"),
    };
    let xlabel = format!("{}{unit}", p.key);
    // The share of seeds that failed over is one number per value: a
    // spread with no width.
    let share = |x: &Summary| {
        x.failover_share().map(|f| {
            let pct = 100.0 * f;
            Spread {
                min: pct,
                q1: pct,
                median: pct,
                q3: pct,
                max: pct,
            }
        })
    };
    let panels: [(&str, Vec<Option<Spread>>); PANELS] = [
        (
            "failover time (s): first fault → +switch-master",
            sums.iter().map(|x| x.failover).collect(),
        ),
        (
            "lost acknowledged writes",
            sums.iter().map(|x| x.lost).collect(),
        ),
        (
            "unavailability (s): longest time without an acknowledged write",
            sums.iter().map(|x| x.unavailable).collect(),
        ),
        (
            "seeds that failed over (%)",
            sums.iter().map(share).collect(),
        ),
    ];
    for (k, (name, spreads)) in panels.iter().enumerate() {
        let top = TOP + k as f64 * (PANEL_H + GAP);
        panel(&mut s, &x, &xs, sums, spreads, top, name, &xlabel);
    }
    s.push_str("</svg>\n");
    s
}

#[allow(clippy::too_many_arguments)]
fn panel(
    s: &mut String,
    x: &Axis,
    xs: &[f64],
    sums: &[Summary],
    spreads: &[Option<Spread>],
    top: f64,
    name: &str,
    xlabel: &str,
) {
    let (x0, x1) = (LEFT, W - RIGHT);
    let (y0, y1) = (top + PANEL_H, top);
    let ymax = spreads
        .iter()
        .flatten()
        .map(|sp| sp.max)
        .fold(0.0, f64::max);
    let target = if ymax > 0.0 { ymax * 1.05 } else { 1.0 };
    let mut yt = ticks(0.0, target, 5);
    // The top tick covers the data.
    if let [.., a, b] = yt[..]
        && b < target
    {
        yt.push(b + (b - a));
    }
    let y = Axis {
        lo: 0.0,
        hi: yt.last().copied().unwrap_or(1.0).max(ymax).max(1e-9),
        log: false,
    };
    let _ = writeln!(
        s,
        "<text x=\"{x0:.1}\" y=\"{:.1}\" font-size=\"13\">{}</text>",
        y1 - 8.0,
        esc(name)
    );
    // Grid and y ticks.
    for t in &yt {
        let py = y.pos(*t, y0, y1);
        let _ = writeln!(
            s,
            "<line x1=\"{x0:.1}\" y1=\"{py:.1}\" x2=\"{x1:.1}\" y2=\"{py:.1}\" stroke=\"#eee\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x0 - 6.0,
            py + 4.0,
            label(*t)
        );
    }
    let xt = if x.log {
        log_ticks(x.lo, x.hi)
    } else {
        ticks(x.lo, x.hi, 6)
    };
    for t in &xt {
        let px = x.pos(*t, x0, x1);
        let _ = writeln!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{y0:.1}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\n\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y0 + 5.0,
            y0 + 18.0,
            label(*t)
        );
    }
    let _ = writeln!(
        s,
        "<line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x1:.1}\" y2=\"{y0:.1}\" stroke=\"#333\"/>\n\
         <line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x0:.1}\" y2=\"{y1:.1}\" stroke=\"#333\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        (x0 + x1) / 2.0,
        y0 + 36.0,
        esc(xlabel)
    );
    // Bands and the median, one segment per run of values that have data.
    let pts: Vec<Option<(f64, Spread)>> = xs
        .iter()
        .zip(spreads)
        .map(|(v, sp)| sp.map(|sp| (x.pos(*v, x0, x1), sp)))
        .collect();
    for seg in pts.split(|p| p.is_none()).filter(|g| !g.is_empty()) {
        let seg: Vec<(f64, Spread)> = seg.iter().flatten().copied().collect();
        let band = |lo: fn(&Spread) -> f64, hi: fn(&Spread) -> f64| {
            let mut d: Vec<String> = seg
                .iter()
                .map(|(px, sp)| format!("{px:.1},{:.1}", y.pos(hi(sp), y0, y1)))
                .collect();
            d.extend(
                seg.iter()
                    .rev()
                    .map(|(px, sp)| format!("{px:.1},{:.1}", y.pos(lo(sp), y0, y1))),
            );
            d.join(" ")
        };
        let _ = writeln!(
            s,
            "<polygon points=\"{}\" fill=\"#c6dbef\" stroke=\"#c6dbef\"/>\n\
             <polygon points=\"{}\" fill=\"#6baed6\" stroke=\"#6baed6\"/>",
            band(|sp| sp.min, |sp| sp.max),
            band(|sp| sp.q1, |sp| sp.q3)
        );
        let line: Vec<String> = seg
            .iter()
            .map(|(px, sp)| format!("{px:.1},{:.1}", y.pos(sp.median, y0, y1)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#08306b\" stroke-width=\"2\"/>",
            line.join(" ")
        );
        for (px, sp) in &seg {
            let _ = writeln!(
                s,
                "<circle cx=\"{px:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#08306b\"/>",
                y.pos(sp.median, y0, y1)
            );
        }
    }
    for ((v, sp), px) in sums.iter().zip(spreads).zip(xs) {
        if sp.is_none() && v.runs > 0 {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#a50f15\">none</text>",
                x.pos(*px, x0, x1),
                y0 - 6.0
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            ticks(1000.0, 30000.0, 6),
            vec![5000.0, 10000.0, 15000.0, 20000.0, 25000.0, 30000.0]
        );
        assert_eq!(
            log_ticks(1.0, 100.0),
            vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
        assert_eq!(label(30000.0), "30k");
        assert_eq!(label(2.5), "2.5");
        assert_eq!(label(5000.0), "5k");
    }
}
