//! Batches on several threads with dynamic load balancing.
//!
//! Texts in a batch differ a lot in length, and neighbouring texts are often
//! alike (one source after another), so equal contiguous shares leave one
//! thread with most of the work. Here the workers (spawned by
//! [`crate::parallel::map_ordered`], so nothing outlives the call) take small
//! blocks from a shared counter until none are left; results keep the order.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::tokenizer::{AllowedSpecial, ByteLevelBpe};
use crate::error::{Error, Result};
use crate::parallel::map_ordered;

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
/// token of `bpe` is an error before any work.
pub fn encode_batch<S: AsRef<str> + Sync>(
    bpe: &ByteLevelBpe,
    texts: &[S],
    threads: usize,
    special: SpecialText<'_>,
) -> Result<Vec<Vec<u32>>> {
    let allowed = match special {
        SpecialText::Allowed(Some(names)) => {
            bpe.check_special_names(names)?;
            Some(AllowedSpecial::Some(names))
        }
        SpecialText::Allowed(None) => Some(AllowedSpecial::All),
        SpecialText::Ordinary => None,
    };
    let results = map_balanced(texts, threads, |text| match &allowed {
        Some(allowed) => bpe.encode(text.as_ref(), allowed),
        None => Ok(bpe.encode_ordinary(text.as_ref())),
    });
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.map_err(|e| match e {
                Error::InvalidArgument(message) => {
                    Error::InvalidArgument(format!("texts[{i}]: {message}"))
                }
                other => other,
            })
        })
        .collect()
}

/// Applies `f` to every item on up to `threads` threads, in blocks taken
/// dynamically; results keep the items' order.
pub fn map_balanced<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let n = items.len();
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    // About 16 blocks per thread, each of 1 to 256 items.
    let block = (n / (threads * 16)).clamp(1, 256);
    let blocks = n.div_ceil(block);
    let next = AtomicUsize::new(0);
    let workers: Vec<usize> = (0..threads).collect();
    let done: Vec<Vec<(usize, Vec<R>)>> = map_ordered(&workers, threads, |_| {
        let mut mine = Vec::new();
        loop {
            let b = next.fetch_add(1, Ordering::Relaxed);
            if b >= blocks {
                return mine;
            }
            let end = ((b + 1) * block).min(n);
            mine.push((b, items[b * block..end].iter().map(&f).collect()));
        }
    });
    let mut ordered: Vec<Option<Vec<R>>> = (0..blocks).map(|_| None).collect();
    for (b, results) in done.into_iter().flatten() {
        ordered[b] = Some(results);
    }
    ordered.into_iter().flatten().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpe::{train, PieceCounter};

    #[test]
    fn batches_encode_like_single_calls_and_errors_name_the_text() {
        let mut counter = PieceCounter::new();
        counter.add_texts(&["low lower lowest", "newer wider new"].repeat(20), 2);
        let eot = "<|endoftext|>".to_owned();
        let bpe = train(&counter, 280, 1, std::slice::from_ref(&eot)).unwrap();
        let texts = ["low new", "wider<|endoftext|>", "lowest"];
        let all = encode_batch(&bpe, &texts, 2, SpecialText::Allowed(None)).unwrap();
        for (text, ids) in texts.iter().zip(&all) {
            assert_eq!(ids, &bpe.encode(text, &AllowedSpecial::All).unwrap());
        }
        let plain = encode_batch(&bpe, &texts, 2, SpecialText::Ordinary).unwrap();
        assert_eq!(plain[1], bpe.encode_ordinary(texts[1]));
        let none: &[String] = &[];
        let err = encode_batch(&bpe, &texts, 1, SpecialText::Allowed(Some(none))).unwrap_err();
        assert!(err.to_string().starts_with("texts[1]: "), "{err}");
        let bad = ["<|nope|>".to_owned()];
        let err = encode_batch(&bpe, &texts, 1, SpecialText::Allowed(Some(&bad))).unwrap_err();
        assert!(err.to_string().contains("not a special token"), "{err}");
    }

    #[test]
    fn keeps_order_for_any_thread_count() {
        for n in [0usize, 1, 5, 100, 10_000] {
            let items: Vec<usize> = (0..n).collect();
            let expected: Vec<usize> = items.iter().map(|x| x * 3).collect();
            for threads in [0, 1, 2, 3, 7, 64] {
                assert_eq!(map_balanced(&items, threads, |x| x * 3), expected);
            }
        }
    }
}
