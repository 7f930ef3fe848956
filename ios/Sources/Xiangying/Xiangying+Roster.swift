// The roster on the phone: the people this device's person may see (decision 0016), people
// search by name and pinyin (张三 by "zs", "zhangsan", "zhangs"; 曾 by "zeng" or "ceng"), the
// departments, communities, grids with their polygons and road segments with their lines (map
// overlays), the categories with the deadline a report would get, and the working calendar.
// All offline, from the roster copy (the view and its search index are built once per roster
// install and person), run off the caller's thread.
import Foundation
import XiangyingFFI

extension Xiangying {
    /// The people this device's person may see, in roster order, with role, places and the
    /// phone numbers they may see (volunteers' and residents' devices see only the people
    /// cases route to, without phone numbers).
    public func people() async throws -> [RosterPerson] {
        try await run { try $0.people() }
    }

    /// One person if this device may see them, else nil: the name behind an author's id.
    public func person(_ id: String) async throws -> RosterPerson? {
        try await run { try $0.person(id: id) }
    }

    /// People whose name matches `query` as Chinese users type it: the name or its start,
    /// pinyin initials ("zs"), full pinyin ("zhangsan") or its prefix ("zhangs"), any reading
    /// of a polyphonic character, case-insensitive. Best match first, at most `limit`; cheap
    /// enough to call on every keystroke.
    public func searchPeople(_ query: String, limit: Int = 20) async throws -> [RosterPerson] {
        let limit = UInt32(clamping: max(limit, 0))
        return try await run { try $0.searchPeople(query: query, limit: limit) }
    }

    /// The departments stationed in the street (a dispatch picker).
    public func departments() async throws -> [RosterDepartment] {
        try await run { try $0.departments() }
    }

    /// The communities with their chief, grids and road segments.
    public func communities() async throws -> [RosterCommunity] {
        try await run { try $0.communities() }
    }

    /// The grids with their polygons, label points, areas and grid workers (a map overlay).
    public func grids() async throws -> [RosterGrid] {
        try await run { try $0.grids() }
    }

    /// The street chiefs' road segments with their lines, roads, lengths and street chiefs.
    public func roadSegments() async throws -> [RosterSegment] {
        try await run { try $0.roadSegments() }
    }

    /// Every category with the deadline a report of it raised at `atMs` (default: now) would
    /// get, on its clock (working hours of the working calendar, or natural hours), and its
    /// department's name.
    public func categoryDeadlines(atMs: Int64? = nil) async throws -> [CategoryDeadline] {
        try await run { try $0.categoryDeadlines(atMs: atMs) }
    }

    /// The street's working calendar: working periods, weekdays, holidays and make-up days.
    public func workingCalendar() async throws -> WorkingCalendar {
        try await run { try $0.workingCalendar() }
    }

    /// True when `atMs` (default: now) is working time on the street's calendar.
    public func isWorkingTime(atMs: Int64? = nil) async throws -> Bool {
        try await run { try $0.isWorkingTime(atMs: atMs) }
    }
}
