// The Swift layer over the real library on a local store (no server): open, set up, report,
// the inbox and the changes stream, in one pass (Swift only; the mirrors of the Kotlin tests
// are in the files named after them, e.g. FlowsTests.swift for FlowsTest).
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
}
