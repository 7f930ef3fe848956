// Records a patrol's track with the screen off: a foreground service of type `location`
// (Android 14 rules: FOREGROUND_SERVICE_LOCATION in the manifest, a location permission granted,
// started while the app is visible, so ACCESS_BACKGROUND_LOCATION is not needed), an ongoing
// notification, and location updates from the platform's LocationManager (the built-in fused
// provider where the phone has one, else GPS; not Google's FusedLocationProviderClient, which
// needs Google Play services that most phones in mainland China lack). Fixes are collected and
// handed to Xiangying.recordTrack in batches; ending the patrol flushes the last batch and
// calls endPatrol. Written against the Android and androidx APIs; not compiled here (no
// Android SDK on the project's machines).
package cn.xiangying.sample

import android.Manifest
import android.annotation.SuppressLint
import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.content.pm.ServiceInfo
import android.location.Location
import android.location.LocationManager
import android.os.Build
import android.os.IBinder
import android.os.SystemClock
import android.util.Log
import androidx.core.app.NotificationCompat
import androidx.core.app.ServiceCompat
import androidx.core.content.ContextCompat
import androidx.core.location.LocationListenerCompat
import androidx.core.location.LocationManagerCompat
import androidx.core.location.LocationRequestCompat
import cn.xiangying.Xiangying
import cn.xiangying.android.XiangyingProcess
import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.TrackPoint
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull

/**
 * The foreground service that feeds one patrol's fixes to the core. Start it with [start] from
 * a visible activity once the location permission is granted; [end] ends the patrol. If the
 * system kills the process, the service is not restarted (a restart would be a start from the
 * background, without location access); the patrol stays under way in the store and
 * `activePatrol()` tells the app to offer "继续记录" when it is opened again.
 */
