// Test fixtures: the sample street of bindings/testdata (people psc1, gw1, gw2, cc1, …), stores
// in temporary folders, a small real photo, and a real xiangying-server started as a child
// process when XIANGYING_SERVER names its binary (the server tests skip without it), as the
// Kotlin tests' Fixtures.kt and SyncServer.kt do; plus the waiting and error-catching helpers
// that stand in for kotlinx.coroutines' withTimeout/first and JUnit's assertThrows.
import Foundation
import XCTest
@testable import Xiangying
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum Sample {
    /// The repository's root, found from this file's path.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // XiangyingTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent() // ios
        .deletingLastPathComponent()

    /// A file of bindings/testdata.
    static func file(_ name: String) -> URL {
        root.appendingPathComponent("bindings/testdata/\(name)")
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: file(name), encoding: .utf8)
    }

    /// A point inside grid g1 on segment s1.
    static let inG1 = GeoPoint(lon: 0.05, lat: 0.05, datum: .wgs84)

    /// 垃圾满溢: an event handled in the grid within 4 h.
    static let litter = "020101"

    /// 井盖破损: a component, 24 h.
    static let manhole = "010101"

    /// 居民求助: resident help, community, 24 h.
    static let help = "030901"
}

/// Metres to degrees (the sample street lies at the equator, where both are the same).
func deg(_ m: Double) -> Double {
    m / (6_371_008.8 * Double.pi / 180)
}

let hourMs: Int64 = 3_600_000
let dayMs: Int64 = 24 * hourMs

/// The device clock now, in ms since the epoch.
func nowMs() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}

/// Grid g1 as a patrol place.
let g1 = PatrolPlace.grid(id: "g1")

/// `n` fixes 5 s apart from `startMs`, walking north through grid g1 about 4 m a step.
func fixes(_ n: Int, startMs: Int64) -> [TrackPoint] {
    (0..<n).map { i in
        TrackPoint(atMs: startMs + Int64(i) * 5_000,
                   lon: 0.05 + deg(3.0) * sin(Double(i) * 0.3),
                   lat: 0.02 + deg(4.0) * Double(i),
                   accuracyM: 5.0, datum: .wgs84)
    }
}

/// A new empty folder under the system's temporary folder.
func tempDir(_ prefix: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("xiangying-\(prefix)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Opens a store in a fresh folder, installs the sample street and sets `person`, no server.
func deviceOf(_ person: String) async throws -> Xiangying {
    let d = try await Xiangying.open(dir: tempDir(person))
    try await d.installOrg(rosterJson: Sample.text("sample-roster.json"), catalogueJson: Sample.text("sample-catalogue.json"))
    try await d.setPerson(person)
    return d
}

// MARK: a photo

private let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 {
        c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1)
    }
    return c
}

private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8)
    }
    return c ^ 0xFFFF_FFFF
}

private func bigEndianBytes(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
}

private func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typed = Array(type.utf8) + data
    return bigEndianBytes(UInt32(data.count)) + typed + bigEndianBytes(crc32(typed))
}

/// A small real PNG (RGB, zlib with stored blocks), different for each `seed`: the Kotlin
/// tests' `jpeg(seed)`, with the same pixels. Swift on Linux has no image encoder, and the core
/// takes PNG as it takes JPEG (it stores every photo as a JPEG), so the tests use this.
func testPhoto(_ seed: Int, width: Int = 320, height: Int = 240) -> Data {
    var raw: [UInt8] = []
    raw.reserveCapacity(height * (1 + 3 * width))
    for y in 0..<height {
        raw.append(0) // filter: none
        for x in 0..<width {
            raw.append(UInt8((x + seed) & 0xFF))
            raw.append(UInt8(y & 0xFF))
            raw.append(UInt8(seed & 0xFF))
        }
    }
    var z: [UInt8] = [0x78, 0x01]
    var start = 0
    repeat {
        let n = min(65_535, raw.count - start)
        let len = UInt16(n)
        let nlen = ~len
        z.append(start + n == raw.count ? 1 : 0)
        z.append(UInt8(len & 0xFF))
        z.append(UInt8(len >> 8))
        z.append(UInt8(nlen & 0xFF))
        z.append(UInt8(nlen >> 8))
        z.append(contentsOf: raw[start..<(start + n)])
        start += n
    } while start < raw.count
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in raw {
        a = (a + UInt32(byte)) % 65_521
        b = (b + a) % 65_521
    }
    z.append(contentsOf: bigEndianBytes((b << 16) | a))

    var header = bigEndianBytes(UInt32(width)) + bigEndianBytes(UInt32(height))
    header.append(contentsOf: [8, 2, 0, 0, 0]) // 8 bits, RGB, deflate, no filter method, no interlace
    var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    png.append(contentsOf: pngChunk("IHDR", header))
    png.append(contentsOf: pngChunk("IDAT", z))
    png.append(contentsOf: pngChunk("IEND", []))
    return Data(png)
}

