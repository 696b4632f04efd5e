//! The WordPiece vocabulary: `vocab.txt` (one token per line, the line number
//! is the id), with lookups tuned for the model's greedy search.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use crate::error::{Error, Result};

/// The prefix that marks a piece continuing a word.
pub const CONTINUATION_PREFIX: &str = "##";

/// A small multiplicative hash for short strings; the vocabulary is trusted
/// data, so no protection against crafted collisions is needed.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Token strings by id, and ids by token string.
#[derive(Debug, Clone)]
pub struct Vocab {
    tokens: Vec<String>,
    ids: FastMap<Box<str>, u32>,
    /// Continuation pieces keyed without their `##` prefix.
    continuation: FastMap<Box<str>, u32>,
    /// Longest key (in bytes) of `ids` and of `continuation`.
    max_len: usize,
    max_continuation_len: usize,
}

impl Vocab {
    /// Builds a vocabulary from tokens in id order. Fails on an empty or
    /// duplicate token, naming its position (counted from 1) with `describe`.
    pub fn from_tokens(
        tokens: Vec<String>,
        describe: impl Fn(u64, String) -> Error,
    ) -> Result<Vocab> {
        let mut ids = FastMap::default();
        let mut continuation = FastMap::default();
        let mut max_len = 0;
        let mut max_continuation_len = 0;
        for (index, token) in tokens.iter().enumerate() {
            let line = index as u64 + 1;
            if token.is_empty() {
                return Err(describe(line, "empty token".into()));
            }
            if let Some(first) = ids.insert(token.as_str().into(), index as u32) {
                return Err(describe(
                    line,
                    format!("duplicate token {token:?} (first on line {})", first + 1),
                ));
            }
            max_len = max_len.max(token.len());
            if let Some(rest) = token.strip_prefix(CONTINUATION_PREFIX) {
                if !rest.is_empty() {
                    continuation.insert(rest.into(), index as u32);
                    max_continuation_len = max_continuation_len.max(rest.len());
                }
            }
        }
        if tokens.len() > u32::MAX as usize {
            return Err(describe(tokens.len() as u64, "too many tokens".into()));
        }
        Ok(Vocab {
            tokens,
            ids,
            continuation,
            max_len,
            max_continuation_len,
        })
    }

    /// Reads `vocab.txt`: one token per line, trailing whitespace ignored.
    pub fn from_file(path: &Path) -> Result<Vocab> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let mut tokens = Vec::new();
        let mut rest: &[u8] = &bytes;
        let mut line_no = 0u64;
        while !rest.is_empty() {
            line_no += 1;
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            let text = std::str::from_utf8(line).map_err(|e| Error::InvalidUtf8 {
                path: path.to_path_buf(),
                line: line_no,
                column: e.valid_up_to(),
            })?;
            tokens.push(text.trim_end().to_owned());
        }
        Vocab::from_tokens(tokens, |line, message| Error::Malformed {
            path: path.to_path_buf(),
            line,
            message,
        })
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// The id of a word-initial piece.
    #[inline]
    pub fn initial(&self, piece: &str) -> Option<u32> {
        self.ids.get(piece).copied()
    }

    /// The id of `##piece`.
    #[inline]
    pub fn continuation(&self, piece: &str) -> Option<u32> {
        self.continuation.get(piece).copied()
    }

    pub fn max_len(&self, continuation: bool) -> usize {
        if continuation {
            self.max_continuation_len
        } else {
            self.max_len
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn random_vocab_files_load_or_fail_without_a_panic() {
        let path = std::env::temp_dir().join(format!("ptm_fast_vocab_{}.txt", std::process::id()));
        let valid = b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##lo\n\n";
        let mut rng = Rng::new(5);
        for round in 0..300 {
            let mut data: Vec<u8> = if round % 2 == 0 {
                valid.to_vec()
            } else {
                (0..rng.below(120)).map(|_| rng.next_u32() as u8).collect()
            };
            for _ in 0..rng.below(4) {
                if !data.is_empty() {
                    let at = rng.index(data.len());
                    data[at] = rng.next_u32() as u8;
                }
            }
            std::fs::write(&path, &data).unwrap();
            if let Ok(vocab) = Vocab::from_file(&path) {
                assert!(vocab.len() <= data.len() + 1);
            }
        }
        std::fs::remove_file(&path).unwrap();
    }

    fn build(tokens: &[&str]) -> Result<Vocab> {
        Vocab::from_tokens(tokens.iter().map(|t| t.to_string()).collect(), |l, m| {
            Error::InvalidArgument(format!("{l}: {m}"))
        })
    }

    #[test]
    fn lookups() {
        let v = build(&["[UNK]", "un", "##aff", "##able"]).unwrap();
        assert_eq!(v.initial("un"), Some(1));
        assert_eq!(v.continuation("aff"), Some(2));
        assert_eq!(v.continuation("un"), None);
        assert_eq!(v.max_len(false), 6);
        assert_eq!(v.max_len(true), 4);
        assert_eq!(v.id_to_token(3), Some("##able"));
    }

    #[test]
    fn rejects_duplicates_and_empty_lines() {
        let e = build(&["a", "b", "a"]).unwrap_err().to_string();
        assert!(e.contains("3: duplicate"), "{e}");
        let e = build(&["a", ""]).unwrap_err().to_string();
        assert!(e.contains("2: empty"), "{e}");
    }
}
