// The roster read API through the Swift layer, mirroring the Kotlin RosterTest: the people each
// role may see (the centre everybody with phones, a grid worker the staff and their grid's
// residents, a resident only the people cases route to and no phone numbers), the places with
// their shapes, the categories with their deadlines on the Zhenxing catalogue's working and
// natural clocks, the working calendar with a holiday and a make-up working day, and people
// search by pinyin: initials, full pinyin, a prefix, polyphonic surnames, no match, the limit,
// and a resident finding less than the centre. The rosters are the committed fixtures
// (bindings/testdata, data/zhenxing); the sample street's people get Chinese names in memory.
import Foundation
import XCTest
@testable import Xiangying

/// The committed Zhenxing street (data/zhenxing): 1,676 people, 64 grids, 86 categories.
private enum Zhenxing {
    static func text(_ name: String) throws -> String {
        try String(contentsOf: Sample.root.appendingPathComponent("data/zhenxing/\(name)"), encoding: .utf8)
    }
}

/// The sample street's people renamed (ids unchanged), for pinyin search.
private let chineseNames: [(String, String)] = [
    ("center", "张三"), ("cc1", "张三丰"), ("cc2", "赵爽"), ("gw1", "曾国藩"), ("gw2", "单雄信"),
    ("gw3", "解缙"), ("inf1", "仇英"), ("psc1", "吕布"), ("msc1", "李四"), ("official", "王五"),
    ("police1", "孙三"), ("enf1", "ZS"), ("vol1", "张珊"), ("res1", "张三"),
]

private func chineseRoster() throws -> String {
    var json = try Sample.text("sample-roster.json")
    for (id, name) in chineseNames {
        let old = "\"测试\(id)\""
        XCTAssertTrue(json.contains(old), "no \(old) in the sample roster")
        json = json.replacingOccurrences(of: old, with: "\"\(name)\"")
    }
    return json
}

private func chineseDeviceOf(_ person: String) async throws -> Xiangying {
    let d = try await Xiangying.open(dir: tempDir("roster-\(person)"))
    try await d.installOrg(rosterJson: chineseRoster(), catalogueJson: Sample.text("sample-catalogue.json"))
    try await d.setPerson(person)
    return d
}

private func zhenxingDeviceOf(_ person: String) async throws -> Xiangying {
    let d = try await Xiangying.open(dir: tempDir("zhenxing-\(person)"))
    try await d.installOrg(rosterJson: Zhenxing.text("roster.json"), catalogueJson: Zhenxing.text("catalogue.json"))
    try await d.setPerson(person)
    return d
}

/// Beijing local time to ms since the epoch.
private func bj(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int) -> Int64 {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
    let date = calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi))!
    return Int64(date.timeIntervalSince1970 * 1000)
}

extension Xiangying {
    fileprivate func search(_ q: String, limit: Int = 20) async throws -> [String] {
        try await searchPeople(q, limit: limit).map(\.id)
    }
}

final class RosterTests: XCTestCase {
    private let staff = [
        "center", "cc1", "cc2", "gw1", "gw2", "gw3", "inf1", "psc1", "msc1", "official", "police1", "enf1",
    ]

