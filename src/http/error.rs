//! One error type for every HTTP answer, and one table from error code to status.
//!
//! Every error body has the shape `{"error":{"code":"…","message":"…"}}` — including actix's own
//! extractor failures (bad JSON, wrong content type, oversized body), which are routed here by
//! the `*Config` error handlers registered in `startup`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

/// What went wrong, as the client should see it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// No credentials were presented.
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// Credentials were presented and are wrong (unknown or revoked): the same answer as
    /// [`ApiError::Unauthorized`], told apart for the failure count and the slowdown.
    #[error("missing or invalid credentials")]
    InvalidCredentials,
    /// Authenticated, but the route is not for this principal (a merchant token on an
    /// operator-only route).
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed authentications from this address; retry after the given seconds.
    #[error("too many failed authentications from this address; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Settings that break the configuration's rules, each problem naming its key.
    #[error("{message}")]
    InvalidSettings { message: String, problems: Vec<(String, String)> },
    /// A write to a merchant or cart that the configuration file manages.
    #[error("{0}")]
    ManagedByConfig(String),
    /// The store cannot be reached: the sender should retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// The stable machine-readable code, and the status it maps to.
    fn code_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            Self::BadRequest(_) => ("bad_request", StatusCode::BAD_REQUEST),
            Self::Unauthorized | Self::InvalidCredentials => ("unauthorized", StatusCode::UNAUTHORIZED),
            Self::Forbidden(_) => ("forbidden", StatusCode::FORBIDDEN),
            Self::TooManyRequests { .. } => ("too_many_requests", StatusCode::TOO_MANY_REQUESTS),
            Self::NotFound(_) => ("not_found", StatusCode::NOT_FOUND),
            Self::Conflict(_) => ("conflict", StatusCode::CONFLICT),
            Self::InvalidSettings { .. } => ("invalid_settings", StatusCode::BAD_REQUEST),
            Self::ManagedByConfig(_) => ("managed_by_config", StatusCode::CONFLICT),
            Self::PayloadTooLarge { .. } => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            Self::UnsupportedMediaType(_) => ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            Self::Unavailable(_) => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
            Self::Internal(_) => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError as S;
        match e {
            S::Unavailable(_) => Self::Unavailable(e.to_string()),
            S::LeaseLost => Self::Conflict(e.to_string()),
            S::NoSuchJob => Self::NotFound(e.to_string()),
            S::Config(_) | S::Corrupt(_) => Self::Internal(anyhow::Error::new(e)),
        }
    }
}

impl From<crate::ledger::LedgerError> for ApiError {
    fn from(e: crate::ledger::LedgerError) -> Self {
        match e {
            crate::ledger::LedgerError::Store(s) => s.into(),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<crate::ops::OpError> for ApiError {
    fn from(e: crate::ops::OpError) -> Self {
        use crate::ops::OpError as O;
        match e {
            O::UnknownMerchant(_)
            | O::UnknownCart(_)
            | O::UnknownTarget(_)
            | O::NoOrder { .. }
            | O::OrderVanished
            | O::NoAlias(_)
            | O::NoToken(_)
            | O::NoAlert(_) => Self::NotFound(e.to_string()),
            O::Refused(_) | O::MerchantHasCarts(_) | O::CartTaken { .. } | O::Unusable(..) | O::NotOAuth(_) => {
                Self::Conflict(e.to_string())
            }
            O::ManagedByConfig(_) => Self::ManagedByConfig(e.to_string()),
            O::InvalidSettings(problems) => Self::InvalidSettings {
                message: "the settings are invalid".into(),
                problems: problems
                    .iter()
                    .map(|p| (p.key().unwrap_or_default().to_owned(), p.message().to_owned()))
                    .collect(),
            },
            O::Seal(ref f) if f.error == crate::tenants::SealError::NoKey => Self::Conflict(e.to_string()),
            O::Seal(_) => Self::Internal(anyhow::Error::new(e)),
            O::Contended => Self::Unavailable(e.to_string()),
            O::BadAliases(_) | O::LimitTooHigh { .. } | O::BadLimit { .. } | O::BadTokenName { .. } => {
                Self::BadRequest(e.to_string())
            }
            O::Store(e) => e.into(),
            O::Ledger(e) => e.into(),
        }
    }
}

/// Seconds a sender should wait before retrying after a 503.
pub const RETRY_AFTER_SECS: &str = "5";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code_and_status().1
    }

    fn error_response(&self) -> HttpResponse {
        let (code, status) = self.code_and_status();
        if let Self::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let mut body = json!({"error": {"code": code, "message": self.to_string()}});
        if let Self::InvalidSettings { problems, .. } = self {
            let problems: Vec<_> =
                problems.iter().map(|(key, message)| json!({"key": key, "message": message})).collect();
            body["error"]["problems"] = json!(problems);
        }
        let mut resp = HttpResponse::build(status).json(body);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        if let Self::TooManyRequests { retry_after_secs } = self {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        resp
    }
}

impl From<actix_web::error::JsonPayloadError> for ApiError {
    fn from(e: actix_web::error::JsonPayloadError) -> Self {
        use actix_web::error::JsonPayloadError as J;
        match e {
            J::OverflowKnownLength { limit, .. } => Self::PayloadTooLarge { limit },
            J::Overflow { limit } => Self::PayloadTooLarge { limit },
            J::ContentType => Self::UnsupportedMediaType("expected Content-Type: application/json".into()),
            J::Deserialize(e) => Self::BadRequest(format!("invalid JSON: {e}")),
            other => Self::BadRequest(other.to_string()),
        }
    }
}

/// `JsonConfig` error handler: bad JSON, wrong content type and oversize bodies in our shape.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::from(err).into()
}

/// `QueryConfig` error handler.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid query string: {err}")).into()
}

/// `PathConfig` error handler.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound(format!("invalid path: {err}")).into()
}

/// The answer for any route that does not exist.
pub async fn no_route(req: HttpRequest) -> ApiError {
    ApiError::NotFound(format!("no route for {} {}", req.method(), req.path()))
}

impl actix_web::Responder for ApiError {
    type Body = actix_web::body::BoxBody;
    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.error_response()
    }
}
