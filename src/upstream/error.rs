//! The error classes every workflow matches on, and the table that maps an HTTP answer or a
//! transport failure to one of them.
//!
//! The one distinction that protects "no duplicate orders": a failure *before* the request left
//! (connect refused, DNS, TLS handshake) is [`UpstreamError::Transient`] — retry freely; a
//! failure *after* it may have been received (timeout, connection lost mid-exchange, a gateway
//! 502/504) on a write is [`UpstreamError::Ambiguous`] — verify before retrying. A GET or HEAD
//! changes nothing upstream, so its ambiguous failures are reported as `Transient`.

use reqwest::{Method, StatusCode};

use super::Upstream;
use super::error_body::ErrorBody;
use crate::store::Millis;
use UpstreamError::{Ambiguous, NotFound, Rejected, Unauthorized};

/// What went wrong with an upstream call, classified for the caller's decision.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// Retry later: nothing was done upstream (connect failure, 5xx, 429, 408). `retry_at` is
    /// the earliest sensible retry on the store's clock, when the upstream said so.
    #[error("{upstream} unavailable: {reason}")]
    Transient { upstream: Upstream, status: Option<u16>, reason: String, retry_at: Option<Millis> },
    /// 401/403: the credentials were rejected. `code` keeps EasyPost's code (`APIKEY.INACTIVE`).
    #[error("{upstream} credentials rejected ({status}{})", code_suffix(.code))]
    Unauthorized { upstream: Upstream, status: u16, code: Option<String> },
    /// 404/410: the resource does not exist (or no longer).
    #[error("{upstream}: not found")]
    NotFound { upstream: Upstream },
    /// Any other 4xx: the upstream refused this request; retrying the same request won't help.
    /// `message` is the upstream's own wording, `raw_body` the body as received (truncated).
    #[error("{upstream} rejected the request ({status}): {message}")]
    Rejected { upstream: Upstream, status: u16, code: Option<String>, message: String, raw_body: String },
    /// The request may have reached the upstream but we have no answer (timeout or connection
    /// lost after sending, gateway timeout). A non-idempotent write must be verified upstream
    /// before it is retried.
    #[error("{upstream}: outcome unknown ({reason}); verify before retrying")]
    Ambiguous { upstream: Upstream, reason: String },
    /// Our limiter says wait until `until` (store-clock ms); no request was sent. Reschedule the
    /// job without charging an attempt.
    #[error("{upstream} rate limit: next call allowed at {until}")]
    RateLimited { upstream: Upstream, until: Millis },
    /// The cart's OAuth connection is gone (refresh refused, or a fresh token refused): nothing
    /// was sent. Its jobs wait, uncharged, until the merchant connects again.
    #[error("{upstream} connection lost: {reason}; the merchant must connect again")]
    Disconnected { upstream: Upstream, reason: String },
    /// We could not build the request or read a successful answer (a bug or a changed upstream
    /// contract). Permanent until someone looks.
    #[error("upstream call invalid: {reason}")]
    Invalid { reason: String },
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref().map(|c| format!(", {c}")).unwrap_or_default()
}

impl UpstreamError {
    /// Whether retrying the same call later can succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::RateLimited { .. } | Self::Ambiguous { .. })
    }

    /// When the upstream or the limiter says the next try makes sense (store-clock ms).
    pub fn retry_at(&self) -> Option<Millis> {
        match self {
            Self::Transient { retry_at, .. } => *retry_at,
            Self::RateLimited { until, .. } => Some(*until),
            _ => None,
        }
    }

    /// A short explanation for a merchant (no secrets, no internals).
    pub fn merchant_message(&self) -> String {
        match self {
            Self::Unauthorized { code: Some(c), .. } if c.eq_ignore_ascii_case("APIKEY.INACTIVE") => {
                "credentials rejected: the API key is inactive".to_owned()
            }
            Self::Unauthorized { .. } => "credentials rejected".to_owned(),
            Self::Rejected { message, .. } => message.clone(),
            Self::NotFound { .. } => "not found".to_owned(),
            other => other.to_string(),
        }
    }
}

