//! cartgate: shopping-cart orders to a fulfillment warehouse (TradeGecko → EasyPost
//! Fulfillment), tracking and inventory back — in real time, exactly once, as stateless replicas
//! with all pending work in Redis. `DESIGN.md`-level docs are in README.md; this page is the map.
//!
//! # Modules
//!
//! The edges (the outside world, in its own words):
//! - [`http`] — the actix-web routes: webhooks, health, metrics, `/admin/*`; [`http::AppState`].
//!   Who may use which admin route: [`http::admin::Principal`] (operator or merchant token) and
//!   the one access rule, [`http::access`].
//! - [`intake`] — webhook bodies of both providers parsed into what cartgate acts on.
//! - [`signature`] — the two webhook signature schemes, constant-time, with key rotation.
//! - [`cart`] — the [`cart::Cart`] trait in domain terms; `cart/tradegecko/` is the adapter
//!   (its wire shapes private); a sibling `cart/shopify/` is the next one.
//! - [`wms`] — the EasyPost Fulfillment client in domain terms (wire shapes private).
//! - [`upstream`] — the one client core every outbound call goes through: rate limits held
//!   across replicas, pauses on 429, timeouts, error classes.
//!
//! The core (what cartgate knows and does):
//! - [`domain`] — valid-by-construction values (`CartId`, `Sku`, `Barcode`, `CartOrder`,
//!   `Order`…), the order state machine, the barcode rule, hold release times.
//! - [`jobs`] — typed job payloads and natural-key ids: the one place a job id, dedupe key or
//!   idempotency key is spelled.
//! - [`workflows`] — `workflows::jobs::*`, one handler per job kind, apart from the helpers they
//!   share (translate, holds, aliases, connection…); [`workflows::Deps`] is what they reach.
//! - [`ops`] — operator actions (cancel-sending, resend, release, aliases, test connection,
//!   sync, redrive, merchant tokens), called by both the admin API and the CLI; `ops::audit`
//!   records every admin write in the merchant's audit log.
//! - [`workers`] — the claim loop, leases, recurring jobs, and the retry decision.
//! - [`alerts`] — what needs a person ([`alerts::model`], the [`alerts::AlertSink`] boundary) and
//!   its delivery: the outbox sink, the `deliver_alert` job, e-mail (`lettre`) and Standard
//!   Webhooks (signed, one `webhook-id` per message), instant or as a digest per period.
//!
//! Where state lives:
//! - [`store`] — the queue (`due`/`inflight`/`hold`/`dead` per partition) behind the
//!   [`store::JobStore`] trait: `redis/` (Lua scripts, key table) and `memory/`.
//! - [`ledger`] — orders with their timelines and indexes, aliases, cursors, caches, merchant
//!   tokens (by digest), audit logs: one named store each, every key spelled in
//!   `ledger/keys.rs` (key table in the module header).
//!
//! Running it:
//! - [`settings`] — the configuration contract (layers, secrets, validation).
//! - [`tenants`] — the live directory of merchants and carts (file + store) every lookup reads,
//!   polled from the store on every replica; the key ring sealing stored secrets.
//! - [`oauth`] — `auth = "oauth"` carts: Connect, the callback, and the per-cart token source
//!   (refresh single flight across replicas, the disconnected state that parks their jobs).
//! - [`startup`] — [`startup::Application::builder`]: one way to assemble the server + workers.
//! - [`lifecycle`] — readiness and graceful shutdown; [`telemetry`] logs; [`metrics`] Prometheus.
//! - [`cli`] / [`cli_ops`] — the command line (`serve`, `check-config`, `demo`, `sim`, …).
//! - [`sim`] — faithful local TradeGecko and EasyPost simulators (demo, tests, reliability).
//! - [`testkit`] — the one wired world (simulators + typed settings + a running cartgate) and a
//!   private `redis-server`, for tests, benchmarks, the reliability suite and the demo.
//! - [`demo`] — `cartgate demo`: the whole story against the simulators, with a verdict.
//!
//! # A webhook, then an order, through the modules
//!
//! 1. TradeGecko posts `order.finalized` to `POST /webhooks/tradegecko/{cart}`
//!    ([`http::webhooks`]): the raw body is verified ([`signature`]), parsed ([`intake`]),
//!    deduplicated on its delivery id and durably enqueued as an `import_order` job
//!    ([`jobs`], [`store`], group-committed per partition) before the 200 goes out.
//! 2. A replica's claim loop ([`workers`]) leases the job and runs
//!    `workflows::jobs::import_order`, which reads the order through the [`cart::Cart`] adapter
//!    (rate-limited by [`upstream`]), records it in the [`ledger`] as `new` (state machine in
//!    [`domain`]) and queues `send_order`.
//! 3. `send_order` translates every SKU to a warehouse barcode (`workflows::translate`, the rule
//!    in `domain::barcodes`, the merchant's aliases from the [`ledger`]), writes a send marker,
//!    creates the warehouse order through [`wms`], and records `at_wms` — or `on_hold` until the
//!    next 01:00 Pacific release, or `error` naming what a person must fix.
//! 4. EasyPost's tracker webhook ([`http::webhooks`] → `tracker_event`) or `poll_shipments`
//!    records the parcels (`shipped`); `push_tracking` creates one cart fulfillment per parcel
//!    (`confirmed`). `sync_inventory` → `push_inventory` bring the warehouse's stock back.
//! 5. An operator or merchant acts through `/admin/*` or the CLI, both via [`ops`].

pub mod alerts;
pub mod cart;
pub mod cli;
pub mod cli_ops;
pub mod console;
pub mod demo;
pub mod domain;
pub mod http;
pub mod intake;
pub mod jobs;
pub mod ledger;
pub mod lifecycle;
pub mod metrics;
pub mod oauth;
pub mod ops;
pub mod settings;
pub mod signature;
pub mod sim;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tenants;
pub mod testkit;
pub mod upstream;
pub mod wms;
pub mod workers;
pub mod workflows;
