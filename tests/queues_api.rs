//! The admin queue routes and readiness, through the real app on port 0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use cartgate::settings::Settings;
use cartgate::startup::Application;
use cartgate::store::{ClaimedJob, JobId, JobKind, NewJob, OnExisting, When};
use cartgate::testkit::{TestRedis, free_port, unique_prefix};
use cartgate::workers::{Handler, Outcome, Registry};
use serde_json::{Value, json};

const TOKEN: &str = "test-admin-token";

struct Broken;

#[async_trait::async_trait]
impl Handler for Broken {
    async fn handle(&self, _job: &ClaimedJob) -> Outcome {
        Outcome::Permanent("sku not mapped".into())
    }
}

fn settings(store_url: &str) -> Settings {
    Settings::from_toml(&format!(
        r#"
        [server]
        bind = "127.0.0.1:0"
        admin_token = "{TOKEN}"
        [store]
        url = "{store_url}"
        prefix = "{prefix}"
        "#,
        prefix = unique_prefix()
    ))
    .unwrap()
}

struct App {
    base: String,
    app_readiness: cartgate::lifecycle::Readiness,
    client: reqwest::Client,
}

async fn spawn(settings: Settings, registry: Registry) -> (App, cartgate::store::Store) {
    let app = Application::builder(settings).workflows(|_| registry).build().await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    let app_readiness = app.readiness();
    tokio::spawn(app.run_until_stopped());
    (App { base, app_readiness, client: reqwest::Client::new() }, store)
}

impl App {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(format!("{}{path}", self.base)).bearer_auth(TOKEN).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn admin_lists_depths_and_dead_letters_and_redrives_them() {
    let (app, store) = spawn(settings("memory://"), Registry::new().with(JobKind::Noop, Broken)).await;
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
        depths = app.get("/admin/queues").await.1;
        if depths["dead"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(depths, json!({"due": 0, "inflight": 0, "hold": 0, "dead": 3}));

    let (status, body) = app.get("/admin/dead-letters?limit=2").await;
    assert_eq!(status, 200);
    let jobs = body["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["kind"], "noop");
    assert_eq!(jobs[0]["last_error"], "sku not mapped");
    let died_at = jobs[0]["died_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(died_at).is_ok() && died_at.ends_with('Z'), "{died_at}");

    let r = app
        .client
        .post(format!("{}/admin/dead-letters/redrive", app.base))
        .bearer_auth(TOKEN)
        .json(&json!({"limit": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"redriven": 2}));

    let anonymous = app.client.get(format!("{}/admin/queues", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let (status, body) = app.get("/readyz").await;
    assert_eq!((status, &body["checks"]["workers"]), (200, &json!("ok")));
    app.app_readiness.begin_shutdown();
}

#[tokio::test]
async fn readiness_fails_fast_while_redis_is_down_and_recovers_when_it_returns() {
    let port = free_port().unwrap();
    let mut redis = TestRedis::start_on(port, false, None).unwrap();
    let (app, store) = spawn(settings(redis.url()), Registry::standard()).await;
    assert_eq!(app.get("/readyz").await.0, 200);

    redis.stop();
    let asked = Instant::now();
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(asked.elapsed() < Duration::from_millis(2_500), "answered in {:?}", asked.elapsed());
    assert_eq!(app.get("/admin/queues").await.0, 503, "admin says the store is unavailable");

    let _redis = TestRedis::start_on(port, false, None).unwrap();
    let mut status = 0;
    for _ in 0..50 {
        status = app.get("/readyz").await.0;
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
    app.app_readiness.begin_shutdown();
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
    let (app, store) = spawn(settings(&url), Registry::standard()).await;
    for _ in 0..2 {
        let asked = Instant::now();
        let (status, body) = app.get("/readyz").await;
        assert_eq!(status, 503, "{body}");
        assert!(asked.elapsed() < Duration::from_millis(1_500), "answered in {:?}", asked.elapsed());
    }
    let asked = Instant::now();
    let job = NewJob { id: JobId::parse("noop:x").unwrap(), kind: JobKind::Noop, payload: json!({}) };
    let enqueued = store.jobs().enqueue(&job, When::Now, OnExisting::Keep).await;
    assert!(matches!(enqueued, Err(cartgate::store::StoreError::Unavailable(_))), "{enqueued:?}");
    assert!(asked.elapsed() < Duration::from_millis(2_500), "failed in {:?}", asked.elapsed());
    app.app_readiness.begin_shutdown();
}
