// What a screen shows of the sync engine: its EngineStatus turned into a kind, a Chinese label
// (空闲, 同步中, 离线, 等待重试 (code), 需要升级, 已停止), a line of detail, the queue sizes
// (with the photo files this phone cannot send) and the time of the last success. Plain Swift
// with Foundation: tested by XCTest on Linux too, used by the sample; the same model as
// Kotlin's SyncDisplay.
import Foundation

/// What the engine is doing, without its details: for an icon or a colour.
public enum SyncActivity: Sendable, Equatable {
    /// Nothing to do until the next trigger.
    case idle
    /// A sync is running.
    case syncing
    /// The server could not be reached; the engine tries again by itself.
    case offline
    /// The server refused or failed; the engine tries again by itself.
    case waitingToRetry
    /// The app or the server must be upgraded; no retries until then.
    case upgradeRequired
    /// The engine was stopped.
    case stopped
}

/// The engine's status as a screen shows it. `label` is the short state in Chinese; `detail`
/// says more where there is more to say (a sync's progress, what failed, which side to
/// upgrade); `retryInMs` is the wait before the next try as the engine reported it (it does
/// not count down).
public struct SyncDisplay: Sendable, Equatable {
    /// The kind of state.
    public let activity: SyncActivity
    /// 空闲, 同步中, 离线, 等待重试 (code), 需要升级 or 已停止.
    public let label: String
    /// One line more, or nil.
    public let detail: String?
    /// Until the next try (offline or waiting to retry), as reported; nil otherwise.
    public let retryInMs: UInt64?
    /// Changes waiting for the server.
    public let outbox: UInt64
    /// Photo files waiting to upload.
    public let uploads: UInt64
    /// When the last sync succeeded (ms since the epoch, device clock), if one has.
    public let lastSuccessMs: Int64?
    /// Of `uploads`, the files the last sync could not send because their copy on this phone is
    /// missing or damaged: the idle detail says so, since no sync will send them as they are.
    public let uploadsUnreadable: UInt64

    /// The last success as a `Date`, if one has.
    public var lastSuccess: Date? {
        lastSuccessMs.map { Date(timeIntervalSince1970: TimeInterval($0) / 1000) }
    }

    /// 已同步 HH:mm:ss (the same day as `now` in `timeZone`) or 已同步 M月d日 HH:mm, or 尚未同步.
    public func lastSuccessText(timeZone: TimeZone = .current, now: Date = Date()) -> String {
        guard let last = lastSuccess else { return "尚未同步" }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = calendar.isDate(last, inSameDayAs: now) ? "HH:mm:ss" : "M月d日 HH:mm"
        return "已同步 " + formatter.string(from: last)
    }
}

extension EngineStatus {
    /// The status as a screen shows it (see `SyncDisplay`).
    public var display: SyncDisplay {
        func of(_ activity: SyncActivity, _ label: String, _ detail: String?, retryInMs: UInt64? = nil) -> SyncDisplay {
            SyncDisplay(activity: activity, label: label, detail: detail, retryInMs: retryInMs,
                        outbox: outbox, uploads: uploads, lastSuccessMs: lastSuccessMs,
                        uploadsUnreadable: uploadsUnreadable)
        }
        switch state {
        case .idle:
            return of(.idle, "空闲", uploadsUnreadable > 0 ? "\(uploadsUnreadable) 个照片文件在本机已损坏或丢失，无法上传" : nil)
        case .syncing(let r):
            let step: String
            switch r.phase {
            case nil: step = "开始"
            case .exchanging?: step = "交换数据"
            case .uploadingPhotos?: step = "上传照片"
            case .done?: step = "完成"
            }
            return of(.syncing, "同步中", "\(step)：上传 \(r.pushed)，下载 \(r.pulled)，照片 \(r.photosUploaded)")
        case .offline(let retryInMs, let reason):
            return of(.offline, "离线", reason, retryInMs: retryInMs)
        case .waitingToRetry(let retryInMs, let code, let reason):
            return of(.waitingToRetry, "等待重试 (\(code))", reason, retryInMs: retryInMs)
        case .upgradeRequired(let code):
            return of(.upgradeRequired, "需要升级", code == "server_too_old" ? "服务器版本过旧，请联系管理员升级" : "请更新应用")
        case .stopped:
            return of(.stopped, "已停止", nil)
        }
    }
}
