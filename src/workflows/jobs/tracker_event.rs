//! `tracker_event`: record a tracker status on the parcel with that tracking code.
//!
//! Events arrive late, twice and out of order: an update older than the recorded one is
//! dropped and `delivered` is never regressed ([`Shipment::apply_tracking`]). A code no order
//! knows (another integration's parcel, or one whose order check has not run yet — that check
//! reads the tracker itself) is counted and ignored.
//!
//! [`Shipment::apply_tracking`]: crate::domain::Shipment::apply_tracking

use chrono::{DateTime, Utc};

use crate::domain::shipment::TrackingChange;
use crate::jobs::TrackerEvent;
use crate::store::ClaimedJob;
use crate::workers::Outcome;
use crate::workflows::counters::TRACKER_EVENTS;
use crate::workflows::{Deps, payload, store_failed};

pub async fn run(deps: &Deps, job: &ClaimedJob) -> Outcome {
    apply(deps, job).await.unwrap_or_else(|o| o)
}

async fn apply(deps: &Deps, job: &ClaimedJob) -> Result<Outcome, Outcome> {
    let p: TrackerEvent = payload(job)?;
    let t = &p.tracker;
    let found =
        deps.ledger.orders.by_tracking_code(p.merchant.as_str(), &t.tracking_code).await.map_err(store_failed)?;
    let Some((cart, order_id)) = found else {
        metrics::counter!(TRACKER_EVENTS, "result" => "unknown_code").increment(1);
        tracing::info!(merchant = %p.merchant, code = %t.tracking_code, event = %p.event_id, "tracker event for an unknown tracking code");
        return Ok(Outcome::Done);
    };
    // Upstream time (RFC 3339); one that does not read is no time, not a failure.
    let at = t.updated_at.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc));
    let now = deps.now();
    let updated = deps
        .ledger
        .orders
        .update(&p.merchant, &cart, order_id, |o| {
            let Some(s) = o.shipments.iter_mut().find(|s| s.tracking_code == t.tracking_code) else {
                return TrackingChange::Stale;
            };
            let change = s.apply_tracking(&t.status, at);
            if s.public_url.is_none() {
                s.public_url.clone_from(&t.public_url);
            }
            if change == TrackingChange::Changed {
                o.note(&format!("tracking {}: {}", t.tracking_code, t.status), now);
            }
            change
        })
        .await
        .map_err(store_failed)?;
    let label = match updated.map(|(_, c)| c) {
        Some(TrackingChange::Changed) => "changed",
        Some(TrackingChange::Same) => "same",
        Some(TrackingChange::Stale) => "stale",
        None => "unknown_code",
    };
    metrics::counter!(TRACKER_EVENTS, "result" => label).increment(1);
    Ok(Outcome::Done)
}
