// Test fixtures: the sample street of xiangying-core (its people gw1, psc1, cc1, center, vol1,
// res1, …) loaded from the repository's test data, and stores in temporary folders.
package cn.xiangying

import cn.xiangying.ffi.Datum
import cn.xiangying.ffi.GeoPoint
import java.io.File
import java.nio.file.Files

object Sample {
    private val dir: File = run {
        // Maven runs in android/xiangying; the sample JSON lives under bindings/testdata.
        var d: File? = File("").absoluteFile
        while (d != null && !File(d, "bindings/testdata/sample-roster.json").exists()) d = d.parentFile
        File(d ?: error("run the tests inside the repository"), "bindings/testdata")
    }

    /** A file of bindings/testdata. */
    fun file(name: String): File = File(dir, name)

    val rosterJson: String by lazy { File(dir, "sample-roster.json").readText() }
    val catalogueJson: String by lazy { File(dir, "sample-catalogue.json").readText() }

    /** A point inside grid g1 on segment s1. */
    val IN_G1 = GeoPoint(lon = 0.05, lat = 0.05, datum = Datum.WGS84)

    /** 垃圾满溢: an event handled in the grid within 4 h. */
    const val LITTER = "020101"

    /** 井盖破损: a component, 24 h. */
    const val MANHOLE = "010101"

    /** 居民求助: resident help, community, 24 h. */
    const val HELP = "030901"
}

fun tempDir(prefix: String): File = Files.createTempDirectory("xiangying-$prefix").toFile().also { it.deleteOnExit() }

/** Opens a store in a fresh folder, installs the sample street and enrols [person]. */
suspend fun deviceOf(person: String): Xiangying {
    val d = Xiangying.open(tempDir(person))
    d.installOrg(Sample.rosterJson, Sample.catalogueJson)
    d.setPerson(person)
    return d
}

/** A small real JPEG (javax.imageio), different for each [seed]. */
fun jpeg(seed: Int, width: Int = 320, height: Int = 240): ByteArray {
    val img = java.awt.image.BufferedImage(width, height, java.awt.image.BufferedImage.TYPE_INT_RGB)
    for (y in 0 until height) for (x in 0 until width) {
        img.setRGB(x, y, (((x + seed) and 0xff) shl 16) or ((y and 0xff) shl 8) or (seed and 0xff))
    }
    val out = java.io.ByteArrayOutputStream()
    check(javax.imageio.ImageIO.write(img, "jpg", out)) { "no JPEG writer" }
    return out.toByteArray()
}

/** Opens a store in a fresh folder and enrols it with [server] as [person]. */
suspend fun enrolled(server: SyncServer, person: String): Xiangying {
    val d = Xiangying.open(tempDir("$person-synced"))
    val claim = d.enrol(server.url, server.issueCode(person), "$person's test phone")
    check(claim.person == person)
    return d
}
