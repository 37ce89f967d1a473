//! Per-account rate limiting across replicas (protocol: the `upstream` module header).
//!
//! [`Limiter`] is built once per process from the store's connection (or without one for the
//! memory store); it hands each account a [`Gate`] that every request goes through.

mod bucket;
mod cost;
mod local;
mod redis;

pub use cost::ThrottleStatus;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::redis::RedisConn;

use self::local::{LocalGate, Pace};
use self::redis::{Decision, RedisGate};
use super::adaptive::{self, PauseRequest};
use super::metrics::{self, WaitOutcome};
use super::{AccountId, Upstream, UpstreamError};
use crate::settings::{RateLimit, StoreSettings};
use crate::store::Millis;

/// Default longest in-process wait for a slot; longer waits are handed back to the scheduler.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(2);

/// Fresh slots asked for after waking up late, before the job is rescheduled instead.
const LATE_RETRIES: u32 = 3;

/// The process's rate limiter; cheap to clone.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Option<(RedisConn, String)>,
    max_wait: Duration,
    gates: Mutex<HashMap<(Upstream, AccountId, RateLimitKey), Arc<Gate>>>,
}

type RateLimitKey = (u32, u64);

impl Limiter {
    /// Limits shared by every replica through Redis (keys under `prefix`).
    pub fn redis(conn: RedisConn, prefix: impl Into<String>) -> Self {
        Self::build(Some((conn, prefix.into())), DEFAULT_MAX_WAIT)
    }

    /// For the configured store: `memory://` → [`Limiter::local`]; a Redis URL → a lazy,
    /// auto-reconnecting connection of its own (use [`Limiter::redis`] to share the store's).
    /// Must be called inside the Tokio runtime; an unreachable Redis fails acquires, not this.
    pub fn for_store(settings: &StoreSettings) -> Result<Self, UpstreamError> {
        if settings.url == "memory://" {
            return Ok(Self::local());
        }
        let conn = RedisConn::open(settings)
            .map_err(|e| UpstreamError::Invalid { reason: format!("store URL for the limiter: {e}") })?;
        Ok(Self::redis(conn, settings.prefix.clone()))
    }

    /// Limits kept in this process only: for the memory store (one instance).
    pub fn local() -> Self {
        Self::build(None, DEFAULT_MAX_WAIT)
    }

    /// Sets the longest in-process wait (apply before handing the limiter out).
    pub fn with_max_wait(self, max_wait: Duration) -> Self {
        let shared = self.inner.shared.clone();
        Self::build(shared, max_wait)
    }

    fn build(shared: Option<(RedisConn, String)>, max_wait: Duration) -> Self {
        Self { inner: Arc::new(Inner { shared, max_wait, gates: Mutex::new(HashMap::new()) }) }
    }

    /// The gate of one account; the same gate for the same account and rate in this process.
    pub(super) fn gate(&self, upstream: Upstream, id: &AccountId, rate: RateLimit) -> Result<Arc<Gate>, UpstreamError> {
        if rate.requests == 0 || rate.per_secs == 0 {
            return Err(UpstreamError::Invalid { reason: format!("{upstream} rate limit must be positive") });
        }
        let key = (upstream, id.clone(), (rate.requests, rate.per_secs));
        let mut gates = self.inner.gates.lock().unwrap_or_else(|p| p.into_inner());
        let gate = gates.entry(key).or_insert_with(|| {
            let interval = emission_interval(rate);
            let shared = self
                .inner
                .shared
                .as_ref()
                .map(|(conn, prefix)| RedisGate::new(conn.clone(), prefix, upstream.as_str(), id.as_str()));
            Arc::new(Gate {
                upstream,
                account: id.clone(),
                interval,
                late: late_tolerance(rate),
                max_wait: self.inner.max_wait,
                local: LocalGate::new(interval),
                bucket: cost::Bucket::default(),
                shared,
            })
        });
        Ok(gate.clone())
    }
}

/// How late a call may go after its slot: 1% of the window, at least 2 ms. A replica that
/// stalls (CPU throttling, a loaded machine) wakes many sleepers at once; were they to go
/// with their old slots, the upstream would see the stall's worth of calls in a burst.
fn late_tolerance(rate: RateLimit) -> Duration {
    (Duration::from_secs(rate.per_secs) / 100).max(Duration::from_millis(2))
}

/// T = W / R, rounded up to whole microseconds so that R intervals never fit in less than W.
fn emission_interval(rate: RateLimit) -> Duration {
    let nanos = (Duration::from_secs(rate.per_secs) / rate.requests).as_nanos();
    Duration::from_micros(u64::try_from(nanos.div_ceil(1000)).unwrap_or(u64::MAX).max(1))
}

/// One account's limiter.
pub(crate) struct Gate {
    upstream: Upstream,
    account: AccountId,
    /// Emission interval T = W / R.
    interval: Duration,
    /// How late after its slot a call may still go ([`late_tolerance`]).
    late: Duration,
    max_wait: Duration,
    local: LocalGate,
    /// The memory store's cost bucket (Shopify); unused with Redis.
    bucket: cost::Bucket,
    shared: Option<RedisGate>,
}

