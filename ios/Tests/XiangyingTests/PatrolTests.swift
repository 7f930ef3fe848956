// Patrols (巡查, 三陪同) through the real library, on real device stores of the sample street: a
// grid worker's patrol with a few hundred fixes recorded in batches, an official walking
// along, the end and the whole track; the patrol stream refreshing as fixes arrive; a bad fix
// refusing its batch (naming the fix) with nothing stored; who may patrol where; the weekly
// accompaniment count on the worker's and the community chief's devices; and the patrol
// figures of the rankings. The mirror of the Kotlin PatrolTest. (SyncTests sends a patrol
// through a real server.)
import Foundation
import XCTest
@testable import Xiangying

final class PatrolTests: XCTestCase {
    func testAPatrolRecordsAFewHundredFixesInBatchesAnOfficialWalksAlongAndItEnds() async throws {
        let d = try await deviceOf("gw1")
        let none = try await d.activePatrol()
        XCTAssertNil(none)
        let id = try await d.startPatrol(g1)
        let activeNow = try await d.activePatrol()
        let active = try XCTUnwrap(activeNow)
        XCTAssertEqual(active.id, id)
        XCTAssertEqual(active.place, g1)
        XCTAssertEqual(active.community, "c1")
        XCTAssertEqual(active.walkerName, "测试gw1")
        XCTAssertNil(active.endedAtMs)

        // The patrol stream shows the first state, then refreshes as batches arrive. Made here,
        // before the batches (Kotlin waits until `collectors` counts the collector).
        let updates = d.patrolUpdates(id)

        // 360 fixes in batches of 30: buffered until 120, then packed into the document.
        let points = fixes(360, startMs: active.startedAtMs + 1_000)
        var waiting: [UInt32] = []
        for batch in points.chunked(30) {
            waiting.append(try await d.recordTrack(id, points: batch))
        }
        XCTAssertEqual(waiting, [30, 60, 90, 0, 30, 60, 90, 0, 30, 60, 90, 0])
        let flowed = try await take(2, from: updates, within: 5)
        XCTAssertEqual(flowed.count, 2)
        let second = try XCTUnwrap(flowed.last)
        XCTAssertEqual(second.id, id)
        XCTAssertGreaterThan(second.points, 0)
        let recorded = try await d.patrol(id)
        XCTAssertEqual(recorded.points, 360)

        let withOfficial = try await d.addCompanion(id, personId: "official")
        let companion = try withOfficial.companions.single()
        XCTAssertEqual(companion.person, "official")
        XCTAssertEqual(companion.name, "测试official")
        XCTAssertEqual(companion.role, .streetOfficial)
        XCTAssertEqual(companion.kind, .official)

        let ended = try await d.endPatrol(id)
        XCTAssertNotNil(ended.endedAtMs)
        XCTAssertNil(ended.voided)
        XCTAssertEqual(ended.walker.person, "gw1")
        XCTAssertEqual(ended.track.count, 360)
        XCTAssertEqual(ended.points, 360)
        XCTAssertGreaterThanOrEqual(ended.durationMs, 0)
        // 359 steps of about 4 m north.
        XCTAssertTrue((1_400.0...1_500.0).contains(ended.distanceM), "\(ended.distanceM)")
        for (a, b) in zip(points, ended.track) {
            XCTAssertEqual(a.atMs, b.atMs)
            XCTAssertTrue(abs(a.lat - b.lat) < 1e-6 && abs(a.lon - b.lon) < 1e-6)
        }
        let again = try await d.patrol(id)
        XCTAssertEqual(ended, again)
        let after = try await d.activePatrol()
        XCTAssertNil(after)
        let row = try await d.patrols().single()
        XCTAssertEqual(row.id, id)
        XCTAssertEqual(row.companions, 1)
        XCTAssertEqual(row.endedAtMs, ended.endedAtMs)
        XCTAssertFalse(row.voided)
    }

