// The Swift face of the Xiangying core: async functions that run the (blocking, SQLite) core
// calls off the caller's thread, and AsyncStreams that re-query when the core says cases or
// patrols changed. The generated bindings (module XiangyingFFI) stay usable directly.
import Foundation
@_exported import XiangyingFFI

/// One phone's Xiangying store: open it once per data folder and keep it for the app's life.
/// Every call may throw `ApiError` (`.NotAllowed`, `.NotFound`, `.InvalidInput`, `.Storage`,
/// `.CorruptCase`, `.NotSetUp`, `.PhotoRejected`, `.Network`, `.TlsRefused`, `.Unauthorised`,
/// `.UpgradeRequired`, `.ServerTooOld`, `.ServerRejected`, `.Cancelled`, `.Internal`); see
/// its `code` (a stable `ErrorCode`) and `message(locale:)` (Chinese or English) in
/// Xiangying+Errors.swift, and `upgradeNeeded` for the two answers that say one side must be
/// upgraded.
public final class Xiangying: @unchecked Sendable {
    /// The generated object, for anything this layer does not wrap.
    public let device: XiangyingDevice
    private let hub: ChangeHub
    private let listenerHandle: UInt64
    private let queue = DispatchQueue(label: "cn.xiangying.core", qos: .userInitiated, attributes: .concurrent)

    private init(device: XiangyingDevice) {
        self.device = device
        self.hub = ChangeHub()
        self.listenerHandle = device.addCaseListener(listener: hub)
    }

    deinit {
        _ = device.removeCaseListener(handle: listenerHandle)
        hub.finishAll()
    }

    /// Opens (creating if needed) the store in `dir`. `appVersion` (the app's
    /// `CFBundleShortVersionString`) goes with every request to the server, beside the core
    /// and protocol versions, and `platform` (by default `XiangyingPlatform.current`, e.g. `iOS 18.1`
    /// from `ProcessInfo`) in the User-Agent; a `platform` that cannot go in an HTTP header
    /// throws `ApiError.InvalidInput` (field `platform`).
    ///
    /// `mapDatum` is the datum of the app's map (MapKit inside China, AMap, Tencent: `.gcj02`;
    /// Baidu: `.bd09`; none: `.wgs84`): every position read back is in it (see `setMapDatum`);
    /// positions given say their own datum.
    public static func open(
        dir: URL, appVersion: String = "dev", platform: String = XiangyingPlatform.current,
        mapDatum: Datum = .wgs84
    ) async throws -> Xiangying {
        try await Task.detached(priority: .userInitiated) {
            let device = try XiangyingDevice.open(dir: dir.path)
            device.setAppVersion(appVersion: appVersion)
            try device.setPlatform(platform: platform)
            device.setMapDatum(datum: mapDatum)
            return Xiangying(device: device)
        }.value
    }

    /// The protocol version this build speaks (`MAJOR.MINOR`), for an about screen.
    public var protocolVersion: String { device.protocolVersion() }

