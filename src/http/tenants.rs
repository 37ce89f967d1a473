//! Admin routes that set merchants and carts up at runtime (the setup guide as an API), and
//! re-sealing the stored secrets. Each checks who may act (`http/access.rs`: creating or
//! deleting merchants and `/admin/tenants/*` are the operator's; a merchant token acts on its
//! own merchant and carts, another merchant's answer 404), calls one operation of `ops`
//! (`ops/setup.rs`, `ops/setup_carts.rs`), records the write in the merchant's audit log (key
//! names, never values) and renders the answer; secrets never come back.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde_json::{Value, json};

use super::admin::Principal;
use super::body::{read_limited, require_json};
use super::{ApiError, AppState};
use crate::domain::MerchantId;
use crate::ops::OpError;
use crate::ops::audit::{Write, changed_keys};
use crate::ops::setup::Written;

type Merchant = web::Path<String>;
type Cart = web::Path<(String, String)>;

/// 404 (as for a missing merchant) unless `p` may act on merchant `m`.
pub(super) fn visible(p: &Principal, m: &str) -> Result<(), ApiError> {
    if p.may_see_merchant(m) { Ok(()) } else { Err(OpError::UnknownMerchant(m.to_owned()).into()) }
}

/// Appends a successful write to merchant `m`'s audit log: the keys the body set, no values.
async fn audit(state: &AppState, p: &Principal, m: &str, action: &str, target: String, body: Option<&Value>) {
    let Ok(merchant) = MerchantId::parse(m) else { return };
    let changed = body.map(|b| changed_keys(&json!({}), b)).unwrap_or_default();
    state.ops.audit(&merchant, &p.actor(), Write::new(action, target).changed(changed)).await;
}

#[get("/admin/merchants")]
pub async fn list(p: Principal, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut view = state.ops.merchants_view();
    if let Some(all) = view.get_mut("merchants").and_then(Value::as_array_mut) {
        all.retain(|m| m.get("id").and_then(Value::as_str).is_some_and(|id| p.may_see_merchant(id)));
    }
    Ok(HttpResponse::Ok().json(view))
}

#[get("/admin/merchants/{m}")]
pub async fn show(p: Principal, m: Merchant, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    visible(&p, &m)?;
    Ok(HttpResponse::Ok().json(state.ops.merchant_view(&m)?))
}

#[put("/admin/merchants/{m}")]
pub async fn put_merchant(
    p: Principal,
    m: Merchant,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    p.operator_only()?;
    let body = body.into_inner();
    let written = state.ops.put_merchant(&m, body.clone()).await?;
    audit(&state, &p, &m, "merchant.put", format!("merchant {m}"), Some(&body)).await;
    respond(written)
}

#[patch("/admin/merchants/{m}")]
pub async fn patch_merchant(
    p: Principal,
    m: Merchant,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    visible(&p, &m)?;
    let body = body.into_inner();
    let view = state.ops.patch_merchant(&m, body.clone()).await?;
    audit(&state, &p, &m, "merchant.patch", format!("merchant {m}"), Some(&body)).await;
    Ok(HttpResponse::Ok().json(view))
}

#[delete("/admin/merchants/{m}")]
pub async fn delete_merchant(p: Principal, m: Merchant, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    p.operator_only()?;
    state.ops.delete_merchant(&m).await?;
    // A merchant created again under this id must not inherit the old merchant's tokens.
    if let Ok(id) = MerchantId::parse(&m) {
        state.ops.revoke_all_tokens(&id).await?;
    }
    audit(&state, &p, &m, "merchant.delete", format!("merchant {m}"), None).await;
    Ok(HttpResponse::NoContent().finish())
}

#[get("/admin/merchants/{m}/carts/{c}")]
pub async fn show_cart(p: Principal, path: Cart, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    visible(&p, &path.0)?;
    let mut view = state.ops.cart_view(&path.0, &path.1)?;
    if let Ok(cart) = state.ops.cart(&path.1) {
        view["connection"] = cart.connection().await?;
    }
    Ok(HttpResponse::Ok().json(view))
}

#[put("/admin/merchants/{m}/carts/{c}")]
pub async fn put_cart(
    p: Principal,
    path: Cart,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    visible(&p, &path.0)?;
    let body = body.into_inner();
    let written = state.ops.put_cart(&path.0, &path.1, body.clone()).await?;
    audit(&state, &p, &path.0, "cart.put", format!("cart {}", path.1), Some(&body)).await;
    respond(written)
}

#[patch("/admin/merchants/{m}/carts/{c}")]
pub async fn patch_cart(
    p: Principal,
    path: Cart,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    visible(&p, &path.0)?;
    let body = body.into_inner();
    let view = state.ops.patch_cart(&path.0, &path.1, body.clone()).await?;
    audit(&state, &p, &path.0, "cart.patch", format!("cart {}", path.1), Some(&body)).await;
    Ok(HttpResponse::Ok().json(view))
}

#[delete("/admin/merchants/{m}/carts/{c}")]
pub async fn delete_cart(p: Principal, path: Cart, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    visible(&p, &path.0)?;
    state.ops.delete_cart(&path.0, &path.1).await?;
    audit(&state, &p, &path.0, "cart.delete", format!("cart {}", path.1), None).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Test before Save for a cart not yet saved (or saved: the body is merged over it).
#[post("/admin/merchants/{m}/carts/{c}/test")]
pub async fn test_new_cart(
    p: Principal,
    path: Cart,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    visible(&p, &path.0)?;
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
pub async fn rekey(p: Principal, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    p.operator_only()?;
    Ok(HttpResponse::Ok().json(json!({"resealed": state.ops.rekey().await?})))
}

/// 201 with the new merchant or cart, or 200 with the replaced one.
fn respond((how, view): (Written, Value)) -> Result<HttpResponse, ApiError> {
    Ok(match how {
        Written::Created => HttpResponse::Created().json(view),
        Written::Replaced => HttpResponse::Ok().json(view),
    })
}
