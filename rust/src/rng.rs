//! A small, fast, seedable random number generator (SplitMix64).
//!
//! The data pipelines need reproducible streams for a given seed on every
//! platform, not cryptographic quality; SplitMix64 passes BigCrush and costs a
//! few instructions per draw.

#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent stream for one item (a row, a thread) of a seeded job.
    ///
    /// Seeding rows with `seed + row` would be wrong here: SplitMix64's states
    /// step by a constant, so such streams are shifted copies of each other.
    /// Hashing (seed, stream) puts each stream at an unrelated point instead.
    pub fn for_stream(seed: u64, stream: u64) -> Self {
        Self::new(mix(seed ^ mix(stream.wrapping_add(0x632B_E59B_D9B4_E019))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, n); `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        // Multiply-shift (Lemire): no division, negligible bias for n << 2^64.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// SplitMix64's output function: a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
    }

    #[test]
    fn neighbouring_streams_are_not_shifted_copies() {
        let draws = |stream| {
            let mut rng = SplitMix64::for_stream(0, stream);
            (0..64).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        let (a, b) = (draws(1), draws(2));
        assert!(a.iter().all(|x| !b.contains(x)));
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SplitMix64::new(1);
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            seen[rng.below(7)] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }

    #[test]
    fn floats_are_in_the_unit_interval() {
        let mut rng = SplitMix64::new(3);
        assert!((0..1000)
            .map(|_| rng.next_f64())
            .all(|x| (0.0..1.0).contains(&x)));
    }
}
