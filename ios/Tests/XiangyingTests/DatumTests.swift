// Map datums and camera capture records through the real library, mirroring the Kotlin
// DatumTest on the committed Zhenxing street (data/zhenxing, near Panjin, where GCJ-02 is about
// 500 m and BD-09 about 1.2 km off WGS-84 and a grid is about 100 m): a report placed from a
// MapKit/AMap (GCJ-02) or Baidu (BD-09) map tap inside grid g05 lands in g05 and goes to its
// grid worker, where the same numbers taken as WGS-84 fall elsewhere; positions come back in
// the map's datum; a photo placed by the camera's record (GCJ-02) lands in g05 while its EXIF
// says another grid or nothing; HEIC is refused naming HEIC.
import Foundation
import XCTest
@testable import Xiangying

enum DatumPlaces {
    /// The committed street's files.
    static func text(_ name: String) throws -> String {
        try String(contentsOf: Sample.root.appendingPathComponent("data/zhenxing/\(name)"), encoding: .utf8)
    }

    /// The middle of grid g05 (兴隆社区第5网格), WGS-84, from its polygon in roster.json.
    static let g05 = GeoPoint(lon: 122.0455606, lat: 41.1213490, datum: .wgs84)
    /// The same place on AMap, Tencent or MapKit in China, and on Baidu: computed (to 1e-7°)
    /// with the published formulas as wandergis/coordtransform writes them (wgs84togcj02,
    /// then gcj02tobd09), an implementation independent of the core's.
    static let g05Gcj = GeoPoint(lon: 122.0510052, lat: 41.1233984, datum: .gcj02)
    static let g05Bd = GeoPoint(lon: 122.0573839, lat: 41.1296994, datum: .bd09)
    /// The middle of grid g37, WGS-84: where the EXIF of the test photo says it was taken.
    static let g37 = GeoPoint(lon: 122.0506342, lat: 41.1213490, datum: .wgs84)
    /// 井盖破损 (a manhole cover), in the street's catalogue.
    static let manhole = "010101"
    /// A sub-district official: their reports go to the grid worker of the grid they lie in.
    static let official = "official-01"

    /// A 16 × 12 baseline JPEG without metadata (written by javax.imageio).
    static let jpeg = Data(base64Encoded: "/9j/4AAQSkZJRgABAgAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAAMABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDh7Dw30+T9K6ew8N9Pk/SupsbGDj5K6axsYOPkpYvNZmPD+d1ND//Z")!

    /// `jpeg` with a comment segment carrying `seed`, so each photo hashes differently.
    static func photo(_ seed: UInt8) -> Data {
        var d = Data(jpeg.prefix(2))
        d.append(contentsOf: [0xFF, 0xFE, 0x00, 0x03, seed])
        d.append(jpeg.dropFirst(2))
        return d
    }
}

/// A store on the Zhenxing street used by `person`, its map in `mapDatum`.
func datumDevice(_ person: String, mapDatum: Datum) async throws -> Xiangying {
    let d = try await Xiangying.open(dir: tempDir(person), mapDatum: mapDatum)
    try await d.installOrg(rosterJson: DatumPlaces.text("roster.json"), catalogueJson: DatumPlaces.text("catalogue.json"))
    try await d.setPerson(person)
    return d
}

/// `jpeg` with an EXIF block (APP1) whose GPS tags say (`lat` N, `lon` E), as a camera writes
/// them: degrees, minutes, seconds as rationals, big-endian TIFF.
func withExifGps(_ jpeg: Data, lat: Double, lon: Double) -> Data {
    var t = Data()
    func u16(_ v: UInt16) { t.append(contentsOf: [UInt8(v >> 8), UInt8(v & 0xFF)]) }
    func u32(_ v: UInt32) { t.append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]) }
    t.append(contentsOf: Array("MM".utf8)); u16(42); u32(8)
    // IFD0 at 8: the GPS IFD pointer (to 26); no next IFD.
    u16(1); u16(0x8825); u16(4); u32(1); u32(26); u32(0)
    // The GPS IFD at 26: references inline, the rationals at 80 (latitude) and 104 (longitude).
    u16(4)
    u16(1); u16(2); u32(2); t.append(contentsOf: [0x4E, 0, 0, 0])
    u16(2); u16(5); u32(3); u32(80)
    u16(3); u16(2); u32(2); t.append(contentsOf: [0x45, 0, 0, 0])
    u16(4); u16(5); u32(3); u32(104)
    u32(0)
    for v in [lat, lon] {
        let d = Int(v)
        let m = Int((v - Double(d)) * 60)
        let micros = ((v - Double(d)) * 3600 - Double(m * 60)) * 1_000_000
        u32(UInt32(d)); u32(1); u32(UInt32(m)); u32(1); u32(UInt32(micros.rounded())); u32(1_000_000)
    }
    var body = Data(Array("Exif".utf8) + [0, 0])
    body.append(t)
    let len = body.count + 2
    var out = Data(jpeg.prefix(2))
    out.append(contentsOf: [0xFF, 0xE1, UInt8(len >> 8), UInt8(len & 0xFF)])
    out.append(body)
    out.append(jpeg.dropFirst(2))
    return out
}

