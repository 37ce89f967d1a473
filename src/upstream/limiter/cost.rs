//! Cost-based pacing for Shopify's GraphQL Admin API (UPSTREAMS-shopify.md §6).
//!
//! Shopify meters each app+shop with a leaky bucket of points: a query's requested cost must be
//! available when it arrives, and the bucket refills at `restoreRate` points/s. Every answer
//! reports the bucket in `extensions.cost.throttleStatus`. Replicas share what they know
//! through the account's limiter hash (the same key as the GCRA slot and the pause, so one
//! hash-tagged key per shop):
//!
//! 1. Before a query, [`Gate::reserve_cost`] takes its estimated cost from the bucket
//!    (`cost.lua`). When the points are not there yet the caller sleeps
//!    `(cost − available) / restoreRate` s, up to the limiter's `max_wait`; a longer wait is
//!    [`UpstreamError::RateLimited`], so the job is rescheduled without charging an attempt.
//! 2. After the answer, [`Gate::record_cost`] gives back what was over-reserved and lowers the
//!    bucket to Shopify's `currentlyAvailable` less the reservations still on their way (which
//!    Shopify has not seen) when that is lower (`cost_record.lua`), and keeps the bucket's size
//!    and restore rate as Shopify reported them.
//! 3. A query that was never sent (the call-rate gate or the token refused it) gives its
//!    reservation back; one answered without a bucket is settled as spent (`cost_release.lua`).
//! 4. A `THROTTLED` answer pauses the account for every replica (`pause.lua`, via
//!    [`Gate::pause`]) for `(requested − currentlyAvailable) / restoreRate` s.
//!
//! Until Shopify has reported the bucket, it is assumed small ([`Bucket::ASSUMED_SIZE`]) and
//! slow ([`Bucket::ASSUMED_RATE`]), so a first crowd of replicas cannot overdraw it. With the
//! memory store the same arithmetic runs in-process ([`Bucket`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::redis::Decision;
use super::{Gate, adaptive, metrics};
use crate::store::Millis;
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

/// The bucket as this process knows it (the memory store's limiter; the shape `cost.lua` keeps).
#[derive(Debug, Default)]
pub(super) struct Bucket {
    /// Points left after every reservation (below 0: reservations are queued); `None`: unknown.
    state: Mutex<Option<State>>,
    /// The requested cost Shopify last reported per operation (with Redis too: a query's cost
    /// depends only on its text and page sizes, so each replica learns it alike).
    learned: Mutex<HashMap<String, f64>>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    points: f64,
    at: Millis,
    max: f64,
    rate: f64,
    /// Points reserved by queries not answered yet: this generation (begun at `inflight_at`)
    /// and the one before ([`Bucket::INFLIGHT_WINDOW_MS`] each, as `cost.lua`).
    inflight: f64,
    inflight_old: f64,
    inflight_at: Millis,
}

impl State {
    /// Starts a new in-flight generation when the current one is a window old; reservations two
    /// windows old are forgotten (their callers crashed: a query lasts far less).
    fn rotate(&mut self, now: Millis) {
        let age = now - self.inflight_at;
        if age >= 2 * Bucket::INFLIGHT_WINDOW_MS {
            (self.inflight, self.inflight_old, self.inflight_at) = (0.0, 0.0, now);
        } else if age >= Bucket::INFLIGHT_WINDOW_MS {
            (self.inflight, self.inflight_old, self.inflight_at) = (0.0, self.inflight, now);
        }
    }

    /// An answered or released query's points leave the in-flight count: the current
    /// generation first (a query lasts well under a window, so it is almost always there),
    /// the rest from the one before.
    fn settle(&mut self, reserved: f64) {
        let from_current = self.inflight.min(reserved);
        self.inflight -= from_current;
        self.inflight_old = (self.inflight_old - (reserved - from_current)).max(0.0);
    }
}

impl Bucket {
    /// Assumed bucket size until Shopify reports one: the smallest documented restore rate's
    /// worth of a second (an unknown plan is treated as the smallest).
    pub const ASSUMED_SIZE: f64 = 100.0;
    /// Assumed restore rate (points/s) until Shopify reports one: below every documented plan.
    pub const ASSUMED_RATE: f64 = 10.0;
    /// The length of an in-flight generation: a reservation not answered within one to two of
    /// these is forgotten (its caller was killed mid-query), so a crashed replica holds the
    /// bucket's points for at most 20 s. A live query takes well under a second; one slower than
    /// a window that is forgotten early can at worst be answered THROTTLED, which pauses the shop
    /// until its points are back.
    pub const INFLIGHT_WINDOW_MS: i64 = 10_000;