impl Gate {
    /// Waits for a slot (at most `max_wait`), or says when to come back.
    pub async fn acquire(self: &Arc<Self>) -> Result<(), UpstreamError> {
        let now = self.local.store_now();
        // What this replica already knows (a pause, its own last slot, a horizon Redis
        // reported) is a lower bound of the shared state: refusing on it needs no round trip.
        if let Some(until) = self.local.blocked_until(now)
            && (until - now > adaptive::millis(self.max_wait) || !self.local.pause_remaining().is_zero())
        {
            return Err(self.rescheduled(until));
        }
        match &self.shared {
            Some(shared) => self.acquire_shared(shared).await,
            None => self.acquire_local(now).await,
        }
    }

    async fn acquire_shared(self: &Arc<Self>, shared: &RedisGate) -> Result<(), UpstreamError> {
        for _ in 0..=LATE_RETRIES {
            let asked = Instant::now();
            let (store_now, decision) = shared.acquire(self.interval, self.max_wait).await.map_err(|e| {
                tracing::warn!(upstream = %self.upstream, account = %self.account, error = %e, "rate limiter unavailable");
                self.limiter_down()
            })?;
            self.local.learn_clock(store_now);
            match decision {
                Decision::Granted { wait } => {
                    // Our slot starts after `wait`; the next one is at least an interval later.
                    self.local.block_until(store_now + adaptive::millis(wait + self.interval));
                    self.sleep(wait).await;
                    // A slot is good at its time only: woken too late, the call would bunch up
                    // with the slots after it. It is left unused and a fresh one taken.
                    if asked.elapsed() <= wait + self.late {
                        return Ok(());
                    }
                    metrics::ratelimit_wait(self.upstream, WaitOutcome::Late);
                }
                Decision::Busy { at } => {
                    self.local.block_until(at);
                    return Err(self.rescheduled(at));
                }
                Decision::Paused { until } => {
                    self.note_pause(store_now, until);
                    return Err(self.rescheduled(until));
                }
            }
        }
        Err(self.rescheduled(self.local.store_now()))
    }

    /// The memory store: the local pacer alone, waiting in-process for a near slot.
    async fn acquire_local(&self, now: Millis) -> Result<(), UpstreamError> {
        match self.local.pace() {
            Pace::Go => Ok(()),
            Pace::Wait(wait) if wait > self.max_wait => Err(self.rescheduled(now + adaptive::millis(wait))),
            Pace::Wait(_) if self.local.wait_for_slot(self.max_wait).await => {
                metrics::ratelimit_wait(self.upstream, WaitOutcome::Waited);
                Ok(())
            }
            Pace::Wait(_) => Err(self.rescheduled(now + adaptive::millis(self.max_wait))),
        }
    }

    async fn sleep(&self, wait: Duration) {
        if !wait.is_zero() {
            metrics::ratelimit_wait(self.upstream, WaitOutcome::Waited);
            tokio::time::sleep(wait).await;
        }
    }

    /// Records what an answer said about the upstream's own limit. Returns the pause end on
    /// the store's clock when the account is now paused.
    pub async fn pause(self: &Arc<Self>, req: &PauseRequest) -> Result<Option<Millis>, UpstreamError> {
        let jitter = adaptive::jitter();
        let (now, until) = match &self.shared {
            Some(shared) => {
                let (now, until) = shared.pause(req, jitter).await.map_err(|e| {
                    tracing::warn!(upstream = %self.upstream, account = %self.account, error = %e, "cannot record pause");
                    self.limiter_down()
                })?;
                self.local.learn_clock(now);
                (now, until)
            }
            None => (self.local.store_now(), self.local.pause_end(req, jitter)),
        };
        if until <= now {
            return Ok(None);
        }
        tracing::info!(upstream = %self.upstream, account = %self.account, pause_ms = until - now, "upstream asked us to slow down: account paused");
        self.note_pause(now, until);
        Ok(Some(until))
    }

    /// Records a pause seen at `now`. When it extends what this replica knew, the gauge is set
    /// now and again when the pause is over (a later, longer pause keeps it up until its end).
    fn note_pause(self: &Arc<Self>, now: Millis, until: Millis) {
        if !self.local.paused_until(until) {
            return;
        }
        metrics::pause(self.upstream, self.account.as_str(), self.local.pause_remaining());
        let gate = Arc::downgrade(self);
        let at = Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
        tokio::spawn(async move {
            tokio::time::sleep(at).await;
            if let Some(gate) = gate.upgrade() {
                metrics::pause(gate.upstream, gate.account.as_str(), gate.local.pause_remaining());
            }
        });
    }

    /// The store's clock as best known here (for `Retry-After` → retry time).
    pub fn store_now(&self) -> Millis {
        self.local.store_now()
    }

    fn rescheduled(&self, until: Millis) -> UpstreamError {
        metrics::ratelimit_wait(self.upstream, WaitOutcome::Rescheduled);
        UpstreamError::RateLimited { upstream: self.upstream, until }
    }

    fn limiter_down(&self) -> UpstreamError {
        UpstreamError::Transient {
            upstream: self.upstream,
            status: None,
            reason: "rate limiter unavailable".into(),
            retry_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emission_interval_never_lets_r_calls_fit_in_less_than_w() {
        let t = |requests, per_secs| emission_interval(RateLimit { requests, per_secs });
        assert_eq!(t(5, 1), Duration::from_millis(200));
        assert_eq!(t(300, 300), Duration::from_secs(1));
        assert_eq!(t(3, 1), Duration::from_micros(333_334));
        assert!(t(3, 1) * 3 >= Duration::from_secs(1));
    }
}
