//! Admin routes about merchants and carts: holds, aliases, connection tests, sync now. Each
//! resolves its merchant or cart (404), calls one operation of `ops`, and renders the answer.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde_json::json;

use super::admin::Principal;
use super::body::read_limited;
use super::tenants::{candidate, visible};
use super::{ApiError, AppState};
use crate::ops::aliases::AliasFormat;
use crate::ops::audit::Write;
use crate::store::JobId;

#[post("/admin/merchants/{m}/holds/release")]
pub async fn release_holds(
    p: Principal,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &m)?;
    let released = merchant.release_holds().await?;
    state.ops.audit(&merchant.settings().id, &p.actor(), Write::new("holds.release", m.as_str())).await;
    Ok(HttpResponse::Ok().json(json!({"released": released})))
}

#[get("/admin/merchants/{m}/aliases")]
pub async fn list_aliases(
    p: Principal,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rows = p.merchant(&state.ops, &m)?.aliases().await?;
    Ok(HttpResponse::Ok().json(json!({"aliases": rows})))
}

#[put("/admin/merchants/{m}/aliases")]
pub async fn put_aliases(
    p: Principal,
    m: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &m)?;
    let body = read_limited(&req, payload, state.settings.server.max_body_bytes).await?;
    let imported = merchant.import_aliases(alias_format(&req)?, &body).await?;
    let write = Write::new("aliases.put", "aliases").changed(imported.skus.iter().take(AUDITED_SKUS));
    state.ops.audit(&merchant.settings().id, &p.actor(), write).await;
    Ok(HttpResponse::Ok().json(json!({"upserted": imported.upserted, "requeued_orders": imported.requeued})))
}

/// SKUs named in the audit entry of one upload (the first ones; an upload may hold thousands).
const AUDITED_SKUS: usize = 100;

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
    p: Principal,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &path.0)?;
    merchant.delete_alias(&path.1).await?;
    let write = Write::new("aliases.delete", "aliases").changed([path.1.as_str()]);
    state.ops.audit(&merchant.settings().id, &p.actor(), write).await;
    Ok(HttpResponse::Ok().json(json!({"deleted": path.1})))
}

/// Test WMS Connection: the saved key, or (Test before Save) the candidate `{"wms":{…}}`.
#[post("/admin/merchants/{m}/wms/test")]
pub async fn test_wms(
    p: Principal,
    m: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match candidate(&req, payload, &state, "wms").await? {
        Some(wms) => {
            visible(&p, &m)?;
            Ok(HttpResponse::Ok().json(state.ops.test_wms_candidate(&m, wms).await?))
        }
        None => Ok(HttpResponse::Ok().json(p.merchant(&state.ops, &m)?.test_wms().await)),
    }
}

/// Test Cart Connection: the saved token, or (Test before Save) the candidate `{"cart":{…}}`.
#[post("/admin/carts/{c}/test")]
pub async fn test_cart(
    p: Principal,
    c: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match candidate(&req, payload, &state, "cart").await? {
        Some(cart) => {
            // The operator may try settings for a cart id not saved yet; a merchant token only
            // for its own carts (a new one through `/admin/merchants/{m}/carts/{c}/test`).
            if !matches!(p, Principal::Operator) {
                p.cart(&state.ops, &c)?;
            }
            Ok(HttpResponse::Ok().json(state.ops.test_cart_candidate(None, &c, cart).await?))
        }
        None => Ok(HttpResponse::Ok().json(p.cart(&state.ops, &c)?.test().await)),
    }
}

#[post("/admin/carts/{c}/sync/orders")]
pub async fn sync_orders(
    p: Principal,
    c: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let cart = p.cart(&state.ops, &c)?;
    let job = cart.sync_orders().await?;
    state.ops.audit(cart.merchant_id(), &p.actor(), Write::new("sync.orders", c.as_str())).await;
    queued(job)
}

#[post("/admin/merchants/{m}/sync/shipments")]
pub async fn sync_shipments(
    p: Principal,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &m)?;
    let job = merchant.sync_shipments().await?;
    state.ops.audit(&merchant.settings().id, &p.actor(), Write::new("sync.shipments", m.as_str())).await;
    queued(job)
}

#[post("/admin/merchants/{m}/sync/inventory")]
pub async fn sync_inventory(
    p: Principal,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.merchant(&state.ops, &m)?;
    let job = merchant.sync_inventory().await?;
    state.ops.audit(&merchant.settings().id, &p.actor(), Write::new("sync.inventory", m.as_str())).await;
    queued(job)
}

/// 202 naming the job that will run.
fn queued(job: JobId) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Accepted().json(json!({"status": "queued", "job": job})))
}
