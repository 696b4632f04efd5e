//! Counting whitespace-separated words: the first pass of every word-level
//! vocabulary (Word2Vec's among them).
//!
//! Files are streamed line by line, never read whole, and the result is
//! sorted by descending count with ties kept in first-seen order, so the
//! same corpus always gives the same vocabulary.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Result;
use crate::text_lines::TextLines;

/// Accumulates word counts; words are looked up by `&str` so a word already
/// seen costs no allocation.
#[derive(Debug, Default)]
pub struct WordCounter {
    index: HashMap<String, usize>,
    counts: Vec<(String, u64)>,
    total: u64,
}

impl WordCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts every whitespace-separated word of `line`.
    pub fn add_line(&mut self, line: &str) {
        for word in line.split_whitespace() {
            self.add_word(word);
        }
    }

    pub fn add_word(&mut self, word: &str) {
        self.total += 1;
        match self.index.get(word) {
            Some(&i) => self.counts[i].1 += 1,
            None => {
                self.index.insert(word.to_owned(), self.counts.len());
                self.counts.push((word.to_owned(), 1));
            }
        }
    }

    /// Number of words read, repeats included.
    pub fn total_words(&self) -> u64 {
        self.total
    }

    /// The counts, most frequent first; equal counts keep first-seen order.
    pub fn into_sorted(self) -> Vec<(String, u64)> {
        let mut counts = self.counts;
        // The sort is stable, which is what keeps ties in first-seen order.
        counts.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        counts
    }
}

/// Counts the words of a UTF-8 text file, reading it line by line.
///
/// A missing file is an [`Error::Io`] naming the path; bytes that are not
/// UTF-8 are an [`Error::InvalidUtf8`] naming the path, line and column.
pub fn count_words_in_file(path: &Path) -> Result<WordCounter> {
    let mut lines = TextLines::open(path)?;
    let mut counter = WordCounter::new();
    while let Some(line) = lines.next_line()? {
        counter.add_line(line);
    }
    Ok(counter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::fs::File;
    use std::io::Write;

    fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ptm_fast_wc_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        File::create(&path).unwrap().write_all(bytes).unwrap();
        path
    }

    #[test]
    fn counts_sorted_by_frequency_with_stable_ties() {
        let mut c = WordCounter::new();
        c.add_line("b a c a\n");
        c.add_line("  d b\ta ");
        assert_eq!(c.total_words(), 7);
        let sorted = c.into_sorted();
        let expected: Vec<(String, u64)> = [("a", 3), ("b", 2), ("c", 1), ("d", 1)]
            .iter()
            .map(|&(w, n)| (w.to_string(), n))
            .collect();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn reads_a_file_without_trailing_newline() {
        let path = temp_file("plain.txt", "x y\ny z".as_bytes());
        let sorted = count_words_in_file(&path).unwrap().into_sorted();
        assert_eq!(sorted[0], ("y".to_string(), 2));
        assert_eq!(sorted.len(), 3);
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = count_words_in_file(Path::new("/no/such/ptm_fast_file.txt")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("/no/such/ptm_fast_file.txt"));
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let path = temp_file("bad.txt", b"good line\nab\xffcd\n");
        let err = count_words_in_file(&path).unwrap_err();
        match &err {
            Error::InvalidUtf8 { line, column, .. } => assert_eq!((*line, *column), (2, 2)),
            other => panic!("unexpected error {other:?}"),
        }
        assert!(err.to_string().contains("line 2"));
    }
}
