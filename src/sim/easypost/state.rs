//! The EasyPost Fulfillment simulator's data and order intake: products, warehouses, stock,
//! orders (per mode) and webhooks. Inventory is shared by both modes (one physical warehouse).

use std::collections::{BTreeMap, HashMap};

use actix_web::HttpResponse;
use chrono::Utc;
use serde_json::{Value, json};

use super::model::{Mode, Order, OrderLine, Product, Stock, Warehouse, new_id};
use crate::sim::seed::Seed;
use crate::sim::util::{json as reply, whole_units};

/// Why an EasyPost call failed, rendered as `{"error":{"code","message","errors"}}`.
#[derive(Debug, thiserror::Error)]
pub enum EpError {
    #[error("{0}")]
    NotFound(String),
    /// 422 with a code such as `INSUFFICIENT_INVENTORY` or `PRODUCT.NOT_FOUND`.
    #[error("{code}: {message}")]
    Invalid { code: &'static str, message: String, errors: Vec<Value> },
}

impl EpError {
    pub(crate) fn invalid(code: &'static str, message: impl Into<String>, errors: Vec<Value>) -> Self {
        Self::Invalid { code, message: message.into(), errors }
    }

    fn field(code: &'static str, field: &str, message: &str) -> Self {
        Self::invalid(code, message, vec![json!({"field": field, "message": message, "suggestion": null})])
    }

    pub(crate) fn response(&self) -> HttpResponse {
        match self {
            Self::NotFound(m) => reply(404, &json!({"error": {"code": "NOT_FOUND", "message": m, "errors": []}})),
            Self::Invalid { code, message, errors } => {
                reply(422, &json!({"error": {"code": code, "message": message, "errors": errors}}))
            }
        }
    }
}

/// A registered event destination.
pub(crate) struct Webhook {
    pub id: String,
    pub mode: Mode,
    pub url: String,
    pub secret: String,
    pub created_at: chrono::DateTime<Utc>,
}

impl Webhook {
    pub(crate) fn json(&self) -> Value {
        json!({"id": self.id, "object": "Webhook", "mode": self.mode, "url": self.url,
               "created_at": crate::sim::util::ep_time(&self.created_at), "disabled_at": null})
    }
}

#[derive(Default)]
pub(crate) struct EpState {
    pub products: Vec<Product>,
    pub warehouses: Vec<Warehouse>,
    /// Stock per (product id, warehouse id).
    pub stock: HashMap<(String, String), Stock>,
    /// Oldest first.
    pub orders: Vec<Order>,
    pub webhooks: Vec<Webhook>,
    pub tracking_seq: u64,
    /// The `service` values this account offers; any other is a 422 naming `service`.
    pub services: Vec<String>,
}

impl EpState {
    pub(crate) fn from_seed(seed: &Seed, warehouses: &[(String, String)]) -> Self {
        let mut s = Self::default();
        for (id, name) in warehouses {
            s.warehouses.push(Warehouse { id: id.clone(), name: name.clone() });
        }
        for item in seed.all_items() {
            let pid = s.product_for(&item.barcode, Some(&item.title));
            if let Some(wh) = s.warehouses.first().map(|w| w.id.clone()) {
                s.stock.entry((pid, wh)).or_default().on_hand = item.warehouse_stock;
            }
        }
        s
    }

    pub(crate) fn product_by_barcode(&self, barcode: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.barcode == barcode)
    }

    /// The product with `barcode`, created if unknown.
    pub(crate) fn product_for(&mut self, barcode: &str, title: Option<&str>) -> String {
        if let Some(p) = self.product_by_barcode(barcode) {
            return p.id.clone();
        }
        let id = new_id("prod");
        let title = title.unwrap_or(barcode).to_owned();
        self.products.push(Product { id: id.clone(), barcode: barcode.to_owned(), title, created_at: Utc::now() });
        id
    }

    /// Units that can still be promised: on hand minus reserved, over all warehouses.
    pub(crate) fn available(&self, product_id: &str) -> i64 {
        self.warehouses
            .iter()
            .filter_map(|w| self.stock.get(&(product_id.to_owned(), w.id.clone())))
            .map(|s| s.on_hand - s.reserved)
            .sum()
    }

