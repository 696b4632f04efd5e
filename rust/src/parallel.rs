//! Running a batch on several threads, in order, and in rounds that a stop
//! request (Ctrl-C) can end.
//!
//! Threads are scoped to the call (no global pool), so there is nothing to
//! break across `fork` (Python's multiprocessing, DataLoader workers), and a
//! batch of n items costs one spawn per thread, not per item.
//!
//! A long batch runs in [`rounds`] of a few megabytes of text per thread, and
//! the caller asks its `keep_going` between rounds on the calling thread (the
//! binding layer answers false once Python has a pending signal); a loop on
//! one thread whose steps cost very different amounts asks through a
//! [`StopCheck`], once per so much work.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::error::{Error, Result};

// The sizes below are small in `cargo test`, so that tests see many rounds
// and stop checks on small inputs.

/// Text a round gives each thread: about 40 ms of encoding or counting
/// ordinary text (50 MB/s), 0.5 s for the slowest seen (random letters,
/// 4 MB/s), so a stop request is seen within a second, while a round's
/// fixed cost (a spawn per thread, one `keep_going`: microseconds, up to the
/// 5 ms switch interval when another Python thread holds the GIL) stays small.
pub const ROUND_BYTES_PER_THREAD: usize = if cfg!(test) { 4 << 10 } else { 2 << 20 };

/// Items a round gives each thread at most, for batches of many short texts
/// (whose cost is more per text than per byte).
pub const ROUND_ITEMS_PER_THREAD: usize = if cfg!(test) { 100 } else { 32 << 10 };

/// The number of threads a batch call uses when the caller does not say.
pub fn default_threads() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The thread count a caller asked for (`None`: [`default_threads`]); 0 is an error.
pub fn threads_or_default(num_threads: Option<usize>) -> crate::Result<usize> {
    match num_threads {
        None => Ok(default_threads()),
        Some(0) => Err(crate::Error::InvalidArgument(
            "num_threads must be at least 1".into(),
        )),
        Some(n) => Ok(n),
    }
}

/// Applies `f` to every item on up to `threads` threads; results keep the
/// items' order. Small batches run on the calling thread.
pub fn map_ordered<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                // Re-raise on the caller's thread, where the binding layer
                // turns it into a Python exception.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        out
    })
}

/// The ends of the blocks `0..n` is taken in by `threads` threads: up to 256
/// items each, shrinking towards the end (each about 1/(4 threads) of what is
/// left) so that the threads finish together.
fn block_ends(n: usize, threads: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    while at < n {
        at += ((n - at) / (threads * 4)).clamp(1, 256);
        ends.push(at);
    }
    ends
}

/// Runs `f(state, block)` over blocks of `0..n`, one thread per state (the
/// calling thread takes the first): each thread takes the next block from a
/// shared counter until none is left, so uneven items still keep every
/// thread busy. Which blocks a state sees depends on timing; every index is
/// in exactly one block.
pub fn for_each_balanced<S, F>(n: usize, states: &mut [S], f: F)
where
    S: Send,
    F: Fn(&mut S, Range<usize>) + Sync,
{
    let Some((first, others)) = states.split_first_mut() else {
        return;
    };
    let ends = block_ends(n, others.len() + 1);
    let next = AtomicUsize::new(0);
    let work = |state: &mut S| loop {
        let b = next.fetch_add(1, Ordering::Relaxed);
        let Some(&end) = ends.get(b) else { return };
        let start = if b == 0 { 0 } else { ends[b - 1] };
        f(state, start..end);
    };
    if others.is_empty() || ends.len() < 2 {
        work(first);
        return;
    }
    thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = others
            .iter_mut()
            .map(|state| scope.spawn(move || work(state)))
            .collect();
        let mine = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(first)));
        for handle in handles {
            if let Err(payload) = handle.join() {
                std::panic::resume_unwind(payload);
            }
        }
        if let Err(payload) = mine {
            std::panic::resume_unwind(payload);
        }
    });
}

/// Applies `f` to every item on up to `threads` threads, in blocks taken
/// dynamically ([`for_each_balanced`]); results keep the items' order.
pub fn map_balanced<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    // Each thread keeps its blocks' results with the block's first index.
    let mut done: Vec<Vec<(usize, Vec<R>)>> = (0..threads).map(|_| Vec::new()).collect();
    for_each_balanced(items.len(), &mut done, |mine, block| {
        mine.push((block.start, items[block].iter().map(&f).collect()));
    });
    let mut blocks: Vec<(usize, Vec<R>)> = done.into_iter().flatten().collect();
    blocks.sort_unstable_by_key(|&(start, _)| start);
    blocks
        .into_iter()
        .flat_map(|(_, results)| results)
        .collect()
}

/// Splits `0..n` into consecutive rounds for a batch on `threads` threads:
/// a round ends once its items (item `i` being `bytes(i)` bytes of text) hold
/// [`ROUND_BYTES_PER_THREAD`] per thread, or at [`ROUND_ITEMS_PER_THREAD`]
/// items per thread, and holds at least one item. Rounds grow with
/// `threads` even past the machine's cores: reading the core count (about
/// 14 µs) would cost more than a small batch.
pub fn rounds(
    n: usize,
    threads: usize,
    bytes: impl Fn(usize) -> usize,
) -> impl Iterator<Item = Range<usize>> {
    let threads = threads.max(1);
    let max_bytes = ROUND_BYTES_PER_THREAD.saturating_mul(threads);
    let max_items = ROUND_ITEMS_PER_THREAD.saturating_mul(threads);
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= n {
            return None;
        }
        let (mut end, mut held) = (start, 0usize);
        while end < n && end - start < max_items && held < max_bytes {
            held = held.saturating_add(bytes(end));
            end += 1;
        }
        let round = start..end;
        start = end;
        Some(round)
    })
}

