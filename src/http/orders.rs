//! Admin routes about orders: list, view, cancel-sending, resend.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::admin::Admin;
use crate::domain::{CartId, Order, OrderStatus};
use crate::jobs::SendOrder;
use crate::ledger::{LedgerError, OrderFilter};
use crate::startup::AppState;
use crate::store::{OnExisting, When};

const MAX_LIMIT: usize = 500;

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Store(s) => s.into(),
            other => ApiError::Internal(other.into()),
        }
    }
}

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
pub async fn list(_: Admin, q: web::Query<ListQuery>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| ApiError::BadRequest(format!("unknown status `{s}`")))?),
    };
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse().map_err(|_| ApiError::BadRequest(format!("invalid cursor `{c}`")))?,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_LIMIT);
    let filter = OrderFilter { status, merchant: q.merchant.clone(), cart: q.cart.clone() };
    let (orders, next) = state.deps.ledger.orders.list(&filter, limit, cursor).await?;
    Ok(HttpResponse::Ok().json(json!({
        "orders": orders.iter().map(view).collect::<Vec<_>>(),
        "next_cursor": next.map(|n| n.to_string()),
    })))
}

/// Resolves `{cart}/orders/{order_id}` to a configured cart and an existing order.
async fn find(state: &AppState, cart: &str, order_id: u64) -> Result<(CartId, Order), ApiError> {
    let (_, c) = state.settings.cart(cart).ok_or_else(|| ApiError::not_found(format!("unknown cart `{cart}`")))?;
    let order = state.deps.ledger.orders.get(&c.id, order_id).await?;
    let order = order.ok_or_else(|| ApiError::not_found(format!("no order {order_id} in cart `{cart}`")))?;
    Ok((c.id.clone(), order))
}

#[get("/admin/carts/{cart}/orders/{order_id}")]
pub async fn show(
    _: Admin,
    path: web::Path<(String, u64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, order) = find(&state, &path.0, path.1).await?;
    Ok(HttpResponse::Ok().json(view(&order)))
}

/// Applies an admin action to an order: `change` says why it cannot (→ 409) or changes it.
async fn act(
    state: &AppState,
    cart: &str,
    order_id: u64,
    change: impl Fn(&mut Order, chrono::DateTime<Utc>) -> Result<(), String>,
) -> Result<(CartId, Order), ApiError> {
    let (cart, _) = find(state, cart, order_id).await?;
    let now = Utc::now();
    match state.deps.ledger.orders.update(&cart, order_id, |o| change(o, now)).await? {
        Some((order, Ok(()))) => Ok((cart, order)),
        Some((_, Err(why))) => Err(ApiError::Conflict(why)),
        None => Err(ApiError::not_found("order disappeared")),
    }
}

#[post("/admin/carts/{cart}/orders/{order_id}/cancel-sending")]
pub async fn cancel_sending(
    _: Admin,
    path: web::Path<(String, u64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, order) = act(&state, &path.0, path.1, |o, now| {
        if o.send_started_at.is_some() {
            return Err("the order is being sent to the warehouse right now".to_owned());
        }
        if o.status() == OrderStatus::CancelSending {
            return Ok(());
        }
        o.transition(OrderStatus::CancelSending, "cancelled sending by the merchant", now)
            .map_err(|_| format!("the order is {} and can no longer be kept from the warehouse", o.status()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view(&order)))
}

#[post("/admin/carts/{cart}/orders/{order_id}/resend")]
pub async fn resend(
    _: Admin,
    path: web::Path<(String, u64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (cart, _) = act(&state, &path.0, path.1, |o, now| match o.status() {
        OrderStatus::OnHold | OrderStatus::Error | OrderStatus::CancelSending => {
            o.transition(OrderStatus::New, "resend requested", now).map_err(|e| e.to_string())
        }
        OrderStatus::New => Ok(()),
        other => Err(format!("the order is {other}: there is nothing to resend")),
    })
    .await?;
    let job = SendOrder { cart, order_id: path.1 }.job();
    state.deps.jobs.enqueue(&job, When::Now, OnExisting::MoveEarlier).await?;
    Ok(HttpResponse::Accepted().json(json!({"status": "queued"})))
}
