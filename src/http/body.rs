//! Reading raw request bodies with a size limit.
//!
//! Webhook signatures are computed over the exact bytes received, so the intake handlers read
//! the body themselves instead of going through an extractor that might re-encode it. The whole
//! body is always consumed (a handler that leaves it unread loses keep-alive).

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use futures::StreamExt;

use super::ApiError;

/// Reads the whole body, refusing more than `limit` bytes (413) — early when Content-Length
/// already says so.
pub async fn read_limited(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<Bytes, ApiError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("could not read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Requires a JSON content type (415 otherwise); a missing Content-Type is accepted, since
/// some senders omit it and the body is parsed strictly anyway.
pub fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    match req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => Ok(()),
        Some(ct) => {
            let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if mime == "application/json" || mime.ends_with("+json") {
                Ok(())
            } else {
                Err(ApiError::UnsupportedMediaType(format!("expected application/json, got {mime}")))
            }
        }
    }
}
