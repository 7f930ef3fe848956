// The one Xiangying store of the app's process, shared by the UI, the sync engine and the
// background refresh task: iOS may launch the app in the background for a refresh before any
// scene exists, and two open stores over one folder would each sync on their own.
import Foundation

/// Opens the app's store once and hands out the same one after that, to any caller.
public actor StoreHolder {
    private let dir: URL
    private let appVersion: String
    private var opening: Task<Xiangying, any Error>?

    /// A holder for the store in `dir`, opened with `appVersion` (the app's
    /// `CFBundleShortVersionString`) on first use.
    public init(dir: URL, appVersion: String) {
        self.dir = dir
        self.appVersion = appVersion
    }

    /// The process's store, opened on first use (callers that arrive while it opens wait for
    /// the same one); a failed open is tried again by the next caller.
    public func store() async throws -> Xiangying {
        if let opening {
            return try await opening.value
        }
        let dir = self.dir
        let appVersion = self.appVersion
        let task = Task { try await Xiangying.open(dir: dir, appVersion: appVersion) }
        opening = task
        do {
            return try await task.value
        } catch {
            opening = nil
            throw error
        }
    }
}
