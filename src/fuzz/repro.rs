//! Reproducing scenario files: a failing run written out with every fault
//! spelled out, durations as people write them.

use crate::scenario::Plan;
use crate::time::format_duration;

use super::{Failure, FuzzConfig};

/// The failing run as an explicit scenario file: the original scenario with
/// its seed set, every fault of the shrunk schedule spelled out, and the
/// violated property as an expectation, so `redsim run` reproduces it even
/// after the generator changes.
pub fn repro_toml(
    original: &str,
    plan: &Plan,
    cfg: &FuzzConfig,
    failure: &Failure,
) -> Result<String, String> {
    let original = failure.scenario.as_deref().unwrap_or(original);
    let mut doc: toml::Table = toml::from_str(original).map_err(|e| e.to_string())?;
    let seed = i64::try_from(failure.seed)
        .map_err(|_| format!("seed {} does not fit a TOML integer", failure.seed))?;
    doc.insert("seed".into(), toml::Value::Integer(seed));
    doc.insert(
        "name".into(),
        toml::Value::String(format!("{}/fuzz-seed-{}", plan.name, failure.seed)),
    );
    doc.remove("fuzz");
    let faults = doc
        .entry("fault")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    let toml::Value::Array(list) = faults else {
        return Err("`fault` is not an array of tables".into());
    };
    let names = plan.directory().names;
    for (at, fault) in super::faults(plan, cfg, &failure.schedule) {
        // The parser adds the ends of host faults itself.
        if !fault.added_by_parser() {
            list.push(toml::Value::Table(fault.table(at, &names)));
        }
    }
    let mut expect = toml::Table::new();
    match failure.property.as_str() {
        "no-lost-acked-writes" => {
            expect.insert("lost-acked-writes".into(), "= 0".into());
        }
        "max-lost-acked-writes" => {
            let max = cfg.bounds.max_lost_acked_writes.unwrap_or(0);
            expect.insert("lost-acked-writes".into(), format!("<= {max}").into());
        }
        "max-unavailability" => {
            let max = cfg.bounds.max_unavailability.unwrap_or(0);
            expect.insert("max-unavailability".into(), format_duration(max).into());
        }
        "converges-within" => {
            let at = cfg.faults_stop + cfg.bounds.converges_within.unwrap_or(0);
            expect.insert("at".into(), format_duration(at).into());
            expect.insert("converged".into(), true.into());
        }
        super::NEVER_PRINTS => {
            let line = super::printed_line(&failure.detail)
                .ok_or("a never-prints failure names its line")?;
            expect.insert("event".into(), line.into());
            expect.insert("count".into(), "= 0".into());
        }
        p => {
            expect.insert("invariant".into(), p.into());
        }
    }
    doc.insert(
        "expect".into(),
        toml::Value::Array(vec![toml::Value::Table(expect)]),
    );
    let body = toml::to_string(&doc).map_err(|e| e.to_string())?;
    let mut head = format!(
        "# Found by `redsim fuzz` (seed {}): {} — {}\n",
        failure.seed, failure.property, failure.detail
    );
    if !failure.signature.is_empty() {
        head.push_str(&format!("# Signature: {}\n", failure.signature));
    }
    if failure.shrunk {
        head.push_str(&format!(
            "# Shrunk from {} to {} faults.\n",
            failure.faults_drawn, failure.faults_after_shrinking
        ));
    } else {
        head.push_str(&format!(
            "# Not shrunk: {} faults as drawn.\n",
            failure.faults_drawn
        ));
    }
    Ok(format!("{head}{body}"))
}
