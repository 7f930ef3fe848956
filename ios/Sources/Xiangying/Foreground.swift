// Foreground wiring: the scene phase turns the engine's foreground mode on and off (periodic
// syncs and the wait on the server's wake-up channel run only in the foreground), and going
// to the background asks for a background refresh, sooner when changes or photos are still
// queued. SwiftUI only; not compiled on the project's machines.
#if canImport(SwiftUI)
import SwiftUI

/// Follows the app's scene phase for a sync engine: `.active` is the foreground, `.background`
/// is not (`.inactive`, a passing state such as the app switcher, changes nothing). Call
/// `scenePhaseChanged(_:)` from `.onChange(of: scenePhase)` of the app's scene.
@MainActor
public final class ForegroundSync {
    private let engine: SyncEngine
    #if canImport(BackgroundTasks) && !os(macOS)
    private let refresh: BackgroundRefresh?

    /// Wires `engine`; with `refresh`, going to the background schedules it (in one minute
    /// when the outbox or upload queue is not empty, else after its interval).
    public init(engine: SyncEngine, refresh: BackgroundRefresh? = nil) {
        self.engine = engine
        self.refresh = refresh
    }
    #else
    /// Wires `engine`.
    public init(engine: SyncEngine) {
        self.engine = engine
    }
    #endif

    /// The scene phase changed to `phase`.
    public func scenePhaseChanged(_ phase: ScenePhase) {
        switch phase {
        case .active:
            engine.setForeground(true)
        case .background:
            engine.setForeground(false)
            #if canImport(BackgroundTasks) && !os(macOS)
            let status = engine.status
            let queued = status.outbox > 0 || status.uploads > 0
            try? refresh?.schedule(after: queued ? 60 : nil)
            #endif
        case .inactive:
            break
        @unknown default:
            break
        }
    }
}
#endif
