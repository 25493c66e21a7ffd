//! Stage `apply`, adaptive concurrency: the number of operations in flight halves (down to 1)
//! when the provider reports throttling, and after as many clean completions as the current
//! limit it grows by one again, up to the configured parallelism. Pure.

/// The concurrency limit and what it has been through.
#[derive(Debug, Clone)]
pub(super) struct AdaptiveLimit {
    max: usize,
    current: usize,
    lowest: usize,
    clean_streak: usize,
    throttles_seen: u64,
}

impl AdaptiveLimit {
    /// Starts at `max` (at least 1), with `throttles` throttle events already counted.
    pub(super) fn new(max: usize, throttles: u64) -> Self {
        let max = max.max(1);
        AdaptiveLimit {
            max,
            current: max,
            lowest: max,
            clean_streak: 0,
            throttles_seen: throttles,
        }
    }

    /// How many operations may be in flight now.
    pub(super) fn current(&self) -> usize {
        self.current
    }

    /// The lowest limit reached.
    pub(super) fn lowest(&self) -> usize {
        self.lowest
    }

    /// After a completion: `throttles` is the provider's throttle count so far.
    pub(super) fn observe(&mut self, throttles: u64) {
        if throttles > self.throttles_seen {
            self.throttles_seen = throttles;
            self.current = (self.current / 2).max(1);
            self.lowest = self.lowest.min(self.current);
            self.clean_streak = 0;
        } else {
            self.clean_streak += 1;
            if self.clean_streak >= self.current && self.current < self.max {
                self.current += 1;
                self.clean_streak = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_throttling_and_recovers_one_by_one() {
        let mut l = AdaptiveLimit::new(8, 5);
        l.observe(5);
        assert_eq!(l.current(), 8);
        l.observe(6);
        assert_eq!(l.current(), 4);
        l.observe(9);
        assert_eq!((l.current(), l.lowest()), (2, 2));
        l.observe(9);
        assert_eq!(l.current(), 2, "one clean completion is not enough at 2");
        l.observe(9);
        assert_eq!(l.current(), 3);
        for _ in 0..100 {
            l.observe(9);
        }
        assert_eq!((l.current(), l.lowest()), (8, 2));
    }

    #[test]
    fn never_below_one() {
        let mut l = AdaptiveLimit::new(0, 0);
        assert_eq!(l.current(), 1);
        l.observe(1);
        assert_eq!(l.current(), 1);
    }
}
