// The one Xiangying store of the app's process, shared by the UI, the sync engine and the
// background worker: WorkManager may start XiangyingSyncWorker in a process where no screen
// opened the store yet, and two open stores over one folder would each sync on their own.
// Android-only (Context): compiled by the Gradle build, not by the JVM tests.
package cn.xiangying.android

import android.content.Context
import android.os.Build
import cn.xiangying.Xiangying
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import java.io.File

/** Opens the app's store once per process and hands out the same one after that. */
object XiangyingProcess {
    private val lock = Mutex()

    @Volatile
    private var store: Xiangying? = null

    /** The store's folder inside the app's private files. */
    fun dataDir(context: Context): File = File(context.applicationContext.filesDir, "xiangying")

    /**
     * The process's store, opened on first use in [dataDir] with the app's `versionName` as
     * its app version and `Android <release>` as its platform (both in the User-Agent). Kept
     * open for the life of the process.
     */
    suspend fun store(context: Context): Xiangying {
        store?.let { return it }
        return lock.withLock {
            store ?: Xiangying.open(
                dataDir(context),
                appVersion = versionName(context),
                platform = platform(),
            ).also { store = it }
        }
    }

    /** `Android <release>`, kept to what an HTTP header's comment may carry. */
    fun platform(): String {
        val release = Build.VERSION.RELEASE.orEmpty()
            .filter { it in ' '..'~' && it != '(' && it != ')' && it != '\\' }
            .take(48)
        return "Android $release".trim()
    }

    private fun versionName(context: Context): String {
        val pm = context.packageManager
        val name = context.packageName
        val info = if (Build.VERSION.SDK_INT >= 33) {
            pm.getPackageInfo(name, android.content.pm.PackageManager.PackageInfoFlags.of(0))
        } else {
            @Suppress("DEPRECATION")
            pm.getPackageInfo(name, 0)
        }
        return info.versionName ?: "dev"
    }
}
