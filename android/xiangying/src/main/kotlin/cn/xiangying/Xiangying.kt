// The Kotlin face of the Xiangying core: suspend functions that run the (blocking, SQLite)
// core calls on an IO dispatcher, and Flows that re-query when the core says cases or patrols
// changed.
// The generated bindings (package cn.xiangying.ffi, file ffi/xiangying_ffi.kt) stay usable
// directly; this layer only makes them comfortable in coroutines and Compose.
package cn.xiangying

import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.CameraPhoto
import cn.xiangying.ffi.CancelToken
import cn.xiangying.ffi.CaseDetail
import cn.xiangying.ffi.CaseListener
import cn.xiangying.ffi.CaseState
import cn.xiangying.ffi.CaseStatus
import cn.xiangying.ffi.CaseSummary
import cn.xiangying.ffi.Category
import cn.xiangying.ffi.Claim
import cn.xiangying.ffi.Datum
import cn.xiangying.ffi.DuplicateCandidate
import cn.xiangying.ffi.EnrolLink
import cn.xiangying.ffi.GeoPoint
import cn.xiangying.ffi.ImportReport
import cn.xiangying.ffi.MeetingList
import cn.xiangying.ffi.NewReport
import cn.xiangying.ffi.NewRequest
import cn.xiangying.ffi.NoticeBoard
import cn.xiangying.ffi.PatrolPlace
import cn.xiangying.ffi.PatrolSummary
import cn.xiangying.ffi.PatrolView
import cn.xiangying.ffi.PendingUpload
import cn.xiangying.ffi.PhotoCapture
import cn.xiangying.ffi.PhotoRef
import cn.xiangying.ffi.PhotoStage
import cn.xiangying.ffi.ProgressListener
import cn.xiangying.ffi.Rankings
import cn.xiangying.ffi.RemoteCase
import cn.xiangying.ffi.ReviewPeriod
import cn.xiangying.ffi.Route
import cn.xiangying.ffi.RoutedForward
import cn.xiangying.ffi.RoutedReport
import cn.xiangying.ffi.SyncListener
import cn.xiangying.ffi.SyncReport
import cn.xiangying.ffi.TlsOptions
import cn.xiangying.ffi.TrackPoint
import cn.xiangying.ffi.WeeklyAccompaniments
import cn.xiangying.ffi.XiangyingDevice
import cn.xiangying.ffi.XiangyingSyncEngine
import cn.xiangying.ffi.EngineConfig
import cn.xiangying.ffi.EngineListener
import cn.xiangying.ffi.EngineState
import cn.xiangying.ffi.EngineStatus
import cn.xiangying.ffi.defaultEngineConfig
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.launch
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.conflate
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.withContext
import java.io.File

/**
 * One phone's Xiangying store: open it once per data folder and keep it for the app's life.
 *
 * Every call may throw one of the [ApiException] subclasses (`NotAllowed`, `NotFound`,
 * `InvalidInput`, `Storage`, `CorruptCase`, `NotSetUp`, `PhotoRejected`, `Network`, `TlsRefused`,
 * `Unauthorised`, `UpgradeRequired`, `ServerTooOld`, `ServerRejected`, `Cancelled`,
 * `Internal`); see `ApiException` in the generated bindings, [code] for its stable code and
 * [message] for its message in Chinese or English (Errors.kt), and [upgradeNeeded] for the
 * two answers that say one side must be upgraded.
 */