    /// Runs `body` off the caller's thread; the extensions in this module's other files use it too.
    func run<T: Sendable>(_ body: @escaping @Sendable (XiangyingDevice) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            queue.async { [device] in cont.resume(with: Result { try body(device) }) }
        }
    }

    // MARK: set-up

    /// Installs the roster and catalogue JSON published by the server.
    public func installOrg(rosterJson: String, catalogueJson: String) async throws {
        try await run { try $0.installOrg(rosterJson: rosterJson, catalogueJson: catalogueJson) }
    }

    /// Sets who uses this device without a server (`enrol` does this with one).
    public func setPerson(_ personId: String) async throws {
        try await run { try $0.setPerson(personId: personId) }
    }

    /// Who uses this device, if set.
    public func me() async throws -> Claim? {
        try await run { $0.me() }
    }

    /// The category catalogue, for a picker: group by `bigCode` for its first level.
    public func categories() async throws -> [Category] {
        try await run { try $0.categories() }
    }

    // MARK: sync

    /// Enrols with the server at `serverUrl` using an administrator's one-time `code`; installs
    /// the server's roster and catalogue and sets the person. `tls` (optional) gives a private
    /// certificate authority (PEM) and `sha256/<base64>` pins, kept with the enrolment for
    /// every later request; without it the Mozilla roots bundled with the core are trusted
    /// (decision 0030). Throws `ApiError.Unauthorised` (bad, used or revoked code), `.Network`
    /// (no server there), `.InvalidInput` (bad URL; field `private_ca_pem` or `pins`: bad TLS
    /// options, nothing stored), `.TlsRefused` (the server's certificate was refused: see its
    /// `failure`).
    public func enrol(
        serverUrl: String, code: String, deviceName: String, tls: TlsOptions? = nil
    ) async throws -> Claim {
        try await device.enrol(serverUrl: serverUrl, code: code, deviceName: deviceName, tls: tls)
    }

    /// The id the server gave this device, once enrolled.
    public func deviceId() async throws -> String? {
        try await run { try $0.deviceId() }
    }

    /// Syncs now (push, pull, upload photos) on the core's worker thread; `progress` gets the
    /// totals after every step, on that thread. Cancelling the task silences `progress` at once
    /// and stops the sync at its next step (what it did stays done); this then throws
    /// `ApiError.Cancelled`. `changes()` hears what the sync changed.
    public func syncNow(progress: (@Sendable (SyncReport) -> Void)? = nil) async throws -> SyncReport {
        let token = CancelToken()
        let listener = progress.map { ClosureSyncListener($0) }
        return try await withTaskCancellationHandler {
            try await device.syncNow(listener: listener, cancel: token)
        } onCancel: {
            token.cancel()
        }
    }

    /// One sync as a stream of its progress reports, the last with phase `.done`; it finishes
    /// with the sync's error, if any. Ending the iteration cancels the sync as `syncNow` does.
    public func syncUpdates() -> AsyncThrowingStream<SyncReport, Error> {
        AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in
            let task = Task {
                do {
                    _ = try await self.syncNow { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: the sync engine

    /// Starts this device's sync engine (once, after enrolment; decision 0028): from now on the
    /// device syncs by itself after local writes, when `connectivityRegained()` or `syncSoon()`
    /// says so, and periodically while `setForeground(true)`. `changes()` hears what each of its
    /// syncs changed. Stop it when the app closes.
    public func startSyncEngine(config: EngineConfig = defaultEngineConfig()) throws -> SyncEngine {
        let hub = EngineHub()
        let engine = try device.startSyncEngine(config: config, listener: hub)
        return SyncEngine(engine: engine, hub: hub)
    }

    // MARK: raising cases

    /// Raises a problem report; returns the case id.
    public func report(category: String, location: GeoPoint, description: String,
                       grid: String? = nil, segment: String? = nil) async throws -> String {
        let r = NewReport(category: category, location: location, description: description, grid: grid, segment: segment)
        return try await run { try $0.report(report: r) }
    }

    /// Raises a resident request; returns the case id.
    public func request(category: String, location: GeoPoint, description: String, grid: String? = nil) async throws -> String {
        let r = NewRequest(category: category, location: location, description: description, grid: grid)
        return try await run { try $0.request(request: r) }
    }

    // MARK: photos

    /// Raises a problem report with its before photos (JPEG, PNG or WebP bytes; HEIC is
    /// refused naming HEIC: convert it with `UIImage.jpegData` first and pass the capture time
    /// and place read before the re-encode), processed on the core's worker thread. Each
    /// `CameraPhoto` may carry the camera's `PhotoCapture`, which wins over the EXIF; a nil
    /// `location` places the report where the first photo with a place was taken. A rejected
    /// photo (`ApiError.PhotoRejected`) writes nothing.
    public func reportWithPhotos(category: String, location: GeoPoint?, description: String, photos: [CameraPhoto],
                                 grid: String? = nil, segment: String? = nil) async throws -> String {
        let r = NewReport(category: category, location: location, description: description, grid: grid, segment: segment)
        return try await device.reportWithPhotos(report: r, photos: photos)
    }

    /// Attaches a photo to a case I am involved in; pass the returned hash to `handleOnSpot` or
    /// `resolve`. `capture`, the camera's record of time and place, wins over the EXIF.
    public func attachPhoto(_ caseId: String, bytes: Data, stage: PhotoStage, capture: PhotoCapture? = nil) async throws -> PhotoRef {
        try await device.attachPhoto(caseId: caseId, bytes: bytes, stage: stage, capture: capture)
    }

    /// A photo or thumbnail stored on this device (JPEG bytes); `ApiError.NotFound` when it is not here.
    public func photo(_ hash: String) async throws -> Data {
        try await run { try $0.photo(hash: hash) }
    }

    /// A photo or thumbnail from this device, or downloaded from the server and kept.
    public func fetchPhoto(_ hash: String) async throws -> Data {
        try await device.fetchPhoto(hash: hash)
    }

    /// Photo files waiting for the next sync to upload them.
    public func pendingUploads(limit: UInt32 = 100) async throws -> [PendingUpload] {
        try await run { try $0.pendingUploads(limit: limit) }
    }

    // MARK: actions

    /// Sends the case to the grid worker of its grid.
    public func forward(_ caseId: String, note: String = "") async throws -> CaseState {
        try await run { try $0.forward(caseId: caseId, note: note) }
    }

    /// Takes on a case forwarded, escalated or dispatched to me.
    public func accept(_ caseId: String) async throws -> CaseState {
        try await run { try $0.accept(caseId: caseId) }
    }

    /// Sends the case up one level.
    public func escalate(_ caseId: String, reason: String) async throws -> CaseState {
        try await run { try $0.escalate(caseId: caseId, reason: reason) }
    }

    /// Settles the case on the spot, with after-photo hashes.
    public func handleOnSpot(_ caseId: String, note: String, photos: [String] = []) async throws -> CaseState {
        try await run { try $0.handleOnSpot(caseId: caseId, note: note, photos: photos) }
    }

    /// Reports the work done.
    public func resolve(_ caseId: String, note: String, photos: [String] = []) async throws -> CaseState {
        try await run { try $0.resolve(caseId: caseId, note: note, photos: photos) }
    }

    /// The centre sends the case to departments.
    public func dispatch(_ caseId: String, departments: [String], note: String = "") async throws -> CaseState {
        try await run { try $0.dispatch(caseId: caseId, departments: departments, note: note) }
    }

    /// A community chief publishes a request to the community's volunteers.
    public func dispatchToVolunteers(_ caseId: String, note: String = "") async throws -> CaseState {
        try await run { try $0.dispatchToVolunteers(caseId: caseId, note: note) }
    }

    /// A volunteer takes a dispatched request.
    public func claimRequest(_ caseId: String) async throws -> CaseState {
        try await run { try $0.claimRequest(caseId: caseId) }
    }

    /// Confirms the work.
    public func verify(_ caseId: String, note: String = "") async throws -> CaseState {
        try await run { try $0.verify(caseId: caseId, note: note) }
    }

    /// Sends the work back.
    public func rework(_ caseId: String, reason: String) async throws -> CaseState {
        try await run { try $0.rework(caseId: caseId, reason: reason) }
    }

    /// Moves the deadline by `hours`.
    public func extend(_ caseId: String, hours: UInt32, reason: String) async throws -> CaseState {
        try await run { try $0.extend(caseId: caseId, hours: hours, reason: reason) }
    }

    /// Closes a verified case.
    public func close(_ caseId: String, note: String = "") async throws -> CaseState {
        try await run { try $0.close(caseId: caseId, note: note) }
    }

    /// Withdraws a case as invalid.
    public func void(_ caseId: String, reason: String) async throws -> CaseState {
        try await run { try $0.void(caseId: caseId, reason: reason) }
    }

    /// Marks the case as a duplicate of `of`.
    public func markDuplicate(_ caseId: String, of: String) async throws -> CaseState {
        try await run { try $0.markDuplicate(caseId: caseId, of: of) }
    }

    /// Adds a note.
    public func note(_ caseId: String, text: String) async throws -> CaseState {
        try await run { try $0.note(caseId: caseId, text: text) }
    }

    // MARK: queries

    /// A case with its whole history.
    public func detail(_ caseId: String) async throws -> CaseDetail {
        try await run { try $0.`case`(caseId: caseId) }
    }

    /// The cases waiting on me.
    public func inbox(limit: UInt32 = 50) async throws -> [CaseSummary] {
        try await run { try $0.inbox(limit: limit) }
    }

    /// The cases I raised.
    public func myReports(limit: UInt32 = 50) async throws -> [CaseSummary] {
        try await run { try $0.myReports(limit: limit) }
    }

    /// The cases in a status.
    public func byStatus(_ status: CaseStatus, limit: UInt32 = 50) async throws -> [CaseSummary] {
        try await run { try $0.byStatus(status: status, limit: limit) }
    }

    /// Open cases past their deadline, most overdue first.
    public func overdue(limit: UInt32 = 50) async throws -> [CaseSummary] {
        try await run { try $0.overdue(limit: limit) }
    }

    /// The cases in a grid.
    public func byGrid(_ grid: String, limit: UInt32 = 50) async throws -> [CaseSummary] {
        try await run { try $0.byGrid(grid: grid, limit: limit) }
    }

    /// The cases in a community.
    public func byCommunity(_ community: String, limit: UInt32 = 50) async throws -> [CaseSummary] {
        try await run { try $0.byCommunity(community: community, limit: limit) }
    }

    /// Every case the device holds.
    public func allCases(limit: UInt32 = 50) async throws -> [CaseSummary] {
        try await run { try $0.allCases(limit: limit) }
    }

    /// Changes waiting for a server.
    public func outboxLen() async throws -> UInt64 {
        try await run { try $0.outboxLen() }
    }

    // MARK: field operations (offline, from the roster copy and the index)

    /// Where `location` falls and who answers for it: grid, community, road segment (within
    /// 30 m), grid worker, community chief and street chiefs. Outside the street it is the
    /// nearest grid with `outsideStreet` set. Throws `ApiError.InvalidInput` (field
    /// `location`) for a position that is not one, `.NotSetUp` without a roster.
    public func route(_ location: GeoPoint) async throws -> Route {
        try await run { try $0.route(location: location) }
    }

    /// Raises a problem report placed by the router: `grid` and `segment` default to those of
    /// the location's route. Accepted outside the street too, filed in the nearest grid
    /// (`route.outsideStreet`). Returns the case id with the route.
    public func reportRouted(category: String, location: GeoPoint, description: String,
                             grid: String? = nil, segment: String? = nil) async throws -> RoutedReport {
        let r = NewReport(category: category, location: location, description: description, grid: grid, segment: segment)
        return try await run { try $0.reportRouted(report: r) }
    }

    /// Sends the case to the grid worker of its grid, with the route of its location.
    public func forwardRouted(_ caseId: String, note: String = "") async throws -> RoutedForward {
        try await run { try $0.forwardRouted(caseId: caseId, note: note) }
    }

    /// Open cases of `category` within `radiusM` metres (default 250) of `location`, raised in
    /// the last `days` days (default 7) before `nowMs` (default the device clock), nearest
    /// first: the duplicates to suggest when a report is started.
    public func duplicateCandidates(category: String, location: GeoPoint, radiusM: Double? = nil,
                                    days: UInt32? = nil, nowMs: Int64? = nil) async throws -> [DuplicateCandidate] {
        try await run {
            try $0.duplicateCandidates(category: category, location: location, radiusM: radiusM, days: days, nowMs: nowMs)
        }
    }

    /// The lists of a weekly, monthly or quarterly review ending at `nowMs` (default the device
    /// clock): per grid and community, the overdue, escalated, reworked and long-open cases.
    public func meetingList(_ period: ReviewPeriod, nowMs: Int64? = nil) async throws -> MeetingList {
        try await run { try $0.meetingList(period: period, nowMs: nowMs) }
    }

    /// Indexes the places of cases stored by an app version before duplicate suggestions, on
    /// the core's worker thread; call once after an upgrade. Returns how many were rewritten.
    public func reindexPlaces() async throws -> UInt64 {
        try await device.reindexPlaces()
    }

    // MARK: reports

    /// The rankings of grids, communities, departments and people over `[fromMs, toMs)` from
    /// the cases and patrols this device holds, on the core's worker thread (it loads every
    /// document). Rates are fractions (0–1), `nil` where undefined; the patrol figures
    /// (`patrols`, `patrolMs`/`patrolHours`, `accompanied`, `accompaniments`) do not enter the score.
    public func rankings(fromMs: Int64, toMs: Int64) async throws -> Rankings {
        try await device.rankings(fromMs: fromMs, toMs: toMs)
    }

    /// The street chiefs' notice boards (街长公示栏) of every segment, from the roster copy.
    public func noticeBoard() async throws -> NoticeBoard {
        try await run { try $0.noticeBoard() }
    }

    /// The notice boards as one printable HTML page, for a `WKWebView` or `UIPrintInteractionController`.
    public func noticeBoardHtml() async throws -> String {
        try await run { try $0.noticeBoardHtml() }
    }

    // MARK: patrols (巡查, 三陪同)

    /// Starts a patrol and returns its id: a grid worker on their own grid (`.grid(id: "g1")`),
    /// a street chief on their own segment; one at a time. Throws `ApiError.NotAllowed` (not
    /// my place, or a patrol of mine still under way), `.NotFound` (no such place).
    public func startPatrol(_ place: PatrolPlace) async throws -> String {
        try await run { try $0.startPatrol(place: place) }
    }

    /// Records a batch of location fixes (in time order, from the patrol's start on) on my
    /// patrol under way; returns how many wait on the device to be packed (0 right after a
    /// pack, every 120 fixes). One bad fix refuses the whole batch and stores nothing:
    /// `ApiError.InvalidInput` with field `track` and a problem starting `track point #i`.
    /// Hand over batches of a few to a few dozen fixes from `CLLocationManager`.
    public func recordTrack(_ patrolId: String, points: [TrackPoint]) async throws -> UInt32 {
        try await run { try $0.recordTrack(patrolId: patrolId, points: points) }
    }

    /// Records that `personId` walks along (三陪同), once per person; returns the patrol.
    /// Throws `ApiError.NotAllowed` (a role that does not accompany, already recorded),
    /// `.NotFound` (no such person or patrol).
    public func addCompanion(_ patrolId: String, personId: String) async throws -> PatrolView {
        try await run { try $0.addCompanion(patrolId: patrolId, personId: personId) }
    }

    /// Confirms, as the companion a walker named, that I walked along on `patrolId`; only a
    /// confirmed accompaniment counts for the weekly rule. Throws `ApiError.NotAllowed` (no
    /// accompaniment of mine awaiting confirmation), `.NotFound`.
    public func confirmAccompaniment(_ patrolId: String) async throws -> PatrolView {
        try await run { try $0.confirmAccompaniment(patrolId: patrolId) }
    }

    /// The patrols naming me as a companion that I have not confirmed yet, newest first.
    public func accompanimentsAwaitingMe() async throws -> [PatrolSummary] {
        try await run { try $0.accompanimentsAwaitingMe() }
    }

    /// Ends my patrol (the buffered fixes are packed); returns it with its whole track and `durationMs`.
    public func endPatrol(_ patrolId: String) async throws -> PatrolView {
        try await run { try $0.endPatrol(patrolId: patrolId) }
    }

    /// One patrol with its companions and whole track (buffered fixes included), for a map screen.
    public func patrol(_ patrolId: String) async throws -> PatrolView {
        try await run { try $0.patrol(patrolId: patrolId) }
    }

    /// The patrols this device holds (mine; for chiefs and the centre, their scope's), newest first.
    public func patrols(limit: UInt32 = 50) async throws -> [PatrolSummary] {
        try await run { try $0.patrols(limit: limit) }
    }

    /// My patrol under way, if any: ask when the app starts, to resume recording.
    public func activePatrol() async throws -> PatrolSummary? {
        try await run { try $0.activePatrol() }
    }

    /// The weekly accompaniment count (三陪同) of the week holding `atMs` (default now; weeks
    /// start Monday 00:00 China time) for every grid worker in my scope, against "an official
    /// walks along at least twice a week"; on the core's worker thread.
    public func weeklyAccompaniments(atMs: Int64? = nil) async throws -> WeeklyAccompaniments {
        try await device.weeklyAccompaniments(atMs: atMs)
    }

    // MARK: observing

    /// The ids of the cases and patrols each action or sync touched (a patrol's id after its
    /// start, every batch of fixes, a companion, its end); an empty array means "reload
    /// everything".
    public func changes() -> AsyncStream<[String]> {
        hub.stream()
    }

    /// One patrol now, and again whenever it changes (fixes, a companion, the end, a sync).
    public func patrolUpdates(_ patrolId: String) -> AsyncThrowingStream<PatrolView, Error> {
        updates { $0.isEmpty || $0.contains(patrolId) } query: { try $0.patrol(patrolId: patrolId) }
    }

    /// The patrol list now, and again after every change.
    public func patrolsUpdates(limit: UInt32 = 50) -> AsyncThrowingStream<[PatrolSummary], Error> {
        updates { _ in true } query: { try $0.patrols(limit: limit) }
    }

    /// The inbox now, and again after every change, until the task is cancelled.
    public func inboxUpdates(limit: UInt32 = 50) -> AsyncThrowingStream<[CaseSummary], Error> {
        updates { _ in true } query: { try $0.inbox(limit: limit) }
    }

    /// My reports now, and again after every change.
    public func myReportsUpdates(limit: UInt32 = 50) -> AsyncThrowingStream<[CaseSummary], Error> {
        updates { _ in true } query: { try $0.myReports(limit: limit) }
    }

    /// One case now, and again whenever it changes.
    public func caseUpdates(_ caseId: String) -> AsyncThrowingStream<CaseDetail, Error> {
        updates { $0.isEmpty || $0.contains(caseId) } query: { try $0.`case`(caseId: caseId) }
    }

    private func updates<T: Sendable>(relevant: @escaping @Sendable ([String]) -> Bool,
                                      query: @escaping @Sendable (XiangyingDevice) throws -> T) -> AsyncThrowingStream<T, Error> {
        // Subscribed before the first query, so no change between the two is missed.
        let changes = hub.stream()
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    continuation.yield(try await self.run(query))
                    for await ids in changes where relevant(ids) {
                        continuation.yield(try await self.run(query))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: moving documents

    /// The whole document of a case, for another device's `applyRemote`.
    public func exportCase(_ caseId: String) async throws -> Data {
        try await run { try $0.exportCase(caseId: caseId) }
    }

    /// Takes in document bytes received from elsewhere.
    public func applyRemote(_ caseId: String, bytes: Data) async throws {
        try await run { try $0.applyRemote(caseId: caseId, bytes: bytes) }
    }

    /// Takes in many cases on the core's worker thread; cancelling the task stops the import
    /// at the next case (uniffi does not pass Swift task cancellation on, so a CancelToken does).
    public func importCases(_ cases: [RemoteCase], progress: ProgressListener? = nil) async throws -> ImportReport {
        let token = CancelToken()
        return try await withTaskCancellationHandler {
            try await device.importCases(cases: cases, progress: progress, cancel: token)
        } onCancel: {
            token.cancel()
        }
    }

    /// Compacts documents; call when idle. Returns how many were compacted.
    public func compact() async throws -> UInt64 {
        try await run { try $0.compact() }
    }
}

/// A `SyncListener` over a closure.
final class ClosureSyncListener: SyncListener, @unchecked Sendable {
    private let body: @Sendable (SyncReport) -> Void

    init(_ body: @escaping @Sendable (SyncReport) -> Void) {
        self.body = body
    }

    func progress(report: SyncReport) {
        body(report)
    }
}

/// Fans values out to any number of AsyncStreams.
final class Fanout<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private let buffering: AsyncStream<Element>.Continuation.BufferingPolicy
    private var continuations: [UUID: AsyncStream<Element>.Continuation] = [:]

    init(buffering: AsyncStream<Element>.Continuation.BufferingPolicy) {
        self.buffering = buffering
    }

    func yield(_ value: Element) {
        lock.lock()
        let all = Array(continuations.values)
        lock.unlock()
        for c in all { c.yield(value) }
    }

    func stream() -> AsyncStream<Element> {
        let id = UUID()
        return AsyncStream(bufferingPolicy: buffering) { continuation in
            lock.lock()
            continuations[id] = continuation
            lock.unlock()
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                self.lock.lock()
                self.continuations[id] = nil
                self.lock.unlock()
            }
        }
    }

    func finishAll() {
        lock.lock()
        let all = Array(continuations.values)
        continuations = [:]
        lock.unlock()
        for c in all { c.finish() }
    }
}

/// Fans the core's change callbacks out to any number of AsyncStreams.
final class ChangeHub: CaseListener, @unchecked Sendable {
    private let fanout = Fanout<[String]>(buffering: .bufferingNewest(64))

    func casesChanged(ids: [String]) { fanout.yield(ids) }

    func stream() -> AsyncStream<[String]> { fanout.stream() }

    func finishAll() { fanout.finishAll() }
}

/// A running sync engine (`Xiangying.startSyncEngine`). Its status: idle, syncing with
/// progress, offline or waiting to retry (when and why, with a stable code), upgrade required,
/// stopped; with the outbox and upload queue sizes and the time of the last success. Wire
/// `connectivityRegained()` to an `NWPathMonitor` and `setForeground(_:)` to the scene phase.
public final class SyncEngine: @unchecked Sendable {
    /// The generated object, for anything this layer does not wrap.
    public let engine: XiangyingSyncEngine
    private let hub: EngineHub

    init(engine: XiangyingSyncEngine, hub: EngineHub) {
        self.engine = engine
        self.hub = hub
    }

    /// The engine's status now.
    public var status: EngineStatus { engine.status() }

    /// Every status from now on; a slow reader gets the newest.
    public func statusUpdates() -> AsyncStream<EngineStatus> { hub.stream() }

    /// The network is back: sync now, with the backoff reset.
    public func connectivityRegained() { engine.connectivityRegained() }

    /// Something says there is news for this device (a push message): sync now.
    public func syncSoon() { engine.syncSoon() }

    /// The app came to the foreground (periodic syncs run) or left it (they stop).
    public func setForeground(_ foreground: Bool) { engine.setForeground(foreground: foreground) }

    /// Cancels the sync in flight, if any, at its next step (what was done stays done); the
    /// engine carries on and syncs again at its next trigger. Returns at once.
    public func cancelSync() { engine.cancelSync() }

    /// Stops the engine (a sync in flight stops at its next step); the status streams finish.
    public func stop() {
        engine.stop()
        hub.finishAll()
    }
}

/// Fans the engine's status callbacks out to any number of AsyncStreams (the newest kept).
final class EngineHub: EngineListener, @unchecked Sendable {
    private let fanout = Fanout<EngineStatus>(buffering: .bufferingNewest(1))

    func statusChanged(status: EngineStatus) { fanout.yield(status) }

    func stream() -> AsyncStream<EngineStatus> { fanout.stream() }

    func finishAll() { fanout.finishAll() }
}

/// Which side must be upgraded before this device can sync again.
public enum Upgrade: Sendable {
    /// The server no longer answers this app's protocol: ask the user to update the app.
    case app
    /// The server is older than this app's protocol: the operator must upgrade it.
    case server
}

extension Error {
    /// `.app` for `ApiError.UpgradeRequired`, `.server` for `ApiError.ServerTooOld` (the
    /// server's 426 answers), `nil` for every other error. Neither is tampering or a lost
    /// change: the outbox waits, and syncing works again once the named side is upgraded.
    public var upgradeNeeded: Upgrade? {
        switch self as? ApiError {
        case .UpgradeRequired?: return .app
        case .ServerTooOld?: return .server
        default: return nil
        }
    }
}
