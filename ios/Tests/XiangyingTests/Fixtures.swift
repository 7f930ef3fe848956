// Test fixtures: the sample street of bindings/testdata (people psc1, gw1, gw2, cc1, …), stores
// in temporary folders, and a real xiangying-server started as a child process when
// XIANGYING_SERVER names its binary (the server tests skip without it), as the Kotlin tests'
// SyncServer does.
import Foundation
import XCTest
@testable import Xiangying

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
    static let inG1 = GeoPoint(lon: 0.05, lat: 0.05)

    /// 垃圾满溢: an event handled in the grid within 4 h.
    static let litter = "020101"
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

/// Pacing for tests: short debounce and backoff, no periodic syncs, no wake-up channel.
let fastEngine = EngineConfig(debounceMs: 20, foregroundPeriodMs: nil, backoffBaseMs: 50, backoffMaxMs: 200,
                              waitForNews: false, startInForeground: false)

/// The first status from `stream` that satisfies `condition`; nil if the stream finished first.
func firstStatus(_ stream: AsyncStream<EngineStatus>, where condition: (EngineStatus) -> Bool) async -> EngineStatus? {
    for await s in stream where condition(s) {
        return s
    }
    return nil
}

/// The test server failed to start or to run an admin command.
struct TestServerError: Error {
    let message: String
}

/// A real xiangying-server with the sample street on a loopback port, stopped by `stop()`.
final class TestServer {
    let url: String
    private let binary: URL
    private let data: URL
    private let process: Process

    private init(binary: URL, data: URL, process: Process, port: Int, https: Bool) {
        self.binary = binary
        self.data = data
        self.process = process
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
        // A port picked at random; enrol() below waits until the server answers.
        let port = Int.random(in: 20_000...60_000)
        let process = Process()
        process.executableURL = binary
        var tls: [String] = []
        if let tlsCert, let tlsKey {
            tls = ["--tls-cert", tlsCert.path, "--tls-key", tlsKey.path]
        }
        process.arguments = ["--data", data.path, "serve", "--listen", "127.0.0.1:\(port)"] + tls
        process.environment = ProcessInfo.processInfo.environment.merging(["XIANGYING_LOG": "warn"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return TestServer(binary: binary, data: data, process: process, port: port, https: !tls.isEmpty)
    }

    /// Issues a one-time enrolment code for `person` (`admin issue-code`).
    func issueCode(_ person: String) throws -> String {
        try Self.admin(binary, data, ["issue-code", person]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Revokes an enrolled device (`admin revoke-device`).
    func revokeDevice(_ deviceId: String) throws {
        _ = try Self.admin(binary, data, ["revoke-device", deviceId])
    }

    /// A store in a fresh folder enrolled as `person` (under `tls`, when given), waiting
    /// (bounded) for the server to listen.
    func enrolled(_ person: String, tls: TlsOptions? = nil) async throws -> Xiangying {
        let d = try await Xiangying.open(dir: tempDir("\(person)-synced"))
        let code = try issueCode(person)
        for _ in 0..<600 {
            guard process.isRunning else { break }
            do {
                _ = try await d.enrol(serverUrl: url, code: code, deviceName: "\(person)'s test phone", tls: tls)
                return d
            } catch ApiError.Network {
                try await Task.sleep(nanoseconds: 50_000_000) // not listening yet
            }
        }
        throw TestServerError(message: "the test server at \(url) never answered")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
    }

    private static func admin(_ binary: URL, _ data: URL, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["--data", data.path, "admin"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let bytes = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw TestServerError(message: "admin \(args) failed with status \(p.terminationStatus)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
