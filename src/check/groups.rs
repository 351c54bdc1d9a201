//! Replication groups: independent masters (each with its replicas) that
//! one set of Sentinels may watch side by side. Each group's data, writes
//! and masters are its own, so lost writes, unavailability and split brain
//! are accounted group by group: a write to `key:1` of one group is never
//! replaced by a write to `key:1` of another, a group whose master is down
//! is unavailable even while another takes writes, and two groups' masters
//! taking writes at once are no split brain.

use crate::history::History;
use crate::proto::WriteTag;
use crate::proto::keyspace::Dataset;
use crate::time::Micros;

use super::availability::longest_write_gap;
use super::lost::{LostWrite, lost_acked_writes_by};
use super::outside::{OUTSIDE_CLIENTS, OutsideWrites};
use super::split_brain::{self, Ack, TenureStart};
use super::windows::Window;

/// One replication group as the checkers read it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    /// Its master's node index (as the scenario created it).
    pub master: usize,
    /// Its Redis servers' node indices, the master first.
    pub nodes: Vec<usize>,
    /// The ids of the clients that work on it.
    pub clients: Vec<u32>,
    /// Each of those clients' `[start, stop]`, for the ones that write.
    pub writes: Vec<Window>,
}

impl Group {
    /// The operations of this group's clients, and of outside clients
    /// connected to its nodes, in the history's order.
    pub fn ops<'h>(&self, history: &'h History) -> History<'h> {
        let outside = history
            .select(|c| c >= OUTSIDE_CLIENTS)
            .iter()
            .filter(|o| self.nodes.contains(&(o.node as usize)))
            .collect::<Vec<_>>();
        history
            .select(|c| c < OUTSIDE_CLIENTS && self.clients.contains(&c))
            .with(outside)
    }
}

/// Lost acknowledged writes, each group's history against its own final
/// data (read through `outside`, which names outside writes' values), in
/// the history's order (invocation, client, sequence).
pub fn lost_writes(
    history: &History,
    groups: &[(&Group, &Dataset)],
    outside: &OutsideWrites,
) -> Vec<LostWrite> {
    let mut lost: Vec<LostWrite> = groups
        .iter()
        .flat_map(|(g, data)| lost_acked_writes_by(&g.ops(history), &|k| outside.found(data, k)))
        .collect();
    // The history's order: invocation, client, sequence number (a stable
    // sort keeps an MSET's keys in order).
    let position = |l: &LostWrite| {
        let tag = WriteTag {
            client: l.client,
            seq: l.seq,
        };
        let invoked = history.by_tag(tag).map_or(Micros::MAX, |o| o.invoked);
        (invoked, l.client, l.seq)
    };
    lost.sort_by_cached_key(position);
    lost
}

/// Each group's longest time without an acknowledged write while one of
/// its clients wanted to write (see `availability`); `None` for a group
/// with no such gap.
pub fn unavailability(history: &History, groups: &[&Group], end: Micros) -> Vec<Option<Window>> {
    groups
        .iter()
        .map(|g| {
            let acks: Vec<Micros> = g
                .ops(history)
                .briefs()
                .filter(|o| o.acked_write())
                .filter_map(|o| o.completed)
                .collect();
            let demand: Vec<Window> = g
                .writes
                .iter()
                .filter(|w| w.from < end)
                .map(|w| Window {
                    from: w.from,
                    to: w.to.min(end),
                })
                .collect();
            longest_write_gap(&acks, &demand)
        })
        .collect()
}

/// The longest of the groups' gaps (the first group's on a tie): the run's
/// one unavailability figure.
pub fn longest(gaps: &[Option<Window>]) -> Option<Window> {
    gaps.iter()
        .flatten()
        .copied()
        .fold(None, |best: Option<Window>, g| match best {
            Some(b) if b.len() >= g.len() => Some(b),
            _ => Some(g),
        })
}

