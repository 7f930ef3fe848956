// A real xiangying-server process for the JVM tests: a fresh data folder with the sample
// street published (`admin setup`), enrolment codes issued through the admin CLI, and
// `serve` on a free loopback port, waited for on GET /health. The binary comes from the
// system property `xiangying.server` (scripts/test-jvm builds it with
// `cargo build -p xiangying-server` and the POM passes target/debug/xiangying-server).
// close() stops it; a JVM shutdown hook stops it too if a test run dies. Given a PEM
// certificate chain and key, it serves HTTPS (`serve --tls-cert --tls-key`) and [url] says so.
package cn.xiangying

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.TestInstance
import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI
import java.util.concurrent.TimeUnit

class SyncServer private constructor(
    private val binary: File,
    private val data: File,
    private val process: Process,
    val port: Int,
    private val log: File,
    private val https: Boolean,
) : AutoCloseable {
    /** The base URL devices enrol with. */
    val url = "${if (https) "https" else "http"}://127.0.0.1:$port"

    private val hook = Thread { process.destroyForcibly() }.also { Runtime.getRuntime().addShutdownHook(it) }

    /** Issues a one-time enrolment code for [person] (`admin issue-code`, printed on stdout). */
    fun issueCode(person: String): String = admin(binary, data, "issue-code", person).trim()

    /** Revokes an unused enrolment code (`admin revoke-code`). */
    fun revokeCode(code: String) {
        admin(binary, data, "revoke-code", code)
    }

    /** Revokes an enrolled device (`admin revoke-device`). */
    fun revokeDevice(deviceId: String) {
        admin(binary, data, "revoke-device", deviceId)
    }

    /** What the server logged so far, for failure messages. */
    fun log(): String = log.readText()

    override fun close() {
        process.destroy() // SIGTERM
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor(10, TimeUnit.SECONDS)
        }
        runCatching { Runtime.getRuntime().removeShutdownHook(hook) }
    }

    companion object {
        /** The server binary; a missing one fails the tests (they must run against a real server). */
        fun binary(): File {
            val path = System.getProperty("xiangying.server")
                ?: error("set -Dxiangying.server to the xiangying-server binary (scripts/test-jvm does)")
            val f = File(path)
            check(f.canExecute()) { "no xiangying-server at $f: run `cargo build -p xiangying-server` (scripts/test-jvm does)" }
            return f
        }

        private fun admin(binary: File, data: File, vararg args: String): String {
            val p = ProcessBuilder(listOf(binary.path, "--data", data.path, "admin") + args)
                .redirectError(ProcessBuilder.Redirect.PIPE)
                .start()
            val out = p.inputStream.bufferedReader().readText()
            val err = p.errorStream.bufferedReader().readText()
            check(p.waitFor(60, TimeUnit.SECONDS)) { "admin ${args.toList()} hung" }
            check(p.exitValue() == 0) { "admin ${args.toList()} failed (${p.exitValue()}): $err" }
            return out
        }

        /** A port nobody listens on now (for the server, or for a "server unreachable" test). */
        fun freePort(): Int = ServerSocket(0).use { it.localPort }

        /**
         * Publishes the sample street in a new data folder and serves it, over HTTPS with
         * [tlsCert] and [tlsKey] (PEM files) when given.
         */
        fun start(tlsCert: File? = null, tlsKey: File? = null): SyncServer {
            val binary = binary()
            val data = tempDir("server")
            admin(
                binary, data, "setup",
                "--roster", Sample.file("sample-roster.json").path,
                "--catalogue", Sample.file("sample-catalogue.json").path,
            )
            val log = File(data, "server.log")
            val port = freePort()
            val tls = if (tlsCert != null && tlsKey != null) listOf("--tls-cert", tlsCert.path, "--tls-key", tlsKey.path) else emptyList()
            val process = ProcessBuilder(listOf(binary.path, "--data", data.path, "serve", "--listen", "127.0.0.1:$port") + tls)
                .redirectErrorStream(true)
                .redirectOutput(log)
                .also { it.environment()["XIANGYING_LOG"] = "warn" }
                .start()
            val server = SyncServer(binary, data, process, port, log, tls.isNotEmpty())
            try {
                server.awaitHealthy()
            } catch (e: Throwable) {
                server.close()
                throw e
            }
            return server
        }
    }

    private fun awaitHealthy() {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (System.nanoTime() < deadline) {
            check(process.isAlive) { "xiangying-server exited (${process.exitValue()}): ${log()}" }
            // Over HTTPS the JDK does not trust the test's CA: a listening port is enough.
            val ok = if (https) listening() else runCatching {
                val c = URI("$url/health").toURL().openConnection() as HttpURLConnection
                c.connectTimeout = 500
                c.readTimeout = 2000
                try {
                    c.responseCode == 200 && c.inputStream.bufferedReader().readText().contains("ok")
                } finally {
                    c.disconnect()
                }
            }.getOrDefault(false)
            if (ok) return
            Thread.sleep(50)
        }
        error("xiangying-server did not answer /health within 30 s: ${log()}")
    }

    private fun listening(): Boolean = runCatching { java.net.Socket("127.0.0.1", port).close() }.isSuccess
}

/** A test class whose tests share one real sync server, started before them and stopped after. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WithServer {
    /** The server. */
    protected lateinit var server: SyncServer

    @BeforeAll
    fun startServer() {
        server = SyncServer.start()
    }

    @AfterAll
    fun stopServer() {
        if (::server.isInitialized) server.close()
    }
}
