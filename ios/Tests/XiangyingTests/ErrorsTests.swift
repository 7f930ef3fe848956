// Every ApiError variant an app can meet without a server, caught from the real library: the
// mirror of the Kotlin ErrorsTest. Not reachable here: Network and Unauthorised (SyncTests),
// PhotoRejected (SyncTests); CorruptCase needs a damaged store file (the core's own tests cover
// it); Internal is for bugs and unmapped core errors.
import Foundation
import XCTest
@testable import Xiangying

final class ErrorsTests: XCTestCase {
    func testAForbiddenActionIsNotAllowedAndNothingIsWritten() async throws {
        let chief = try await deviceOf("psc1")
        let id = try await chief.report(category: Sample.litter, location: Sample.inG1, description: "垃圾满溢")
        let before = try await chief.outboxLen()
        let e = try await assertThrows(\.notAllowed) { try await chief.close(id, note: "想直接结案") }
        XCTAssertEqual(e.action, "close")
        XCTAssertFalse(e.reason.isBlank)
        let after = try await chief.outboxLen()
        XCTAssertEqual(before, after)

        // A volunteer may not escalate a problem report.
        let vol = try await deviceOf("vol1")
        try await vol.applyRemote(id, bytes: chief.exportCase(id))
        _ = try await assertThrows(\.notAllowed) { try await vol.escalate(id, reason: "x") }
    }

    func testAnUnknownCaseCategoryOrPersonIsNotFound() async throws {
        let d = try await deviceOf("gw1")
        let e = try await assertThrows(\.notFound) { try await d.detail("no-such-case") }
        XCTAssertEqual(e.id, "no-such-case")
        let c = try await assertThrows(\.notFound) {
            try await d.report(category: "999999", location: Sample.inG1, description: "x")
        }
        XCTAssertEqual(c.what, "category")
        _ = try await assertThrows(\.notFound) { try await d.setPerson("nobody") }
    }

    func testBadInputIsInvalidInputNamingTheField() async throws {
        let d = try await deviceOf("gw1")
        let e = try await assertThrows(\.invalidInput) {
            try await d.report(category: Sample.litter, location: Sample.inG1, description: "   ")
        }
        XCTAssertEqual(e.field, "description")
        let l = try await assertThrows(\.invalidInput) {
            try await d.report(category: Sample.litter, location: GeoPoint(lon: 500.0, lat: 0.0, datum: .wgs84), description: "x")
        }
        XCTAssertEqual(l.field, "location")
        let b = try await assertThrows(\.invalidInput) { try await d.applyRemote("x", bytes: Data([1, 2, 3])) }
        XCTAssertEqual(b.field, "bytes")
        let o = try await assertThrows(\.invalidInput) { try await d.installOrg(rosterJson: "{", catalogueJson: "[]") }
        XCTAssertEqual(o.field, "org")
    }

    func testADeviceWithNoRosterOrPersonIsNotSetUp() async throws {
        let d = try await Xiangying.open(dir: tempDir("fresh"))
        _ = try await assertThrows(\.notSetUp) { try await d.inbox() }
        try await d.installOrg(rosterJson: Sample.text("sample-roster.json"), catalogueJson: Sample.text("sample-catalogue.json"))
        _ = try await assertThrows(\.notSetUp) {
            try await d.report(category: Sample.litter, location: Sample.inG1, description: "x")
        }
    }

    func testAStoreThatCannotBeCreatedIsStorage() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("xiangying-\(UUID().uuidString).not-a-folder")
        XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: Data()))
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try XiangyingDevice.open(dir: file.appendingPathComponent("sub").path)
            XCTFail("a store opened under a file")
        } catch let e as ApiError {
            let detail = try XCTUnwrap(e.storage, "\(e)")
            XCTAssertFalse(detail.isBlank, "\(e)")
            // Kotlin's message names the field ("detail="); Swift's description does too.
            let description = e.errorDescription ?? ""
            XCTAssertTrue(description.contains("detail:"), description)
        }
    }

    func testTheSetupSurvivesReopeningTheStore() async throws {
        let dir = try tempDir("reopen")
        // Kotlin closes the first store with `use`; here it is released at the end of the block.
        do {
            let d = try await Xiangying.open(dir: dir)
            try await d.installOrg(rosterJson: Sample.text("sample-roster.json"), catalogueJson: Sample.text("sample-catalogue.json"))
            try await d.setPerson("gw1")
            _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "重启前")
        }
        let d = try await Xiangying.open(dir: dir)
        let me = try await d.me()
        XCTAssertEqual(me?.person, "gw1")
        let mine = try await d.myReports()
        XCTAssertEqual(mine.count, 1)
    }

    func testTheTwo426AnswersSayWhichSideToUpgradeAndNothingElseDoes() async throws {
        XCTAssertEqual(ApiError.UpgradeRequired(detail: "protocol 0.9").upgradeNeeded, .app)
        XCTAssertEqual(ApiError.ServerTooOld(detail: "protocol 2.0").upgradeNeeded, .server)
        XCTAssertNil(ApiError.ServerRejected(status: 403, code: "tampering", detail: "x").upgradeNeeded)
        XCTAssertNil(NotAnApiError().upgradeNeeded)
        let d = try await Xiangying.open(dir: tempDir("versions"), appVersion: "2.3.0")
        XCTAssertEqual(d.protocolVersion, "1.2")
    }
}