class Xiangying private constructor(
    /** The generated object, for anything this layer does not wrap. */
    val device: XiangyingDevice,
    private val io: CoroutineDispatcher,
) : AutoCloseable {

    private val changesFlow = MutableSharedFlow<List<String>>(
        extraBufferCapacity = 64,
        onBufferOverflow = BufferOverflow.DROP_OLDEST,
    )

    /**
     * The ids of the cases and patrols each action or sync touched, as the core reports them
     * (a patrol's id after its start, every batch of fixes, a companion, its end); an empty
     * list means "anything may have changed" (a new roster or person). Hot: only changes after
     * you started collecting arrive.
     */
    val changes: SharedFlow<List<String>> = changesFlow.asSharedFlow()

    /** How many collectors follow [changes] (the Flows below included): for tests and diagnostics. */
    val collectors: StateFlow<Int> = changesFlow.subscriptionCount

    private val listenerHandle: ULong = device.addCaseListener(object : CaseListener {
        override fun casesChanged(ids: List<String>) {
            changesFlow.tryEmit(ids)
        }
    })

    companion object {
        /**
         * Opens (creating if needed) the store in [dir]. [appVersion] (the app's `versionName`)
         * goes with every request to the server, beside the core and protocol versions, and
         * [platform] (e.g. `Android 14`; the Android layer fills it from `Build.VERSION.RELEASE`)
         * in the User-Agent; a [platform] that cannot go in an HTTP header is
         * [ApiException.InvalidInput] (field `platform`).
         * [mapDatum] is the datum of the app's map (AMap, Tencent: `GCJ02`; Baidu: `BD09`;
         * OpenStreetMap or none: `WGS84`): every position read back is in it (see
         * [setMapDatum]); positions given say their own datum.
         */
        suspend fun open(
            dir: File,
            io: CoroutineDispatcher = Dispatchers.IO,
            appVersion: String = "dev",
            platform: String = "",
            mapDatum: Datum = Datum.WGS84,
        ): Xiangying =
            withContext(io) {
                val device = XiangyingDevice.open(dir.absolutePath)
                device.setAppVersion(appVersion)
                device.setPlatform(platform)
                device.setMapDatum(mapDatum)
                Xiangying(device, io)
            }

        /**
         * Reads the text of a scanned enrolment QR code from the street centre's desk
         * (`xiangying://enrol?server=…&code=…`, decision 0041) into the [EnrolLink.server] and
         * [EnrolLink.code] that [enrol] takes. Strict: anything else is
         * [ApiException.InvalidInput] (field `enrolment link`, code `INVALID_INPUT`) naming
         * the problem. Touches no store; safe on any thread.
         */
        fun parseEnrolLink(text: String): EnrolLink = cn.xiangying.ffi.parseEnrolLink(text)
    }

    /** The protocol version this build speaks (`MAJOR.MINOR`), for an about screen. */
    val protocolVersion: String get() = device.protocolVersion()

    /** Runs [block] on the I/O dispatcher; the wrappers in this package's other files use it too. */
    internal suspend fun <T> onIo(block: XiangyingDevice.() -> T): T = withContext(io) { device.block() }

    // ---- set-up ----

    /** Installs the roster and catalogue JSON published by the server. */
    suspend fun installOrg(rosterJson: String, catalogueJson: String) = onIo { installOrg(rosterJson, catalogueJson) }

    /** Sets who uses this device without a server ([enrol] does this with one). */
    suspend fun setPerson(personId: String) = onIo { setPerson(personId) }

    /** Who uses this device, if set. */
    suspend fun me(): Claim? = onIo { me() }

    /** The category catalogue, for a picker: group by `bigCode` for its first level. */
    suspend fun categories(): List<Category> = onIo { categories() }

    // ---- sync ----

    /**
     * Enrols with the server at [serverUrl] using an administrator's one-time [code]; installs
     * the server's roster and catalogue and sets the person. [tls] (optional) gives a private
     * certificate authority (PEM) and `sha256/<base64>` pins, kept with the enrolment for every
     * later request; without it the Mozilla roots bundled with the core are trusted (decision
     * 0030). Throws `Unauthorised` (bad, used or revoked code), `Network` (no server there),
     * `InvalidInput` (not an http(s) URL; field `private_ca_pem` or `pins`: bad TLS options,
     * nothing stored), `TlsRefused` (the server's certificate was refused: see its `failure`).
     */
    suspend fun enrol(serverUrl: String, code: String, deviceName: String, tls: TlsOptions? = null): Claim =
        device.enrol(serverUrl, code, deviceName, tls)

    /** The id the server gave this device, once enrolled. */
    suspend fun deviceId(): String? = onIo { deviceId() }

    /**
     * Syncs now (push, pull, upload photos) on the core's worker thread; [onProgress] gets the
     * totals after every step, on that thread. Cancelling the coroutine stops the reports at
     * once and the sync at its next step (a round trip, a photo upload); what it did stays
     * done and this throws `CancellationException`. The [changes] flow hears what the sync
     * changed.
     */
    suspend fun syncNow(onProgress: ((SyncReport) -> Unit)? = null): SyncReport {
        val listener = onProgress?.let { f ->
            object : SyncListener {
                override fun progress(report: SyncReport) = f(report)
            }
        }
        val token = CancelToken()
        return try {
            device.syncNow(listener, token)
        } finally {
            token.cancel() // a no-op after the end; silences progress when the coroutine was cancelled
            token.close()
        }
    }

    /**
     * A sync as a cold Flow: collecting it starts one sync and emits every progress report,
     * the last with phase `DONE`; it completes when the sync ends and fails with the sync's
     * [ApiException]. Stopping the collection stops the reports (see [syncNow]).
     */
    fun syncFlow(): Flow<SyncReport> = callbackFlow {
        val job = launch {
            try {
                syncNow { trySend(it) }
                channel.close()
            } catch (e: Throwable) {
                channel.close(e)
            }
        }
        awaitClose { job.cancel() }
    }.buffer(Channel.UNLIMITED)

    /**
     * Starts this device's sync engine (once, after enrolment; decision 0028): from now on the
     * device syncs by itself after local writes, when [SyncEngine.connectivityRegained] or
     * [SyncEngine.syncSoon] says so, and periodically while [SyncEngine.setForeground] is on.
     * Its state is a [StateFlow]; the [changes] flow hears what each of its syncs changed.
     * Close the engine when the app closes.
     */
    fun startSyncEngine(config: EngineConfig = defaultEngineConfig()): SyncEngine {
        val state = MutableStateFlow(EngineStatus(EngineState.Idle, 0uL, 0uL, null))
        val engine = device.startSyncEngine(config, object : EngineListener {
            override fun statusChanged(status: EngineStatus) {
                state.value = status
            }
        })
        return SyncEngine(engine, state.asStateFlow())
    }

    // ---- raising cases ----

    /** Raises a problem report; returns the case id. */
    suspend fun report(
        category: String,
        location: GeoPoint,
        description: String,
        grid: String? = null,
        segment: String? = null,
    ): String = onIo { report(NewReport(category, location, description, grid, segment)) }

    /** Raises a resident request; returns the case id. */
    suspend fun request(category: String, location: GeoPoint, description: String, grid: String? = null): String =
        onIo { request(NewRequest(category, location, description, grid)) }

    /**
     * Raises a problem report with its before photos (camera JPEG, PNG or WebP bytes; HEIC is
     * refused naming HEIC: convert it with `ImageDecoder` first, keeping the capture record),
     * processed on the core's worker thread. Each [CameraPhoto] may carry the camera's
     * [PhotoCapture] (time, place with its datum), which wins over the EXIF. A null
     * [location] places the report where the first photo with a place was taken. A rejected
     * photo (`PhotoRejected`) writes nothing.
     */
    suspend fun reportWithPhotos(
        category: String,
        location: GeoPoint?,
        description: String,
        photos: List<CameraPhoto>,
        grid: String? = null,
        segment: String? = null,
    ): String = device.reportWithPhotos(NewReport(category, location, description, grid, segment), photos)

    /**
     * Attaches a photo to a case I am involved in; pass the returned hash to [handleOnSpot] or
     * [resolve]. [capture], the camera's record of time and place, wins over the EXIF.
     */
    suspend fun attachPhoto(caseId: String, bytes: ByteArray, stage: PhotoStage, capture: PhotoCapture? = null): PhotoRef =
        device.attachPhoto(caseId, bytes, stage, capture)

    /** A photo or thumbnail stored on this device (JPEG bytes); `NotFound` when it is not here. */
    suspend fun photo(hash: String): ByteArray = onIo { photo(hash) }

    /** A photo or thumbnail from this device, or downloaded from the server and kept. */
    suspend fun fetchPhoto(hash: String): ByteArray = device.fetchPhoto(hash)

    /** Photo files waiting for the next sync to upload them. */
    suspend fun pendingUploads(limit: Int = 100): List<PendingUpload> = onIo { pendingUploads(limit.toUInt()) }

    // ---- actions ----

    /** Sends the case to the grid worker of its grid. */
    suspend fun forward(caseId: String, note: String = ""): CaseState = onIo { forward(caseId, note) }

    /** Takes on a case forwarded, escalated or dispatched to me. */
    suspend fun accept(caseId: String): CaseState = onIo { accept(caseId) }

    /** Sends the case up one level. */
    suspend fun escalate(caseId: String, reason: String): CaseState = onIo { escalate(caseId, reason) }

    /** The centre sends the case to departments. */
    suspend fun dispatch(caseId: String, departments: List<String>, note: String = ""): CaseState =
        onIo { dispatch(caseId, departments, note) }

    /** A community chief publishes a request to the community's volunteers. */
    suspend fun dispatchToVolunteers(caseId: String, note: String = ""): CaseState =
        onIo { dispatchToVolunteers(caseId, note) }

    /** A volunteer takes a dispatched request. */
    suspend fun claimRequest(caseId: String): CaseState = onIo { claimRequest(caseId) }

    /** Settles the case on the spot, with after-photo hashes. */
    suspend fun handleOnSpot(caseId: String, note: String, photos: List<String> = emptyList()): CaseState =
        onIo { handleOnSpot(caseId, note, photos) }

    /** Reports the work done. */
    suspend fun resolve(caseId: String, note: String, photos: List<String> = emptyList()): CaseState =
        onIo { resolve(caseId, note, photos) }

    /** Confirms the work. */
    suspend fun verify(caseId: String, note: String = ""): CaseState = onIo { verify(caseId, note) }

    /** Sends the work back. */
    suspend fun rework(caseId: String, reason: String): CaseState = onIo { rework(caseId, reason) }

    /** Moves the deadline by [hours]. */
    suspend fun extend(caseId: String, hours: Int, reason: String): CaseState =
        onIo { extend(caseId, hours.toUInt(), reason) }

    /** Closes a verified case. */
    suspend fun close(caseId: String, note: String = ""): CaseState = onIo { close(caseId, note) }

    /** Withdraws a case as invalid. */
    suspend fun void(caseId: String, reason: String): CaseState = onIo { void(caseId, reason) }

    /** Marks the case as a duplicate of [of]. */
    suspend fun markDuplicate(caseId: String, of: String): CaseState = onIo { markDuplicate(caseId, of) }

    /** Adds a note. */
    suspend fun note(caseId: String, text: String): CaseState = onIo { note(caseId, text) }

    // ---- one-shot queries ----

    /** A case with its whole history. */
    suspend fun case(caseId: String): CaseDetail = onIo { case(caseId) }

    /** The cases waiting on me. */
    suspend fun inbox(limit: Int = 50): List<CaseSummary> = onIo { inbox(limit.toUInt()) }

    /** The cases I raised. */
    suspend fun myReports(limit: Int = 50): List<CaseSummary> = onIo { myReports(limit.toUInt()) }

    /** The cases in a status. */
    suspend fun byStatus(status: CaseStatus, limit: Int = 50): List<CaseSummary> =
        onIo { byStatus(status, limit.toUInt()) }

    /** Open cases past their deadline, most overdue first. */
    suspend fun overdue(limit: Int = 50): List<CaseSummary> = onIo { overdue(limit.toUInt()) }

    /** The cases in a grid. */
    suspend fun byGrid(grid: String, limit: Int = 50): List<CaseSummary> = onIo { byGrid(grid, limit.toUInt()) }

    /** The cases in a community. */
    suspend fun byCommunity(community: String, limit: Int = 50): List<CaseSummary> =
        onIo { byCommunity(community, limit.toUInt()) }

    /** Every case the device holds. */
    suspend fun allCases(limit: Int = 50): List<CaseSummary> = onIo { allCases(limit.toUInt()) }

    /** Changes waiting for a server. */
    suspend fun outboxLen(): Long = onIo { outboxLen().toLong() }

    // ---- field operations: by place, offline, from the roster copy and the index ----

    /**
     * Where [location] falls and who answers for it: grid, community, road segment (within
     * 30 m), grid worker, community chief and street chiefs. Outside the street it is the
     * nearest grid with `outsideStreet` set and `distanceToStreetM`. Throws `InvalidInput`
     * (field `location`) for a position that is not one, `NotSetUp` without a roster.
     */
    suspend fun route(location: GeoPoint): Route = onIo { route(location) }

    /**
     * Raises a problem report placed by the router: [grid] and [segment] default to those of
     * [location]'s route. Accepted outside the street too, filed in the nearest grid
     * (`route.outsideStreet`). Returns the case id with the route.
     */
    suspend fun reportRouted(
        category: String,
        location: GeoPoint,
        description: String,
        grid: String? = null,
        segment: String? = null,
    ): RoutedReport = onIo { reportRouted(NewReport(category, location, description, grid, segment)) }

    /** Sends the case to the grid worker of its grid, with the route of its location. */
    suspend fun forwardRouted(caseId: String, note: String = ""): RoutedForward =
        onIo { forwardRouted(caseId, note) }

    /**
     * Open cases of [category] within [radiusM] metres (default 250) of [location], raised in
     * the last [days] days (default 7) before [nowMs] (default the device clock), nearest
     * first: the duplicates to suggest when a report is started.
     */
    suspend fun duplicateCandidates(
        category: String,
        location: GeoPoint,
        radiusM: Double? = null,
        days: Int? = null,
        nowMs: Long? = null,
    ): List<DuplicateCandidate> = onIo { duplicateCandidates(category, location, radiusM, days?.toUInt(), nowMs) }

    /**
     * The lists of a weekly, monthly or quarterly review ending at [nowMs] (default the device
     * clock): per grid and community, the overdue, escalated, reworked and long-open cases.
     */
    suspend fun meetingList(period: ReviewPeriod, nowMs: Long? = null): MeetingList =
        onIo { meetingList(period, nowMs) }

    /**
     * Indexes the places of cases stored by an app version before duplicate suggestions, on
     * the core's worker thread; call once after an upgrade. Returns how many were rewritten.
     */
    suspend fun reindexPlaces(): Long = device.reindexPlaces().toLong()

    // ---- reports ----

    /**
     * The rankings of grids, communities, departments and people over `[fromMs, toMs)` from
     * the cases and patrols this device holds, on the core's worker thread (it loads every
     * document). Rates are fractions (0–1), `null` where undefined; the patrol figures
     * (`patrols`, `patrolMs`/`patrolHours`, `accompanied`, `accompaniments`) stand beside the
     * case figures and do not enter the score.
     */
    suspend fun rankings(fromMs: Long, toMs: Long): Rankings = device.rankings(fromMs, toMs)

    /** The street chiefs' notice boards (街长公示栏) of every segment, from the roster copy. */
    suspend fun noticeBoard(): NoticeBoard = onIo { noticeBoard() }

    /** The notice boards as one printable HTML page, for a WebView or the print service. */
    suspend fun noticeBoardHtml(): String = onIo { noticeBoardHtml() }

    // ---- patrols (巡查, 三陪同) ----

    /**
     * Starts a patrol and returns its id: a grid worker on their own grid
     * (`PatrolPlace.Grid("g1")`), a street chief on their own segment; one at a time. Throws
     * `NotAllowed` (not my place, or a patrol of mine still under way), `NotFound` (no such
     * place).
     */
    suspend fun startPatrol(place: PatrolPlace): String = onIo { startPatrol(place) }

    /**
     * Records a batch of location fixes (in time order, from the patrol's start on) on my
     * patrol under way; returns how many fixes wait on the device to be packed into the
     * patrol's document (0 right after a pack, every 120 fixes). One bad fix refuses the whole
     * batch and stores nothing: `InvalidInput` with field `track` and a problem starting
     * `track point #i` (its index in [points]). Hand over batches of a few to a few dozen
     * fixes, e.g. every 30 to 60 s from the location service.
     */
    suspend fun recordTrack(patrolId: String, points: List<TrackPoint>): Int =
        onIo { recordTrack(patrolId, points).toInt() }

    /**
     * Records that [personId] walks along (三陪同: an official or department staff on any
     * patrol, a grid worker on a street chief's segment patrol), once per person; returns the
     * patrol. Throws `NotAllowed` (a role that does not accompany, already recorded, not the
     * walker), `NotFound` (no such person or patrol).
     */
    suspend fun addCompanion(patrolId: String, personId: String): PatrolView =
        onIo { addCompanion(patrolId, personId) }

    /**
     * Confirms, as the companion a walker named, that I walked along on [patrolId]; only a
     * confirmed accompaniment counts for the weekly rule. Throws `NotAllowed` (no accompaniment
     * of mine awaiting confirmation), `NotFound`.
     */
    suspend fun confirmAccompaniment(patrolId: String): PatrolView = onIo { confirmAccompaniment(patrolId) }

    /** The patrols naming me as a companion that I have not confirmed yet, newest first. */
    suspend fun accompanimentsAwaitingMe(): List<PatrolSummary> = onIo { accompanimentsAwaitingMe() }

    /** Ends my patrol (the buffered fixes are packed); returns it with its whole track and `durationMs`. */
    suspend fun endPatrol(patrolId: String): PatrolView = onIo { endPatrol(patrolId) }

    /** One patrol with its companions and whole track (buffered fixes included), for a map screen. */
    suspend fun patrol(patrolId: String): PatrolView = onIo { patrol(patrolId) }

    /** The patrols this device holds (mine; for chiefs and the centre, their scope's), newest first. */
    suspend fun patrols(limit: Int = 50): List<PatrolSummary> = onIo { patrols(limit.toUInt()) }

    /** My patrol under way, if any: ask when the app starts, to resume recording. */
    suspend fun activePatrol(): PatrolSummary? = onIo { activePatrol() }

    /**
     * The weekly accompaniment count (三陪同) of the week holding [atMs] (default now; weeks
     * start Monday 00:00 China time) for every grid worker in my scope, against "an official
     * walks along at least twice a week"; on the core's worker thread (it folds every patrol
     * the device holds).
     */
    suspend fun weeklyAccompaniments(atMs: Long? = null): WeeklyAccompaniments = device.weeklyAccompaniments(atMs)

    // ---- observed queries: emit now, and again after every relevant change ----

    /** The inbox, refreshed after every change. */
    fun inboxFlow(limit: Int = 50): Flow<List<CaseSummary>> = watch({ true }) { inbox(limit.toUInt()) }

    /** My reports, refreshed after every change. */
    fun myReportsFlow(limit: Int = 50): Flow<List<CaseSummary>> = watch({ true }) { myReports(limit.toUInt()) }

    /** One case, refreshed when it (or everything) changed. */
    fun caseFlow(caseId: String): Flow<CaseDetail> = watch({ it.isEmpty() || caseId in it }) { case(caseId) }

    /** One patrol, refreshed when it changes (every batch of fixes, a companion, the end, a sync). */
    fun patrolFlow(patrolId: String): Flow<PatrolView> =
        watch({ it.isEmpty() || patrolId in it }) { patrol(patrolId) }

    /** The patrol list, refreshed after every change. */
    fun patrolsFlow(limit: Int = 50): Flow<List<PatrolSummary>> = watch({ true }) { patrols(limit.toUInt()) }

    private fun <T> watch(relevant: (List<String>) -> Boolean, query: XiangyingDevice.() -> T): Flow<T> =
        changesFlow
            // Subscribed before the first query, so no change between the two is missed.
            .onSubscription { emit(emptyList()) }
            .filter(relevant)
            .conflate()
            .map { device.query() }
            .flowOn(io)

    // ---- moving documents ----

    /** The whole document of a case, for another device's [applyRemote]. */
    suspend fun exportCase(caseId: String): ByteArray = onIo { exportCase(caseId) }

    /** Takes in document bytes received from elsewhere. */
    suspend fun applyRemote(caseId: String, bytes: ByteArray) = onIo { applyRemote(caseId, bytes) }

    /**
     * Takes in many cases on the core's worker thread. [onProgress] gets (done, total) on that
     * thread. Cancelling the calling coroutine stops the import at the next case.
     */
    suspend fun importCases(cases: List<RemoteCase>, onProgress: ((Long, Long) -> Unit)? = null): ImportReport {
        val progress = onProgress?.let { f ->
            object : ProgressListener {
                override fun progress(done: ULong, total: ULong) = f(done.toLong(), total.toLong())
            }
        }
        val token = CancelToken()
        return try {
            device.importCases(cases, progress, token)
        } finally {
            token.cancel()
            token.close()
        }
    }

    /** Compacts documents; call when idle. */
    suspend fun compact(): Long = onIo { compact().toLong() }

    /** Unregisters from the core and frees the native object. */
    override fun close() {
        device.removeCaseListener(listenerHandle)
        device.close()
    }
}

