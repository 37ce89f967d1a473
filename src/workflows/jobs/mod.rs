//! The job handlers, one file per job kind (DESIGN.md, "Jobs"); [`super::registry`] maps
//! each [`JobKind`](crate::store::JobKind) to its `run`.

pub mod cancel_order;
pub mod check_shipment;
pub mod deliver_orders;
pub mod ensure_webhooks;
pub mod erase_personal_data;
pub mod import_order;
pub mod poll_orders;
pub mod poll_shipments;
pub mod prune_ledger;
pub mod push_inventory;
pub mod push_tracking;
pub mod send_order;
pub mod sync_inventory;
pub mod tracker_event;
