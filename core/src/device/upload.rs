//! The last step of a sync: uploading the photo files queued on the device. A large file goes
//! by `PATCH` (in chunks when larger than one), small files several to a `POST /v1/photos`
//! (decision 0059), and up to as many requests at once as the server allows and
//! [`MAX_UPLOADS_AT_ONCE`] (decision 0061): while one upload waits for the server's answer
//! (its round trip, the server's disk syncs), the next one is already sending.
//!
//! The sync's own thread reads the queue fifty files at a time, reads each file, marks the
//! files the server holds in the store (in one commit a second, decision 0049: a crash loses
//! at most a second's marks, and those files are sent again and answered as held) and reports
//! progress; the requests go out on worker threads, which touch nothing but the network. A
//! list's uploads all finish before the next list is read, since the marks decide what the
//! next list holds. The first refusal stops the uploads: those in flight finish, every file
//! the server confirmed is marked, then the refusal is the sync's error.
//!
//! A file is read without hashing it: the server checks every byte it takes against the
//! file's name (its SHA-256) and refuses a mismatch with `400`, so the phone need not do the
//! same work first (issue 18). Only a `400` makes the worker hash what it sent. A file this
//! phone cannot read, or whose bytes turned out damaged, is no refusal of the sync: it stays
//! queued, the uploads go on with the files after it, and the sync's report names it
//! ([`SyncReport::photos_unreadable`]). One damaged file never holds back the photos queued
//! after it.

use super::Device;
use super::sync::SyncReport;
use crate::error::{Error, Result};
use crate::photo::sha256_hex;
use crate::sync::client::{BATCH_BYTES, BATCH_FILE_MAX, MAX_UPLOADS_AT_ONCE, SyncClient};
use crate::sync::photo_batch::{BatchFile, MAX_BATCH_FILES};
use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::time::{Duration, Instant};

/// Photo files read from the upload queue at a time.
const UPLOAD_BATCH: u32 = 50;
/// How long uploaded files may wait to be marked in the store (decision 0049).
const MARK_UPLOADS_EVERY: Duration = Duration::from_secs(1);

/// Small files waiting to go in one `POST /v1/photos` (decision 0059): at most
/// [`MAX_BATCH_FILES`] files and [`BATCH_BYTES`] bytes.
#[derive(Default)]
struct Batch {
    files: Vec<BatchFile>,
    bytes: usize,
}

impl Batch {
    /// Whether a file of `len` bytes still fits (an empty batch takes any file).
    fn fits(&self, len: usize) -> bool {
        self.files.is_empty()
            || (self.files.len() < MAX_BATCH_FILES && self.bytes + len <= BATCH_BYTES)
    }

    /// Adds a file (whether it [`Batch::fits`] is the caller's to ask).
    fn push(&mut self, hash: String, bytes: Vec<u8>) {
        self.bytes += bytes.len();
        self.files.push(BatchFile { hash, bytes });
    }
}

/// One request's worth of files, read and ready to go.
enum Job {
    /// A file sent by `PATCH`.
    Whole { hash: String, bytes: Vec<u8> },
    /// Small files sent together.
    Small(Vec<BatchFile>),
}

/// What one job did.
#[derive(Default)]
struct Sent {
    /// The files the server now holds whole.
    held: Vec<String>,
    /// Photo bytes sent.
    bytes: u64,
    /// Files the server refused whose bytes on this phone do not match their name.
    damaged: Vec<String>,
    /// The first refusal or failure.
    error: Option<Error>,
}

/// Whether the server's refusal of a file is this phone's copy's fault: the server answers
/// bytes that do not match their name with `400`, and the bytes sent do not hash to it.
fn damaged_here(status: u16, hash: &str, bytes: &[u8]) -> bool {
    status == 400 && sha256_hex(bytes) != hash
}

impl Job {
    /// Sends the job's files; a failure is part of what was sent, not an early return, so
    /// that the files the server took before it are still marked.
    fn send(self, client: &SyncClient, token: &str) -> Sent {
        let mut sent = Sent::default();
        match self {
            Job::Whole { hash, bytes } => sent.whole(client, token, hash, &bytes),
            Job::Small(files) => sent.batch(client, token, files),
        }
        sent
    }
}