/// Windows in which two nodes of one group acknowledged writes as masters,
/// group by group (see `split_brain`).
pub fn two_writable_masters(
    history: &History,
    groups: &[&Group],
    starts: &[TenureStart],
) -> Vec<(u32, u32, Window)> {
    let mut found = Vec::new();
    for g in groups {
        let acks: Vec<Ack> = g
            .ops(history)
            .briefs()
            .filter(|o| o.acked_write())
            .filter_map(|o| o.completed.map(|at| Ack { node: o.node, at }))
            .collect();
        let spans = split_brain::write_spans(&acks, starts);
        found.extend(split_brain::overlaps(&spans));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::lost::lost_acked_writes;
    use crate::check::lost::tests::{data, set};
    use crate::history::Op;

    /// Two groups: group A (nodes 0, 1) written by client 1, group B
    /// (nodes 2, 3) by client 2.
    fn two() -> (Group, Group) {
        let a = Group {
            master: 0,
            nodes: vec![0, 1],
            clients: vec![1],
            writes: vec![Window { from: 0, to: 100 }],
        };
        let b = Group {
            master: 2,
            nodes: vec![2, 3],
            clients: vec![2],
            writes: vec![Window { from: 0, to: 100 }],
        };
        (a, b)
    }

    fn on(node: u32, op: Op) -> Op {
        Op { node, ..op }
    }

    /// Both groups write `key:7`. Group A's final data holds client 1's
    /// write; group B's holds client 2's. Checked against one dataset, the
    /// other group's write would count as lost (or as replaced); per group,
    /// nothing is lost. Then group B loses its write (its final data no
    /// longer holds key:7): exactly that one write, acknowledged at 30, is
    /// lost.
    #[test]
    fn the_same_key_in_two_groups_is_two_keys() {
        let (a, b) = two();
        let w1 = set(1, 1, 7, 0, 10, true);
        let w2 = set(2, 1, 7, 20, 30, true);
        let h = vec![&w1, &w2];
        let da = data(&[(7, 1, 1)]);
        let db = data(&[(7, 2, 1)]);
        let none = OutsideWrites::default();
        assert!(lost_writes(&History::of(&h), &[(&a, &da), (&b, &db)], &none).is_empty());
        // One dataset for both: client 1's write looks overwritten by a
        // later one, client 2's looks lost.
        assert_eq!(lost_acked_writes(&History::of(&h), &da).len(), 1);
        let lost = lost_writes(
            &History::of(&h),
            &[(&a, &da), (&b, &Dataset::default())],
            &none,
        );
        assert_eq!(lost.len(), 1);
        assert_eq!((lost[0].client, lost[0].acked_at), (2, 30));
    }

    /// Lost writes of two groups come back in the history's order: client
    /// 2's write invoked at 5 before client 1's invoked at 20.
    #[test]
    fn lost_writes_keep_the_history_order() {
        let (a, b) = two();
        let w1 = set(1, 1, 1, 20, 25, true);
        let w2 = set(2, 1, 2, 5, 8, true);
        let h = vec![&w2, &w1];
        let empty = Dataset::default();
        let lost = lost_writes(
            &History::of(&h),
            &[(&a, &empty), (&b, &empty)],
            &OutsideWrites::default(),
        );
        let order: Vec<u32> = lost.iter().map(|l| l.client).collect();
        assert_eq!(order, [2, 1]);
    }

    /// Group A's client gets acknowledgements at 10, 20, ..., 100; group
    /// B's master dies after its acknowledgement at 30 and nothing is
    /// acknowledged again until the end at 100. Across both groups there
    /// is never more than 10 without an acknowledgement, but group B was
    /// unavailable from 30 to 100: 70, the run's figure.
    #[test]
    fn one_group_down_is_unavailable_while_the_other_writes() {
        let (a, b) = two();
        let ops_a: Vec<Op> = (1..=10)
            .map(|i| on(0, set(1, i, i, i as u64 * 10 - 5, i as u64 * 10, true)))
            .collect();
        let ops_b: Vec<Op> = (1..=3)
            .map(|i| on(2, set(2, i, i, i as u64 * 10 - 5, i as u64 * 10, true)))
            .collect();
        let h: Vec<&Op> = ops_a.iter().chain(ops_b.iter()).collect();
        let gaps = unavailability(&History::of(&h), &[&a, &b], 100);
        assert_eq!(gaps[0], Some(Window { from: 0, to: 10 }));
        assert_eq!(gaps[1], Some(Window { from: 30, to: 100 }));
        assert_eq!(longest(&gaps), Some(Window { from: 30, to: 100 }));
        // Both groups' acknowledgements together hide the outage.
        let all = Group {
            clients: vec![1, 2],
            ..a.clone()
        };
        let one = unavailability(&History::of(&h), &[&all], 100);
        assert_eq!(one[0].map(|w| w.len()), Some(10));
    }

    /// Node 0 (group A's master) and node 2 (group B's) both acknowledge
    /// writes from 10 to 50: two groups' masters, no split brain. When
    /// node 1, group A's replica promoted, acknowledges one write at 40
    /// while node 0 still does, that is group A's split brain: nodes 0 and
    /// 1 over [40, 40].
    #[test]
    fn masters_of_two_groups_writing_at_once_are_no_split_brain() {
        let (a, b) = two();
        let mut ops = Vec::new();
        for (i, t) in [10u64, 30, 50].into_iter().enumerate() {
            ops.push(on(0, set(1, i as u32 + 1, 1, t - 1, t, true)));
            ops.push(on(2, set(2, i as u32 + 1, 1, t - 1, t, true)));
        }
        let h: Vec<&Op> = ops.iter().collect();
        assert!(two_writable_masters(&History::of(&h), &[&a, &b], &[]).is_empty());
        let promoted = on(1, set(1, 9, 2, 39, 40, true));
        let mut h2 = h.clone();
        h2.push(&promoted);
        assert_eq!(
            two_writable_masters(&History::of(&h2), &[&a, &b], &[]),
            vec![(0, 1, Window { from: 40, to: 40 })]
        );
    }
}
