// The desk's enrolment QR codes (decision 0041) read through the real library: a printed link
// gives the server and code that enrol takes; anything else is InvalidInput naming the link.
package cn.xiangying

import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.EnrolLink
import cn.xiangying.ffi.ErrorCode
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class EnrolLinkTest {
    @Test
    fun `a desk's enrolment link gives the server and the code`() {
        val link = Xiangying.parseEnrolLink(
            "xiangying://enrol?server=https%3A%2F%2Fxy.example.gov.cn%3A8470%2F&code=K7QMX-4XWDA-9PLRT",
        )
        assertEquals(EnrolLink(server = "https://xy.example.gov.cn:8470", code = "K7QMX-4XWDA-9PLRT"), link)
        // Either order, an unescaped URL with a path, the spaces a scanner may leave.
        val plain = Xiangying.parseEnrolLink(" xiangying://enrol?code=ABCD2345&server=http://10.0.0.5/xy\n")
        assertEquals(EnrolLink(server = "http://10.0.0.5/xy", code = "ABCD2345"), plain)
    }

    @Test
    fun `any other QR code is InvalidInput naming the enrolment link and the problem`() {
        val cases = listOf(
            "https://xy.example.gov.cn/enrol?code=ABCD2345" to "does not start",
            "xiangying://enrol?server=http%3A%2F%2Fa" to "no code",
            "xiangying://enrol?server=ftp%3A%2F%2Fa&code=ABCD2345" to "http or https",
            "xiangying://enrol?server=http%3A%2F%2Fu%3Ap%40a&code=ABCD2345" to "credentials",
            "xiangying://enrol?server=http%3A%2F%2Fa&code=ABCD2345&x=1" to "unknown parameter",
        )
        for ((text, problem) in cases) {
            val e = assertThrows<ApiException.InvalidInput> { Xiangying.parseEnrolLink(text) }
            assertEquals("enrolment link", e.field)
            assertTrue(e.problem.contains(problem), "$text: ${e.problem}")
            assertEquals(ErrorCode.INVALID_INPUT, e.code)
        }
    }
}
