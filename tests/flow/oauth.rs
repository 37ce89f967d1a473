//! OAuth carts across replicas (issue 20): a short-lived token refreshed once per lifetime
//! however many replicas use it, a revoked grant parks the work until the merchant connects
//! again, and a replica killed while it refreshes leaves no burst of refreshes behind.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cartgate::alerts::{AlertKind, NoticeEvent};
use cartgate::domain::{CartId, OrderStatus};
use cartgate::settings::CartAuth;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder, OAuthPatch};
use cartgate::testkit::app::{self, RunningApp};
use cartgate::testkit::wiring::WiredSecret;
use cartgate::testkit::world::{CART, Wired, WorldOptions};

use crate::support::{ADMIN, Options, eventually};

const LIFETIME_SECS: u64 = 5;

fn new_key() -> WiredSecret {
    WiredSecret::new(secrecy::ExposeSecret::expose_secret(&cartgate::tenants::generate_key()))
}

/// The flows' world with its cart connected by OAuth, tokens living `LIFETIME_SECS`.
fn oauth_world() -> WorldOptions {
    let mut world = Options::default().world();
    world.tenant.cart_auth = CartAuth::Oauth;
    world.cartgate.tenants.keys = vec![new_key()];
    world.sims.cart_oauth.token_lifetime_secs = LIFETIME_SECS;
    world
}

fn one_line(n: u64) -> NewOrder {
    NewOrder {
        lines: vec![NewLine { sku: Some(seed::sku(1 + (n % 5) as usize)), quantity: 1, ..Default::default() }],
        ..Default::default()
    }
}

/// `n` replicas on the world's Redis (the first answers at the public URL), connected.
async fn replicas(wired: &mut Wired, n: usize) -> Vec<RunningApp> {
    let mut apps = Vec::new();
    for _ in 0..n {
        apps.push(app::spawn(wired.settings().unwrap(), cartgate::workflows::registry).await.unwrap());
        wired.wiring.server.bind.set_port(0);
    }
    wired.connect().await.unwrap();
    apps
}

/// Ships every order the warehouse holds that is not shipped yet (one parcel each).
async fn ship_what_arrived(wired: &Wired, app: &RunningApp, ids: &[u64], shipped: &mut Vec<u64>) {
    let cart = CartId::parse(CART).unwrap();
    let waiting: Vec<u64> = ids.iter().filter(|id| !shipped.contains(id)).copied().collect();
    for id in &waiting {
        let order = app
            .deps()
            .ledger
            .orders
            .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, *id)
            .await
            .unwrap();
        if let Some(wms) = order.filter(|o| o.status() == OrderStatus::AtWms).and_then(|o| o.wms_order_id) {
            wired.sims.ep.ship(&wms, &[]).unwrap();
            shipped.push(*id);
        }
    }
}

async fn statuses(app: &RunningApp, ids: &[u64]) -> BTreeMap<u64, Option<OrderStatus>> {
    let cart = CartId::parse(CART).unwrap();
    let mut out = BTreeMap::new();
    for id in ids {
        out.insert(
            *id,
            app.deps()
                .ledger
                .orders
                .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, *id)
                .await
                .unwrap()
                .map(|o| o.status()),
        );
    }
    out
}

async fn connection(app: &RunningApp) -> serde_json::Value {
    let url = format!("{}/admin/merchants/acme/carts/{CART}", app.url());
    let cart: serde_json::Value =
        reqwest::Client::new().get(url).bearer_auth(ADMIN).send().await.unwrap().json().await.unwrap();
    cart["connection"].clone()
}

/// Every order reached the warehouse once and (when `confirmed`) has one fulfillment.
async fn assert_each_once(wired: &Wired, app: &RunningApp, ids: &[u64], confirmed: bool) {
    let dupes = wired.sims.ep.duplicate_descriptions();
    assert!(dupes.is_empty(), "sent to the warehouse twice: {dupes:?}");
    let by_description = wired.sims.ep.orders_by_description();
    let cart = CartId::parse(CART).unwrap();
    let counts = wired.sims.tg.fulfillment_counts();
    for id in ids {
        let order = app
            .deps()
            .ledger
            .orders
            .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, *id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_description.get(&order.order_number), Some(&1), "order {id} at the warehouse once");
        if confirmed {
            assert_eq!(counts.get(id), Some(&1), "order {id}: one fulfillment uploaded");
        }
    }
    let dead = app.deps().jobs.dead_letters(10).await.unwrap();
    assert!(dead.is_empty(), "no job died: {dead:?}");
}

