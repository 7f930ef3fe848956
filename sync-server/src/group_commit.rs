//! Group commit: many threads each need a small record written durably before they answer,
//! and one transaction (one `fsync` of the store's log) writes the records of all of them.
//!
//! The first caller to find no write under way becomes the leader: it takes every record
//! queued so far, writes them in one go, hands each caller its result and wakes them. Callers
//! that arrive while it writes queue up for the next leader, so the group grows with the load
//! and a lone caller waits for nothing but its own write. Nobody is told "done" before the
//! write holding its record has committed, so what each answer promises is unchanged.
//!
//! Used for the record of who uploaded a photo (decision 0049): with SQLite's
//! `synchronous = FULL`, one commit per upload made each photo wait for a sync of the log of
//! its own.

use crate::error::ServerError;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard};

/// The records waiting, and the results not yet collected.
struct Queue<T> {
    /// Records waiting for the next leader, with their tickets.
    waiting: Vec<(u64, T)>,
    /// The next ticket.
    next: u64,
    /// Whether a leader is writing.
    writing: bool,
    /// Results by ticket, until their callers take them.
    results: HashMap<u64, Result<(), ServerError>>,
}

/// Writes records in groups; see the module doc.
pub struct GroupCommit<T> {
    queue: Mutex<Queue<T>>,
    written: Condvar,
}

impl<T> std::fmt::Debug for GroupCommit<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<T> Default for GroupCommit<T> {
    fn default() -> Self {
        GroupCommit {
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                next: 0,
                writing: false,
                results: HashMap::new(),
            }),
            written: Condvar::new(),
        }
    }
}

impl<T> GroupCommit<T> {
    fn lock(&self) -> MutexGuard<'_, Queue<T>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `record` with whatever other records are waiting, and returns once the write
    /// that holds it has committed. `write` writes a group in one transaction; every caller
    /// passes an equivalent one (the leader's is used for the whole group). When a group's
    /// write fails, each of its records is written again on its own, so that one bad record
    /// fails only its own caller.
    pub fn commit(
        &self,
        record: T,
        write: impl Fn(&[T]) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let mut q = self.lock();
        let ticket = q.next;
        q.next += 1;
        q.waiting.push((ticket, record));
        loop {
            if let Some(result) = q.results.remove(&ticket) {
                return result;
            }
            if q.writing {
                q = self.written.wait(q).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            q.writing = true;
            let group = std::mem::take(&mut q.waiting);
            drop(q);
            let results = write_group(group, &write);
            q = self.lock();
            q.results.extend(results);
            q.writing = false;
            self.written.notify_all();
        }
    }
}

/// Writes a group at once, or, when that fails, each record alone. A panic in `write` is the
/// group's error, not a stuck queue.
fn write_group<T>(
    group: Vec<(u64, T)>,
    write: &impl Fn(&[T]) -> Result<(), ServerError>,
) -> Vec<(u64, Result<(), ServerError>)> {
    let guarded = |records: &[T]| {
        catch_unwind(AssertUnwindSafe(|| write(records))).unwrap_or_else(|_| {
            Err(ServerError::Internal(
                "writing a group of records panicked".into(),
            ))
        })
    };
    let (tickets, records): (Vec<u64>, Vec<T>) = group.into_iter().unzip();
    if records.len() == 1 || guarded(&records).is_err() {
        // One record alone, or a failed group written again record by record.
        return tickets
            .into_iter()
            .zip(records.chunks(1))
            .map(|(t, one)| (t, guarded(one)))
            .collect();
    }
    tickets.into_iter().map(|t| (t, Ok(()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn a_lone_record_is_written_in_a_group_of_its_own() {
        let g = GroupCommit::default();
        let groups = Mutex::new(Vec::new());
        g.commit(7, |r: &[i32]| {
            groups.lock().unwrap().push(r.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(*groups.lock().unwrap(), vec![vec![7]]);
    }

    #[test]
    fn records_arriving_during_a_write_share_the_next_one() {
        let g = Arc::new(GroupCommit::default());
        let groups = Arc::new(Mutex::new(Vec::<Vec<usize>>::new()));
        let writes = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let (g, groups, writes) = (g.clone(), groups.clone(), writes.clone());
                std::thread::spawn(move || {
                    g.commit(i, |r: &[usize]| {
                        writes.fetch_add(1, Ordering::SeqCst);
                        // A slow write, as a sync of the log is: the others queue meanwhile.
                        std::thread::sleep(Duration::from_millis(30));
                        groups.lock().unwrap().push(r.to_vec());
                        Ok(())
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        let groups = groups.lock().unwrap();
        let mut all: Vec<usize> = groups.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..16).collect::<Vec<_>>(), "each record written once");
        assert!(
            writes.load(Ordering::SeqCst) < 16,
            "16 callers at once need fewer than 16 writes: {groups:?}"
        );
    }

    #[test]
    fn a_bad_record_fails_its_own_caller_only() {
        let g = Arc::new(GroupCommit::default());
        let stored = Arc::new(Mutex::new(Vec::new()));
        let write = {
            let stored = stored.clone();
            move |r: &[i32]| {
                std::thread::sleep(Duration::from_millis(10));
                if r.contains(&-1) {
                    return Err(ServerError::BadRequest("negative".into()));
                }
                stored.lock().unwrap().extend_from_slice(r);
                Ok(())
            }
        };
        let threads: Vec<_> = [1, -1, 2, 3, 4, 5]
            .into_iter()
            .map(|v| {
                let (g, write) = (g.clone(), write.clone());
                std::thread::spawn(move || (v, g.commit(v, write)))
            })
            .collect();
        for t in threads {
            let (v, r) = t.join().unwrap();
            assert_eq!(r.is_ok(), v >= 0, "record {v}: {r:?}");
        }
        let mut stored = stored.lock().unwrap().clone();
        stored.sort_unstable();
        assert_eq!(stored, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_panicking_write_is_an_error_and_the_queue_goes_on() {
        let g = GroupCommit::default();
        let r = g.commit(1, |_: &[i32]| panic!("broken store"));
        assert!(matches!(r, Err(ServerError::Internal(_))), "{r:?}");
        assert!(g.commit(2, |_: &[i32]| Ok(())).is_ok());
    }
}
