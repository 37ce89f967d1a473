//! EasyPost API routes: the key check (`/v2/trackers`), webhooks (`/v2/webhooks`), and the
//! Fulfillment vendor API (`/fulfillment/vendor/v2/…`). Lists take `page` (1-based) and
//! `per_page` (also `page_size`/`limit`; default 100, max 500) and answer `has_more`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::{Value, json};

use super::EpShared;
use super::events::emit;
use super::gate::mode_of;
use super::model::new_id;
use super::state::{EpError, Webhook};
use crate::sim::util::{Query, json as reply, lock};

type Shared = web::Data<EpShared>;

/// One page of `items` under `key`, with `has_more` and the paging numbers.
fn page(key: &str, items: Vec<Value>, q: &Query) -> HttpResponse {
    let num =
        |names: &[&str], default: usize| names.iter().find_map(|n| q.get(n)?.parse::<usize>().ok()).unwrap_or(default);
    let per_page = num(&["per_page", "page_size", "limit"], 100).clamp(1, 500);
    let page = num(&["page"], 1).max(1);
    let total = items.len();
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let has_more = page * per_page < total;
    reply(200, &json!({ key: slice, "has_more": has_more, "page": page, "per_page": per_page, "total": total }))
}

/// 400 for a body that is not JSON.
fn bad_json(e: &serde_json::Error) -> HttpResponse {
    reply(400, &json!({"error": {"code": "BAD_REQUEST", "message": format!("invalid JSON body: {e}"), "errors": []}}))
}

/// `GET /v2/trackers` (the cheap key check): trackers of the key's mode, newest first.
pub(crate) async fn list_trackers(shared: Shared, req: HttpRequest) -> HttpResponse {
    let mode = mode_of(&req);
    let q = Query::parse(req.query_string());
    let s = lock(&shared.state);
    let trackers: Vec<Value> = s
        .orders
        .iter()
        .rev()
        .filter(|o| o.mode == mode)
        .flat_map(|o| o.picks.iter().rev().map(|p| p.tracker.json()))
        .collect();
    page("trackers", trackers, &q)
}

pub(crate) async fn get_tracker(shared: Shared, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let mode = mode_of(&req);
    let s = lock(&shared.state);
    let found = s.orders.iter().filter(|o| o.mode == mode).flat_map(|o| &o.picks).find(|p| p.tracker.id == *id);
    found.map_or_else(|| EpError::NotFound(format!("tracker {id}")).response(), |p| reply(200, &p.tracker.json()))
}

pub(crate) async fn list_webhooks(shared: Shared, req: HttpRequest) -> HttpResponse {
    let mode = mode_of(&req);
    let hooks: Vec<Value> = lock(&shared.state).webhooks.iter().filter(|w| w.mode == mode).map(Webhook::json).collect();
    reply(200, &json!({ "webhooks": hooks }))
}

/// `POST /v2/webhooks` `{"webhook":{"url","webhook_secret"}}` → 201 Webhook (secret not echoed).
pub(crate) async fn post_webhook(shared: Shared, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let w = body.get("webhook").unwrap_or(&body);
    let url = w.get("url").and_then(Value::as_str).unwrap_or_default();
    if url::Url::parse(url).map(|u| u.scheme() != "http" && u.scheme() != "https").unwrap_or(true) {
        let e = json!({"field": "url", "message": "url must be a valid http(s) URL", "suggestion": null});
        return EpError::invalid("PARAMETER.INVALID", "Invalid webhook url", vec![e]).response();
    }
    let secret = w.get("webhook_secret").and_then(Value::as_str).unwrap_or_default().to_owned();
    let hook = Webhook { id: new_id("hook"), mode: mode_of(&req), url: url.to_owned(), secret, created_at: Utc::now() };
    let out = hook.json();
    lock(&shared.state).webhooks.push(hook);
    reply(201, &out)
}

pub(crate) async fn delete_webhook(shared: Shared, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let mode = mode_of(&req);
    let mut s = lock(&shared.state);
    let before = s.webhooks.len();
    s.webhooks.retain(|w| !(w.id == *id && w.mode == mode));
    if s.webhooks.len() == before {
        return EpError::NotFound(format!("webhook {id}")).response();
    }
    reply(200, &json!({}))
}

pub(crate) async fn list_products(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let barcodes = q.all("barcode");
    let s = lock(&shared.state);
    let items =
        s.products.iter().filter(|p| barcodes.is_empty() || barcodes.contains(&p.barcode)).map(|p| p.json()).collect();
    page("products", items, &q)
}

pub(crate) async fn list_warehouses(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let items = lock(&shared.state).warehouses.iter().map(|w| w.json()).collect();
    page("warehouses", items, &q)
}

/// `GET inventories?product_ids[]=…`: one row per product per warehouse.
pub(crate) async fn list_inventories(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let rows = lock(&shared.state).inventory_rows(&q.all("product_ids"));
    page("inventories", rows, &q)
}

/// `POST orders` → 201 Order, or 422 naming the barcode (unknown or short of inventory).
pub(crate) async fn post_order(shared: Shared, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let created = lock(&shared.state).create_order(mode_of(&req), &body);
    created.map_or_else(|e| e.response(), |o| reply(201, &o))
}

/// `GET orders`: newest first; filters `description`, `status`.
pub(crate) async fn list_orders(shared: Shared, req: HttpRequest) -> HttpResponse {
    let mode = mode_of(&req);
    let q = Query::parse(req.query_string());
    let (desc, status) = (q.all("description"), q.all("status"));
    let s = lock(&shared.state);
    let items = s
        .orders
        .iter()
        .rev()
        .filter(|o| o.mode == mode)
        .filter(|o| desc.is_empty() || o.description.as_ref().is_some_and(|d| desc.contains(d)))
        .filter(|o| status.is_empty() || status.contains(&o.status))
        .map(|o| o.json())
        .collect();
    page("orders", items, &q)
}

pub(crate) async fn get_order(shared: Shared, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let mode = mode_of(&req);
    let s = lock(&shared.state);
    let found = s.orders.iter().find(|o| o.id == *id && o.mode == mode);
    found.map_or_else(|| EpError::NotFound(format!("order {id}")).response(), |o| reply(200, &o.json()))
}

/// `PATCH orders/{id}`: edit description, service or destination while pending.
pub(crate) async fn patch_order(
    shared: Shared,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let result = lock(&shared.state).patch_order(mode_of(&req), &id, &body);
    result.map_or_else(|e| e.response(), |o| reply(200, &o))
}

/// `DELETE orders/{id}`: cancel while nothing has shipped (422 after).
pub(crate) async fn delete_order(shared: Shared, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let mode = mode_of(&req);
    let result = lock(&shared.state).cancel_order(Some(mode), &id);
    match result {
        Ok((order, Some(previous))) => {
            emit(
                &shared.clone().into_inner(),
                mode,
                "fulfillment.order.updated",
                order.clone(),
                Some(json!({"status": previous})),
            );
            reply(200, &order)
        }
        Ok((order, None)) => reply(200, &order),
        Err(e) => e.response(),
    }
}
