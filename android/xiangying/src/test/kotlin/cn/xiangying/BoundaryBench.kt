// The Kotlin side of the boundary benchmark (the Rust side is bindings/benches/boundary.rs):
// the same reports and the same ~300 KB document, through the generated bindings (JNA) on the
// host JVM. Off by default; run with
//   mvn -B test -Dtest=BoundaryBench -Dxiangying.bench=true
package cn.xiangying

import cn.xiangying.ffi.CameraPhoto
import cn.xiangying.ffi.NewReport
import cn.xiangying.ffi.XiangyingDevice
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.condition.EnabledIfSystemProperty

@EnabledIfSystemProperty(named = "xiangying.bench", matches = "true")
class BoundaryBench {
    private fun device(person: String): XiangyingDevice {
        val d = XiangyingDevice.open(tempDir(person).path)
        d.installOrg(Sample.rosterJson, Sample.catalogueJson)
        d.setPerson(person)
        return d
    }

    private fun report(i: Int) = NewReport(
        category = if (i % 2 == 0) Sample.LITTER else Sample.MANHOLE,
        location = Sample.IN_G1,
        description = "第${i}号问题：井盖破损，需要更换",
    )

    /** The same letters as `noise` in boundary.rs. */
    private fun noise(seed: Long, len: Int): String {
        var x = seed * 6364136223846793005L + 1
        val sb = StringBuilder(len)
        repeat(len) {
            x = x * 6364136223846793005L + 1442695040888963407L
            sb.append(('a'.code + ((x ushr 33) % 26).toInt()).toChar())
        }
        return sb.toString()
    }

    private fun stats(name: String, lat: LongArray) {
        val n = lat.size
        val total = lat.sum()
        lat.sort()
        println(
            "%s x%d: %.0f/s, mean %.1f µs, p50 %.1f µs, p99 %.1f µs".format(
                name, n, n / (total / 1e9), total / n / 1e3, lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3,
            ),
        )
    }

    private inline fun timed(n: Int, f: (Int) -> Unit): LongArray = LongArray(n) { i ->
        val t = System.nanoTime()
        f(i)
        System.nanoTime() - t
    }

    @Test
    fun photo() {
        val path = System.getProperty("xiangying.benchPhoto").orEmpty()
        val photo = if (path.isNotBlank()) java.io.File(path).readBytes() else jpeg(1, 4000, 3000)
        println("photo: ${photo.size} bytes${if (path.isBlank()) " (made with javax.imageio)" else " from $path"}")
        val d = device("gw1")
        runBlocking { repeat(3) { d.reportWithPhotos(report(it), listOf(CameraPhoto(photo))) } }
        stats("kotlin report_with_photos 3MB (suspend, generated)", timed(20) { i -> runBlocking { d.reportWithPhotos(report(i), listOf(CameraPhoto(photo))) } })
        d.close()
    }

    @Test
    fun boundary() {
        val d = device("gw1")
        repeat(200) { d.report(report(it)) } // warm-up (JIT, JNA)
        stats("kotlin report", timed(5_000) { d.report(report(it)) })
        stats("kotlin me() (call floor)", timed(20_000) { d.me() })
        stats("kotlin inbox(50) of 5200", timed(1_000) { d.inbox(50u) })

        val k = runBlocking { Xiangying.open(tempDir("gw1s")).also { it.installOrg(Sample.rosterJson, Sample.catalogueJson); it.setPerson("gw1") } }
        runBlocking { repeat(200) { k.report(Sample.LITTER, Sample.IN_G1, "预热$it") } }
        stats("kotlin report (suspend layer)", timed(5_000) { i -> runBlocking { k.report(Sample.LITTER, Sample.IN_G1, "第${i}号问题：井盖破损，需要更换") } })

        val id = d.report(report(0))
        var i = 0L
        while (d.exportCase(id).size < 300_000) {
            d.note(id, noise(i, 4_000))
            i++
        }
        val bytes = d.exportCase(id)
        println("document: ${bytes.size} bytes, $i notes")
        stats("kotlin export_case 300KB", timed(100) { d.exportCase(id) })
        val o = device("cc1")
        o.applyRemote(id, bytes)
        stats("kotlin apply_remote 300KB (known)", timed(100) { o.applyRemote(id, bytes) })
        d.close(); o.close(); k.close()
    }
}
