//! Driving the Shopify simulator as the merchant (and Shopify itself) would: typed methods on
//! [`ShopifySim`], the same as JSON under `/_sim/…` ([`super::control_routes`]). Changes to
//! orders send the webhooks Shopify sends for them.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::cost::BucketConfig;
use super::model::{Fulfillment, Level, gid};
use super::oauth::{OAuthStats, ShopifyOAuthConfig};
use super::state::{NewShopLine, NewShopOrder, ShopError};
use super::webhooks::{emit, emit_order, outbound, rest_order, send};
use super::{ShopShared, ShopifySim};
use crate::sim::delivery::{DeliveryAttempt, DeliveryPolicy, DeliverySwitches};
use crate::sim::faults::FaultConfig;
use crate::sim::util::lock;

/// A variant to add: its own product and inventory item, stocked at `location_id` (default the
/// first location) with `stock` available and on hand.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewVariant {
    pub sku: String,
    pub barcode: Option<String>,
    pub title: Option<String>,
    pub stock: i64,
    pub location_id: Option<u64>,
}

/// An edit of an order in Shopify's admin (sends `orders/updated`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopOrderPatch {
    /// Replaces every line (only while nothing is fulfilled).
    pub lines: Option<Vec<NewShopLine>>,
    pub tags: Option<Vec<String>>,
    pub financial_status: Option<String>,
}

/// A compliance webhook to send: `customers/data_request`, `customers/redact` or `shop/redact`;
/// the customer is the one who placed orders with `email`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplianceRequest {
    pub topic: String,
    pub email: Option<String>,
}

impl ShopShared {
    pub(crate) fn add_variant(&self, v: &NewVariant) -> Result<Value, ShopError> {
        let mut s = lock(&self.state);
        if v.location_id.is_some_and(|l| !s.locations.iter().any(|x| x.id == l)) {
            return Err(ShopError::NotFound(format!("location {:?}", v.location_id)));
        }
        let id =
            s.add_variant(&v.sku, v.barcode.as_deref(), v.title.as_deref().unwrap_or(&v.sku), v.stock, v.location_id);
        let item = s.variants.get(&id).map_or(0, |x| x.inventory_item_id);
        Ok(json!({"id": gid("ProductVariant", id), "inventory_item_id": gid("InventoryItem", item), "sku": v.sku}))
    }

    pub(crate) fn create_order(self: &Arc<Self>, spec: NewShopOrder) -> Result<u64, ShopError> {
        let id = lock(&self.state).create_order(spec)?;
        emit_order(self, "ORDERS_CREATE", id);
        Ok(id)
    }

    pub(crate) fn edit_order(self: &Arc<Self>, id: u64, patch: ShopOrderPatch) -> Result<(), ShopError> {
        {
            let mut s = lock(&self.state);
            if let Some(lines) = &patch.lines {
                s.replace_lines(id, lines)?;
            }
            let o = s.order_mut(id)?;
            if let Some(tags) = patch.tags {
                o.tags = tags;
            }
            if let Some(f) = patch.financial_status {
                o.financial_status = f;
            }
            o.updated_at = chrono::Utc::now();
        }
        emit_order(self, "ORDERS_UPDATED", id);
        Ok(())
    }

    pub(crate) fn cancel_order(self: &Arc<Self>, id: u64) -> Result<(), ShopError> {
        lock(&self.state).cancel(id)?;
        emit_order(self, "ORDERS_CANCELLED", id);
        emit_order(self, "ORDERS_UPDATED", id);
        Ok(())
    }

    /// The order as its webhooks show it, with its fulfillment orders and fulfillments.
    pub(crate) fn order_detail(&self, id: u64) -> Option<Value> {
        let s = lock(&self.state);
        let o = s.orders.get(&id)?;
        let fos: Vec<_> = o.fulfillment_order_ids.iter().filter_map(|f| s.fulfillment_orders.get(f)).collect();
        let fulfillments: Vec<_> = o.fulfillment_ids.iter().filter_map(|f| s.fulfillments.get(f)).collect();
        Some(json!({"order": rest_order(&s, o), "fulfillment_orders": fos, "fulfillments": fulfillments,
            "display_fulfillment_status": o.fulfillment_status}))
    }

