//! The cart side: TradeGecko's API as cartgate uses it.

pub mod wire;

mod client;

pub use client::TradeGecko;
