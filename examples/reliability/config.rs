//! The replicas' configuration — the test kit's wired world with this run's limits, written to
//! one file every replica reads — and reading a process's memory.

use std::time::Duration;

use anyhow::Result;
use cartgate::settings::{Interval, RateLimit};
use cartgate::sim::delivery::DeliveryPolicy;
use cartgate::sim::easypost::EpRateLimit;
use cartgate::sim::shopify::BucketConfig;
use cartgate::sim::tradegecko::RateLimitConfig;
use cartgate::testkit::shopify::ShopifyOptions;
use cartgate::testkit::sims::SimOptions;
use cartgate::testkit::wiring::{WiredSecret, WorkerWiring};
use cartgate::testkit::world::WorldOptions;

use crate::cluster::{ADMIN, EP_SECRET, ITEMS, Spec, TG_WINDOW_SECS};

/// VmRSS of a process in kB.
pub fn vm_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Webhook redelivery that outlasts a 10 s Redis outage or a replica restart (about 40 s in all).
fn delivery() -> DeliveryPolicy {
    DeliveryPolicy { max_attempts: 12, initial_backoff_ms: 200, max_backoff_ms: 5_000, timeout_ms: 10_000 }
}

/// The world of one cluster: simulators at `spec`'s limits, cartgate on `redis` (on a Redis
/// Cluster with these seeds when `cluster_seeds` is given) under `prefix`, reached through the
/// balancer at `lb` (each replica gets its own `CARTGATE__SERVER__BIND`).
pub fn world_options(
    spec: &Spec,
    redis: &str,
    cluster_seeds: Option<Vec<String>>,
    prefix: &str,
    lb: &str,
) -> Result<WorldOptions> {
    let sims = SimOptions {
        items: ITEMS,
        stock: 10_000_000,
        cart_rate_limit: RateLimitConfig { limit: spec.tg_rate * TG_WINDOW_SECS as u32, window_secs: TG_WINDOW_SECS },
        wms_rate_limit: EpRateLimit { rps_limit: Some(spec.ep_rate), retry_after_secs: Some(1) },
        delivery: delivery(),
        ..SimOptions::default()
    };
    // The merchant's Shopify store beside the TradeGecko cart (scenario 1 feeds half its orders
    // there); a Plus-sized bucket and a call-rate cap above the default 40/s (about 8 calls per
    // order: 5 orders a second), so Shopify's limit is not what the scenarios measure.
    let bucket = BucketConfig { maximum_available: 10_000.0, restore_rate: 1_000.0, ..BucketConfig::default() };
    let shopify = ShopifyOptions {
        items: ITEMS,
        stock: 10_000_000,
        bucket,
        delivery: delivery(),
        cart_rate_limit: Some(RateLimit { requests: 400, per_secs: 1 }),
        ..Default::default()
    };
    let mut opts = WorldOptions { sims, shopify: Some(shopify), ..WorldOptions::default() };
    let every_minute = Interval::Every(Duration::from_secs(60));
    let tenant = &mut opts.tenant;
    tenant.webhook_secret = WiredSecret::new(EP_SECRET);
    tenant.wms_rate_limit = RateLimit { requests: spec.cartgate_ep_rate(), per_secs: 1 };
    tenant.cart_rate_limit = RateLimit { requests: spec.cartgate_tg_requests(), per_secs: TG_WINDOW_SECS };
    (tenant.wms_timeout_secs, tenant.cart_timeout_secs) = (Some(5), Some(5));
    tenant.merchant_schedule.shipping_confirmations = every_minute;
    tenant.cart_schedule.order_download = every_minute;
    let cartgate = &mut opts.cartgate;
    cartgate.server.public_url = Some(lb.parse()?);
    cartgate.server.admin_token = Some(WiredSecret::new(ADMIN));
    (cartgate.store.url, cartgate.store.prefix) = (redis.to_owned(), prefix.to_owned());
    if let Some(seeds) = cluster_seeds {
        (cartgate.store.cluster, cartgate.store.cluster_seeds) = (Some(true), Some(seeds));
        // Two busy cores can delay a replica's acknowledgement well past the production 200 ms.
        cartgate.store.replica_ack_timeout_ms = Some(2000);
    }
    cartgate.workers = WorkerWiring {
        concurrency: Some(spec.concurrency),
        lease_secs: Some(spec.lease_secs),
        drain_secs: Some(2),
        ..WorkerWiring::default()
    };
    cartgate.retry.schedule_secs = Some(vec![1, 2, 4, 8]);
    Ok(opts)
}