/// Asserts `p` is `want` (same datum, both coordinates within `tol` degrees).
func assertAt(_ want: GeoPoint, _ p: GeoPoint?, _ tol: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
    guard let p else { return XCTFail("no position, want \(want)", file: file, line: line) }
    XCTAssertEqual(p.datum, want.datum, file: file, line: line)
    XCTAssertTrue(abs(p.lon - want.lon) < tol && abs(p.lat - want.lat) < tol, "\(p), want \(want)", file: file, line: line)
}

final class DatumTests: XCTestCase {
    func testAGCJ02AndABD09MapTapInGridG05LandThereAndGoToItsGridWorker() async throws {
        let d = try await datumDevice(DatumPlaces.official, mapDatum: .wgs84)
        for tap in [DatumPlaces.g05Gcj, DatumPlaces.g05Bd] {
            // The same numbers taken as WGS-84 fall elsewhere: without the conversion this test
            // could not pass.
            let raw = try await d.route(GeoPoint(lon: tap.lon, lat: tap.lat, datum: .wgs84))
            XCTAssertTrue(raw.grid != "g05" || raw.outsideStreet, "\(tap.datum) unconverted: \(raw)")

            let route = try await d.route(tap)
            XCTAssertEqual(route.grid, "g05")
            XCTAssertEqual(route.gridWorker, "gw-g05")
            XCTAssertFalse(route.outsideStreet)

            let id = try await d.report(category: DatumPlaces.manhole, location: tap, description: "井盖破损（地图选点）")
            let detail = try await d.detail(id)
            XCTAssertEqual(detail.grid, "g05")
            XCTAssertEqual(detail.state.assignee, .person(id: "gw-g05"))
            // Within 0.1 m from GCJ-02 (the exact inverse), a metre from BD-09 (closed form).
            assertAt(DatumPlaces.g05, detail.location, tap.datum == .gcj02 ? 1e-6 : 1e-5)

            let routed = try await d.reportRouted(category: DatumPlaces.manhole, location: tap, description: "井盖破损（按路由）")
            XCTAssertEqual(routed.route.grid, "g05")
            let routedDetail = try await d.detail(routed.caseId)
            XCTAssertEqual(routedDetail.grid, "g05")
        }
        let control = try await d.route(GeoPoint(lon: DatumPlaces.g05Gcj.lon, lat: DatumPlaces.g05Gcj.lat, datum: .wgs84))
        XCTAssertEqual(control.grid, "g33")
    }

    func testPositionsAreReadBackInTheMapsDatum() async throws {
        let d = try await datumDevice(DatumPlaces.official, mapDatum: .gcj02)
        let datum = try await d.mapDatum()
        XCTAssertEqual(datum, .gcj02)
        let id = try await d.report(category: DatumPlaces.manhole, location: DatumPlaces.g05Gcj, description: "井盖破损")
        assertAt(DatumPlaces.g05Gcj, try await d.detail(id).location)
        try await d.setMapDatum(.bd09)
        assertAt(DatumPlaces.g05Bd, try await d.detail(id).location)
        try await d.setMapDatum(.wgs84)
        assertAt(DatumPlaces.g05, try await d.detail(id).location)
        let bd = try await d.report(category: DatumPlaces.manhole, location: DatumPlaces.g05Bd, description: "井盖破损（百度）")
        for want in [DatumPlaces.g05, DatumPlaces.g05Gcj, DatumPlaces.g05Bd] {
            try await d.setMapDatum(want.datum)
            assertAt(want, try await d.detail(bd).location, 1e-5)
        }

        // A patrol track from AMap's location SDK (GCJ-02) comes back in BD-09 on a Baidu map.
        let w = try await datumDevice("gw-g05", mapDatum: .bd09)
        let patrol = try await w.startPatrol(.grid(id: "g05"))
        let t0 = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try await w.recordTrack(patrol, points: [
            TrackPoint(atMs: t0, lon: DatumPlaces.g05Gcj.lon, lat: DatumPlaces.g05Gcj.lat, accuracyM: 5, datum: .gcj02),
            TrackPoint(atMs: t0 + 5_000, lon: DatumPlaces.g05Gcj.lon, lat: DatumPlaces.g05Gcj.lat + 0.0002, accuracyM: 5, datum: .gcj02),
        ])
        let track = try await w.patrol(patrol).track
        XCTAssertEqual(track.map(\.datum), [.bd09, .bd09])
        assertAt(DatumPlaces.g05Bd, GeoPoint(lon: track[0].lon, lat: track[0].lat, datum: track[0].datum), 1e-5)
        try await w.setMapDatum(.wgs84)
        let first = try await w.patrol(patrol).track[0]
        assertAt(DatumPlaces.g05, GeoPoint(lon: first.lon, lat: first.lat, datum: first.datum))
        let walked = try await w.patrol(patrol).distanceM
        XCTAssertEqual(walked, 22.2, accuracy: 1.0)
    }

