//! The full GraphQL JSON of every node the simulator serves (see [`super::project`] for how
//! an answer is cut from it and what the `__…` markers mean). Field names and enum values are
//! those of UPSTREAMS-shopify.md §3–§5 and the Admin API objects they cite.

use serde_json::{Value, json};

use super::model::{Fulfillment, FulfillmentOrder, Location, Order, Variant, WebhookSubscription, gid};
use super::state::ShopState;
use crate::sim::util::tg_time as iso;

pub(crate) fn connection(typename: &str, items: Vec<Value>) -> Value {
    json!({"__connection": items, "__type": typename})
}

pub(crate) fn location(l: &Location) -> Value {
    json!({"__typename": "Location", "id": gid("Location", l.id), "name": l.name, "isActive": l.is_active,
        "__sort": format!("{:020}", l.id)})
}

fn location_of(s: &ShopState, id: u64) -> Value {
    s.locations.iter().find(|l| l.id == id).map_or(Value::Null, location)
}

/// An inventory item's level at one location.
fn level(s: &ShopState, item: u64, loc: u64) -> Value {
    let Some(l) = s.levels.get(&(item, loc)) else { return Value::Null };
    let q = |name: &str, quantity: i64| json!({"__typename": "InventoryQuantity", "name": name, "quantity": quantity});
    json!({
        "__typename": "InventoryLevel",
        "id": format!("gid://shopify/InventoryLevel/{item}?inventory_item_id={item}&location_id={loc}"),
        "location": location_of(s, loc),
        "quantities": {"__named": [q("available", l.available), q("on_hand", l.on_hand), q("committed", l.on_hand - l.available)]},
        "__sort": format!("{loc:020}"),
    })
}

pub(crate) fn inventory_item(s: &ShopState, item: u64) -> Value {
    let v = s.variant_by_item(item);
    let locs: Vec<u64> = s.levels.keys().filter(|(i, _)| *i == item).map(|(_, l)| *l).collect();
    let by_loc: serde_json::Map<String, Value> =
        locs.iter().map(|l| (gid("Location", *l), level(s, item, *l))).collect();
    json!({
        "__typename": "InventoryItem",
        "id": gid("InventoryItem", item),
        "sku": v.map(|v| v.sku.clone()),
        "tracked": true,
        "variant": v.map_or(Value::Null, |v| json!({"__typename": "ProductVariant", "id": gid("ProductVariant", v.id), "sku": v.sku, "barcode": v.barcode})),
        "inventoryLevel": {"__keyed": {"arg": "locationId", "map": by_loc}},
        "inventoryLevels": connection("InventoryLevelConnection", locs.iter().map(|l| level(s, item, *l)).collect()),
    })
}

pub(crate) fn variant(s: &ShopState, v: &Variant) -> Value {
    json!({
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", v.id),
        "sku": v.sku,
        "barcode": v.barcode,
        "title": "Default Title",
        "displayName": format!("{} - Default Title", v.title),
        "product": {"__typename": "Product", "id": gid("Product", v.product_id), "title": v.title},
        "inventoryItem": inventory_item(s, v.inventory_item_id),
        "__sort": format!("{:020}", v.id),
    })
}

fn address(o: &Order) -> Value {
    let a = &o.shipping_address;
    json!({
        "__typename": "MailingAddress",
        "name": format!("{} {}", a.first_name, a.last_name).trim(),
        "firstName": a.first_name, "lastName": a.last_name, "company": a.company_name,
        "address1": a.address1, "address2": a.address2, "city": a.city,
        "province": a.state, "provinceCode": a.state, "zip": a.zip_code,
        "country": a.country, "countryCodeV2": a.country_code, "phone": a.phone_number,
    })
}

fn line_item(s: &ShopState, o: &Order, id: u64) -> Value {
    let Some(l) = o.line_items.iter().find(|l| l.id == id) else { return Value::Null };
    let v = l.variant_id.and_then(|v| s.variants.get(&v));
    json!({
        "__typename": "LineItem", "id": gid("LineItem", l.id), "sku": l.sku, "title": l.title, "name": l.title,
        "quantity": l.quantity, "variant": v.map_or(Value::Null, |v| variant(s, v)),
        "__sort": format!("{:020}", l.id),
    })
}

