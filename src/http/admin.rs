//! The admin surface: every `/admin/*` route requires `Authorization: Bearer <admin_token>`.
//!
//! The token is compared in constant time. With no token configured the routes answer 404, as
//! if they did not exist, and start-up logs that they are disabled.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use subtle::ConstantTimeEq;

use super::{ApiError, AppState};

/// Proof that the request carried the admin token; take it as a handler argument.
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authorize(req))
    }
}

fn authorize(req: &HttpRequest) -> Result<Admin, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let Some(token) = state.settings.server.admin_token.as_ref() else {
        return Err(ApiError::not_found(format!("no route for {} {}", req.method(), req.path())));
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes())) {
        Ok(Admin)
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// The effective configuration, secrets shown only by their source.
#[get("/admin/config")]
pub async fn config(_: Admin, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(&*state.settings)
}
