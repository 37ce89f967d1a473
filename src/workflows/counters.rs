//! Counters of the pickup and upload workflows (described once, for `GET /metrics`).

use metrics::describe_counter;

pub const SHIPMENTS_RECORDED: &str = "cartgate_shipments_recorded_total";
pub const UNKNOWN_WMS_ORDERS: &str = "cartgate_unknown_wms_orders_total";
pub const FULFILLMENTS: &str = "cartgate_fulfillments_total";
pub const TRACKER_EVENTS: &str = "cartgate_tracker_events_total";
pub const INVENTORY_LINES: &str = "cartgate_inventory_lines_total";
pub const HOLDS_RELEASED_EARLY: &str = "cartgate_holds_released_early_total";
pub const UNMAPPED_SHIP_METHODS: &str = "cartgate_unmapped_ship_methods_total";
pub const ORDERS_SKIPPED: &str = "cartgate_orders_skipped_total";

pub fn describe() {
    describe_counter!(SHIPMENTS_RECORDED, "Parcels (WMS picks with tracking) recorded on orders");
    describe_counter!(UNKNOWN_WMS_ORDERS, "Shipment checks about WMS orders cartgate did not send");
    describe_counter!(FULFILLMENTS, "Cart fulfillments by result: created, or adopted (already in the cart)");
    describe_counter!(TRACKER_EVENTS, "Tracker updates by result: changed, same, stale, unknown_code");
    describe_counter!(
        INVENTORY_LINES,
        "Inventory lines by result: adjusted, skipped (barcode unknown to the cart), or stale (moved in the cart twice \
         during one sync; left for the next)"
    );
    describe_counter!(HOLDS_RELEASED_EARLY, "Held orders released because an inventory sync showed the stock");
    describe_counter!(UNMAPPED_SHIP_METHODS, "Sends stopped in error for an unmapped ship method, by cart");
    describe_counter!(
        ORDERS_SKIPPED,
        "Orders that became skipped, by the filter that left them out (stock_location_ids, tags_any, tags_none, \
         created_after, skip_skus)"
    );
}
