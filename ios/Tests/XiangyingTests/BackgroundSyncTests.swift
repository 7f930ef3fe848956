// What a background sync (the iOS refresh task, Android's WorkManager worker) tells its
// scheduler: the decision from values for every refusal kind, and from real syncs against a
// real server (skipped unless XIANGYING_SERVER names its binary): success, a server gone
// (retry), a revoked device and a device never enrolled (failure). The mirror of the Kotlin
// BackgroundSyncTest.
import Foundation
import XCTest
@testable import Xiangying

final class BackgroundSyncTests: XCTestCase {
    private func rejected(_ status: UInt16, _ code: String) -> ApiError {
        ApiError.ServerRejected(status: status, code: code, detail: "detail")
    }

    func testPassingFailuresRetryLastingOnesFail() {
        XCTAssertEqual(backgroundSyncOutcome(nil), .success)
        let retry: [any Error] = [
            ApiError.Network(detail: "connection refused"),
            ApiError.Cancelled(detail: "stopped"),
            ApiError.Storage(detail: "disk full"),
            CancellationError(), // Swift's own cancellation: the task expired
            rejected(503, "overloaded"),
            rejected(429, "device_busy"),
            rejected(429, "too_many_requests"),
            rejected(500, "internal"),
            rejected(503, "no_org"),
            rejected(409, "conflict"),
            rejected(502, ""), // a proxy's answer, no code: by status
            rejected(504, "a_code_from_a_newer_server"),
            rejected(408, ""),
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
            rejected(403, "tampering"),
            rejected(403, "quarantined"),
            rejected(413, "over_limit"),
            rejected(400, "bad_request"),
            rejected(418, ""),
            NotAnApiError(),
        ]
        for e in fail {
            XCTAssertEqual(backgroundSyncOutcome(e), .failure, "\(e)")
        }
    }

    func testABackgroundSyncSucceedsAndEmptiesTheOutbox() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let d = try await server.enrolled("psc1")
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        let outcome = await d.backgroundSync()
        XCTAssertEqual(outcome, .success)
        let outbox = try await d.outboxLen()
        XCTAssertEqual(outbox, 0)
    }

    func testAServerGoneIsRetriedARevokedOrUnenrolledDeviceIsNot() async throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let gone = try TestServer.start()
        defer { gone.stop() } // stopping twice is harmless
        let d = try await gone.enrolled("gw1")
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        gone.stop()
        let retried = await d.backgroundSync()
        XCTAssertEqual(retried, .retry)
        let outbox = try await d.outboxLen()
        XCTAssertEqual(outbox, 1, "nothing lost")

        let revoked = try await server.enrolled("gw2")
        let deviceId = try await revoked.deviceId()
        try server.revokeDevice(try XCTUnwrap(deviceId))
        let refused = await revoked.backgroundSync()
        XCTAssertEqual(refused, .failure)

        let never = try await Xiangying.open(dir: tempDir("never-enrolled"))
        let unenrolled = await never.backgroundSync()
        XCTAssertEqual(unenrolled, .failure)
    }
}