pub(crate) fn fulfillment_order(s: &ShopState, fo: &FulfillmentOrder) -> Value {
    let order = s.orders.get(&fo.order_id);
    let lines: Vec<Value> = fo
        .lines
        .iter()
        .map(|l| {
            json!({
                "__typename": "FulfillmentOrderLineItem", "id": gid("FulfillmentOrderLineItem", l.id),
                "remainingQuantity": l.remaining_quantity, "totalQuantity": l.total_quantity,
                "sku": order.and_then(|o| o.line_items.iter().find(|li| li.id == l.line_item_id)).and_then(|li| li.sku.clone()),
                "lineItem": order.map_or(Value::Null, |o| line_item(s, o, l.line_item_id)),
                "__sort": format!("{:020}", l.id),
            })
        })
        .collect();
    let loc = location_of(s, fo.location_id);
    json!({
        "__typename": "FulfillmentOrder", "id": gid("FulfillmentOrder", fo.id), "status": fo.status,
        "orderId": gid("Order", fo.order_id),
        "assignedLocation": {"__typename": "FulfillmentOrderAssignedLocation", "name": loc["name"], "location": loc},
        "lineItems": connection("FulfillmentOrderLineItemConnection", lines),
        "__sort": format!("{:020}", fo.id),
    })
}

pub(crate) fn fulfillment(f: &Fulfillment) -> Value {
    let t = &f.tracking;
    json!({
        "__typename": "Fulfillment", "id": gid("Fulfillment", f.id), "status": f.status,
        "createdAt": iso(&f.created_at), "updatedAt": iso(&f.created_at),
        "location": {"__typename": "Location", "id": gid("Location", f.location_id)},
        "trackingInfo": [{"__typename": "FulfillmentTrackingInfo", "company": t.company, "number": t.number, "url": t.url}],
        "__sort": format!("{:020}", f.id),
    })
}

pub(crate) fn order(s: &ShopState, o: &Order) -> Value {
    let lines = o.line_items.iter().map(|l| line_item(s, o, l.id)).collect();
    let fos =
        o.fulfillment_order_ids.iter().filter_map(|id| s.fulfillment_orders.get(id)).map(|f| fulfillment_order(s, f));
    let fulfillments: Vec<Value> =
        o.fulfillment_ids.iter().filter_map(|id| s.fulfillments.get(id)).map(fulfillment).collect();
    json!({
        "__typename": "Order", "id": gid("Order", o.id), "legacyResourceId": o.id.to_string(), "name": o.name,
        "email": o.email, "createdAt": iso(&o.created_at), "updatedAt": iso(&o.updated_at),
        "cancelledAt": o.cancelled_at.as_ref().map(iso), "closed": o.fulfillment_status == "FULFILLED",
        "displayFinancialStatus": o.financial_status, "displayFulfillmentStatus": o.fulfillment_status,
        "tags": o.tags, "shippingAddress": address(o),
        "shippingLine": o.shipping_line.as_ref().map_or(Value::Null, |l| json!({"__typename": "ShippingLine", "title": l.title, "code": l.code, "source": l.source})),
        "customer": {"__typename": "Customer", "id": gid("Customer", o.customer_id), "email": o.email,
            "firstName": o.shipping_address.first_name, "lastName": o.shipping_address.last_name,
            "phone": o.shipping_address.phone_number},
        "lineItems": connection("LineItemConnection", lines),
        "fulfillmentOrders": connection("FulfillmentOrderConnection", fos.collect()),
        "fulfillments": fulfillments,
        "__sort": format!("{:020}:{:020}", o.updated_at.timestamp_micros(), o.id),
    })
}

pub(crate) fn subscription(w: &WebhookSubscription) -> Value {
    json!({
        "__typename": "WebhookSubscription", "id": gid("WebhookSubscription", w.id), "topic": w.topic,
        "uri": w.uri, "callbackUrl": w.uri, "format": "JSON", "createdAt": iso(&w.created_at),
        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": w.uri},
        "__sort": format!("{:020}", w.id),
    })
}
