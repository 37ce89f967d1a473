//! Merchant tokens and the audit log: `POST|GET /admin/merchants/{m}/tokens`,
//! `DELETE /admin/merchants/{m}/tokens/{id}`, `GET /admin/merchants/{m}/audit?limit=N`.
//!
//! A new token's value is in the 201 answer and nowhere else (the store keeps its SHA-256);
//! the listing shows ids, names and times only.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use super::admin::Principal;
use super::orders::rfc3339;
use super::{ApiError, AppState};
use crate::ops::audit::Write;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

#[post("/admin/merchants/{m}/tokens")]
pub async fn create(
    p: Principal,
    m: web::Path<String>,
    body: web::Json<NewToken>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &m)?;
    let issued = merchant.create_token(&body.name).await?;
    let write = Write::new("token.create", format!("token:{}", issued.id)).changed(["name"]);
    state.ops.audit(&merchant.settings().id, &p.actor(), write).await;
    // The one answer that carries a token: no cache may keep it.
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"id": issued.id, "token": issued.token.expose_secret()})))
}

#[get("/admin/merchants/{m}/tokens")]
pub async fn list(p: Principal, m: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tokens = p.merchant(&state.ops, &m)?.tokens().await?;
    let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(rfc3339);
    let rows: Vec<_> = tokens
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "name": t.record.name,
                "created_at": at(t.record.created_at), "last_used_at": t.last_used_at.and_then(at),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"tokens": rows})))
}

#[delete("/admin/merchants/{m}/tokens/{id}")]
pub async fn revoke(
    p: Principal,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &path.0)?;
    merchant.revoke_token(&path.1).await?;
    let write = Write::new("token.revoke", format!("token:{}", path.1));
    state.ops.audit(&merchant.settings().id, &p.actor(), write).await;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    limit: Option<usize>,
}

#[get("/admin/merchants/{m}/audit")]
pub async fn audit(
    p: Principal,
    m: web::Path<String>,
    q: web::Query<AuditQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &m)?;
    let entries = state.ops.audit_log(&merchant.settings().id, q.limit).await?;
    Ok(HttpResponse::Ok().json(json!({"entries": entries})))
}
