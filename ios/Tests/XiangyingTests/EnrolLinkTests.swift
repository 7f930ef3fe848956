// The desk's enrolment QR codes (decision 0041) read through the real library: a printed link
// gives the server and code that `enrol` takes; anything else is InvalidInput naming the link.
import Foundation
import XCTest
@testable import Xiangying

final class EnrolLinkTests: XCTestCase {
    func testADesksEnrolmentLinkGivesTheServerAndTheCode() throws {
        let link = try Xiangying.parseEnrolLink(
            "xiangying://enrol?server=https%3A%2F%2Fxy.example.gov.cn%3A8470%2F&code=K7QMX-4XWDA-9PLRT")
        XCTAssertEqual(link, EnrolLink(server: "https://xy.example.gov.cn:8470", code: "K7QMX-4XWDA-9PLRT"))
        // Either order, an unescaped URL with a path, the spaces a scanner may leave.
        let plain = try Xiangying.parseEnrolLink(" xiangying://enrol?code=ABCD2345&server=http://10.0.0.5/xy\n")
        XCTAssertEqual(plain, EnrolLink(server: "http://10.0.0.5/xy", code: "ABCD2345"))
    }

    func testAnyOtherQRCodeIsInvalidInputNamingTheEnrolmentLinkAndTheProblem() {
        let cases = [
            ("https://xy.example.gov.cn/enrol?code=ABCD2345", "does not start"),
            ("xiangying://enrol?server=http%3A%2F%2Fa", "no code"),
            ("xiangying://enrol?server=ftp%3A%2F%2Fa&code=ABCD2345", "http or https"),
            ("xiangying://enrol?server=http%3A%2F%2Fu%3Ap%40a&code=ABCD2345", "credentials"),
            ("xiangying://enrol?server=http%3A%2F%2Fa&code=ABCD2345&x=1", "unknown parameter"),
        ]
        for (text, problem) in cases {
            do {
                let link = try Xiangying.parseEnrolLink(text)
                XCTFail("\(text) was read as \(link)")
            } catch let e as ApiError {
                XCTAssertEqual(e.code, .invalidInput)
                guard case .InvalidInput(let field, let detail) = e else { return XCTFail("\(text): \(e)") }
                XCTAssertEqual(field, "enrolment link")
                XCTAssertTrue(detail.contains(problem), "\(text): \(detail)")
            } catch {
                XCTFail("\(text): not an ApiError: \(error)")
            }
        }
    }
}
