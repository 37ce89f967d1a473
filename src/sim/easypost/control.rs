//! Driving the EasyPost simulator: typed methods on [`EasypostSim`] and the same actions as
//! JSON under `/_sim/…` (no auth, no faults, not recorded).

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{HttpResponse, Scope, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::events::emit;
use super::ops::PickSpec;
use super::state::EpError;
use super::{EasypostSim, EpRateLimit, EpShared};
use crate::sim::delivery::{DeliveryAttempt, DeliveryPolicy, DeliverySwitches};
use crate::sim::faults::FaultConfig;
use crate::sim::util::{json as reply, lock};

/// One line of a stock count.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryItem {
    pub barcode: String,
    pub quantity: i64,
    #[serde(default)]
    pub warehouse_id: Option<String>,
}

impl EpShared {
    fn ship(self: &Arc<Self>, id: &str, picks: &[PickSpec]) -> Result<Value, EpError> {
        let shipped = lock(&self.state).ship(id, picks)?;
        for tracker in shipped.new_trackers {
            emit(self, shipped.mode, "tracker.created", tracker, None);
        }
        let previous = json!({"status": shipped.previous_status});
        emit(self, shipped.mode, "fulfillment.order.updated", shipped.order.clone(), Some(previous));
        Ok(shipped.order)
    }

    fn advance(self: &Arc<Self>, key: &str, status: Option<&str>) -> Result<Value, EpError> {
        let (tracker, previous, mode) = lock(&self.state).advance_tracker(key, status)?;
        emit(self, mode, "tracker.updated", tracker.clone(), Some(json!({"status": previous})));
        Ok(tracker)
    }

