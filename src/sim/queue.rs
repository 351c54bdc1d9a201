//! The event queue: totally ordered by (time, insertion sequence), so two
//! events at the same instant always run in the order they were queued.
//!
//! Events can be large (a message with its payload), so the heap orders
//! 16-byte keys and the events wait in a slab. A key is one `u128`: the
//! time in the high 64 bits, then the insertion sequence, then the slot's
//! index, so comparing keys compares (time, sequence) without a branch on
//! the first field (the slot bits never decide: sequences are unique).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::Micros;

/// Bits of a key that hold the slot: 268 M events may wait at once (32 GiB
/// of events; a 1,000-node cluster's startup burst holds about a million).
const SLOT_BITS: u32 = 28;
const SLOT_MASK: u128 = (1 << SLOT_BITS) - 1;
/// The sequence fills the other 36 bits of the low word: 68 G insertions,
/// then the waiting events are numbered again from 0 in their order
/// ([`EventQueue::renumber`]).
const SEQ_LIMIT: u64 = 1 << (64 - SLOT_BITS);

/// An event's place in the running order.
fn key(time: Micros, seq: u64, slot: u32) -> u128 {
    (u128::from(time) << 64) | (u128::from(seq) << SLOT_BITS) | u128::from(slot)
}

fn time_of(key: u128) -> Micros {
    (key >> 64) as Micros
}

fn slot_of(key: u128) -> u32 {
    (key & SLOT_MASK) as u32
}

pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<u128>>,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::with_capacity(1024),
            slots: Vec::with_capacity(1024),
            free: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, time: Micros, event: E) {
        if self.next_seq == SEQ_LIMIT {
            self.renumber();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(event);
                s
            }
            None => {
                assert!(
                    (self.slots.len() as u128) < SLOT_MASK,
                    "more than {SLOT_MASK} events waiting at once"
                );
                self.slots.push(Some(event));
                (self.slots.len() - 1) as u32
            }
        };
        self.heap.push(Reverse(key(time, seq, slot)));
    }

    /// Numbers the waiting events again from 0, in their running order, so
    /// the sequence never wraps: O(n log n) once per 68 G insertions.
    fn renumber(&mut self) {
        let mut keys: Vec<u128> = self.heap.drain().map(|Reverse(k)| k).collect();
        keys.sort_unstable();
        self.next_seq = keys.len() as u64;
        self.heap.extend(
            keys.into_iter()
                .zip(0..)
                .map(|(k, seq)| Reverse(key(time_of(k), seq, slot_of(k)))),
        );
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<Micros> {
        self.heap.peek().map(|Reverse(k)| time_of(*k))
    }

    pub fn pop(&mut self) -> Option<(Micros, E)> {
        let Reverse(k) = self.heap.pop()?;
        let slot = slot_of(k);
        let event = self.slots[slot as usize].take().expect("queued slot");
        self.free.push(slot);
        Some((time_of(k), event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Every queued event with its time, in the order they will run (for
    /// inspection: it sorts a copy of the heap).
    pub fn entries(&self) -> Vec<(Micros, &E)> {
        let mut keys: Vec<u128> = self.heap.iter().map(|Reverse(k)| *k).collect();
        keys.sort_unstable();
        keys.into_iter()
            .map(|k| {
                let event = self.slots[slot_of(k) as usize].as_ref();
                (time_of(k), event.expect("queued slot"))
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events left, in the order they pop.
    fn drained<E>(q: &mut EventQueue<E>) -> Vec<E> {
        std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect()
    }

    #[test]
    fn same_instant_keeps_insertion_order() {
        let mut q = EventQueue::default();
        q.push(5, "b");
        q.push(1, "a");
        q.push(5, "c");
        q.push(5, "d");
        assert_eq!(drained(&mut q), ["a", "b", "c", "d"]);
    }

    #[test]
    fn entries_list_events_in_running_order_without_taking_them() {
        let mut q = EventQueue::default();
        q.push(5, "b");
        q.push(1, "a");
        q.push(5, "c");
        assert_eq!(q.entries(), [(1, &"a"), (5, &"b"), (5, &"c")]);
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn renumbering_keeps_the_running_order() {
        // Five same-instant events that the heap's array does not hold in
        // their queued order: renumbering them in that order would swap some.
        let mut q = EventQueue::default();
        for (t, e) in [
            (9, "a"),
            (9, "b"),
            (1, "x"),
            (9, "c"),
            (9, "d"),
            (2, "y"),
            (9, "e"),
        ] {
            q.push(t, e);
        }
        q.pop();
        q.next_seq = SEQ_LIMIT;
        q.push(9, "f");
        assert_eq!(q.next_seq, 7, "six waiting, numbered 0..6, then f");
        assert_eq!(drained(&mut q), ["y", "a", "b", "c", "d", "e", "f"]);
    }

    proptest::proptest! {
        /// Against a brute force: every waiting event in a list, the next
        /// one the earliest, first queued first; renumberings forced at
        /// random points change nothing.
        #[test]
        fn pops_in_time_then_insertion_order(
            steps in proptest::collection::vec((0u8..4, 0u64..20), 0..200)
        ) {
            let mut q = EventQueue::default();
            // (time, event); an event is its step's index, so it also
            // orders same-instant events.
            let mut list: Vec<(Micros, u64)> = Vec::new();
            for (i, (op, time)) in steps.into_iter().enumerate() {
                let i = i as u64;
                match op {
                    0 | 1 => {
                        q.push(time, i);
                        list.push((time, i));
                    }
                    2 => {
                        let first = list.iter().enumerate().min_by_key(|(_, te)| **te).map(|(at, _)| at);
                        let expected = first.map(|at| list.remove(at));
                        proptest::prop_assert_eq!(q.pop(), expected);
                    }
                    _ => q.next_seq = SEQ_LIMIT,
                }
                proptest::prop_assert_eq!(q.len(), list.len());
            }
        }
    }

    #[test]
    fn slots_are_reused() {
        let mut q = EventQueue::default();
        for round in 0..3u64 {
            q.push(round, round);
            q.push(round, round + 10);
            assert_eq!(q.pop(), Some((round, round)));
            assert_eq!(q.pop(), Some((round, round + 10)));
        }
        assert!(q.slots.len() <= 2);
        assert!(q.is_empty());
    }
}
