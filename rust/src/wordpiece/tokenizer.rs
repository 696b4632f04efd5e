//! The whole pipeline: special-token matching, normalizer and pre-tokenizer,
//! model, post-processor; plus batches and decoding.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Mutex;

use super::decoder::decode_tokens;
use super::model::{tokenize_word, Token};
use super::normalizer::{split_words, NormalizerOptions, WordBuffer};
use super::post_processor::{post_process, Encoding, Specials};
use super::vocab::Vocab;
use crate::batch_encoding::{
    encode_rows, BatchOptions, ClsSep, EncodedBatch, Padding as BatchPadding, Truncation,
};
use crate::error::{Error, Result};
use crate::parallel::{map_balanced, rounds};

/// The special tokens BERT uses, in the order training puts them first.
pub const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Words longer than this many code points become `[UNK]`, as in BERT.
pub const MAX_INPUT_CHARS_PER_WORD: usize = 100;

/// What one call encodes: a text or a pair, and how.
#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions {
    pub add_special_tokens: bool,
    /// Truncate to this many tokens in all (special tokens included).
    pub max_length: Option<usize>,
}

/// How a batch is padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    None,
    /// To the longest encoding of the batch.
    Longest,
    /// To exactly this length (longer encodings stay as they are unless
    /// truncated with `max_length`).
    Fixed(usize),
}

/// Rows of the three output matrices one thread fills at a time: the index
/// of the first row, then its slices of ids, type ids and attention mask.
type RowBlock<'a> = (usize, &'a mut [i64], &'a mut [i64], &'a mut [i64]);

/// Rows in a [`RowBlock`]: threads take blocks of these dynamically.
const ROWS_PER_BLOCK: usize = 32;

/// BERT's WordPiece tokenizer.
#[derive(Debug, Clone)]
pub struct WordPieceTokenizer {
    vocab: Vocab,
    normalizer: NormalizerOptions,
    unk: u32,
    max_input_chars_per_word: usize,
    /// Special tokens found in the vocabulary: matched verbatim in the input
    /// before normalization, and skipped by `decode` on request.
    specials: Vec<(String, u32)>,
}

impl WordPieceTokenizer {
    /// A tokenizer over `vocab`, which must contain `[UNK]`.
    pub fn new(vocab: Vocab, normalizer: NormalizerOptions) -> Result<Self> {
        let unk = vocab
            .token_to_id("[UNK]")
            .ok_or_else(|| Error::InvalidArgument("the vocabulary has no [UNK] token".into()))?;
        let specials = SPECIAL_TOKENS
            .iter()
            .filter_map(|&t| vocab.token_to_id(t).map(|id| (t.to_owned(), id)))
            .collect();
        Ok(WordPieceTokenizer {
            vocab,
            normalizer,
            unk,
            max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
            specials,
        })
    }

