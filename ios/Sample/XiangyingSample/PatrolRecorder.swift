// Records a patrol's track with the screen off, iOS 17 and later: CLLocationUpdate.liveUpdates
// gives the fixes, a CLBackgroundActivitySession started while the app is visible keeps them
// coming in the background (with "Location updates" under UIBackgroundModes; iOS shows the blue
// location indicator meanwhile), and the fixes go to Xiangying.recordTrack in batches. Only
// "when in use" authorization is asked for: the patrol always starts from the visible app.
// For iOS 16 and older the same is CLLocationManager with allowsBackgroundLocationUpdates (see
// ios/README.md, "Background patrols"). Part of the sample app, not of the package; checked for
// syntax here, not compiled (no Swift toolchain on the project's machines).
import CoreLocation
import Foundation
import Xiangying

/// Feeds one patrol's fixes to the core while it is recorded, in the foreground and, through
/// the background activity session, with the screen off.
@MainActor
final class PatrolRecorder {
    /// One fix kept every this many seconds (see ios/README.md, "Background patrols").
    static let fixInterval: TimeInterval = 10
    /// A batch for the core every this many seconds…
    static let batchInterval: TimeInterval = 30
    /// …or every this many fixes, whichever comes first.
    static let batchFixes = 12
    /// Fixes less accurate than this (metres) are dropped: indoors, a cold start.
    static let maxAccuracy: CLLocationAccuracy = 100

    /// The patrol being recorded, or nil.
    private(set) var recording: String?

    // Kept for the life of the recorder: the authorization prompt needs a live manager.
    private let manager = CLLocationManager()
    private var session: CLBackgroundActivitySession?
    private var task: Task<Void, Never>?

    /// Asks for "while using" location access once.
    func requestAuthorization() {
        if manager.authorizationStatus == .notDetermined {
            manager.requestWhenInUseAuthorization()
        }
    }

    /// Starts recording `patrolId` (started at `startedAtMs`, device clock). Call while the app
    /// is in the foreground: a background activity session can only be started there.
    func start(store: Xiangying, patrolId: String, startedAtMs: Int64) {
        guard task == nil else { return }
        requestAuthorization()
        session = CLBackgroundActivitySession()
        recording = patrolId
        task = Task {
            await Self.record(store: store, patrolId: patrolId, startedAtMs: startedAtMs)
        }
    }

    /// Stops the updates, records the fixes still waiting, and ends the background session.
    /// The caller ends the patrol itself (`endPatrol`) afterwards.
    func stop() async {
        task?.cancel()
        await task?.value
        task = nil
        session?.invalidate()
        session = nil
        recording = nil
    }

    /// Reads the live updates until cancelled. A fix is kept when it is accurate enough, at
    /// least `fixInterval` after the last kept one, and not before it in time (the core refuses
    /// a batch whose times go back); `CLLocation.timestamp` is the device clock, as the core
    /// expects, and its coordinates are WGS-84, the datum the core stores.
    private static func record(store: Xiangying, patrolId: String, startedAtMs: Int64) async {
        var batch: [TrackPoint] = []
        var lastKeptMs: Int64?
        var flushAt = Date().addingTimeInterval(batchInterval)
        do {
            // `.fitness`: walking; iOS pauses updates while the walker stands still.
            for try await update in CLLocationUpdate.liveUpdates(.fitness) {
                guard let location = update.location else { continue }
                let accuracy = location.horizontalAccuracy
                guard accuracy >= 0, accuracy <= maxAccuracy else { continue }
                let atMs = Int64((location.timestamp.timeIntervalSince1970 * 1000).rounded())
                guard atMs >= startedAtMs else { continue }
                if let last = lastKeptMs, atMs < last + Int64(fixInterval * 1000) { continue }
                lastKeptMs = atMs
                batch.append(TrackPoint(atMs: atMs, lon: location.coordinate.longitude,
                                        lat: location.coordinate.latitude, accuracyM: accuracy, datum: .wgs84))
                if batch.count >= batchFixes || Date() >= flushAt {
                    await flush(store, patrolId, &batch)
                    flushAt = Date().addingTimeInterval(batchInterval)
                }
            }
        } catch {
            // Cancelled (recording stopped) or the location service failed: keep what is here.
        }
        await flush(store, patrolId, &batch)
    }

    /// Hands the batch to the core (one small SQLite write) and empties it. One bad fix
    /// refuses its whole batch (`ApiError.InvalidInput`, field `track`); the next goes on.
    private static func flush(_ store: Xiangying, _ patrolId: String, _ batch: inout [TrackPoint]) async {
        guard !batch.isEmpty else { return }
        let points = batch
        batch.removeAll()
        do {
            _ = try await store.recordTrack(patrolId, points: points)
        } catch {
            print("a batch of \(points.count) fixes was not recorded: \(error)")
        }
    }
}
