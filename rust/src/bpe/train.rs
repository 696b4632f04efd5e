//! Training a byte-level BPE: count the pieces of the split pattern, start
//! from the 256 bytes and repeatedly merge the most frequent adjacent pair.
//!
//! Pair counts are kept up to date incrementally: a merge only revisits the
//! distinct pieces that contain the pair (found through an index from pair to
//! pieces), subtracting their old pairs and adding their new ones. The best
//! pair comes from a max-heap with lazy deletion: an entry whose count is out
//! of date is pushed back with the current count. Ties go to the smaller
//! `(left id, right id)`, so training is deterministic.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use std::path::Path;

use crate::error::{Error, Result};
use crate::parallel::{
    for_each_balanced, rounds, StopCheck, HEAP_POP_WORK, ROUND_BYTES_PER_THREAD, WORK_PER_CHECK,
};
use crate::text_lines::TextLines;

use super::hash::{FastMap, FastSet};
use super::split::Pieces;
use super::tokenizer::ByteLevelBpe;

/// Counts the pieces of the texts it is fed.
#[derive(Debug, Default, Clone)]
pub struct PieceCounter {
    counts: FastMap<String, u64>,
}

impl PieceCounter {
    /// An empty counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the pieces of one text.
    pub fn add_text(&mut self, text: &str) {
        for piece in Pieces::new(text) {
            match self.counts.get_mut(piece) {
                Some(count) => *count += 1,
                None => {
                    self.counts.insert(piece.to_owned(), 1);
                }
            }
        }
    }

