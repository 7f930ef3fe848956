// The engine's status as a screen shows it (SyncDisplay) for every state, the last success as
// text, what a background sync tells its scheduler for every kind of error, and the
// connectivity edge NetworkWatcher acts on. Values only: no store, no server.
import Foundation
import XCTest
@testable import Xiangying

private struct NotAnApiError: Error {}

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

    func testPassingFailuresRetryLastingOnesFail() {
        XCTAssertEqual(backgroundSyncOutcome(nil), .success)
        let retry: [any Error] = [
            ApiError.Network(detail: "connection refused"),
            ApiError.Cancelled(detail: "expired"),
            ApiError.Storage(detail: "disk full"),
            CancellationError(),
            ApiError.ServerRejected(status: 503, code: "overloaded", detail: ""),
            ApiError.ServerRejected(status: 429, code: "device_busy", detail: ""),
            ApiError.ServerRejected(status: 500, code: "internal", detail: ""),
            ApiError.ServerRejected(status: 502, code: "", detail: "a proxy's answer"),
            ApiError.ServerRejected(status: 504, code: "a_code_from_a_newer_server", detail: ""),
        ]
        for e in retry {
            XCTAssertEqual(backgroundSyncOutcome(e), .retry, "\(e)")
        }
        let fail: [any Error] = [
            ApiError.UpgradeRequired(detail: "update the app"),
            ApiError.ServerTooOld(detail: "upgrade the server"),
            ApiError.Unauthorised(detail: "revoked"),
            ApiError.NotSetUp(detail: "no roster"),
            ApiError.Internal(detail: "bug"),
            ApiError.ServerRejected(status: 403, code: "tampering", detail: ""),
            ApiError.ServerRejected(status: 413, code: "over_limit", detail: ""),
            ApiError.ServerRejected(status: 418, code: "", detail: ""),
            NotAnApiError(),
        ]
        for e in fail {
            XCTAssertEqual(backgroundSyncOutcome(e), .failure, "\(e)")
        }
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