impl Sent {
    /// One file by `PATCH` (from where the server stands, when it holds part of it).
    fn whole(&mut self, client: &SyncClient, token: &str, hash: String, bytes: &[u8]) {
        match client.upload(token, &hash, bytes) {
            Ok(n) => {
                self.bytes += n;
                self.held.push(hash);
            }
            Err(Error::Rejected { status, .. }) if damaged_here(status, &hash, bytes) => {
                self.damaged.push(hash);
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Small files in one request, or one by one to a server that takes no batches. A file
    /// the server holds part of (`409`: an upload cut off earlier) goes on by `PATCH` from
    /// where it stands; a file damaged on this phone is set aside; the first file refused
    /// otherwise is the error.
    fn batch(&mut self, client: &SyncClient, token: &str, files: Vec<BatchFile>) {
        let outcomes = match client.upload_batch(token, &files) {
            Ok(Some(outcomes)) => outcomes,
            Ok(None) => {
                for f in files {
                    self.whole(client, token, f.hash, &f.bytes);
                    if self.error.is_some() {
                        return;
                    }
                }
                return;
            }
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        for (f, o) in files.into_iter().zip(outcomes) {
            self.bytes += f.bytes.len() as u64;
            if o.status == 409 {
                self.whole(client, token, f.hash, &f.bytes);
            } else if o.is_stored() {
                self.held.push(f.hash);
            } else if damaged_here(o.status, &f.hash, &f.bytes) {
                self.damaged.push(f.hash);
            } else if self.error.is_none() {
                self.error = Some(Error::Rejected {
                    status: o.status,
                    code: o.code,
                    message: format!("photo {}: {}", f.hash, o.message),
                    retry_after: None,
                });
            }
        }
    }
}

/// A worker: sends the jobs it is handed until the sync's thread hangs up. A panic while
/// sending is that job's failure, so that the sync's thread, which waits for every job's
/// answer, is never left waiting.
fn work(client: &SyncClient, token: &str, queue: &Mutex<Receiver<Job>>, finished: Sender<Sent>) {
    loop {
        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(job) = job else { return };
        let sent =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.send(client, token)))
                .unwrap_or_else(|_| Sent {
                    error: Some(Error::Network(
                        "a photo upload stopped unexpectedly; the next sync sends its files again"
                            .into(),
                    )),
                    ..Sent::default()
                });
        if finished.send(sent).is_err() {
            return;
        }
    }
}

/// The uploads in flight, seen from the sync's thread.
struct Flight<'a> {
    device: &'a Device,
    client: &'a SyncClient,
    progress: &'a dyn Fn(&SyncReport),
    /// Asked before each file is read and each request goes out: an error stops the uploads.
    stop: &'a dyn Fn(&SyncReport) -> Result<()>,
    jobs: SyncSender<Job>,
    done: Receiver<Sent>,
    /// Jobs handed out whose answer was not taken in yet.
    in_flight: usize,
    /// Files the server holds, not yet marked in the store.
    held: Vec<String>,
    marked_at: Instant,
    /// The first refusal: no job is handed out after it.
    refused: Option<Error>,
    /// Files this sync set aside (unreadable or damaged here): still queued, not read again.
    skipped: HashSet<String>,
}

impl Flight<'_> {
    /// Reads the queue list by list and hands each file (or batch of small files) out, until
    /// the queue is empty or a job was refused.
    fn feed(&mut self, report: &mut SyncReport) -> Result<()> {
        let files = self.device.photo_files();
        loop {
            // The files set aside are still queued: read past them.
            let limit = u32::try_from(self.skipped.len())
                .unwrap_or(u32::MAX)
                .saturating_add(UPLOAD_BATCH);
            let mut uploads = self.device.store.uploads_pending(limit)?;
            uploads.retain(|u| !self.skipped.contains(&u.hash));
            if uploads.is_empty() {
                return Ok(());
            }
            let mut batch = Batch::default();
            for u in uploads {
                (self.stop)(report)?;
                if self.refused.is_some() {
                    return Ok(());
                }
                let bytes = match files.read_to_send(&u.hash) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        self.set_aside(u.hash, &e.to_string(), report);
                        continue;
                    }
                };
                if bytes.len() <= BATCH_FILE_MAX && self.client.takes_batches() {
                    if !batch.fits(bytes.len()) {
                        let files = std::mem::take(&mut batch).files;
                        self.hand_out(Job::Small(files), report)?;
                    }
                    batch.push(u.hash, bytes);
                    continue;
                }
                self.hand_out(
                    Job::Whole {
                        hash: u.hash,
                        bytes,
                    },
                    report,
                )?;
            }
            if !batch.files.is_empty() {
                self.hand_out(Job::Small(batch.files), report)?;
            }
            self.settle(report)?;
            self.mark()?;
            if self.refused.is_some() {
                return Ok(());
            }
        }
    }

    /// Hands a job out once fewer uploads than allowed are in flight, taking in the answers
    /// that came meanwhile, unless the sync was cancelled by then.
    fn hand_out(&mut self, job: Job, report: &mut SyncReport) -> Result<()> {
        while self.in_flight >= self.client.uploads_at_once().min(MAX_UPLOADS_AT_ONCE) {
            self.take_next(report)?;
        }
        while let Ok(sent) = self.done.try_recv() {
            self.take(sent, report)?;
        }
        (self.stop)(report)?;
        if self.refused.is_some() {
            return Ok(());
        }
        self.jobs.send(job).map_err(|_| workers_gone())?;
        self.in_flight += 1;
        Ok(())
    }

    /// Waits for every job in flight to be answered.
    fn settle(&mut self, report: &mut SyncReport) -> Result<()> {
        while self.in_flight > 0 {
            self.take_next(report)?;
        }
        Ok(())
    }

    /// Waits for the next answer and takes it in.
    fn take_next(&mut self, report: &mut SyncReport) -> Result<()> {
        let sent = self.done.recv().map_err(|_| workers_gone())?;
        self.take(sent, report)
    }

    /// Takes in a job's answer: counts it, keeps its files for marking (marked once a second
    /// has passed since the last marks) and keeps the first refusal.
    fn take(&mut self, sent: Sent, report: &mut SyncReport) -> Result<()> {
        self.in_flight = self.in_flight.saturating_sub(1);
        report.photo_bytes_sent += sent.bytes;
        report.photos_uploaded += sent.held.len() as u64;
        self.held.extend(sent.held);
        for hash in sent.damaged {
            let why = "the bytes stored here no longer match its name";
            self.set_aside(hash, why, report);
        }
        if let Some(e) = sent.error {
            self.refused.get_or_insert(e);
        }
        if self.marked_at.elapsed() >= MARK_UPLOADS_EVERY {
            self.mark()?;
        }
        (self.progress)(report);
        Ok(())
    }

    /// Leaves a file this phone cannot send in the queue and goes on without it: the report
    /// names it once, and the next sync tries it again.
    fn set_aside(&mut self, hash: String, why: &str, report: &mut SyncReport) {
        log::warn!(
            target: crate::logs::SYNC,
            "photo file {hash} cannot be sent from this phone ({why}); it stays queued"
        );
        if self.skipped.insert(hash.clone()) {
            report.photos_unreadable.push(hash);
        }
    }

    /// Marks the files the server holds in the store, in one commit.
    fn mark(&mut self) -> Result<()> {
        self.device
            .store
            .uploads_done(&std::mem::take(&mut self.held))?;
        self.marked_at = Instant::now();
        Ok(())
    }
}

