// The issue's flows through a REAL xiangying-server process (see SyncServer): enrolment with
// codes from the admin CLI, a street chief's report with a photo, forward, sync, the grid
// worker's inbox with the server's case number and the photo downloaded, escalation, the
// community chief's inbox; progress, change notifications and cancellation of a sync; and
// every error variant that a server makes reachable, caught as its Kotlin type; a routed
// report reaching the grid worker of its place; a grid worker's patrol reaching the
// community chief.
package cn.xiangying

import cn.xiangying.ffi.CameraPhoto
import cn.xiangying.ffi.Datum
import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.Assignee
import cn.xiangying.ffi.CancelToken
import cn.xiangying.ffi.CaseStatus
import cn.xiangying.ffi.CategoryKind
import cn.xiangying.ffi.CompanionKind
import cn.xiangying.ffi.EngineConfig
import cn.xiangying.ffi.EngineState
import cn.xiangying.ffi.GeoPoint
import cn.xiangying.ffi.Level
import cn.xiangying.ffi.PhotoStage
import cn.xiangying.ffi.SyncListener
import cn.xiangying.ffi.SyncPhase
import cn.xiangying.ffi.SyncReport
import cn.xiangying.ffi.XiangyingDevice
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.util.Collections

class SyncTest : WithServer() {
    @Test
    fun `a report with a photo is forwarded, synced, escalated and reaches the community`() = runBlocking {
        val chief = enrolled(server, "psc1")
        val worker = enrolled(server, "gw1")
        val community = enrolled(server, "cc1")
        assertNotNull(chief.deviceId())

        val photo = jpeg(7)
        val id = chief.reportWithPhotos(Sample.LITTER, Sample.IN_G1, "路口垃圾桶满溢", listOf(CameraPhoto(photo)))
        val reported = chief.case(id)
        assertEquals(1, reported.photos.size)
        assertEquals(PhotoStage.BEFORE, reported.photos[0].stage)
        val hash = reported.photos[0].hash
        assertEquals(2, chief.pendingUploads().size) // the photo and its thumbnail
        chief.forward(id, "请网格员处理")

        val steps = Collections.synchronizedList(mutableListOf<SyncReport>())
        val pushed = chief.syncNow { steps.add(it) }
        assertEquals(2uL, pushed.pushed)
        assertEquals(2uL, pushed.photosUploaded)
        assertEquals(SyncPhase.DONE, pushed.phase)
        assertEquals(pushed, steps.last())
        assertTrue(steps.any { it.phase == SyncPhase.UPLOADING_PHOTOS })
        assertEquals(0L, chief.outboxLen())
        assertTrue(chief.pendingUploads().isEmpty())
        val number = chief.case(id).number
        assertNotNull(number, "the server numbers the case")

        // The grid worker's changes flow hears of the pulled case.
        val heard = CompletableDeferred<List<String>>()
        val watcher = launch(Dispatchers.Default) {
            heard.complete(worker.changes.first { it.isEmpty() || id in it })
        }
        withTimeout(5_000) { worker.collectors.first { it > 0 } }
        val pulled = worker.syncNow()
        assertTrue(pulled.pulled >= 1uL, "$pulled")
        withTimeout(5_000) { heard.await() }
        watcher.cancel()
        val inbox = worker.inbox().filter { it.id == id }
        assertEquals(1, inbox.size)
        assertEquals(number, inbox[0].number)
        assertEquals(CaseStatus.FORWARDED, inbox[0].status)
        val detail = worker.case(id)
        assertEquals(hash, detail.photos[0].hash)
        assertThrows<ApiException.NotFound> { runBlocking { worker.photo(hash) } }
        val fetched = worker.fetchPhoto(hash)
        assertArrayEquals(chief.photo(hash), fetched)
        assertEquals(0xFF.toByte(), fetched[0])
        assertArrayEquals(fetched, worker.photo(hash), "downloaded once, kept")
        val thumb = worker.fetchPhoto(detail.photos[0].thumb)
        assertTrue(thumb.size < fetched.size)

        worker.accept(id)
        val escalated = worker.escalate(id, "需要社区协调")
        assertEquals(Level.COMMUNITY, escalated.level)
        worker.syncNow()

        community.syncNow()
        val theirs = community.inbox().filter { it.id == id }
        assertEquals(1, theirs.size)
        assertEquals(CaseStatus.ESCALATED, theirs[0].status)
        assertEquals(number, theirs[0].number)
        assertEquals(listOf("psc1", "gw1", "cc1"), community.case(id).state.holders)

        chief.syncNow()
        assertEquals(CaseStatus.ESCALATED, chief.case(id).state.status)
        listOf(chief, worker, community).forEach { it.close() }
    }