    func testABadFixRefusesItsWholeBatchNamingTheFixAndNothingIsStored() async throws {
        let d = try await deviceOf("gw1")
        let id = try await d.startPatrol(g1)
        let start = try await d.patrol(id).startedAtMs
        let points = fixes(40, startMs: start + 1_000)
        let buffered = try await d.recordTrack(id, points: Array(points.prefix(20)))
        XCTAssertEqual(buffered, 20)
        let outbox = try await d.outboxLen()

        var bad = Array(points.dropFirst(20))
        bad[7] = TrackPoint(atMs: bad[7].atMs, lon: bad[7].lon, lat: 91.0, accuracyM: bad[7].accuracyM, datum: .wgs84)
        let refusedBatch = bad
        let e = try await assertThrows(\.invalidInput) { try await d.recordTrack(id, points: refusedBatch) }
        XCTAssertEqual(e.field, "track")
        XCTAssertTrue(e.problem.hasPrefix("track point #7"), e.problem)
        var back = Array(points.dropFirst(20))
        back[0] = TrackPoint(atMs: points[3].atMs, lon: back[0].lon, lat: back[0].lat, accuracyM: back[0].accuracyM, datum: .wgs84)
        let backwards = back
        let e2 = try await assertThrows(\.invalidInput) { try await d.recordTrack(id, points: backwards) }
        XCTAssertTrue(e2.problem.hasPrefix("track point #0"), e2.problem)
        let kept = try await d.patrol(id)
        XCTAssertEqual(kept.track.count, 20)
        let outboxAfter = try await d.outboxLen()
        XCTAssertEqual(outbox, outboxAfter)
        // The good batch goes in afterwards.
        let all = try await d.recordTrack(id, points: Array(points.dropFirst(20)))
        XCTAssertEqual(all, 40)

        // One patrol at a time, on my own grid only; unknown patrols are NotFound.
        let twice = try await assertThrows(\.notAllowed) { try await d.startPatrol(g1) }
        XCTAssertTrue(twice.reason.contains("still under way"), twice.reason)
        let other = try await deviceOf("gw2")
        _ = try await assertThrows(\.notAllowed) { try await other.startPatrol(g1) }
        let missing = try await assertThrows(\.notFound) { try await d.patrol("nope") }
        XCTAssertEqual(missing.what, "patrol")
        _ = try await assertThrows(\.notAllowed) { try await d.addCompanion(id, personId: "vol1") }
        _ = try await assertThrows(\.notFound) { try await d.addCompanion(id, personId: "nobody") }
        _ = try await d.endPatrol(id)
        _ = try await assertThrows(\.notAllowed) {
            try await d.recordTrack(id, points: fixes(1, startMs: start + hourMs))
        }
    }

    func testTheWeeklyCountAndTheRankingsShowWhoWalkedAlong() async throws {
        let gw1 = try await deviceOf("gw1")
        let gw2 = try await deviceOf("gw2")
        let chief = try await deviceOf("cc1")
        let official = try await deviceOf("official")
        // gw1 walks twice with the official, who confirms from their own device; gw2 once with
        // the police, who does not confirm. The chief takes them in.
        var walked: [String] = []
        for (d, with) in [(gw1, "official"), (gw1, "official"), (gw2, "police1")] {
            let id = try await d.startPatrol(.grid(id: d === gw1 ? "g1" : "g2"))
            _ = try await d.addCompanion(id, personId: with)
            _ = try await d.endPatrol(id)
            var bytes = try await d.exportCase(id)
            if with == "official" {
                try await official.applyRemote(id, bytes: bytes)
                let awaiting = try await official.accompanimentsAwaitingMe()
                XCTAssertTrue(awaiting.contains { $0.id == id })
                _ = try await official.confirmAccompaniment(id)
                bytes = try await official.exportCase(id)
            }
            try await chief.applyRemote(id, bytes: bytes)
            walked.append(id)
        }
        let held = try await chief.patrols()
        XCTAssertEqual(Set(walked), Set(held.map(\.id)))
        let at = try await chief.patrol(walked[0]).startedAtMs

        let week = try await chief.weeklyAccompaniments(atMs: at)
        XCTAssertTrue(week.weekStartMs <= at && at - week.weekStartMs < 7 * dayMs)
        let rows = Dictionary(week.people.map { ($0.person, $0) }, uniquingKeysWith: { _, last in last })
        XCTAssertEqual(Set(rows.keys), ["gw1", "gw2"], "the grid workers of c1")
        let w1 = try XCTUnwrap(rows["gw1"])
        XCTAssertEqual([w1.patrols, w1.official, w1.department], [2, 2, 0])
        XCTAssertTrue(w1.meetsRule)
        XCTAssertEqual(w1.name, "测试gw1")
        let w2 = try XCTUnwrap(rows["gw2"])
        XCTAssertEqual([w2.patrols, w2.official, w2.department], [1, 0, 0])
        XCTAssertEqual(w2.departmentUnconfirmed, 1, "the police never confirmed")
        XCTAssertFalse(w2.meetsRule)
        XCTAssertEqual(w2.officialNeeded, 2)
        let mine = try await gw2.weeklyAccompaniments()
        XCTAssertEqual(mine.people.map(\.person), ["gw2"])
        let bad = try await assertThrows(\.invalidInput) { try await chief.weeklyAccompaniments(atMs: -1) }
        XCTAssertEqual(bad.field, "at_ms")

        // The rankings count the patrols beside the cases: 巡查次数, 陪同巡查次数, 参与陪同次数.
        let r = try await chief.rankings(fromMs: at - hourMs, toMs: at + dayMs)
        let grid1 = try r.grids.single { $0.id == "g1" }
        XCTAssertEqual([grid1.patrols, grid1.accompanied], [2, 2])
        XCTAssertNil(grid1.rank, "patrols alone give no score")
        XCTAssertEqual(try r.communities.single { $0.id == "c1" }.patrols, 3)
        XCTAssertEqual(try r.people.single { $0.id == "official" }.accompaniments, 2)
        // The police never confirmed: the rankings do not count that accompaniment either.
        XCTAssertEqual(r.departments.first { $0.id == "police" }?.accompaniments ?? 0, 0)
        XCTAssertTrue(grid1.patrolMs >= 0 && abs(grid1.patrolHours - Double(grid1.patrolMs) / 3_600_000.0) < 1e-9)
    }
}
