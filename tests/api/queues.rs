//! The admin queue routes and readiness, through the real app on port 0.

use std::time::{Duration, Instant};

use cartgate::store::{ClaimedJob, JobId, JobKind, NewJob, OnExisting, When};
use cartgate::testkit::wiring::Wiring;
use cartgate::testkit::{TestRedis, free_port};
use cartgate::workers::{Handler, Outcome, Registry};
use serde_json::{Value, json};

use crate::support::{ADMIN_TOKEN, TestApp, base, spawn_app_with_registry};

struct Broken;

#[async_trait::async_trait]
impl Handler for Broken {
    async fn handle(&self, _job: &ClaimedJob) -> Outcome {
        Outcome::Permanent("sku not mapped".into())
    }
}

/// The API tests' base configuration with the default body limit.
fn wiring(store_url: &str) -> Wiring {
    let mut wiring = base(store_url);
    wiring.server.max_body_bytes = None;
    wiring
}

/// `GET path` with the admin token: the status and the JSON body (`null` when there is none).
async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let r = app.client.get(app.url(path)).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn admin_lists_depths_and_dead_letters_and_redrives_them() {
    let app = spawn_app_with_registry(&wiring("memory://"), Registry::new().with(JobKind::Noop, Broken)).await;
    let store = app.store.clone();
    for n in 0..3 {
        let job = NewJob {
            id: JobId::new(JobKind::Noop, &[&n.to_string()]).unwrap(),
            kind: JobKind::Noop,
            payload: json!({}),
        };
        store.jobs().enqueue(&job, When::Now, OnExisting::Keep).await.unwrap();
    }
    let mut depths = Value::Null;
    for _ in 0..100 {
        depths = get(&app, "/admin/queues").await.1;
        if depths["dead"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(depths, json!({"due": 0, "inflight": 0, "hold": 0, "dead": 3}));

    let (status, body) = get(&app, "/admin/dead-letters?limit=2").await;
    assert_eq!(status, 200);
    let jobs = body["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["kind"], "noop");
    assert_eq!(jobs[0]["last_error"], "sku not mapped");
    let died_at = jobs[0]["died_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(died_at).is_ok() && died_at.ends_with('Z'), "{died_at}");

    let r = app
        .client
        .post(app.url("/admin/dead-letters/redrive"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"limit": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"redriven": 2}));

    let anonymous = app.client.get(app.url("/admin/queues")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!((status, &body["checks"]["workers"]), (200, &json!("ok")));
    app.readiness.begin_shutdown();
}

#[tokio::test]
async fn readiness_fails_fast_while_redis_is_down_and_recovers_when_it_returns() {
    let port = free_port().unwrap();
    let mut redis = TestRedis::start_on(port, false, None).unwrap();
    let app = spawn_app_with_registry(&wiring(redis.url()), Registry::standard()).await;
    let store = app.store.clone();
    assert_eq!(get(&app, "/readyz").await.0, 200);

    redis.stop();
    let asked = Instant::now();
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(asked.elapsed() < Duration::from_millis(2_500), "answered in {:?}", asked.elapsed());
    assert_eq!(get(&app, "/admin/queues").await.0, 503, "admin says the store is unavailable");

    let _redis = TestRedis::start_on(port, false, None).unwrap();
    let mut status = 0;
    for _ in 0..50 {
        status = get(&app, "/readyz").await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "ready again without a restart");
    let job = NewJob { id: JobId::parse("noop:after-outage").unwrap(), kind: JobKind::Noop, payload: json!({}) };
    store.jobs().enqueue(&job, When::Now, OnExisting::Keep).await.unwrap();
    let mut left = None;
    for _ in 0..100 {
        left = store.jobs().job(&job.id).await.unwrap();
        if left.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(left.is_none(), "the workers run jobs again: {left:?}");
    app.readiness.begin_shutdown();
}

#[tokio::test]
async fn readiness_answers_503_within_about_a_second_when_redis_hangs() {
    // Accepts connections and never answers: the worst kind of "down".
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/0", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming() {
            held.push(conn);
        }
    });
    let app = spawn_app_with_registry(&wiring(&url), Registry::standard()).await;
    let store = app.store.clone();
    for _ in 0..2 {
        let asked = Instant::now();
        let (status, body) = get(&app, "/readyz").await;
        assert_eq!(status, 503, "{body}");
        assert!(asked.elapsed() < Duration::from_millis(1_500), "answered in {:?}", asked.elapsed());
    }
    let asked = Instant::now();
    let job = NewJob { id: JobId::parse("noop:x").unwrap(), kind: JobKind::Noop, payload: json!({}) };
    let enqueued = store.jobs().enqueue(&job, When::Now, OnExisting::Keep).await;
    assert!(matches!(enqueued, Err(cartgate::store::StoreError::Unavailable(_))), "{enqueued:?}");
    assert!(asked.elapsed() < Duration::from_millis(2_500), "failed in {:?}", asked.elapsed());
    app.readiness.begin_shutdown();
}
