// One sync run by the system in the background (iOS's BGAppRefreshTask, Android's WorkManager
// worker have the same shape) and what its outcome tells the scheduler: done, try again later,
// or stop trying until someone acts. Plain Swift: the decision is tested by XCTest on Linux;
// BackgroundRefresh (iOS only) reports it as the task's success.
import Foundation

/// What a background sync tells the scheduler.
public enum WorkOutcome: Sendable, Equatable {
    /// The sync finished.
    case success
    /// A passing failure (no network, the server overloaded or failing, the task expired).
    case retry
    /// Trying again will not help until someone acts (upgrade, enrol again, a bug).
    case failure
}

/// Refusal codes (decision 0025) that pass by themselves.
private let passingCodes: Set<String> = ["overloaded", "device_busy", "too_many_requests", "internal", "no_org", "conflict"]

/// Refusal codes that a retry cannot cure.
private let lastingCodes: Set<String> = [
    "unauthorised", "quarantined", "tampering", "forbidden", "bad_request", "upgrade_required",
    "server_too_old", "too_large", "over_limit", "expired", "not_found",
]

/// What a background sync that ended with `error` (nil: it succeeded) tells the scheduler.
/// `.retry`: `ApiError.Network`, `.Cancelled` (the task expired), `.Storage`, a Swift
/// `CancellationError`, and `.ServerRejected` with a passing code (`overloaded`, `device_busy`,
/// `too_many_requests`, `internal`, `no_org`, `conflict`) or, for a code this build does not
/// know, a 5xx, 429 or 408 status. `.failure`: `.UpgradeRequired`, `.ServerTooOld`,
/// `.Unauthorised`, `.NotSetUp`, every other refusal and every other error. The same decision
/// as Kotlin's `backgroundSyncOutcome`.
public func backgroundSyncOutcome(_ error: (any Error)?) -> WorkOutcome {
    guard let error else { return .success }
    if error is CancellationError { return .retry }
    guard let api = error as? ApiError else { return .failure }
    switch api {
    case .Network, .Cancelled, .Storage:
        return .retry
    case .ServerRejected(let status, let code, _):
        if passingCodes.contains(code) { return .retry }
        if lastingCodes.contains(code) { return .failure }
        return status >= 500 || status == 429 || status == 408 ? .retry : .failure
    default:
        return .failure
    }
}

extension Xiangying {
    /// Runs one sync for a background scheduler and says what it should do next (see
    /// `backgroundSyncOutcome`). Cancelling the task (the system's expiration handler) stops
    /// the sync at its next step; what it did stays done and the outcome is `.retry`.
    public func backgroundSync() async -> WorkOutcome {
        do {
            _ = try await syncNow()
            return .success
        } catch {
            return backgroundSyncOutcome(error)
        }
    }
}