    @Test
    fun `a routed report reaches the grid worker of its place through the server`() = runBlocking {
        val chief = enrolled(server, "psc1")
        val g2 = enrolled(server, "gw2")
        val g1 = enrolled(server, "gw1")
        // In g2 on the segment: the street chief chooses nothing, the route says who answers.
        val r = chief.reportRouted(Sample.MANHOLE, GeoPoint(lon = 0.15, lat = 0.05, datum = Datum.WGS84), "井盖破损")
        assertEquals("g2", r.route.grid)
        assertEquals("gw2", r.route.gridWorker)
        val f = chief.forwardRouted(r.caseId, "请处理")
        assertEquals(Assignee.Person("gw2"), f.state.assignee)
        chief.syncNow()

        g2.syncNow()
        val inbox = g2.inbox().filter { it.id == r.caseId }
        assertEquals(1, inbox.size)
        assertEquals("g2", inbox[0].grid)
        assertEquals(CaseStatus.FORWARDED, inbox[0].status)
        g1.syncNow()
        assertTrue(g1.inbox().none { it.id == r.caseId }, "the worker of g1 does not get it")
        // The grid worker's device suggests it as a duplicate of a second report nearby.
        val dup = g2.duplicateCandidates(Sample.MANHOLE, GeoPoint(lon = 0.15 + deg(30.0), lat = 0.05, datum = Datum.WGS84))
        assertEquals(listOf(r.caseId), dup.map { it.summary.id })
        listOf(chief, g2, g1).forEach { it.close() }
    }

    @Test
    fun `a grid worker's patrol reaches the community chief through the server`() = runBlocking {
        val worker = enrolled(server, "gw1")
        val chief = enrolled(server, "cc1")
        val id = worker.startPatrol(G1)
        val start = worker.patrol(id).startedAtMs
        // 200 fixes in batches of 20: one chunk packed at 120, the rest packed by the end.
        fixes(200, start + 1_000).chunked(20).forEach { worker.recordTrack(id, it) }
        worker.addCompanion(id, "official")
        val ended = worker.endPatrol(id)
        val pushed = worker.syncNow()
        assertTrue(pushed.pushed >= 5uL, "$pushed") // start, two chunks, companion, end
        assertEquals(0L, worker.outboxLen())

        // The chief's changes flow hears the patrol's id.
        val heard = CompletableDeferred<List<String>>()
        val watcher = launch(Dispatchers.Default) {
            heard.complete(chief.changes.first { it.isEmpty() || id in it })
        }
        withTimeout(5_000) { chief.collectors.first { it > 0 } }
        chief.syncNow()
        withTimeout(5_000) { heard.await() }
        watcher.cancel()

        val row = chief.patrols().single { it.id == id }
        assertEquals("gw1", row.walker)
        assertEquals(200u, row.points)
        assertEquals(ended.endedAtMs, row.endedAtMs)
        val theirs = chief.patrol(id)
        assertEquals(ended, theirs)
        assertEquals(200, theirs.track.size)
        assertEquals(CompanionKind.OFFICIAL, theirs.companions.single().kind)
        // Only the walker writes a patrol.
        assertThrows<ApiException.NotAllowed> { runBlocking { chief.endPatrol(id) } }
        val gw1 = chief.weeklyAccompaniments(start).people.single { it.person == "gw1" }
        // The official never confirmed from their own device.
        assertTrue(gw1.patrols >= 1u && gw1.officialUnconfirmed >= 1u && gw1.official == 0u, "$gw1")
        listOf(worker, chief).forEach { it.close() }
    }

    @Test
    fun `the sync engine carries a forwarded case to the grid worker without syncNow`() = runBlocking {
        val chief = enrolled(server, "psc1")
        val worker = enrolled(server, "gw1")
        // Short pacing for the test; a periodic sync stands in for the server's wake-up channel.
        val fast = EngineConfig(debounceMs = 20uL, foregroundPeriodMs = 100uL, backoffBaseMs = 50uL, backoffMaxMs = 200uL)
        val sender = chief.startSyncEngine(fast)
        val receiver = worker.startSyncEngine(fast)
        receiver.setForeground(true)
        val heard = CompletableDeferred<List<String>>()
        val id = chief.report(Sample.LITTER, Sample.IN_G1, "路口垃圾桶满溢")
        val watcher = launch(Dispatchers.Default) {
            heard.complete(worker.changes.first { it.isEmpty() || id in it })
        }
        chief.forward(id, "请网格员处理")
        withTimeout(60_000) {
            while (worker.inbox().none { it.id == id }) delay(20)
        }
        withTimeout(60_000) { heard.await() }
        watcher.cancel()
        val done = withTimeout(60_000) { sender.status.first { it.outbox == 0uL && it.lastSuccessMs != null } }
        assertEquals(0uL, done.uploads)
        sender.close()
        receiver.close()
        assertEquals(EngineState.Stopped, sender.status.value.state)
        assertEquals(CaseStatus.FORWARDED, worker.inbox().first { it.id == id }.status)
        listOf(chief, worker).forEach { it.close() }
    }

