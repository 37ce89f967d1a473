//! What an answer says about the upstream's own rate limit, turned into a pause of the account.
//!
//! * 429: pause until `Retry-After` (seconds or HTTP date) and/or TradeGecko's
//!   `X-Rate-Limit-Reset` (the later of the two); with neither (EasyPost documents none), an
//!   exponential backoff with jitter over the account's recent 429s ("strikes").
//! * `X-Rate-Limit-Remaining: 0` on any answer: pause until `X-Rate-Limit-Reset` (the next call
//!   would be a 429).
//!
//! The same arithmetic runs in `pause.lua` (Redis) and [`pause_end`] (memory store).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::store::Millis;

/// First backoff after a 429 without any hint; doubled per strike.
pub(super) const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Longest backoff after repeated 429s without hints.
pub(super) const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// A 429 older than this no longer counts towards the backoff.
pub(super) const STRIKE_WINDOW: Duration = Duration::from_secs(300);
/// No pause is longer than this, whatever a (possibly skewed) header says.
pub(super) const MAX_PAUSE: Duration = Duration::from_secs(15 * 60);

/// A request to pause an account, as read from one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct PauseRequest {
    /// Absolute end in unix ms (rate-limit reset, `Retry-After` date).
    pub until_unix_ms: Option<Millis>,
    /// Relative end (`Retry-After` seconds).
    pub after: Option<Duration>,
    /// The answer was a 429: it counts as a strike and falls back to backoff without hints.
    pub rejected: bool,
}

/// The pause an answer asks for, if any.
pub(super) fn pause_request(status: StatusCode, headers: &HeaderMap, now_unix_ms: Millis) -> Option<PauseRequest> {
    let reset = header_i64(headers, "x-rate-limit-reset").map(|v| reset_to_unix_ms(v, now_unix_ms));
    if status == StatusCode::TOO_MANY_REQUESTS {
        let mut req = PauseRequest { until_unix_ms: reset, after: None, rejected: true };
        match retry_after(headers) {
            Some(RetryAfter::After(d)) => req.after = Some(d),
            Some(RetryAfter::At(at)) => req.until_unix_ms = Some(req.until_unix_ms.unwrap_or(at).max(at)),
            None => {}
        }
        return Some(req);
    }
    let exhausted = header_i64(headers, "x-rate-limit-remaining") == Some(0);
    match (exhausted, reset) {
        (true, Some(at)) => Some(PauseRequest { until_unix_ms: Some(at), after: None, rejected: false }),
        _ => None,
    }
}

/// `Retry-After` as sent: a delay or a date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum RetryAfter {
    After(Duration),
    At(Millis),
}

pub(super) fn retry_after(headers: &HeaderMap) -> Option<RetryAfter> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(RetryAfter::After(Duration::from_secs(secs)));
    }
    chrono::DateTime::parse_from_rfc2822(raw).ok().map(|d| RetryAfter::At(d.timestamp_millis()))
}

/// TradeGecko documents the reset as absolute unix seconds; a small number is taken as a
/// relative delay in seconds, which some proxies and simulators send.
fn reset_to_unix_ms(value: i64, now_unix_ms: Millis) -> Millis {
    if value < 1_000_000_000 { now_unix_ms + value.max(0) * 1000 } else { value * 1000 }
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The backoff for the `strikes`-th recent 429 without hints, scaled by `jitter` in [0.5, 1].
pub(super) fn backoff(strikes: u32, jitter: f64) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << strikes.saturating_sub(1).min(16));
    exp.min(BACKOFF_CAP).mul_f64(jitter.clamp(0.5, 1.0))
}

/// A random jitter factor in [0.5, 1] ("equal jitter": never less than half the backoff).
pub(super) fn jitter() -> f64 {
    rand::random_range(0.5..=1.0)
}

/// When a pause requested at `now` ends (0 or less than `now`: no pause). `strikes` counts this
/// 429 already. Mirrors `pause.lua`.
pub(super) fn pause_end(now: Millis, req: &PauseRequest, strikes: u32, jitter: f64) -> Millis {
    let mut until = req.until_unix_ms.unwrap_or(0);
    if let Some(after) = req.after {
        until = until.max(now + millis(after));
    }
    if until <= now && req.rejected {
        until = now + millis(backoff(strikes, jitter));
    }
    until.min(now + millis(MAX_PAUSE))
}

pub(super) fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn remaining_zero_pauses_until_reset() {
        let h = headers(&[("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", "1700000300")]);
        let req = pause_request(StatusCode::OK, &h, 1_700_000_000_000).unwrap();
        assert_eq!(req.until_unix_ms, Some(1_700_000_300_000));
        assert!(!req.rejected);
        assert!(pause_request(StatusCode::OK, &headers(&[("x-rate-limit-remaining", "5")]), 0).is_none());
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(retry_after(&headers(&[("retry-after", "7")])), Some(RetryAfter::After(Duration::from_secs(7))));
        let at = retry_after(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]));
        assert_eq!(at, Some(RetryAfter::At(1_445_412_480_000)));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
    }

    #[test]
    fn bare_429_backs_off_exponentially_with_bounded_jitter() {
        let req = pause_request(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), 0).unwrap();
        assert_eq!(pause_end(1000, &req, 1, 1.0), 2000);
        assert_eq!(pause_end(1000, &req, 3, 1.0), 5000);
        assert_eq!(pause_end(1000, &req, 3, 0.5), 3000);
        assert_eq!(pause_end(0, &req, 30, 1.0), 60_000);
    }
}
