//! Masked-LM masking: which positions the model must predict, and what it sees there.

use super::roles::TokenRoles;
use crate::error::{Error, Result};
use crate::parallel::map_ordered;
use crate::rng::Rng;

/// The label of a position the loss ignores (PyTorch's `ignore_index`).
pub const IGNORE: i64 = -100;

/// Batches with fewer tokens than this are masked on the calling thread:
/// spawning threads would cost more than the work.
const PARALLEL_TOKENS: usize = 1 << 16;

/// How to mask.
#[derive(Debug, Clone, Copy)]
pub struct MaskingConfig {
    /// Share of the maskable positions to predict (BERT: 0.15). 0 masks nothing.
    pub probability: f64,
    /// Mask whole words: a word's `##` continuations are masked with it.
    pub whole_word: bool,
}

impl MaskingConfig {
    fn check(&self) -> Result<()> {
        if (0.0..=1.0).contains(&self.probability) {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "masking probability must be in [0, 1], got {}",
                self.probability
            )))
        }
    }
}

/// Masks one example in place and returns the labels: the original id at
/// each position to predict, [`IGNORE`] elsewhere.
///
/// Reserved ids (special tokens, padding) are never chosen. With a positive
/// probability exactly `max(1, round(probability * maskable))` positions (or
/// whole words covering at least that many) are chosen; of those, 80% become
/// `[MASK]`, 10% a random non-reserved token and 10% keep their id.
pub fn mask_tokens(
    input_ids: &mut [u32],
    roles: &TokenRoles,
    config: MaskingConfig,
    rng: &mut Rng,
) -> Vec<i64> {
    let mut labels = vec![IGNORE; input_ids.len()];
    // Units that are masked together: single positions, or whole words.
    let mut units: Vec<Vec<usize>> = Vec::new();
    let mut previous_maskable = false;
    for (i, &id) in input_ids.iter().enumerate() {
        let maskable = !roles.is_reserved(id);
        if maskable {
            let joins = config.whole_word && previous_maskable && roles.is_continuation(id);
            match units.last_mut() {
                Some(unit) if joins => unit.push(i),
                _ => units.push(vec![i]),
            }
        }
        previous_maskable = maskable;
    }
    let maskable: usize = units.iter().map(Vec::len).sum();
    if maskable == 0 || config.probability == 0.0 {
        return labels;
    }
    let wanted = ((config.probability * maskable as f64).round() as usize).max(1);
    rng.shuffle(&mut units);
    let replacements = roles.replacements();
    let mut chosen = 0;
    for unit in units {
        if chosen >= wanted {
            break;
        }
        for &i in &unit {
            labels[i] = i64::from(input_ids[i]);
            let roll = rng.next_f64();
            if roll < 0.8 {
                input_ids[i] = roles.special.mask;
            } else if roll < 0.9 && !replacements.is_empty() {
                input_ids[i] = replacements[rng.index(replacements.len())];
            }
        }
        chosen += unit.len();
    }
    labels
}

