//! TradeGecko read routes: orders, order lines, addresses, variants, locations, fulfillments,
//! stock adjustments, webhooks. Lists are paged and filtered; bodies use root keys.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::TgShared;
use super::model::Order;
use super::paging::{page_of, paged};
use super::state::{TgError, TgState};
use crate::sim::util::{Query, lock, parse_time};

type Shared = web::Data<TgShared>;

/// The serde name of an enum value (`OrderStatus::Finalized` → `finalized`).
pub(crate) fn name<T: Serialize>(t: &T) -> String {
    serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn to_values<T: Serialize>(items: Vec<T>) -> Vec<Value> {
    items.into_iter().filter_map(|i| serde_json::to_value(i).ok()).collect()
}

fn list(shared: &TgShared, req: &HttpRequest, key: &str, q: &Query, items: Vec<Value>) -> HttpResponse {
    match page_of(items, q) {
        Ok((page, info)) => paged(json!({ key: page }), &info, &shared.base_url, req.path(), q),
        Err(e) => e.response(),
    }
}

fn time_filter(q: &Query, name: &str) -> Result<Option<DateTime<Utc>>, TgError> {
    q.get(name)
        .filter(|v| !v.is_empty())
        .map(|v| parse_time(v).ok_or_else(|| TgError::invalid(name, "is not a valid time")))
        .transpose()
}

fn ids(q: &Query, name: &str) -> Result<Vec<u64>, TgError> {
    q.ids(name).map_err(|e| TgError::invalid(name, e))
}

/// Whether an order passes every filter of the query.
fn order_matches(o: &Order, q: &Query) -> Result<bool, TgError> {
    let in_set = |name: &str, value: String| {
        let wanted = q.all(name);
        wanted.is_empty() || wanted.contains(&value)
    };
    let ids_ok = {
        let w = ids(q, "ids")?;
        w.is_empty() || w.contains(&o.id)
    };
    let loc_ok = {
        let w = ids(q, "stock_location_id")?;
        w.is_empty() || w.contains(&o.stock_location_id)
    };
    let times = [
        (time_filter(q, "updated_at_min")?, o.updated_at, true),
        (time_filter(q, "updated_at_max")?, o.updated_at, false),
        (time_filter(q, "created_at_min")?, o.created_at, true),
        (time_filter(q, "created_at_max")?, o.created_at, false),
    ];
    let times_ok = times.iter().all(|(bound, t, min)| bound.is_none_or(|b| if *min { *t >= b } else { *t <= b }));
    Ok(ids_ok
        && loc_ok
        && times_ok
        && in_set("status", name(&o.status))
        && in_set("payment_status", name(&o.payment_status))
        && in_set("fulfillment_status", name(&o.fulfillment_status))
        && in_set("order_number", o.order_number.clone()))
}

pub(crate) async fn list_orders(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let orders: Result<Vec<Order>, TgError> = {
        let s = lock(&shared.state);
        s.orders.values().filter_map(|o| order_matches(o, &q).map(|ok| ok.then(|| o.clone())).transpose()).collect()
    };
    match orders {
        Ok(orders) => list(&shared, &req, "orders", &q, to_values(orders)),
        Err(e) => e.response(),
    }
}

fn order_lines(s: &TgState, order_id: u64) -> Vec<Value> {
    let lines = s.orders.get(&order_id).map(|o| o.order_line_item_ids.clone()).unwrap_or_default();
    to_values(lines.iter().filter_map(|id| s.lines.get(id).cloned()).collect())
}

pub(crate) async fn get_order(shared: Shared, req: HttpRequest, id: web::Path<u64>) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let s = lock(&shared.state);
    let Some(order) = s.orders.get(&id) else { return TgError::not_found("Order", id).response() };
    let mut body = json!({ "order": order });
    if q.all("include").iter().any(|i| i == "order_line_items") {
        body["order_line_items"] = Value::Array(order_lines(&s, *id));
    }
    HttpResponse::Ok().json(body)
}

pub(crate) async fn list_order_line_items(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let (wanted, orders) = match (ids(&q, "ids"), ids(&q, "order_id")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e.response(),
    };
    let items = {
        let s = lock(&shared.state);
        let lines = s.lines.values().filter(|l| {
            (wanted.is_empty() || wanted.contains(&l.id)) && (orders.is_empty() || orders.contains(&l.order_id))
        });
        to_values(lines.cloned().collect())
    };
    list(&shared, &req, "order_line_items", &q, items)
}

/// A single record by id under `key`, or TradeGecko's 404.
fn one(key: &str, kind: &str, id: u64, value: Option<Value>) -> HttpResponse {
    match value {
        Some(v) => HttpResponse::Ok().json(json!({ key: v })),
        None => TgError::not_found(kind, id).response(),
    }
}

pub(crate) async fn get_order_line_item(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    let v = lock(&shared.state).lines.get(&id).and_then(|l| serde_json::to_value(l).ok());
    one("order_line_item", "OrderLineItem", *id, v)
}

pub(crate) async fn get_address(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    let v = lock(&shared.state).addresses.get(&id).and_then(|a| serde_json::to_value(a).ok());
    one("address", "Address", *id, v)
}

pub(crate) async fn list_addresses(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let wanted = match ids(&q, "ids") {
        Ok(w) => w,
        Err(e) => return e.response(),
    };
    let items = to_values(
        lock(&shared.state)
            .addresses
            .values()
            .filter(|a| wanted.is_empty() || wanted.contains(&a.id))
            .cloned()
            .collect(),
    );
    list(&shared, &req, "addresses", &q, items)
}

pub(crate) async fn list_variants(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let wanted = match ids(&q, "ids") {
        Ok(w) => w,
        Err(e) => return e.response(),
    };
    let skus = q.all("sku");
    let items = {
        let s = lock(&shared.state);
        let matching = s
            .variants
            .values()
            .filter(|v| (wanted.is_empty() || wanted.contains(&v.id)) && (skus.is_empty() || skus.contains(&v.sku)));
        matching.map(|v| v.id).collect::<Vec<_>>().into_iter().filter_map(|id| s.variant_json(id)).collect()
    };
    list(&shared, &req, "variants", &q, items)
}

pub(crate) async fn get_variant(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    let v = lock(&shared.state).variant_json(*id);
    one("variant", "Variant", *id, v)
}

pub(crate) async fn list_locations(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let items = to_values(lock(&shared.state).locations.clone());
    list(&shared, &req, "locations", &q, items)
}

/// Fulfillments with their line items sideloaded, as the recording shows.
pub(crate) async fn list_fulfillments(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let (wanted, orders) = match (ids(&q, "ids"), ids(&q, "order_id")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e.response(),
    };
    let s = lock(&shared.state);
    let all: Vec<_> = s
        .fulfillments
        .values()
        .filter(|f| {
            (wanted.is_empty() || wanted.contains(&f.id)) && (orders.is_empty() || orders.contains(&f.order_id))
        })
        .cloned()
        .collect();
    let (page, info) = match page_of(all, &q) {
        Ok(p) => p,
        Err(e) => return e.response(),
    };
    let lines: Vec<_> = page
        .iter()
        .flat_map(|f| f.fulfillment_line_item_ids.iter().filter_map(|id| s.fulfillment_lines.get(id).cloned()))
        .collect();
    let body = json!({"fulfillment_line_items": to_values(lines), "fulfillments": to_values(page)});
    paged(body, &info, &shared.base_url, req.path(), &q)
}
