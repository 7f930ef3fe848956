// Map datums and camera capture records through the real library, on the committed Zhenxing
// street (data/zhenxing, near Panjin, where GCJ-02 is about 500 m and BD-09 about 1.2 km off
// WGS-84 and a grid is about 100 m): a report placed from an AMap/Tencent (GCJ-02) or Baidu
// (BD-09) map tap inside grid g05 lands in g05 and goes to its grid worker, where the same
// numbers taken as WGS-84 would fall in another grid or outside the street; positions come
// back in the map's datum; a photo placed by the camera's record (GCJ-02) lands in g05 while
// its EXIF says another grid or nothing; HEIC is refused naming HEIC.
package cn.xiangying

import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.Assignee
import cn.xiangying.ffi.CameraPhoto
import cn.xiangying.ffi.Datum
import cn.xiangying.ffi.ErrorCode
import cn.xiangying.ffi.GeoPoint
import cn.xiangying.ffi.PatrolPlace
import cn.xiangying.ffi.PhotoCapture
import cn.xiangying.ffi.PhotoStage
import cn.xiangying.ffi.TrackPoint
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.ByteArrayOutputStream
import java.io.DataOutputStream
import java.io.File
import kotlin.math.abs
import kotlin.math.roundToLong

/** The committed Zhenxing street (data/zhenxing) and places in it. */
object DatumPlaces {
    private val dir: File = run {
        var d: File? = File("").absoluteFile
        while (d != null && !File(d, "data/zhenxing/roster.json").exists()) d = d.parentFile
        File(d ?: error("run the tests inside the repository"), "data/zhenxing")
    }
    val rosterJson: String by lazy { File(dir, "roster.json").readText() }
    val catalogueJson: String by lazy { File(dir, "catalogue.json").readText() }

    /** The middle of grid g05 (兴隆社区第5网格), WGS-84, from its polygon in roster.json. */
    val G05 = GeoPoint(lon = 122.0455606, lat = 41.1213490, datum = Datum.WGS84)

    /**
     * The same place as AMap or Tencent show it, and as Baidu shows it: computed (to 1e-7°)
     * with the published formulas as wandergis/coordtransform writes them (wgs84togcj02, then
     * gcj02tobd09), an implementation independent of the core's.
     */
    val G05_GCJ = GeoPoint(lon = 122.0510052, lat = 41.1233984, datum = Datum.GCJ02)
    val G05_BD = GeoPoint(lon = 122.0573839, lat = 41.1296994, datum = Datum.BD09)

    /** The middle of grid g37, WGS-84: where the EXIF of the test photo says it was taken. */
    val G37 = GeoPoint(lon = 122.0506342, lat = 41.1213490, datum = Datum.WGS84)

    /** 井盖破损 (a manhole cover), in the street's catalogue. */
    const val MANHOLE = "010101"

    /** A sub-district official: their reports go to the grid worker of the grid they lie in. */
    const val OFFICIAL = "official-01"
}

/** A store on the Zhenxing street used by [person], its map in [mapDatum]. */
suspend fun datumDevice(person: String, mapDatum: Datum): Xiangying {
    val d = Xiangying.open(tempDir("$person-${mapDatum.name}"), mapDatum = mapDatum)
    d.installOrg(DatumPlaces.rosterJson, DatumPlaces.catalogueJson)
    d.setPerson(person)
    return d
}

/**
 * [jpeg] with an EXIF block (APP1) whose GPS tags say ([lat] N, [lon] E), as a camera writes
 * them: degrees, minutes, seconds as rationals, big-endian TIFF.
 */
fun withExifGps(jpeg: ByteArray, lat: Double, lon: Double): ByteArray {
    val tiff = ByteArrayOutputStream()
    val o = DataOutputStream(tiff)
    o.writeBytes("MM"); o.writeShort(42); o.writeInt(8)
    // IFD0 at 8: one entry, the GPS IFD pointer (to 26); no next IFD.
    o.writeShort(1); o.writeShort(0x8825); o.writeShort(4); o.writeInt(1); o.writeInt(26); o.writeInt(0)
    // The GPS IFD at 26: references inline, the rationals at 80 (latitude) and 104 (longitude).
    o.writeShort(4)
    o.writeShort(1); o.writeShort(2); o.writeInt(2); o.writeBytes("N\u0000\u0000\u0000")
    o.writeShort(2); o.writeShort(5); o.writeInt(3); o.writeInt(80)
    o.writeShort(3); o.writeShort(2); o.writeInt(2); o.writeBytes("E\u0000\u0000\u0000")
    o.writeShort(4); o.writeShort(5); o.writeInt(3); o.writeInt(104)
    o.writeInt(0)
    for (v in listOf(lat, lon)) {
        val d = v.toInt()
        val m = ((v - d) * 60).toInt()
        val micros = (((v - d) * 3600 - m * 60) * 1_000_000).roundToLong().toInt()
        o.writeInt(d); o.writeInt(1); o.writeInt(m); o.writeInt(1); o.writeInt(micros); o.writeInt(1_000_000)
    }
    val body = "Exif\u0000\u0000".toByteArray(Charsets.ISO_8859_1) + tiff.toByteArray()
    val len = body.size + 2
    val app1 = byteArrayOf(0xFF.toByte(), 0xE1.toByte(), (len shr 8).toByte(), (len and 0xFF).toByte()) + body
    return jpeg.copyOfRange(0, 2) + app1 + jpeg.copyOfRange(2, jpeg.size)
}

