// Background sync on iOS through BGAppRefreshTask: register the task's identifier at launch,
// ask for a refresh no earlier than a given time, and when iOS grants one, ask for the next,
// run one sync (`Xiangying.backgroundSync`) and end the task, cancelling the sync if iOS
// expires it first. iOS decides when (and whether) a refresh runs and gives it about 30
// seconds: see ios/README.md. Only where BackgroundTasks exists (iOS, iPadOS, Mac Catalyst,
// tvOS; not macOS or Linux), so nothing here is compiled or run on the project's machines.
#if canImport(BackgroundTasks) && !os(macOS)
import BackgroundTasks
import Foundation

/// Schedules and runs the app's background refresh. The app lists `identifier` under
/// `BGTaskSchedulerPermittedIdentifiers` in its Info.plist, turns on the "Background fetch"
/// background mode, calls `register()` before it finishes launching (in `App.init` or
/// `application(_:didFinishLaunchingWithOptions:)`) and `schedule()` when it goes to the
/// background.
public final class BackgroundRefresh: Sendable {
    /// The task identifier, e.g. `cn.xiangying.sync.refresh`.
    public let identifier: String
    /// The earliest time between two refreshes that `schedule()` asks for (15 minutes by
    /// default; iOS usually waits longer).
    public let interval: TimeInterval
    private let store: @Sendable () async throws -> Xiangying

    /// A refresh under `identifier` that syncs the store `store` hands out (a `StoreHolder`'s,
    /// so that a background launch and the UI share one store).
    public init(identifier: String, interval: TimeInterval = 15 * 60,
                store: @escaping @Sendable () async throws -> Xiangying) {
        self.identifier = identifier
        self.interval = interval
        self.store = store
    }

    /// Registers the launch handler with `BGTaskScheduler`; returns false when iOS refuses
    /// (the identifier is missing from Info.plist). Call once, before launch finishes.
    @discardableResult
    public func register() -> Bool {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { [self] task in
            self.run(TaskHandle(task))
        }
    }

    /// Asks iOS for a refresh no earlier than `after` seconds from now (`interval` by
    /// default); replaces an earlier request of this identifier. Throws `BGTaskScheduler.Error`
    /// (refresh turned off by the user, too many pending requests, unavailable in the
    /// simulator).
    public func schedule(after: TimeInterval? = nil) throws {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: after ?? interval)
        try BGTaskScheduler.shared.submit(request)
    }

    /// Cancels a pending request (the person signed out, the device was revoked).
    public func cancel() {
        BGTaskScheduler.shared.cancel(taskRequestWithIdentifier: identifier)
    }

    private func run(_ handle: TaskHandle) {
        // The next refresh first: a task ends with whatever it asked for.
        try? schedule()
        let open = self.store
        let work = Task {
            let outcome: WorkOutcome
            do {
                let store = try await open()
                outcome = await store.backgroundSync()
            } catch {
                outcome = .failure // the store would not open
            }
            handle.complete(success: outcome == .success)
        }
        // iOS's time is up: the sync stops at its next step (what it did stays) and the task
        // above still ends the BGTask, with success false.
        handle.onExpiration { work.cancel() }
    }
}

/// A BGTask handed across threads: iOS calls the launch and expiration handlers on its own
/// queues and `setTaskCompleted` may be called from any thread; completing twice is avoided.
private final class TaskHandle: @unchecked Sendable {
    private let task: BGTask
    private let lock = NSLock()
    private var completed = false

    init(_ task: BGTask) {
        self.task = task
    }

    func onExpiration(_ body: @escaping @Sendable () -> Void) {
        task.expirationHandler = body
    }

    func complete(success: Bool) {
        lock.lock()
        let first = !completed
        completed = true
        lock.unlock()
        if first {
            task.setTaskCompleted(success: success)
        }
    }
}
#endif
