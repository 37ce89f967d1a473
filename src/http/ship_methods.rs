//! `GET|PUT /admin/carts/{c}/ship-methods`: a cart's ship method mapping, with the methods seen
//! on its recent orders. Operator or the owning merchant's token (another merchant's cart is
//! 404, as a missing one); a cart of the configuration file is read-only (409).

use actix_web::{HttpResponse, get, put, web};
use serde_json::{Value, json};

use super::admin::Principal;
use super::{ApiError, AppState};
use crate::ops::audit::Write;

#[get("/admin/carts/{c}/ship-methods")]
pub async fn show(p: Principal, c: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let view = p.cart(&state.ops, &c)?.ship_methods().await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Replaces the mapping (body: `{"map":{…},"default":{…},"reject_unmapped":…}`) and sends the
/// orders waiting for a method it maps; answers the mapping and how many orders were sent.
#[put("/admin/carts/{c}/ship-methods")]
pub async fn put(
    p: Principal,
    c: web::Path<String>,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let merchant = p.cart(&state.ops, &c)?.merchant_id().clone();
    let saved = state.ops.put_ship_methods(merchant.as_str(), &c, body.into_inner()).await?;
    let methods = saved.methods.map.keys().map(|k| format!("map.{k}"));
    let changed = methods.chain(["default".to_owned(), "reject_unmapped".to_owned()]);
    let write = Write::new("ship_methods.put", format!("cart {c}")).changed(changed);
    state.ops.audit(&merchant, &p.actor(), write).await;
    let mut view = serde_json::to_value(&saved.methods).unwrap_or_else(|_| json!({}));
    view["requeued_orders"] = json!(saved.requeued);
    Ok(HttpResponse::Ok().json(view))
}