    pub(crate) fn order_mut(&mut self, mode: Option<Mode>, id: &str) -> Result<&mut Order, EpError> {
        self.orders
            .iter_mut()
            .find(|o| o.id == id && mode.is_none_or(|m| m == o.mode))
            .ok_or_else(|| EpError::NotFound(format!("The requested resource could not be found: order {id}")))
    }

    /// `POST orders`: validates, checks every barcode and the inventory, reserves, accepts.
    pub(crate) fn create_order(&mut self, mode: Mode, body: &Value) -> Result<Value, EpError> {
        let o = body.get("order").unwrap_or(body);
        let dest = o.get("destination").filter(|d| d.is_object());
        let dest =
            dest.ok_or_else(|| EpError::field("PARAMETER.REQUIRED", "destination", "destination is required"))?;
        for f in ["street1", "city", "country"] {
            if dest.get(f).and_then(Value::as_str).is_none_or(str::is_empty) {
                return Err(EpError::field(
                    "PARAMETER.REQUIRED",
                    &format!("destination.{f}"),
                    &format!("destination.{f} is required"),
                ));
            }
        }
        let service = o.get("service").and_then(Value::as_str).unwrap_or("standard").to_owned();
        self.check_service(&service)?;
        let shipment_options = o.get("shipment_options").cloned().unwrap_or(Value::Null);
        if !(shipment_options.is_null() || shipment_options.is_object()) {
            let msg = "shipment_options must be an object";
            return Err(EpError::field("PARAMETER.INVALID", "shipment_options", msg));
        }
        let wanted = self.requested_units(o)?;
        self.check_inventory(&wanted)?;
        let mut lines = Vec::new();
        for (product_id, barcode, units) in wanted {
            let allocations = self.reserve(&product_id, units);
            lines.push(OrderLine { product_id, barcode, units, shipped: 0, allocations });
        }
        let now = Utc::now();
        let order = Order {
            id: new_id("order"),
            mode,
            status: "pending".into(),
            service,
            shipment_options,
            description: o.get("description").and_then(Value::as_str).map(str::to_owned),
            destination: dest.clone(),
            lines,
            picks: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        let out = order.json();
        self.orders.push(order);
        Ok(out)
    }

    /// A service the account offers (UPSTREAMS.md: values are account-specific).
    fn check_service(&self, service: &str) -> Result<(), EpError> {
        if self.services.iter().any(|s| s == service) {
            return Ok(());
        }
        let msg =
            format!("service \"{service}\" is not offered by this account; offered: {}", self.services.join(", "));
        Err(EpError::field("PARAMETER.INVALID", "service", &msg))
    }

    /// The order's lines as (product id, barcode, units), same barcodes merged.
    fn requested_units(&self, o: &Value) -> Result<Vec<(String, String, i64)>, EpError> {
        let items = o.get("line_items").and_then(Value::as_array).filter(|a| !a.is_empty());
        let items =
            items.ok_or_else(|| EpError::field("PARAMETER.REQUIRED", "line_items", "line_items is required"))?;
        let mut merged: BTreeMap<String, (String, String, i64)> = BTreeMap::new();
        let mut unknown = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let units = item.get("units").and_then(whole_units).filter(|u| *u > 0);
            let units = units.ok_or_else(|| {
                EpError::field(
                    "PARAMETER.INVALID",
                    &format!("line_items[{i}].units"),
                    "units must be a whole number above 0",
                )
            })?;
            let product = item.get("product");
            let barcode = product.and_then(|p| p.get("barcode")).and_then(Value::as_str);
            let by_id = product
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                .and_then(|id| self.products.iter().find(|p| p.id == id));
            let found = by_id.or_else(|| barcode.and_then(|b| self.product_by_barcode(b)));
            match (found, barcode) {
                (Some(p), _) => merged.entry(p.id.clone()).or_insert((p.id.clone(), p.barcode.clone(), 0)).2 += units,
                (None, Some(b)) => unknown.push((i, b.to_owned())),
                (None, None) => {
                    return Err(EpError::field(
                        "PARAMETER.REQUIRED",
                        &format!("line_items[{i}].product.barcode"),
                        "product barcode is required",
                    ));
                }
            }
        }
        if let Some((_, first)) = unknown.first() {
            let errors = unknown.iter().map(|(i, b)| json!({"field": format!("line_items[{i}].product.barcode"), "message": format!("No product with barcode {b}"), "suggestion": null})).collect();
            return Err(EpError::invalid("PRODUCT.NOT_FOUND", format!("No product with barcode {first}"), errors));
        }
        Ok(merged.into_values().collect())
    }

