// HTTPS with a private certificate authority (decision 0030) against the real server serving
// TLS itself (skipped unless XIANGYING_SERVER names its binary), mirroring the Kotlin TlsTest:
// the CA and the server's certificate are made at test time with `openssl`; a device given the
// CA enrols and syncs; another CA is refused as `ApiError.TlsRefused` with `.unknownIssuer` and
// the device stays unenrolled; a pin of the server's key is accepted and a pin of another key
// refused with `.pinMismatch`; bad PEM and a malformed pin are `.InvalidInput` naming their
// field.
import Foundation
import XCTest
@testable import Xiangying

/// Certificate authorities and server certificates made with `openssl` in a folder.
struct TestPki {
    /// A CA's PEM certificate and key files.
    struct Ca {
        let cert: URL
        let key: URL
        var pem: String { get throws { try String(contentsOf: cert, encoding: .utf8) } }
    }

    let dir: URL

    /// Runs `command` through the shell in `dir`; its standard output.
    @discardableResult
    private func sh(_ command: String) throws -> String {
        try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", command], in: dir)
    }

    /// A self-signed CA (P-256, valid two days) named `name`.
    func ca(_ name: String) throws -> Ca {
        try sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            + "-keyout \(name)-ca.key -out \(name)-ca.pem -days 2 -subj /CN=\(name) "
            + "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign")
        return Ca(cert: dir.appendingPathComponent("\(name)-ca.pem"), key: dir.appendingPathComponent("\(name)-ca.key"))
    }

    /// A server certificate for 127.0.0.1 from `ca`: its PEM certificate and key files.
    func serverCert(_ ca: Ca, _ name: String) throws -> (cert: URL, key: URL) {
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(to: dir.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
        try sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            + "-keyout \(name).key -out \(name).csr -subj /CN=127.0.0.1")
        try sh("openssl x509 -req -in \(name).csr -CA '\(ca.cert.path)' -CAkey '\(ca.key.path)' "
            + "-CAcreateserial -out \(name).pem -days 2 -extfile \(name).ext")
        return (dir.appendingPathComponent("\(name).pem"), dir.appendingPathComponent("\(name).key"))
    }

    /// The OkHttp-style pin of a PEM certificate's key: `sha256/` and the base64 of the
    /// SHA-256 of its SubjectPublicKeyInfo.
    func pin(of pem: URL) throws -> String {
        let b64 = try sh("openssl x509 -in '\(pem.path)' -pubkey -noout | openssl pkey -pubin -outform der "
            + "| openssl dgst -sha256 -binary | base64")
        return "sha256/" + b64.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

final class TlsTests: XCTestCase {
    /// A server serving HTTPS with a certificate from a new CA, the PKI and that CA.
    private func httpsServer() throws -> (TestServer, TestPki, TestPki.Ca, URL) {
        let pki = TestPki(dir: try tempDir("pki"))
        let ours = try pki.ca("ours")
        let (cert, key) = try pki.serverCert(ours, "server")
        let server = try TestServer.start(tlsCert: cert, tlsKey: key)
        return (server, pki, ours, cert)
    }

    func testADeviceGivenThePrivateCAEnrolsAndSyncsOverHTTPS() async throws {
        let (server, _, ours, _) = try httpsServer()
        defer { server.stop() }
        XCTAssertTrue(server.url.hasPrefix("https://"))
        let chief = try await server.enrolled("psc1", tls: TlsOptions(privateCaPem: try ours.pem))
        let worker = try await server.enrolled("gw1", tls: TlsOptions(privateCaPem: try ours.pem))
        let id = try await chief.report(category: Sample.litter, location: Sample.inG1, description: "路口垃圾桶满溢")
        _ = try await chief.forward(id, note: "请网格员处理")
        let pushed = try await chief.syncNow()
        XCTAssertEqual(pushed.pushed, 2)
        _ = try await worker.syncNow()
        let inbox = try await worker.inbox()
        XCTAssertEqual(inbox.map(\.id), [id])
    }

    func testTheWrongCAIsRefusedAsTlsRefusedWithUnknownIssuer() async throws {
        let (server, pki, ours, _) = try httpsServer()
        defer { server.stop() }
        let theirs = try pki.ca("theirs")
        _ = try await server.enrolled("psc1", tls: TlsOptions(privateCaPem: try ours.pem)) // listening now
        let d = try await Xiangying.open(dir: tempDir("cc1-tls"))
        do {
            _ = try await d.enrol(serverUrl: server.url, code: try server.issueCode("cc1"), deviceName: "phone",
                                  tls: TlsOptions(privateCaPem: try theirs.pem))
            XCTFail("a certificate from another CA was accepted")
        } catch let e as ApiError {
            guard case .TlsRefused(let failure, _) = e else { throw e }
            XCTAssertEqual(failure, .unknownIssuer)
            XCTAssertEqual(e.code, .tlsUnknownIssuer)
            XCTAssertTrue(e.message(locale: Locale(identifier: "zh-Hans")).contains("证书"))
        }
        let deviceId = try await d.deviceId()
        XCTAssertNil(deviceId)
        let me = try await d.me()
        XCTAssertNil(me)
        // The bundled roots alone do not know a private CA either.
        do {
            _ = try await d.enrol(serverUrl: server.url, code: try server.issueCode("cc1"), deviceName: "phone")
            XCTFail("a private CA was trusted without being given")
        } catch ApiError.TlsRefused(let failure, _) {
            XCTAssertEqual(failure, .unknownIssuer)
        }
    }

    func testAPinOfTheServersKeyIsAcceptedAndAPinOfAnotherKeyRefused() async throws {
        let (server, pki, ours, cert) = try httpsServer()
        defer { server.stop() }
        let theirs = try pki.ca("theirs")
        let pinned = try await server.enrolled(
            "inf1", tls: TlsOptions(privateCaPem: try ours.pem, pins: [try pki.pin(of: cert)]))
        _ = try await pinned.report(category: Sample.litter, location: Sample.inG1, description: "垃圾满溢")
        let pushed = try await pinned.syncNow()
        XCTAssertEqual(pushed.pushed, 1)
        // The CA's pin, behind a backup pin that matches nothing, is accepted too.
        _ = try await server.enrolled(
            "gw3", tls: TlsOptions(privateCaPem: try ours.pem, pins: [try pki.pin(of: theirs.cert), try pki.pin(of: ours.cert)]))

        let d = try await Xiangying.open(dir: tempDir("cc2-tls"))
        do {
            _ = try await d.enrol(serverUrl: server.url, code: try server.issueCode("cc2"), deviceName: "phone",
                                  tls: TlsOptions(privateCaPem: try ours.pem, pins: [try pki.pin(of: theirs.cert)]))
            XCTFail("a chain without the pinned key was accepted")
        } catch let e as ApiError {
            guard case .TlsRefused(let failure, _) = e else { throw e }
            XCTAssertEqual(failure, .pinMismatch)
            XCTAssertEqual(e.code, .tlsPinMismatch)
        }
        let deviceId = try await d.deviceId()
        XCTAssertNil(deviceId)
    }

    func testBadPEMAndAMalformedPinAreInvalidInputNamingTheirField() async throws {
        let (server, _, ours, _) = try httpsServer()
        defer { server.stop() }
        let d = try await Xiangying.open(dir: tempDir("gw2-tls"))
        let code = try server.issueCode("gw2")
        do {
            _ = try await d.enrol(serverUrl: server.url, code: code, deviceName: "phone",
                                  tls: TlsOptions(privateCaPem: "not a certificate"))
            XCTFail("bad PEM was accepted")
        } catch ApiError.InvalidInput(let field, _) {
            XCTAssertEqual(field, "private_ca_pem")
        }
        do {
            _ = try await d.enrol(serverUrl: server.url, code: code, deviceName: "phone",
                                  tls: TlsOptions(privateCaPem: try ours.pem, pins: ["sha1/AAAA"]))
            XCTFail("a malformed pin was accepted")
        } catch ApiError.InvalidInput(let field, _) {
            XCTAssertEqual(field, "pins")
        }
        // Nothing was used up: the same code still enrols (once the server listens).
        _ = try await server.enrolled("psc1", tls: TlsOptions(privateCaPem: try ours.pem))
        _ = try await d.enrol(serverUrl: server.url, code: code, deviceName: "phone",
                              tls: TlsOptions(privateCaPem: try ours.pem))
    }
}
