//! Write unavailability: the longest stretch in which clients wanted to
//! write and none of them got a write acknowledged.

use crate::time::Micros;

use super::windows::{Window, union};

/// The longest window inside `demand` (the spans in which some client
/// wanted to write: each write workload's `[start, stop]`) that contains no
/// acknowledged write. `acks` are the instants clients received
/// acknowledgements, in any order. A gap runs from the start of a demand
/// span (or an acknowledgement) to the next acknowledgement (or the end of
/// the span), so an outage that lasts to the end of the run counts in full.
/// `None` when nobody wanted to write or every instant was covered.
pub fn longest_write_gap(acks: &[Micros], demand: &[Window]) -> Option<Window> {
    let demand = union(demand.to_vec());
    let mut acks = acks.to_vec();
    acks.sort_unstable();
    let mut best: Option<Window> = None;
    for span in &demand {
        let inside = acks.iter().copied().filter(|&t| span.contains(t));
        let mut prev = span.from;
        for t in inside.chain(std::iter::once(span.to)) {
            let gap = Window { from: prev, to: t };
            if !gap.is_empty() && best.is_none_or(|b| gap.len() > b.len()) {
                best = Some(gap);
            }
            prev = t;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(from: Micros, to: Micros) -> Window {
        Window { from, to }
    }

    #[test]
    fn an_outage_to_the_end_of_the_run_counts_in_full() {
        // Writes acknowledged every 10 ms until a kill at 10 s; the run
        // lasts 60 s and nothing is acknowledged again.
        let acks: Vec<Micros> = (1..=1000).map(|i| i * 10_000).collect();
        let gap = longest_write_gap(&acks, &[w(0, 60_000_000)]).expect("a gap");
        assert_eq!(gap, w(10_000_000, 60_000_000));
    }

    #[test]
    fn a_slow_start_counts_from_the_workload_start() {
        let gap = longest_write_gap(&[7_000, 8_000, 9_000], &[w(2_000, 10_000)]);
        assert_eq!(gap, Some(w(2_000, 7_000)));
    }

    #[test]
    fn the_longest_middle_gap_wins() {
        let gap = longest_write_gap(&[0, 10, 11, 1031, 1041, 1051], &[w(0, 1060)]);
        assert_eq!(gap, Some(w(11, 1031)));
    }

    #[test]
    fn acknowledgements_outside_demand_do_not_count_and_holes_are_no_outage() {
        // Two workloads: [0, 100] and [500, 600]; nobody wants to write in
        // between, so the hole is not unavailability.
        let demand = [w(500, 600), w(0, 100)];
        let gap = longest_write_gap(&[50, 300, 590], &demand);
        assert_eq!(gap, Some(w(500, 590)));
    }

    #[test]
    fn overlapping_workloads_are_one_span() {
        let gap = longest_write_gap(&[40], &[w(0, 50), w(30, 100)]);
        assert_eq!(gap, Some(w(40, 100)));
    }

    #[test]
    fn nothing_wanted_means_no_gap() {
        assert_eq!(longest_write_gap(&[1, 2, 3], &[]), None);
        assert_eq!(longest_write_gap(&[5], &[w(5, 5)]), None);
    }

    /// Brute force: every integer window `[a, b]` that lies inside one
    /// demand span (checked at every half-step) and holds no
    /// acknowledgement strictly inside.
    fn brute(acks: &[Micros], demand: &[Window]) -> Micros {
        let covered = |x2: Micros| demand.iter().any(|d| 2 * d.from <= x2 && x2 <= 2 * d.to);
        let mut best = 0;
        for a in 0..=40 {
            for b in a + 1..=40 {
                let inside = (2 * a..=2 * b).all(covered);
                let clear = !acks.iter().any(|&t| a < t && t < b);
                if inside && clear {
                    best = best.max(b - a);
                }
            }
        }
        best
    }

    proptest! {
        #[test]
        fn matches_a_brute_force_scan(
            acks in proptest::collection::vec(0u64..=40, 0..8),
            spans in proptest::collection::vec((0u64..=40, 0u64..=20), 0..4),
        ) {
            let demand: Vec<Window> = spans
                .iter()
                .map(|&(a, l)| w(a, (a + l).min(40)))
                .collect();
            let got = longest_write_gap(&acks, &demand).map_or(0, |g| g.len());
            prop_assert_eq!(got, brute(&acks, &demand));
        }
    }
}
