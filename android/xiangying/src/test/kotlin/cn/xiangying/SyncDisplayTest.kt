// The engine's status as a screen shows it (SyncDisplay): every state's label from values, and
// the labels a real engine's StateFlow goes through: offline on a device that has no server
// yet, idle with a last success against a real server, waiting to retry (unauthorised) once
// the server revoked the device, stopped after close.
package cn.xiangying

import cn.xiangying.ffi.EngineConfig
import cn.xiangying.ffi.EngineState
import cn.xiangying.ffi.EngineStatus
import cn.xiangying.ffi.SyncPhase
import cn.xiangying.ffi.SyncReport
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.TimeZone

class SyncDisplayTest : WithServer() {
    /** Short pacing, no wake-up channel: the tests wait on states, not on time. */
    private val fast = EngineConfig(
        debounceMs = 20uL, foregroundPeriodMs = null, backoffBaseMs = 50uL, backoffMaxMs = 200uL,
        waitForNews = false,
    )

    private fun status(state: EngineState, last: Long? = null) = EngineStatus(state, 3uL, 2uL, last)

    @Test
    fun `every state has its label, detail and retry time`() {
        val idle = status(EngineState.Idle).toDisplay()
        assertEquals(SyncActivity.IDLE, idle.activity)
        assertEquals("空闲", idle.label)
        assertNull(idle.detail)
        assertNull(idle.retryInMs)
        assertEquals(3L, idle.outbox)
        assertEquals(2L, idle.uploads)
        assertEquals(0L, idle.uploadsUnreadable)
        // Files this phone cannot send: the idle line says so.
        val stuck = EngineStatus(EngineState.Idle, 0uL, 2uL, null, uploadsUnreadable = 1uL).toDisplay()
        assertEquals("空闲", stuck.label)
        assertEquals("1 个照片文件在本机已损坏或丢失，无法上传", stuck.detail)
        assertEquals(1L, stuck.uploadsUnreadable)

        val report = SyncReport(
            phase = SyncPhase.UPLOADING_PHOTOS, roundTrips = 1u, pushed = 4uL, pulled = 5uL,
            photosUploaded = 1uL, bytesSent = 100uL, bytesReceived = 200uL, serverRestored = false,
        )
        val syncing = status(EngineState.Syncing(report)).toDisplay()
        assertEquals(SyncActivity.SYNCING, syncing.activity)
        assertEquals("同步中", syncing.label)
        assertEquals("上传照片：上传 4，下载 5，照片 1", syncing.detail)

        val offline = status(EngineState.Offline(1500uL, "connection refused")).toDisplay()
        assertEquals(SyncActivity.OFFLINE, offline.activity)
        assertEquals("离线", offline.label)
        assertEquals("connection refused", offline.detail)
        assertEquals(1500L, offline.retryInMs)

        val waiting = status(EngineState.WaitingToRetry(3000uL, "overloaded", "busy")).toDisplay()
        assertEquals(SyncActivity.WAITING_TO_RETRY, waiting.activity)
        assertEquals("等待重试 (overloaded)", waiting.label)
        assertEquals(3000L, waiting.retryInMs)

        val app = status(EngineState.UpgradeRequired("upgrade_required")).toDisplay()
        assertEquals(SyncActivity.UPGRADE_REQUIRED, app.activity)
        assertEquals("需要升级", app.label)
        assertEquals("请更新应用", app.detail)
        assertEquals("服务器版本过旧，请联系管理员升级", status(EngineState.UpgradeRequired("server_too_old")).toDisplay().detail)

        assertEquals("已停止", status(EngineState.Stopped).toDisplay().label)
    }

    @Test
    fun `the last success reads as a clock time today and as a date before`() {
        val shanghai = TimeZone.getTimeZone("Asia/Shanghai")
        val at = 1_780_000_000_000L // 2026-05-29 04:26:40 +08:00
        assertEquals("尚未同步", status(EngineState.Idle).toDisplay().lastSuccessText(shanghai, at))
        val d = status(EngineState.Idle, last = at).toDisplay()
        assertEquals("已同步 04:26:40", d.lastSuccessText(shanghai, at + 60_000))
        assertEquals("已同步 5月29日 04:26", d.lastSuccessText(shanghai, at + 86_400_000))
    }

    @Test
    fun `an engine without a server is offline and counts the outbox`() = runBlocking {
        val d = deviceOf("psc1") // the sample street, no server
        d.report(Sample.LITTER, Sample.IN_G1, "路口垃圾桶满溢")
        val engine = d.startSyncEngine(fast)
        val offline = withTimeout(60_000) {
            engine.status.first { it.state is EngineState.Offline }
        }.toDisplay()
        assertEquals("离线", offline.label)
        assertNotNull(offline.retryInMs)
        assertTrue(offline.outbox >= 1L, "$offline")
        assertNull(offline.lastSuccessMs)
        engine.close()
        assertEquals("已停止", engine.status.value.toDisplay().label)
        d.close()
    }

    @Test
    fun `a real engine is idle after a success and waits to retry once revoked`() = runBlocking {
        val d = enrolled(server, "psc1")
        d.report(Sample.LITTER, Sample.IN_G1, "路口垃圾桶满溢")
        val engine = d.startSyncEngine(fast)
        val idle = withTimeout(60_000) {
            engine.status.first { it.state == EngineState.Idle && it.lastSuccessMs != null && it.outbox == 0uL }
        }.toDisplay()
        assertEquals("空闲", idle.label)
        assertTrue(idle.lastSuccessText().startsWith("已同步 "), idle.lastSuccessText())

        server.revokeDevice(d.deviceId()!!)
        engine.syncSoon()
        val refused = withTimeout(60_000) {
            engine.status.first { it.state is EngineState.WaitingToRetry }
        }.toDisplay()
        assertEquals(SyncActivity.WAITING_TO_RETRY, refused.activity)
        assertEquals("等待重试 (unauthorised)", refused.label)
        assertEquals(idle.lastSuccessMs, refused.lastSuccessMs, "the last success stays")
        engine.close()
        d.close()
    }
}