/** Asserts [p] is [want] (same datum, both coordinates within [tol] degrees). */
fun assertAt(want: GeoPoint, p: GeoPoint?, tol: Double = 1e-6) {
    requireNotNull(p) { "no position, want $want" }
    assertEquals(want.datum, p.datum)
    assertTrue(abs(p.lon - want.lon) < tol && abs(p.lat - want.lat) < tol, "$p, want $want")
}

class DatumTest {
    @Test
    fun `a GCJ-02 and a BD-09 map tap in grid g05 land there and go to its grid worker`() = runBlocking {
        val d = datumDevice(DatumPlaces.OFFICIAL, Datum.WGS84)
        for (tap in listOf(DatumPlaces.G05_GCJ, DatumPlaces.G05_BD)) {
            // The same numbers taken as WGS-84 fall elsewhere: without the conversion this
            // test could not pass.
            val raw = d.route(tap.copy(datum = Datum.WGS84))
            assertTrue(raw.grid != "g05" || raw.outsideStreet, "${tap.datum} unconverted: $raw")

            val route = d.route(tap)
            assertEquals("g05", route.grid, "${tap.datum}")
            assertEquals("gw-g05", route.gridWorker)
            assertEquals(false, route.outsideStreet)

            val id = d.report(DatumPlaces.MANHOLE, tap, "井盖破损（${tap.datum}地图选点）")
            val case = d.case(id)
            assertEquals("g05", case.grid)
            assertEquals(Assignee.Person("gw-g05"), case.state.assignee)
            // Stored as WGS-84, read back in the map's: within 0.1 m from GCJ-02 (the exact
            // inverse), within a metre from BD-09 (Baidu's closed-form inverse leaves ~0.15 m).
            assertAt(DatumPlaces.G05, case.location, if (tap.datum == Datum.GCJ02) 1e-6 else 1e-5)

            val routed = d.reportRouted(DatumPlaces.MANHOLE, tap, "井盖破损（按路由）")
            assertEquals("g05", routed.route.grid)
            assertEquals("g05", d.case(routed.caseId).grid)
        }
        // Without conversion the unconverted GCJ-02 numbers are in grid g33: check the
        // control point says so, so a regression cannot hide behind "outside".
        assertEquals("g33", d.route(DatumPlaces.G05_GCJ.copy(datum = Datum.WGS84)).grid)
        d.close()
    }

    @Test
    fun `positions are read back in the map's datum`() = runBlocking {
        val d = datumDevice(DatumPlaces.OFFICIAL, Datum.GCJ02)
        assertEquals(Datum.GCJ02, d.mapDatum())
        val id = d.report(DatumPlaces.MANHOLE, DatumPlaces.G05_GCJ, "井盖破损")
        assertAt(DatumPlaces.G05_GCJ, d.case(id).location, 1e-6)
        d.setMapDatum(Datum.BD09)
        assertAt(DatumPlaces.G05_BD, d.case(id).location, 1e-6)
        d.setMapDatum(Datum.WGS84)
        assertAt(DatumPlaces.G05, d.case(id).location, 1e-6)
        // Given in BD-09, read back in each datum within a metre.
        val bd = d.report(DatumPlaces.MANHOLE, DatumPlaces.G05_BD, "井盖破损（百度）")
        for (want in listOf(DatumPlaces.G05, DatumPlaces.G05_GCJ, DatumPlaces.G05_BD)) {
            d.setMapDatum(want.datum)
            assertAt(want, d.case(bd).location, 1e-5)
        }
        d.close()

        // A grid worker's patrol track from AMap's location SDK (GCJ-02) comes back on a Baidu
        // map in BD-09 and on no map in WGS-84; the walked length is the same either way.
        val w = datumDevice("gw-g05", Datum.BD09)
        val patrol = w.startPatrol(PatrolPlace.Grid("g05"))
        val t0 = System.currentTimeMillis()
        w.recordTrack(patrol, listOf(
            TrackPoint(atMs = t0, lon = DatumPlaces.G05_GCJ.lon, lat = DatumPlaces.G05_GCJ.lat, accuracyM = 5.0, datum = Datum.GCJ02),
            TrackPoint(atMs = t0 + 5_000, lon = DatumPlaces.G05_GCJ.lon, lat = DatumPlaces.G05_GCJ.lat + 0.0002, accuracyM = 5.0, datum = Datum.GCJ02),
        ))
        val track = w.patrol(patrol).track
        assertEquals(listOf(Datum.BD09, Datum.BD09), track.map { it.datum })
        assertAt(DatumPlaces.G05_BD, GeoPoint(track[0].lon, track[0].lat, track[0].datum), 1e-5)
        w.setMapDatum(Datum.WGS84)
        val first = w.patrol(patrol).track[0]
        assertAt(DatumPlaces.G05, GeoPoint(first.lon, first.lat, first.datum), 1e-6)
        assertTrue(abs(w.patrol(patrol).distanceM - 22.2) < 1.0, "${w.patrol(patrol).distanceM}")
        w.close()
    }

