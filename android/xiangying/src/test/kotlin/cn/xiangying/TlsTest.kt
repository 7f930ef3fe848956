// HTTPS with a private certificate authority (decision 0030), against the REAL server binary
// serving TLS itself (`serve --tls-cert --tls-key`). The CA and the server's certificate are
// made at test time with `openssl` (nothing committed that expires). A device given the CA
// enrols and syncs; a device given another CA is refused as ApiException.TlsRefused with
// UNKNOWN_ISSUER and stays unenrolled; a pin of the server's key (computed as an Android
// developer would, from the certificate's public key) is accepted and a pin of another key is
// refused with PIN_MISMATCH; bad PEM and a malformed pin are InvalidInput naming their field.
package cn.xiangying

import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.ErrorCode
import cn.xiangying.ffi.TlsFailure
import cn.xiangying.ffi.TlsOptions
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.security.MessageDigest
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import java.util.Base64
import java.util.Locale
import java.util.concurrent.TimeUnit

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsTest {
    private lateinit var server: SyncServer
    private lateinit var ours: TestPki.Ca
    private lateinit var theirs: TestPki.Ca
    private lateinit var serverCert: File

    @BeforeAll
    fun startHttpsServer() {
        val pki = TestPki(tempDir("pki"))
        ours = pki.ca("ours")
        theirs = pki.ca("theirs")
        val (cert, key) = pki.serverCert(ours, "server")
        serverCert = cert
        server = SyncServer.start(tlsCert = cert, tlsKey = key)
    }

    @AfterAll
    fun stopServer() {
        if (::server.isInitialized) server.close()
    }

    private suspend fun enrol(person: String, tls: TlsOptions?): Xiangying {
        val d = Xiangying.open(tempDir("$person-tls"))
        d.enrol(server.url, server.issueCode(person), "$person's test phone", tls)
        return d
    }

    @Test
    fun `a device given the private CA enrols and syncs over HTTPS`() = runBlocking {
        check(server.url.startsWith("https://"))
        val chief = enrol("psc1", TlsOptions(privateCaPem = ours.pem))
        val worker = enrol("gw1", TlsOptions(privateCaPem = ours.pem))
        val id = chief.report(Sample.LITTER, Sample.IN_G1, "路口垃圾桶满溢")
        chief.forward(id, "请网格员处理")
        assertEquals(2uL, chief.syncNow().pushed)
        worker.syncNow()
        assertEquals(id, worker.inbox().single().id)
        listOf(chief, worker).forEach { it.close() }
    }

    @Test
    fun `the wrong CA is refused as TlsRefused with UnknownIssuer`() = runBlocking {
        val d = Xiangying.open(tempDir("cc1-tls"))
        val e = assertThrows<ApiException.TlsRefused> {
            runBlocking { d.enrol(server.url, server.issueCode("cc1"), "phone", TlsOptions(privateCaPem = theirs.pem)) }
        }
        assertEquals(TlsFailure.UNKNOWN_ISSUER, e.failure)
        assertEquals(ErrorCode.TLS_UNKNOWN_ISSUER, e.code)
        assertTrue(e.message(Locale.SIMPLIFIED_CHINESE).contains("证书"))
        assertNull(d.deviceId())
        assertNull(d.me())
        // The bundled roots alone do not know a private CA either.
        val bundled = assertThrows<ApiException.TlsRefused> {
            runBlocking { d.enrol(server.url, server.issueCode("cc1"), "phone") }
        }
        assertEquals(TlsFailure.UNKNOWN_ISSUER, bundled.failure)
        d.close()
    }

    @Test
    fun `a pin of the server's key is accepted and a pin of another key refused`() = runBlocking {
        val pinned = enrol("inf1", TlsOptions(privateCaPem = ours.pem, pins = listOf(TestPki.pinOf(serverCert))))
        pinned.report(Sample.LITTER, Sample.IN_G1, "垃圾满溢")
        assertEquals(1uL, pinned.syncNow().pushed)
        // The CA's pin, behind a backup pin that matches nothing, is accepted too.
        enrol("gw3", TlsOptions(privateCaPem = ours.pem, pins = listOf(TestPki.pinOf(theirs.cert), TestPki.pinOf(ours.cert)))).close()

        val d = Xiangying.open(tempDir("cc2-tls"))
        val e = assertThrows<ApiException.TlsRefused> {
            runBlocking {
                d.enrol(server.url, server.issueCode("cc2"), "phone", TlsOptions(privateCaPem = ours.pem, pins = listOf(TestPki.pinOf(theirs.cert))))
            }
        }
        assertEquals(TlsFailure.PIN_MISMATCH, e.failure)
        assertEquals(ErrorCode.TLS_PIN_MISMATCH, e.code)
        assertNull(d.deviceId())
        listOf(pinned, d).forEach { it.close() }
    }

    @Test
    fun `bad PEM and a malformed pin are InvalidInput naming their field`() = runBlocking {
        val d = Xiangying.open(tempDir("gw2-tls"))
        val code = server.issueCode("gw2")
        val pem = assertThrows<ApiException.InvalidInput> {
            runBlocking { d.enrol(server.url, code, "phone", TlsOptions(privateCaPem = "not a certificate")) }
        }
        assertEquals("private_ca_pem", pem.field)
        val pin = assertThrows<ApiException.InvalidInput> {
            runBlocking { d.enrol(server.url, code, "phone", TlsOptions(privateCaPem = ours.pem, pins = listOf("sha1/AAAA"))) }
        }
        assertEquals("pins", pin.field)
        // Nothing was used up: the same code still enrols.
        d.enrol(server.url, code, "phone", TlsOptions(privateCaPem = ours.pem))
        d.close()
    }
}