/// The error when no worker is left to send or answer (never expected: a worker's panic is
/// its job's failure).
fn workers_gone() -> Error {
    Error::Network("the photo uploads stopped unexpectedly; the next sync goes on".into())
}

impl Device {
    /// Uploads every queued photo file (see the module doc). Whatever stops the uploads
    /// (a refusal, a cancel, an error reading a file or the store), the uploads in flight
    /// finish and the files the server confirmed are marked before it is returned.
    pub(super) fn upload_queued(
        &self,
        client: &SyncClient,
        token: &str,
        report: &mut SyncReport,
        progress: &dyn Fn(&SyncReport),
        stop: &dyn Fn(&SyncReport) -> Result<()>,
    ) -> Result<()> {
        if self.store.uploads_len()? == 0 {
            return Ok(());
        }
        let (jobs, queue) = sync_channel::<Job>(0);
        let queue = Mutex::new(queue);
        std::thread::scope(|s| {
            let (finished, done) = channel::<Sent>();
            for _ in 0..MAX_UPLOADS_AT_ONCE {
                let (queue, finished) = (&queue, finished.clone());
                s.spawn(move || work(client, token, queue, finished));
            }
            drop(finished);
            let mut flight = Flight {
                device: self,
                client,
                progress,
                stop,
                jobs,
                done,
                in_flight: 0,
                held: Vec::new(),
                marked_at: Instant::now(),
                refused: None,
                skipped: HashSet::new(),
            };
            let fed = flight.feed(report);
            let settled = flight.settle(report);
            let marked = flight.mark();
            // Dropping the flight hangs up on the workers, which then return.
            let refused = flight.refused.take();
            drop(flight);
            fed?;
            settled?;
            marked?;
            refused.map_or(Ok(()), Err)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_takes_any_first_file_then_keeps_to_its_limits() {
        let mut b = Batch::default();
        assert!(b.fits(BATCH_BYTES * 4), "an empty batch takes any file");
        b.push("a".into(), vec![0; BATCH_BYTES - 10]);
        assert!(b.fits(10));
        assert!(!b.fits(11));
        let mut b = Batch::default();
        for i in 0..MAX_BATCH_FILES {
            assert!(b.fits(1));
            b.push(i.to_string(), vec![0]);
        }
        assert!(!b.fits(1), "no more than MAX_BATCH_FILES files");
    }
}
