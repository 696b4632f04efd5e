//! Batches on several threads with dynamic load balancing.
//!
//! Texts in a batch differ a lot in length, and neighbouring texts are often
//! alike (one source after another), so equal contiguous shares leave one
//! thread with most of the work. Here the workers (spawned by
//! [`crate::parallel::map_ordered`], so nothing outlives the call) take small
//! blocks from a shared counter until none are left; results keep the order.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::parallel::map_ordered;

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
