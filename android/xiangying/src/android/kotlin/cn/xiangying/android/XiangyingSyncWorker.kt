// Background sync through WorkManager: a CoroutineWorker that opens the process's store and
// runs one sync (cn.xiangying.backgroundSync, whose outcome decision is tested on the JVM),
// a periodic schedule (every 15 minutes, WorkManager's minimum) and a one-time expedited
// request for when the app leaves the foreground with work in the outbox. Both wait for a
// connected network. The system decides when they really run (Doze, App Standby buckets,
// expedited quotas): see android/README.md. Android-only, not compiled here.
package cn.xiangying.android

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.content.Context
import android.os.Build
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.ForegroundInfo
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.OutOfQuotaPolicy
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import cn.xiangying.WorkOutcome
import cn.xiangying.backgroundSync
import java.util.concurrent.TimeUnit

/**
 * One background sync. WorkManager makes it with its default factory (this constructor); the
 * app only schedules it, with [schedulePeriodic] and [syncAfterLeaving].
 */
class XiangyingSyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {

    /** Opens the store (or takes the process's open one), syncs once, and maps the outcome. */
    override suspend fun doWork(): Result {
        // Not enrolled yet is NotSetUp, a failure: the next period asks again.
        return when (XiangyingProcess.store(applicationContext).backgroundSync()) {
            WorkOutcome.SUCCESS -> Result.success()
            WorkOutcome.RETRY -> Result.retry()
            WorkOutcome.FAILURE -> Result.failure()
        }
    }

    /**
     * The notification of an expedited request that Android 11 and older run as a foreground
     * service (Android 12 and later run it as an expedited job and never ask).
     */
    override suspend fun getForegroundInfo(): ForegroundInfo =
        ForegroundInfo(NOTIFICATION_ID, notification(applicationContext))

    companion object {
        /** The unique name of the periodic schedule. */
        const val PERIODIC = "xiangying-sync-periodic"

        /** The unique name of the one-time request. */
        const val ONCE = "xiangying-sync-once"

        private const val CHANNEL = "xiangying-sync"
        private const val NOTIFICATION_ID = 0x5879

        private fun connected(): Constraints =
            Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

        /**
         * Schedules a sync every 15 minutes (WorkManager's minimum period; the system may run
         * it later, in Doze at its maintenance windows) whenever a network is connected. Keeps
         * an existing schedule: call it at every app start.
         */
        fun schedulePeriodic(context: Context) {
            val request = PeriodicWorkRequestBuilder<XiangyingSyncWorker>(15, TimeUnit.MINUTES)
                .setConstraints(connected())
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                .build()
            WorkManager.getInstance(context)
                .enqueueUniquePeriodicWork(PERIODIC, ExistingPeriodicWorkPolicy.KEEP, request)
        }

        /**
         * Asks for one sync as soon as a network is connected, expedited where the app's quota
         * allows (ordinary work otherwise). Call it when the app leaves the foreground with
         * changes or photos still queued; a request already waiting is kept, not doubled.
         */
        fun syncAfterLeaving(context: Context) {
            val request = OneTimeWorkRequestBuilder<XiangyingSyncWorker>()
                .setConstraints(connected())
                .setExpedited(OutOfQuotaPolicy.RUN_AS_NON_EXPEDITED_WORK_REQUEST)
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                .build()
            WorkManager.getInstance(context).enqueueUniqueWork(ONCE, ExistingWorkPolicy.KEEP, request)
        }

        /** Cancels both (the person signed out, the device was revoked). */
        fun cancelAll(context: Context) {
            val wm = WorkManager.getInstance(context)
            wm.cancelUniqueWork(PERIODIC)
            wm.cancelUniqueWork(ONCE)
        }

        private fun notification(context: Context): Notification {
            val builder = if (Build.VERSION.SDK_INT >= 26) {
                val manager = context.getSystemService(NotificationManager::class.java)
                manager.createNotificationChannel(
                    NotificationChannel(CHANNEL, "同步", NotificationManager.IMPORTANCE_LOW),
                )
                Notification.Builder(context, CHANNEL)
            } else {
                @Suppress("DEPRECATION")
                Notification.Builder(context)
            }
            return builder
                .setSmallIcon(android.R.drawable.stat_notify_sync)
                .setContentTitle("正在同步")
                .setOngoing(true)
                .build()
        }
    }
}
