// Stable codes and readable messages for the errors of the Xiangying core: every ApiException
// has one ErrorCode (one documented enum, see docs/ERRORS.md; codes are never renamed or
// reused) and a message in Simplified Chinese or English for the person holding the phone.
// Also the platform named in every request's User-Agent.
package cn.xiangying

import cn.xiangying.ffi.ApiException
import cn.xiangying.ffi.ErrorCode
import cn.xiangying.ffi.apiErrorCode
import cn.xiangying.ffi.apiErrorMessage
import cn.xiangying.ffi.errorCodeName
import java.util.Locale

/**
 * The error's stable code: one per refusal of the rules (`NOT_HOLDER`, `ALREADY_TAKEN`, …),
 * per photo problem (`PHOTO_HEIC`, …), per server refusal (`QUARANTINED`, `OVER_LIMIT`, …),
 * else the variant's own. Branch on it; a code this app does not know means: act on the
 * subclass. (On a value typed `ApiException.ServerRejected`, Kotlin picks that class's own
 * `code`, the server's text; on an `ApiException`, as a `catch` has it, this one.)
 */
val ApiException.code: ErrorCode get() = apiErrorCode(this)

/**
 * The message for the person holding the phone, in [locale]'s language (Simplified Chinese
 * for any `zh` locale, English otherwise; the device's locale by default): short, plain, and
 * saying what to do next. The developer's detail stays in the subclass's fields.
 */
fun ApiException.message(locale: Locale = Locale.getDefault()): String = apiErrorMessage(this, locale.toLanguageTag())

/** The code's stable snake_case name (e.g. `not_holder`), for logs and bug reports. */
val ErrorCode.id: String get() = errorCodeName(this)

/**
 * Names the platform and its version in every request's User-Agent from now on (e.g.
 * `Android 14`; [Xiangying.open] takes it too). Throws [ApiException.InvalidInput] (field
 * `platform`) for a value that cannot go in an HTTP header.
 */
suspend fun Xiangying.setPlatform(platform: String) = onIo { setPlatform(platform) }