    /// Reads `vocab.txt`; a vocabulary without `[UNK]` is malformed.
    pub fn from_file(path: &Path, normalizer: NormalizerOptions) -> Result<Self> {
        let vocab = Vocab::from_file(path)?;
        if vocab.token_to_id("[UNK]").is_none() {
            return Err(Error::Malformed {
                path: path.to_path_buf(),
                line: vocab.len() as u64,
                message: "no [UNK] token in the file".into(),
            });
        }
        Self::new(vocab, normalizer)
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    pub fn normalizer(&self) -> NormalizerOptions {
        self.normalizer
    }

    /// The special tokens of the vocabulary ([`SPECIAL_TOKENS`] it holds), as
    /// (token, id) pairs: matched whole in the input, skipped by `decode`.
    pub fn special_tokens(&self) -> &[(String, u32)] {
        &self.specials
    }

    /// The id of `token` (one of [`SPECIAL_TOKENS`]), or an error naming the
    /// missing token.
    pub fn special_id(&self, token: &str) -> Result<u32> {
        self.vocab.token_to_id(token).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "the vocabulary has no {token} token, which this call needs"
            ))
        })
    }

    /// The id padding uses.
    pub fn pad_id(&self) -> Result<u32> {
        self.special_id("[PAD]")
    }

    /// Tokens of one text, with code-point offsets into it.
    pub fn tokenize(&self, text: &str, out: &mut Vec<Token>) {
        thread_local! {
            // One word buffer per thread, so short texts allocate nothing here.
            static BUFFER: RefCell<WordBuffer> = RefCell::new(WordBuffer::default());
        }
        BUFFER.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => self.tokenize_with(text, &mut buf, out),
            Err(_) => self.tokenize_with(text, &mut WordBuffer::default(), out),
        })
    }

    fn tokenize_with(&self, text: &str, buf: &mut WordBuffer, out: &mut Vec<Token>) {
        let mut char_base = 0u32;
        let mut rest = text;
        loop {
            // Special tokens in the input are kept whole, as the reference
            // does: they are matched before normalization.
            let special = self.find_special(rest);
            let end = special.map_or(rest.len(), |(at, _, _)| at);
            char_base += split_words(
                &rest[..end],
                char_base,
                self.normalizer,
                buf,
                &mut |word: &str, origin: &[u32]| {
                    tokenize_word(
                        &self.vocab,
                        self.unk,
                        self.max_input_chars_per_word,
                        word,
                        origin,
                        out,
                    )
                },
            );
            let Some((at, len, id)) = special else { break };
            let n = rest[at..at + len].chars().count() as u32;
            out.push(Token {
                id,
                start: char_base,
                end: char_base + n,
            });
            char_base += n;
            rest = &rest[at + len..];
        }
    }

    /// The first special token in `text`: (byte index, byte length, id).
    fn find_special(&self, text: &str) -> Option<(usize, usize, u32)> {
        if self.specials.is_empty() {
            return None;
        }
        let bytes = text.as_bytes();
        let mut from = 0;
        while let Some(i) = bytes[from..].iter().position(|&b| b == b'[') {
            let at = from + i;
            for (token, id) in &self.specials {
                if bytes[at..].starts_with(token.as_bytes()) {
                    return Some((at, token.len(), *id));
                }
            }
            from = at + 1;
        }
        None
    }

    /// Encodes a text, or a pair of texts.
    pub fn encode(&self, text: &str, pair: Option<&str>, opts: EncodeOptions) -> Result<Encoding> {
        let specials = if opts.add_special_tokens {
            Some(Specials {
                cls: self.special_id("[CLS]")?,
                sep: self.special_id("[SEP]")?,
            })
        } else {
            None
        };
        let mut a = Vec::with_capacity(text.len() / 4 + 4);
        self.tokenize(text, &mut a);
        let b = pair.map(|p| {
            let mut b = Vec::with_capacity(p.len() / 4 + 4);
            self.tokenize(p, &mut b);
            b
        });
        post_process(a, b, specials, opts.max_length)
    }

    /// Encodes many texts (and pairs) on `threads` threads, in order, then
    /// pads them as asked. The batch goes in rounds of a few megabytes per
    /// thread with `keep_going` asked before each; when it answers false the
    /// call stops with [`Error::Interrupted`].
    pub fn encode_batch(
        &self,
        texts: &[String],
        pairs: Option<&[String]>,
        opts: EncodeOptions,
        padding: Padding,
        threads: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Vec<Encoding>> {
        if let Some(p) = pairs {
            if p.len() != texts.len() {
                return Err(Error::InvalidArgument(format!(
                    "{} texts but {} pairs: they must match",
                    texts.len(),
                    p.len()
                )));
            }
        }
        let pad_id = match padding {
            Padding::None => 0,
            _ => self.pad_id()?,
        };
        let mut out = Vec::with_capacity(texts.len());
        for round in rounds(texts.len(), threads, text_bytes(texts, pairs)) {
            if !keep_going() {
                return Err(Error::Interrupted);
            }
            let indices: Vec<usize> = round.collect();
            let encoded = map_balanced(&indices, threads, |&i| {
                self.encode(&texts[i], pairs.map(|p| p[i].as_str()), opts)
            });
            for enc in encoded {
                out.push(enc?);
            }
        }
        let target = match padding {
            Padding::None => 0,
            Padding::Longest => out.iter().map(Encoding::len).max().unwrap_or(0),
            Padding::Fixed(n) => n,
        };
        if padding != Padding::None {
            for e in &mut out {
                e.pad(target, pad_id);
            }
        }
        Ok(out)
    }

    /// Encodes a batch straight into `out`, three row-major `n x length`
    /// matrices one after the other: input ids, token type ids, attention
    /// mask. Every row is truncated and padded to exactly `length`. Rows are
    /// written in place by `threads` threads; no per-text result is kept.
    /// The rows go in rounds with `keep_going` asked before each; after an
    /// error ([`Error::Interrupted`] when it answers false) `out` holds only
    /// some of the rows.
    #[allow(clippy::too_many_arguments)]
    pub fn encode_batch_matrix(
        &self,
        texts: &[String],
        pairs: Option<&[String]>,
        add_special_tokens: bool,
        length: usize,
        threads: usize,
        out: &mut [i64],
        keep_going: &dyn Fn() -> bool,
    ) -> Result<()> {
        let n = texts.len();
        if let Some(p) = pairs {
            if p.len() != n {
                return Err(Error::InvalidArgument(format!(
                    "{n} texts but {} pairs: they must match",
                    p.len()
                )));
            }
        }
        if out.len() != 3 * n * length {
            return Err(Error::InvalidArgument(format!(
                "output holds {} values, {} needed",
                out.len(),
                3 * n * length
            )));
        }
        let pad_id = i64::from(self.pad_id()?);
        let opts = EncodeOptions {
            add_special_tokens,
            max_length: Some(length),
        };
        if n == 0 || length == 0 {
            // Nothing to write, but the arguments must still make sense.
            return match texts.first() {
                Some(t) => self
                    .encode(t, pairs.map(|p| p[0].as_str()), opts)
                    .map(|_| ()),
                None => Ok(()),
            };
        }
        let (ids, rest) = out.split_at_mut(n * length);
        let (types, mask) = rest.split_at_mut(n * length);
        let block = ROWS_PER_BLOCK * length;
        let mut blocks = ids
            .chunks_mut(block)
            .zip(types.chunks_mut(block))
            .zip(mask.chunks_mut(block))
            .enumerate()
            .map(|(b, ((ids, types), mask))| Mutex::new((b * ROWS_PER_BLOCK, ids, types, mask)));
        let mut handed_out = 0;
        for round in rounds(n, threads, text_bytes(texts, pairs)) {
            if !keep_going() {
                return Err(Error::Interrupted);
            }
            // The blocks whose first row is in this round.
            let until = round.end.div_ceil(ROWS_PER_BLOCK);
            let cells: Vec<Mutex<RowBlock<'_>>> =
                blocks.by_ref().take(until - handed_out).collect();
            handed_out = until;
            let results = map_balanced(&cells, threads, |cell| {
                let mut guard = cell.lock().unwrap_or_else(|e| e.into_inner());
                self.fill_rows(texts, pairs, opts, length, pad_id, &mut guard)
            });
            results.into_iter().collect::<Result<()>>()?;
        }
        Ok(())
    }

    /// Encodes the rows of `block` (truncated to `length`) into its slices.
    fn fill_rows(
        &self,
        texts: &[String],
        pairs: Option<&[String]>,
        opts: EncodeOptions,
        length: usize,
        pad_id: i64,
        block: &mut RowBlock<'_>,
    ) -> Result<()> {
        let (first, ids, types, mask) = block;
        let rows = ids.len() / length;
        for r in 0..rows {
            let i = *first + r;
            let enc = self.encode(&texts[i], pairs.map(|p| p[i].as_str()), opts)?;
            let row = r * length..(r + 1) * length;
            let k = enc.len();
            let (ids, types, mask) = (
                &mut ids[row.clone()],
                &mut types[row.clone()],
                &mut mask[row],
            );
            for (dst, &src) in ids.iter_mut().zip(&enc.ids) {
                *dst = i64::from(src);
            }
            for (dst, &src) in types.iter_mut().zip(&enc.type_ids) {
                *dst = i64::from(src);
            }
            mask[..k].fill(1);
            ids[k..].fill(pad_id);
            types[k..].fill(0);
            mask[k..].fill(0);
        }
        Ok(())
    }

    /// Encodes a batch the way transformers' tokenizers do, into flat arrays
    /// (see [`crate::batch_encoding`]): truncation with a strategy and side,
    /// `[CLS] A [SEP] (B [SEP])` when `add_special_tokens`, padding on either
    /// side, the special-tokens mask and (when `offsets`) the offsets. Rows
    /// are encoded on `threads` threads in rounds, with `keep_going` asked
    /// before each; an error names the row.
    #[allow(clippy::too_many_arguments)]
    pub fn encode_batch_arrays(
        &self,
        texts: &[String],
        pairs: Option<&[String]>,
        add_special_tokens: bool,
        truncation: Option<Truncation>,
        padding: Option<BatchPadding>,
        offsets: bool,
        threads: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<EncodedBatch> {
        if let Some(p) = pairs {
            if p.len() != texts.len() {
                return Err(Error::InvalidArgument(format!(
                    "{} texts but {} pairs: they must match",
                    texts.len(),
                    p.len()
                )));
            }
        }
        let template = if add_special_tokens {
            Some(ClsSep {
                cls: self.special_id("[CLS]")?,
                sep: self.special_id("[SEP]")?,
            })
        } else {
            None
        };
        let opts = BatchOptions {
            template,
            truncation,
            padding,
            offsets,
        };
        let tokens = |text: &str| {
            let mut out = Vec::with_capacity(text.len() / 4 + 4);
            self.tokenize(text, &mut out);
            out
        };
        encode_rows(
            texts.len(),
            threads,
            text_bytes(texts, pairs),
            |i| Ok((tokens(&texts[i]), pairs.map(|p| tokens(&p[i])))),
            &opts,
            keep_going,
        )
    }

    /// Text from ids; unknown ids are skipped, and so are special tokens
    /// when `skip_special_tokens` is set.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> String {
        let is_special = |id: u32| self.specials.iter().any(|&(_, s)| s == id);
        decode_tokens(
            ids.iter()
                .filter(|&&id| !(skip_special_tokens && is_special(id)))
                .filter_map(|&id| self.vocab.id_to_token(id)),
        )
    }
}

