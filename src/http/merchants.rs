//! Admin routes about merchants and carts: holds, aliases, connection tests, sync now.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde_json::json;

use super::ApiError;
use super::admin::Admin;
use super::body::read_limited;
use crate::jobs::{CartTask, MerchantTask};
use crate::settings::{CartSettings, MerchantSettings};
use crate::startup::AppState;
use crate::store::{JobKind, OnExisting, When};
use crate::workflows::{aliases, connection, holds};

fn merchant<'a>(state: &'a AppState, id: &str) -> Result<&'a MerchantSettings, ApiError> {
    state.settings.merchant(id).ok_or_else(|| ApiError::not_found(format!("unknown merchant `{id}`")))
}

fn cart<'a>(state: &'a AppState, id: &str) -> Result<(&'a MerchantSettings, &'a CartSettings), ApiError> {
    state.settings.cart(id).ok_or_else(|| ApiError::not_found(format!("unknown cart `{id}`")))
}

#[post("/admin/merchants/{m}/holds/release")]
pub async fn release_holds(
    _: Admin,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = merchant(&state, &m)?;
    let released = holds::release(&state.deps, merchant).await?;
    Ok(HttpResponse::Ok().json(json!({"released": released})))
}

#[get("/admin/merchants/{m}/aliases")]
pub async fn list_aliases(
    _: Admin,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = merchant(&state, &m)?;
    let rows = state.deps.ledger.aliases.all(merchant.id.as_str()).await?;
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
    let merchant = merchant(&state, &m)?;
    let body = read_limited(&req, payload, state.settings.server.max_body_bytes).await?;
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let rows = match mime.as_str() {
        "text/csv" => aliases::parse_csv(&body),
        "application/json" | "" => aliases::parse_json(&body),
        other => {
            return Err(ApiError::UnsupportedMediaType(format!("expected application/json or text/csv, got {other}")));
        }
    }
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let requeued = aliases::apply(&state.deps, merchant.id.as_str(), &rows).await?;
    Ok(HttpResponse::Ok().json(json!({"upserted": rows.len(), "requeued_orders": requeued})))
}

#[delete("/admin/merchants/{m}/aliases/{sku}")]
pub async fn delete_alias(
    _: Admin,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = merchant(&state, &path.0)?;
    if state.deps.ledger.aliases.delete(merchant.id.as_str(), &path.1).await? {
        Ok(HttpResponse::Ok().json(json!({"deleted": path.1})))
    } else {
        Err(ApiError::not_found(format!("no alias for SKU `{}`", path.1)))
    }
}

#[post("/admin/merchants/{m}/wms/test")]
pub async fn test_wms(_: Admin, m: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let merchant = merchant(&state, &m)?;
    Ok(HttpResponse::Ok().json(connection::test_wms(&state.deps, &merchant.wms).await))
}

#[post("/admin/carts/{c}/test")]
pub async fn test_cart(_: Admin, c: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (merchant, cart) = cart(&state, &c)?;
    Ok(HttpResponse::Ok().json(connection::test_cart(&state.deps, cart, merchant.wms.mode()).await))
}

#[post("/admin/carts/{c}/sync/orders")]
pub async fn sync_orders(_: Admin, c: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (_, cart) = cart(&state, &c)?;
    let job = CartTask { cart: cart.id.clone() }.job(JobKind::PollOrders);
    run_now(&state, job).await
}

#[post("/admin/merchants/{m}/sync/shipments")]
pub async fn sync_shipments(
    _: Admin,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = merchant(&state, &m)?;
    run_now(&state, merchant_job(merchant, JobKind::PollShipments)).await
}

#[post("/admin/merchants/{m}/sync/inventory")]
pub async fn sync_inventory(
    _: Admin,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = merchant(&state, &m)?;
    run_now(&state, merchant_job(merchant, JobKind::SyncInventory)).await
}

/// Runs a (recurring) job now: a pending occurrence moves up; one in flight runs again after.
pub async fn run_now(state: &AppState, job: crate::store::NewJob) -> Result<HttpResponse, ApiError> {
    state.deps.jobs.enqueue(&job, When::Now, OnExisting::MoveEarlier).await?;
    Ok(HttpResponse::Accepted().json(json!({"status": "queued", "job": job.id})))
}

/// A merchant task by kind (shipments, inventory syncs use this once they exist).
pub fn merchant_job(m: &MerchantSettings, kind: JobKind) -> crate::store::NewJob {
    MerchantTask { merchant: m.id.clone() }.job(kind)
}
