//! A successful (2xx) upstream answer, fully buffered.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use super::{Upstream, UpstreamError};

/// A 2xx answer: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    upstream: Upstream,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl UpstreamResponse {
    pub(super) fn new(upstream: Upstream, status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self { upstream, status, headers, body }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as `T`. A body that does not parse is [`UpstreamError::Invalid`]: the upstream
    /// answered success in a shape we do not understand, which retrying will not change.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, UpstreamError> {
        serde_json::from_slice(&self.body).map_err(|e| UpstreamError::Invalid {
            reason: format!(
                "{} answered {} with a body that is not the expected JSON: {e}",
                self.upstream, self.status
            ),
        })
    }
}
