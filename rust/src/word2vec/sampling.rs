//! Frequent-word subsampling and the noise distribution for negatives.

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Drops frequent words at random, with the keep probability of the original
/// word2vec tool: with `t = sample * total` and a word counted `c` times,
/// `keep = (sqrt(c / t) + 1) * t / c`, capped at 1. `sample = 0` keeps all.
#[derive(Debug, Clone)]
pub struct Subsampler {
    /// Keep when a uniform 32-bit draw is below this (2^32 means always).
    thresholds: Vec<u64>,
}

impl Subsampler {
    /// Keep probabilities for words with these counts; `sample < 0` is an error.
    pub fn new(counts: &[u64], sample: f64) -> Result<Self> {
        if !(sample >= 0.0 && sample.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "sample must be >= 0, got {sample}"
            )));
        }
        let total: u64 = counts.iter().sum();
        let thresholds = counts
            .iter()
            .map(|&c| {
                let p = keep_probability(c, total, sample);
                (p * 4_294_967_296.0).round() as u64
            })
            .collect();
        Ok(Subsampler { thresholds })
    }

    /// The keep probability of word `id`.
    pub fn keep_probability(&self, id: u32) -> f64 {
        self.thresholds[id as usize] as f64 / 4_294_967_296.0
    }

    /// Whether to keep this occurrence of word `id` (`id` must be in the vocabulary).
    #[inline(always)]
    pub fn keep(&self, id: u32, rng: &mut Rng) -> bool {
        (rng.next_u32() as u64) < self.thresholds[id as usize]
    }

    /// Copies the kept words of `sentence` into `out` (cleared first).
    #[inline]
    pub fn filter_into(&self, sentence: &[u32], rng: &mut Rng, out: &mut Vec<u32>) {
        out.clear();
        for &id in sentence {
            if self.keep(id, rng) {
                out.push(id);
            }
        }
    }
}

/// The formula, for one word: the chance that an occurrence is kept.
pub fn keep_probability(count: u64, total: u64, sample: f64) -> f64 {
    if sample <= 0.0 || count == 0 {
        return 1.0;
    }
    let t = sample * total as f64;
    let c = count as f64;
    (((c / t).sqrt() + 1.0) * t / c).min(1.0)
}

/// The noise distribution `P(w) ~ count(w)^exponent`, drawn in O(1) by
/// Walker's alias method: one random 64-bit number per draw, two array reads.
#[derive(Debug, Clone)]
pub struct NoiseTable {
    /// Column `i` returns `i` when the low 32 bits of the draw are below
    /// `threshold[i]`, else `alias[i]`.
    threshold: Vec<u32>,
    alias: Vec<u32>,
}

impl NoiseTable {
    /// The alias table of `counts^exponent`; an empty or all-zero `counts` is an error.
    pub fn new(counts: &[u64], exponent: f64) -> Result<Self> {
        if !exponent.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "ns_exponent must be finite, got {exponent}"
            )));
        }
        let n = counts.len();
        if n == 0 || n >= u32::MAX as usize {
            return Err(Error::InvalidArgument(format!(
                "the noise distribution needs 1 to 2^32-2 words, got {n}"
            )));
        }
        let weights: Vec<f64> = counts
            .iter()
            .map(|&c| {
                if c == 0 {
                    0.0
                } else {
                    (c as f64).powf(exponent)
                }
            })
            .collect();
        let sum: f64 = weights.iter().sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return Err(Error::InvalidArgument(
                "the noise distribution has no mass (all counts are zero)".into(),
            ));
        }
        // Scaled so the mean column holds exactly 1.
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / sum).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let mut full = vec![false; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s] = l as u32;
            // Column s holds scaled[s] of itself, the rest comes from l.
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left (rounding) is a full column of itself.
        for i in large.into_iter().chain(small) {
            full[i] = true;
            alias[i] = i as u32;
        }
        let threshold = (0..n)
            .map(|i| {
                if full[i] {
                    u32::MAX
                } else {
                    (scaled[i].clamp(0.0, 1.0) * 4_294_967_296.0).min(u32::MAX as f64) as u32
                }
            })
            .collect();
        Ok(NoiseTable { threshold, alias })
    }

    /// Number of words that can be drawn.
    pub fn len(&self) -> usize {
        self.alias.len()
    }

    /// Whether the table has no word (never, once built).
    pub fn is_empty(&self) -> bool {
        self.alias.is_empty()
    }

    /// One word id drawn from the noise distribution.
    #[inline(always)]
    pub fn draw(&self, rng: &mut Rng) -> u32 {
        let r = rng.next_u64();
        let column = (((r >> 32) * self.alias.len() as u64) >> 32) as usize;
        // Both arrays have the same length and every alias entry is < len
        // (checked by construction), so indexing cannot fail.
        if (r as u32) < self.threshold[column] {
            column as u32
        } else {
            self.alias[column]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_probability_matches_the_formula() {
        // t = 1e-3 * 10_000 = 10; a word seen 1000 times: (sqrt(100) + 1) * 10 / 1000.
        assert!((keep_probability(1000, 10_000, 1e-3) - 0.11).abs() < 1e-12);
        assert_eq!(keep_probability(5, 10_000, 1e-3), 1.0);
        assert_eq!(keep_probability(1000, 10_000, 0.0), 1.0);
    }

    #[test]
    fn subsampling_keep_rates_follow_the_formula() {
        let counts = [50_000u64, 5_000, 500, 50];
        let total: u64 = counts.iter().sum();
        let s = Subsampler::new(&counts, 1e-3).unwrap();
        let mut rng = Rng::new(11);
        let trials = 200_000;
        for (id, &c) in counts.iter().enumerate() {
            let kept = (0..trials).filter(|_| s.keep(id as u32, &mut rng)).count();
            let p = keep_probability(c, total, 1e-3);
            let rate = kept as f64 / trials as f64;
            let sd = (p * (1.0 - p) / trials as f64).sqrt().max(1e-9);
            assert!(
                (rate - p).abs() < 5.0 * sd + 1e-9,
                "word {id}: {rate} vs {p}"
            );
        }
    }

    #[test]
    fn noise_draws_follow_count_to_the_exponent() {
        let counts: Vec<u64> = vec![1000, 400, 250, 100, 30, 7, 1, 0, 5000, 2];
        let table = NoiseTable::new(&counts, 0.75).unwrap();
        let mut rng = Rng::new(5);
        let draws = 2_000_000;
        let mut seen = vec![0u64; counts.len()];
        for _ in 0..draws {
            seen[table.draw(&mut rng) as usize] += 1;
        }
        let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
        let sum: f64 = weights.iter().sum();
        assert_eq!(seen[7], 0, "a zero count is never drawn");
        let mut chi2 = 0.0;
        let mut cells = 0;
        for (i, w) in weights.iter().enumerate() {
            if *w > 0.0 {
                let expected = w / sum * draws as f64;
                chi2 += (seen[i] as f64 - expected).powi(2) / expected;
                cells += 1;
            }
        }
        // 8 degrees of freedom: the 0.999 quantile is 26.1.
        assert_eq!(cells, 9);
        assert!(chi2 < 26.1, "chi-square {chi2}");
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(NoiseTable::new(&[], 0.75).is_err());
        assert!(NoiseTable::new(&[0, 0], 0.75).is_err());
        assert!(Subsampler::new(&[1], -1.0).is_err());
        let uniform = NoiseTable::new(&[1, 100], 0.0).unwrap();
        assert_eq!(uniform.len(), 2);
    }
}
