//! One job's run: find its handler, keep its lease alive while it works (every third of the
//! lease), turn a panic into a retry, then apply the decided action, fenced by the lease.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::outcome::{Action, Outcome, decide};
use super::pool::Shared;
use crate::store::{Charge, ClaimedJob, Millis, StoreError, When};

/// When the job was claimed, on the store's clock and on ours.
#[derive(Debug, Clone, Copy)]
pub(super) struct Claim {
    pub store_now: Millis,
    pub local_now: Millis,
}

/// Runs `job`; the permit is released when this returns.
pub(super) async fn run_job(
    shared: Arc<Shared>,
    job: ClaimedJob,
    claim: Claim,
    _permit: OwnedSemaphorePermit,
    hand_back: CancellationToken,
) {
    let span = tracing::info_span!("job", job = %job.id, kind = %job.kind, attempts = job.attempts);
    run(shared, job, claim, hand_back).instrument(span).await
}

async fn run(shared: Arc<Shared>, job: ClaimedJob, claim: Claim, hand_back: CancellationToken) {
    let kind = job.kind.as_str();
    let Some(handler) = shared.registry.handler(job.kind).cloned() else {
        let why = format!("no handler registered for job kind `{kind}` in this version");
        return apply(&shared, &job, Action::Bury(why), "dead").await;
    };
    let started = Instant::now();
    let work = AssertUnwindSafe(handler.handle(&job)).catch_unwind();
    tokio::pin!(work);
    let every = shared.config.lease / 3;
    let mut extend = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    extend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let outcome = loop {
        tokio::select! {
            done = &mut work => break done.unwrap_or_else(|p| Outcome::Retry(panic_message(p.as_ref()))),
            _ = extend.tick() => match shared.store.extend(&job.lease, shared.config.lease).await {
                Ok(()) => {}
                Err(StoreError::LeaseLost) => {
                    // Someone else runs it now; stop ours rather than run it twice at once.
                    tracing::warn!("lease lost while running; abandoning this run");
                    metrics::counter!("cartgate_jobs_total", "kind" => kind, "outcome" => "lease_lost").increment(1);
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "cannot extend the lease; will try again"),
            },
            _ = hand_back.cancelled() => {
                let back = Action::Retry { when: When::Now, error: None, charge: Charge::Free };
                return apply(&shared, &job, back, "handed_back").await;
            }
        }
    };
    metrics::histogram!("cartgate_job_duration_seconds", "kind" => kind).record(started.elapsed().as_secs_f64());
    // The store's clock now, estimated without trusting our clock's absolute value.
    let store_now = claim.store_now + ((shared.config.clock)() - claim.local_now).max(0);
    let label = label(&outcome);
    let period = shared.registry.period_of(&job.id);
    let action = decide(outcome, &job, store_now, &shared.config.retry, period);
    let label = match (&action, period) {
        (Action::Bury(_), _) => "dead",
        (Action::Retry { charge: Charge::Reset, .. }, Some(_)) if label == "done" => "rescheduled",
        _ => label,
    };
    apply(&shared, &job, action, label).await
}

fn label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Done => "done",
        Outcome::RetryAt(_) | Outcome::Retry(_) => "retry",
        Outcome::Hold { .. } => "hold",
        Outcome::Permanent(_) => "dead",
        Outcome::RateLimited(_) => "rate_limited",
        Outcome::Parked(_) => "parked",
    }
}

async fn apply(shared: &Shared, job: &ClaimedJob, action: Action, label: &'static str) {
    let store = &shared.store;
    let lease = &job.lease;
    let result = match &action {
        Action::Ack => store.ack(lease).await,
        Action::Retry { when, error, charge } => store.retry(lease, *when, error.as_deref(), *charge).await,
        Action::Hold { until, reason } => store.hold(lease, *until, reason).await,
        Action::Bury(reason) => {
            tracing::warn!(reason = %reason, "job moved to the dead letters");
            store.bury(lease, reason).await
        }
    };
    if let (Ok(()), Action::Bury(_), Some(burials)) = (&result, &action, shared.registry.burials()) {
        burials.buried(&job.id, job.kind.as_str()).await;
    }
    let label = match result {
        Ok(()) => label,
        Err(StoreError::LeaseLost) => {
            tracing::warn!("lease lost before the outcome was recorded; another worker runs the job");
            "lease_lost"
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot record the job's outcome; it runs again after its lease");
            "store_error"
        }
    };
    metrics::counter!("cartgate_jobs_total", "kind" => job.kind.as_str(), "outcome" => label).increment(1);
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    let msg = p.downcast_ref::<&str>().copied().or_else(|| p.downcast_ref::<String>().map(String::as_str));
    format!("handler panicked: {}", msg.unwrap_or("(no message)"))
}
