// The field operations and reports through the real library, each on a real device store of
// the sample street: routing a point inside a grid and outside the street, a routed report
// reaching the grid worker of its place, duplicate suggestions for a second nearby report of
// the same category, a review meeting list with an overdue case, rankings with figures worked
// out by hand, and the notice boards naming the street chiefs. (SyncTest sends a routed report
// through a real server.)
package cn.xiangying

import cn.xiangying.ffi.Datum
import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.Assignee
import cn.xiangying.ffi.CaseStatus
import cn.xiangying.ffi.GeoPoint
import cn.xiangying.ffi.ReviewPeriod
import cn.xiangying.ffi.Route
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import kotlin.math.abs

/** Metres to degrees (the sample street lies at the equator, where both are the same). */
fun deg(m: Double): Double = m / Math.toRadians(6_371_008.8)

const val HOUR_MS = 3_600_000L
const val DAY_MS = 24 * HOUR_MS

class FieldTest {
    @Test
    fun `a point inside a grid and a point outside the street are routed`() = runBlocking {
        val d = deviceOf("psc1")
        assertEquals(
            Route(
                grid = "g1",
                community = "c1",
                segment = "s1",
                segmentDistanceM = 0.0,
                gridWorker = "gw1",
                communityChief = "cc1",
                streetChiefs = listOf("psc1", "msc1"),
                outsideStreet = false,
                distanceToStreetM = 0.0,
            ),
            d.route(Sample.IN_G1),
        )
        // 120 m east of the last grid: filed in g3, flagged, no segment in reach.
        val out = d.route(GeoPoint(lon = 0.3 + deg(120.0), lat = 0.05, datum = Datum.WGS84))
        assertEquals("g3", out.grid)
        assertEquals("c2", out.community)
        assertEquals("gw3", out.gridWorker)
        assertTrue(out.outsideStreet)
        assertTrue(abs(out.distanceToStreetM - 120.0) < 0.01, "${out.distanceToStreetM}")
        assertNull(out.segment)
        assertTrue(out.streetChiefs.isEmpty())

        val bad = assertThrows<ApiException.InvalidInput> { runBlocking { d.route(GeoPoint(lon = Double.NaN, lat = 0.0, datum = Datum.WGS84)) } }
        assertEquals("location", bad.field)
        val bare = Xiangying.open(tempDir("bare"))
        assertThrows<ApiException.NotSetUp> { runBlocking { bare.route(Sample.IN_G1) } }
        listOf(d, bare).forEach { it.close() }
    }

    @Test
    fun `a routed report goes to the grid worker of its place`() = runBlocking {
        val chief = deviceOf("psc1")
        val worker = deviceOf("gw2")
        val other = deviceOf("gw1")
        // The changes flow hears of the routed report.
        val heard = CompletableDeferred<List<String>>()
        val watcher = launch(Dispatchers.Default) { heard.complete(chief.changes.first()) }
        withTimeout(5_000) { chief.collectors.first { it > 0 } }

        // In g2, 10 m off the segment: the street chief chooses neither grid nor segment.
        val r = chief.reportRouted(Sample.MANHOLE, GeoPoint(lon = 0.15, lat = 0.05 + deg(10.0), datum = Datum.WGS84), "井盖破损")
        assertEquals(listOf(r.caseId), withTimeout(5_000) { heard.await() })
        watcher.cancel()
        assertEquals("g2", r.route.grid)
        assertEquals("s1", r.route.segment)
        assertEquals("gw2", r.route.gridWorker)
        assertFalse(r.route.outsideStreet)
        val detail = chief.case(r.caseId)
        assertEquals("g2", detail.grid)
        assertEquals("s1", detail.segment)

        val f = chief.forwardRouted(r.caseId, "请网格员处理")
        assertEquals(CaseStatus.FORWARDED, f.state.status)
        assertEquals(Assignee.Person("gw2"), f.state.assignee)
        assertEquals(r.route, f.route)

        val bytes = chief.exportCase(r.caseId)
        worker.applyRemote(r.caseId, bytes)
        other.applyRemote(r.caseId, bytes)
        assertEquals(listOf(r.caseId), worker.inbox().map { it.id })
        assertTrue(other.inbox().isEmpty(), "not the worker of g1")

        // Outside the street: the plain report refuses it, the routed one files it in g3.
        val far = GeoPoint(lon = 0.3 + deg(120.0), lat = 0.05, datum = Datum.WGS84)
        assertThrows<ApiException.InvalidInput> { runBlocking { chief.report(Sample.MANHOLE, far, "井盖破损") } }
        val outside = chief.reportRouted(Sample.MANHOLE, far, "井盖破损")
        assertTrue(outside.route.outsideStreet)
        assertEquals("g3", chief.case(outside.caseId).grid)
        listOf(chief, worker, other).forEach { it.close() }
    }

