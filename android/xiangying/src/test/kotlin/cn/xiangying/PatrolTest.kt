// Patrols (巡查, 三陪同) through the real library, on real device stores of the sample street: a
// grid worker's patrol with a few hundred fixes recorded in batches, an official walking
// along, the end and the whole track; the patrol flow refreshing as fixes arrive; a bad fix
// refusing its batch (naming the fix) with nothing stored; who may patrol where; the weekly
// accompaniment count on the worker's and the community chief's devices; and the patrol
// figures of the rankings. (SyncTest sends a patrol through a real server.)
package cn.xiangying

import cn.xiangying.ffi.Datum
import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.CompanionKind
import cn.xiangying.ffi.PatrolPlace
import cn.xiangying.ffi.Role
import cn.xiangying.ffi.TrackPoint
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import kotlin.math.abs
import kotlin.math.sin

/** [n] fixes 5 s apart from [startMs], walking north through grid g1 about 4 m a step. */
fun fixes(n: Int, startMs: Long): List<TrackPoint> = (0 until n).map { i ->
    TrackPoint(
        atMs = startMs + i * 5_000L,
        lon = 0.05 + deg(3.0) * sin(i * 0.3),
        lat = 0.02 + deg(4.0) * i,
        accuracyM = 5.0,
        datum = Datum.WGS84,
    )
}

val G1 = PatrolPlace.Grid("g1")

class PatrolTest {
    @Test
    fun `a patrol records a few hundred fixes in batches, an official walks along, and it ends`() = runBlocking {
        val d = deviceOf("gw1")
        assertNull(d.activePatrol())
        val id = d.startPatrol(G1)
        val active = d.activePatrol()!!
        assertEquals(id, active.id)
        assertEquals(G1, active.place)
        assertEquals("c1", active.community)
        assertEquals("测试gw1", active.walkerName)
        assertNull(active.endedAtMs)

        // The patrol flow shows the first state, then refreshes as batches arrive.
        val seen = async(Dispatchers.Default) { d.patrolFlow(id).take(2).toList() }
        withTimeout(5_000) { d.collectors.first { it > 0 } }

        // 360 fixes in batches of 30: buffered until 120, then packed into the document.
        val points = fixes(360, active.startedAtMs + 1_000)
        val waiting = points.chunked(30).map { d.recordTrack(id, it) }
        assertEquals(listOf(30, 60, 90, 0, 30, 60, 90, 0, 30, 60, 90, 0), waiting)
        val flowed = withTimeout(5_000) { seen.await() }
        assertEquals(id, flowed[1].id)
        assertTrue(flowed[1].points > 0u, "${flowed[1].points}")
        assertEquals(360u, d.patrol(id).points)

        val withOfficial = d.addCompanion(id, "official")
        val companion = withOfficial.companions.single()
        assertEquals("official", companion.person)
        assertEquals("测试official", companion.name)
        assertEquals(Role.STREET_OFFICIAL, companion.role)
        assertEquals(CompanionKind.OFFICIAL, companion.kind)

        val ended = d.endPatrol(id)
        assertNotNull(ended.endedAtMs)
        assertNull(ended.voided)
        assertEquals("gw1", ended.walker.person)
        assertEquals(360, ended.track.size)
        assertEquals(360u, ended.points)
        assertTrue(ended.durationMs >= 0)
        // 359 steps of about 4 m north.
        assertTrue(ended.distanceM in 1_400.0..1_500.0, "${ended.distanceM}")
        points.zip(ended.track).forEach { (a, b) ->
            assertEquals(a.atMs, b.atMs)
            assertTrue(abs(a.lat - b.lat) < 1e-6 && abs(a.lon - b.lon) < 1e-6)
        }
        assertEquals(ended, d.patrol(id))
        assertNull(d.activePatrol())
        val row = d.patrols().single()
        assertEquals(id, row.id)
        assertEquals(1u, row.companions)
        assertEquals(ended.endedAtMs, row.endedAtMs)
        assertFalse(row.voided)
        d.close()
    }

