//! Shopify's GraphQL Admin API on an [`Account`] (UPSTREAMS-shopify.md §0, §6, §7).
//!
//! Every operation is a `POST /admin/api/{version}/graphql.json` with `{"query","variables"}`;
//! the answer is read with `graphql_client`'s envelope (`data`, `errors`, `extensions`). In order:
//!
//! 1. The query's cost is reserved from the shop's bucket before it is sent (the requested cost
//!    Shopify last reported for this operation, else the caller's estimate; see
//!    `limiter/cost.rs`); a long wait is [`UpstreamError::RateLimited`].
//! 2. HTTP failures keep their class from the shared core, with Shopify's meanings: 429 is a
//!    rate-limit wait; 402 (frozen) and 423 (locked) pause the shop and come back in an hour;
//!    403 is a missing scope ([`UpstreamError::Rejected`]); a query that lost its answer is
//!    [`UpstreamError::Transient`] (it changed nothing), a mutation stays
//!    [`UpstreamError::Ambiguous`] so the caller verifies before repeating it.
//! 3. `extensions.cost.throttleStatus` is recorded for every replica; an answer from another
//!    API version than asked (Shopify's oldest answers an unsupported one) is warned about once
//!    and counted.
//! 4. Top-level `errors`: `THROTTLED` pauses the shop for `(requested − available) / restore`
//!    seconds and is a rate-limit wait; `INTERNAL_SERVER_ERROR` is retried like a 5xx; anything
//!    else is [`UpstreamError::Rejected`] with Shopify's messages. `userErrors` inside `data`
//!    are the caller's to read.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::adaptive::{self, PauseRequest};
use super::limiter::ThrottleStatus;
use super::{Account, Upstream, UpstreamError, UpstreamResponse, metrics};
use crate::store::Millis;

/// How long a frozen (402) or locked (423) shop's jobs wait before trying again.
const SHOP_CLOSED_RETRY: Duration = Duration::from_secs(3600);
/// Shortest pause after `THROTTLED`, when the answer gives no bucket to compute one.
const MIN_THROTTLE_PAUSE: Duration = Duration::from_secs(1);

/// Failures that happen before a request leaves: its reserved cost was not spent. (A POST
/// that may have been sent fails as `Ambiguous`, an answer with its status.)
fn never_sent(e: &UpstreamError) -> bool {
    matches!(
        e,
        UpstreamError::RateLimited { .. }
            | UpstreamError::Disconnected { .. }
            | UpstreamError::Invalid { .. }
            | UpstreamError::Transient { status: None, .. }
    )
}

/// Whether an operation reads or writes (a write's lost answer must be verified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
}

/// One GraphQL operation as the adapter sends it.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// A short stable name: the metric endpoint (`graphql order`) and the learned cost's key.
    pub name: &'static str,
    pub query: &'static str,
    pub kind: OperationKind,
    /// The cost to reserve until Shopify has reported the operation's requested cost.
    pub estimate: f64,
}

/// A Shopify shop's Admin API account at one pinned API version; cheap to clone.
#[derive(Clone, Debug)]
pub struct ShopifyAccount {
    account: Account,
    version: String,
}

#[derive(Serialize)]
struct Body<'a, V> {
    query: &'a str,
    variables: &'a V,
}

/// `extensions.cost` of an answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cost {
    requested_query_cost: Option<f64>,
    throttle_status: Option<ThrottleStatus>,
}

