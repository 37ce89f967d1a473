//! cartgate: TradeGecko orders to EasyPost Fulfillment, tracking and inventory back.
//!
//! See DESIGN.md-derived docs in README.md for the workflows; each module names its part.

pub mod cart;
pub mod cli;
pub mod cli_ops;
pub mod demo;
pub mod domain;
pub mod http;
pub mod intake;
pub mod jobs;
pub mod ledger;
pub mod lifecycle;
pub mod metrics;
pub mod ops;
pub mod settings;
pub mod signature;
pub mod sim;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod testkit;
pub mod upstream;
pub mod wms;
pub mod workers;
pub mod workflows;
