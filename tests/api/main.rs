//! Black-box tests: the real application on port 0, spoken to over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod admin;
mod alerts;
mod cli;
mod console_access;
mod foundation;
mod oauth;
mod queues;
mod ship_methods;
mod shopify;
mod shopify_oauth;
mod shopify_redact;
mod support;
mod tenants;
mod tenants_store;
mod tokens;
mod webhooks;
