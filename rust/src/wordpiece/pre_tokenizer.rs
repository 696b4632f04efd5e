//! BERT's pre-tokenizer: split on whitespace (dropped) and punctuation (each
//! mark a piece of its own), as HF `tokenizers`' `BertPreTokenizer` does.
//!
//! [`role`] is the one rule: the WordPiece pipeline applies it inside its
//! fused normalizer pass (`normalizer.rs`), and [`pre_tokenize`] applies it to
//! raw text, with offsets in code points so they index a Python `str`.

use super::chars::{is_punctuation, is_whitespace};

/// What the pre-tokenizer does with one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Ends the current word and is dropped.
    Space,
    /// Ends the current word and is a piece of its own.
    Punctuation,
    /// Joins the current word.
    Word,
}

/// The role of `c`: Unicode White_Space, then BERT's punctuation (ASCII
/// symbols and Unicode P*, in the reference's Unicode version).
#[inline]
pub fn role(c: char) -> Role {
    if is_whitespace(c) {
        Role::Space
    } else if is_punctuation(c) {
        Role::Punctuation
    } else {
        Role::Word
    }
}

/// One piece of the input with its code-point span: `text` is
/// `input[start..end]` counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

/// Splits raw `text` (no normalization) into words and punctuation marks.
pub fn pre_tokenize(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    // Start of the word being read, as (byte index, code-point index).
    let mut word_start: Option<(usize, usize)> = None;
    let mut char_index = 0;
    for (byte_index, c) in text.char_indices() {
        let r = role(c);
        if r != Role::Word {
            if let Some((b0, c0)) = word_start.take() {
                pieces.push(Piece {
                    text: &text[b0..byte_index],
                    start: c0,
                    end: char_index,
                });
            }
            if r == Role::Punctuation {
                pieces.push(Piece {
                    text: &text[byte_index..byte_index + c.len_utf8()],
                    start: char_index,
                    end: char_index + 1,
                });
            }
        } else if word_start.is_none() {
            word_start = Some((byte_index, char_index));
        }
        char_index += 1;
    }
    if let Some((b0, c0)) = word_start {
        pieces.push(Piece {
            text: &text[b0..],
            start: c0,
            end: char_index,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        pre_tokenize(s).into_iter().map(|p| p.text).collect()
    }

    #[test]
    fn splits_words_and_punctuation() {
        assert_eq!(
            texts("Hello, world! It's 3.5$"),
            ["Hello", ",", "world", "!", "It", "'", "s", "3", ".", "5", "$"]
        );
    }

    #[test]
    fn empty_and_blank_inputs_give_no_pieces() {
        assert!(texts("").is_empty());
        assert!(texts(" \t\n\u{3000}\u{85} ").is_empty());
    }

    #[test]
    fn unicode_punctuation_spaces_and_controls() {
        // U+00BF and U+00A1 are Po, U+2014 is Pd, U+3000 is an ideographic
        // space. Raw text is not cleaned: a control character joins its word.
        assert_eq!(
            texts("¿Qué?\u{3000}¡sí!—no a\u{1f}b"),
            ["¿", "Qué", "?", "¡", "sí", "!", "—", "no", "a\u{1f}b"]
        );
    }

    #[test]
    fn symbols_outside_ascii_are_not_punctuation() {
        // U+20AC (euro) is Sc: it stays inside the word, as in BERT.
        assert_eq!(texts("5€ ok"), ["5€", "ok"]);
    }

    #[test]
    fn offsets_count_code_points() {
        let text = "naïve 日本, ok";
        let pieces = pre_tokenize(text);
        let chars: Vec<char> = text.chars().collect();
        for p in &pieces {
            let slice: String = chars[p.start..p.end].iter().collect();
            assert_eq!(slice, p.text);
        }
        assert_eq!(
            pieces.iter().map(|p| (p.start, p.end)).collect::<Vec<_>>(),
            [(0, 5), (6, 8), (8, 9), (10, 12)]
        );
    }

    #[test]
    fn printable_ascii_roles_match_the_normalizer_fast_path() {
        // The fused normalizer tests bytes instead of calling `role`: both
        // must agree on every printable ASCII character and the spaces it keeps.
        for b in (0x20u8..0x7f).chain([b'\t', b'\n', b'\r']) {
            let c = b as char;
            let fast = if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                Role::Space
            } else if b.is_ascii_alphanumeric() {
                Role::Word
            } else {
                Role::Punctuation
            };
            assert_eq!(role(c), fast, "{c:?}");
        }
    }
}