/** Certificate authorities and server certificates made with `openssl` in a folder. */
class TestPki(private val dir: File) {
    /** A CA's PEM certificate and key files. */
    class Ca(val cert: File, val key: File) {
        val pem: String get() = cert.readText()
    }

    private fun openssl(vararg args: String) {
        val p = ProcessBuilder(listOf("openssl") + args).directory(dir).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(60, TimeUnit.SECONDS)) { "openssl ${args.toList()} hung" }
        check(p.exitValue() == 0) { "openssl ${args.toList()} failed: $out" }
    }

    /** A self-signed CA (P-256, valid two days) named [name]. */
    fun ca(name: String): Ca {
        val cert = File(dir, "$name-ca.pem")
        val key = File(dir, "$name-ca.key")
        openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key.path, "-out", cert.path, "-days", "2", "-subj", "/CN=$name",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )
        return Ca(cert, key)
    }

    /** A server certificate for 127.0.0.1 from [ca]: its PEM certificate and key files. */
    fun serverCert(ca: Ca, name: String): Pair<File, File> {
        val key = File(dir, "$name.key")
        val csr = File(dir, "$name.csr")
        val cert = File(dir, "$name.pem")
        val ext = File(dir, "$name.ext").apply {
            writeText("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        }
        openssl(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key.path, "-out", csr.path, "-subj", "/CN=127.0.0.1",
        )
        openssl(
            "x509", "-req", "-in", csr.path, "-CA", ca.cert.path, "-CAkey", ca.key.path,
            "-CAcreateserial", "-out", cert.path, "-days", "2", "-extfile", ext.path,
        )
        return cert to key
    }

    companion object {
        /**
         * The OkHttp-style pin of a PEM certificate's key: `sha256/` and the base64 of the
         * SHA-256 of its SubjectPublicKeyInfo (what `PublicKey.getEncoded()` returns).
         */
        fun pinOf(pem: File): String {
            val cert = pem.inputStream().use {
                CertificateFactory.getInstance("X.509").generateCertificate(it) as X509Certificate
            }
            val hash = MessageDigest.getInstance("SHA-256").digest(cert.publicKey.encoded)
            return "sha256/" + Base64.getEncoder().encodeToString(hash)
        }
    }
}
