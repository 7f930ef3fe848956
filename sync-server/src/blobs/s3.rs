//! The S3 backend: photo files as objects in an S3-compatible bucket, shared by every server
//! instance that names the same bucket and prefix (decision 0037).
//!
//! Keys, under the configured prefix:
//! - `<2 hex>/<hash>`: a whole file, written once by a multipart upload completed only after
//!   its bytes matched the hash (so it appears whole or not at all);
//! - `partial/<device>/<hash>/<offset>`: one received chunk of a device's upload, the offset
//!   written as 20 digits so that listing order is offset order. What a device has uploaded is
//!   the run of chunks that follow each other from 0, so any instance can answer `HEAD` and
//!   take the next chunk: the state of an upload is in the bucket, not in a process. An upload
//!   expires when its newest chunk is older than the time to live.
//!
//! object_store is async; this module's calls are blocking (the photo routes run them on
//! Tokio's blocking threads, the admin commands on the main thread), so they run the requests
//! on a small runtime of their own (`block_on`). Downloads are forwarded chunk by chunk as
//! they arrive; completing an upload streams the chunks through the hash and into the
//! multipart upload, at most [`PART_BYTES`] buffered per part and [`PARTS_IN_FLIGHT`] parts in
//! flight.

use super::{Backend, BlobBody, BlobInfo, OpenBlob, PhotosConfig, Removed, mismatch};
use crate::error::ServerError;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ObjectMeta, ObjectStore, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// The size of each part of a multipart upload: S3's smallest part (every part but the last
/// must have at least 5 MiB), so a whole upload buffers no more than this per part.
pub const PART_BYTES: usize = 5 << 20;
/// The bytes of one ranged read of a download.
const RANGE_BYTES: u64 = 128 << 10;
/// The largest piece of a download handed to the response at once.
const FORWARD_BYTES: usize = 16 << 10;
/// Parts uploaded at once while a file is completed.
pub const PARTS_IN_FLIGHT: usize = 2;

/// The runtime the S3 requests run on (two threads; built on first use, never dropped).
fn runtime() -> Result<&'static tokio::runtime::Runtime, ServerError> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("xiangying-s3")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| ServerError::Internal(format!("cannot start the S3 runtime: {e}")))
}

/// Runs `fut` to completion on the S3 runtime. Call from blocking code only (a Tokio
/// blocking thread, a plain thread), never from inside an async task.
pub(crate) fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output, ServerError> {
    Ok(runtime()?.block_on(fut))
}

fn s3_err(what: &str, e: object_store::Error) -> ServerError {
    ServerError::Internal(format!("photo storage (S3), {what}: {e}"))
}

/// Photo files in a bucket.
#[derive(Debug)]
pub struct S3Backend {
    store: AmazonS3,
    /// The key prefix, without slashes at either end ("" for none).
    prefix: String,
}

impl S3Backend {
    /// Connects to the bucket `cfg` names (nothing is sent until the first request).
    pub fn connect(cfg: &PhotosConfig) -> Result<S3Backend, ServerError> {
        let bucket = cfg
            .bucket
            .as_deref()
            .ok_or_else(|| ServerError::Internal("photos.bucket is not set".into()))?;
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(cfg.region.as_deref().unwrap_or("us-east-1"))
            .with_allow_http(cfg.allow_http);
        if let Some(endpoint) = &cfg.endpoint {
            b = b.with_endpoint(endpoint);
        }
        if let Some(k) = &cfg.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &cfg.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        let store = b.build().map_err(|e| s3_err("configuration", e))?;
        Ok(S3Backend {
            store,
            prefix: cfg
                .prefix
                .as_deref()
                .unwrap_or("")
                .trim_matches('/')
                .to_owned(),
        })
    }

