//! cartgate: TradeGecko orders to EasyPost Fulfillment, tracking and inventory back.
//!
//! See DESIGN.md-derived docs in README.md for the workflows; each module names its part.

pub mod cli;
pub mod domain;
pub mod http;
pub mod lifecycle;
pub mod metrics;
pub mod settings;
pub mod signature;
pub mod sim;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod testkit;
