//! Progress of a long command on standard error: rewritten in place on a
//! terminal (a bar and a line, ten times a second), else a line every five
//! seconds, so that a CI log shows the command alive without flooding it.
//! Wall time is read here, outside every run: nothing a run does depends
//! on it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Progress {
    /// The command, which begins each line in a log: `fuzz`, `sweep`.
    name: &'static str,
    terminal: bool,
    started: Instant,
    last: Mutex<Option<Instant>>,
}

impl Progress {
    /// Progress of `name`, starting now.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            started: Instant::now(),
            last: Mutex::new(None),
        }
    }

    /// Wall time since the command started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// `done` of `total` units per second so far.
    pub fn rate(&self, done: u64) -> f64 {
        done as f64 / self.elapsed().as_secs_f64().max(1e-9)
    }

    /// Shows `line`, `done` of `total` along: at once when it is the last
    /// (`done == total`), else only if the last line is old enough.
    pub fn show(&self, done: u64, total: u64, line: &str) {
        let finished = done >= total;
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        let now = Instant::now();
        let mut last = self.last.lock().expect("no panics while holding it");
        if !finished && last.is_some_and(|l| now.duration_since(l) < every) {
            return;
        }
        *last = Some(now);
        if self.terminal {
            let bar = bar(done, total, 20);
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("\r{} [{bar}] {line}   ", self.name),
            );
            if finished {
                crate::errln!();
            }
        } else {
            crate::errln!("{}: {line}", self.name);
        }
    }
}

/// `width` cells, filled in proportion to `done` of `total`.
fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = (done.min(total) as u128 * width as u128)
        .checked_div(u128::from(total))
        .map_or(width, |f| f as usize);
    format!("{}{}", "#".repeat(filled), ".".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(bar(0, 10, 10), "..........");
        assert_eq!(bar(5, 10, 10), "#####.....");
        assert_eq!(bar(10, 10, 10), "##########");
        assert_eq!(bar(1, 3, 20), "######..............");
        // Nothing to do is done.
        assert_eq!(bar(0, 0, 4), "####");
        assert_eq!(bar(12, 10, 4), "####");
    }
}
