//! A merchant's alerts: `GET /admin/merchants/{m}/alerts?state=open|resolved&limit=N` (newest
//! first; default 50, at most 500) and `POST /admin/merchants/{m}/alerts/{id}/ack`.
//!
//! The operator and the merchant's own tokens may use both; another merchant's are 404 as if
//! it did not exist (`http::access`). A bad `state` or `limit` is 400, an unknown alert 404.
//! Acknowledging is idempotent (the first time is kept) and audited as `alert.ack`.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;

use super::admin::Principal;
use super::{ApiError, AppState};
use crate::alerts::AlertState;
use crate::ops::audit::Write;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    state: Option<AlertState>,
    limit: Option<usize>,
}

#[get("/admin/merchants/{m}/alerts")]
pub async fn list(
    p: Principal,
    m: web::Path<String>,
    q: web::Query<AlertsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let alerts = p.merchant(&state.ops, &m)?.alerts(q.state, q.limit).await?;
    Ok(HttpResponse::Ok().json(json!({"alerts": alerts})))
}

#[post("/admin/merchants/{m}/alerts/{id}/ack")]
pub async fn ack(
    p: Principal,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &path.0)?;
    let alert = merchant.ack_alert(&path.1).await?;
    let write = Write::new("alert.ack", format!("alert:{}", path.1)).changed(["acked_at"]);
    state.ops.audit(&merchant.settings().id, &p.actor(), write).await;
    Ok(HttpResponse::Ok().json(alert))
}
