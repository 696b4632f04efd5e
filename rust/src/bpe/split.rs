//! GPT-2's split pattern, written by hand:
//!
//! ```text
//! 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//! ```
//!
//! The alternatives are tried in order at each position, as a backtracking
//! regex engine does. `\s` is Unicode `White_Space` (what `char::is_whitespace`
//! tests), `\p{L}` and `\p{N}` are the letter and number general categories
//! (Unicode 16, as the regex crates use). ASCII bytes go through a table; only
//! other characters are decoded and looked up.

use unicode_general_category::{get_general_category, GeneralCategory as G};

/// The four kinds of characters the pattern tells apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    Letter,
    Number,
    Space,
    Other,
}

const fn ascii_classes() -> [Class; 128] {
    let mut table = [Class::Other; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() {
            Class::Letter
        } else if c.is_ascii_digit() {
            Class::Number
        } else if matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') {
            Class::Space
        } else {
            Class::Other
        };
        b += 1;
    }
    table
}

static ASCII: [Class; 128] = ascii_classes();

/// The class of any character.
pub fn class_of(c: char) -> Class {
    if c.is_ascii() {
        return ASCII[c as usize];
    }
    if c.is_whitespace() {
        return Class::Space;
    }
    match get_general_category(c) {
        G::UppercaseLetter
        | G::LowercaseLetter
        | G::TitlecaseLetter
        | G::ModifierLetter
        | G::OtherLetter => Class::Letter,
        G::DecimalNumber | G::LetterNumber | G::OtherNumber => Class::Number,
        _ => Class::Other,
    }
}

/// The class and UTF-8 length of the character starting at byte `i`.
#[inline(always)]
fn class_at(text: &str, i: usize) -> (Class, usize) {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        (ASCII[b as usize], 1)
    } else {
        let c = text[i..].chars().next().unwrap_or('\u{FFFD}');
        (class_of(c), c.len_utf8())
    }
}

/// The end of the run of characters of class `class` starting at byte `i`.
#[inline(always)]
fn run_end(text: &str, mut i: usize, class: Class) -> usize {
    let bytes = text.as_bytes();
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if ASCII[b as usize] != class {
                break;
            }
            i += 1;
        } else {
            let (c, len) = class_at(text, i);
            if c != class {
                break;
            }
            i += len;
        }
    }
    i
}

/// The length of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`;
/// lowercase only, as the pattern is case-sensitive) at byte `i`, or 0.
#[inline(always)]
fn contraction_len(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i + 1) {
        Some(b's' | b't' | b'm' | b'd') => 2,
        Some(b'r' | b'v') if bytes.get(i + 2) == Some(&b'e') => 3,
        Some(b'l') if bytes.get(i + 2) == Some(&b'l') => 3,
        _ => 0,
    }
}

/// The end of the piece that starts at byte `start` (`start < text.len()`).
#[inline]
pub fn piece_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let first = bytes[start];
    if first == b'\'' {
        let n = contraction_len(bytes, start);
        if n > 0 {
            return start + n;
        }
    }
    let (class, len) = class_at(text, start);
    if first == b' ' && start + 1 < bytes.len() {
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+` with the space.
        let (next, next_len) = class_at(text, start + 1);
        if next != Class::Space {
            return run_end(text, start + 1 + next_len, next);
        }
    }
    if class != Class::Space {
        return run_end(text, start + len, class);
    }
    // `\s+(?!\S)`: the whole run at the end of the text; before anything
    // else the run less its last character, if that leaves one. `\s+`: a
    // single whitespace character before a non-space.
    let mut last = start;
    let mut i = start + len;
    while i < bytes.len() {
        let (c, n) = class_at(text, i);
        if c != Class::Space {
            break;
        }
        last = i;
        i += n;
    }
    if i == bytes.len() || last == start {
        i
    } else {
        last
    }
}

/// The pieces of `text`, in order; together they are the whole text.
pub struct Pieces<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Pieces<'a> {
    /// The pieces of `text`.
    pub fn new(text: &'a str) -> Self {
        Pieces { text, pos: 0 }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        self.pos = piece_end(self.text, start);
        Some(&self.text[start..self.pos])
    }
}

/// The GPT-2 split pattern, for the tests that use a regex as the oracle.
pub const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

#[cfg(test)]
mod tests {
    use super::*;
    use fancy_regex::Regex;

    fn oracle(re: &Regex, text: &str) -> Vec<String> {
        re.find_iter(text)
            .map(|m| m.unwrap().as_str().to_owned())
            .collect()
    }

    fn ours(text: &str) -> Vec<String> {
        Pieces::new(text).map(str::to_owned).collect()
    }

    /// A small deterministic generator, so the test needs no extra crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn examples() {
        let cases: &[(&str, &[&str])] = &[
            ("Hello world", &["Hello", " world"]),
            ("I'm here's 'S", &["I", "'m", " here", "'s", " '", "S"]),
            ("a  b", &["a", " ", " b"]),
            ("a \n b", &["a", " \n", " b"]),
            ("a\n\nb  ", &["a", "\n", "\n", "b", "  "]),
            ("a\n\n", &["a", "\n\n"]),
            ("x\tb", &["x", "\t", "b"]),
            (" 123abc!!?", &[" 123", "abc", "!!?"]),
            ("", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(ours(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn matches_the_regex_on_random_text() {
        let re = Regex::new(GPT2_PATTERN).unwrap();
        let alphabet: Vec<char> = concat!(
            "aZé ß'sStTrReEvVlLmMdD0९٣½Ⅻ \t\n\r\u{b}\u{c}\u{85}\u{a0}\u{2003}\u{3000}",
            "\u{301}\u{93f}!?.,-_'\"😀🇫🇷中文カ\u{0}\u{7f}\u{200b}\u{fffd}\u{10ffff}"
        )
        .chars()
        .collect();
        let mut rng = Lcg(7);
        for _ in 0..20_000 {
            let len = (rng.next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(rng.next() as usize) % alphabet.len()])
                .collect();
            assert_eq!(ours(&text), oracle(&re, &text), "{text:?}");
        }
    }

    #[test]
    fn matches_the_regex_on_long_whitespace_heavy_text() {
        let re = Regex::new(GPT2_PATTERN).unwrap();
        let alphabet: Vec<char> = " \t\n\r\u{a0}\u{3000}a1'!é".chars().collect();
        let mut rng = Lcg(11);
        for _ in 0..2_000 {
            let len = (rng.next() % 300) as usize;
            let text: String = (0..len)
                .map(|_| {
                    let i = (rng.next() as usize) % (alphabet.len() * 2);
                    alphabet[if i < alphabet.len() { i } else { i % 6 }]
                })
                .collect();
            assert_eq!(ours(&text), oracle(&re, &text), "{text:?}");
        }
    }

    #[test]
    fn classes_match_the_regex_for_every_character() {
        let letter = regex_class(r"\p{L}");
        let number = regex_class(r"\p{N}");
        let space = regex_class(r"\s");
        for n in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(n) else { continue };
            let expected = if space(c) {
                Class::Space
            } else if letter(c) {
                Class::Letter
            } else if number(c) {
                Class::Number
            } else {
                Class::Other
            };
            assert_eq!(class_of(c), expected, "U+{n:04X}");
        }
    }

    fn regex_class(class: &str) -> impl Fn(char) -> bool {
        let re = Regex::new(&format!("^{class}$")).unwrap();
        move |c: char| {
            let mut buf = [0u8; 4];
            re.is_match(c.encode_utf8(&mut buf)).unwrap()
        }
    }
}
