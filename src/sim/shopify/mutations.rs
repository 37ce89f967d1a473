//! `fulfillmentCreate`, `webhookSubscriptionCreate` and `webhookSubscriptionDelete` (and the
//! dispatch of every mutation root field; `inventorySetQuantities` is in [`super::inventory`]).
//!
//! `fulfillmentCreate` follows UPSTREAMS-shopify.md §4: `lineItemsByFulfillmentOrder` is
//! required; every fulfillment order must exist, be `OPEN` or `IN_PROGRESS`, and all must belong
//! to one order and one location; a listed line item must be on its fulfillment order with a
//! quantity from 1 to its remaining quantity (no line items: everything remaining). Any
//! refusal is a `userErrors` entry (`UserError` has no `code`) and nothing is written. It is not
//! idempotent: the same input twice makes two fulfillments while quantities remain.

use chrono::Utc;
use serde_json::{Value, json};

use super::gql::{GqlError, Sel};
use super::model::{Fulfillment, TrackingInfo, WebhookSubscription, gid_id, topic_header};
use super::nodes;
use super::queries::undefined;
use super::state::ShopState;

/// A change the API made that Shopify announces by webhook: (topic enum value, order id).
pub(crate) type Event = (&'static str, u64);

/// Runs a mutation root field: its full payload and the webhooks it causes.
pub(crate) fn run(s: &mut ShopState, sel: &Sel) -> Result<(Value, Vec<Event>), GqlError> {
    match sel.name.as_str() {
        "fulfillmentCreate" => fulfillment_create(s, sel),
        "inventorySetQuantities" => super::inventory::set_quantities(s, sel).map(|v| (v, Vec::new())),
        "webhookSubscriptionCreate" => subscription_create(s, sel).map(|v| (v, Vec::new())),
        "webhookSubscriptionDelete" => subscription_delete(s, sel).map(|v| (v, Vec::new())),
        other => Err(undefined(other, "Mutation")),
    }
}

pub(crate) fn user_error(field: &[&str], message: impl Into<String>) -> Value {
    json!({"__typename": "UserError", "field": field, "message": message.into()})
}

fn payload(typename: &str, key: &str, value: Value, errors: Vec<Value>) -> Value {
    json!({"__typename": typename, key: value, "userErrors": errors})
}

/// One fulfillment order's requested lines: (FO id, [(FO line id, quantity)]).
type Request = (u64, Vec<(u64, i64)>);

fn read_request(s: &ShopState, input: &Value) -> Result<Result<Vec<Request>, Value>, GqlError> {
    let groups = input["lineItemsByFulfillmentOrder"].as_array().ok_or_else(|| {
        GqlError::new("Variable $fulfillment of type FulfillmentInput! was provided invalid value for lineItemsByFulfillmentOrder (Expected value to not be null)")
    })?;
    if groups.is_empty() || groups.len() > 512 {
        return Ok(Err(user_error(
            &["fulfillment", "lineItemsByFulfillmentOrder"],
            "must list 1 to 512 fulfillment orders",
        )));
    }
    let field = ["fulfillment", "lineItemsByFulfillmentOrder"];
    let mut out = Vec::new();
    for g in groups {
        let fo_id = g["fulfillmentOrderId"].as_str().and_then(|t| gid_id("FulfillmentOrder", t));
        let Some(fo) = fo_id.and_then(|id| s.fulfillment_orders.get(&id)) else {
            return Ok(Err(user_error(&field, "Fulfillment order does not exist.")));
        };
        if fo.status != "OPEN" && fo.status != "IN_PROGRESS" {
            return Ok(Err(user_error(
                &field,
                format!("Fulfillment order {} is {} and cannot be fulfilled.", fo.id, fo.status),
            )));
        }
        let lines = match g["fulfillmentOrderLineItems"].as_array() {
            None => {
                fo.lines.iter().filter(|l| l.remaining_quantity > 0).map(|l| (l.id, l.remaining_quantity)).collect()
            }
            Some(items) => {
                let mut lines = Vec::new();
                for it in items {
                    let id = it["id"].as_str().and_then(|t| gid_id("FulfillmentOrderLineItem", t));
                    let Some(line) = id.and_then(|id| fo.lines.iter().find(|l| l.id == id)) else {
                        return Ok(Err(user_error(
                            &field,
                            "Fulfillment order line item does not exist on this fulfillment order.",
                        )));
                    };
                    let q = it["quantity"].as_i64().unwrap_or(0);
                    if q < 1 || q > line.remaining_quantity {
                        let m = format!(
                            "Quantity {q} is invalid: {} remaining on line item {}.",
                            line.remaining_quantity, line.id
                        );
                        return Ok(Err(user_error(&field, m)));
                    }
                    lines.push((line.id, q));
                }
                lines
            }
        };
        if lines.is_empty() {
            return Ok(Err(user_error(&field, "Nothing remains to be fulfilled on this fulfillment order.")));
        }
        out.push((fo.id, lines));
    }
    let key = |id: &u64| s.fulfillment_orders.get(id).map(|f| (f.order_id, f.location_id));
    let first = key(&out[0].0);
    if out.iter().any(|(id, _)| key(id) != first) {
        return Ok(Err(user_error(&field, "All fulfillment orders must belong to the same order and location.")));
    }
    Ok(Ok(out))
}

fn tracking(input: &Value) -> Result<TrackingInfo, Value> {
    let t: TrackingInfo = serde_json::from_value(input["trackingInfo"].clone()).unwrap_or_default();
    if t.url.is_some() && t.number.is_none() {
        return Err(user_error(&["fulfillment", "trackingInfo", "url"], "A tracking URL needs a tracking number."));
    }
    Ok(t)
}

fn fulfillment_create(s: &mut ShopState, sel: &Sel) -> Result<(Value, Vec<Event>), GqlError> {
    const T: &str = "FulfillmentCreatePayload";
    let input = sel.arg("fulfillment");
    if !input.is_object() {
        return Err(GqlError::new("Field 'fulfillmentCreate' is missing required arguments: fulfillment"));
    }
    let requests = match read_request(s, input)? {
        Ok(r) => r,
        Err(e) => return Ok((payload(T, "fulfillment", Value::Null, vec![e]), Vec::new())),
    };
    let tracking = match tracking(input) {
        Ok(t) => t,
        Err(e) => return Ok((payload(T, "fulfillment", Value::Null, vec![e]), Vec::new())),
    };
    let id = s.next_id();
    let (mut order_id, mut location_id, mut shipped) = (0, 0, Vec::new());
    for (fo_id, lines) in requests {
        let Some(fo) = s.fulfillment_orders.get_mut(&fo_id) else { continue };
        (order_id, location_id) = (fo.order_id, fo.location_id);
        for (line_id, q) in lines {
            if let Some(l) = fo.lines.iter_mut().find(|l| l.id == line_id) {
                l.remaining_quantity -= q;
                shipped.push((l.line_item_id, q));
            }
        }
        fo.status = if fo.lines.iter().all(|l| l.remaining_quantity == 0) { "CLOSED" } else { "IN_PROGRESS" }.into();
    }
    let f = Fulfillment {
        id,
        order_id,
        location_id,
        status: "SUCCESS".into(),
        created_at: Utc::now(),
        tracking,
        lines: shipped,
    };
    let answer = nodes::fulfillment(&f);
    s.fulfillments.insert(id, f);
    if let Ok(o) = s.order_mut(order_id) {
        o.fulfillment_ids.push(id);
    }
    s.refresh_fulfillment_status(order_id);
    let mut events = vec![("ORDERS_UPDATED", order_id)];
    if s.orders.get(&order_id).is_some_and(|o| o.fulfillment_status == "FULFILLED") {
        events.push(("ORDERS_FULFILLED", order_id));
    }
    Ok((payload(T, "fulfillment", answer, Vec::new()), events))
}

/// Loopback receivers may use `http`; anything else must be `https`, as Shopify requires.
fn uri_ok(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else { return false };
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    u.scheme() == "https" || (u.scheme() == "http" && loopback)
}

fn subscription_create(s: &mut ShopState, sel: &Sel) -> Result<Value, GqlError> {
    const T: &str = "WebhookSubscriptionCreatePayload";
    let topic = sel.arg("topic").as_str().unwrap_or_default().to_owned();
    if topic_header(&topic).is_none() {
        return Err(GqlError::new(format!(
            "Argument 'topic' on Field 'webhookSubscriptionCreate' has an invalid value ({topic}). Expected type 'WebhookSubscriptionTopic!'."
        )));
    }
    let input = sel.arg("webhookSubscription");
    let uri = input["uri"].as_str().or_else(|| input["callbackUrl"].as_str()).unwrap_or_default().to_owned();
    let fail = |m: &str| {
        Ok(payload(T, "webhookSubscription", Value::Null, vec![user_error(&["webhookSubscription", "uri"], m)]))
    };
    if !uri_ok(&uri) {
        return fail("Address is invalid");
    }
    if input["format"].as_str().is_some_and(|f| f != "JSON") {
        return fail("Format must be JSON");
    }
    if s.subscriptions.values().any(|w| w.topic == topic && w.uri == uri) {
        return fail("Address for this topic has already been taken");
    }
    let id = s.next_id();
    let w = WebhookSubscription { id, topic, uri, created_at: Utc::now() };
    let answer = nodes::subscription(&w);
    s.subscriptions.insert(id, w);
    Ok(payload(T, "webhookSubscription", answer, Vec::new()))
}

fn subscription_delete(s: &mut ShopState, sel: &Sel) -> Result<Value, GqlError> {
    let id = sel.arg("id").as_str().unwrap_or_default().to_owned();
    let removed = gid_id("WebhookSubscription", &id).and_then(|n| s.subscriptions.remove(&n));
    let errors =
        if removed.is_some() { Vec::new() } else { vec![user_error(&["id"], "Webhook subscription does not exist")] };
    let deleted = removed.map(|_| Value::String(id));
    Ok(
        json!({"__typename": "WebhookSubscriptionDeletePayload", "deletedWebhookSubscriptionId": deleted, "userErrors": errors}),
    )
}
