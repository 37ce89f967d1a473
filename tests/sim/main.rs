//! The upstream simulators over real HTTP: TradeGecko, Shopify and EasyPost Fulfillment behave as
//! UPSTREAMS.md documents, sign their webhooks verifiably, and inject faults on demand.

// Helpers outside #[test] functions may unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod control;
mod easypost;
mod faults;
mod oauth;
mod services;
mod shopify;
mod support;
mod tradegecko;
mod webhooks;