    fn key(&self, rest: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(rest)
        } else {
            Key::from(format!("{}/{rest}", self.prefix))
        }
    }

    fn final_key(&self, hash: &str) -> Key {
        self.key(&format!("{}/{hash}", &hash[..2]))
    }

    fn upload_prefix(&self, device: &str, hash: &str) -> Key {
        self.key(&format!("partial/{device}/{hash}"))
    }

    fn list(&self, prefix: &Key) -> Result<Vec<ObjectMeta>, ServerError> {
        block_on(self.store.list(Some(prefix)).try_collect::<Vec<_>>())?
            .map_err(|e| s3_err("list", e))
    }

    fn delete_all(&self, objects: &[ObjectMeta]) -> Result<(), ServerError> {
        block_on(async {
            for o in objects {
                match self.store.delete(&o.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(s3_err("delete", e)),
                }
            }
            Ok(())
        })?
    }

    /// A device's upload: its chunks in offset order, and the bytes that follow each other
    /// from 0 (what is stored).
    fn upload(
        &self,
        device: &str,
        hash: &str,
    ) -> Result<(Vec<(u64, ObjectMeta)>, u64), ServerError> {
        let mut parts: Vec<(u64, ObjectMeta)> = self
            .list(&self.upload_prefix(device, hash))?
            .into_iter()
            .filter_map(|o| Some((o.location.filename()?.parse::<u64>().ok()?, o)))
            .collect();
        parts.sort_by_key(|(offset, _)| *offset);
        let mut stored = 0;
        for (offset, o) in &parts {
            if *offset == stored {
                stored += o.size;
            }
        }
        Ok((parts, stored))
    }

    /// Streams the upload's chunks, in order, into `sink`.
    async fn stream_parts(
        &self,
        parts: &[(u64, ObjectMeta)],
        mut sink: impl FnMut(&[u8]),
        mut write: Option<&mut WriteMultipart>,
    ) -> Result<(), ServerError> {
        let mut next = 0;
        for (offset, o) in parts {
            if *offset != next {
                continue;
            }
            next += o.size;
            let got = self
                .store
                .get(&o.location)
                .await
                .map_err(|e| s3_err("read a chunk", e))?;
            let mut stream = got.into_stream();
            while let Some(bytes) = stream.next().await {
                let bytes = bytes.map_err(|e| s3_err("read a chunk", e))?;
                sink(&bytes);
                if let Some(w) = write.as_deref_mut() {
                    w.wait_for_capacity(PARTS_IN_FLIGHT)
                        .await
                        .map_err(|e| s3_err("upload a part", e))?;
                    w.put(bytes);
                }
            }
        }
        Ok(())
    }
}

fn age(o: &ObjectMeta, now: SystemTime) -> Duration {
    let modified = SystemTime::UNIX_EPOCH
        + Duration::from_millis(u64::try_from(o.last_modified.timestamp_millis()).unwrap_or(0));
    now.duration_since(modified).unwrap_or(Duration::ZERO)
}

impl Backend for S3Backend {
    fn is_complete(&self, hash: &str) -> Result<bool, ServerError> {
        match block_on(self.store.head(&self.final_key(hash)))? {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(s3_err("head", e)),
        }
    }

    fn partial_len(&self, device: &str, hash: &str, ttl: Duration) -> Result<u64, ServerError> {
        let (parts, stored) = self.upload(device, hash)?;
        let now = SystemTime::now();
        let newest = parts.iter().map(|(_, o)| age(o, now)).min();
        if newest.is_some_and(|a| a > ttl) {
            let objects: Vec<ObjectMeta> = parts.into_iter().map(|(_, o)| o).collect();
            self.delete_all(&objects)?;
            return Ok(0);
        }
        Ok(stored)
    }

    fn device_partial_bytes(&self, device: &str) -> Result<u64, ServerError> {
        Ok(self
            .list(&self.key(&format!("partial/{device}")))?
            .iter()
            .map(|o| o.size)
            .sum())
    }

    fn write_chunk(
        &self,
        device: &str,
        hash: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), ServerError> {
        let key = self.key(&format!("partial/{device}/{hash}/{offset:020}"));
        let payload = PutPayload::from(bytes::Bytes::copy_from_slice(bytes));
        block_on(self.store.put(&key, payload))?
            .map(|_| ())
            .map_err(|e| s3_err("store a chunk", e))
    }

    fn finish(
        &self,
        device: &str,
        hash: &str,
        verified: &mut dyn FnMut() -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let (parts, _) = self.upload(device, hash)?;
        let objects: Vec<ObjectMeta> = parts.iter().map(|(_, o)| o.clone()).collect();
        let dest = self.final_key(hash);
        let held = self.is_complete(hash)?;
        let mut hasher = Sha256::new();
        let mut write = if held {
            None
        } else {
            let upload = block_on(self.store.put_multipart(&dest))?
                .map_err(|e| s3_err("start an upload", e))?;
            Some(WriteMultipart::new_with_chunk_size(upload, PART_BYTES))
        };
        let streamed = block_on(self.stream_parts(&parts, |b| hasher.update(b), write.as_mut()))
            .and_then(|r| r);
        let abort = |write: Option<WriteMultipart>| {
            if let Some(w) = write {
                let _ = block_on(w.abort());
            }
        };
        if let Err(e) = streamed {
            abort(write);
            return Err(e);
        }
        if hex::encode(hasher.finalize()) != hash {
            abort(write);
            self.delete_all(&objects)?;
            return Err(mismatch());
        }
        if let Err(e) = verified() {
            abort(write);
            self.delete_all(&objects)?;
            return Err(e);
        }
        if let Some(w) = write {
            block_on(w.finish())?.map_err(|e| s3_err("complete an upload", e))?;
        }
        self.delete_all(&objects)
    }

