//! Which simulated instant matches the wall clock, at a chosen speed. The
//! lab reads the wall clock and asks here; the simulation never runs past
//! the instant this gives.

use std::time::Duration;

use crate::time::Micros;

/// A straight line from wall time (since the lab started) to simulated
/// time, re-anchored whenever the speed changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Pace {
    speed: f64,
    wall0: Duration,
    sim0: Micros,
}

impl Pace {
    pub fn new(speed: f64) -> Self {
        Self {
            speed,
            wall0: Duration::ZERO,
            sim0: 0,
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The simulated instant at wall time `wall` (never before the anchor).
    pub fn sim_at(&self, wall: Duration) -> Micros {
        let since = wall.saturating_sub(self.wall0).as_micros() as f64;
        self.sim0 + (since * self.speed) as Micros
    }

    /// The wall time at which simulated instant `sim` is due.
    pub fn wall_at(&self, sim: Micros) -> Duration {
        let ahead = sim.saturating_sub(self.sim0) as f64 / self.speed;
        self.wall0 + Duration::from_micros(ahead.ceil() as u64)
    }

    /// From wall time `wall` on, run at `speed`: the instant reached so
    /// far stays where it is.
    pub fn set_speed(&mut self, wall: Duration, speed: f64) {
        self.sim0 = self.sim_at(wall);
        self.wall0 = wall;
        self.speed = speed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wall_clock_maps_to_simulated_time_at_the_speed() {
        let mut p = Pace::new(1.0);
        assert_eq!(p.sim_at(Duration::from_millis(1500)), 1_500_000);
        p.set_speed(Duration::from_secs(2), 10.0);
        assert_eq!(p.sim_at(Duration::from_secs(2)), 2_000_000);
        assert_eq!(p.sim_at(Duration::from_secs(3)), 12_000_000);
        assert_eq!(p.wall_at(12_000_000), Duration::from_secs(3));
        // A wake-up never comes before the instant is due.
        assert!(p.sim_at(p.wall_at(2_000_007)) >= 2_000_007);
    }
}