    func testEachRoleSeesThePeopleDecision0016GivesItAResidentLessAndWithoutPhones() async throws {
        let centre = try await deviceOf("center").people()
        XCTAssertEqual(centre.count, 16)
        XCTAssertTrue(centre.allSatisfy { $0.phone != nil })

        let gw1 = try await deviceOf("gw1")
        let gw1People = try await gw1.people()
        XCTAssertEqual(gw1People.map(\.id), staff + ["res1"])
        let vol1 = try await gw1.person("vol1")
        XCTAssertNil(vol1, "a volunteer of the community is not the grid worker's to see")
        let maybeMe = try await gw1.person("gw1")
        let me = try XCTUnwrap(maybeMe)
        XCTAssertEqual(me.role, .gridWorker)
        XCTAssertEqual(me.roleLabel, "网格员")
        XCTAssertEqual(me.scope, .grid(id: "g1"))
        XCTAssertEqual(me.community, "c1")
        XCTAssertEqual(me.grid, "g1")
        XCTAssertNil(me.segment)
        XCTAssertEqual(me.phone, "138-0000-0000")
        let maybeChief = try await gw1.person("psc1")
        let chief = try XCTUnwrap(maybeChief)
        XCTAssertEqual(chief.segment, "s1")
        XCTAssertEqual(chief.community, "c1")
        XCTAssertNil(chief.grid)
        let police = try await gw1.person("police1")
        XCTAssertEqual(police?.department, "police")

        let res = try await deviceOf("res1")
        let seen = try await res.people()
        XCTAssertEqual(seen.map(\.id), ["cc1", "cc2", "gw1", "gw2", "gw3", "psc1", "msc1", "res1"])
        XCTAssertTrue(seen.allSatisfy { $0.phone == nil }, "a resident sees no phone number, not even their own")
        let hidden = try await res.person("center")
        XCTAssertNil(hidden)
        let unknown = try await res.person("nobody")
        XCTAssertNil(unknown)
        let vols = try await res.search("测试vol")
        XCTAssertTrue(vols.isEmpty)
        let allVols = try await deviceOf("center").search("测试vol")
        XCTAssertEqual(allVols, ["vol1", "vol2", "vol3"])
    }

    func testDepartmentsCommunitiesGridsAndRoadSegmentsComeWithTheirShapes() async throws {
        for who in ["center", "res1"] {
            let d = try await deviceOf(who)
            let departments = try await d.departments()
            XCTAssertEqual(departments.map(\.id), ["police", "enforcement"])
            XCTAssertEqual(departments.map(\.name), ["派出所", "综合执法队"])
            let communities = try await d.communities()
            XCTAssertEqual(communities.map(\.id), ["c1", "c2"])
            XCTAssertEqual(communities[0].name, "一社区")
            XCTAssertEqual(communities[0].chief, "cc1")
            XCTAssertEqual(communities[0].grids, ["g1", "g2"])
            XCTAssertEqual(communities[0].segments, ["s1"])
            XCTAssertEqual(communities[1].grids, ["g3"])
            XCTAssertTrue(communities[1].segments.isEmpty)

            let grids = try await d.grids()
            XCTAssertEqual(grids.count, 3)
            let g1 = grids[0]
            XCTAssertEqual(g1.id, "g1")
            XCTAssertEqual(g1.community, "c1")
            XCTAssertEqual(g1.gridWorker, "gw1")
            // [lon, lat] pairs: the sample street lies outside China, where no datum shifts a point.
            XCTAssertEqual(g1.polygon.map { [$0.lon, $0.lat] }, [[0.0, 0.0], [0.1, 0.0], [0.1, 0.1], [0.0, 0.1]])
            let c = try XCTUnwrap(g1.centroid)
            XCTAssertEqual(c.lon, 0.05, accuracy: 1e-9)
            XCTAssertEqual(c.lat, 0.05, accuracy: 1e-9)
            // 0.1° × 0.1° at the equator: about 11.1 km a side.
            XCTAssertEqual(g1.areaM2, 1.2364e8, accuracy: 1.2364e6)

            let segments = try await d.roadSegments()
            XCTAssertEqual(segments.count, 1)
            let s1 = segments[0]
            XCTAssertEqual([s1.id, s1.road, s1.roadName, s1.community], ["s1", "r1", "样例大街", "c1"])
            XCTAssertTrue(s1.mainRoad)
            XCTAssertEqual(s1.polyline.map { [$0.lon, $0.lat] }, [[0.0, 0.05], [0.2, 0.05]])
            XCTAssertEqual(s1.lengthM, 22_239.0, accuracy: 10.0)
            XCTAssertEqual(s1.streetChiefs, ["psc1", "msc1"])
        }
    }

