// The roster on the phone: the people this device's person may see (decision 0016), people
// search by name and pinyin (张三 by "zs", "zhangsan", "zhangs"; 曾 by "zeng" or "ceng"), the
// departments, communities, grids with their polygons and road segments with their lines (map
// overlays), the categories with the deadline a report would get, and the working calendar.
// Extension functions on Xiangying, run on its I/O dispatcher; all offline, from the roster
// copy (the view and its search index are built once per roster install and person).
package cn.xiangying

import cn.xiangying.ffi.CategoryDeadline
import cn.xiangying.ffi.RosterCommunity
import cn.xiangying.ffi.RosterDepartment
import cn.xiangying.ffi.RosterGrid
import cn.xiangying.ffi.RosterPerson
import cn.xiangying.ffi.RosterSegment
import cn.xiangying.ffi.WorkingCalendar

/**
 * The people this device's person may see, in roster order, with role, places and the phone
 * numbers they may see (volunteers' and residents' devices see only the people cases route to,
 * without phone numbers).
 */
suspend fun Xiangying.people(): List<RosterPerson> = onIo { people() }

/** One person if this device may see them, else null: the name behind an author's id. */
suspend fun Xiangying.person(id: String): RosterPerson? = onIo { person(id) }

/**
 * People whose name matches [query] as Chinese users type it: the name or its start, pinyin
 * initials ("zs"), full pinyin ("zhangsan") or its prefix ("zhangs"), any reading of a
 * polyphonic character, case-insensitive. Best match first, at most [limit]; cheap enough to
 * call on every keystroke.
 */
suspend fun Xiangying.searchPeople(query: String, limit: Int = 20): List<RosterPerson> =
    onIo { searchPeople(query, limit.coerceAtLeast(0).toUInt()) }

/** The departments stationed in the street (a dispatch picker). */
suspend fun Xiangying.departments(): List<RosterDepartment> = onIo { departments() }

/** The communities with their chief, grids and road segments. */
suspend fun Xiangying.communities(): List<RosterCommunity> = onIo { communities() }

/** The grids with their polygons, label points, areas and grid workers (a map overlay). */
suspend fun Xiangying.grids(): List<RosterGrid> = onIo { grids() }

/** The street chiefs' road segments with their lines, roads, lengths and street chiefs. */
suspend fun Xiangying.roadSegments(): List<RosterSegment> = onIo { roadSegments() }

/**
 * Every category with the deadline a report of it raised at [atMs] (default: now) would get,
 * on its clock (working hours of the working calendar, or natural hours), and its
 * department's name.
 */
suspend fun Xiangying.categoryDeadlines(atMs: Long? = null): List<CategoryDeadline> =
    onIo { categoryDeadlines(atMs) }

/** The street's working calendar: working periods, weekdays, holidays and make-up days. */
suspend fun Xiangying.workingCalendar(): WorkingCalendar = onIo { workingCalendar() }

/** True when [atMs] (default: now) is working time on the street's calendar. */
suspend fun Xiangying.isWorkingTime(atMs: Long? = null): Boolean = onIo { isWorkingTime(atMs) }
