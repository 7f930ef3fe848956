// Every ApiException variant an app can meet today, caught as its Kotlin type from the real
// library (their stable codes and messages: ErrorCodesTest). Not reachable yet: Network and Unauthorised (sync server), PhotoRejected (photo
// attachment); CorruptCase needs a damaged store file (the core's own tests cover it);
// Internal is for bugs and unmapped core errors.
package cn.xiangying

import cn.xiangying.ffi.Datum
import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.ErrorCode
import cn.xiangying.ffi.GeoPoint
import cn.xiangying.ffi.XiangyingDevice
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File

class ErrorsTest {
    @Test
    fun `a forbidden action is NotAllowed, and nothing is written`() = runBlocking {
        val chief = deviceOf("psc1")
        val id = chief.report(Sample.LITTER, Sample.IN_G1, "垃圾满溢")
        val before = chief.outboxLen()
        val e = assertThrows<ApiException.NotAllowed> { runBlocking { chief.close(id, "想直接结案") } }
        assertEquals("close", e.action)
        assertTrue(e.reason.isNotBlank())
        // The refusal's own code and Chinese words travel with it (ErrorCodesTest checks them all).
        assertEquals(ErrorCode.WRONG_STATUS, e.code)
        assertTrue(e.reasonZh.isNotBlank())
        assertEquals(before, chief.outboxLen())

        // A volunteer may not escalate a problem report.
        val vol = deviceOf("vol1")
        vol.applyRemote(id, chief.exportCase(id))
        assertThrows<ApiException.NotAllowed> { runBlocking { vol.escalate(id, "x") } }
        listOf(chief, vol).forEach { it.close() }
    }

    @Test
    fun `an unknown case, category or person is NotFound`() = runBlocking {
        val d = deviceOf("gw1")
        val e = assertThrows<ApiException.NotFound> { runBlocking { d.case("no-such-case") } }
        assertEquals("no-such-case", e.id)
        val c = assertThrows<ApiException.NotFound> { runBlocking { d.report("999999", Sample.IN_G1, "x") } }
        assertEquals("category", c.what)
        assertThrows<ApiException.NotFound> { runBlocking { d.setPerson("nobody") } }
        d.close()
    }

    @Test
    fun `bad input is InvalidInput naming the field`() = runBlocking {
        val d = deviceOf("gw1")
        val e = assertThrows<ApiException.InvalidInput> { runBlocking { d.report(Sample.LITTER, Sample.IN_G1, "   ") } }
        assertEquals("description", e.field)
        val l = assertThrows<ApiException.InvalidInput> {
            runBlocking { d.report(Sample.LITTER, GeoPoint(lon = 500.0, lat = 0.0, datum = Datum.WGS84), "x") }
        }
        assertEquals("location", l.field)
        val b = assertThrows<ApiException.InvalidInput> { runBlocking { d.applyRemote("x", byteArrayOf(1, 2, 3)) } }
        assertEquals("bytes", b.field)
        val o = assertThrows<ApiException.InvalidInput> { runBlocking { d.installOrg("{", "[]") } }
        assertEquals("org", o.field)
        d.close()
    }

    @Test
    fun `a device with no roster or person is NotSetUp`() = runBlocking {
        val d = Xiangying.open(tempDir("fresh"))
        assertThrows<ApiException.NotSetUp> { runBlocking { d.inbox() } }
        d.installOrg(Sample.rosterJson, Sample.catalogueJson)
        assertThrows<ApiException.NotSetUp> { runBlocking { d.report(Sample.LITTER, Sample.IN_G1, "x") } }
        d.close()
    }

    @Test
    fun `a store that cannot be created is Storage`() {
        val file = File.createTempFile("xiangying", ".not-a-folder").also { it.deleteOnExit() }
        val e = assertThrows<ApiException.Storage> { XiangyingDevice.open(File(file, "sub").path) }
        assertTrue(e.detail.isNotBlank(), e.message)
        assertTrue(e.message!!.contains("detail="), e.message)
    }

    @Test
    fun `the set-up survives reopening the store`() = runBlocking {
        val dir = tempDir("reopen")
        Xiangying.open(dir).use { d ->
            d.installOrg(Sample.rosterJson, Sample.catalogueJson)
            d.setPerson("gw1")
            d.report(Sample.LITTER, Sample.IN_G1, "重启前")
        }
        Xiangying.open(dir).use { d ->
            assertEquals("gw1", d.me()!!.person)
            assertEquals(1, d.myReports().size)
        }
    }

    @Test
    fun `the two 426 answers say which side to upgrade, and nothing else does`() = runBlocking {
        assertEquals(Upgrade.APP, ApiException.UpgradeRequired("protocol 0.9").upgradeNeeded)
        assertEquals(Upgrade.SERVER, ApiException.ServerTooOld("protocol 2.0").upgradeNeeded)
        assertEquals(null, ApiException.ServerRejected(403u, "tampering", "x").upgradeNeeded)
        assertEquals(null, IllegalStateException("x").upgradeNeeded)
        val d = Xiangying.open(tempDir("versions"), appVersion = "2.3.0")
        assertEquals("1.2", d.protocolVersion)
        d.close()
    }
}