    pub(crate) fn levels(&self) -> Vec<Value> {
        let s = lock(&self.state);
        let rows = s.levels.iter().map(|((item, loc), l)| {
            let sku = s.variant_by_item(*item).map(|v| v.sku.clone());
            json!({"sku": sku, "inventory_item_id": gid("InventoryItem", *item), "location_id": gid("Location", *loc),
                "available": l.available, "on_hand": l.on_hand})
        });
        rows.collect()
    }

    pub(crate) fn compliance(self: &Arc<Self>, req: &ComplianceRequest) -> Result<Value, ShopError> {
        let uri = lock(&self.compliance_uri)
            .clone()
            .ok_or_else(|| ShopError::Invalid("no compliance URI is configured".into()))?;
        let body = {
            let s = lock(&self.state);
            let orders: Vec<_> =
                s.orders.values().filter(|o| req.email.as_ref().is_some_and(|e| &o.email == e)).collect();
            let customer = orders
                .first()
                .map(|o| json!({"id": o.customer_id, "email": o.email, "phone": o.shipping_address.phone_number}));
            let ids: Vec<u64> = orders.iter().map(|o| o.id).collect();
            let base = json!({"shop_id": 1, "shop_domain": self.shop});
            match (req.topic.as_str(), customer) {
                ("shop/redact", _) => base,
                ("customers/redact", Some(c)) => {
                    json!({"shop_id": 1, "shop_domain": self.shop, "customer": c, "orders_to_redact": ids})
                }
                ("customers/data_request", Some(c)) => json!({"shop_id": 1, "shop_domain": self.shop, "customer": c,
                    "orders_requested": ids, "data_request": {"id": s.orders.len() + 1}}),
                ("customers/redact" | "customers/data_request", None) => {
                    return Err(ShopError::NotFound("a customer with that email".into()));
                }
                (other, _) => return Err(ShopError::Invalid(format!("unknown compliance topic {other}"))),
            }
        };
        let job = outbound(self, uri, &req.topic, &body);
        let id = job.delivery_id.clone();
        send(self, job, |_| {});
        Ok(json!({"webhook_id": id, "body": body}))
    }

    /// `app/uninstalled`, then every token and subscription ends (Shopify's order of things).
    pub(crate) fn uninstall(self: &Arc<Self>) {
        let body =
            json!({"id": 1, "name": self.shop.split('.').next(), "domain": self.shop, "myshopify_domain": self.shop});
        emit(self, "APP_UNINSTALLED", &body);
        self.uninstalled.store(true, Ordering::Relaxed);
        self.oauth.revoke_all();
        lock(&self.state).subscriptions.clear();
    }
}

impl ShopifySim {
    pub fn add_variant(&self, v: &NewVariant) -> Result<Value, ShopError> {
        self.shared.add_variant(v)
    }

    /// Creates an order (sends `orders/create`); returns its numeric id.
    pub fn create_order(&self, spec: NewShopOrder) -> Result<u64, ShopError> {
        self.shared.create_order(spec)
    }

    /// Edits an order (sends `orders/updated`).
    pub fn edit_order(&self, id: u64, patch: ShopOrderPatch) -> Result<(), ShopError> {
        self.shared.edit_order(id, patch)
    }

    /// Cancels an order (sends `orders/cancelled` and `orders/updated`).
    pub fn cancel_order(&self, id: u64) -> Result<(), ShopError> {
        self.shared.cancel_order(id)
    }

    pub fn order_detail(&self, id: u64) -> Option<Value> {
        self.shared.order_detail(id)
    }

    /// The order's fulfillments.
    pub fn fulfillments(&self, order_id: u64) -> Vec<Fulfillment> {
        let s = lock(&self.shared.state);
        s.fulfillments.values().filter(|f| f.order_id == order_id).cloned().collect()
    }

