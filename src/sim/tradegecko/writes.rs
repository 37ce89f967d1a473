//! TradeGecko write routes: fulfillments, stock adjustments, the no-op variant stock PUT, and
//! webhook registration. Notifications for the effects go out through `events`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::{Value, json};

use super::TgShared;
use super::events::emit;
use super::model::Webhook;
use super::paging::{page_of, paged};
use super::state::TgError;
use crate::sim::util::{Query, json as reply, lock};

type Shared = web::Data<TgShared>;

/// 400 for a body that is not JSON.
fn bad_json(e: &serde_json::Error) -> HttpResponse {
    reply(400, &json!({"type": "BadRequest", "message": format!("invalid JSON body: {e}")}))
}

fn fulfillment_body(shared: &TgShared, id: u64) -> Option<Value> {
    let s = lock(&shared.state);
    let f = s.fulfillments.get(&id)?;
    let lines: Vec<_> = f.fulfillment_line_item_ids.iter().filter_map(|l| s.fulfillment_lines.get(l)).collect();
    Some(json!({"fulfillment": f, "fulfillment_line_items": lines}))
}

/// `POST /fulfillments` → 201 with the record; the order's statuses follow.
pub(crate) async fn post_fulfillment(shared: Shared, body: web::Bytes) -> HttpResponse {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let effect = lock(&shared.state).create_fulfillment(&body);
    match effect {
        Ok(effect) => {
            let arc = shared.clone().into_inner();
            emit(&arc, "fulfillment.create", effect.fulfillment_id);
            if effect.shipped {
                emit(&arc, "fulfillment.fulfilled", effect.fulfillment_id);
            }
            if effect.order_fulfilled {
                emit(&arc, "order.fulfilled", effect.order_id);
            }
            fulfillment_body(&shared, effect.fulfillment_id)
                .map_or_else(|| HttpResponse::InternalServerError().finish(), |b| reply(201, &b))
        }
        Err(e) => e.response(),
    }
}

pub(crate) async fn get_fulfillment(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    fulfillment_body(&shared, *id).map_or_else(|| TgError::not_found("Fulfillment", id).response(), |b| reply(200, &b))
}

/// `POST /stock_adjustments` → 201; signed deltas against the location's stock on hand.
pub(crate) async fn post_stock_adjustment(shared: Shared, body: web::Bytes) -> HttpResponse {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let result = lock(&shared.state).create_stock_adjustment(&body);
    match result {
        Ok((id, variants)) => {
            let arc = shared.clone().into_inner();
            for v in variants {
                emit(&arc, "variant.stock_level_update", v);
            }
            let s = lock(&shared.state);
            let a = s.adjustments.get(&id);
            let lines: Vec<_> = a
                .map(|a| a.stock_adjustment_line_item_ids.iter().filter_map(|l| s.adjustment_lines.get(l)).collect())
                .unwrap_or_default();
            reply(201, &json!({"stock_adjustment": a, "stock_adjustment_line_items": lines}))
        }
        Err(e) => e.response(),
    }
}

pub(crate) async fn list_stock_adjustments(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let all: Vec<_> = lock(&shared.state).adjustments.values().cloned().collect();
    match page_of(all, &q) {
        Ok((page, info)) => paged(json!({"stock_adjustments": page}), &info, &shared.base_url, req.path(), &q),
        Err(e) => e.response(),
    }
}

/// Stock levels are read-only: a PUT answers 204 and changes nothing (as documented).
pub(crate) async fn put_variant(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    if lock(&shared.state).variants.contains_key(&id) {
        HttpResponse::NoContent().finish()
    } else {
        TgError::not_found("Variant", id).response()
    }
}

pub(crate) async fn list_webhooks(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let all: Vec<_> = lock(&shared.state).webhooks.values().cloned().collect();
    match page_of(all, &q) {
        Ok((page, info)) => paged(json!({"webhooks": page}), &info, &shared.base_url, req.path(), &q),
        Err(e) => e.response(),
    }
}

pub(crate) async fn get_webhook(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    match lock(&shared.state).webhooks.get(&id) {
        Some(w) => reply(200, &json!({"webhook": w})),
        None => TgError::not_found("Webhook", id).response(),
    }
}

/// `POST /webhooks` `{"webhook":{"address","event"}}` → 201.
pub(crate) async fn post_webhook(shared: Shared, body: web::Bytes) -> HttpResponse {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let w = &body["webhook"];
    let address = w["address"].as_str().unwrap_or_default().to_owned();
    let event = w["event"].as_str().unwrap_or_default().to_owned();
    if url::Url::parse(&address).map(|u| u.scheme() != "http" && u.scheme() != "https").unwrap_or(true) {
        return TgError::invalid("address", "is invalid").response();
    }
    if !event.contains('.') {
        return TgError::invalid("event", "is not included in the list").response();
    }
    let mut s = lock(&shared.state);
    let id = s.next_id();
    let now = Utc::now();
    let hook = Webhook { id, address, event, oauth_application_id: 1, created_at: now, updated_at: now };
    s.webhooks.insert(id, hook.clone());
    reply(201, &json!({"webhook": hook}))
}

pub(crate) async fn delete_webhook(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    match lock(&shared.state).webhooks.remove(&id) {
        Some(_) => HttpResponse::NoContent().finish(),
        None => TgError::not_found("Webhook", id).response(),
    }
}
