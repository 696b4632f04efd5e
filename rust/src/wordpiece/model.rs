//! The WordPiece model: greedy longest-match-first over one word.

use super::vocab::Vocab;

/// One token of the model's output: its id and its span in the original
/// text, in code points (`start..end`); the pieces batches are built from.
pub use crate::batch_encoding::Piece as Token;

/// Appends the pieces of `word` to `out`. `origin[i]` is the original
/// code-point index of byte `i` of `word`. A word longer than
/// `max_chars` code points, or one the vocabulary cannot cover, becomes a
/// single `unk` token spanning the whole word.
pub fn tokenize_word(
    vocab: &Vocab,
    unk: u32,
    max_chars: usize,
    word: &str,
    origin: &[u32],
    out: &mut Vec<Token>,
) {
    let n = word.len();
    let span = |a: usize, b: usize| (origin[a], origin[b - 1] + 1);
    // Byte length bounds the code-point count from above.
    if n > max_chars && word.chars().count() > max_chars {
        let (start, end) = span(0, n);
        out.push(Token {
            id: unk,
            start,
            end,
        });
        return;
    }
    let before = out.len();
    let mut start = 0;
    while start < n {
        let continuation = start > 0;
        let mut end = n.min(start + vocab.max_len(continuation));
        while !word.is_char_boundary(end) {
            end -= 1;
        }
        let mut found = None;
        while end > start {
            let piece = &word[start..end];
            let id = if continuation {
                vocab.continuation(piece)
            } else {
                vocab.initial(piece)
            };
            if let Some(id) = id {
                found = Some(id);
                break;
            }
            end -= 1;
            while !word.is_char_boundary(end) {
                end -= 1;
            }
        }
        match found {
            Some(id) => {
                let (s, e) = span(start, end);
                out.push(Token {
                    id,
                    start: s,
                    end: e,
                });
                start = end;
            }
            None => {
                out.truncate(before);
                let (s, e) = span(0, n);
                out.push(Token {
                    id: unk,
                    start: s,
                    end: e,
                });
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn vocab() -> Vocab {
        let tokens = ["[UNK]", "un", "##aff", "##able", "a", "##é"];
        Vocab::from_tokens(tokens.iter().map(|t| t.to_string()).collect(), |_, m| {
            Error::InvalidArgument(m)
        })
        .unwrap()
    }

    fn run(word: &str, max_chars: usize) -> Vec<Token> {
        let origin: Vec<u32> = word
            .char_indices()
            .enumerate()
            .flat_map(|(ci, (_, c))| std::iter::repeat_n(ci as u32, c.len_utf8()))
            .collect();
        let mut out = Vec::new();
        tokenize_word(&vocab(), 0, max_chars, word, &origin, &mut out);
        out
    }

    #[test]
    fn greedy_longest_match() {
        let ids: Vec<u32> = run("unaffable", 100).iter().map(|t| t.id).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(
            run("aé", 100),
            [
                Token {
                    id: 4,
                    start: 0,
                    end: 1
                },
                Token {
                    id: 5,
                    start: 1,
                    end: 2
                }
            ]
        );
    }

    #[test]
    fn unknown_and_too_long_words() {
        assert_eq!(
            run("unx", 100),
            [Token {
                id: 0,
                start: 0,
                end: 3
            }]
        );
        assert_eq!(
            run("unaffable", 8),
            [Token {
                id: 0,
                start: 0,
                end: 9
            }]
        );
    }
}
