//! Three replicas (three processes, one Redis) share each upstream account's rate limit, as
//! counted by the simulators. Windows are scaled down (TradeGecko 20 per 2 s instead of 300 per
//! 300 s) so the run takes seconds; the pacing arithmetic is the same.

use std::time::Duration;

use cartgate::domain::{CartId, OrderStatus};
use cartgate::ledger::Ledger;
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::settings::Settings;
use cartgate::sim::easypost::{EpRateLimit, Mode};
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder, RateLimitConfig};
use cartgate::store::Store;

use crate::process::{serve, terminate, wait_exit, wait_ready};
use crate::support::{CART, Options, config, register_easypost_webhook, start_sims, wait_for_cart_webhooks};

const ORDERS: usize = 40;

#[tokio::test]
async fn three_replicas_keep_each_account_within_its_limit_as_counted_by_the_simulators() {
    let opts = Options::default();
    let (tg, ep) = start_sims(&opts).await;
    // The simulators allow one more than cartgate is configured for: GCRA spaces calls evenly,
    // so any window holds at most the configured count plus one (clock granularity).
    tg.set_rate_limit(RateLimitConfig { limit: 21, window_secs: 2 });
    ep.set_rate_limit(EpRateLimit { rps_limit: Some(6), retry_after_secs: None });
    let ports: Vec<u16> = (0..3).map(|_| cartgate::testkit::free_port().unwrap()).collect();
    let public = format!("http://127.0.0.1:{}", ports[0]);
    let base = config(&opts, &tg, &ep, ports[0], &public)
        .replace(
            "rate_limit = { requests = 500, per_secs = 1 }\ntimeout_secs",
            "rate_limit = { requests = 5, per_secs = 1 }\ntimeout_secs",
        )
        .replace("rate_limit = { requests = 500, per_secs = 1 }", "rate_limit = { requests = 20, per_secs = 2 }");
    assert!(base.contains("requests = 5, per_secs = 1") && base.contains("requests = 20, per_secs = 2"));
    let files: Vec<tempfile::NamedTempFile> = ports
        .iter()
        .map(|p| {
            let f = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(
                f.path(),
                base.replace(&format!("bind = \"127.0.0.1:{}\"", ports[0]), &format!("bind = \"127.0.0.1:{p}\"")),
            )
            .unwrap();
            f
        })
        .collect();
    let client = reqwest::Client::new();
    let mut replicas = Vec::new();
    for (file, port) in files.iter().zip(&ports) {
        replicas.push(serve(file.path()));
        wait_ready(&client, &format!("http://127.0.0.1:{port}")).await;
    }
    register_easypost_webhook(&ep, &public).await;
    wait_for_cart_webhooks(&tg).await;

    let line = |n: usize| NewLine { sku: Some(seed::sku(1 + n % 5)), quantity: 1, ..Default::default() };
    let ids: Vec<u64> = (0..ORDERS)
        .map(|n| tg.create_order(NewOrder { lines: vec![line(n)], ..Default::default() }).unwrap())
        .collect();

    let settings = Settings::from_toml(&base).unwrap();
    let store = Store::connect(&settings.store).unwrap();
    let ledger = Ledger::new(std::sync::Arc::new(RedisKv::new(store.redis().unwrap(), &settings.store.prefix)));
    let cart = CartId::parse(CART).unwrap();
    let mut done = 0;
    for _ in 0..1200 {
        done = 0;
        for id in &ids {
            done += usize::from(
                ledger.orders.get(&cart, *id).await.unwrap().is_some_and(|o| o.status() == OrderStatus::AtWms),
            );
        }
        if done == ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for r in &replicas {
        terminate(r);
    }
    for r in &mut replicas {
        assert_eq!(wait_exit(r, Duration::from_secs(30)), Some(0));
    }
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
