// Stable codes and readable messages for the errors of the Xiangying core: every ApiError has
// one ErrorCode (one documented enum, see docs/ERRORS.md; codes are never renamed or reused)
// and a message in Simplified Chinese or English for the person holding the phone. Also the
// platform named in every request's User-Agent, and the core's log lines forwarded to os_log
// (standard error where os_log is not available).
import Foundation
#if canImport(os)
import os
#endif

extension ApiError {
    /// The error's stable code: one per refusal of the rules (`.notHolder`, `.alreadyTaken`,
    /// …), per photo problem (`.photoHeic`, …), per server refusal (`.quarantined`,
    /// `.overLimit`, …), else the case's own. Branch on it; a code this app does not know
    /// means: act on the case.
    public var code: ErrorCode { apiErrorCode(error: self) }

    /// The message for the person holding the phone, in `locale`'s language (Simplified
    /// Chinese for any `zh` locale, English otherwise; the device's locale by default): short,
    /// plain, and saying what to do next. The developer's detail stays in the case's values.
    public func message(locale: Locale = .current) -> String {
        apiErrorMessage(error: self, locale: locale.identifier.replacingOccurrences(of: "_", with: "-"))
    }
}

extension ErrorCode {
    /// The code's stable snake_case name (e.g. `not_holder`), for logs and bug reports.
    public var id: String { errorCodeName(code: self) }
}

/// The platform the app runs on, as the User-Agent names it.
public enum XiangyingPlatform {
    /// This platform and its version: `iOS 18.1` on an iPhone (from `ProcessInfo`), the
    /// operating system's name elsewhere (Kotlin's Android layer: `XiangyingProcess.platform()`).
    public static var current: String {
        let v = ProcessInfo.processInfo.operatingSystemVersion
        #if os(iOS)
        let name = "iOS"
        #elseif os(macOS)
        let name = "macOS"
        #else
        let name = "Linux"
        #endif
        return "\(name) \(v.majorVersion).\(v.minorVersion)" + (v.patchVersion > 0 ? ".\(v.patchVersion)" : "")
    }
}

extension Xiangying {
    /// Names the platform and its version in every request's User-Agent from now on (e.g.
    /// `iOS 18.1`; `open` takes it too). Throws `ApiError.InvalidInput` (field `platform`) for
    /// a value that cannot go in an HTTP header.
    public func setPlatform(_ platform: String) async throws {
        try await run { try $0.setPlatform(platform: platform) }
    }
}

/// Forwards the core's log lines (level, target such as `xiangying::sync`, text). One sink per
/// process; installing again replaces it. Lines carry ids, counts and codes, never tokens or
/// what people wrote.
public enum XiangyingLog {
    /// Sends the core's lines up to `level` to `forward` from now on. `forward` runs on the
    /// core's logging thread, one line at a time; the core never waits for it.
    public static func install(
        level: LogLevel = .info,
        _ forward: @escaping @Sendable (LogLevel, String, String) -> Void
    ) {
        setLogSink(sink: ClosureSink(forward), maxLevel: level)
    }

    /// Sends the core's lines up to `level` to os_log (`Logger(subsystem: "cn.xiangying",
    /// category: target)`), or to standard error where os_log is not available.
    public static func installSystemLog(level: LogLevel = .info) {
        install(level: level) { level, target, message in
            #if canImport(os)
            let logger = Logger(subsystem: "cn.xiangying", category: target)
            switch level {
            case .error: logger.error("\(message, privacy: .public)")
            case .warn: logger.warning("\(message, privacy: .public)")
            case .info: logger.info("\(message, privacy: .public)")
            case .debug, .trace: logger.debug("\(message, privacy: .public)")
            }
            #else
            FileHandle.standardError.write(Data("Xiangying [\(target)] \(level): \(message)\n".utf8))
            #endif
        }
    }

    /// Stops forwarding; logging then costs the core next to nothing.
    public static func uninstall() {
        clearLogSink()
    }
}

/// A `LogSink` over a closure.
private final class ClosureSink: LogSink, Sendable {
    private let forward: @Sendable (LogLevel, String, String) -> Void

    init(_ forward: @escaping @Sendable (LogLevel, String, String) -> Void) {
        self.forward = forward
    }

    func log(level: LogLevel, target: String, message: String) {
        forward(level, target, message)
    }
}
