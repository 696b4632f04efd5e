//! Training a WordPiece vocabulary.
//!
//! Words are counted after BERT's normalizer and pre-tokenizer; then, as for
//! BPE, the most frequent adjacent pair of symbols is merged again and again.
//! A word starts as its first character followed by `##`-prefixed characters,
//! so every merged symbol is a valid WordPiece token: `a` + `##b` gives `ab`,
//! `##a` + `##b` gives `##ab`. The vocabulary is the special tokens, then the
//! alphabet (sorted), then the merged symbols in the order they were made.
//!
//! The alphabet holds every character of the corpus on its own, and as `##c`
//! too where it occurs inside a word, so any text of the corpus's characters
//! encodes without `[UNK]`, as Hugging Face's trainer does. With
//! `limit_alphabet` only that many of the most frequent characters are kept;
//! the others are left out of the words before merging.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use super::normalizer::{split_words, NormalizerOptions, WordBuffer};
use super::vocab::{FastMap, CONTINUATION_PREFIX};
use crate::error::{Error, Result};
use crate::parallel::{for_each_balanced, rounds, StopCheck, HEAP_POP_WORK, WORK_PER_CHECK};

/// How many times each normalized, pre-tokenized word occurs.
#[derive(Debug, Default, Clone)]
pub struct WordCounts {
    counts: FastMap<String, u64>,
}

