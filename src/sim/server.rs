//! The HTTP side shared by both simulators: binding, the outer layer (record, faults, request
//! id) and stopping.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use actix_web::body::{BodyStream, BoxBody, MessageBody};
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, Error, HttpMessage, HttpResponse, HttpServer, web};
use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::faults::{FaultAction, Faults};
use super::record::{RecordedRequest, Recorder};
use super::util::{json, now_ms};

/// Which upstream a simulator plays: decides error bodies and the request-id header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavour {
    Tradegecko,
    Easypost,
    Shopify,
}

impl Flavour {
    fn request_id_header(self) -> HeaderName {
        match self {
            Self::Tradegecko | Self::Shopify => HeaderName::from_static("x-request-id"),
            Self::Easypost => HeaderName::from_static("x-ep-request-uuid"),
        }
    }

    fn not_found_code(self) -> &'static str {
        match self {
            Self::Tradegecko => "NotFound",
            Self::Easypost => "NOT_FOUND",
            Self::Shopify => "Not Found",
        }
    }

    /// An error in this upstream's shape.
    pub(crate) fn error(self, status: u16, code: &str, message: &str) -> HttpResponse {
        match self {
            Self::Tradegecko => json(status, &serde_json::json!({"type": code, "message": message})),
            Self::Easypost => {
                json(status, &serde_json::json!({"error": {"code": code, "message": message, "errors": []}}))
            }
            // Shopify's REST-style errors: `{"errors":"<message>"}`; the code is only in the status.
            Self::Shopify => json(status, &serde_json::json!({ "errors": message })),
        }
    }

    fn fault_error(self, status: u16) -> HttpResponse {
        match status {
            502 => HttpResponse::BadGateway()
                .content_type("text/html")
                .body("<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"),
            503 => self.error(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable"),
            504 => self.error(504, "GATEWAY_TIMEOUT", "The request timed out"),
            _ => self.error(500, "INTERNAL_SERVER_ERROR", "Something went wrong on our end"),
        }
    }
}

/// What the outer layer needs from a simulator.
pub(crate) struct Common {
    pub flavour: Flavour,
    pub faults: Faults,
    pub recorder: Recorder,
    /// TradeGecko's current `X-Rate-Limit-Limit`, for 429s made up by a storm.
    pub rate_limit_limit: AtomicU32,
}

impl Common {
    fn storm_response(&self, until_unix: u64) -> HttpResponse {
        match self.flavour {
            Flavour::Tradegecko => {
                let mut resp = self.flavour.error(429, "TooManyRequests", "Rate limit exceeded");
                let limit = self.rate_limit_limit.load(Ordering::Relaxed).to_string();
                set_headers(
                    resp.headers_mut(),
                    &[
                        ("x-rate-limit-limit", &limit),
                        ("x-rate-limit-remaining", "0"),
                        ("x-rate-limit-reset", &until_unix.to_string()),
                    ],
                );
                resp
            }
            Flavour::Easypost => self.flavour.error(429, "RATE_LIMITED", "Too many requests, slow down"),
            Flavour::Shopify => {
                let mut resp = self.flavour.error(
                    429,
                    "THROTTLED",
                    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.",
                );
                let wait = until_unix.saturating_sub(now_ms() / 1000).max(1).to_string();
                set_headers(resp.headers_mut(), &[("retry-after", &wait)]);
                resp
            }
        }
    }
}

/// Sets response headers, skipping any value that is not a valid header.
pub(crate) fn set_headers(map: &mut HeaderMap, pairs: &[(&'static str, &str)]) {
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(value) {
            map.insert(HeaderName::from_static(name), v);
        }
    }
}

/// The credential of a request: a Bearer token, the username of Basic auth, or Shopify's
/// `X-Shopify-Access-Token`.
pub(crate) fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()) {
        return Some(token.trim().to_owned());
    }
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        return Some(text.split_once(':').map_or(text.as_str(), |(user, _)| user).to_owned());
    }
    None
}