/// Masks `rows x width` ids in place (row-major) and returns the labels in
/// the same layout. Row `r` draws from its own stream keyed by `(seed, r)`,
/// so the result does not depend on `threads`.
pub fn mask_rows(
    input_ids: &mut [u32],
    width: usize,
    roles: &TokenRoles,
    config: MaskingConfig,
    seed: u64,
    threads: usize,
) -> Result<Vec<i64>> {
    config.check()?;
    if width == 0 || input_ids.len() % width != 0 {
        return Err(Error::InvalidArgument(format!(
            "{} ids do not form rows of width {width}",
            input_ids.len()
        )));
    }
    let threads = if input_ids.len() < PARALLEL_TOKENS {
        1
    } else {
        threads
    };
    let rows: Vec<(usize, std::sync::Mutex<&mut [u32]>)> = input_ids
        .chunks_mut(width)
        .map(std::sync::Mutex::new)
        .enumerate()
        .collect();
    let labels = map_ordered(&rows, threads, |(index, row)| {
        let mut row = row.lock().unwrap_or_else(|e| e.into_inner());
        let mut rng = Rng::for_keys(seed, &[*index as u64]);
        mask_tokens(&mut row, roles, config, &mut rng)
    });
    Ok(labels.concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bert_pretraining::roles::tests::tokenizer;

    const CONFIG: MaskingConfig = MaskingConfig {
        probability: 0.15,
        whole_word: false,
    };

    fn roles() -> TokenRoles {
        TokenRoles::from_tokenizer(&tokenizer()).unwrap()
    }

    /// `[CLS]` n-2 word ids `[SEP]`, words cycling through the w0..w39 tokens.
    fn example(roles: &TokenRoles, n: usize) -> Vec<u32> {
        let first_word = roles.vocab_size() as u32 - 40;
        let mut ids: Vec<u32> = (0..n as u32).map(|i| first_word + i % 40).collect();
        ids[0] = roles.special.cls;
        ids[n - 1] = roles.special.sep;
        ids
    }

    #[test]
    fn masks_fifteen_percent_and_never_reserved_ids() {
        let roles = roles();
        let mut original = example(&roles, 104);
        original[50] = roles.special.pad;
        original[51] = 3; // [UNK]
        let mut rng = Rng::new(4);
        for _ in 0..50 {
            let mut ids = original.clone();
            let labels = mask_tokens(&mut ids, &roles, CONFIG, &mut rng);
            let predicted = labels.iter().filter(|&&l| l != IGNORE).count();
            assert_eq!(predicted, 15); // round(0.15 * 100)
            for i in [0, 50, 51, 103] {
                assert_eq!((labels[i], ids[i]), (IGNORE, original[i]));
            }
            for i in 0..ids.len() {
                if labels[i] == IGNORE {
                    assert_eq!(ids[i], original[i]);
                } else {
                    assert_eq!(labels[i], i64::from(original[i]));
                }
            }
        }
    }

    #[test]
    fn replacement_shares_are_80_10_10_and_never_reserved() {
        let roles = roles();
        let original = example(&roles, 402);
        let mut rng = Rng::new(8);
        let (mut masked, mut random, mut kept) = (0, 0, 0);
        for _ in 0..400 {
            let mut ids = original.clone();
            let labels = mask_tokens(&mut ids, &roles, CONFIG, &mut rng);
            for i in 0..ids.len() {
                if labels[i] == IGNORE {
                    continue;
                }
                if ids[i] == roles.special.mask {
                    masked += 1;
                } else if ids[i] == original[i] {
                    kept += 1;
                } else {
                    assert!(!roles.is_reserved(ids[i]), "{}", ids[i]);
                    random += 1;
                }
            }
        }
        // A random token equals the original 1 time in 57: within the margin.
        let total = f64::from(masked + random + kept);
        assert!((f64::from(masked) / total - 0.8).abs() < 0.01);
        assert!((f64::from(random) / total - 0.1).abs() < 0.01);
        assert!((f64::from(kept) / total - 0.1).abs() < 0.01);
    }

    #[test]
    fn whole_words_are_masked_together() {
        let tok = tokenizer();
        let roles = roles();
        let id = |t: &str| tok.vocab().token_to_id(t).unwrap();
        // [CLS] un ##believ ##able story [SEP]: "unbelievable" is one unit.
        let ids: Vec<u32> = ["[CLS]", "un", "##believ", "##able", "story", "[SEP]"]
            .iter()
            .map(|t| id(t))
            .collect();
        let config = MaskingConfig {
            whole_word: true,
            probability: 0.5,
        };
        let mut whole = 0;
        for seed in 0..40 {
            let mut copy = ids.clone();
            let labels = mask_tokens(&mut copy, &roles, config, &mut Rng::new(seed));
            let word = [labels[1], labels[2], labels[3]];
            let all = word.iter().all(|&l| l != IGNORE);
            assert!(all || word.iter().all(|&l| l == IGNORE));
            whole += usize::from(all);
        }
        assert!(whole > 5, "the word was chosen {whole} times");
        // A row with a single maskable position still gets one.
        let mut short = vec![id("[CLS]"), id("story"), id("[SEP]")];
        let labels = mask_tokens(&mut short, &roles, config, &mut Rng::new(0));
        assert_eq!(labels.iter().filter(|&&l| l != IGNORE).count(), 1);
    }

    #[test]
    fn nothing_maskable_or_zero_probability_changes_nothing() {
        let roles = roles();
        let mut ids = vec![roles.special.cls, roles.special.sep];
        let labels = mask_tokens(&mut ids, &roles, CONFIG, &mut Rng::new(0));
        assert_eq!(labels, vec![IGNORE, IGNORE]);
        let original = example(&roles, 30);
        let mut ids = original.clone();
        let none = MaskingConfig {
            probability: 0.0,
            ..CONFIG
        };
        let labels = mask_tokens(&mut ids, &roles, none, &mut Rng::new(0));
        assert!(labels.iter().all(|&l| l == IGNORE) && ids == original);
    }

    #[test]
    fn rows_are_seeded_and_independent_of_threads() {
        let roles = roles();
        let rows: Vec<u32> = (0..700).flat_map(|_| example(&roles, 100)).collect();
        let run = |seed, threads| {
            let mut ids = rows.clone();
            let labels = mask_rows(&mut ids, 100, &roles, CONFIG, seed, threads).unwrap();
            (ids, labels)
        };
        let one = run(3, 1);
        assert_eq!(one, run(3, 4));
        assert_ne!(one, run(4, 1));
        // Each row has its own stream: rows 0 and 1 differ though their ids agree.
        assert_ne!(one.1[..100], one.1[100..200]);
        let mut odd = rows[..150].to_vec();
        let err = mask_rows(&mut odd, 100, &roles, CONFIG, 0, 1).unwrap_err();
        assert!(err.to_string().contains("rows of width 100"), "{err}");
        let bad = MaskingConfig {
            probability: 1.5,
            ..CONFIG
        };
        let err = mask_rows(&mut odd, 50, &roles, bad, 0, 1).unwrap_err();
        assert!(err.to_string().contains("in [0, 1], got 1.5"), "{err}");
    }
}
