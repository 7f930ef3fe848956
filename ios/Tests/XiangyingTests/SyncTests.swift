// The issue's flows through a REAL xiangying-server process (TestServer; skipped unless
// XIANGYING_SERVER names its binary): enrolment with codes from the admin CLI, a street chief's
// report with a photo, forward, sync, the grid worker's inbox with the server's case number and
// the photo downloaded, escalation, the community chief's inbox; progress, change
// notifications and cancellation of a sync; and every error variant that a server makes
// reachable, caught as its Swift case; a routed report reaching the grid worker of its place;
// a grid worker's patrol reaching the community chief. The mirror of the Kotlin SyncTest (whose
// tests share one server; here each test starts its own). The photos are PNGs (`testPhoto`)
// where Kotlin makes JPEGs: the core stores both as JPEG.
import Foundation
import XCTest
@testable import Xiangying

final class SyncTests: XCTestCase {
    func testAReportWithAPhotoIsForwardedSyncedEscalatedAndReachesTheCommunity() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let chief = try await server.enrolled("psc1")
        let worker = try await server.enrolled("gw1")
        let community = try await server.enrolled("cc1")
        let chiefDevice = try await chief.deviceId()
        XCTAssertNotNil(chiefDevice)

        let photo = testPhoto(7)
        let id = try await chief.reportWithPhotos(category: Sample.litter, location: Sample.inG1,
                                                  description: "路口垃圾桶满溢", photos: [CameraPhoto(bytes: photo, capture: nil)])
        let reported = try await chief.detail(id)
        let before = try reported.photos.single()
        XCTAssertEqual(before.stage, .before)
        let hash = before.hash
        let pending = try await chief.pendingUploads()
        XCTAssertEqual(pending.count, 2) // the photo and its thumbnail
        _ = try await chief.forward(id, note: "请网格员处理")

        let steps = Recorder<SyncReport>()
        let pushed = try await chief.syncNow { steps.add($0) }
        XCTAssertEqual(pushed.pushed, 2)
        XCTAssertEqual(pushed.photosUploaded, 2)
        XCTAssertEqual(pushed.phase, .done)
        XCTAssertEqual(steps.all.last, pushed)
        XCTAssertTrue(steps.all.contains { $0.phase == .uploadingPhotos })
        let outbox = try await chief.outboxLen()
        XCTAssertEqual(outbox, 0)
        let uploadsLeft = try await chief.pendingUploads()
        XCTAssertTrue(uploadsLeft.isEmpty)
        let number = try await chief.detail(id).number
        XCTAssertNotNil(number, "the server numbers the case")

        // The grid worker's changes stream hears of the pulled case (subscribed before the sync;
        // Kotlin waits until `collectors` counts its collector).
        let changes = worker.changes()
        let pulled = try await worker.syncNow()
        XCTAssertGreaterThanOrEqual(pulled.pulled, 1, "\(pulled)")
        _ = try await firstElement(changes, within: 5) { $0.isEmpty || $0.contains(id) }
        let inbox = try await worker.inbox().filter { $0.id == id }
        let row = try inbox.single()
        XCTAssertEqual(row.number, number)
        XCTAssertEqual(row.status, .forwarded)
        let detail = try await worker.detail(id)
        let theirPhoto = try XCTUnwrap(detail.photos.first)
        XCTAssertEqual(theirPhoto.hash, hash)
        _ = try await assertThrows(\.notFound) { try await worker.photo(hash) }
        let fetched = try await worker.fetchPhoto(hash)
        let original = try await chief.photo(hash)
        XCTAssertEqual(original, fetched)
        XCTAssertEqual(fetched.first, 0xFF)
        let kept = try await worker.photo(hash)
        XCTAssertEqual(fetched, kept, "downloaded once, kept")
        let thumb = try await worker.fetchPhoto(theirPhoto.thumb)
        XCTAssertLessThan(thumb.count, fetched.count)

        _ = try await worker.accept(id)
        let escalated = try await worker.escalate(id, reason: "需要社区协调")
        XCTAssertEqual(escalated.level, .community)
        _ = try await worker.syncNow()

        _ = try await community.syncNow()
        let theirs = try await community.inbox().filter { $0.id == id }
        let theirRow = try theirs.single()
        XCTAssertEqual(theirRow.status, .escalated)
        XCTAssertEqual(theirRow.number, number)
        let holders = try await community.detail(id).state.holders
        XCTAssertEqual(holders, ["psc1", "gw1", "cc1"])

