//! The one random generator of the core: SplitMix64, small, fast and seedable.
//!
//! The data pipelines need reproducible streams for a given seed on every
//! platform, not cryptographic quality; SplitMix64 passes BigCrush and costs a
//! few instructions per draw. Word2Vec draws several numbers per word
//! (subsampling, the window, the negatives), so the hot draws are inlined and
//! have 32-bit variants; BERT's pipeline draws indices and probabilities.

#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// A generator for one unit of work (`seed`, then the keys that name the
    /// unit, such as epoch and job index, or a row of a batch), independent
    /// of the thread it runs on.
    ///
    /// Seeding units with `seed + unit` would be wrong: SplitMix64's states
    /// step by a constant, so such streams are shifted copies of each other.
    /// Mixing the keys in puts each stream at an unrelated point instead.
    pub fn for_keys(seed: u64, keys: &[u64]) -> Self {
        let mut mixed = Rng::new(seed ^ 0x5851_F42D_4C95_7F2D);
        for &key in keys {
            mixed.state ^= key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            mixed.next_u64();
        }
        Rng::new(mixed.next_u64())
    }

    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[inline(always)]
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniform integer in `0..n` (`n > 0`), by multiply-shift (no division).
    #[inline(always)]
    pub fn below(&mut self, n: u32) -> u32 {
        ((self.next_u32() as u64 * n as u64) >> 32) as u32
    }

    /// A uniform index in `0..n` (`n > 0`) for any `usize`, by 64-bit
    /// multiply-shift (Lemire): negligible bias for n << 2^64.
    #[inline]
    pub fn index(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A uniform float in `[0, 1)` with 24 bits (Word2Vec's initial vectors).
    #[inline(always)]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// A uniform float in `[0, 1)` with 53 bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.index(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_keys_matter() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
        let mut x = Rng::for_keys(1, &[0, 3]);
        let mut y = Rng::for_keys(1, &[3, 0]);
        assert_ne!(x.next_u64(), y.next_u64());
    }

    #[test]
    fn neighbouring_streams_are_not_shifted_copies() {
        let draws = |unit| {
            let mut rng = Rng::for_keys(0, &[unit]);
            (0..64).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        let (a, b) = (draws(1), draws(2));
        assert!(a.iter().all(|x| !b.contains(x)));
    }

    #[test]
    fn below_and_index_stay_in_range_and_cover_it() {
        let mut rng = Rng::new(3);
        let mut seen = [0u32; 7];
        let mut seen_index = [0u32; 7];
        for _ in 0..7000 {
            seen[rng.below(7) as usize] += 1;
            seen_index[rng.index(7)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800 && n < 1200), "{seen:?}");
        assert!(
            seen_index.iter().all(|&n| n > 800 && n < 1200),
            "{seen_index:?}"
        );
    }

    #[test]
    fn floats_are_in_the_unit_interval() {
        let mut rng = Rng::new(3);
        assert!((0..1000).all(|_| (0.0..1.0).contains(&rng.next_f64())));
        assert!((0..1000).all(|_| (0.0..1.0).contains(&rng.next_f32())));
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut items: Vec<u32> = (0..50).collect();
        Rng::new(5).shuffle(&mut items);
        assert_ne!(items, (0..50).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..50).collect::<Vec<_>>());
    }
}
