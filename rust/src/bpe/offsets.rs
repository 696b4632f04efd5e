//! Where each token of a byte-level encoding lies in its text, in code points.

use crate::batch_encoding::Piece;

/// Appends a [`Piece`] per token to `out`: `ids[i]` covers the next
/// `byte_len(ids[i])` bytes of `text` (byte-level BPE tokens cover the text's
/// bytes one after another). Spans are in code points, as Python's `str`
/// indices; a token that starts or ends inside a character (an emoji split
/// across two tokens) spans the whole character, as HF `tokenizers` reports.
pub fn char_spans(text: &str, ids: &[u32], byte_len: impl Fn(u32) -> usize, out: &mut Vec<Piece>) {
    let bytes = text.as_bytes();
    let is_start = |b: u8| (b as i8) >= -0x40; // not a UTF-8 continuation byte
    let mut at = 0usize; // byte position
    let mut chars = 0u32; // code points that start before `at`
    for &id in ids {
        let len = byte_len(id);
        let end = (at + len).min(bytes.len());
        let start = if at < bytes.len() && !is_start(bytes[at]) {
            chars - 1
        } else {
            chars
        };
        chars += bytes[at..end].iter().filter(|&&b| is_start(b)).count() as u32;
        out.push(Piece {
            id,
            start,
            end: chars,
        });
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_in_code_points_with_split_characters() {
        // " café 😀": the emoji's four bytes split 3 + 1 over two tokens.
        let text = "a caf\u{e9} \u{1f600}";
        let lens = [1usize, 6, 4, 1];
        let mut out = vec![];
        char_spans(text, &[0, 1, 2, 3], |id| lens[id as usize], &mut out);
        let spans: Vec<(u32, u32)> = out.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(spans, [(0, 1), (1, 6), (6, 8), (7, 8)]);
        out.clear();
        char_spans("", &[], |_| 0, &mut out);
        assert!(out.is_empty());
    }
}