    fn check_inventory(&self, wanted: &[(String, String, i64)]) -> Result<(), EpError> {
        let short: Vec<(String, i64, i64)> = wanted
            .iter()
            .map(|(pid, bc, units)| (bc.clone(), *units, self.available(pid)))
            .filter(|(_, units, avail)| units > avail)
            .collect();
        let Some((bc, units, avail)) = short.first() else { return Ok(()) };
        let errors = short
            .iter()
            .map(|(b, u, a)| json!({"field": "line_items", "message": format!("barcode {b}: requested {u}, available {a}"), "suggestion": null}))
            .collect();
        Err(EpError::invalid(
            "INSUFFICIENT_INVENTORY",
            format!("Insufficient inventory for barcode {bc}: requested {units}, available {}", avail.max(&0)),
            errors,
        ))
    }

    /// Reserves `units` across warehouses in order; the caller checked availability.
    fn reserve(&mut self, product_id: &str, mut units: i64) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for w in &self.warehouses {
            let s = self.stock.entry((product_id.to_owned(), w.id.clone())).or_default();
            let take = units.min(s.on_hand - s.reserved).max(0);
            if take > 0 {
                s.reserved += take;
                units -= take;
                out.push((w.id.clone(), take));
            }
        }
        out
    }

    /// `PATCH orders/{id}`: changes `description`, `service` or `destination` while pending.
    pub(crate) fn patch_order(&mut self, mode: Mode, id: &str, body: &Value) -> Result<Value, EpError> {
        let o = body.get("order").unwrap_or(body);
        let service = o.get("service").and_then(Value::as_str);
        let status = self.order_mut(Some(mode), id)?.status.clone();
        if status != "pending" {
            let msg = format!("Order {id} is {status} and can no longer be changed");
            return Err(EpError::invalid("ORDER.NOT_EDITABLE", msg, vec![]));
        }
        if let Some(svc) = service {
            self.check_service(svc)?;
        }
        let order = self.order_mut(Some(mode), id)?;
        if let Some(d) = o.get("description").and_then(Value::as_str) {
            order.description = Some(d.to_owned());
        }
        if let Some(svc) = service {
            order.service = svc.to_owned();
        }
        if let Some(dest) = o.get("destination").filter(|d| d.is_object()) {
            order.destination = dest.clone();
        }
        order.updated_at = Utc::now();
        Ok(order.json())
    }

    /// `DELETE orders/{id}`: cancels an order nothing of which has shipped; stock returns.
    pub(crate) fn cancel_order(&mut self, mode: Option<Mode>, id: &str) -> Result<(Value, Option<String>), EpError> {
        let order = self.order_mut(mode, id)?;
        if order.status == "cancelled" {
            return Ok((order.json(), None));
        }
        if !order.picks.is_empty() {
            return Err(EpError::invalid(
                "ORDER.NOT_CANCELLABLE",
                format!("Order {id} has already shipped and cannot be cancelled"),
                vec![],
            ));
        }
        let previous = std::mem::replace(&mut order.status, "cancelled".into());
        order.updated_at = Utc::now();
        let releases: Vec<(String, String, i64)> = order
            .lines
            .iter_mut()
            .flat_map(|l| l.allocations.drain(..).map(|(w, u)| (l.product_id.clone(), w, u)).collect::<Vec<_>>())
            .collect();
        let out = order.json();
        for (pid, wh, units) in releases {
            self.stock.entry((pid, wh)).or_default().reserved -= units;
        }
        Ok((out, Some(previous)))
    }
}
