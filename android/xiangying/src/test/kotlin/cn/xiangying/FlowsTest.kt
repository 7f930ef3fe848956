// The field flows end to end through the real library: a street chief reports and forwards,
// the document moves to the grid worker's store (export/apply until the sync server exists),
// the grid worker sees it in the inbox, accepts and escalates, and the community chief takes it.
package cn.xiangying

import cn.xiangying.ffi.Assignee
import cn.xiangying.ffi.CaseAction
import cn.xiangying.ffi.CaseStatus
import cn.xiangying.ffi.EventOutcome
import cn.xiangying.ffi.Level
import cn.xiangying.ffi.RemoteCase
import cn.xiangying.ffi.Role
import cn.xiangying.ffi.Scope
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.CompletableDeferred
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Test

class FlowsTest {
    @Test
    fun `a street chief's report reaches the grid worker and is escalated to the community`() = runBlocking {
        val chief = deviceOf("psc1")
        val worker = deviceOf("gw1")
        val community = deviceOf("cc1")
        assertEquals(Role.PARTY_STREET_CHIEF, chief.me()!!.role)
        assertEquals(Scope.Segment("s1"), chief.me()!!.scope)

        val id = chief.report(Sample.LITTER, Sample.IN_G1, "路口垃圾桶满溢")
        val reported = chief.case(id)
        assertEquals(CaseStatus.REPORTED, reported.state.status)
        assertEquals("s1", reported.segment)
        assertEquals(listOf(id), chief.myReports().map { it.id })

        val forwarded = chief.forward(id, "请网格员处理")
        assertEquals(CaseStatus.FORWARDED, forwarded.status)
        assertEquals(Assignee.Person("gw1"), forwarded.assignee)
        assertEquals(2L, chief.outboxLen())

        assertTrue(worker.inbox().isEmpty())
        worker.applyRemote(id, chief.exportCase(id))
        val inbox = worker.inbox()
        assertEquals(listOf(id), inbox.map { it.id })
        assertEquals(CaseStatus.FORWARDED, inbox[0].status)
        assertEquals("gw1", inbox[0].assignee)

        worker.accept(id)
        val escalated = worker.escalate(id, "需要社区协调")
        assertEquals(Level.COMMUNITY, escalated.level)
        assertEquals(CaseStatus.ESCALATED, escalated.status)
        assertEquals(Assignee.Person("cc1"), escalated.assignee)
        assertTrue(worker.inbox().isEmpty())

        community.applyRemote(id, worker.exportCase(id))
        assertEquals(listOf(id), community.inbox().map { it.id })
        val detail = community.case(id)
        assertEquals(listOf("psc1", "gw1", "cc1"), detail.state.holders)
        val actions = detail.state.history.map { it.action }
        assertTrue(actions[0] is CaseAction.Reported)
        assertEquals(CaseAction.Forwarded("gw1", "请网格员处理"), actions[1])
        assertEquals(CaseAction.Accepted, actions[2])
        assertTrue(actions[3] is CaseAction.Escalated)
        assertTrue(detail.state.history.all { it.outcome == EventOutcome.Applied })

        // Applying the same bytes again changes nothing.
        community.applyRemote(id, worker.exportCase(id))
        assertEquals(4, community.case(id).state.history.size)
        listOf(chief, worker, community).forEach { it.close() }
    }

    @Test
    fun `a resident request is dispatched to volunteers and claimed`() = runBlocking {
        val resident = deviceOf("res1")
        val chief = deviceOf("cc1")
        val volunteer = deviceOf("vol1")
        val id = resident.request(Sample.HELP, Sample.IN_G1, "独居老人需要帮忙买药")
        chief.applyRemote(id, resident.exportCase(id))
        assertEquals(CaseStatus.DISPATCHED, chief.dispatchToVolunteers(id, "谁能帮忙").status)
        volunteer.applyRemote(id, chief.exportCase(id))
        assertEquals(listOf(id), volunteer.inbox().map { it.id })
        val claimed = volunteer.claimRequest(id)
        assertEquals("vol1", claimed.claimedBy)
        listOf(resident, chief, volunteer).forEach { it.close() }
    }

