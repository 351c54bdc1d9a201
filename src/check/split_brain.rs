//! Split brain: windows in which two nodes acknowledged writes as masters at
//! the same time.
//!
//! Each node's acknowledgements are cut into tenures: a tenure starts when
//! the node could begin acknowledging writes anew (its start or restart, a
//! promotion, a resume after SIGSTOP or DEBUG SLEEP). Within a tenure the
//! node acknowledged writes from its first acknowledgement to its last, so
//! the node's write spans are those `[first, last]` windows, one per tenure.
//! A node that was a replica between two tenures has no span there: the old
//! master that is demoted at 25 s and promoted again at 50 s does not count
//! as writable in between.

use std::collections::BTreeMap;

use crate::time::Micros;

use super::windows::{Window, intersect, union};

/// One acknowledged write: the node that acknowledged it and when the
/// client received the acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    pub node: u32,
    pub at: Micros,
}

/// An instant at which a node's new tenure begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenureStart {
    pub node: u32,
    pub at: Micros,
}

/// Per node, its write spans: one `[first ack, last ack]` window per
/// tenure. An acknowledgement belongs to the last tenure that began strictly
/// before the client received it (a reply needs time on the wire, so one
/// received at the very instant of a restart was sent before it).
pub fn write_spans(acks: &[Ack], starts: &[TenureStart]) -> BTreeMap<u32, Vec<Window>> {
    let mut starts_of: BTreeMap<u32, Vec<Micros>> = BTreeMap::new();
    for s in starts {
        starts_of.entry(s.node).or_default().push(s.at);
    }
    for v in starts_of.values_mut() {
        v.sort_unstable();
    }
    // (node, tenure index) -> [first, last]
    let mut tenures: BTreeMap<(u32, usize), Window> = BTreeMap::new();
    for a in acks {
        let tenure = starts_of
            .get(&a.node)
            .map_or(0, |s| s.partition_point(|&t| t < a.at));
        tenures
            .entry((a.node, tenure))
            .and_modify(|w| {
                w.from = w.from.min(a.at);
                w.to = w.to.max(a.at);
            })
            .or_insert(Window {
                from: a.at,
                to: a.at,
            });
    }
    let mut spans: BTreeMap<u32, Vec<Window>> = BTreeMap::new();
    for ((node, _), w) in tenures {
        spans.entry(node).or_default().push(w);
    }
    // Tenures of one node follow each other, but an acknowledgement still
    // on the wire can overlap the next tenure's first: keep them disjoint.
    spans.into_iter().map(|(n, ws)| (n, union(ws))).collect()
}

/// Every window in which two nodes both had a write span open, as
/// `(a, b, window)` with `a < b`, in order of node pair then time. A window
/// may be a single instant: one write acknowledged by an old master while
/// the new one was taking writes is a split brain of length zero, and is
/// still reported.
pub fn overlaps(spans: &BTreeMap<u32, Vec<Window>>) -> Vec<(u32, u32, Window)> {
    let nodes: Vec<(&u32, &Vec<Window>)> = spans.iter().collect();
    let mut out = Vec::new();
    for (i, (a, wa)) in nodes.iter().enumerate() {
        for (b, wb) in &nodes[i + 1..] {
            for w in intersect(wa, wb) {
                out.push((**a, **b, w));
            }
        }
    }
    out
}

