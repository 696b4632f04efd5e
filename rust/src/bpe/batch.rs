//! Batches on several threads with dynamic load balancing, in rounds.
//!
//! Texts in a batch differ a lot in length, and neighbouring texts are often
//! alike (one source after another), so equal contiguous shares leave one
//! thread with most of the work. Here the workers
//! ([`crate::parallel::map_balanced`], so nothing outlives the call) take small
//! blocks from a shared counter until none are left; results keep the order.
//! The batch goes in [`rounds`] of a few megabytes per thread, and
//! `keep_going` is asked before each: a stop request ends the call within a
//! round.

use super::offsets::char_spans;
use super::tokenizer::{AllowedSpecial, ByteLevelBpe};
use crate::batch_encoding::{encode_rows, BatchOptions, EncodedBatch, Padding, Piece, Truncation};
use crate::error::{Error, Result};
use crate::parallel::{map_balanced, rounds};

/// How [`encode_batch`] treats special-token text.
#[derive(Debug, Clone, Copy)]
pub enum SpecialText<'a> {
    /// As special tokens, those allowed (`None`: all); any other is an error.
    Allowed(Option<&'a [String]>),
    /// As plain text (`encode_ordinary`).
    Ordinary,
}

/// Encodes `texts` on up to `threads` threads, balanced; an error names the
/// text (`texts[i]`) it came from, and an allowed name that is not a special
/// token of `bpe` is an error before any work. `keep_going` is asked before
/// each round; when it answers false the call stops with
/// [`Error::Interrupted`].
pub fn encode_batch<S: AsRef<str> + Sync>(
    bpe: &ByteLevelBpe,
    texts: &[S],
    threads: usize,
    special: SpecialText<'_>,
    keep_going: &dyn Fn() -> bool,
) -> Result<Vec<Vec<u32>>> {
    let allowed = match special {
        SpecialText::Allowed(Some(names)) => {
            bpe.check_special_names(names)?;
            Some(AllowedSpecial::Some(names))
        }
        SpecialText::Allowed(None) => Some(AllowedSpecial::All),
        SpecialText::Ordinary => None,
    };
    let encode = |text: &S| match &allowed {
        Some(allowed) => bpe.encode(text.as_ref(), allowed),
        None => Ok(bpe.encode_ordinary(text.as_ref())),
    };
    let mut out = Vec::with_capacity(texts.len());
    for round in rounds(texts.len(), threads, |i| texts[i].as_ref().len()) {
        if !keep_going() {
            return Err(Error::Interrupted);
        }
        let first = round.start;
        for (i, result) in map_balanced(&texts[round], threads, encode)
            .into_iter()
            .enumerate()
        {
            out.push(result.map_err(|e| match e {
                Error::InvalidArgument(message) => {
                    Error::InvalidArgument(format!("texts[{}]: {message}", first + i))
                }
                other => other,
            })?);
        }
    }
    Ok(out)
}