    @Test
    fun `enrolment installs the catalogue for a category picker`() = runBlocking {
        val d = enrolled(server, "gw1")
        val categories = d.categories()
        val litter = categories.single { it.code == Sample.LITTER }
        assertTrue(litter.name.isNotBlank() && litter.bigName.isNotBlank())
        assertEquals(CategoryKind.EVENT, litter.kind)
        assertEquals(Level.GRID, litter.level)
        assertEquals(4u, litter.limitHours)
        assertTrue(categories.groupBy { it.bigCode }.size > 1)
        assertEquals("gw1", d.me()!!.person)
        d.close()
    }

    @Test
    fun `syncFlow emits every step and ends with DONE`() = runBlocking {
        val d = enrolled(server, "gw1")
        val id = d.reportWithPhotos(Sample.MANHOLE, Sample.IN_G1, "井盖破损", listOf(CameraPhoto(jpeg(11))))
        val after = d.attachPhoto(id, jpeg(12), PhotoStage.AFTER)
        d.handleOnSpot(id, "已更换", listOf(after.hash))
        assertEquals(4, d.pendingUploads().size)
        val steps = withTimeout(60_000) { d.syncFlow().toList() }
        assertEquals(SyncPhase.EXCHANGING, steps.first().phase)
        assertEquals(SyncPhase.DONE, steps.last().phase)
        assertEquals(4uL, steps.last().photosUploaded)
        assertEquals(3uL, steps.last().pushed) // report, photo, handled on the spot
        // A quiet sync afterwards is one small round trip.
        val quiet = d.syncNow()
        assertEquals(1u, quiet.roundTrips)
        assertEquals(0uL, quiet.pushed)
        d.close()
    }

    @Test
    fun `a cancelled sync stops between steps, says Cancelled, and the next sync carries on`() = runBlocking {
        val d = enrolled(server, "gw1")
        d.report(Sample.LITTER, Sample.IN_G1, "取消测试")
        val raw: XiangyingDevice = d.device

        // Cancelled before the call: nothing is sent.
        val early = CancelToken().also { it.cancel() }
        assertThrows<ApiException.Cancelled> { runBlocking { raw.syncNow(null, early) } }
        assertEquals(1L, d.outboxLen())

        // Cancelled at the first report: no more reports, the sync stops before its first
        // round trip.
        val token = CancelToken()
        val calls = Collections.synchronizedList(mutableListOf<SyncReport>())
        val listener = object : SyncListener {
            override fun progress(report: SyncReport) {
                calls.add(report)
                token.cancel()
            }
        }
        val e = assertThrows<ApiException.Cancelled> { runBlocking { raw.syncNow(listener, token) } }
        assertTrue(e.detail.contains("pushing 0"), e.detail)
        assertEquals(1, calls.size)
        assertEquals(1L, d.outboxLen())
        assertEquals(1uL, d.syncNow().pushed)
        assertEquals(0L, d.outboxLen())

        // A coroutine cancelled mid-sync: the call ends with CancellationException; the sync
        // stops at its next step and the next sync finishes the work.
        d.report(Sample.LITTER, Sample.IN_G1, "协程取消")
        val started = CompletableDeferred<Unit>()
        val job = async(Dispatchers.Default) { d.syncNow { started.complete(Unit) } }
        started.await()
        job.cancel()
        assertTrue(runCatching { job.await() }.exceptionOrNull() is kotlinx.coroutines.CancellationException)
        withTimeout(30_000) {
            while (d.outboxLen() != 0L) {
                runCatching { d.syncNow() }
                delay(20)
            }
        }
        d.close()
    }

    // ---- errors, each as its Kotlin type ----

