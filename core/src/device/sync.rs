//! The device side of sync: enrolment, then "sync now": push the outbox and pull the feed in
//! one round trip per page, then upload queued photos.
//!
//! Everything needed survives a kill between any two steps: outbox entries are removed only
//! after the server acknowledged them, the cursor is stored only after the feed items it covers
//! are applied (applying twice changes nothing), and photo uploads resume from the offset the
//! server reports.

use super::Device;
use super::restore::Epoch;
use crate::error::{Error, Result};
use crate::photo::PhotoError;
use crate::sync::client::{Delivery, DeviceReport, SyncClient};
use crate::sync::tls::TlsOptions;
use crate::sync::wire::{PushedChange, SyncRequest};

const META_SERVER: &str = "server_url";
const META_TOKEN: &str = "token";
const META_DEVICE: &str = "device_id";
const META_CURSOR: &str = "cursor";
const META_ORG_VERSION: &str = "org_version";
/// The stable code of the last sync's failure ([`Error::sync_code`]); empty after a success.
const META_LAST_ERROR: &str = "last_sync_error";
/// How many photo files the last successful sync set aside (decision 0062), reported to the
/// server with the next sync.
const META_PHOTOS_UNREADABLE: &str = "last_sync_photos_unreadable";
/// The enrolment's TLS options ([`TlsOptions`] as JSON; absent: the defaults).
const META_TLS: &str = "tls";

/// Most outbox entries per round trip.
const PUSH_ENTRIES: u32 = 500;
/// Outbox bytes per round trip: entries are added until this is reached (at least one goes),
/// so that whole documents re-delivered after a restore stay well inside the server's limits.
const PUSH_BYTES: usize = 2 << 20;
/// Feed bytes asked for per round trip.
const FEED_BYTES: u32 = 4 << 20;
/// Which part of a sync is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPhase {
    /// Pushing changes and pulling the feed.
    Exchanging,
    /// Uploading photos.
    UploadingPhotos,
    /// Finished.
    Done,
}

/// Progress of a sync, reported after every step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The phase the sync is in (`None` before it starts).
    pub phase: Option<SyncPhase>,
    /// Round trips to the sync endpoint.
    pub round_trips: u32,
    /// Outbox entries the server acknowledged.
    pub pushed: u64,
    /// Feed items applied (changes to or whole documents of cases).
    pub pulled: u64,
    /// Photo files uploaded.
    pub photos_uploaded: u64,
    /// Photo files this sync could not send because this phone's copy is missing, unreadable
    /// or damaged (their hashes, in the order found). They stay queued: the next sync tries
    /// them again, and this one sent the files after them. An app may tell the person which
    /// cases' photos are affected ([`Device::pending_uploads`] names each file's case).
    pub photos_unreadable: Vec<String>,
    /// Sync request body bytes sent (photos apart).
    pub bytes_sent: u64,
    /// Sync response body bytes received.
    pub bytes_received: u64,
    /// Photo bytes uploaded.
    pub photo_bytes_sent: u64,
    /// automerge bytes pushed (the payload inside `bytes_sent`, photos apart).
    pub change_bytes_sent: u64,
    /// automerge bytes pulled (the payload inside `bytes_received`).
    pub change_bytes_received: u64,
    /// The cases the pulled feed items touched, in the order first touched.
    pub changed: Vec<String>,
    /// True when the server's roster and catalogue were installed (names, places or the
    /// person's own role or scope may have changed).
    pub org_changed: bool,
    /// True when the server turned out to have been restored from a backup: everything this
    /// device holds was queued again and the feed read again from the start.
    pub server_restored: bool,
}

/// The device's HTTP client and what it was made for.
pub(super) struct CachedClient {
    url: String,
    app: String,
    protocol: crate::sync::version::Protocol,
    platform: String,
    tls: TlsOptions,
    client: SyncClient,
}

