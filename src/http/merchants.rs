//! Admin routes about merchants and carts: holds, aliases, connection tests, sync now. Each
//! resolves its merchant or cart (404), calls one operation of `ops`, and renders the answer.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde_json::json;

use super::admin::Admin;
use super::body::read_limited;
use super::tenants::candidate;
use super::{ApiError, AppState};
use crate::ops::aliases::AliasFormat;
use crate::store::JobId;

#[post("/admin/merchants/{m}/holds/release")]
pub async fn release_holds(
    _: Admin,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let released = state.ops.merchant(&m)?.release_holds().await?;
    Ok(HttpResponse::Ok().json(json!({"released": released})))
}

#[get("/admin/merchants/{m}/aliases")]
pub async fn list_aliases(
    _: Admin,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rows = state.ops.merchant(&m)?.aliases().await?;
    Ok(HttpResponse::Ok().json(json!({"aliases": rows})))
}

#[put("/admin/merchants/{m}/aliases")]
pub async fn put_aliases(
    _: Admin,
    m: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = state.ops.merchant(&m)?;
    let body = read_limited(&req, payload, state.settings.server.max_body_bytes).await?;
    let imported = merchant.import_aliases(alias_format(&req)?, &body).await?;
    Ok(HttpResponse::Ok().json(json!({"upserted": imported.upserted, "requeued_orders": imported.requeued})))
}

/// JSON (also when no content type is given) or CSV; anything else is 415.
fn alias_format(req: &HttpRequest) -> Result<AliasFormat, ApiError> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    match ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase().as_str() {
        "text/csv" => Ok(AliasFormat::Csv),
        "application/json" | "" => Ok(AliasFormat::Json),
        other => Err(ApiError::UnsupportedMediaType(format!("expected application/json or text/csv, got {other}"))),
    }
}

#[delete("/admin/merchants/{m}/aliases/{sku}")]
pub async fn delete_alias(
    _: Admin,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.ops.merchant(&path.0)?.delete_alias(&path.1).await?;
    Ok(HttpResponse::Ok().json(json!({"deleted": path.1})))
}

/// Test WMS Connection: the saved key, or (Test before Save) the candidate `{"wms":{…}}`.
#[post("/admin/merchants/{m}/wms/test")]
pub async fn test_wms(
    _: Admin,
    m: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match candidate(&req, payload, &state, "wms").await? {
        Some(wms) => Ok(HttpResponse::Ok().json(state.ops.test_wms_candidate(&m, wms).await?)),
        None => Ok(HttpResponse::Ok().json(state.ops.merchant(&m)?.test_wms().await)),
    }
}

/// Test Cart Connection: the saved token, or (Test before Save) the candidate `{"cart":{…}}`.
#[post("/admin/carts/{c}/test")]
pub async fn test_cart(
    _: Admin,
    c: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match candidate(&req, payload, &state, "cart").await? {
        Some(cart) => Ok(HttpResponse::Ok().json(state.ops.test_cart_candidate(None, &c, cart).await?)),
        None => Ok(HttpResponse::Ok().json(state.ops.cart(&c)?.test().await)),
    }
}

#[post("/admin/carts/{c}/sync/orders")]
pub async fn sync_orders(_: Admin, c: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    queued(state.ops.cart(&c)?.sync_orders().await?)
}

#[post("/admin/merchants/{m}/sync/shipments")]
pub async fn sync_shipments(
    _: Admin,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    queued(state.ops.merchant(&m)?.sync_shipments().await?)
}

#[post("/admin/merchants/{m}/sync/inventory")]
pub async fn sync_inventory(
    _: Admin,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    queued(state.ops.merchant(&m)?.sync_inventory().await?)
}

/// 202 naming the job that will run.
fn queued(job: JobId) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Accepted().json(json!({"status": "queued", "job": job})))
}
