//! Admin routes that set merchants and carts up at runtime (the setup guide as an API), and
//! re-sealing the stored secrets. Each parses the request, calls one operation of `ops`
//! (`ops/setup.rs`, `ops/setup_carts.rs`) and renders the answer; secrets never come back.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde_json::{Value, json};

use super::admin::Admin;
use super::body::{read_limited, require_json};
use super::{ApiError, AppState};
use crate::ops::setup::Written;

type Merchant = web::Path<String>;
type Cart = web::Path<(String, String)>;

#[get("/admin/merchants")]
pub async fn list(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.ops.merchants_view()))
}

#[get("/admin/merchants/{m}")]
pub async fn show(_: Admin, m: Merchant, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.ops.merchant_view(&m)?))
}

#[put("/admin/merchants/{m}")]
pub async fn put_merchant(
    _: Admin,
    m: Merchant,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    written(state.ops.put_merchant(&m, body.into_inner()).await?)
}

#[patch("/admin/merchants/{m}")]
pub async fn patch_merchant(
    _: Admin,
    m: Merchant,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.ops.patch_merchant(&m, body.into_inner()).await?))
}

#[delete("/admin/merchants/{m}")]
pub async fn delete_merchant(_: Admin, m: Merchant, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.ops.delete_merchant(&m).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[get("/admin/merchants/{m}/carts/{c}")]
pub async fn show_cart(_: Admin, path: Cart, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.ops.cart_view(&path.0, &path.1)?))
}

#[put("/admin/merchants/{m}/carts/{c}")]
pub async fn put_cart(
    _: Admin,
    path: Cart,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    written(state.ops.put_cart(&path.0, &path.1, body.into_inner()).await?)
}

#[patch("/admin/merchants/{m}/carts/{c}")]
pub async fn patch_cart(
    _: Admin,
    path: Cart,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.ops.patch_cart(&path.0, &path.1, body.into_inner()).await?))
}

#[delete("/admin/merchants/{m}/carts/{c}")]
pub async fn delete_cart(_: Admin, path: Cart, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.ops.delete_cart(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Test before Save for a cart not yet saved (or saved: the body is merged over it).
#[post("/admin/merchants/{m}/carts/{c}/test")]
pub async fn test_new_cart(
    _: Admin,
    path: Cart,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let candidate = candidate(&req, payload, &state, "cart").await?.unwrap_or(json!({}));
    Ok(HttpResponse::Ok().json(state.ops.test_cart_candidate(Some(&path.0), &path.1, candidate).await?))
}

/// The candidate settings under `key` of an optional JSON body (Test before Save): `None`
/// for an empty body or one without `key`; a body that is not JSON is 400.
pub async fn candidate(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    key: &str,
) -> Result<Option<Value>, ApiError> {
    let body = read_limited(req, payload, state.settings.server.max_body_bytes).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    require_json(req)?;
    let mut body: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("invalid JSON: {e}")))?;
    Ok(body.get_mut(key).map(Value::take))
}

#[post("/admin/tenants/rekey")]
pub async fn rekey(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(json!({"resealed": state.ops.rekey().await?})))
}

/// 201 with the new merchant or cart, or 200 with the replaced one.
fn written((how, view): (Written, Value)) -> Result<HttpResponse, ApiError> {
    Ok(match how {
        Written::Created => HttpResponse::Created().json(view),
        Written::Replaced => HttpResponse::Ok().json(view),
    })
}
