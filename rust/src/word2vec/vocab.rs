//! The Word2Vec vocabulary: words with their counts, most frequent first.
//!
//! Counting reuses [`crate::word_count`] (streaming files, stable ties); this
//! file applies `min_count` and `max_vocab_size` and keeps the word -> id map
//! that turns sentences into ids.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Words and counts, sorted by descending count (ties in first-seen order);
/// a word's id is its position.
#[derive(Debug, Clone, Default)]
pub struct Vocab {
    words: Vec<String>,
    counts: Vec<u64>,
    index: HashMap<String, u32>,
}

impl Vocab {
    /// Keeps the words counted at least `min_count` times, then at most
    /// `max_size` of the most frequent. `sorted` must be most frequent first
    /// (what [`crate::word_count::WordCounter::into_sorted`] returns).
    ///
    /// An empty corpus, or one where no word reaches `min_count`, is an
    /// [`Error::InvalidArgument`] saying so.
    pub fn from_sorted_counts(
        sorted: Vec<(String, u64)>,
        min_count: u64,
        max_size: Option<usize>,
    ) -> Result<Vocab> {
        if sorted.is_empty() {
            return Err(Error::InvalidArgument(
                "the corpus is empty: no words to build a vocabulary from".into(),
            ));
        }
        let seen = sorted.len();
        let best = sorted.first().map_or(0, |entry| entry.1);
        let limit = max_size.unwrap_or(usize::MAX);
        let kept: Vec<(String, u64)> = sorted
            .into_iter()
            .filter(|entry| entry.1 >= min_count)
            .take(limit)
            .collect();
        if kept.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "no word reaches min_count={min_count} (the corpus has {seen} distinct words, \
                 the most frequent seen {best} times); lower min_count or give more text"
            )));
        }
        let (words, counts) = kept.into_iter().unzip();
        Vocab::from_parts(words, counts)
    }

    /// A vocabulary from words and counts as stored (a saved model); the order
    /// is kept as given. Duplicate words are an error.
    pub fn from_parts(words: Vec<String>, counts: Vec<u64>) -> Result<Vocab> {
        if words.len() != counts.len() {
            return Err(Error::InvalidArgument(format!(
                "{} words but {} counts",
                words.len(),
                counts.len()
            )));
        }
        if words.len() >= u32::MAX as usize {
            return Err(Error::InvalidArgument("vocabulary too large".into()));
        }
        let mut index = HashMap::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            if index.insert(word.clone(), i as u32).is_some() {
                return Err(Error::InvalidArgument(format!(
                    "the word {word:?} appears twice in the vocabulary"
                )));
            }
        }
        Ok(Vocab {
            words,
            counts,
            index,
        })
    }

    /// The id of `word`, if it is in the vocabulary.
    #[inline]
    pub fn get(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there is no word (never for a built vocabulary).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words, by id.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The counts, by id.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Occurrences of in-vocabulary words in the corpus the counts came from.
    pub fn total_count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::word_count::WordCounter;

    fn counted(text: &str) -> Vec<(String, u64)> {
        let mut c = WordCounter::new();
        c.add_line(text);
        c.into_sorted()
    }

    #[test]
    fn min_count_and_max_size_keep_the_most_frequent_in_order() {
        let sorted = counted("c b a b a a d d e");
        let v = Vocab::from_sorted_counts(sorted.clone(), 2, None).unwrap();
        assert_eq!(v.words(), &["a", "b", "d"]);
        assert_eq!(v.counts(), &[3, 2, 2]);
        assert_eq!(v.get("d"), Some(2));
        assert_eq!(v.get("c"), None);
        assert_eq!(v.total_count(), 7);
        let v = Vocab::from_sorted_counts(sorted, 1, Some(2)).unwrap();
        assert_eq!(v.words(), &["a", "b"]);
    }

    #[test]
    fn empty_corpus_and_nothing_frequent_enough_say_so() {
        let err = Vocab::from_sorted_counts(Vec::new(), 1, None).unwrap_err();
        assert!(err.to_string().contains("empty"));
        let err = Vocab::from_sorted_counts(counted("x y z"), 5, None).unwrap_err();
        assert!(err.to_string().contains("min_count=5"), "{err}");
    }

    #[test]
    fn duplicates_in_stored_parts_are_rejected() {
        let words = vec!["a".to_string(), "a".to_string()];
        assert!(Vocab::from_parts(words, vec![1, 1]).is_err());
    }
}