    fn refilled(state: Option<State>, now: Millis) -> State {
        let mut s = state.unwrap_or(State {
            points: Self::ASSUMED_SIZE,
            at: now,
            max: Self::ASSUMED_SIZE,
            rate: Self::ASSUMED_RATE,
            inflight: 0.0,
            inflight_old: 0.0,
            inflight_at: now,
        });
        let elapsed = (now - s.at).max(0) as f64 / 1000.0;
        s.points = s.max.min(s.points + elapsed * s.rate);
        s.at = now;
        s.rotate(now);
        s
    }

    /// `cost.lua` in-process: the wait before `cost` is available, or `Err(at)` when it is
    /// further than `max_wait`.
    fn reserve(&self, cost: f64, now: Millis, max_wait: Duration) -> Result<Duration, Millis> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = Self::refilled(*guard, now);
        let cost = cost.min(s.max);
        let wait = if s.points < cost { ((cost - s.points) * 1000.0 / s.rate).ceil() as i64 } else { 0 };
        if wait > adaptive::millis(max_wait) {
            return Err(now + wait);
        }
        s.points -= cost;
        s.inflight += cost;
        *guard = Some(s);
        Ok(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
    }

    /// `cost_release.lua` in-process.
    fn release(&self, reserved: f64, refund: f64) {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = guard.as_mut() {
            s.points = (s.points + refund.max(0.0)).min(s.max);
            s.settle(reserved);
        }
    }

