// Connectivity wiring: an NWPathMonitor that tells the sync engine "the network is back" when
// the path becomes satisfied after it was not. The edge detection (ConnectivityEdge) is plain
// Swift, tested by XCTest on Linux; the monitor only exists where the Network framework does.
import Foundation
#if canImport(Network)
import Network
#endif

/// Says when a path that was not satisfied becomes satisfied: the moment to call
/// `connectivityRegained()`. The first path seen only sets the state (the engine syncs when it
/// starts anyway).
public struct ConnectivityEdge: Sendable, Equatable {
    private var satisfied: Bool?

    /// No path seen yet.
    public init() {}

    /// Takes the path's state now; true when it just became satisfied.
    public mutating func update(satisfied now: Bool) -> Bool {
        defer { satisfied = now }
        return now && satisfied == false
    }
}

#if canImport(Network)
/// Calls `SyncEngine.connectivityRegained()` each time the device's network path becomes
/// satisfied again. `start()` once the engine runs, `stop()` before stopping it (a stopped
/// watcher cannot be started again: make a new one).
public final class NetworkWatcher: @unchecked Sendable {
    private let monitor = NWPathMonitor()
    private let queue = DispatchQueue(label: "cn.xiangying.network")
    private let engine: SyncEngine
    // Only touched on `queue` (the monitor calls its handler there).
    private var edge = ConnectivityEdge()

    /// A watcher for `engine`.
    public init(engine: SyncEngine) {
        self.engine = engine
    }

    /// Starts monitoring on a queue of its own.
    public func start() {
        monitor.pathUpdateHandler = { [weak self] path in
            self?.pathChanged(satisfied: path.status == .satisfied)
        }
        monitor.start(queue: queue)
    }

    /// Stops monitoring for good.
    public func stop() {
        monitor.cancel()
    }

    private func pathChanged(satisfied: Bool) {
        if edge.update(satisfied: satisfied) {
            engine.connectivityRegained()
        }
    }
}
#endif
