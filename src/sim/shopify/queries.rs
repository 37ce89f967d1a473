//! The query root fields the simulator serves: `orders`, `order`, `nodes`, `productVariants`,
//! `inventoryItem`, `locations`, `shop`, `webhookSubscriptions`. Each resolves to a full value
//! that [`super::project`] cuts to the selection.
//!
//! `orders(query:)` understands `updated_at` and `created_at` with `>`, `>=`, `<`, `<=` and a
//! quoted timestamp (`updated_at:>'2026-10-01T00:00:00Z'`), joined by spaces or `AND`. As on
//! Shopify, a term it cannot read (an unquoted timestamp's colons split it) filters nothing —
//! it is reported under `extensions.search` instead of failing the query. `sortKey`:
//! `ID` (default), `UPDATED_AT`, `CREATED_AT`; `reverse` flips it.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::gql::{GqlError, Sel};
use super::model::{Order, gid_id};
use super::nodes;
use super::state::ShopState;
use crate::sim::util::parse_time;

/// Resolves a query root field to its full value; `warnings` collects unread search terms.
pub(crate) fn resolve(s: &ShopState, shop: &str, sel: &Sel, warnings: &mut Vec<String>) -> Result<Value, GqlError> {
    Ok(match sel.name.as_str() {
        "orders" => orders(s, sel, warnings)?,
        "order" => id_arg(sel, "Order")?.and_then(|id| s.orders.get(&id)).map_or(Value::Null, |o| nodes::order(s, o)),
        "nodes" => Value::Array(ids_arg(sel)?.iter().map(|g| node(s, g)).collect()),
        "productVariants" => variants(s, sel),
        "inventoryItem" => id_arg(sel, "InventoryItem")?
            .filter(|id| s.variant_by_item(*id).is_some())
            .map_or(Value::Null, |id| nodes::inventory_item(s, id)),
        "locations" => nodes::connection("LocationConnection", s.locations.iter().map(nodes::location).collect()),
        "location" => id_arg(sel, "Location")?
            .and_then(|id| s.locations.iter().find(|l| l.id == id))
            .map_or(Value::Null, nodes::location),
        "shop" => {
            json!({"__typename": "Shop", "id": "gid://shopify/Shop/1", "name": shop.split('.').next().unwrap_or(shop),
            "myshopifyDomain": shop, "email": format!("owner@{shop}"), "currencyCode": "USD", "ianaTimezone": "America/Los_Angeles",
            "plan": {"__typename": "ShopPlan", "displayName": "Basic", "partnerDevelopment": false, "shopifyPlus": false}})
        }
        "webhookSubscriptions" => {
            let topics: Vec<&str> =
                sel.arg("topics").as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let subs = s.subscriptions.values().filter(|w| topics.is_empty() || topics.contains(&w.topic.as_str()));
            nodes::connection("WebhookSubscriptionConnection", subs.map(nodes::subscription).collect())
        }
        other => return Err(undefined(other, "QueryRoot")),
    })
}

pub(crate) fn undefined(field: &str, on: &str) -> GqlError {
    GqlError::coded(format!("Field '{field}' doesn't exist on type '{on}'"), "undefinedField")
}

/// The `id` argument as the number of a `kind` gid (`None`: another kind, so nothing found).
fn id_arg(sel: &Sel, kind: &str) -> Result<Option<u64>, GqlError> {
    let text = sel
        .arg("id")
        .as_str()
        .ok_or_else(|| GqlError::new(format!("Field '{}' is missing required arguments: id", sel.name)))?;
    if !text.starts_with("gid://shopify/") {
        return Err(GqlError::new(format!("Invalid global id '{text}'")));
    }
    Ok(gid_id(kind, text))
}

