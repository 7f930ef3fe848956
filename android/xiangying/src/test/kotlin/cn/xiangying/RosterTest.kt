// The roster read API through the real library, on real device stores: the people each role
// may see (the centre everybody with phones, a grid worker the staff and their grid's
// residents, a resident only the people cases route to and no phone numbers), the places with
// their shapes, the categories with their deadlines on the Zhenxing catalogue's working and
// natural clocks, the working calendar with a holiday and a make-up working day, and people
// search by pinyin: initials, full pinyin, a prefix, polyphonic surnames, no match, the limit,
// and a resident finding less than the centre. The rosters are the committed fixtures
// (bindings/testdata, data/zhenxing); the sample street's people get Chinese names in memory.
package cn.xiangying

import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.LimitClock
import cn.xiangying.ffi.Role
import cn.xiangying.ffi.Scope
import cn.xiangying.ffi.Weekday
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.time.ZoneOffset
import java.time.ZonedDateTime
import kotlin.math.abs

/** The committed Zhenxing street (data/zhenxing): 1,676 people, 64 grids, 86 categories. */
private object Zhenxing {
    private val dir = File(Sample.file("sample-roster.json").absoluteFile.parentFile.parentFile.parentFile, "data/zhenxing")
    val rosterJson: String by lazy { File(dir, "roster.json").readText() }
    val catalogueJson: String by lazy { File(dir, "catalogue.json").readText() }
}

/** The sample street with its people renamed (ids unchanged), for pinyin search. */
private val CHINESE_NAMES = mapOf(
    "center" to "张三", "cc1" to "张三丰", "cc2" to "赵爽", "gw1" to "曾国藩", "gw2" to "单雄信",
    "gw3" to "解缙", "inf1" to "仇英", "psc1" to "吕布", "msc1" to "李四", "official" to "王五",
    "police1" to "孙三", "enf1" to "ZS", "vol1" to "张珊", "res1" to "张三",
)

private val chineseRoster: String by lazy {
    CHINESE_NAMES.entries.fold(Sample.rosterJson) { json, (id, name) ->
        val old = "\"测试$id\""
        check(json.contains(old)) { "no $old in the sample roster" }
        json.replace(old, "\"$name\"")
    }
}

private suspend fun chineseDeviceOf(person: String): Xiangying {
    val d = Xiangying.open(tempDir("roster-$person"))
    d.installOrg(chineseRoster, Sample.catalogueJson)
    d.setPerson(person)
    return d
}

private suspend fun zhenxingDeviceOf(person: String): Xiangying {
    val d = Xiangying.open(tempDir("zhenxing-$person"))
    d.installOrg(Zhenxing.rosterJson, Zhenxing.catalogueJson)
    d.setPerson(person)
    return d
}

/** Beijing local time to ms since the epoch. */
private fun bj(y: Int, mo: Int, d: Int, h: Int, mi: Int): Long =
    ZonedDateTime.of(y, mo, d, h, mi, 0, 0, ZoneOffset.ofHours(8)).toInstant().toEpochMilli()

private suspend fun Xiangying.search(q: String, limit: Int = 20): List<String> = searchPeople(q, limit).map { it.id }

class RosterTest {
    private val staff = listOf(
        "center", "cc1", "cc2", "gw1", "gw2", "gw3", "inf1", "psc1", "msc1", "official", "police1", "enf1",
    )

    @Test
    fun `each role sees the people decision 0016 gives it, a resident less and without phones`() = runBlocking {
        val centre = deviceOf("center").people()
        assertEquals(16, centre.size)
        assertTrue(centre.all { it.phone != null })

        val gw1 = deviceOf("gw1")
        assertEquals(staff + "res1", gw1.people().map { it.id })
        assertNull(gw1.person("vol1"), "a volunteer of the community is not the grid worker's to see")
        val me = gw1.person("gw1")
        assertNotNull(me)
        assertEquals(Role.GRID_WORKER, me!!.role)
        assertEquals("网格员", me.roleLabel)
        assertEquals(Scope.Grid(id = "g1"), me.scope)
        assertEquals("c1" to "g1", me.community to me.grid)
        assertNull(me.segment)
        assertEquals("138-0000-0000", me.phone)
        val chief = gw1.person("psc1")!!
        assertEquals(Triple("s1", "c1", null), Triple(chief.segment, chief.community, chief.grid))
        assertEquals("police", gw1.person("police1")!!.department)

        val res = deviceOf("res1")
        val seen = res.people()
        assertEquals(listOf("cc1", "cc2", "gw1", "gw2", "gw3", "psc1", "msc1", "res1"), seen.map { it.id })
        assertTrue(seen.all { it.phone == null }, "a resident sees no phone number, not even their own")
        assertNull(res.person("center"))
        assertNull(res.person("nobody"))
        assertTrue(res.search("测试vol").isEmpty())
        assertEquals(listOf("vol1", "vol2", "vol3"), deviceOf("center").search("测试vol"))
    }