    @Test
    fun `the inbox flow refreshes when a case arrives and a case flow follows its case`() = runBlocking {
        val chief = deviceOf("psc1")
        val worker = deviceOf("gw1")
        val id = chief.report(Sample.MANHOLE, Sample.IN_G1, "井盖松动")
        chief.forward(id, "")

        // The first emission is the current inbox (empty); the import triggers another.
        val first = CompletableDeferred<List<String>>()
        val arrived = async(Dispatchers.Default) {
            worker.inboxFlow().onEach { if (!first.isCompleted) first.complete(it.map { s -> s.id }) }
                .first { it.isNotEmpty() }
        }
        assertEquals(emptyList<String>(), withTimeout(10_000) { first.await() })
        worker.applyRemote(id, chief.exportCase(id))
        assertEquals(listOf(id), withTimeout(10_000) { arrived.await() }.map { it.id })

        val resolved = async(Dispatchers.Default) {
            worker.caseFlow(id).first { it.state.status == CaseStatus.RESOLVED }
        }
        withTimeout(10_000) { while (worker.collectors.value == 0) delay(5) }
        worker.accept(id)
        worker.resolve(id, "已更换井盖")
        assertEquals("gw1", withTimeout(10_000) { resolved.await() }.state.resolvedBy)
        listOf(chief, worker).forEach { it.close() }
    }

    @Test
    fun `the change listener names the cases each action touched`() = runBlocking {
        val d = deviceOf("gw1")
        val events = async(Dispatchers.Default) { d.changes.take(3).toList() }
        // Wait until the collector is subscribed.
        withTimeout(10_000) { while (d.collectors.value == 0) delay(5) }
        val a = d.report(Sample.LITTER, Sample.IN_G1, "一")
        val b = d.report(Sample.LITTER, Sample.IN_G1, "二")
        d.markDuplicate(b, a)
        assertEquals(listOf(listOf(a), listOf(b), listOf(b, a)), withTimeout(10_000) { events.await() })
        d.close()
    }

    @Test
    fun `many coroutines report at once`() = runBlocking {
        val d = deviceOf("gw1")
        val ids = (1..40).map { i ->
            async(Dispatchers.IO) { d.report(Sample.LITTER, Sample.IN_G1, "并发第${i}号") }
        }.awaitAll()
        assertEquals(40, ids.toSet().size)
        assertEquals(40, d.myReports(100).size)
        d.close()
    }

    @Test
    fun `a bulk import reports progress, and cancelling the coroutine stops it`() = runBlocking {
        val src = deviceOf("gw1")
        val cases = (1..30).map {
            val id = src.report(Sample.LITTER, Sample.IN_G1, "第${it}号")
            RemoteCase(id, src.exportCase(id))
        }
        val dst = deviceOf("cc1")
        val progress = mutableListOf<Long>()
        val report = dst.importCases(cases) { done, total ->
            assertEquals(30L, total)
            synchronized(progress) { progress += done }
        }
        assertEquals(30, report.imported.size)
        assertFalse(report.cancelled)
        assertEquals((1L..30L).toList(), synchronized(progress) { progress.toList() })
        assertEquals(30, dst.allCasesCount())

        val third = deviceOf("cc1")
        val changed = CompletableDeferred<List<String>>()
        val watcher = launch(Dispatchers.Default) { changed.complete(third.changes.first()) }
        withTimeout(10_000) { while (third.collectors.value == 0) delay(5) }
        val job = launch(Dispatchers.IO) {
            third.importCases(cases) { done, _ ->
                // Cancel from inside the first progress call, then give the cancellation time
                // to reach the core before the next case.
                if (done == 1L) {
                    this.coroutineContext[kotlinx.coroutines.Job]!!.cancel()
                    Thread.sleep(300)
                }
            }
        }
        job.join()
        val imported = withTimeout(10_000) { changed.await() }
        watcher.join()
        assertTrue(imported.size in 1..29, "imported ${imported.size} of 30 before stopping")
        assertEquals(imported.size, third.allCasesCount())
        listOf(src, dst, third).forEach { it.close() }
    }
}

private fun Xiangying.allCasesCount(): Int = device.allCases(1000u).size
