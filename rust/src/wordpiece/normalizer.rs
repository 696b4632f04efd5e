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
//! Accent stripping needs one more piece of state: NFD puts runs of
//! combining marks (non-starters) in canonical order, which can move a mark
//! past its neighbours, even across characters. The reference then aligns
//! the output by position: the first character of each decomposition
//! "consumes" a source position, and after reordering the k-th consuming
//! character takes the place of the k-th source character, whichever it came
//! from; the other characters of a decomposition take the place of the last
//! consumed one. Marks are therefore collected in `run` until the next
//! starter, sorted, and aligned the same way.
//!
//! ASCII bytes take a fast path with byte tests only; they give the same
//! roles as [`role`] (a test in `pre_tokenizer.rs` checks it).

use super::chars::{combining_class, decompose, is_cjk, is_nonspacing_mark, is_removed};
use super::pre_tokenizer::{role, Role};

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
    /// Pending non-starters of NFD: (char, combining class, whether it
    /// consumes a source position, the source's index).
    run: Vec<(char, u8, bool, u32)>,
    /// The source index of the last consumed position (accent stripping).
    last: u32,
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

/// Lowercases `c` (if asked) and hands the result to the pre-tokenizer:
/// whitespace ends the word, punctuation is a word of its own, anything else
/// joins the word. Every resulting byte maps to original index `origin`.
fn emit<F: FnMut(&str, &[u32])>(
    c: char,
    origin: u32,
    opts: NormalizerOptions,
    buf: &mut WordBuffer,
    sink: &mut F,
) {
    let mut split = |n: char, buf: &mut WordBuffer| match role(n) {
        Role::Space => buf.flush(sink),
        Role::Punctuation => {
            buf.flush(sink);
            let mut tmp = [0u8; 4];
            let s = n.encode_utf8(&mut tmp);
            let origins = [origin; 4];
            sink(s, &origins[..s.len()]);
        }
        Role::Word => buf.push(n, origin),
    };
    if opts.lowercase {
        for n in c.to_lowercase() {
            split(n, buf);
        }
    } else {
        split(c, buf);
    }
}

/// One NFD output character at its place in the output order: aligned,
/// dropped if it is a non-spacing mark, else lowercased and split.
fn emit_decomposed<F: FnMut(&str, &[u32])>(
    d: char,
    origin: u32,
    opts: NormalizerOptions,
    buf: &mut WordBuffer,
    sink: &mut F,
) {
    buf.last = origin;
    if !is_nonspacing_mark(d) {
        emit(d, origin, opts, buf, sink);
    }
}

/// Puts the pending non-starters in canonical order and emits them.
fn flush_run<F: FnMut(&str, &[u32])>(opts: NormalizerOptions, buf: &mut WordBuffer, sink: &mut F) {
    if buf.run.is_empty() {
        return;
    }
    let mut run = std::mem::take(&mut buf.run);
    // Positions are consumed in source order, whatever the marks' new order.
    let mut sources = run
        .iter()
        .filter(|m| m.2)
        .map(|m| m.3)
        .collect::<Vec<u32>>()
        .into_iter();
    run.sort_by_key(|m| m.1); // stable, as canonical ordering requires
    for &(d, _, consumes, _) in &run {
        let origin = if consumes {
            sources.next().unwrap_or(buf.last)
        } else {
            buf.last
        };
        emit_decomposed(d, origin, opts, buf, sink);
    }
    run.clear();
    buf.run = run;
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
    buf.run.clear();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut ci = char_base;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80
            && !buf.run.is_empty()
            && !matches!(b, 0..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f)
        {
            // An ASCII character is a starter: it ends a run of marks.
            flush_run(opts, buf, sink);
        }
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
    flush_run(opts, buf, sink);
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
    if role(c) == Role::Space {
        flush_run(opts, buf, sink);
        buf.last = ci;
        buf.flush(sink);
        return;
    }
    let cjk = is_cjk(c);
    if cjk {
        flush_run(opts, buf, sink);
        buf.flush(sink);
    }
    if opts.strip_accents {
        let mut scratch = std::mem::take(&mut buf.scratch);
        scratch.clear();
        decompose(c, &mut scratch);
        for (k, &d) in scratch.iter().enumerate() {
            let consumes = k == 0;
            let class = combining_class(d);
            if class == 0 {
                flush_run(opts, buf, sink);
                let origin = if consumes { ci } else { buf.last };
                emit_decomposed(d, origin, opts, buf, sink);
            } else {
                buf.run.push((d, class, consumes, ci));
            }
        }
        buf.scratch = scratch;
    } else {
        emit(c, ci, opts, buf, sink);
    }
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

    #[test]
    fn reordered_marks_are_aligned_by_position() {
        // U+0300 (class 230) and U+1D165 (class 216) swap places; U+0300 is
        // then dropped, and U+1D165 takes the first mark's position.
        let w = words("x\u{300}\u{1d165}y", true);
        assert_eq!(w[0].0, "x\u{1d165}y");
        assert_eq!(w[0].1, [0, 1, 1, 1, 1, 3]);
        // Without accent stripping nothing moves.
        let w = words("x\u{300}\u{1d165}y", false);
        assert_eq!(w[0].1, [0, 1, 1, 2, 2, 2, 2, 3]);
    }
}