/** Which side must be upgraded before this device can sync again. */
enum class Upgrade {
    /** The server no longer answers this app's protocol: ask the user to update the app. */
    APP,

    /** The server is older than this app's protocol: the operator must upgrade it. */
    SERVER,
}

/**
 * [Upgrade.APP] for `UpgradeRequired`, [Upgrade.SERVER] for `ServerTooOld` (the server's
 * 426 answers), `null` for every other error. Neither is tampering or a lost change: the
 * outbox waits, and syncing works again once the named side is upgraded.
 */
val Throwable.upgradeNeeded: Upgrade?
    get() = when (this) {
        is ApiException.UpgradeRequired -> Upgrade.APP
        is ApiException.ServerTooOld -> Upgrade.SERVER
        else -> null
    }

/**
 * A running sync engine ([Xiangying.startSyncEngine]). [status] is its state (idle, syncing
 * with progress, offline or waiting to retry with when and why, upgrade required, stopped)
 * with the outbox and upload queue sizes and the time of the last success; wire
 * [connectivityRegained] to the default network gaining validated internet access and
 * [setForeground] to the app's lifecycle (`cn.xiangying.android.SyncWiring` does both).
 */
class SyncEngine internal constructor(
    /** The generated object, for anything this layer does not wrap. */
    val engine: XiangyingSyncEngine,
    /** The engine's state; conflated: a collector sees the latest. */
    val status: StateFlow<EngineStatus>,
) : AutoCloseable {
    /** The network is back: sync now, with the backoff reset. */
    fun connectivityRegained() = engine.connectivityRegained()

    /** Something says there is news for this device (a push message): sync now. */
    fun syncSoon() = engine.syncSoon()

    /** The app came to the foreground (periodic syncs run) or left it (they stop). */
    fun setForeground(foreground: Boolean) = engine.setForeground(foreground)

    /**
     * Cancels the sync in flight, if any, at its next step (what was done stays done); the
     * engine carries on and syncs again at its next trigger. Returns at once.
     */
    fun cancelSync() = engine.cancelSync()

    /** Stops the engine (a sync in flight stops at its next step) and frees it. */
    override fun close() {
        engine.stop()
        engine.close()
    }
}
