//! The sweep's CSV files: one row per run, and one row per value, written
//! by the csv crate so that a field holding a comma, a quote or a line
//! break (an error message) is quoted rather than altered.

use super::stats::{Spread, Summary};
use super::{Param, Row};

fn secs(t: Option<u64>) -> String {
    t.map_or(String::new(), |t| format!("{:.3}", t as f64 / 1e6))
}

/// The CSV text of `header` and `rows`.
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let write = || -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.write_record(header)?;
        for r in rows {
            w.write_record(&r)?;
        }
        Ok(w.into_inner()?)
    };
    let bytes = write().expect("CSV into memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// The leading columns naming a row's point: `param`, `value`, and in a
/// sweep of two settings `param2`, `value2`.
fn point_columns(params: &[Param]) -> Vec<&'static str> {
    let mut h = vec!["param", "value"];
    if params.len() > 1 {
        h.extend(["param2", "value2"]);
    }
    h
}

fn point_fields(params: &[Param], value: f64, value2: Option<f64>) -> Vec<String> {
    let mut row = vec![params[0].key.clone(), params[0].display(value)];
    if let (Some(p2), Some(v2)) = (params.get(1), value2) {
        row.extend([p2.key.clone(), p2.display(v2)]);
    }
    row
}

/// One row per run, sorted by value then seed.
pub fn runs(params: &[Param], rows: &[Row]) -> String {
    let mut header = point_columns(params);
    header.extend([
        "seed",
        "failover_s",
        "odown_s",
        "lost_acked_writes",
        "acked_writes",
        "max_unavailability_s",
        "full_resyncs",
        "error",
    ]);
    table(
        &header,
        rows.iter().map(|r| {
            let mut row = point_fields(params, r.value, r.value2);
            row.extend([
                r.seed.to_string(),
                secs(r.failover),
                secs(r.odown),
                r.lost.to_string(),
                r.acked.to_string(),
                secs(r.unavailable),
                r.full_resyncs.to_string(),
                r.error.clone().unwrap_or_default(),
            ]);
            row
        }),
    )
}

/// Median, minimum, quartiles and maximum, or five empty fields.
fn spread(s: &Option<Spread>, digits: usize) -> Vec<String> {
    match s {
        Some(s) => [s.median, s.min, s.q1, s.q3, s.max]
            .iter()
            .map(|v| format!("{v:.digits$}"))
            .collect(),
        None => vec![String::new(); 5],
    }
}

/// One row per point: how many runs failed over, and the spreads.
pub fn summary(params: &[Param], sums: &[Summary]) -> String {
    let mut header = point_columns(params);
    header.extend([
        "runs",
        "failovers",
        "failover_median_s",
        "failover_min_s",
        "failover_q1_s",
        "failover_q3_s",
        "failover_max_s",
        "lost_median",
        "lost_min",
        "lost_q1",
        "lost_q3",
        "lost_max",
        "unavailable_median_s",
        "unavailable_min_s",
        "unavailable_q1_s",
        "unavailable_q3_s",
        "unavailable_max_s",
        "failover_share",
    ]);
    table(
        &header,
        sums.iter().map(|s| {
            let mut row = point_fields(params, s.value, s.value2);
            row.extend([s.runs.to_string(), s.failovers.to_string()]);
            row.extend(spread(&s.failover, 3));
            row.extend(spread(&s.lost, 1));
            row.extend(spread(&s.unavailable, 3));
            row.push(
                s.failover_share()
                    .map_or(String::new(), |f| format!("{f:.3}")),
            );
            row
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error message with a comma, a quote and a line break comes back
    /// from a CSV reader as it was.
    #[test]
    fn an_error_with_commas_and_quotes_survives() {
        let p = Param::parse("down-after-milliseconds", 0).expect("a setting");
        let error = "bad input, line 3:\n  \"x\" expected".to_string();
        let row = Row {
            value: 5000.0,
            value2: None,
            seed: 7,
            failover: Some(1_500_000),
            odown: None,
            lost: 2,
            acked: 10,
            unavailable: None,
            full_resyncs: 1,
            error: Some(error.clone()),
        };
        let text = runs(&[p], &[row]);
        let mut r = ::csv::Reader::from_reader(text.as_bytes());
        let rec = r.records().next().expect("a row").expect("valid CSV");
        assert_eq!(rec.len(), 10);
        assert_eq!(&rec[0], "down-after-milliseconds");
        assert_eq!(&rec[3], "1.500");
        assert_eq!(&rec[4], "");
        assert_eq!(&rec[9], error);
    }
}
