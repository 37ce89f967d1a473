//! Three replicas (three processes, one Redis) share each upstream account's rate limit, as
//! counted by the simulators. Windows are scaled down (TradeGecko 20 per 2 s instead of 300 per
//! 300 s) so the run takes seconds; the pacing arithmetic is the same. Shopify's limit is a
//! bucket of points per shop: the three replicas share what it has left.

use std::process::Child;
use std::time::{Duration, Instant};

use cartgate::domain::{CartId, MerchantId, OrderStatus};
use cartgate::ledger::Ledger;
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::settings::RateLimit;
use cartgate::sim::easypost::{EpRateLimit, Mode};
use cartgate::sim::seed;
use cartgate::sim::shopify::BucketConfig;
use cartgate::sim::tradegecko::{NewLine, NewOrder, RateLimitConfig};
use cartgate::store::Store;
use cartgate::testkit::shopify::{SHOPIFY_CART, ShopifyOptions};
use cartgate::testkit::world::{Wired, WorldOptions};

use crate::process::{serve, terminate, wait_exit, wait_ready};
use crate::support::{CART, Options};

const ORDERS: usize = 40;

/// Three `cartgate serve` processes of one wiring (each on its own port, the first the public
/// one), ready and connected. Keep the files as long as the replicas run.
async fn three_replicas(mut opts: WorldOptions) -> (Wired, Vec<tempfile::NamedTempFile>, Vec<Child>) {
    let ports: Vec<u16> = (0..3).map(|_| cartgate::testkit::free_port().unwrap()).collect();
    opts.cartgate.server.bind.set_port(ports[0]);
    opts.cartgate.server.public_url = Some(format!("http://127.0.0.1:{}", ports[0]).parse().unwrap());
    let wired = Wired::start(opts).await.unwrap();
    let files: Vec<tempfile::NamedTempFile> = ports
        .iter()
        .map(|p| {
            let f = tempfile::NamedTempFile::new().unwrap();
            let mut replica = wired.wiring.clone();
            replica.server.bind.set_port(*p);
            replica.write(f.path()).unwrap();
            f
        })
        .collect();
    let client = reqwest::Client::new();
    let mut replicas = Vec::new();
    for (file, port) in files.iter().zip(&ports) {
        replicas.push(serve(file.path()));
        wait_ready(&client, &format!("http://127.0.0.1:{port}")).await;
    }
    wired.connect().await.unwrap();
    (wired, files, replicas)
}