    fn stock_summary(&self) -> Vec<Value> {
        let s = lock(&self.state);
        s.products
            .iter()
            .map(|p| {
                let rows = s.warehouses.iter().filter_map(|w| s.stock.get(&(p.id.clone(), w.id.clone())));
                let (on_hand, reserved) = rows.fold((0, 0), |(a, b), st| (a + st.on_hand, b + st.reserved));
                json!({"barcode": p.barcode, "product_id": p.id, "on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved})
            })
            .collect()
    }

    fn all_orders(&self) -> Vec<Value> {
        lock(&self.state).orders.iter().map(|o| o.json()).collect()
    }

    fn by_description(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for o in lock(&self.state).orders.iter() {
            *out.entry(o.description.clone().unwrap_or_default()).or_insert(0) += 1;
        }
        out
    }
}

impl EasypostSim {
    /// The configured keys.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.shared.keys).iter().map(|k| k.key.clone()).collect()
    }

    /// The first key of `mode`.
    pub fn key(&self, mode: super::Mode) -> Option<String> {
        lock(&self.shared.keys).iter().find(|k| k.mode == mode).map(|k| k.key.clone())
    }

    /// Ships an order in `picks` (all remaining units in one pick when empty); sends
    /// `tracker.created` per pick and `fulfillment.order.updated`.
    pub fn ship(&self, order_id: &str, picks: &[PickSpec]) -> Result<Value, EpError> {
        self.shared.ship(order_id, picks)
    }

    /// Moves a tracker (id or tracking code) to `status` or its next step; sends `tracker.updated`.
    pub fn advance_tracker(&self, key: &str, status: Option<&str>) -> Result<Value, EpError> {
        self.shared.advance(key, status)
    }

    /// Receives `units` of `barcode` (default: first warehouse); returns the new on-hand count there.
    pub fn receive(&self, barcode: &str, warehouse_id: Option<&str>, units: i64) -> Result<i64, EpError> {
        lock(&self.shared.state).receive(barcode, warehouse_id, units)
    }

    /// Sets on-hand counts for many barcodes (unknown barcodes become products).
    pub fn set_inventory(&self, items: &[InventoryItem]) -> Result<(), EpError> {
        let mut s = lock(&self.shared.state);
        items.iter().try_for_each(|i| s.set_stock(&i.barcode, i.warehouse_id.as_deref(), i.quantity))
    }

    /// Adds a product (or returns the existing one's id).
    pub fn add_product(&self, barcode: &str, title: &str) -> String {
        lock(&self.shared.state).product_for(barcode, Some(title))
    }

    /// On hand, reserved and available per barcode.
    pub fn stock(&self) -> Vec<Value> {
        self.shared.stock_summary()
    }

    /// Units of `barcode` that an order could still take.
    pub fn available(&self, barcode: &str) -> i64 {
        let s = lock(&self.shared.state);
        s.product_by_barcode(barcode).map_or(0, |p| s.available(&p.id))
    }

    /// Every order (both modes), oldest first.
    pub fn orders(&self) -> Vec<Value> {
        self.shared.all_orders()
    }

    /// One order by id (any mode).
    pub fn order(&self, id: &str) -> Option<Value> {
        lock(&self.shared.state).orders.iter().find(|o| o.id == id).map(|o| o.json())
    }

    /// The newest order with this description (any mode).
    pub fn order_by_description(&self, description: &str) -> Option<Value> {
        let s = lock(&self.shared.state);
        s.orders.iter().rev().find(|o| o.description.as_deref() == Some(description)).map(|o| o.json())
    }

    /// Orders created per description (a count above 1 = a duplicate order at the warehouse).
    pub fn orders_by_description(&self) -> BTreeMap<String, usize> {
        self.shared.by_description()
    }

    /// Descriptions with more than one order.
    pub fn duplicate_descriptions(&self) -> Vec<String> {
        self.orders_by_description().into_iter().filter(|(_, n)| *n > 1).map(|(d, _)| d).collect()
    }

    /// The `service` values orders may use (any other: 422 naming `service`).
    pub fn set_services(&self, services: &[&str]) {
        lock(&self.shared.state).services = services.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Activates or deactivates a key (inactive → 403 `APIKEY.INACTIVE`).
    pub fn set_key_active(&self, key: &str, active: bool) {
        lock(&self.shared.keys).iter_mut().filter(|k| k.key == key).for_each(|k| k.active = active);
    }

    pub fn set_rate_limit(&self, limit: EpRateLimit) {
        *lock(&self.shared.rate_limit) = limit;
    }

    pub fn set_faults(&self, config: FaultConfig) {
        self.shared.common.faults.set(config);
    }

    pub fn faults(&self) -> FaultConfig {
        self.shared.common.faults.config()
    }

    /// 429 on every API request for `duration`.
    pub fn storm(&self, duration: std::time::Duration) {
        self.shared.common.faults.storm(duration);
    }

    pub fn set_delivery_switches(&self, switches: DeliverySwitches) {
        self.shared.deliverer.set_switches(switches);
    }

    pub fn set_delivery_policy(&self, policy: DeliveryPolicy) {
        self.shared.deliverer.set_policy(policy);
    }

    /// Every delivery attempt so far.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.shared.deliverer.log()
    }

    pub fn deliveries_in_flight(&self) -> usize {
        self.shared.deliverer.in_flight()
    }
}

type Shared = web::Data<EpShared>;

fn result(r: Result<Value, EpError>) -> HttpResponse {
    r.map_or_else(|e| e.response(), |v| reply(200, &v))
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Ship {
    picks: Vec<PickSpec>,
}

async fn ship(shared: Shared, id: web::Path<String>, body: Option<web::Json<Ship>>) -> HttpResponse {
    let picks = body.map(|b| b.into_inner().picks).unwrap_or_default();
    result(shared.clone().into_inner().ship(&id, &picks))
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Advance {
    status: Option<String>,
}

async fn advance(shared: Shared, key: web::Path<String>, body: Option<web::Json<Advance>>) -> HttpResponse {
    let status = body.and_then(|b| b.into_inner().status);
    result(shared.clone().into_inner().advance(&key, status.as_deref()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Receive {
    barcode: String,
    units: i64,
    warehouse_id: Option<String>,
}

async fn receive(shared: Shared, r: web::Json<Receive>) -> HttpResponse {
    let done = lock(&shared.state).receive(&r.barcode, r.warehouse_id.as_deref(), r.units);
    result(done.map(|on_hand| json!({"barcode": r.barcode, "on_hand": on_hand})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetInventory {
    items: Vec<InventoryItem>,
}

async fn set_inventory(shared: Shared, body: web::Json<SetInventory>) -> HttpResponse {
    let done = {
        let mut s = lock(&shared.state);
        body.items.iter().try_for_each(|i| s.set_stock(&i.barcode, i.warehouse_id.as_deref(), i.quantity))
    };
    result(done.map(|()| json!({"inventory": shared.stock_summary()})))
}

#[derive(Deserialize)]
struct NewProduct {
    barcode: String,
    title: Option<String>,
}

async fn add_product(shared: Shared, p: web::Json<NewProduct>) -> HttpResponse {
    let id = lock(&shared.state).product_for(&p.barcode, p.title.as_deref());
    reply(201, &json!({"id": id, "barcode": p.barcode}))
}

#[derive(Deserialize)]
struct KeyState {
    key: String,
    active: bool,
}

async fn set_key(shared: Shared, k: web::Json<KeyState>) -> HttpResponse {
    let mut keys = lock(&shared.keys);
    let found = keys.iter_mut().find(|x| x.key == k.key).map(|x| x.active = k.active).is_some();
    if found {
        reply(200, &json!({"key": k.key, "active": k.active}))
    } else {
        reply(404, &json!({"error": "unknown key"}))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Services {
    services: Vec<String>,
}

async fn services(shared: Shared, body: Option<web::Json<Services>>) -> HttpResponse {
    let mut s = lock(&shared.state);
    if let Some(body) = body {
        s.services = body.into_inner().services;
    }
    reply(200, &json!({"services": s.services}))
}

async fn rate_limit(shared: Shared, body: Option<web::Json<EpRateLimit>>) -> HttpResponse {
    if let Some(limit) = body {
        *lock(&shared.rate_limit) = limit.into_inner();
    }
    reply(200, &*lock(&shared.rate_limit))
}

/// The `/_sim` scope.
pub(crate) fn scope() -> Scope {
    use actix_web::web::{get, post, put};
    web::scope("/_sim")
        .route(
            "/orders",
            get().to(|s: Shared| async move {
                reply(200, &json!({"orders": s.all_orders(), "by_description": s.by_description()}))
            }),
        )
        .route("/orders/{id}/ship", post().to(ship))
        .route("/trackers/{key}/advance", post().to(advance))
        .route("/inventory", get().to(|s: Shared| async move { reply(200, &json!({"inventory": s.stock_summary()})) }))
        .route("/inventory", put().to(set_inventory))
        .route("/inventory/receive", post().to(receive))
        .route("/products", post().to(add_product))
        .route("/keys", put().to(set_key))
        .route("/services", get().to(services))
        .route("/services", put().to(services))
        .route("/rate_limit", get().to(rate_limit))
        .route("/rate_limit", put().to(rate_limit))
        .configure(crate::sim::control::common_routes::<EpShared>)
}
