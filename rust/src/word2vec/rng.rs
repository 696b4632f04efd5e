//! A small, fast random generator (SplitMix64), one per thread or job.
//!
//! Word2Vec draws several random numbers per word (subsampling, the window,
//! the negatives), so the generator must be a few instructions and never
//! shared between threads.

/// SplitMix64: 64 bits of state, passes BigCrush, one multiply-xorshift chain per draw.
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
    /// unit, such as epoch and job index), independent of the thread it runs on.
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

    /// A uniform float in `[0, 1)`.
    #[inline(always)]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_keys_matter() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = Rng::new(7);
        assert!(a.iter().all(|&x| x == r.next_u64()));
        let mut x = Rng::for_keys(1, &[0, 3]);
        let mut y = Rng::for_keys(1, &[3, 0]);
        assert_ne!(x.next_u64(), y.next_u64());
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = Rng::new(3);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[r.below(7) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800 && n < 1200), "{seen:?}");
        let f = r.next_f32();
        assert!((0.0..1.0).contains(&f));
    }
}
