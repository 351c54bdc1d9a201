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
    pub runs: usize,
    /// Runs that reached `+switch-master`.
    pub failovers: usize,
    /// Failover time in seconds, over the runs that failed over.
    pub failover: Option<Spread>,
    pub lost: Option<Spread>,
}

/// Summaries per value, in the order of `values`.
pub fn summarise(values: &[f64], rows: &[Row]) -> Vec<Summary> {
    values
        .iter()
        .map(|&v| {
            let runs: Vec<&Row> = rows
                .iter()
                .filter(|r| r.value == v && r.error.is_none())
                .collect();
            let fo: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.failover)
                .map(|t| t as f64 / 1e6)
                .collect();
            let lost: Vec<f64> = runs.iter().map(|r| r.lost as f64).collect();
            Summary {
                value: v,
                runs: runs.len(),
                failovers: fo.len(),
                failover: Spread::of(&fo),
                lost: Spread::of(&lost),
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
}
