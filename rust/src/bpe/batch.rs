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

use super::tokenizer::{AllowedSpecial, ByteLevelBpe};
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