        _ = try await chief.syncNow()
        let status = try await chief.detail(id).state.status
        XCTAssertEqual(status, .escalated)
    }

    func testARoutedReportReachesTheGridWorkerOfItsPlaceThroughTheServer() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let chief = try await server.enrolled("psc1")
        let g2 = try await server.enrolled("gw2")
        let worker1 = try await server.enrolled("gw1")
        // In g2 on the segment: the street chief chooses nothing, the route says who answers.
        let r = try await chief.reportRouted(category: Sample.manhole, location: GeoPoint(lon: 0.15, lat: 0.05, datum: .wgs84),
                                             description: "井盖破损")
        XCTAssertEqual(r.route.grid, "g2")
        XCTAssertEqual(r.route.gridWorker, "gw2")
        let f = try await chief.forwardRouted(r.caseId, note: "请处理")
        XCTAssertEqual(f.state.assignee, .person(id: "gw2"))
        _ = try await chief.syncNow()

        _ = try await g2.syncNow()
        let inbox = try await g2.inbox().filter { $0.id == r.caseId }
        let row = try inbox.single()
        XCTAssertEqual(row.grid, "g2")
        XCTAssertEqual(row.status, .forwarded)
        _ = try await worker1.syncNow()
        let theirs = try await worker1.inbox()
        XCTAssertFalse(theirs.contains { $0.id == r.caseId }, "the worker of g1 does not get it")
        // The grid worker's device suggests it as a duplicate of a second report nearby.
        let dup = try await g2.duplicateCandidates(category: Sample.manhole, location: GeoPoint(lon: 0.15 + deg(30.0), lat: 0.05, datum: .wgs84))
        XCTAssertEqual(dup.map(\.summary.id), [r.caseId])
    }

    func testAGridWorkersPatrolReachesTheCommunityChiefThroughTheServer() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let worker = try await server.enrolled("gw1")
        let chief = try await server.enrolled("cc1")
        let id = try await worker.startPatrol(g1)
        let start = try await worker.patrol(id).startedAtMs
        // 200 fixes in batches of 20: one chunk packed at 120, the rest packed by the end.
        for batch in fixes(200, startMs: start + 1_000).chunked(20) {
            _ = try await worker.recordTrack(id, points: batch)
        }
        _ = try await worker.addCompanion(id, personId: "official")
        let ended = try await worker.endPatrol(id)
        let pushed = try await worker.syncNow()
        XCTAssertGreaterThanOrEqual(pushed.pushed, 5, "\(pushed)") // start, two chunks, companion, end
        let outbox = try await worker.outboxLen()
        XCTAssertEqual(outbox, 0)

        // The chief's changes stream hears the patrol's id (subscribed before the sync).
        let changes = chief.changes()
        _ = try await chief.syncNow()
        _ = try await firstElement(changes, within: 5) { $0.isEmpty || $0.contains(id) }

        let row = try await chief.patrols().single { $0.id == id }
        XCTAssertEqual(row.walker, "gw1")
        XCTAssertEqual(row.points, 200)
        XCTAssertEqual(row.endedAtMs, ended.endedAtMs)
        let theirs = try await chief.patrol(id)
        XCTAssertEqual(ended, theirs)
        XCTAssertEqual(theirs.track.count, 200)
        XCTAssertEqual(try theirs.companions.single().kind, .official)
        // Only the walker writes a patrol.
        _ = try await assertThrows(\.notAllowed) { try await chief.endPatrol(id) }
        let gw1 = try await chief.weeklyAccompaniments(atMs: start).people.single { $0.person == "gw1" }
        // The official never confirmed from their own device.
        XCTAssertTrue(gw1.patrols >= 1 && gw1.officialUnconfirmed >= 1 && gw1.official == 0, "\(gw1)")
    }

    func testTheSyncEngineCarriesAForwardedCaseToTheGridWorkerWithoutSyncNow() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let chief = try await server.enrolled("psc1")
        let worker = try await server.enrolled("gw1")
        // Short pacing for the test; a periodic sync stands in for the server's wake-up channel.
        let fast = EngineConfig(debounceMs: 20, foregroundPeriodMs: 100, backoffBaseMs: 50, backoffMaxMs: 200)
        let sender = try chief.startSyncEngine(config: fast)
        let receiver = try worker.startSyncEngine(config: fast)
        receiver.setForeground(true)
        let id = try await chief.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        let changes = worker.changes()
        // Kotlin polls the inbox every 20 ms; here the inbox stream is waited on, made before
        // the forward so that no refresh is missed.
        let inbox = worker.inboxUpdates()
        _ = try await chief.forward(id, note: "请网格员处理")
        _ = try await firstElement(inbox, within: 60) { rows in rows.contains { $0.id == id } }
        _ = try await firstElement(changes, within: 60) { $0.isEmpty || $0.contains(id) }
        let done = try await awaitStatus(sender, within: 60) { $0.outbox == 0 && $0.lastSuccessMs != nil }
        XCTAssertEqual(done.uploads, 0)
        sender.stop()
        receiver.stop()
        XCTAssertEqual(sender.status.state, .stopped)
        let rows = try await worker.inbox()
        XCTAssertEqual(rows.first { $0.id == id }?.status, .forwarded)
    }

    func testEnrolmentInstallsTheCatalogueForACategoryPicker() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("gw1")
        let categories = try await d.categories()
        let litter = try categories.single { $0.code == Sample.litter }
        XCTAssertTrue(!litter.name.isBlank && !litter.bigName.isBlank)
        XCTAssertEqual(litter.kind, .event)
        XCTAssertEqual(litter.level, .grid)
        XCTAssertEqual(litter.limitHours, 4)
        XCTAssertGreaterThan(Dictionary(grouping: categories, by: \.bigCode).count, 1)
        let me = try await d.me()
        XCTAssertEqual(me?.person, "gw1")
    }

    func testSyncFlowEmitsEveryStepAndEndsWithDONE() async throws {
        // Kotlin's syncFlow() is syncUpdates() here.
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("gw1")
        let id = try await d.reportWithPhotos(category: Sample.manhole, location: Sample.inG1, description: "井盖破损",
                                              photos: [CameraPhoto(bytes: testPhoto(11), capture: nil)])
        let after = try await d.attachPhoto(id, bytes: testPhoto(12), stage: .after)
        _ = try await d.handleOnSpot(id, note: "已更换", photos: [after.hash])
        let pending = try await d.pendingUploads()
        XCTAssertEqual(pending.count, 4)
        let steps = try await collect(d.syncUpdates(), within: 60)
        let firstStep = try XCTUnwrap(steps.first)
        let lastStep = try XCTUnwrap(steps.last)
        XCTAssertEqual(firstStep.phase, .exchanging)
        XCTAssertEqual(lastStep.phase, .done)
        XCTAssertEqual(lastStep.photosUploaded, 4)
        XCTAssertEqual(lastStep.pushed, 3) // report, photo, handled on the spot
        // A quiet sync afterwards is one small round trip.
        let quiet = try await d.syncNow()
        XCTAssertEqual(quiet.roundTrips, 1)
        XCTAssertEqual(quiet.pushed, 0)
    }

    func testACancelledSyncStopsBetweenStepsSaysCancelledAndTheNextSyncCarriesOn() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("gw1")
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "取消测试")
        let raw: XiangyingDevice = d.device

        // Cancelled before the call: nothing is sent.
        let early = CancelToken()
        early.cancel()
        _ = try await assertThrows(\.cancelled) { try await raw.syncNow(listener: nil, cancel: early) }
        let unsent = try await d.outboxLen()
        XCTAssertEqual(unsent, 1)

        // Cancelled at the first report: no more reports, the sync stops before its first
        // round trip.
        let token = CancelToken()
        let listener = SyncLog { _ in token.cancel() }
        let e = try await assertThrows(\.cancelled) { try await raw.syncNow(listener: listener, cancel: token) }
        XCTAssertTrue(e.contains("pushing 0"), e)
        XCTAssertEqual(listener.reports.all.count, 1)
        let stillUnsent = try await d.outboxLen()
        XCTAssertEqual(stillUnsent, 1)
        let next = try await d.syncNow()
        XCTAssertEqual(next.pushed, 1)
        let sent = try await d.outboxLen()
        XCTAssertEqual(sent, 0)

        // A task cancelled mid-sync (Kotlin cancels a coroutine): the sync stops at its next
        // step with ApiError.Cancelled, and the next sync finishes the work. The first progress
        // report waits on a gate until the task is cancelled, so the cancellation lands
        // mid-sync (Kotlin's coroutine ends with CancellationException however far the sync got).
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "协程取消")
        let (started, startedNow) = AsyncStream<Void>.makeStream()
        let gate = Gate()
        let job = Task {
            try await d.syncNow { _ in
                startedNow.yield()
                gate.wait()
            }
        }
        _ = try await firstElement(started, within: 30) { _ in true }
        job.cancel()
        gate.open()
        let result = await job.result
        switch result {
        case .success(let report):
            XCTFail("the cancelled sync finished: \(report)")
        case .failure(let error):
            XCTAssertTrue((error as? ApiError)?.cancelled != nil || error is CancellationError, "\(error)")
        }
        try await withTimeout(30) {
            while try await d.outboxLen() != 0 {
                _ = try? await d.syncNow()
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        }
    }

    // ---- errors, each as its Swift case ----

    func testAForbiddenActionIsNotAllowed() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let chief = try await server.enrolled("psc1")
        let worker = try await server.enrolled("gw1")
        let id = try await chief.report(category: Sample.litter, location: Sample.inG1, description: "越权测试")
        _ = try await chief.forward(id)
        _ = try await chief.syncNow()
        _ = try await worker.syncNow()
        let e = try await assertThrows(\.notAllowed) { try await worker.close(id, note: "直接结案") }
        XCTAssertEqual(e.action, "close")
        // A photo on a case one is not involved in (another grid's worker).
        let other = try await server.enrolled("gw3")
        _ = try await assertThrows(\.notAllowed) {
            try await other.applyRemote(id, bytes: worker.exportCase(id))
            return try await other.attachPhoto(id, bytes: testPhoto(1), stage: .evidence)
        }
    }

    func testACorruptOrForeignPhotoIsPhotoRejectedAndWritesNothing() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("gw1")
        let before = try await d.myReports().count
        let good = testPhoto(3)
        let truncated = good.prefix(good.count / 3)
        let e = try await assertThrows(\.photoRejected) {
            try await d.reportWithPhotos(category: Sample.litter, location: Sample.inG1, description: "坏照片",
                                         photos: [CameraPhoto(bytes: good, capture: nil), CameraPhoto(bytes: Data(truncated), capture: nil)])
        }
        XCTAssertFalse(e.isBlank)
        let after = try await d.myReports().count
        XCTAssertEqual(before, after)
        let id = try await d.report(category: Sample.litter, location: Sample.inG1, description: "好报告")
        _ = try await assertThrows(\.photoRejected) {
            try await d.attachPhoto(id, bytes: Data("GIF89a not really".utf8), stage: .after)
        }
        let photos = try await d.detail(id).photos
        XCTAssertTrue(photos.isEmpty)
        let pending = try await d.pendingUploads()
        XCTAssertTrue(pending.isEmpty)
    }

    func testAGarbageUsedOrRevokedCodeAndARevokedDeviceAreUnauthorised() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let garbage = try await Xiangying.open(dir: tempDir("garbage"))
        _ = try await assertThrows(\.unauthorised) {
            try await garbage.enrol(serverUrl: server.url, code: "ABCD-EFGH", deviceName: "x")
        }
        let nobody = try await garbage.me()
        XCTAssertNil(nobody)

        let code = try server.issueCode("gw2")
        try server.revokeCode(code)
        _ = try await assertThrows(\.unauthorised) {
            try await garbage.enrol(serverUrl: server.url, code: code, deviceName: "x")
        }

        let used = try server.issueCode("gw2")
        let firstDevice = try await Xiangying.open(dir: tempDir("first"))
        let claim = try await firstDevice.enrol(serverUrl: server.url, code: used, deviceName: "first")
        XCTAssertEqual(claim.person, "gw2")
        _ = try await assertThrows(\.unauthorised) {
            try await garbage.enrol(serverUrl: server.url, code: used, deviceName: "second")
        }

        _ = try await firstDevice.syncNow()
        let deviceId = try await firstDevice.deviceId()
        try server.revokeDevice(try XCTUnwrap(deviceId))
        let e = try await assertThrows(\.unauthorised) { try await firstDevice.syncNow() }
        XCTAssertFalse(e.isBlank)
    }

    func testAServerThatIsNotThereIsNetwork() async throws {
        let d = try await Xiangying.open(dir: tempDir("offline"))
        let closed = try freePort()
        let e = try await assertThrows(\.network) {
            try await d.enrol(serverUrl: "http://127.0.0.1:\(closed)", code: "ABCD-EFGH", deviceName: "x")
        }
        XCTAssertFalse(e.isBlank)
    }

    func testAPhotoTheServerDoesNotHaveIsServerRejected404() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("gw1")
        let e = try await assertThrows(\.serverRejected) {
            try await d.fetchPhoto(String(repeating: "0", count: 64))
        }
        XCTAssertEqual(e.status, 404)
    }

    func testSyncBeforeEnrolmentIsNotSetUpABadURLOrHashIsInvalidInputAMissingPhotoNotFound() async throws {
        let d = try await Xiangying.open(dir: tempDir("unenrolled"))
        _ = try await assertThrows(\.notSetUp) { try await d.syncNow() }
        _ = try await assertThrows(\.notSetUp) { try await d.categories() }
        _ = try await assertThrows(\.notSetUp) { try await d.fetchPhoto(String(repeating: "a", count: 64)) }
        let url = try await assertThrows(\.invalidInput) {
            try await d.enrol(serverUrl: "ftp://example", code: "ABCD-EFGH", deviceName: "x")
        }
        XCTAssertEqual(url.field, "server_url")
        let hash = try await assertThrows(\.invalidInput) { try await d.photo("not-a-hash") }
        XCTAssertEqual(hash.field, "hash")
        let missing = try await assertThrows(\.notFound) { try await d.photo(String(repeating: "b", count: 64)) }
        XCTAssertEqual(missing.what, "photo")
        let deviceId = try await d.deviceId()
        XCTAssertNil(deviceId)
    }
}
