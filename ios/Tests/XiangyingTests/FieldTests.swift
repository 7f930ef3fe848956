// The field operations and reports through the real library, each on a real device store of
// the sample street: routing a point inside a grid and outside the street, a routed report
// reaching the grid worker of its place, duplicate suggestions for a second nearby report of
// the same category, a review meeting list with an overdue case, rankings with figures worked
// out by hand, and the notice boards naming the street chiefs. The mirror of the Kotlin
// FieldTest. (SyncTests sends a routed report through a real server.)
import Foundation
import XCTest
@testable import Xiangying

final class FieldTests: XCTestCase {
    func testAPointInsideAGridAndAPointOutsideTheStreetAreRouted() async throws {
        let d = try await deviceOf("psc1")
        let route = try await d.route(Sample.inG1)
        XCTAssertEqual(route, Route(grid: "g1", community: "c1", segment: "s1", segmentDistanceM: 0.0, gridWorker: "gw1",
                                    communityChief: "cc1", streetChiefs: ["psc1", "msc1"], outsideStreet: false,
                                    distanceToStreetM: 0.0))
        // 120 m east of the last grid: filed in g3, flagged, no segment in reach.
        let out = try await d.route(GeoPoint(lon: 0.3 + deg(120.0), lat: 0.05, datum: .wgs84))
        XCTAssertEqual(out.grid, "g3")
        XCTAssertEqual(out.community, "c2")
        XCTAssertEqual(out.gridWorker, "gw3")
        XCTAssertTrue(out.outsideStreet)
        XCTAssertLessThan(abs(out.distanceToStreetM - 120.0), 0.01, "\(out.distanceToStreetM)")
        XCTAssertNil(out.segment)
        XCTAssertTrue(out.streetChiefs.isEmpty)

        let bad = try await assertThrows(\.invalidInput) { try await d.route(GeoPoint(lon: Double.nan, lat: 0.0, datum: .wgs84)) }
        XCTAssertEqual(bad.field, "location")
        let bare = try await Xiangying.open(dir: tempDir("bare"))
        _ = try await assertThrows(\.notSetUp) { try await bare.route(Sample.inG1) }
    }

    func testARoutedReportGoesToTheGridWorkerOfItsPlace() async throws {
        let chief = try await deviceOf("psc1")
        let worker = try await deviceOf("gw2")
        let other = try await deviceOf("gw1")
        // The changes stream hears of the routed report. Subscribed here, before the write
        // (Kotlin waits until `collectors` counts its collector).
        let changes = chief.changes()

        // In g2, 10 m off the segment: the street chief chooses neither grid nor segment.
        let r = try await chief.reportRouted(category: Sample.manhole, location: GeoPoint(lon: 0.15, lat: 0.05 + deg(10.0), datum: .wgs84),
                                             description: "井盖破损")
        let heard = try await firstElement(changes, within: 5) { _ in true }
        XCTAssertEqual(heard, [r.caseId])
        XCTAssertEqual(r.route.grid, "g2")
        XCTAssertEqual(r.route.segment, "s1")
        XCTAssertEqual(r.route.gridWorker, "gw2")
        XCTAssertFalse(r.route.outsideStreet)
        let detail = try await chief.detail(r.caseId)
        XCTAssertEqual(detail.grid, "g2")
        XCTAssertEqual(detail.segment, "s1")

        let f = try await chief.forwardRouted(r.caseId, note: "请网格员处理")
        XCTAssertEqual(f.state.status, .forwarded)
        XCTAssertEqual(f.state.assignee, .person(id: "gw2"))
        XCTAssertEqual(f.route, r.route)

        let bytes = try await chief.exportCase(r.caseId)
        try await worker.applyRemote(r.caseId, bytes: bytes)
        try await other.applyRemote(r.caseId, bytes: bytes)
        let inbox = try await worker.inbox()
        XCTAssertEqual(inbox.map(\.id), [r.caseId])
        let otherInbox = try await other.inbox()
        XCTAssertTrue(otherInbox.isEmpty, "not the worker of g1")

        // Outside the street: the plain report refuses it, the routed one files it in g3.
        let far = GeoPoint(lon: 0.3 + deg(120.0), lat: 0.05, datum: .wgs84)
        _ = try await assertThrows(\.invalidInput) {
            try await chief.report(category: Sample.manhole, location: far, description: "井盖破损")
        }
        let outside = try await chief.reportRouted(category: Sample.manhole, location: far, description: "井盖破损")
        XCTAssertTrue(outside.route.outsideStreet)
        let filed = try await chief.detail(outside.caseId)
        XCTAssertEqual(filed.grid, "g3")
    }

