//! BERT's normalizer and pre-tokenizer, fused into one pass over the text.
//!
//! Stages, in the reference's order: cleaning (drop NUL, U+FFFD and control
//! characters; whitespace becomes a space), spaces around CJK ideographs,
//! accent stripping (NFD, then drop non-spacing marks), lowercasing, then the
//! split on whitespace (dropped) and punctuation (each mark a word of its own).
//! Every step maps one original character to zero or more normalized ones, so
//! a single pass suffices, and each normalized byte remembers the original
//! character it came from: that is the alignment that makes offsets point
//! into the original text.
//!
//! ASCII bytes take a fast path with byte tests only.

use super::chars::{is_cjk, is_nonspacing_mark, is_punctuation, is_removed, is_whitespace};

/// What the normalizer does beyond cleaning and CJK spacing (always on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizerOptions {
    /// Lowercase every character.
    pub lowercase: bool,
    /// Decompose (NFD) and drop non-spacing marks. BERT ties it to `lowercase`.
    pub strip_accents: bool,
}

impl NormalizerOptions {
    /// BERT's usual set-up: accents are stripped exactly when lowercasing.
    pub fn bert(lowercase: bool) -> Self {
        NormalizerOptions {
            lowercase,
            strip_accents: lowercase,
        }
    }
}

/// The word being built, reused across calls to avoid allocations.
#[derive(Debug, Default)]
pub struct WordBuffer {
    word: String,
    /// For each byte of `word`, the index (in code points) of the original
    /// character it came from.
    origin: Vec<u32>,
    scratch: Vec<char>,
}

impl WordBuffer {
    fn flush<F: FnMut(&str, &[u32])>(&mut self, sink: &mut F) {
        if !self.word.is_empty() {
            sink(&self.word, &self.origin);
            self.word.clear();
            self.origin.clear();
        }
    }

    fn push(&mut self, c: char, origin: u32) {
        self.word.push(c);
        self.origin
            .extend(std::iter::repeat_n(origin, c.len_utf8()));
    }
}

/// Appends the normalized form of one (non-removed, non-space) character.
fn normalize_char(c: char, opts: NormalizerOptions, out: &mut Vec<char>) {
    let mut lower = |d: char| {
        if opts.lowercase {
            out.extend(d.to_lowercase());
        } else {
            out.push(d);
        }
    };
    if opts.strip_accents {
        unicode_normalization::char::decompose_canonical(c, |d| {
            if !is_nonspacing_mark(d) {
                lower(d);
            }
        });
    } else {
        lower(c);
    }
}

/// Normalizes and splits `text`, calling `sink(word, origin)` for every word
/// in order; `origin[i]` is the original code-point index (counted from
/// `char_base`) of the character that byte `i` of `word` came from.
/// Returns the number of code points in `text`.
pub fn split_words<F: FnMut(&str, &[u32])>(
    text: &str,
    char_base: u32,
    opts: NormalizerOptions,
    buf: &mut WordBuffer,
    sink: &mut F,
) -> u32 {
    buf.word.clear();
    buf.origin.clear();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut ci = char_base;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() {
            // A run of ASCII letters and digits joins the current word.
            let mut j = i + 1;
            while j < bytes.len() && bytes[j].is_ascii_alphanumeric() {
                j += 1;
            }
            let run = &text[i..j];
            if opts.lowercase {
                buf.word
                    .extend(run.bytes().map(|x| x.to_ascii_lowercase() as char));
            } else {
                buf.word.push_str(run);
            }
            let n = (j - i) as u32;
            buf.origin.extend(ci..ci + n);
            ci += n;
            i = j;
            continue;
        }
        if b < 0x80 {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => buf.flush(sink),
                0..=0x1f | 0x7f => {}
                _ => {
                    buf.flush(sink);
                    sink(&text[i..i + 1], &[ci]);
                }
            }
            i += 1;
            ci += 1;
            continue;
        }
        let c = text[i..].chars().next().expect("i is a char boundary");
        i += c.len_utf8();
        non_ascii(c, ci, opts, buf, sink);
        ci += 1;
    }
    buf.flush(sink);
    ci - char_base
}

fn non_ascii<F: FnMut(&str, &[u32])>(
    c: char,
    ci: u32,
    opts: NormalizerOptions,
    buf: &mut WordBuffer,
    sink: &mut F,
) {
    if is_removed(c) {
        return;
    }
    if is_whitespace(c) {
        buf.flush(sink);
        return;
    }
    let cjk = is_cjk(c);
    if cjk {
        buf.flush(sink);
    }
    let mut scratch = std::mem::take(&mut buf.scratch);
    scratch.clear();
    normalize_char(c, opts, &mut scratch);
    for &n in &scratch {
        if is_whitespace(n) {
            buf.flush(sink);
        } else if is_punctuation(n) {
            buf.flush(sink);
            let mut tmp = [0u8; 4];
            let s = n.encode_utf8(&mut tmp);
            let origin = [ci; 4];
            sink(s, &origin[..s.len()]);
        } else {
            buf.push(n, ci);
        }
    }
    buf.scratch = scratch;
    if cjk {
        buf.flush(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, lowercase: bool) -> Vec<(String, Vec<u32>)> {
        let mut out = Vec::new();
        let mut buf = WordBuffer::default();
        let n = split_words(
            text,
            0,
            NormalizerOptions::bert(lowercase),
            &mut buf,
            &mut |w: &str, o: &[u32]| out.push((w.to_owned(), o.to_vec())),
        );
        assert_eq!(n as usize, text.chars().count());
        out
    }

    #[test]
    fn ascii_words_punctuation_and_controls() {
        let w = words("Hello, WORLD!\x0bx a\tb", true);
        let texts: Vec<&str> = w.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["hello", ",", "world", "!", "x", "a", "b"]);
        assert_eq!(w[3].1, [12]);
        assert_eq!(w[4].1, [14]);
    }

    #[test]
    fn accents_cjk_and_expansion() {
        let w = words("Café中文İ", true);
        let texts: Vec<&str> = w.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["cafe", "中", "文", "i"]);
        assert_eq!(w[0].1, [0, 1, 2, 3]);
        assert_eq!(w[3].1, [6]);
        let w = words("Café İ", false);
        assert_eq!(w[0].0, "Café");
        assert_eq!(w[1].0, "İ");
    }
}
