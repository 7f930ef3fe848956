// The core's log lines in the app: XiangyingLog.install hands every line (level, target such
// as `xiangying::sync`, text) to a Kotlin function. The Android layer's XiangyingLogcat
// forwards them to Logcat; a JVM program or test forwards them where it likes. One sink per
// process; installing again replaces it. Lines carry ids, counts and codes, never tokens or
// what people wrote.
package cn.xiangying

import cn.xiangying.ffi.LogLevel
import cn.xiangying.ffi.LogSink
import cn.xiangying.ffi.clearLogSink
import cn.xiangying.ffi.setLogSink

/** Forwards the core's log lines to Kotlin. */
object XiangyingLog {
    /**
     * Sends the core's lines up to [level] to [forward] from now on, replacing the function
     * installed before. [forward] runs on the core's logging thread, one line at a time; the
     * core never waits for it, and a [forward] that throws loses that line only.
     */
    fun install(level: LogLevel = LogLevel.INFO, forward: (level: LogLevel, target: String, message: String) -> Unit) {
        setLogSink(
            object : LogSink {
                override fun log(level: LogLevel, target: String, message: String) {
                    runCatching { forward(level, target, message) }
                }
            },
            level,
        )
    }

    /** Stops forwarding; logging then costs the core next to nothing. */
    fun uninstall() = clearLogSink()
}