/// How many of `ids` (orders of `cart`) are at the warehouse, polled until all are or two
/// minutes pass.
async fn wait_at_wms(wired: &Wired, cart: &str, ids: &[u64]) -> usize {
    let settings = wired.settings().unwrap();
    let store = Store::connect(&settings.store).unwrap();
    let ledger = Ledger::new(std::sync::Arc::new(RedisKv::new(store.redis().unwrap(), &settings.store.prefix)));
    let (merchant, cart) = (MerchantId::parse("acme").unwrap(), CartId::parse(cart).unwrap());
    let mut done = 0;
    for _ in 0..1200 {
        done = 0;
        for id in ids {
            let order = ledger.orders.get(&merchant, &cart, *id).await.unwrap();
            done += usize::from(order.is_some_and(|o| o.status() == OrderStatus::AtWms));
        }
        if done == ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done
}

fn stop(replicas: &mut [Child]) {
    for r in replicas.iter() {
        terminate(r);
    }
    for r in replicas.iter_mut() {
        assert_eq!(wait_exit(r, Duration::from_secs(30)), Some(0));
    }
}

#[tokio::test]
async fn three_replicas_keep_each_account_within_its_limit_as_counted_by_the_simulators() {
    let mut opts = Options::default().world();
    // cartgate's limits, scaled down: EasyPost 5/s, TradeGecko 20 per 2 s.
    opts.tenant.wms_rate_limit = RateLimit { requests: 5, per_secs: 1 };
    opts.tenant.cart_rate_limit = RateLimit { requests: 20, per_secs: 2 };
    let (wired, _files, mut replicas) = three_replicas(opts).await;
    let (tg, ep) = (&wired.sims.tg, &wired.sims.ep);
    // The simulators allow one more than cartgate is configured for: GCRA spaces calls evenly,
    // so any window holds at most the configured count plus one (clock granularity).
    tg.set_rate_limit(RateLimitConfig { limit: 21, window_secs: 2 });
    ep.set_rate_limit(EpRateLimit { rps_limit: Some(6), retry_after_secs: None });

    let line = |n: usize| NewLine { sku: Some(seed::sku(1 + n % 5)), quantity: 1, ..Default::default() };
    let ids: Vec<u64> = (0..ORDERS)
        .map(|n| tg.create_order(NewOrder { lines: vec![line(n)], ..Default::default() }).unwrap())
        .collect();
    let done = wait_at_wms(&wired, CART, &ids).await;
    stop(&mut replicas);
    assert_eq!(done, ids.len(), "orders delivered");
    assert!(ep.duplicate_descriptions().is_empty());

    let tg_calls = tg.record().call_times(&tg.token()).len();
    let tg_peak = tg.record().max_calls_in_window(&tg.token(), 2_000);
    let ep_key = ep.key(Mode::Production).unwrap();
    let ep_peak = ep.record().max_calls_in_window(&ep_key, 1_000);
    let throttled =
        |entries: Vec<cartgate::sim::record::RecordedRequest>| entries.iter().filter(|e| e.status == 429).count();
    assert!(tg_calls >= 3 * ORDERS, "each import reads the order, address and variants: {tg_calls}");
    assert!(tg_peak <= 21, "TradeGecko saw {tg_peak} calls in one 2 s window");
    assert!(ep_peak <= 6, "EasyPost saw {ep_peak} calls in one 1 s window");
    assert_eq!(throttled(tg.record().entries()), 0, "TradeGecko answered 429");
    assert_eq!(throttled(ep.record().entries()), 0, "EasyPost answered 429");
}

#[tokio::test]
async fn three_replicas_share_a_small_shopify_bucket_throttled_at_most_once_per_refill() {
    // A bucket of 1,000 points refilled at 50 a second (half Shopify's Standard plan) takes 20 s
    // to refill; each order's import asks for ~300 of them at a time (most of it refunded once
    // run), so replicas that did not pace together would be throttled again and again.
    let bucket = BucketConfig { maximum_available: 1000.0, restore_rate: 50.0, ..BucketConfig::default() };
    let refill = Duration::from_secs_f64(bucket.maximum_available / bucket.restore_rate);
    let shopify = ShopifyOptions { bucket, ..ShopifyOptions::default() };
    let opts = Options { shopify: Some(shopify), ..Options::default() }.world();
    let started = Instant::now();
    let (wired, _files, mut replicas) = three_replicas(opts).await;
    let shop = wired.shop.as_ref().unwrap();
    let ids: Vec<u64> = (0..20).map(|n| shop.order(&[(&seed::sku(1 + n % 5), 1)]).unwrap()).collect();
    let done = wait_at_wms(&wired, SHOPIFY_CART, &ids).await;
    let took = started.elapsed();
    stop(&mut replicas);
    assert_eq!(done, ids.len(), "every Shopify order arrived");
    assert!(wired.sims.ep.duplicate_descriptions().is_empty());
    let throttled = shop.sim.throttled();
    eprintln!("{} Shopify orders through a 1,000-point bucket in {took:?}: {throttled} THROTTLED", ids.len());
    let refills = took.as_secs_f64() / refill.as_secs_f64();
    assert!(
        throttled as f64 <= refills.ceil(),
        "{throttled} THROTTLED answers in {took:?} ({refills:.1} refills of the bucket)"
    );
}