    func testCategoriesCarryTheDeadlineAReportWouldGetOnTheirClock() async throws {
        let d = try await zhenxingDeviceOf("center-01")
        // A Friday at 16:00 in Beijing.
        let friday = bj(2026, 12, 4, 16, 0)
        let all = try await d.categoryDeadlines(atMs: friday)
        XCTAssertEqual(all.count, 86)
        let byCode = Dictionary(uniqueKeysWithValues: all.map { ($0.category.code, $0) })
        // 井盖破损: 8 working hours: 1.5 h on Friday, 3.5 h on Monday morning, 3 h after lunch.
        let broken = try XCTUnwrap(byCode["010101"])
        XCTAssertEqual(broken.category.limitClock, .working)
        XCTAssertEqual(broken.category.limitHours, 8)
        XCTAssertEqual(broken.deadlineMs, bj(2026, 12, 7, 16, 30))
        // 井盖缺失: 2 natural hours, whatever the day.
        let missing = try XCTUnwrap(byCode["010102"])
        XCTAssertEqual(missing.category.limitClock, .natural)
        XCTAssertEqual(missing.deadlineMs, bj(2026, 12, 4, 18, 0))
        XCTAssertEqual(byCode["010104"]?.departmentName, "振兴派出所")
        XCTAssertNil(broken.departmentName)
        // Without a time: from now.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let fromNow = try await d.categoryDeadlines().first { $0.category.code == "010102" }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(fromNow).deadlineMs, now + 2 * 3_600_000)
        do {
            _ = try await d.categoryDeadlines(atMs: -1)
            XCTFail("a time before 1970 is refused")
        } catch let ApiError.InvalidInput(field, _) {
            XCTAssertEqual(field, "at_ms")
        }
    }

    func testTheWorkingCalendarHasItsPeriodsWeekdaysHolidaysAndMakeupDays() async throws {
        let d = try await zhenxingDeviceOf("gw-g01")
        let cal = try await d.workingCalendar()
        XCTAssertEqual(cal.utcOffsetMinutes, 480)
        XCTAssertEqual(cal.periods.map(\.start), ["08:30", "13:30"])
        XCTAssertEqual(cal.periods.map(\.end), ["12:00", "17:30"])
        XCTAssertEqual(cal.periods.map(\.startMinute), [510, 810])
        XCTAssertEqual(cal.minutesPerDay, 450)
        XCTAssertEqual(cal.weekdays, [.monday, .tuesday, .wednesday, .thursday, .friday])
        let national = try XCTUnwrap(cal.holidays.first { $0.name == "国庆节" })
        XCTAssertEqual(national.from, "2026-10-01")
        XCTAssertEqual(national.to, "2026-10-07")
        XCTAssertEqual(national.workdays, ["2026-09-20", "2026-10-10"])
        XCTAssertEqual(cal.holidays.count, 7)

        let monday = try await d.isWorkingTime(atMs: bj(2026, 12, 7, 9, 0))
        XCTAssertTrue(monday, "a Monday morning")
        let lunch = try await d.isWorkingTime(atMs: bj(2026, 12, 7, 12, 30))
        XCTAssertFalse(lunch, "lunch")
        let sunday = try await d.isWorkingTime(atMs: bj(2026, 12, 6, 9, 0))
        XCTAssertFalse(sunday, "a Sunday")
        let holiday = try await d.isWorkingTime(atMs: bj(2026, 10, 5, 9, 0))
        XCTAssertFalse(holiday, "National Day, a Monday")
        let makeUp = try await d.isWorkingTime(atMs: bj(2026, 10, 10, 9, 0))
        XCTAssertTrue(makeUp, "the Saturday worked for it")
        do {
            _ = try await d.isWorkingTime(atMs: Int64.max)
            XCTFail("a time after 9999 is refused")
        } catch let ApiError.InvalidInput(field, _) {
            XCTAssertEqual(field, "at_ms")
        }
    }

