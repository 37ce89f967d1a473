//! Request middleware: request id, tracing span, and the HTTP metrics.
//!
//! The request id is taken from an inbound `X-Request-Id` (so a load balancer's id follows the
//! request through our logs and on to the upstreams) or generated, and echoed on the response.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use metrics::{Counter, Histogram};
use tracing::Instrument;

use crate::metrics::HandleCache;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id of the current request, available to handlers as an extension.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn inbound_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| value.to_owned())
}

/// Tags the request with an id, runs it inside a span, and records its metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    // A thread-local RNG rather than a fresh OS-random UUID: no syscall on the hot path.
    let id = inbound_request_id(&req).unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()));
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = method_label(req.method());
    let span = tracing::info_span!("http", request_id = %id, method, path = req.path());

    let mut res = next.call(req).instrument(span).await?;

    // Asked after routing, when actix knows the matched resource: before it, this is a regex
    // walk over every route (measured: ~6% of a webhook's CPU). Not recorded on the span: it is
    // known only when the request is done, and recording a field re-formats the span's fields
    // (~3% of a webhook's CPU with JSON logs).
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    HTTP_METRICS.with(|cache| {
        cache.with((route, method, status), register, |(count, latency)| {
            count.increment(1);
            latency.record(elapsed);
        })
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

thread_local! {
    static HTTP_METRICS: HandleCache<(String, &'static str, u16), (Counter, Histogram)> = HandleCache::new();
}

fn register((route, method, status): &(String, &'static str, u16)) -> (Counter, Histogram) {
    let labels = [("route", route.clone()), ("method", (*method).to_owned()), ("status", status.to_string())];
    (
        metrics::counter!("cartgate_http_requests_total", &labels),
        metrics::histogram!("cartgate_http_request_duration_seconds", &labels),
    )
}

/// The method as a label from a fixed set, so an odd method cannot add label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