// MARK: waiting

/// Nothing came within the time allowed (Kotlin's withTimeout).
struct TimedOut: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "nothing within \(seconds) s" }
}

/// A stream finished before what was waited for came.
struct StreamEnded: Error {}

/// Runs `body`, failing with `TimedOut` when it takes more than `seconds` (it is cancelled
/// then; stream iterations end on cancellation). Kotlin's `withTimeout`.
func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            throw TimedOut(seconds: seconds)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimedOut(seconds: seconds) }
        return first
    }
}

/// The first element of `stream` that satisfies `condition`, within `seconds`; throws
/// `StreamEnded` when the stream finished first. Kotlin's `withTimeout { flow.first { … } }`.
func firstElement<S: AsyncSequence & Sendable>(_ stream: S, within seconds: Double = 10,
                                               where condition: @escaping @Sendable (S.Element) -> Bool) async throws -> S.Element
    where S.Element: Sendable {
    try await withTimeout(seconds) {
        for try await x in stream where condition(x) {
            return x
        }
        throw StreamEnded()
    }
}

/// The first `n` elements of `stream` (fewer if it finishes first), within `seconds`.
/// Kotlin's `flow.take(n).toList()`.
func take<S: AsyncSequence & Sendable>(_ n: Int, from stream: S, within seconds: Double = 10) async throws -> [S.Element]
    where S.Element: Sendable {
    try await withTimeout(seconds) {
        var out: [S.Element] = []
        for try await x in stream {
            out.append(x)
            if out.count == n {
                break
            }
        }
        return out
    }
}

/// Every element of `stream` until it finishes, within `seconds`. Kotlin's `flow.toList()`.
func collect<S: AsyncSequence & Sendable>(_ stream: S, within seconds: Double = 60) async throws -> [S.Element]
    where S.Element: Sendable {
    try await withTimeout(seconds) {
        var out: [S.Element] = []
        for try await x in stream {
            out.append(x)
        }
        return out
    }
}

/// The engine's first status that satisfies `condition`: its status now, else the first of its
/// updates, within `seconds`. Kotlin's `engine.status.first { … }` on the StateFlow (which
/// starts with the value now); subscribed before the status is read, so nothing is missed.
func awaitStatus(_ engine: SyncEngine, within seconds: Double = 60,
                 where condition: @escaping @Sendable (EngineStatus) -> Bool) async throws -> EngineStatus {
    let updates = engine.statusUpdates()
    let now = engine.status
    if condition(now) {
        return now
    }
    return try await firstElement(updates, within: seconds, where: condition)
}

/// The first status from `stream` that satisfies `condition`; nil if the stream finished first.
func firstStatus(_ stream: AsyncStream<EngineStatus>, where condition: (EngineStatus) -> Bool) async -> EngineStatus? {
    for await s in stream where condition(s) {
        return s
    }
    return nil
}

/// Pacing for tests: short debounce and backoff, no periodic syncs, no wake-up channel.
let fastEngine = EngineConfig(debounceMs: 20, foregroundPeriodMs: nil, backoffBaseMs: 50, backoffMaxMs: 200,
                              waitForNews: false, startInForeground: false)

/// A gate that a thread of the core (a progress callback) waits on until the test opens it:
/// the condition Kotlin's tests stand in for with a sleep inside a callback.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks the calling thread until the gate is open, at most `seconds`; true when it is.
    @discardableResult
    func wait(seconds: Double = 10) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !isOpen {
            if !condition.wait(until: deadline) {
                return isOpen
            }
        }
        return true
    }
}

/// Values a callback of the core hands over on its own thread, kept in order.
final class Recorder<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Element] = []

    func add(_ item: Element) {
        lock.lock()
        items.append(item)
        lock.unlock()
    }

    var all: [Element] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}

/// One call of a `ProgressListener`.
struct ProgressCall: Sendable, Equatable {
    let done: UInt64
    let total: UInt64
}

/// A `ProgressListener` that records every call and passes it to `onCall`.
final class ProgressLog: ProgressListener, @unchecked Sendable {
    let calls = Recorder<ProgressCall>()
    private let onCall: @Sendable (UInt64, UInt64) -> Void

    init(onCall: @escaping @Sendable (UInt64, UInt64) -> Void = { _, _ in }) {
        self.onCall = onCall
    }

    func progress(done: UInt64, total: UInt64) {
        calls.add(ProgressCall(done: done, total: total))
        onCall(done, total)
    }
}

/// A `SyncListener` that records every report and passes it to `onReport`.
final class SyncLog: SyncListener, @unchecked Sendable {
    let reports = Recorder<SyncReport>()
    private let onReport: @Sendable (SyncReport) -> Void

