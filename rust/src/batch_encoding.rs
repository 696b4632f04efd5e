//! Batches the way transformers' tokenizers build them: truncation strategies,
//! BERT's `[CLS] A [SEP] B [SEP]` template, padding on either side, and the
//! rows written one after another into flat int64 arrays.
//!
//! The tokenizers (`wordpiece`, `bpe`) turn each text into [`Piece`]s; this
//! module does everything after that, the same for both, as HF `tokenizers`'
//! `truncate_encodings`, `TemplateProcessing` and `pad_encodings` do (what
//! transformers' fast tokenizers run).

use crate::error::{Error, Result};
use crate::parallel::{map_balanced, rounds};

/// One token before post-processing: its id and its span in its text, in
/// code points (`start..end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub id: u32,
    pub start: u32,
    pub end: u32,
}

/// Which end of a sequence truncation cuts, or padding fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    /// `"left"` or `"right"`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "left" => Ok(Side::Left),
            "right" => Ok(Side::Right),
            _ => Err(Error::InvalidArgument(format!(
                "side must be \"left\" or \"right\", got {name:?}"
            ))),
        }
    }
}

/// How a text (or pair) longer than the limit is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Tokens go from the longer text first; if both must be cut, they share.
    LongestFirst,
    /// Only the first text is cut; an error if it is too short for that.
    OnlyFirst,
    /// Only the second text is cut; an error if it is too short or absent.
    OnlySecond,
}

impl Strategy {
    /// transformers' names: `"longest_first"`, `"only_first"`, `"only_second"`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "longest_first" => Ok(Strategy::LongestFirst),
            "only_first" => Ok(Strategy::OnlyFirst),
            "only_second" => Ok(Strategy::OnlySecond),
            _ => Err(Error::InvalidArgument(format!(
                "truncation must be \"longest_first\", \"only_first\" or \"only_second\", got {name:?}"
            ))),
        }
    }
}

/// Truncation to `max_length` tokens in all, special tokens included.
#[derive(Debug, Clone, Copy)]
pub struct Truncation {
    pub strategy: Strategy,
    pub max_length: usize,
    pub side: Side,
}

/// Padding of every row to `length` (`None`: the longest row), rounded up to
/// a multiple of `multiple_of`. Rows already longer stay as they are.
#[derive(Debug, Clone, Copy)]
pub struct Padding {
    pub length: Option<usize>,
    pub multiple_of: Option<usize>,
    pub side: Side,
    pub pad_id: u32,
}

/// BERT's template: `[CLS] A [SEP]`, or `[CLS] A [SEP] B [SEP]` for a pair.
#[derive(Debug, Clone, Copy)]
pub struct ClsSep {
    pub cls: u32,
    pub sep: u32,
}

/// What to do after tokenizing.
#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// The special tokens to add; `None` adds none (GPT-2, or
    /// `add_special_tokens=False`).
    pub template: Option<ClsSep>,
    pub truncation: Option<Truncation>,
    pub padding: Option<Padding>,
    /// Whether to fill [`EncodedBatch::offsets`].
    pub offsets: bool,
}

/// A batch, its rows one after another: row `i` has `lengths[i]` tokens
/// (padding included), so with padding every row is as long and the arrays
/// are `rows x width` matrices in row-major order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodedBatch {
    pub input_ids: Vec<i64>,
    /// 0 for the first text and its special tokens, 1 for the second and its `[SEP]`.
    pub token_type_ids: Vec<i64>,
    /// 1 for tokens, 0 for padding.
    pub attention_mask: Vec<i64>,
    /// 1 for added special tokens and padding, 0 for the text's own tokens.
    pub special_tokens_mask: Vec<i64>,
    /// `start, end` per token (code points; `0, 0` for added tokens and
    /// padding), when asked for; else empty.
    pub offsets: Vec<i64>,
    pub lengths: Vec<i64>,
}

/// Cuts `v` to `n` tokens from the `side` end.
fn cut(v: &mut Vec<Piece>, n: usize, side: Side) {
    if v.len() > n {
        match side {
            Side::Right => v.truncate(n),
            Side::Left => {
                v.drain(..v.len() - n);
            }
        }
    }
}

/// The lengths two sequences of `a` and `b` tokens keep within `budget` with
/// the longest-first strategy: the longer is cut to what the shorter leaves;
/// if both must be cut they share the budget, the second taking the odd one.
pub fn longest_first(a: usize, b: usize, budget: usize) -> (usize, usize) {
    if a + b <= budget {
        return (a, b);
    }
    let (short, swapped) = if a > b { (b, true) } else { (a, false) };
    let (mut n1, mut n2) = if short > budget {
        (short, short)
    } else {
        (short, short.max(budget - short))
    };
    if n1 + n2 > budget {
        n1 = budget / 2;
        n2 = n1 + budget % 2;
    }
    if swapped {
        (n2, n1)
    } else {
        (n1, n2)
    }
}

