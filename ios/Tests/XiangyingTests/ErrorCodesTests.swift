// Mirrors ErrorCodesTest.kt: every error code an app can meet, produced through real calls (a
// refused action on a real store, a missing case, bad input, a HEIC photo, an unreachable
// server, a garbage code and a revoked device against a real server when XIANGYING_SERVER names
// its binary), checked for its stable code and its Chinese and English messages.
import Foundation
import XCTest
@testable import Xiangying

final class ErrorCodesTests: XCTestCase {
    let zh = Locale(identifier: "zh-Hans-CN")
    let en = Locale(identifier: "en-US")

    private func check(_ error: Error, _ code: ErrorCode, zhHas: String, enHas: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        guard let e = error as? ApiError else { return XCTFail("not an ApiError: \(error)", file: file, line: line) }
        XCTAssertEqual(e.code, code, file: file, line: line)
        let (z, n) = (e.message(locale: zh), e.message(locale: en))
        XCTAssertTrue(z.contains(zhHas), "zh: \(z)", file: file, line: line)
        XCTAssertTrue(n.contains(enHas), "en: \(n)", file: file, line: line)
        XCTAssertNotEqual(z, n, file: file, line: line)
    }

    func testRefusalsOfTheRulesHaveOneCodeEachAndReadInBothLanguages() async throws {
        let chief = try await deviceOf("psc1")
        let id = try await chief.report(category: Sample.litter, location: Sample.inG1, description: "垃圾满溢")
        XCTAssertThrowsError(try chief.device.close(caseId: id, note: "想直接结案")) {
            self.check($0, .wrongStatus, zhHas: "不能结案", enHas: "cannot close a case that is")
        }
        let vol = try await deviceOf("vol1")
        try await vol.applyRemote(id, bytes: try await chief.exportCase(id))
        do {
            _ = try await vol.escalate(id, reason: "x")
            XCTFail("a volunteer escalated")
        } catch {
            check(error, .notHolder, zhHas: "vol1", enHas: "vol1 does not hold this case")
        }
        do {
            _ = try await chief.note(id, text: "   ")
            XCTFail("an empty note")
        } catch {
            check(error, .noteNeedsText, zhHas: "备注", enHas: "a note needs text")
        }
    }

    func testTheHandlerMayNotVerifyTheirOwnWork() async throws {
        let gw = try await deviceOf("gw1")
        let id = try await gw.report(category: Sample.litter, location: Sample.inG1, description: "井盖缺失")
        _ = try await gw.resolve(id, note: "已处理")
        XCTAssertThrowsError(try gw.device.verify(caseId: id, note: "好")) {
            self.check($0, .mayNotVerify, zhHas: "gw1", enHas: "never the handler")
        }
    }

    func testMissingThingsBadInputAndAStoreThatIsNotSetUpHaveTheirCodes() async throws {
        let d = try await deviceOf("gw1")
        do {
            _ = try await d.escalate("no-such-case", reason: "x")
            XCTFail("no such case")
        } catch {
            check(error, .notFound, zhHas: "案件", enHas: "case")
        }
        do {
            _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "   ")
            XCTFail("an empty description")
        } catch {
            check(error, .invalidInput, zhHas: "描述", enHas: "description")
        }
        do {
            try await d.setPlatform("iOS\r\n18")
            XCTFail("a header break")
        } catch {
            check(error, .invalidInput, zhHas: "平台", enHas: "platform")
        }
        let fresh = try await Xiangying.open(dir: tempDir("fresh"))
        do {
            _ = try await fresh.inbox()
            XCTFail("no roster")
        } catch {
            check(error, .notSetUp, zhHas: "登记", enHas: "not set up")
        }
    }

    func testAHEICOrUnknownPictureIsRefusedWithItsOwnCode() async throws {
        let d = try await deviceOf("gw1")
        let id = try await d.report(category: Sample.litter, location: Sample.inG1, description: "照片")
        let heic = Data([0, 0, 0, 0x18]) + Data("ftypheic".utf8) + Data(count: 4) + Data("mif1heic".utf8)
        do {
            _ = try await d.attachPhoto(id, bytes: heic, stage: .before)
            XCTFail("HEIC taken")
        } catch {
            check(error, .photoHeic, zhHas: "HEIC", enHas: "HEIC")
        }
        do {
            _ = try await d.attachPhoto(id, bytes: Data("GIF89a not really".utf8), stage: .before)
            XCTFail("GIF taken")
        } catch {
            check(error, .photoUnsupportedFormat, zhHas: "JPEG", enHas: "JPEG")
        }
    }

    func testAnUnreachableServerAUsedCodeAndARevokedDeviceHaveTheirCodes() async throws {
        let d = try await Xiangying.open(dir: tempDir("offline"))
        do {
            _ = try await d.enrol(serverUrl: "http://127.0.0.1:9", code: "ABCD-EFGH", deviceName: "x")
            XCTFail("enrolled with nobody")
        } catch {
            check(error, .network, zhHas: "联网", enHas: "online")
        }
        guard ProcessInfo.processInfo.environment["XIANGYING_SERVER"] != nil else { return }
        let server = try TestServer.start()
        defer { server.stop() }
        let garbage = try await Xiangying.open(dir: tempDir("garbage"))
        do {
            _ = try await garbage.enrol(serverUrl: server.url, code: "ABCD-EFGH", deviceName: "x")
            XCTFail("enrolled with a garbage code")
        } catch {
            check(error, .unauthorised, zhHas: "登记码", enHas: "enrolment code")
        }
        let phone = try await server.enrolled("gw2")
        _ = try await phone.syncNow()
        try server.revokeDevice(try XCTUnwrap(try await phone.deviceId()))
        do {
            _ = try await phone.syncNow()
            XCTFail("a revoked device synced")
        } catch {
            check(error, .unauthorised, zhHas: "登记码", enHas: "enrolment code")
        }
    }

    func testTheServersRefusalCodesMapToTheirErrorCodeAnUnknownOneToSERVERREJECTED() {
        let cases: [(String, ErrorCode)] = [
            ("quarantined", .quarantined), ("tampering", .tampering), ("forbidden", .forbidden),
            ("over_limit", .overLimit), ("overloaded", .overloaded), ("expired", .expired),
            ("a_newer_servers_code", .serverRejected),
        ]
        for (sent, code) in cases {
            let e = ApiError.ServerRejected(status: 403, code: sent, detail: "x")
            XCTAssertEqual(e.code, code, sent)
            XCTAssertNotEqual(e.message(locale: zh), e.message(locale: en))
        }
        XCTAssertEqual(ApiError.UpgradeRequired(detail: "x").code, .upgradeRequired)
        XCTAssertTrue(ApiError.UpgradeRequired(detail: "x").message(locale: zh).contains("更新应用"))
    }

    func testEveryCodeHasAUniqueStableName() {
        // Swift's ErrorCode is not CaseIterable; the Rust test `codes::tests` checks them all.
        let codes: [ErrorCode] = [.notAllowed, .notHolder, .wrongStatus, .photoHeic, .network, .overLimit, .serverRejected]
        let names = codes.map(\.id)
        XCTAssertEqual(names.count, Set(names).count)
        XCTAssertTrue(names.allSatisfy { !$0.isEmpty && $0 == $0.lowercased() }, "\(names)")
        XCTAssertEqual(ErrorCode.notHolder.id, "not_holder")
        XCTAssertEqual(ErrorCode.photoHeic.id, "photo_heic")
    }
}