    /// Counts the pieces of `texts` on up to `threads` threads, in rounds
    /// with `keep_going` asked before each. Nothing is counted unless the
    /// call succeeds: a stop ([`Error::Interrupted`]) leaves the counts as
    /// they were.
    pub fn add_texts<S: AsRef<str> + Sync>(
        &mut self,
        texts: &[S],
        threads: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<()> {
        let threads = threads.min(texts.len().div_ceil(1024)).max(1);
        // One counter per thread for the whole call, merged once at the end.
        let mut parts: Vec<PieceCounter> = (0..threads).map(|_| PieceCounter::new()).collect();
        for round in rounds(texts.len(), threads, |i| texts[i].as_ref().len()) {
            if !keep_going() {
                return Err(Error::Interrupted);
            }
            let round = &texts[round];
            for_each_balanced(round.len(), &mut parts, |counter, block| {
                for text in &round[block] {
                    counter.add_text(text.as_ref());
                }
            });
        }
        for part in parts {
            self.merge_from(part);
        }
        Ok(())
    }

    /// Counts the pieces of a UTF-8 text file, streamed line by line (each
    /// line with its newline, as HF `tokenizers` reads training files), with
    /// `keep_going` asked every few megabytes. Errors name the file, and the
    /// line for bytes that are not UTF-8; on any error (a stop included) the
    /// counts stay as they were.
    pub fn add_file(&mut self, path: &Path, keep_going: &dyn Fn() -> bool) -> Result<()> {
        let mut lines = TextLines::open(path)?;
        let mut counted = PieceCounter::new();
        let mut check = StopCheck::new(keep_going, ROUND_BYTES_PER_THREAD);
        while let Some(line) = lines.next_line()? {
            counted.add_text(line);
            check.step(line.len())?;
        }
        self.merge_from(counted);
        Ok(())
    }

    /// Adds another counter's counts (for counting on several threads).
    pub fn merge_from(&mut self, other: PieceCounter) {
        if self.counts.is_empty() {
            self.counts = other.counts;
            return;
        }
        for (piece, count) in other.counts {
            *self.counts.entry(piece).or_insert(0) += count;
        }
    }

    /// How many distinct pieces were counted.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }
}

#[inline]
fn key(left: u32, right: u32) -> u64 {
    (u64::from(left) << 32) | u64::from(right)
}

/// Trains a tokenizer of at most `vocab_size` tokens (special tokens and the
/// 256 bytes included). Special tokens take ids 0.., then the bytes in byte
/// order, then one id per new token. A pair merges only while it occurs at
/// least `min_frequency` times. `keep_going` is asked once per
/// [`WORK_PER_CHECK`] symbols visited; when it answers false training stops
/// with [`Error::Interrupted`].
pub fn train(
    counter: &PieceCounter,
    vocab_size: usize,
    min_frequency: u64,
    specials: &[String],
    keep_going: &dyn Fn() -> bool,
) -> Result<ByteLevelBpe> {
    let base = specials.len() + 256;
    if vocab_size < base {
        return Err(Error::InvalidArgument(format!(
            "vocab_size {vocab_size} is smaller than the 256 bytes plus {} special tokens",
            specials.len()
        )));
    }
    let first_byte = specials.len() as u32;
    let mut tokens: Vec<Vec<u8>> = specials.iter().map(|s| s.as_bytes().to_vec()).collect();
    tokens.extend((0..=255u8).map(|b| vec![b]));
    let mut known: FastMap<Vec<u8>, u32> = FastMap::default();
    for b in 0..=255u8 {
        known.insert(vec![b], first_byte + u32::from(b));
    }

    // The distinct pieces in a fixed order (by text), as symbol sequences.
    let mut entries: Vec<(&String, &u64)> = counter.counts.iter().collect();
    entries.sort_unstable();
    let counts: Vec<i64> = entries.iter().map(|(_, &c)| c as i64).collect();
    let mut words: Vec<Vec<u32>> = entries
        .iter()
        .map(|(p, _)| p.bytes().map(|b| first_byte + u32::from(b)).collect())
        .collect();

    let mut check = StopCheck::new(keep_going, WORK_PER_CHECK);
    let mut pair_counts: FastMap<u64, i64> = FastMap::default();
    let mut where_: FastMap<u64, FastSet<u32>> = FastMap::default();
    for (w, word) in words.iter().enumerate() {
        check.step(word.len())?;
        for pair in word.windows(2) {
            let k = key(pair[0], pair[1]);
            *pair_counts.entry(k).or_insert(0) += counts[w];
            where_.entry(k).or_default().insert(w as u32);
        }
    }
    let mut heap: BinaryHeap<(i64, Reverse<u64>)> =
        pair_counts.iter().map(|(&k, &c)| (c, Reverse(k))).collect();

    let mut merges: Vec<(u32, u32)> = Vec::new();
    let mut delta: FastMap<u64, i64> = FastMap::default();
    while tokens.len() < vocab_size {
        check.step(HEAP_POP_WORK)?;
        let Some((count, Reverse(k))) = heap.pop() else {
            break;
        };
        let current = pair_counts.get(&k).copied().unwrap_or(0);
        if count != current {
            if current > 0 {
                heap.push((current, Reverse(k)));
            }
            continue;
        }
        if (count as u64) < min_frequency.max(1) {
            break;
        }
        let (left, right) = ((k >> 32) as u32, k as u32);
        let joined = [
            tokens[left as usize].as_slice(),
            tokens[right as usize].as_slice(),
        ]
        .concat();
        let new_id = match known.get(&joined) {
            Some(&id) => id,
            None => {
                let id = tokens.len() as u32;
                known.insert(joined.clone(), id);
                tokens.push(joined);
                id
            }
        };
        merges.push((left, right));

        let mut affected: Vec<u32> = where_.remove(&k).unwrap_or_default().into_iter().collect();
        affected.sort_unstable();
        delta.clear();
        for w in affected {
            let word = &mut words[w as usize];
            check.step(word.len())?;
            if !word.windows(2).any(|p| p[0] == left && p[1] == right) {
                continue;
            }
            let c = counts[w as usize];
            for p in word.windows(2) {
                *delta.entry(key(p[0], p[1])).or_insert(0) -= c;
            }
            let mut merged = Vec::with_capacity(word.len());
            let mut i = 0;
            while i < word.len() {
                if i + 1 < word.len() && word[i] == left && word[i + 1] == right {
                    merged.push(new_id);
                    i += 2;
                } else {
                    merged.push(word[i]);
                    i += 1;
                }
            }
            for p in merged.windows(2) {
                let pk = key(p[0], p[1]);
                *delta.entry(pk).or_insert(0) += c;
                if p[0] == new_id || p[1] == new_id {
                    where_.entry(pk).or_default().insert(w);
                }
            }
            *word = merged;
        }
        let mut changed: Vec<(u64, i64)> = delta.iter().map(|(&k, &d)| (k, d)).collect();
        changed.sort_unstable();
        for (pk, d) in changed {
            if d == 0 {
                continue;
            }
            let entry = pair_counts.entry(pk).or_insert(0);
            *entry += d;
            if d > 0 {
                heap.push((*entry, Reverse(pk)));
            } else if *entry <= 0 {
                pair_counts.remove(&pk);
            }
        }
    }

    let vocab: Vec<(Vec<u8>, u32)> = tokens
        .into_iter()
        .enumerate()
        .skip(specials.len())
        .map(|(id, bytes)| (bytes, id as u32))
        .collect();
    let specials: Vec<(String, u32)> = specials
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i as u32))
        .collect();
    ByteLevelBpe::from_merges(vocab, merges, specials)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::stop_after;

    #[test]
    fn learns_frequent_pairs_and_round_trips() {
        let mut counter = PieceCounter::new();
        for _ in 0..10 {
            counter.add_text("low lower lowest newer wider new low");
        }
        let eot = ["<|endoftext|>".to_owned()];
        let bpe = train(&counter, 256 + 1 + 10, 2, &eot, &|| true).unwrap();
        assert_eq!(bpe.specials(), [("<|endoftext|>".to_owned(), 0)]);
        assert!(bpe.vocab_size() <= 267);
        let ids = bpe.encode_ordinary(" low");
        assert_eq!(ids.len(), 1, "{ids:?}");
        let text = "lowest newer, wider!";
        let ids: Vec<i64> = bpe
            .encode_ordinary(text)
            .iter()
            .map(|&i| i64::from(i))
            .collect();
        assert_eq!(bpe.decode_bytes(&ids).unwrap(), text.as_bytes());
        assert!(train(&counter, 100, 2, &[], &|| true).is_err());
    }

    #[test]
    fn a_file_counts_like_its_lines_and_bad_bytes_name_the_line() {
        let dir = std::env::temp_dir().join(format!("ptm_bpe_add_file_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("train.txt");
        std::fs::write(&path, "low lower\nnewest low\n\nwider").unwrap();
        let mut from_file = PieceCounter::new();
        from_file.add_file(&path, &|| true).unwrap();
        let mut from_text = PieceCounter::new();
        for line in ["low lower\n", "newest low\n", "\n", "wider"] {
            from_text.add_text(line);
        }
        assert_eq!(from_file.counts, from_text.counts);
        std::fs::write(&path, b"ok\nfine\nbad \xff here\n").unwrap();
        let err = PieceCounter::new().add_file(&path, &|| true).unwrap_err();
        assert!(
            err.to_string().contains("line 3: invalid UTF-8 at byte 4"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let err = PieceCounter::new().add_file(&path, &|| true).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }

    #[test]
    fn deterministic() {
        let mut counter = PieceCounter::new();
        counter.add_text("ab ab ba ba cd cd dc dc aaaa aaaa");
        let a = train(&counter, 270, 1, &[], &|| true)
            .unwrap()
            .merges()
            .unwrap();
        let b = train(&counter, 270, 1, &[], &|| true)
            .unwrap()
            .merges()
            .unwrap();
        assert_eq!(a, b);
    }

    /// Many distinct words, so that counting and training each ask more than once.
    fn big_corpus() -> Vec<String> {
        let mut state = 7u64;
        (0..300)
            .map(|_| {
                (0..12)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let len = 2 + (state >> 60) as usize;
                        let word: String = (0..len)
                            .map(|j| char::from(b'a' + ((state >> (j * 5 % 55)) % 26) as u8))
                            .collect();
                        format!(" {word}")
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_stop_request_ends_counting_and_leaves_the_counts_as_they_were() {
        let texts = big_corpus();
        let mut whole = PieceCounter::new();
        whole.add_texts(&texts, 2, &|| true).unwrap();
        let mut by_one = PieceCounter::new();
        for text in &texts {
            by_one.add_text(text);
        }
        assert_eq!(whole.counts, by_one.counts);

        let many: Vec<&str> = texts
            .iter()
            .map(String::as_str)
            .cycle()
            .take(2_000)
            .collect();
        let mut counter = PieceCounter::new();
        counter.add_text("kept");
        let before = counter.counts.clone();
        let (keep_going, asked) = stop_after(1);
        let err = counter.add_texts(&many, 1, &keep_going).unwrap_err();
        assert!(matches!(err, Error::Interrupted));
        assert_eq!(asked.get(), 2);
        assert_eq!(counter.counts, before);

        let dir = std::env::temp_dir().join(format!("ptm_bpe_stop_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.txt");
        let line = format!("{}\n", texts[..5].concat());
        std::fs::write(&path, line.repeat(ROUND_BYTES_PER_THREAD / line.len() * 4)).unwrap();
        let (keep_going, asked) = stop_after(2);
        let err = counter.add_file(&path, &keep_going).unwrap_err();
        assert!(matches!(err, Error::Interrupted));
        assert_eq!(asked.get(), 3);
        assert_eq!(counter.counts, before);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stop_request_ends_training() {
        let mut counter = PieceCounter::new();
        counter.add_texts(&big_corpus(), 2, &|| true).unwrap();
        let expected = train(&counter, 1000, 2, &[], &|| true)
            .unwrap()
            .merges()
            .unwrap();
        let (count, asked) = stop_after(usize::MAX);
        let again = train(&counter, 1000, 2, &[], &count)
            .unwrap()
            .merges()
            .unwrap();
        assert_eq!(again, expected);
        let checks = asked.get();
        assert!(checks >= 3, "{checks}");
        for k in [0, checks / 2, checks - 1] {
            let (keep_going, asked) = stop_after(k);
            let err = train(&counter, 1000, 2, &[], &keep_going).unwrap_err();
            assert!(matches!(err, Error::Interrupted), "{err}");
            assert_eq!(asked.get(), k + 1);
        }
    }
}
