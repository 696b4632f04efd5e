//! Character classes of BERT's normalizer and pre-tokenizer.
//!
//! ASCII is answered with byte tests; everything else looks up the tables in
//! `unicode_tables.rs`, which follow the reference's Unicode version.

use super::unicode_tables::{CJK, DECOMPOSES, NONSPACING_MARK, NONSTARTER, OTHER, PUNCTUATION};

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Characters the cleaning step drops: NUL, U+FFFD and the "other" classes
/// (Cc, Cf, Co) except tab, newline and carriage return, which are spaces.
pub fn is_removed(c: char) -> bool {
    if c.is_ascii() {
        return (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\x7f';
    }
    in_table(OTHER, c)
}

/// Whitespace for both cleaning and splitting: Unicode White_Space.
/// (Tab, newline and carriage return are in it; U+000B and U+000C are too,
/// but cleaning removes them first as control characters.)
pub fn is_whitespace(c: char) -> bool {
    c.is_whitespace()
}

/// Punctuation as BERT splits it: ASCII symbols and Unicode P*.
pub fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    in_table(PUNCTUATION, c)
}

/// Non-spacing marks (Mn), dropped when accents are stripped.
pub fn is_nonspacing_mark(c: char) -> bool {
    !c.is_ascii() && in_table(NONSPACING_MARK, c)
}

/// CJK ideographs, which become words of their own.
pub fn is_cjk(c: char) -> bool {
    (c as u32) >= 0x3400 && in_table(CJK, c)
}

/// Appends the canonical decomposition (NFD) of `c` as the reference knows
/// it: characters newer than its tables stay as they are.
pub fn decompose(c: char, out: &mut Vec<char>) {
    if !c.is_ascii() && in_table(DECOMPOSES, c) {
        unicode_normalization::char::decompose_canonical(c, |d| out.push(d));
    } else {
        out.push(c);
    }
}

/// The canonical combining class the reference's NFD orders by (0 for
/// starters and for marks newer than its tables).
pub fn combining_class(c: char) -> u8 {
    if c.is_ascii() || !in_table(NONSTARTER, c) {
        0
    } else {
        unicode_normalization::char::canonical_combining_class(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_removed('\0') && is_removed('\u{fffd}') && is_removed('\u{200b}'));
        assert!(is_removed('\x0b') && is_removed('\u{85}'));
        assert!(!is_removed('\t') && !is_removed('a') && !is_removed('\u{378}'));
        assert!(is_punctuation('$') && is_punctuation('\u{2014}') && !is_punctuation('\u{20ac}'));
        assert!(is_nonspacing_mark('\u{301}') && !is_nonspacing_mark('a'));
        assert!(is_cjk('\u{4e2d}') && !is_cjk('\u{3042}'));
        assert!(is_whitespace('\u{3000}') && !is_whitespace('\u{200b}'));
        assert_eq!(combining_class('\u{301}'), 230);
        assert_eq!(combining_class('a'), 0);
        let mut d = Vec::new();
        decompose('\u{e9}', &mut d);
        assert_eq!(d, ['e', '\u{301}']);
    }
}
