//! The sweep's CSV files: one row per run, and one row per value.

use std::fmt::Write as _;

use super::stats::{Spread, Summary};
use super::{Param, Row};

fn secs(t: Option<u64>) -> String {
    t.map_or(String::new(), |t| format!("{:.3}", t as f64 / 1e6))
}

/// One row per run, sorted by value then seed.
pub fn runs(p: &Param, rows: &[Row]) -> String {
    let mut out = String::from(
        "param,value,seed,failover_s,odown_s,lost_acked_writes,acked_writes,max_unavailability_s,full_resyncs,error\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            p.key,
            p.display(r.value),
            r.seed,
            secs(r.failover),
            secs(r.odown),
            r.lost,
            r.acked,
            secs(r.unavailable),
            r.full_resyncs,
            r.error.as_deref().unwrap_or("").replace([',', '\n'], ";")
        );
    }
    out
}

fn spread(s: &Option<Spread>, digits: usize) -> String {
    match s {
        Some(s) => format!(
            "{:.d$},{:.d$},{:.d$},{:.d$},{:.d$}",
            s.median,
            s.min,
            s.q1,
            s.q3,
            s.max,
            d = digits
        ),
        None => ",,,,".to_string(),
    }
}

/// One row per value: how many runs failed over, and the spreads.
pub fn summary(p: &Param, sums: &[Summary]) -> String {
    let mut out = String::from(
        "param,value,runs,failovers,failover_median_s,failover_min_s,failover_q1_s,failover_q3_s,failover_max_s,\
         lost_median,lost_min,lost_q1,lost_q3,lost_max\n",
    );
    for s in sums {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            p.key,
            p.display(s.value),
            s.runs,
            s.failovers,
            spread(&s.failover, 3),
            spread(&s.lost, 1)
        );
    }
    out
}
