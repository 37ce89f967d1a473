//! The request builder and the one `send` every upstream call goes through: rate limit,
//! exchange, adaptive pause, classification, span and metrics.

use std::time::Instant;

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use tracing::{Instrument, Span, field};

use super::account::{Auth, token_header};
use super::adaptive::{self, RetryAfter};
use super::error::{classify_status, classify_transport, lost_after_sending};
use super::{Account, UpstreamError, UpstreamResponse, endpoint, metrics};
use crate::store::Millis;

/// A request being built; nothing is sent until [`UpstreamRequest::send`].
#[must_use = "a request does nothing until it is sent"]
pub struct UpstreamRequest {
    account: Account,
    method: Method,
    path: String,
    query: Vec<String>,
    headers: HeaderMap,
    body: Option<Bytes>,
    content_type: &'static str,
    request_id: Option<String>,
    endpoint: Option<String>,
    /// A building mistake, reported by `send` so the builder stays chainable.
    error: Option<UpstreamError>,
}

impl UpstreamRequest {
    pub(super) fn new(account: Account, method: Method, path: &str) -> Self {
        Self {
            account,
            method,
            path: path.to_owned(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            content_type: "application/json",
            request_id: None,
            endpoint: None,
            error: None,
        }
    }

    /// Adds query parameters: a struct, a map or pairs (`&[("ids[]", "1"), ("ids[]", "2")]`).
    pub fn query<T: Serialize + ?Sized>(mut self, query: &T) -> Self {
        match serde_urlencoded::to_string(query) {
            Ok(q) if !q.is_empty() => self.query.push(q),
            Ok(_) => {}
            Err(e) => self.fail(format!("query cannot be encoded: {e}")),
        }
        self
    }

    /// Adds a header (e.g. `Idempotency-Key`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            _ => self.fail(format!("header {name} is not a valid header")),
        }
        self
    }

    /// Forwards our request id (from the inbound request or the job) as `X-Request-Id`.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) {
            self.request_id = Some(id);
        }
        self
    }

    /// Names the route template for metrics (`/orders/:id`) instead of deriving it.
    pub fn endpoint(mut self, template: impl Into<String>) -> Self {
        self.endpoint = Some(template.into());
        self
    }

    /// Sets a JSON body, buffered so it goes out with `Content-Length`.
    pub(super) fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Some(Bytes::from(bytes)),
            Err(e) => self.fail(format!("body cannot be encoded as JSON: {e}")),
        }
        self
    }

    fn fail(&mut self, reason: String) {
        self.error.get_or_insert(UpstreamError::Invalid { reason });
    }

    /// Waits for the account's rate limit, sends, and classifies the answer: `Ok` for 2xx,
    /// otherwise an [`UpstreamError`] class.
    pub async fn send(self) -> Result<UpstreamResponse, UpstreamError> {
        let acc = &self.account.inner;
        let endpoint = self.endpoint.clone().unwrap_or_else(|| endpoint::template(&self.path));
        let span = tracing::info_span!(
            "upstream",
            upstream = %acc.upstream,
            account = %acc.id,
            method = %self.method,
            endpoint = %endpoint,
            request_id = self.request_id.as_deref().unwrap_or(""),
            upstream_request_id = field::Empty,
            status = field::Empty,
        );
        self.send_in_span(endpoint).instrument(span).await
    }

    /// [`Self::call`], and its answer told to the account's watch.
    async fn send_in_span(self, endpoint: String) -> Result<UpstreamResponse, UpstreamError> {
        let acc = self.account.inner.clone();
        let result = self.call(endpoint).await;
        if let Some(w) = &acc.watch {
            match &result {
                Ok(_) => w.watch.accepted(&w.owner, &w.account).await,
                Err(UpstreamError::Unauthorized { .. }) => w.watch.rejected(&w.owner, &w.account).await,
                Err(UpstreamError::RateLimited { until, .. })
                | Err(UpstreamError::Transient { status: Some(429), retry_at: Some(until), .. }) => {
                    let ahead = u64::try_from(until - acc.gate.store_now()).unwrap_or(0);
                    w.watch.paused(&w.owner, &w.account, std::time::Duration::from_millis(ahead)).await;
                }
                Err(_) => {}
            }
        }
        result
    }

    async fn call(self, endpoint: String) -> Result<UpstreamResponse, UpstreamError> {
        if let Some(e) = self.error.clone() {
            return Err(e);
        }
        let acc = self.account.inner.clone();
        let (status, headers, body) = match &acc.auth {
            Auth::Static(header) => self.attempt(&endpoint, header.clone()).await?,
            Auth::Dynamic(source, kind) => {
                // One refresh, one retry: a 401 the fresh token does not cure ends the connection.
                let token = source.token().await?;
                let first = self.attempt(&endpoint, Some(token_header(*kind, &token.token)?)).await?;
                if first.0 != StatusCode::UNAUTHORIZED {
                    first
                } else {
                    tracing::info!("access token refused; retrying once with a fresh one");
                    let fresh = source.rejected(&token).await?;
                    let second = self.attempt(&endpoint, Some(token_header(*kind, &fresh.token)?)).await?;
                    if second.0 == StatusCode::UNAUTHORIZED {
                        return Err(source.unrecoverable(&fresh).await);
                    }
                    second
                }
            }
        };
        let method = self.method.clone();
        let account = Account { inner: acc };
        finish(&account, &method, status, headers, body).await
    }

    /// One exchange under the rate limit, with its metric and span status.
    async fn attempt(
        &self,
        endpoint: &str,
        auth: Option<(HeaderName, HeaderValue)>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), UpstreamError> {
        let acc = &self.account.inner;
        acc.gate.acquire().await?;
        let started = Instant::now();
        let result = self.exchange(auth).await;
        let label = match &result {
            Ok((status, _, _)) => status.as_str().to_owned(),
            Err((label, _)) => (*label).to_owned(),
        };
        metrics::request(acc.upstream, endpoint, &label, started.elapsed());
        Span::current().record("status", label.as_str());
        result.map_err(|(_, e)| {
            tracing::warn!(error = %e, "upstream call failed");
            e
        })
    }

    /// The HTTP exchange itself; failures carry their metric label.
    async fn exchange(
        &self,
        auth: Option<(HeaderName, HeaderValue)>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), (&'static str, UpstreamError)> {
        let acc = &self.account.inner;
        let upstream = acc.upstream;
        let mut rb = acc
            .http
            .request(self.method.clone(), self.url())
            .timeout(acc.timeout)
            .header(ACCEPT, "application/json")
            .headers(self.headers.clone());
        if let Some((name, value)) = auth {
            rb = rb.header(name, value);
        }
        if let Some(id) = &self.request_id {
            rb = rb.header("x-request-id", id.as_str());
        }
        match &self.body {
            Some(body) => rb = rb.header(CONTENT_TYPE, self.content_type).body(body.clone()),
            // An explicit empty body makes a body-less write say `Content-Length: 0`.
            None if self.method != Method::GET && self.method != Method::HEAD => rb = rb.body(Bytes::new()),
            None => {}
        }
        let resp =
            rb.send().await.map_err(|e| (transport_label(&e), classify_transport(upstream, &self.method, &e)))?;
        if let Some(id) = resp.headers().get(upstream.request_id_header()).and_then(|v| v.to_str().ok()) {
            Span::current().record("upstream_request_id", id);
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        match resp.bytes().await {
            Ok(body) => Ok((status, headers, body)),
            // The answer's status is known: an error keeps its class without the body.
            Err(_) if !status.is_success() => Ok((status, headers, Bytes::new())),
            Err(_) => Err(("io", lost_after_sending(upstream, &self.method, "the answer was cut off"))),
        }
    }

    fn url(&self) -> String {
        let slash = if self.path.starts_with('/') { "" } else { "/" };
        let mut url = format!("{}{slash}{}", self.account.inner.base, self.path);
        for q in &self.query {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(q);
        }
        url
    }
}

