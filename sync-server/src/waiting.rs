//! Waiting for news on the feed (decision 0029): what a phone's `GET /v1/wait` and the desk's
//! live updates (`GET /desk/live`) share. The wake-up channel ([`crate::wake`]) rings; a wait
//! asks the store only when a ring may concern its person.

use crate::error::ServerError;
use crate::metrics as m;
use crate::state::{AppState, Metrics};
use crate::storage::with_tx;
use crate::sync;
use crate::tasks::blocking;
use std::sync::Arc;

/// How a wait for news ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// The feed holds a change after the cursor that the person may read.
    News,
    /// Nothing by the deadline.
    Nothing,
    /// The server is stopping.
    Stopping,
}

/// Waits until the feed holds a change after `cursor` to a document `person` may read, or
/// until `deadline` ([`crate::wake`]): what a device's wait and the desk's live updates share.
pub async fn wait_for_news(
    state: &Arc<AppState>,
    person: xiangying_model::ids::PersonId,
    cursor: u64,
    deadline: tokio::time::Instant,
) -> Result<Waited, ServerError> {
    let mut rung = state.wake.subscribe();
    let mut seen = *rung.borrow_and_update();
    if state.wake.is_closed() {
        return Ok(Waited::Stopping);
    }
    // The first look asks the store, and learns the person's read scope for the rings.
    let (st, p) = (state.clone(), person.clone());
    Metrics::add(&state.metrics.wait_checks, 1);
    metrics::counter!(m::WAIT_CHECKS).increment(1);
    let (mut news, scope) = blocking(move || {
        with_tx(st.storage.as_ref(), |tx| {
            let roster = st.roster(tx)?;
            let scope = sync::scope_of(&roster, &p);
            Ok((sync::has_news(tx, &roster, &p, cursor)?, scope))
        })
    })
    .await?;
    loop {
        if news {
            return Ok(Waited::News);
        }
        match tokio::time::timeout_at(deadline, rung.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return Ok(Waited::Nothing),
        }
        let now = *rung.borrow_and_update();
        if state.wake.is_closed() {
            return Ok(Waited::Stopping);
        }
        // Only a ring that may concern this person costs a look at the store.
        if state.wake.concerns(seen, now, &scope) {
            let (st, p) = (state.clone(), person.clone());
            Metrics::add(&state.metrics.wait_checks, 1);
            metrics::counter!(m::WAIT_CHECKS).increment(1);
            news = blocking(move || {
                with_tx(st.storage.as_ref(), |tx| {
                    let roster = st.roster(tx)?;
                    sync::has_news(tx, &roster, &p, cursor)
                })
            })
            .await?;
        }
        seen = now;
    }
}
