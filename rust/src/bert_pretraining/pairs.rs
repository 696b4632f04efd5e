//! Sentence pairs with next-sentence labels, as in BERT's pretraining.

use super::SpecialIds;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Label of a pair whose B really follows A (HF's convention: 0), and of a random B (1).
pub const IS_NEXT: u8 = 0;
pub const IS_RANDOM: u8 = 1;

/// One example: `[CLS] A [SEP] B [SEP]`, with segment ids 0 for `[CLS] A [SEP]`
/// and 1 for `B [SEP]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairExample {
    pub input_ids: Vec<u32>,
    pub token_type_ids: Vec<u8>,
    pub next_sentence_label: u8,
}

/// Builds pair examples from `documents` (each a list of sentences, each a
/// list of token ids), at most `max_length` tokens each.
///
/// Each document is walked in order: sentences accumulate into a chunk of
/// about `max_length - 3` tokens; the chunk is cut at a random sentence
/// boundary into A and B; with probability 0.5 (and always when the document
/// has a single sentence chunk) B is replaced by sentences from another
/// document, and the unused sentences are put back. Pairs too long are
/// truncated longest-first, taking tokens from a random end.
pub fn build_pairs(
    documents: &[Vec<Vec<u32>>],
    max_length: usize,
    special: SpecialIds,
    seed: u64,
) -> Result<Vec<PairExample>> {
    if max_length < 5 {
        return Err(Error::InvalidArgument(format!(
            "max_length must be at least 5 ([CLS] A [SEP] B [SEP]), got {max_length}"
        )));
    }
    let non_empty: Vec<usize> = (0..documents.len())
        .filter(|&d| documents[d].iter().any(|s| !s.is_empty()))
        .collect();
    if non_empty.len() < 2 {
        return Err(Error::InvalidArgument(format!(
            "next-sentence pairs need at least two non-empty documents, got {}",
            non_empty.len()
        )));
    }
    let target = max_length - 3;
    let mut rng = Rng::new(seed);
    let mut examples = Vec::new();
    for &doc_index in &non_empty {
        let sentences: Vec<&Vec<u32>> = documents[doc_index]
            .iter()
            .filter(|s| !s.is_empty())
            .collect();
        let mut chunk: Vec<&Vec<u32>> = Vec::new();
        let mut chunk_len = 0;
        let mut i = 0;
        while i < sentences.len() {
            chunk.push(sentences[i]);
            chunk_len += sentences[i].len();
            if i + 1 == sentences.len() || chunk_len >= target {
                let a_end = if chunk.len() >= 2 {
                    1 + rng.index(chunk.len() - 1)
                } else {
                    1
                };
                let a: Vec<u32> = chunk[..a_end]
                    .iter()
                    .flat_map(|s| s.iter().copied())
                    .collect();
                let (b, label) = if chunk.len() == 1 || rng.next_f64() < 0.5 {
                    // A random B: sentences from another document, and the
                    // sentences of this chunk after A go back to be used again.
                    let other = loop {
                        let candidate = non_empty[rng.index(non_empty.len())];
                        if candidate != doc_index {
                            break candidate;
                        }
                    };
                    let other_sentences: Vec<&Vec<u32>> =
                        documents[other].iter().filter(|s| !s.is_empty()).collect();
                    let start = rng.index(other_sentences.len());
                    let wanted = target.saturating_sub(a.len()).max(1);
                    let mut b = Vec::new();
                    for s in &other_sentences[start..] {
                        b.extend_from_slice(s);
                        if b.len() >= wanted {
                            break;
                        }
                    }
                    i -= chunk.len() - a_end;
                    (b, IS_RANDOM)
                } else {
                    let b: Vec<u32> = chunk[a_end..]
                        .iter()
                        .flat_map(|s| s.iter().copied())
                        .collect();
                    (b, IS_NEXT)
                };
                examples.push(assemble(a, b, label, target, special, &mut rng));
                chunk.clear();
                chunk_len = 0;
            }
            i += 1;
        }
    }
    Ok(examples)
}

