//! The single writer: one connection on its own thread, group-committing queued writes.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction and is acknowledged only after
//! `COMMIT` returned; the writer runs whatever is queued (up to [`MAX_BATCH`]) in one such
//! transaction, each write inside its own savepoint, so one fsync covers many writes.

use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::super::error::RequestError;
use super::Store;

/// Most writes committed together by one group commit.
const MAX_BATCH: usize = 128;

/// Called after the batch's COMMIT with its outcome; delivers the job's result.
type Finisher = Box<dyn FnOnce(Result<(), &rusqlite::Error>) + Send>;
/// A write job: runs on the writer connection inside a savepoint (`None`: the database could
/// not start a transaction); returns whether to keep its changes, and its finisher.
pub(super) type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finisher) + Send>;

impl Store {
    /// Queues `f` for the writer thread; the receiver yields its result once the transaction
    /// that contains it has been committed (or `f`'s error, its changes rolled back).
    ///
    /// Group commit: the writer runs every queued job (up to 128) in one `BEGIN IMMEDIATE`
    /// transaction, each inside its own savepoint (released on `Ok`, rolled back on `Err`),
    /// then commits once and only then answers every job. So an `Ok` is always durable, one
    /// fsync covers many concurrent writes, and jobs see each other's committed-or-pending
    /// changes in submission order (a single serial order, as with one connection).
    pub fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, RequestError> + Send + 'static,
    ) -> oneshot::Receiver<Result<T, RequestError>> {
        let (tx, rx) = oneshot::channel();
        self.enqueue(f, move |out| {
            let _ = tx.send(out);
        });
        rx
    }

    /// Runs `f` as one write (see [`Store::submit`]) and waits for the commit. Blocking (on a
    /// std channel, so it may also be called from a runtime thread in a pinch); async code
    /// should await [`Store::submit`] instead.
    pub fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, RequestError> + Send + 'static,
    ) -> Result<T, RequestError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.enqueue(f, move |out| {
            let _ = tx.send(out);
        });
        rx.recv()
            .unwrap_or_else(|_| Err(RequestError::internal("the database writer stopped")))
    }

    fn enqueue<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, RequestError> + Send + 'static,
        deliver: impl FnOnce(Result<T, RequestError>) + Send + 'static,
    ) {
        let job: Job = Box::new(move |conn| {
            let out = match conn {
                None => Err(RequestError::internal("the database is busy; retry")),
                Some(c) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(c)))
                    .unwrap_or_else(|_| Err(RequestError::internal("a write panicked"))),
            };
            let keep = out.is_ok();
            let finish: Finisher = Box::new(move |commit| {
                deliver(match commit {
                    Ok(()) => out,
                    Err(e) => Err(RequestError::internal(format!("commit failed: {e}"))),
                });
            });
            (keep, finish)
        });
        if let Some(jobs) = &self.jobs {
            // If the writer is gone the job is dropped with its sender: the receiver errors.
            let _ = jobs.send(job);
        }
    }
}

/// The writer thread: takes the first queued job and whatever else is queued, and commits them
/// as one batch; returns when every sender is gone.
pub(super) fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
    }
}

/// Runs each job in its own savepoint of one transaction, commits, then answers every job.
fn commit_batch(conn: &mut Connection, batch: Vec<Job>) {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            for job in batch {
                let (_, finish) = job(None);
                finish(Err(&e));
            }
            return;
        }
    };
    let mut finishers = Vec::with_capacity(batch.len());
    for job in batch {
        match tx.savepoint() {
            Ok(mut sp) => {
                let (keep, finish) = job(Some(&sp));
                let kept = if keep { sp.commit() } else { sp.rollback() };
                match kept {
                    Ok(()) => finishers.push(finish),
                    Err(e) => finish(Err(&e)),
                }
            }
            Err(e) => {
                let (_, finish) = job(None);
                finish(Err(&e));
            }
        }
    }
    let committed = tx.commit();
    for finish in finishers {
        finish(committed.as_ref().map(|_| ()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::add_partner;
    use super::*;

    #[test]
    fn a_failed_write_in_a_batch_rolls_back_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let ok1 = store.submit(|tx| add_partner(tx, "A", true));
        let bad = store.submit(|tx| {
            add_partner(tx, "B", true)?;
            Err::<(), _>(RequestError::internal("boom"))
        });
        let ok2 = store.submit(|tx| add_partner(tx, "C", true));
        assert!(ok1.blocking_recv().unwrap().is_ok());
        assert!(bad.blocking_recv().unwrap().is_err());
        assert!(ok2.blocking_recv().unwrap().is_ok());
        let names: Vec<String> = store
            .read(|c| {
                let mut st = c.prepare("SELECT name FROM partners ORDER BY seq")?;
                Ok(st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert_eq!(names, ["A", "C"]);
    }
}
