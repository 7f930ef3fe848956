// What a screen shows of the sync engine: its EngineStatus turned into a kind, a Chinese label
// (空闲, 同步中, 离线, 等待重试 (code), 需要升级, 已停止), a line of detail, the queue sizes
// (with the photo files this phone cannot send) and the time of the last success. Plain
// Kotlin, no Android types: tested on the JVM, used by the sample app's Compose screen.
package cn.xiangying

import cn.xiangying.ffi.EngineState
import cn.xiangying.ffi.EngineStatus
import cn.xiangying.ffi.SyncPhase
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import java.util.TimeZone

/** What the engine is doing, without its details: for an icon or a colour. */
enum class SyncActivity {
    /** Nothing to do until the next trigger. */
    IDLE,

    /** A sync is running. */
    SYNCING,

    /** The server could not be reached; the engine tries again by itself. */
    OFFLINE,

    /** The server refused or failed; the engine tries again by itself. */
    WAITING_TO_RETRY,

    /** The app or the server must be upgraded; no retries until then. */
    UPGRADE_REQUIRED,

    /** The engine was stopped. */
    STOPPED,
}

/**
 * The engine's status as a screen shows it.
 *
 * [label] is the short state in Chinese; [detail] says more where there is more to say (the
 * progress of a sync, what failed, which side to upgrade); [retryInMs] is the wait before the
 * next try as the engine reported it (it does not count down).
 */
data class SyncDisplay(
    /** The kind of state. */
    val activity: SyncActivity,
    /** 空闲, 同步中, 离线, 等待重试 (code), 需要升级 or 已停止. */
    val label: String,
    /** One line more, or null. */
    val detail: String?,
    /** Until the next try (offline or waiting to retry), as reported; null otherwise. */
    val retryInMs: Long?,
    /** Changes waiting for the server. */
    val outbox: Long,
    /** Photo files waiting to upload. */
    val uploads: Long,
    /** When the last sync succeeded (ms since the epoch, device clock), if one has. */
    val lastSuccessMs: Long?,
    /**
     * Of [uploads], the files the last sync could not send because their copy on this phone is
     * missing or damaged: the idle detail says so, since no sync will send them as they are.
     */
    val uploadsUnreadable: Long = 0,
) {
    /** 已同步 HH:mm:ss (today in [zone]) or 已同步 M月d日 HH:mm, or 尚未同步. */
    fun lastSuccessText(zone: TimeZone = TimeZone.getDefault(), nowMs: Long = System.currentTimeMillis()): String =
        lastSuccessMs?.let { "已同步 " + clockTime(it, zone, nowMs) } ?: "尚未同步"
}

/** The status as a screen shows it (see [SyncDisplay]). */
fun EngineStatus.toDisplay(): SyncDisplay {
    val outbox = outbox.toLong()
    val uploads = uploads.toLong()
    val unreadable = uploadsUnreadable.toLong()
    fun of(activity: SyncActivity, label: String, detail: String?, retryInMs: Long? = null) =
        SyncDisplay(activity, label, detail, retryInMs, outbox, uploads, lastSuccessMs, unreadable)
    return when (val s = state) {
        EngineState.Idle -> of(
            SyncActivity.IDLE,
            "空闲",
            if (unreadable > 0) "$unreadable 个照片文件在本机已损坏或丢失，无法上传" else null,
        )
        is EngineState.Syncing -> {
            val r = s.report
            val step = when (r.phase) {
                null -> "开始"
                SyncPhase.EXCHANGING -> "交换数据"
                SyncPhase.UPLOADING_PHOTOS -> "上传照片"
                SyncPhase.DONE -> "完成"
            }
            of(SyncActivity.SYNCING, "同步中", "$step：上传 ${r.pushed}，下载 ${r.pulled}，照片 ${r.photosUploaded}")
        }
        is EngineState.Offline -> of(SyncActivity.OFFLINE, "离线", s.reason, s.retryInMs.toLong())
        is EngineState.WaitingToRetry ->
            of(SyncActivity.WAITING_TO_RETRY, "等待重试 (${s.code})", s.reason, s.retryInMs.toLong())
        is EngineState.UpgradeRequired -> of(
            SyncActivity.UPGRADE_REQUIRED,
            "需要升级",
            if (s.code == "server_too_old") "服务器版本过旧，请联系管理员升级" else "请更新应用",
        )
        EngineState.Stopped -> of(SyncActivity.STOPPED, "已停止", null)
    }
}

private fun clockTime(ms: Long, zone: TimeZone, nowMs: Long): String {
    fun format(pattern: String, at: Long) =
        SimpleDateFormat(pattern, Locale.ROOT).apply { timeZone = zone }.format(Date(at))
    val sameDay = format("yyyyMMdd", ms) == format("yyyyMMdd", nowMs)
    return format(if (sameDay) "HH:mm:ss" else "M月d日 HH:mm", ms)
}