fn transport_label(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connect"
    } else if e.is_timeout() {
        "timeout"
    } else {
        "io"
    }
}

/// Applies what the answer says about the rate limit, then classifies it.
async fn finish(
    account: &Account,
    method: &Method,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
) -> Result<UpstreamResponse, UpstreamError> {
    let acc = &account.inner;
    let mut paused_until = None;
    if let Some(req) = adaptive::pause_request(status, &headers, acc.gate.store_now()) {
        // A failure to record the pause does not change what the upstream answered.
        paused_until = acc.gate.pause(&req).await.unwrap_or(None);
    }
    if status.is_success() {
        tracing::debug!("upstream call succeeded");
        return Ok(UpstreamResponse::new(acc.upstream, status, headers, body));
    }
    let retry_at = paused_until.or_else(|| retry_after_at(account, &headers));
    let err = classify_status(acc.upstream, method, status, &body, retry_at);
    tracing::info!(error = %err, "upstream answered with an error");
    Err(err)
}

/// `Retry-After` on the store's clock.
fn retry_after_at(account: &Account, headers: &HeaderMap) -> Option<Millis> {
    match adaptive::retry_after(headers)? {
        RetryAfter::At(at) => Some(at),
        RetryAfter::After(d) => Some(account.inner.gate.store_now() + adaptive::millis(d)),
    }
}
