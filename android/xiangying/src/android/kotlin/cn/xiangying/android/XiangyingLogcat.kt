// The core's log lines in Logcat, under the tag "Xiangying" (`adb logcat -s Xiangying`), each
// prefixed with its target (`xiangying::sync`, `xiangying::engine`, …). Android-only
// (android.util.Log): compiled by the Gradle build, not by the JVM tests.
package cn.xiangying.android

import android.util.Log
import cn.xiangying.XiangyingLog
import cn.xiangying.ffi.LogLevel

/** Forwards the core's log lines to Logcat. */
object XiangyingLogcat {
    /** The Logcat tag. */
    const val TAG = "Xiangying"

    /** Sends the core's lines up to [level] to Logcat (call once, e.g. in `Application.onCreate`). */
    fun install(level: LogLevel = LogLevel.INFO) {
        XiangyingLog.install(level) { l, target, message ->
            Log.println(priority(l), TAG, "[$target] $message")
        }
    }

    private fun priority(level: LogLevel): Int = when (level) {
        LogLevel.ERROR -> Log.ERROR
        LogLevel.WARN -> Log.WARN
        LogLevel.INFO -> Log.INFO
        LogLevel.DEBUG -> Log.DEBUG
        LogLevel.TRACE -> Log.VERBOSE
    }
}
