// Every error code an app can meet, produced through real calls where a call can produce it
// (a refused action on a real store, a missing case, bad input, a HEIC photo, a store that
// cannot be created, an unreachable server, a revoked device against the real server) and
// checked: its stable code, and its message in Simplified Chinese and in English. The codes
// only a misbehaving server produces are checked on errors built here. Every ErrorCode's own
// messages are checked by the Rust test `codes::tests` (every code, both languages, differ).
package cn.xiangying

import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.ErrorCode
import cn.xiangying.ffi.PhotoStage
import cn.xiangying.ffi.XiangyingDevice
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.util.Locale

class ErrorCodesTest : WithServer() {
    private val zh = Locale.forLanguageTag("zh-Hans-CN")
    private val en = Locale.forLanguageTag("en-US")

    /** Checks [e]'s code and that its two messages are there, differ, and say [zhHas] / [enHas]. */
    private fun check(e: ApiException, code: ErrorCode, zhHas: String, enHas: String) {
        assertEquals(code, e.code, "${e.message}")
        val (z, n) = e.message(zh) to e.message(en)
        assertTrue(z.contains(zhHas), "zh: $z")
        assertTrue(n.contains(enHas), "en: $n")
        assertNotEquals(z, n)
        assertTrue(z.any { it in '\u4e00'..'\u9fff' }, z)
    }

    @Test
    fun `refusals of the rules have one code each and read in both languages`() = runBlocking {
        val chief = deviceOf("psc1")
        val id = chief.report(Sample.LITTER, Sample.IN_G1, "垃圾满溢")
        val close = assertThrows<ApiException.NotAllowed> { runBlocking { chief.close(id, "想直接结案") } }
        check(close, ErrorCode.WRONG_STATUS, "不能结案", "cannot close a case that is")
        assertEquals("close", close.action)
        assertTrue(close.reason.startsWith("cannot close"), close.reason)

        val vol = deviceOf("vol1")
        vol.applyRemote(id, chief.exportCase(id))
        val esc = assertThrows<ApiException.NotAllowed> { runBlocking { vol.escalate(id, "x") } }
        check(esc, ErrorCode.NOT_HOLDER, "vol1", "vol1 does not hold this case")

        val note = assertThrows<ApiException.NotAllowed> { runBlocking { chief.note(id, "   ") } }
        check(note, ErrorCode.NOTE_NEEDS_TEXT, "备注", "a note needs text")
        listOf(chief, vol).forEach { it.close() }
    }

    @Test
    fun `the handler may not verify their own work`() = runBlocking {
        val gw = deviceOf("gw1")
        val id = gw.report(Sample.LITTER, Sample.IN_G1, "井盖缺失")
        gw.resolve(id, "已处理")
        val e = assertThrows<ApiException.NotAllowed> { runBlocking { gw.verify(id, "好") } }
        check(e, ErrorCode.MAY_NOT_VERIFY, "gw1", "never the handler")
        gw.close()
    }

    @Test
    fun `missing things, bad input and a store that is not set up have their codes`() = runBlocking {
        val d = deviceOf("gw1")
        check(assertThrows<ApiException.NotFound> { runBlocking { d.case("no-such-case") } }, ErrorCode.NOT_FOUND, "案件", "case")
        val bad = assertThrows<ApiException.InvalidInput> { runBlocking { d.report(Sample.LITTER, Sample.IN_G1, "   ") } }
        check(bad, ErrorCode.INVALID_INPUT, "描述", "description")
        val platform = assertThrows<ApiException.InvalidInput> { runBlocking { d.setPlatform("Android\r\n14") } }
        assertEquals("platform", platform.field)
        check(platform, ErrorCode.INVALID_INPUT, "平台", "platform")
        d.close()

        val fresh = Xiangying.open(tempDir("fresh"))
        check(assertThrows<ApiException.NotSetUp> { runBlocking { fresh.inbox() } }, ErrorCode.NOT_SET_UP, "登记", "not set up")
        fresh.close()

        val file = File.createTempFile("xiangying", ".not-a-folder").also { it.deleteOnExit() }
        val storage = assertThrows<ApiException.Storage> { XiangyingDevice.open(File(file, "sub").path) }
        check(storage, ErrorCode.STORAGE, "存储", "could not save")
    }