    @Test
    fun `a photo placed by the camera's GCJ-02 record lands in g05 whatever its EXIF says`() = runBlocking {
        val d = datumDevice(DatumPlaces.OFFICIAL, Datum.GCJ02)
        val takenAt = 1_700_000_000_123L
        val camera = PhotoCapture(takenAtMs = takenAt, place = DatumPlaces.G05_GCJ)
        val exifInG37 = withExifGps(jpeg(21), lat = DatumPlaces.G37.lat, lon = DatumPlaces.G37.lon)

        // The control: no camera record, no location: the EXIF places it, in g37.
        val byExif = d.case(d.reportWithPhotos(DatumPlaces.MANHOLE, null, "照片定位（EXIF）", listOf(CameraPhoto(exifInG37))))
        assertEquals("g37", byExif.grid)
        assertEquals(Assignee.Person("gw-g37"), byExif.state.assignee)

        // The camera's record wins over the EXIF, and over no EXIF at all.
        for (bytes in listOf(exifInG37, jpeg(22))) {
            val id = d.reportWithPhotos(DatumPlaces.MANHOLE, null, "照片定位（相机）", listOf(CameraPhoto(bytes, camera)))
            val case = d.case(id)
            assertEquals("g05", case.grid)
            assertEquals(Assignee.Person("gw-g05"), case.state.assignee)
            assertAt(DatumPlaces.G05_GCJ, case.location, 1e-6)
            val photo = case.photos.single()
            assertEquals(takenAt, photo.capturedAtMs)
            assertAt(DatumPlaces.G05_GCJ, photo.place, 1e-6) // kept in WGS-84, read back in GCJ-02
        }

        // An attached photo keeps its camera record too (here a Baidu place).
        val id = d.report(DatumPlaces.MANHOLE, DatumPlaces.G05_GCJ, "井盖破损")
        val after = d.attachPhoto(id, jpeg(23), PhotoStage.AFTER, PhotoCapture(place = DatumPlaces.G05_BD))
        assertAt(DatumPlaces.G05_GCJ, after.place, 1e-5)
        assertEquals(null, after.capturedAtMs)

        // No location and no place anywhere: the report is refused, naming the location.
        val none = assertThrows<ApiException.InvalidInput> {
            runBlocking { d.reportWithPhotos(DatumPlaces.MANHOLE, null, "无定位", listOf(CameraPhoto(jpeg(24)))) }
        }
        assertEquals("location", none.field)
        d.close()
    }

    @Test
    fun `HEIC is refused naming HEIC, and nothing is written`() = runBlocking {
        val d = datumDevice(DatumPlaces.OFFICIAL, Datum.WGS84)
        val heic = byteArrayOf(0, 0, 0, 0x18) + "ftypheic".toByteArray() + byteArrayOf(0, 0, 0, 0) + "mif1heic".toByteArray()
        val e = assertThrows<ApiException.PhotoRejected> {
            runBlocking {
                d.reportWithPhotos(DatumPlaces.MANHOLE, DatumPlaces.G05, "HEIC", listOf(CameraPhoto(heic, PhotoCapture(place = DatumPlaces.G05_GCJ))))
            }
        }
        assertTrue(e.reason.contains("HEIC"), e.reason)
        assertEquals(ErrorCode.PHOTO_HEIC, e.code)
        assertTrue(d.device.allCases(10u).isEmpty())
        d.close()
    }
}