    @Test
    fun `departments, communities, grids and road segments come with their shapes`() = runBlocking {
        for (who in listOf("center", "res1")) {
            val d = deviceOf(who)
            assertEquals(listOf("police" to "派出所", "enforcement" to "综合执法队"), d.departments().map { it.id to it.name })
            val communities = d.communities()
            assertEquals(listOf("c1", "c2"), communities.map { it.id })
            assertEquals("一社区", communities[0].name)
            assertEquals("cc1", communities[0].chief)
            assertEquals(listOf("g1", "g2"), communities[0].grids)
            assertEquals(listOf("s1"), communities[0].segments)
            assertEquals(listOf("g3"), communities[1].grids)
            assertTrue(communities[1].segments.isEmpty())

            val g1 = d.grids().first()
            assertEquals(Triple("g1", "c1", "gw1"), Triple(g1.id, g1.community, g1.gridWorker))
            // (lon, lat) pairs: the sample street lies outside China, where no datum shifts a point.
            assertEquals(listOf(0.0 to 0.0, 0.1 to 0.0, 0.1 to 0.1, 0.0 to 0.1), g1.polygon.map { it.lon to it.lat })
            val c = g1.centroid!!
            assertTrue(abs(c.lon - 0.05) < 1e-9 && abs(c.lat - 0.05) < 1e-9, "$c")
            // 0.1° × 0.1° at the equator: about 11.1 km a side.
            assertTrue(abs(g1.areaM2 - 1.2364e8) / 1.2364e8 < 0.01, "${g1.areaM2}")
            assertEquals(3, d.grids().size)

            val s1 = d.roadSegments().single()
            assertEquals(listOf("s1", "r1", "样例大街", "c1"), listOf(s1.id, s1.road, s1.roadName, s1.community))
            assertTrue(s1.mainRoad)
            assertEquals(listOf(0.0 to 0.05, 0.2 to 0.05), s1.polyline.map { it.lon to it.lat })
            assertTrue(abs(s1.lengthM - 22_239.0) < 10.0, "${s1.lengthM}")
            assertEquals(listOf("psc1", "msc1"), s1.streetChiefs)
        }
    }

    @Test
    fun `categories carry the deadline a report would get on their clock`() = runBlocking {
        val d = zhenxingDeviceOf("center-01")
        // A Friday at 16:00 in Beijing.
        val friday = bj(2026, 12, 4, 16, 0)
        val all = d.categoryDeadlines(friday)
        assertEquals(86, all.size)
        val byCode = all.associateBy { it.category.code }
        // 井盖破损: 8 working hours: 1.5 h on Friday, 3.5 h on Monday morning, 3 h after lunch.
        val broken = byCode.getValue("010101")
        assertEquals(LimitClock.WORKING, broken.category.limitClock)
        assertEquals(8u, broken.category.limitHours)
        assertEquals(bj(2026, 12, 7, 16, 30), broken.deadlineMs)
        // 井盖缺失: 2 natural hours, whatever the day.
        val missing = byCode.getValue("010102")
        assertEquals(LimitClock.NATURAL, missing.category.limitClock)
        assertEquals(bj(2026, 12, 4, 18, 0), missing.deadlineMs)
        assertEquals("振兴派出所", byCode.getValue("010104").departmentName)
        assertNull(broken.departmentName)
        // Without a time: from now.
        val now = System.currentTimeMillis()
        val fromNow = d.categoryDeadlines().first { it.category.code == "010102" }.deadlineMs
        assertTrue(fromNow >= now + 2 * 3_600_000L)
        val bad = assertThrows<ApiException.InvalidInput> { runBlocking { d.categoryDeadlines(-1L) } }
        assertEquals("at_ms", bad.field)
    }

    @Test
    fun `the working calendar has its periods, weekdays, holidays and make-up days`() = runBlocking {
        val d = zhenxingDeviceOf("gw-g01")
        val cal = d.workingCalendar()
        assertEquals(480, cal.utcOffsetMinutes)
        assertEquals(listOf("08:30" to "12:00", "13:30" to "17:30"), cal.periods.map { it.start to it.end })
        assertEquals(listOf(510u, 810u), cal.periods.map { it.startMinute })
        assertEquals(450u, cal.minutesPerDay)
        assertEquals(
            listOf(Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY),
            cal.weekdays,
        )
        val national = cal.holidays.single { it.name == "国庆节" }
        assertEquals(Triple("2026-10-01", "2026-10-07", listOf("2026-09-20", "2026-10-10")), Triple(national.from, national.to, national.workdays))
        assertEquals(7, cal.holidays.size)

        assertTrue(d.isWorkingTime(bj(2026, 12, 7, 9, 0)), "a Monday morning")
        assertFalse(d.isWorkingTime(bj(2026, 12, 7, 12, 30)), "lunch")
        assertFalse(d.isWorkingTime(bj(2026, 12, 6, 9, 0)), "a Sunday")
        assertFalse(d.isWorkingTime(bj(2026, 10, 5, 9, 0)), "National Day, a Monday")
        assertTrue(d.isWorkingTime(bj(2026, 10, 10, 9, 0)), "the Saturday worked for it")
        val bad = assertThrows<ApiException.InvalidInput> { runBlocking { d.isWorkingTime(Long.MAX_VALUE) } }
        assertEquals("at_ms", bad.field)
    }

