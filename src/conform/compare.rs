//! Field-by-field comparison of a real signature with the simulator's over
//! several seeds. Exact fields must equal a value the simulator produced
//! (the table says on how many seeds); timings must fall inside the
//! simulator's range over seeds (widened by the slack), and the simulator's
//! median within 20% of the real value, or within the slack of it, over the
//! seeds on which the event happened (the table says on how many).

use crate::time::Micros;

use super::signature::{Signature, Value};

/// One row of the agreement table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub group: &'static str,
    pub field: String,
    pub real: String,
    pub sim: String,
    pub ok: bool,
    pub verdict: String,
}

/// Compares `real` with the simulator's signatures (one per seed), field by
/// field by name; a field one side lacks (an event that never happened
/// there) is shown as absent. `slack` widens the timing range.
pub fn compare(real: &Signature, sims: &[Signature], slack: Micros) -> Vec<Row> {
    let mut names: Vec<(&'static str, &str)> =
        real.iter().map(|f| (f.group, f.name.as_str())).collect();
    for f in sims.iter().flatten() {
        if !names.iter().any(|(_, n)| *n == f.name) {
            names.push((f.group, f.name.as_str()));
        }
    }
    names
        .into_iter()
        .map(|(group, name)| {
            let find = |s: &Signature| s.iter().find(|f| f.name == name).map(|f| f.value.clone());
            let absent = |v: &Option<Value>| v.clone().unwrap_or(Value::Exact("(absent)".into()));
            let sim: Vec<Value> = sims.iter().map(|s| absent(&find(s))).collect();
            let sim: Vec<&Value> = sim.iter().collect();
            let real_v = absent(&find(real));
            let (real_s, sim_s, ok, verdict) = match &real_v {
                Value::Exact(r) => exact(r, &sim),
                Value::Timing(r) => timing(*r, &sim, slack),
            };
            Row {
                group,
                field: name.to_string(),
                real: real_s,
                sim: sim_s,
                ok,
                verdict,
            }
        })
        .collect()
}

fn show(s: &str) -> String {
    if s.is_empty() {
        "(none)".into()
    } else {
        s.to_string()
    }
}

fn exact(real: &str, sim: &[&Value]) -> (String, String, bool, String) {
    let vals: Vec<&str> = sim
        .iter()
        .filter_map(|v| match v {
            Value::Exact(s) => Some(s.as_str()),
            Value::Timing(_) => None,
        })
        .collect();
    let n = vals.len();
    let mut distinct: Vec<(&str, usize)> = Vec::new();
    for v in &vals {
        match distinct.iter_mut().find(|(d, _)| d == v) {
            Some(d) => d.1 += 1,
            None => distinct.push((v, 1)),
        }
    }
    distinct.sort_by_key(|d| std::cmp::Reverse(d.1));
    let matching = vals.iter().filter(|v| **v == real).count();
    let sim_s = match distinct.as_slice() {
        [] => "(no run)".to_string(),
        [(v, _)] => show(v),
        many => many
            .iter()
            .map(|(v, c)| format!("{} [{c}/{n} seeds]", show(v)))
            .collect::<Vec<_>>()
            .join(" ;; "),
    };
    let (ok, verdict) = if matching == n && n > 0 {
        (true, "match".to_string())
    } else if matching > 0 {
        (true, format!("match on {matching}/{n} seeds"))
    } else {
        (false, "DIFFERS".to_string())
    };
    (show(real), sim_s, ok, verdict)
}

fn ms(t: Micros) -> String {
    format!("{:.3}s", t as f64 / 1e6)
}

fn timing(real: Option<Micros>, sim: &[&Value], slack: Micros) -> (String, String, bool, String) {
    let vals: Vec<Option<Micros>> = sim
        .iter()
        .filter_map(|v| match v {
            Value::Timing(t) => Some(*t),
            Value::Exact(_) => None,
        })
        .collect();
    let real_s = real.map_or("never".to_string(), ms);
    if vals.is_empty() {
        return (real_s, "(absent)".into(), false, "DIFFERS".into());
    }
    let mut some: Vec<Micros> = vals.iter().flatten().copied().collect();
    some.sort_unstable();
    if some.is_empty() {
        let ok = real.is_none();
        return (
            real_s,
            "never".into(),
            ok,
            if ok { "match".into() } else { "DIFFERS".into() },
        );
    }
    let (lo, hi) = (some[0], some[some.len() - 1]);
    let median = some[some.len() / 2];
    let sim_s = format!(
        "{}..{} (median {}, {}/{} seeds)",
        ms(lo),
        ms(hi),
        ms(median),
        some.len(),
        vals.len()
    );
    let Some(r) = real else {
        return (real_s, sim_s, false, "DIFFERS".into());
    };
    // As for an exact field, the real run is one draw: it matches when
    // the seeds on which the event happened produce its time; the seeds
    // on which it never did are counted in the verdict.
    let on_some =
        (some.len() < vals.len()).then(|| format!(" on {}/{} seeds", some.len(), vals.len()));
    let off = (median as f64 - r as f64).abs() / (r.max(1) as f64);
    // 20% of a timing under a second or so is less than the host's own
    // noise: there, a median within the slack is as close as can be asked.
    let median_ok = off <= 0.20 || median.abs_diff(r) <= slack;
    let in_range = (lo..=hi).contains(&r);
    let in_slack = (lo.saturating_sub(slack)..=hi + slack).contains(&r);
    let on_some = on_some.unwrap_or_default();
    let verdict = match (in_range, in_slack, median_ok) {
        (true, _, true) => format!("match{on_some}"),
        (false, true, true) => format!("match{on_some} within {} slack", ms(slack)),
        (_, false, _) => "OUT OF RANGE".to_string(),
        (_, true, false) => format!("MEDIAN OFF by {:.0}%", off * 100.0),
    };
    (real_s, sim_s, in_slack && median_ok, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::signature::Field;

    fn sig(v: Value) -> Signature {
        vec![Field {
            group: "g",
            name: "f".into(),
            value: v,
        }]
    }

    #[test]
    fn exact_fields_must_equal_a_simulated_value() {
        let real = sig(Value::Exact("a".into()));
        let same = vec![sig(Value::Exact("a".into())); 3];
        let r = compare(&real, &same, 0);
        assert!(r[0].ok);
        assert_eq!(r[0].verdict, "match");
        let mixed = vec![sig(Value::Exact("a".into())), sig(Value::Exact("b".into()))];
        let r = compare(&real, &mixed, 0);
        assert!(r[0].ok);
        assert_eq!(r[0].verdict, "match on 1/2 seeds");
        let other = vec![sig(Value::Exact("b".into()))];
        assert!(!compare(&real, &other, 0)[0].ok);
    }

    #[test]
    fn a_timing_some_seeds_never_reach_is_judged_on_those_that_do() {
        let real = sig(Value::Timing(Some(3_200_000)));
        let sims = vec![
            sig(Value::Timing(Some(3_100_000))),
            sig(Value::Timing(Some(3_300_000))),
            sig(Value::Timing(None)),
        ];
        let r = compare(&real, &sims, 0);
        assert!(r[0].ok);
        assert_eq!(r[0].verdict, "match on 2/3 seeds");
        assert!(r[0].sim.contains("2/3 seeds"), "{}", r[0].sim);
        // Outside those seeds' range it still differs.
        let late = sig(Value::Timing(Some(4_000_000)));
        assert!(!compare(&late, &sims, 0)[0].ok);
        // A real run without the event matches no seed that had it.
        assert!(!compare(&sig(Value::Timing(None)), &sims[..2], 0)[0].ok);
    }

    #[test]
    fn a_field_only_one_side_has_differs() {
        let real = sig(Value::Timing(Some(5)));
        let r = compare(&real, &[Vec::new()], 0);
        assert_eq!(r.len(), 1);
        assert!(!r[0].ok);
        assert_eq!(r[0].sim, "(absent)");
        let r = compare(&Vec::new(), std::slice::from_ref(&real), 0);
        assert_eq!(r.len(), 1);
        assert!(!r[0].ok);
    }

    #[test]
    fn timings_fall_in_the_range_with_the_median_close() {
        let sims: Vec<Signature> = [1_000_000, 1_100_000, 1_200_000]
            .iter()
            .map(|t| sig(Value::Timing(Some(*t))))
            .collect();
        let at = |t| compare(&sig(Value::Timing(Some(t))), &sims, 50_000)[0].clone();
        assert!(at(1_050_000).ok);
        assert!(at(1_240_000).ok, "inside the slack");
        assert_eq!(at(1_240_000).verdict, "match within 0.050s slack");
        assert!(!at(1_300_000).ok, "outside range and slack");
        // In range but the median is more than 20% away.
        let wide: Vec<Signature> = [500_000, 2_000_000, 2_000_000]
            .iter()
            .map(|t| sig(Value::Timing(Some(*t))))
            .collect();
        let r = compare(&sig(Value::Timing(Some(600_000))), &wide, 0);
        assert!(!r[0].ok);
        assert!(r[0].verdict.starts_with("MEDIAN OFF"));
        // A short timing: 50% off the median, but within the slack of it.
        let short: Vec<Signature> = [4_000, 47_000, 61_000]
            .iter()
            .map(|t| sig(Value::Timing(Some(*t))))
            .collect();
        let r = compare(&sig(Value::Timing(Some(24_000))), &short, 25_000);
        assert!(r[0].ok, "{r:?}");
        let r = compare(&sig(Value::Timing(Some(24_000))), &short, 10_000);
        assert!(r[0].verdict.starts_with("MEDIAN OFF"), "{r:?}");
        // Never on both sides agrees; never on one side does not.
        assert!(compare(&sig(Value::Timing(None)), &[sig(Value::Timing(None))], 0)[0].ok);
        assert!(!compare(&sig(Value::Timing(None)), &sims, 0)[0].ok);
    }
}