    fn sweep_partials(&self, ttl: Duration, dry_run: bool) -> Result<Removed, ServerError> {
        let now = SystemTime::now();
        // Grouped by upload: `partial/<device>/<hash>`.
        let mut uploads: BTreeMap<String, Vec<ObjectMeta>> = BTreeMap::new();
        for o in self.list(&self.key("partial"))? {
            let key = o.location.as_ref();
            let upload = key.rsplit_once('/').map_or(key, |(u, _)| u).to_owned();
            uploads.entry(upload).or_default().push(o);
        }
        let mut removed = Removed::default();
        for objects in uploads.values() {
            if objects.iter().all(|o| age(o, now) > ttl) {
                if !dry_run {
                    self.delete_all(objects)?;
                }
                removed.count += 1;
                removed.bytes += objects.iter().map(|o| o.size).sum::<u64>();
            }
        }
        Ok(removed)
    }

    fn complete_blobs(&self) -> Result<Vec<BlobInfo>, ServerError> {
        let root = if self.prefix.is_empty() {
            None
        } else {
            Some(Key::from(self.prefix.as_str()))
        };
        let all = block_on(self.store.list(root.as_ref()).try_collect::<Vec<_>>())?
            .map_err(|e| s3_err("list", e))?;
        let mut out: Vec<BlobInfo> = all
            .into_iter()
            .filter_map(|o| {
                let mut parts = o.location.parts().collect::<Vec<_>>().into_iter().rev();
                let hash = parts.next()?.as_ref().to_owned();
                let shard = parts.next()?;
                (super::valid_hash(&hash)
                    && hash.starts_with(shard.as_ref())
                    && shard.as_ref().len() == 2)
                    .then(|| BlobInfo {
                        hash,
                        len: o.size,
                        stored: SystemTime::UNIX_EPOCH
                            + Duration::from_millis(
                                u64::try_from(o.last_modified.timestamp_millis()).unwrap_or(0),
                            ),
                    })
            })
            .collect();
        out.sort_by(|a, b| a.hash.cmp(&b.hash));
        Ok(out)
    }

    fn remove_complete(&self, hash: &str) -> Result<(), ServerError> {
        match block_on(self.store.delete(&self.final_key(hash)))? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3_err("delete", e)),
        }
    }

    fn open(&self, hash: &str) -> Result<OpenBlob, ServerError> {
        let key = self.final_key(hash);
        let len = match block_on(self.store.head(&key))? {
            Ok(meta) => meta.size,
            Err(object_store::Error::NotFound { .. }) => return Err(ServerError::NotFound),
            Err(e) => return Err(s3_err("head", e)),
        };
        // Read in ranges, one at a time: with a whole object in one response, the HTTP client
        // reads ahead as fast as the bucket sends (two read buffers of ~400 KiB each while a
        // slow device downloads), whereas a range bounds what it can hold. Each range is
        // handed on in small copies, so the response never queues a whole range.
        let store = self.store.clone();
        let ranges =
            futures::stream::iter((0..len).step_by(RANGE_BYTES as usize)).then(move |at| {
                let (store, key) = (store.clone(), key.clone());
                async move {
                    let range = at..(at + RANGE_BYTES).min(len);
                    // The request runs on the S3 runtime, whichever runtime polls the stream.
                    let got = runtime()
                        .map_err(|e| std::io::Error::other(e.to_string()))?
                        .spawn(async move { store.get_range(&key, range).await })
                        .await
                        .map_err(std::io::Error::other)?
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    let pieces = (0..got.len()).step_by(FORWARD_BYTES).map(move |at| {
                        let end = (at + FORWARD_BYTES).min(got.len());
                        Ok(bytes::Bytes::copy_from_slice(&got[at..end]))
                    });
                    Ok::<_, std::io::Error>(futures::stream::iter(pieces))
                }
            });
        Ok(OpenBlob::new(
            len,
            BlobBody::Stream(ranges.try_flatten().boxed()),
        ))
    }
}
