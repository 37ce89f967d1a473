//! Admin routes about orders: list, view, cancel-sending, resend (the actions are `ops::orders`).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::Principal;
use super::{ApiError, AppState};
use crate::domain::{Order, OrderStatus};
use crate::ledger::{ListCursor, OrderFilter};
use crate::ops::audit::Write;

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The admin view of an order (times RFC 3339 UTC).
pub fn view(o: &Order) -> Value {
    json!({
        "cart": o.cart,
        "cart_order_id": o.cart_order_id,
        "order_number": o.order_number,
        "merchant": o.merchant,
        "status": o.status(),
        "status_reason": o.status_reason,
        "next_attempt_at": o.next_attempt_at.map(rfc3339),
        "wms_order_id": o.wms_order_id,
        "lines": o.lines.iter().map(|l| json!({
            "sku": l.sku, "barcode": l.barcode, "quantity": l.quantity,
            "variant_id": l.variant_id, "upc": l.upc,
        })).collect::<Vec<_>>(),
        "shipments": o.shipments.iter().map(|s| json!({
            "pick_id": s.pick_id, "tracking_code": s.tracking_code, "carrier": s.carrier,
            "public_url": s.public_url, "tracking_status": s.tracking_status,
            "items": s.items.iter().map(|(b, q)| json!({"barcode": b, "quantity": q})).collect::<Vec<_>>(),
            "shipped_at": rfc3339(s.shipped_at), "fulfillment_id": s.fulfillment_id,
        })).collect::<Vec<_>>(),
        "timeline": o.timeline().iter().map(|t| json!({
            "at": rfc3339(t.at), "status": t.status, "reason": t.reason,
        })).collect::<Vec<_>>(),
        "created_at": rfc3339(o.created_at),
        "updated_at": rfc3339(o.updated_at),
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    merchant: Option<String>,
    cart: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[get("/admin/orders")]
pub async fn list(
    p: Principal,
    q: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| ApiError::BadRequest(format!("unknown status `{s}`")))?),
    };
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(ListCursor::parse(c).ok_or_else(|| ApiError::BadRequest(format!("invalid cursor `{c}`")))?),
    };
    let filter = OrderFilter { status, merchant: q.merchant.clone(), cart: q.cart.clone() };
    let Some(filter) = p.narrow(filter) else {
        return Ok(HttpResponse::Ok().json(json!({"orders": [], "next_cursor": null})));
    };
    let page = state.ops.list_orders(&filter, q.limit, cursor).await?;
    Ok(HttpResponse::Ok().json(json!({
        "orders": page.orders.iter().map(view).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor.map(|n| n.to_string()),
    })))
}

#[get("/admin/carts/{cart}/orders/{order_id}")]
pub async fn show(
    p: Principal,
    path: web::Path<(String, u64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let order = p.cart(&state.ops, &path.0)?.order(path.1).await?;
    Ok(HttpResponse::Ok().json(view(&order)))
}

#[post("/admin/carts/{cart}/orders/{order_id}/cancel-sending")]
pub async fn cancel_sending(
    p: Principal,
    path: web::Path<(String, u64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let cart = p.cart(&state.ops, &path.0)?;
    let order = cart.cancel_sending(path.1).await?;
    let write = Write::new("order.cancel_sending", format!("{}/{}", path.0, path.1)).changed(["status"]);
    state.ops.audit(cart.merchant_id(), &p.actor(), write).await;
    Ok(HttpResponse::Ok().json(view(&order)))
}

#[post("/admin/carts/{cart}/orders/{order_id}/resend")]
pub async fn resend(
    p: Principal,
    path: web::Path<(String, u64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let cart = p.cart(&state.ops, &path.0)?;
    cart.resend(path.1).await?;
    let write = Write::new("order.resend", format!("{}/{}", path.0, path.1)).changed(["status"]);
    state.ops.audit(cart.merchant_id(), &p.actor(), write).await;
    Ok(HttpResponse::Accepted().json(json!({"status": "queued"})))
}
