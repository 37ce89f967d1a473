//! Prometheus metrics: one process-wide recorder, rendered by `GET /metrics`.
//!
//! Metric names used across cartgate are listed here so they are described once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from sub-millisecond intake to slow upstream calls.
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

static HANDLE: OnceLock<Metrics> = OnceLock::new();

/// How often raw histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The installed recorder and the process collector.
pub struct Metrics {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

impl Metrics {
    /// Installs the recorder once per process and returns it.
    pub fn install() -> &'static Metrics {
        HANDLE.get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .and_then(|b| b.install_recorder())
                .unwrap_or_else(|e| {
                    // Another recorder is already installed (only possible in tests embedding
                    // us); keep a detached one so rendering still works.
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    PrometheusBuilder::new().build_recorder().handle()
                });
            // Histogram samples are kept raw until upkeep folds them into buckets; without it
            // they pile up for as long as nobody scrapes /metrics (a memory leak under load).
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start the metrics upkeep thread; histograms drain only when scraped");
            }
            let process = metrics_process::Collector::default();
            process.describe();
            describe();
            Metrics { handle, process }
        })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        self.process.collect();
        self.handle.render()
    }
}

/// Metric handles by label values, cached per thread. `counter!(name, labels)` looks the handle
/// up in the global registry on every call, hashing and copying each label; on the webhook path
/// that was about 3% of the CPU. Keys must come from a small, fixed set of values.
pub struct HandleCache<K, V>(RefCell<HashMap<K, V>>);

impl<K: Hash + Eq, V> HandleCache<K, V> {
    pub fn new() -> Self {
        Self(RefCell::new(HashMap::new()))
    }

    /// Runs `f` on the handles for `key`, registering them with `make` the first time.
    pub fn with<R>(&self, key: K, make: impl FnOnce(&K) -> V, f: impl FnOnce(&V) -> R) -> R {
        let mut map = self.0.borrow_mut();
        let handles = map.entry(key).or_insert_with_key(|k| make(k));
        f(handles)
    }
}

impl<K: Hash + Eq, V> Default for HandleCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("cartgate_http_requests_total", "HTTP requests by route, method and status");
    describe_histogram!(
        "cartgate_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by route, method and status"
    );
    describe_counter!(
        "cartgate_webhooks_total",
        "Webhook deliveries by provider and result (accepted, duplicate, bad_signature, malformed, rejected_url, \
         store_unavailable, unknown_event, unknown_target, too_large, …)"
    );
    describe_histogram!(
        "cartgate_webhook_ingest_seconds",
        metrics::Unit::Seconds,
        "Time from request to answer for webhook deliveries, by provider"
    );
    crate::oauth::describe_metrics();
    describe_gauge!("cartgate_queue_depth", "Jobs per state (due, inflight, hold, dead), refreshed every 5 s");
    describe_counter!("cartgate_jobs_total", "Job runs by kind and outcome");
    describe_histogram!("cartgate_claim_duration_seconds", metrics::Unit::Seconds, "Time of one claim call");
    describe_histogram!("cartgate_job_duration_seconds", metrics::Unit::Seconds, "Handler run time by kind");
    describe_counter!(
        "cartgate_admin_auth_failures_total",
        "Failed admin authentications by reason (missing, invalid, throttled)"
    );
    crate::upstream::describe_metrics();
    crate::alerts::deliver::describe();
    crate::workflows::counters::describe();
    crate::alerts::lifecycle::describe_metrics();
}