impl Device {
    fn meta_str(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .store
            .meta_get(key)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn meta_u64(&self, key: &str) -> Result<u64> {
        Ok(self
            .meta_str(key)?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    fn client(&self) -> Result<(SyncClient, String)> {
        let url = self
            .meta_str(META_SERVER)?
            .ok_or(Error::NotSetUp("this device is not enrolled with a server"))?;
        let token = self
            .meta_str(META_TOKEN)?
            .ok_or(Error::NotSetUp("this device is not enrolled with a server"))?;
        Ok((self.sync_client(&url, &self.tls_options()?)?, token))
    }

    /// The TLS options stored with the enrolment (the defaults before one, or for an
    /// enrolment that gave none).
    pub fn tls_options(&self) -> Result<TlsOptions> {
        match self.store.meta_get(META_TLS)? {
            None => Ok(TlsOptions::default()),
            // Unreadable options are an error, never the defaults: pins must not fall away.
            Some(json) => serde_json::from_slice(&json).map_err(|e| {
                Error::Storage(rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Blob,
                    Box::new(e),
                ))
            }),
        }
    }

    /// The client for `url` under `tls` that says this app's version, platform and protocol:
    /// the device's one client, made again only when the server URL, the TLS options or the
    /// identity changed, so that every sync, upload and photo fetch reuses its kept-alive
    /// connections.
    fn sync_client(&self, url: &str, tls: &TlsOptions) -> Result<SyncClient> {
        let (app, protocol, platform) = self
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut cached = self.http.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cached.as_ref()
            && c.url == url
            && c.app == app
            && c.protocol == protocol
            && c.platform == platform
            && &c.tls == tls
        {
            return Ok(c.client.clone());
        }
        let client = SyncClient::with_tls(url, &app, &platform, protocol, tls)?;
        *cached = Some(CachedClient {
            url: url.to_string(),
            app,
            protocol,
            platform,
            tls: tls.clone(),
            client: client.clone(),
        });
        Ok(client)
    }

    /// Sets the app's version (from the platform: the Android `versionName`, the iOS
    /// `CFBundleShortVersionString`), sent with every request from now on; `dev` until set.
    pub fn set_app_version(&self, app_version: &str) {
        self.identity.write().unwrap_or_else(|e| e.into_inner()).0 =
            crate::sync::version::clean(app_version);
    }

    /// Sets the platform the app runs on, its name and version (`Android 14`, `iOS 18.1`),
    /// sent in the User-Agent of every request from now on; empty (the default) sends none.
    /// A value that cannot go in an HTTP header ([`crate::sync::version::check_platform`]:
    /// printable ASCII without parentheses, at most 64 characters) is `InvalidInput`
    /// naming `platform`, and the platform is left as it was.
    pub fn set_platform(&self, platform: &str) -> Result<()> {
        let checked = crate::sync::version::check_platform(platform).map_err(|problem| {
            Error::InvalidInput {
                field: "platform",
                problem,
            }
        })?;
        self.identity.write().unwrap_or_else(|e| e.into_inner()).2 = checked;
        Ok(())
    }

    /// Makes every request say `protocol` instead of this build's: the mixed-version tests
    /// play a device of another release with it.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn set_protocol_for_tests(&self, protocol: crate::sync::version::Protocol) {
        self.identity.write().unwrap_or_else(|e| e.into_inner()).1 = protocol;
    }

    /// Enrols this device with a server using the one-time code an administrator issued:
    /// stores the token, installs the server's roster and catalogue, and sets the person.
    /// Returns the person's id.
    pub fn enrol(&self, server_url: &str, code: &str, device_name: &str) -> Result<String> {
        self.enrol_with_tls(server_url, code, device_name, &TlsOptions::default())
    }

    /// [`Device::enrol`] under TLS options (a private CA, pins; decision 0030), checked before
    /// anything else ([`Error::InvalidInput`] naming `private_ca_pem` or `pins`, nothing
    /// stored) and kept with the enrolment for every later request. A server whose
    /// certificate they refuse is [`Error::Tls`], and the device stays unenrolled.
    pub fn enrol_with_tls(
        &self,
        server_url: &str,
        code: &str,
        device_name: &str,
        tls: &TlsOptions,
    ) -> Result<String> {
        tls.check()?;
        let client = self.sync_client(server_url, tls)?;
        // The token is made and kept before the first attempt, so that a retry after a lost
        // answer (or a restart) presents the same token and finds the same device.
        let token = match self.meta_str(META_TOKEN)? {
            Some(t) => t,
            None => {
                let mut raw = [0u8; 32];
                rand::fill(&mut raw);
                let t = hex::encode(raw);
                self.store.meta_set(META_TOKEN, t.as_bytes())?;
                t
            }
        };
        let enrolled = client.enrol(code, &token, device_name)?;
        let org = client.org(&token)?;
        self.install_org(org.roster.get(), org.catalogue.get())?;
        let tls_json = serde_json::to_vec(tls).map_err(|e| Error::InvalidInput {
            field: "tls",
            problem: e.to_string(),
        })?;
        self.store.meta_set(META_TLS, &tls_json)?;
        self.store.meta_set(META_SERVER, server_url.as_bytes())?;
        self.store
            .meta_set(META_DEVICE, enrolled.device_id.as_bytes())?;
        self.store
            .meta_set(META_ORG_VERSION, org.version.to_string().as_bytes())?;
        self.set_person(&enrolled.person)?;
        Ok(enrolled.person)
    }

    /// Points an enrolled device at another address of its server (a new host name, another
    /// instance behind a load balancer). The token and the enrolment's TLS options stay the
    /// same.
    pub fn set_server_url(&self, server_url: &str) -> Result<()> {
        SyncClient::new(server_url)?;
        if self.meta_str(META_TOKEN)?.is_none() {
            return Err(Error::NotSetUp("this device is not enrolled with a server"));
        }
        self.store.meta_set(META_SERVER, server_url.as_bytes())
    }

    /// The server-assigned device id, once enrolled.
    pub fn device_id(&self) -> Result<Option<String>> {
        self.meta_str(META_DEVICE)
    }

    /// Syncs now: pushes every unacknowledged change, pulls everything new in scope, uploads
    /// queued photos. `progress` is called after every step. Network trouble is retried with
    /// backoff; if it persists the error says so and the next sync carries on where this one
    /// stopped.
    pub fn sync_now(&self, progress: &dyn Fn(&SyncReport)) -> Result<SyncReport> {
        self.sync_now_until(progress, &|| false)
    }

    /// [`Device::sync_now`], stopping with [`Error::Cancelled`] as soon as `cancelled` says so
    /// between two steps (a round trip, a photo upload). Everything done before stays done.
    pub fn sync_now_until(
        &self,
        progress: &dyn Fn(&SyncReport),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<SyncReport> {
        log::info!(
            target: crate::logs::SYNC,
            "sync started: {} changes and {} photo files waiting",
            self.store.outbox_len().unwrap_or(0),
            self.store.uploads_len().unwrap_or(0)
        );
        let result = self.sync_steps(progress, cancelled);
        // Reported to the server with the next sync (decision 0041); a cancel is no failure.
        match &result {
            Ok(r) => {
                self.store.meta_set(META_LAST_ERROR, b"")?;
                // Written when it changed only: a sync commits nothing more for it.
                let unreadable = r.photos_unreadable.len() as u64;
                if self.meta_u64(META_PHOTOS_UNREADABLE)? != unreadable {
                    let n = unreadable.to_string();
                    self.store.meta_set(META_PHOTOS_UNREADABLE, n.as_bytes())?;
                }
            }
            Err(Error::Cancelled(_)) => {}
            Err(e) => self
                .store
                .meta_set(META_LAST_ERROR, e.sync_code().as_bytes())?,
        }
        match &result {
            Ok(r) => log::info!(
                target: crate::logs::SYNC,
                "sync finished: {} round trips, {} changes pushed, {} pulled, {} photo files \
                 uploaded, {} bytes sent, {} received{}{}{}",
                r.round_trips,
                r.pushed,
                r.pulled,
                r.photos_uploaded,
                r.bytes_sent + r.photo_bytes_sent,
                r.bytes_received,
                if r.photos_unreadable.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} photo files unreadable on this phone (kept queued)",
                        r.photos_unreadable.len()
                    )
                },
                if r.org_changed { ", roster updated" } else { "" },
                if r.server_restored { ", server restored from a backup" } else { "" }
            ),
            Err(Error::Cancelled(what)) => {
                log::info!(target: crate::logs::SYNC, "sync cancelled: {what}")
            }
            Err(e) => log::warn!(target: crate::logs::SYNC, "sync failed: {e}"),
        }
        result
    }

    /// The steps of [`Device::sync_now_until`], which logs their start and end.
    fn sync_steps(
        &self,
        progress: &dyn Fn(&SyncReport),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<SyncReport> {
        let stop = |r: &SyncReport| -> Result<()> {
            if cancelled() {
                Err(Error::Cancelled(format!(
                    "sync stopped after pushing {} changes, pulling {} and uploading {} photo files",
                    r.pushed, r.pulled, r.photos_uploaded
                )))
            } else {
                Ok(())
            }
        };
        // One sync at a time: a second caller (the app while the engine syncs) waits.
        let _one = self.syncing.lock().unwrap_or_else(|e| e.into_inner());
        let (client, token) = self.client()?;
        // Fixes still buffered go out with this sync.
        self.pack_all_tracks()?;
        let mut changed = std::collections::HashSet::new();
        let mut report = SyncReport {
            phase: Some(SyncPhase::Exchanging),
            ..SyncReport::default()
        };
        progress(&report);
        loop {
            stop(&report)?;
            let mut entries = self.store.outbox_pending(PUSH_ENTRIES)?;
            let mut bytes = 0usize;
            if let Some(fit) = entries.iter().position(|e| {
                bytes += e.bytes.len();
                bytes > PUSH_BYTES
            }) {
                entries.truncate(fit.max(1));
            }
            let full = entries.len() as u64 == self.store.outbox_len()?;
            let mut push = Vec::with_capacity(entries.len());
            for e in &entries {
                let case_id =
                    uuid::Uuid::parse_str(&e.case_id).map_err(|err| Error::CorruptCase {
                        case_id: e.case_id.clone(),
                        reason: format!("not a UUID: {err}"),
                    })?;
                push.push(PushedChange {
                    seq: e.seq,
                    case_id,
                    bytes: e.bytes.clone(),
                });
            }
            let org_version = self.meta_u64(META_ORG_VERSION)?;
            let req = SyncRequest {
                push,
                cursor: self.meta_u64(META_CURSOR)?,
                max_feed_bytes: FEED_BYTES,
                org_version,
            };
            let delivery = if self.redelivering()? {
                Delivery::Redelivery
            } else {
                Delivery::Ordinary
            };
            let device_report = DeviceReport {
                outbox: Some(self.store.outbox_len()?),
                last_error: self.meta_str(META_LAST_ERROR)?.filter(|c| !c.is_empty()),
                photos_unreadable: self.meta_u64(META_PHOTOS_UNREADABLE)?,
            };
            let answer = match client.sync_reporting(&token, &req, delivery, &device_report) {
                Ok(answer) => answer,
                // A push refused because the server was restored and lost what it depends on:
                // the refusal names the new epoch; re-deliver and go on.
                Err(e) => {
                    if self.notice_epoch(client.last_epoch().as_deref(), META_CURSOR)?
                        == Epoch::Restored
                    {
                        report.server_restored = true;
                        continue;
                    }
                    return Err(e);
                }
            };
            let resp = answer.response;
            report.round_trips += 1;
            report.bytes_sent += answer.sent;
            report.bytes_received += answer.received;
            report.change_bytes_sent += req.push.iter().map(|p| p.bytes.len() as u64).sum::<u64>();
            report.change_bytes_received +=
                resp.feed.iter().map(|i| i.bytes.len() as u64).sum::<u64>();
            if let Some(seq) = resp.acked_through {
                self.store.outbox_ack_through(seq)?;
                report.pushed += entries.iter().filter(|e| e.seq <= seq).count() as u64;
            }
            self.redelivery_done_if_drained()?;
            let ids: Vec<String> = resp.feed.iter().map(|i| i.case_id.to_string()).collect();
            let page: Vec<(&str, &[u8])> = ids
                .iter()
                .zip(&resp.feed)
                .map(|(id, item)| (id.as_str(), item.bytes.as_slice()))
                .collect();
            self.apply_remote_page(&page)?;
            for id in ids {
                report.pulled += 1;
                if changed.insert(id.clone()) {
                    report.changed.push(id);
                }
            }
            let mut cursor = resp.cursor;
            let mut rescope = false;
            if resp.org_version != org_version {
                let before = self.me();
                let org = client.org(&token)?;
                self.install_org(org.roster.get(), org.catalogue.get())?;
                self.store
                    .meta_set(META_ORG_VERSION, org.version.to_string().as_bytes())?;
                report.org_changed = true;
                if self.me() != before {
                    // The person's scope changed: pull everything in the new scope.
                    cursor = 0;
                    rescope = true;
                }
            }
            self.store
                .meta_set(META_CURSOR, cursor.to_string().as_bytes())?;
            // Last, so that the restart it may queue (cursor 0, everything pushed again) is
            // not overwritten by this answer's cursor.
            let restored = self.notice_epoch(answer.epoch.as_deref(), META_CURSOR)?;
            if restored == Epoch::Restored {
                report.server_restored = true;
            }
            progress(&report);
            if !(resp.more || rescope || !full || restored == Epoch::Restored) {
                break;
            }
        }
        report.phase = Some(SyncPhase::UploadingPhotos);
        progress(&report);
        self.upload_queued(&client, &token, &mut report, progress, &stop)?;
        report.phase = Some(SyncPhase::Done);
        progress(&report);
        Ok(report)
    }

    /// Waits on the server's wake-up channel (up to its heartbeat, 75 s by default): true when
    /// the server holds something new for this device after its cursor, false when nothing
    /// came. The sync engine calls it in a loop while the app is in the foreground.
    pub fn wait_for_news(&self) -> Result<bool> {
        let (client, token) = self.client()?;
        client.wait(&token, self.meta_u64(META_CURSOR)?)
    }

    /// A photo or thumbnail by hash: from the device's files, or downloaded from the server
    /// (and kept) when the device does not have it yet. A copy here that no longer matches
    /// its hash is downloaded again and replaced (decision 0062); when the server has none
    /// either, its refusal is the error and the damaged copy stays as it was.
    pub fn fetch_photo(&self, hash: &str) -> Result<Vec<u8>> {
        let files = self.photo_files();
        if files.contains(hash) {
            match files.read(hash) {
                Ok(bytes) => return Ok(bytes),
                // Damaged here: the server's copy mends it, if the server has one.
                Err(PhotoError::HashMismatch { .. }) => log::warn!(
                    target: crate::logs::SYNC,
                    "photo file {hash} is damaged on this phone; fetching it again"
                ),
                Err(e) => return Err(e.into()),
            }
        }
        let (client, token) = self.client()?;
        let bytes = client.download(&token, hash)?;
        if crate::photo::sha256_hex(&bytes) != hash {
            return Err(Error::Network(format!("photo {hash} arrived damaged")));
        }
        files.mend(&bytes)?;
        Ok(bytes)
    }
}
