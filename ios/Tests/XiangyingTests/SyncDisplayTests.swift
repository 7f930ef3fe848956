// The engine's status as a screen shows it (SyncDisplay): every state's label from values, the
// last success as text, and the labels a real engine's status goes through: offline on a device
// that has no server yet, idle with a last success against a real server (skipped unless
// XIANGYING_SERVER names its binary), waiting to retry (unauthorised) once the server revoked
// the device, stopped after stop(). The mirror of the Kotlin SyncDisplayTest; besides, the
// connectivity edge NetworkWatcher acts on (Swift only).
import Foundation
import XCTest
@testable import Xiangying

final class SyncDisplayTests: XCTestCase {
    private func status(_ state: EngineState, last: Int64? = nil) -> EngineStatus {
        EngineStatus(state: state, outbox: 3, uploads: 2, lastSuccessMs: last)
    }

    func testEveryStateHasItsLabelDetailAndRetryTime() {
        let idle = status(.idle).display
        XCTAssertEqual(idle.activity, .idle)
        XCTAssertEqual(idle.label, "空闲")
        XCTAssertNil(idle.detail)
        XCTAssertNil(idle.retryInMs)
        XCTAssertEqual(idle.outbox, 3)
        XCTAssertEqual(idle.uploads, 2)
        XCTAssertEqual(idle.uploadsUnreadable, 0)
        // Files this phone cannot send: the idle line says so.
        let stuck = EngineStatus(state: .idle, outbox: 0, uploads: 2, lastSuccessMs: nil, uploadsUnreadable: 1).display
        XCTAssertEqual(stuck.label, "空闲")
        XCTAssertEqual(stuck.detail, "1 个照片文件在本机已损坏或丢失，无法上传")
        XCTAssertEqual(stuck.uploadsUnreadable, 1)

        let report = SyncReport(phase: .uploadingPhotos, roundTrips: 1, pushed: 4, pulled: 5, photosUploaded: 1,
                                bytesSent: 100, bytesReceived: 200, serverRestored: false)
        let syncing = status(.syncing(report: report)).display
        XCTAssertEqual(syncing.activity, .syncing)
        XCTAssertEqual(syncing.label, "同步中")
        XCTAssertEqual(syncing.detail, "上传照片：上传 4，下载 5，照片 1")

        let offline = status(.offline(retryInMs: 1500, reason: "connection refused")).display
        XCTAssertEqual(offline.activity, .offline)
        XCTAssertEqual(offline.label, "离线")
        XCTAssertEqual(offline.detail, "connection refused")
        XCTAssertEqual(offline.retryInMs, 1500)

        let waiting = status(.waitingToRetry(retryInMs: 3000, code: "overloaded", reason: "busy")).display
        XCTAssertEqual(waiting.activity, .waitingToRetry)
        XCTAssertEqual(waiting.label, "等待重试 (overloaded)")
        XCTAssertEqual(waiting.retryInMs, 3000)

        let app = status(.upgradeRequired(code: "upgrade_required")).display
        XCTAssertEqual(app.activity, .upgradeRequired)
        XCTAssertEqual(app.label, "需要升级")
        XCTAssertEqual(app.detail, "请更新应用")
        XCTAssertEqual(status(.upgradeRequired(code: "server_too_old")).display.detail, "服务器版本过旧，请联系管理员升级")

        XCTAssertEqual(status(.stopped).display.label, "已停止")
    }

    func testTheLastSuccessReadsAsAClockTimeTodayAndAsADateBefore() throws {
        let shanghai = try XCTUnwrap(TimeZone(identifier: "Asia/Shanghai"))
        let at: Int64 = 1_780_000_000_000 // 2026-05-29 04:26:40 +08:00
        let atDate = Date(timeIntervalSince1970: TimeInterval(at) / 1000)
        XCTAssertEqual(status(.idle).display.lastSuccessText(timeZone: shanghai, now: atDate), "尚未同步")
        let d = status(.idle, last: at).display
        XCTAssertEqual(d.lastSuccess, atDate)
        XCTAssertEqual(d.lastSuccessText(timeZone: shanghai, now: atDate.addingTimeInterval(60)), "已同步 04:26:40")
        XCTAssertEqual(d.lastSuccessText(timeZone: shanghai, now: atDate.addingTimeInterval(86_400)), "已同步 5月29日 04:26")
    }

    func testAnEngineWithoutAServerIsOfflineAndCountsTheOutbox() async throws {
        let d = try await deviceOf("psc1") // the sample street, no server
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        let engine = try d.startSyncEngine(config: fastEngine)
        let updates = engine.statusUpdates() // for the end of the stream, below
        // Not enrolled: every try fails without reaching a server, and the engine retries.
        let offline = try await awaitStatus(engine, within: 60) {
            if case .offline = $0.state { return true } else { return false }
        }.display
        XCTAssertEqual(offline.label, "离线")
        XCTAssertNotNil(offline.retryInMs)
        XCTAssertGreaterThanOrEqual(offline.outbox, 1, "\(offline)")
        XCTAssertNil(offline.lastSuccessMs)

        engine.stop()
        XCTAssertEqual(engine.status.display.label, "已停止")
        // Swift only: the status stream finishes once the engine stops.
        _ = try await collect(updates, within: 10)
    }

    func testARealEngineIsIdleAfterASuccessAndWaitsToRetryOnceRevoked() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("psc1")
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        let engine = try d.startSyncEngine(config: fastEngine)
        let idle = try await awaitStatus(engine, within: 60) {
            $0.state == .idle && $0.lastSuccessMs != nil && $0.outbox == 0
        }.display
        XCTAssertEqual(idle.label, "空闲")
        XCTAssertTrue(idle.lastSuccessText().hasPrefix("已同步 "), idle.lastSuccessText())

        let deviceId = try await d.deviceId()
        try server.revokeDevice(try XCTUnwrap(deviceId))
        engine.syncSoon()
        let refused = try await awaitStatus(engine, within: 60) {
            if case .waitingToRetry = $0.state { return true } else { return false }
        }.display
        XCTAssertEqual(refused.activity, .waitingToRetry)
        XCTAssertEqual(refused.label, "等待重试 (unauthorised)")
        XCTAssertEqual(refused.lastSuccessMs, idle.lastSuccessMs, "the last success stays")
        engine.stop()
    }

    func testConnectivityIsRegainedOnlyWhenAnUnsatisfiedPathBecomesSatisfied() {
        var edge = ConnectivityEdge()
        XCTAssertFalse(edge.update(satisfied: true), "the first path only sets the state")
        XCTAssertFalse(edge.update(satisfied: true))
        XCTAssertFalse(edge.update(satisfied: false))
        XCTAssertFalse(edge.update(satisfied: false))
        XCTAssertTrue(edge.update(satisfied: true))
        XCTAssertFalse(edge.update(satisfied: true))
        var startsOffline = ConnectivityEdge()
        XCTAssertFalse(startsOffline.update(satisfied: false))
        XCTAssertTrue(startsOffline.update(satisfied: true))
    }
}
