//! The test kit: what the tests, the demo, the reliability example and the benches run on.
//!
//! * [`world`] — one wired world: the simulators, a cartgate configured for them and the
//!   webhooks between them connected ([`world::World`]), or the same up to a configuration file
//!   for cartgate processes ([`world::Wired`]);
//! * [`sims`] — the simulators a world has, and how cartgate is pointed at them;
//! * [`wiring`] — cartgate's configuration, typed, validated by the configuration loader itself;
//! * [`app`] — cartgate in this process (the one place outside `main` that builds it);
//! * [`smtp`] and [`receiver`] — a real SMTP server and a webhook receiver, for alerts;
//! * a private `redis-server` per test binary ([`TestRedis`]), free ports, unique key prefixes.

pub mod app;
pub mod receiver;
mod redis;
pub mod sims;
pub mod smtp;
pub mod wiring;
pub mod world;

pub use redis::{TestRedis, free_port, unique_prefix};
