//! End-to-end flows: both simulators and a real cartgate, over HTTP, with a real store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alert_delivery;
mod alerts;
mod cluster;
mod demo;
mod filters;
mod inventory;
mod oauth;
mod orders;
mod process;
mod ratelimit;
mod reserve;
mod ship_methods;
mod shipments;
mod shopify;
mod shutdown;
mod support;
mod tenants;
