//! Cost pacing: replicas sharing one shop bucket through Redis never overdraw it, and a
//! THROTTLED answer pauses every replica.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cartgate::testkit::unique_prefix;
use cartgate::upstream::{Operation, OperationKind, ShopifyAccount, UpstreamClient, UpstreamError};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::cart;
use crate::support::{now_ms, replica, sleep_until_ms};

const COST: f64 = 20.0;
const OP: Operation =
    Operation { name: "probe", query: "query Probe { shop { name } }", kind: OperationKind::Query, estimate: COST };

/// A shop's leaky bucket as Shopify keeps it: each query costs [`COST`]; without the points it
/// is answered THROTTLED (and costs nothing).
/// State: (points, when, answered, throttled).
#[derive(Clone)]
struct Bucket {
    state: Arc<Mutex<(f64, Instant, u32, u32)>>,
    max: f64,
    rate: f64,
    /// While set, answers are held back for a minute (the query is counted when it arrives).
    hang: Arc<AtomicBool>,
}

impl Bucket {
    fn new(max: f64, rate: f64) -> Self {
        let hang = Arc::new(AtomicBool::new(false));
        Self { state: Arc::new(Mutex::new((max, Instant::now(), 0, 0))), max, rate, hang }
    }

    /// (answered, throttled)
    fn counts(&self) -> (u32, u32) {
        let s = self.state.lock().unwrap();
        (s.2, s.3)
    }
}

impl Respond for Bucket {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut s = self.state.lock().unwrap();
        let available = (s.0 + s.1.elapsed().as_secs_f64() * self.rate).min(self.max);
        s.1 = Instant::now();
        let throttled = available < COST;
        s.0 = if throttled { available } else { available - COST };
        if throttled {
            s.3 += 1
        } else {
            s.2 += 1
        }
        let status = json!({"maximumAvailable": self.max, "currentlyAvailable": s.0, "restoreRate": self.rate});
        let body = if throttled {
            json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                   "extensions": {"cost": {"requestedQueryCost": COST, "actualQueryCost": null, "throttleStatus": status}}})
        } else {
            json!({"data": {"shop": {"name": "A"}},
                   "extensions": {"cost": {"requestedQueryCost": COST, "actualQueryCost": COST, "throttleStatus": status}}})
        };
        let answer = ResponseTemplate::new(200).set_body_json(body);
        if self.hang.load(Ordering::SeqCst) { answer.set_delay(Duration::from_secs(60)) } else { answer }
    }
}

async fn replicas(server: &MockServer, n: usize) -> Vec<ShopifyAccount> {
    let prefix = unique_prefix();
    let mut out = Vec::new();
    for _ in 0..n {
        let client: UpstreamClient = replica(&prefix, Duration::from_millis(1500)).await;
        out.push(client.shopify(&cart(&server.uri()), "2026-10").unwrap());
    }
    out
}

