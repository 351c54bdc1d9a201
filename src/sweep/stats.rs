//! Per-value summaries of a sweep: median, quartiles and extremes.

use super::Row;

/// Median, quartiles and extremes of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

impl Spread {
    /// None for no samples. Quantiles interpolate linearly between ranks.
    pub fn of(samples: &[f64]) -> Option<Spread> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let r = p * (s.len() - 1) as f64;
            let (lo, hi) = (r.floor() as usize, r.ceil() as usize);
            s[lo] + (s[hi] - s[lo]) * (r - lo as f64)
        };
        Some(Spread {
            min: s[0],
            q1: q(0.25),
            median: q(0.5),
            q3: q(0.75),
            max: s[s.len() - 1],
        })
    }
}

/// One value's runs summed up.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub value: f64,
    pub value2: Option<f64>,
    pub runs: usize,
    /// Runs that reached `+switch-master`.
    pub failovers: usize,
    /// Failover time in seconds, over the runs that failed over.
    pub failover: Option<Spread>,
    pub lost: Option<Spread>,
    /// The longest time without an acknowledged write, in seconds, over
    /// the runs that had one.
    pub unavailable: Option<Spread>,
}

impl Summary {
    /// The share of runs that failed over, 0 to 1 (None without runs).
    pub fn failover_share(&self) -> Option<f64> {
        (self.runs > 0).then(|| self.failovers as f64 / self.runs as f64)
    }
}

/// Summaries per point, in the order of `points`.
pub fn summarise(points: &[super::Point], rows: &[Row]) -> Vec<Summary> {
    points
        .iter()
        .map(|&(v, v2)| {
            let runs: Vec<&Row> = rows
                .iter()
                .filter(|r| r.value == v && r.value2 == v2 && r.error.is_none())
                .collect();
            let fo: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.failover)
                .map(|t| t as f64 / 1e6)
                .collect();
            let lost: Vec<f64> = runs.iter().map(|r| r.lost as f64).collect();
            let gaps: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.unavailable)
                .map(|t| t as f64 / 1e6)
                .collect();
            Summary {
                value: v,
                value2: v2,
                runs: runs.len(),
                failovers: fo.len(),
                failover: Spread::of(&fo),
                lost: Spread::of(&lost),
                unavailable: Spread::of(&gaps),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate() {
        let s = Spread::of(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!(
            (s.min, s.q1, s.median, s.q3, s.max),
            (1.0, 2.0, 3.0, 4.0, 5.0)
        );
        let e = Spread::of(&[1.0, 2.0]).unwrap();
        assert_eq!(e.median, 1.5);
        assert_eq!(Spread::of(&[]), None);
    }

    fn row(value: f64, seed: u64, failover: Option<u64>, lost: u64, gap: Option<u64>) -> Row {
        Row {
            value,
            value2: None,
            seed,
            failover,
            odown: None,
            lost,
            acked: 100,
            unavailable: gap,
            full_resyncs: 0,
            error: None,
        }
    }

    /// Worked by hand: value 1 has two runs, one failing over after 2 s
    /// with a 3 s gap and one not failing over with no gap; value 2 has
    /// none.
    #[test]
    fn each_value_counts_its_failovers_and_spreads_its_gaps() {
        let rows = [
            row(1.0, 0, Some(2_000_000), 4, Some(3_000_000)),
            row(1.0, 1, None, 0, None),
        ];
        let s = summarise(&[(1.0, None), (2.0, None)], &rows);
        assert_eq!((s[0].runs, s[0].failovers), (2, 1));
        assert_eq!(s[0].failover_share(), Some(0.5));
        assert_eq!(s[0].unavailable.map(|u| (u.min, u.max)), Some((3.0, 3.0)));
        assert_eq!(s[0].lost.map(|l| l.median), Some(2.0));
        assert_eq!(
            (s[1].runs, s[1].failover_share(), s[1].unavailable),
            (0, None, None)
        );
    }
}
