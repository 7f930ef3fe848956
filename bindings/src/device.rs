//! [`XiangyingDevice`]: the one object an app holds. It wraps the core's `Device` (one data
//! folder, one person, one roster copy), converts every type at the boundary, maps errors to
//! [`ApiError`], and tells the registered [`CaseListener`]s which cases each of its actions
//! touched.
//!
//! Calls are blocking (SQLite on the calling thread, a few milliseconds): the Kotlin and Swift
//! layers call them off the main thread. Long work (photo processing, enrolment, sync, photo
//! download, bulk import) is `async` and runs on its own thread, never on an async runtime's
//! (the core's HTTP client is blocking); sync and import report progress and take a
//! [`CancelToken`].
//!
//! The field operations (routing, routed reports, duplicate suggestions, meeting lists) are
//! exported from `field.rs`, the reports (rankings, notice boards) from `reports.rs` and the
//! patrols from `patrol.rs`, as further `#[uniffi::export]` blocks of the same object.

use crate::capture::{CameraPhoto, PhotoCapture, capture_of};
use crate::datum::{Datum, MapDatum};
use crate::error::{ApiError, ApiResult};
use crate::listener::{
    CancelToken, CaseListener, Listeners, ProgressListener, SyncListener, report_progress,
    report_sync,
};
use crate::tls_types::TlsOptions;
use crate::types::{
    CaseDetail, CaseState, CaseStatus, CaseSummary, Category, Claim, ImportFailure, ImportReport,
    NewReport, NewRequest, PendingUpload, PhotoRef, PhotoStage, RemoteCase, SyncReport,
};
use crate::work::off_thread;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use xiangying_core::Device;
use xiangying_core::photo::is_sha256_hex;

/// One phone's view of the system: its store in a data folder, the person using it, and its
/// copy of the roster and category catalogue. Safe to share between threads.
#[derive(uniffi::Object)]
pub struct XiangyingDevice {
    pub(crate) device: Arc<Device>,
    pub(crate) listeners: Arc<Listeners>,
    /// The datum every returned position is converted to (`set_map_datum`).
    pub(crate) map_datum: MapDatum,
}

fn list(
    r: xiangying_core::Result<Vec<xiangying_core::store::CaseSummary>>,
) -> ApiResult<Vec<CaseSummary>> {
    Ok(r?.into_iter().map(Into::into).collect())
}