/// Sends `op` until it is answered, sleeping out rate-limit waits (bounded by a deadline).
async fn until_answered(account: ShopifyAccount) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut waits = 0;
    loop {
        assert!(Instant::now() < deadline, "not answered within a minute");
        match account.graphql::<serde_json::Value, _>(&OP, &json!({})).await {
            Ok(_) => return waits,
            Err(UpstreamError::RateLimited { until, .. }) => {
                waits += 1;
                sleep_until_ms(until).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

/// The promise: across replicas, THROTTLED at most once per refill of the bucket (a
/// replica's reading of the bucket can be a scheduling delay old on a loaded machine; unpaced,
/// the same run is throttled some 28 times).
#[tokio::test]
async fn three_replicas_sharing_a_small_bucket_are_throttled_at_most_once_per_refill() {
    let server = MockServer::start().await;
    // 100 points, 50 a second: 5 queries at once, then 2.5 a second; a refill takes 2 s.
    let bucket = Bucket::new(100.0, 50.0);
    Mock::given(wiremock::matchers::method("POST")).respond_with(bucket.clone()).mount(&server).await;
    let accounts = replicas(&server, 3).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..18 {
        tasks.push(tokio::spawn(until_answered(accounts[i % 3].clone())));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (answered, throttled) = bucket.counts();
    let refills = (started.elapsed().as_secs_f64() / 2.0).ceil() as u32;
    assert_eq!(answered, 18, "every query answered");
    assert!(throttled <= refills, "{throttled} THROTTLED in {refills} refills");
}

/// A replica killed with queries on their way (Shopify counted them) holds none of the shop's
/// points once a query sent after them is answered: the others are paced by Shopify's own
/// count, not held back by the dead replica's reservations until some timer forgets them.
#[tokio::test]
async fn a_killed_replicas_reservations_stop_holding_points_once_a_later_query_is_answered() {
    let server = MockServer::start().await;
    // 400 points, 20 a second: the killed replica's 14 queries take 280 of them.
    let bucket = Bucket::new(400.0, 20.0);
    Mock::given(wiremock::matchers::method("POST")).respond_with(bucket.clone()).mount(&server).await;
    let accounts = replicas(&server, 2).await;
    until_answered(accounts[1].clone()).await;
    for _ in 0..4 {
        until_answered(accounts[0].clone()).await;
    }
    bucket.hang.store(true, Ordering::SeqCst);
    let killed: Vec<_> = (0..14).map(|_| tokio::spawn(until_answered(accounts[0].clone()))).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while bucket.counts().0 < 5 + 14 {
        assert!(Instant::now() < deadline, "the queries did not reach Shopify: {:?}", bucket.counts());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    killed.iter().for_each(|t| t.abort());
    bucket.hang.store(false, Ordering::SeqCst);
    // Shopify's count: 400 − 5 × 20 − 14 × 20 refilling at 20/s. After the margin for queries
    // still on their way, the live replica's first answer shows those 14 were counted.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let live = &accounts[1];
    live.graphql::<serde_json::Value, _>(&OP, &json!({})).await.unwrap();
    // Shopify has about 20 + 70 − 20 = 70 points: four more queries go within the 1.5 s the
    // limiter may wait (with the dead replica's 280 still held, each would wait some 14 s and
    // be rescheduled).
    for n in 0..4 {
        let answer = live.graphql::<serde_json::Value, _>(&OP, &json!({})).await;
        assert!(answer.is_ok(), "query {n} after the kill: {answer:?}");
    }
    assert_eq!(bucket.counts().1, 0, "never throttled");
}

#[tokio::test]
async fn a_throttled_answer_pauses_every_replica_until_the_points_are_back() {
    let server = MockServer::start().await;
    // Only 5 points now, 10 a second: the 20-point query is throttled for (20 − 5) / 10 = 1.5 s.
    let bucket = Bucket::new(100.0, 10.0);
    bucket.state.lock().unwrap().0 = 5.0;
    Mock::given(wiremock::matchers::method("POST")).respond_with(bucket.clone()).mount(&server).await;
    let accounts = replicas(&server, 2).await;
    // The first replica's reservation fits its assumed bucket, so it asks and is throttled.
    let before = now_ms();
    let err = accounts[0].graphql::<serde_json::Value, _>(&OP, &json!({})).await.unwrap_err();
    let UpstreamError::RateLimited { until, .. } = err else { panic!("{err:?}") };
    assert!((before + 1_400..=now_ms() + 1_600).contains(&until), "paused {} ms", until - before);
    // The other replica does not ask Shopify at all until then.
    let other = accounts[1].graphql::<serde_json::Value, _>(&OP, &json!({})).await.unwrap_err();
    assert!(matches!(other, UpstreamError::RateLimited { until: u, .. } if u == until), "{other:?}");
    assert_eq!(bucket.counts(), (0, 1));
    sleep_until_ms(until).await;
    until_answered(accounts[1].clone()).await;
    assert_eq!(bucket.counts(), (1, 1), "after the pause the query goes through, throttled once in all");
}

#[tokio::test]
async fn the_memory_store_paces_by_cost_in_process_too() {
    let server = MockServer::start().await;
    let bucket = Bucket::new(100.0, 50.0);
    Mock::given(wiremock::matchers::method("POST")).respond_with(bucket.clone()).mount(&server).await;
    let account = crate::support::local_client().shopify(&cart(&server.uri()), "2026-10").unwrap();
    let tasks: Vec<_> = (0..10).map(|_| tokio::spawn(until_answered(account.clone()))).collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(bucket.counts(), (10, 0), "every query answered, none throttled");
}

#[tokio::test]
async fn a_query_the_call_rate_refuses_gives_its_cost_back() {
    let server = MockServer::start().await;
    let bucket = Bucket::new(100.0, 50.0);
    Mock::given(wiremock::matchers::method("POST")).respond_with(bucket.clone()).mount(&server).await;
    let prefix = unique_prefix();
    let client = replica(&prefix, Duration::from_millis(300)).await;
    let mut slow = cart(&server.uri());
    slow.rate_limit = Some(cartgate::settings::RateLimit { requests: 1, per_secs: 5 });
    let account = client.shopify(&slow, "2026-10").unwrap();
    account.graphql::<serde_json::Value, _>(&OP, &json!({})).await.unwrap();
    let err = account.graphql::<serde_json::Value, _>(&OP, &json!({})).await.unwrap_err();
    assert!(matches!(err, UpstreamError::RateLimited { .. }), "{err:?}");
    let key = format!("{prefix}:rl:{{shopify:{}}}", account.account().id());
    let mut conn = crate::support::connect(&cartgate::testkit::TestRedis::shared_url()).await;
    let points: f64 = redis::cmd("HGET").arg(&key).arg("avail").query_async(&mut conn).await.unwrap();
    let unsettled: usize = redis::cmd("ZCARD").arg(format!("{key}:cost")).query_async(&mut conn).await.unwrap();
    // 80 after the first query (Shopify's count), and the refused one's reservation is gone.
    assert!((79.0..=100.0).contains(&points), "{points} points left");
    assert_eq!(unsettled, 0, "the refused query holds no points");
    assert_eq!(bucket.counts(), (1, 0));
}
