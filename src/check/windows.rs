//! Closed time windows and sorted lists of disjoint windows: the arithmetic
//! behind unavailability and split-brain windows.

use crate::time::Micros;

/// A closed span of time, `[from, to]`. A single instant (`from == to`)
/// is a window of length zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    pub from: Micros,
    pub to: Micros,
}

impl Window {
    pub fn len(&self) -> Micros {
        self.to.saturating_sub(self.from)
    }

    /// True when the window has no length (a single instant, or reversed).
    pub fn is_empty(&self) -> bool {
        self.to <= self.from
    }

    pub fn contains(&self, t: Micros) -> bool {
        self.from <= t && t <= self.to
    }
}

/// The union of `windows` as a sorted list of disjoint windows; windows that
/// overlap or touch are merged. Reversed windows (`to < from`) are dropped.
pub fn union(mut windows: Vec<Window>) -> Vec<Window> {
    windows.retain(|w| w.from <= w.to);
    windows.sort_unstable();
    let mut out: Vec<Window> = Vec::with_capacity(windows.len());
    for w in windows {
        match out.last_mut() {
            Some(last) if w.from <= last.to => last.to = last.to.max(w.to),
            _ => out.push(w),
        }
    }
    out
}

/// The intersection of two sorted lists of disjoint windows. Closed windows
/// that share only an instant meet in a window of length zero.
pub fn intersect(a: &[Window], b: &[Window]) -> Vec<Window> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let w = Window {
            from: a[i].from.max(b[j].from),
            to: a[i].to.min(b[j].to),
        };
        if w.from <= w.to {
            out.push(w);
        }
        if a[i].to < b[j].to {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The total length of disjoint windows.
pub fn total(windows: &[Window]) -> Micros {
    windows.iter().map(Window::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(from: Micros, to: Micros) -> Window {
        Window { from, to }
    }

    #[test]
    fn union_merges_overlapping_and_touching_windows() {
        assert_eq!(
            union(vec![w(10, 20), w(0, 5), w(5, 7), w(15, 30), w(40, 40)]),
            vec![w(0, 7), w(10, 30), w(40, 40)]
        );
        assert_eq!(union(vec![w(9, 3)]), vec![]);
    }

    #[test]
    fn intersection_keeps_every_overlap_and_shared_instants() {
        let a = [w(0, 10), w(20, 30), w(40, 50)];
        let b = [w(5, 25), w(30, 45)];
        assert_eq!(
            intersect(&a, &b),
            vec![w(5, 10), w(20, 25), w(30, 30), w(40, 45)]
        );
        assert_eq!(intersect(&a, &[]), vec![]);
        assert_eq!(total(&intersect(&a, &b)), 5 + 5 + 5);
    }
}