/// The size in bytes of item `i` of a batch: its text and pair.
fn text_bytes<'a>(
    texts: &'a [String],
    pairs: Option<&'a [String]>,
) -> impl Fn(usize) -> usize + 'a {
    move |i| texts[i].len() + pairs.map_or(0, |p| p[i].len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::stop_after;

    fn tokenizer() -> WordPieceTokenizer {
        let tokens = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!", "un",
            "##aff", "##able", "cafe",
        ];
        let vocab = Vocab::from_tokens(tokens.iter().map(|t| t.to_string()).collect(), |_, m| {
            Error::InvalidArgument(m)
        })
        .unwrap();
        WordPieceTokenizer::new(vocab, NormalizerOptions::bert(true)).unwrap()
    }

    const PLAIN: EncodeOptions = EncodeOptions {
        add_special_tokens: false,
        max_length: None,
    };

    #[test]
    fn pipeline_with_offsets() {
        let tok = tokenizer();
        let e = tok
            .encode("Hello, UNAFFABLE Café[MASK]x", None, PLAIN)
            .unwrap();
        assert_eq!(e.ids, [5, 6, 9, 10, 11, 12, 4, 1]);
        assert_eq!(
            e.offsets,
            [
                (0, 5),
                (5, 6),
                (7, 9),
                (9, 12),
                (12, 16),
                (17, 21),
                (21, 27),
                (27, 28)
            ]
        );
        assert_eq!(tok.decode(&e.ids, true), "hello, unaffable cafe");
        assert_eq!(
            tok.decode(&e.ids, false),
            "hello, unaffable cafe [MASK] [UNK]"
        );
    }

    #[test]
    fn matrix_equals_padded_encodings() {
        let tok = tokenizer();
        let texts: Vec<String> = ["hello world", "", "unaffable, hello! world hello"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let opts = EncodeOptions {
            add_special_tokens: true,
            max_length: Some(5),
        };
        let encs = tok
            .encode_batch(&texts, None, opts, Padding::Fixed(5), 2, &|| true)
            .unwrap();
        let mut out = vec![-1i64; 3 * 3 * 5];
        tok.encode_batch_matrix(&texts, None, true, 5, 2, &mut out, &|| true)
            .unwrap();
        let ids: Vec<i64> = encs
            .iter()
            .flat_map(|e| e.ids.iter().map(|&x| i64::from(x)))
            .collect();
        let mask: Vec<i64> = encs
            .iter()
            .flat_map(|e| e.attention_mask.iter().map(|&x| i64::from(x)))
            .collect();
        assert_eq!(&out[..15], &ids[..]);
        assert_eq!(&out[15..30], &[0; 15][..]);
        assert_eq!(&out[30..], &mask[..]);
        assert_eq!(&ids[..5], &[2, 5, 7, 3, 0]);
    }

    #[test]
    fn batch_arrays_equal_the_encodings_with_masks_and_offsets() {
        use crate::batch_encoding::{Side, Strategy};
        let tok = tokenizer();
        let texts: Vec<String> = ["hello world", "", "unaffable, hello! world hello"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pairs: Vec<String> = texts.iter().rev().cloned().collect();
        let opts = EncodeOptions {
            add_special_tokens: true,
            max_length: Some(7),
        };
        let cut = Truncation {
            strategy: Strategy::LongestFirst,
            max_length: 7,
            side: Side::Right,
        };
        let pad = BatchPadding {
            length: Some(8),
            multiple_of: None,
            side: Side::Right,
            pad_id: 0,
        };
        let encs = tok
            .encode_batch(&texts, Some(&pairs), opts, Padding::Fixed(8), 2, &|| true)
            .unwrap();
        let out = tok
            .encode_batch_arrays(
                &texts,
                Some(&pairs),
                true,
                Some(cut),
                Some(pad),
                true,
                2,
                &|| true,
            )
            .unwrap();
        assert_eq!(out.lengths, [8, 8, 8]);
        fn wide(v: &[u32]) -> Vec<i64> {
            v.iter().map(|&x| i64::from(x)).collect()
        }
        let flat = |f: fn(&Encoding) -> Vec<i64>| encs.iter().flat_map(f).collect::<Vec<i64>>();
        assert_eq!(out.input_ids, flat(|e| wide(&e.ids)));
        assert_eq!(out.token_type_ids, flat(|e| wide(&e.type_ids)));
        assert_eq!(out.attention_mask, flat(|e| wide(&e.attention_mask)));
        let spans = flat(|e| {
            e.offsets
                .iter()
                .flat_map(|&(s, t)| [i64::from(s), i64::from(t)])
                .collect()
        });
        assert_eq!(out.offsets, spans);
        // [CLS] hello world [SEP] hello world [SEP] [PAD]: 1 at specials and padding.
        assert_eq!(&out.special_tokens_mask[..8], &[1, 0, 0, 1, 0, 0, 1, 1]);
        // Without special tokens nothing is added; an unpadded row keeps its length.
        let plain = tok
            .encode_batch_arrays(&texts, None, false, None, None, false, 1, &|| true)
            .unwrap();
        assert_eq!(plain.lengths, [2, 0, 8]);
        assert_eq!(&plain.input_ids[..2], &[5, 7]);
        assert!(plain.offsets.is_empty());
    }

    #[test]
    fn rounds_give_the_same_rows_and_a_stop_request_ends_the_batch() {
        use crate::parallel::ROUND_ITEMS_PER_THREAD;
        let tok = tokenizer();
        let words = ["hello", "world", "unaffable", "cafe", "x", "!"];
        // Three rounds at one thread, and rounds that do not end on a block boundary.
        let n = ROUND_ITEMS_PER_THREAD * 2 + ROWS_PER_BLOCK / 2 + 3;
        let texts: Vec<String> = (0..n)
            .map(|i| {
                (0..i % 5 + 1)
                    .map(|j| words[(i + j) % 6])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let pairs: Vec<String> = texts.iter().rev().cloned().collect();
        let opts = EncodeOptions {
            add_special_tokens: true,
            max_length: Some(6),
        };
        for pairs in [None, Some(&pairs[..])] {
            let (count, asked) = stop_after(usize::MAX);
            let encs = tok
                .encode_batch(&texts, pairs, opts, Padding::Fixed(6), 1, &count)
                .unwrap();
            assert_eq!(asked.get(), 3);
            for i in [0, ROUND_ITEMS_PER_THREAD, n - 1] {
                let mut one = tok
                    .encode(&texts[i], pairs.map(|p| p[i].as_str()), opts)
                    .unwrap();
                one.pad(6, 0);
                assert_eq!(encs[i], one);
            }
            let mut want = vec![0i64; 3 * n * 6];
            for (i, e) in encs.iter().enumerate() {
                for (k, values) in [&e.ids, &e.type_ids, &e.attention_mask].iter().enumerate() {
                    for (j, &v) in values.iter().enumerate() {
                        want[k * n * 6 + i * 6 + j] = i64::from(v);
                    }
                }
            }
            for threads in [1, 2, 3] {
                let mut out = vec![-1i64; 3 * n * 6];
                tok.encode_batch_matrix(&texts, pairs, true, 6, threads, &mut out, &|| true)
                    .unwrap();
                assert!(out == want, "{threads} threads");
            }
            for k in [0, 2] {
                let (keep_going, asked) = stop_after(k);
                let err = tok.encode_batch(&texts, pairs, opts, Padding::None, 1, &keep_going);
                assert!(matches!(err, Err(Error::Interrupted)));
                assert_eq!(asked.get(), k + 1);
                let (keep_going, asked) = stop_after(k);
                let mut out = vec![0i64; 3 * n * 6];
                let err = tok.encode_batch_matrix(&texts, pairs, true, 6, 1, &mut out, &keep_going);
                assert!(matches!(err, Err(Error::Interrupted)));
                assert_eq!(asked.get(), k + 1);
            }
        }
    }
}
