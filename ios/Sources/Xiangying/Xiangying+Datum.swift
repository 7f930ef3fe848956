// Map datums on the Swift layer (decision 0031): which datum positions come back in. Every
// position given to the API says its own datum (GeoPoint.datum, TrackPoint.datum,
// PhotoCapture.place); positions read back (a case's location, a photo's place, a patrol's
// track) are in the map datum set here or by `Xiangying.open(..., mapDatum:)`.
import Foundation

extension Xiangying {
    /// Sets the datum of the app's map (MapKit inside China, AMap, Tencent: `.gcj02`; Baidu:
    /// `.bd09`; none: `.wgs84`): every position read back from now on is converted to it.
    public func setMapDatum(_ datum: Datum) async throws {
        try await run { $0.setMapDatum(datum: datum) }
    }

    /// The datum positions are read back in (see `setMapDatum`).
    public func mapDatum() async throws -> Datum {
        try await run { $0.mapDatum() }
    }
}