    func testASecondNearbyReportOfTheSameCategoryIsOfferedTheFirstAsADuplicate() async throws {
        let d = try await deviceOf("gw1")
        let first = try await d.report(category: Sample.manhole, location: Sample.inG1, description: "井盖破损")
        // Another category: never suggested.
        _ = try await d.report(category: Sample.litter, location: Sample.inG1, description: "垃圾满溢")
        let here = GeoPoint(lon: 0.05 + deg(50.0), lat: 0.05, datum: .wgs84)

        let found = try await d.duplicateCandidates(category: Sample.manhole, location: here)
        XCTAssertEqual(found.map(\.summary.id), [first])
        let nearest = try XCTUnwrap(found.first)
        XCTAssertLessThan(abs(nearest.distanceM - 50.0), 0.01, "\(nearest.distanceM)")
        let narrow = try await d.duplicateCandidates(category: Sample.manhole, location: here, radiusM: 40.0)
        XCTAssertTrue(narrow.isEmpty)
        let nextWeek = nowMs() + 8 * dayMs
        let late = try await d.duplicateCandidates(category: Sample.manhole, location: here, nowMs: nextWeek)
        XCTAssertTrue(late.isEmpty)
        let longer = try await d.duplicateCandidates(category: Sample.manhole, location: here, days: 9, nowMs: nextWeek)
        XCTAssertEqual(longer.count, 1)
        let bad = try await assertThrows(\.invalidInput) {
            try await d.duplicateCandidates(category: Sample.manhole, location: here, radiusM: -1.0)
        }
        XCTAssertEqual(bad.field, "radius_m")

        // The second report is made anyway and marked: it is not suggested itself.
        let second = try await d.report(category: Sample.manhole, location: here, description: "井盖破损")
        let both = try await d.duplicateCandidates(category: Sample.manhole, location: here)
        XCTAssertEqual(both.map(\.summary.id), [second, first])
        _ = try await d.markDuplicate(second, of: first)
        let marked = try await d.duplicateCandidates(category: Sample.manhole, location: here)
        XCTAssertEqual(marked.map(\.summary.id), [first])
        let reindexed = try await d.reindexPlaces()
        XCTAssertEqual(reindexed, 0)
    }

    func testTheWeeklyMeetingListHoldsAnOverdueCase() async throws {
        let d = try await deviceOf("gw1")
        let id = try await d.report(category: Sample.litter, location: Sample.inG1, description: "垃圾满溢") // due within 4 h
        let early = try await d.meetingList(.week)
        XCTAssertTrue(early.grids.isEmpty, "not overdue yet")

        let deadline = try await d.detail(id).state.deadlineMs
        let now = deadline + hourMs
        let m = try await d.meetingList(.week, nowMs: now)
        XCTAssertEqual(m.period, .week)
        XCTAssertEqual(m.nowMs, now)
        XCTAssertEqual(m.sinceMs, now - 7 * dayMs)
        let g1 = try m.grids.single()
        XCTAssertEqual(g1.id, "g1")
        XCTAssertEqual(g1.overdue.map(\.id), [id])
        XCTAssertTrue(try XCTUnwrap(g1.overdue.first).overdue)
        XCTAssertTrue(g1.escalated.isEmpty && g1.reworked.isEmpty && g1.longOpen.isEmpty)
        let c1 = try m.communities.single()
        XCTAssertEqual(c1.id, "c1")
        XCTAssertEqual(c1.overdue.map(\.id), [id])

        let quarter = try await d.meetingList(.quarter, nowMs: deadline + 92 * dayMs)
        XCTAssertEqual(try quarter.grids.single().longOpen.map(\.id), [id])
    }

