// Lifecycle wiring: the whole app's foreground (ProcessLifecycleOwner, not one activity)
// turns the engine's foreground mode on and off (periodic syncs and the wait on the server's
// wake-up channel run only in the foreground), and leaving the foreground with changes or
// photos still queued asks WorkManager for one sync. Android-only, not compiled here.
package cn.xiangying.android

import android.content.Context
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import cn.xiangying.SyncEngine

/**
 * Calls [SyncEngine.setForeground] with `true` when the app's first activity starts and
 * `false` when its last one stops; on stop, [XiangyingSyncWorker.syncAfterLeaving] when the
 * outbox or the upload queue is not empty.
 */
class AppForegroundObserver(context: Context, private val engine: SyncEngine) : DefaultLifecycleObserver {
    private val app = context.applicationContext

    override fun onStart(owner: LifecycleOwner) {
        engine.setForeground(true)
    }

    override fun onStop(owner: LifecycleOwner) {
        engine.setForeground(false)
        val status = engine.status.value
        if (status.outbox > 0uL || status.uploads > 0uL) XiangyingSyncWorker.syncAfterLeaving(app)
    }

    /** Adds this observer to the process's lifecycle; call on the main thread. */
    fun install() {
        ProcessLifecycleOwner.get().lifecycle.addObserver(this)
    }

    /** Removes it again; call on the main thread. */
    fun uninstall() {
        ProcessLifecycleOwner.get().lifecycle.removeObserver(this)
    }
}

/**
 * Everything one app wires around its engine: [ConnectivityWatcher], [AppForegroundObserver]
 * and the periodic background sync. Make it on the main thread after starting the engine;
 * [close] it before closing the engine.
 */
class SyncWiring(context: Context, engine: SyncEngine) : AutoCloseable {
    private val network = ConnectivityWatcher(context, engine)
    private val foreground = AppForegroundObserver(context, engine)

    init {
        network.start()
        foreground.install()
        XiangyingSyncWorker.schedulePeriodic(context)
    }

    /** Unregisters the callbacks; the periodic schedule stays (it outlives the process). */
    override fun close() {
        foreground.uninstall()
        network.stop()
    }
}
