//! The admin surface: every `/admin/*` route takes a [`Principal`] — who is asking — from
//! `Authorization: Bearer <token>`. What each principal may do is `http/access.rs`.
//!
//! Checks, in order, and the answer each failure gets:
//! 1. `server.admin_token` is not configured → **404**, as if the routes did not exist (start-up
//!    logs that they are disabled); merchant tokens are off with them.
//! 2. The source address has used up its failed authentications (counting its attempts still
//!    under way) → **429** with `Retry-After` (`http/slowdown.rs`), before the credentials are
//!    looked at.
//! 3. No bearer token → **401**.
//! 4. The operator token, compared in constant time → [`Principal::Operator`].
//! 5. A merchant token, found by its SHA-256 in the store (never compared or kept in plaintext;
//!    looked up on every request, so a revocation is in force on every replica at once) →
//!    [`Principal::Merchant`]; unknown, revoked, or its merchant gone → **401**, counted
//!    against the address.
//!
//! Every failure is counted in `cartgate_admin_auth_failures_total{reason}`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use futures::future::LocalBoxFuture;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::slowdown::retry_after_secs;
use super::{ApiError, AppState};
use crate::domain::MerchantId;

/// Who is asking; take it as a handler argument, then scope the request with its methods
/// (`operator_only`, `merchant`, `cart`, `narrow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The holder of `server.admin_token`.
    Operator,
    /// A merchant token: this merchant only.
    Merchant { merchant: MerchantId, token_id: String },
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let (method, path) = (req.method().clone(), req.path().to_owned());
        let peer = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let presented = bearer(req).map(|t| SecretString::from(t.to_owned()));
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            if state.settings.server.admin_token.is_none() {
                return Err(ApiError::not_found(format!("no route for {method} {path}")));
            }
            let outcome = authenticate(&state, peer, presented).await;
            if let Err(failure) = &outcome {
                count_failure(failure);
            }
            outcome
        })
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").filter(|t| !t.is_empty())
}

/// Checks 2–5 of the module header for a token presented from `peer` (the admin routes' bearer
/// token, the console's sign-in form): the same slowdown, the same answer for every failure.
pub async fn authenticate(
    state: &AppState,
    peer: IpAddr,
    presented: Option<SecretString>,
) -> Result<Principal, ApiError> {
    let attempt = state
        .failed_auths
        .begin(peer, Instant::now())
        .map_err(|wait| ApiError::TooManyRequests { retry_after_secs: retry_after_secs(wait) })?;
    let Some(presented) = presented else { return Err(ApiError::Unauthorized) };
    let presented = presented.expose_secret();
    let operator = state.settings.server.admin_token.as_ref().map(|t| t.expose().as_bytes());
    if operator.is_some_and(|t| bool::from(presented.as_bytes().ct_eq(t))) {
        return Ok(Principal::Operator);
    }
    match state.ops.authenticate_token(presented).await? {
        Some(owner) => Ok(Principal::Merchant { merchant: owner.merchant, token_id: owner.id }),
        None => {
            attempt.failed(Instant::now());
            Err(ApiError::InvalidCredentials)
        }
    }
}

/// Counts a failed authentication in `cartgate_admin_auth_failures_total{reason}`.
pub fn count_failure(failure: &ApiError) {
    let reason = match failure {
        ApiError::Unauthorized => "missing",
        ApiError::InvalidCredentials => "invalid",
        ApiError::TooManyRequests { .. } => "throttled",
        _ => return,
    };
    metrics::counter!("cartgate_admin_auth_failures_total", "reason" => reason).increment(1);
}

/// The effective configuration, secrets shown only by their source.
#[get("/admin/config")]
pub async fn config(p: Principal, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    p.operator_only()?;
    Ok(HttpResponse::Ok().json(&*state.settings))
}