/// Runs `work` on its own thread named `name` and waits for it without blocking the caller's
/// thread (see [`off_thread`]); a panic or a thread that cannot start becomes `Internal`.
pub(crate) async fn on_worker<T, F>(name: &'static str, work: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&AtomicBool) -> ApiResult<T> + Send + 'static,
{
    let future = off_thread(name, work, |e| {
        Err(ApiError::Internal {
            detail: format!("cannot start the {name} thread: {e}"),
        })
    });
    future.await.unwrap_or_else(|| {
        Err(ApiError::Internal {
            detail: format!("{name} stopped on an internal error"),
        })
    })
}

/// A hash argument checked before it reaches the file store or the server.
fn check_hash(hash: &str) -> ApiResult<()> {
    if is_sha256_hex(hash) {
        Ok(())
    } else {
        Err(ApiError::InvalidInput {
            field: "hash".into(),
            problem: format!("{hash:?} is not 64 lowercase hex digits (a SHA-256)"),
        })
    }
}

impl XiangyingDevice {
    /// Maps a core error of a call on `case_id`: the id of a patrol (whose document does not
    /// read as a case) is not found, rather than a corrupt case. Case and patrol ids arrive
    /// through the same change listener, so an app may well ask for the wrong kind.
    fn case_error(&self, case_id: &str, e: xiangying_core::Error) -> ApiError {
        match e {
            xiangying_core::Error::CorruptCase { .. } if self.device.patrol(case_id).is_ok() => {
                ApiError::NotFound {
                    what: "case".into(),
                    id: case_id.to_string(),
                }
            }
            e => e.into(),
        }
    }

    /// Runs an action on one case, then tells the listeners.
    fn act(
        &self,
        case_id: &str,
        f: impl FnOnce(&Device) -> xiangying_core::Result<xiangying_core::case::CaseState>,
    ) -> ApiResult<CaseState> {
        let state = f(&self.device).map_err(|e| self.case_error(case_id, e))?;
        self.listeners.notify(vec![case_id.to_string()]);
        Ok(state.into())
    }

    /// The core device, for Rust callers (benchmarks, tests) that need what is not exported.
    pub fn core(&self) -> &Device {
        &self.device
    }
}

#[uniffi::export]
impl XiangyingDevice {
    /// Opens (creating if needed) the device store in the folder `dir`. Give each device (and
    /// each test) its own folder; one folder must not be opened by two objects at once.
    #[uniffi::constructor]
    pub fn open(dir: String) -> ApiResult<Arc<XiangyingDevice>> {
        let device = Device::open(Path::new(&dir))?;
        Ok(Arc::new(XiangyingDevice {
            device: Arc::new(device),
            listeners: Arc::new(Listeners::default()),
            map_datum: MapDatum::default(),
        }))
    }

    // ---- set-up -----------------------------------------------------------------------

    /// Installs the roster and category catalogue published by the server (JSON texts). Both
    /// are checked first; on error (`InvalidInput` with field `org`) nothing changes.
    pub fn install_org(&self, roster_json: String, catalogue_json: String) -> ApiResult<()> {
        self.device.install_org(&roster_json, &catalogue_json)?;
        self.listeners.notify(Vec::new());
        Ok(())
    }

    /// Sets who uses this device; the person must be in the roster (`NotFound` otherwise).
    /// [`XiangyingDevice::enrol`] does this; call it directly only without a server.
    pub fn set_person(&self, person_id: String) -> ApiResult<()> {
        self.device.set_person(&person_id)?;
        self.listeners.notify(Vec::new());
        Ok(())
    }

    /// Who uses this device, with their role and scope, if set.
    pub fn me(&self) -> Option<Claim> {
        self.device.me().map(Into::into)
    }

    /// The category catalogue the device holds, in catalogue order: what a category picker
    /// shows (group by `big_code` for its first level). `NotSetUp` before enrolment.
    pub fn categories(&self) -> ApiResult<Vec<Category>> {
        Ok(self
            .device
            .catalogue()?
            .categories
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Sets the datum of the app's map: every position this object returns from now on
    /// (a case's location, a photo's place, a patrol's track) is converted to it and says so.
    /// WGS-84 until set; the Kotlin and Swift `open` pass it (`mapDatum`). Positions given
    /// to this object say their own datum, whatever this one is.
    pub fn set_map_datum(&self, datum: Datum) {
        self.map_datum.set(datum);
    }

    /// The datum positions are returned in ([`XiangyingDevice::set_map_datum`]).
    pub fn map_datum(&self) -> Datum {
        self.map_datum.get()
    }

    // ---- sync ---------------------------------------------------------------------------

    /// Sets the app's version as the platform knows it (Android `versionName`, iOS
    /// `CFBundleShortVersionString`): every request to the server says it, with the core's
    /// version and the protocol version, for the operator. `dev` until set; call it once
    /// after [`XiangyingDevice::open`].
    pub fn set_app_version(&self, app_version: String) {
        self.device.set_app_version(&app_version);
    }

    /// Sets the platform the app runs on, its name and version (`Android 14` from
    /// `Build.VERSION.RELEASE`, `iOS 18.1` from `ProcessInfo`): every request's User-Agent
    /// names it after the app and core versions, for the operator. Empty (the default) names
    /// none. Errors: `InvalidInput` (field `platform`) for a value that cannot go in an HTTP
    /// header (printable ASCII without parentheses, at most 64 characters); the platform is
    /// then left as it was.
    pub fn set_platform(&self, platform: String) -> ApiResult<()> {
        Ok(self.device.set_platform(&platform)?)
    }

    /// The protocol version this build speaks (`MAJOR.MINOR`, e.g. `1.2`), for an about
    /// screen or a bug report.
    pub fn protocol_version(&self) -> String {
        xiangying_core::sync::version::CURRENT.to_string()
    }

    /// Enrols this device with the server at `server_url` (`https://…`) using the one-time
    /// code an administrator issued (`xiangying-server admin issue-code <person>`): installs
    /// the server's roster and catalogue and sets the person. Returns who uses the device
    /// now; the listeners are told to reload everything.
    ///
    /// `tls` (optional): a private certificate authority and certificate pins for this server
    /// (decision 0030), kept with the enrolment for every later request; without it the
    /// bundled Mozilla roots are trusted.
    ///
    /// Errors: `UpgradeRequired` / `ServerTooOld` (the server does not answer this app's
    /// protocol version), `Unauthorised` (the code is unknown, revoked or already used), `Network` (no
    /// server there, after retries for about 3 s), `InvalidInput` with field `server_url`
    /// (not an http(s) URL), `private_ca_pem` (no PEM certificate, or one that does not parse)
    /// or `pins` (not `sha256/<base64>` of 32 bytes), checked first with nothing stored,
    /// `TlsRefused` (the server's certificate was refused: not retried),
    /// `ServerRejected` (the server refused otherwise). Retrying after
    /// a lost answer is safe: the device brings the same token and finds the same enrolment.
    #[uniffi::method(default(tls = None))]
    pub async fn enrol(
        &self,
        server_url: String,
        code: String,
        device_name: String,
        tls: Option<TlsOptions>,
    ) -> ApiResult<Claim> {
        let device = Arc::clone(&self.device);
        let listeners = Arc::clone(&self.listeners);
        let tls = tls.unwrap_or_default().into();
        on_worker("xiangying-enrol", move |_| {
            device.enrol_with_tls(&server_url, code.trim(), &device_name, &tls)?;
            listeners.notify(Vec::new());
            device.me().map(Into::into).ok_or(ApiError::Internal {
                detail: "enrolment set no person".into(),
            })
        })
        .await
    }

    /// The id the server gave this device at enrolment (for an administrator revoking it),
    /// or none before enrolment.
    pub fn device_id(&self) -> ApiResult<Option<String>> {
        Ok(self.device.device_id()?)
    }

    /// Syncs now on a worker thread: pushes every change of cases and patrols not yet
    /// acknowledged (a patrol's buffered fixes are packed first, so they go too), pulls
    /// everything new in this person's scope (case numbers included), then uploads queued
    /// photos. `listener` hears the totals after every step. The case listeners are told what
    /// the sync changed, cases and patrols, once it ends (with an error too: what was pulled
    /// before stays).
    ///
    /// Cancelling (`cancel`, or dropping the call: a Kotlin coroutine cancelled) stops the sync
    /// between two steps (a round trip, a photo upload) and the call returns `Cancelled`
    /// saying how far it got; everything done before stays done, and the next sync carries on.
    /// A token cancelled before the call returns `Cancelled` without contacting the server.
    /// `listener` hears nothing after the cancellation.
    ///
    /// Errors: `NotSetUp` (not enrolled), `Network` (after retries; the next sync carries on
    /// where this one stopped), `Unauthorised` (the device was revoked: enrol again),
    /// `UpgradeRequired` (update the app) or `ServerTooOld` (the operator must upgrade the
    /// server; nothing is lost meanwhile), `ServerRejected` (the server refused a change: 403
    /// outside the person's scope).
    pub async fn sync_now(
        &self,
        listener: Option<Arc<dyn SyncListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> ApiResult<SyncReport> {
        let device = Arc::clone(&self.device);
        let listeners = Arc::clone(&self.listeners);
        on_worker("xiangying-sync", move |stop| {
            let cancelled =
                || stop.load(Ordering::SeqCst) || cancel.as_ref().is_some_and(|t| t.is_cancelled());
            if cancelled() {
                return Err(ApiError::Cancelled {
                    detail: "the sync was cancelled before it started".into(),
                });
            }
            let result = device.sync_now_until(
                &|r| {
                    if !cancelled() {
                        report_sync(listener.as_ref(), &r.into());
                    }
                },
                &cancelled,
            );
            match &result {
                // A new roster may rename anything on screen: reload everything.
                Ok(r) if r.org_changed => listeners.notify(Vec::new()),
                Ok(r) if !r.changed.is_empty() => listeners.notify(r.changed.clone()),
                Ok(_) => {}
                // How much a failed or cancelled sync applied is not reported: reload all.
                Err(_) => listeners.notify(Vec::new()),
            }
            let report = result?;
            Ok((&report).into())
        })
        .await
    }

    // ---- raising cases ----------------------------------------------------------------

    /// Raises a problem report and returns its case id. Checked in full before anything is
    /// written: an unknown category (`NotFound`), a place outside the street, no location or
    /// an empty description (`InvalidInput`), a role that may not report (`NotAllowed`). The
    /// location is converted from its datum to WGS-84 before the grid is looked up.
    pub fn report(&self, report: NewReport) -> ApiResult<String> {
        let id = self.device.report(&report.located()?)?;
        self.listeners.notify(vec![id.clone()]);
        Ok(id)
    }

    /// Raises a resident request (群众点单) and returns its case id; it goes to the community
    /// grid chief, who dispatches it to the community's volunteers.
    pub fn request(&self, request: NewRequest) -> ApiResult<String> {
        let id = self.device.request(&request.into())?;
        self.listeners.notify(vec![id.clone()]);
        Ok(id)
    }

    /// Raises a problem report with its before photos (camera bytes: JPEG, PNG or WebP; HEIC
    /// is refused with `PhotoRejected` naming HEIC: convert it first, keeping the capture
    /// record) in one step, on a worker thread (processing a 12 MP photo takes a few hundred
    /// ms). Each photo may carry the camera's record of its time and place, which win over
    /// its EXIF and are kept with the photo (the place in WGS-84). A report without a
    /// location is placed where its first photo with a place was taken (camera record, else
    /// EXIF GPS); `InvalidInput` with field `location` when none has one. Every photo is
    /// processed first: a rejected photo (`PhotoRejected`), a bad capture record
    /// (`InvalidInput` with field `taken_at_ms` or `place`) or any error of
    /// [`XiangyingDevice::report`] writes nothing. Once started it runs to its end even if
    /// the caller stops waiting.
    pub async fn report_with_photos(
        &self,
        report: NewReport,
        photos: Vec<CameraPhoto>,
    ) -> ApiResult<String> {
        let captures = photos
            .iter()
            .map(|p| capture_of(p.capture))
            .collect::<ApiResult<Vec<_>>>()?;
        let device = Arc::clone(&self.device);
        let listeners = Arc::clone(&self.listeners);
        on_worker("xiangying-photo", move |_| {
            let camera: Vec<xiangying_core::photo::CameraPhoto<'_>> = photos
                .iter()
                .zip(captures)
                .map(|(p, capture)| xiangying_core::photo::CameraPhoto {
                    bytes: &p.bytes,
                    capture,
                })
                .collect();
            let report = match report.location {
                Some(_) => report.located()?,
                None => match camera.iter().find_map(|c| c.place()) {
                    Some(place) => report.at(place),
                    None => report.located()?,
                },
            };
            let id = device.report_with_camera_photos(&report, &camera)?;
            listeners.notify(vec![id.clone()]);
            Ok(id)
        })
        .await
    }

    /// Attaches a photo to a case this person is involved in, on a worker thread: processed
    /// (resized, re-encoded, stripped of metadata), stored by hash and queued for upload.
    /// `capture`, the camera's record of time and place, wins over the bytes' EXIF; the
    /// returned reference has them (its place in the map datum). Pass the returned hash to
    /// `handle_on_spot` or `resolve` as evidence. Errors: `PhotoRejected` (HEIC, damaged,
    /// too large; nothing written), `InvalidInput` (a bad capture record), `NotFound` (no
    /// such case), `NotAllowed` (not involved). Attaching the same photo at the same stage
    /// again returns the first one.
    #[uniffi::method(default(capture = None))]
    pub async fn attach_photo(
        &self,
        case_id: String,
        bytes: Vec<u8>,
        stage: PhotoStage,
        capture: Option<PhotoCapture>,
    ) -> ApiResult<PhotoRef> {
        let capture = capture_of(capture)?;
        let datum = self.map_datum.get();
        let device = Arc::clone(&self.device);
        let listeners = Arc::clone(&self.listeners);
        on_worker("xiangying-photo", move |_| {
            let camera = xiangying_core::photo::CameraPhoto {
                bytes: &bytes,
                capture,
            };
            let photo = device.attach_camera_photo(&case_id, &camera, stage.into())?;
            listeners.notify(vec![case_id]);
            Ok(PhotoRef::of(photo, datum))
        })
        .await
    }

    /// A processed photo or thumbnail (JPEG bytes) stored on this device, by hash (from
    /// [`PhotoRef`]). `NotFound` when the device does not have it (use
    /// [`XiangyingDevice::fetch_photo`]), `InvalidInput` for a malformed hash, `Storage` when
    /// the file on disk no longer matches its hash.
    pub fn photo(&self, hash: String) -> ApiResult<Vec<u8>> {
        check_hash(&hash)?;
        if !self.device.photo_files().contains(&hash) {
            return Err(ApiError::NotFound {
                what: "photo".into(),
                id: hash,
            });
        }
        Ok(self.device.photo(&hash)?)
    }

    /// A photo or thumbnail by hash: from this device, or downloaded from the server (and
    /// kept) on a worker thread; a copy on this device that no longer matches its hash is
    /// downloaded again and replaced. Errors: `ServerRejected` with status 404 (the server does not
    /// have it or does not show it to this person), `Network`, `NotSetUp` (not enrolled and
    /// not on the device), `InvalidInput` (malformed hash).
    pub async fn fetch_photo(&self, hash: String) -> ApiResult<Vec<u8>> {
        check_hash(&hash)?;
        let device = Arc::clone(&self.device);
        on_worker("xiangying-fetch", move |_| Ok(device.fetch_photo(&hash)?)).await
    }

    /// Photo files (photos and thumbnails) waiting for upload, oldest first; the next sync
    /// uploads them.
    pub fn pending_uploads(&self, limit: u32) -> ApiResult<Vec<PendingUpload>> {
        Ok(self
            .device
            .pending_uploads(limit)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    // ---- actions on a case: each returns the new state --------------------------------

    /// A street chief (or an informant's grid worker) sends the case to the grid worker of its
    /// grid.
    pub fn forward(&self, case_id: String, note: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.forward(&case_id, &note))
    }

    /// Takes on a case that was forwarded, escalated or dispatched to me.
    pub fn accept(&self, case_id: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.accept(&case_id))
    }

    /// Sends the case up one level: grid → community chief, community → street centre.
    pub fn escalate(&self, case_id: String, reason: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.escalate(&case_id, &reason))
    }

    /// The centre sends the case to one department, or to several for joint enforcement.
    pub fn dispatch(
        &self,
        case_id: String,
        departments: Vec<String>,
        note: String,
    ) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.dispatch(&case_id, &departments, &note))
    }

    /// A community chief publishes a resident request to the community's volunteers.
    pub fn dispatch_to_volunteers(&self, case_id: String, note: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.dispatch_to_volunteers(&case_id, &note))
    }

    /// A volunteer takes a dispatched request. When two claim it offline, the first in
    /// document order wins; the other sees the claim rejected in the history after syncing.
    pub fn claim_request(&self, case_id: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.claim_request(&case_id))
    }

    /// Settles the case on the spot (自行处置), with after photos (their hashes).
    pub fn handle_on_spot(
        &self,
        case_id: String,
        note: String,
        photos: Vec<String>,
    ) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.handle_on_spot(&case_id, &note, &photos))
    }

    /// Reports the work done, with evidence (a note, photo hashes or both).
    pub fn resolve(
        &self,
        case_id: String,
        note: String,
        photos: Vec<String>,
    ) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.resolve(&case_id, &note, &photos))
    }

    /// Confirms the work (the reporter's side or a supervisor).
    pub fn verify(&self, case_id: String, note: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.verify(&case_id, &note))
    }

    /// Sends the work back to the handler.
    pub fn rework(&self, case_id: String, reason: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.rework(&case_id, &reason))
    }

    /// Moves the deadline by `hours`, counted on the case's clock (`limit_clock`): for a
    /// working-hours case, 8 hours move it by one working day, skipping nights, weekends and
    /// holidays of the street's calendar.
    pub fn extend(&self, case_id: String, hours: u32, reason: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.extend(&case_id, hours, &reason))
    }

    /// Closes a verified case.
    pub fn close(&self, case_id: String, note: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.close(&case_id, &note))
    }

    /// Withdraws a case as invalid.
    pub fn void(&self, case_id: String, reason: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.void(&case_id, &reason))
    }

    /// Marks the case as a duplicate of another the device holds; both keep their reporters
    /// and photos. Both cases are reported to the listeners.
    pub fn mark_duplicate(&self, case_id: String, of: String) -> ApiResult<CaseState> {
        let state = self.device.mark_duplicate(&case_id, &of)?;
        self.listeners.notify(vec![case_id, of]);
        Ok(state.into())
    }

    /// Adds a note.
    pub fn note(&self, case_id: String, text: String) -> ApiResult<CaseState> {
        self.act(&case_id, |d| d.note(&case_id, &text))
    }

    // ---- queries: answered from index tables, never by loading documents --------------

    /// A case with its facts, folded state, whole history and photos.
    pub fn case(&self, case_id: String) -> ApiResult<CaseDetail> {
        let view = self
            .device
            .case(&case_id)
            .map_err(|e| self.case_error(&case_id, e))?;
        Ok(CaseDetail::of(view, self.map_datum.get()))
    }

    /// The cases waiting on me (by name, or on my centre, department or volunteer pool).
    pub fn inbox(&self, limit: u32) -> ApiResult<Vec<CaseSummary>> {
        list(self.device.inbox(limit))
    }

    /// The cases I raised.
    pub fn my_reports(&self, limit: u32) -> ApiResult<Vec<CaseSummary>> {
        list(self.device.my_reports(limit))
    }

    /// The cases in a status.
    pub fn by_status(&self, status: CaseStatus, limit: u32) -> ApiResult<Vec<CaseSummary>> {
        list(self.device.by_status(status.into(), limit))
    }

    /// Open cases past their deadline, most overdue first.
    pub fn overdue(&self, limit: u32) -> ApiResult<Vec<CaseSummary>> {
        list(self.device.overdue(limit))
    }

    /// The cases in a grid.
    pub fn by_grid(&self, grid: String, limit: u32) -> ApiResult<Vec<CaseSummary>> {
        list(self.device.by_grid(&grid, limit))
    }

    /// The cases in a community.
    pub fn by_community(&self, community: String, limit: u32) -> ApiResult<Vec<CaseSummary>> {
        list(self.device.by_community(&community, limit))
    }

    /// Every case the device holds.
    pub fn all_cases(&self, limit: u32) -> ApiResult<Vec<CaseSummary>> {
        list(self.device.all_cases(limit))
    }

    /// How many changes wait for a server.
    pub fn outbox_len(&self) -> ApiResult<u64> {
        Ok(self.device.outbox_len()?)
    }

    // ---- moving documents between devices without a server ------------------------------

    /// The whole document of a case, compacted: what another device needs to take it in with
    /// [`XiangyingDevice::apply_remote`].
    pub fn export_case(&self, case_id: String) -> ApiResult<Vec<u8>> {
        Ok(self.device.export_case(&case_id)?)
    }

    /// Takes in document bytes (a whole document or changes) received from elsewhere. Known
    /// changes are ignored, so applying the same bytes twice changes nothing. Bytes that are
    /// not a case document give `InvalidInput` with field `bytes`.
    pub fn apply_remote(&self, case_id: String, bytes: Vec<u8>) -> ApiResult<()> {
        self.device.apply_remote(&case_id, &bytes)?;
        self.listeners.notify(vec![case_id]);
        Ok(())
    }

    /// Takes in many cases' bytes on a worker thread, telling `progress` after each case.
    /// A case that fails is listed in the report and the rest carry on. Stops early (with
    /// `cancelled` set) when `cancel` is cancelled or the caller stops waiting (a Kotlin
    /// coroutine cancelled); what was taken in stays. The listeners hear of every case taken
    /// in, once, at the end.
    pub async fn import_cases(
        &self,
        cases: Vec<RemoteCase>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> ApiResult<ImportReport> {
        let device = Arc::clone(&self.device);
        let listeners = Arc::clone(&self.listeners);
        let work = off_thread(
            "xiangying-import",
            move |stop| {
                let total = cases.len() as u64;
                let mut report = ImportReport {
                    imported: Vec::new(),
                    failed: Vec::new(),
                    cancelled: false,
                };
                for (i, c) in cases.into_iter().enumerate() {
                    if stop.load(Ordering::SeqCst)
                        || cancel.as_ref().is_some_and(|t| t.is_cancelled())
                    {
                        report.cancelled = true;
                        break;
                    }
                    match device.apply_remote(&c.case_id, &c.bytes) {
                        Ok(()) => report.imported.push(c.case_id),
                        Err(e) => report.failed.push(ImportFailure {
                            case_id: c.case_id,
                            error: e.into(),
                        }),
                    }
                    report_progress(progress.as_ref(), i as u64 + 1, total);
                }
                if !report.imported.is_empty() {
                    listeners.notify(report.imported.clone());
                }
                Ok(report)
            },
            |e| {
                Err(ApiError::Internal {
                    detail: format!("cannot start the import thread: {e}"),
                })
            },
        );
        work.await.unwrap_or_else(|| {
            Err(ApiError::Internal {
                detail: "the import stopped on an internal error".into(),
            })
        })
    }

    /// Compacts documents that collected many incremental changes; call it when idle.
    /// Returns how many were compacted.
    pub fn compact(&self) -> ApiResult<u64> {
        Ok(self.device.compact()? as u64)
    }

    // ---- change listeners ------------------------------------------------------------

    /// Registers a listener told of the cases and patrols each action of this object (and
    /// each sync) touches; returns a handle for [`XiangyingDevice::remove_case_listener`].
    /// Listeners are called on the thread that did the work, after it is committed; keep them
    /// short (post to your UI).
    pub fn add_case_listener(&self, listener: Arc<dyn CaseListener>) -> u64 {
        self.listeners.add(listener)
    }

    /// Unregisters a listener; returns false when the handle was unknown.
    pub fn remove_case_listener(&self, handle: u64) -> bool {
        self.listeners.remove(handle)
    }
}
