//! Shopify's GraphQL rate limit: a leaky bucket of cost points per shop (and app). A query's
//! requested cost is taken when it starts; if the bucket holds less, the query is refused with
//! the `THROTTLED` error of UPSTREAMS-shopify.md §6 and nothing is taken. When it finishes, the
//! difference between requested and actual cost goes back. The bucket refills at `restore_rate`
//! points per second up to `maximum_available` (Standard plan: 1000 and 100). A query costing
//! more than the whole bucket can never run: `MAX_COST_EXCEEDED`.
//!
//! Every THROTTLED answer is counted, so tests can check how often a client ran into the limit.

use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sim::util::{lock, now_ms};

/// The bucket's size and refill rate, and how a throttled answer is sent.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BucketConfig {
    pub maximum_available: f64,
    /// Points per second.
    pub restore_rate: f64,
    /// HTTP status of a THROTTLED answer: 200 (Shopify's usual) or 429 (UPSTREAMS: unconfirmed).
    pub throttled_status: u16,
}

impl Default for BucketConfig {
    fn default() -> Self {
        Self { maximum_available: 1000.0, restore_rate: 100.0, throttled_status: 200 }
    }
}

struct Inner {
    config: BucketConfig,
    available: f64,
    at: Instant,
    /// When each THROTTLED answer went out (Unix ms).
    throttled: Vec<u64>,
}

/// The shop's bucket.
pub(crate) struct Bucket {
    inner: Mutex<Inner>,
}

/// What taking a query's cost decided.
pub(crate) enum Take {
    Taken,
    Throttled,
    TooExpensive,
}

impl Bucket {
    pub(crate) fn new(config: BucketConfig) -> Self {
        let inner = Inner { config, available: config.maximum_available, at: Instant::now(), throttled: Vec::new() };
        Self { inner: Mutex::new(inner) }
    }

    /// Replaces the settings; the bucket starts full.
    pub(crate) fn set(&self, config: BucketConfig) {
        let mut i = lock(&self.inner);
        i.config = config;
        i.available = config.maximum_available;
        i.at = Instant::now();
    }

    pub(crate) fn config(&self) -> BucketConfig {
        lock(&self.inner).config
    }

    /// When each THROTTLED answer so far went out (Unix ms), so a test can count them per refill.
    pub(crate) fn throttled(&self) -> Vec<u64> {
        lock(&self.inner).throttled.clone()
    }

    fn refill(i: &mut Inner) {
        let now = Instant::now();
        let gained = now.duration_since(i.at).as_secs_f64() * i.config.restore_rate;
        i.available = (i.available + gained).min(i.config.maximum_available);
        i.at = now;
    }

    pub(crate) fn take(&self, cost: u64) -> Take {
        let mut i = lock(&self.inner);
        Self::refill(&mut i);
        let cost = cost as f64;
        if cost > i.config.maximum_available {
            return Take::TooExpensive;
        }
        if cost > i.available {
            i.throttled.push(now_ms());
            return Take::Throttled;
        }
        i.available -= cost;
        Take::Taken
    }

    /// Gives back what a query did not use.
    pub(crate) fn refund(&self, points: u64) {
        let mut i = lock(&self.inner);
        Self::refill(&mut i);
        i.available = (i.available + points as f64).min(i.config.maximum_available);
    }

    /// `extensions.cost` (`actual: None` for a query that did not run).
    pub(crate) fn extensions(&self, requested: u64, actual: Option<u64>) -> Value {
        let mut i = lock(&self.inner);
        Self::refill(&mut i);
        json!({"cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": i.config.maximum_available,
                "currentlyAvailable": i.available.floor() as u64,
                "restoreRate": i.config.restore_rate,
            },
        }})
    }
}
