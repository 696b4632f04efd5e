//! Masked-LM masking: which positions the model must predict, and what it sees there.

use super::SpecialIds;
use crate::rng::SplitMix64;

/// The label of a position the loss ignores (PyTorch's `ignore_index`).
pub const IGNORE: i64 = -100;

/// How to mask one example.
#[derive(Debug, Clone, Copy)]
pub struct MaskingConfig {
    /// Share of the maskable positions to predict (BERT: 0.15).
    pub probability: f64,
    /// Random replacement tokens are drawn from `first_random_id..vocab_size`,
    /// so they are never special tokens (in BERT's vocab ids below 999 are
    /// `[PAD]`, `[unusedN]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`).
    pub first_random_id: u32,
    pub vocab_size: u32,
    /// Mask whole words: a word's `##` continuations are masked with it.
    pub whole_word: bool,
}

/// Masks `input_ids` in place and returns the labels: the original id at each
/// position to predict, [`IGNORE`] elsewhere.
///
/// `is_special[i]` marks positions that are never masked (`[CLS]`, `[SEP]`,
/// padding); `is_continuation[i]` marks `##` pieces (used for whole words).
/// Exactly `max(1, round(probability * maskable))` positions (or whole words
/// covering at least that many) are chosen; of those, 80% become `[MASK]`, 10%
/// a random token and 10% keep their id.
pub fn mask_tokens(
    input_ids: &mut [u32],
    is_special: &[bool],
    is_continuation: &[bool],
    special: SpecialIds,
    config: MaskingConfig,
    rng: &mut SplitMix64,
) -> Vec<i64> {
    let mut labels = vec![IGNORE; input_ids.len()];
    // Units that are masked together: single positions, or whole words.
    let mut units: Vec<Vec<usize>> = Vec::new();
    for i in 0..input_ids.len() {
        if is_special[i] {
            continue;
        }
        let joins_previous = config.whole_word && is_continuation[i] && i > 0 && !is_special[i - 1];
        match units.last_mut() {
            Some(unit) if joins_previous && unit.last() == Some(&(i - 1)) => unit.push(i),
            _ => units.push(vec![i]),
        }
    }
    let maskable: usize = units.iter().map(Vec::len).sum();
    if maskable == 0 {
        return labels;
    }
    let wanted = ((config.probability * maskable as f64).round() as usize).max(1);
    rng.shuffle(&mut units);
    let mut chosen = 0;
    for unit in units {
        if chosen >= wanted {
            break;
        }
        for &i in &unit {
            labels[i] = i64::from(input_ids[i]);
            let roll = rng.next_f64();
            if roll < 0.8 {
                input_ids[i] = special.mask;
            } else if roll < 0.9 {
                let span = config
                    .vocab_size
                    .saturating_sub(config.first_random_id)
                    .max(1);
                input_ids[i] = config.first_random_id + rng.below(span as usize) as u32;
            }
        }
        chosen += unit.len();
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECIAL: SpecialIds = SpecialIds {
        cls: 101,
        sep: 102,
        mask: 103,
        pad: 0,
    };
    const CONFIG: MaskingConfig = MaskingConfig {
        probability: 0.15,
        first_random_id: 999,
        vocab_size: 30522,
        whole_word: false,
    };

    fn example(n: usize) -> (Vec<u32>, Vec<bool>) {
        let mut ids: Vec<u32> = (0..n as u32).map(|i| 2000 + i).collect();
        ids[0] = SPECIAL.cls;
        ids[n - 1] = SPECIAL.sep;
        let special = (0..n).map(|i| i == 0 || i == n - 1).collect();
        (ids, special)
    }

    #[test]
    fn masks_fifteen_percent_and_never_special_tokens() {
        let (original, special) = example(102);
        let mut rng = SplitMix64::new(4);
        for _ in 0..50 {
            let mut ids = original.clone();
            let labels = mask_tokens(&mut ids, &special, &[false; 102], SPECIAL, CONFIG, &mut rng);
            let predicted = labels.iter().filter(|&&l| l != IGNORE).count();
            assert_eq!(predicted, 15); // round(0.15 * 100)
            assert_eq!(labels[0], IGNORE);
            assert_eq!(labels[101], IGNORE);
            assert_eq!((ids[0], ids[101]), (SPECIAL.cls, SPECIAL.sep));
            for i in 0..102 {
                if labels[i] == IGNORE {
                    assert_eq!(ids[i], original[i]);
                } else {
                    assert_eq!(labels[i], i64::from(original[i]));
                }
            }
        }
    }

    #[test]
    fn replacement_shares_are_80_10_10() {
        let (original, special) = example(402);
        let mut rng = SplitMix64::new(8);
        let (mut masked, mut random, mut kept) = (0, 0, 0);
        for _ in 0..400 {
            let mut ids = original.clone();
            let labels = mask_tokens(&mut ids, &special, &[false; 402], SPECIAL, CONFIG, &mut rng);
            for i in 0..ids.len() {
                if labels[i] == IGNORE {
                    continue;
                }
                if ids[i] == SPECIAL.mask {
                    masked += 1;
                } else if ids[i] == original[i] {
                    kept += 1;
                } else {
                    assert!(ids[i] >= 999 && ids[i] < 30522);
                    random += 1;
                }
            }
        }
        let total = f64::from(masked + random + kept);
        // A random token can equal the original (1 in 29523): ignore that here.
        assert!((f64::from(masked) / total - 0.8).abs() < 0.01);
        assert!((f64::from(random) / total - 0.1).abs() < 0.01);
        assert!((f64::from(kept) / total - 0.1).abs() < 0.01);
    }

    #[test]
    fn whole_words_are_masked_together() {
        // [CLS] un ##believ ##able story [SEP]: "unbelievable" is one unit.
        let mut ids = vec![101, 4895, 24455, 3085, 2466, 102];
        let special = [true, false, false, false, false, true];
        let continuation = [false, false, true, true, false, false];
        let config = MaskingConfig {
            whole_word: true,
            probability: 0.5,
            ..CONFIG
        };
        for seed in 0..20 {
            let mut copy = ids.clone();
            let labels = mask_tokens(
                &mut copy,
                &special,
                &continuation,
                SPECIAL,
                config,
                &mut SplitMix64::new(seed),
            );
            let word = [labels[1], labels[2], labels[3]];
            assert!(word.iter().all(|&l| l == IGNORE) || word.iter().all(|&l| l != IGNORE));
        }
        ids.truncate(2);
        ids.push(102);
        let labels = mask_tokens(
            &mut ids,
            &[true, false, true],
            &[false; 3],
            SPECIAL,
            config,
            &mut SplitMix64::new(0),
        );
        assert_eq!(
            labels.iter().filter(|&&l| l != IGNORE).count(),
            1,
            "at least one position"
        );
    }

    #[test]
    fn nothing_maskable_changes_nothing() {
        let mut ids = vec![101, 102];
        let labels = mask_tokens(
            &mut ids,
            &[true, true],
            &[false, false],
            SPECIAL,
            CONFIG,
            &mut SplitMix64::new(0),
        );
        assert_eq!(labels, vec![IGNORE, IGNORE]);
        assert_eq!(ids, vec![101, 102]);
    }
}