    /// Remaining quantity per SKU over the order's fulfillment orders.
    pub fn remaining(&self, order_id: u64) -> Vec<(String, i64)> {
        let s = lock(&self.shared.state);
        let Some(o) = s.orders.get(&order_id) else { return Vec::new() };
        let fos = o.fulfillment_order_ids.iter().filter_map(|id| s.fulfillment_orders.get(id));
        let sku =
            |line: u64| o.line_items.iter().find(|l| l.id == line).and_then(|l| l.sku.clone()).unwrap_or_default();
        fos.flat_map(|f| f.lines.iter()).map(|l| (sku(l.line_item_id), l.remaining_quantity)).collect()
    }

    /// The level of `sku` at the first location.
    pub fn level(&self, sku: &str) -> Option<Level> {
        let s = lock(&self.shared.state);
        let item = s.variant_by_sku(sku)?.inventory_item_id;
        s.levels.get(&(item, s.first_location())).copied()
    }

    pub fn levels(&self) -> Vec<Value> {
        self.shared.levels()
    }

    /// How many recorded GraphQL requests (answered or not) called root field `field`
    /// (`fulfillmentCreate`, `orders`, …): the record keeps bodies, not operations.
    pub fn calls_of(&self, field: &str) -> usize {
        let entries = self.shared.common.recorder.entries();
        let bodies = entries.iter().filter(|e| e.path.ends_with("/graphql.json"));
        let ops = bodies.filter_map(|e| serde_json::from_str::<Value>(&e.body).ok()).filter_map(|b| {
            let vars = b["variables"].as_object().cloned().unwrap_or_default();
            super::gql::parse(b["query"].as_str()?, &vars, b["operationName"].as_str()).ok()
        });
        ops.filter(|op| op.fields.iter().any(|f| f.name == field)).count()
    }

    pub fn set_bucket(&self, config: BucketConfig) {
        self.shared.bucket.set(config);
    }

    /// THROTTLED answers so far.
    pub fn throttled(&self) -> u64 {
        self.shared.bucket.throttled().len() as u64
    }

    /// When each THROTTLED answer went out (Unix ms, in order).
    pub fn throttled_at(&self) -> Vec<u64> {
        self.shared.bucket.throttled()
    }

    pub fn set_faults(&self, config: FaultConfig) {
        self.shared.common.faults.set(config);
    }

    /// `Some(402)` freezes the shop, `Some(423)` locks it, `None` opens it.
    pub fn set_shop_status(&self, status: Option<u16>) {
        self.shared.shop_status.store(status.map_or(0, u32::from), Ordering::Relaxed);
    }

    /// Subscriptions as `(topic, uri)`.
    pub fn subscriptions(&self) -> Vec<(String, String)> {
        lock(&self.shared.state).subscriptions.values().map(|w| (w.topic.clone(), w.uri.clone())).collect()
    }

    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.shared.deliverer.log()
    }

    pub fn set_delivery_switches(&self, switches: DeliverySwitches) {
        self.shared.deliverer.set_switches(switches);
    }

    pub fn set_delivery_policy(&self, policy: DeliveryPolicy) {
        self.shared.deliverer.set_policy(policy);
    }

    /// Holds every later delivery back `ms` before its first attempt.
    pub fn set_webhook_delay_ms(&self, ms: u64) {
        self.shared.webhook_delay_ms.store(ms, Ordering::Relaxed);
    }

    pub fn set_compliance_uri(&self, uri: Option<String>) {
        *lock(&self.shared.compliance_uri) = uri;
    }

    /// Sends a compliance webhook; returns its webhook id and body.
    pub fn send_compliance(&self, req: &ComplianceRequest) -> Result<Value, ShopError> {
        self.shared.compliance(req)
    }

    /// Sends `app/uninstalled`; every token and subscription ends.
    pub fn uninstall(&self) {
        self.shared.uninstall();
    }

    /// The custom app is installed again: its token works.
    pub fn install(&self) {
        self.shared.uninstalled.store(false, Ordering::Relaxed);
    }

    pub fn set_oauth(&self, config: ShopifyOAuthConfig) {
        self.shared.oauth.set_config(config);
    }

    /// Every OAuth access token expires now.
    pub fn expire_tokens(&self) {
        self.shared.oauth.expire_all();
    }

    pub fn oauth_stats(&self) -> OAuthStats {
        self.shared.oauth.stats()
    }
}
