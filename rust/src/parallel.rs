//! Running a batch on several threads, in order.
//!
//! Threads are scoped to the call (no global pool), so there is nothing to
//! break across `fork` (Python's multiprocessing, DataLoader workers), and a
//! batch of n items costs one spawn per thread, not per item.

use std::num::NonZeroUsize;
use std::thread;

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
    fn a_panic_in_a_worker_reaches_the_caller() {
        let items: Vec<u32> = (0..10).collect();
        let outcome = std::panic::catch_unwind(|| {
            map_ordered(&items, 2, |&x| if x == 7 { panic!("seven") } else { x })
        });
        assert!(outcome.is_err());
    }
}
