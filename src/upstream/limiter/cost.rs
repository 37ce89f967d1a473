//! Cost-based pacing for Shopify's GraphQL Admin API (UPSTREAMS-shopify.md §6).
//!
//! Shopify meters each app+shop with a leaky bucket of points: a query's requested cost must be
//! available when it arrives, and the bucket refills at `restoreRate` points/s. Every answer
//! reports the bucket in `extensions.cost.throttleStatus`. Replicas share what they know
//! through the account's limiter hash (the same key as the GCRA slot and the pause, so one
//! hash-tagged key per shop):
//!
//! 1. Before a query, [`Gate::reserve_cost`] reserves its estimated cost (`cost.lua`): what
//!    it may spend is Shopify's bucket now (its last `currentlyAvailable`, refilled since) less
//!    every reservation Shopify has not counted yet. When the points are not there yet the
//!    caller is queued: its reservation is dated when it will be sent, `(cost − free) /
//!    restoreRate` s ahead, up to the limiter's `max_wait`; a longer wait is
//!    [`UpstreamError::RateLimited`], so the job is rescheduled without charging an attempt.
//! 2. After the answer, [`Gate::record_cost`] settles the reservation and takes Shopify's
//!    `throttleStatus` as the bucket (`cost_record.lua`), with its size and restore rate.
//!    Reservations sent more than [`Bucket::SEEN_MARGIN_MS`] before the query whose answer
//!    reported the bucket are taken as counted in it: Shopify charges a query when it
//!    arrives. So a replica killed with reservations in hand (waiting or on their way) stops
//!    holding the shop's points as soon as a query sent after them is answered — no timer,
//!    no leak — and a query still waiting its turn keeps its place.
//! 3. A query that was never sent (the call-rate gate or the token refused it) drops its
//!    reservation; one sent but answered without a bucket is charged against Shopify's last
//!    word (`cost_release.lua`).
//! 4. A `THROTTLED` answer pauses the account for every replica (`pause.lua`, via
//!    [`Gate::pause`]) for `(requested − currentlyAvailable) / restoreRate` s.
//!
//! Until Shopify has reported the bucket, it is assumed small ([`Bucket::ASSUMED_SIZE`]) and
//! slow ([`Bucket::ASSUMED_RATE`]), so a first crowd of replicas cannot overdraw it. With the
//! memory store the same arithmetic runs in-process ([`Bucket`]).

use std::sync::Arc;
use std::time::Duration;

pub(super) use super::bucket::{Bucket, Reservation};
use super::redis::Decision;
use super::{Gate, metrics};
use crate::upstream::UpstreamError;
use crate::upstream::metrics::WaitOutcome;

/// What Shopify says about the bucket (`extensions.cost.throttleStatus`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

impl ThrottleStatus {
    /// How long until `cost` points are available again.
    pub fn time_until(&self, cost: f64) -> Duration {
        let missing = (cost - self.currently_available).max(0.0);
        Duration::from_secs_f64(if self.restore_rate > 0.0 { missing / self.restore_rate } else { 1.0 })
    }
}

impl Gate {
    /// The cost to reserve for `operation`: what Shopify last reported, else `estimate`.
    pub fn estimated_cost(&self, operation: &str, estimate: f64) -> f64 {
        let learned = self.bucket.learned.lock().unwrap_or_else(|p| p.into_inner());
        learned.get(operation).copied().unwrap_or(estimate)
    }

    /// Remembers the requested cost Shopify reported for `operation`: the highest seen, since
    /// a short last page costs less than the full pages the same operation also asks for.
    pub fn learn_cost(&self, operation: &str, requested: f64) {
        let mut learned = self.bucket.learned.lock().unwrap_or_else(|p| p.into_inner());
        let cost = learned.entry(operation.to_owned()).or_insert(requested);
        *cost = cost.max(requested);
    }

    /// Reserves `cost` points of the account's bucket, sleeping until they are there when that
    /// is at most `max_wait` away (see the module docs).
    pub async fn reserve_cost(self: &Arc<Self>, cost: f64) -> Result<Reservation, UpstreamError> {
        let now = self.local.store_now();
        if !self.local.pause_remaining().is_zero()
            && let Some(until) = self.local.blocked_until(now)
        {
            return Err(self.rescheduled(until));
        }
        let (wait, reservation) = match &self.shared {
            Some(shared) => {
                let (store_now, decision) = shared.reserve_cost(cost, self.max_wait).await.map_err(|e| {
                    tracing::warn!(upstream = %self.upstream, account = %self.account, error = %e, "cost limiter unavailable");
                    self.limiter_down()
                })?;
                self.local.learn_clock(store_now);
                match decision {
                    (Decision::Granted { wait }, Some(reservation)) => (wait, reservation),
                    (Decision::Busy { at }, _) => return Err(self.rescheduled(at)),
                    (Decision::Paused { until }, _) => {
                        self.note_pause(store_now, until);
                        return Err(self.rescheduled(until));
                    }
                    (Decision::Granted { .. }, None) => return Err(self.limiter_down()),
                }
            }
            None => self.bucket.reserve(cost, now, self.max_wait).map_err(|at| self.rescheduled(at))?,
        };
        if !wait.is_zero() {
            metrics::ratelimit_wait(self.upstream, WaitOutcome::Waited);
            tokio::time::sleep(wait).await;
        }
        Ok(reservation)
    }

    /// Settles a reservation no answer recorded: a query never sent (the call-rate gate or the
    /// token refused it first) just drops it, so refusals do not drain the bucket for the calls
    /// that do go; one that may have been spent (answered without a bucket, or its answer
    /// lost) is charged against Shopify's last word.
    pub async fn release_cost(&self, reservation: &Reservation, spent: bool) {
        match &self.shared {
            Some(shared) => {
                if let Err(e) = shared.release_cost(reservation, spent).await {
                    tracing::warn!(upstream = %self.upstream, account = %self.account, error = %e, "cannot settle a query cost");
                }
            }
            None => self.bucket.release(reservation, spent, self.local.store_now()),
        }
    }

    /// Records the bucket as an answer to the query of `reservation` reported it. A failure to
    /// record changes nothing about the answer.
    pub async fn record_cost(&self, reservation: &Reservation, status: &ThrottleStatus) {
        match &self.shared {
            Some(shared) => match shared.record_cost(reservation, status).await {
                Ok(now) => self.local.learn_clock(now),
                Err(e) => {
                    tracing::warn!(upstream = %self.upstream, account = %self.account, error = %e, "cannot record the query cost")
                }
            },
            None => self.bucket.record(reservation, status, self.local.store_now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_until_a_cost_fits_is_the_missing_points_over_the_rate() {
        let s = ThrottleStatus { maximum_available: 1000.0, currently_available: 666.0, restore_rate: 50.0 };
        assert_eq!(s.time_until(752.0), Duration::from_secs_f64(86.0 / 50.0));
        assert_eq!(s.time_until(10.0), Duration::ZERO);
    }
}