    func testPeopleAreFoundByNameInitialsFullPinyinAndItsPrefixBestFirst() async throws {
        let d = try await chineseDeviceOf("center")
        // The exact name, then the initials of whole names (roster order), then of longer ones.
        let zs = try await d.search("zs")
        XCTAssertEqual(zs, ["enf1", "center", "cc2", "vol1", "res1", "cc1"])
        let upper = try await d.search("ZS")
        XCTAssertEqual(upper, zs)
        let full = try await d.search("zhangsan")
        XCTAssertEqual(full, ["center", "res1", "cc1"])
        let spaced = try await d.search("Zhang San")
        XCTAssertEqual(spaced, ["center", "res1", "cc1"])
        let prefix = try await d.search("zhangs")
        XCTAssertEqual(prefix, ["center", "cc1", "vol1", "res1"])
        let name = try await d.search("张三")
        XCTAssertEqual(name, ["center", "res1", "cc1"])
        let surname = try await d.search("张")
        XCTAssertEqual(surname, ["center", "cc1", "vol1", "res1"])
        // The given name is found too, after the names that start with the query.
        let given = try await d.search("san")
        XCTAssertEqual(given, ["center", "cc1", "police1", "res1"])
        let lv = try await d.search("lvbu")
        XCTAssertEqual(lv, ["psc1"])
        let lu = try await d.search("lubu")
        XCTAssertEqual(lu, ["psc1"])
        // The limit, and queries that find nobody.
        let two = try await d.search("zs", limit: 2)
        XCTAssertEqual(two, ["enf1", "center"])
        let none = try await d.search("xyz")
        XCTAssertTrue(none.isEmpty)
        let empty = try await d.search("")
        XCTAssertTrue(empty.isEmpty)
        let tooLong = try await d.search("zhangsanfengx")
        XCTAssertTrue(tooLong.isEmpty)
        let found = try await d.searchPeople("cgf")
        XCTAssertEqual(found.map(\.name), ["曾国藩"])
        XCTAssertEqual(found.first?.community, "c1")
    }

    func testAPolyphonicSurnameIsFoundByEveryReading() async throws {
        let d = try await chineseDeviceOf("center")
        let cases: [(String, [String])] = [
            ("gw1", ["zeng", "ceng", "zengguofan", "cengguofan", "zgf", "cgf"]),
            ("gw2", ["shan", "dan", "shanxiongxin", "danxiongxin", "sxx", "dxx"]),
            ("gw3", ["xiejin", "jiejin", "xj", "jj"]),
            ("inf1", ["qiuying", "chouying", "qy", "cy"]),
        ]
        for (id, queries) in cases {
            for q in queries {
                let found = try await d.search(q)
                XCTAssertEqual(found.first, id, q)
            }
        }
        // shan is also 张珊's given name: the surname read shan comes first.
        let shan = try await d.search("shan")
        XCTAssertEqual(shan, ["gw2", "vol1"])
    }

    func testAResidentFindsOnlyThePeopleCasesRouteTo() async throws {
        let res = try await chineseDeviceOf("res1")
        // 张三 (the centre), ZS and 张珊 are not in a resident's view.
        let zs = try await res.search("zs")
        XCTAssertEqual(zs, ["cc2", "res1", "cc1"])
        let shan = try await res.search("zhangshan")
        XCTAssertTrue(shan.isEmpty)
        let byCentre = try await chineseDeviceOf("center").search("zhangshan")
        XCTAssertEqual(byCentre, ["vol1"])
        let people = try await res.searchPeople("zs")
        XCTAssertTrue(people.allSatisfy { $0.phone == nil })
    }

    // Mirrors "… every reading of 曾 …" (the naming rule drops CJK characters).
    func testTheZhenxingStreetIsSearchedByEveryReadingOfAndAResidentSeesLess() async throws {
        let centre = try await zhenxingDeviceOf("center-01")
        let everybody = try await centre.people()
        XCTAssertEqual(everybody.count, 1676)
        let zeng = Set(everybody.filter { $0.name.hasPrefix("曾") }.map(\.id))
        XCTAssertGreaterThan(zeng.count, 10)
        for q in ["zeng", "ceng"] {
            let found = try await centre.searchPeople(q, limit: 2000)
            XCTAssertEqual(Set(found.filter { $0.name.hasPrefix("曾") }.map(\.id)), zeng, q)
        }
        // Everybody is found by their own name, first.
        for (i, p) in everybody.enumerated() where i % 97 == 0 {
            let first = try await centre.searchPeople(p.name, limit: 1)
            XCTAssertEqual(first.map(\.name), [p.name])
        }
        let residentId = try XCTUnwrap(everybody.first { $0.role == .resident }).id
        let resident = try await zhenxingDeviceOf(residentId)
        let seen = try await resident.people()
        XCTAssertLessThan(seen.count, 200)
        XCTAssertTrue(seen.allSatisfy { $0.role != .gridInformant && $0.role != .streetCenter })
        let fewer = try await resident.searchPeople("zeng", limit: 2000)
        let more = try await centre.searchPeople("zeng", limit: 2000)
        XCTAssertLessThan(fewer.count, more.count)
    }
}
