//! Webhook receivers: verify, dedupe, durably enqueue, answer fast.
//!
//! Order of checks, cheapest first: unknown cart/merchant (404; 503 with `Retry-After` while a
//! merchant set up through the API is unusable, so the sender delivers again), content type (415), body size
//! while reading (413), signature over the raw bytes (401, reason only in the log), payload
//! shape and `resource_url` (400), then one atomic store call that remembers the delivery id and
//! enqueues the job. 200 is answered only after that call succeeded (invariant 1); a store that
//! cannot be reached gives 503 with `Retry-After`, so the sender delivers again.

use std::time::{Duration, Instant};

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, post, web};
use metrics::{Counter, Histogram};
use serde_json::json;

use super::body::{read_limited, require_json};
use super::{ApiError, AppState};
use crate::intake::{self, DEDUPE_TTL, NotificationError};
use crate::jobs::{CheckShipment, ImportOrder, TrackerEvent};
use crate::metrics::HandleCache;
use crate::settings::{CartAuth, MerchantSettings, Secret};
use crate::signature;
use crate::store::{Deduped, NewJob, StoreError, When};

/// The store must answer well within the senders' 10 s deadline.
const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// A 200 answer.
pub(super) enum Verdict {
    Accepted,
    Duplicate,
    /// Valid, but nothing to do (unknown event, other mode, …): the label says why.
    Ignored(&'static str),
}

/// A refused delivery: the metric label and the answer.
pub(super) struct Refusal {
    label: &'static str,
    error: ApiError,
}

impl Refusal {
    pub(super) fn new(label: &'static str, error: ApiError) -> Self {
        Self { label, error }
    }
}

impl From<NotificationError> for Refusal {
    fn from(e: NotificationError) -> Self {
        match e {
            NotificationError::Malformed(_) => Self::new("malformed", ApiError::BadRequest(e.to_string())),
            NotificationError::ForeignResource(_) => Self::new("rejected_url", ApiError::BadRequest(e.to_string())),
        }
    }
}

#[post("/webhooks/tradegecko/{cart_id}")]
pub async fn tradegecko(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let verdict = receive_tradegecko(&req, &path, payload, &state).await;
    answer("tradegecko", verdict, started)
}

async fn receive_tradegecko(
    req: &HttpRequest,
    cart_id: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<Verdict, Refusal> {
    let (_, cart) = state.tenants().cart(cart_id).ok_or_else(|| unknown_cart(state, cart_id))?;
    let body = read_body(req, payload, state).await?;
    // An OAuth cart's webhooks belong to the application and are signed with its secret.
    let signing = match (cart.auth, state.settings.apps.tradegecko.as_ref()) {
        (CartAuth::Oauth, Some(app)) => [Some(&app.client_secret), app.client_secret_previous.as_ref()],
        (CartAuth::Oauth, None) => [None, None],
        (CartAuth::Token, _) => [cart.client_secret.as_ref(), cart.client_secret_previous.as_ref()],
    };
    let secrets = secrets(signing);
    let header = req.headers().get("x-gecko-signature").map(|v| v.as_bytes());
    signature::tradegecko_verify(secrets, header, &body).map_err(|e| bad_signature("tradegecko", cart_id, e))?;

    let note = intake::tradegecko::parse(&body, &cart.api_base())?;
    if !note.event.imports_order() {
        let label =
            if matches!(note.event, intake::tradegecko::Event::Unknown(_)) { "unknown_event" } else { "no_work" };
        tracing::info!(
            cart = cart_id,
            event = note.event.name(),
            object_id = note.object_id,
            "webhook accepted, no work"
        );
        return Ok(Verdict::Ignored(label));
    }
    let delivery = match req.headers().get("x-gecko-delivery").and_then(|v| v.to_str().ok()) {
        Some(d) if !d.is_empty() && d.len() <= 200 => d.to_owned(),
        _ => format!("{}:{}:{}", note.event.name(), note.object_id, note.timestamp.unwrap_or_default()),
    };
    let job = ImportOrder { cart: cart.id.clone(), order_id: note.object_id, trigger: note.event.name().to_owned() };
    enqueue_once(state, &crate::jobs::tradegecko_delivery_key(&cart.id, &delivery), job.job()).await
}

/// 404 for a cart nobody set up; 503 for one whose merchant is unusable (a stored secret no
/// key opens), so TradeGecko delivers again once the key ring is fixed.
pub(super) fn unknown_cart(state: &AppState, cart_id: &str) -> Refusal {
    match state.tenants().now().owner_of(cart_id) {
        Some(merchant) => Refusal::new(
            "unusable_tenant",
            ApiError::Unavailable(format!("merchant `{merchant}` of cart `{cart_id}` is unusable right now")),
        ),
        None => Refusal::new("unknown_target", ApiError::not_found(format!("unknown cart `{cart_id}`"))),
    }
}

/// 404 for a merchant nobody set up; 503 for an unusable one (as [`unknown_cart`]).
fn unknown_merchant(state: &AppState, merchant_id: &str) -> Refusal {
    match state.tenants().now().entry(merchant_id) {
        Some(_) => Refusal::new(
            "unusable_tenant",
            ApiError::Unavailable(format!("merchant `{merchant_id}` is unusable right now")),
        ),
        None => Refusal::new("unknown_target", ApiError::not_found(format!("unknown merchant `{merchant_id}`"))),
    }
}

#[post("/webhooks/easypost/{merchant_id}")]
pub async fn easypost(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let verdict = receive_easypost(&req, &path, payload, &state).await;
    answer("easypost", verdict, started)
}

async fn receive_easypost(
    req: &HttpRequest,
    merchant_id: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<Verdict, Refusal> {
    let merchant = state.tenants().merchant(merchant_id).ok_or_else(|| unknown_merchant(state, merchant_id))?;
    let body = read_body(req, payload, state).await?;
    let wms = &merchant.wms;
    if wms.webhook_secret.is_none() {
        tracing::warn!(merchant = merchant_id, "EasyPost webhook refused: merchant has no wms.webhook_secret");
    }
    let secrets = secrets([wms.webhook_secret.as_ref(), wms.webhook_secret_previous.as_ref()]);
    let header = req.headers().get("x-hmac-signature").map(|v| v.as_bytes());
    signature::easypost_verify(secrets, header, &body).map_err(|e| bad_signature("easypost", merchant_id, e))?;

    let event = intake::easypost::parse(&body)?;
    if event.mode.is_some_and(|m| m != wms.mode()) {
        tracing::info!(
            merchant = merchant_id,
            event = %event.id,
            event_mode = ?event.mode,
            active_mode = wms.mode().as_str(),
            "EasyPost event for the other mode ignored"
        );
        return Ok(Verdict::Ignored("other_mode"));
    }
    let Some(job) = easypost_job(&merchant, &event) else {
        tracing::info!(merchant = merchant_id, event = %event.id, description = %event.description, "webhook accepted, no work");
        return Ok(Verdict::Ignored("no_work"));
    };
    enqueue_once(state, &crate::jobs::easypost_event_key(&merchant.id, &event.id), job).await
}

fn easypost_job(merchant: &MerchantSettings, event: &intake::easypost::Event) -> Option<NewJob> {
    match &event.action {
        intake::easypost::Action::Tracker(t) => {
            Some(TrackerEvent { merchant: merchant.id.clone(), event_id: event.id.clone(), tracker: t.clone() }.job())
        }
        intake::easypost::Action::CheckOrder(order) => {
            Some(CheckShipment { merchant: merchant.id.clone(), wms_order_id: order.clone() }.job())
        }
        intake::easypost::Action::None => None,
    }
}

pub(super) fn secrets(candidates: [Option<&Secret>; 2]) -> impl Iterator<Item = &str> {
    candidates.into_iter().flatten().map(Secret::expose)
}

pub(super) async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<web::Bytes, Refusal> {
    require_json(req).map_err(|e| Refusal::new("unsupported_media_type", e))?;
    read_limited(req, payload, state.settings.server.max_body_bytes).await.map_err(|e| match e {
        ApiError::PayloadTooLarge { .. } => Refusal::new("too_large", e),
        other => Refusal::new("malformed", other),
    })
}

pub(super) fn bad_signature(provider: &str, target: &str, e: signature::SignatureError) -> Refusal {
    tracing::warn!(provider, target, reason = %e, "webhook signature refused");
    Refusal::new("bad_signature", ApiError::Unauthorized)
}

/// Remembers the delivery and enqueues its job in one atomic store call.
pub(super) async fn enqueue_once(state: &AppState, dedupe_key: &str, job: NewJob) -> Result<Verdict, Refusal> {
    let call = state.queue().enqueue_once(dedupe_key, DEDUPE_TTL, &job, When::Now);
    let unavailable = |why: String| {
        tracing::warn!(job = %job.id, error = %why, "webhook not stored: store unavailable");
        Refusal::new("store_unavailable", ApiError::Unavailable("the store is unavailable; deliver again later".into()))
    };
    match tokio::time::timeout(STORE_TIMEOUT, call).await {
        Ok(Ok(Deduped::Duplicate)) => Ok(Verdict::Duplicate),
        Ok(Ok(Deduped::Enqueued(_))) => Ok(Verdict::Accepted),
        Ok(Err(e @ StoreError::Unavailable(_))) => Err(unavailable(e.to_string())),
        Ok(Err(e)) => Err(unavailable(e.to_string())),
        Err(_) => Err(unavailable(format!("no answer within {} s", STORE_TIMEOUT.as_secs()))),
    }
}

pub(super) fn answer(
    provider: &'static str,
    verdict: Result<Verdict, Refusal>,
    started: Instant,
) -> Result<HttpResponse, ApiError> {
    let ok = |body: &'static str| HttpResponse::Ok().content_type(ContentType::json()).body(body);
    let (label, result) = match verdict {
        Ok(Verdict::Accepted) => ("accepted", Ok(ok(r#"{"status":"accepted"}"#))),
        Ok(Verdict::Duplicate) => ("duplicate", Ok(ok(r#"{"status":"duplicate"}"#))),
        Ok(Verdict::Ignored(why)) => (why, Ok(HttpResponse::Ok().json(json!({"status": "ignored", "reason": why})))),
        Err(r) => (r.label, Err(r.error)),
    };
    let elapsed = started.elapsed().as_secs_f64();
    WEBHOOK_METRICS.with(|cache| {
        cache.with(
            (provider, label),
            |&(provider, label)| {
                (
                    metrics::counter!("cartgate_webhooks_total", "provider" => provider, "result" => label),
                    metrics::histogram!("cartgate_webhook_ingest_seconds", "provider" => provider),
                )
            },
            |(count, latency)| {
                count.increment(1);
                latency.record(elapsed);
            },
        )
    });
    result
}

thread_local! {
    /// By (provider, result): both are `&'static str` from a fixed set.
    static WEBHOOK_METRICS: HandleCache<(&'static str, &'static str), (Counter, Histogram)> = HandleCache::new();
}