/// Merges per-pair windows found separately (for instance slot by slot in
/// a cluster) into one sorted, disjoint list per pair.
pub fn merge_pairs(found: Vec<(u32, u32, Window)>) -> Vec<(u32, u32, Window)> {
    let mut by_pair: BTreeMap<(u32, u32), Vec<Window>> = BTreeMap::new();
    for (a, b, w) in found {
        by_pair.entry((a, b)).or_default().push(w);
    }
    by_pair
        .into_iter()
        .flat_map(|((a, b), ws)| union(ws).into_iter().map(move |w| (a, b, w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ack(node: u32, at: Micros) -> Ack {
        Ack { node, at }
    }

    fn start(node: u32, at: Micros) -> TenureStart {
        TenureStart { node, at }
    }

    fn w(from: Micros, to: Micros) -> Window {
        Window { from, to }
    }

    #[test]
    fn a_demoted_master_is_not_writable_while_a_replica() {
        // Node 0 acknowledges writes until 250, is demoted, and is
        // promoted again at 500. Node 1 is promoted at 240 and writes
        // until 600.
        let acks = [
            ack(0, 10),
            ack(0, 100),
            ack(0, 250),
            ack(0, 510),
            ack(0, 550),
            ack(1, 242),
            ack(1, 600),
        ];
        let starts = [start(1, 240), start(0, 500)];
        let spans = write_spans(&acks, &starts);
        assert_eq!(spans[&0], vec![w(10, 250), w(510, 550)]);
        assert_eq!(spans[&1], vec![w(242, 600)]);
        assert_eq!(
            overlaps(&spans),
            vec![(0, 1, w(242, 250)), (0, 1, w(510, 550))]
        );
    }

    #[test]
    fn first_to_last_acknowledgement_is_not_one_span_across_a_restart() {
        // The old checker took [first, last] over the whole run: 0..=90
        // against 40..=60, twenty units of split brain that never were.
        let acks = [ack(0, 0), ack(0, 30), ack(0, 90), ack(1, 40), ack(1, 60)];
        let spans = write_spans(&acks, &[start(0, 70)]);
        assert_eq!(spans[&0], vec![w(0, 30), w(90, 90)]);
        assert_eq!(overlaps(&spans), vec![]);
    }

    #[test]
    fn an_acknowledgement_at_the_restart_instant_belongs_to_the_old_tenure() {
        let spans = write_spans(&[ack(0, 5), ack(0, 10), ack(0, 12)], &[start(0, 10)]);
        assert_eq!(spans[&0], vec![w(5, 10), w(12, 12)]);
    }

    #[test]
    fn one_write_on_an_old_master_is_a_split_brain_of_length_zero() {
        let spans = write_spans(&[ack(0, 50), ack(1, 40), ack(1, 60)], &[]);
        assert_eq!(overlaps(&spans), vec![(0, 1, w(50, 50))]);
    }

    #[test]
    fn three_nodes_give_every_pair() {
        let spans = write_spans(
            &[ack(0, 0), ack(0, 10), ack(1, 5), ack(1, 15), ack(2, 8)],
            &[],
        );
        assert_eq!(
            overlaps(&spans),
            vec![(0, 1, w(5, 10)), (0, 2, w(8, 8)), (1, 2, w(8, 8))]
        );
    }

    #[test]
    fn pairs_found_per_slot_merge_into_disjoint_windows() {
        let merged = merge_pairs(vec![
            (0, 1, w(5, 10)),
            (0, 2, w(1, 2)),
            (0, 1, w(8, 20)),
            (0, 1, w(30, 31)),
        ]);
        assert_eq!(
            merged,
            vec![(0, 1, w(5, 20)), (0, 1, w(30, 31)), (0, 2, w(1, 2))]
        );
    }

    /// Brute force at every integer instant: a node is writable at `t` when
    /// two of its acknowledgements of the same tenure lie on either side.
    fn writable(acks: &[Ack], starts: &[TenureStart], node: u32, t: Micros) -> bool {
        let tenure = |at: Micros| {
            starts
                .iter()
                .filter(|s| s.node == node && s.at < at)
                .count()
        };
        let mine: Vec<Micros> = acks
            .iter()
            .filter(|a| a.node == node)
            .map(|a| a.at)
            .collect();
        mine.iter().any(|&a1| {
            mine.iter()
                .any(|&a2| a1 <= t && t <= a2 && tenure(a1) == tenure(a2))
        })
    }

    proptest! {
        #[test]
        fn overlaps_match_a_brute_force_sampler(
            acks in proptest::collection::vec((0u32..3, 0u64..60), 0..14),
            starts in proptest::collection::vec((0u32..3, 0u64..60), 0..5),
        ) {
            let acks: Vec<Ack> = acks.iter().map(|&(n, t)| ack(n, t)).collect();
            let starts: Vec<TenureStart> = starts.iter().map(|&(n, t)| start(n, t)).collect();
            let found = overlaps(&write_spans(&acks, &starts));
            for a in 0..3u32 {
                for b in a + 1..3 {
                    for t in 0..60 {
                        let both = writable(&acks, &starts, a, t) && writable(&acks, &starts, b, t);
                        let reported = found.iter().any(|&(x, y, win)| x == a && y == b && win.contains(t));
                        prop_assert_eq!(both, reported, "nodes {} and {} at {}", a, b, t);
                    }
                }
            }
        }
    }
}
