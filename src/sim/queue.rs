//! The event queue: totally ordered by (time, insertion sequence), so two
//! events at the same instant always run in the order they were queued.
//!
//! Events can be large (a message with its payload), so the heap orders
//! small (time, sequence, slot) entries and the events wait in a slab; the
//! heap's sifting then moves 24 bytes instead of whole events.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::Micros;

pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(Micros, u64, u32)>>,
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
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(event);
                s
            }
            None => {
                self.slots.push(Some(event));
                (self.slots.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((time, seq, slot)));
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<Micros> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    pub fn pop(&mut self) -> Option<(Micros, E)> {
        let Reverse((time, _, slot)) = self.heap.pop()?;
        let event = self.slots[slot as usize].take().expect("queued slot");
        self.free.push(slot);
        Some((time, event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Every queued event with its time, in the order they will run (for
    /// inspection: it sorts a copy of the heap).
    pub fn entries(&self) -> Vec<(Micros, &E)> {
        let mut keys: Vec<(Micros, u64, u32)> = self.heap.iter().map(|Reverse(k)| *k).collect();
        keys.sort_unstable();
        keys.into_iter()
            .map(|(t, _, slot)| (t, self.slots[slot as usize].as_ref().expect("queued slot")))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_keeps_insertion_order() {
        let mut q = EventQueue::default();
        q.push(5, "b");
        q.push(1, "a");
        q.push(5, "c");
        q.push(5, "d");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
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