    @Test
    fun `a second nearby report of the same category is offered the first as a duplicate`() = runBlocking {
        val d = deviceOf("gw1")
        val first = d.report(Sample.MANHOLE, Sample.IN_G1, "井盖破损")
        d.report(Sample.LITTER, Sample.IN_G1, "垃圾满溢") // another category: never suggested
        val here = GeoPoint(lon = 0.05 + deg(50.0), lat = 0.05, datum = Datum.WGS84)

        val found = d.duplicateCandidates(Sample.MANHOLE, here)
        assertEquals(listOf(first), found.map { it.summary.id })
        assertTrue(abs(found[0].distanceM - 50.0) < 0.01, "${found[0].distanceM}")
        assertTrue(d.duplicateCandidates(Sample.MANHOLE, here, radiusM = 40.0).isEmpty())
        val nextWeek = System.currentTimeMillis() + 8 * DAY_MS
        assertTrue(d.duplicateCandidates(Sample.MANHOLE, here, nowMs = nextWeek).isEmpty())
        assertEquals(1, d.duplicateCandidates(Sample.MANHOLE, here, days = 9, nowMs = nextWeek).size)
        val bad = assertThrows<ApiException.InvalidInput> {
            runBlocking { d.duplicateCandidates(Sample.MANHOLE, here, radiusM = -1.0) }
        }
        assertEquals("radius_m", bad.field)

        // The second report is made anyway and marked: it is not suggested itself.
        val second = d.report(Sample.MANHOLE, here, "井盖破损")
        assertEquals(listOf(second, first), d.duplicateCandidates(Sample.MANHOLE, here).map { it.summary.id })
        d.markDuplicate(second, first)
        assertEquals(listOf(first), d.duplicateCandidates(Sample.MANHOLE, here).map { it.summary.id })
        assertEquals(0L, d.reindexPlaces())
        d.close()
    }

    @Test
    fun `the weekly meeting list holds an overdue case`() = runBlocking {
        val d = deviceOf("gw1")
        val id = d.report(Sample.LITTER, Sample.IN_G1, "垃圾满溢") // due within 4 h
        assertTrue(d.meetingList(ReviewPeriod.WEEK).grids.isEmpty(), "not overdue yet")

        val deadline = d.case(id).state.deadlineMs
        val now = deadline + HOUR_MS
        val m = d.meetingList(ReviewPeriod.WEEK, nowMs = now)
        assertEquals(ReviewPeriod.WEEK, m.period)
        assertEquals(now, m.nowMs)
        assertEquals(now - 7 * DAY_MS, m.sinceMs)
        val g1 = m.grids.single()
        assertEquals("g1", g1.id)
        assertEquals(listOf(id), g1.overdue.map { it.id })
        assertTrue(g1.overdue[0].overdue)
        assertTrue(g1.escalated.isEmpty() && g1.reworked.isEmpty() && g1.longOpen.isEmpty())
        assertEquals("c1", m.communities.single().id)
        assertEquals(listOf(id), m.communities.single().overdue.map { it.id })

        val quarter = d.meetingList(ReviewPeriod.QUARTER, nowMs = deadline + 92 * DAY_MS)
        assertEquals(listOf(id), quarter.grids.single().longOpen.map { it.id })
        d.close()
    }