fn ids_arg(sel: &Sel) -> Result<Vec<String>, GqlError> {
    let ids =
        sel.arg("ids").as_array().ok_or_else(|| GqlError::new("Field 'nodes' is missing required arguments: ids"))?;
    if ids.len() > 250 {
        return Err(GqlError::new("The 'ids' argument accepts at most 250 ids"));
    }
    Ok(ids.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
}

/// Any node by its global id (`null` when unknown).
fn node(s: &ShopState, g: &str) -> Value {
    if let Some(v) = gid_id("ProductVariant", g).and_then(|id| s.variants.get(&id)) {
        return nodes::variant(s, v);
    }
    if let Some(o) = gid_id("Order", g).and_then(|id| s.orders.get(&id)) {
        return nodes::order(s, o);
    }
    if let Some(id) = gid_id("InventoryItem", g).filter(|id| s.variant_by_item(*id).is_some()) {
        return nodes::inventory_item(s, id);
    }
    if let Some(fo) = gid_id("FulfillmentOrder", g).and_then(|id| s.fulfillment_orders.get(&id)) {
        return nodes::fulfillment_order(s, fo);
    }
    gid_id("Location", g).and_then(|id| s.locations.iter().find(|l| l.id == id)).map_or(Value::Null, nodes::location)
}

/// `productVariants(query:)`: `sku:X` and `barcode:X` terms (others filter nothing).
fn variants(s: &ShopState, sel: &Sel) -> Value {
    let q = sel.arg("query").as_str().unwrap_or_default();
    let term = |name: &str| {
        q.split_whitespace()
            .find_map(|t| t.strip_prefix(name).map(|v| v.trim_matches(|c| c == '"' || c == '\'').to_owned()))
    };
    let (sku, barcode) = (term("sku:"), term("barcode:"));
    let items = s.variants.values().filter(|v| {
        sku.as_ref().is_none_or(|x| &v.sku == x) && barcode.as_ref().is_none_or(|x| v.barcode.as_ref() == Some(x))
    });
    nodes::connection("ProductVariantConnection", items.map(|v| nodes::variant(s, v)).collect())
}

#[derive(Clone, Copy)]
enum Field {
    Updated,
    Created,
}

struct Bound {
    field: Field,
    op: &'static str,
    at: DateTime<Utc>,
}

/// Reads the search query's date terms; unreadable terms go to `warnings`.
fn bounds(q: &str, warnings: &mut Vec<String>) -> Vec<Bound> {
    let mut out = Vec::new();
    for term in q.split_whitespace().filter(|t| !t.eq_ignore_ascii_case("AND")) {
        let (field, rest) = match term.split_once(':') {
            Some(("updated_at", r)) => (Field::Updated, r),
            Some(("created_at", r)) => (Field::Created, r),
            _ => {
                warnings.push(format!("Invalid search field for this query: {term}"));
                continue;
            }
        };
        let op = [">=", "<=", ">", "<"].into_iter().find(|op| rest.starts_with(op)).unwrap_or("=");
        let value = rest.trim_start_matches(op);
        let quoted = value.len() >= 2
            && (value.starts_with('\'') && value.ends_with('\'') || value.starts_with('"') && value.ends_with('"'));
        let text = if quoted { &value[1..value.len() - 1] } else { value };
        match parse_time(text).filter(|_| quoted || !text.contains(':')) {
            Some(at) => out.push(Bound { field, op, at }),
            None => warnings.push(format!("Invalid value for search field {term}: dates with times must be quoted")),
        }
    }
    out
}

fn passes(o: &Order, b: &Bound) -> bool {
    let t = match b.field {
        Field::Updated => o.updated_at,
        Field::Created => o.created_at,
    };
    match b.op {
        ">" => t > b.at,
        ">=" => t >= b.at,
        "<" => t < b.at,
        "<=" => t <= b.at,
        _ => t == b.at,
    }
}

fn orders(s: &ShopState, sel: &Sel, warnings: &mut Vec<String>) -> Result<Value, GqlError> {
    let bounds = bounds(sel.arg("query").as_str().unwrap_or_default(), warnings);
    let mut picked: Vec<&Order> = s.orders.values().filter(|o| bounds.iter().all(|b| passes(o, b))).collect();
    match sel.arg("sortKey").as_str().unwrap_or("ID") {
        "ID" => {}
        "UPDATED_AT" => picked.sort_by_key(|o| (o.updated_at, o.id)),
        "CREATED_AT" => picked.sort_by_key(|o| (o.created_at, o.id)),
        other => {
            return Err(GqlError::new(format!("Argument 'sortKey' on Field 'orders' has an invalid value ({other}).")));
        }
    }
    let reverse = sel.arg("reverse").as_bool() == Some(true);
    if reverse {
        picked.reverse();
    }
    let sort_key = sel.arg("sortKey").as_str().unwrap_or("ID").to_owned();
    let items = picked
        .into_iter()
        .map(|o| {
            let mut v = nodes::order(s, o);
            v["__sort"] = Value::String(cursor_key(o, &sort_key, reverse));
            v
        })
        .collect();
    Ok(nodes::connection("OrderConnection", items))
}

/// The order's position in the chosen sort as a string that compares in that order, so an
/// `after` cursor still finds its place when orders changed between pages.
fn cursor_key(o: &Order, sort_key: &str, reverse: bool) -> String {
    let micros = |t: DateTime<Utc>| u64::try_from(t.timestamp_micros()).unwrap_or(0);
    let parts = match sort_key {
        "UPDATED_AT" => [micros(o.updated_at), o.id],
        "CREATED_AT" => [micros(o.created_at), o.id],
        _ => [0, o.id],
    };
    let parts = parts.map(|n| if reverse { u64::MAX - n } else { n });
    format!("{:020}:{:020}", parts[0], parts[1])
}
