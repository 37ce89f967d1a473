//! The test kit: what the tests, the demo, the reliability example and the benches run on.
//!
//! * [`world`] — one wired world: the simulators, a cartgate configured for them and the
//!   webhooks between them connected ([`world::World`]), or the same up to a configuration file
//!   for cartgate processes ([`world::Wired`]);
//! * [`sims`] — the simulators a world has, and how cartgate is pointed at them;
//! * [`shopify`] — a Shopify store beside them, and a Shopify cart pointed at it;
//! * [`wiring`] — cartgate's configuration, typed, validated by the configuration loader itself;
//! * [`app`] — cartgate in this process (the one place outside `main` that builds it);
//! * a private `redis-server` per test binary ([`TestRedis`]), free ports, unique key prefixes;
//! * [`dump`] — a Redis keyspace as JSON lines and back (the store fixtures in `tests/data`);
//! * a private Redis Cluster (3 primaries + 3 replicas) with failover and slot migration on
//!   demand ([`TestCluster`]);
//! * [`smtp`] and [`receiver`] — a real SMTP server and a webhook receiver, for alerts;
//! * [`tls`] — a `redis-server` behind TLS with its own certificate authority (`rediss://`).

mod alert_wiring;
pub mod app;
mod cluster;
pub mod dump;
pub mod receiver;
mod redis;
pub mod shopify;
pub mod sims;
pub mod smtp;
pub mod tls;
pub mod wiring;
pub mod world;

pub use cluster::{Migration, NodeInfo, TestCluster, parse_nodes};
pub use redis::{TestRedis, free_port, unique_prefix};