    @Test
    fun `a forbidden action is NotAllowed`() = runBlocking {
        val chief = enrolled(server, "psc1")
        val worker = enrolled(server, "gw1")
        val id = chief.report(Sample.LITTER, Sample.IN_G1, "越权测试")
        chief.forward(id)
        chief.syncNow()
        worker.syncNow()
        val e = assertThrows<ApiException.NotAllowed> { runBlocking { worker.close(id, "直接结案") } }
        assertEquals("close", e.action)
        // A photo on a case one is not involved in (another grid's worker).
        val other = enrolled(server, "gw3")
        assertThrows<ApiException.NotAllowed> {
            runBlocking { other.applyRemote(id, worker.exportCase(id)); other.attachPhoto(id, jpeg(1), PhotoStage.EVIDENCE) }
        }
        listOf(chief, worker, other).forEach { it.close() }
    }

    @Test
    fun `a corrupt or foreign photo is PhotoRejected and writes nothing`() = runBlocking {
        val d = enrolled(server, "gw1")
        val before = d.myReports().size
        val good = jpeg(3)
        val truncated = good.copyOf(good.size / 3)
        val e = assertThrows<ApiException.PhotoRejected> {
            runBlocking { d.reportWithPhotos(Sample.LITTER, Sample.IN_G1, "坏照片", listOf(CameraPhoto(good), CameraPhoto(truncated))) }
        }
        assertTrue(e.reason.isNotBlank())
        assertEquals(before, d.myReports().size)
        val id = d.report(Sample.LITTER, Sample.IN_G1, "好报告")
        assertThrows<ApiException.PhotoRejected> {
            runBlocking { d.attachPhoto(id, "GIF89a not really".toByteArray(), PhotoStage.AFTER) }
        }
        assertTrue(d.case(id).photos.isEmpty())
        assertTrue(d.pendingUploads().isEmpty())
        d.close()
    }

    @Test
    fun `a garbage, used or revoked code, and a revoked device, are Unauthorised`() = runBlocking {
        val garbage = Xiangying.open(tempDir("garbage"))
        assertThrows<ApiException.Unauthorised> { runBlocking { garbage.enrol(server.url, "ABCD-EFGH", "x") } }
        assertEquals(null, garbage.me())

        val code = server.issueCode("gw2")
        server.revokeCode(code)
        assertThrows<ApiException.Unauthorised> { runBlocking { garbage.enrol(server.url, code, "x") } }

        val used = server.issueCode("gw2")
        val first = Xiangying.open(tempDir("first"))
        assertEquals("gw2", first.enrol(server.url, used, "first").person)
        assertThrows<ApiException.Unauthorised> { runBlocking { garbage.enrol(server.url, used, "second") } }

        first.syncNow()
        server.revokeDevice(first.deviceId()!!)
        val e = assertThrows<ApiException.Unauthorised> { runBlocking { first.syncNow() } }
        assertTrue(e.detail.isNotBlank())
        listOf(garbage, first).forEach { it.close() }
    }

    @Test
    fun `a server that is not there is Network`() = runBlocking {
        val d = Xiangying.open(tempDir("offline"))
        val closed = SyncServer.freePort()
        val e = assertThrows<ApiException.Network> {
            runBlocking { d.enrol("http://127.0.0.1:$closed", "ABCD-EFGH", "x") }
        }
        assertTrue(e.detail.isNotBlank())
        d.close()
    }

    @Test
    fun `a photo the server does not have is ServerRejected 404`() = runBlocking {
        val d = enrolled(server, "gw1")
        val e = assertThrows<ApiException.ServerRejected> { runBlocking { d.fetchPhoto("0".repeat(64)) } }
        assertEquals(404.toUShort(), e.status)
        d.close()
    }

    @Test
    fun `sync before enrolment is NotSetUp, a bad URL or hash is InvalidInput, a missing photo NotFound`() = runBlocking {
        val d = Xiangying.open(tempDir("unenrolled"))
        assertThrows<ApiException.NotSetUp> { runBlocking { d.syncNow() } }
        assertThrows<ApiException.NotSetUp> { runBlocking { d.categories() } }
        assertThrows<ApiException.NotSetUp> { runBlocking { d.fetchPhoto("a".repeat(64)) } }
        val url = assertThrows<ApiException.InvalidInput> { runBlocking { d.enrol("ftp://example", "ABCD-EFGH", "x") } }
        assertEquals("server_url", url.field)
        val hash = assertThrows<ApiException.InvalidInput> { runBlocking { d.photo("not-a-hash") } }
        assertEquals("hash", hash.field)
        val missing = assertThrows<ApiException.NotFound> { runBlocking { d.photo("b".repeat(64)) } }
        assertEquals("photo", missing.what)
        assertFalse(d.deviceId() != null)
        d.close()
    }
}
