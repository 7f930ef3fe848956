// Logs and identity through the real library: a sync against a REAL xiangying-server hands the
// installed XiangyingLog lines with the core's targets and levels (a sync's start and end, a
// refused action) and no token; and every request's User-Agent, as a real HTTP server on
// loopback sees it, names the app, the core and the platform given at open.
package cn.xiangying

import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.LogLevel
import com.sun.net.httpserver.HttpServer
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.net.InetSocketAddress
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

class LogsTest : WithServer() {
    data class Line(val level: LogLevel, val target: String, val message: String)

    @AfterEach
    fun uninstall() = XiangyingLog.uninstall()

    /** Waits (on the lines arriving, not on a clock) until [lines] holds one matching [p]. */
    private fun awaitLine(lines: ConcurrentLinkedQueue<Line>, p: (Line) -> Boolean): Line {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (System.nanoTime() < deadline) {
            lines.firstOrNull(p)?.let { return it }
            Thread.sleep(10)
        }
        error("no such log line among ${lines.toList()}")
    }

    @Test
    fun `a sync and a refusal log lines with their targets and levels, and no token`() = runBlocking {
        val lines = ConcurrentLinkedQueue<Line>()
        XiangyingLog.install(LogLevel.DEBUG) { level, target, message -> lines.add(Line(level, target, message)) }
        val d = enrolled(server, "gw1")
        val id = d.report(Sample.LITTER, Sample.IN_G1, "井盖缺失，行人易绊倒")
        d.syncNow()
        val started = awaitLine(lines) { it.target == "xiangying::sync" && it.message.startsWith("sync started") }
        assertEquals(LogLevel.INFO, started.level)
        val done = awaitLine(lines) { it.target == "xiangying::sync" && it.message.startsWith("sync finished") }
        assertEquals(LogLevel.INFO, done.level)
        assertTrue(done.message.contains("1 changes pushed"), done.message)

        assertThrows<ApiException.NotAllowed> { runBlocking { d.close(id) } }
        val refused = awaitLine(lines) { it.target == "xiangying::rules" }
        assertEquals(LogLevel.INFO, refused.level)
        assertTrue(refused.message.contains("wrong_status") && refused.message.contains(id), refused.message)

        // A token is 64 hex digits; nothing the people wrote is logged either.
        val token = Regex("[0-9a-f]{64}")
        assertTrue(lines.none { token.containsMatchIn(it.message) }, "${lines.toList()}")
        assertTrue(lines.none { it.message.contains("井盖") }, "${lines.toList()}")
        d.close()
    }

    @Test
    fun `a sink that throws breaks nothing, and lines below the level are not sent`() = runBlocking {
        val thrown = ConcurrentLinkedQueue<Line>()
        XiangyingLog.install(LogLevel.INFO) { level, target, message ->
            thrown.add(Line(level, target, message))
            throw IllegalStateException("a broken sink")
        }
        val d = enrolled(server, "psc1")
        d.report(Sample.LITTER, Sample.IN_G1, "垃圾")
        assertEquals(1uL, d.syncNow().pushed)
        // Every line of that sync went to the broken sink before the next one is installed.
        awaitLine(thrown) { it.message.startsWith("sync finished") }

        val lines = ConcurrentLinkedQueue<Line>()
        XiangyingLog.install(LogLevel.WARN) { level, target, message -> lines.add(Line(level, target, message)) }
        d.syncNow()
        XiangyingLog.install(LogLevel.INFO) { level, target, message -> lines.add(Line(level, target, message)) }
        d.syncNow()
        awaitLine(lines) { it.message.startsWith("sync finished") }
        assertEquals(1, lines.count { it.message.startsWith("sync started") }, "${lines.toList()}")
        d.close()
    }

    @Test
    fun `the User-Agent the server sees names the app, the core and the platform`() = runBlocking {
        val agents = LinkedBlockingQueue<String>()
        val http = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        http.createContext("/") { ex ->
            agents.add(ex.requestHeaders.getFirst("User-Agent") ?: "")
            ex.sendResponseHeaders(401, -1)
            ex.close()
        }
        http.start()
        try {
            val d = Xiangying.open(tempDir("ua"), appVersion = "2.3.0", platform = "Android 14")
            assertThrows<ApiException.Unauthorised> {
                runBlocking { d.enrol("http://127.0.0.1:${http.address.port}", "ABCD-EFGH", "x") }
            }
            val ua = agents.poll(30, TimeUnit.SECONDS) ?: error("no request arrived")
            assertTrue(ua.startsWith("xiangying/2.3.0 core/"), ua)
            assertTrue(ua.contains(" protocol/"), ua)
            assertTrue(ua.endsWith(" (Android 14)"), ua)

            d.setPlatform("iOS 18.1")
            agents.clear()
            assertThrows<ApiException.Unauthorised> {
                runBlocking { d.enrol("http://127.0.0.1:${http.address.port}", "ABCD-EFGH", "x") }
            }
            assertTrue(agents.poll(30, TimeUnit.SECONDS)!!.endsWith(" (iOS 18.1)"))
            d.close()
        } finally {
            http.stop(0)
        }

        val e = assertThrows<ApiException.InvalidInput> {
            runBlocking { Xiangying.open(tempDir("ua-bad"), platform = "鸿蒙 4") }
        }
        assertEquals("platform", e.field)
    }
}