/// Truncates `a` (and `b`) so that they and `added` special tokens fit in
/// `t.max_length`, as HF `tokenizers` does. A limit below the special tokens'
/// count, or a strategy that cannot reach the limit, is an error.
pub fn truncate(
    a: &mut Vec<Piece>,
    b: Option<&mut Vec<Piece>>,
    added: usize,
    t: &Truncation,
) -> Result<()> {
    let Some(budget) = t.max_length.checked_sub(added) else {
        return Err(Error::InvalidArgument(format!(
            "max_length={} leaves no room: the special tokens alone take {added}",
            t.max_length
        )));
    };
    let mut b = b;
    if budget == 0 {
        a.clear();
        if let Some(b) = b.as_mut() {
            b.clear();
        }
        return Ok(());
    }
    let total = a.len() + b.as_ref().map_or(0, |b| b.len());
    if total <= budget {
        return Ok(());
    }
    let excess = total - budget;
    let target = match (t.strategy, b) {
        (Strategy::LongestFirst, None) => {
            cut(a, budget, t.side);
            return Ok(());
        }
        (Strategy::LongestFirst, Some(b)) => {
            let (na, nb) = longest_first(a.len(), b.len(), budget);
            cut(a, na, t.side);
            cut(b, nb, t.side);
            return Ok(());
        }
        (Strategy::OnlyFirst, _) => a,
        (Strategy::OnlySecond, Some(b)) => b,
        (Strategy::OnlySecond, None) => {
            return Err(Error::InvalidArgument(
                "truncation=\"only_second\" needs a text_pair".into(),
            ))
        }
    };
    if target.len() <= excess {
        let which = if t.strategy == Strategy::OnlyFirst {
            "first"
        } else {
            "second"
        };
        return Err(Error::InvalidArgument(format!(
            "the {which} text has {} tokens, too few to cut the {excess} that max_length={} \
             requires: use truncation=\"longest_first\"",
            target.len(),
            t.max_length
        )));
    }
    let keep = target.len() - excess;
    cut(target, keep, t.side);
    Ok(())
}

/// The tokens BERT's template adds: `[CLS]`, `[SEP]`, and a `[SEP]` per pair.
fn added_tokens(template: bool, pair: bool) -> usize {
    match (template, pair) {
        (false, _) => 0,
        (true, false) => 2,
        (true, true) => 3,
    }
}

/// One row after truncation: its pieces, and its pair's.
struct Row {
    a: Vec<Piece>,
    b: Option<Vec<Piece>>,
}

impl Row {
    fn len(&self, template: bool) -> usize {
        let added = added_tokens(template, self.b.is_some());
        self.a.len() + self.b.as_ref().map_or(0, Vec::len) + added
    }
}

/// Appends the arrays of one token.
fn push(out: &mut EncodedBatch, offsets: bool, id: u32, type_id: i64, span: Option<&Piece>) {
    out.input_ids.push(i64::from(id));
    out.token_type_ids.push(type_id);
    out.attention_mask.push(1);
    out.special_tokens_mask.push(i64::from(span.is_none()));
    if offsets {
        let (s, e) = span.map_or((0, 0), |p| (p.start, p.end));
        out.offsets.extend([i64::from(s), i64::from(e)]);
    }
}

fn push_pads(out: &mut EncodedBatch, offsets: bool, n: usize, pad_id: u32) {
    let grow = |v: &mut Vec<i64>, value: i64| v.resize(v.len() + n, value);
    grow(&mut out.input_ids, i64::from(pad_id));
    grow(&mut out.token_type_ids, 0);
    grow(&mut out.attention_mask, 0);
    grow(&mut out.special_tokens_mask, 1);
    if offsets {
        out.offsets.resize(out.offsets.len() + 2 * n, 0);
    }
}

/// Writes `row` (with its template and `pads` padding tokens) at the end of `out`.
fn write_row(out: &mut EncodedBatch, row: &Row, opts: &BatchOptions, pads: usize, pad_id: u32) {
    let left = matches!(opts.padding, Some(p) if p.side == Side::Left);
    if left {
        push_pads(out, opts.offsets, pads, pad_id);
    }
    let o = opts.offsets;
    if let Some(t) = opts.template {
        push(out, o, t.cls, 0, None);
    }
    for p in &row.a {
        push(out, o, p.id, 0, Some(p));
    }
    if let Some(t) = opts.template {
        push(out, o, t.sep, 0, None);
    }
    if let Some(b) = &row.b {
        for p in b {
            push(out, o, p.id, 1, Some(p));
        }
        if let Some(t) = opts.template {
            push(out, o, t.sep, 1, None);
        }
    }
    if !left {
        push_pads(out, opts.offsets, pads, pad_id);
    }
}

