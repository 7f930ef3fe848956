// One sync run by the system in the background (Android's WorkManager worker, iOS's
// BGAppRefreshTask have the same shape) and what its outcome tells the scheduler: done, try
// again later with backoff, or stop trying. Plain Kotlin: the decision is tested on the JVM
// against real errors; XiangyingSyncWorker (src/android) only turns it into a Result.
package cn.xiangying

import cn.xiangying.ffi.ApiException
import kotlinx.coroutines.CancellationException

/** What a background sync tells the scheduler. */
enum class WorkOutcome {
    /** The sync finished. */
    SUCCESS,

    /** A passing failure (no network, the server overloaded or failing): try again with backoff. */
    RETRY,

    /** Trying again will not help until someone acts (upgrade, re-enrol, a bug): stop. */
    FAILURE,
}

/** Refusal codes (decision 0025) that pass by themselves: the server is busy, failing or not set up yet. */
private val PASSING = setOf("overloaded", "device_busy", "too_many_requests", "internal", "no_org", "conflict")

/** Refusal codes that a retry cannot cure. */
private val LASTING = setOf(
    "unauthorised", "quarantined", "tampering", "forbidden", "bad_request", "upgrade_required",
    "server_too_old", "too_large", "over_limit", "expired", "not_found",
)

/**
 * What a background sync that ended with [error] (null: it succeeded) tells the scheduler.
 *
 * [WorkOutcome.RETRY]: `Network`; `ServerRejected` with a passing code (`overloaded`,
 * `device_busy`, `too_many_requests`, `internal`, `no_org`, `conflict`) or, for a code this
 * build does not know, a 5xx, 429 or 408 status; `Cancelled` (the system stopped the work);
 * `Storage` (a busy or full disk may clear). [WorkOutcome.FAILURE]: `UpgradeRequired` and
 * `ServerTooOld` (one side must be upgraded), `Unauthorised` (revoked: enrol again), `NotSetUp`
 * (not enrolled), any other refusal, and every other error. A failure does not end a periodic
 * schedule: its next period runs as usual.
 */
fun backgroundSyncOutcome(error: Throwable?): WorkOutcome = when (error) {
    null -> WorkOutcome.SUCCESS
    is ApiException.Network, is ApiException.Cancelled, is ApiException.Storage -> WorkOutcome.RETRY
    is ApiException.ServerRejected -> when {
        error.code in PASSING -> WorkOutcome.RETRY
        error.code in LASTING -> WorkOutcome.FAILURE
        else -> {
            val status = error.status.toInt()
            if (status >= 500 || status == 429 || status == 408) WorkOutcome.RETRY else WorkOutcome.FAILURE
        }
    }
    else -> WorkOutcome.FAILURE
}

/**
 * Runs one sync for a background scheduler and says what it should do next (see
 * [backgroundSyncOutcome]). Cancelling the coroutine (the system stopping the work) is passed
 * on as `CancellationException`, as the scheduler expects; what the sync did stays done.
 */
suspend fun Xiangying.backgroundSync(): WorkOutcome =
    try {
        syncNow()
        WorkOutcome.SUCCESS
    } catch (e: CancellationException) {
        throw e
    } catch (e: ApiException) {
        backgroundSyncOutcome(e)
    }