class PatrolTrackingService : Service() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    // Fixes waiting for the next batch; touched on the main thread and the pump's, under its lock.
    private val pending = ArrayList<TrackPoint>()
    // Wakes the pump early: a full batch, or the end. Conflated: a lost wake-up is harmless.
    private val wake = Channel<Unit>(Channel.CONFLATED)
    @Volatile private var ending = false
    private lateinit var locations: LocationManager
    private var patrolId: String? = null
    private var lastAtMs = 0L

    // Called on the main thread (ContextCompat.getMainExecutor); only buffers the fix.
    private val listener = LocationListenerCompat { location -> onFix(location) }

    override fun onBind(intent: Intent?): IBinder? = null

    override fun onCreate() {
        super.onCreate()
        locations = getSystemService(LocationManager::class.java)
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        when (intent?.action) {
            ACTION_RECORD -> {
                val id = intent.getStringExtra(EXTRA_PATROL)
                val startedAt = intent.getLongExtra(EXTRA_STARTED_AT, 0L)
                if (id == null || !hasLocationPermission()) {
                    stopSelf(startId)
                    return START_NOT_STICKY
                }
                // First, within the few seconds Android allows after startForegroundService.
                try {
                    ServiceCompat.startForeground(this, NOTIFICATION_ID, notification(), foregroundType())
                } catch (e: RuntimeException) {
                    // Started from the background (ForegroundServiceStartNotAllowedException) or
                    // without the permission the type needs (SecurityException).
                    Log.w(TAG, "cannot record in the foreground", e)
                    stopSelf(startId)
                    return START_NOT_STICKY
                }
                if (patrolId == null) {
                    patrolId = id
                    lastAtMs = startedAt
                    runningState.value = id
                    requestUpdates()
                    scope.launch { pump(XiangyingProcess.store(applicationContext), id) }
                }
            }
            ACTION_END -> {
                // Stop listening; the pump flushes what is left, ends the patrol and stops us.
                LocationManagerCompat.removeUpdates(locations, listener)
                ending = true
                wake.trySend(Unit)
                if (patrolId == null) stopSelf(startId)
            }
            else -> stopSelf(startId)
        }
        return START_NOT_STICKY
    }

    override fun onDestroy() {
        LocationManagerCompat.removeUpdates(locations, listener)
        runningState.value = null
        scope.cancel()
        super.onDestroy()
    }

    private fun hasLocationPermission(): Boolean =
        ContextCompat.checkSelfPermission(this, Manifest.permission.ACCESS_FINE_LOCATION) ==
            PackageManager.PERMISSION_GRANTED

    private fun foregroundType(): Int =
        if (Build.VERSION.SDK_INT >= 29) ServiceInfo.FOREGROUND_SERVICE_TYPE_LOCATION else 0

    /**
     * One fix every [FIX_INTERVAL_MS] at high accuracy, delivered at most [MAX_DELAY_MS] late
     * (the location hardware may batch them while the screen is off, which saves waking the
     * application processor for every fix).
     */
    @SuppressLint("MissingPermission") // checked in onStartCommand
    private fun requestUpdates() {
        val provider = if (Build.VERSION.SDK_INT >= 31 && locations.hasProvider(LocationManager.FUSED_PROVIDER)) {
            LocationManager.FUSED_PROVIDER
        } else {
            LocationManager.GPS_PROVIDER
        }
        val request = LocationRequestCompat.Builder(FIX_INTERVAL_MS)
            .setQuality(LocationRequestCompat.QUALITY_HIGH_ACCURACY)
            .setMinUpdateIntervalMillis(FIX_INTERVAL_MS / 2)
            .setMaxUpdateDelayMillis(MAX_DELAY_MS)
            .build()
        LocationManagerCompat.requestLocationUpdates(
            locations, provider, request, ContextCompat.getMainExecutor(this), listener,
        )
    }

    /**
     * Turns a fix into a [TrackPoint] on the device clock (the core compares fixes with the
     * patrol's start, which is device time; a fix's own `time` is the satellite clock's) and
     * drops what the core would refuse: a fix before the start or going back in time. The
     * location service gives WGS-84, the datum the core stores.
     */
    private fun onFix(location: Location) {
        val ageMs = (SystemClock.elapsedRealtimeNanos() - location.elapsedRealtimeNanos) / 1_000_000
        val atMs = System.currentTimeMillis() - ageMs.coerceAtLeast(0)
        if (atMs < lastAtMs || (location.hasAccuracy() && location.accuracy > MAX_ACCURACY_M)) return
        lastAtMs = atMs
        val accuracy = if (location.hasAccuracy()) location.accuracy.toDouble() else 0.0
        val full = synchronized(pending) {
            pending += TrackPoint(atMs = atMs, lon = location.longitude, lat = location.latitude, accuracyM = accuracy)
            pending.size >= BATCH_FIXES
        }
        if (full) wake.trySend(Unit)
    }

    /**
     * Hands the fixes to the core in batches: every [BATCH_MS] or [BATCH_FIXES] fixes, whichever
     * comes first (each batch is one small SQLite write; the core packs 120 fixes into one
     * document change). After [end] it records the rest, ends the patrol and stops the service.
     */
    private suspend fun pump(store: Xiangying, id: String) {
        while (true) {
            withTimeoutOrNull(BATCH_MS) { wake.receive() }
            val last = ending
            val batch = synchronized(pending) { pending.toList().also { pending.clear() } }
            record(store, id, batch)
            if (last) break
        }
        try {
            store.endPatrol(id)
        } catch (e: ApiException) {
            Log.w(TAG, "ending patrol $id failed", e)
        }
        ServiceCompat.stopForeground(this, ServiceCompat.STOP_FOREGROUND_REMOVE)
        stopSelf()
    }

    private suspend fun record(store: Xiangying, id: String, batch: List<TrackPoint>) {
        if (batch.isEmpty()) return
        try {
            store.recordTrack(id, batch)
        } catch (e: ApiException.InvalidInput) {
            // One bad fix refuses its batch (`track point #i`); the next batch goes on.
            Log.w(TAG, "batch of ${batch.size} fixes refused: ${e.problem}")
        } catch (e: ApiException) {
            Log.w(TAG, "recording ${batch.size} fixes failed", e)
        }
    }

    private fun notification(): Notification {
        val manager = getSystemService(NotificationManager::class.java)
        if (Build.VERSION.SDK_INT >= 26) {
            manager.createNotificationChannel(
                NotificationChannel(CHANNEL, "巡查轨迹", NotificationManager.IMPORTANCE_LOW),
            )
        }
        val open = PendingIntent.getActivity(
            this, 0, Intent(this, MainActivity::class.java),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
        return NotificationCompat.Builder(this, CHANNEL)
            .setSmallIcon(android.R.drawable.ic_menu_mylocation)
            .setContentTitle("巡查中")
            .setContentText("正在记录巡查轨迹，结束巡查后停止")
            .setContentIntent(open)
            .setOngoing(true)
            .setForegroundServiceBehavior(NotificationCompat.FOREGROUND_SERVICE_IMMEDIATE)
            .build()
    }

    companion object {
        private const val TAG = "PatrolTracking"
        private const val ACTION_RECORD = "cn.xiangying.sample.patrol.RECORD"
        private const val ACTION_END = "cn.xiangying.sample.patrol.END"
        private const val EXTRA_PATROL = "patrol"
        private const val EXTRA_STARTED_AT = "startedAt"
        private const val CHANNEL = "xiangying-patrol"
        private const val NOTIFICATION_ID = 0x5870

        /** A fix every 10 s: see android/README.md, "Background patrols", for the trade-off. */
        const val FIX_INTERVAL_MS = 10_000L

        /** How late the location service may deliver a fix, so that it can batch them. */
        const val MAX_DELAY_MS = 30_000L

        /** A batch for the core every 30 s … */
        const val BATCH_MS = 30_000L

        /** … or every 12 fixes, whichever comes first. */
        const val BATCH_FIXES = 12

        /** Fixes less accurate than this are dropped (a phone indoors, a cold start). */
        const val MAX_ACCURACY_M = 100f

        /** The patrol being recorded in this process, or null: for the screen. */
        private val runningState = MutableStateFlow<String?>(null)
        val running: StateFlow<String?> = runningState.asStateFlow()

        /**
         * Starts recording [patrolId] (started at [startedAtMs], device clock). Call from a
         * visible activity, with ACCESS_FINE_LOCATION granted (and, on Android 13 and later,
         * POST_NOTIFICATIONS, or the notification only shows in the task manager).
         */
        fun start(context: Context, patrolId: String, startedAtMs: Long) {
            val intent = Intent(context, PatrolTrackingService::class.java)
                .setAction(ACTION_RECORD)
                .putExtra(EXTRA_PATROL, patrolId)
                .putExtra(EXTRA_STARTED_AT, startedAtMs)
            ContextCompat.startForegroundService(context, intent)
        }

        /** Stops recording, records the last fixes and ends the patrol. */
        fun end(context: Context) {
            context.startService(Intent(context, PatrolTrackingService::class.java).setAction(ACTION_END))
        }
    }
}