/// Encodes `n` rows: `tokenize(i)` gives row `i`'s pieces (and its pair's),
/// computed on `threads` threads, balanced; then truncation, the template
/// and padding as `opts` says. `bytes(i)` sizes row `i` for the rounds the
/// batch goes in, with `keep_going` asked before each (false stops the call
/// with [`Error::Interrupted`]). An error names the row (`text[i]`).
pub fn encode_rows<F>(
    n: usize,
    threads: usize,
    bytes: impl Fn(usize) -> usize,
    tokenize: F,
    opts: &BatchOptions,
    keep_going: &dyn Fn() -> bool,
) -> Result<EncodedBatch>
where
    F: Fn(usize) -> Result<(Vec<Piece>, Option<Vec<Piece>>)> + Sync,
{
    let template = opts.template.is_some();
    let row = |i: &usize| -> Result<Row> {
        let (mut a, mut b) = tokenize(*i)?;
        if let Some(t) = &opts.truncation {
            let added = added_tokens(template, b.is_some());
            truncate(&mut a, b.as_mut(), added, t)?;
        }
        Ok(Row { a, b })
    };
    let mut rows = Vec::with_capacity(n);
    for round in rounds(n, threads, bytes) {
        if !keep_going() {
            return Err(Error::Interrupted);
        }
        let first = round.start;
        let indices: Vec<usize> = round.collect();
        for (k, result) in map_balanced(&indices, threads, row).into_iter().enumerate() {
            rows.push(result.map_err(|e| match e {
                Error::InvalidArgument(m) => {
                    Error::InvalidArgument(format!("text[{}]: {m}", first + k))
                }
                other => other,
            })?);
        }
    }
    let natural: Vec<usize> = rows.iter().map(|r| r.len(template)).collect();
    let width = opts.padding.map(|p| {
        let base = p
            .length
            .unwrap_or_else(|| natural.iter().copied().max().unwrap_or(0));
        match p.multiple_of {
            Some(m) if m > 0 && base % m != 0 => base + m - base % m,
            _ => base,
        }
    });
    let lengths: Vec<usize> = natural
        .iter()
        .map(|&k| width.map_or(k, |w| w.max(k)))
        .collect();
    let total: usize = lengths.iter().sum();
    let mut out = EncodedBatch {
        input_ids: Vec::with_capacity(total),
        token_type_ids: Vec::with_capacity(total),
        attention_mask: Vec::with_capacity(total),
        special_tokens_mask: Vec::with_capacity(total),
        offsets: Vec::with_capacity(if opts.offsets { 2 * total } else { 0 }),
        lengths: lengths.iter().map(|&k| k as i64).collect(),
    };
    let pad_id = opts.padding.map_or(0, |p| p.pad_id);
    for ((row, &k), &len) in rows.iter().zip(&natural).zip(&lengths) {
        write_row(&mut out, row, opts, len - k, pad_id);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(first: u32, n: u32) -> Vec<Piece> {
        (0..n)
            .map(|i| Piece {
                id: first + i,
                start: i,
                end: i + 1,
            })
            .collect()
    }

    fn ids(v: &[Piece]) -> Vec<u32> {
        v.iter().map(|p| p.id).collect()
    }

    fn trunc(strategy: Strategy, max_length: usize, side: Side) -> Truncation {
        Truncation {
            strategy,
            max_length,
            side,
        }
    }

    #[test]
    fn longest_first_matches_hf_tokenizers() {
        assert_eq!(longest_first(3, 4, 10), (3, 4));
        assert_eq!(longest_first(2, 10, 6), (2, 4));
        assert_eq!(longest_first(10, 2, 6), (4, 2));
        assert_eq!(longest_first(10, 9, 7), (4, 3));
        assert_eq!(longest_first(9, 10, 7), (3, 4));
        assert_eq!(longest_first(8, 8, 3), (1, 2));
    }

    #[test]
    fn strategies_and_sides() {
        use Side::*;
        use Strategy::*;
        // "a b c d e" + "f g h i" within 7 with the BERT template (3 added): 4 left.
        let (mut a, mut b) = (pieces(10, 5), pieces(20, 4));
        truncate(&mut a, Some(&mut b), 3, &trunc(LongestFirst, 7, Left)).unwrap();
        assert_eq!((ids(&a), ids(&b)), (vec![13, 14], vec![22, 23]));
        let (mut a, mut b) = (pieces(10, 5), pieces(20, 2));
        truncate(&mut a, Some(&mut b), 3, &trunc(OnlyFirst, 7, Right)).unwrap();
        assert_eq!((ids(&a), ids(&b)), (vec![10, 11], vec![20, 21]));
        let (mut a, mut b) = (pieces(10, 2), pieces(20, 5));
        truncate(&mut a, Some(&mut b), 3, &trunc(OnlySecond, 7, Left)).unwrap();
        assert_eq!((ids(&a), ids(&b)), (vec![10, 11], vec![23, 24]));
        // Too short to cut enough, or no second text: errors.
        let (mut a, mut b) = (pieces(10, 5), pieces(20, 4));
        let err = truncate(&mut a, Some(&mut b), 3, &trunc(OnlySecond, 7, Right));
        assert!(err
            .unwrap_err()
            .to_string()
            .contains("second text has 4 tokens"));
        let mut a = pieces(10, 5);
        assert!(truncate(&mut a, None, 2, &trunc(OnlySecond, 4, Right)).is_err());
        // ... but only when something must be cut.
        let mut a = pieces(10, 2);
        truncate(&mut a, None, 2, &trunc(OnlySecond, 4, Right)).unwrap();
        // A limit of just the special tokens empties both; below it is an error.
        let (mut a, mut b) = (pieces(10, 5), pieces(20, 4));
        truncate(&mut a, Some(&mut b), 3, &trunc(OnlyFirst, 3, Right)).unwrap();
        assert!(a.is_empty() && b.is_empty());
        let mut a = pieces(10, 5);
        let err = truncate(&mut a, None, 2, &trunc(LongestFirst, 1, Right)).unwrap_err();
        assert!(err.to_string().contains("max_length=1 leaves no room"));
    }

    fn run(texts: &[(u32, Option<u32>)], opts: &BatchOptions) -> Result<EncodedBatch> {
        encode_rows(
            texts.len(),
            2,
            |_| 10,
            |i| {
                let (a, b) = texts[i];
                Ok((pieces(10, a), b.map(|b| pieces(20, b))))
            },
            opts,
            &|| true,
        )
    }

    #[test]
    fn template_padding_and_masks() {
        let opts = BatchOptions {
            template: Some(ClsSep { cls: 1, sep: 2 }),
            truncation: None,
            padding: Some(Padding {
                length: None,
                multiple_of: Some(4),
                side: Side::Left,
                pad_id: 0,
            }),
            offsets: true,
        };
        let out = run(&[(1, Some(1)), (2, None)], &opts).unwrap();
        assert_eq!(out.lengths, [8, 8]);
        assert_eq!(
            out.input_ids,
            [0, 0, 0, 1, 10, 2, 20, 2, 0, 0, 0, 0, 1, 10, 11, 2]
        );
        assert_eq!(
            out.token_type_ids,
            [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            out.attention_mask,
            [0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]
        );
        assert_eq!(
            out.special_tokens_mask,
            [1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1]
        );
        assert_eq!(&out.offsets[8..16], &[0, 1, 0, 0, 0, 1, 0, 0]);
        // No padding, no template: rows as long as their pieces.
        let plain = BatchOptions {
            template: None,
            truncation: None,
            padding: None,
            offsets: false,
        };
        let out = run(&[(3, Some(1)), (0, None)], &plain).unwrap();
        assert_eq!(out.lengths, [4, 0]);
        assert_eq!(out.input_ids, [10, 11, 12, 20]);
        assert_eq!(out.token_type_ids, [0, 0, 0, 1]);
        assert!(out.offsets.is_empty());
    }

    #[test]
    fn fixed_padding_keeps_longer_rows_and_errors_name_the_row() {
        let opts = BatchOptions {
            template: None,
            truncation: None,
            padding: Some(Padding {
                length: Some(2),
                multiple_of: None,
                side: Side::Right,
                pad_id: 7,
            }),
            offsets: false,
        };
        let out = run(&[(3, None), (1, None)], &opts).unwrap();
        assert_eq!(out.lengths, [3, 2]);
        assert_eq!(out.input_ids, [10, 11, 12, 10, 7]);
        let only_first = BatchOptions {
            truncation: Some(trunc(Strategy::OnlyFirst, 3, Side::Right)),
            ..opts
        };
        let err = run(&[(1, Some(1)), (1, Some(5))], &only_first).unwrap_err();
        assert!(err.to_string().starts_with("text[1]: "), "{err}");
    }

    #[test]
    fn a_stop_request_ends_the_batch() {
        let opts = BatchOptions {
            template: None,
            truncation: None,
            padding: None,
            offsets: false,
        };
        let err = encode_rows(3, 1, |_| 1, |_| Ok((vec![], None)), &opts, &|| false);
        assert!(matches!(err, Err(Error::Interrupted)));
    }
}