    @Test
    fun `a HEIC or unknown picture is refused with its own code`() = runBlocking {
        val d = deviceOf("gw1")
        val id = d.report(Sample.LITTER, Sample.IN_G1, "照片")
        val heic = byteArrayOf(0, 0, 0, 0x18) + "ftypheic".toByteArray() + ByteArray(4) + "mif1heic".toByteArray()
        val h = assertThrows<ApiException.PhotoRejected> { runBlocking { d.attachPhoto(id, heic, PhotoStage.BEFORE) } }
        check(h, ErrorCode.PHOTO_HEIC, "HEIC", "HEIC")
        val g = assertThrows<ApiException.PhotoRejected> {
            runBlocking { d.attachPhoto(id, "GIF89a not really".toByteArray(), PhotoStage.BEFORE) }
        }
        check(g, ErrorCode.PHOTO_UNSUPPORTED_FORMAT, "JPEG", "JPEG")
        d.close()
    }

    @Test
    fun `an unreachable server, a used code and a revoked device have their codes`() = runBlocking {
        val d = Xiangying.open(tempDir("offline"))
        val closed = SyncServer.freePort()
        val net = assertThrows<ApiException.Network> { runBlocking { d.enrol("http://127.0.0.1:$closed", "ABCD-EFGH", "x") } }
        check(net, ErrorCode.NETWORK, "联网", "online")
        val garbage = assertThrows<ApiException.Unauthorised> { runBlocking { d.enrol(server.url, "ABCD-EFGH", "x") } }
        check(garbage, ErrorCode.UNAUTHORISED, "登记码", "enrolment code")
        d.close()

        val phone = enrolled(server, "gw2")
        phone.syncNow()
        server.revokeDevice(phone.deviceId()!!)
        val revoked = assertThrows<ApiException.Unauthorised> { runBlocking { phone.syncNow() } }
        check(revoked, ErrorCode.UNAUTHORISED, "登记码", "enrolment code")
        phone.close()
    }

    @Test
    fun `the server's refusal codes map to their ErrorCode, an unknown one to SERVER_REJECTED`() {
        val cases = mapOf(
            "quarantined" to ErrorCode.QUARANTINED,
            "tampering" to ErrorCode.TAMPERING,
            "forbidden" to ErrorCode.FORBIDDEN,
            "over_limit" to ErrorCode.OVER_LIMIT,
            "overloaded" to ErrorCode.OVERLOADED,
            "expired" to ErrorCode.EXPIRED,
            "a_newer_servers_code" to ErrorCode.SERVER_REJECTED,
        )
        for ((sent, code) in cases) {
            // As an ApiException (as a catch block has it): a ServerRejected's own `code` is
            // the server's text.
            val e: ApiException = ApiException.ServerRejected(403u, sent, "x")
            assertEquals(code, e.code, sent)
            assertNotEquals(e.message(zh), e.message(en))
        }
        assertEquals(ErrorCode.UPGRADE_REQUIRED, ApiException.UpgradeRequired("x").code)
        assertTrue(ApiException.UpgradeRequired("x").message(zh).contains("更新应用"))
    }

    @Test
    fun `every code has a unique stable name`() {
        val names = ErrorCode.entries.map { it.id }
        assertEquals(names.size, names.toSet().size)
        assertTrue(names.all { it.matches(Regex("[a-z][a-z_]*")) }, "$names")
        assertEquals("not_holder", ErrorCode.NOT_HOLDER.id)
        assertEquals("photo_heic", ErrorCode.PHOTO_HEIC.id)
    }
}