/// Whether a method changes nothing upstream, so an unanswered call is safe to repeat.
pub(super) fn is_safe(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Classifies a non-2xx answer. `retry_at` comes from the limiter's pause (429) or the
/// `Retry-After` header (5xx), already on the store's clock.
pub(super) fn classify_status(
    upstream: Upstream,
    method: &Method,
    status: StatusCode,
    body: &[u8],
    retry_at: Option<Millis>,
) -> UpstreamError {
    let code = status.as_u16();
    match code {
        401 | 403 => Unauthorized { upstream, status: code, code: ErrorBody::parse(body).code },
        404 | 410 => NotFound { upstream },
        408 | 429 => transient(upstream, status, retry_at),
        // A gateway that timed out or lost the backend may have delivered a write.
        502 | 504 if !is_safe(method) => {
            Ambiguous { upstream, reason: format!("gateway answered {code} to a {method}") }
        }
        500..=599 => transient(upstream, status, retry_at),
        _ => {
            let parsed = ErrorBody::parse(body);
            let message = parsed.message.unwrap_or_else(|| fallback_message(status, body));
            Rejected { upstream, status: code, code: parsed.code, message, raw_body: raw_text(body) }
        }
    }
}

fn transient(upstream: Upstream, status: StatusCode, retry_at: Option<Millis>) -> UpstreamError {
    UpstreamError::Transient { upstream, status: Some(status.as_u16()), reason: format!("HTTP {status}"), retry_at }
}

/// Classifies a transport failure: before sending → Transient, after → Ambiguous (writes).
pub(super) fn classify_transport(upstream: Upstream, method: &Method, err: &reqwest::Error) -> UpstreamError {
    if err.is_builder() {
        return UpstreamError::Invalid { reason: "the request could not be built".to_owned() };
    }
    // `is_connect` covers DNS, refused, TLS and connect timeouts: nothing was sent.
    if err.is_connect() {
        let reason = format!("cannot connect: {}", root_cause(err));
        return UpstreamError::Transient { upstream, status: None, reason, retry_at: None };
    }
    let reason = if err.is_timeout() {
        "timed out waiting for the answer".to_owned()
    } else {
        format!("connection lost: {}", root_cause(err))
    };
    lost_after_sending(upstream, method, &reason)
}

/// The innermost cause (e.g. "Connection refused (os error 111)"): useful to an operator, and
/// unlike reqwest's own message it carries no URL.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The request left and the answer did not (fully) come back.
pub(super) fn lost_after_sending(upstream: Upstream, method: &Method, reason: &str) -> UpstreamError {
    if is_safe(method) {
        UpstreamError::Transient { upstream, status: None, reason: reason.to_owned(), retry_at: None }
    } else {
        UpstreamError::Ambiguous { upstream, reason: reason.to_owned() }
    }
}

/// Largest part of an error body kept in [`UpstreamError::Rejected`].
const RAW_BODY_LIMIT: usize = 4096;

fn raw_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(RAW_BODY_LIMIT)]);
    text.into_owned()
}

fn fallback_message(status: StatusCode, body: &[u8]) -> String {
    let text = raw_text(body);
    let text = text.trim();
    if text.is_empty() || text.len() > 300 {
        status.canonical_reason().unwrap_or("rejected").to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_timeout_on_a_write_is_ambiguous_but_on_a_read_is_transient() {
        let post = classify_status(Upstream::EasyPost, &Method::POST, StatusCode::GATEWAY_TIMEOUT, b"", None);
        assert!(matches!(post, UpstreamError::Ambiguous { .. }), "{post:?}");
        let get = classify_status(Upstream::EasyPost, &Method::GET, StatusCode::GATEWAY_TIMEOUT, b"", None);
        assert!(matches!(get, UpstreamError::Transient { .. }), "{get:?}");
    }

    #[test]
    fn unparseable_rejection_keeps_raw_body_as_message() {
        let e = classify_status(Upstream::TradeGecko, &Method::POST, StatusCode::BAD_REQUEST, b"nope", None);
        match e {
            UpstreamError::Rejected { message, raw_body, .. } => {
                assert_eq!(message, "nope");
                assert_eq!(raw_body, "nope");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn inactive_key_is_explained_to_the_merchant() {
        let e = UpstreamError::Unauthorized {
            upstream: Upstream::EasyPost,
            status: 403,
            code: Some("APIKEY.INACTIVE".into()),
        };
        assert!(e.merchant_message().contains("inactive"));
        assert!(e.to_string().contains("APIKEY.INACTIVE"));
    }
}