    @Test
    fun `a bad fix refuses its whole batch, naming the fix, and nothing is stored`() = runBlocking {
        val d = deviceOf("gw1")
        val id = d.startPatrol(G1)
        val start = d.patrol(id).startedAtMs
        val points = fixes(40, start + 1_000)
        assertEquals(20, d.recordTrack(id, points.take(20)))
        val outbox = d.outboxLen()

        val bad = points.drop(20).toMutableList()
        bad[7] = bad[7].copy(lat = 91.0)
        val e = assertThrows<ApiException.InvalidInput> { runBlocking { d.recordTrack(id, bad) } }
        assertEquals("track", e.field)
        assertTrue(e.problem.startsWith("track point #7"), e.problem)
        val back = points.drop(20).toMutableList()
        back[0] = back[0].copy(atMs = points[3].atMs)
        val e2 = assertThrows<ApiException.InvalidInput> { runBlocking { d.recordTrack(id, back) } }
        assertTrue(e2.problem.startsWith("track point #0"), e2.problem)
        assertEquals(20, d.patrol(id).track.size)
        assertEquals(outbox, d.outboxLen())
        // The good batch goes in afterwards.
        assertEquals(40, d.recordTrack(id, points.drop(20)))

        // One patrol at a time, on my own grid only; unknown patrols are NotFound.
        val twice = assertThrows<ApiException.NotAllowed> { runBlocking { d.startPatrol(G1) } }
        assertTrue(twice.reason.contains("still under way"), twice.reason)
        val other = deviceOf("gw2")
        assertThrows<ApiException.NotAllowed> { runBlocking { other.startPatrol(G1) } }
        val missing = assertThrows<ApiException.NotFound> { runBlocking { d.patrol("nope") } }
        assertEquals("patrol", missing.what)
        assertThrows<ApiException.NotAllowed> { runBlocking { d.addCompanion(id, "vol1") } }
        assertThrows<ApiException.NotFound> { runBlocking { d.addCompanion(id, "nobody") } }
        d.endPatrol(id)
        assertThrows<ApiException.NotAllowed> { runBlocking { d.recordTrack(id, fixes(1, start + HOUR_MS)) } }
        listOf(d, other).forEach { it.close() }
    }

    @Test
    fun `the weekly count and the rankings show who walked along`() = runBlocking {
        val gw1 = deviceOf("gw1")
        val gw2 = deviceOf("gw2")
        val chief = deviceOf("cc1")
        val official = deviceOf("official")
        // gw1 walks twice with the official, who confirms from their own device; gw2 once with
        // the police, who does not confirm. The chief takes them in.
        val walked = listOf(gw1 to "official", gw1 to "official", gw2 to "police1").map { (d, with) ->
            val id = d.startPatrol(PatrolPlace.Grid(if (d === gw1) "g1" else "g2"))
            d.addCompanion(id, with)
            d.endPatrol(id)
            var bytes = d.exportCase(id)
            if (with == "official") {
                official.applyRemote(id, bytes)
                assertTrue(official.accompanimentsAwaitingMe().any { it.id == id })
                official.confirmAccompaniment(id)
                bytes = official.exportCase(id)
            }
            chief.applyRemote(id, bytes)
            id
        }
        assertEquals(walked.toSet(), chief.patrols().map { it.id }.toSet())
        val at = chief.patrol(walked[0]).startedAtMs

        val week = chief.weeklyAccompaniments(at)
        assertTrue(week.weekStartMs <= at && at - week.weekStartMs < 7 * DAY_MS)
        val rows = week.people.associateBy { it.person }
        assertEquals(setOf("gw1", "gw2"), rows.keys, "the grid workers of c1")
        val w1 = rows.getValue("gw1")
        assertEquals(listOf(2u, 2u, 0u), listOf(w1.patrols, w1.official, w1.department))
        assertTrue(w1.meetsRule)
        assertEquals("测试gw1", w1.name)
        val w2 = rows.getValue("gw2")
        assertEquals(listOf(1u, 0u, 0u), listOf(w2.patrols, w2.official, w2.department))
        assertEquals(1u, w2.departmentUnconfirmed, "the police never confirmed")
        assertFalse(w2.meetsRule)
        assertEquals(2u, w2.officialNeeded)
        val mine = gw2.weeklyAccompaniments()
        assertEquals(listOf("gw2"), mine.people.map { it.person })
        val bad = assertThrows<ApiException.InvalidInput> { runBlocking { chief.weeklyAccompaniments(-1) } }
        assertEquals("at_ms", bad.field)

        // The rankings count the patrols beside the cases: 巡查次数, 陪同巡查次数, 参与陪同次数.
        val r = chief.rankings(at - HOUR_MS, at + DAY_MS)
        val g1 = r.grids.single { it.id == "g1" }
        assertEquals(listOf(2uL, 2uL), listOf(g1.patrols, g1.accompanied))
        assertNull(g1.rank, "patrols alone give no score")
        assertEquals(3uL, r.communities.single { it.id == "c1" }.patrols)
        assertEquals(2uL, r.people.single { it.id == "official" }.accompaniments)
        // The police never confirmed: the rankings do not count that accompaniment either.
        assertEquals(0uL, r.departments.singleOrNull { it.id == "police" }?.accompaniments ?: 0uL)
        assertTrue(g1.patrolMs >= 0 && abs(g1.patrolHours - g1.patrolMs / 3_600_000.0) < 1e-9)
        listOf(gw1, gw2, chief, official).forEach { it.close() }
    }
}