impl ShopifyAccount {
    pub fn new(account: Account, version: impl Into<String>) -> Self {
        Self { account, version: version.into() }
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The API version every call names.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Sends `op` with `variables` and returns its `data` (see the module docs for the rest).
    pub async fn graphql<T: DeserializeOwned, V: Serialize>(
        &self,
        op: &Operation,
        variables: &V,
    ) -> Result<T, UpstreamError> {
        let gate = &self.account.inner.gate;
        let reserved = gate.estimated_cost(op.name, op.estimate);
        let reservation = gate.reserve_cost(reserved).await?;
        let path = format!("/admin/api/{}/graphql.json", self.version);
        let sent = self
            .account
            .post_json(&path, &Body { query: op.query, variables })
            .endpoint(format!("graphql {}", op.name))
            .send()
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                gate.release_cost(&reservation, !never_sent(&e)).await;
                return Err(self.failed(op, e).await);
            }
        };
        self.check_version(&resp);
        let envelope = resp.json::<graphql_client::Response<T>>();
        let cost = envelope.as_ref().ok().and_then(|e| e.extensions.as_ref()?.get("cost"));
        let cost = cost.and_then(|c| Cost::deserialize(c).ok());
        match cost.as_ref().and_then(|c| c.throttle_status) {
            Some(status) => gate.record_cost(&reservation, &status).await,
            None => gate.release_cost(&reservation, true).await,
        }
        if let Some(requested) = cost.as_ref().and_then(|c| c.requested_query_cost) {
            gate.learn_cost(op.name, requested);
        }
        let envelope = envelope?;
        match envelope.errors.filter(|e| !e.is_empty()) {
            Some(errors) => Err(self.errors(op, &errors, cost.as_ref(), reserved).await),
            None => envelope.data.ok_or_else(|| UpstreamError::Invalid {
                reason: format!("Shopify answered `{}` with neither data nor errors", op.name),
            }),
        }
    }

    /// Shopify's meaning of a failed exchange (module docs, step 2).
    async fn failed(&self, op: &Operation, e: UpstreamError) -> UpstreamError {
        let upstream = Upstream::Shopify;
        match e {
            UpstreamError::Transient { status: Some(429), retry_at, .. } => {
                metrics::counter_throttled();
                let until = retry_at.unwrap_or_else(|| self.now() + adaptive::millis(MIN_THROTTLE_PAUSE));
                UpstreamError::RateLimited { upstream, until }
            }
            UpstreamError::Rejected { status: status @ (402 | 423), .. } => {
                let why = if status == 402 { "frozen (unpaid bill)" } else { "locked" };
                tracing::warn!(status, "the Shopify shop is {why}: paused");
                self.pause(SHOP_CLOSED_RETRY).await;
                UpstreamError::RateLimited { upstream, until: self.now() + adaptive::millis(SHOP_CLOSED_RETRY) }
            }
            UpstreamError::Unauthorized { status: 403, .. } => UpstreamError::Rejected {
                upstream,
                status: 403,
                code: Some("ACCESS_DENIED".into()),
                message: "Shopify refused the call: the app lacks an access scope it needs".into(),
                raw_body: String::new(),
            },
            UpstreamError::Ambiguous { reason, .. } if op.kind == OperationKind::Query => {
                UpstreamError::Transient { upstream, status: None, reason, retry_at: None }
            }
            other => other,
        }
    }

    /// Top-level GraphQL errors (module docs, step 4).
    async fn errors(
        &self,
        op: &Operation,
        errors: &[graphql_client::Error],
        cost: Option<&Cost>,
        reserved: f64,
    ) -> UpstreamError {
        let upstream = Upstream::Shopify;
        let code_of = |e: &graphql_client::Error| {
            e.extensions.as_ref().and_then(|x| x.get("code")).and_then(|c| c.as_str()).map(str::to_owned)
        };
        let codes: Vec<Option<String>> = errors.iter().map(code_of).collect();
        let message = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
        if codes.iter().any(|c| c.as_deref() == Some("THROTTLED")) {
            metrics::counter_throttled();
            let requested = cost.and_then(|c| c.requested_query_cost).unwrap_or(reserved);
            let wait = cost
                .and_then(|c| c.throttle_status)
                .map_or(MIN_THROTTLE_PAUSE, |s| s.time_until(requested))
                .max(MIN_THROTTLE_PAUSE);
            tracing::info!(operation = op.name, wait_ms = adaptive::millis(wait), "Shopify throttled the shop: paused");
            let until = self.pause(wait).await;
            return UpstreamError::RateLimited { upstream, until };
        }
        if codes.iter().any(|c| c.as_deref() == Some("INTERNAL_SERVER_ERROR")) {
            return match op.kind {
                OperationKind::Query => {
                    UpstreamError::Transient { upstream, status: None, reason: message, retry_at: None }
                }
                OperationKind::Mutation => UpstreamError::Ambiguous { upstream, reason: message },
            };
        }
        let code = codes.into_iter().flatten().next();
        UpstreamError::Rejected { upstream, status: 200, code, message, raw_body: String::new() }
    }

    /// Pauses the shop for every replica and tells the account's watch (the merchant's
    /// `upstream_paused` alert); the pause's end on the store's clock.
    async fn pause(&self, wait: Duration) -> Millis {
        let req = PauseRequest { until_unix_ms: None, after: Some(wait), rejected: false };
        let fallback = self.now() + adaptive::millis(wait);
        let until = match self.account.inner.gate.pause(&req).await {
            Ok(Some(until)) => until,
            _ => fallback,
        };
        if let Some(w) = &self.account.inner.watch {
            w.watch.paused(&w.owner, &w.account, wait).await;
        }
        until
    }

    fn now(&self) -> Millis {
        self.account.inner.gate.store_now()
    }

    /// Warns once per process and version pair, and counts every answer, when Shopify answered
    /// with another API version than the one asked for.
    fn check_version(&self, resp: &UpstreamResponse) {
        static WARNED: LazyLock<Mutex<HashSet<(String, String)>>> = LazyLock::new(|| Mutex::new(HashSet::new()));
        let Some(answered) = resp.header("x-shopify-api-version") else { return };
        if answered == self.version {
            return;
        }
        metrics::shopify_version_mismatch(&self.version, answered);
        let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
        if warned.insert((self.version.clone(), answered.to_owned())) {
            tracing::warn!(requested = %self.version, answered, "Shopify answered with another API version: the pinned one is unsupported");
        }
    }
}
