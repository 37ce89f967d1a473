//! Domain types: values that are valid by construction, and the rules between them.

pub mod hold;
pub mod ids;
pub mod status;

pub use ids::{CartId, MerchantId};
pub use status::{IllegalTransition, OrderStatus};