    init(onReport: @escaping @Sendable (SyncReport) -> Void = { _ in }) {
        self.onReport = onReport
    }

    func progress(report: SyncReport) {
        reports.add(report)
        onReport(report)
    }
}

// MARK: errors

/// An error that is no ApiError.
struct NotAnApiError: Error {}

/// The call did not throw what the test expected.
struct UnexpectedOutcome: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body`, which must throw the `ApiError` variant that `variant` picks out; returns that
/// variant's fields, and fails the test (throwing) otherwise. JUnit's `assertThrows<…>`:
/// `let e = try await assertThrows(\.notAllowed) { try await d.close(id, note: "") }`.
func assertThrows<T, Fields>(_ variant: KeyPath<ApiError, Fields?>, file: StaticString = #filePath, line: UInt = #line,
                             _ body: () async throws -> T) async throws -> Fields {
    let outcome: String
    do {
        let value = try await body()
        outcome = "no error, but \(value)"
    } catch let e as ApiError {
        if let fields = e[keyPath: variant] {
            return fields
        }
        outcome = "\(e)"
    } catch {
        outcome = "not an ApiError: \(error)"
    }
    XCTFail("the call ended with \(outcome)", file: file, line: line)
    throw UnexpectedOutcome(description: outcome)
}

// The fields of each variant (the only place that spells out their shapes).
extension ApiError {
    var notAllowed: (action: String, reason: String)? {
        if case let .NotAllowed(action, reason, _, _) = self { return (action, reason) }
        return nil
    }

    var notFound: (what: String, id: String)? {
        if case let .NotFound(what, id) = self { return (what, id) }
        return nil
    }

    var invalidInput: (field: String, problem: String)? {
        if case let .InvalidInput(field, problem) = self { return (field, problem) }
        return nil
    }

    var storage: String? {
        if case let .Storage(detail) = self { return detail }
        return nil
    }

    var network: String? {
        if case let .Network(detail) = self { return detail }
        return nil
    }

    var unauthorised: String? {
        if case let .Unauthorised(detail) = self { return detail }
        return nil
    }

    var photoRejected: String? {
        if case let .PhotoRejected(reason, _) = self { return reason }
        return nil
    }

    var serverRejected: (status: UInt16, code: String, detail: String)? {
        if case let .ServerRejected(status, code, detail) = self { return (status, code, detail) }
        return nil
    }

    var cancelled: String? {
        if case let .Cancelled(detail) = self { return detail }
        return nil
    }

    var notSetUp: String? {
        if case let .NotSetUp(detail) = self { return detail }
        return nil
    }
}

extension String {
    /// Kotlin's `isBlank()`.
    var isBlank: Bool {
        trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }
}

extension Array {
    /// The one element (Kotlin's `single()`); throws when there are none or several.
    func single(file: StaticString = #filePath, line: UInt = #line) throws -> Element {
        guard count == 1 else {
            XCTFail("expected one element, got \(count): \(self)", file: file, line: line)
            throw UnexpectedOutcome(description: "\(count) elements")
        }
        return self[0]
    }

    /// The one element that satisfies `condition` (Kotlin's `single { … }`).
    func single(file: StaticString = #filePath, line: UInt = #line, where condition: (Element) -> Bool) throws -> Element {
        try filter(condition).single(file: file, line: line)
    }

    /// Consecutive slices of at most `size` elements (Kotlin's `chunked`).
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

// MARK: the server

/// The test server failed to start or to run an admin command.
struct TestServerError: Error {
    let message: String
}

#if canImport(Glibc)
private func tcpSocket() -> Int32 {
    socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
}
#else
private func tcpSocket() -> Int32 {
    socket(AF_INET, SOCK_STREAM, 0)
}
#endif

/// 127.0.0.1:`port` as a socket address.
private func loopback(port: UInt16) -> sockaddr_in {
    var addr = sockaddr_in()
    #if canImport(Darwin)
    addr.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
    #endif
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
    return addr
}

/// A loopback port nobody listens on now (bound to port 0, read, closed again), for the server
/// or for a "server unreachable" test: Kotlin's `SyncServer.freePort()`.
func freePort() throws -> Int {
    let fd = tcpSocket()
    guard fd >= 0 else { throw TestServerError(message: "socket() failed") }
    defer { _ = close(fd) }
    var addr = loopback(port: 0)
    let size = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) }
    }
    guard bound == 0 else { throw TestServerError(message: "bind() failed") }
    var length = size
    let named = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw TestServerError(message: "getsockname() failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
private func listening(port: Int) -> Bool {
    let fd = tcpSocket()
    guard fd >= 0 else { return false }
    defer { _ = close(fd) }
    var addr = loopback(port: UInt16(port))
    let size = socklen_t(MemoryLayout<sockaddr_in>.size)
    let connected = withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) }
    }
    return connected == 0
}

/// A real xiangying-server with the sample street published (`admin setup`), enrolment codes
/// issued and devices revoked through its admin CLI, serving on a free loopback port, waited
/// for until it listens; stopped by `stop()`. Kotlin's `SyncServer`. The Kotlin test classes
/// share one server per class; here each test starts its own (`defer { server.stop() }`).
final class TestServer {
    let url: String
    let port: Int
    private let binary: URL
    private let data: URL
    private let process: Process
    private let logFile: URL

    private init(binary: URL, data: URL, process: Process, port: Int, logFile: URL, https: Bool) {
        self.binary = binary
        self.data = data
        self.process = process
        self.port = port
        self.logFile = logFile
        self.url = "\(https ? "https" : "http")://127.0.0.1:\(port)"
    }

    /// Starts a server from the binary XIANGYING_SERVER names, over HTTPS with `tlsCert` and
    /// `tlsKey` (PEM files) when given; skips the test without the binary.
    static func start(tlsCert: URL? = nil, tlsKey: URL? = nil) throws -> TestServer {
        guard let path = ProcessInfo.processInfo.environment["XIANGYING_SERVER"] else {
            throw XCTSkip("set XIANGYING_SERVER to the xiangying-server binary to run the server tests")
        }
        let binary = URL(fileURLWithPath: path)
        let data = try tempDir("server")
        _ = try admin(binary, data, ["setup", "--roster", Sample.file("sample-roster.json").path,
                                     "--catalogue", Sample.file("sample-catalogue.json").path])
        let logFile = data.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        let port = try freePort()
        let process = Process()
        process.executableURL = binary
        var tls: [String] = []
        if let tlsCert, let tlsKey {
            tls = ["--tls-cert", tlsCert.path, "--tls-key", tlsKey.path]
        }
        process.arguments = ["--data", data.path, "serve", "--listen", "127.0.0.1:\(port)"] + tls
        process.environment = ProcessInfo.processInfo.environment.merging(["XIANGYING_LOG": "warn"]) { $1 }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let server = TestServer(binary: binary, data: data, process: process, port: port, logFile: logFile,
                                https: !tls.isEmpty)
        do {
            try server.awaitListening()
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// Waits (30 s at most) until the server accepts connections; fails if it exits.
    private func awaitListening() throws {
        let deadline = Date(timeIntervalSinceNow: 30)
        while Date() < deadline {
            guard process.isRunning else {
                throw TestServerError(message: "xiangying-server exited (\(process.terminationStatus)): \(log())")
            }
            if listening(port: port) {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestServerError(message: "xiangying-server did not listen on \(url) within 30 s: \(log())")
    }

    /// What the server logged so far, for failure messages.
    func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// Issues a one-time enrolment code for `person` (`admin issue-code`).
    func issueCode(_ person: String) throws -> String {
        try Self.admin(binary, data, ["issue-code", person]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Revokes an unused enrolment code (`admin revoke-code`).
    func revokeCode(_ code: String) throws {
        _ = try Self.admin(binary, data, ["revoke-code", code])
    }

    /// Revokes an enrolled device (`admin revoke-device`).
    func revokeDevice(_ deviceId: String) throws {
        _ = try Self.admin(binary, data, ["revoke-device", deviceId])
    }

    /// A store in a fresh folder enrolled as `person` (Kotlin's `enrolled(server, person)`),
    /// under `tls` when given.
    func enrolled(_ person: String, tls: TlsOptions? = nil) async throws -> Xiangying {
        let d = try await Xiangying.open(dir: tempDir("\(person)-synced"))
        let claim = try await d.enrol(serverUrl: url, code: issueCode(person), deviceName: "\(person)'s test phone",
                                      tls: tls)
        guard claim.person == person else {
            throw TestServerError(message: "enrolled as \(claim.person), not \(person)")
        }
        return d
    }

    /// Stops the server (SIGTERM) and waits for it to exit.
    func stop() {
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
    }

    private static func admin(_ binary: URL, _ data: URL, _ args: [String]) throws -> String {
        try runProcess(binary, ["--data", data.path, "admin"] + args)
    }
}

/// Runs `executable` with `arguments` (in `dir` when given) to its end; its standard output.
/// Throws when it exits with a failure.
func runProcess(_ executable: URL, _ arguments: [String], in dir: URL? = nil) throws -> String {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    if let dir { p.currentDirectoryURL = dir }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let bytes = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw TestServerError(message: "\(executable.lastPathComponent) \(arguments) failed with status \(p.terminationStatus)")
    }
    return String(decoding: bytes, as: UTF8.self)
}
