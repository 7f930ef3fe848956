//! [`XiangyingDevice`]: the one object an app holds. It wraps the core's `Device` (one data
//! folder, one person, one roster copy), converts every type at the boundary, maps errors to
//! [`ApiError`], and tells the registered [`CaseListener`]s which cases each of its actions
//! touched.
//!
//! Calls are blocking (SQLite on the calling thread, a few milliseconds): the Kotlin and Swift
//! layers call them off the main thread. Long work (bulk import now; sync and photos later)
//! is `async`, runs on its own thread, reports progress and can be cancelled.

use crate::error::{ApiError, ApiResult};
use crate::listener::{CancelToken, CaseListener, Listeners, ProgressListener, report_progress};
use crate::types::{
    CaseDetail, CaseState, CaseStatus, CaseSummary, Claim, ImportFailure, ImportReport, NewReport,
    NewRequest, RemoteCase,
};
use crate::work::off_thread;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use xiangying_core::Device;

/// One phone's view of the system: its store in a data folder, the person using it, and its
/// copy of the roster and category catalogue. Safe to share between threads.
#[derive(uniffi::Object)]
pub struct XiangyingDevice {
    device: Arc<Device>,
    listeners: Arc<Listeners>,
}

fn list(
    r: xiangying_core::Result<Vec<xiangying_core::store::CaseSummary>>,
) -> ApiResult<Vec<CaseSummary>> {
    Ok(r?.into_iter().map(Into::into).collect())
}

impl XiangyingDevice {
    /// Runs an action on one case, then tells the listeners.
    fn act(
        &self,
        case_id: &str,
        f: impl FnOnce(&Device) -> xiangying_core::Result<xiangying_core::case::CaseState>,
    ) -> ApiResult<CaseState> {
        let state = f(&self.device)?;
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
    /// Enrolment with a server will do this.
    pub fn set_person(&self, person_id: String) -> ApiResult<()> {
        self.device.set_person(&person_id)?;
        self.listeners.notify(Vec::new());
        Ok(())
    }

    /// Who uses this device, with their role and scope, if set.
    pub fn me(&self) -> Option<Claim> {
        self.device.me().map(Into::into)
    }

    // Coming with the sync issue (not available yet):
    //   async fn enrol(&self, server_url: String, code: String) -> ApiResult<Claim>
    //     (errors: Network, Unauthorized, InvalidInput)
    //   async fn sync_now(&self, progress: Option<Arc<dyn ProgressListener>>,
    //                     cancel: Option<Arc<CancelToken>>) -> ApiResult<SyncReport>
    //     (runs off-thread like `import_cases`; tells the CaseListeners what arrived)

    // ---- raising cases ----------------------------------------------------------------

    /// Raises a problem report and returns its case id. Checked in full before anything is
    /// written: an unknown category (`NotFound`), a place outside the street or an empty
    /// description (`InvalidInput`), a role that may not report (`NotAllowed`).
    pub fn report(&self, report: NewReport) -> ApiResult<String> {
        let id = self.device.report(&report.into())?;
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

    // Coming with the photo issue (not available yet):
    //   fn attach_photo(&self, case_id: String, bytes: Vec<u8>, stage: PhotoStage)
    //     -> ApiResult<PhotoRef>   (errors: PhotoRejected, NotFound, NotAllowed)
    //   probably async with a ProgressListener, as processing a 12 MP photo takes ~250 ms.

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

    /// Moves the deadline by `hours`.
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
        Ok(self.device.case(&case_id)?.into())
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

    // ---- moving documents between devices (until the sync server exists) --------------

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

    /// Registers a listener told of the cases each action of this object touches; returns a
    /// handle for [`XiangyingDevice::remove_case_listener`]. Listeners are called on the
    /// thread that did the work, after it is committed; keep them short (post to your UI).
    pub fn add_case_listener(&self, listener: Arc<dyn CaseListener>) -> u64 {
        self.listeners.add(listener)
    }

    /// Unregisters a listener; returns false when the handle was unknown.
    pub fn remove_case_listener(&self, handle: u64) -> bool {
        self.listeners.remove(handle)
    }
}
