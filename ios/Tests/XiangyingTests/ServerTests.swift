// The Swift layer against a real xiangying-server (skipped unless XIANGYING_SERVER names its
// binary): the engine syncs a report by itself and its stream reaches idle with a last success,
// then waits to retry (unauthorised) once the server revoked the device; a background sync
// succeeds, and fails for a revoked device.
import Foundation
import XCTest
@testable import Xiangying

final class ServerTests: XCTestCase {
    func testTheEngineSyncsByItselfAndWaitsToRetryOnceRevoked() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("psc1")
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        let engine = try d.startSyncEngine(config: fastEngine)
        let updates = engine.statusUpdates()
        engine.syncSoon() // in case the first sync ended before the stream was subscribed
        let idle = await firstStatus(updates) { $0.state == .idle && $0.outbox == 0 && $0.lastSuccessMs != nil }
        let shown = try XCTUnwrap(idle).display
        XCTAssertEqual(shown.label, "空闲")
        XCTAssertTrue(shown.lastSuccessText().hasPrefix("已同步 "))

        let deviceId = try await d.deviceId()
        try server.revokeDevice(try XCTUnwrap(deviceId))
        engine.syncSoon()
        let refused = await firstStatus(updates) {
            if case .waitingToRetry = $0.state { return true } else { return false }
        }
        XCTAssertEqual(try XCTUnwrap(refused).display.label, "等待重试 (unauthorised)")
        engine.stop()
    }

    func testABackgroundSyncSucceedsAndARevokedDeviceFails() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("psc1")
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        let outcome = await d.backgroundSync()
        XCTAssertEqual(outcome, .success)
        XCTAssertEqual(try d.device.outboxLen(), 0)

        let deviceId = try await d.deviceId()
        try server.revokeDevice(try XCTUnwrap(deviceId))
        let revoked = await d.backgroundSync()
        XCTAssertEqual(revoked, .failure)
    }
}