#[tokio::test]
async fn three_replicas_refresh_a_short_lived_token_once_per_lifetime_and_everything_arrives_once() {
    let mut wired = Wired::start(oauth_world()).await.unwrap();
    let apps = replicas(&mut wired, 3).await;
    let started = Instant::now();
    let (mut ids, mut shipped) = (Vec::new(), Vec::new());
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(60) {
        ids.push(wired.sims.tg.create_order(one_line(n)).unwrap());
        n += 1;
        ship_what_arrived(&wired, &apps[1], &ids, &mut shipped).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut all_done = false;
    while !all_done && Instant::now() < deadline {
        ship_what_arrived(&wired, &apps[1], &ids, &mut shipped).await;
        all_done = statuses(&apps[2], &ids).await.values().all(|s| *s == Some(OrderStatus::Confirmed));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(all_done, "not confirmed: {:?}", statuses(&apps[2], &ids).await);
    assert_each_once(&wired, &apps[0], &ids, true).await;

    let stats = wired.sims.tg.oauth_stats();
    let allowed = (elapsed / (0.9 * LIFETIME_SECS as f64)).floor() as u64 + 1;
    println!(
        "three replicas, {} orders in {elapsed:.0} s: {} refreshes (at most {allowed}), max concurrent {}, reused {}",
        ids.len(),
        stats.refreshes,
        stats.max_concurrent_token_requests,
        stats.reused_refresh_tokens
    );
    assert!(stats.refreshes <= allowed, "{} refreshes in {elapsed:.0} s (at most {allowed})", stats.refreshes);
    assert!(stats.refreshes >= 5, "tokens were refreshed: {}", stats.refreshes);
    assert_eq!(stats.max_concurrent_token_requests, 1, "never two token calls at once");
    assert_eq!(stats.reused_refresh_tokens, 0, "no refresh token presented twice");
    assert_eq!(stats.refresh_failures, 0);
    assert_eq!(connection(&apps[0]).await["status"], "connected");
    for app in apps {
        app.stop(Duration::from_secs(10)).await;
    }
}

#[tokio::test]
async fn a_revoked_grant_disconnects_the_cart_parks_its_work_and_a_new_connect_delivers_it_once() {
    let mut wired = Wired::start(oauth_world()).await.unwrap();
    let apps = replicas(&mut wired, 1).await;
    let app = &apps[0];
    let before: Vec<u64> = (0..3).map(|n| wired.sims.tg.create_order(one_line(n)).unwrap()).collect();
    let delivered = eventually(Duration::from_secs(30), || async {
        statuses(app, &before).await.values().all(|s| *s == Some(OrderStatus::AtWms))
    })
    .await;
    assert!(delivered, "{:?}", statuses(app, &before).await);

    assert_eq!(wired.sims.tg.revoke_grants(), 1);
    let during: Vec<u64> = (3..8).map(|n| wired.sims.tg.create_order(one_line(n)).unwrap()).collect();
    let disconnected =
        eventually(Duration::from_secs(20), || async { connection(app).await["status"] == "disconnected" }).await;
    let shown = connection(app).await;
    assert!(disconnected, "{shown}");
    assert!(shown["reason"].as_str().is_some_and(|r| !r.is_empty()) && shown["since"].is_string(), "{shown}");
    let told = |app: &RunningApp, event: NoticeEvent| {
        let notices = app.notices().into_iter().map(|(_, n)| n);
        notices.filter(|n| n.event == event && n.alert.kind == AlertKind::CartDisconnected).count()
    };
    assert_eq!(told(app, NoticeEvent::Opened), 1, "cart_disconnected opened once");
    let refreshes_at_disconnect = wired.sims.tg.oauth_stats().refreshes;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(statuses(app, &during).await.values().all(|s| *s != Some(OrderStatus::AtWms)), "nothing ran meanwhile");
    assert!(app.deps().jobs.dead_letters(10).await.unwrap().is_empty(), "parked, not dead");
    assert_eq!(wired.sims.tg.oauth_stats().refreshes, refreshes_at_disconnect, "a disconnected cart stops refreshing");

    let status = wired.sims.connect_oauth(&app.url(), ADMIN).await.unwrap();
    assert_eq!(status, 200);
    let all: Vec<u64> = before.iter().chain(&during).copied().collect();
    let delivered = eventually(Duration::from_secs(30), || async {
        statuses(app, &all).await.values().all(|s| *s == Some(OrderStatus::AtWms))
    })
    .await;
    assert!(delivered, "{:?}", statuses(app, &all).await);
    assert_each_once(&wired, app, &all, false).await;
    assert_eq!(connection(app).await["status"], "connected");
    assert_eq!((told(app, NoticeEvent::Opened), told(app, NoticeEvent::Resolved)), (1, 1), "resolved by Connect");
    for app in apps {
        app.stop(Duration::from_secs(10)).await;
    }
}

#[tokio::test]
async fn a_slow_token_endpoint_is_called_once_at_a_time_by_every_replica() {
    let mut wired = Wired::start(oauth_world()).await.unwrap();
    let apps = replicas(&mut wired, 3).await;
    wired.sims.tg.set_oauth(OAuthPatch { token_delay_ms: Some(2000), ..OAuthPatch::default() });
    let ids: Vec<u64> = (0..10).map(|n| wired.sims.tg.create_order(one_line(n)).unwrap()).collect();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let more: Vec<u64> = (10..15).map(|n| wired.sims.tg.create_order(one_line(n)).unwrap()).collect();
    let all: Vec<u64> = ids.iter().chain(&more).copied().collect();
    let delivered = eventually(Duration::from_secs(40), || async {
        statuses(&apps[0], &all).await.values().all(|s| *s == Some(OrderStatus::AtWms))
    })
    .await;
    assert!(delivered, "{:?}", statuses(&apps[0], &all).await);
    let stats = wired.sims.tg.oauth_stats();
    assert_eq!(stats.max_concurrent_token_requests, 1, "{stats:?}");
    assert_eq!(stats.reused_refresh_tokens, 0);
    assert_each_once(&wired, &apps[0], &all, false).await;
    for app in apps {
        app.stop(Duration::from_secs(10)).await;
    }
}

/// The pid in the cart's refresh lease (`<pid>-<random>`), if one is held now.
async fn lease_holder(conn: &mut cartgate::store::redis::RedisConn, prefix: &str) -> Option<u32> {
    let value: Option<String> =
        redis::cmd("GET").arg(format!("{prefix}:oauth_lease:{{{CART}}}")).query_async(conn).await.ok()?;
    value?.split('-').next()?.parse().ok()
}

#[tokio::test]
async fn killing_the_replica_that_holds_the_refresh_lease_recovers_without_concurrent_refreshes() {
    use crate::process::{serve, wait_ready};
    use cartgate::ledger::{ConnectionStatus, Ledger, redis_kv::RedisKv};
    use cartgate::store::Store;

    let mut world = oauth_world();
    // Token calls time out after 5 s, so the lease (timeout + 15 s) frees 20 s after the kill.
    world.tenant.cart_timeout_secs = Some(5);
    let mut wired = Wired::start(world).await.unwrap();
    let public_file = tempfile::NamedTempFile::new().unwrap();
    wired.write_config(public_file.path()).unwrap();
    let settings = wired.settings().unwrap();
    wired.wiring.server.bind.set_port(0);
    let other_file = tempfile::NamedTempFile::new().unwrap();
    wired.write_config(other_file.path()).unwrap();
    let store = Store::connect(&settings.store).unwrap();
    let mut conn = store.redis().unwrap();
    let ledger = Ledger::new(std::sync::Arc::new(RedisKv::new(conn.clone(), &settings.store.prefix)));
    let client = reqwest::Client::new();
    let public = wired.public_url();

    let mut children = vec![serve(public_file.path()), serve(other_file.path())];
    wait_ready(&client, &public).await;
    wired.connect().await.unwrap();
    // Every refresh now takes 3 s: long enough to be killed in the middle of one.
    wired.sims.tg.set_oauth(OAuthPatch { token_delay_ms: Some(3000), ..OAuthPatch::default() });
    let mut ids = Vec::new();
    let started = Instant::now();
    let mut killed = None;
    while killed.is_none() && started.elapsed() < Duration::from_secs(30) {
        ids.push(wired.sims.tg.create_order(one_line(ids.len() as u64)).unwrap());
        if let Some(pid) = lease_holder(&mut conn, &settings.store.prefix).await
            && let Some(i) = children.iter().position(|c| c.id() == pid)
        {
            assert!(std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
            let _ = children[i].wait();
            killed = Some(i);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let killed = killed.expect("a replica held the refresh lease within 30 s");
    let version_at_kill = ledger.oauth.version(CART).await.unwrap();
    // The replacement a supervisor would start (the public one receives the webhooks).
    let file = if killed == 0 { public_file.path() } else { other_file.path() };
    children[killed] = serve(file);
    wait_ready(&client, &public).await;
    wired.sims.tg.set_oauth(OAuthPatch { token_delay_ms: Some(0), ..OAuthPatch::default() });
    for n in 0..5 {
        ids.push(wired.sims.tg.create_order(one_line(100 + n)).unwrap());
    }

    // Recovered (a newer connected token) or reported disconnected — then connect again.
    let cart = CartId::parse(CART).unwrap();
    let settled = eventually(Duration::from_secs(60), || async {
        let stored = ledger.oauth.load(CART).await.unwrap();
        stored.is_some_and(|(v, c)| c.status == ConnectionStatus::Disconnected || Some(v) != version_at_kill)
    })
    .await;
    assert!(settled, "neither recovered nor disconnected");
    let (_, stored) = ledger.oauth.load(CART).await.unwrap().unwrap();
    let recovered = stored.status == ConnectionStatus::Connected;
    if !recovered {
        assert_eq!(wired.sims.connect_oauth(&public, ADMIN).await.unwrap(), 200);
    }
    let delivered = eventually(Duration::from_secs(60), || async {
        let mut all = true;
        for id in &ids {
            let order =
                ledger.orders.get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, *id).await.unwrap();
            all &= order.is_some_and(|o| o.status() == OrderStatus::AtWms);
        }
        all
    })
    .await;
    let stats = wired.sims.tg.oauth_stats();
    println!("kill -9 of the lease holder: recovered={recovered}, oauth stats {stats:?}");
    assert!(delivered, "every order reaches the warehouse");
    assert!(wired.sims.ep.duplicate_descriptions().is_empty(), "none twice");
    assert_eq!(stats.max_concurrent_token_requests, 1, "never two refreshes at once: {stats:?}");
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}