    /// `cost_record.lua` in-process.
    fn record(&self, reserved: f64, actual: f64, status: &ThrottleStatus, now: Millis) {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = Self::refilled(*guard, now);
        s.settle(reserved);
        let ours = s.points + (reserved - actual).max(0.0);
        let on_the_way = s.inflight + s.inflight_old;
        s.points = ours.min(status.currently_available - on_the_way).min(status.maximum_available);
        s.max = status.maximum_available;
        s.rate = status.restore_rate;
        *guard = Some(s);
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

    /// Takes `cost` points of the account's bucket, sleeping until they are there when that is
    /// at most `max_wait` away (see the module docs).
    pub async fn reserve_cost(self: &Arc<Self>, cost: f64) -> Result<(), UpstreamError> {
        let now = self.local.store_now();
        if !self.local.pause_remaining().is_zero()
            && let Some(until) = self.local.blocked_until(now)
        {
            return Err(self.rescheduled(until));
        }
        let wait = match &self.shared {
            Some(shared) => {
                let (store_now, decision) = shared.reserve_cost(cost, self.max_wait).await.map_err(|e| {
                    tracing::warn!(upstream = %self.upstream, account = %self.account, error = %e, "cost limiter unavailable");
                    self.limiter_down()
                })?;
                self.local.learn_clock(store_now);
                match decision {
                    Decision::Granted { wait } => wait,
                    Decision::Busy { at } => return Err(self.rescheduled(at)),
                    Decision::Paused { until } => {
                        self.note_pause(store_now, until);
                        return Err(self.rescheduled(until));
                    }
                }
            }
            None => self.bucket.reserve(cost, now, self.max_wait).map_err(|at| self.rescheduled(at))?,
        };
        if !wait.is_zero() {
            metrics::ratelimit_wait(self.upstream, WaitOutcome::Waited);
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// Settles a reservation no answer recorded: a query never sent (the call-rate gate or the
    /// token refused it first) gives all of it back, so refusals do not drain the bucket for the
    /// calls that do go; one answered without a bucket gives nothing back but is no longer
    /// counted as on its way.
    pub async fn release_cost(&self, reserved: f64, refund: f64) {
        match &self.shared {
            Some(shared) => {
                if let Err(e) = shared.release_cost(reserved, refund).await {
                    tracing::warn!(upstream = %self.upstream, account = %self.account, error = %e, "cannot settle a query cost");
                }
            }
            None => self.bucket.release(reserved, refund),
        }
    }

    /// Records the bucket as an answer to a query that reserved `reserved` and cost `actual`
    /// reported it. A failure to record changes nothing about the answer.
    pub async fn record_cost(&self, reserved: f64, actual: f64, status: &ThrottleStatus) {
        match &self.shared {
            Some(shared) => match shared.record_cost(reserved, actual, status).await {
                Ok(now) => self.local.learn_clock(now),
                Err(e) => {
                    tracing::warn!(upstream = %self.upstream, account = %self.account, error = %e, "cannot record the query cost")
                }
            },
            None => self.bucket.record(reserved, actual, status, self.local.store_now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_waits_for_the_missing_points_and_queues_the_next() {
        let b = Bucket::default();
        let wait = Duration::from_secs(60);
        assert_eq!(b.reserve(80.0, 0, wait), Ok(Duration::ZERO));
        // 20 left; 50 more need 30 points at 10/s.
        assert_eq!(b.reserve(50.0, 0, wait), Ok(Duration::from_secs(3)));
        // −30 left: the next 10 wait for those 30 as well.
        assert_eq!(b.reserve(10.0, 0, wait), Ok(Duration::from_secs(4)));
        assert_eq!(b.reserve(10.0, 0, Duration::from_secs(1)), Err(5_000));
    }

    #[test]
    fn shopify_lowers_the_bucket_but_never_raises_it_over_reservations() {
        let b = Bucket::default();
        let wait = Duration::from_secs(60);
        b.reserve(60.0, 0, wait).unwrap();
        let status = ThrottleStatus { maximum_available: 1000.0, currently_available: 990.0, restore_rate: 100.0 };
        b.record(60.0, 10.0, &status, 0);
        // Ours (40 + 50 back) is lower than Shopify's 990: kept; the rate is Shopify's now.
        assert_eq!(b.reserve(100.0, 0, wait), Ok(Duration::from_millis(100)));
        // Shopify's 5 is lower than a fresh bucket's 100 (someone else spent it): adopted.
        let other = Bucket::default();
        let low = ThrottleStatus { currently_available: 5.0, ..status };
        other.record(0.0, 0.0, &low, 0);
        assert_eq!(other.reserve(105.0, 0, wait), Ok(Duration::from_secs(1)));
    }

    #[test]
    fn shopify_s_count_is_lowered_by_the_reservations_it_has_not_seen_yet() {
        let b = Bucket::default();
        let wait = Duration::from_secs(60);
        b.reserve(20.0, 0, wait).unwrap();
        b.reserve(20.0, 0, wait).unwrap();
        // The first is answered: Shopify has 80 left, but the second is still on its way.
        let status = ThrottleStatus { maximum_available: 100.0, currently_available: 80.0, restore_rate: 10.0 };
        b.record(20.0, 20.0, &status, 0);
        assert_eq!(b.reserve(60.0, 0, wait), Ok(Duration::ZERO));
        assert_eq!(b.reserve(1.0, 0, wait), Ok(Duration::from_millis(100)), "60 of 80 − 20 taken: none left");
    }

    #[test]
    fn a_reservation_never_sent_is_given_back_up_to_the_bucket_size() {
        let b = Bucket::default();
        let wait = Duration::from_secs(60);
        b.reserve(100.0, 0, wait).unwrap();
        b.release(100.0, 100.0);
        assert_eq!(b.reserve(100.0, 0, wait), Ok(Duration::ZERO), "as if never taken");
        b.release(0.0, 500.0);
        assert_eq!(b.reserve(100.0, 0, wait), Ok(Duration::ZERO));
        assert_eq!(b.reserve(1.0, 0, wait), Ok(Duration::from_millis(100)), "never more than the bucket holds");
    }

    #[test]
    fn a_killed_callers_reservation_is_forgotten_within_two_windows_even_under_steady_traffic() {
        let b = Bucket::default();
        let wait = Duration::from_secs(3600);
        let full = ThrottleStatus { maximum_available: 1000.0, currently_available: 1000.0, restore_rate: 100.0 };
        b.record(0.0, 0.0, &full, 0);
        // A replica reserves 500 points and is killed before its query reaches Shopify.
        b.reserve(500.0, 0, wait).unwrap();
        // Other queries every 10 s, each answered with Shopify's full bucket.
        let mut t = 0;
        while t < 2 * Bucket::INFLIGHT_WINDOW_MS {
            t += 10_000;
            b.reserve(10.0, t, wait).unwrap();
            b.record(10.0, 10.0, &full, t);
            if t < Bucket::INFLIGHT_WINDOW_MS {
                let left = b.reserve(0.0, t, wait).map(|_| ());
                assert_eq!(left, Ok(()), "still counted as on its way within the first window");
            }
        }
        // All but the last query's 10 points are there: the lost 500 are no longer held back.
        assert_eq!(b.reserve(990.0, t, wait), Ok(Duration::ZERO));
    }

    #[test]
    fn the_time_until_a_cost_fits_is_the_missing_points_over_the_rate() {
        let s = ThrottleStatus { maximum_available: 1000.0, currently_available: 666.0, restore_rate: 50.0 };
        assert_eq!(s.time_until(752.0), Duration::from_secs_f64(86.0 / 50.0));
        assert_eq!(s.time_until(10.0), Duration::ZERO);
    }
}
