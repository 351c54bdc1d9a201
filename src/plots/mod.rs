//! A run's plots, as Jepsen and Maelstrom draw theirs: the latency of
//! each operation over time coloured by outcome (ok, error, timeout or
//! connection lost, acknowledged then lost), latency quantiles over time
//! and throughput over time, each with the fault windows shaded and the
//! failover's milestones marked. `redsim run --plots DIR` writes them as
//! SVG files; the dashboard page shows the same drawings.

pub mod draw;
pub mod series;

use std::path::Path;

use crate::check::RunView as _;
use crate::check::timeline;
use crate::world::World;

/// The three drawings of one run, as SVG text.
#[derive(Clone, Debug)]
pub struct Plots {
    pub latency: String,
    pub quantiles: String,
    pub throughput: String,
}

impl Plots {
    /// The file names `run --plots` writes, with each drawing.
    pub fn files(&self) -> [(&'static str, &str); 3] {
        [
            ("latency.svg", &self.latency),
            ("latency-quantiles.svg", &self.quantiles),
            ("throughput.svg", &self.throughput),
        ]
    }

    /// Writes the drawings into `dir` (created if need be).
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (name, svg) in self.files() {
            let path = dir.join(name);
            std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// The plots of a finished run (or of a live one so far).
pub fn of(w: &World) -> Result<Plots, String> {
    let end = w.plan.duration;
    let lost: Vec<(u32, u32)> = w.lost_writes().iter().map(|l| (l.client, l.seq)).collect();
    let points = series::points(&w.history(), &lost);
    let bucket = series::bucket_for(end);
    let spans = series::fault_spans(&w.plan, end);
    let milestones = series::milestones(&timeline::failover_times(&w.trace().events));
    let frame = draw::Frame {
        end,
        spans: &spans,
        milestones: &milestones,
    };
    Ok(Plots {
        latency: draw::latency(&points, &frame)?,
        quantiles: draw::quantiles(&series::quantiles(&points, bucket), bucket, &frame)?,
        throughput: draw::throughput(&series::throughput(&points, bucket, end), bucket, &frame)?,
    })
}