    func testRankingsGiveTheFiguresOfASmallDataSet() async throws {
        let d = try await deviceOf("psc1")
        let from = nowMs() - hourMs
        let to = from + 2 * dayMs
        // g1: settled on the spot by the street chief (closed on time).
        let a = try await d.report(category: Sample.litter, location: Sample.inG1, description: "垃圾满溢")
        _ = try await d.handleOnSpot(a, note: "清理完毕", photos: [String(repeating: "ab", count: 32)])
        // g2: forwarded to gw2 and still open, due within 24 h.
        let b = try await d.reportRouted(category: Sample.manhole, location: GeoPoint(lon: 0.15, lat: 0.05, datum: .wgs84), description: "井盖破损")
        _ = try await d.forwardRouted(b.caseId, note: "请处理")

        let r = try await d.rankings(fromMs: from, toMs: to)
        XCTAssertEqual(r.fromMs, from)
        XCTAssertEqual(r.toMs, to)
        XCTAssertEqual(r.grids.map(\.id), ["g1", "g2"])
        guard r.grids.count == 2 else { return }
        let g1 = r.grids[0]
        let g2 = r.grids[1]
        XCTAssertEqual(g1.name, "第g1网格")
        XCTAssertEqual(g1.rank, 1)
        XCTAssertEqual(g1.score, 100.0)
        XCTAssertEqual([g1.raised, g1.due, g1.closed, g1.closedOnTime], [1, 1, 1, 1])
        XCTAssertEqual([g1.resolved, g1.reworked, g1.extended, g1.handledOnSpot], [1, 0, 0, 1])
        XCTAssertEqual([g1.closeRate, g1.onTimeRate, g1.reworkRate, g1.extensionRate], [1.0, 1.0, 0.0, 0.0])
        let hours = try XCTUnwrap(g1.avgHandlingHours)
        XCTAssertTrue((0.0...0.1).contains(hours), "\(hours)")

        // g2: nothing closed, nothing resolved: 100 × (20% × (1 − 0) + 10% × (1 − 0)) = 30.
        XCTAssertEqual(g2.rank, 2)
        XCTAssertEqual(g2.score, 30.0)
        XCTAssertEqual([g2.raised, g2.due, g2.closed, g2.closedOnTime], [1, 1, 0, 0])
        XCTAssertEqual(g2.closeRate, 0.0)
        XCTAssertNil(g2.reworkRate, "no resolved cases")
        XCTAssertNil(g2.avgHandlingHours)

        // c1 holds both: 100 × (40% × ½ + 30% × ½ + 20% + 10%) = 65.
        let c1 = try r.communities.single()
        XCTAssertEqual(c1.name, "一社区")
        XCTAssertEqual(c1.score, 65.0)
        XCTAssertEqual(c1.closeRate, 0.5)
        XCTAssertEqual([c1.due, c1.closed], [2, 1])
        XCTAssertEqual(r.people.map(\.id), ["psc1", "gw2"])
        XCTAssertEqual(r.people.map(\.name), ["测试psc1", "测试gw2"])
        XCTAssertEqual(r.people.map(\.rank), [1, 2])
        XCTAssertTrue(r.departments.isEmpty)

        let empty = try await d.rankings(fromMs: 0, toMs: 1_000)
        XCTAssertTrue(empty.grids.isEmpty)
        let bad = try await assertThrows(\.invalidInput) { try await d.rankings(fromMs: to, toMs: from) }
        XCTAssertEqual(bad.field, "to_ms")
    }

    func testTheNoticeBoardNamesTheStreetChiefsOfTheSegment() async throws {
        let d = try await deviceOf("gw1")
        let board = try await d.noticeBoard()
        XCTAssertEqual(board.street, "样例街道")
        let s1 = try board.segments.single()
        XCTAssertEqual(s1.segment, "s1")
        XCTAssertEqual(s1.name, "样例大街一段")
        XCTAssertEqual(s1.road, "样例大街")
        XCTAssertEqual(s1.community, "一社区")
        let chief = try XCTUnwrap(s1.people.first)
        XCTAssertEqual(chief.person, "psc1")
        XCTAssertEqual(chief.role, "党员街长")
        XCTAssertEqual(chief.name, "测试psc1")
        XCTAssertTrue(s1.people.contains { $0.person == "msc1" })
        XCTAssertTrue(s1.people.contains { $0.person == "gw1" } && s1.people.contains { $0.person == "gw2" })

        let html = try await d.noticeBoardHtml()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("样例街道街长公示栏"))
        XCTAssertTrue(html.contains("测试psc1"), "the party street chief's name")
        XCTAssertTrue(html.contains("测试msc1"), "the merchant street chief's name")

        let bare = try await Xiangying.open(dir: tempDir("bare"))
        _ = try await assertThrows(\.notSetUp) { try await bare.noticeBoardHtml() }
    }
}
