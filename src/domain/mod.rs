//! Domain types: values that are valid by construction, and the rules between them.

pub mod barcodes;
pub mod cart;
pub mod hold;
pub mod ids;
pub mod item;
pub mod order;
pub mod patterns;
pub mod shipment;
pub mod status;
pub mod stock;
pub mod warehouse;

pub use barcodes::{BarcodeRules, ItemCodes, StockLevels, UpcRule};
pub use cart::{
    AdjustmentReason, CartFulfillment, CartItem, CartLine, CartOrder, CartOrderState, CartStatusWords, NewFulfillment,
    StockAdjustment, StockLine, UpdatedOrder,
};
pub use ids::{CartId, InvalidId, MerchantId};
pub use item::{Barcode, ItemCodeError, Sku};
pub use order::{Destination, NewOrder, Order, OrderLine, Shipment, TimelineEntry};
pub use patterns::{PatternError, SkuPatterns};
pub use status::{IllegalTransition, OrderStatus};
pub use stock::{StockView, WarehouseStock};
pub use warehouse::{Parcel, Tracking, WarehouseService, WmsOrder, WmsProduct};
