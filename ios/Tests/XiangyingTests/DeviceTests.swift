// The Swift layer over the real library on local stores (no server): open, set up, report,
// the inbox and the changes stream; the engine's AsyncStream of statuses on a device that has
// no server (offline, the outbox counted) and its end when the engine stops.
import Foundation
import XCTest
@testable import Xiangying

final class DeviceTests: XCTestCase {
    func testAReportIsStoredIndexedQueuedAndHeard() async throws {
        let d = try await deviceOf("psc1")
        let me = try await d.me()
        XCTAssertEqual(me?.person, "psc1")
        let categories = try await d.categories()
        XCTAssertFalse(categories.isEmpty)

        let changes = d.changes() // subscribed before the write
        let id = try await d.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        var heard: [String]?
        for await ids in changes where ids.isEmpty || ids.contains(id) {
            heard = ids
            break
        }
        XCTAssertNotNil(heard)
        let mine = try await d.myReports()
        XCTAssertEqual(mine.map(\.id), [id])
        XCTAssertEqual(try d.device.outboxLen(), 1)
        let detail = try await d.detail(id)
        XCTAssertEqual(detail.id, id)
        _ = try await d.forward(id, note: "请网格员处理")
        let deviceId = try await d.deviceId()
        XCTAssertNil(deviceId, "no server, no device id")
    }

    func testAnEngineWithoutAServerStreamsOfflineAndEndsWhenStopped() async throws {
        let d = try await deviceOf("psc1")
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        let engine = try d.startSyncEngine(config: fastEngine)
        let updates = engine.statusUpdates()
        // Not enrolled: every try fails without reaching a server, and the engine retries.
        let offline = await firstStatus(updates) { if case .offline = $0.state { return true } else { return false } }
        let shown = try XCTUnwrap(offline).display
        XCTAssertEqual(shown.label, "离线")
        XCTAssertNotNil(shown.retryInMs)
        XCTAssertGreaterThanOrEqual(shown.outbox, 1)
        XCTAssertNil(shown.lastSuccessMs)

        engine.stop()
        XCTAssertEqual(engine.status.display.label, "已停止")
        // The stream finishes once the engine stops: iterating it to the end returns.
        for await _ in updates {}
    }
}
