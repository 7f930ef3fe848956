// What a background sync (the WorkManager worker, the iOS refresh task) tells its scheduler:
// the decision from values for every refusal kind, and from real syncs against a real server:
// success, a server gone (retry), a revoked device and a device never enrolled (failure).
package cn.xiangying

import cn.xiangying.ffi.ApiException
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class BackgroundSyncTest : WithServer() {
    private fun rejected(status: Int, code: String) = ApiException.ServerRejected(status.toUShort(), code, "detail")

    @Test
    fun `passing failures retry, lasting ones fail`() {
        assertEquals(WorkOutcome.SUCCESS, backgroundSyncOutcome(null))
        val retry = listOf(
            ApiException.Network("connection refused"),
            ApiException.Cancelled("stopped"),
            ApiException.Storage("disk full"),
            rejected(503, "overloaded"),
            rejected(429, "device_busy"),
            rejected(429, "too_many_requests"),
            rejected(500, "internal"),
            rejected(503, "no_org"),
            rejected(409, "conflict"),
            rejected(502, ""), // a proxy's answer, no code: by status
            rejected(504, "a_code_from_a_newer_server"),
            rejected(408, ""),
        )
        retry.forEach { assertEquals(WorkOutcome.RETRY, backgroundSyncOutcome(it), "$it") }
        val fail = listOf(
            ApiException.UpgradeRequired("update the app"),
            ApiException.ServerTooOld("upgrade the server"),
            ApiException.Unauthorised("revoked"),
            ApiException.NotSetUp("no roster"),
            ApiException.Internal("bug"),
            rejected(403, "tampering"),
            rejected(403, "quarantined"),
            rejected(413, "over_limit"),
            rejected(400, "bad_request"),
            rejected(418, ""),
            IllegalStateException("not an ApiException"),
        )
        fail.forEach { assertEquals(WorkOutcome.FAILURE, backgroundSyncOutcome(it), "$it") }
    }

    @Test
    fun `a background sync succeeds and empties the outbox`() = runBlocking {
        val d = enrolled(server, "psc1")
        d.report(Sample.LITTER, Sample.IN_G1, "路口垃圾桶满溢")
        assertEquals(WorkOutcome.SUCCESS, d.backgroundSync())
        assertEquals(0L, d.outboxLen())
        d.close()
    }

    @Test
    fun `a server gone is retried, a revoked or unenrolled device is not`() = runBlocking {
        val gone = SyncServer.start()
        val d = enrolled(gone, "gw1")
        d.report(Sample.LITTER, Sample.IN_G1, "路口垃圾桶满溢")
        gone.close()
        assertEquals(WorkOutcome.RETRY, d.backgroundSync())
        assertEquals(1L, d.outboxLen(), "nothing lost")
        d.close()

        val revoked = enrolled(server, "gw2")
        server.revokeDevice(revoked.deviceId()!!)
        assertEquals(WorkOutcome.FAILURE, revoked.backgroundSync())
        revoked.close()

        val never = Xiangying.open(tempDir("never-enrolled"))
        assertEquals(WorkOutcome.FAILURE, never.backgroundSync())
        never.close()
    }
}
