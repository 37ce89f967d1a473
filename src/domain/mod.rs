//! Domain types: values that are valid by construction, and the rules between them.

pub mod ids;

pub use ids::{CartId, MerchantId};
