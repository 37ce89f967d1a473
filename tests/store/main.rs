//! The store and what runs on it, without HTTP: the queue conformance suite (every test once
//! against the memory store, once against a real Redis and once against a Redis Cluster), the
//! cluster's failover and slot migration, the ledger on both stores, and
//! the worker pool.

// Test helpers outside #[test] fns panic on purpose when the store misbehaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod conformance;
mod ledger;
mod reshard;
mod suite;
mod support;
mod tls;
mod workers;
