//! Outbound webhook deliveries, shared by both simulators.
//!
//! Both upstreams deliver at least once and retry failures with exponential backoff; so does
//! this. A delivery succeeds on 200–399 (redirects are not followed), a `410 Gone` tells the
//! owner to delete the webhook (TradeGecko's rule), anything else or a connection error is
//! retried after `initial_backoff_ms · 2^(attempt-1)` (capped) until `max_attempts`.
//!
//! Test switches ([`DeliverySwitches`]): *drop* loses a delivery without sending it (a lost
//! webhook), *duplicate* sends it a second time after the first finishes, with the same body
//! and headers (same `X-Gecko-Delivery` / event id), as a real redelivery would.
//!
//! Deliveries run on the Tokio runtime that started the simulator, not on the HTTP workers.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::util::{lock, now_ms};

/// Retry schedule and timeout of outbound deliveries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryPolicy {
    /// Attempts per delivery before giving up.
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Per-attempt timeout (TradeGecko gives receivers 10 s).
    pub timeout_ms: u64,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self { max_attempts: 8, initial_backoff_ms: 1_000, max_backoff_ms: 60_000, timeout_ms: 10_000 }
    }
}

impl DeliveryPolicy {
    /// Short waits for tests: 5 attempts, 20 ms doubling to 200 ms, 2 s timeout.
    pub fn fast() -> Self {
        Self { max_attempts: 5, initial_backoff_ms: 20, max_backoff_ms: 200, timeout_ms: 2_000 }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u64 << attempt.saturating_sub(1).min(20);
        Duration::from_millis(self.initial_backoff_ms.saturating_mul(factor).min(self.max_backoff_ms))
    }
}

/// Switches that lose or repeat deliveries on purpose.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliverySwitches {
    /// Drop the next N deliveries.
    pub drop_next: u32,
    /// Send each of the next N deliveries twice.
    pub duplicate_next: u32,
    /// Share of deliveries dropped (seeded).
    pub drop_rate: f64,
    /// Share of deliveries sent twice (seeded).
    pub duplicate_rate: f64,
    pub seed: u64,
}

/// One webhook delivery to make.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub url: String,
    pub body: Bytes,
    pub headers: Vec<(String, String)>,
    /// What it carries (event name), for the log.
    pub event: String,
    /// The delivery / event id, for the log.
    pub delivery_id: String,
}

/// How a delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    /// The receiver answered 410: delete the webhook.
    Gone,
    GaveUp,
    Dropped,
}

/// One attempt (or drop) in the delivery log.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryAttempt {
    pub url: String,
    pub event: String,
    pub delivery_id: String,
    /// 1-based; 0 for a dropped delivery.
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at_ms: u64,
    /// True for the second send of a duplicated delivery.
    pub duplicate: bool,
}

/// Sends deliveries in the background and keeps a log of every attempt.
pub struct Deliverer {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    policy: Mutex<DeliveryPolicy>,
    switches: Mutex<(DeliverySwitches, StdRng)>,
    log: Mutex<Vec<DeliveryAttempt>>,
    in_flight: AtomicUsize,
}

impl Deliverer {
    /// Must be called inside a Tokio runtime: deliveries are spawned on it.
    pub fn new(policy: DeliveryPolicy) -> std::io::Result<Arc<Self>> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Arc::new(Self {
            client,
            runtime: tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?,
            policy: Mutex::new(policy),
            switches: Mutex::new((DeliverySwitches::default(), StdRng::seed_from_u64(0))),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
        }))
    }

    pub fn set_policy(&self, policy: DeliveryPolicy) {
        *lock(&self.policy) = policy;
    }

    pub fn set_switches(&self, switches: DeliverySwitches) {
        let rng = StdRng::seed_from_u64(switches.seed);
        *lock(&self.switches) = (switches, rng);
    }

    pub fn switches(&self) -> DeliverySwitches {
        lock(&self.switches).0.clone()
    }

    /// Every attempt so far.
    pub fn log(&self) -> Vec<DeliveryAttempt> {
        lock(&self.log).clone()
    }

    /// Deliveries still being attempted (including backoff waits).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Starts a delivery in the background; `on_done` gets the outcome of the first send.
    pub fn dispatch(self: &Arc<Self>, job: Outbound, on_done: impl FnOnce(Outcome) + Send + 'static) {
        let (drop, duplicate) = self.decide();
        if drop {
            self.note(&job, 0, None, Some("dropped by the simulator (lost webhook)".into()), false);
            on_done(Outcome::Dropped);
            return;
        }
        let me = self.clone();
        me.in_flight.fetch_add(1, Ordering::SeqCst);
        self.runtime.spawn(async move {
            let outcome = me.run(&job, false).await;
            on_done(outcome);
            if duplicate {
                me.run(&job, true).await;
            }
            me.in_flight.fetch_sub(1, Ordering::SeqCst);
        });
    }

    fn decide(&self) -> (bool, bool) {
        let mut guard = lock(&self.switches);
        let (s, rng) = &mut *guard;
        let drop = if s.drop_next > 0 {
            s.drop_next -= 1;
            true
        } else {
            s.drop_rate > 0.0 && rng.random_bool(s.drop_rate.clamp(0.0, 1.0))
        };
        let duplicate = if drop {
            false
        } else if s.duplicate_next > 0 {
            s.duplicate_next -= 1;
            true
        } else {
            s.duplicate_rate > 0.0 && rng.random_bool(s.duplicate_rate.clamp(0.0, 1.0))
        };
        (drop, duplicate)
    }

    async fn run(&self, job: &Outbound, duplicate: bool) -> Outcome {
        let policy = lock(&self.policy).clone();
        for attempt in 1..=policy.max_attempts.max(1) {
            let mut req = self.client.post(&job.url).timeout(Duration::from_millis(policy.timeout_ms));
            for (k, v) in &job.headers {
                req = req.header(k, v);
            }
            match req.body(job.body.clone()).send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    // Read the body so the connection can be reused.
                    let _ = resp.bytes().await;
                    self.note(job, attempt, Some(status), None, duplicate);
                    if (200..400).contains(&status) {
                        return Outcome::Delivered;
                    }
                    if status == 410 {
                        return Outcome::Gone;
                    }
                }
                Err(e) => self.note(job, attempt, None, Some(e.to_string()), duplicate),
            }
            if attempt < policy.max_attempts {
                tokio::time::sleep(policy.backoff(attempt)).await;
            }
        }
        Outcome::GaveUp
    }

    fn note(&self, job: &Outbound, attempt: u32, status: Option<u16>, error: Option<String>, duplicate: bool) {
        lock(&self.log).push(DeliveryAttempt {
            url: job.url.clone(),
            event: job.event.clone(),
            delivery_id: job.delivery_id.clone(),
            attempt,
            status,
            error,
            at_ms: now_ms(),
            duplicate,
        });
    }
}