/// Reads the whole request body and puts it back for the handler.
async fn take_body(req: &mut ServiceRequest) -> Result<Bytes, Error> {
    let mut payload = req.take_payload();
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        buf.extend_from_slice(&chunk?);
    }
    let bytes = buf.freeze();
    req.set_payload(actix_web::dev::Payload::from(bytes.clone()));
    Ok(bytes)
}

/// A body that fails at once, so actix drops the connection after the head.
fn broken_body() -> BoxBody {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "sim fault: reset"))
    });
    BoxBody::new(BodyStream::new(stream))
}

/// Runs the request through the handler, or not, as the fault says; names the fault applied.
async fn apply(
    common: &Common,
    action: FaultAction,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<(ServiceResponse<BoxBody>, Option<&'static str>), Error> {
    Ok(match action {
        FaultAction::None => (next.call(req).await?.map_into_boxed_body(), None),
        FaultAction::Error(status) => (req.into_response(common.flavour.fault_error(status)), Some("error")),
        FaultAction::RateLimited { until_unix } => {
            (req.into_response(common.storm_response(until_unix)), Some("rate_limited"))
        }
        FaultAction::Hang(d) => {
            tokio::time::sleep(d).await;
            (req.into_response(common.flavour.fault_error(504)), Some("timeout"))
        }
        FaultAction::Reset { after_handler } => {
            let res = if after_handler {
                next.call(req).await?.map_into_boxed_body()
            } else {
                req.into_response(HttpResponse::Ok().finish())
            };
            (res.map_body(|_, _| broken_body()), Some("reset"))
        }
    })
}

/// The body as recorded: OAuth token requests carry the client secret and grant secrets, which
/// the record (served at `/_sim/requests`) does not keep.
fn recorded_body(path: &str, body: &[u8]) -> String {
    if (path.starts_with("/oauth/") || path.starts_with("/admin/oauth/")) && !body.is_empty() {
        return "[redacted]".to_owned();
    }
    String::from_utf8_lossy(body).into_owned()
}

/// The outer layer: records API requests, injects faults, adds the request id.
async fn outer(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(common) = req.app_data::<web::Data<Common>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if req.path().starts_with("/_sim") {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let started = Instant::now();
    let at_ms = now_ms();
    let body = take_body(&mut req).await?;
    let mut entry = RecordedRequest {
        seq: 0,
        at_ms,
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        token: credential(req.headers()),
        status: 0,
        body: recorded_body(req.path(), &body),
        duration_ms: 0,
        fault: None,
    };
    let plan = common.faults.plan(&entry.method, &entry.path);
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    let (mut res, fault) = apply(&common, plan.action, req, next).await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(common.flavour.request_id_header(), v);
    }
    entry.status = res.status().as_u16();
    entry.duration_ms = started.elapsed().as_millis() as u64;
    entry.fault = fault.map(str::to_owned);
    common.recorder.push(entry);
    Ok(res)
}

/// A running simulator's HTTP server.
pub(crate) struct Running {
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl Running {
    /// Stops accepting and closes connections (without waiting for held requests).
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

impl Drop for Running {
    /// A dropped simulator stops too: the stop command is sent at once (only waiting for it
    /// needs a runtime), so tests that never call `stop` do not leave worker threads behind.
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Binds `addr` (port 0 for any) without serving yet, so the caller knows its URL first.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
}

/// Serves `configure`'s routes on `listener` behind the outer layer, on the current runtime.
pub(crate) fn serve<F>(listener: TcpListener, common: Arc<Common>, configure: F) -> std::io::Result<Running>
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let addr = listener.local_addr()?;
    let flavour = common.flavour;
    let common = web::Data::from(common);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(common.clone())
            .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
            .app_data(web::PathConfig::default().error_handler(move |e, _| {
                let resp = flavour.error(404, flavour.not_found_code(), &format!("no such resource: {e}"));
                actix_web::error::InternalError::from_response(e, resp).into()
            }))
            .app_data(web::JsonConfig::default().error_handler(move |e, _| {
                let resp = flavour.error(400, "BAD_REQUEST", &format!("invalid JSON body: {e}"));
                actix_web::error::InternalError::from_response(e, resp).into()
            }))
            .wrap(from_fn(outer))
            .configure(configure.clone())
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(Running { addr, handle })
}
