// Map datums on the Kotlin layer (decision 0031): which datum positions come back in. Every
// position given to the API says its own datum (GeoPoint.datum, TrackPoint.datum,
// PhotoCapture.place); positions read back (a case's location, a photo's place, a patrol's
// track) are in the map datum set here or by Xiangying.open(..., mapDatum).
package cn.xiangying

import cn.xiangying.ffi.Datum

/**
 * Sets the datum of the app's map (AMap, Tencent: `GCJ02`; Baidu: `BD09`; OpenStreetMap or
 * none: `WGS84`): every position read back from now on is converted to it and says so.
 */
suspend fun Xiangying.setMapDatum(datum: Datum) = onIo { setMapDatum(datum) }

/** The datum positions are read back in (see [setMapDatum]). */
suspend fun Xiangying.mapDatum(): Datum = onIo { mapDatum() }