    @Test
    fun `rankings give the figures of a small data set`() = runBlocking {
        val d = deviceOf("psc1")
        val from = System.currentTimeMillis() - HOUR_MS
        val to = from + 2 * DAY_MS
        // g1: settled on the spot by the street chief (closed on time).
        val a = d.report(Sample.LITTER, Sample.IN_G1, "垃圾满溢")
        d.handleOnSpot(a, "清理完毕", listOf("ab".repeat(32)))
        // g2: forwarded to gw2 and still open, due within 24 h.
        val b = d.reportRouted(Sample.MANHOLE, GeoPoint(lon = 0.15, lat = 0.05, datum = Datum.WGS84), "井盖破损")
        d.forwardRouted(b.caseId, "请处理")

        val r = d.rankings(from, to)
        assertEquals(from, r.fromMs)
        assertEquals(to, r.toMs)
        assertEquals(listOf("g1", "g2"), r.grids.map { it.id })
        val (g1, g2) = r.grids
        assertEquals("第g1网格", g1.name)
        assertEquals(1u, g1.rank)
        assertEquals(100.0, g1.score)
        assertEquals(listOf(1uL, 1uL, 1uL, 1uL), listOf(g1.raised, g1.due, g1.closed, g1.closedOnTime))
        assertEquals(listOf(1uL, 0uL, 0uL, 1uL), listOf(g1.resolved, g1.reworked, g1.extended, g1.handledOnSpot))
        assertEquals(listOf(1.0, 1.0, 0.0, 0.0), listOf(g1.closeRate, g1.onTimeRate, g1.reworkRate, g1.extensionRate))
        assertTrue(g1.avgHandlingHours!! in 0.0..0.1, "${g1.avgHandlingHours}")

        // g2: nothing closed, nothing resolved: 100 × (20% × (1 − 0) + 10% × (1 − 0)) = 30.
        assertEquals(2u, g2.rank)
        assertEquals(30.0, g2.score)
        assertEquals(listOf(1uL, 1uL, 0uL, 0uL), listOf(g2.raised, g2.due, g2.closed, g2.closedOnTime))
        assertEquals(0.0, g2.closeRate)
        assertNull(g2.reworkRate, "no resolved cases")
        assertNull(g2.avgHandlingHours)

        // c1 holds both: 100 × (40% × ½ + 30% × ½ + 20% + 10%) = 65.
        val c1 = r.communities.single()
        assertEquals("一社区", c1.name)
        assertEquals(65.0, c1.score)
        assertEquals(0.5, c1.closeRate)
        assertEquals(listOf(2uL, 1uL), listOf(c1.due, c1.closed))
        assertEquals(
            listOf(Triple("psc1", "测试psc1", 1u), Triple("gw2", "测试gw2", 2u)),
            r.people.map { Triple(it.id, it.name, it.rank) },
        )
        assertTrue(r.departments.isEmpty())

        assertTrue(d.rankings(0, 1_000).grids.isEmpty())
        val bad = assertThrows<ApiException.InvalidInput> { runBlocking { d.rankings(to, from) } }
        assertEquals("to_ms", bad.field)
        d.close()
    }

    @Test
    fun `the notice board names the street chiefs of the segment`() = runBlocking {
        val d = deviceOf("gw1")
        val board = d.noticeBoard()
        assertEquals("样例街道", board.street)
        val s1 = board.segments.single()
        assertEquals("s1", s1.segment)
        assertEquals("样例大街一段", s1.name)
        assertEquals("样例大街", s1.road)
        assertEquals("一社区", s1.community)
        val chief = s1.people.first()
        assertEquals("psc1", chief.person)
        assertEquals("党员街长", chief.role)
        assertEquals("测试psc1", chief.name)
        assertTrue(s1.people.any { it.person == "msc1" })
        assertTrue(s1.people.any { it.person == "gw1" } && s1.people.any { it.person == "gw2" })

        val html = d.noticeBoardHtml()
        assertTrue(html.startsWith("<!DOCTYPE html>"))
        assertTrue("样例街道街长公示栏" in html)
        assertTrue("测试psc1" in html, "the party street chief's name")
        assertTrue("测试msc1" in html, "the merchant street chief's name")

        val bare = Xiangying.open(tempDir("bare"))
        assertThrows<ApiException.NotSetUp> { runBlocking { bare.noticeBoardHtml() } }
        listOf(d, bare).forEach { it.close() }
    }
}
