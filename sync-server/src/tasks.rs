//! Blocking work (the store, password hashing) off the async runtime: every handler that
//! touches the store runs it through [`blocking`], counted in the metrics while queued or
//! running.

use crate::error::ServerError;
use crate::metrics::{self as m, InFlight};

/// Runs storage work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    // Counted from now until the work ends, queued or running (a dropped request's work
    // still runs to its end).
    let queued = InFlight::enter(m::BLOCKING_TASKS);
    tokio::task::spawn_blocking(move || {
        let _queued = queued;
        f()
    })
    .await
    .map_err(|e| ServerError::Internal(format!("worker: {e}")))?
}
