//! Domain types: values that are valid by construction, and the rules between them.

pub mod hold;
pub mod ids;
pub mod order;
pub mod shipment;
pub mod status;

pub use ids::{CartId, MerchantId};
pub use order::{Destination, NewOrder, Order, OrderLine, Shipment, TimelineEntry};
pub use status::{IllegalTransition, OrderStatus};