impl WordCounts {
    /// Counts the words of `texts` on `threads` threads, in rounds with
    /// `keep_going` asked before each; when it answers false the call stops
    /// with [`Error::Interrupted`].
    pub fn from_texts<S: AsRef<str> + Sync>(
        texts: &[S],
        normalizer: NormalizerOptions,
        threads: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Self> {
        let threads = threads.clamp(1, texts.len().max(1));
        // Each thread's counts and word buffer, kept for the whole call.
        let mut parts: Vec<(WordCounts, WordBuffer)> = (0..threads)
            .map(|_| (WordCounts::default(), WordBuffer::default()))
            .collect();
        for round in rounds(texts.len(), threads, |i| texts[i].as_ref().len()) {
            if !keep_going() {
                return Err(Error::Interrupted);
            }
            let round = &texts[round];
            for_each_balanced(round.len(), &mut parts, |(counts, buf), block| {
                for text in &round[block] {
                    split_words(
                        text.as_ref(),
                        0,
                        normalizer,
                        buf,
                        &mut |w: &str, _: &[u32]| {
                            if let Some(c) = counts.counts.get_mut(w) {
                                *c += 1;
                            } else {
                                counts.counts.insert(w.to_owned(), 1);
                            }
                        },
                    );
                }
            });
        }
        let mut total = WordCounts::default();
        for (part, _) in parts {
            total.merge(part);
        }
        Ok(total)
    }

    /// Counts the words of a UTF-8 text file, as [`WordCounts::from_texts`]
    /// does its lines.
    pub fn from_file(
        path: &Path,
        normalizer: NormalizerOptions,
        threads: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let bytes = e.as_bytes();
                let bad = e.utf8_error().valid_up_to();
                let line_start = bytes[..bad]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let line = bytes[..bad].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                return Err(Error::InvalidUtf8 {
                    path: path.to_path_buf(),
                    line,
                    column: bad - line_start,
                });
            }
        };
        let lines: Vec<&str> = text.lines().collect();
        Self::from_texts(&lines, normalizer, threads, keep_going)
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: WordCounts) {
        if self.counts.is_empty() {
            self.counts = other.counts;
            return;
        }
        for (word, n) in other.counts {
            *self.counts.entry(word).or_insert(0) += n;
        }
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainerOptions {
    /// Stop once the vocabulary has this many tokens (the special tokens and
    /// the alphabet are always kept, even beyond it).
    pub vocab_size: usize,
    /// Pairs seen fewer times than this are never merged.
    pub min_frequency: u64,
    /// Tokens placed first, in this order.
    pub special_tokens: Vec<String>,
    /// Keep only this many characters, the most frequent (ties: the smaller
    /// character); None keeps every one.
    pub limit_alphabet: Option<usize>,
}

/// How often a character occurs, and whether it occurs after a word's start.
#[derive(Default, Clone, Copy)]
struct CharUse {
    count: u64,
    inside: bool,
}

/// The characters kept in the alphabet, and its symbols sorted.
fn alphabet(
    entries: &[(&String, u64)],
    limit: Option<usize>,
    check: &mut StopCheck,
) -> Result<(FastMap<char, ()>, Vec<String>)> {
    // Distinct characters first: sorting one string per character of every
    // word would take seconds on a big corpus.
    let mut uses: FastMap<char, CharUse> = FastMap::default();
    for (w, n) in entries {
        check.step(w.len())?;
        for (i, c) in w.chars().enumerate() {
            let entry = uses.entry(c).or_default();
            entry.count += n;
            entry.inside |= i > 0;
        }
    }
    let mut chars: Vec<(char, CharUse)> = uses.into_iter().collect();
    if let Some(limit) = limit {
        chars.sort_unstable_by_key(|&(c, u)| (Reverse(u.count), c));
        chars.truncate(limit);
    }
    let mut symbols = Vec::with_capacity(2 * chars.len());
    for &(c, u) in &chars {
        symbols.push(c.to_string());
        if u.inside {
            symbols.push(format!("{CONTINUATION_PREFIX}{c}"));
        }
    }
    symbols.sort_unstable();
    Ok((chars.into_iter().map(|(c, _)| (c, ())).collect(), symbols))
}

/// The symbol a merge of `left` and `right` makes.
fn merged(left: &str, right: &str) -> String {
    let tail = right.strip_prefix(CONTINUATION_PREFIX).unwrap_or(right);
    format!("{left}{tail}")
}

/// Learns a vocabulary from word counts; returns the tokens in id order.
/// `keep_going` is asked once per [`WORK_PER_CHECK`] symbols visited; when it
/// answers false training stops with [`Error::Interrupted`].
pub fn train(
    words: &WordCounts,
    opts: &TrainerOptions,
    keep_going: &dyn Fn() -> bool,
) -> Result<Vec<String>> {
    let mut check = StopCheck::new(keep_going, WORK_PER_CHECK);
    let mut tokens: Vec<String> = Vec::new();
    let mut ids: FastMap<String, u32> = FastMap::default();
    let mut add = |token: String, tokens: &mut Vec<String>| -> u32 {
        if let Some(&id) = ids.get(&token) {
            return id;
        }
        let id = tokens.len() as u32;
        ids.insert(token.clone(), id);
        tokens.push(token);
        id
    };
    for s in &opts.special_tokens {
        add(s.clone(), &mut tokens);
    }

    // The alphabet, sorted so the result does not depend on hash order.
    let mut entries: Vec<(&String, u64)> = words.counts.iter().map(|(w, &n)| (w, n)).collect();
    entries.sort_unstable();
    let (kept, symbols) = alphabet(&entries, opts.limit_alphabet, &mut check)?;
    for symbol in symbols {
        add(symbol, &mut tokens);
    }
    // A word's symbols: its kept characters, all but the first as `##c`.
    let spell = |word: &str| -> Vec<String> {
        word.chars()
            .filter(|c| kept.contains_key(c))
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    c.to_string()
                } else {
                    format!("{CONTINUATION_PREFIX}{c}")
                }
            })
            .collect()
    };

    let mut seqs: Vec<Vec<u32>> = Vec::with_capacity(entries.len());
    let mut counts: Vec<u64> = Vec::with_capacity(entries.len());
    for (w, n) in &entries {
        check.step(w.len())?;
        seqs.push(spell(w).into_iter().map(|s| add(s, &mut tokens)).collect());
        counts.push(*n);
    }

    let mut pair_counts: FastMap<(u32, u32), u64> = FastMap::default();
    let mut pair_words: FastMap<(u32, u32), Vec<u32>> = FastMap::default();
    for (wi, seq) in seqs.iter().enumerate() {
        check.step(seq.len())?;
        for p in seq.windows(2) {
            let pair = (p[0], p[1]);
            *pair_counts.entry(pair).or_insert(0) += counts[wi];
            pair_words.entry(pair).or_default().push(wi as u32);
        }
    }
    // Highest count first; among equal counts the smallest pair of ids.
    let mut heap: BinaryHeap<(u64, Reverse<(u32, u32)>)> = pair_counts
        .iter()
        .map(|(&pair, &n)| (n, Reverse(pair)))
        .collect();

    while tokens.len() < opts.vocab_size {
        check.step(HEAP_POP_WORK)?;
        let Some((n, Reverse(pair))) = heap.pop() else {
            break;
        };
        let current = pair_counts.get(&pair).copied().unwrap_or(0);
        if current != n {
            if current > 0 {
                heap.push((current, Reverse(pair)));
            }
            continue;
        }
        if n < opts.min_frequency.max(1) {
            break;
        }
        let new_id = add(
            merged(&tokens[pair.0 as usize], &tokens[pair.1 as usize]),
            &mut tokens,
        );
        let mut affected = pair_words.remove(&pair).unwrap_or_default();
        affected.sort_unstable();
        affected.dedup();
        let mut touched: Vec<(u32, u32)> = Vec::new();
        for wi in affected {
            let wi = wi as usize;
            let seq = &seqs[wi];
            check.step(seq.len())?;
            if !seq.windows(2).any(|p| (p[0], p[1]) == pair) {
                continue;
            }
            let c = counts[wi];
            for p in seq.windows(2) {
                if let Some(x) = pair_counts.get_mut(&(p[0], p[1])) {
                    *x -= c;
                }
            }
            let mut next = Vec::with_capacity(seq.len());
            let mut i = 0;
            while i < seq.len() {
                if i + 1 < seq.len() && (seq[i], seq[i + 1]) == pair {
                    next.push(new_id);
                    i += 2;
                } else {
                    next.push(seq[i]);
                    i += 1;
                }
            }
            for p in next.windows(2) {
                let q = (p[0], p[1]);
                *pair_counts.entry(q).or_insert(0) += c;
                if q.0 == new_id || q.1 == new_id {
                    pair_words.entry(q).or_default().push(wi as u32);
                    touched.push(q);
                }
            }
            seqs[wi] = next;
        }
        pair_counts.remove(&pair);
        touched.sort_unstable();
        touched.dedup();
        for q in touched {
            if let Some(&n) = pair_counts.get(&q) {
                if n > 0 {
                    heap.push((n, Reverse(q)));
                }
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::stop_after;

    #[test]
    fn learns_frequent_words() {
        let texts = ["low lower lowest", "low low newer newest", "wider lower"];
        let counts =
            WordCounts::from_texts(&texts, NormalizerOptions::bert(true), 2, &|| true).unwrap();
        let opts = TrainerOptions {
            vocab_size: 40,
            min_frequency: 2,
            special_tokens: vec!["[UNK]".into()],
            limit_alphabet: None,
        };
        let vocab = train(&counts, &opts, &|| true).unwrap();
        assert_eq!(vocab[0], "[UNK]");
        assert!(vocab.contains(&"low".to_string()), "{vocab:?}");
        assert!(vocab.contains(&"##er".to_string()), "{vocab:?}");
        let mut sorted = vocab.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), vocab.len());
    }

    fn alphabet_of(texts: &[&str], limit_alphabet: Option<usize>) -> Vec<String> {
        let counts =
            WordCounts::from_texts(texts, NormalizerOptions::bert(true), 1, &|| true).unwrap();
        let opts = TrainerOptions {
            vocab_size: 0, // no merges: the special tokens and the alphabet only
            min_frequency: 2,
            special_tokens: vec!["[UNK]".into()],
            limit_alphabet,
        };
        train(&counts, &opts, &|| true).unwrap()[1..].to_vec()
    }

    #[test]
    fn every_character_is_in_the_alphabet_alone_and_inside_words() {
        // 'q' and 'z' never start a word, yet each gets its own token too.
        let alphabet = alphabet_of(&["aqz aq", "ba"], None);
        let expected = ["##a", "##q", "##z", "a", "b", "q", "z"];
        assert_eq!(alphabet, expected.map(String::from));
    }

    #[test]
    fn limit_alphabet_keeps_the_most_frequent_characters() {
        // a: 4 times, b: 3, c: 1; with 2 kept, c leaves the words too.
        let alphabet = alphabet_of(&["ab ab ab ac"], Some(2));
        assert_eq!(alphabet, ["##b", "a", "b"].map(String::from));
        assert_eq!(alphabet_of(&["ab ab ab ac"], Some(10)).len(), 5);
    }

    /// Many distinct words, so that counting and training each ask more than once.
    fn big_corpus() -> Vec<String> {
        let mut state = 11u64;
        (0..300)
            .map(|_| {
                (0..12)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let len = 2 + (state >> 60) as usize;
                        (0..len)
                            .map(|j| char::from(b'a' + ((state >> (j * 5 % 55)) % 26) as u8))
                            .chain([' '])
                            .collect::<String>()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_stop_request_ends_counting() {
        let texts = big_corpus();
        let opts = NormalizerOptions::bert(true);
        let (keep_going, asked) = stop_after(usize::MAX);
        let counted = WordCounts::from_texts(&texts, opts, 2, &keep_going).unwrap();
        let rounds = asked.get();
        assert!(rounds >= 2, "{rounds}");
        let one = WordCounts::from_texts(&texts, opts, 1, &|| true).unwrap();
        assert_eq!(counted.counts, one.counts);
        for k in [0, rounds - 1] {
            let (keep_going, asked) = stop_after(k);
            let err = WordCounts::from_texts(&texts, opts, 1, &keep_going).unwrap_err();
            assert!(matches!(err, Error::Interrupted));
            assert_eq!(asked.get(), k + 1);
        }
        let dir = std::env::temp_dir().join(format!("ptm_wp_stop_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.txt");
        std::fs::write(&path, texts.join("\n")).unwrap();
        let from_file = WordCounts::from_file(&path, opts, 2, &|| true).unwrap();
        assert_eq!(from_file.counts, one.counts);
        let err = WordCounts::from_file(&path, opts, 1, &|| false).unwrap_err();
        assert!(matches!(err, Error::Interrupted));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stop_request_ends_training() {
        let texts = big_corpus();
        let counts =
            WordCounts::from_texts(&texts, NormalizerOptions::bert(true), 2, &|| true).unwrap();
        let opts = TrainerOptions {
            vocab_size: 1000,
            min_frequency: 2,
            special_tokens: vec!["[UNK]".into()],
            limit_alphabet: None,
        };
        let expected = train(&counts, &opts, &|| true).unwrap();
        let (count, asked) = stop_after(usize::MAX);
        assert_eq!(train(&counts, &opts, &count).unwrap(), expected);
        let checks = asked.get();
        assert!(checks >= 3, "{checks}");
        for k in [0, checks / 2, checks - 1] {
            let (keep_going, asked) = stop_after(k);
            let err = train(&counts, &opts, &keep_going).unwrap_err();
            assert!(matches!(err, Error::Interrupted));
            assert_eq!(asked.get(), k + 1);
        }
    }
}
