//! What the workflows know about the warehouse: its products, and the parcels of an order it
//! shipped. The WMS client (`wms/`) converts EasyPost's shapes into these at its edge.

use chrono::{DateTime, Utc};

use super::Barcode;

/// A product the warehouse stocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WmsProduct {
    pub id: String,
    pub barcode: Barcode,
}

/// A warehouse order as a shipment check reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WmsOrder {
    pub id: String,
    /// Parcels that have tracking (a pick not yet handed to a carrier is not one yet).
    pub parcels: Vec<Parcel>,
}

/// One parcel the warehouse shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    /// The warehouse's id for the parcel (its pick, or its tracker when it reports no picks).
    pub pick_id: String,
    pub tracking: Tracking,
    /// `(barcode, units)` in the parcel; `None` when the warehouse reported a tracker but no
    /// picks, which is read as one parcel holding the whole order.
    pub items: Option<Vec<(Barcode, u32)>>,
    /// When it was picked, if the warehouse says.
    pub shipped_at: Option<DateTime<Utc>>,
}

/// A carrier's tracking of one parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    /// Never blank.
    pub code: String,
    pub carrier: Option<String>,
    pub public_url: Option<String>,
    /// The carrier's status word (`unknown` when none is given).
    pub status: String,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The service level a warehouse order goes out with, and the options that come with it (a
/// cart's ship method mapped through `[merchants.carts.ship_methods]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseService {
    /// EasyPost's `service` (account-specific; `standard` is the one every account has).
    pub service: String,
    /// EasyPost's `shipment_options.delivery_confirmation` (e.g. `signature`), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_confirmation: Option<String>,
}

impl WarehouseService {
    /// What every order went out with before ship methods could be mapped.
    pub fn standard() -> Self {
        Self { service: "standard".into(), delivery_confirmation: None }
    }
}