    @Test
    fun `people are found by name, initials, full pinyin and its prefix, best first`() = runBlocking {
        val d = chineseDeviceOf("center")
        // The exact name, then the initials of whole names (roster order), then of longer ones.
        assertEquals(listOf("enf1", "center", "cc2", "vol1", "res1", "cc1"), d.search("zs"))
        assertEquals(d.search("zs"), d.search("ZS"))
        assertEquals(listOf("center", "res1", "cc1"), d.search("zhangsan"))
        assertEquals(listOf("center", "res1", "cc1"), d.search("Zhang San"))
        assertEquals(listOf("center", "cc1", "vol1", "res1"), d.search("zhangs"))
        assertEquals(listOf("center", "res1", "cc1"), d.search("张三"))
        assertEquals(listOf("center", "cc1", "vol1", "res1"), d.search("张"))
        // The given name is found too, after the names that start with the query.
        assertEquals(listOf("center", "cc1", "police1", "res1"), d.search("san"))
        assertEquals(listOf("psc1"), d.search("lvbu"))
        assertEquals(listOf("psc1"), d.search("lubu"))
        // The limit, and queries that find nobody.
        assertEquals(listOf("enf1", "center"), d.search("zs", limit = 2))
        assertTrue(d.search("xyz").isEmpty())
        assertTrue(d.search("").isEmpty())
        assertTrue(d.search("zhangsanfengx").isEmpty())
        val found = d.searchPeople("cgf").single()
        assertEquals("曾国藩" to "c1", found.name to found.community)
    }

    @Test
    fun `a polyphonic surname is found by every reading`() = runBlocking {
        val d = chineseDeviceOf("center")
        for ((id, queries) in mapOf(
            "gw1" to listOf("zeng", "ceng", "zengguofan", "cengguofan", "zgf", "cgf"),
            "gw2" to listOf("shan", "dan", "shanxiongxin", "danxiongxin", "sxx", "dxx"),
            "gw3" to listOf("xiejin", "jiejin", "xj", "jj"),
            "inf1" to listOf("qiuying", "chouying", "qy", "cy"),
        )) {
            for (q in queries) assertEquals(id, d.search(q).first(), q)
        }
        // shan is also 张珊's given name: the surname read shan comes first.
        assertEquals(listOf("gw2", "vol1"), d.search("shan"))
    }

    @Test
    fun `a resident finds only the people cases route to`() = runBlocking {
        val res = chineseDeviceOf("res1")
        // 张三 (the centre), ZS and 张珊 are not in a resident's view.
        assertEquals(listOf("cc2", "res1", "cc1"), res.search("zs"))
        assertTrue(res.search("zhangshan").isEmpty())
        assertEquals(listOf("vol1"), chineseDeviceOf("center").search("zhangshan"))
        assertTrue(res.searchPeople("zs").all { it.phone == null })
    }

    @Test
    fun `the Zhenxing street is searched by every reading of 曾, and a resident sees less`() = runBlocking {
        val centre = zhenxingDeviceOf("center-01")
        val everybody = centre.people()
        assertEquals(1676, everybody.size)
        val zeng = everybody.filter { it.name.startsWith("曾") }.map { it.id }.toSet()
        assertTrue(zeng.size > 10)
        for (q in listOf("zeng", "ceng")) {
            val found = centre.searchPeople(q, limit = 2000)
            assertEquals(zeng, found.filter { it.name.startsWith("曾") }.map { it.id }.toSet(), q)
        }
        // Everybody is found by their own name, first.
        for (p in everybody.filterIndexed { i, _ -> i % 97 == 0 }) {
            assertEquals(p.name, centre.searchPeople(p.name, limit = 1).single().name)
        }
        val resident = zhenxingDeviceOf(everybody.first { it.role == Role.RESIDENT }.id)
        val seen = resident.people()
        assertTrue(seen.size < 200, "${seen.size}")
        assertTrue(seen.none { it.role == Role.GRID_INFORMANT || it.role == Role.STREET_CENTER })
        assertTrue(resident.searchPeople("zeng", limit = 2000).size < centre.searchPeople("zeng", limit = 2000).size)
    }
}
