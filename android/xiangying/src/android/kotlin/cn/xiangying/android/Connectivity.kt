// Connectivity wiring: a ConnectivityManager.NetworkCallback on the default network that
// tells the sync engine "the network is back" when a network with validated internet access
// becomes the default (onAvailable alone comes before validation, and a captive portal's Wi-Fi
// is available but useless). Android-only, not compiled here.
package cn.xiangying.android

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import cn.xiangying.SyncEngine

/**
 * Calls [SyncEngine.connectivityRegained] each time the default network gains validated
 * internet access (a new network, or the same one after losing it). Needs the
 * `ACCESS_NETWORK_STATE` permission (the library's manifest declares it). [start] once the
 * engine runs, [stop] before closing it.
 */
class ConnectivityWatcher(context: Context, private val engine: SyncEngine) {
    private val manager = context.applicationContext.getSystemService(ConnectivityManager::class.java)

    // Touched only on ConnectivityManager's callback thread.
    private var validated: Network? = null
    private var registered = false

    private val callback = object : ConnectivityManager.NetworkCallback() {
        override fun onCapabilitiesChanged(network: Network, caps: NetworkCapabilities) {
            val usable = caps.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET) &&
                caps.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED)
            if (usable && validated != network) {
                validated = network
                engine.connectivityRegained()
            } else if (!usable && validated == network) {
                validated = null
            }
        }

        override fun onLost(network: Network) {
            if (validated == network) validated = null
        }
    }

    /**
     * Registers the callback on the default network. Android calls it at once for the current
     * network, so the engine hears "regained" right after [start] when online (a cheap sync).
     */
    fun start() {
        if (registered) return
        manager.registerDefaultNetworkCallback(callback)
        registered = true
    }

    /** Unregisters the callback. */
    fun stop() {
        if (!registered) return
        manager.unregisterNetworkCallback(callback)
        registered = false
    }
}