/// Truncates A and B together to `budget` tokens (longest first, from a
/// random end) and adds the special tokens.
fn assemble(
    mut a: Vec<u32>,
    mut b: Vec<u32>,
    label: u8,
    budget: usize,
    special: SpecialIds,
    rng: &mut Rng,
) -> PairExample {
    while a.len() + b.len() > budget {
        let longer = if a.len() > b.len() { &mut a } else { &mut b };
        if rng.next_f64() < 0.5 {
            longer.remove(0);
        } else {
            longer.pop();
        }
    }
    let mut input_ids = Vec::with_capacity(a.len() + b.len() + 3);
    input_ids.push(special.cls);
    input_ids.extend_from_slice(&a);
    input_ids.push(special.sep);
    let first_segment = input_ids.len();
    input_ids.extend_from_slice(&b);
    input_ids.push(special.sep);
    let mut token_type_ids = vec![0u8; input_ids.len()];
    token_type_ids[first_segment..].fill(1);
    PairExample {
        input_ids,
        token_type_ids,
        next_sentence_label: label,
    }
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

    /// Document d, sentence s holds tokens d*1000 + s*10 + k, so every token
    /// says where it came from.
    fn corpus() -> Vec<Vec<Vec<u32>>> {
        (1..=6u32)
            .map(|d| {
                (0..8u32)
                    .map(|s| (0..(3 + (s % 4))).map(|k| d * 1000 + s * 10 + k).collect())
                    .collect()
            })
            .collect()
    }

    fn origin(token: u32) -> (u32, u32) {
        (token / 1000, (token % 1000) / 10)
    }

    #[test]
    fn labels_say_whether_b_follows_a() {
        let examples = build_pairs(&corpus(), 24, SPECIAL, 5).unwrap();
        assert!(examples.len() > 10);
        for ex in &examples {
            let sep = ex.input_ids.iter().position(|&t| t == SPECIAL.sep).unwrap();
            let a = &ex.input_ids[1..sep];
            let b = &ex.input_ids[sep + 1..ex.input_ids.len() - 1];
            let (doc_a, _) = origin(*a.last().unwrap());
            let (doc_b, _) = origin(b[0]);
            if ex.next_sentence_label == IS_NEXT {
                assert_eq!(doc_a, doc_b);
                let (_, last_a) = origin(*a.last().unwrap());
                let (_, first_b) = origin(b[0]);
                assert!(first_b > last_a, "B must come after A");
            } else {
                assert_ne!(doc_a, doc_b);
            }
        }
    }

    #[test]
    fn both_labels_occur_about_equally() {
        let examples = build_pairs(&corpus(), 16, SPECIAL, 11).unwrap();
        let random = examples
            .iter()
            .filter(|e| e.next_sentence_label == IS_RANDOM)
            .count();
        let share = random as f64 / examples.len() as f64;
        assert!((0.3..0.7).contains(&share), "{share}");
    }

    #[test]
    fn examples_fit_and_carry_segments() {
        for ex in build_pairs(&corpus(), 12, SPECIAL, 2).unwrap() {
            assert!(ex.input_ids.len() <= 12);
            assert_eq!(ex.input_ids[0], SPECIAL.cls);
            assert_eq!(*ex.input_ids.last().unwrap(), SPECIAL.sep);
            let sep = ex.input_ids.iter().position(|&t| t == SPECIAL.sep).unwrap();
            assert!(ex.token_type_ids[..=sep].iter().all(|&t| t == 0));
            assert!(ex.token_type_ids[sep + 1..].iter().all(|&t| t == 1));
            assert!(
                sep >= 2 && ex.input_ids.len() - sep >= 3,
                "A and B are non-empty"
            );
        }
    }

    #[test]
    fn same_seed_same_pairs() {
        let a = build_pairs(&corpus(), 20, SPECIAL, 9).unwrap();
        assert_eq!(a, build_pairs(&corpus(), 20, SPECIAL, 9).unwrap());
        assert_ne!(a, build_pairs(&corpus(), 20, SPECIAL, 10).unwrap());
    }

    #[test]
    fn one_document_is_an_error() {
        let err = build_pairs(&corpus()[..1], 20, SPECIAL, 1).unwrap_err();
        assert!(err.to_string().contains("two non-empty documents"));
    }
}
