// The Swift layer against a real xiangying-server (skipped unless XIANGYING_SERVER names its
// binary): a background sync succeeds, and fails for a revoked device (Swift only; the mirrors
// of the Kotlin server tests are in SyncTests, BackgroundSyncTests and SyncDisplayTests).
import Foundation
import XCTest
@testable import Xiangying

final class ServerTests: XCTestCase {
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
