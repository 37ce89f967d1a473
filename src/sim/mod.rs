//! Upstream simulators: TradeGecko and Shopify (the carts) and EasyPost Fulfillment (the warehouse).
//!
//! TradeGecko is shut down and EasyPost Fulfillment has no sandbox, so cartgate's demo, tests
//! and anyone wanting a local sandbox talk to these instead. They follow UPSTREAMS.md's shapes
//! (where it is silent, each module says what was chosen), record every API request they
//! handle ([`record`]), inject faults on demand ([`faults`]), and send signed webhooks with
//! retries, drops and duplicates ([`delivery`]).
//!
//! Three ways to use them:
//! * in-process: [`TradegeckoSim::start`] / [`EasypostSim::start`] bind `127.0.0.1:0` on the
//!   current Tokio runtime and return a handle with `url()`, `record()`, typed control methods
//!   and `stop()`;
//! * the demo uses the same API;
//! * `cartgate sim tradegecko|easypost --port N [--seed FILE]` runs one in the foreground.
//!
//! Each also answers JSON control routes under `/_sim/…` (listed in [`tradegecko`] and
//! [`easypost`]); they skip auth, faults and the record, so a script can always reach them.

pub mod cli;
mod control;
pub mod delivery;
pub mod easypost;
pub mod faults;
pub mod record;
pub mod seed;
mod server;
pub mod shopify;
pub mod tradegecko;
mod util;

pub use easypost::{EasypostConfig, EasypostSim};
pub use shopify::{ShopifyConfig, ShopifySim};
pub use tradegecko::{TradegeckoConfig, TradegeckoSim};

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot start the simulator: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid seed data: {0}")]
    Seed(String),
}