/// Encodes a batch (and pairs) the way transformers' GPT-2 tokenizer does,
/// into flat arrays (see [`crate::batch_encoding`]): special-token text is
/// its special token, no special tokens are added, a pair's tokens follow
/// the first text's (type id 1). With `offsets`, each token's span in its
/// text, in code points. Rows go on `threads` threads in rounds, with
/// `keep_going` asked before each; an error names the row.
#[allow(clippy::too_many_arguments)]
pub fn encode_batch_arrays<S: AsRef<str> + Sync>(
    bpe: &ByteLevelBpe,
    texts: &[S],
    pairs: Option<&[S]>,
    truncation: Option<Truncation>,
    padding: Option<Padding>,
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
    let pieces = |text: &str| -> Result<Vec<Piece>> {
        let ids = bpe.encode(text, &AllowedSpecial::All)?;
        let mut out = Vec::with_capacity(ids.len());
        if offsets {
            let len = |id: u32| bpe.id_to_token(id).map_or(0, <[u8]>::len);
            char_spans(text, &ids, len, &mut out);
        } else {
            out.extend(ids.iter().map(|&id| Piece {
                id,
                start: 0,
                end: 0,
            }));
        }
        Ok(out)
    };
    let opts = BatchOptions {
        template: None,
        truncation,
        padding,
        offsets,
    };
    let bytes = |i: usize| texts[i].as_ref().len() + pairs.map_or(0, |p| p[i].as_ref().len());
    encode_rows(
        texts.len(),
        threads,
        bytes,
        |i| {
            let b = pairs.map(|p| pieces(p[i].as_ref())).transpose()?;
            Ok((pieces(texts[i].as_ref())?, b))
        },
        &opts,
        keep_going,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpe::{train, PieceCounter};
    use crate::parallel::ROUND_ITEMS_PER_THREAD;

    fn toy() -> ByteLevelBpe {
        let mut counter = PieceCounter::new();
        counter
            .add_texts(
                &["low lower lowest", "newer wider new"].repeat(20),
                2,
                &|| true,
            )
            .unwrap();
        let eot = "<|endoftext|>".to_owned();
        train(&counter, 280, 1, std::slice::from_ref(&eot), &|| true).unwrap()
    }

    #[test]
    fn batches_encode_like_single_calls_and_errors_name_the_text() {
        let bpe = toy();
        let go = &|| true;
        let texts = ["low new", "wider<|endoftext|>", "lowest"];
        let all = encode_batch(&bpe, &texts, 2, SpecialText::Allowed(None), go).unwrap();
        for (text, ids) in texts.iter().zip(&all) {
            assert_eq!(ids, &bpe.encode(text, &AllowedSpecial::All).unwrap());
        }
        let plain = encode_batch(&bpe, &texts, 2, SpecialText::Ordinary, go).unwrap();
        assert_eq!(plain[1], bpe.encode_ordinary(texts[1]));
        let none: &[String] = &[];
        let err = encode_batch(&bpe, &texts, 1, SpecialText::Allowed(Some(none)), go).unwrap_err();
        assert!(err.to_string().starts_with("texts[1]: "), "{err}");
        let bad = ["<|nope|>".to_owned()];
        let err = encode_batch(&bpe, &texts, 1, SpecialText::Allowed(Some(&bad)), go).unwrap_err();
        assert!(err.to_string().contains("not a special token"), "{err}");
    }

    #[test]
    fn batch_arrays_hold_the_ids_pairs_and_offsets_that_slice_the_text() {
        use crate::batch_encoding::{Side, Strategy};
        let bpe = toy();
        let texts = ["low new\u{e9}r<|endoftext|>", "wider lowest"];
        let pairs = ["new", "lower \u{1f600}"];
        let pad = Padding {
            length: None,
            multiple_of: None,
            side: Side::Left,
            pad_id: 0,
        };
        let out = encode_batch_arrays(
            &bpe,
            &texts,
            Some(&pairs[..]),
            None,
            Some(pad),
            true,
            2,
            &|| true,
        )
        .unwrap();
        let width = out.lengths[0] as usize;
        assert!(out.lengths.iter().all(|&k| k as usize == width));
        for (row, (text, pair)) in texts.iter().zip(&pairs).enumerate() {
            let a = bpe.encode(text, &AllowedSpecial::All).unwrap();
            let b = bpe.encode(pair, &AllowedSpecial::All).unwrap();
            let cells = row * width..(row + 1) * width;
            let pads = width - a.len() - b.len();
            let ids: Vec<i64> = a.iter().chain(&b).map(|&id| i64::from(id)).collect();
            assert_eq!(&out.input_ids[cells.clone()][pads..], &ids[..]);
            let types = &out.token_type_ids[cells.clone()][pads..];
            assert!(
                types[..a.len()].iter().all(|&t| t == 0)
                    && types[a.len()..].iter().all(|&t| t == 1)
            );
            assert!(out.special_tokens_mask[cells.clone()][pads..]
                .iter()
                .all(|&m| m == 0));
            // Each text's spans, in code points, cover it from start to end.
            let spans = &out.offsets[2 * (cells.start + pads)..2 * cells.end];
            let (first, second) = spans.split_at(2 * a.len());
            for (part, text) in [(first, text), (second, pair)] {
                assert_eq!(part.first(), Some(&0));
                assert_eq!(part.last(), Some(&(text.chars().count() as i64)));
                assert!(part.chunks(2).all(|s| s[0] < s[1]));
            }
        }
        // Truncation to 3 tokens, longest first; a too-short only_second is an error naming the row.
        let cut = Truncation {
            strategy: Strategy::LongestFirst,
            max_length: 3,
            side: Side::Right,
        };
        let out =
            encode_batch_arrays(&bpe, &texts, None, Some(cut), None, false, 1, &|| true).unwrap();
        assert!(out.lengths.iter().all(|&k| k <= 3));
        let only_second = Truncation {
            strategy: Strategy::OnlySecond,
            ..cut
        };
        let err = encode_batch_arrays(
            &bpe,
            &texts,
            Some(&pairs[..]),
            Some(only_second),
            None,
            false,
            1,
            &|| true,
        );
        assert!(err.unwrap_err().to_string().starts_with("text[0]: "));
    }

    #[test]
    fn rounds_give_the_same_ids_and_errors_name_the_text_in_any_round() {
        let bpe = toy();
        let n = ROUND_ITEMS_PER_THREAD * 2 + 7;
        let mut texts: Vec<String> = (0..n).map(|i| format!("low {i} newer")).collect();
        let all = encode_batch(&bpe, &texts, 2, SpecialText::Ordinary, &|| true).unwrap();
        assert_eq!(all.len(), n);
        for i in [0, ROUND_ITEMS_PER_THREAD, n - 1] {
            assert_eq!(all[i], bpe.encode_ordinary(&texts[i]));
        }
        texts[n - 2].push_str("<|endoftext|>");
        let none: &[String] = &[];
        let err = encode_batch(&bpe, &texts, 1, SpecialText::Allowed(Some(none)), &|| true);
        let want = format!("texts[{}]: ", n - 2);
        assert!(err.unwrap_err().to_string().starts_with(&want));
    }

    #[test]
    fn a_stop_request_ends_the_batch_between_rounds() {
        let bpe = toy();
        let texts = vec!["low lower"; ROUND_ITEMS_PER_THREAD * 3];
        for stop_at in [1, 2, 3] {
            let asked = std::cell::Cell::new(0);
            let keep_going = || {
                asked.set(asked.get() + 1);
                asked.get() < stop_at
            };
            let err = encode_batch(&bpe, &texts, 1, SpecialText::Ordinary, &keep_going);
            assert!(matches!(err, Err(Error::Interrupted)));
            assert_eq!(asked.get(), stop_at);
        }
    }
}
