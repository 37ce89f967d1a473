//! What stands in front of every TradeGecko API route: bearer-token auth, the rate limit per
//! account (fixed windows aligned to multiples of the window, as the recordings show `X-Rate-Limit-Reset`
//! on 5-minute boundaries), and `Idempotency-Key` replay for POST/PUT/PATCH.
//!
//! The account key is the privileged token itself, or the one (application, account) of every
//! OAuth access token ([`TgShared::account_of`]): tokens rotated by a refresh, or issued after
//! a reconnect, share one counter and one set of idempotency keys.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::TgShared;
use crate::sim::server::{credential, set_headers};
use crate::sim::util::{json, lock, now_ms};

/// `limit` requests per `window_secs` per account (TradeGecko: 300 per 300 s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub limit: u32,
    pub window_secs: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self { limit: 300, window_secs: 300 }
    }
}

struct Decision {
    allowed: bool,
    limit: u32,
    remaining: u32,
    reset: u64,
}

/// Per account key: (start of its current window in Unix seconds, calls counted in it).
type Counters = HashMap<String, (u64, u32)>;

/// Per-account counters for the current fixed window.
pub(crate) struct RateLimiter {
    inner: Mutex<(RateLimitConfig, Counters)>,
}

impl RateLimiter {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        Self { inner: Mutex::new((config, HashMap::new())) }
    }

    pub(crate) fn set(&self, config: RateLimitConfig) {
        *lock(&self.inner) = (config, HashMap::new());
    }

    pub(crate) fn config(&self) -> RateLimitConfig {
        lock(&self.inner).0
    }

    fn check(&self, account: &str) -> Decision {
        let mut guard = lock(&self.inner);
        let (config, counters) = &mut *guard;
        let window = config.window_secs.max(1);
        let start = now_ms() / 1000 / window * window;
        let entry = counters.entry(account.to_owned()).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        let allowed = entry.1 < config.limit;
        if allowed {
            entry.1 += 1;
        }
        Decision {
            allowed,
            limit: config.limit,
            remaining: config.limit.saturating_sub(entry.1),
            reset: start + window,
        }
    }
}

struct Stored {
    method: Method,
    path: String,
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
    at: Instant,
}

/// Stored answers to keyed writes, per (account key, key), for 24 hours.
pub(crate) struct Idempotency {
    entries: Mutex<HashMap<(String, String), Stored>>,
    /// Keyed writes run one at a time, so a concurrent retry waits and then replays.
    serial: tokio::sync::Mutex<()>,
}

const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

impl Idempotency {
    pub(crate) fn new() -> Self {
        Self { entries: Mutex::new(HashMap::new()), serial: tokio::sync::Mutex::new(()) }
    }
}

fn unauthorized() -> HttpResponse {
    let mut resp = json(
        401,
        &serde_json::json!({"error": "invalid_token", "error_description": "The access token is invalid", "state": "unauthorized"}),
    );
    set_headers(
        resp.headers_mut(),
        &[(
            "www-authenticate",
            "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"The access token is invalid\"",
        )],
    );
    resp
}

/// The gate middleware for the API scope.
pub(crate) async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(shared) = req.app_data::<web::Data<TgShared>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(account) = credential(req.headers()).and_then(|t| shared.account_of(&t)) else {
        return Ok(req.into_response(unauthorized()));
    };
    if shared.lapsed.load(std::sync::atomic::Ordering::Relaxed) {
        let msg = "The subscription for this account has lapsed";
        return Ok(req.into_response(shared.common.flavour.error(402, "PaymentRequired", msg)));
    }
    let d = shared.limiter.check(&account);
    let mut res = if d.allowed {
        idempotent(&shared, &account, req, next).await?
    } else {
        req.into_response(shared.common.flavour.error(
            429,
            "TooManyRequests",
            "Rate limit exceeded, retry after the reset time",
        ))
    };
    let (limit, remaining, reset) = (d.limit.to_string(), d.remaining.to_string(), d.reset.to_string());
    set_headers(
        res.headers_mut(),
        &[("x-rate-limit-limit", &limit), ("x-rate-limit-remaining", &remaining), ("x-rate-limit-reset", &reset)],
    );
    Ok(res)
}

async fn idempotent(
    shared: &TgShared,
    account: &str,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let keyed = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    let key = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (Some(key), true) = (key, keyed) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let _serial = shared.idem.serial.lock().await;
    let map_key = (account.to_owned(), key);
    {
        let mut entries = lock(&shared.idem.entries);
        entries.retain(|_, s| s.at.elapsed() < IDEMPOTENCY_TTL);
        if let Some(s) = entries.get(&map_key) {
            let resp = if s.method == req.method() && s.path == req.path() {
                let mut b = HttpResponse::build(s.status);
                if let Some(ct) = &s.content_type {
                    b.insert_header((CONTENT_TYPE, ct.clone()));
                }
                b.insert_header(("idempotent-replayed", "true"));
                b.body(s.body.clone())
            } else {
                json(
                    422,
                    &serde_json::json!({"errors": {"idempotency_key": ["has already been used for another request"]}}),
                )
            };
            return Ok(req.into_response(resp));
        }
    }
    let (method, path) = (req.method().clone(), req.path().to_owned());
    let res = next.call(req).await?;
    let (http_req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let body = actix_web::body::to_bytes(body).await.map_err(|e| {
        let e: Box<dyn std::error::Error> = e.into();
        actix_web::error::ErrorInternalServerError(e.to_string())
    })?;
    let status = head.status();
    if status.is_success() || (status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS) {
        let content_type = head.headers().get(CONTENT_TYPE).cloned();
        let stored = Stored { method, path, status, content_type, body: body.clone(), at: Instant::now() };
        lock(&shared.idem.entries).insert(map_key, stored);
    }
    Ok(ServiceResponse::new(http_req, head.set_body(BoxBody::new(body))))
}
