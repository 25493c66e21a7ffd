//! Stage `config`, a helper of loading: work on items in parallel, results consumed in order.
//! Touches nothing but threads.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError, mpsc};

/// Runs `work(0..n)` on up to `threads` threads and hands each result to `consume` on the
/// calling thread, in order. A worker starts item `i` only when fewer than `2 × threads` items
/// before it wait to be consumed, so results (file trees) do not pile up ahead of a slower
/// consumer. A panic in a worker is raised again on the calling thread.
pub(super) fn in_order<T: Send>(
    n: usize,
    threads: usize,
    work: &(dyn Fn(usize) -> T + Sync),
    consume: &mut dyn FnMut(usize, T),
) {
    if threads <= 1 || n <= 1 {
        (0..n).for_each(|i| consume(i, work(i)));
        return;
    }
    let window = 2 * threads;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let consumed = Mutex::new(0usize);
    let turn = Condvar::new();
    /// Lets every waiting worker go (and stop) when the consumer is done or unwinds.
    struct Release<'a>(&'a Mutex<usize>, &'a Condvar, &'a AtomicBool);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            self.2.store(true, Ordering::SeqCst);
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = usize::MAX / 2;
            self.1.notify_all();
        }
    }
    let (tx, rx) = mpsc::channel::<(usize, std::thread::Result<T>)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(n) {
            let tx = tx.clone();
            let (next, stop, consumed, turn) = (&next, &stop, &consumed, &turn);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let mut c = consumed.lock().unwrap_or_else(PoisonError::into_inner);
                    while i >= *c + window {
                        c = turn.wait(c).unwrap_or_else(PoisonError::into_inner);
                    }
                    drop(c);
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let result = panic::catch_unwind(AssertUnwindSafe(|| work(i)));
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let _release = Release(&consumed, &turn, &stop);
        let mut ready: Vec<Option<T>> = (0..n).map(|_| None).collect();
        let mut at = 0;
        for (i, result) in rx.iter() {
            ready[i] = Some(result.unwrap_or_else(|p| panic::resume_unwind(p)));
            while let Some(value) = ready.get_mut(at).and_then(Option::take) {
                consume(at, value);
                at += 1;
                *consumed.lock().unwrap_or_else(PoisonError::into_inner) = at;
                turn.notify_all();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: usize, threads: usize) -> Vec<(usize, usize)> {
        let mut seen = Vec::new();
        in_order(n, threads, &|i| i * i, &mut |i, v| seen.push((i, v)));
        seen
    }

    #[test]
    fn every_result_is_consumed_once_in_order() {
        for threads in [1, 2, 3, 8] {
            for n in [0, 1, 2, 7, 100] {
                let want: Vec<(usize, usize)> = (0..n).map(|i| (i, i * i)).collect();
                assert_eq!(run(n, threads), want, "{n} items on {threads} threads");
            }
        }
    }

    #[test]
    fn workers_stay_within_a_window_of_the_consumer() {
        // Items are started at most 2 x threads ahead of the last one consumed.
        let consumed = AtomicUsize::new(0);
        let ahead = AtomicUsize::new(0);
        let threads = 3;
        in_order(
            200,
            threads,
            &|i| {
                let done = consumed.load(Ordering::SeqCst);
                ahead.fetch_max(i.saturating_sub(done), Ordering::SeqCst);
                i
            },
            &mut |_, _| {
                consumed.fetch_add(1, Ordering::SeqCst);
            },
        );
        assert_eq!(consumed.load(Ordering::SeqCst), 200);
        assert!(ahead.load(Ordering::SeqCst) < 2 * threads, "{ahead:?}");
    }

    #[test]
    fn a_panicking_worker_panics_the_caller() {
        let caught = panic::catch_unwind(|| {
            in_order(50, 2, &|i| assert!(i != 17, "item 17"), &mut |_, ()| {})
        });
        let payload = caught.expect_err("the panic reaches the caller");
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        assert_eq!(message.as_deref(), Some("item 17"));
    }
}