/// Work between two questions of a [`StopCheck`] in the trainers' loops, in
/// symbols visited (each a few hash-map operations, 30-120 ns): about 30 to
/// 150 ms.
pub const WORK_PER_CHECK: usize = if cfg!(test) { 4 << 10 } else { 1 << 20 };

/// The work one step of a trainer's merge loop counts for besides the
/// symbols it visits: late in training, when a step touches few words, it
/// takes microseconds (a pop from a heap of millions of pairs, stale
/// entries), as long as visiting about 64 symbols.
pub const HEAP_POP_WORK: usize = 64;

/// Asks `keep_going` once per `every` units of work, for a loop on the
/// calling thread whose steps cost very different amounts (a merge that
/// touches a million words, then thousands that touch a few): counting work
/// instead of steps keeps the time between two questions about the same.
pub struct StopCheck<'a> {
    keep_going: &'a dyn Fn() -> bool,
    every: usize,
    done: usize,
}

impl<'a> StopCheck<'a> {
    pub fn new(keep_going: &'a dyn Fn() -> bool, every: usize) -> Self {
        Self {
            keep_going,
            every,
            done: 0,
        }
    }

    /// Counts `work` more units; [`Error::Interrupted`] when a question asked
    /// now is answered with stop.
    pub fn step(&mut self, work: usize) -> Result<()> {
        self.done = self.done.saturating_add(work);
        if self.done >= self.every {
            self.done = 0;
            if !(self.keep_going)() {
                return Err(Error::Interrupted);
            }
        }
        Ok(())
    }
}

/// For tests: a `keep_going` that answers true `k` times, then false; and how often it was asked.
#[cfg(test)]
pub(crate) fn stop_after(k: usize) -> (impl Fn() -> bool, std::rc::Rc<std::cell::Cell<usize>>) {
    let asked = std::rc::Rc::new(std::cell::Cell::new(0));
    let seen = asked.clone();
    let keep_going = move || {
        asked.set(asked.get() + 1);
        asked.get() <= k
    };
    (keep_going, seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_for_any_thread_count() {
        let items: Vec<u32> = (0..101).collect();
        let expected: Vec<u32> = items.iter().map(|x| x * 2).collect();
        for threads in [0, 1, 2, 3, 8, 200] {
            assert_eq!(map_ordered(&items, threads, |x| x * 2), expected);
        }
        assert!(map_ordered(&[] as &[u32], 4, |x| *x).is_empty());
    }

    #[test]
    fn balanced_keeps_order_for_any_thread_count() {
        for n in [0usize, 1, 5, 100, 10_000] {
            let items: Vec<usize> = (0..n).collect();
            let expected: Vec<usize> = items.iter().map(|x| x * 3).collect();
            for threads in [0, 1, 2, 3, 7, 64] {
                assert_eq!(map_balanced(&items, threads, |x| x * 3), expected);
            }
        }
    }

    #[test]
    fn balanced_states_see_every_index_once() {
        for n in [0usize, 1, 7, 5_000] {
            let mut states: Vec<Vec<usize>> = vec![Vec::new(); 3];
            for_each_balanced(n, &mut states, |mine, block| mine.extend(block));
            let mut seen: Vec<usize> = states.concat();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
        let ends = block_ends(100_000, 2);
        assert_eq!(ends.last(), Some(&100_000));
        assert_eq!(ends[0], 256);
        assert!(ends.windows(2).rev().take(5).all(|w| w[1] - w[0] == 1));
    }

    #[test]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let items: Vec<u32> = (0..10).collect();
        let outcome = std::panic::catch_unwind(|| {
            map_ordered(&items, 2, |&x| if x == 7 { panic!("seven") } else { x })
        });
        assert!(outcome.is_err());
        let items: Vec<u32> = (0..1000).collect();
        for at in [0, 999] {
            let outcome = std::panic::catch_unwind(|| {
                map_balanced(&items, 3, |&x| if x == at { panic!("at") } else { x })
            });
            assert!(outcome.is_err());
        }
    }

    #[test]
    fn rounds_cover_the_batch_by_bytes_and_items() {
        let b = ROUND_BYTES_PER_THREAD;
        let sizes = [b / 2 + 1, 1, b, b, 3];
        let got: Vec<Range<usize>> = rounds(sizes.len(), 1, |i| sizes[i]).collect();
        assert_eq!(got, [0..3, 3..4, 4..5]);
        let got: Vec<Range<usize>> = rounds(sizes.len(), 2, |i| sizes[i]).collect();
        assert_eq!(got, [0..4, 4..5]);
        let n = ROUND_ITEMS_PER_THREAD * 2 + 1;
        let got: Vec<Range<usize>> = rounds(n, 1, |_| 0).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], n - 1..n);
        assert_eq!(rounds(0, 4, |_| 1).count(), 0);
    }

    #[test]
    fn a_stop_check_asks_once_per_so_much_work() {
        let asked = std::cell::Cell::new(0);
        let keep_going = || {
            asked.set(asked.get() + 1);
            asked.get() < 3
        };
        let mut check = StopCheck::new(&keep_going, 10);
        for _ in 0..9 {
            check.step(1).unwrap();
        }
        assert_eq!(asked.get(), 0);
        check.step(1).unwrap();
        check.step(25).unwrap();
        assert_eq!(asked.get(), 2);
        assert!(matches!(check.step(10), Err(Error::Interrupted)));
    }
}
