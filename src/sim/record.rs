//! What reached a simulator: every API request it handled, for tests and the reliability suite.
//!
//! Control routes (`/_sim/…`) are not recorded; everything else is, including requests refused
//! by authentication, rate limits or injected faults (with the fault named).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use super::util::lock;

/// One API request as the simulator saw it.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    /// Order of arrival (0-based).
    pub seq: u64,
    /// Arrival time, Unix milliseconds.
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    /// The raw query string (without `?`).
    pub query: String,
    /// The credential used (TradeGecko bearer token, EasyPost API key), if any.
    pub token: Option<String>,
    pub status: u16,
    /// The request body (lossy UTF-8).
    pub body: String,
    /// Time spent answering, including injected latency.
    pub duration_ms: u64,
    /// The injected fault, if any (`error`, `rate_limited`, `timeout`, `reset`).
    pub fault: Option<String>,
}

impl RecordedRequest {
    /// `"GET /orders/{id}"`: the method and the path with ids replaced, for counting per endpoint.
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, normalise_path(&self.path))
    }
}

/// Replaces id segments (`123`, `order_ab12…`, `prod_…`) by `{id}`.
pub fn normalise_path(path: &str) -> String {
    const PREFIXES: [&str; 8] = ["order_", "prod_", "trk_", "hook_", "wh_", "evt_", "pick_", "user_"];
    path.split('/')
        .map(|seg| {
            let numeric = !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit());
            if numeric || PREFIXES.iter().any(|p| seg.starts_with(p)) { "{id}" } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The request log of one simulator.
#[derive(Debug, Default)]
pub struct Recorder {
    entries: Mutex<Vec<RecordedRequest>>,
}

impl Recorder {
    pub(crate) fn push(&self, mut entry: RecordedRequest) {
        let mut entries = lock(&self.entries);
        entry.seq = entries.len() as u64;
        entries.push(entry);
    }

    /// Every request so far, in order of arrival.
    pub fn entries(&self) -> Vec<RecordedRequest> {
        lock(&self.entries).clone()
    }

    /// Forgets everything recorded so far.
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }

    /// How many requests reached `endpoint` (as [`RecordedRequest::endpoint`] spells it,
    /// e.g. `"POST /fulfillments"` or `"GET /orders/{id}"`).
    pub fn count(&self, endpoint: &str) -> usize {
        lock(&self.entries).iter().filter(|e| e.endpoint() == endpoint).count()
    }

    /// Requests per endpoint.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for e in lock(&self.entries).iter() {
            *out.entry(e.endpoint()).or_insert(0) += 1;
        }
        out
    }

    /// Arrival times (Unix ms) of every request made with `token`, in order.
    pub fn call_times(&self, token: &str) -> Vec<u64> {
        lock(&self.entries).iter().filter(|e| e.token.as_deref() == Some(token)).map(|e| e.at_ms).collect()
    }

    /// The most requests made with `token` in any sliding window of `window_ms`
    /// (so a test can check "at most R calls in any W window"). Requests are recorded when
    /// answered, so a slow one comes after quicker ones that arrived later: sort by arrival.
    pub fn max_calls_in_window(&self, token: &str, window_ms: u64) -> usize {
        let mut times = self.call_times(token);
        times.sort_unstable();
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= window_ms {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_normalised_for_counting() {
        assert_eq!(normalise_path("/orders/123"), "/orders/{id}");
        assert_eq!(normalise_path("/fulfillment/vendor/v2/orders/order_ab12"), "/fulfillment/vendor/v2/orders/{id}");
    }

    #[test]
    fn sliding_window_counts_the_densest_stretch() {
        let r = Recorder::default();
        for at_ms in [0, 100, 900, 1000, 1050, 3000] {
            r.push(RecordedRequest {
                seq: 0,
                at_ms,
                method: "GET".into(),
                path: "/orders".into(),
                query: String::new(),
                token: Some("t".into()),
                status: 200,
                body: String::new(),
                duration_ms: 0,
                fault: None,
            });
        }
        assert_eq!(r.max_calls_in_window("t", 1000), 4);
        assert_eq!(r.count("GET /orders"), 6);
    }

    #[test]
    fn sliding_window_counts_requests_recorded_out_of_arrival_order() {
        let r = Recorder::default();
        // A slow request (arrived at 500) is recorded after quicker ones that arrived later.
        for at_ms in [600, 700, 500, 2000] {
            r.push(RecordedRequest {
                seq: 0,
                at_ms,
                method: "GET".into(),
                path: "/orders".into(),
                query: String::new(),
                token: Some("t".into()),
                status: 200,
                body: String::new(),
                duration_ms: 0,
                fault: None,
            });
        }
        assert_eq!(r.max_calls_in_window("t", 1000), 3);
    }
}
