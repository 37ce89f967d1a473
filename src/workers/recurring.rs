//! Recurring jobs: a fixed id per schedule, so exactly one replica runs each occurrence. When
//! its handler returns `Done` the pool moves it to `due` one period later (`Charge::Reset`)
//! instead of acking it, so the job never leaves the queue.

use std::time::Duration;

use crate::store::{Enqueued, JobId, JobKind, JobState, JobStore, NewJob, OnExisting, StoreError, When};

/// A job that runs every `period`.
#[derive(Debug, Clone)]
pub struct Recurring {
    pub id: JobId,
    pub kind: JobKind,
    pub payload: serde_json::Value,
    pub period: Duration,
    /// Whether a new occurrence runs at once (else one period after it is first scheduled:
    /// upkeep that need not add to the burst of work at start-up).
    pub at_start: bool,
}

/// Makes sure every recurring job is queued. An existing occurrence keeps its time unless it is
/// later than one (possibly shortened) period from now; a new one runs at once (unless not
/// `at_start`: then one period on).
pub async fn schedule_recurring(store: &dyn JobStore, recurring: &[Recurring]) -> Result<(), StoreError> {
    for r in recurring {
        // Running right now on some replica: it reschedules itself when done. Enqueueing now
        // would only mark it to run once more at once.
        if store.job(&r.id).await?.is_some_and(|j| j.state == JobState::Inflight) {
            continue;
        }
        let job = NewJob { id: r.id.clone(), kind: r.kind, payload: r.payload.clone() };
        // Two steps because "new → now, existing → no later than a period from now" is not one
        // `OnExisting`; the second only runs for a job that did not exist, so it is harmless.
        if store.enqueue(&job, When::After(r.period), OnExisting::MoveEarlier).await? == Enqueued::Created && r.at_start
        {
            store.enqueue(&job, When::Now, OnExisting::MoveEarlier).await?;
        }
    }
    Ok(())
}