    func testAPhotoPlacedByTheCamerasGCJ02RecordLandsInG05WhateverItsEXIFSays() async throws {
        let d = try await datumDevice(DatumPlaces.official, mapDatum: .gcj02)
        let takenAt: Int64 = 1_700_000_000_123
        let camera = PhotoCapture(takenAtMs: takenAt, place: DatumPlaces.g05Gcj)
        let exifInG37 = withExifGps(DatumPlaces.photo(21), lat: DatumPlaces.g37.lat, lon: DatumPlaces.g37.lon)

        // The control: no camera record, no location: the EXIF places it, in g37.
        let byExifId = try await d.reportWithPhotos(category: DatumPlaces.manhole, location: nil, description: "照片定位（EXIF）",
                                                    photos: [CameraPhoto(bytes: exifInG37, capture: nil)])
        let byExif = try await d.detail(byExifId)
        XCTAssertEqual(byExif.grid, "g37")
        XCTAssertEqual(byExif.state.assignee, .person(id: "gw-g37"))

        // The camera's record wins over the EXIF, and over no EXIF at all.
        for bytes in [exifInG37, DatumPlaces.photo(22)] {
            let id = try await d.reportWithPhotos(category: DatumPlaces.manhole, location: nil, description: "照片定位（相机）",
                                                  photos: [CameraPhoto(bytes: bytes, capture: camera)])
            let detail = try await d.detail(id)
            XCTAssertEqual(detail.grid, "g05")
            XCTAssertEqual(detail.state.assignee, .person(id: "gw-g05"))
            assertAt(DatumPlaces.g05Gcj, detail.location)
            XCTAssertEqual(detail.photos.count, 1)
            XCTAssertEqual(detail.photos.first?.capturedAtMs, takenAt)
            assertAt(DatumPlaces.g05Gcj, detail.photos.first?.place)
        }

        // An attached photo keeps its camera record too (here a Baidu place).
        let id = try await d.report(category: DatumPlaces.manhole, location: DatumPlaces.g05Gcj, description: "井盖破损")
        let after = try await d.attachPhoto(id, bytes: DatumPlaces.photo(23), stage: .after,
                                            capture: PhotoCapture(takenAtMs: nil, place: DatumPlaces.g05Bd))
        assertAt(DatumPlaces.g05Gcj, after.place, 1e-5)
        XCTAssertNil(after.capturedAtMs)

        // No location and no place anywhere: refused, naming the location.
        do {
            _ = try await d.reportWithPhotos(category: DatumPlaces.manhole, location: nil, description: "无定位",
                                             photos: [CameraPhoto(bytes: DatumPlaces.photo(24), capture: nil)])
            XCTFail("a report with no place was accepted")
        } catch ApiError.InvalidInput(let field, _) {
            XCTAssertEqual(field, "location")
        }
    }

    func testHEICIsRefusedNamingHEICAndNothingIsWritten() async throws {
        let d = try await datumDevice(DatumPlaces.official, mapDatum: .wgs84)
        let heic = Data([0, 0, 0, 0x18] + Array("ftypheic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8))
        do {
            _ = try await d.reportWithPhotos(category: DatumPlaces.manhole, location: DatumPlaces.g05, description: "HEIC",
                                             photos: [CameraPhoto(bytes: heic, capture: PhotoCapture(takenAtMs: nil, place: DatumPlaces.g05Gcj))])
            XCTFail("HEIC was accepted")
        } catch ApiError.PhotoRejected(let reason, let code) {
            XCTAssertTrue(reason.contains("HEIC"), reason)
            XCTAssertEqual(code, .photoHeic)
        }
        XCTAssertTrue(try d.device.allCases(limit: 10).isEmpty)
    }
}
