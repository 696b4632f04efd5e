//! Splitting text into words on whitespace and punctuation, the first stage of
//! BERT's tokenizer and of any word-level vocabulary.
//!
//! Offsets are counted in Unicode code points, so they index a Python `str`
//! directly: `text[start:end]` is the piece.

use unicode_general_category::{get_general_category, GeneralCategory};

/// One word or punctuation mark cut from the input, with its code-point span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

/// True for the ASCII symbols BERT treats as punctuation (`$`, `+`, `^`, `` ` ``
/// are symbols in Unicode but punctuation to BERT) and for every Unicode P*
/// category.
pub fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(
        get_general_category(c),
        GeneralCategory::ConnectorPunctuation
            | GeneralCategory::DashPunctuation
            | GeneralCategory::OpenPunctuation
            | GeneralCategory::ClosePunctuation
            | GeneralCategory::InitialPunctuation
            | GeneralCategory::FinalPunctuation
            | GeneralCategory::OtherPunctuation
    )
}

/// Splits `text` on Unicode whitespace (dropped) and punctuation (each mark
/// becomes a piece of its own).
pub fn split_on_whitespace_and_punctuation(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    // Start of the word being read, as (byte index, code-point index).
    let mut word_start: Option<(usize, usize)> = None;
    let mut char_index = 0;

    for (byte_index, c) in text.char_indices() {
        let is_space = c.is_whitespace();
        let is_punct = !is_space && is_punctuation(c);
        if is_space || is_punct {
            if let Some((b0, c0)) = word_start.take() {
                pieces.push(Piece {
                    text: &text[b0..byte_index],
                    start: c0,
                    end: char_index,
                });
            }
            if is_punct {
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
        split_on_whitespace_and_punctuation(s)
            .into_iter()
            .map(|p| p.text)
            .collect()
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
        assert!(texts(" \t\n\u{3000} ").is_empty());
    }

    #[test]
    fn unicode_punctuation_and_spaces() {
        // U+00BF and U+00A1 are Po, U+2014 is Pd, U+3000 is an ideographic space.
        assert_eq!(
            texts("¿Qué?\u{3000}¡sí!—no"),
            ["¿", "Qué", "?", "¡", "sí", "!", "—", "no"]
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
        let pieces = split_on_whitespace_and_punctuation(text);
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
}
