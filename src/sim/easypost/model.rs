//! EasyPost records and how the API renders them.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sim::util::ep_time;

/// `test` objects belong to `EZTK…` keys, `production` ones to `EZAK…` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Test,
    Production,
}

/// One API key the simulator accepts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub key: String,
    pub mode: Mode,
    /// An inactive key answers 403 `APIKEY.INACTIVE`.
    #[serde(default = "active")]
    pub active: bool,
}

fn active() -> bool {
    true
}

/// A new EasyPost-style id: prefix and 32 hex digits.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

pub(crate) struct Product {
    pub id: String,
    pub barcode: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
}

impl Product {
    pub(crate) fn json(&self) -> Value {
        let t = ep_time(&self.created_at);
        json!({"id": self.id, "object": "Product", "barcode": self.barcode, "title": self.title, "created_at": t, "updated_at": t})
    }
}

pub(crate) struct Warehouse {
    pub id: String,
    pub name: String,
}

impl Warehouse {
    pub(crate) fn json(&self) -> Value {
        json!({"id": self.id, "object": "Warehouse", "name": self.name})
    }
}

/// Units on hand and reserved by accepted, unshipped orders.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stock {
    pub on_hand: i64,
    pub reserved: i64,
}

#[derive(Clone)]
pub(crate) struct TrackingDetail {
    pub status: String,
    pub message: String,
    pub datetime: DateTime<Utc>,
}

#[derive(Clone)]
pub(crate) struct Tracker {
    pub id: String,
    pub mode: Mode,
    pub tracking_code: String,
    pub carrier: String,
    pub status: String,
    pub public_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub details: Vec<TrackingDetail>,
}

impl Tracker {
    pub(crate) fn new(mode: Mode, tracking_code: String, carrier: String) -> Self {
        let id = new_id("trk");
        let now = Utc::now();
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("v1:{id}"));
        let first =
            TrackingDetail { status: "pre_transit".into(), message: "Shipping label created".into(), datetime: now };
        Self {
            public_url: format!("https://track.easypost.com/{token}"),
            id,
            mode,
            tracking_code,
            carrier,
            status: "pre_transit".into(),
            created_at: now,
            updated_at: now,
            details: vec![first],
        }
    }

    pub(crate) fn json(&self) -> Value {
        let details: Vec<Value> = self
            .details
            .iter()
            .map(|d| {
                json!({"object": "TrackingDetail", "message": d.message, "description": d.message, "status": d.status,
                       "status_detail": "status_update", "datetime": ep_time(&d.datetime), "source": self.carrier,
                       "tracking_location": {"object": "TrackingLocation", "city": null, "state": null, "country": "US", "zip": null}})
            })
            .collect();
        json!({
            "id": self.id, "object": "Tracker", "mode": self.mode, "tracking_code": self.tracking_code,
            "status": self.status, "status_detail": "status_update", "created_at": ep_time(&self.created_at),
            "updated_at": ep_time(&self.updated_at), "signed_by": null, "weight": null, "est_delivery_date": null,
            "shipment_id": null, "carrier": self.carrier, "tracking_details": details, "carrier_detail": null,
            "finalized": self.status == "delivered", "is_return": false, "public_url": self.public_url,
        })
    }
}

/// One parcel of a shipped order.
#[derive(Clone)]
pub(crate) struct Pick {
    pub id: String,
    /// (product id, barcode, units)
    pub lines: Vec<(String, String, i64)>,
    pub tracker: Tracker,
    pub created_at: DateTime<Utc>,
}

impl Pick {
    fn json(&self) -> Value {
        let lines: Vec<Value> =
            self.lines.iter().map(|(id, bc, u)| json!({"product": {"id": id, "barcode": bc}, "units": u})).collect();
        json!({"id": self.id, "object": "Pick", "line_items": lines, "tracker": self.tracker.json(), "created_at": ep_time(&self.created_at)})
    }
}

#[derive(Clone)]
pub(crate) struct OrderLine {
    pub product_id: String,
    pub barcode: String,
    pub units: i64,
    pub shipped: i64,
    /// Reserved units per warehouse id.
    pub allocations: Vec<(String, i64)>,
}

#[derive(Clone)]
pub(crate) struct Order {
    pub id: String,
    pub mode: Mode,
    /// `pending` (accepted), `partially_shipped`, `shipped`, `cancelled`.
    pub status: String,
    pub service: String,
    /// As posted (`null` when none): `{"delivery_confirmation":…}` and the like.
    pub shipment_options: Value,
    pub description: Option<String>,
    pub destination: Value,
    pub lines: Vec<OrderLine>,
    pub picks: Vec<Pick>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Order {
    pub(crate) fn json(&self) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| json!({"product": {"id": l.product_id, "barcode": l.barcode}, "units": l.units}))
            .collect();
        let picks: Vec<Value> = self.picks.iter().map(Pick::json).collect();
        let trackers: Vec<Value> = self.picks.iter().map(|p| p.tracker.json()).collect();
        json!({
            "id": self.id, "object": "Order", "mode": self.mode, "status": self.status, "service": self.service,
            "shipment_options": self.shipment_options,
            "description": self.description, "destination": self.destination, "line_items": lines,
            "picks": picks, "trackers": trackers,
            "created_at": ep_time(&self.created_at), "updated_at": ep_time(&self.updated_at),
        })
    }
}
