// Mirrors LogsTest.kt: a sync against a real xiangying-server (when XIANGYING_SERVER names its
// binary) hands the installed XiangyingLog lines with the core's targets and levels (a sync's
// start and end, a refused action) and no token; a sink that throws breaks nothing; and the
// User-Agent a real HTTP listener on loopback sees names the app, the core and the platform
// given at open.
import Foundation
import XCTest
@testable import Xiangying
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects log lines across threads.
final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [(LogLevel, String, String)] = []

    func add(_ l: LogLevel, _ t: String, _ m: String) {
        lock.lock(); all.append((l, t, m)); lock.unlock()
    }

    var snapshot: [(LogLevel, String, String)] {
        lock.lock(); defer { lock.unlock() }; return all
    }

    /// Waits (on the lines arriving) for one matching `p`.
    func waitFor(_ p: ((LogLevel, String, String)) -> Bool) async throws -> (LogLevel, String, String) {
        for _ in 0..<3000 {
            if let l = snapshot.first(where: p) { return l }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw TestServerError(message: "no such log line among \(snapshot)")
    }
}

/// A loopback listener that answers every request 401 and keeps each request's User-Agent.
final class AgentListener: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var agents: [String] = []

    init() throws {
        #if os(Linux)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, len) == 0 && listen(fd, 8) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard bound else { throw TestServerError(message: "cannot listen on loopback") }
        port = UInt16(bigEndian: addr.sin_port)
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            var buffer = [UInt8](repeating: 0, count: 8192)
            let n = read(client, &buffer, buffer.count)
            let head = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
            for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("user-agent:") {
                lock.lock(); agents.append(String(line.dropFirst("user-agent:".count)).trimmingCharacters(in: .whitespaces)); lock.unlock()
            }
            let answer = Array("HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".utf8)
            _ = answer.withUnsafeBufferPointer { write(client, $0.baseAddress, $0.count) }
            close(client)
        }
    }

    /// The User-Agents seen so far.
    var seen: [String] {
        lock.lock(); defer { lock.unlock() }; return agents
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

final class LogsTests: XCTestCase {
    override func tearDown() {
        XiangyingLog.uninstall()
        super.tearDown()
    }

    func testASyncAndARefusalLogLinesWithTheirTargetsAndLevelsAndNoToken() async throws {
        guard ProcessInfo.processInfo.environment["XIANGYING_SERVER"] != nil else { return }
        let server = try TestServer.start()
        defer { server.stop() }
        let lines = Lines()
        XiangyingLog.install(level: .debug) { lines.add($0, $1, $2) }
        let d = try await server.enrolled("gw1")
        let id = try await d.report(category: Sample.litter, location: Sample.inG1, description: "井盖缺失，行人易绊倒")
        _ = try await d.syncNow()
        let started = try await lines.waitFor { $0.1 == "xiangying::sync" && $0.2.hasPrefix("sync started") }
        XCTAssertEqual(started.0, .info)
        let done = try await lines.waitFor { $0.1 == "xiangying::sync" && $0.2.hasPrefix("sync finished") }
        XCTAssertEqual(done.0, .info)
        XCTAssertTrue(done.2.contains("1 changes pushed"), done.2)

        XCTAssertThrowsError(try d.device.close(caseId: id, note: ""))
        let refused = try await lines.waitFor { $0.1 == "xiangying::rules" }
        XCTAssertEqual(refused.0, .info)
        XCTAssertTrue(refused.2.contains("wrong_status") && refused.2.contains(id), refused.2)

        let token = try NSRegularExpression(pattern: "[0-9a-f]{64}")
        for (_, _, m) in lines.snapshot {
            XCTAssertNil(token.firstMatch(in: m, range: NSRange(m.startIndex..., in: m)), m)
            XCTAssertFalse(m.contains("井盖"), m)
        }
    }

    func testASinkThatThrowsBreaksNothingAndLinesBelowTheLevelAreNotSent() async throws {
        guard ProcessInfo.processInfo.environment["XIANGYING_SERVER"] != nil else { return }
        let server = try TestServer.start()
        defer { server.stop() }
        // Swift closures cannot throw into the core; a sink that traps would end the process,
        // so the Swift side of "throws" is a sink that drops everything.
        let dropped = Lines()
        XiangyingLog.install(level: .info) { dropped.add($0, $1, $2) }
        let d = try await server.enrolled("psc1")
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "垃圾")
        let first = try await d.syncNow()
        XCTAssertEqual(first.pushed, 1)
        _ = try await dropped.waitFor { $0.2.hasPrefix("sync finished") }

        let lines = Lines()
        XiangyingLog.install(level: .warn) { lines.add($0, $1, $2) }
        _ = try await d.syncNow()
        XiangyingLog.install(level: .info) { lines.add($0, $1, $2) }
        _ = try await d.syncNow()
        _ = try await lines.waitFor { $0.2.hasPrefix("sync finished") }
        XCTAssertEqual(lines.snapshot.filter { $0.2.hasPrefix("sync started") }.count, 1)
    }

    func testTheUserAgentTheServerSeesNamesTheAppTheCoreAndThePlatform() async throws {
        let listener = try AgentListener()
        defer { listener.stop() }
        let d = try await Xiangying.open(dir: tempDir("ua"), appVersion: "2.3.0", platform: "iOS 18.1")
        do {
            _ = try await d.enrol(serverUrl: "http://127.0.0.1:\(listener.port)", code: "ABCD-EFGH", deviceName: "x")
            XCTFail("enrolled with a listener that refuses everyone")
        } catch ApiError.Unauthorised {
        }
        let ua = try XCTUnwrap(listener.seen.first)
        XCTAssertTrue(ua.hasPrefix("xiangying/2.3.0 core/"), ua)
        XCTAssertTrue(ua.contains(" protocol/"), ua)
        XCTAssertTrue(ua.hasSuffix(" (iOS 18.1)"), ua)
        XCTAssertFalse(XiangyingPlatform.current.isEmpty)

        do {
            _ = try await Xiangying.open(dir: tempDir("ua-bad"), platform: "鸿蒙 4")
            XCTFail("a platform outside ASCII")
        } catch ApiError.InvalidInput(let field, _) {
            XCTAssertEqual(field, "platform")
        }
    }
}
