//! A hashed timing wheel: one per worker process drives every conversation's precomputed
//! send times (PERFORMANCE.md: one `tokio::time::interval` per connection made an earlier
//! generator the bottleneck at ~50 k msgs/s).
//!
//! Slots are `slot_ns` wide; an item sits in the slot of its due tick modulo the wheel size
//! and keeps its exact due time, so items due in a later revolution simply stay put when
//! their slot is visited early. Expiry returns items in due-time order.

/// A timing wheel of `T` items.
#[derive(Debug)]
pub(crate) struct Wheel<T> {
    slots: Vec<Vec<(u64, T)>>,
    slot_ns: u64,
    mask: u64,
    /// The tick whose slot may still hold items due now (everything before it has expired).
    tick: u64,
    len: usize,
}

impl<T: Copy> Wheel<T> {
    /// A wheel of `2^bits` slots of `slot_ns` nanoseconds, starting at `start_ns`.
    pub(crate) fn new(slot_ns: u64, bits: u32, start_ns: u64) -> Self {
        let slot_ns = slot_ns.max(1);
        let n = 1usize << bits.min(24);
        Self {
            slots: (0..n).map(|_| Vec::new()).collect(),
            slot_ns,
            mask: (n as u64) - 1,
            tick: start_ns / slot_ns,
            len: 0,
        }
    }

    /// How many items wait.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn slot_mut(&mut self, tick: u64) -> &mut Vec<(u64, T)> {
        // Masked to the slot count, so always in range.
        let i = usize::try_from(tick & self.mask).unwrap_or(0);
        &mut self.slots[i]
    }

    /// Adds `item`, due at `at_ns`. An item due before the current tick goes into the current
    /// slot and expires at the next [`expire`](Self::expire).
    pub(crate) fn insert(&mut self, at_ns: u64, item: T) {
        let tick = (at_ns / self.slot_ns).max(self.tick);
        self.slot_mut(tick).push((at_ns, item));
        self.len += 1;
    }

    /// Moves every item due at or before `now_ns` into `out`, sorted by due time.
    pub(crate) fn expire(&mut self, now_ns: u64, out: &mut Vec<(u64, T)>) {
        let start = out.len();
        let target = now_ns / self.slot_ns;
        // Bounded: once a whole revolution has been visited every slot has been checked.
        let last = target.min(self.tick + self.mask);
        loop {
            let tick = self.tick;
            let slot = self.slot_mut(tick);
            let before = slot.len();
            let mut kept = Vec::new();
            for (at, item) in slot.drain(..) {
                if at <= now_ns {
                    out.push((at, item));
                } else {
                    kept.push((at, item));
                }
            }
            *slot = kept;
            let fired = before - slot.len();
            self.len -= fired;
            if tick >= last {
                break;
            }
            self.tick += 1;
        }
        if target > self.tick {
            self.tick = target;
        }
        if let Some(new) = out.get_mut(start..) {
            new.sort_unstable_by_key(|(at, _)| *at);
        }
    }

    /// The earliest due time of any item, if there is one. Scans forward from the current
    /// tick; the first slot holding an item of its own revolution answers.
    pub(crate) fn next_due(&self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let n = self.mask + 1;
        for tick in self.tick..self.tick + n {
            let slot = &self.slots[usize::try_from(tick & self.mask).unwrap_or(0)];
            let end = (tick + 1) * self.slot_ns;
            if let Some(at) = slot.iter().map(|(at, _)| *at).filter(|at| *at < end).min() {
                return Some(at);
            }
        }
        // Every item is more than one revolution away.
        self.slots.iter().flatten().map(|(at, _)| *at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::SplitMix;

    #[test]
    fn items_expire_once_in_order_and_never_early() {
        let start = 5_000_000_000;
        let mut wheel = Wheel::new(100_000, 6, start);
        let mut rng = SplitMix::new(3);
        let mut due = Vec::new();
        for i in 0..2_000u32 {
            // Up to 3 s ahead: many revolutions of a 6.4 ms wheel.
            let at = start + rng.below(3_000_000_000);
            wheel.insert(at, i);
            due.push(at);
        }
        assert_eq!(wheel.len(), 2_000);
        let mut seen = vec![false; due.len()];
        let mut now = start;
        let mut out = Vec::new();
        while wheel.len() > 0 {
            let earliest = (0..due.len()).filter(|i| !seen[*i]).map(|i| due[i]).min();
            assert_eq!(wheel.next_due(), earliest);
            // Jump by uneven steps, sometimes past several slots at once.
            now += 1 + rng.below(700_000);
            out.clear();
            wheel.expire(now, &mut out);
            assert!(out.windows(2).all(|w| w[0].0 <= w[1].0), "sorted");
            for (at, i) in &out {
                let i = *i as usize;
                assert!(*at <= now, "expired early");
                assert_eq!(*at, due[i]);
                assert!(!seen[i], "expired twice");
                seen[i] = true;
            }
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn next_due_finds_the_earliest_item_even_beyond_a_revolution() {
        let mut wheel = Wheel::new(1_000, 3, 0);
        assert_eq!(wheel.next_due(), None);
        wheel.insert(50_000, 1u8);
        wheel.insert(9_500, 2);
        assert_eq!(wheel.next_due(), Some(9_500));
        let mut out = Vec::new();
        wheel.expire(9_499, &mut out);
        assert!(out.is_empty());
        wheel.expire(9_500, &mut out);
        assert_eq!(out, vec![(9_500, 2)]);
        assert_eq!(wheel.next_due(), Some(50_000));
        // An item inserted in the past fires at the next expiry.
        wheel.insert(10, 3);
        out.clear();
        wheel.expire(9_600, &mut out);
        assert_eq!(out, vec![(10, 3)]);
    }
}
