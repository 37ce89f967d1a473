//! Upstream metrics. Labels stay low-cardinality: the upstream, a route template, a status, and
//! the non-secret account id (one per configured credential).

use std::time::Duration;

use super::Upstream;

pub const REQUESTS: &str = "cartgate_upstream_requests_total";
pub const DURATION: &str = "cartgate_upstream_request_duration_seconds";
pub const RATELIMIT_WAITS: &str = "cartgate_ratelimit_waits_total";
pub const PAUSE: &str = "cartgate_upstream_pause_seconds";
pub const SHOPIFY_THROTTLED: &str = "cartgate_shopify_throttled_total";
pub const SHOPIFY_VERSION_MISMATCH: &str = "cartgate_shopify_api_version_mismatch_total";

/// Registers descriptions; call once next to the recorder's installation.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(REQUESTS, "Calls sent to an upstream, by upstream, route template and status");
    describe_histogram!(DURATION, metrics::Unit::Seconds, "Upstream call latency by upstream and route template");
    describe_counter!(
        RATELIMIT_WAITS,
        "Rate-limit acquires that could not go at once: waited in-process, rescheduled, or late (woke after their slot; a fresh one was taken)"
    );
    describe_gauge!(PAUSE, metrics::Unit::Seconds, "Remaining pause of an upstream account after a 429 or reset");
    describe_counter!(SHOPIFY_THROTTLED, "Shopify GraphQL answers that said THROTTLED (or 429): the shop was paused");
    describe_counter!(
        SHOPIFY_VERSION_MISMATCH,
        "Shopify answers from another API version than the one asked for (an unsupported version is answered by the oldest)"
    );
}

/// One finished call; `status` is the HTTP status or the transport failure (`connect`,
/// `timeout`, `io`).
pub(super) fn request(upstream: Upstream, endpoint: &str, status: &str, elapsed: Duration) {
    let up = upstream.as_str();
    metrics::counter!(REQUESTS, "upstream" => up, "endpoint" => endpoint.to_owned(), "status" => status.to_owned())
        .increment(1);
    metrics::histogram!(DURATION, "upstream" => up, "endpoint" => endpoint.to_owned()).record(elapsed.as_secs_f64());
}

/// How an acquire that could not go at once ended.
#[derive(Clone, Copy)]
pub(super) enum WaitOutcome {
    Waited,
    Rescheduled,
    /// Woke up too late for its slot and asked for a fresh one.
    Late,
}

pub(super) fn ratelimit_wait(upstream: Upstream, outcome: WaitOutcome) {
    let outcome = match outcome {
        WaitOutcome::Waited => "waited",
        WaitOutcome::Rescheduled => "rescheduled",
        WaitOutcome::Late => "late",
    };
    metrics::counter!(RATELIMIT_WAITS, "upstream" => upstream.as_str(), "outcome" => outcome).increment(1);
}

/// Sets the account's remaining pause (0 when not paused).
pub(super) fn pause(upstream: Upstream, account: &str, remaining: Duration) {
    metrics::gauge!(PAUSE, "upstream" => upstream.as_str(), "account" => account.to_owned())
        .set(remaining.as_secs_f64());
}

/// Shopify said THROTTLED (or 429).
pub(super) fn counter_throttled() {
    metrics::counter!(SHOPIFY_THROTTLED).increment(1);
}

/// Shopify answered from `answered` when `requested` was asked for.
pub(super) fn shopify_version_mismatch(requested: &str, answered: &str) {
    metrics::counter!(SHOPIFY_VERSION_MISMATCH, "requested" => requested.to_owned(), "answered" => answered.to_owned())
        .increment(1);
}
